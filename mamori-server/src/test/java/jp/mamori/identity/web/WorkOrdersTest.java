package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.maintenance.Cidr;
import jp.mamori.maintenance.MaintenanceException;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
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
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Vendor maintenance's data and workflow on a running server (issue 19; MAINT-1 … MAINT-3, ACCT-3, ACCESS-6): vendors,
 * staff and routes as versions; a work request refused outside the contract or routes, in the past, too long or
 * overlapping for the same staff member; one approver, or two distinct ones for patient data; never the requester;
 * nothing active before approval; {@code activeFor} inside and outside the window and the address; audit entries for
 * every step and refusal; the tables refuse change and deletion.
 */
class WorkOrdersTest {
    private static Hospital h;
    private static WorkOrders orders;
    private static Vendors vendors;
    private static final Actor ADMIN = Actor.person("account:kanri.maint", "管理 花子", List.of("admin"), "情報システム",
            "127.0.0.1", null);
    private static final UUID ADMIN_ID = UUID.randomUUID();
    private static final UUID SECOND_ADMIN_ID = UUID.randomUUID();

    @BeforeAll
    static void open() {
        h = Hospital.open();
        orders = h.server.server().workOrders();
        vendors = orders.vendors();
    }

    @AfterAll
    static void close() {
        h.close();
    }

    /** A vendor account of the ledger (suspended, as vendor accounts start). */
    static Account vendorAccount(Hospital h, String stem) {
        return h.server.server().identity().accounts().create(new Accounts.NewAccount(Person.uniqueId(stem), "保守",
                "一郎", "ホシュ", "イチロウ", Account.Type.VENDOR, List.of(new Accounts.QualificationGrant(
                "vendor_engineer", null)), List.of("情報システム"), Set.of(), new Accounts.Proofing("in_person",
                "drivers_licence", null, "情報システム 佐藤", Instant.now())), "test:admin");
    }

    static Map<String, String> vendorFields(String name, LocalDate from, LocalDate to) {
        Map<String, String> f = new HashMap<>();
        f.put("name", name);
        f.put("contract_no", "C-2026-" + name.length());
        f.put("contract_from", from.toString());
        f.put("contract_to", to.toString());
        f.put("responsible", "保守 部長");
        f.put("contacts", "03-0000-0000");
        f.put("subcontractors", "株式会社下請 2026-04-01");
        return f;
    }

    private static Vendors.Entry vendor(String name, LocalDate from, LocalDate to) {
        Vendors.Entry v = vendors.saveVendor(ADMIN, null, vendorFields(name, from, to));
        vendors.addRoute(ADMIN, v.entry(), Map.of("name", "VPN", "sources", "192.0.2.0/24 2001:db8::/48",
                "reaches", "電子カルテサーバ", "device", "VPN装置"));
        return v;
    }

    private static WorkOrders.NewRequest request(int vendor, List<UUID> staff, boolean patientData, Instant start,
                                                 Instant end, String source) {
        return new WorkOrders.NewRequest(vendor, staff, "電子カルテ サーバ", "OS更新", patientData, false,
                patientData ? "画面確認" : null, start, end, source);
    }

    private static String refusal(Runnable r) {
        return assertThrows(MaintenanceException.class, r::run).getMessage();
    }

    @Test
    void cidrBlocksParseLiteralsOnly() {
        Cidr net = Cidr.parse("192.0.2.0/24").orElseThrow();
        assertTrue(net.containsAddress("192.0.2.77"));
        assertFalse(net.containsAddress("192.0.3.1"));
        assertEquals("192.0.2.0/24", Cidr.parse("192.0.2.9/24").orElseThrow().toString(), "host bits are masked");
        assertTrue(Cidr.parse("2001:db8::/48").orElseThrow().contains(Cidr.parse("2001:db8::5").orElseThrow()));
        assertEquals("2001:db8:1234::/48", Cidr.parse("2001:db8:1234:0:0:0:0:0/48").orElseThrow().toString());
        assertEquals("::1", Cidr.parse("0:0:0:0:0:0:0:1").orElseThrow().toString());
        assertTrue(Cidr.parse("example.com").isEmpty(), "a host name is refused, never looked up");
        assertTrue(Cidr.parse("192.0.2.0/33").isEmpty());
        assertTrue(Cidr.parse("x".repeat(10_000)).isEmpty());
    }

