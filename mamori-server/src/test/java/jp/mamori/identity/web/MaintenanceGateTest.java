package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.identity.Sessions;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The maintenance gate's decisions with a clock the test moves (issue 19): admitted inside the window from its source
 * (recorded once), the desk before it and from another source, the session ended when the window is over, when the
 * wall clock is set back or forward during the window against the monotonic clock, and when a request comes from
 * another address; a session that is not a vendor's is never asked about.
 */
class MaintenanceGateTest {
    private static Hospital h;
    private static Vendors vendors;
    private static int vendorNo;
    private static final Actor ADMIN = Actor.person("account:kanri.gate", "管理 次郎", List.of("admin"), null,
            "127.0.0.1", null);
    /** The wall clock the gate and the work orders read, and the monotonic clock the gate compares it with. */
    private static final AtomicLong wallMillis = new AtomicLong();
    private static final AtomicLong monoNanos = new AtomicLong();
    private static final Clock CLOCK = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(wallMillis.get());
        }
    };

    @BeforeAll
    static void open() {
        h = Hospital.open();
        vendors = h.server.server().workOrders().vendors();
        LocalDate today = LocalDate.now(Hospital.JST);
        vendorNo = vendors.saveVendor(ADMIN, null, WorkOrdersTest.vendorFields("株式会社時計保守", today.minusDays(1),
                today.plusYears(1))).entry();
        vendors.addRoute(ADMIN, vendorNo, Map.of("name", "VPN", "sources", "192.0.2.0/24", "reaches", "DB"));
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static void advance(Duration wall, Duration mono) {
        wallMillis.addAndGet(wall.toMillis());
        monoNanos.addAndGet(mono.toNanos());
    }

    private record Setup(MaintenanceGate gate, Sessions.Session session, String number) {
    }

    /** A vendor account with an approved one-hour window from 192.0.2.10, starting in ten minutes of the test clock. */
    private static Setup setup(String stem) {
        wallMillis.set(Instant.now().truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofDays(1)).toEpochMilli());
        WorkOrders orders = new WorkOrders(h.server.server().database().dataSource(),
                h.server.server().audit().recorder(), vendors, CLOCK, Hospital.JST);
        Account a = WorkOrdersTest.vendorAccount(h, stem);
        vendors.addStaff(ADMIN, vendorNo, a.loginId());
        Instant start = CLOCK.instant().plus(Duration.ofMinutes(10));
        String no = orders.file(ADMIN, UUID.randomUUID(), new WorkOrders.NewRequest(vendorNo, List.of(a.id()), "DB",
                "統計情報の更新", false, false, null, start, start.plus(Duration.ofHours(1)), "192.0.2.10")).number();
        orders.approve(ADMIN, UUID.randomUUID(), no);
        Sessions.Session s = new Sessions.Session("ref-" + stem, a.id(), a.loginId(), "保守 一郎", Account.Type.VENDOR,
                Set.of(), Sessions.Stage.AUTHENTICATED, "pwd+totp", CLOCK.instant(), CLOCK.instant(), CLOCK.instant(),
                false, false, null, null, 0);
        return new Setup(new MaintenanceGate(orders, h.server.server().audit().recorder(), CLOCK, monoNanos::get), s,
                no);
    }

    private static long ended(String number, String why) {
        return h.<Long>one("SELECT count(*) FROM audit_entry WHERE action = 'maintenance.session' AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,workOrder}' = ? AND"
                + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,why}' = ?", number, why);
    }

    @Test
    void theWindowOpensFromItsSourceOnlyAndEndsByItself() {
        Setup x = setup("gate.window");
        MaintenanceGate.Verdict before = x.gate().admit(x.session(), "192.0.2.10");
        assertInstanceOf(MaintenanceGate.Desk.class, before, "nothing before the window");
        assertNull(((MaintenanceGate.Desk) before).why());
        advance(Duration.ofMinutes(10), Duration.ofMinutes(10));
        MaintenanceGate.Verdict elsewhere = x.gate().admit(x.session(), "198.51.100.7");
        assertEquals(MaintenanceGate.NOT_FROM_SOURCE, ((MaintenanceGate.Desk) elsewhere).why());
        MaintenanceGate.Verdict in = x.gate().admit(x.session(), "192.0.2.10");
        assertEquals(x.number(), ((MaintenanceGate.InWindow) in).window().workOrderNo());
        assertEquals(x.number(), x.gate().window(x.session()).orElseThrow().workOrderNo());
        advance(Duration.ofMinutes(59), Duration.ofMinutes(59));
        assertInstanceOf(MaintenanceGate.InWindow.class, x.gate().admit(x.session(), "192.0.2.10"));
        advance(Duration.ofMinutes(2), Duration.ofMinutes(2));
        MaintenanceGate.Verdict over = x.gate().admit(x.session(), "192.0.2.10");
        assertEquals(MaintenanceGate.WINDOW_OVER, ((MaintenanceGate.Ended) over).message());
        assertEquals(1, ended(x.number(), "window-over"));
        assertTrue(x.gate().window(x.session()).isEmpty(), "the binding is gone");
        assertInstanceOf(MaintenanceGate.Desk.class, x.gate().admit(x.session(), "192.0.2.10"), "then the desk");
    }

    @Test
    void aClockSetBackOrAnotherAddressEndsTheSession() {
        Setup x = setup("gate.clock");
        advance(Duration.ofMinutes(25), Duration.ofMinutes(25)); // 15 minutes into the window
        assertInstanceOf(MaintenanceGate.InWindow.class, x.gate().admit(x.session(), "192.0.2.10"));
        // someone sets the server's clock back 10 minutes, which would stretch the window
        advance(Duration.ofMinutes(-10), Duration.ofSeconds(5));
        MaintenanceGate.Verdict v = x.gate().admit(x.session(), "192.0.2.10");
        assertEquals(MaintenanceGate.CLOCK_CHANGED, ((MaintenanceGate.Ended) v).message());
        assertEquals(1, ended(x.number(), "clock-changed"));
        // signed in again: bound anew; a small correction (NTP slewing) is not a change
        advance(Duration.ofMinutes(10), Duration.ofSeconds(1));
        assertInstanceOf(MaintenanceGate.InWindow.class, x.gate().admit(x.session(), "192.0.2.10"), "bound again");
        advance(Duration.ofSeconds(30), Duration.ofSeconds(1));
        assertInstanceOf(MaintenanceGate.InWindow.class, x.gate().admit(x.session(), "192.0.2.10"));
        // the same session from another address mid-window
        MaintenanceGate.Verdict moved = x.gate().admit(x.session(), "192.0.2.11");
        assertEquals(MaintenanceGate.OTHER_ADDRESS, ((MaintenanceGate.Ended) moved).message(),
                "another address inside the approved block is still not the approved source");
        assertEquals(1, ended(x.number(), "other-address"));
    }

    @Test
    void onlyVendorsSessionsAreAsked() {
        Sessions.Session staff = new Sessions.Session("ref-staff", UUID.randomUUID(), "kango", "看護 花子",
                Account.Type.STAFF, Set.of("nurse"), Sessions.Stage.AUTHENTICATED, "pwd+totp", Instant.now(),
                Instant.now(), Instant.now(), false, false, null, null, 0);
        assertTrue(!MaintenanceGate.applies(staff) && !MaintenanceGate.applies(null));
        assertTrue(MaintenanceGate.deskPath("/console/maintenance/request") && MaintenanceGate.deskPath("/console/me")
                && !MaintenanceGate.deskPath("/console/maintenancex") && !MaintenanceGate.deskPath("/console/audit")
                && !MaintenanceGate.deskPath("/console/admin/health"));
    }
}
