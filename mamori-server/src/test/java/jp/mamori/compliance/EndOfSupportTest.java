package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The end-of-support list (VULN-4) judged on fixed days, over the bundled dates. */
class EndOfSupportTest {
    private static EndOfSupport over(Map<String, EndOfSupport.Installed> facts) {
        return new EndOfSupport(EndOfSupport.bundledCatalog(), () -> facts);
    }

    private static EndOfSupport.Entry entry(List<EndOfSupport.Entry> r, String id) {
        return r.stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow(() -> new AssertionError(id));
    }

    private static Map<String, EndOfSupport.Installed> facts(String jdk, String vendor, String pg) {
        Map<String, EndOfSupport.Installed> m = new LinkedHashMap<>();
        m.put("jdk", new EndOfSupport.Installed(jdk, vendor));
        m.put("postgresql", new EndOfSupport.Installed(pg, null));
        m.put("jetty", new EndOfSupport.Installed("12.1.1", null));
        m.put("hapi-fhir", new EndOfSupport.Installed("8.8.0", null));
        m.put("bouncycastle", new EndOfSupport.Installed("1.81", null));
        m.put("dss", new EndOfSupport.Installed("6.3", null));
        return m;
    }

    @Test
    void pastTheEndIsFailWithin180DaysPartialOtherwisePass() {
        EndOfSupport eos = over(facts("17.0.12+7", "Oracle Corporation", "17.6"));
        // Oracle's Premier Support of 17 ends 2026-09-30 (month precision)
        EndOfSupport.Entry early = entry(eos.report(LocalDate.of(2026, 4, 1)), "jdk");
        assertEquals(Evidence.Status.PASS, early.status());
        assertEquals(182L, early.daysLeft());
        EndOfSupport.Entry soon = entry(eos.report(LocalDate.of(2026, 4, 5)), "jdk");
        assertEquals(Evidence.Status.PARTIAL, soon.status());
        assertEquals(178L, soon.daysLeft());
        assertTrue(soon.line().startsWith("Java 実行環境 (JDK) 17.0.12+7: まもなく終了（2026-09-30、残り 178 日）"), soon.line());
        EndOfSupport.Entry past = entry(eos.report(LocalDate.of(2026, 10, 1)), "jdk");
        assertEquals(Evidence.Status.FAIL, past.status());
        assertEquals(-1L, past.daysLeft());
        assertTrue(past.line().contains("サポート終了"), past.line());

        EndOfSupport.Entry pg = entry(eos.report(LocalDate.of(2026, 12, 7)), "postgresql");
        assertEquals(Evidence.Status.PASS, pg.status());
        assertEquals(LocalDate.of(2029, 11, 8), pg.end());
        assertEquals(Evidence.Status.PASS, entry(eos.report(LocalDate.of(2026, 12, 7)), "jetty").status());
        assertNull(entry(eos.report(LocalDate.of(2026, 12, 7)), "jetty").end(), "no end announced for Jetty 12");
    }

    @Test
    void anOldPostgresqlOrANonLtsJdkFailsTheProbeAndAnUnknownEndIsNeverGuessed() {
        EndOfSupport old = over(facts("24.0.2", "Eclipse Adoptium", "14.15"));
        Instant day = Instant.parse("2026-12-07T03:00:00Z");
        List<EndOfSupport.Entry> r = old.report(LocalDate.of(2026, 12, 7));
        assertEquals(Evidence.Status.FAIL, entry(r, "postgresql").status(), "14 ended 2026-11-12");
        assertEquals(Evidence.Status.FAIL, entry(r, "jdk").status(), "24 ended with 25's release");
        Evidence e = old.evaluate(day);
        assertEquals(Evidence.Status.FAIL, e.status());
        assertEquals(EndOfSupport.ID, e.probeId());
        assertTrue(e.summary().contains("サポート終了 2 件") && e.summary().contains("2 past end of support"),
                e.summary());
        assertTrue(old.requirements().contains("VULN-4"));

        EndOfSupport temurin25 = over(facts("25.0.3+9-LTS", "Eclipse Adoptium", "17.6"));
        EndOfSupport.Entry jdk = entry(temurin25.report(LocalDate.of(2026, 12, 7)), "jdk");
        assertEquals(Evidence.Status.UNKNOWN, jdk.status());
        assertNull(jdk.end());
        assertEquals(Evidence.Status.UNKNOWN, temurin25.evaluate(day).status());

        EndOfSupport temurin21 = over(facts("21.0.5+11", "Eclipse Adoptium", "17.6"));
        assertEquals(Evidence.Status.PASS, temurin21.evaluate(day).status());
        assertEquals("at-least", entry(temurin21.report(LocalDate.of(2026, 12, 7)), "jdk").certainty());
    }

    @Test
    void anExternalServerAndTheOsAreJudgedByTheirOwnVersions() {
        Map<String, EndOfSupport.Installed> f = facts("21.0.5", "Eclipse Adoptium", "17.6");
        f.put("postgresql-external", new EndOfSupport.Installed("14.10", null));
        f.put("os:debian", new EndOfSupport.Installed("12", null));
        f.put("os:plan9", new EndOfSupport.Installed("4", null));
        List<EndOfSupport.Entry> r = over(f).report(LocalDate.of(2026, 12, 7));
        assertEquals(Evidence.Status.FAIL, entry(r, "postgresql-external").status());
        assertEquals(Evidence.Status.PASS, entry(r, "os:debian").status());
        assertEquals(LocalDate.of(2028, 6, 30), entry(r, "os:debian").end());
        assertEquals(Evidence.Status.UNKNOWN, entry(r, "os:plan9").status());
        assertFalse(r.stream().anyMatch(e -> e.id().equals("os:ubuntu")), "only the OS that runs");
    }

    @Test
    void versionPrefixesMatchWholeParts() {
        assertTrue(EndOfSupport.versionStartsWith("17.6", "17"));
        assertTrue(EndOfSupport.versionStartsWith("17", "17"));
        assertFalse(EndOfSupport.versionStartsWith("170.1", "17"));
        assertTrue(EndOfSupport.versionStartsWith("22.04", "22.04"));
        assertTrue(EndOfSupport.versionStartsWith("anything", ""));
    }

    @Test
    void theRunningServerIsReportedFromItsJvmAndSbom() {
        EndOfSupport running = EndOfSupport.running(Optional::empty);
        List<EndOfSupport.Entry> r = running.report(LocalDate.of(2026, 12, 7));
        assertEquals(Runtime.version().toString(), entry(r, "jdk").version());
        assertNotNull(entry(r, "postgresql").version(), "the embedded binaries' version, from the SBOM");
        assertTrue(entry(r, "postgresql").version().matches("\\d+\\.\\d+"));
        assertTrue(entry(r, "jetty").version().startsWith("12."));
        Evidence e = running.evaluate(Instant.parse("2026-12-07T03:00:00Z"));
        assertNotNull(e.status());
        assertTrue(e.summary().contains(" / "), e.summary());
    }
}