    @Test
    void vendorsStaffAndRoutesAreVersionsAndRefuseBadInput() {
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors.Entry v = vendor("株式会社データ保守", today.minusDays(1), today.plusYears(1));
        assertTrue(refusal(() -> vendors.saveVendor(ADMIN, null, vendorFields("", today, today)))
                .startsWith("会社名を入力してください"));
        Map<String, String> badSubs = vendorFields("X社", today, today);
        badSubs.put("subcontractors", "同意日のない会社");
        assertTrue(refusal(() -> vendors.saveVendor(ADMIN, null, badSubs)).startsWith("再委託先は1行に1社"));
        assertTrue(refusal(() -> vendors.saveVendor(ADMIN, null, vendorFields("Y社", today, today.minusDays(1))))
                .startsWith("契約終了日が開始日より前です"));
        assertTrue(refusal(() -> vendors.addRoute(ADMIN, v.entry(), Map.of("name", "広すぎ", "sources", "10.0.0.0/8",
                "reaches", "全部"))).startsWith("接続元アドレスの範囲が広すぎます"));
        assertTrue(refusal(() -> vendors.addRoute(ADMIN, v.entry(), Map.of("name", "名前", "sources", "vpn.example.com",
                "reaches", "全部"))).startsWith("接続元アドレスはIPアドレスかCIDR"));
        // a staff account cannot be a vendor's staff; a vendor account once only
        assertTrue(refusal(() -> vendors.addStaff(ADMIN, v.entry(), h.admin.loginId)).startsWith("保守業者用のアカウント"));
        Account a = vendorAccount(h, "hoshu.v");
        vendors.addStaff(ADMIN, v.entry(), a.loginId());
        assertTrue(refusal(() -> vendors.addStaff(ADMIN, v.entry(), a.loginId())).startsWith("このアカウントはすでに"));
        assertEquals(v.entry(), vendors.staffOf(a.id()).orElseThrow().vendor());
        // a change is a new version; retiring a version with a reason
        Map<String, String> changed = vendorFields("株式会社データ保守", today.minusDays(1), today.plusYears(2));
        assertEquals(2, vendors.saveVendor(ADMIN, v.entry(), changed).version());
        Vendors.Entry c = vendors.addComponent(ADMIN, v.entry(), Map.of("component", "電子カルテ", "duty", "OSとDB"));
        vendors.retire(ADMIN, Vendors.COMPONENT, c.entry(), "契約範囲の変更");
        assertTrue(vendors.current(Vendors.COMPONENT, v.entry()).isEmpty());
        assertTrue(h.<Long>one("SELECT count(*) FROM maintenance_vendor_version WHERE kind = 'vendor' AND entry = ?",
                v.entry()) == 2L);
    }

