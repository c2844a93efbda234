package jp.mamori.records;

import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.junit.jupiter.api.Test;

import java.time.OffsetDateTime;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DateRangesTest {
    @Test
    void aDateIsTheWholeDayInTheInstitutionsZone() {
        DateRanges.Range r = DateRanges.of(new DateType("2026-11-23"));
        assertEquals(OffsetDateTime.parse("2026-11-22T15:00:00Z").toInstant(), r.lo().toInstant());
        assertEquals(OffsetDateTime.parse("2026-11-23T15:00:00Z").toInstant(), r.hi().toInstant());
    }

    @Test
    void aMonthAndAYearCoverTheirWholeSpan() {
        DateRanges.Range m = DateRanges.of(new DateTimeType("2024-02"));
        assertEquals(29, java.time.Duration.between(m.lo(), m.hi()).toDays());
        DateRanges.Range y = DateRanges.of(new DateTimeType("2024"));
        assertEquals(366, java.time.Duration.between(y.lo(), y.hi()).toDays());
    }

    @Test
    void anInstantWithSecondsCoversOneSecond() {
        DateRanges.Range r = DateRanges.of(new DateTimeType("2026-11-23T09:30:15+09:00"));
        assertEquals(OffsetDateTime.parse("2026-11-23T00:30:15Z").toInstant(), r.lo().toInstant());
        assertEquals(1, java.time.Duration.between(r.lo(), r.hi()).toSeconds());
    }

    /** A value made in Java keeps its Date's milliseconds under a precision of seconds; the index follows the text. */
    @Test
    void aValueMadeInJavaIsIndexedAsItsStoredTextSays() {
        DateTimeType made = new DateTimeType(java.util.Date.from(java.time.Instant.parse("2026-12-08T00:37:08.988Z")));
        assertEquals(ca.uhn.fhir.model.api.TemporalPrecisionEnum.SECOND, made.getPrecision());
        DateTimeType stored = new DateTimeType(made.getValueAsString());
        DateRanges.Range r = DateRanges.of(made);
        assertEquals(DateRanges.of(stored), r);
        assertEquals(OffsetDateTime.parse("2026-12-08T00:37:08Z").toInstant(), r.lo().toInstant());
        assertEquals(OffsetDateTime.parse("2026-12-08T00:37:08Z").toInstant(), DateRanges.instant(made).toInstant());
        DateTimeType millis = new DateTimeType("2026-12-08T00:37:08.988Z");
        assertEquals(OffsetDateTime.parse("2026-12-08T00:37:08.988Z").toInstant(), DateRanges.instant(millis).toInstant());
    }
}
