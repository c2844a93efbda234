package jp.mamori.web.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.support.ui.Select;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JP-CLINS document pages in a real Chromium (issue 23), walked as a physician caring for the patient: from the
 * chart to the referral letter's form, a missing purpose refused in Japanese, the preview with the chart's conditions
 * and allergies and typed markup shown as text, finalization, the stored document and its download as a FHIR Document
 * Bundle; the discharge summary refused without its stay; a patient the person may not see refused. Screenshots at
 * 1280, 820 and 390 px (target/screenshots/clins-*.png).
 */
class ClinsBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void aPhysicianWritesAReferralLetterFromTheChart() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "ishi.clins");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        UUID me = (UUID) one("SELECT account_id FROM account WHERE login_id = 'ishi.clins'");
        Caller sys = Caller.system("test");
        var records = console.server().server().records();
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9300000001");
        p.addName().setFamily("鈴木").addGiven("一郎").setText("鈴木\u3000一郎");
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1958-02-11"));
        String patient = records.create(sys, p, null, null).stored().id();
        Encounter e = new Encounter().setStatus(Encounter.EncounterStatus.FINISHED)
                .setClass_(new org.hl7.fhir.r4.model.Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP",
                        "inpatient encounter")).setSubject(new Reference("Patient/" + patient));
        e.getPeriod().setStartElement(new DateTimeType("2026-11-02T09:00:00+09:00"))
                .setEndElement(new DateTimeType("2026-11-12T10:00:00+09:00"));
        String stay = records.create(sys, e, null, null).stored().id();
        Condition c = new Condition().setSubject(new Reference("Patient/" + patient));
        c.getCode().setText("2型糖尿病");
        records.create(sys, c, null, null);
        AllergyIntolerance a = new AllergyIntolerance().setPatient(new Reference("Patient/" + patient));
        a.getCode().setText("造影剤");
        records.create(sys, a, null, null);
        ConsoleSteps.physicianFor(console.server(), me, patient);

        // from the chart to the form
        b.open("/console/patients/" + patient);
        b.find("#write-clins").click();
        assertEquals("/console/clins/new", b.path());
        assertTrue(b.text().contains("診療情報提供書の作成") && b.text().contains("鈴木"), b.text());
        Screens.check(b, "clins-form");
        ConsoleSteps.shoot(b, 820, 1180, "clins-form-820");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));

        // a missing purpose: refused in Japanese, what was typed kept
        b.fill("/console/clins/preview", "to_institution", "みなと循環器クリニック");
        b.js("document.getElementById('clins-t_950').removeAttribute('required');");
        b.submit("内容を確認する");
        assertEquals(400, b.status());
        assertTrue(b.text().contains("紹介目的を入力してください"), b.text());
        assertEquals("みなと循環器クリニック", b.find("#clins-to-institution").getAttribute("value"));

        // the preview
        new Select(b.find("#clins-encounter")).selectByValue(stay);
        b.fill("/console/clins/preview", "t_950", "血糖コントロールのご相談です。<b>太字</b>");
        b.fill("/console/clins/preview", "t_360", "10年前から2型糖尿病で通院中。");
        b.submit("内容を確認する");
        assertEquals("/console/clins/preview", b.path());
        String preview = b.text();
        assertTrue(preview.contains("紹介先情報") && preview.contains("みなと循環器クリニック")
                && preview.contains("紹介目的") && preview.contains("2型糖尿病") && preview.contains("造影剤"), preview);
        assertTrue(preview.contains("<b>太字</b>"), "typed markup is shown as text: " + preview);
        Screens.check(b, "clins-preview");
        ConsoleSteps.shoot(b, 820, 1180, "clins-preview-820");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));

        // finalize: stored, shown, downloadable
        b.submit("確定して保存する");
        assertEquals("/console/clins/document", b.path());
        assertTrue(b.text().contains("署名なし") && b.text().contains("血糖コントロールのご相談です。"), b.text());
        Screens.check(b, "clins-document");
        ConsoleSteps.shoot(b, 820, 1180, "clins-document-820");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));
        String href = b.find("#clins-download").getAttribute("href");
        String json = (String) b.driver().executeAsyncScript("var done = arguments[arguments.length - 1];"
                + " fetch(arguments[0]).then(r => r.text()).then(done);", href);
        JsonNode bundle = new ObjectMapper().readTree(json);
        assertEquals("document", bundle.get("type").asText());
        assertEquals("Composition", bundle.get("entry").get(0).get("resource").get("resourceType").asText());
        assertTrue(json.contains("みなと循環器クリニック") && json.contains("鈴木"), json);
        assertEquals(1L, ((Number) one("SELECT count(*) FROM audit_entry WHERE action = 'clins.export'")).longValue());

        // the discharge summary needs its stay
        b.open("/console/clins/new?patient=" + patient + "&kind=discharge");
        assertTrue(b.text().contains("退院時サマリーの作成"), b.text());
        b.fill("/console/clins/preview", "t_333", "インスリン導入し血糖改善。");
        b.fill("/console/clins/preview", "t_424", "外来で継続加療。");
        b.submit("内容を確認する");
        assertEquals(400, b.status());
        assertTrue(b.text().contains("退院時サマリーには入院"), b.text());

        // a patient the person may not see: refused, nothing told
        b.open("/console/clins/new?patient=" + UUID.randomUUID());
        assertEquals(403, b.status());
        assertFalse(b.text().contains("Exception"), b.text());
    }

    private static Object one(String sql) throws Exception {
        try (java.sql.Connection c = console.server().superuserConnection();
             java.sql.ResultSet rs = c.createStatement().executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }
}
