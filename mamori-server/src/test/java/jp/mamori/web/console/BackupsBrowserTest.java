package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backups page in a real Chromium (BACKUP-5): the first administrator takes a backup and runs a drill with the
 * page's buttons and reads the result, at a desktop, a tablet and a phone width (screenshots under
 * target/screenshots/backups-*.png), in Japanese and in English; the page never needs to scroll sideways.
 */
class BackupsBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser("--backup-dir", Path.of("target", "test-data",
            "browser-backups-" + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath().toString());

    private static final Pattern JAPANESE_TIME = Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}");

    /** Presses the button; gives the second factor again when the server asks for it, then presses it again. */
    private static void press(Browser b, ConsoleSteps.App app, String label) {
        b.submit(label);
        if (b.path().equals("/console/step-up")) {
            // the form that was sent is held and continues after the confirmation
            b.fill("/console/step-up", "code", app.nextCode()).submit("確認");
        }
        assertEquals("/console/admin/backups", b.path(), b.text());
    }

    /** Reloads the page until what was started on it has ended (a drill starts a whole server: up to minutes). */
    private static void untilFinished(Browser b) {
        b.waitFor(d -> {
            b.open("/console/admin/backups");
            return b.driver().findElements(org.openqa.selenium.By.id("running")).isEmpty();
        }, Duration.ofMinutes(4));
    }

    /** A screenshot of the whole page at {@code width}; asserts that nothing sticks out sideways. */
    private static void shoot(Browser b, int width, String name) {
        b.driver().manage().window().setSize(new Dimension(width, 900));
        long height = ((Number) b.js("return document.documentElement.scrollHeight;")).longValue();
        b.driver().manage().window().setSize(new Dimension(width, (int) Math.min(height + 120, 6000)));
        long scrollWidth = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
        long viewport = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
        assertTrue(scrollWidth <= viewport, name + ": the page is " + scrollWidth + " px wide in a " + viewport
                + " px window");
        System.out.println("screenshot " + b.screenshot(name).toAbsolutePath());
    }

    @Test
    void theAdministratorBacksUpRunsADrillAndReadsTheResultAtEveryWidth() {
        TestServer server = console.server();
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.hanako");
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        b.find("#backups-link").click();
        assertEquals("/console/admin/backups", b.path(), b.text());
        assertEquals("バックアップ", b.find("h1").getText());
        assertTrue(b.text().contains("日次 7・週次 5・月次 12・年次 5"), b.text());

        press(b, app, "今すぐバックアップ");
        untilFinished(b);
        assertTrue(b.find("#last-run").getText().contains("バックアップを取得しました"), b.text());
        press(b, app, "復元訓練を実行");
        untilFinished(b);
        assertTrue(b.find("#last-run").getText().contains("復元訓練に合格しました"), b.text());
        String drill = b.find("#drill").getText();
        assertTrue(drill.contains("合格（復元を確認済み）") && drill.contains("復元にかかった時間（RTO）"), drill);
        assertTrue(JAPANESE_TIME.matcher(b.find("#list").getText()).find(), b.find("#list").getText());
        assertTrue(b.find("#list").getText().contains("検証済み"), b.find("#list").getText());
        assertFalse(Pattern.compile("\\d{8}T\\d{9}Z").matcher(b.text()).find(), "no raw backup id: " + b.text());

        shoot(b, 1366, "backups-desktop-1366");
        shoot(b, 820, "backups-tablet-820");
        shoot(b, 390, "backups-phone-390");

        ConsoleSteps.otherLanguage(b);
        b.waitForPath("/console/admin/backups", Duration.ofSeconds(20));
        assertEquals("Backups", b.find("h1").getText());
        assertTrue(b.find("#drill").getText().contains("Passed (restore confirmed)"), b.text());
        assertTrue(Pattern.compile("\\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}").matcher(b.find("#list").getText())
                .find(), b.find("#list").getText());
        shoot(b, 1366, "backups-desktop-1366-en");
    }
}
