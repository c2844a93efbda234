package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The access reports and a review's items read access's tables and ask identity for the people; their filtering
 * and order stay what one query joining the account ledger gave. That query is kept here as the reference.
 */
class AccessReportsOrderTest {
    private static TestServer server;
    private static DataSource ds;
    private static Clock clock;
    private static UUID admin;
    private static String department;
    private static UUID retired;
    private static final List<UUID> PEOPLE = new ArrayList<>();

    @BeforeAll
    static void peopleWithRolesAndPrivileges() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        clock = Clock.fixed(Instant.now(), ZoneOffset.UTC);
        Roles roles = new Roles(ds, clock);
        SensitivityPrivileges privileges = new SensitivityPrivileges(ds, clock);
        admin = AccessFixtures.account(server, "order-admin", true);
        department = "順序科" + UUID.randomUUID().toString().substring(0, 8);
        String tag = UUID.randomUUID().toString().substring(0, 6);
        // login ids that differ only in punctuation, equal and missing last logins, a retired holder
        String[] logins = {"ord." + tag, "ord-" + tag, "ord_" + tag, "ord" + tag, "orc" + tag, "orz" + tag};
        Instant old = clock.instant().minus(Duration.ofDays(200)).plusNanos(123_000);
        Instant[] lastLogins = {null, old, null, old, clock.instant(), old.plusSeconds(1)};
        for (int i = 0; i < logins.length; i++) {
            UUID id = account(logins[i], lastLogins[i]);
            PEOPLE.add(id);
            roles.assign(admin, id, "clerk", department, null);
            roles.assign(admin, id, i % 2 == 0 ? "physician" : "auditor", department, null);
            if (i % 3 == 0) {
                privileges.grant(admin, id, "PSY");
            }
        }
        retired = PEOPLE.get(5);
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE account SET status = 'retired' WHERE account_id = ?")) {
            ps.setObject(1, retired);
            ps.executeUpdate();
        }
    }

    private static UUID account(String login, Instant lastLogin) throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO account (account_id, login_id, family_name,"
                     + " given_name, family_kana, given_kana, account_type, status, status_changed_at, created_at,"
                     + " created_by, last_login_at) VALUES (?, ?, '順序', '花子', 'ジュンジョ', 'ハナコ', 'staff',"
                     + " 'active', now(), now(), 'test', ?)")) {
            ps.setObject(1, id);
            ps.setString(2, login);
            ps.setTimestamp(3, lastLogin == null ? null : Timestamp.from(lastLogin));
            ps.executeUpdate();
        }
        return id;
    }

    /** The query the reports were before they asked identity for the people. */
    private static List<AccessReports.Holding> reference(String accountWhere, Timestamp param, boolean clinicalOnly) {
        return Tx.read(ds, c -> {
            List<AccessReports.Holding> out = new ArrayList<>();
            String sql = "SELECT a.account_id, a.login_id, a.family_name || ' ' || a.given_name, h.kind, h.what,"
                    + " h.department, a.last_login_at FROM ("
                    + " SELECT ra.account_id, 'role' AS kind, ra.role AS what, ra.department FROM role_assignment ra"
                    + " WHERE ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL"
                    + (clinicalOnly ? " AND EXISTS (SELECT 1 FROM role r JOIN role_permission p ON p.role = r.code"
                    + " JOIN information_category ic ON ic.code = p.category WHERE r.code = ra.role"
                    + " AND r.clinical_content AND ic.clinical)" : "")
                    + " UNION ALL SELECT sp.account_id, 'privilege', sp.label, NULL FROM sensitivity_privilege sp"
                    + " WHERE sp.approved_at IS NOT NULL AND sp.revoked_at IS NULL"
                    + ") h JOIN account a ON a.account_id = h.account_id"
                    + " WHERE a.status <> 'retired' AND (" + accountWhere + ")"
                    + " ORDER BY a.last_login_at NULLS FIRST, a.login_id, h.kind DESC, h.what, h.department";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (param != null) {
                    ps.setTimestamp(1, param);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Timestamp t = rs.getTimestamp(7);
                        out.add(new AccessReports.Holding(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getString(6), t == null ? null : t.toInstant()));
                    }
                }
            }
            return out;
        });
    }

    @Test
    void theUnusedReportKeepsItsFilterAndOrder() {
        List<AccessReports.Holding> unused = new AccessReports(ds, clock).unused(90);
        Instant cutoff = clock.instant().minus(Duration.ofDays(90));
        assertEquals(reference("a.last_login_at IS NULL OR a.last_login_at < ?", Timestamp.from(cutoff), false), unused);
        Set<UUID> listed = Set.copyOf(unused.stream().map(AccessReports.Holding::accountId).toList());
        assertTrue(listed.containsAll(List.of(PEOPLE.get(0), PEOPLE.get(1), PEOPLE.get(2), PEOPLE.get(3))));
        assertFalse(listed.contains(PEOPLE.get(4)), "logged in today");
        assertFalse(listed.contains(retired), "retired");
    }

    @Test
    void theSensitiveReportKeepsItsFilterAndOrder() {
        List<AccessReports.Holding> sensitive = new AccessReports(ds, clock).sensitive();
        assertEquals(reference("TRUE", null, true), sensitive);
        assertTrue(sensitive.stream().anyMatch(h -> h.accountId().equals(PEOPLE.get(0)) && h.kind().equals("privilege")));
        assertFalse(sensitive.stream().anyMatch(h -> h.accountId().equals(retired)));
    }

    @Test
    void aReviewListsTheAssignmentsByLoginIdThenRole() {
        AccessReviews reviews = new AccessReviews(ds, clock, new Roles(ds, clock));
        UUID review = reviews.start(admin, department);
        List<AccessReviews.Item> items = reviews.items(review);
        List<String> expected = Tx.read(ds, c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ra.assignment_id, a.login_id, a.last_login_at"
                    + " FROM role_assignment ra JOIN account a ON a.account_id = ra.account_id WHERE ra.department = ?"
                    + " AND ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL ORDER BY a.login_id, ra.role")) {
                ps.setString(1, department);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Timestamp t = rs.getTimestamp(3);
                        out.add(rs.getString(1) + " " + rs.getString(2) + " " + (t == null ? null : t.toInstant()));
                    }
                }
            }
            return out;
        });
        assertEquals(12, expected.size());
        assertEquals(expected, items.stream().map(i -> i.assignmentId() + " " + i.loginId() + " " + i.lastUsedAt())
                .toList());
        assertEquals("順序 花子", items.get(0).name());
        assertEquals(admin, reviews.review(review).startedBy());
        assertTrue(reviews.review(review).startedByLogin().startsWith("order-admin-"));
    }
}
