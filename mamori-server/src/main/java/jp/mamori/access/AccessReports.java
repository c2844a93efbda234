package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.identity.People;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

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
        // compared as the database compared it, to the microsecond the driver rounded the cutoff to
        Instant sent = cutoff.plusNanos(500).truncatedTo(ChronoUnit.MICROS);
        return holdings(p -> p.lastLoginAt() == null || p.lastLoginAt().isBefore(sent), false);
    }

    /**
     * Who can reach guarded information: every sensitivity privilege in force, and every role in force that
     * carries a permission on a clinical category.
     */
    public List<Holding> sensitive() {
        return holdings(p -> true, true);
    }

    /**
     * The holdings of people not retired who pass {@code holder}, ordered by the holder's last login (never
     * first), login id, kind (roles first), what and department. The holdings come from access's tables in the
     * order of their own columns; the people from identity in one lookup, in login id order; a stable sort then
     * puts the holders first.
     */
    private List<Holding> holdings(Predicate<People.Person> holder, boolean clinicalOnly) {
        return Tx.read(ds, c -> {
            record Row(UUID accountId, String kind, String what, String department) {
            }
            List<Row> rows = new ArrayList<>();
            String sql = "SELECT h.account_id, h.kind, h.what, h.department FROM ("
                    + " SELECT ra.account_id, 'role' AS kind, ra.role AS what, ra.department FROM role_assignment ra"
                    + " WHERE ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL"
                    + (clinicalOnly ? " AND EXISTS (SELECT 1 FROM role r JOIN role_permission p ON p.role = r.code"
                    + " JOIN information_category ic ON ic.code = p.category WHERE r.code = ra.role"
                    + " AND r.clinical_content AND ic.clinical)" : "")
                    + " UNION ALL SELECT sp.account_id, 'privilege', sp.label, NULL FROM sensitivity_privilege sp"
                    + " WHERE sp.approved_at IS NOT NULL AND sp.revoked_at IS NULL"
                    + ") h ORDER BY h.kind DESC, h.what, h.department";
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            Map<UUID, People.Person> people = People.of(c, rows.stream().map(Row::accountId).toList());
            Map<UUID, Integer> loginOrder = new HashMap<>();
            people.keySet().forEach(id -> loginOrder.put(id, loginOrder.size()));
            List<Holding> out = new ArrayList<>();
            for (Row r : rows) {
                People.Person p = people.get(r.accountId());
                if (p != null && !p.retired() && holder.test(p)) {
                    out.add(new Holding(p.id(), p.loginId(), p.name(), r.kind(), r.what(), r.department(),
                            p.lastLoginAt()));
                }
            }
            out.sort(Comparator.comparing(Holding::lastLoginAt,
                            Comparator.nullsFirst(Comparator.<Instant>naturalOrder()))
                    .thenComparing((Holding h) -> loginOrder.get(h.accountId())));
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
