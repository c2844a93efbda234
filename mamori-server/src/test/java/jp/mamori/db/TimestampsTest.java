package jp.mamori.db;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The fast time writer says exactly what the documented formatter says (audit entries, search filters, syslog). */
class TimestampsTest {
    @Test
    void timeIsWrittenAsTheFormatterWritesIt() {
        List<Instant> edges = List.of(Instant.EPOCH, Instant.parse("1999-12-31T23:59:59.999999Z"),
                Instant.parse("2000-02-29T00:00:00Z"), Instant.parse("2026-11-23T15:00:00.000001Z"),
                Instant.parse("9999-12-31T23:59:59.999999Z"), Instant.parse("0001-01-01T00:00:00Z"),
                Instant.parse("1969-12-31T23:59:59.5Z"));
        for (Instant at : edges) {
            assertEquals(Timestamps.MICROS.format(at), Timestamps.utcMicros(at), at.toString());
        }
        SplittableRandom random = new SplittableRandom(20261123);
        for (int i = 0; i < 200_000; i++) {
            Instant at = Instant.ofEpochSecond(random.nextLong(-62_135_596_800L, 253_402_300_800L),
                    random.nextInt(1_000_000) * 1000L);
            assertEquals(Timestamps.MICROS.format(at), Timestamps.utcMicros(at), at.toString());
        }
        Instant farFuture = Instant.parse("+10000-01-01T00:00:00Z");
        assertEquals(Timestamps.MICROS.format(farFuture), Timestamps.utcMicros(farFuture));
    }
}
