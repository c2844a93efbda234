package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Vendor maintenance's pages over HTTP (issue 19): an administrator registers a vendor, its route and a staff member
 * (a vendor account of the ledger); the vendor's staff member signs in, files a work request and sees only their own
 * vendor's requests; the administrator sees it waiting on the home page and approves it (step-up); a clinician sees
 * nothing; a POST without the CSRF token, hostile and oversized input each get one clear answer and keep what was typed.
 */
class MaintenanceConsoleTest {
    private static Hospital h;
    private static Person vendor;
    private static int vendorNo;
    private static int otherVendorNo;
    private static String otherNumber;

    @BeforeAll
    static void open() {
        h = Hospital.open();
        LocalDate today = LocalDate.now(Hospital.JST);
        // the administrator registers the vendor on the pages; what was typed comes back on a refusal
        h.admin.browser.get("/console/maintenance/vendor/new");
        Map<String, String> f = WorkOrdersTest.vendorFields("<script>alert(1)</script>株式会社保守", today.minusDays(1),
                today.plusYears(1));
        f.put("contacts", "");
        Browser.Page refused = h.admin.browser.submit("/console/maintenance/vendor/new", Hospital.pairs(f));
        assertEquals(400, refused.status(), refused::toString);
        assertEquals("連絡先を入力してください / enter the contacts", refused.error());
        assertTrue(refused.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;株式会社保守\""), "kept and escaped");
        f.put("contacts", "03-1234-5678（平日9時〜17時）");
        Browser.Page saved = h.admin.browser.submit("/console/maintenance/vendor/new", Hospital.pairs(f));
        assertEquals("/console/maintenance/vendor", saved.path(), saved::toString);
        assertFalse(saved.contains("<script>alert(1)"), "never raw");
        vendorNo = Integer.parseInt(saved.uri().getQuery().replaceAll(".*n=([0-9]+).*", "$1"));
        Browser.Page route = h.admin.browser.submit("/console/maintenance/vendor/route", "name", "保守用VPN",
                "sources", "192.0.2.0/24", "reaches", "電子カルテサーバ（保守ポートのみ）", "device", "VPN装置 X");
        assertEquals("/console/maintenance/vendor", route.path(), route::toString);

