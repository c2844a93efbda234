package jp.mamori.identity;

import jp.mamori.kernel.Hashes;
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
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Becoming a user: the first administrator with the one-time bootstrap secret, everyone else with the
 * one-time enrolment code an administrator issued. Both set a password and then register a second factor
 * before the account is active (AUTH-2); no account is ever usable with a password alone.
 */
public final class Enrolment {
    public static final String CODE_REFUSED = "登録コードが正しくないか、期限切れか、使用済みです。管理者に再発行を依頼してください"
            + " / The enrolment code is wrong, expired or used; ask an administrator for a new one";

    public static final String BOOTSTRAP_REFUSED = "初期設定用シークレットが正しくないか、使用済みです"
            + " / The bootstrap secret is wrong or has been used";

    /** The second factor just registered finished enrolment: the session is now logged in. */
    public record Finished(String cookie, List<String> recoveryCodes) {
        @Override
        public String toString() {
            return "Finished[****]";
        }
    }

    private final DataSource ds;
    private final Clock clock;
    private final Accounts accounts;
    private final PasswordHasher hasher;
    private final PasswordPolicy policy;
    private final Sessions sessions;
    private final Factors factors;
    private final Logins logins;

    public Enrolment(DataSource ds, Clock clock, Accounts accounts, PasswordHasher hasher, PasswordPolicy policy,
                     Sessions sessions, Factors factors, Logins logins) {
        this.ds = ds;
        this.clock = clock;
        this.accounts = accounts;
        this.hasher = hasher;
        this.policy = policy;
        this.sessions = sessions;
        this.factors = factors;
        this.logins = logins;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Whether the first administrator can still be set up with the bootstrap secret. */
    public boolean setupOpen() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT used_at FROM bootstrap_secret WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getTimestamp(1) == null;
            }
        });
    }

    /**
     * Creates the first administrator with the bootstrap secret (which then stops working), sets their
     * password and returns a session at the enrolment stage, where they register a second factor.
     */
    public String setupFirstAdministrator(String secret, Accounts.NewAccount who, char[] password, char[] confirm,
                                          String address, String userAgent) {
        String loginId = Accounts.checkLoginId(who.loginId());
        checkPassword(password, confirm, loginId, List.of(who.familyName(), who.givenName()));
        String phc = hasher.hash(password);
        Instant now = now();
        Accounts.NewAccount n = new Accounts.NewAccount(loginId, who.familyName(), who.givenName(), who.familyKana(),
                who.givenKana(), Account.Type.STAFF, List.of(new Accounts.QualificationGrant("system_administrator", null)),
                who.departments(), Set.of(Accounts.ADMIN_ROLE), who.proofing());
        UUID id;
        try {
            // One transaction: the secret is consumed if and only if the administrator exists.
            id = Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE bootstrap_secret SET used_at = ? WHERE id = 1"
                        + " AND used_at IS NULL AND secret_sha256 = ?")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setBytes(2, Hashes.sha256(secret == null ? "" : secret.strip()));
                    if (ps.executeUpdate() != 1) {
                        throw new IdentityException(BOOTSTRAP_REFUSED);
                    }
                }
                Account a = accounts.createChecked(c, n, now, "bootstrap-secret");
                accounts.setStatus(c, a.id(), Account.Status.ENROLMENT_PENDING, null, now);
                setPassword(c, a.id(), phc, now, "bootstrap-secret");
                Logins.insertEvent(c, now, a.id(), loginId, address, "setup.bootstrap", true, "first administrator");
                return a.id();
            });
        } catch (IdentityException e) {
            logins.event(null, loginId, address, "setup.bootstrap", false, e.getMessage());
            throw e;
        }
        return sessions.create(id, Sessions.Stage.ENROLMENT, "pwd", false, address, userAgent, null, null);
    }

    /** Redeems an enrolment code: sets the password and returns a session at the enrolment stage. */
    public String redeem(String code, char[] password, char[] confirm, String address, String userAgent) {
        Instant now = now();
        UUID account = Tx.read(ds, c -> codeAccount(c, code, now));
        if (account == null) {
            logins.event(null, null, address, "enrolment.code", false, "unknown, expired or used code");
            throw new IdentityException(CODE_REFUSED);
        }
        Account a = accounts.find(account).orElseThrow();
        checkPassword(password, confirm, a.loginId(), List.of(a.familyName(), a.givenName(), a.familyKana(),
                a.givenKana()));
        String phc = hasher.hash(password);
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_code SET used_at = ? WHERE code_sha256 = ?"
                    + " AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setBytes(2, Hashes.sha256(code.strip()));
                ps.setTimestamp(3, Timestamp.from(now));
                if (ps.executeUpdate() != 1) {
                    throw new IdentityException(CODE_REFUSED);
                }
            }
            setPassword(c, account, phc, now, a.principal());
            // One enrolment at a time: an earlier code's enrolment session (left open, or someone else's) ends, so
            // the authenticator secret this one shows is never shown to another session.
            try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason ="
                    + " 'superseded by a newer enrolment' WHERE account_id = ? AND stage = 'enrolment'"
                    + " AND ended_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, account);
                ps.executeUpdate();
            }
            Logins.insertEvent(c, now, account, a.loginId(), address, "enrolment.code", true, null);
            return null;
        });
        return sessions.create(account, Sessions.Stage.ENROLMENT, "pwd", false, address, userAgent, null, null);
    }

    /** The account an unexpired, unused enrolment code belongs to, or null. */
    public UUID peek(String code) {
        return Tx.read(ds, c -> codeAccount(c, code, now()));
    }

    private static UUID codeAccount(Connection c, String code, Instant now) throws SQLException {
        if (code == null || code.isBlank() || code.length() > 100) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT e.account_id FROM enrolment_code e JOIN account a ON"
                + " a.account_id = e.account_id WHERE e.code_sha256 = ? AND e.used_at IS NULL AND e.revoked_at IS NULL"
                + " AND e.expires_at > ? AND a.status = 'enrolment_pending'")) {
            ps.setBytes(1, Hashes.sha256(code.strip()));
            ps.setTimestamp(2, Timestamp.from(now));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1, UUID.class) : null;
            }
        }
    }

    /**
     * Finishes enrolment once a second factor is registered: the account becomes active, recovery codes are
     * issued (shown once), and the session is logged in under a new id.
     */
    public Finished finish(String cookie, Sessions.Session s, String amr, String address) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = accounts.lockAccount(c, s.accountId());
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET last_login_at = ? WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, a.id());
                ps.executeUpdate();
            }
            if (a.status() == Account.Status.ENROLMENT_PENDING) {
                accounts.setStatus(c, a.id(), Account.Status.ACTIVE, null, now);
                Accounts.record(c, a.id(), now, a.principal(), "account.activated",
                        Accounts.JSON.createObjectNode().put("secondFactor", amr));
            }
            return null;
        });
        List<String> codes = factors.newRecoveryCodes(s.accountId(), s.principal());
        String fresh = sessions.advance(cookie, Sessions.Stage.AUTHENTICATED, amr, true);
        logins.event(s.accountId(), s.loginId(), address, "enrolment.finished", true, amr);
        return new Finished(fresh, codes);
    }

    /** A person changes their own password (or must, after it was marked compromised). */
    public void changePassword(Sessions.Session s, char[] current, char[] fresh, char[] confirm) {
        Account a = accounts.find(s.accountId()).orElseThrow();
        String phc = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT phc FROM password_credential WHERE account_id = ?")) {
                ps.setObject(1, a.id());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
        if (phc == null || !hasher.verify(phc, current)) {
            throw new IdentityException("現在のパスワードが正しくありません / The current password is not correct");
        }
        if (hasher.verify(phc, fresh)) {
            throw new IdentityException("新しいパスワードは現在のものと違うものにしてください / Choose a password different from"
                    + " the current one");
        }
        checkPassword(fresh, confirm, a.loginId(), List.of(a.familyName(), a.givenName(), a.familyKana(), a.givenKana()));
        String hashed = hasher.hash(fresh);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            setPassword(c, a.id(), hashed, now, s.principal());
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET must_change_password = false WHERE"
                    + " account_id = ?")) {
                ps.setObject(1, a.id());
                ps.executeUpdate();
            }
            return null;
        });
    }

    private void checkPassword(char[] password, char[] confirm, String loginId, List<String> names) {
        if (password == null || confirm == null || !Arrays.equals(password, confirm)) {
            throw new IdentityException("確認用のパスワードが一致しません / The two passwords differ");
        }
        List<String> problems = policy.problems(new String(password), loginId, names);
        if (!problems.isEmpty()) {
            throw new IdentityException(String.join("\n", problems));
        }
    }

    private static void setPassword(Connection c, UUID account, String phc, Instant now, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO password_credential (account_id, phc, set_at)"
                + " VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET phc = excluded.phc, set_at = excluded.set_at,"
                + " compromised_at = NULL")) {
            ps.setObject(1, account);
            ps.setString(2, phc);
            ps.setTimestamp(3, Timestamp.from(now));
            ps.executeUpdate();
        }
        Accounts.record(c, account, now, by, "password.set", Accounts.JSON.createObjectNode());
    }
}
