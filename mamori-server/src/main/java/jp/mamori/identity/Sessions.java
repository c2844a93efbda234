package jp.mamori.identity;

import jp.mamori.kernel.Hashes;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;

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
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Server-side sessions in PostgreSQL, so that every Mamori process on the same database shares them and a
 * session ended anywhere is ended everywhere at once. The browser holds a random 256-bit id; the database
 * holds only its SHA-256.
 *
 * <p>A session locks after {@link Settings#idleLock()} without requests (離席時のクリアスクリーン, AUTH-9):
 * a locked session opens no page until its owner authenticates again. It ends after
 * {@link Settings#maxLifetime()} whatever happens, and at once when its account is suspended or retired,
 * including at a retirement time set in advance.
 */
public final class Sessions {
    /**
     * The console pages every signed-in person reaches whatever their account's type: their home, their own account,
     * the step-up, locking and unlocking, staying alive and signing out. The gates that confine a vendor's or a partner's
     * session start from these.
     */
    public static boolean ownPagesPath(String path) {
        return path.equals("/console/home") || path.equals("/console/me") || path.startsWith("/console/me/")
                || path.equals("/console/step-up") || path.startsWith("/console/step-up/")
                || path.equals("/console/logout") || path.equals("/console/alive") || path.equals("/console/lock")
                || path.startsWith("/console/unlock");
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Sessions.class);
    /** Requests within this time of the last recorded one do not write {@code last_seen_at} again. */
    static final Duration TOUCH_EVERY = Duration.ofSeconds(15);
    /** Step-up: a second factor given within this time counts as fresh. */
    public static final Duration STEP_UP_FRESH = Duration.ofMinutes(5);

    private static final Set<String> NON_CLINICAL = Set.of("account_admin", "system_admin", "auditor");

    /**
     * @param contextVersion the SQL of a number that changes whenever what the server read about the person may be
     *                       out of date (access supplies it: roles, care relationships, privileges); read in the
     *                       session check's one query and handed out as {@link Session#accessVersion()}
     * @param grantedRoles   the SQL of the roles in force that the access model grants the person beyond identity's
     *                       own (access supplies it); read in the same query, together with identity's roles
     */
    public record Settings(Duration idleLock, Duration maxLifetime, ContextVersion contextVersion,
                           GrantedRoles grantedRoles) {
        public static final Settings DEFAULT = new Settings(Duration.ofMinutes(15), Duration.ofHours(12));

        public Settings(Duration idleLock, Duration maxLifetime) {
            this(idleLock, maxLifetime, ContextVersion.NONE, GrantedRoles.NONE);
        }

        /** These settings, with the roles granted elsewhere read from {@code roles}. */
        public Settings withGrantedRoles(GrantedRoles roles) {
            return new Settings(idleLock, maxLifetime, contextVersion, roles);
        }
    }

    /** A SQL expression over the expression of a session's account id (e.g. {@code s.account_id}). */
    @FunctionalInterface
    public interface ContextVersion {
        ContextVersion NONE = account -> "0";

        String sql(String accountExpr);
    }

    /**
     * A SQL query of one text column, the roles in force granted to the account with id {@code accountExpr} (e.g.
     * {@code s.account_id}), or the empty string for none.
     */
    @FunctionalInterface
    public interface GrantedRoles {
        GrantedRoles NONE = account -> "";

        String sql(String accountExpr);
    }

    public enum Stage {
        /** Password given, second factor still due. */
        SECOND_FACTOR("second_factor"),
        /** Enrolling: password set, second factor being registered. */
        ENROLMENT("enrolment"),
        AUTHENTICATED("authenticated");

        final String code;

        Stage(String code) {
            this.code = code;
        }

        static Stage of(String code) {
            for (Stage s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            throw new IllegalArgumentException(code);
        }
    }

    /** A live session as the request gate sees it. {@code ref} names it in lists without revealing the id. */
    public record Session(String ref, UUID accountId, String loginId, String displayName, Account.Type accountType,
                          Set<String> roles, Stage stage, String amr, Instant createdAt, Instant lastSeenAt,
                          Instant secondFactorAt, boolean locked, boolean mustChangePassword,
                          UUID emergencyDeclarationId, Instant endsAt, long accessVersion) {
        /**
         * Whether the session began without a second factor (an emergency account, or a terminal with an MFA
         * exception): re-authenticating it can ask only for the password.
         */
        public boolean withoutSecondFactor() {
            return amr.endsWith("+emergency") || amr.endsWith("+exception");
        }

        public boolean stepUpFresh(Instant now) {
            return secondFactorAt != null && !secondFactorAt.plus(STEP_UP_FRESH).isBefore(now);
        }

        public boolean hasRole(String role) {
            return roles.contains(role);
        }

        /**
         * Whether the person holds a role of the access model (clinical or clerical) that reads patient data,
         * i.e. any role but the account administrator, system administrator and auditor.
         */
        public boolean readsPatientData() {
            for (String role : roles) {
                if (!NON_CLINICAL.contains(role)) {
                    return true;
                }
            }
            return false;
        }

        public String principal() {
            return "account:" + loginId;
        }
    }

    /** A session as listed on "my sessions" and the administrator's page. */
    public record Info(String ref, UUID accountId, String loginId, Stage stage, String amr, Instant createdAt,
                       Instant lastSeenAt, boolean locked, String address, String userAgent) {
    }

    private final DataSource ds;
    private final Clock clock;
    private final Settings settings;
    /**
     * The session check's one statement, with the SQL fragments the settings hand in (roles granted elsewhere, the
     * context version) built into it once: it runs on every console request.
     */
    private final String checkSql;
    /** The same check for a session held in memory: its row comes as parameters instead of from web_session. */
    private final String heldCheckSql;
    /** What waits for the database while it is read-only (degraded mode); nothing waits by default. */
    Deferred deferred = new Deferred();
    /** When an emergency declared or ended while degraded ends (held in memory by Emergencies); none by default. */
    java.util.function.Function<UUID, Instant> heldDeclarationEnd = id -> null;
    /**
     * Sessions started or changed while the database is read-only (issue 18 §2), by the hex of their cookie's hash:
     * served from here until they are written to the database before the process leaves degraded mode.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Held> held = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A session row held in memory while degraded. {@code dbHash} is the hash under which the row is in the database
     * (a session that existed before), or null for one started while degraded; {@code gone} marks a cookie that no
     * longer stands for a session here (ended, or renamed by {@link #advance}).
     */
    private static final class Held {
        UUID accountId;
        Stage stage;
        String amr;
        Instant createdAt;
        Instant authenticatedAt;
        Instant lastSeenAt;
        Instant secondFactorAt;
        Instant lockedAt;
        String address;
        String userAgent;
        UUID mfaExceptionId;
        UUID emergencyDeclarationId;
        Instant endedAt;
        String endReason;
        byte[] dbHash;
        boolean gone;

        static Held of(byte[] dbHash, Session s, Instant now) {
            Held h = new Held();
            h.accountId = s.accountId();
            h.stage = s.stage();
            h.amr = s.amr();
            h.createdAt = s.createdAt();
            h.lastSeenAt = s.lastSeenAt();
            h.secondFactorAt = s.secondFactorAt();
            h.lockedAt = s.locked() ? now : null;
            h.emergencyDeclarationId = s.emergencyDeclarationId();
            h.dbHash = dbHash;
            return h;
        }

        Held copy() {
            Held h = new Held();
            h.accountId = accountId;
            h.stage = stage;
            h.amr = amr;
            h.createdAt = createdAt;
            h.authenticatedAt = authenticatedAt;
            h.lastSeenAt = lastSeenAt;
            h.secondFactorAt = secondFactorAt;
            h.lockedAt = lockedAt;
            h.address = address;
            h.userAgent = userAgent;
            h.mfaExceptionId = mfaExceptionId;
            h.emergencyDeclarationId = emergencyDeclarationId;
            h.endedAt = endedAt;
            h.endReason = endReason;
            h.dbHash = dbHash;
            return h;
        }
    }

    public Sessions(DataSource ds, Clock clock, Settings settings) {
        this.ds = ds;
        this.clock = clock;
        this.settings = settings;
        String granted = settings.grantedRoles().sql("s.account_id");
        String grantedRoles = granted.isEmpty() ? "" : " UNION ALL " + granted;
        this.checkSql = "SELECT s.account_id, a.login_id, a.family_name || ' ' ||"
                + " a.given_name, a.account_type, s.stage, s.amr, s.created_at, s.last_seen_at, s.second_factor_at,"
                + " s.locked_at, a.must_change_password, s.emergency_declaration_id, a.status, a.retire_at,"
                // Roles from the identity ledger and those granted elsewhere (the access model's assignments
                // in force): an administrator approved there opens the admin pages too.
                + " (SELECT string_agg(DISTINCT x.role, ' ') FROM (SELECT r.role FROM account_role r"
                + "  WHERE r.account_id = s.account_id" + grantedRoles + ") x),"
                + " (SELECT CASE WHEN d.ended_at IS NULL THEN d.expires_at ELSE least(d.ended_at, d.expires_at) END"
                + "  FROM emergency_declaration d WHERE d.declaration_id = s.emergency_declaration_id),"
                // Changes with every change of the person's roles, care relationships and privileges, of the
                // policy, and of the encounters of the person's departments and wards (V13): what a server read
                // about the person stays valid while this stays the same.
                + " " + settings.contextVersion().sql("s.account_id")
                + " FROM web_session s JOIN account a ON a.account_id = s.account_id"
                + " WHERE s.session_sha256 = ? AND s.ended_at IS NULL";
        String from = " FROM web_session s JOIN account a ON a.account_id = s.account_id WHERE s.session_sha256 = ? AND"
                + " s.ended_at IS NULL";
        this.heldCheckSql = checkSql.substring(0, checkSql.length() - from.length())
                + " FROM (SELECT ?::uuid AS account_id, ?::text AS stage, ?::text AS amr, ?::timestamptz AS created_at,"
                + " ?::timestamptz AS last_seen_at, ?::timestamptz AS second_factor_at, ?::timestamptz AS locked_at,"
                + " ?::uuid AS emergency_declaration_id) s JOIN account a ON a.account_id = s.account_id";
        if (!checkSql.endsWith(from)) {
            throw new IllegalStateException("the session check's FROM clause changed");
        }
    }

    /** Sessions held in memory because the database is read-only (degraded mode), for the health report. */
    public int heldInMemory() {
        return (int) held.values().stream().filter(h -> !h.gone).count();
    }

    private static String key(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    /**
     * The rows that write what memory holds into web_session (before leaving degraded mode, with {@link Deferred}'s
     * queue, in its transaction): a session started while degraded is inserted, a session that existed before is
     * updated under its old hash (to its new one after an advance). Memory is cleared after the flush succeeded.
     */
    /** What {@link #heldWrites} wrote, to forget after the flush (rows added meanwhile stay held). */
    private volatile java.util.Map<String, Held> lastWritten = java.util.Map.of();

    List<Deferred.Write> heldWrites() {
        List<Deferred.Write> out = new ArrayList<>();
        java.util.Map<String, Held> snapshot = new java.util.HashMap<>(held);
        lastWritten = snapshot;
        snapshot.forEach((k, h) -> {
            Deferred.Write w = heldWrite(k, h);
            if (w != null) {
                out.add(w);
            }
        });
        return out;
    }

    /** The write of one held row; null when there is nothing to write (a cookie renamed or never signed in). */
    private static Deferred.Write heldWrite(String k, Held h0) {
        Held h;
        synchronized (h0) {
            if (h0.gone) {
                return null;
            }
            h = h0.copy();
        }
        byte[] hash = HexFormat.of().parseHex(k);
        if (h.dbHash == null) {
            return c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO web_session (session_sha256, account_id,"
                        + " stage, amr, created_at, authenticated_at, last_seen_at, second_factor_at, address,"
                        + " user_agent, mfa_exception_id, emergency_declaration_id, locked_at, ended_at, end_reason)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                    ps.setBytes(1, hash);
                    ps.setObject(2, h.accountId);
                    ps.setString(3, h.stage.code);
                    ps.setString(4, h.amr);
                    ps.setTimestamp(5, Timestamp.from(h.createdAt));
                    ps.setTimestamp(6, ts(h.authenticatedAt));
                    ps.setTimestamp(7, Timestamp.from(h.lastSeenAt));
                    ps.setTimestamp(8, ts(h.secondFactorAt));
                    ps.setString(9, h.address);
                    ps.setString(10, h.userAgent);
                    ps.setObject(11, h.mfaExceptionId);
                    ps.setObject(12, h.emergencyDeclarationId);
                    ps.setTimestamp(13, ts(h.lockedAt));
                    ps.setTimestamp(14, ts(h.endedAt));
                    ps.setString(15, h.endReason);
                    ps.executeUpdate();
                }
            };
        }
        return c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET session_sha256 = ?, stage = ?,"
                    + " amr = ?, authenticated_at = coalesce(authenticated_at, ?), last_seen_at = ?,"
                    + " second_factor_at = ?, locked_at = ?, ended_at = ?, end_reason = ?"
                    + " WHERE session_sha256 = ? AND ended_at IS NULL")) {
                ps.setBytes(1, hash);
                ps.setString(2, h.stage.code);
                ps.setString(3, h.amr);
                ps.setTimestamp(4, ts(h.authenticatedAt));
                ps.setTimestamp(5, Timestamp.from(h.lastSeenAt));
                ps.setTimestamp(6, ts(h.secondFactorAt));
                ps.setTimestamp(7, ts(h.lockedAt));
                ps.setTimestamp(8, ts(h.endedAt));
                ps.setString(9, h.endReason);
                ps.setBytes(10, h.dbHash);
                ps.executeUpdate();
            }
        };
    }

    /** Forgets what memory held, once it is in the database. */
    void heldWritten() {
        lastWritten.forEach(held::remove);
        lastWritten = java.util.Map.of();
    }

    private static Timestamp ts(Instant i) {
        return i == null ? null : Timestamp.from(i);
    }

    /** The row of {@code hash} to change while degraded: held already, or read from the database (null: none open). */
    private Held holdFor(byte[] hash) {
        String k = key(hash);
        Held h = held.get(k);
        if (h != null) {
            return h.gone || h.endedAt != null ? null : h;
        }
        Optional<Session> s = check(HashOnly.of(hash));
        if (s.isEmpty()) {
            return null;
        }
        Held fresh = Held.of(hash, s.get(), now());
        Held before = held.putIfAbsent(k, fresh);
        return before != null ? (before.gone || before.endedAt != null ? null : before) : fresh;
    }

    /** A cookie known only by its hash (the check below needs nothing else). */
    private record HashOnly(byte[] hash) {
        static HashOnly of(byte[] hash) {
            return new HashOnly(hash);
        }
    }

    public Settings settings() {
        return settings;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Starts a session and returns the cookie value, which is not kept anywhere but in the browser. */
    public String create(UUID accountId, Stage stage, String amr, boolean secondFactor, String address,
                         String userAgent, UUID mfaExceptionId, UUID emergencyDeclarationId) {
        String cookie = Secrets.random256();
        Instant now = now();
        if (deferred.active()) {
            // DEGRADED-2: sign-in works while the database is read-only; the session lives here until it is written
            Held h = new Held();
            h.accountId = accountId;
            h.stage = stage;
            h.amr = amr;
            h.createdAt = now;
            h.authenticatedAt = stage == Stage.AUTHENTICATED ? now : null;
            h.lastSeenAt = now;
            h.secondFactorAt = secondFactor ? now : null;
            h.address = address;
            h.userAgent = userAgent == null ? null : userAgent.substring(0, Math.min(300, userAgent.length()));
            h.mfaExceptionId = mfaExceptionId;
            h.emergencyDeclarationId = emergencyDeclarationId;
            held.put(key(Hashes.sha256(cookie)), h);
            return cookie;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO web_session (session_sha256, account_id, stage,"
                    + " amr, created_at, authenticated_at, last_seen_at, second_factor_at, address, user_agent,"
                    + " mfa_exception_id, emergency_declaration_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setBytes(1, Hashes.sha256(cookie));
                ps.setObject(2, accountId);
                ps.setString(3, stage.code);
                ps.setString(4, amr);
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setTimestamp(6, stage == Stage.AUTHENTICATED ? Timestamp.from(now) : null);
                ps.setTimestamp(7, Timestamp.from(now));
                ps.setTimestamp(8, secondFactor ? Timestamp.from(now) : null);
                ps.setString(9, address);
                ps.setString(10, userAgent == null ? null : userAgent.substring(0, Math.min(300, userAgent.length())));
                ps.setObject(11, mfaExceptionId);
                ps.setObject(12, emergencyDeclarationId);
                ps.executeUpdate();
            }
            return null;
        });
        return cookie;
    }

    /**
     * The session a cookie stands for, if it is still open. Locks it when it has been idle too long, ends it
     * when it has lived too long or its account may no longer log in. One query in the common case.
     */
    public Optional<Session> check(String cookie) {
        if (cookie == null || cookie.length() != 43) {
            return Optional.empty();
        }
        return check(HashOnly.of(Hashes.sha256(cookie)));
    }

    private Optional<Session> check(HashOnly cookieHash) {
        byte[] hash = cookieHash.hash();
        Instant now = now();
        Held h0 = held.get(key(hash));
        if (h0 != null && !deferred.active()) {
            // back to normal, and this one changed after the others were written: write it now
            try {
                Deferred.Write w = heldWrite(key(hash), h0);
                Tx.inTransaction(ds, c -> {
                    if (w != null) {
                        w.apply(c);
                    }
                    return null;
                });
                held.remove(key(hash), h0);
                h0 = null;
            } catch (RuntimeException e) {
                log.warn("a session held in memory could not be written yet: {}", e.toString());
            }
        }
        Held h = h0;
        if (h != null && (h.gone || h.endedAt != null)) {
            return Optional.empty();
        }
        return Tx.read(ds, c -> {
            Session s;
            Instant retireAt;
            String status;
            Instant declarationEnds;
            try (PreparedStatement ps = c.prepareStatement(h != null ? heldCheckSql : checkSql)) {
                if (h != null) {
                    synchronized (h) {
                        ps.setObject(1, h.accountId);
                        ps.setString(2, h.stage.code);
                        ps.setString(3, h.amr);
                        ps.setTimestamp(4, Timestamp.from(h.createdAt));
                        ps.setTimestamp(5, Timestamp.from(h.lastSeenAt));
                        ps.setTimestamp(6, ts(h.secondFactorAt));
                        ps.setTimestamp(7, ts(h.lockedAt));
                        ps.setObject(8, h.emergencyDeclarationId);
                    }
                } else {
                    ps.setBytes(1, hash);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Session>empty();
                    }
                    Instant created = rs.getTimestamp(7).toInstant();
                    String roles = rs.getString(15);
                    declarationEnds = Accounts.instant(rs.getTimestamp(16));
                    UUID declaration = rs.getObject(12, UUID.class);
                    Instant heldEnd = declaration == null ? null : heldDeclarationEnd.apply(declaration);
                    if (heldEnd != null && (declarationEnds == null || heldEnd.isBefore(declarationEnds))) {
                        declarationEnds = heldEnd; // declared or ended while degraded
                    }
                    Instant ends = created.plus(settings.maxLifetime());
                    if (declarationEnds != null && declarationEnds.isBefore(ends)) {
                        ends = declarationEnds;
                    }
                    s = new Session(ref(hash), rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                            Account.Type.of(rs.getString(4)), roles == null ? Set.of() : Set.of(roles.split(" ")),
                            Stage.of(rs.getString(5)), rs.getString(6), created, rs.getTimestamp(8).toInstant(),
                            Accounts.instant(rs.getTimestamp(9)), rs.getTimestamp(10) != null, rs.getBoolean(11),
                            rs.getObject(12, UUID.class), ends, rs.getLong(17));
                    status = rs.getString(13);
                    retireAt = Accounts.instant(rs.getTimestamp(14));
                }
            }
            String endReason = null;
            if (!now.isBefore(s.endsAt())) {
                endReason = declarationEnds != null && !now.isBefore(declarationEnds) ? "emergency ended"
                        : "maximum session lifetime reached";
            } else if (retireAt != null && !now.isBefore(retireAt)) {
                endReason = "account retired";
            } else if (!status.equals("active") && !(s.stage() == Stage.ENROLMENT && status.equals("enrolment_pending"))) {
                endReason = "account " + status;
            }
            // while degraded, what would be written is held in memory instead (issue 18 §2)
            Held into = h != null ? h : deferred.active() ? held.computeIfAbsent(key(hash), k -> Held.of(hash, s, now))
                    : null;
            if (endReason != null) {
                if (into != null) {
                    ended(into, now, endReason);
                } else {
                    end(c, hash, now, endReason);
                }
                return Optional.<Session>empty();
            }
            // Pre-authentication stages get the idle limit too, so a half-finished login does not wait forever.
            if (!s.locked() && s.lastSeenAt().plus(settings.idleLock()).isBefore(now)) {
                if (s.stage() != Stage.AUTHENTICATED) {
                    if (into != null) {
                        ended(into, now, "idle before authentication finished");
                    } else {
                        end(c, hash, now, "idle before authentication finished");
                    }
                    return Optional.<Session>empty();
                }
                if (into != null) {
                    synchronized (into) {
                        into.lockedAt = into.lockedAt == null ? now : into.lockedAt;
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET locked_at = ?"
                            + " WHERE session_sha256 = ? AND locked_at IS NULL")) {
                        ps.setTimestamp(1, Timestamp.from(now));
                        ps.setBytes(2, hash);
                        ps.executeUpdate();
                    }
                }
                return Optional.of(withLocked(s, true));
            }
            if (!s.locked() && s.lastSeenAt().plus(TOUCH_EVERY).isBefore(now)) {
                if (into != null) {
                    synchronized (into) {
                        into.lastSeenAt = now;
                    }
                } else {
                    touch(c, hash, now);
                }
            }
            if (into != null && h == null && into.lockedAt == null && s.locked()) {
                synchronized (into) {
                    into.lockedAt = now;
                }
            }
            return Optional.of(s);
        });
    }

    /**
     * Records that the session was just used. People click less often than every {@link #TOUCH_EVERY}, so nearly
     * every page they open writes here, and this write was most of the cost of a page's session check: a
     * commit that waits for the write-ahead log to reach the disk. This one commit does not wait
     * ({@code synchronous_commit} off for its own transaction, set in the same statement so that it costs no
     * extra round trip). The write is visible to every process as soon as it commits, like any other; a crash
     * can lose only the last moments of such writes, and a lost one makes the session look idle since an
     * earlier request, so it locks sooner, never later. Locking and ending sessions stay fully durable.
     */
    private static void touch(Connection c, byte[] hash, Instant now) throws SQLException {
        // Autocommit: the statement is its own transaction, and set_config(..., true) lasts until its commit.
        try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET last_seen_at = ?"
                + " WHERE session_sha256 = ? AND set_config('synchronous_commit', 'off', true) IS NOT NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setBytes(2, hash);
            ps.executeUpdate();
        }
    }

    private static Session withLocked(Session s, boolean locked) {
        return new Session(s.ref(), s.accountId(), s.loginId(), s.displayName(), s.accountType(), s.roles(), s.stage(),
                s.amr(), s.createdAt(), s.lastSeenAt(), s.secondFactorAt(), locked, s.mustChangePassword(),
                s.emergencyDeclarationId(), s.endsAt(), s.accessVersion());
    }

    /**
     * Moves a session to a new stage under a new id (the old cookie stops working: session fixation
     * defence). {@code secondFactor} records that a second factor was just given. Returns the new cookie.
     */
    public String advance(String cookie, Stage stage, String amr, boolean secondFactor) {
        String fresh = Secrets.random256();
        Instant now = now();
        if (deferred.active() || held.containsKey(key(Hashes.sha256(cookie)))) {
            Held h = holdFor(Hashes.sha256(cookie));
            if (h == null) {
                throw new IdentityException("セッションが終了しています。もう一度ログインしてください / The session has ended; log in again");
            }
            Held moved;
            synchronized (h) {
                moved = h.copy();
                h.gone = true;
            }
            moved.stage = stage;
            moved.amr = amr;
            if (stage == Stage.AUTHENTICATED && moved.authenticatedAt == null) {
                moved.authenticatedAt = now;
            }
            if (secondFactor) {
                moved.secondFactorAt = now;
            }
            moved.lastSeenAt = now;
            moved.lockedAt = null;
            held.put(key(Hashes.sha256(fresh)), moved);
            return fresh;
        }
        int n = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET session_sha256 = ?, stage = ?,"
                    + " amr = ?, authenticated_at = CASE WHEN ? THEN coalesce(authenticated_at, ?) END,"
                    + " second_factor_at = CASE WHEN ? THEN ? ELSE second_factor_at END, last_seen_at = ?,"
                    + " locked_at = NULL WHERE session_sha256 = ? AND ended_at IS NULL")) {
                boolean auth = stage == Stage.AUTHENTICATED;
                ps.setBytes(1, Hashes.sha256(fresh));
                ps.setString(2, stage.code);
                ps.setString(3, amr);
                ps.setBoolean(4, auth);
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setBoolean(6, secondFactor);
                ps.setTimestamp(7, Timestamp.from(now));
                ps.setTimestamp(8, Timestamp.from(now));
                ps.setBytes(9, Hashes.sha256(cookie));
                return ps.executeUpdate();
            }
        });
        if (n != 1) {
            throw new IdentityException("セッションが終了しています。もう一度ログインしてください / The session has ended; log in again");
        }
        return fresh;
    }

    /** Locks the session now (the person stepped away, or pressed "lock"). */
    public void lock(String cookie) {
        Instant now = now();
        if (deferred.active() || held.containsKey(key(Hashes.sha256(cookie)))) {
            Held h = holdFor(Hashes.sha256(cookie));
            if (h != null) {
                synchronized (h) {
                    if (h.stage == Stage.AUTHENTICATED && h.lockedAt == null) {
                        h.lockedAt = now;
                    }
                }
            }
            return;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET locked_at = ? WHERE session_sha256 = ?"
                    + " AND ended_at IS NULL AND locked_at IS NULL AND stage = 'authenticated'")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setBytes(2, Hashes.sha256(cookie));
                return ps.executeUpdate();
            }
        });
    }

    /**
     * Records that the session's owner just authenticated again (step-up, or unlocking a locked session):
     * a fresh second factor, and the lock, if any, is lifted.
     */
    public void reauthenticated(String cookie) {
        Instant now = now();
        if (deferred.active() || held.containsKey(key(Hashes.sha256(cookie)))) {
            Held h = holdFor(Hashes.sha256(cookie));
            if (h != null) {
                synchronized (h) {
                    h.lockedAt = null;
                    h.lastSeenAt = now;
                    h.secondFactorAt = now;
                }
            }
            return;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET locked_at = NULL, last_seen_at = ?,"
                    + " second_factor_at = ? WHERE session_sha256 = ? AND ended_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setBytes(3, Hashes.sha256(cookie));
                return ps.executeUpdate();
            }
        });
    }

    /** Ends the session a cookie stands for (logout). */
    public void end(String cookie, String reason) {
        Instant now = now();
        if (deferred.active() || held.containsKey(key(Hashes.sha256(cookie)))) {
            Held h = holdFor(Hashes.sha256(cookie));
            if (h != null) {
                ended(h, now, reason);
            }
            return;
        }
        Tx.inTransaction(ds, c -> {
            end(c, Hashes.sha256(cookie), now, reason);
            return null;
        });
    }

    /** Ends a held session: a cookie that stood for nothing in the database is simply forgotten when written. */
    private static void ended(Held h, Instant now, String reason) {
        synchronized (h) {
            if (h.endedAt == null) {
                h.endedAt = now;
                h.endReason = reason;
            }
            h.gone = h.dbHash == null && h.authenticatedAt == null && h.stage != Stage.AUTHENTICATED;
        }
    }

    private static void end(Connection c, byte[] hash, Instant now, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason = ?"
                + " WHERE session_sha256 = ? AND ended_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, reason);
            ps.setBytes(3, hash);
            ps.executeUpdate();
        }
    }

    /**
     * Ends one listed session. With {@code owner} set, only that account's session can be ended (a person
     * ending their own); an administrator passes empty. Returns the account whose session ended.
     */
    public Optional<UUID> endByRef(String ref, Optional<UUID> owner, String by, String reason) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason = ?"
                    + " WHERE substr(encode(session_sha256, 'hex'), 1, 16) = ? AND ended_at IS NULL"
                    + " AND (?::uuid IS NULL OR account_id = ?::uuid) RETURNING account_id")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, reason + " (by " + by + ")");
                ps.setString(3, ref);
                ps.setObject(4, owner.orElse(null));
                ps.setObject(5, owner.orElse(null));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<UUID>empty();
                    }
                    UUID account = rs.getObject(1, UUID.class);
                    Accounts.record(c, account, now, by, "session.ended",
                            Accounts.JSON.createObjectNode().put("session", ref).put("reason", reason));
                    return Optional.of(account);
                }
            }
        });
    }

    /** Open sessions, of one account or (empty) of all accounts, newest first. */
    public List<Info> open(Optional<UUID> account) {
        return Tx.read(ds, c -> {
            List<Info> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT s.session_sha256, s.account_id, a.login_id, s.stage,"
                    + " s.amr, s.created_at, s.last_seen_at, s.locked_at, s.address, s.user_agent FROM web_session s"
                    + " JOIN account a ON a.account_id = s.account_id WHERE s.ended_at IS NULL"
                    + " AND (?::uuid IS NULL OR s.account_id = ?::uuid) AND s.created_at > ?"
                    + " ORDER BY s.last_seen_at DESC LIMIT 500")) {
                ps.setObject(1, account.orElse(null));
                ps.setObject(2, account.orElse(null));
                ps.setTimestamp(3, Timestamp.from(now().minus(settings.maxLifetime())));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Info(ref(rs.getBytes(1)), rs.getObject(2, UUID.class), rs.getString(3),
                                Stage.of(rs.getString(4)), rs.getString(5), rs.getTimestamp(6).toInstant(),
                                rs.getTimestamp(7).toInstant(), rs.getTimestamp(8) != null, rs.getString(9),
                                rs.getString(10)));
                    }
                }
            }
            return out;
        });
    }

    /** The public name of a session: the first 8 bytes of its hash, in hex. */
    static String ref(byte[] hash) {
        return HexFormat.of().formatHex(hash, 0, 8);
    }
}
