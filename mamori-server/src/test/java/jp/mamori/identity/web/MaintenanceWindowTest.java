package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.cli.Main;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Just-in-time access for a vendor's maintenance account, end to end on a running server (issue 19; MAINT-1, MAINT-2,
 * MAINT-5, MAINT-9, ACCT-3, ACCESS-6): outside a window the vendor reaches only the vendor desk, and a refused page is
 * recorded; inside an approved window, from its approved source, the operations pages open and every action carries
 * the work order in the trail; a window approved for another source does not open them; when the window ends the next
 * request ends the session cleanly and a new sign-in enters the following window; a server command names its work
 * order and an export runs only for a work order that approved taking data out.
 */
class MaintenanceWindowTest {
    private static Hospital h;
    private static Person vendor;
    private static Account other;
    private static int vendorNo;
    private static final Actor ADMIN = Actor.person("account:kanri.window", "管理 花子", List.of("admin"), null,
            "127.0.0.1", null);

    @BeforeAll
    static void open() {
        h = Hospital.open();
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors vendors = h.server.server().workOrders().vendors();
        Vendors.Entry v = vendors.saveVendor(ADMIN, null, WorkOrdersTest.vendorFields("株式会社窓口保守",
                today.minusDays(1), today.plusYears(1)));
        vendorNo = v.entry();
        // the test's connections come from the loopback address: that is the vendor's maintenance line here
        vendors.addRoute(ADMIN, vendorNo, Map.of("name", "保守回線", "sources", "127.0.0.1/32", "reaches",
                "電子カルテサーバ（保守ポート）", "device", "保守端末"));
        vendors.addRoute(ADMIN, vendorNo, Map.of("name", "予備回線", "sources", "192.0.2.0/24", "reaches", "DB"));
        Account a = WorkOrdersTest.vendorAccount(h, "hoshu.window");
        var accounts = h.server.server().identity().accounts();
        accounts.reactivate(a.id(), "保守作業のため", "test:admin");
        vendors.addStaff(ADMIN, vendorNo, a.loginId());
        vendor = h.enrolWithCode(a.loginId(), a.id(), accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1),
                "test:admin"));
        other = WorkOrdersTest.vendorAccount(h, "hoshu.window2");
        vendors.addStaff(ADMIN, vendorNo, other.loginId());
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static WorkOrders orders() {
        return h.server.server().workOrders();
    }

    /** Files and approves a work order (two approvers when it takes data out). */
    /**
     * Now, as the start of a window in force at once. A window may not start before the current minute, so near a
     * minute's end this waits for the next minute: the request would otherwise race the boundary.
     */
    private static Instant windowStart() throws InterruptedException {
        Instant now = Instant.now();
        long second = now.getEpochSecond() % 60;
        if (second >= 50) {
            Thread.sleep((61 - second) * 1000);
            now = Instant.now();
        }
        return now;
    }

    private static String approved(UUID staff, Instant start, Instant end, String source, boolean export) {
        String no = orders().file(ADMIN, UUID.randomUUID(), new WorkOrders.NewRequest(vendorNo, List.of(staff),
                "電子カルテ サーバ", "ログの確認", export, export, export ? "障害調査のためログを持ち帰る" : null, start, end,
                source)).number();
        orders().approve(ADMIN, UUID.randomUUID(), no);
        if (export) {
            orders().approve(ADMIN, UUID.randomUUID(), no);
        }
        return no;
    }

    private static long entries(String action, String outcome, String workOrder) {
        return h.<Long>one("SELECT count(*) FROM audit_entry WHERE action = ? AND outcome = ? AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,workOrder}' IS NOT DISTINCT FROM ?", action,
                outcome, workOrder);
    }

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theWholeWindowFromTheDeskToTheEndAndAgain() throws Exception {
        Browser b = vendor.browser;
        // ---- outside any window: the desk only, refusals recorded
        Browser.Page home = b.get("/console/home");
        assertTrue(home.contains("id=\"vendor-desk\"") && home.contains("承認された保守作業の時間外です"), home::body);
        assertEquals(200, b.get("/console/maintenance").status());
        Browser.Page health = b.get("/console/admin/health");
        assertEquals(403, health.status(), health::toString);
        assertTrue(health.contains("承認された保守作業の時間外です"), health::body);
        assertEquals(403, b.get("/console/audit").status(), "the audit console is not the vendor's");
        assertTrue(h.<Long>one("SELECT count(*) FROM audit_entry WHERE action = 'maintenance.session' AND outcome ="
                + " 'refused' AND actor = ? AND convert_from(entry, 'UTF8')::jsonb #>> '{detail,path}' ="
                + " '/console/admin/health'", "account:" + vendor.loginId) >= 1, "the refused page is recorded");

        // ---- a window approved for another source does not open the maintenance pages
        Instant now = Instant.now();
        String elsewhere = approved(vendor.accountId, now, now.plusSeconds(3), "192.0.2.10", false);
        Browser.Page notHere = b.get("/console/admin/health");
        assertEquals(403, notHere.status());
        assertTrue(notHere.contains("承認された接続元からではないため"), notHere::body);
        assertEquals(1, entries("maintenance.session", "refused", elsewhere), "recorded once for the session");
        assertTrue(b.get("/console/home").contains("承認された接続元からのアクセスではない"));

        // ---- the next window, from the approved source, right after it
        Instant start = now.plusSeconds(3);
        String first = approved(vendor.accountId, start, start.plusSeconds(20), "127.0.0.1", false);
        String second = approved(vendor.accountId, start.plusSeconds(20), start.plus(Duration.ofHours(1)),
                "127.0.0.1", false);
        Browser.sleep(Math.max(0, Duration.between(Instant.now(), start).toMillis() + 200));
        Browser.Page inside = b.get("/console/admin/health");
        assertEquals(200, inside.status(), inside::toString);
        assertEquals(1, entries("maintenance.session", "success", first), "admitted once, with the work order");
        Browser.Page deskInside = b.get("/console/home");
        assertTrue(deskInside.contains("保守作業中：作業番号 " + first), deskInside::body);
        assertEquals(200, b.get("/console/admin/backups").status(), "operations pages open in the window");
        assertEquals(403, b.get("/console/admin/accounts").status(), "account administration stays closed");
        Browser.Page audit = b.get("/console/audit");
        assertEquals(403, audit.status());
        assertTrue(audit.contains("保守作業では、この画面は使えません"), audit::body);
        assertEquals(2, entries("maintenance.session", "refused", first), "both refusals carry the work order");
        // an action in the window carries the work order: a notice the vendor posts
        b.get("/console/maintenance/notices/new");
        Browser.Page posted = b.submit("/console/maintenance/notices/new", "component", "電子カルテ サーバ OS",
                "kind", "end_of_support", "severity", "medium", "summary", "OSのサポート終了", "workaround", "更新を計画",
                "patch_on", "", "references", "");
        assertTrue(posted.status() < 400, posted::toString);
        assertEquals(1, entries("maintenance.notice.post", "success", first), "the action names the work order");

        // ---- the window ends: the next request ends the session, nothing else is done
        // the form is opened inside the window and sent after it
        b.get("/console/maintenance/notices/new");
        Browser.sleep(Math.max(0, Duration.between(Instant.now(), start.plusSeconds(20)).toMillis() + 200));
        long noticesBefore = h.<Long>one("SELECT count(*) FROM maintenance_notice");
        Browser.Page ended = b.submit("/console/maintenance/notices/new", "component", "DB", "kind",
                "end_of_support", "severity", "medium", "summary", "時間外の投稿", "workaround", "なし", "patch_on", "",
                "references", "");
        assertEquals(403, ended.status(), ended::toString);
        assertTrue(ended.contains("保守作業の時間が終了したため"), ended::body);
        assertEquals(noticesBefore, h.<Long>one("SELECT count(*) FROM maintenance_notice"), "nothing half-done");
        assertEquals(1L, h.<Long>one("SELECT count(*) FROM audit_entry WHERE action = 'maintenance.session' AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,why}' = 'window-over' AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,workOrder}' = ?", first), "the end is recorded");
        assertEquals("/console/login", b.get("/console/home").path(), "signed out");
        // signing in again enters the following window
        vendor.logIn();
        assertEquals(200, b.get("/console/admin/health").status());
        assertEquals(1, entries("maintenance.session", "success", second));

        // ---- the first job's work report, generated from the trail, completed by the vendor, approved
        Browser.Page report = b.get("/console/maintenance/report?no=" + first);
        for (int i = 0; i < 50 && !report.contains("事業者からの通知の登録"); i++) {
            Browser.sleep(100); // the entries' report columns are derived a moment after their durable point
            report = b.get("/console/maintenance/report?no=" + first);
        }
        assertEquals(200, report.status(), report::toString);
        assertTrue(report.contains("事業者からの通知の登録") && report.contains("保守作業のセッション"), report::body);
        assertTrue(report.contains("拒否・失敗した操作</dt><dd>2件"), "the two refused pages are in the report");
        assertFalse(report.contains("時間外の投稿"), "nothing of the refused post");
        Browser.Page submitted = b.submit("/console/maintenance/report/submit", "results", "正常に完了", "done",
                "稼働状況とバックアップの設定を確認し、通知を1件登録", "open_issues", "なし");
        assertTrue(submitted.contains("作業報告を提出しました"), submitted::body);
        h.admin.browser.get("/console/maintenance/report?no=" + first);
        Browser.Page approved = h.adminSubmit("/console/maintenance/report/approve");
        assertTrue(approved.contains("作業報告の承認を記録しました"), approved::body);
    }

    @Test
    void aServerCommandNamesItsWorkOrderAndExportsOnlyWhenApproved() throws Exception {
        Path data = h.server.dataDir();
        Path out1 = Files.createTempDirectory("mamori-wo-export");
        Path out2 = Files.createTempDirectory("mamori-wo-export");
        Files.delete(out1);
        Files.delete(out2);
        Instant now = windowStart();
        String plain = approved(other.id(), now, now.plus(Duration.ofHours(1)), "192.0.2.20", false);
        String waiting = orders().file(ADMIN, UUID.randomUUID(), new WorkOrders.NewRequest(vendorNo,
                List.of(other.id()), "DB", "索引", false, false, null, now.plus(Duration.ofHours(2)),
                now.plus(Duration.ofHours(3)), "192.0.2.20")).number();

        Run malformed = cli("audit-export", "--data", data.toString(), "--out", out1.toString(), "--work-order", "3");
        assertEquals(2, malformed.code());
        assertEquals(1, malformed.err().strip().lines().count(), malformed::err);
        Run notYet = cli("audit-export", "--data", data.toString(), "--out", out1.toString(), "--work-order", waiting);
        assertEquals(2, notYet.code(), notYet::err);
        assertTrue(notYet.err().contains("承認された作業の時間帯ではありません"), notYet::err);
        Run refused = cli("audit-export", "--data", data.toString(), "--out", out1.toString(), "--work-order", plain);
        assertEquals(2, refused.code(), refused::err);
        assertTrue(refused.err().contains("データの持ち出しが承認されていません"), refused::err);
        assertFalse(Files.exists(out1), "nothing was written");
        assertEquals(1, entries("maintenance.command", "refused", plain));

        // another staff member's job that approved taking data out (two approvers)
        Account third = WorkOrdersTest.vendorAccount(h, "hoshu.window3");
        orders().vendors().addStaff(ADMIN, vendorNo, third.loginId());
        // a window from now, read again: the commands above may have taken the clock past a minute's boundary
        Instant later = windowStart();
        String export = approved(third.id(), later, later.plus(Duration.ofHours(1)), "192.0.2.30", true);
        Run ok = cli("audit-export", "--data", data.toString(), "--out", out2.toString(), "--work-order", export);
        assertEquals(0, ok.code(), ok::err);
        assertTrue(Files.list(out2).findAny().isPresent(), "the export was written");
        assertEquals(1, entries("maintenance.command", "success", export));
        assertNotNull(h.<Long>one("SELECT seq FROM audit_entry WHERE action = 'audit.export' AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,workOrder}' = ? LIMIT 1", export),
                "the export's own entry names the work order, for the report");
    }
}
