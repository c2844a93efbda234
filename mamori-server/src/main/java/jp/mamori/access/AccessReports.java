package jp.mamori.access;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reports for whoever manages access (ACCESS-5, ACCESS-12): roles and privileges nobody has used for a while,
 * people who can reach guarded information, and the change history in {@code access_change}.
 * "Use" is the account's last login for now; per-privilege use comes with the audit trail of people's access.
 */
public final class AccessReports {
    /**
     * One holding: a role assignment (kind {@code role}, what = role code, department) or a sensitivity
     * privilege (kind {@code privilege}, what = label, department null), with the holder's last login.
     */
    public record Holding(UUID accountId, String loginId, String name, String kind, String what, String department,
                          Instant lastLoginAt) {
    }

    public record Change(long id, Instant at, String by, String action, String subject, String detail) {
    }

    private final DataSource ds;
    private final Clock clock;

    public AccessReports(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    /** Assignments and privileges in force whose holder has not logged in for {@code days} days, or never. */
    public List<Holding> unused(int days) {
        Instant cutoff = clock.instant().minus(Duration.ofDays(days));
        return holdings("a.last_login_at IS NULL OR a.last_login_at < ?", Timestamp.from(cutoff), false);
    }

    /**
     * Who can reach guarded information: every sensitivity privilege in force, and every role in force that
     * carries a permission on a clinical category.
     */
    public List<Holding> sensitive() {
        return holdings("TRUE", null, true);
    }

    private List<Holding> holdings(String accountWhere, Timestamp param, boolean clinicalOnly) {
        return Tx.read(ds, c -> {
            List<Holding> out = new ArrayList<>();
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
                        out.add(new Holding(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getString(6), Roles.instant(rs.getTimestamp(7))));
                    }
                }
            }
            return out;
        });
    }

    /** The latest changes to roles, permissions, assignments, care relationships, privileges and reviews. */
    public List<Change> history(int limit) {
        return Tx.read(ds, c -> {
            List<Change> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT change_id, at, by_principal, action, subject,"
                    + " detail::text FROM access_change ORDER BY change_id DESC LIMIT ?")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Change(rs.getLong(1), Roles.instant(rs.getTimestamp(2)), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getString(6)));
                    }
                }
            }
            return out;
        });
    }
}
