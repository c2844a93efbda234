package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.identity.People;
import jp.mamori.identity.Sessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Break-glass (緊急時アクセス): a person without a care relationship opens one patient's record in an
 * emergency. They give a reason (a choice and at least ten characters of their own), confirm with a fresh
 * second factor, and get access to that one patient, keyed by the FHIR Patient logical id, for a limited
 * time ({@link Settings#grant()}, 2 hours unless configured, at most 12). The security manager is told at
 * once (console inbox and the {@link SecurityNotifier}); every access made under it is marked; every use
 * waits in a review queue, and unreviewed uses past {@link Settings#escalateAfter()} are escalated and
 * notified again. The history is append-only in the database (V6).
 *
 * <p>{@link AccessPolicy} consults {@link #active} (and {@link #activeFor} for searches) for person callers
 * of the record service, and marks every access made under a use.
 */
public final class BreakGlass {
    private static final Logger log = LoggerFactory.getLogger(BreakGlass.class);
    public static final Duration MAX_GRANT = Duration.ofHours(12);
    public static final List<String> REASONS = List.of("emergency_treatment", "unconscious_patient",
            "covering_colleague", "other");
    public static final List<String> DECISIONS = List.of("appropriate", "inappropriate", "follow_up");
    /** Outcomes in reports: the latest decision, or {@code pending}. */
    public static final List<String> OUTCOMES = List.of("pending", "appropriate", "inappropriate", "follow_up");
    public static final int MIN_REASON = 10;
    private static final Pattern PATIENT_ID = Pattern.compile("[A-Za-z0-9.-]{1,64}");

    /** @param grant how long a use lasts; @param escalateAfter the age from which an unreviewed use escalates */
    public record Settings(Duration grant, Duration escalateAfter) {
        public static final Settings DEFAULT = new Settings(Duration.ofHours(2), Duration.ofHours(72));

        public Settings {
            if (grant == null || grant.isNegative() || grant.isZero() || grant.compareTo(MAX_GRANT) > 0) {
                throw new IllegalArgumentException("break-glass lasts more than 0 and at most 12 hours");
            }
            if (escalateAfter == null || escalateAfter.compareTo(Duration.ofHours(1)) < 0) {
                throw new IllegalArgumentException("break-glass reviews escalate after at least 1 hour");
            }
        }
    }

    /** Refused, with a message for the person ("日本語 / English"). */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /** One break-glass use as its holder and the banner see it. */
    public record Grant(UUID id, UUID accountId, String patientId, String department, String reasonCode,
                        String reasonText, Instant startedAt, Instant expiresAt, Instant endedAt) {
        public boolean activeAt(Instant now) {
            return endedAt == null && expiresAt.isAfter(now);
        }

        public Duration timeLeft(Instant now) {
            return activeAt(now) ? Duration.between(now, expiresAt) : Duration.ZERO;
        }
    }

    /** One use as the review queue and reports see it. */
    public record Use(Grant grant, String loginId, String displayName, String sessionRef, String address,
                      Instant endedAt, String endedBy, String outcome, String comment, String reviewer,
                      Instant reviewedAt, int escalationLevel, long accesses) {
    }

    /** Report filters; null or blank means any. */
    public record Filter(String loginId, String patientId, String department, String outcome, Instant from,
                         Instant to) {
        public static final Filter ALL = new Filter(null, null, null, null, null, null);
    }

    /** A notice kept for the security manager's console page. */
    public record StoredNotice(long id, Instant at, String event, UUID breakGlassId, String subject, String detail,
                               Instant readAt, String readBy) {
    }

    private final DataSource ds;
    private final Clock clock;
    private final Settings settings;
    private final SecurityNotifier notifier;

    public BreakGlass(DataSource ds, Clock clock, Settings settings, SecurityNotifier notifier) {
        this.ds = ds;
        this.clock = clock;
        this.settings = settings;
        this.notifier = notifier;
    }

    public Settings settings() {
        return settings;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    // ---- using it -----------------------------------------------------------------------------------------

    /**
     * Starts access to one patient for the person of {@code who}, who must have given a second factor within
     * the last five minutes. When they already hold an active use for that patient, that one is returned as
     * it is: a second start extends nothing.
     *
     * @throws Refused without a fresh second factor, a known reason, at least ten characters of explanation
     *                 or a well-formed patient id
     */
    public Grant start(Sessions.Session who, String patientId, String reasonCode, String reasonText, String address,
                       Instant now) {
        Instant at = now.truncatedTo(ChronoUnit.MICROS);
        if (who == null || who.stage() != Sessions.Stage.AUTHENTICATED || who.locked() || !who.stepUpFresh(now)) {
            throw new Refused("緊急時アクセスには5分以内の二要素目の確認が必要です / Break-glass needs a second factor"
                    + " given within the last 5 minutes");
        }
        String patient = patientId == null ? "" : patientId.strip();
        if (!PATIENT_ID.matcher(patient).matches()) {
            throw new Refused("患者IDが正しくありません / The patient id is not valid");
        }
        if (reasonCode == null || !REASONS.contains(reasonCode)) {
            throw new Refused("理由を選んでください / Choose a reason");
        }
        String text = reasonText == null ? "" : reasonText.strip();
        if (text.codePointCount(0, text.length()) < MIN_REASON || text.length() > 2000) {
            throw new Refused("理由を10文字以上で具体的に記入してください / Explain the reason in at least 10 characters");
        }
        String addr = address == null || address.isBlank() ? "unknown" : address;
        Object[] result = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
                ps.setString(1, "break-glass:" + who.accountId() + ":" + patient);
                ps.execute();
            }
            Optional<Grant> open = activeIn(c, who.accountId(), patient, at);
            if (open.isPresent()) {
                return new Object[]{open.get(), null};
            }
            String department = departments(c, who.accountId());
            Grant g = new Grant(UUID.randomUUID(), who.accountId(), patient, department, reasonCode, text, at,
                    at.plus(settings.grant()), null);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO break_glass (break_glass_id, account_id,"
                    + " patient_id, department, reason_code, reason_text, started_at, expires_at, session_ref, address)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, g.id());
                ps.setObject(2, g.accountId());
                ps.setString(3, patient);
                ps.setString(4, department);
                ps.setString(5, reasonCode);
                ps.setString(6, text);
                ps.setTimestamp(7, Timestamp.from(at));
                ps.setTimestamp(8, Timestamp.from(g.expiresAt()));
                ps.setString(9, who.ref());
                ps.setString(10, addr);
                ps.executeUpdate();
            }
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("principal", who.principal());
            fields.put("name", who.displayName());
            fields.put("patient", patient);
            fields.put("department", department);
            fields.put("reason", reasonCode);
            fields.put("reasonText", text);
            fields.put("expires", g.expiresAt().toString());
            fields.put("address", addr);
            SecurityNotifier.Notice notice = new SecurityNotifier.Notice("break-glass.start", at, g.id(), fields,
                    "緊急時アクセス開始 / Break-glass started: " + who.displayName() + " (" + who.loginId() + ") → Patient/"
                            + patient + ", " + reasonCode + ": " + text);
            insertNotice(c, notice, "緊急時アクセス：" + who.displayName() + "（" + who.loginId() + "）→ Patient/" + patient);
            return new Object[]{g, notice};
        });
        Grant g = (Grant) result[0];
        if (result[1] != null) {
            notifier.notify((SecurityNotifier.Notice) result[1]);
        }
        return g;
    }

    /** The person's active use for this patient, if any: what the FHIR authorization will consult. */
    public Optional<Grant> active(UUID accountId, String patientId, Instant now) {
        return Tx.read(ds, c -> activeIn(c, accountId, patientId, now));
    }

    /**
     * Whether the person holds an active use for any of these patients, read through {@code c}: in the caller's
     * transaction (a write's audit entry says what held when the write committed), by the database's clock.
     */
    public static boolean anyActive(Connection c, UUID accountId, Collection<String> patientIds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM break_glass WHERE account_id = ?"
                + " AND patient_id = ANY(?) AND ended_at IS NULL AND expires_at > now() LIMIT 1")) {
            ps.setObject(1, accountId);
            ps.setArray(2, c.createArrayOf("text", patientIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Every active use the person holds, soonest to expire first (for the banner). */
    public List<Grant> activeFor(UUID accountId, Instant now) {
        return Tx.read(ds, c -> {
            List<Grant> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(GRANT_COLUMNS + " WHERE account_id = ? AND ended_at IS NULL"
                    + " AND expires_at > ? ORDER BY expires_at")) {
                ps.setObject(1, accountId);
                ps.setTimestamp(2, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(grant(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Ends the person's own use early; false when it was not theirs or is over already. */
    public boolean end(UUID grantId, Sessions.Session who, Instant now) {
        Instant at = now.truncatedTo(ChronoUnit.MICROS);
        boolean ended = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE break_glass SET ended_at = ?, ended_by = ?"
                    + " WHERE break_glass_id = ? AND account_id = ? AND ended_at IS NULL AND expires_at > ?")) {
                ps.setTimestamp(1, Timestamp.from(at));
                ps.setString(2, who.principal());
                ps.setObject(3, grantId);
                ps.setObject(4, who.accountId());
                ps.setTimestamp(5, Timestamp.from(at));
                return ps.executeUpdate() == 1;
            }
        });
        if (ended) {
            log.info("break-glass {} ended early by {}", grantId, who.principal());
        }
        return ended;
    }

    /**
     * Marks one access made under a use, e.g. {@code Patient/123 read}. Refused when the use is not active:
     * nothing may be done under a use that is over.
     */
    public void markAccess(UUID grantId, String what) {
        Instant at = now();
        if (what == null || what.isBlank() || what.length() > 300) {
            throw new IllegalArgumentException("an access mark says what was done, in at most 300 characters");
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO break_glass_access (break_glass_id, at, what)"
                    + " SELECT break_glass_id, ?, ? FROM break_glass WHERE break_glass_id = ? AND ended_at IS NULL"
                    + " AND expires_at > ?")) {
                ps.setTimestamp(1, Timestamp.from(at));
                ps.setString(2, what.strip());
                ps.setObject(3, grantId);
                ps.setTimestamp(4, Timestamp.from(at));
                if (ps.executeUpdate() != 1) {
                    throw new Refused("緊急時アクセスは有効ではありません / This break-glass use is not active");
                }
            }
            return null;
        });
    }

    /** The accesses marked under a use, oldest first. */
    public List<String> accesses(UUID grantId) {
        return Tx.read(ds, c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT what FROM break_glass_access WHERE break_glass_id = ?"
                    + " ORDER BY access_id")) {
                ps.setObject(1, grantId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        });
    }

    // ---- review -------------------------------------------------------------------------------------------

    /** Uses with no decision yet, or one that needs follow-up: escalated first, then oldest first. */
    public List<Use> pendingReviews() {
        return uses(" WHERE (r.decision IS NULL OR r.decision = 'follow_up')", List.of(),
                " ORDER BY esc DESC, b.started_at ASC");
    }

    /**
     * Records a reviewer's decision on a use. Nobody reviews their own use (also refused by the database).
     * A {@code follow_up} keeps the use in the queue until a later decision.
     */
    public void review(UUID grantId, Sessions.Session reviewer, String decision, String comment) {
        if (decision == null || !DECISIONS.contains(decision)) {
            throw new Refused("判定を選んでください / Choose a decision");
        }
        String text = comment == null ? "" : comment.strip();
        if (text.codePointCount(0, text.length()) < 5 || text.length() > 2000) {
            throw new Refused("コメントを記入してください（5文字以上） / Write a comment (at least 5 characters)");
        }
        Instant at = now();
        Tx.inTransaction(ds, c -> {
            UUID owner;
            try (PreparedStatement ps = c.prepareStatement("SELECT account_id FROM break_glass WHERE break_glass_id = ?")) {
                ps.setObject(1, grantId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new Refused("緊急時アクセスの記録が見つかりません / No such break-glass use");
                    }
                    owner = rs.getObject(1, UUID.class);
                }
            }
            if (owner.equals(reviewer.accountId())) {
                throw new Refused("自分の緊急時アクセスは確認できません / You cannot review your own break-glass use");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO break_glass_review (break_glass_id, decision,"
                    + " comment, reviewer, reviewer_account, reviewed_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, grantId);
                ps.setString(2, decision);
                ps.setString(3, text);
                ps.setString(4, reviewer.principal());
                ps.setObject(5, reviewer.accountId());
                ps.setTimestamp(6, Timestamp.from(at));
                ps.executeUpdate();
            }
            return null;
        });
        log.info("break-glass {} reviewed by {}: {}", grantId, reviewer.principal(), decision);
    }

    /** {@link #escalate(Duration, Instant)} with the configured age. */
    public List<Use> escalate(Instant now) {
        return escalate(settings.escalateAfter(), now);
    }

    /**
     * Escalates every use nobody has reviewed at {@code olderThan} of age (level 1), twice that (level 2) and
     * so on; each new level is one inbox notice and one notification. Running it again at the same time
     * changes nothing. Returns the uses escalated now.
     */
    public List<Use> escalate(Duration olderThan, Instant now) {
        Instant at = now.truncatedTo(ChronoUnit.MICROS);
        List<Use> due = new ArrayList<>();
        List<SecurityNotifier.Notice> notices = new ArrayList<>();
        Tx.inTransaction(ds, c -> {
            for (Use u : usesIn(c, " WHERE r.decision IS NULL AND b.started_at <= ?", List.of(Timestamp.from(at.minus(olderThan))),
                    " ORDER BY b.started_at FOR UPDATE OF b")) {
                long level = Duration.between(u.grant().startedAt(), at).toMillis() / olderThan.toMillis();
                level = Math.min(level, 1000);
                if (level <= u.escalationLevel()) {
                    continue;
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO break_glass_escalation (break_glass_id,"
                        + " escalated_at, level) VALUES (?, ?, ?)")) {
                    ps.setObject(1, u.grant().id());
                    ps.setTimestamp(2, Timestamp.from(at));
                    ps.setInt(3, (int) level);
                    ps.executeUpdate();
                }
                Map<String, String> fields = new LinkedHashMap<>();
                fields.put("principal", "account:" + u.loginId());
                fields.put("patient", u.grant().patientId());
                fields.put("started", u.grant().startedAt().toString());
                fields.put("level", Long.toString(level));
                SecurityNotifier.Notice n = new SecurityNotifier.Notice("break-glass.escalated", at, u.grant().id(),
                        fields, "緊急時アクセスが未確認のままです（段階 " + level + "） / Break-glass use still unreviewed"
                        + " (level " + level + "): " + u.loginId() + " → Patient/" + u.grant().patientId());
                insertNotice(c, n, "未確認の緊急時アクセス（段階 " + level + "）：" + u.loginId() + " → Patient/"
                        + u.grant().patientId());
                notices.add(n);
                due.add(u);
            }
            return null;
        });
        notices.forEach(notifier::notify);
        return due;
    }

    // ---- reports ------------------------------------------------------------------------------------------

    /** Uses matching the filter, newest first (at most 1000). */
    public List<Use> report(Filter f) {
        StringBuilder where = new StringBuilder(" WHERE true");
        List<Object> params = new ArrayList<>();
        String login = notBlank(f.loginId()) ? f.loginId().strip() : null;
        if (login != null) {
            where.append(" AND b.account_id = ?");
            params.add(null); // the account of the login id, looked up below
        }
        if (notBlank(f.patientId())) {
            where.append(" AND b.patient_id = ?");
            params.add(f.patientId().strip());
        }
        if (notBlank(f.department())) {
            where.append(" AND ? = ANY (string_to_array(b.department, '、'))");
            params.add(f.department().strip());
        }
        if (notBlank(f.outcome())) {
            if (!OUTCOMES.contains(f.outcome())) {
                throw new Refused("結果の指定が正しくありません / Unknown outcome");
            }
            where.append(" AND coalesce(r.decision, 'pending') = ?");
            params.add(f.outcome());
        }
        if (f.from() != null) {
            where.append(" AND b.started_at >= ?");
            params.add(Timestamp.from(f.from()));
        }
        if (f.to() != null) {
            where.append(" AND b.started_at < ?");
            params.add(Timestamp.from(f.to()));
        }
        return Tx.read(ds, c -> {
            if (login != null) {
                Optional<UUID> account = People.idOf(c, login);
                if (account.isEmpty()) {
                    return new ArrayList<>();
                }
                params.set(0, account.get());
            }
            return usesIn(c, where.toString(), params, " ORDER BY b.started_at DESC LIMIT 1000");
        });
    }

    // ---- the security manager's inbox ---------------------------------------------------------------------

    public long unreadNotices() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM access_notice WHERE read_at IS NULL");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** The latest notices, newest first. */
    public List<StoredNotice> notices(int limit) {
        return Tx.read(ds, c -> {
            List<StoredNotice> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT notice_id, at, event, break_glass_id, subject, detail,"
                    + " read_at, read_by FROM access_notice ORDER BY notice_id DESC LIMIT ?")) {
                ps.setInt(1, Math.max(1, Math.min(limit, 1000)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new StoredNotice(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                                rs.getObject(4, UUID.class), rs.getString(5), rs.getString(6), instant(rs.getTimestamp(7)),
                                rs.getString(8)));
                    }
                }
            }
            return out;
        });
    }

    /** Marks every unread notice read by {@code by}; returns how many. */
    public int markNoticesRead(String by) {
        Instant at = now();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE access_notice SET read_at = ?, read_by = ?"
                    + " WHERE read_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(at));
                ps.setString(2, by);
                return ps.executeUpdate();
            }
        });
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    private static final String GRANT_COLUMNS = "SELECT break_glass_id, account_id, patient_id, department, reason_code,"
            + " reason_text, started_at, expires_at, ended_at FROM break_glass";

    private static Optional<Grant> activeIn(Connection c, UUID accountId, String patientId, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(GRANT_COLUMNS + " WHERE account_id = ? AND patient_id = ?"
                + " AND ended_at IS NULL AND expires_at > ? ORDER BY started_at DESC LIMIT 1")) {
            ps.setObject(1, accountId);
            ps.setString(2, patientId);
            ps.setTimestamp(3, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(grant(rs)) : Optional.empty();
            }
        }
    }

    private static Grant grant(ResultSet rs) throws SQLException {
        return new Grant(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getTimestamp(7).toInstant(), rs.getTimestamp(8).toInstant(),
                instant(rs.getTimestamp(9)));
    }

    private static String departments(Connection c, UUID accountId) throws SQLException {
        String joined = String.join("、", People.departments(c, accountId));
        return joined.length() > 500 ? joined.substring(0, 500) : joined;
    }

    private static void insertNotice(Connection c, SecurityNotifier.Notice n, String subject) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_notice (at, event, break_glass_id, subject,"
                + " detail) VALUES (?, ?, ?, ?, ?)")) {
            ps.setTimestamp(1, Timestamp.from(n.at()));
            ps.setString(2, n.event());
            ps.setObject(3, n.breakGlassId());
            ps.setString(4, subject.length() > 500 ? subject.substring(0, 500) : subject);
            String detail = n.text();
            ps.setString(5, detail.length() > 4000 ? detail.substring(0, 4000) : detail);
            ps.executeUpdate();
        }
    }

    private List<Use> uses(String where, List<Object> params, String tail) {
        return Tx.read(ds, c -> usesIn(c, where, params, tail));
    }

    private static List<Use> usesIn(Connection c, String where, List<Object> params, String tail) throws SQLException {
        record Row(Grant grant, String sessionRef, String address, String endedBy, String outcome, String comment,
                   String reviewer, Instant reviewedAt, int escalationLevel, long accesses) {
        }
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT b.break_glass_id, b.account_id, b.patient_id,"
                + " b.department, b.reason_code, b.reason_text, b.started_at, b.expires_at, b.ended_at,"
                + " b.session_ref, b.address, b.ended_by,"
                + " coalesce(r.decision, 'pending'), r.comment, r.reviewer, r.reviewed_at,"
                + " (SELECT coalesce(max(e.level), 0) FROM break_glass_escalation e"
                + "   WHERE e.break_glass_id = b.break_glass_id) AS esc,"
                + " (SELECT count(*) FROM break_glass_access x WHERE x.break_glass_id = b.break_glass_id)"
                + " FROM break_glass b"
                + " LEFT JOIN LATERAL (SELECT decision, comment, reviewer, reviewed_at FROM break_glass_review v"
                + "   WHERE v.break_glass_id = b.break_glass_id ORDER BY v.review_id DESC LIMIT 1) r ON true"
                + where + tail)) {
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(grant(rs), rs.getString(10), rs.getString(11), rs.getString(12),
                            rs.getString(13), rs.getString(14), rs.getString(15), instant(rs.getTimestamp(16)),
                            rs.getInt(17), rs.getLong(18)));
                }
            }
        }
        // Who used it, from identity's ledger in one lookup.
        Map<UUID, People.Person> people = People.of(c, rows.stream().map(r -> r.grant().accountId()).toList());
        List<Use> out = new ArrayList<>();
        for (Row r : rows) {
            People.Person p = people.get(r.grant().accountId());
            if (p != null) {
                out.add(new Use(r.grant(), p.loginId(), p.name(), r.sessionRef(), r.address(), r.grant().endedAt(),
                        r.endedBy(), r.outcome(), r.comment(), r.reviewer(), r.reviewedAt(), r.escalationLevel(),
                        r.accesses()));
            }
        }
        return out;
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
