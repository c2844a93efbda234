package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22: the clinician's daily walk in Chromium, as a physician and then as a nurse, at 1280x800, 768x1024 and
 * 390x844: search (narrowed) → chart → cumulative results → one trend → note form → document history. Every page
 * is kept as a screenshot (target/screenshots/walk-*), none scrolls sideways at 768 px or wider, the note form's
 * text areas use the width, and the nurse is not offered what she may not do.
 */
class ClinicalWalkBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private static final int[][] SIZES = {{1280, 800}, {768, 1024}, {390, 844}};

    private static String patient(RecordService records) {
        Caller system = Caller.system("walk-test");
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000222");
        for (String[] n : new String[][]{{"IDE", "渡辺", "美咲"}, {"SYL", "ワタナベ", "ミサキ"}}) {
            HumanName name = new HumanName().setText(n[1] + "\u3000" + n[2]).setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", new CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1961-03-02"));
        String id = records.create(system, p, null, null).stored().id();
        Reference subject = new Reference("Patient/" + id);
        AllergyIntolerance a = new AllergyIntolerance();
        a.setCode(new CodeableConcept().setText("造影剤（ヨード）"));
        a.setCriticality(AllergyIntolerance.AllergyIntoleranceCriticality.HIGH);
        a.addReaction().setSeverity(AllergyIntolerance.AllergyIntoleranceSeverity.SEVERE)
                .addManifestation(new CodeableConcept().setText("呼吸困難"));
        a.setPatient(subject);
        records.create(system, a, null, null);
        MedicationRequest m = new MedicationRequest();
        m.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
        m.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        m.setMedication(new CodeableConcept().setText("メトホルミン塩酸塩錠250mg"));
        m.addDosageInstruction().setText("1回2錠 1日2回 朝夕食後");
        m.setSubject(subject);
        records.create(system, m, null, null);
        String[][] labs = {{"4548-4", "HbA1c", "%", "4.6", "6.2"}, {"2345-7", "血糖", "mg/dL", "73", "109"},
                {"1742-6", "ALT", "U/L", "10", "42"}, {"2160-0", "クレアチニン", "mg/dL", "0.46", "0.79"}};
        double[][] values = {{7.4, 7.1, 6.9, 6.6, 6.4, 6.3, 6.1, 6.0}, {142, 131, 120, 118, 104, 99, 112, 96},
                {44, 38, 35, 31, 27, 29, 25, 22}, {0.71, 0.74, 0.78, 0.81, 0.8, 0.83, 0.86, 0.85}};
        for (int i = 0; i < 8; i++) {
            Instant at = Instant.now().minus(30L * (8 - i), ChronoUnit.DAYS);
            Encounter e = new Encounter();
            e.setStatus(Encounter.EncounterStatus.FINISHED);
            e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", null));
            e.setServiceType(new CodeableConcept().setText("内科"));
            e.setSubject(subject);
            e.setPeriod(new Period().setStart(Date.from(at)).setEnd(Date.from(at.plusSeconds(1200))));
            records.create(system, e, null, null);
            for (int k = 0; k < labs.length; k++) {
                Observation o = new Observation();
                o.setStatus(Observation.ObservationStatus.FINAL);
                o.setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", labs[k][0], labs[k][1]))
                        .setText(labs[k][1]));
                o.setSubject(subject);
                o.setEffective(new DateTimeType(Date.from(at)));
                o.setValue(new Quantity().setValue(values[k][i]).setUnit(labs[k][2]));
                o.addReferenceRange().setLow(new Quantity().setValue(Double.parseDouble(labs[k][3])))
                        .setHigh(new Quantity().setValue(Double.parseDouble(labs[k][4])));
                records.create(system, o, null, null);
            }
        }
        return id;
    }

    /** Gives {@code account} a role in 内科 and a care relationship with the patient, as the database owner would. */
    private static void nurseFor(TestServer server, UUID account, String patientId) throws Exception {
        try (java.sql.Connection c = server.superuserConnection()) {
            c.createStatement().executeUpdate("INSERT INTO role_assignment (assignment_id, account_id, role, department,"
                    + " scope, four_eyes, granted_by, granted_at, approved_by, approved_at) VALUES ('" + UUID.randomUUID()
                    + "', '" + account + "', 'nurse', '内科', 'department', false, '" + account + "', now(), '" + account
                    + "', now())");
            c.createStatement().executeUpdate("INSERT INTO care_assignment (care_id, account_id, patient_id, kind,"
                    + " department, valid_from, added_by, added_at) VALUES ('" + UUID.randomUUID() + "', '" + account
                    + "', '" + patientId + "', 'assignment', '内科', now() - interval '1 day', '" + account + "', now())");
        }
    }

    /** Screenshot at this size, and no sideways scrolling from 768 px up. */
    private static void look(Browser b, String name, int width, List<String> wide) {
        b.screenshot("walk-" + name + "-" + width);
        long scroll = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
        long client = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
        if (width >= 768 && scroll > client) {
            wide.add(name + "@" + width + ": " + scroll + ">" + client);
        }
    }

    @Test
    void aPhysicianAndANurseWalkTheirPagesAtThreeWidths() throws Exception {
        TestServer server = console.server();
        Browser b = console.browser();
        String pt = patient(server.server().records());
        UUID doctor = ConsoleSteps.enrolWithCode(b, server, "ishi.walk", false);
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        ConsoleSteps.physicianFor(server, doctor, pt);

        // A note with a history: draft, finalized, amended.
        b.open("/console/patients/" + pt + "/notes/new");
        b.fill("/console/notes/save", "s", "口渇・多尿なし。食事療法を継続している。\n間食は週2回程度。")
                .fill("/console/notes/save", "o", "BP 132/78, BW 61.2kg").fill("/console/notes/save", "a", "2型糖尿病 改善傾向")
                .fill("/console/notes/save", "p", "メトホルミン継続。3か月後 HbA1c 再検。").submit("確定保存");
        String doc = b.path().substring("/console/documents/".length());
        b.driver().findElement(By.linkText("修正（理由が必要）")).click();
        b.fill("/console/notes/amend", "o", "BP 132/78, BW 61.2kg, 足背動脈触知良好")
                .fill("/console/notes/amend", "reason", "所見の追記").submit("修正を保存");
        assertTrue(b.find("#history").getText().contains("修正"), b.text());

        List<String> wide = new ArrayList<>();
        for (int[] size : SIZES) {
            b.driver().manage().window().setSize(new Dimension(size[0], size[1]));
            int w = size[0];
            b.open("/console/patients");
            b.fill("/console/patients", "name", "わたなべ").fill("/console/patients", "department", "内科").submit("検索");
            assertTrue(b.find("#results").getText().contains("9000000222"), b.text());
            look(b, "physician-search", w, wide);
            b.open("/console/patients/" + pt);
            assertTrue(b.text().contains("外来 内科") && b.text().contains("高"), b.text());
            look(b, "physician-chart", w, wide);
            b.driver().findElement(By.id("results-link")).click();
            assertTrue(b.find("#cumulative-table").getText().contains("7.4 H"), b.text());
            look(b, "physician-results", w, wide);
            b.driver().findElement(By.linkText("HbA1c")).click();
            assertEquals(1, b.driver().findElements(By.cssSelector("#trend svg")).size());
            look(b, "physician-trend", w, wide);
            b.open("/console/patients/" + pt + "/notes/new");
            long area = ((Number) b.js("return document.getElementById('soap-s').getBoundingClientRect().width;")).longValue();
            long main = ((Number) b.js("const m = document.querySelector('main'); const s = getComputedStyle(m);"
                    + " return m.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);")).longValue();
            assertTrue(area >= main - 4, "the text area uses the page's width: " + area + " of " + main);
            look(b, "physician-note-form", w, wide);
            b.open("/console/documents/" + doc);
            look(b, "physician-document-history", w, wide);
        }

        ConsoleSteps.logOut(b);
        UUID nurse = ConsoleSteps.enrolWithCode(b, server, "kango.walk", false);
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        nurseFor(server, nurse, pt);
        for (int[] size : SIZES) {
            b.driver().manage().window().setSize(new Dimension(size[0], size[1]));
            int w = size[0];
            b.open("/console/patients/" + pt);
            assertTrue(b.driver().findElements(By.linkText("経過記録を書く")).isEmpty(), "no note writing for a nurse");
            look(b, "nurse-chart", w, wide);
            b.open("/console/documents/" + doc);
            assertTrue(b.text().contains("足背動脈触知良好"), b.text());
            assertTrue(b.driver().findElements(By.linkText("修正（理由が必要）")).isEmpty(), "no 修正 for a nurse");
            assertTrue(b.driver().findElements(By.id("print-document")).isEmpty(), "no printing a physician's note");
            look(b, "nurse-document", w, wide);
        }
        assertTrue(wide.isEmpty(), "pages that scroll sideways: " + wide);
    }
}
