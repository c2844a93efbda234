package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.MaintenanceException;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A work order that approved patient data (issue 19; MAINT-2, MAINT-8, ACCESS-6): inside its window the vendor reads
 * the charts of the patients it names (by 患者ID), purpose maintenance, with the work order in each entry; no other
 * patient, not even in a search; nothing written; no printout unless the work order also approved taking data out;
 * a work order without patient data reaches no chart at all.
 */
class MaintenancePatientDataTest {
    private static Hospital h;
    private static String approvedPatient;
    private static String otherPatient;
    private static int vendorNo;
    private static final Actor ADMIN = Actor.person("account:kanri.pd", "管理 三郎", List.of("admin"), null,
            "127.0.0.1", null);

    @BeforeAll
    static void open() {
        h = Hospital.open();
        Clinic clinic = new Clinic(h);
        approvedPatient = clinic.patient("7000000101", "試験", "一郎", "シケン", "イチロウ", "1960-04-01", "male");
        clinic.allergy(approvedPatient, "ペニシリン系薬剤");
        otherPatient = clinic.patient("7000000102", "秘密", "花子", "ヒミツ", "ハナコ", "1970-05-02", "female");
        clinic.allergy(otherPatient, "ヨード造影剤");
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors vendors = h.server.server().workOrders().vendors();
        vendorNo = vendors.saveVendor(ADMIN, null, WorkOrdersTest.vendorFields("株式会社カルテ保守", today.minusDays(1),
                today.plusYears(1))).entry();
        vendors.addRoute(ADMIN, vendorNo, Map.of("name", "保守回線", "sources", "127.0.0.1/32", "reaches", "電子カルテ"));
    }

    @AfterAll
    static void close() {
        h.close();
    }

