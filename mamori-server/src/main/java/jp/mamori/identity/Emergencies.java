package jp.mamori.identity;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Emergency accounts (非常時用ユーザアカウント, DEGRADED-2/3): made in advance with a password printed once
 * and sealed; they log in with that password alone, and only while an emergency declared by a named person
 * is in force (at most {@link #MAX_DECLARATION}). Every use opens an item that must be reviewed after
 * recovery, and a session of an emergency account ends when the emergency ends.
 */
public final class Emergencies {
    public static final Duration MAX_DECLARATION = Duration.ofHours(24);
    private static final char[] ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    public record Declaration(UUID id, String declaredBy, String reason, Instant declaredAt, Instant expiresAt,
                              Instant endedAt, String endedBy) {
        public boolean inForce(Instant now) {
            return endedAt == null && expiresAt.isAfter(now);
        }
    }

    public record Use(long id, UUID accountId, String loginId, UUID declarationId, Instant startedAt, String address,
                      Instant reviewedAt, String reviewedBy, String reviewNote) {
    }

    /** A new emergency account and its password, to be printed once and sealed. */
    public record Sealed(Account account, String password) {
        @Override
        public String toString() {
            return "Sealed[" + account.loginId() + ", password=****]";
        }
    }

    private final DataSource ds;
    private final Clock clock;
    private final Accounts accounts;
    private final PasswordHasher hasher;

    public Emergencies(DataSource ds, Clock clock, Accounts accounts, PasswordHasher hasher) {
        this.ds = ds;
        this.clock = clock;
        this.accounts = accounts;
        this.hasher = hasher;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Makes an emergency account {@code emergency-<label>} with a random 20-character password. */
    public Sealed create(String label, String labelKana, String by) {
        String l = label == null ? "" : label.strip().toLowerCase(java.util.Locale.ROOT);
        if (!l.matches("[a-z0-9][a-z0-9-]{0,30}")) {
            throw new IdentityException("識別名は半角英数字とハイフンで入力してください（例 er-1） / The label is letters,"
                    + " digits and hyphens (e.g. er-1)");
        }
        String loginId = "emergency-" + l;
        char[] pw = new char[20];
        for (int i = 0; i < pw.length; i++) {
            pw[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        String password = new String(pw);
        String phc = hasher.hash(pw);
        Instant now = now();
        UUID id = UUID.randomUUID();
        String kana = labelKana == null || labelKana.isBlank() ? l : labelKana.strip();
        Account a = Tx.inTransaction(ds, c -> {
            accounts.insertAccount(c, id, loginId, "非常時用", l, "ヒジョウジヨウ", kana, Account.Type.EMERGENCY,
                    Account.Status.ACTIVE, "非常時の宣言中のみ使用可 / usable only during a declared emergency", now, by);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO password_credential (account_id, phc, set_at)"
                    + " VALUES (?, ?, ?)")) {
                ps.setObject(1, id);
                ps.setString(2, phc);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.executeUpdate();
            }
            Accounts.record(c, id, now, by, "account.created", Accounts.JSON.createObjectNode()
                    .put("loginId", loginId).put("type", "emergency").put("sealed", true));
            return Accounts.load(c, id).orElseThrow();
        });
        return new Sealed(a, password);
    }

    /** Declares an emergency, by a named person, for a limited time. */
    public Declaration declare(String declaredBy, String reason, Duration duration) {
        if (declaredBy == null || declaredBy.isBlank() || declaredBy.length() > 200) {
            throw new IdentityException("宣言者の氏名を入力してください / Name the person declaring the emergency");
        }
        if (reason == null || reason.strip().length() < 5) {
            throw new IdentityException("非常時の理由を入力してください（5文字以上） / Give the reason (at least 5 characters)");
        }
        if (duration.isNegative() || duration.isZero() || duration.compareTo(MAX_DECLARATION) > 0) {
            throw new IdentityException("期間は24時間以内です / An emergency is declared for at most 24 hours");
        }
        Instant now = now();
        UUID id = UUID.randomUUID();
        if (deferred.active()) {
            Declaration d = new Declaration(id, declaredBy.strip(), reason.strip(), now, now.plus(duration), null, null);
            heldDeclarations.put(id, d);
            deferred.later("emergency declared by " + declaredBy.strip() + " until " + d.expiresAt(), c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO emergency_declaration (declaration_id,"
                        + " declared_by, reason, declared_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setObject(1, id);
                    ps.setString(2, d.declaredBy());
                    ps.setString(3, d.reason());
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setTimestamp(5, Timestamp.from(d.expiresAt()));
                    ps.executeUpdate();
                }
                Logins.insertEvent(c, now, null, null, "local", "emergency.declared", true, d.declaredBy() + ": "
                        + d.reason() + " (until " + d.expiresAt() + ", declared in degraded mode)");
            });
            return d;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO emergency_declaration (declaration_id, declared_by,"
                    + " reason, declared_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setObject(1, id);
                ps.setString(2, declaredBy.strip());
                ps.setString(3, reason.strip());
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setTimestamp(5, Timestamp.from(now.plus(duration)));
                ps.executeUpdate();
            }
            Logins.insertEvent(c, now, null, null, "local", "emergency.declared", true,
                    declaredBy.strip() + ": " + reason.strip() + " (until " + now.plus(duration) + ")");
            return null;
        });
        return new Declaration(id, declaredBy.strip(), reason.strip(), now, now.plus(duration), null, null);
    }

    /** Ends every declaration in force; sessions of emergency accounts end with them. */
    public int end(String by) {
        Instant now = now();
        if (deferred.active()) {
            List<Declaration> inForce = declarations().stream().filter(d -> d.inForce(now)).toList();
            for (Declaration d : inForce) {
                heldDeclarations.put(d.id(), new Declaration(d.id(), d.declaredBy(), d.reason(), d.declaredAt(),
                        d.expiresAt(), now, by));
                deferred.later("emergency ended by " + by, c -> {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE emergency_declaration SET ended_at = ?,"
                            + " ended_by = ? WHERE declaration_id = ? AND ended_at IS NULL")) {
                        ps.setTimestamp(1, Timestamp.from(now));
                        ps.setString(2, by);
                        ps.setObject(3, d.id());
                        ps.executeUpdate();
                    }
                    Logins.insertEvent(c, now, null, null, "local", "emergency.ended", true, "by " + by
                            + " (in degraded mode)");
                    try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason ="
                            + " 'emergency ended' WHERE ended_at IS NULL AND emergency_declaration_id = ?")) {
                        ps.setTimestamp(1, Timestamp.from(now));
                        ps.setObject(2, d.id());
                        ps.executeUpdate();
                    }
                });
            }
            return inForce.size(); // the sessions of emergency accounts end at their next request (Sessions.check)
        }
        return Tx.inTransaction(ds, c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE emergency_declaration SET ended_at = ?, ended_by = ?"
                    + " WHERE ended_at IS NULL AND expires_at > ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, by);
                ps.setTimestamp(3, Timestamp.from(now));
                n = ps.executeUpdate();
            }
            if (n > 0) {
                Logins.insertEvent(c, now, null, null, "local", "emergency.ended", true, "by " + by);
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason ="
                    + " 'emergency ended' WHERE ended_at IS NULL AND emergency_declaration_id IS NOT NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.executeUpdate();
            }
            return n;
        });
    }

    /** The declaration in force now, if any. */
    public Optional<UUID> active() {
        return current().map(Declaration::id);
    }

    public Optional<Declaration> current() {
        Instant now = now();
        return declarations().stream().filter(d -> d.inForce(now)).findFirst();
    }

    public List<Declaration> declarations() {
        List<Declaration> stored = storedDeclarations();
        if (heldDeclarations.isEmpty()) {
            return stored;
        }
        java.util.Map<UUID, Declaration> all = new java.util.LinkedHashMap<>();
        stored.forEach(d -> all.put(d.id(), d));
        all.putAll(heldDeclarations);
        return all.values().stream().sorted(java.util.Comparator.comparing(Declaration::declaredAt).reversed()).toList();
    }

    private List<Declaration> storedDeclarations() {
        return Tx.read(ds, c -> {
            List<Declaration> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT declaration_id, declared_by, reason, declared_at,"
                    + " expires_at, ended_at, ended_by FROM emergency_declaration ORDER BY declared_at DESC LIMIT 200");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Declaration(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant(),
                            Accounts.instant(rs.getTimestamp(6)), rs.getString(7)));
                }
            }
            return out;
        });
    }

    /** What waits for the database while it is read-only (degraded mode, issue 18 §2); nothing by default. */
    Deferred deferred = new Deferred();
    /**
     * Declarations made, or ended, while the database is read-only (DEGRADED-2: emergency accounts must work in
     * degraded mode, also when the emergency is declared only then), by id; written when the database returns.
     */
    private final java.util.concurrent.ConcurrentHashMap<UUID, Declaration> heldDeclarations =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** When a declaration held in memory ends (ended or expired), or null when none is held under {@code id}. */
    Instant heldEnd(UUID id) {
        Declaration d = heldDeclarations.get(id);
        if (d == null) {
            return null;
        }
        return d.endedAt() != null && d.endedAt().isBefore(d.expiresAt()) ? d.endedAt() : d.expiresAt();
    }

    /** Forgets the declarations held in memory (they are in the database now). */
    void heldWritten() {
        heldDeclarations.clear();
    }

    void recordUse(UUID account, UUID declaration, String address) {
        Instant now = now();
        Tx.Work<Void> insert = c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO emergency_use (account_id, declaration_id,"
                    + " started_at, address) VALUES (?, ?, ?, ?)")) {
                ps.setObject(1, account);
                ps.setObject(2, declaration);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, address);
                ps.executeUpdate();
            }
            return null;
        };
        if (deferred.active()) {
            // DEGRADED-2: emergency accounts work in degraded mode; the use is recorded when the database returns
            deferred.later("emergency account " + account + " used from " + address, insert::run);
            return;
        }
        Tx.inTransaction(ds, insert);
    }

    /** Uses of emergency accounts; with {@code pendingOnly}, those nobody has reviewed yet. */
    public List<Use> uses(boolean pendingOnly) {
        return Tx.read(ds, c -> {
            List<Use> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT u.use_id, u.account_id, a.login_id, u.declaration_id,"
                    + " u.started_at, u.address, u.reviewed_at, u.reviewed_by, u.review_note FROM emergency_use u"
                    + " JOIN account a ON a.account_id = u.account_id"
                    + (pendingOnly ? " WHERE u.reviewed_at IS NULL" : "") + " ORDER BY u.use_id DESC LIMIT 500");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Use(rs.getLong(1), rs.getObject(2, UUID.class), rs.getString(3),
                            rs.getObject(4, UUID.class), rs.getTimestamp(5).toInstant(), rs.getString(6),
                            Accounts.instant(rs.getTimestamp(7)), rs.getString(8), rs.getString(9)));
                }
            }
            return out;
        });
    }

    /** Signs off one use after recovery, with what the reviewer found. */
    public boolean review(long useId, String by, String note) {
        if (note == null || note.strip().length() < 5) {
            throw new IdentityException("確認結果を記入してください（5文字以上） / Write what the review found (at least 5 characters)");
        }
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE emergency_use SET reviewed_at = ?, reviewed_by = ?,"
                    + " review_note = ? WHERE use_id = ? AND reviewed_at IS NULL RETURNING account_id")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, by);
                ps.setString(3, note.strip());
                ps.setLong(4, useId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    Accounts.record(c, rs.getObject(1, UUID.class), now, by, "emergency.use_reviewed",
                            Accounts.JSON.createObjectNode().put("use", useId).put("note", note.strip()));
                    return true;
                }
            }
        });
    }

}
