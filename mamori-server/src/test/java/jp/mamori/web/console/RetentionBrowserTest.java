package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The retention and disposal pages in a real Chromium (ADR 0011): the first administrator sees the periods, is refused
 * a period shorter than the law's, proposes the disposal of a patient past retention and approves it; a second
 * administrator approves too, the records go, and the certificate is shown. Screenshots at a desktop, a tablet and a
 * phone width (target/screenshots/retention-*.png), Japanese and English; nothing sticks out sideways.
 */
class RetentionBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static final String PAGE = "/console/admin/retention";

    /** Submits; gives the second factor again when the server asks for it, then submits again. */
    private static void press(Browser b, ConsoleSteps.App app, String label) {
        b.submit(label);
        if (b.path().equals("/console/step-up")) {
            // the form that was sent is held and continues after the confirmation: its answer is shown (a refusal
            // at the step-up's address, a success where it leads)
            b.fill("/console/step-up", "code", app.nextCode()).submit("確認");
            assertFalse(b.text().contains("本人確認をしてください"), b.text());
        }
    }

    private static void shoot(Browser b, int width, String name) {
        b.driver().manage().window().setSize(new Dimension(width, 900));
        long height = ((Number) b.js("return document.documentElement.scrollHeight;")).longValue();
        b.driver().manage().window().setSize(new Dimension(width, (int) Math.min(height + 120, 6000)));
        long scrollWidth = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
        long viewport = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
        assertTrue(scrollWidth <= viewport, name + ": the page is " + scrollWidth + " px wide in a " + viewport
                + " px window");
        System.out.println("screenshot " + b.screenshot(name).toAbsolutePath());
        b.driver().manage().window().setSize(new Dimension(1366, 900));
    }

    @Test
    void twoAdministratorsDisposeOfAPatientPastRetention() throws Exception {
        TestServer server = console.server();
        String p = "brw-" + UUID.randomUUID().toString().substring(0, 6);
        assertTrue(server.put("/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p
                + "\",\"name\":[{\"family\":\"保存\",\"given\":[\"太郎\"]}]}").statusCode() < 300);
        assertTrue(server.put("/Observation/obs-" + p, "{\"resourceType\":\"Observation\",\"id\":\"obs-" + p
                + "\",\"status\":\"final\",\"code\":{\"text\":\"体温\"},\"subject\":{\"reference\":\"Patient/" + p
                + "\"},\"valueQuantity\":{\"value\":36.5}}").statusCode() < 300);
        // Stands in for records written seven years ago (the store always stamps the present): the dates are moved
        // behind the server's back. The hash chains no longer verify for these two, which this test does not check.
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.execute("ALTER TABLE resource_version DISABLE TRIGGER USER");
            st.execute("UPDATE resource_version SET recorded_at = recorded_at - interval '7 years'"
                    + " WHERE res_id IN ('" + p + "', 'obs-" + p + "')");
            st.execute("UPDATE resource SET last_updated = last_updated - interval '7 years'"
                    + " WHERE res_id IN ('" + p + "', 'obs-" + p + "')");
            st.execute("ALTER TABLE resource_version ENABLE TRIGGER USER");
            st.execute("COMMIT");
        }

        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.hanako");
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.find("#retention-link").click();
        assertEquals(PAGE, b.path(), b.text());
        assertEquals("保存期間と廃棄", b.find("h1").getText());
        assertTrue(b.find("#rules").getText().contains("医師法第24条"), b.find("#rules").getText());
        assertTrue(b.find("#rules").getText().contains("監査証跡の保存期間: 5 年"), b.find("#rules").getText());

        // 診療録 for 3 years: the form's own minimum is removed, the server refuses it all the same
        b.js("var i = document.querySelector(\"form[action='/console/admin/retention/rule'] input[name='years']\");"
                + " i.removeAttribute('min'); i.value = '3';");
        press(b, app, "変更");
        assertTrue(b.text().contains("診療録の保存期間は法定の 5 年より短くできません"), b.text());

        String candidates = b.find("#candidates").getText();
        assertTrue(candidates.contains("保存 太郎"), candidates);
        assertFalse(candidates.contains(p), "no raw patient id on the page: " + candidates);
        shoot(b, 1366, "retention-desktop-1366");
        shoot(b, 820, "retention-tablet-820");
        shoot(b, 390, "retention-phone-390");

        b.find("input[name='patient'][value='" + p + "']").click();
        press(b, app, "選んだ患者の廃棄を提案");
        assertTrue(b.path().startsWith(PAGE + "/batch"), b.path());
        assertTrue(b.text().contains("廃棄を提案しました"), b.text());
        assertTrue(b.find("#items").getText().contains("検査・観察結果"), b.find("#items").getText());
        String batchPath = b.path() + "?" + b.driver().getCurrentUrl().split("\\?", 2)[1].replaceAll("&done=.*", "");
        press(b, app, "承認する");
        assertTrue(b.text().contains("もう 1 名の管理者の承認を待っています"), b.text());
        assertFalse(b.driver().findElements(By.xpath("//button[text()='承認する']")).size() > 0, "approved once");
        shoot(b, 390, "retention-batch-phone-390");
        assertEquals(200, server.get("/Patient/" + p).statusCode(), "one approval removes nothing");
        ConsoleSteps.logOut(b);

        ConsoleSteps.enrolWithCode(b, server, "kanri.ichiro", true);
        ConsoleSteps.App app2 = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.open(batchPath);
        press(b, app2, "承認する");
        assertTrue(b.text().contains("記録を廃棄しました"), b.text());
        assertTrue(b.find("#batch").getText().contains("廃棄済み"), b.find("#batch").getText());
        assertEquals(410, server.get("/Observation/obs-" + p).statusCode());

        b.find("#certificate-link").click();
        String certUrl = b.driver().getCurrentUrl();
        String cert = b.find("#certificate").getText();
        assertTrue(cert.contains("廃棄証明") && cert.contains("保存 太郎") && cert.contains("山田 花子")
                && cert.contains("佐藤 一郎"), cert);
        assertTrue(Pattern.compile("[0-9a-f]{16} [0-9a-f]{16}").matcher(cert).find(), cert);
        shoot(b, 1366, "retention-certificate-1366");
        shoot(b, 390, "retention-certificate-phone-390");

        // the language switch comes back to this very certificate (its query kept), now in English
        ConsoleSteps.otherLanguage(b);
        b.waitFor(d -> "en".equals(d.findElement(org.openqa.selenium.By.tagName("html")).getAttribute("lang")),
                Duration.ofSeconds(20));
        assertEquals(certUrl, b.driver().getCurrentUrl());
        assertTrue(b.find("#certificate").getText().contains("Certificate of disposal"), b.text());
        b.open(PAGE);
        assertEquals("Retention and disposal", b.find("h1").getText());
        assertTrue(b.find("#batches").getText().contains("Disposed of"), b.find("#batches").getText());
        shoot(b, 1366, "retention-desktop-1366-en");
    }
}
