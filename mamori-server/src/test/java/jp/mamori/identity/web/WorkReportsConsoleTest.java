package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.ResourceRef;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.MaintenanceException;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.maintenance.WorkReports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The work report, the live view and ending a job at once over HTTP (issue 19; MAINT-3, MAINT-4, MAINT-5, MAINT-9,
 * MAINT-13): the report is generated from the entries that carry the work order (and from no other job's); the job's
 * staff member submits it, the administrator returns it, the vendor submits again, the administrator approves; a
 * staff member cannot approve, another vendor gets "not found", a clinician gets 403 everywhere; a late report is
 * listed; ending a job at once ends its window and its staff's sessions; CSRF, oversized and hostile text.
 */
class WorkReportsConsoleTest {
    private static Hospital h;
    private static WorkOrders orders;
    private static WorkReports reports;
    private static Person vendor;
    private static Person vendor2;
    private static Person otherVendor;
    private static int vendorNo;
    private static String reportNo;
    private static String otherNo;
    private static final Actor ADMIN = Actor.person("account:test", "試験 管理", List.of("admin"), null, "127.0.0.1",
            null);

    @BeforeAll
    static void open() {
        h = Hospital.open();
        orders = h.server.server().workOrders();
        reports = h.server.server().workReports();
        Vendors vendors = orders.vendors();
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors.Entry v = vendors.saveVendor(ADMIN, null, WorkOrdersTest.vendorFields("株式会社報告保守",
                today.minusDays(1), today.plusYears(1)));
        vendorNo = v.entry();
        vendors.addRoute(ADMIN, vendorNo, Map.of("name", "保守端末", "sources", "127.0.0.1/32", "reaches", "電子カルテ"));
        vendor = enrolledStaff("hoshu.rep", vendorNo);
        vendor2 = enrolledStaff("hoshu.end", vendorNo);
        Vendors.Entry o = vendors.saveVendor(ADMIN, null, WorkOrdersTest.vendorFields("他社保守", today.minusDays(1),
                today.plusYears(1)));
        vendors.addRoute(ADMIN, o.entry(), Map.of("name", "回線", "sources", "127.0.0.1/32", "reaches", "DB"));
        otherVendor = enrolledStaff("hoshu.oth", o.entry());

        // two running jobs, approved: this vendor's (the report) and the other vendor's (its entries must stay out)
        reportNo = runningJob(vendorNo, vendor.accountId);
        otherNo = runningJob(o.entry(), otherVendor.accountId);
        AuditRecorder audit = h.server.server().audit().recorder();
        Actor who = Actor.person("account:" + vendor.loginId, "保守 一郎", List.of("vendor_engineer"), null,
                "127.0.0.1", null);
        audit.append(AuditEvent.by(who, AuditAction.READ).detail("workOrder", reportNo)
                .patient(PatientRef.of("p-report-1")).resource(ResourceRef.of("Observation", "o-1")).build());
        audit.append(AuditEvent.by(who, AuditAction.EXPORT).detail("workOrder", reportNo)
                .resource(ResourceRef.type("Patient")).build());
        audit.append(AuditEvent.by(who, AuditAction.UPDATE).outcome(Outcome.REFUSED).detail("workOrder", reportNo)
                .build());
        audit.append(AuditEvent.by(who, AuditAction.CLOCK_CHECK).detail("workOrder", otherNo).build());
        audit.append(AuditEvent.by(who, AuditAction.CLOCK_CHECK).build());
        // the job ends (here behind the pages: the HTTP route is tested with the second job below)
        orders.endNow(ADMIN, reportNo, "作業完了の連絡を受けたため");
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static Person enrolledStaff(String stem, int vendorEntry) {
        Account a = WorkOrdersTest.vendorAccount(h, stem);
        var accounts = h.server.server().identity().accounts();
        accounts.reactivate(a.id(), "保守作業のため", "test:admin");
        orders.vendors().addStaff(ADMIN, vendorEntry, a.loginId());
        return h.enrolWithCode(a.loginId(), a.id(), accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1),
                "test:admin"));
    }

    private static String runningJob(int vendorEntry, UUID staff) {
        Instant start = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        String no = orders.file(ADMIN, UUID.randomUUID(), new WorkOrders.NewRequest(vendorEntry, List.of(staff),
                "電子カルテ", "OS更新", false, false, null, start, start.plus(Duration.ofHours(3)), "127.0.0.1"))
                .number();
        orders.approve(ADMIN, UUID.randomUUID(), no);
        return no;
    }

    /**
     * A vendor's page from their vendor desk: signed in again when the window's end ended the session (the gate ends
     * a session admitted into a window when the window ends; the maintenance pages stay open to the vendor).
     */
    private static Browser.Page desk(Person p, String path) {
        Browser.Page page = p.browser.get(path);
        if (page.path().startsWith("/console/login")) {
            p.logIn();
            page = p.browser.get(path);
        }
        return page;
    }

    /** The report page once the trail has taken the three entries in (written after the durable point). */
    private static Browser.Page reportWhenDerived(Person v) {
        Browser.Page p = desk(v, "/console/maintenance/report?no=" + reportNo);
        for (int i = 0; i < 100 && !p.contains("拒否・失敗した操作</dt><dd>1件"); i++) {
            Browser.sleep(100);
            p = desk(v, "/console/maintenance/report?no=" + reportNo);
        }
        return p;
    }

    @Test
    void theReportIsGeneratedSubmittedReturnedSubmittedAgainAndApproved() {
        Browser b = vendor.browser;
        Browser.Page page = reportWhenDerived(vendor);
        assertEquals(200, page.status(), page::toString);
        // generated from the trail: this job's three entries, none of the other job's nor an unmarked one
        assertTrue(page.contains("操作の記録</dt><dd>4件"), page::toString); // the three and the early end
        assertTrue(page.contains("持ち出し（出力・印刷）</dt><dd>1件") && page.contains("扱った患者</dt><dd>1人"),
                page::toString);
        assertTrue(page.contains("id=\"report-exports\"") && page.contains("id=\"report-refused\""));
        assertTrue(page.contains("保守作業の即時終了") && page.contains("作業完了の連絡を受けたため"), "the early end");
        assertFalse(page.contains("時刻同期の確認"), "no other job's or unmarked entry");
        assertFalse(page.contains("p-report-1") || page.contains("o-1<"), "no raw ids");
        assertTrue(page.contains("未提出") && page.contains("id=\"submit-form\""), page::toString);
        assertFalse(page.contains("id=\"report-approve-form\""), "the vendor does not approve");

        // oversized text: one message, the typed text kept; hostile text is shown as text
        Browser.Page tooLong = b.submit("/console/maintenance/report/submit", "results", "長".repeat(4001), "done",
                "<script>alert(1)</script>OS更新", "open_issues", "なし");
        assertEquals(400, tooLong.status());
        assertEquals("作業結果が長すぎます（4000文字まで） / results is too long (at most 4000 characters)",
                tooLong.error());
        assertTrue(tooLong.contains("長".repeat(4000)) && tooLong.contains("&lt;script&gt;alert(1)&lt;/script&gt;OS更新"));
        assertFalse(tooLong.contains("<script>alert(1)"));
        Browser.Page submitted = b.submit("/console/maintenance/report/submit", "results", "正常に完了", "done",
                "OSのセキュリティ更新を適用し再起動", "open_issues", "なし");
        assertEquals("/console/maintenance/report", submitted.path(), submitted::toString);
        assertTrue(submitted.contains("作業報告を提出しました") && submitted.contains("提出済み・承認待ち"));
        assertEquals(403, b.post("/console/maintenance/report/approve", Map.of("no", reportNo, "csrf",
                submitted.csrf()), Map.of()).status(), "a vendor never approves");
        String staffRefusal = assertThrows(MaintenanceException.class, () -> reports.approve(ADMIN,
                vendor.accountId, reportNo)).getMessage();
        assertTrue(staffRefusal.startsWith("この作業の作業者は作業報告を承認・差戻しできません"), staffRefusal);

        // the administrator: waiting on the home page, returned with a reason (step-up), no reason refused
        assertTrue(h.admin.browser.get("/console/home").contains("承認待ちの作業報告"));
        h.admin.browser.get("/console/maintenance/report?no=" + reportNo);
        Browser.Page noReason = h.adminSubmit("/console/maintenance/report/return", "reason", " ");
        assertEquals(400, noReason.status());
        assertEquals("差戻しの理由を入力してください / enter the reason for returning", noReason.error());
        Browser.Page returned = h.adminSubmit("/console/maintenance/report/return", "reason", "再起動の時刻を記載してください");
        assertEquals("/console/maintenance/report", returned.path(), returned::toString);
        assertTrue(returned.contains("差戻し（再提出待ち）") && returned.contains("再起動の時刻を記載してください"));

        // the vendor submits again: a new version, the first kept
        Browser.Page again = desk(vendor, "/console/maintenance/report?no=" + reportNo);
        assertTrue(again.contains("正常に完了</textarea>"), "the form starts from the newest version");
        Browser.Page second = b.submit("/console/maintenance/report/submit", "results", "正常に完了", "done",
                "OSのセキュリティ更新を適用し 10:40 に再起動", "open_issues", "なし");
        assertTrue(second.contains("第2版を提出") && second.contains("第1版を差戻し"), second::toString);

        h.admin.browser.get("/console/maintenance/report?no=" + reportNo);
        Browser.Page approved = h.adminSubmit("/console/maintenance/report/approve");
        assertEquals("/console/maintenance/report", approved.path(), approved::toString);
        assertTrue(approved.contains("作業報告の承認を記録しました") && approved.contains("第2版を承認"));
        assertFalse(approved.contains("id=\"report-approve-form\""));
        Browser.Page late = desk(vendor, "/console/maintenance/report?no=" + reportNo);
        assertFalse(late.contains("id=\"submit-form\""), "nothing more to submit once approved");
        assertTrue(assertThrows(MaintenanceException.class, () -> reports.submit(ADMIN, vendor.accountId, reportNo,
                Map.of("results", "x", "done", "x", "open_issues", "x"))).getMessage().startsWith("この作業報告はすでに承認"));

        // every step is in the trail with the work order
        List<Map<String, Object>> steps = List.of();
        for (int i = 0; i < 100 && steps.size() < 4; i++) {
            steps = h.rows("SELECT action FROM audit_entry WHERE action LIKE 'maintenance.report%' AND outcome ="
                    + " 'success' AND convert_from(entry, 'UTF8')::jsonb -> 'detail' ->> 'workOrder' = ?", reportNo);
            Browser.sleep(100);
        }
        assertEquals(4, steps.size(), steps::toString);
    }

    @Test
    void endingAJobAtOnceEndsItsWindowAndItsStaffsSessions() {
        String no = runningJob(vendorNo, vendor2.accountId);
        assertTrue(orders.activeFor(vendor2.accountId, Instant.now()).isPresent());
        assertEquals(200, vendor2.browser.get("/console/maintenance").status(), "the staff member is signed in");
        var sessions = h.server.server().identity().sessions();
        assertFalse(sessions.open(Optional.of(vendor2.accountId)).isEmpty());

        Browser.Page request = h.admin.browser.get("/console/maintenance/request?no=" + no);
        assertTrue(request.contains("id=\"live-link\"") && request.contains("id=\"report-link\""));
        Browser.Page live = h.admin.browser.get("/console/maintenance/live?no=" + no);
        assertEquals(200, live.status(), live::toString);
        assertTrue(live.contains("data-live-src=\"/console/maintenance/live/entries?no=" + no + "\"")
                && live.contains("id=\"end-form\""), live::toString);
        Browser.Page fragment = h.admin.browser.get("/console/maintenance/live/entries?no=" + no);
        assertEquals(200, fragment.status());
        assertTrue(fragment.contains("id=\"live-state\"") && !fragment.contains("<html"), "a fragment only");
        h.admin.browser.get("/console/maintenance/live?no=" + no);
        assertEquals(403, h.admin.browser.post("/console/maintenance/end", Map.of("no", no, "reason", "x"), Map.of())
                .status(), "a POST without the CSRF token is refused");
        h.admin.browser.get("/console/maintenance/live?no=" + no);
        Browser.Page ended = h.adminSubmit("/console/maintenance/end", "reason", "不審な操作を確認したため");
        assertEquals("/console/maintenance/live", ended.path(), ended::toString);
        assertTrue(ended.contains("作業を終了しました") && ended.contains("不審な操作を確認したため"), ended::toString);
        assertFalse(ended.contains("id=\"end-form\""), "nothing more to end");

        assertTrue(orders.activeFor(vendor2.accountId, Instant.now()).isEmpty(), "the window is over");
        assertEquals(WorkOrders.State.ENDED, orders.find(no).orElseThrow().state(Instant.now()));
        assertTrue(sessions.open(Optional.of(vendor2.accountId)).isEmpty(), "the staff's sessions ended");
        Browser.Page out = vendor2.browser.get("/console/maintenance");
        assertTrue(out.path().startsWith("/console/login"), out::toString);
        // ending again: one clear line
        h.admin.browser.get("/console/maintenance/request?no=" + no);
        Browser.Page twice = h.admin.browser.post("/console/maintenance/end", Map.of("no", no, "reason", "再度",
                "csrf", h.admin.browser.last().csrf()), Map.of());
        if (twice.path().equals(Hospital.STEP_UP_PATH)) {
            twice = h.admin.stepUpQuickly(h.admin.browser);
        }
        assertEquals(400, twice.status(), twice::toString);
        assertEquals("終了できるのは承認済みで終わっていない作業だけです / only an approved job that is not over can be ended",
                twice.error());

        // not submitted two days after its end: overdue, the vendor's step; the approval's after seven
        List<WorkReports.Overdue> late = reports.overdue(Instant.now().plus(Duration.ofDays(3)));
        assertTrue(late.stream().anyMatch(o -> o.number().equals(no) && o.step().equals("report")
                && o.text().contains("提出期限")), late::toString);
        assertTrue(reports.overdue(Instant.now()).stream().noneMatch(o -> o.number().equals(no)), "not yet late");
    }

    @Test
    void aLateReportIsListedForTheAdministrator() throws SQLException {
        // a job that ended five days ago (made in the past behind the pages), never reported
        Instant start = Instant.now().minus(Duration.ofDays(5)).truncatedTo(ChronoUnit.HOURS);
        Integer route = h.one("SELECT min(route) FROM maintenance_work_order WHERE vendor = ?", vendorNo);
        h.execute("INSERT INTO maintenance_work_order (year, number, vendor, staff, systems, purpose, patient_data,"
                + " export_data, window_start, window_end, source, route, requester, requester_name, filed_at)"
                + " VALUES (2001, 1, ?, ?::uuid[], 'DB', '調査', false, false, ?, ?, '127.0.0.1/32', ?, ?, '試験', ?)",
                vendorNo, "{" + vendor.accountId + "}", java.sql.Timestamp.from(start),
                java.sql.Timestamp.from(start.plus(Duration.ofHours(2))), route, UUID.randomUUID(),
                java.sql.Timestamp.from(start.minus(Duration.ofDays(1))));
        h.execute("INSERT INTO maintenance_work_order_decision (work_order, decision, by_account, by_name, at) SELECT"
                + " seq, 'approve', ?, '試験', ? FROM maintenance_work_order WHERE year = 2001 AND number = 1",
                UUID.randomUUID(), java.sql.Timestamp.from(start.minus(Duration.ofHours(1))));
        assertTrue(reports.overdue(Instant.now()).stream().anyMatch(o -> o.number().equals("2001-0001")));
        assertTrue(h.admin.browser.get("/console/home").contains("期限切れの作業報告"));
        Browser.Page home = h.admin.browser.get("/console/maintenance");
        assertTrue(home.contains("id=\"reports-overdue\"") && home.contains("2001-0001")
                && home.contains("提出期限（作業終了から2日）切れ"), home::toString);
        Browser.Page mine = desk(vendor, "/console/maintenance");
        assertTrue(mine.contains("id=\"reports-overdue\""), "the vendor sees their own late report");
        assertFalse(desk(otherVendor, "/console/maintenance").contains("2001-0001"), "not another vendor");

        // the tables refuse change: the runtime role lacks the right, the superuser meets the trigger
        for (String table : List.of("maintenance_work_order_end", "maintenance_work_report_step")) {
            try (Connection c = h.server.server().database().dataSource().getConnection();
                 Statement st = c.createStatement()) {
                assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM " + table));
            }
            try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement()) {
                assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM " + table));
                assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE " + table + " SET at = now()"));
            }
        }
    }

    @Test
    void anotherVendorFindsNothingAndAClinicianIsRefusedEverywhere() {
        Browser o = otherVendor.browser;
        assertEquals(404, desk(otherVendor, "/console/maintenance/report?no=" + reportNo).status());
        Browser.Page own = desk(otherVendor, "/console/maintenance/report?no=" + otherNo);
        assertEquals(200, own.status(), "their own job's report is theirs");
        assertEquals(404, o.post("/console/maintenance/report/submit", Map.of("no", reportNo, "csrf", own.csrf(),
                "results", "x", "done", "x", "open_issues", "x"), Map.of()).status());
        assertEquals(403, o.get("/console/maintenance/live?no=" + otherNo).status(), "the live view is the institution's");

        Person doctor = h.staffWithRole("ishi.rep", "内科", "physician");
        Browser d = doctor.browser;
        for (String path : List.of("/console/maintenance/report?no=" + reportNo, "/console/maintenance/live?no="
                + reportNo, "/console/maintenance/live/entries?no=" + reportNo)) {
            Browser.Page p = d.get(path);
            assertEquals(403, p.status(), path);
            assertFalse(p.contains(reportNo) || p.contains("株式会社報告保守"), path + " discloses nothing");
        }
        String csrf = d.get("/console/home").csrf();
        for (String path : List.of("/console/maintenance/report/submit", "/console/maintenance/report/approve",
                "/console/maintenance/report/return", "/console/maintenance/end")) {
            Map<String, String> form = new HashMap<>(Map.of("no", reportNo, "csrf", csrf, "reason", "x"));
            assertEquals(403, d.post(path, form, Map.of()).status(), path);
        }
    }
}
