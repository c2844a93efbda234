package jp.mamori.records;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.hl7.fhir.r4.model.BaseDateTimeType;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * A FHIR date, dateTime or instant as the half-open interval [lo, hi) of instants it covers: "2026-11"
 * is the whole of November. Values without a time are read in the institution's time zone (JST by
 * default), so that a date searched and a date stored mean the same day.
 */
final class DateRanges {
    public static final OffsetDateTime MIN = OffsetDateTime.of(1, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
    public static final OffsetDateTime MAX = OffsetDateTime.of(9999, 12, 31, 0, 0, 0, 0, ZoneOffset.UTC);
    private static volatile ZoneId zone = ZoneId.of("Asia/Tokyo");

    public record Range(OffsetDateTime lo, OffsetDateTime hi) {
    }

    private DateRanges() {
    }

    public static void setZone(ZoneId z) {
        zone = z;
    }

    public static ZoneId zone() {
        return zone;
    }

    public static Range of(BaseDateTimeType d) {
        if (d == null || d.getValue() == null) {
            return null;
        }
        TemporalPrecisionEnum p = d.getPrecision();
        switch (p) {
            case YEAR, MONTH, DAY -> {
                LocalDate start = LocalDate.of(d.getYear(), p == TemporalPrecisionEnum.YEAR ? 1 : d.getMonth() + 1,
                        p == TemporalPrecisionEnum.DAY ? d.getDay() : 1);
                LocalDate end = switch (p) {
                    case YEAR -> start.plusYears(1);
                    case MONTH -> start.plusMonths(1);
                    default -> start.plusDays(1);
                };
                ZoneId z = zone; // a date has no zone of its own: read it as the institution's day
                return new Range(start.atStartOfDay(z).toOffsetDateTime(), end.atStartOfDay(z).toOffsetDateTime());
            }
            default -> {
                ChronoUnit unit = unit(p);
                OffsetDateTime lo = instant(d);
                return new Range(lo, lo.plus(1, unit));
            }
        }
    }

    /**
     * The instant a date-time names, to its own precision. A value made in Java ({@code new DateTimeType(Date)}) keeps
     * the milliseconds of its {@code Date} while its precision is seconds, and is stored as written, without them: the
     * index must hold what the stored text says, or the verifier, which indexes the stored text, finds a difference.
     */
    public static OffsetDateTime instant(BaseDateTimeType d) {
        if (d == null || d.getValue() == null) {
            return null;
        }
        OffsetDateTime t = d.getValue().toInstant().atOffset(ZoneOffset.UTC);
        TemporalPrecisionEnum p = d.getPrecision();
        return p == TemporalPrecisionEnum.MINUTE || p == TemporalPrecisionEnum.SECOND ? t.truncatedTo(unit(p)) : t;
    }

    private static ChronoUnit unit(TemporalPrecisionEnum p) {
        return switch (p) {
            case MINUTE -> ChronoUnit.MINUTES;
            case SECOND -> ChronoUnit.SECONDS;
            default -> ChronoUnit.MILLIS;
        };
    }
}
