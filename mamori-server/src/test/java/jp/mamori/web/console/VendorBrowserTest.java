package jp.mamori.web.console;

import jp.mamori.cli.Main;
import jp.mamori.compliance.Sbom;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vendor deliverables page in a real Chromium (issue 20): after an advisory is imported on the server, the first
 * administrator's home shows it waiting, one click opens the page, which reads in words with times in JST at 1280, 768
 * and 390 px (screenshots target/screenshots/vendor-*.png), in Japanese and English; the page never scrolls sideways.
 */
class VendorBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theAdministratorFindsTheOpenAdvisoryFromHomeAndReadsThePageAtEveryWidth() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.vendor");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        Sbom.Component bc = Sbom.bundled().orElseThrow().maven("org.bouncycastle", "bcprov-jdk18on").orElseThrow();
        Path file = Files.createTempFile("osv-", ".json");
        Files.writeString(file, """
                {"vulns": [{"id": "GHSA-brow-0001", "modified": "2026-11-30T00:00:00Z", "aliases": ["CVE-2026-44444"],
                  "summary": "Bouncy Castle: a long summary that must wrap on a phone rather than widen the page",
                  "database_specific": {"severity": "MODERATE"},
                  "affected": [{"package": {"ecosystem": "Maven", "name": "org.bouncycastle:bcprov-jdk18on"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.70"}, {"fixed": "%s.1"}]}]}]}]}
                """.formatted(bc.version()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(List.of("advisories", "import", "--data", console.server().dataDir().toString(),
                file.toString()), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8), Map.of()), out.toString(StandardCharsets.UTF_8));

        b.open("/console/home");
        b.find("a[href='/console/admin/vendor']").click();
        b.waitForPath("/console/admin/vendor", Duration.ofSeconds(20));
        assertEquals("事業者としての提供物（SBOM・サポート終了・脆弱性）", b.find("h1").getText());
        String adv = b.find("#adv-matches").getText();
        assertTrue(adv.contains("未対応") && adv.contains("GHSA-brow-0001") && adv.contains("中"), adv);
        String eol = b.find("#eol-table").getText();
        assertTrue(eol.contains("Java 実行環境 (JDK)") && eol.contains("PostgreSQL（同梱）"), eol);
        assertTrue(b.find("#adv-summary").getText().contains("JST"), b.find("#adv-summary").getText());
        assertTrue(Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}").matcher(b.find("#adv-imports").getText())
                .find(), b.find("#adv-imports").getText());
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());

        jp.mamori.testing.Screens.check(b, "vendor");
        jp.mamori.testing.Accessibility.assertNoSeriousViolations(b, "vendor");

        ConsoleSteps.otherLanguage(b);
        b.waitForPath("/console/admin/vendor", Duration.ofSeconds(20));
        assertTrue(b.find("h1").getText().startsWith("Vendor deliverables"), b.text());
        assertTrue(b.find("#adv-matches").getText().contains("Moderate"), b.text());
        jp.mamori.testing.Screens.check(b, "vendor-en");
    }
}
