package jp.mamori.compliance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Advisory files (OSV, CycloneDX VEX) checked, kept and matched against an SBOM (VULN-2, VULN-6). */
class AdvisoriesTest {
    private static final Instant NOW = Instant.parse("2026-12-07T03:00:00Z");
    private static final String SBOM = """
            {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:1",
             "components": [
              {"type": "library", "bom-ref": "pkg:maven/org.eclipse.jetty/jetty-server@12.1.1?type=jar",
               "group": "org.eclipse.jetty", "name": "jetty-server", "version": "12.1.1",
               "purl": "pkg:maven/org.eclipse.jetty/jetty-server@12.1.1?type=jar"},
              {"type": "library", "bom-ref": "pkg:maven/org.bouncycastle/bcprov-jdk18on@1.81?type=jar",
               "group": "org.bouncycastle", "name": "bcprov-jdk18on", "version": "1.81",
               "purl": "pkg:maven/org.bouncycastle/bcprov-jdk18on@1.81?type=jar"},
              {"type": "application", "bom-ref": "mamori-postgresql-server:linux-amd64@17.6", "name": "postgresql",
               "version": "17.6", "purl": "pkg:generic/postgresql@17.6"}
             ]}
            """;

    private static Optional<Sbom> sbom() throws Exception {
        return Optional.of(Sbom.parse(SBOM.getBytes(StandardCharsets.UTF_8)));
    }

    private static String osv(String id, String name, String introduced, String fixed) {
        return """
                {"id": "%s", "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2026-0%s"],
                 "summary": "test advisory %s", "database_specific": {"severity": "HIGH"},
                 "affected": [{"package": {"ecosystem": "Maven", "name": "%s"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "%s"}, {"fixed": "%s"}]}]}]}
                """.formatted(id, id.hashCode() & 0xfff, id, name, introduced, fixed);
    }

    private static Path file(Path dir, String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    @Test
    void osvRangesMatchTheVersionsInsideThemOnly(@TempDir Path tmp) throws Exception {
        Advisories a = new Advisories(tmp.resolve("data"), sbom(), Clock.fixed(NOW, ZoneOffset.UTC));
        assertEquals(Evidence.Status.UNKNOWN, a.evaluate(NOW).status(), "nothing imported yet");
        String list = "[" + osv("GHSA-in", "org.eclipse.jetty:jetty-server", "12.0.0", "12.1.2") + ","
                + osv("GHSA-fixed", "org.eclipse.jetty:jetty-server", "12.0.0", "12.1.1") + ","
                + osv("GHSA-older", "org.eclipse.jetty:jetty-server", "0", "9.4.50") + ","
                + osv("GHSA-other", "org.example:not-here", "0", "9.9") + "]";
        var imported = a.importFile(file(tmp, "osv.json", list), "cli:tester");
        assertTrue(imported.getValue());
        assertEquals("osv", imported.getKey().kind());
        assertEquals(4, imported.getKey().advisories());
        assertEquals("cli:tester", imported.getKey().by());
        assertEquals(NOW, imported.getKey().at());
        List<Advisories.Match> m = a.matches();
        assertEquals(List.of("GHSA-in"), m.stream().map(Advisories.Match::id).toList());
        assertEquals("HIGH", m.get(0).severity());
        assertEquals("jetty-server", m.get(0).component().name());
        Evidence e = a.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, e.status());
        assertTrue(e.summary().startsWith("未対応 1 件"), e.summary());
        assertFalse(a.importFile(tmp.resolve("osv.json"), "cli:tester").getValue(), "the same file is kept once");
        assertEquals(1, a.imports().size());
    }

    @Test
    void aVexStatementClosesTheSameVulnerabilityForThatComponentOnly(@TempDir Path tmp) throws Exception {
        Advisories a = new Advisories(tmp.resolve("data"), sbom(), Clock.fixed(NOW, ZoneOffset.UTC));
        a.importFile(file(tmp, "one.json", osv("GHSA-in", "org.eclipse.jetty:jetty-server", "12.0.0", "12.1.2")),
                "cli:tester");
        String vex = """
                {"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [
                 {"id": "GHSA-in", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                  "affects": [{"ref": "pkg:maven/org.eclipse.jetty/jetty-server@12.1.1?type=jar"}]},
                 {"id": "CVE-2026-9999", "ratings": [{"severity": "critical"}], "analysis": {"state": "exploitable"},
                  "affects": [{"ref": "urn:cdx:abc/1#mamori-postgresql-server:linux-amd64@17.6"}]},
                 {"id": "CVE-2026-1111", "analysis": {"state": "exploitable"},
                  "affects": [{"ref": "pkg:maven/org.example/absent@1.0"}]}
                ]}
                """;
        var r = a.importFile(file(tmp, "vex.json", vex), "cli:tester");
        assertEquals("vex", r.getKey().kind());
        List<Advisories.Match> m = a.matches();
        assertEquals(2, m.size(), m.toString());
        Advisories.Match pg = m.get(0);
        assertTrue(pg.open());
        assertEquals("CVE-2026-9999", pg.id());
        assertEquals("CRITICAL", pg.severity());
        assertEquals("postgresql", pg.component().name());
        Advisories.Match jetty = m.get(1);
        assertFalse(jetty.open());
        assertEquals("VEX not_affected", jetty.closedBy());
        assertEquals(Evidence.Status.FAIL, a.evaluate(NOW).status(), "PostgreSQL is still exploitable");
    }