        // a vendor account (suspended as made), opened for enrolment, linked as the vendor's staff
        Account a = WorkOrdersTest.vendorAccount(h, "hoshu.web");
        var accounts = h.server.server().identity().accounts();
        accounts.reactivate(a.id(), "保守作業のため", "test:admin");
        Browser.Page staff = h.admin.browser.submit("/console/maintenance/vendor/staff", "login_id", a.loginId());
        assertEquals("/console/maintenance/vendor", staff.path(), staff::toString);
        assertTrue(staff.contains(a.loginId()));
        vendor = h.enrolWithCode(a.loginId(), a.id(), accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1),
                "test:admin"));

        // another vendor with a request of its own, made behind the pages
        Actor admin = Actor.person("account:test", "試験", List.of("admin"), null, "127.0.0.1", null);
        Vendors vendors = h.server.server().workOrders().vendors();
        Vendors.Entry other = vendors.saveVendor(admin, null, WorkOrdersTest.vendorFields("他社", today.minusDays(1),
                today.plusYears(1)));
        otherVendorNo = other.entry();
        vendors.addRoute(admin, other.entry(), Map.of("name", "回線", "sources", "198.51.100.0/24", "reaches", "DB"));
        Account b = WorkOrdersTest.vendorAccount(h, "hoshu.other");
        vendors.addStaff(admin, other.entry(), b.loginId());
        Instant start = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.HOURS);
        otherNumber = h.server.server().workOrders().file(admin, UUID.randomUUID(), new WorkOrders.NewRequest(
                other.entry(), List.of(b.id()), "DB", "索引の再作成", false, false, null, start,
                start.plus(Duration.ofHours(2)), "198.51.100.5")).number();
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static String local(Instant i) {
        return LocalDateTime.ofInstant(i, Hospital.JST).truncatedTo(ChronoUnit.MINUTES).toString();
    }

    @Test
    void theVendorFilesSeesOnlyTheirOwnAndTheAdministratorApproves() {
        Browser b = vendor.browser;
        Browser.Page home = b.get("/console/home");
        assertTrue(home.contains("id=\"maintenance-link\""), "the vendor's home links to the maintenance pages");
        Browser.Page mine = b.get("/console/maintenance");
        assertEquals(200, mine.status(), mine::toString);
        assertFalse(mine.contains(otherNumber), "another vendor's request is not listed");
        assertFalse(mine.contains("id=\"vendors\""), "the vendors' list is the administrators'");
        assertEquals(404, b.get("/console/maintenance/request?no=" + otherNumber).status());
        assertEquals(403, b.get("/console/maintenance/vendor?n=" + vendorNo).status());

        Browser.Page form = b.get("/console/maintenance/request/new?vendor=" + otherVendorNo);
        assertEquals(200, form.status(), form::toString);
        assertTrue(form.contains("株式会社保守") && !form.contains("他社 の作業申請"), "a vendor files for their own only");
        Instant start = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.HOURS);
        // too long a purpose: one message, the typed text kept; a source outside the routes: refused
        String longPurpose = "長".repeat(2500);
        Browser.Page tooLong = b.submit("/console/maintenance/request/new", "staff", vendor.loginId, "systems",
                "電子カルテ", "purpose", longPurpose, "start", local(start), "end",
                local(start.plus(Duration.ofHours(3))), "source", "192.0.2.50");
        assertEquals(400, tooLong.status());
        assertEquals("作業目的が長すぎます（2000文字まで） / purpose is too long (at most 2000 characters)", tooLong.error());
        assertTrue(tooLong.contains("長".repeat(2000)), "the typed text is kept");
        Browser.Page outside = b.submit("/console/maintenance/request/new", "staff", vendor.loginId, "systems",
                "電子カルテ", "purpose", "OSの更新", "start", local(start), "end",
                local(start.plus(Duration.ofHours(3))), "source", "203.0.113.9");
        assertEquals(400, outside.status());
        assertTrue(outside.error().startsWith("接続元アドレスがこの保守業者の登録された保守経路に含まれません"));
        assertTrue(outside.contains(">OSの更新</textarea>"));
        Browser.Page filed = b.submit("/console/maintenance/request/new", "staff", vendor.loginId, "systems",
                "電子カルテ", "purpose", "OSの更新", "start", local(start), "end",
                local(start.plus(Duration.ofHours(3))), "source", "192.0.2.50");
        assertEquals("/console/maintenance/request", filed.path(), filed::toString);
        assertTrue(filed.contains("作業申請を受け付けました") && filed.contains("承認待ち"), filed::toString);
        assertFalse(filed.contains("id=\"approve-form\""), "a vendor cannot approve");
        String number = filed.uri().getQuery().replaceAll(".*no=([0-9-]+).*", "$1");
        assertEquals(403, b.post("/console/maintenance/request/approve", Map.of("no", number, "csrf", filed.csrf()),
                Map.of()).status());

        // the administrator: a badge on the home page, the request, approval with a fresh second factor
        Browser.Page adminHome = h.admin.browser.get("/console/home");
        assertTrue(adminHome.contains("承認待ちの保守作業申請"), "waiting requests show on the administrator's home");
        Browser.Page list = h.admin.browser.get("/console/maintenance");
        assertTrue(list.contains(number) && list.contains(otherNumber), "administrators see every request");
        h.admin.browser.get("/console/maintenance/request?no=" + number);
        Map<String, String> noCsrf = new HashMap<>(Map.of("no", number, "reason", "x"));
        assertEquals(403, h.admin.browser.post("/console/maintenance/request/refuse", noCsrf, Map.of()).status(),
                "a POST without the CSRF token is refused");
        h.admin.browser.get("/console/maintenance/request?no=" + number);
        Browser.Page approved = h.adminSubmit("/console/maintenance/request/approve");
        assertEquals("/console/maintenance/request", approved.path(), approved::toString);
        assertTrue(approved.contains("承認を記録しました") && approved.contains("承認済み"), approved::toString);
        Browser.Page seen = b.get("/console/maintenance/request?no=" + number);
        assertTrue(seen.contains("承認済み") && seen.contains("管理 太郎"), "the vendor sees the approval and who gave it");
    }

    @Test
    void anAdministratorEnteringARequestCannotApproveIt() {
        h.admin.browser.get("/console/maintenance/request/new?vendor=" + vendorNo);
        Instant start = Instant.now().plus(Duration.ofDays(5)).truncatedTo(ChronoUnit.HOURS);
        Browser.Page filed = h.adminSubmit("/console/maintenance/request/new", "staff", vendor.loginId, "systems",
                "バックアップ装置", "purpose", "ファームウェア更新", "patient_data", "1", "data_reason", "復元の確認",
                "start", local(start), "end", local(start.plus(Duration.ofHours(2))), "source", "192.0.2.7");
        assertEquals("/console/maintenance/request", filed.path(), filed::toString);
        assertTrue(filed.contains("承認 0/2"), "patient data needs two approvers");
        Browser.Page self = h.adminSubmit("/console/maintenance/request/approve");
        assertEquals(400, self.status());
        assertTrue(self.error().startsWith("自分が申請した作業"), self::error);
    }

    @Test
    void aClinicianSeesNothing() {
        Person doctor = h.staffWithRole("ishi.m", "内科", "physician");
        for (String path : List.of("/console/maintenance", "/console/maintenance/request/new",
                "/console/maintenance/request?no=" + otherNumber, "/console/maintenance/vendor?n=" + vendorNo)) {
            Browser.Page p = doctor.browser.get(path);
            assertEquals(403, p.status(), path);
            assertFalse(p.contains(otherNumber) || p.contains("他社"), path + " discloses nothing");
        }
        assertFalse(doctor.browser.get("/console/home").contains("id=\"maintenance-link\""));
    }
}
