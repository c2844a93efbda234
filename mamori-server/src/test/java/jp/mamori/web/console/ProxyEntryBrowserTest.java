package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.support.ui.Select;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18 §4 in Chromium at 1280x800, 768x1024 and 390x844: a clerk assisting physicians (医師事務作業補助者) opens
 * the back-entry and proxy-entry forms, enters a note for the department's physician, who finds it on the home page
 * and in the queue and approves it. Every page is kept as a screenshot (target/screenshots/proxy-*); none scrolls
 * sideways at 768 px or wider.
 */
class ProxyEntryBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private static final int[][] SIZES = {{1280, 800}, {768, 1024}, {390, 844}};

    private static String patient(RecordService records) {
        Caller system = Caller.system("proxy-walk");
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000333");
        for (String[] n : new String[][]{{"IDE", "高橋", "節子"}, {"SYL", "タカハシ", "セツコ"}}) {
            HumanName name = new HumanName().setText(n[1] + "\u3000" + n[2]).setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", new CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1944-06-12"));
        String id = records.create(system, p, null, null).stored().id();
        Encounter e = new Encounter();
        e.setStatus(Encounter.EncounterStatus.ARRIVED);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", null));
        e.setServiceType(new CodeableConcept().setText("内科"));
        e.setSubject(new Reference("Patient/" + id));
        e.setPeriod(new Period().setStart(Date.from(Instant.now().minus(1, ChronoUnit.HOURS))));
        records.create(system, e, null, null);
        return id;
    }

    private static void role(TestServer server, UUID account, String role) throws Exception {
        try (java.sql.Connection c = server.superuserConnection(); java.sql.PreparedStatement ps = c.prepareStatement(
                "INSERT INTO role_assignment (assignment_id, account_id, role, department, scope, four_eyes, granted_by,"
                        + " granted_at, approved_by, approved_at) VALUES (?, ?, ?, '内科', 'department', false, ?, now(),"
                        + " ?, now())")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, account);
            ps.setString(3, role);
            ps.setObject(4, account);
            ps.setObject(5, account);
            ps.executeUpdate();
        }
    }

    private static void look(Browser b, String name, int width, List<String> wide) {
        b.screenshot("proxy-" + name + "-" + width);
        long scroll = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
        long client = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
        if (width >= 768 && scroll > client) {
            wide.add(name + "@" + width + ": " + scroll + ">" + client);
        }
    }

    @Test
    void aClerkEntersANoteForThePhysicianWhoApprovesIt() throws Exception {
        TestServer server = console.server();
        Browser b = console.browser();
        String pt = patient(server.server().records());
        UUID doctor = ConsoleSteps.enrolWithCode(b, server, "ishi.proxy", false);
        ConsoleSteps.App doctorApp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        role(server, doctor, "physician");
        ConsoleSteps.logOut(b);

        UUID clerk = ConsoleSteps.enrolWithCode(b, server, "hojo.proxy", false);
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        role(server, clerk, "physician_clerk");
        List<String> wide = new ArrayList<>();
        for (int[] size : SIZES) {
            b.driver().manage().window().setSize(new Dimension(size[0], size[1]));
            b.open("/console/patients/" + pt);
            look(b, "clerk-chart", size[0], wide);
            b.open("/console/patients/" + pt + "/back-entry");
            assertTrue(b.text().contains("停止期間と紙の記録"), b.text());
            look(b, "back-entry-form", size[0], wide);
            b.open("/console/patients/" + pt + "/proxy-entry");
            look(b, "proxy-entry-form", size[0], wide);
        }
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.open("/console/patients/" + pt + "/proxy-entry");
        new Select(b.find("#entry-author")).selectByValue(doctor.toString());
        b.fill("/console/entries/save", "s", "（口述）胸部違和感は消失。").fill("/console/entries/save", "p", "内服継続")
                .submit("承認待ちとして保存");
        assertTrue(b.path().startsWith("/console/documents/"), b.text());
        String doc = b.path().substring("/console/documents/".length());
        assertTrue(b.find("#entry-marks").getText().contains("承認待ち"), b.text());
        look(b, "clerk-document", 1280, wide);
        b.open("/console/proxy");
        assertTrue(b.find("#proxy-mine").getText().contains("高橋"), b.text());
        look(b, "clerk-queue", 1280, wide);
        ConsoleSteps.logOut(b);

        ConsoleSteps.logInWithCode(b, "ishi.proxy", doctorApp.nextCodeInWindow());
        for (int[] size : SIZES) {
            b.driver().manage().window().setSize(new Dimension(size[0], size[1]));
            b.open("/console/home");
            assertTrue(b.find("#worklist-proxy").getText().contains("高橋"), b.text());
            look(b, "physician-home", size[0], wide);
            b.open("/console/proxy");
            look(b, "physician-queue", size[0], wide);
            b.open("/console/documents/" + doc);
            assertTrue(b.text().contains("胸部違和感は消失"), b.text());
            look(b, "physician-document", size[0], wide);
        }
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.submit("承認して確定");
        assertEquals("/console/documents/" + doc, b.path(), b.text());
        assertTrue(b.find("#entry-marks").getText().contains("に承認"), b.text());
        assertTrue(b.driver().findElements(By.id("approve-form")).isEmpty());
        look(b, "physician-approved", 1280, wide);
        assertTrue(wide.isEmpty(), "pages that scroll sideways: " + wide);
    }
}
