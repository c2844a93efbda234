package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executive dashboard in a real Chromium (issue 20 "Outputs"): from the compliance home to 安全管理の概況, each
 * area with its state in words, what is overdue, the changes; the review is recorded with the keyboard. Screenshots
 * at 1280x800, 768x1024 and 390x844 (target/screenshots/compliance-dashboard-*.png); no page scrolls sideways and no
 * internal id or English code is the text a person reads.
 */
class DashboardBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void anAdministratorReadsTheDashboardAndRecordsAReview() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.keiei");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.open("/console/compliance");
        b.find("#dashboard a").click();
        b.waitForPath("/console/compliance/dashboard", java.time.Duration.ofSeconds(10));
        assertEquals("安全管理の概況（経営層向け）", b.find("h1").getText());
        String text = b.text();
        for (String area : new String[]{"組織的安全管理", "技術的安全管理", "保存・バックアップ", "事業継続・事故対応",
                "委託・保守・外部サービス", "物理的安全管理"}) {
            assertTrue(text.contains(area), area + ": " + text);
        }
        assertTrue(text.contains("要対応") || text.contains("注意") || text.contains("良好"), text);
        assertTrue(text.contains("一度も回答されていない項目"), text);
        assertFalse(text.contains("onsite-inspection") || text.contains("p1-k-") || text.contains("AMBER")
                || text.contains("state-"), "no internal id or code: " + text);
        ConsoleSteps.shoot(b, 1280, 800, "compliance-dashboard-1280");
        ConsoleSteps.shoot(b, 768, 1024, "compliance-dashboard-768");
        ConsoleSteps.shoot(b, 390, 844, "compliance-dashboard-390");
        b.driver().manage().window().setSize(new Dimension(1280, 800));

        b.js("document.getElementById('changes').scrollIntoView();");
        b.fill("/console/compliance/review", "note", "経営会議で確認");
        b.submit("見直しを記録");
        assertTrue(b.text().contains("見直しを記録しました") && b.text().contains("経営会議で確認"), b.text());
        assertTrue(b.find("#changes").getText().contains("前回の見直しから変化はありません"), b.find("#changes").getText());
        b.js("document.getElementById('changes').scrollIntoView();");
        ConsoleSteps.shoot(b, 1280, 800, "compliance-dashboard-reviewed-1280");
    }
}