    @Test
    void aRequestIsRefusedOutsideTheContractRoutesOrTimeAndWhenItOverlaps() {
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors.Entry v = vendor("株式会社期限", today.minusDays(1), today.plusDays(30));
        Vendors.Entry ended = vendor("株式会社終了", today.minusYears(1), today.minusDays(1));
        Account a = vendorAccount(h, "hoshu.r");
        Account b = vendorAccount(h, "hoshu.s");
        vendors.addStaff(ADMIN, v.entry(), a.loginId());
        vendors.addStaff(ADMIN, v.entry(), b.loginId());
        Account c = vendorAccount(h, "hoshu.e");
        vendors.addStaff(ADMIN, ended.entry(), c.loginId());
        Instant start = Instant.now().plus(Duration.ofDays(2)).truncatedTo(ChronoUnit.HOURS);
        Instant end = start.plus(Duration.ofHours(4));

        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(ended.entry(), List.of(c.id()), false, start,
                end, "192.0.2.10"))).startsWith("作業時間帯が保守契約の期間"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id()), false,
                start.plus(Duration.ofDays(60)), end.plus(Duration.ofDays(60)), "192.0.2.10")))
                .startsWith("作業時間帯が保守契約の期間"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id()), false, start, end,
                "198.51.100.7"))).startsWith("接続元アドレスがこの保守業者の登録された保守経路に含まれません"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id()), false,
                Instant.now().minus(Duration.ofHours(2)), Instant.now().plus(Duration.ofHours(1)), "192.0.2.10")))
                .startsWith("作業開始が過去です"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id()), false, start,
                start.plus(Duration.ofHours(13)), "192.0.2.10"))).startsWith("作業時間帯は12時間までです"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(c.id()), false, start, end,
                "192.0.2.10"))).startsWith("作業者はこの保守業者の登録された作業者から"));
        assertTrue(refusal(() -> orders.file(ADMIN, ADMIN_ID, new WorkOrders.NewRequest(v.entry(), List.of(a.id()),
                "DB", "調査", true, false, " ", start, end, "192.0.2.10"))).startsWith("患者データが必要な理由を入力"));

        WorkOrders.WorkOrder first = orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id(), b.id()), false,
                start, end, "192.0.2.10"));
        assertTrue(first.number().matches("20[0-9]{2}-[0-9]{4}"), first.number());
        // the same staff member in an overlapping window: refused, naming the work order; another window is fine
        String overlap = refusal(() -> orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(b.id()), false,
                end.minus(Duration.ofHours(1)), end.plus(Duration.ofHours(2)), "192.0.2.11")));
        assertTrue(overlap.startsWith("同じ作業者の作業時間帯が作業番号 " + first.number() + " と重なっています"), overlap);
        WorkOrders.WorkOrder later = orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(b.id()), false, end,
                end.plus(Duration.ofHours(2)), "192.0.2.11"));
        assertFalse(later.number().equals(first.number()));
        // once the first is refused, its window is free again
        assertTrue(refusal(() -> orders.refuse(ADMIN, SECOND_ADMIN_ID, first.number(), " ")).startsWith("却下の理由を"));
        orders.refuse(ADMIN, SECOND_ADMIN_ID, first.number(), "作業内容が不明確");
        assertEquals(WorkOrders.State.REFUSED, orders.find(first.number()).orElseThrow().state(Instant.now()));
        assertTrue(refusal(() -> orders.approve(ADMIN, UUID.randomUUID(), first.number()))
                .startsWith("この申請はすでに却下されています"));
        orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(a.id()), false, start, end, "192.0.2.12"));

        // the refusals are in the trail too
        List<Map<String, Object>> refused = List.of();
        for (int i = 0; i < 100 && refused.size() < 7; i++) {
            refused = h.rows("SELECT 1 FROM audit_entry WHERE action = 'maintenance.request' AND"
                    + " convert_from(entry, 'UTF8')::jsonb ->> 'outcome' = 'refused'");
            Browser.sleep(100);
        }
        assertTrue(refused.size() >= 7, "every refused request is an audit entry: " + refused.size());
    }

    @Test
    void approvalActivatesTheWindowPatientDataNeedsTwoApproversAndNeverTheRequester() throws Exception {
        LocalDate today = LocalDate.now(Hospital.JST);
        Vendors.Entry v = vendor("株式会社承認", today.minusDays(1), today.plusDays(30));
        Account a = vendorAccount(h, "hoshu.a");
        Account p = vendorAccount(h, "hoshu.p");
        vendors.addStaff(ADMIN, v.entry(), a.loginId());
        vendors.addStaff(ADMIN, v.entry(), p.loginId());
        Instant now = Instant.now();
        Instant start = now.truncatedTo(ChronoUnit.MINUTES);
        Instant end = start.plus(Duration.ofHours(3));

        WorkOrders.WorkOrder w = orders.file(ADMIN, a.id(), request(v.entry(), List.of(a.id()), false, start, end,
                "192.0.2.20"));
        assertEquals(WorkOrders.State.WAITING, w.state(Instant.now()));
        assertTrue(orders.activeFor(a.id(), Instant.now()).isEmpty(), "nothing is active before approval");
        assertTrue(orders.waiting() >= 1);
        assertTrue(refusal(() -> orders.approve(ADMIN, a.id(), w.number())).startsWith("自分が申請した作業"),
                "the requester never approves");
        orders.approve(ADMIN, ADMIN_ID, w.number());
        assertTrue(refusal(() -> orders.approve(ADMIN, SECOND_ADMIN_ID, w.number()))
                .startsWith("この申請はすでに承認されています"));
        WorkOrders.ActiveWindow active = orders.activeFor(a.id(), Instant.now()).orElseThrow();
        assertEquals(w.number(), active.workOrderNo());
        assertEquals(end, active.until());
        assertFalse(active.patientDataApproved());
        assertTrue(active.admits("192.0.2.20"));
        assertFalse(active.admits("192.0.2.21"), "only the approved source address");
        assertFalse(active.admits("not an address"));
        assertTrue(orders.activeFor(a.id(), end).isEmpty(), "the window ends by itself");
        assertTrue(orders.activeFor(a.id(), start.minusSeconds(1)).isEmpty(), "not before the window");
        assertTrue(orders.activeFor(p.id(), Instant.now()).isEmpty(), "not for staff the request does not name");

        // patient data: two distinct approvers; the same person twice is refused
        WorkOrders.WorkOrder d = orders.file(ADMIN, ADMIN_ID, request(v.entry(), List.of(p.id()), true, start, end,
                "2001:db8::9"));
        assertEquals(2, d.approvalsNeeded());
        assertTrue(refusal(() -> orders.approve(ADMIN, ADMIN_ID, d.number())).startsWith("自分が申請した作業"),
                "an administrator who entered the request for the vendor does not approve it either");
        orders.approve(ADMIN, SECOND_ADMIN_ID, d.number());
        assertTrue(orders.activeFor(p.id(), Instant.now()).isEmpty(), "one approval is not enough for patient data");
        assertTrue(refusal(() -> orders.approve(ADMIN, SECOND_ADMIN_ID, d.number())).startsWith("すでにこの申請を承認"));
        UUID third = UUID.randomUUID();
        orders.approve(ADMIN, third, d.number());
        WorkOrders.ActiveWindow pd = orders.activeFor(p.id(), Instant.now()).orElseThrow();
        assertTrue(pd.patientDataApproved() && !pd.exportApproved());
        assertTrue(pd.admits("2001:db8:0:0:0:0:0:9"));
        assertEquals(WorkOrders.State.ACTIVE, orders.find(d.number()).orElseThrow().state(Instant.now()));
        // a staff member removed from the vendor after approval works no more
        Vendors.Entry link = vendors.staffOf(p.id()).orElseThrow();
        vendors.retire(ADMIN, Vendors.STAFF, link.entry(), "退職");
        assertTrue(orders.activeFor(p.id(), Instant.now()).isEmpty(), "removed staff have no window");

        // append-only: the runtime role may not change or delete; the superuser is stopped by the trigger
        for (String table : List.of("maintenance_work_order", "maintenance_work_order_decision",
                "maintenance_vendor_version")) {
            try (Connection c = h.server.server().database().dataSource().getConnection();
                 Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM " + table));
                assertTrue(e.getMessage().contains("permission denied") || e.getMessage().contains("refused"),
                        e::getMessage);
            }
            try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement()) {
                assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM " + table));
            }
        }
        try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement()) {
            assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE maintenance_work_order SET window_end ="
                    + " window_end + interval '1 day'"));
        }

        // each step an audit entry: filed, approved (and the refused approvals), with the work order's number
        List<String> entries = List.of();
        for (int i = 0; i < 100 && entries.size() < 5; i++) {
            entries = h.rows("SELECT convert_from(entry, 'UTF8') AS e FROM audit_entry WHERE action LIKE"
                    + " 'maintenance.%' AND convert_from(entry, 'UTF8')::jsonb -> 'detail' ->> 'workOrder' = ?",
                    d.number()).stream().map(r -> (String) r.get("e")).toList();
            Browser.sleep(100);
        }
        String all = String.join("\n", entries);
        assertTrue(entries.size() >= 5 && all.contains("maintenance.request") && all.contains("maintenance.approve")
                && all.contains("\"approved\":\"true\""), all);
    }
}
