package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.identity.People;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Periodic access review per department (ACCESS-5): an administrator starts a review, which lists every role
 * assignment in force there with the holder's last login; each is confirmed or removed (removal revokes the
 * assignment through {@link Roles}, the review being the reason), and the review is completed once all are
 * decided. Who decided what and when is kept in {@code access_review_item}, and every step in
 * {@code access_change}.
 */
public final class AccessReviews {
    public static final List<String> DECISIONS = List.of("confirm", "remove");

    public record Review(UUID id, String department, UUID startedBy, String startedByLogin, Instant startedAt,
                         Instant completedAt, UUID completedBy, String completedByLogin, int items, int decided,
                         int removed) {
        public boolean open() {
            return completedAt == null;
        }
    }

    public record Item(long id, UUID reviewId, UUID assignmentId, UUID accountId, String loginId, String name,
                       String role, String department, Instant lastUsedAt, String decision, UUID decidedBy,
                       String decidedByLogin, Instant decidedAt, String note) {
    }

    private final DataSource ds;
    private final Clock clock;
    private final Roles roles;

    public AccessReviews(DataSource ds, Clock clock, Roles roles) {
        this.ds = ds;
        this.clock = clock;
        this.roles = roles;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Starts a review of {@code department}: one item for every role assignment in force there now. */
    public UUID start(UUID actor, String department) {
        if (department == null || department.isBlank() || department.strip().length() > 100) {
            throw new AccessException("部署（または病棟）を入力してください / Enter the department or ward");
        }
        String dept = department.strip();
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            UUID id = UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_review (review_id, department, started_by,"
                    + " started_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setObject(1, id);
                ps.setString(2, dept);
                ps.setObject(3, actor);
                ps.setTimestamp(4, Timestamp.from(now));
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("この部署の見直しは既に進行中です / A review of this department is already open");
                }
            }
            // The assignments in force in the department, by role; then by holder's login id (identity's order,
            // one lookup; the sort is stable), which is the order of the items.
            record InForce(UUID assignmentId, UUID accountId, String role, String department) {
            }
            List<InForce> inForce = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT assignment_id, account_id, role, department"
                    + " FROM role_assignment WHERE department = ? AND approved_at IS NOT NULL AND revoked_at IS NULL"
                    + " ORDER BY role")) {
                ps.setString(1, dept);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        inForce.add(new InForce(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                                rs.getString(3), rs.getString(4)));
                    }
                }
            }
            Map<UUID, People.Person> people = People.of(c, inForce.stream().map(InForce::accountId).toList());
            Map<UUID, Integer> loginOrder = new HashMap<>();
            people.keySet().forEach(a -> loginOrder.put(a, loginOrder.size()));
            inForce.removeIf(a -> !people.containsKey(a.accountId()));
            inForce.sort(Comparator.comparing((InForce a) -> loginOrder.get(a.accountId())));
            int n = inForce.size();
            if (n > 0) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_review_item (review_id, assignment_id,"
                        + " account_id, role, department, last_used_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                    for (InForce a : inForce) {
                        Instant last = people.get(a.accountId()).lastLoginAt();
                        ps.setObject(1, id);
                        ps.setObject(2, a.assignmentId());
                        ps.setObject(3, a.accountId());
                        ps.setString(4, a.role());
                        ps.setString(5, a.department());
                        ps.setTimestamp(6, last == null ? null : Timestamp.from(last));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            AccessLedger.record(c, now, by, "review.started", "review:" + id,
                    AccessLedger.detail().put("department", dept).put("items", n));
            return id;
        });
    }

    /**
     * Records the decision on one item. {@code remove} revokes the assignment (if still in force) with the
     * review as the reason. Nobody decides on their own roles.
     */
    public Item decide(UUID actor, long itemId, String decision, String note) {
        if (!DECISIONS.contains(decision)) {
            throw new AccessException("判定を選んでください（継続・削除） / Choose confirm or remove");
        }
        String n = note == null || note.isBlank() ? null : note.strip();
        if (n != null && n.length() > 1000) {
            throw new AccessException("備考は1000文字までです / The note is at most 1,000 characters");
        }
        Item item = item(itemId);
        Review review = review(item.reviewId());
        if (!review.open()) {
            throw new AccessException("この見直しは完了しています / The review is already completed");
        }
        if (item.decision() != null) {
            throw new AccessException("この項目は判定済みです / This item is already decided");
        }
        if (actor.equals(item.accountId())) {
            throw new AccessException("自分の役割は別の管理者が見直します / Your own roles are reviewed by a different administrator");
        }
        if (decision.equals("remove")) {
            boolean inForce = roles.assignments(item.accountId()).stream()
                    .anyMatch(a -> a.id().equals(item.assignmentId()) && a.revokedAt() == null);
            if (inForce) {
                roles.revoke(actor, item.assignmentId(), "アクセス権の見直し / access review " + review.id()
                        + (n == null ? "" : ": " + n));
            }
        }
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            try (PreparedStatement ps = c.prepareStatement("UPDATE access_review_item SET decision = ?, decided_by = ?,"
                    + " decided_at = ?, note = ? WHERE item_id = ? AND decision IS NULL AND EXISTS (SELECT 1 FROM"
                    + " access_review r WHERE r.review_id = access_review_item.review_id AND r.completed_at IS NULL)")) {
                ps.setString(1, decision);
                ps.setObject(2, actor);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, n);
                ps.setLong(5, itemId);
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("この項目は判定済みです / This item is already decided");
                }
            }
            AccessLedger.record(c, now, by, "review.decided", "review:" + item.reviewId(), AccessLedger.detail()
                    .put("item", itemId).put("account", item.accountId().toString()).put("role", item.role())
                    .put("department", item.department()).put("decision", decision).put("note", n));
            return items(c, "i.item_id = ?", itemId).get(0);
        });
    }

    /** Completes a review once every item is decided. */
    public Review complete(UUID actor, UUID reviewId) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM access_review_item WHERE review_id = ?"
                    + " AND decision IS NULL")) {
                ps.setObject(1, reviewId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        throw new AccessException("未判定の項目が " + rs.getLong(1) + " 件あります / " + rs.getLong(1)
                                + " item(s) are not yet decided");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE access_review SET completed_at = ?, completed_by = ?"
                    + " WHERE review_id = ? AND completed_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, actor);
                ps.setObject(3, reviewId);
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("完了できる見直しではありません / No open review with this id");
                }
            }
            AccessLedger.record(c, now, by, "review.completed", "review:" + reviewId, AccessLedger.detail());
            return null;
        });
        return review(reviewId);
    }

    /**
     * A department as the periodic review sees it (ACCESS-5): the role assignments in force there and the people
     * holding them, when its last review was completed (null: never) and whether one is open now.
     */
    public record Standing(String department, int assignments, int people, Instant lastCompleted, boolean open) {
    }

    /** Every department with a role assignment in force, by name, with its last completed review. */
    public List<Standing> standings() {
        return Tx.read(ds, c -> {
            List<Standing> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ra.department, count(*), count(DISTINCT ra.account_id),"
                    + " (SELECT max(r.completed_at) FROM access_review r WHERE r.department = ra.department),"
                    + " EXISTS (SELECT 1 FROM access_review r WHERE r.department = ra.department"
                    + " AND r.completed_at IS NULL)"
                    + " FROM role_assignment ra WHERE ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL"
                    + " GROUP BY ra.department ORDER BY ra.department");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp t = rs.getTimestamp(4);
                    out.add(new Standing(rs.getString(1), rs.getInt(2), rs.getInt(3), t == null ? null : t.toInstant(),
                            rs.getBoolean(5)));
                }
            }
            return out;
        });
    }

    /** All reviews, newest first, with who started and completed them and when. */
    public List<Review> list() {
        return Tx.read(ds, c -> reviews(c, "TRUE", null));
    }

    public Review review(UUID id) {
        List<Review> l = Tx.read(ds, c -> reviews(c, "r.review_id = ?", id));
        if (l.isEmpty()) {
            throw new AccessException("見直しが見つかりません / No such review");
        }
        return l.get(0);
    }

    public List<Item> items(UUID reviewId) {
        return Tx.read(ds, c -> items(c, "i.review_id = ?", reviewId));
    }

    public Item item(long itemId) {
        List<Item> l = Tx.read(ds, c -> items(c, "i.item_id = ?", itemId));
        if (l.isEmpty()) {
            throw new AccessException("見直しの項目が見つかりません / No such review item");
        }
        return l.get(0);
    }

    private static List<Review> reviews(Connection c, String where, Object param) throws SQLException {
        List<Review> read = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r.review_id, r.department, r.started_by,"
                + " r.started_at, r.completed_at, r.completed_by,"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id),"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id AND i.decision IS NOT NULL),"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id AND i.decision = 'remove')"
                + " FROM access_review r WHERE " + where
                + " ORDER BY r.started_at DESC, r.review_id")) {
            if (param != null) {
                ps.setObject(1, param);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    read.add(new Review(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, UUID.class),
                            null, Roles.instant(rs.getTimestamp(4)), Roles.instant(rs.getTimestamp(5)),
                            rs.getObject(6, UUID.class), null, rs.getInt(7), rs.getInt(8), rs.getInt(9)));
                }
            }
        }
        List<UUID> ids = new ArrayList<>();
        read.forEach(r -> {
            ids.add(r.startedBy());
            ids.add(r.completedBy());
        });
        Map<UUID, People.Person> people = People.of(c, ids);
        List<Review> out = new ArrayList<>();
        for (Review r : read) {
            People.Person s = people.get(r.startedBy());
            People.Person d = r.completedBy() == null ? null : people.get(r.completedBy());
            if (s != null) {
                out.add(new Review(r.id(), r.department(), r.startedBy(), s.loginId(), r.startedAt(), r.completedAt(),
                        r.completedBy(), d == null ? null : d.loginId(), r.items(), r.decided(), r.removed()));
            }
        }
        return out;
    }

    private static List<Item> items(Connection c, String where, Object param) throws SQLException {
        List<Item> read = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT i.item_id, i.review_id, i.assignment_id, i.account_id,"
                + " i.role, i.department, i.last_used_at, i.decision, i.decided_by, i.decided_at, i.note"
                + " FROM access_review_item i WHERE " + where + " ORDER BY i.item_id")) {
            ps.setObject(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    read.add(new Item(rs.getLong(1), rs.getObject(2, UUID.class), rs.getObject(3, UUID.class),
                            rs.getObject(4, UUID.class), null, null, rs.getString(5), rs.getString(6),
                            Roles.instant(rs.getTimestamp(7)), rs.getString(8), rs.getObject(9, UUID.class), null,
                            Roles.instant(rs.getTimestamp(10)), rs.getString(11)));
                }
            }
        }
        List<UUID> ids = new ArrayList<>();
        read.forEach(i -> {
            ids.add(i.accountId());
            ids.add(i.decidedBy());
        });
        Map<UUID, People.Person> people = People.of(c, ids);
        List<Item> out = new ArrayList<>();
        for (Item i : read) {
            People.Person a = people.get(i.accountId());
            People.Person d = i.decidedBy() == null ? null : people.get(i.decidedBy());
            if (a != null) {
                out.add(new Item(i.id(), i.reviewId(), i.assignmentId(), i.accountId(), a.loginId(), a.name(), i.role(),
                        i.department(), i.lastUsedAt(), i.decision(), i.decidedBy(), d == null ? null : d.loginId(),
                        i.decidedAt(), i.note()));
            }
        }
        return out;
    }
}
