package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;

import java.time.LocalDate;
import java.time.ZoneId;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compliance console in a real Chromium (issue 20): the administrator opens 安全管理 from the navigation, a
 * checklist, an item; a いいえ without a target date is refused with the note kept, then recorded with one; the
 * history shows it. Screenshots at 1280x800, 768x1024 and 390x844 (target/screenshots/compliance-*.png); no page
 * scrolls sideways and no internal id shows where a person reads.
 */
class ComplianceBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void anAdministratorAnswersAnItemOfTheInspectionChecklist() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.anzen");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.find("#nav-compliance").click();
        b.waitForPath("/console/compliance", java.time.Duration.ofSeconds(10));
        assertEquals("安全管理（チェックリスト）", b.find("h1").getText());
        assertTrue(b.text().contains("立入検査用チェックリスト該当項目"), b.text());
        ConsoleSteps.shootAll(b, "compliance-home");

        b.open("/console/compliance/framework?id=onsite-inspection&v=2026");
        String list = b.text();
        assertTrue(list.contains("4② 医療情報システムの管理・運用") && list.contains("未回答"), list);
        assertFalse(list.contains("p1-k-") || list.contains("onsite-inspection"), "no internal id: " + list);
        ConsoleSteps.shootAll(b, "compliance-framework");

        b.find("a[href*='item=p1-k-4-2']").click();
        b.waitFor(d -> b.path().equals("/console/compliance/item"), java.time.Duration.ofSeconds(10));
        assertTrue(b.text().contains("推奨される対応例"), b.text());
        b.js("document.getElementById('answer').scrollIntoView();");
        ConsoleSteps.shoot(b, 1280, 800, "compliance-item-form-1280");
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        // keyboard: the answer's radio buttons take the focus and show it
        b.find("input[name='answer'][value='yes']").sendKeys("");
        assertEquals("answer", b.driver().switchTo().activeElement().getAttribute("name"));
        b.find("input[name='answer'][value='no']").click();
        b.fill("/console/compliance/answer", "note", "棚卸しを予定");
        b.submit("回答を記録");
        assertTrue(b.text().contains("いいえの場合は対応予定日（令和8年度内）を入力してください"), b.text());
        assertEquals("棚卸しを予定", b.find("textarea[name='note']").getAttribute("value"), "the note is kept");
        assertTrue(b.find("input[name='answer'][value='no']").isSelected(), "the answer is kept");
        ConsoleSteps.shootAll(b, "compliance-item-refused");

        LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));
        LocalDate target = today.isBefore(LocalDate.of(2027, 3, 31)) ? LocalDate.of(2027, 3, 31) : today;
        b.js("document.querySelector(\"input[name='target']\").value = arguments[0];", target.toString());
        b.submit("回答を記録");
        assertTrue(b.text().contains("回答を記録しました"), b.text());
        String history = b.find("#history").getText();
        assertTrue(history.contains("いいえ") && history.contains("棚卸しを予定"), history);
        assertFalse(b.text().contains("p1-k-4-2"), "no internal id where a person reads");
        ConsoleSteps.shootAll(b, "compliance-item");

        // the requirement catalogue reads in Japanese, and in English after the language switch
        b.open("/console/compliance/framework?id=mamori-requirements&v=2026");
        String catalogue = b.text();
        assertTrue(catalogue.contains("ACCT-2 不要なアカウントの削除")
                && catalogue.contains("退職者や使用していないID等、不要なアカウントが残存していないかを確認し"), catalogue);
        ConsoleSteps.shootAll(b, "compliance-catalogue");
        b.open("/console/compliance/item?id=role-sharing&v=2026&item=p2-a-6");
        String sla = b.text();
        assertTrue(sla.contains("GOV-37: SLA：事業者は"), sla);
        ConsoleSteps.shootAll(b, "compliance-item-requirement");
        b.find("a.lang").click();
        b.waitFor(d -> "en".equals(b.js("return document.documentElement.lang;")), java.time.Duration.ofSeconds(10));
        b.open("/console/compliance/item?id=role-sharing&v=2026&item=p2-a-6");
        assertTrue(b.text().contains("GOV-37: SLA: the vendor drafts an SLA"), b.text());
        ConsoleSteps.shootAll(b, "compliance-item-requirement-en");
        b.open("/console/compliance/framework?id=mamori-requirements&v=2026");
        assertTrue(b.text().contains("Delete unnecessary accounts") && !b.text().contains("AUTH-1 AUTH-1"), b.text());
        ConsoleSteps.shootAll(b, "compliance-catalogue-en");
        b.find("a.lang").click();
        b.waitFor(d -> "ja".equals(b.js("return document.documentElement.lang;")), java.time.Duration.ofSeconds(10));
    }
}
