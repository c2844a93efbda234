package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health page in a real Chromium (issue 18 §5): the first administrator opens it from the home page and reads each
 * check in words with its time in JST, at 1280, 768 and 390 px (screenshots target/screenshots/health-*.png), in
 * Japanese and English; the page never scrolls sideways.
 */
class HealthBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theAdministratorReadsTheHealthOfTheServerAtEveryWidth() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.kenko");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        b.find("#health-link").click();
        assertEquals("/console/admin/health", b.path(), b.text());
        assertEquals("稼働状況", b.find("h1").getText());
        String checks = b.find("#checks").getText();
        for (String label : new String[]{"データベース", "監査記録の書き込み", "チェックポイントとアンカー", "TLS 証明書",
                "ディスク（データフォルダ）", "バックアップ", "定期処理の担当（複数プロセス）"}) {
            assertTrue(checks.contains(label), label + ": " + checks);
        }
        assertTrue(checks.contains("プライマリに接続しています"), checks);
        // alone, this process runs every job of the installation (issue 18 §1), named in words
        assertTrue(checks.contains("このプロセスが担当: 監査証跡のチェックポイント署名"), checks);
        assertTrue(Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}").matcher(checks).find(), checks);
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());

        jp.mamori.testing.Screens.check(b, "health");

        ConsoleSteps.otherLanguage(b);
        b.waitForPath("/console/admin/health", Duration.ofSeconds(20));
        assertEquals("Health", b.find("h1").getText());
        assertTrue(b.find("#checks").getText().contains("Audit appender"), b.text());
        jp.mamori.testing.Screens.check(b, "health-en");
    }
}
