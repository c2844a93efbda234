package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.audit.AuditRecord;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An administrator in a real Chromium (issue 22): finds a patient for a care relationship by kana, chooses them and
 * adds the relationship; starts break-glass by 患者ID and sees the review page name the patient; opens the audit
 * console from the navigation and reads a patient's access history in words. Every page at 1280×800, 768×1024 and
 * 390×844: no sideways scrolling, every control labelled; screenshots in target/screenshots/.
 */
class AdminAndAuditBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private static final int[][] SIZES = {{1280, 800}, {768, 1024}, {390, 844}};
    private TestServer server;
    private Browser browser;

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    private String patient(String identifier, String family, String given, String familyKana, String givenKana,
                           String birth) {
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue(identifier);
        for (String[] n : new String[][]{{"IDE", family, given}, {"SYL", familyKana, givenKana}}) {
            HumanName name = new HumanName().setText(n[1] + "\u3000" + n[2]).setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", new CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(birth));
        return server.server().records().create(Caller.system("browser-test"), p, null, null).stored().id();
    }

    private String note(String patientId) {
        Composition c = new Composition();
        c.setStatus(Composition.CompositionStatus.FINAL);
        c.setType(new CodeableConcept().addCoding(new Coding("http://loinc.org", "11506-3", "Progress note")));
        c.setSubject(new Reference("Patient/" + patientId));
        c.setDate(new Date());
        c.setTitle("内科 経過記録");
        c.addAuthor().setDisplay("医師 田中 一郎");
        RecordService.Stored s = server.server().records().create(Caller.system("browser-test"), c, null, null)
                .stored();
        return "Composition/" + s.id() + "/_history/" + s.version();
    }

    /** Each size in turn: no sideways scrolling, every visible control labelled, a screenshot from {@code focus}. */
    private void atEverySize(String name, String focus) {
        for (int[] size : SIZES) {
            browser.driver().manage().window().setSize(new Dimension(size[0], size[1]));
            long overflow = ((Number) browser.js("return document.documentElement.scrollWidth - window.innerWidth;"))
                    .longValue();
            if (size[0] >= 768) {
                assertTrue(overflow <= 0, name + " scrolls sideways at " + size[0] + " px by " + overflow + " px");
            }
            Object unlabelled = browser.js("return [...document.querySelectorAll('main input, main select,"
                    + " main textarea')].filter(e => e.type !== 'hidden' && !e.closest('label')"
                    + " && !e.getAttribute('aria-label') && !(e.id && document.querySelector('label[for=\"' + e.id"
                    + " + '\"]'))).map(e => e.name).join(',');");
            assertEquals("", unlabelled, name + ": controls without a label");
            browser.js("document.querySelector(arguments[0]).scrollIntoView();", focus);
            browser.screenshot(name + "-" + size[0]);
        }
        browser.driver().manage().window().setSize(new Dimension(1280, 1000));
    }

    @Test
    void anAdministratorFindsAPatientReviewsBreakGlassAndReadsAPatientsAccessHistory() {
        String hina = patient("9000000201", "高橋", "陽菜", "タカハシ", "ヒナ", "1992-07-15");
        String other = patient("9000000202", "高橋", "健太", "タカハシ", "ケンタ", "1985-03-03");
        String record = note(hina);
        server.server().audit().trail().append(new AuditRecord(Instant.now(), "account:someone", "person",
                "田中 一郎", List.of("physician"), "内科", List.of(hina), List.of(record), "read", "success",
                "treatment", "10.0.0.5", null, false, Map.of()));
        server.server().audit().trail().append(new AuditRecord(Instant.now(), "account:someone", "person",
                "田中 一郎", List.of("physician"), "内科", List.of(hina, other), List.of("Patient",
                "Patient/" + hina + "/_history/1", "Patient/" + other + "/_history/1"), "search", "success",
                "treatment", "10.0.0.5", null, false, Map.of()));

        ConsoleSteps.enrolWithCode(browser, server, "kanri.browser", true);
        ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);

        // care relationships: find by kana, choose, add
        browser.open("/console/admin/care");
        browser.fill("/console/admin/care/find", "name", "たかはし").submit("検索");
        String found = browser.find("#care-found").getText();
        assertTrue(found.contains("高橋　陽菜") && found.contains("9000000201") && found.contains("高橋　健太"), found);
        assertFalse(browser.text().contains(hina), "no record id as text");
        atEverySize("admin-care-search", "#care-find");
        browser.driver().findElements(By.linkText("この患者を選ぶ")).get(found.indexOf("陽菜") < found.indexOf("健太")
                ? 0 : 1).click();
        assertTrue(browser.find("#care-patient-label").getText().contains("高橋　陽菜"), browser.text());
        browser.fill("/console/admin/care/add", "login_id", "kanri.browser").fill("/console/admin/care/add",
                "department", "内科").submit("追加");
        assertTrue(browser.find("#care").getText().contains("佐藤 一郎（kanri.browser）"), browser.text());
        atEverySize("admin-care-patient", "#care-patient");

        // break-glass by 患者ID, and the review page
        browser.open("/console/break-glass");
        browser.fill("/console/break-glass", "patient", "9000000202")
                .fill("/console/break-glass", "reason_text", "救急搬送、意識なし。既往歴の確認");
        browser.submit("二要素目で確認して開始");
        assertTrue(browser.find("#break-glass-banner").getText().contains("高橋　健太"), browser.text());
        atEverySize("break-glass-mine", "#break-glass-active");
        browser.open("/console/admin/break-glass");
        String queue = browser.find("#break-glass-queue").getText();
        assertTrue(queue.contains("高橋　健太") && queue.contains("9000000202"), queue);
        assertFalse(browser.text().contains(other), "no record id on the review page");
        atEverySize("break-glass-review", "#break-glass-queue");

        // the audit console from the navigation; a patient's history by 患者ID
        browser.open("/console/home");
        browser.find("#nav-audit").click();
        assertEquals("/console/audit", browser.path(), browser.text());
        atEverySize("audit-home", "main");
        browser.fill("/console/audit/report", "patient", "9000000201").submit("表示");
        String rows = browser.find("#report-rows").getText();
        assertTrue(rows.contains("田中 一郎") && rows.contains("閲覧") && rows.contains("内科 経過記録")
                && rows.contains("検索（結果にこの患者が表示）") && rows.contains("診療"), rows);
        String report = browser.find("main").getText();
        assertFalse(report.contains("高橋　健太") || report.contains("9000000202") || report.contains(hina), report);
        assertTrue(browser.find("#print-pdf").getAttribute("href").contains("/console/audit/print?"));
        atEverySize("audit-patient-report", "#report-patient");
    }
}
