package jp.mamori.chart;

import jp.mamori.chart.JpDates.Lang;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JpDatesTest {
    private final JpDates jst = JpDates.tokyo();

    @Test
    void gregorianDatesAreWrittenTheJapaneseWayAndTheEnglishWay() {
        assertEquals("2026年11月23日", jst.date(LocalDate.of(2026, 11, 23)));
        assertEquals("2026年1月5日", jst.date(LocalDate.of(2026, 1, 5)));
        assertEquals("23 Nov 2026", jst.date(LocalDate.of(2026, 11, 23), Lang.EN));
        assertEquals("2026年11月23日(月)", jst.dateWithWeekday(LocalDate.of(2026, 11, 23), Lang.JA));
        assertEquals("Mon 23 Nov 2026", jst.dateWithWeekday(LocalDate.of(2026, 11, 23), Lang.EN));
    }

    @Test
    void warekiChangesEraOnTheDayTheEraChangedAndCallsTheFirstYearGannen() {
        assertEquals("令和8年11月23日", jst.wareki(LocalDate.of(2026, 11, 23)));
        assertEquals("平成31年4月30日", jst.wareki(LocalDate.of(2019, 4, 30)));
        assertEquals("令和元年5月1日", jst.wareki(LocalDate.of(2019, 5, 1)));
        assertEquals("令和元年12月31日", jst.wareki(LocalDate.of(2019, 12, 31)));
        assertEquals("令和2年1月1日", jst.wareki(LocalDate.of(2020, 1, 1)));
        assertEquals("昭和64年1月7日", jst.wareki(LocalDate.of(1989, 1, 7)));
        assertEquals("平成元年1月8日", jst.wareki(LocalDate.of(1989, 1, 8)));
        assertEquals("大正15年12月24日", jst.wareki(LocalDate.of(1926, 12, 24)));
        assertEquals("昭和元年12月25日", jst.wareki(LocalDate.of(1926, 12, 25)));
        assertEquals("Reiwa 1 (2019), 1 May", jst.wareki(LocalDate.of(2019, 5, 1), Lang.EN));
        assertEquals("Heisei 31 (2019), 30 Apr", jst.wareki(LocalDate.of(2019, 4, 30), Lang.EN));
    }

    @Test
    void datesBeforeTheJapaneseSolarCalendarFallBackToGregorian() {
        assertEquals("1872年12月31日", jst.wareki(LocalDate.of(1872, 12, 31)));
        assertEquals("明治6年1月1日", jst.wareki(LocalDate.of(1873, 1, 1)));
    }

    @Test
    void timesAreInTheConfiguredZoneAndTheDateFollowsTheZone() {
        Instant utcEvening = Instant.parse("2026-11-22T15:05:00Z"); // 00:05 on the 23rd in Tokyo
        assertEquals("00:05", jst.time(utcEvening));
        assertEquals("2026年11月23日 00:05", jst.dateTime(utcEvening, Lang.JA));
        assertEquals("2026年11月23日 00:05 JST", jst.dateTimeWithZone(utcEvening, Lang.JA));
        JpDates utc = new JpDates(ZoneId.of("UTC"));
        assertEquals("22 Nov 2026 15:05", utc.dateTime(utcEvening, Lang.EN));
        assertEquals("14:05", jst.time(Instant.parse("2026-11-23T05:05:00Z")));
    }

    @Test
    void ageCountsCompletedYearsAndTurnsOnTheBirthday() {
        LocalDate birth = LocalDate.of(1980, 11, 23);
        assertEquals(45, JpDates.age(birth, LocalDate.of(2026, 11, 22)));
        assertEquals(46, JpDates.age(birth, LocalDate.of(2026, 11, 23)));
        assertEquals(0, JpDates.age(LocalDate.of(2026, 11, 23), LocalDate.of(2026, 11, 23)));
        assertThrows(IllegalArgumentException.class, () -> JpDates.age(LocalDate.of(2027, 1, 1),
                LocalDate.of(2026, 1, 1)));
    }

    @Test
    void aLeapDayBabyTurnsOlderOnTheFirstOfMarchInCommonYears() {
        LocalDate birth = LocalDate.of(2000, 2, 29);
        assertEquals(0, JpDates.age(birth, LocalDate.of(2001, 2, 28)));
        assertEquals(1, JpDates.age(birth, LocalDate.of(2001, 3, 1)));
        assertEquals(4, JpDates.age(birth, LocalDate.of(2004, 2, 29)));
    }

    @Test
    void youngChildrenShowMonthsToo() {
        assertEquals("1歳2か月", JpDates.ageText(LocalDate.of(2025, 9, 1), LocalDate.of(2026, 11, 23), Lang.JA));
        assertEquals("0歳0か月", JpDates.ageText(LocalDate.of(2026, 11, 23), LocalDate.of(2026, 11, 23), Lang.JA));
        assertEquals("45歳", JpDates.ageText(LocalDate.of(1980, 11, 24), LocalDate.of(2026, 11, 23), Lang.JA));
        assertEquals("45 y", JpDates.ageText(LocalDate.of(1980, 11, 24), LocalDate.of(2026, 11, 23), Lang.EN));
        assertEquals("2 y 11 m", JpDates.ageText(LocalDate.of(2023, 12, 1), LocalDate.of(2026, 11, 23), Lang.EN));
    }
}
