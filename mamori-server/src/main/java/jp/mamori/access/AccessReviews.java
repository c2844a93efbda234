package jp.mamori.access;

import jp.mamori.db.Tx;

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
import java.util.List;
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
            int n;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_review_item (review_id, assignment_id,"
                    + " account_id, role, department, last_used_at) SELECT ?, ra.assignment_id, ra.account_id, ra.role,"
                    + " ra.department, a.last_login_at FROM role_assignment ra JOIN account a ON a.account_id = ra.account_id"
                    + " WHERE ra.department = ? AND ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL"
                    + " ORDER BY a.login_id, ra.role")) {
                ps.setObject(1, id);
                ps.setString(2, dept);
                n = ps.executeUpdate();
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
        List<Review> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r.review_id, r.department, r.started_by, s.login_id,"
                + " r.started_at, r.completed_at, r.completed_by, d.login_id,"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id),"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id AND i.decision IS NOT NULL),"
                + " (SELECT count(*) FROM access_review_item i WHERE i.review_id = r.review_id AND i.decision = 'remove')"
                + " FROM access_review r JOIN account s ON s.account_id = r.started_by"
                + " LEFT JOIN account d ON d.account_id = r.completed_by WHERE " + where
                + " ORDER BY r.started_at DESC, r.review_id")) {
            if (param != null) {
                ps.setObject(1, param);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Review(rs.getObject(1, UUID.class), rs.getString(2), rs.getObject(3, UUID.class),
                            rs.getString(4), Roles.instant(rs.getTimestamp(5)), Roles.instant(rs.getTimestamp(6)),
                            rs.getObject(7, UUID.class), rs.getString(8), rs.getInt(9), rs.getInt(10), rs.getInt(11)));
                }
            }
        }
        return out;
    }

    private static List<Item> items(Connection c, String where, Object param) throws SQLException {
        List<Item> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT i.item_id, i.review_id, i.assignment_id, i.account_id,"
                + " a.login_id, a.family_name || ' ' || a.given_name, i.role, i.department, i.last_used_at, i.decision,"
                + " i.decided_by, d.login_id, i.decided_at, i.note FROM access_review_item i"
                + " JOIN account a ON a.account_id = i.account_id LEFT JOIN account d ON d.account_id = i.decided_by"
                + " WHERE " + where + " ORDER BY i.item_id")) {
            ps.setObject(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Item(rs.getLong(1), rs.getObject(2, UUID.class), rs.getObject(3, UUID.class),
                            rs.getObject(4, UUID.class), rs.getString(5), rs.getString(6), rs.getString(7),
                            rs.getString(8), Roles.instant(rs.getTimestamp(9)), rs.getString(10),
                            rs.getObject(11, UUID.class), rs.getString(12), Roles.instant(rs.getTimestamp(13)),
                            rs.getString(14)));
                }
            }
        }
        return out;
    }
}
