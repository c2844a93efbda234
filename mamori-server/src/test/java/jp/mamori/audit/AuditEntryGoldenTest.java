package jp.mamori.audit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recorder's typed facts encode to exactly the entries the trail has always stored (the offline verifier and old
 * exports read them): a system event, golden; and the references and codes the facts are made of.
 */
class AuditEntryGoldenTest {
    static final Instant AT = Instant.parse("2026-11-23T01:02:03.456789123Z");

    static String encoded(long seq, byte[] prev, AuditEvent e) {
        return new String(EntryCodec.encode(seq, prev, e.stored()), StandardCharsets.UTF_8);
    }

    @Test
    void aSystemEventIsTheServerActingLocallyForSecurity() {
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("state", "synchronized");
        detail.put("source", "chrony");
        AuditEvent e = AuditEvent.system("clock", AuditAction.CLOCK_CHECK, Outcome.SUCCESS, detail).at(AT).build();
        assertEquals("{\"seq\":3,\"prev\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\","
                + "\"time\":\"2026-11-23T01:02:03.456789Z\",\"actor\":\"system:clock\",\"kind\":\"system\","
                + "\"display\":\"Mamori clock\",\"action\":\"clock.check\",\"outcome\":\"success\","
                + "\"purpose\":\"security\",\"address\":\"local\","
                + "\"detail\":{\"source\":\"chrony\",\"state\":\"synchronized\"}}", encoded(3, ones(), e));
    }

    @Test
    void onlyTheBreakGlassPurposeMarksAnEntryUnderBreakGlass() {
        for (Purpose p : Purpose.values()) {
            AuditRecord r = AuditEvent.by(Actor.server("test"), AuditAction.READ).purpose(p).build().stored();
            assertEquals(p == Purpose.BREAK_GLASS, r.breakGlass(), p.code);
            assertEquals(p.code, r.purpose());
        }
    }

    @Test
    void everyActionHasItsOwnStoredCode() {
        Set<String> codes = new HashSet<>();
        for (AuditAction a : AuditAction.values()) {
            assertTrue(codes.add(a.code), "twice: " + a.code);
            assertEquals(a, AuditAction.of(a.code));
        }
        assertEquals("entered-in-error", AuditAction.ENTERED_IN_ERROR.code);
        assertEquals("verify.records", AuditAction.VERIFY_RECORDS.code);
        assertThrows(IllegalArgumentException.class, () -> AuditAction.of("login"));
        assertEquals(List.of("person", "client", "system", "anonymous"),
                java.util.Arrays.stream(ActorKind.values()).map(k -> k.code).toList());
        assertEquals(AuditRecord.OUTCOMES, Set.copyOf(java.util.Arrays.stream(Outcome.values()).map(o -> o.code)
                .toList()));
    }

    @Test
    void referencesFromStoredDataAreCheckedAndWhatARequestNamedIsKeptVerbatim() {
        assertEquals("Patient/p1/_history/3", ResourceRef.parse("Patient/p1/_history/3").code());
        assertEquals(ResourceRef.version("Patient", "p1", 3), ResourceRef.parse("Patient/p1/_history/3"));
        assertEquals("Observation/o-1.2", ResourceRef.parse("Observation/o-1.2").code());
        assertEquals("Patient", ResourceRef.parse("Patient").code());
        assertEquals(ResourceRef.of("Patient", "p1"), ResourceRef.version("Patient", "p1", 3).unversioned());
        for (String bad : List.of("patient/p1", "Patient/", "Patient/p 1", "Patient/p1/_history/x",
                "Patient/p1/_history/0", "P/p1", "Patient/" + "x".repeat(65))) {
            assertThrows(IllegalArgumentException.class, () -> ResourceRef.parse(bad), bad);
        }
        assertEquals("Patient/a b/_history/2", ResourceRef.named("Patient", "a b", "2").code());
        assertThrows(IllegalArgumentException.class, () -> ResourceRef.named("patient", "p1", null));
        assertThrows(IllegalArgumentException.class, () -> PatientRef.of("a/b"));
        assertEquals("a/b", PatientRef.named("a/b").id());
        assertThrows(IllegalArgumentException.class, () -> PatientRef.named(null));
        assertFalse(ResourceRef.type("Patient").versioned());
    }

    static byte[] ones() {
        byte[] b = new byte[32];
        java.util.Arrays.fill(b, (byte) 1);
        return b;
    }
}
