package jp.mamori.chart;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.chrono.JapaneseDate;
import java.time.chrono.JapaneseEra;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Objects;

/**
 * Dates and times as the console and printouts show them: {@code 2026年11月23日}, 和暦 {@code 令和8年11月23日}
 * (the first year of an era is {@code 元年}), times {@code 14:05} in one configurable zone (Asia/Tokyo by
 * default), and English variants for the English UI. Immutable and thread-safe.
 *
 * <p>Age: the completed years between birth date and the given date ({@link #age}). Japanese law (年齢計算ニ関スル
 * 法律, Civil Code art. 143) makes a person one year older at the end of the day before the birthday, which is
 * the first instant of the birthday itself, so on any whole date the legal age and the calendar age are the
 * same number; they differ only in statutory deadlines ("reaches 6 by 1 April"), which is not what a chart shows.
 * A person born on 29 February becomes older on 1 March in common years, under both readings.
 */
public final class JpDates {
    /** The language of the text: Japanese first, English for the English UI. */
    public enum Lang { JA, EN }

    public static final ZoneId TOKYO = ZoneId.of("Asia/Tokyo");

    private static final DateTimeFormatter JA_DATE = DateTimeFormatter.ofPattern("uuuu年M月d日", Locale.JAPANESE);
    private static final DateTimeFormatter EN_DATE = DateTimeFormatter.ofPattern("d MMM uuuu", Locale.ENGLISH);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT);
    private static final DateTimeFormatter ZONE = DateTimeFormatter.ofPattern("zzz", Locale.ENGLISH);
    private static final LocalDate FIRST_JAPANESE_DATE = LocalDate.of(1873, 1, 1); // Meiji 6, the solar calendar

    private final ZoneId zone;

    public JpDates(ZoneId zone) {
        this.zone = Objects.requireNonNull(zone, "zone");
    }

    /** Dates and times in Japan Standard Time. */
    public static JpDates tokyo() {
        return new JpDates(TOKYO);
    }

    public ZoneId zone() {
        return zone;
    }

    /** The calendar date of {@code instant} in this zone. */
    public LocalDate localDate(Instant instant) {
        return instant.atZone(zone).toLocalDate();
    }

    /** {@code 2026年11月23日} or {@code 23 Nov 2026}. */
    public String date(LocalDate date, Lang lang) {
        return (lang == Lang.EN ? EN_DATE : JA_DATE).format(date);
    }

    public String date(LocalDate date) {
        return date(date, Lang.JA);
    }

    public String date(Instant instant, Lang lang) {
        return date(localDate(instant), lang);
    }

    /** {@code 2026年11月23日(月)} or {@code Mon 23 Nov 2026}. */
    public String dateWithWeekday(LocalDate date, Lang lang) {
        if (lang == Lang.EN) {
            return date.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH) + " " + date(date, lang);
        }
        return date(date, lang) + "(" + date.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.JAPANESE) + ")";
    }

    /**
     * 和暦: {@code 令和8年11月23日}, {@code 令和元年5月1日}; in English {@code Reiwa 8 (2026), 23 Nov}. Dates before
     * 1873 (before Japan adopted the Gregorian calendar) have no 和暦 in {@link JapaneseDate} and are shown in the
     * Gregorian calendar.
     */
    public String wareki(LocalDate date, Lang lang) {
        if (date.isBefore(FIRST_JAPANESE_DATE)) {
            return date(date, lang);
        }
        JapaneseDate jd;
        try {
            jd = JapaneseDate.from(date);
        } catch (DateTimeException e) {
            return date(date, lang);
        }
        JapaneseEra era = jd.getEra();
        int year = jd.get(ChronoField.YEAR_OF_ERA);
        if (lang == Lang.EN) {
            return era.getDisplayName(TextStyle.FULL, Locale.ENGLISH) + " " + year + " (" + date.getYear() + "), "
                    + date.getDayOfMonth() + " " + date.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
        }
        return era.getDisplayName(TextStyle.FULL, Locale.JAPANESE) + (year == 1 ? "元" : Integer.toString(year)) + "年"
                + date.getMonthValue() + "月" + date.getDayOfMonth() + "日";
    }

    public String wareki(LocalDate date) {
        return wareki(date, Lang.JA);
    }

    /** {@code 14:05} in this zone. */
    public String time(Instant instant) {
        return TIME.format(instant.atZone(zone));
    }

    /** {@code 2026年11月23日 14:05} or {@code 23 Nov 2026 14:05}. */
    public String dateTime(Instant instant, Lang lang) {
        return date(instant, lang) + " " + time(instant);
    }

    /** {@code 2026年11月23日 14:05 JST}: with the zone named, for paper, which leaves the screen's context behind. */
    public String dateTimeWithZone(Instant instant, Lang lang) {
        ZonedDateTime z = instant.atZone(zone);
        return dateTime(instant, lang) + " " + ZONE.format(z);
    }

    /** Completed years on {@code on}; see the class comment. Refuses a birth date after {@code on}. */
    public static int age(LocalDate birthDate, LocalDate on) {
        if (birthDate.isAfter(on)) {
            throw new IllegalArgumentException("birth date " + birthDate + " is after " + on);
        }
        return Period.between(birthDate, on).getYears();
    }

    /**
     * The age as a banner shows it: {@code 45歳}; under three years with months, as paediatrics writes it
     * ({@code 1歳2か月}, {@code 0歳5か月}); in English {@code 45 y} and {@code 1 y 2 m}.
     */
    public static String ageText(LocalDate birthDate, LocalDate on, Lang lang) {
        if (birthDate.isAfter(on)) {
            throw new IllegalArgumentException("birth date " + birthDate + " is after " + on);
        }
        Period p = Period.between(birthDate, on);
        if (p.getYears() < 3) {
            return lang == Lang.EN ? p.getYears() + " y " + p.getMonths() + " m"
                    : p.getYears() + "歳" + p.getMonths() + "か月";
        }
        return lang == Lang.EN ? p.getYears() + " y" : p.getYears() + "歳";
    }
}
