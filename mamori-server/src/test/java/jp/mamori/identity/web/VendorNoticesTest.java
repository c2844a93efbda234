package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.VendorNoticeProbe;
import jp.mamori.maintenance.VendorNotices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Vendor notices over HTTP (issue 19; VULN-2, VULN-3): an administrator posts a notice for a vendor, acknowledges,
 * plans and closes it, each step in the history and the audit trail; every refusal is one line and keeps what was
 * typed; a vendor's own account posts and sees only its notices; an auditor reads; a physician is refused; every POST
 * needs the form's token; the tables refuse UPDATE and DELETE; an unacknowledged critical notice becomes a deviation
 * 24 hours after it was posted and leaves on acknowledgement.
 */
class VendorNoticesTest {
    private static Hospital h;

    @BeforeAll
    static void start() {
        h = Hospital.open();
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    private static long steps() {
        return h.<Long>one("SELECT count(*) FROM maintenance_notice_step");
    }

    private static long audited(String action) {
        return h.<Long>one("SELECT count(*) FROM audit_entry WHERE action = ?", action);
    }

    private static void awaitAudit(String action, long atLeast) {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (audited(action) < atLeast && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
        assertTrue(audited(action) >= atLeast, action + " audited");
    }

    @Test
    void anAdministratorPostsAcknowledgesPlansAndClosesANotice() {
        Browser b = h.admin.browser;
        Browser.Page list = b.get("/console/maintenance/notices");
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.contains("事業者からの通知") && list.contains("通知を登録する"), list::toString);
        assertTrue(b.get("/console/compliance").body().contains("href=\"/console/maintenance/notices\""),
                "linked from the compliance home");

        b.get("/console/maintenance/notices/new");
        // a refusal: one line, what was typed kept (hostile text included, as text)
        Browser.Page refused = b.submit("/console/maintenance/notices/new", "vendor", "株式会社さくら医療システム",
                "kind", "vulnerability", "severity", "", "component", "Jetty <b>12</b>",
                "summary", "HTTP/2 の<script>alert(1)</script>脆弱性", "workaround", "HTTP/2 を無効にする");
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("重要度を選んでください") && refused.contains("HTTP/2 を無効にする"), refused::toString);
        assertFalse(refused.body().contains("<script>alert(1)</script>"), "hostile text is shown as text");
        Browser.Page badId = b.submit("/console/maintenance/notices/new", "vendor", "株式会社さくら医療システム",
                "kind", "vulnerability", "severity", "critical", "component", "Jetty", "component_id", "jetty 12",
                "summary", "HTTP/2 の脆弱性");
        assertEquals(400, badId.status(), badId::toString);
        assertTrue(badId.contains("pkg: か cpe: で始まる"), badId::toString);

        long auditedBefore = audited("maintenance.notice.post");
        Browser.Page posted = b.submit("/console/maintenance/notices/new", "vendor", "株式会社さくら医療システム",
                "kind", "vulnerability", "severity", "critical", "component", "Jetty <b>12</b>",
                "component_id", "pkg:maven/org.eclipse.jetty/jetty-server@12.0.1",
                "summary", "HTTP/2 の<script>alert(1)</script>脆弱性", "workaround", "HTTP/2 を無効にする",
                "patch_on", LocalDate.now(Hospital.JST).plusDays(7).toString(),
                "references", "https://jvn.jp/example\njavascript:alert(1)");
        assertEquals(200, posted.status(), posted::toString);
        int year = LocalDate.now(Hospital.JST).getYear();
        String label = posted.uri().getQuery().replaceAll(".*n=([0-9-]+).*", "$1");
        assertTrue(label.startsWith(year + "-"), label);
        assertTrue(posted.path().equals("/console/maintenance/notice") && posted.contains("通知を登録しました")
                && posted.contains("通知 " + label) && posted.contains("緊急") && posted.contains("未確認"), posted::toString);
        assertFalse(posted.body().contains("<script>alert(1)</script>") || posted.body().contains("<b>12</b>"));
        assertFalse(posted.body().contains("href=\"javascript:") || posted.body().contains("href=\"https://jvn.jp"),
                "references are text, never links");
        assertTrue(posted.contains("医療機関が代理で登録"), posted::toString);
        awaitAudit("maintenance.notice.post", auditedBefore + 1);

        // the administrator's home: an unacknowledged notice waits
        Browser.Page home = b.get("/console/home");
        assertTrue(home.contains("未確認の事業者からの通知") && home.body().contains("href=\"/console/maintenance/notices\""),
                home::toString);

        // planning or closing before acknowledging is refused
        Browser.Page early = b.post("/console/maintenance/notice/close", Map.of("n", label, "how", "patched",
                "closed_on", LocalDate.now(Hospital.JST).toString(), "csrf", posted.csrf()), Map.of());
        assertEquals(400, early.status(), early::toString);
        assertTrue(early.contains("先に通知を確認済みにしてください"), early::toString);

        b.get("/console/maintenance/notice?n=" + label);
        Browser.Page acked = b.submit("/console/maintenance/notice/acknowledge", "note", "情報システム室で確認");
        assertEquals(200, acked.status(), acked::toString);
        assertTrue(acked.contains("確認済みとして記録しました") && acked.contains("情報システム室で確認"), acked::toString);
        // acknowledging twice is refused (the form is gone; a replayed post says so)
        Browser.Page twice = b.post("/console/maintenance/notice/acknowledge", Map.of("n", label, "csrf",
                acked.csrf()), Map.of());
        assertEquals(400, twice.status(), twice::toString);
        assertTrue(twice.contains("この通知はすでに確認済みです"), twice::toString);

        b.get("/console/maintenance/notice?n=" + label);
        Browser.Page noPlan = b.submit("/console/maintenance/notice/plan", "plan", " ");
        assertEquals(400, noPlan.status(), noPlan::toString);
        assertTrue(noPlan.contains("対応計画を入力してください"), noPlan::toString);
        Browser.Page planned = b.submit("/console/maintenance/notice/plan", "plan", "来週の定期保守で 12.0.2 を適用する");
        assertEquals(200, planned.status(), planned::toString);
        assertTrue(planned.contains("対応計画を記録しました") && planned.contains("対応中"), planned::toString);

        // closing without how is refused, the note kept; a future date is refused
        Browser.Page noHow = b.submit("/console/maintenance/notice/close", "how", "", "note", "適用後に動作確認済み");
        assertEquals(400, noHow.status(), noHow::toString);
        assertTrue(noHow.contains("どのように完了したかを選んでください") && noHow.contains("適用後に動作確認済み"),
                noHow::toString);
        Browser.Page future = b.submit("/console/maintenance/notice/close", "how", "patched", "closed_on",
                LocalDate.now(Hospital.JST).plusDays(3).toString());
        assertEquals(400, future.status(), future::toString);
        assertTrue(future.contains("未来の日付"), future::toString);
        Browser.Page closed = b.submit("/console/maintenance/notice/close", "how", "patched", "closed_on",
                LocalDate.now(Hospital.JST).toString(), "note", "適用後に動作確認済み");
        assertEquals(200, closed.status(), closed::toString);
        assertTrue(closed.contains("完了として記録しました") && closed.contains("修正を適用")
                && closed.contains("この通知は完了しています")
                && !closed.body().contains("action=\"/console/maintenance/notice/plan\""), closed::toString);
        Browser.Page after = b.post("/console/maintenance/notice/plan", Map.of("n", label, "plan", "もう一度",
                "csrf", closed.csrf()), Map.of());
        assertEquals(400, after.status(), after::toString);
        assertTrue(after.contains("この通知は完了しています"), after::toString);

        List<Map<String, Object>> history = h.rows("SELECT step, closure FROM maintenance_notice_step s JOIN"
                + " maintenance_notice n USING (notice_id) WHERE n.year = ? AND n.number = ? ORDER BY seq", year,
                Integer.parseInt(label.substring(label.indexOf('-') + 1)));
        assertEquals(List.of("posted", "acknowledged", "in_progress", "closed"),
                history.stream().map(m -> (String) m.get("step")).toList());
        awaitAudit("maintenance.notice.acknowledge", 1);
        awaitAudit("maintenance.notice.plan", 1);
        awaitAudit("maintenance.notice.close", 1);
        assertTrue(b.get("/console/maintenance/notices").contains("完了した通知"));

        // the audit console names the actions in words
        Browser.Page audit = b.get("/console/audit");
        assertEquals(200, audit.status());

        // append-only at the database, even for the superuser
        assertThrows(SQLException.class, () -> h.execute("UPDATE maintenance_notice SET severity = 'low'"));
        assertThrows(SQLException.class, () -> h.execute("DELETE FROM maintenance_notice_step"));
        assertThrows(SQLException.class, () -> {
            try (Connection c = h.server.superuserConnection(); Statement s = c.createStatement()) {
                s.execute("TRUNCATE maintenance_notice_step");
            }
        });
    }

