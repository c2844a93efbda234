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
import java.util.List;
import java.util.UUID;

/**
 * What happens to an account after it is created: enrolment codes (and re-enrolment of an active account),
 * suspension and reactivation, retirement at once or at a set time, a password marked compromised, and the
 * sweep that carries out due retirements and suspends unused accounts (ACCT-2). Every step that stops an
 * account working also ends its sessions, in the same transaction.
 */
final class AccountLifecycle {
    private final DataSource ds;
    private final Clock clock;
    private final AccountLedger ledger;

    AccountLifecycle(DataSource ds, Clock clock, AccountLedger ledger) {
        this.ds = ds;
        this.clock = clock;
        this.ledger = ledger;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** See {@link Accounts#issueEnrolmentCode}. */
    String issueEnrolmentCode(UUID id, Duration ttl, String by) {
        String code = Secrets.random256();
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.type() == Account.Type.EMERGENCY) {
                throw new IdentityException("非常時用アカウントには登録コードを発行できません / Emergency accounts do not enrol");
            }
            if (a.status() == Account.Status.RETIRED || a.status() == Account.Status.SUSPENDED) {
                throw new IdentityException("停止中・退職済のアカウントには発行できません / The account is suspended or retired");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_code SET revoked_at = ? WHERE account_id = ?"
                    + " AND used_at IS NULL AND revoked_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrolment_code (code_sha256, account_id,"
                    + " created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setBytes(1, Hashes.sha256(code));
                ps.setObject(2, id);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, by);
                ps.setTimestamp(5, Timestamp.from(now.plus(ttl)));
                ps.executeUpdate();
            }
            if (a.status() == Account.Status.ACTIVE) {
                // Re-enrolment (forgotten password, lost factors): after the administrator has verified the
                // person again, everything the old credentials could do stops now.
                int ended = endSessions(c, id, now, "re-enrolment");
                for (String sql : List.of("DELETE FROM totp_credential WHERE account_id = ?",
                        "DELETE FROM recovery_code WHERE account_id = ?",
                        "UPDATE webauthn_credential SET removed_at = now(), removed_by = 're-enrolment'"
                                + " WHERE account_id = ? AND removed_at IS NULL")) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setObject(1, id);
                        ps.executeUpdate();
                    }
                }
                setStatus(c, id, Account.Status.ENROLMENT_PENDING, "再登録中 / re-enrolling", now);
                AccountLedger.record(c, id, now, by, "account.reenrolment_started",
                        Accounts.JSON.createObjectNode().put("sessionsEnded", ended));
            } else if (a.status() == Account.Status.CREATED) {
                setStatus(c, id, Account.Status.ENROLMENT_PENDING, null, now);
            }
            AccountLedger.record(c, id, now, by, "enrolment.code_issued",
                    Accounts.JSON.createObjectNode().put("expiresAt", now.plus(ttl).toString()));
            return null;
        });
        return code;
    }

    /** Suspends an active account at once and ends its sessions. */
    void suspend(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("退職済のアカウントです / The account is retired");
            }
            setStatus(c, id, Account.Status.SUSPENDED, reason.strip(), now);
            int ended = endSessions(c, id, now, "account suspended");
            AccountLedger.record(c, id, now, by, "account.suspended",
                    Accounts.JSON.createObjectNode().put("reason", reason.strip()).put("sessionsEnded", ended));
            return null;
        });
    }

    /** Lifts a suspension. An account that never finished enrolment goes back to enrolment pending. */
    void reactivate(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.status() != Account.Status.SUSPENDED) {
                throw new IdentityException("停止中のアカウントではありません / The account is not suspended");
            }
            boolean enrolled;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM password_credential WHERE account_id = ?")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    enrolled = rs.next();
                }
            }
            Account.Status to = enrolled || a.type() == Account.Type.EMERGENCY ? Account.Status.ACTIVE
                    : Account.Status.CREATED;
            setStatus(c, id, to, null, now);
            // The unused-account clock restarts, or the next sweep would suspend it again at once.
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET last_login_at = NULL,"
                    + " status_changed_at = ? WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            AccountLedger.record(c, id, now, by, "account.reactivated",
                    Accounts.JSON.createObjectNode().put("reason", reason.strip()).put("status", to.code));
            return null;
        });
    }

    /** See {@link Accounts#retire}. */
    void retire(UUID id, Instant at, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("既に退職済です / The account is already retired");
            }
            if (at != null && at.isAfter(now)) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE account SET retire_at = ?,"
                        + " row_version = row_version + 1 WHERE account_id = ?")) {
                    ps.setTimestamp(1, Timestamp.from(at));
                    ps.setObject(2, id);
                    ps.executeUpdate();
                }
                AccountLedger.record(c, id, now, by, "account.retirement_scheduled",
                        Accounts.JSON.createObjectNode().put("at", at.toString()).put("reason", reason.strip()));
            } else {
                retireNow(c, id, now, reason.strip(), by);
            }
            return null;
        });
    }

    private static void retireNow(Connection c, UUID id, Instant now, String reason, String by) throws SQLException {
        setStatus(c, id, Account.Status.RETIRED, reason, now);
        int ended = endSessions(c, id, now, "account retired");
        try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_code SET revoked_at = ? WHERE account_id = ?"
                + " AND used_at IS NULL AND revoked_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setObject(2, id);
            ps.executeUpdate();
        }
        AccountLedger.record(c, id, now, by, "account.retired",
                Accounts.JSON.createObjectNode().put("reason", reason).put("sessionsEnded", ended));
    }

    /** Marks the password compromised: the person must set a new one at the next login (and sessions end). */
    void markPasswordCompromised(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            AccountLedger.lock(c, id);
            try (PreparedStatement ps = c.prepareStatement("UPDATE password_credential SET compromised_at = ?"
                    + " WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET must_change_password = true,"
                    + " row_version = row_version + 1 WHERE account_id = ?")) {
                ps.setObject(1, id);
                ps.executeUpdate();
            }
            int ended = endSessions(c, id, now, "password compromised");
            AccountLedger.record(c, id, now, by, "password.marked_compromised",
                    Accounts.JSON.createObjectNode().put("reason", reason.strip()).put("sessionsEnded", ended));
            return null;
        });
    }

    /** See {@link Accounts#sweep}. */
    List<String> sweep(int unusedDays, boolean suspendUnused) {
        Instant now = now();
        List<String> done = new ArrayList<>();
        List<UUID> due = Tx.read(ds, c -> AccountLedger.ids(c, "SELECT account_id FROM account WHERE retire_at <= ?"
                + " AND status <> 'retired'", now));
        for (UUID id : due) {
            Tx.inTransaction(ds, c -> {
                Account a = AccountLedger.lock(c, id);
                if (a.status() != Account.Status.RETIRED && a.retireAt() != null && !a.retireAt().isAfter(now)) {
                    retireNow(c, id, now, "scheduled retirement " + a.retireAt(), "system:retirement");
                    done.add("retired " + a.loginId());
                }
                return null;
            });
        }
        // Failure counters of ids nobody has tried for a day and that are not locked: kept no longer than needed.
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM login_throttle WHERE last_failure_at < ?"
                    + " AND (locked_until IS NULL OR locked_until < ?)")) {
                ps.setTimestamp(1, Timestamp.from(now.minus(Duration.ofDays(1))));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.executeUpdate();
            }
            return null;
        });
        if (suspendUnused) {
            for (Accounts.Unused u : unused(unusedDays)) {
                if (u.account().type() == Account.Type.EMERGENCY) {
                    continue; // sealed for emergencies: unused by design, reported but never suspended
                }
                Tx.inTransaction(ds, c -> {
                    Account a = AccountLedger.lock(c, u.account().id());
                    if (a.status() == Account.Status.ACTIVE) {
                        setStatus(c, a.id(), Account.Status.SUSPENDED, "未使用 " + u.idleDays() + " 日 / unused for "
                                + u.idleDays() + " days", now);
                        endSessions(c, a.id(), now, "account unused");
                        AccountLedger.record(c, a.id(), now, "system:unused-accounts", "account.suspended",
                                Accounts.JSON.createObjectNode().put("reason", "unused for " + u.idleDays() + " days"));
                        done.add("suspended unused " + a.loginId());
                    }
                    return null;
                });
            }
        }
        return done;
    }

    /** Active accounts whose last login (or activation, if never used) is more than {@code days} ago. */
    List<Accounts.Unused> unused(int days) {
        Instant now = now();
        Instant cutoff = now.minus(Duration.ofDays(days));
        List<Accounts.Unused> out = new ArrayList<>();
        for (Account a : ledger.list()) {
            if (a.status() != Account.Status.ACTIVE) {
                continue;
            }
            Instant last = a.lastLoginAt() != null ? a.lastLoginAt() : a.statusChangedAt();
            if (last.isBefore(cutoff)) {
                out.add(new Accounts.Unused(a, last, Duration.between(last, now).toDays()));
            }
        }
        return out;
    }

    private static void requireReason(String reason) {
        if (reason == null || reason.isBlank() || reason.length() > 500) {
            throw new IdentityException("理由を入力してください（500文字まで） / A reason is required (up to 500 characters)");
        }
    }

    static void setStatus(Connection c, UUID id, Account.Status s, String reason, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE account SET status = ?, status_reason = ?,"
                + " status_changed_at = ?, row_version = row_version + 1 WHERE account_id = ?")) {
            ps.setString(1, s.code);
            ps.setString(2, reason);
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setObject(4, id);
            ps.executeUpdate();
        }
    }

    private static int endSessions(Connection c, UUID id, Instant now, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason = ?"
                + " WHERE account_id = ? AND ended_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, reason);
            ps.setObject(3, id);
            return ps.executeUpdate();
        }
    }
}
