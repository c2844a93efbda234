package jp.mamori.identity;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * A person's second factors other than passkeys: a TOTP authenticator (its secret sealed with a key kept
 * outside the database) and single-use recovery codes kept only as hashes. Each change is written to the
 * account's change history.
 */
public final class Factors {
    public static final int RECOVERY_CODES = 10;
    /** How long an unconfirmed authenticator secret is shown again rather than replaced (a mistyped code). */
    public static final java.time.Duration PENDING_TOTP_KEPT = java.time.Duration.ofMinutes(10);

    /** A TOTP secret being set up: shown once as a QR code and as text, confirmed by the first code. */
    public record TotpSetup(String secretBase32, String otpauthUri, String qrSvg) {
        @Override
        public String toString() {
            return "TotpSetup[****]";
        }
    }

    private final DataSource ds;
    private final SecretSealer sealer;
    private final Clock clock;
    private final String issuer;

    public Factors(DataSource ds, SecretSealer sealer, Clock clock, String issuer) {
        this.ds = ds;
        this.sealer = sealer;
        this.clock = clock;
        this.issuer = issuer;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static byte[] aad(UUID account) {
        return ByteBuffer.allocate(16 + 5).put("totp:".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .putLong(account.getMostSignificantBits()).putLong(account.getLeastSignificantBits()).array();
    }

    /**
     * Starts (or restarts) TOTP setup for an account that has no confirmed authenticator. The secret is
     * stored sealed and unconfirmed until {@link #confirmTotp} sees a correct code. Always a new secret.
     */
    public TotpSetup beginTotp(UUID account, String loginId) {
        return beginTotp(account, loginId, null);
    }

    /**
     * As {@link #beginTotp(UUID, String)}, but the page shown again after a mistyped code keeps the secret the
     * person has just scanned: an unconfirmed secret made at or after {@code shownSince} (the start of the
     * enrolment session that shows it; enrolment ends the account's other enrolment sessions, so no other session
     * made it) and less than {@link #PENDING_TOTP_KEPT} ago is shown again instead of a new one. Null: always new.
     */
    public TotpSetup beginTotp(UUID account, String loginId, Instant shownSince) {
        Instant now = now();
        byte[] secret = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT confirmed_at, created_at, secret_sealed"
                    + " FROM totp_credential WHERE account_id = ? FOR UPDATE")) {
                ps.setObject(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        if (rs.getTimestamp(1) != null) {
                            throw new IdentityException("認証アプリは登録済みです。変更するには先に削除してください"
                                    + " / An authenticator app is already registered; remove it first to replace it");
                        }
                        Instant created = rs.getTimestamp(2).toInstant();
                        if (shownSince != null && !created.isBefore(shownSince.truncatedTo(ChronoUnit.MICROS))
                                && created.plus(PENDING_TOTP_KEPT).isAfter(now)) {
                            return sealer.open(rs.getBytes(3), aad(account));
                        }
                    }
                }
            }
            byte[] fresh = Totp.newSecret();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO totp_credential (account_id, secret_sealed,"
                    + " created_at) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET secret_sealed ="
                    + " excluded.secret_sealed, created_at = excluded.created_at, last_step = 0")) {
                ps.setObject(1, account);
                ps.setBytes(2, sealer.seal(fresh, aad(account)));
                ps.setTimestamp(3, Timestamp.from(now));
                ps.executeUpdate();
            }
            return fresh;
        });
        String uri = Totp.otpauthUri(issuer, loginId, secret);
        return new TotpSetup(Totp.base32(secret), uri, Qr.svg(uri, "認証アプリ登録用QRコード / QR code for the authenticator app"));
    }

    /** Confirms a pending TOTP setup with a code from the app. Returns false if the code is wrong. */
    public boolean confirmTotp(UUID account, String code, String by) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            byte[] sealed;
            try (PreparedStatement ps = c.prepareStatement("SELECT secret_sealed FROM totp_credential WHERE account_id = ?"
                    + " AND confirmed_at IS NULL FOR UPDATE")) {
                ps.setObject(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IdentityException("認証アプリの登録を最初からやり直してください / Start the authenticator setup again");
                    }
                    sealed = rs.getBytes(1);
                }
            }
            OptionalLong step = Totp.verify(sealer.open(sealed, aad(account)), code, now, 0);
            if (step.isEmpty()) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE totp_credential SET confirmed_at = ?, last_step = ?"
                    + " WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setLong(2, step.getAsLong());
                ps.setObject(3, account);
                ps.executeUpdate();
            }
            Accounts.record(c, account, now, by, "factor.totp_registered", Accounts.JSON.createObjectNode());
            return true;
        });
    }

    /** Checks a TOTP code; a code (or an earlier one) that was already used is refused (replay). */
    /** What waits for the database while it is read-only (degraded mode, issue 18 §2); nothing by default. */
    Deferred deferred = new Deferred();
    /** The TOTP steps used while the database is read-only, so that a code is still good only once (replay). */
    private final java.util.concurrent.ConcurrentHashMap<UUID, Long> heldSteps = new java.util.concurrent.ConcurrentHashMap<>();
    /** Recovery codes used while the database is read-only, by account and code hash (hex). */
    private final java.util.Set<String> heldRecoveryCodes = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Forgets what memory held (it is in the database now). */
    void heldWritten() {
        heldSteps.clear();
        heldRecoveryCodes.clear();
    }

    public boolean verifyTotp(UUID account, String code) {
        Instant now = now();
        if (deferred.active()) {
            // DEGRADED-2: the second factor still works on a read-only database; the replay counter is kept here
            return Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT secret_sealed, last_step FROM totp_credential"
                        + " WHERE account_id = ? AND confirmed_at IS NOT NULL")) {
                    ps.setObject(1, account);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return false;
                        }
                        byte[] sealed = rs.getBytes(1);
                        long stored = rs.getLong(2);
                        synchronized (heldSteps) {
                            long last = Math.max(stored, heldSteps.getOrDefault(account, Long.MIN_VALUE));
                            OptionalLong step = Totp.verify(sealer.open(sealed, aad(account)), code, now, last);
                            if (step.isEmpty()) {
                                return false;
                            }
                            long used = step.getAsLong();
                            heldSteps.put(account, used);
                            deferred.later("TOTP step used by account " + account, w -> {
                                try (PreparedStatement up = w.prepareStatement("UPDATE totp_credential SET last_step ="
                                        + " greatest(last_step, ?) WHERE account_id = ?")) {
                                    up.setLong(1, used);
                                    up.setObject(2, account);
                                    up.executeUpdate();
                                }
                            });
                            return true;
                        }
                    }
                }
            });
        }
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT secret_sealed, last_step FROM totp_credential"
                    + " WHERE account_id = ? AND confirmed_at IS NOT NULL FOR UPDATE")) {
                ps.setObject(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    OptionalLong step = Totp.verify(sealer.open(rs.getBytes(1), aad(account)), code, now, rs.getLong(2));
                    if (step.isEmpty()) {
                        return false;
                    }
                    try (PreparedStatement up = c.prepareStatement("UPDATE totp_credential SET last_step = ?"
                            + " WHERE account_id = ?")) {
                        up.setLong(1, step.getAsLong());
                        up.setObject(2, account);
                        up.executeUpdate();
                    }
                    return true;
                }
            }
        });
    }

    /**
     * The login ids of active accounts that hold no second factor, neither a confirmed authenticator app nor a passkey
     * (AUTH-2; the compliance probe's count). Emergency accounts are sealed for degraded mode and sign in by their own
     * rule (DEGRADED-2), so they are not counted here.
     */
    public List<String> activeWithoutSecondFactor() {
        return Tx.read(ds, c -> {
            List<String> out = new java.util.ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT a.login_id FROM account a WHERE a.status = 'active'"
                    + " AND a.account_type <> 'emergency'"
                    + " AND NOT EXISTS (SELECT 1 FROM totp_credential t WHERE t.account_id = a.account_id"
                    + " AND t.confirmed_at IS NOT NULL)"
                    + " AND NOT EXISTS (SELECT 1 FROM webauthn_credential w WHERE w.account_id = a.account_id)"
                    + " ORDER BY a.login_id");
                 java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        });
    }

    public boolean hasTotp(UUID account) {
        return Tx.read(ds, c -> exists(c, "SELECT 1 FROM totp_credential WHERE account_id = ? AND confirmed_at IS NOT NULL", account));
    }

    public void removeTotp(UUID account, String by) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM totp_credential WHERE account_id = ?")) {
                ps.setObject(1, account);
                if (ps.executeUpdate() > 0) {
                    Accounts.record(c, account, now, by, "factor.totp_removed", Accounts.JSON.createObjectNode());
                }
            }
            return null;
        });
    }

    /** Replaces all recovery codes with {@value #RECOVERY_CODES} new ones, returned once for the person to keep. */
    public List<String> newRecoveryCodes(UUID account, String by) {
        List<String> codes = RecoveryCodes.generate(RECOVERY_CODES);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM recovery_code WHERE account_id = ?")) {
                ps.setObject(1, account);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO recovery_code (account_id, code_sha256,"
                    + " created_at) VALUES (?, ?, ?)")) {
                for (String code : codes) {
                    ps.setObject(1, account);
                    ps.setBytes(2, RecoveryCodes.hash(RecoveryCodes.normalize(code)));
                    ps.setTimestamp(3, Timestamp.from(now));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            Accounts.record(c, account, now, by, "factor.recovery_codes_issued",
                    Accounts.JSON.createObjectNode().put("count", codes.size()));
            return null;
        });
        return codes;
    }

    /** Uses up one recovery code; false if it is unknown or was used before. {@code by} is who used it. */
    public boolean useRecoveryCode(UUID account, String entered, String by) {
        Instant now = now();
        if (deferred.active()) {
            byte[] hash = RecoveryCodes.hash(RecoveryCodes.normalize(entered));
            String key = account + ":" + java.util.HexFormat.of().formatHex(hash);
            boolean unused = Tx.read(ds, c -> exists(c, "SELECT 1 FROM recovery_code WHERE account_id = ? AND"
                    + " code_sha256 = '\\x" + java.util.HexFormat.of().formatHex(hash) + "'::bytea AND used_at IS NULL",
                    account));
            if (!unused || !heldRecoveryCodes.add(key)) {
                return false;
            }
            deferred.later("recovery code used by account " + account, c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE recovery_code SET used_at = ? WHERE account_id = ?"
                        + " AND code_sha256 = ? AND used_at IS NULL")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setObject(2, account);
                    ps.setBytes(3, hash);
                    ps.executeUpdate();
                }
                Accounts.record(c, account, now, by, "factor.recovery_code_used", Accounts.JSON.createObjectNode()
                        .put("degradedMode", true));
            });
            return true;
        }
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE recovery_code SET used_at = ? WHERE account_id = ?"
                    + " AND code_sha256 = ? AND used_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, account);
                ps.setBytes(3, RecoveryCodes.hash(RecoveryCodes.normalize(entered)));
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            Accounts.record(c, account, now, by, "factor.recovery_code_used", Accounts.JSON.createObjectNode());
            return true;
        });
    }

    public int recoveryCodesLeft(UUID account) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM recovery_code WHERE account_id = ?"
                    + " AND used_at IS NULL")) {
                ps.setObject(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    static boolean exists(Connection c, String sql, UUID account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, account);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