    /**
     * The running server's own list of deviations (the probe config.deviations, which the compliance console and the
     * inspection pack show) names a critical notice left unacknowledged for more than a day. The notice is written
     * as the database superuser with a posting time 25 hours back, as if it had waited that long.
     */
    @Test
    void theServersDeviationsNameACriticalNoticeLeftUnacknowledgedForADay() throws Exception {
        java.time.Instant posted = java.time.Instant.now().minus(Duration.ofHours(25));
        try (Connection c = h.server.superuserConnection();
             var ps = c.prepareStatement("WITH n AS (INSERT INTO maintenance_notice (year, number, vendor_name, kind,"
                     + " component, severity, summary, posted_by, posted_by_name, by_vendor, posted_at) VALUES"
                     + " (2001, 1, 'C社', 'vulnerability', 'PostgreSQL 17', 'critical', '遠隔からの任意コード実行',"
                     + " 'system:test', 'test', false, ?) RETURNING notice_id) INSERT INTO maintenance_notice_step"
                     + " (notice_id, step, by_who, by_name, at) SELECT notice_id, 'posted', 'system:test', 'test', ?"
                     + " FROM n")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(posted));
            ps.setTimestamp(2, java.sql.Timestamp.from(posted));
            ps.executeUpdate();
        }
        h.server.server().probes().evaluate();
        Evidence d = h.server.server().probes().latest("config.deviations").orElseThrow();
        assertEquals(Evidence.Status.PARTIAL, d.status(), d.summary());
        assertTrue(d.summary().contains("C社") || d.summary().contains("2001-1"), d.summary());
    }

    @Test
    void anUnacknowledgedCriticalNoticeIsADeviationAfter24HoursUntilAcknowledged() {
        VendorNotices notices = h.server.server().vendorNotices();
        VendorNotices.Notice n = notices.post(Actor.server("test"), false, new VendorNotices.Draft("B社", "end_of_support",
                "Windows Server 2016", "", "high", "延長サポートの終了", "", "", ""));
        VendorNotices.Notice low = notices.post(Actor.server("test"), false, new VendorNotices.Draft("B社", "other",
                "プリンタ", "", "low", "ファームウェア更新のお知らせ", "", "", ""));
        Instant posted = n.postedAt();
        assertFalse(notices.deviations(posted.plus(Duration.ofHours(23))).stream().anyMatch(d -> d.contains(n.label())),
                "not yet a deviation within 24 h");
        List<String> late = notices.deviations(posted.plus(Duration.ofHours(25)));
        assertTrue(late.stream().anyMatch(d -> d.contains(n.label()) && d.contains("重要") && d.contains(" / ")), late::toString);
        assertFalse(late.stream().anyMatch(d -> d.contains(low.label())), "a low notice is never a deviation");
        assertTrue(notices.waiting(posted.plus(Duration.ofHours(25))).overdue() >= 1);
        Evidence e = VendorNoticeProbe.of(notices::deviations, () -> 0L).evaluate(posted.plus(Duration.ofHours(25)));
        assertEquals(Evidence.Status.FAIL, e.status(), e.summary());

        notices.acknowledge(Actor.server("test"), n.year(), n.number(), null);
        assertFalse(notices.deviations(posted.plus(Duration.ofHours(25))).stream().anyMatch(d -> d.contains(n.label())),
                "acknowledged: no longer a deviation");
        assertThrows(jp.mamori.maintenance.NoticeException.class,
                () -> notices.acknowledge(Actor.server("test"), n.year(), n.number(), null));
        // closing as not affected right after acknowledgement is allowed; without how, refused
        assertThrows(jp.mamori.maintenance.NoticeException.class, () -> notices.close(Actor.server("test"), n.year(),
                n.number(), "", LocalDate.now(Hospital.JST).toString(), null));
        assertEquals(VendorNotices.Status.CLOSED, notices.close(Actor.server("test"), n.year(), n.number(),
                "not_affected", LocalDate.now(Hospital.JST).toString(), "該当機器なし").status());
    }

    @Test
    void aVendorPostsAndSeesItsOwnAnAuditorReadsAPhysicianIsRefusedAndEveryPostNeedsTheToken() {
        VendorNotices notices = h.server.server().vendorNotices();
        VendorNotices.Notice other = notices.post(Actor.server("test"), false, new VendorNotices.Draft("C社",
                "vulnerability", "PACS ビューア", "", "medium", "C社の通知", "", "", ""));
        Person auditor = h.staffWithRole("kansa.n", "監査室", "auditor");
        Person physician = h.staffWithRole("ishi.n", "内科", "physician");
        String page = "/console/maintenance/notice?n=" + other.label();
        for (String path : List.of("/console/maintenance/notices", "/console/maintenance/notices/new", page)) {
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("C社"), path);
        }
        Browser.Page read = auditor.browser.get(page);
        assertEquals(200, read.status(), read::toString);
        assertTrue(read.contains("C社の通知") && read.contains("アカウント管理者が行います")
                && !read.body().contains("action=\"/console/maintenance/notice/acknowledge\""), read::toString);
        assertEquals(403, auditor.browser.get("/console/maintenance/notices/new").status());
        long before = steps();
        Map<String, String> ack = new LinkedHashMap<>(Map.of("n", other.label(), "csrf", read.csrf()));
        assertEquals(403, auditor.browser.post("/console/maintenance/notice/acknowledge", ack, Map.of()).status());
        // a clinician posting is refused
        assertEquals(403, physician.browser.post("/console/maintenance/notices/new", Map.of("vendor", "X",
                "kind", "other", "severity", "low", "component", "x", "summary", "x", "csrf",
                physician.browser.get("/console/home").csrf()), Map.of()).status());
        // an administrator's POST without the form's token is refused by the gate
        h.admin.browser.get(page);
        ack.remove("csrf");
        assertEquals(403, h.admin.browser.post("/console/maintenance/notice/acknowledge", ack, Map.of()).status());
        assertEquals(before, steps(), "nothing written");
        // hostile or unknown numbers: a plain not-found
        for (String path : List.of("/console/maintenance/notice?n=%3Cscript%3E", "/console/maintenance/notice?n=1999-99",
                "/console/maintenance/notice?n=2026-99999999999")) {
            Browser.Page odd = h.admin.browser.get(path);
            assertEquals(404, odd.status(), path + ": " + odd);
            assertFalse(odd.body().contains("<script>"));
        }

        // a vendor's own account (opened for maintenance) posts under its own name and sees only its notices
        Person vendor = vendor();
        Browser.Page list = vendor.browser.get("/console/maintenance/notices");
        assertEquals(200, list.status(), list::toString);
        assertFalse(list.contains("C社の通知") || list.contains("PACS ビューア"), "another vendor's notice is not shown");
        assertEquals(404, vendor.browser.get(page).status(), "nor its page");
        vendor.browser.get("/console/maintenance/notices/new");
        Browser.Page mine = vendor.browser.submit("/console/maintenance/notices/new", "vendor", "偽の事業者名",
                "kind", "vulnerability", "severity", "high", "component", "電子カルテ端末 OS", "summary", "リモート保守端末の脆弱性",
                "workaround", "VPN を使わない時間は切断する");
        assertEquals(200, mine.status(), mine::toString);
        assertTrue(mine.contains("リモート保守端末の脆弱性") && !mine.contains("偽の事業者名")
                && !mine.contains("医療機関が代理で登録") && !mine.body().contains("action=\"/console/maintenance/notice/acknowledge\""),
                mine::toString);
        Browser.Page ownList = vendor.browser.get("/console/maintenance/notices");
        assertTrue(ownList.contains("電子カルテ端末 OS"), ownList::toString);
        Browser.Page vendorAck = vendor.browser.post("/console/maintenance/notice/acknowledge",
                Map.of("n", mine.uri().getQuery().replaceAll(".*n=([0-9-]+).*", "$1"), "csrf", mine.csrf()), Map.of());
        assertEquals(403, vendorAck.status(), "a vendor cannot acknowledge its own notice");
    }

    /** A vendor maintenance account, opened by the administrator (it starts suspended) and enrolled. */
    private static Person vendor() {
        String loginId = Person.uniqueId("hoshu.v");
        java.util.UUID id = h.createStaff(loginId, "情報システム室", "type", "vendor");
        Browser.Page opened = h.accountAction(id, "/console/admin/account/reactivate", "reason", "保守作業のため");
        assertTrue(opened.status() < 400, opened::toString);
        return h.enrolWithCode(loginId, id, h.issueCode(id));
    }
}