    @Test
    void closedEverywhereIsPassAndAStaleListIsPartial(@TempDir Path tmp) throws Exception {
        Advisories a = new Advisories(tmp.resolve("data"), sbom(), Clock.fixed(NOW, ZoneOffset.UTC));
        a.importFile(file(tmp, "one.json", """
                {"vulns": [%s]}""".formatted(osv("GHSA-bc", "org.bouncycastle:bcprov-jdk18on", "1.70", "1.82"))),
                "cli:tester");
        assertEquals(Evidence.Status.FAIL, a.evaluate(NOW).status());
        a.importFile(file(tmp, "vex.json", """
                {"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [
                 {"id": "CVE-2026-0%d", "analysis": {"state": "resolved"},
                  "affects": [{"ref": "pkg:maven/org.bouncycastle/bcprov-jdk18on@1.81?type=jar"}]}]}
                """.formatted("GHSA-bc".hashCode() & 0xfff)), "cli:tester");
        assertEquals(Evidence.Status.PASS, a.evaluate(NOW).status(), "closed by the alias CVE id");
        assertEquals(Evidence.Status.PARTIAL, a.evaluate(NOW.plus(Advisories.STALE_AFTER).plusSeconds(60)).status());
    }

    @Test
    void purlAndExplicitVersionsAndLastAffected() throws Exception {
        Sbom s = sbom().orElseThrow();
        Sbom.Component pg = s.named("postgresql").orElseThrow();
        var t = new Advisories.Target(null, "pkg:generic/postgresql", null,
                List.of(List.of(new String[] {"introduced", "17.0"}, new String[] {"last_affected", "17.6"})),
                java.util.Set.of());
        assertTrue(Advisories.affects(t, pg));
        var fixed = new Advisories.Target(null, "pkg:generic/postgresql", null,
                List.of(List.of(new String[] {"introduced", "17.0"}, new String[] {"fixed", "17.6"})),
                java.util.Set.of());
        assertFalse(Advisories.affects(fixed, pg));
        var listed = new Advisories.Target(null, "pkg:generic/postgresql", null, List.of(), java.util.Set.of("17.6"));
        assertTrue(Advisories.affects(listed, pg));
        assertTrue(MavenVersion.compare("12.1.1", "12.1.10") < 0);
        assertTrue(MavenVersion.compare("1.0-rc1", "1.0") < 0);
        assertTrue(MavenVersion.compare("1.0", "1.0.0") == 0);
        assertTrue(MavenVersion.compare("1.0-sp1", "1.0") > 0);
        assertTrue(MavenVersion.compare("2.0.0-beta", "2.0.0-alpha") > 0);
    }

    @Test
    void malformedOversizedAndWrongFilesAreRefusedWithOneLineAndNothingIsKept(@TempDir Path tmp) throws Exception {
        Advisories a = new Advisories(tmp.resolve("data"), sbom(), Clock.fixed(NOW, ZoneOffset.UTC));
        Advisories.Refused broken = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "broken.json", "{\"id\": \"GHSA-x\",\n \"affected\": [}"), "t"));
        assertTrue(broken.getMessage().startsWith("JSON として読めません (line 2"), broken.getMessage());
        assertFalse(broken.getMessage().contains("\n"));
        Advisories.Refused sbomNotVex = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "sbom.json", SBOM), "t"));
        assertTrue(sbomNotVex.getMessage().contains("an SBOM, not a VEX"), sbomNotVex.getMessage());
        Advisories.Refused other = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "other.json", "{\"name\": \"x\"}"), "t"));
        assertTrue(other.getMessage().contains("neither OSV nor CycloneDX VEX"), other.getMessage());
        Advisories.Refused noId = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "noid.json", "[{\"affected\": []}]"), "t"));
        assertTrue(noId.getMessage().contains("has no \"id\""), noId.getMessage());
        Advisories.Refused pdf = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "x.pdf", "%PDF-1.7\n..."), "t"));
        assertTrue(pdf.getMessage().contains("not valid JSON"), pdf.getMessage());
        Path big = tmp.resolve("big.json");
        try (var w = Files.newBufferedWriter(big)) {
            w.write("[");
            for (int i = 0; w != null && Files.size(big) <= Advisories.MAX_BYTES && i < 200_000; i++) {
                w.write(osv("GHSA-" + i, "org.example:x", "0", "1") + ",");
                if (i % 1000 == 0) {
                    w.flush();
                }
            }
            w.write("{\"id\":\"last\",\"affected\":[]}]");
        }
        Advisories.Refused tooBig = assertThrows(Advisories.Refused.class, () -> a.importFile(big, "t"));
        assertTrue(tooBig.getMessage().contains("file too large"), tooBig.getMessage());
        String deep = "[".repeat(5000) + "]".repeat(5000);
        Advisories.Refused nested = assertThrows(Advisories.Refused.class,
                () -> a.importFile(file(tmp, "deep.json", deep), "t"));
        assertTrue(nested.getMessage().contains("not valid JSON"), nested.getMessage());
        assertTrue(a.imports().isEmpty());
        assertFalse(Files.exists(tmp.resolve("data").resolve("advisories")), "nothing kept");
    }
}
