package jp.mamori.audit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The canonical entry: its time to the microsecond, patients sorted and distinct, resources distinct. */
class EntryCodecTest {
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
