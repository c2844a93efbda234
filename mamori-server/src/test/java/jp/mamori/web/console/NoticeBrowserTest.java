package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.support.ui.Select;

import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Vendor notices in a real Chromium (issue 19; VULN-2, VULN-3): the first administrator opens the notices from the
 * compliance home, posts one a vendor gave by telephone, finds it waiting on the home page, acknowledges it and
 * records a plan; the list, the form and the notice's page read in words with times in JST at 1280, 768 and 390 px
 * (screenshots target/screenshots/notices-*.png), in Japanese and English, and never scroll sideways.
 */
class NoticeBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theAdministratorPostsAcknowledgesAndPlansANoticeAtEveryWidth() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.notice");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        b.open("/console/compliance");
        b.find("a[href='/console/maintenance/notices']").click();
        b.waitForPath("/console/maintenance/notices", Duration.ofSeconds(20));
        assertEquals("事業者からの通知（脆弱性・サポート終了）", b.find("h1").getText());
        b.find("#notice-new").click();
        b.waitForPath("/console/maintenance/notices/new", Duration.ofSeconds(20));
        String action = "/console/maintenance/notices/new";
        b.fill(action, "vendor", "株式会社さくら医療システム 保守部");
        new Select(b.find("#n-severity")).selectByVisibleText("緊急");
        b.fill(action, "component", "電子カルテサーバ（Jetty 12.0 系）");
        b.fill(action, "component_id", "pkg:maven/org.eclipse.jetty/jetty-server@12.0.1");
        b.fill(action, "summary", "HTTP/2 の処理に、細工した要求でサービスが停止する脆弱性（CVE-2026-00000）があります。"
                + "院内ネットワークからのみ到達可能ですが、早期の対応を推奨します。");
        b.fill(action, "workaround", "HTTP/2 を無効にし、HTTP/1.1 のみで運用する。");
        b.fill(action, "references", "https://jvn.jp/vu/JVNVU00000000/ <script>alert(1)</script>");
        Screens.check(b, "notices-form");
        b.submit("登録する");
        b.waitForPath("/console/maintenance/notice", Duration.ofSeconds(20));
        String page = b.find("#notice").getText();
        assertTrue(page.contains("緊急") && page.contains("未確認") && page.contains("<script>alert(1)</script>"), page);
        assertTrue(Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}").matcher(b.find("#history").getText())
                .find(), b.find("#history").getText());
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());

        b.open("/console/home");
        assertTrue(b.text().contains("未確認の事業者からの通知"), b.text());
        b.open("/console/maintenance/notices");
        assertTrue(b.find("#notices").getText().contains("緊急"), b.text());
        Screens.check(b, "notices-list");
        b.find("#notices a[href^='/console/maintenance/notice?n=']").click();
        b.waitForPath("/console/maintenance/notice", Duration.ofSeconds(20));
        Screens.check(b, "notices-new");
        b.submit("確認済みにする");
        assertTrue(b.text().contains("確認済みとして記録しました"), b.text());
        b.fill("/console/maintenance/notice/plan", "plan", "次回の定期保守（"
                + LocalDate.now(ZoneId.of("Asia/Tokyo")).plusDays(7) + "）で 12.0.2 を適用する。それまで HTTP/2 は無効。");
        b.submit("対応計画を記録する");
        assertTrue(b.text().contains("対応計画を記録しました") && b.text().contains("対応中"), b.text());
        Screens.check(b, "notices-one");

        ConsoleSteps.otherLanguage(b);
        b.waitForPath("/console/maintenance/notice", Duration.ofSeconds(20));
        assertTrue(b.find("#notice").getText().contains("Critical") && b.text().contains("In progress"), b.text());
        Screens.check(b, "notices-one-en");
    }
}
