package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A physician in a real Chromium: finds a patient by kana, opens the chart, writes a draft, finalizes it, amends it
 * with a reason, sees the history and the difference, and prints the note to a PDF that holds the Japanese text and
 * the version's hash. Screenshots of the main pages go to target/screenshots/.
 */
class ClinicianBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private TestServer server;
    private Browser browser;

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    private String patient() {
        RecordService records = server.server().records();
        Caller system = Caller.system("browser-test");
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000101");
        for (String[] n : new String[][]{{"IDE", "高橋", "陽菜"}, {"SYL", "タカハシ", "ヒナ"}}) {
            HumanName name = new HumanName().setText(n[1] + "\u3000" + n[2]).setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", new CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1992-07-15"));
        String id = records.create(system, p, null, null).stored().id();
        double[] values = {110, 124, 98, 131};
        for (int i = 0; i < values.length; i++) {
            Observation o = new Observation();
            o.setStatus(Observation.ObservationStatus.FINAL);
            o.setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", "2345-7", "血糖")).setText("血糖"));
            o.setSubject(new Reference("Patient/" + id));
            o.setEffective(new DateTimeType(Date.from(Instant.now().minus(90L - 30L * i, ChronoUnit.DAYS))));
            o.setValue(new Quantity().setValue(values[i]).setUnit("mg/dL").setSystem("http://unitsofmeasure.org")
                    .setCode("mg/dL"));
            o.addReferenceRange().setLow(new Quantity().setValue(73)).setHigh(new Quantity().setValue(109));
            records.create(system, o, null, null);
        }
        return id;
    }

    @Test
    void aPhysicianFindsAPatientByKanaWritesFinalizesAmendsAndPrintsANote() throws Exception {
        String pt = patient();
        UUID me = ConsoleSteps.enrolWithCode(browser, server, "ishi.browser", false);
        ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.physicianFor(server, me, pt);

        browser.open("/console/home");
        browser.driver().findElement(By.id("patients-link")).click();
        assertEquals("/console/patients", browser.path(), browser.text());
        browser.fill("/console/patients", "name", "たかはし").submit("検索");
        assertTrue(browser.text().contains("高橋") && browser.text().contains("タカハシ"), browser.text());
        browser.screenshot("clinician-patient-search");

        browser.driver().findElement(By.cssSelector("a[href='/console/patients/" + pt + "']")).click();
        assertEquals("/console/patients/" + pt, browser.path());
        assertTrue(browser.find("#patient-banner").getText().contains("9000000101"), browser.text());
        browser.screenshot("clinician-chart");
        browser.driver().findElement(By.id("results-link")).click();
        assertTrue(browser.find("#cumulative-table").getText().contains("124.0 H"), browser.text());
        browser.driver().findElement(By.linkText("血糖")).click();
        assertEquals(1, browser.driver().findElements(By.cssSelector("#trend svg")).size(), "one trend chart, on demand");
        browser.open("/console/patients/" + pt);

        browser.driver().findElement(By.linkText("経過記録を書く")).click();
        browser.fill("/console/notes/save", "s", "3日前から咽頭痛。発熱なし。")
                .fill("/console/notes/save", "o", "咽頭発赤軽度、扁桃腫大なし。")
                .fill("/console/notes/save", "a", "急性咽頭炎")
                .fill("/console/notes/save", "p", "含嗽指導。1週後再診。")
                .submit("下書き保存");
        assertTrue(browser.path().startsWith("/console/documents/"), browser.text());
        String doc = browser.path().substring("/console/documents/".length());
        assertTrue(browser.text().contains("下書き"), browser.text());

        browser.driver().findElement(By.linkText("編集・確定")).click();
        browser.screenshot("clinician-note-form");
        browser.submit("確定保存");
        assertTrue(browser.find("#document").getText().contains("確定"), browser.text());

        browser.driver().findElement(By.linkText("修正（理由が必要）")).click();
        browser.fill("/console/notes/amend", "o", "咽頭発赤軽度、扁桃腫大なし。頸部リンパ節腫脹なし。")
                .fill("/console/notes/amend", "reason", "所見の追記漏れ").submit("修正を保存");
        assertTrue(browser.find("#history").getText().contains("所見の追記漏れ"), browser.text());
        browser.submit("差分を表示");
        assertTrue(browser.find("#diff").getText().contains("頸部リンパ節腫脹なし"), browser.text());
        browser.screenshot("clinician-document-history-diff");

        String hash = browser.find("#document-hash").getText().strip();
        String version = browser.find("#document-version").getText().strip();
        assertEquals("3", version);
        String b64 = (String) browser.js("return fetch('/console/documents/" + doc + "/pdf?v=" + version + "')"
                + ".then(r => r.arrayBuffer()).then(buf => { let s = ''; const a = new Uint8Array(buf);"
                + " for (let i = 0; i < a.length; i++) { s += String.fromCharCode(a[i]); } return btoa(s); });");
        try (PDDocument pdf = Loader.loadPDF(Base64.getDecoder().decode(b64))) {
            String text = new PDFTextStripper().getText(pdf).replaceAll("\\s+", "");
            assertTrue(text.contains("頸部リンパ節腫脹なし") && text.contains("高橋"), text);
            assertTrue(text.contains(hash.substring(0, 16)), "the version hash " + hash + " is printed: " + text);
        }
    }
}
