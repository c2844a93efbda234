package jp.mamori.web.console;

import jp.mamori.cli.Main;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's way to a working chart, as a newcomer walks it in Chromium (issue 22): demo data from the command
 * line, the first administrator, a physician's account made on the administration pages (qualification 医師,
 * department 内科: the default role comes with it), the physician's enrolment with the one-time code, and from the
 * physician's home page (today's patients of 内科) to a chart, without the API and without any internal id.
 */
class NewcomerBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void fromDemoDataToAChartWithoutTheApiOrAnyId() {
        TestServer server = console.server();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(List.of("demo-data", "--data", server.dataDir().toString(), "--patients", "30", "--seed",
                "22"), new PrintStream(out, true, StandardCharsets.UTF_8), System.err, Map.of());
        assertEquals(0, code);
        String printed = out.toString(StandardCharsets.UTF_8);
        // what demo-data printed names a patient of 内科 in hospital today, by name and patient ID
        String line = printed.lines().filter(l -> l.matches("  \\d{10}  .*  内科  (入院中|外来).*")).findFirst()
                .orElseThrow(() -> new AssertionError("no 内科 patient of today in:\n" + printed));
        String[] cols = line.strip().split(" {2}");
        String patientId = cols[0];
        String name = cols[1];

        Browser admin = console.browser();
        ConsoleSteps.setUpFirstAdministrator(admin, server, "kanri.newcomer");
        ConsoleSteps.enrolTotp(admin);
        ConsoleSteps.continueToHome(admin);

        // the administrator makes the physician's account on the pages
        admin.open("/console/admin/accounts/new");
        String form = "/console/admin/accounts/new";
        admin.fill(form, "login_id", "ishi.newcomer").fill(form, "family_name", "高橋").fill(form, "given_name", "誠")
                .fill(form, "family_kana", "タカハシ").fill(form, "given_kana", "マコト");
        WebElement physician = admin.find("form[action='" + form + "'] input[name='qualification'][value='physician']");
        physician.click();
        admin.fill(form, "licence_physician", "123456").fill(form, "departments", "内科")
                .fill(form, "proof_by", "山田 花子");
        admin.js("document.querySelector(\"input[name='proof_date']\").value = arguments[0];", LocalDate.now().toString());
        admin.submit("作成");
        assertEquals("/console/admin/account", admin.path(), admin.text());
        admin.submit("登録コードを発行");
        String enrolCode = admin.find("#enrolment-code").getText().strip();
        assertFalse(enrolCode.isEmpty(), admin.text());
        admin.screenshot("newcomer-admin-account");

        // the physician enrols with the code and lands on a home page that lists today's patients of 内科
        try (Browser doctor = Browser.start(server.consoleOrigin())) {
            doctor.open("/console/enrol?code=" + java.net.URLEncoder.encode(enrolCode, StandardCharsets.UTF_8));
            doctor.fill("/console/enrol", "password", ConsoleSteps.PASSWORD)
                    .fill("/console/enrol", "password2", ConsoleSteps.PASSWORD).submit("次へ（二要素認証の設定）");
            ConsoleSteps.enrolTotp(doctor);
            ConsoleSteps.continueToHome(doctor);
            WebElement today = doctor.find("#worklist-today");
            assertTrue(today.getText().contains(name) && today.getText().contains(patientId), today.getText());
            doctor.screenshot("newcomer-physician-home");
            doctor.driver().findElement(By.linkText(name)).click();
            doctor.waitFor(d -> doctor.path().startsWith("/console/patients/"), java.time.Duration.ofSeconds(20));
            String banner = doctor.find("#patient-banner").getText();
            assertTrue(banner.contains(patientId), banner);
            assertTrue(doctor.text().contains("経過記録を書く"), doctor.text());
            doctor.screenshot("newcomer-physician-chart");
        }
    }
}
