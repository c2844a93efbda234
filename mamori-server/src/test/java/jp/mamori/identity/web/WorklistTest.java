package jp.mamori.identity.web;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Date;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The home page is a worklist (issue 22): today's patients in the person's departments and wards, their own drafts,
 * their assigned patients and the ones they opened recently; only what the access model lets them see, and the
 * view is an audit entry naming the patients it showed. Administrators see badges for what waits for them.
 */
class WorklistTest {
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    private static void encounter(RecordService records, String patient, String department, String ward,
                                  Encounter.EncounterStatus status, boolean inpatient, Instant start, Instant end) {
        Encounter e = new Encounter();
        e.setStatus(status);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", inpatient ? "IMP" : "AMB", null));
        e.setServiceType(new CodeableConcept().setText(department));
        e.setSubject(new Reference("Patient/" + patient));
        Period p = new Period().setStart(Date.from(start));
        if (end != null) {
            p.setEnd(Date.from(end));
        }
        e.setPeriod(p);
        if (ward != null) {
            e.addLocation().setLocation(new Reference().setDisplay(ward));
        }
        records.create(Caller.system("worklist-test"), e, null, null);
    }

    @Test
    void todaysPatientsOfMyDepartmentMyDraftsAndMyPatientsAndNothingElse() throws Exception {
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            RecordService records = h.server.server().records();
            Instant morning = LocalDate.now(JST).atTime(9, 30).atZone(JST).toInstant();
            String arrived = clinic.patient("9100000001", "青木", "健", "アオキ", "ケン", "1961-05-03", "male");
            String admitted = clinic.patient("9100000002", "石井", "由美", "イシイ", "ユミ", "1949-11-20", "female");
            String surgery = clinic.patient("9100000003", "上田", "翔", "ウエダ", "ショウ", "1990-01-15", "male");
            String lastMonth = clinic.patient("9100000004", "江藤", "涼子", "エトウ", "リョウコ", "1975-07-07", "female");
            String assigned = clinic.patient("9100000005", "大野", "誠", "オオノ", "マコト", "1980-03-03", "male");
            encounter(records, arrived, "内科", null, Encounter.EncounterStatus.ARRIVED, false, morning, null);
            encounter(records, admitted, "内科", "4階東病棟", Encounter.EncounterStatus.INPROGRESS, true,
                    morning.minus(3, ChronoUnit.DAYS), null);
            encounter(records, surgery, "外科", null, Encounter.EncounterStatus.ARRIVED, false, morning, null);
            encounter(records, lastMonth, "内科", null, Encounter.EncounterStatus.FINISHED, false,
                    morning.minus(30, ChronoUnit.DAYS), morning.minus(30, ChronoUnit.DAYS).plusSeconds(1200));

            Person doctor = h.enrolStaff("ishi.w", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, assigned);
            Browser b = doctor.browser;

            Browser.Page home = b.get("/console/home");
            assertEquals(200, home.status(), home::toString);
            String today = section(home.body(), "worklist-today");
            assertTrue(today.contains("青木") && today.contains("アオキ") && today.contains("9100000001")
                    && today.contains("受付済") && today.contains("09:30"), today);
            assertTrue(today.contains("石井") && today.contains("入院中") && today.contains("4階東病棟"), today);
            assertTrue(today.contains("href=\"/console/patients/" + arrived + "\""), today);
            assertFalse(today.contains("上田"), "another department's patient is not on my list: " + today);
            assertFalse(today.contains("江藤"), "last month's patient is not today's: " + today);
            assertFalse(today.replaceAll("href=\"[^\"]*\"", "").contains(arrived), "no internal id as text: " + today);
            assertTrue(section(home.body(), "worklist-mine").contains("大野"), home::toString);
            assertFalse(home.contains("id=\"worklist-drafts\""), "no drafts yet");

            // the worklist view is itself an access: one search entry naming the patients it showed
            String actor = "account:" + doctor.accountId;
            Long worklistEntries = h.one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'search'"
                    + " AND ? = ANY(patients) AND ? = ANY(patients) AND NOT (? = ANY(patients))", actor, arrived,
                    admitted, surgery);
            assertEquals(1L, (long) worklistEntries);

            // a draft of mine waits on the home page until I finalize it; the chart I opened is among the recent
            b.get("/console/patients/" + arrived);
            b.get("/console/patients/" + arrived + "/notes/new");
            Browser.Page draft = b.submit("/console/notes/save", "s", "咳が続く。", "o", "", "a", "", "p", "",
                    "op", "draft");
            assertTrue(draft.path().startsWith("/console/documents/"), draft::toString);
            String doc = draft.path().substring("/console/documents/".length());
            home = b.get("/console/home");
            String drafts = section(home.body(), "worklist-drafts");
            assertTrue(drafts.contains("href=\"/console/documents/" + doc + "\"") && drafts.contains("青木"), drafts);
            assertTrue(section(home.body(), "worklist-recent").contains("青木"), home::toString);

            // a nurse of the surgical department sees surgery's patient, not medicine's, and not my draft
            Person nurse = h.enrolStaff("kango.s", "外科", "qualification", "nurse", "licence_nurse", "654321");
            clinic.role(nurse.accountId, "nurse", "外科");
            Browser.Page nurseHome = nurse.browser.get("/console/home");
            String nurseToday = section(nurseHome.body(), "worklist-today");
            assertTrue(nurseToday.contains("上田"), nurseToday);
            assertFalse(nurseToday.contains("青木") || nurseToday.contains("石井"), nurseToday);
            assertFalse(nurseHome.contains("id=\"worklist-drafts\""), nurseHome::toString);

            // an administrator without clinical roles has no worklist, but sees what waits for them: a clinical role
            // they gave themselves waits for a second administrator
            Browser.Page adminHome = h.admin.browser.get("/console/home");
            assertFalse(adminHome.contains("id=\"worklist-today\""), adminHome::toString);
            assertFalse(adminHome.contains("承認・確認待ちの役割の付与"), "no role waits yet: " + adminHome);
            h.admin.browser.get("/console/admin/account/roles?id=" + h.admin.accountId);
            h.adminSubmit("/console/admin/account/roles/assign", "role", "physician", "department", "内科", "scope", "");
            adminHome = h.admin.browser.get("/console/home");
            String waiting = section(adminHome.body(), "waiting");
            assertTrue(waiting.contains("<a href=\"/console/admin/access\"><span class=\"badge\">1</span> 承認・確認待ちの役割の付与</a>"),
                    waiting);
            // the test server runs with deviations (no time-stamping authority, an unknown host clock): counted too
            assertTrue(waiting.contains("href=\"/console/home#deviations\"") && waiting.contains("安全な既定値からの逸脱"),
                    waiting);
            assertFalse(section(doctor.browser.get("/console/home").body(), "worklist-today").isEmpty());
            assertFalse(doctor.browser.get("/console/home").contains("id=\"waiting\""), "no admin badges for a physician");
        }
    }

    /** The HTML of the section with {@code id} (up to its closing tag); fails when the page has none. */
    static String section(String html, String id) {
        int at = html.indexOf("id=\"" + id + "\"");
        assertTrue(at >= 0, "no section " + id + " in " + html);
        int end = html.indexOf("</section>", at);
        return html.substring(at, end < 0 ? html.length() : end);
    }
}
