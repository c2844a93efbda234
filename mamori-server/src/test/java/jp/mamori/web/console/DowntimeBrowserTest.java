package jp.mamori.web.console;

import jp.mamori.continuity.KitPatients;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.support.ui.Select;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downtime kit page in a real Chromium (issue 18 §3): from the badge on the administrator's home to the page,
 * a ward's password set with the keyboard-reachable, labelled form (step-up), the kit made now and its time shown in
 * JST. Screenshots at 1280x800, 768x1024 and 390x844 (target/screenshots/downtime-*.png); nothing sticks out sideways.
 */
class DowntimeBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static void press(Browser b, ConsoleSteps.App app, String label) {
        b.submit(label);
        if (b.path().equals("/console/step-up")) {
            b.fill("/console/step-up", "code", app.nextCode()).submit("確認");
        }
    }

    @Test
    void anAdministratorFollowsTheBadgeSetsAWardPasswordAndMakesTheKit() {
        TestServer server = console.server();
        String ward = "東5階病棟（循環器）" + UUID.randomUUID().toString().substring(0, 3);
        KitPatients.inpatient(server.server().records(), "中村", "陽子", "ナカムラ", "ヨウコ", "KIT-0201", ward,
                "アスピリン", "ビソプロロール錠2.5mg 1日1回");
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.kit");
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        String waiting = b.find("#waiting").getText();
        assertTrue(waiting.contains("更新されていない縮退用資料"), waiting);
        b.driver().findElement(org.openqa.selenium.By.cssSelector("#waiting a[href='/console/admin/downtime']")).click();
        assertEquals("/console/admin/downtime", b.path(), b.text());
        assertEquals("縮退用資料", b.find("h1").getText());
        String places = b.find("#places").getText();
        String shown = java.text.Normalizer.normalize(ward, java.text.Normalizer.Form.NFKC);
        assertTrue(places.contains(shown) && places.contains("パスワード未設定のため作成されません"),
                () -> places + " | " + b.find("#places").getAttribute("outerHTML"));
        jp.mamori.testing.Screens.check(b, "downtime-before");

        new Select(b.find("#kit-place")).selectByVisibleText(shown);
        b.find("#kit-password").sendKeys("higashi5-leader-2026");
        assertEquals("新しいパスワード", b.find("label[for='kit-password']").getText());
        press(b, app, "パスワードを設定");
        assertTrue(b.text().contains("パスワードを設定しました"), b.text());
        assertFalse(b.dom().contains("higashi5-leader-2026"), "never shown back");
        press(b, app, "今すぐ作成");
        assertTrue(b.text().contains("件のファイルを作成しました"), b.text());
        String after = b.find("#places").getText();
        assertTrue(after.contains(shown) && after.contains("JST") && after.contains(".pdf") && after.contains("最新"), after);
        assertFalse(b.text().contains("KIT-0201") || b.text().contains("中村"), "no patient on the page");
        jp.mamori.testing.Screens.check(b, "downtime-after");
    }
}
