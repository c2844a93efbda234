package jp.mamori.identity.web;

import jp.mamori.cli.Main;
import jp.mamori.compliance.Sbom;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vendor deliverables page over HTTP (issue 20; VULN-4, VULN-6): an administrator sees the SBOM's main components
 * (PostgreSQL with its version, the font with its hash), the end-of-support list in words, and an advisory imported on
 * the server as open with its severity in Japanese, and downloads the SBOM; a physician is refused; no page shows a
 * raw status code.
 */
class VendorConsoleTest {
    @Test
    void anAdministratorSeesSbomEndOfSupportAndAnImportedAdvisoryAPhysicianIsRefused() throws Exception {
        try (Hospital h = Hospital.open(List.of())) {
            Browser.Page before = h.admin.browser.get("/console/admin/vendor");
            assertEquals(200, before.status(), before::toString);
            assertTrue(before.contains("まだ取り込まれていません"), "nothing imported yet");

            Sbom.Component jetty = Sbom.bundled().orElseThrow().maven("org.eclipse.jetty", "jetty-server")
                    .orElseThrow();
            Path file = Files.createTempFile("osv-", ".json");
            Files.writeString(file, """
                    [{"id": "GHSA-page-0001", "modified": "2026-11-30T00:00:00Z", "aliases": ["CVE-2026-55555"],
                      "summary": "<script>alert(1)</script> in Jetty", "database_specific": {"severity": "HIGH"},
                      "affected": [{"package": {"ecosystem": "Maven", "name": "org.eclipse.jetty:jetty-server"},
                        "versions": ["%s"]}]}]
                    """.formatted(jetty.version()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int code = Main.run(List.of("advisories", "import", "--data", h.server.dataDir().toString(),
                    file.toString()), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(out, true, StandardCharsets.UTF_8), Map.of());
            assertEquals(0, code, out.toString(StandardCharsets.UTF_8));

            Browser.Page page = h.admin.browser.get("/console/admin/vendor");
            assertEquals(200, page.status(), page::toString);
            String pg = Sbom.bundled().orElseThrow().components().stream()
                    .filter(c -> c.bomRef().startsWith("mamori-postgresql-server:linux-amd64@")).findFirst()
                    .orElseThrow().version();
            assertTrue(page.contains("PostgreSQL (linux-amd64)") && page.contains(pg), "PostgreSQL " + pg);
            assertTrue(page.contains("BIZ UDPGothic") && page.contains("OFL-1.1") && page.contains("SHA-256 "),
                    page::toString);
            assertTrue(page.contains("Java 実行環境 (JDK)") && page.contains("PostgreSQL（同梱）"), page::toString);
            assertTrue(page.contains("GHSA-page-0001 (CVE-2026-55555)") && page.contains("未対応")
                    && page.contains(">重要</td>"), page::toString);
            assertFalse(page.contains("<script>alert(1)</script>"), "the summary is escaped");
            assertTrue(page.contains("&lt;script&gt;"), page::toString);
            for (String code2 : List.of(">PASS<", ">FAIL<", ">PARTIAL<", ">UNKNOWN<", ">HIGH<")) {
                assertFalse(page.contains(code2), "no raw code " + code2);
            }

            Browser.Page sbom = h.admin.browser.get("/console/admin/vendor/sbom.json");
            assertEquals(200, sbom.status());
            assertTrue(sbom.body().contains("\"bomFormat\" : \"CycloneDX\""), "the SBOM itself");
            assertEquals("attachment; filename=\"mamori-sbom.cdx.json\"",
                    sbom.response().headers().firstValue("Content-Disposition").orElse(""));

            Person physician = h.enrolStaff("ishi.v", "内科");
            Browser.Page refused = physician.browser.get("/console/admin/vendor");
            assertEquals(403, refused.status(), refused::toString);
            assertFalse(refused.contains("GHSA-page-0001"));
            assertEquals(403, physician.browser.get("/console/admin/vendor/sbom.json").status());
        }
    }
}
