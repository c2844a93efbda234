package jp.mamori.audit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The canonical entry: the fast time writer says exactly what the documented formatter says. */
class EntryCodecTest {
    @Test
    void timeIsWrittenAsTheFormatterWritesIt() {
        List<Instant> edges = List.of(Instant.EPOCH, Instant.parse("1999-12-31T23:59:59.999999Z"),
                Instant.parse("2000-02-29T00:00:00Z"), Instant.parse("2026-11-23T15:00:00.000001Z"),
                Instant.parse("9999-12-31T23:59:59.999999Z"), Instant.parse("0001-01-01T00:00:00Z"),
                Instant.parse("1969-12-31T23:59:59.5Z"));
        for (Instant at : edges) {
            assertEquals(EntryCodec.TIME.format(at), EntryCodec.time(at), at.toString());
        }
        SplittableRandom random = new SplittableRandom(20261123);
        for (int i = 0; i < 200_000; i++) {
            Instant at = Instant.ofEpochSecond(random.nextLong(-62_135_596_800L, 253_402_300_800L),
                    random.nextInt(1_000_000) * 1000L);
            assertEquals(EntryCodec.TIME.format(at), EntryCodec.time(at), at.toString());
        }
        Instant farFuture = Instant.parse("+10000-01-01T00:00:00Z");
        assertEquals(EntryCodec.TIME.format(farFuture), EntryCodec.time(farFuture));
    }

    @Test
    void anEntryNamesItsTimeToTheMicrosecond() {
        AuditRecord r = new AuditRecord(Instant.parse("2026-11-23T01:02:03.456789123Z"), "system:test", "system", null,
                List.of(), null, List.of("b", "a", "b"), List.of("Patient/a", "Patient/a"), "read", "success",
                "maintenance", null, null, false, Map.of());
        String text = new String(EntryCodec.encode(7, null, r), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\"seq\":7,\"time\":\"2026-11-23T01:02:03.456789Z\","), text);
        assertTrue(text.contains("\"patient\":[\"a\",\"b\"]"), text);
        assertTrue(text.contains("\"resource\":[\"Patient/a\"]"), text);
    }
}
