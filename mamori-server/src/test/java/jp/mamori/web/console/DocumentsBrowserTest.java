package jp.mamori.web.console;

import jp.mamori.chart.JpDates;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.support.ui.Select;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compliance documents in a real Chromium (issue 20): the administrator opens 安全管理の文書 from the compliance
 * console, chooses a file (the file input set through DevTools' DOM.setFileInputFiles), and uploads an
 * expired BCP; a web page renamed to .pdf is refused with the typed title kept; the item the BCP answers shows it in
 * amber. Screenshots at 1280x800, 768x1024 and 390x844 (target/screenshots/documents-*.png); no page scrolls
 * sideways and no internal id shows where a person reads.
 */
class DocumentsBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    /** Chooses {@code file} in the upload form's file input as a person would, through DevTools' DOM.setFileInputFiles. */
    @SuppressWarnings("unchecked")
    private static void choose(Browser b, Path file) {
        var driver = b.driver();
        Map<String, Object> doc = driver.executeCdpCommand("DOM.getDocument", Map.of());
        Object root = ((Map<String, Object>) doc.get("root")).get("nodeId");
        Map<String, Object> input = driver.executeCdpCommand("DOM.querySelector", Map.of("nodeId", root,
                "selector", "form[action='/console/compliance/documents/upload'] input[type='file'][name='file']"));
        driver.executeCdpCommand("DOM.setFileInputFiles", Map.of("files", List.of(file.toString()),
                "nodeId", input.get("nodeId")));
    }

    private static void date(Browser b, String name, LocalDate d) {
        b.js("document.querySelector(\"form[action='/console/compliance/documents/upload'] input[name='" + name
                + "']\").value = arguments[0];", d.toString());
    }

    @Test
    void anAdministratorUploadsAnExpiredBcpAndItsItemTurnsAmber() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.bunsho");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.find("#nav-compliance").click();
        b.waitForPath("/console/compliance", java.time.Duration.ofSeconds(10));
        b.find("a[href='/console/compliance/documents']").click();
        b.waitForPath("/console/compliance/documents", java.time.Duration.ofSeconds(10));
        assertEquals("安全管理の文書", b.find("h1").getText());
        assertTrue(b.text().contains("まだ文書は登録されていません"), b.text());
        ConsoleSteps.shootAll(b, "documents-empty");

        Path dir = Files.createTempDirectory("documents-walk");
        Path fake = Files.writeString(dir.resolve("bcp.pdf"), "<html><script>alert(1)</script></html>");
        Path bcp = Files.write(dir.resolve("BCP（サイバー攻撃編）.pdf"), ("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
                + "%%EOF\n").getBytes(StandardCharsets.US_ASCII));
        String upload = "/console/compliance/documents/upload";
        LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));

        // a web page named .pdf: refused by its content, what was typed stays
        choose(b, fake);
        new Select(b.find("select[name='kind']")).selectByVisibleText("BCP・インシデント対応計画");
        b.fill(upload, "title", "サイバー攻撃を想定したBCP");
        b.fill(upload, "reviewer", "院長 山田太郎");
        date(b, "reviewed", today.minusDays(400));
        date(b, "expires", today.minusDays(1));
        b.submit("登録する");
        assertTrue(b.text().contains("PDF・PNG・JPEG のファイルだけを登録できます"), b.text());
        assertEquals("サイバー攻撃を想定したBCP", b.find("input[name='title']").getAttribute("value"), "the title is kept");
        assertEquals("bcp", new Select(b.find("select[name='kind']")).getFirstSelectedOption().getAttribute("value"));
        assertFalse(b.dom().contains("<script>alert(1)"), "never shown back");
        b.js("document.getElementById('upload').scrollIntoView();");
        ConsoleSteps.shootAll(b, "documents-refused");

        // the real PDF: uploaded, expired
        choose(b, bcp);
        b.submit("登録する");
        assertEquals("/console/compliance/documents/document", b.path());
        String page = b.text();
        assertTrue(page.contains("文書を登録しました") && page.contains("期限切れ") && page.contains("第1版")
                && page.contains("BCP（サイバー攻撃編）.pdf をダウンロード"), page);
        String expired = new JpDates(ZoneId.of("Asia/Tokyo")).date(today.minusDays(1)) + "に期限切れ";
        assertEquals(expired, b.find("#document .state-warn").getText());
        assertFalse(page.matches("(?s).*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-.*"), "no internal id: " + page);
        ConsoleSteps.shootAll(b, "documents-document");

        // keyboard: the withdraw reason takes the focus
        b.find("textarea[name='reason']").sendKeys("");
        assertEquals("reason", b.driver().switchTo().activeElement().getAttribute("name"));

        b.open("/console/compliance/documents");
        assertTrue(b.find("#list").getText().contains("サイバー攻撃を想定したBCP"), b.text());
        ConsoleSteps.shootAll(b, "documents-list");

        // the item the BCP answers: the document in amber
        b.open("/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-5-1");
        String docs = b.find("#documents").getText();
        assertTrue(docs.contains("サイバー攻撃を想定したBCP") && docs.contains(expired), docs);
        b.js("document.getElementById('documents').scrollIntoView();");
        ConsoleSteps.shootAll(b, "documents-item");
    }
}