    /** A vendor staff member, enrolled, with an approved one-hour job from now on the loopback line. */
    private static Person staffWithJob(String stem, boolean patientData, boolean export, List<String> patients) {
        Account a = WorkOrdersTest.vendorAccount(h, stem);
        var accounts = h.server.server().identity().accounts();
        accounts.reactivate(a.id(), "保守作業のため", "test:admin");
        WorkOrders orders = h.server.server().workOrders();
        orders.vendors().addStaff(ADMIN, vendorNo, a.loginId());
        Person p = h.enrolWithCode(a.loginId(), a.id(), accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1),
                "test:admin"));
        Instant now = Instant.now();
        String no = orders.file(ADMIN, UUID.randomUUID(), new WorkOrders.NewRequest(vendorNo, List.of(a.id()),
                "電子カルテ", "更新後の表示確認", patientData, export, patientData || export ? "表示の確認のため" : null, now,
                now.plus(Duration.ofHours(1)), "127.0.0.1", patients)).number();
        orders.approve(ADMIN, UUID.randomUUID(), no);
        if (patientData || export) {
            orders.approve(ADMIN, UUID.randomUUID(), no);
        }
        return p;
    }

    @Test
    void theApprovedPatientOnlyReadOnlyAndNoPrintout() {
        Person v = staffWithJob("pd.read", true, false, List.of("7000000101"));
        Browser b = v.browser;
        Browser.Page home = b.get("/console/home");
        assertTrue(home.contains("患者ID 7000000101 のカルテ") && home.contains("/console/patients/" + approvedPatient),
                home::body);
        assertFalse(home.contains("7000000102"));

        Browser.Page chart = b.get("/console/patients/" + approvedPatient);
        assertEquals(200, chart.status(), chart::toString);
        assertTrue(chart.contains("ペニシリン系薬剤") && chart.contains("7000000101"), chart::body);
        assertFalse(chart.contains("id=\"print-summary\""), "no printout offered without approval to take data out");
        String no = h.one("SELECT convert_from(entry, 'UTF8')::jsonb #>> '{detail,workOrder}' FROM audit_entry WHERE"
                + " actor = ? AND action = 'read' AND outcome = 'success' AND ? = ANY(patients) ORDER BY seq DESC LIMIT 1",
                "account:" + v.accountId, approvedPatient);
        assertTrue(no != null && no.matches("\\d{4}-\\d{4}"), "the read names the work order: " + no);
        assertEquals("maintenance", h.one("SELECT purpose FROM audit_entry WHERE actor = ? AND action = 'read' AND"
                + " ? = ANY(patients) ORDER BY seq DESC LIMIT 1", "account:" + v.accountId, approvedPatient));

        Browser.Page other = b.get("/console/patients/" + otherPatient);
        assertEquals(403, other.status());
        assertFalse(other.contains("秘密") || other.contains("ヨード造影剤"), "nothing of another patient");
        assertFalse(other.contains("id=\"break-glass-offer\""), "no break-glass for a vendor");

        b.get("/console/patients");
        Browser.Page search = b.submit("/console/patients", "name", "ひみつ");
        assertEquals(200, search.status(), search::toString);
        assertFalse(search.contains("/console/patients/" + otherPatient), "a search shows no other patient");
        Browser.Page notMine = b.submit("/console/patients", "identifier", "7000000102");
        assertTrue(notMine.contains("id=\"no-results\"") && !notMine.contains("id=\"break-glass-offer\""),
                notMine::body);
        Browser.Page mine = b.submit("/console/patients", "identifier", "7000000101");
        assertTrue(mine.contains("/console/patients/" + approvedPatient), mine::body);

        Browser.Page pdf = b.get("/console/patients/" + approvedPatient + "/summary.pdf");
        assertEquals(403, pdf.status());
        assertTrue(pdf.contains("印刷・出力（データの持ち出し）が承認されていません"), pdf::body);
        // nothing is written: the clinicians' forms are not the vendor's
        Browser.Page write = b.post("/console/notes/save", Map.of("csrf", chart.csrf(), "patient", approvedPatient,
                "subjective", "保守"), Map.of());
        assertEquals(403, write.status());
        assertEquals(0L, h.<Long>one("SELECT count(*) FROM resource_version WHERE author = ?",
                "account:" + v.accountId));
    }

    @Test
    void aPrintoutOnlyWhenTakingDataOutWasApproved() {
        Person v = staffWithJob("pd.export", true, true, List.of("7000000101"));
        assertTrue(v.browser.get("/console/patients/" + approvedPatient).contains("id=\"print-summary\""));
        Browser.Page pdf = v.browser.get("/console/patients/" + approvedPatient + "/summary.pdf");
        assertEquals(200, pdf.status(), pdf::toString);
        assertTrue(pdf.response().headers().firstValue("Content-Type").orElse("").startsWith("application/pdf"));
    }

    @Test
    void withoutPatientDataNoChartAndPatientsAreNamedOnlyWithIt() {
        Person v = staffWithJob("pd.none", false, false, List.of());
        Browser.Page chart = v.browser.get("/console/patients/" + approvedPatient);
        assertEquals(403, chart.status());
        assertTrue(chart.contains("保守作業では、この画面は使えません"), chart::body);
        WorkOrders orders = h.server.server().workOrders();
        Instant start = Instant.now().plus(Duration.ofDays(2));
        String refused = assertThrows(MaintenanceException.class, () -> orders.file(ADMIN, UUID.randomUUID(),
                new WorkOrders.NewRequest(vendorNo, List.of(v.accountId), "DB", "索引", false, false, null, start,
                        start.plus(Duration.ofHours(1)), "127.0.0.1", List.of("7000000101")))).getMessage();
        assertTrue(refused.startsWith("対象患者を指定するときは"), refused);
        assertTrue(assertThrows(MaintenanceException.class, () -> WorkOrders.patients("7000000101 '; DROP TABLE x"))
                .getMessage().startsWith("対象患者は患者ID"));
        assertEquals(List.of("7000000101", "7000000102"), WorkOrders.patients("7000000101、７００００００１０２\n"));
    }
}
