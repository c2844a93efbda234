package jp.mamori.identity;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logging in: a password, then a second factor (TOTP, a passkey or a recovery code), or a passkey alone
 * (possession plus the user verification the authenticator does, so two factors). Every success and failure
 * is recorded in {@code auth_event}.
 *
 * <p>Brute force: failures are counted per login id, whether or not the id exists, and after
 * {@link Settings#lockoutThreshold()} failures the id is locked for a time that doubles with each further
 * failure; attempts are also limited per network address. An unknown id, a wrong password, a suspended or retired
 * account all get {@link #REFUSED} and cost one Argon2id hash, so neither the answer nor its timing tells them
 * apart. A locked id is told so, with the time the lock ends ({@link #lockedMessage}), known or not (AUTH-5).
 */
public final class Logins {
    public static final String REFUSED = "ログインIDまたはパスワードが正しくないか、現在ログインできません"
            + " / The login id or password is wrong, or this account cannot log in now";
    public static final String TOO_MANY = "試行回数が多すぎます。しばらく待ってから再度お試しください"
            + " / Too many attempts from this address; wait a minute and try again";
    public static final String WRONG_CODE = "確認コードが正しくありません / The code is not correct";
    private static final jp.mamori.chart.JpDates DATES = jp.mamori.chart.JpDates.tokyo();

    /**
     * What a login id that is locked after repeated failures is told, with the time the lock ends (JST).
     *
     * <p>Account enumeration: the lock belongs to the login id as typed (normalised), whether or not an account has
     * it, and it is counted, set and shown the same way for both, whatever password comes with it. So this
     * message tells nothing that the person typing has not caused themselves: five failed attempts at a made-up
     * id lock it just the same and say so just the same. It is shown whether the password was right or not (a
     * lock that answered differently to the right password would let guessing go on while locked).
     */
    public static String lockedMessage(Instant until) {
        String hhmm = DATES.time(until);
        return "このログインIDは、続けて失敗したため一時的にロックされています。" + hhmm + "（JST）まで待つか、アカウント管理者に"
                + "解除を依頼してください / This login id is temporarily locked after repeated failures, until " + hhmm
                + " (JST): wait until then, or ask an account administrator to release it";
    }

    /** An account whose login id is locked now after repeated failures (the administrators' list, AUTH-9). */
    public record Locked(UUID accountId, String loginId, String displayName, int failures, Instant lastFailureAt,
                         Instant lockedUntil) {
    }

    /** @param attemptsPerMinute failed attempts allowed per network address per minute */
    public record Settings(int lockoutThreshold, Duration firstLockout, Duration maxLockout, int attemptsPerMinute) {
        public static final Settings DEFAULT = new Settings(5, Duration.ofSeconds(30), Duration.ofHours(1), 30);
    }

    /** What a correct password leads to. */
    public sealed interface PasswordOutcome {
        /** A second factor is due; the session is at {@link Sessions.Stage#SECOND_FACTOR}. */
        record SecondFactorDue(String cookie) implements PasswordOutcome {
        }

        /** Logged in without a second factor: an emergency account, or a terminal with an MFA exception. */
        record LoggedIn(String cookie, String why) implements PasswordOutcome {
        }
    }

    private final DataSource ds;
    private final Clock clock;
    private final Settings settings;
    private final PasswordHasher hasher;
    private final Factors factors;
    private final Passkeys passkeys;
    private final Sessions sessions;
    private final MfaExceptions exceptions;
    private final Emergencies emergencies;
    private final ConcurrentHashMap<String, long[]> perAddress = new ConcurrentHashMap<>();
    /** What waits for the database while it is read-only (degraded mode, issue 18 §2); nothing by default. */
    Deferred deferred = new Deferred();

    /** The login throttle of one id while the database is read-only: counted here, written when it returns. */
    private record HeldThrottle(int failures, Instant lockedUntil) {
    }

    private final ConcurrentHashMap<String, HeldThrottle> heldThrottle = new ConcurrentHashMap<>();

    /** Forgets the throttle held in memory (it is in the database now). */
    void heldWritten() {
        heldThrottle.clear();
    }

    public Logins(DataSource ds, Clock clock, Settings settings, PasswordHasher hasher, Factors factors,
                  Passkeys passkeys, Sessions sessions, MfaExceptions exceptions, Emergencies emergencies) {
        this.ds = ds;
        this.clock = clock;
        this.settings = settings;
        this.hasher = hasher;
        this.factors = factors;
        this.passkeys = passkeys;
        this.sessions = sessions;
        this.exceptions = exceptions;
        this.emergencies = emergencies;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    static String normalizeLoginId(String raw) {
        String s = raw == null ? "" : Normalizer.normalize(raw, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
        return s.length() > 64 ? s.substring(0, 64) : s;
    }

    /**
     * Checks a login id and password. Throws {@link IdentityException} with {@link #REFUSED} (or
     * {@link #TOO_MANY}) on any failure.
     */
    public PasswordOutcome password(String rawLoginId, char[] password, String address, String userAgent) {
        String loginId = normalizeLoginId(rawLoginId);
        limitAddress(address);
        Instant now = now();
        Optional<Candidate> cand = Tx.read(ds, c -> candidate(c, loginId));
        boolean locked = lockedUntil(loginId).map(u -> u.isAfter(now)).orElse(false);
        boolean ok;
        if (cand.isPresent() && cand.get().phc() != null) {
            ok = hasher.verify(cand.get().phc(), password);
        } else {
            hasher.burn(password);
            ok = false;
        }
        String why = null;
        if (!ok) {
            why = cand.isEmpty() ? "unknown login id" : "wrong password";
        } else if (locked) {
            why = "locked after repeated failures";
        } else if (!cand.get().status().equals("active")) {
            why = "account " + cand.get().status();
        } else if (cand.get().retireAt() != null && !cand.get().retireAt().isAfter(now)) {
            why = "account retired";
        }
        if (why != null) {
            addressFailed(address);
            if (!locked) {
                fail(loginId, now);
            }
            event(cand.map(Candidate::id).orElse(null), loginId, address, "login.password", false, why);
            // Known id or not, right password or not: the same answer for the same lock (see lockedMessage).
            Optional<Instant> until = lockedUntil(loginId).filter(u -> u.isAfter(now));
            throw new IdentityException(until.isPresent() ? lockedMessage(until.get()) : REFUSED);
        }
        Candidate a = cand.get();
        if (hasher.needsRehash(a.phc())) {
            rehash(a.id(), a.phc(), password);
        }
        if (a.type().equals("emergency")) {
            Optional<UUID> declaration = emergencies.active();
            if (declaration.isEmpty()) {
                addressFailed(address);
                event(a.id(), loginId, address, "login.password", false, "emergency account outside an emergency");
                throw new IdentityException("非常時用アカウントは非常時の宣言中のみ使用できます / Emergency accounts work only while"
                        + " an emergency is declared");
            }
            String cookie = sessions.create(a.id(), Sessions.Stage.AUTHENTICATED, "pwd+emergency", false, address,
                    userAgent, null, declaration.get());
            emergencies.recordUse(a.id(), declaration.get(), address);
            loggedIn(a.id(), loginId, address, "emergency account");
            return new PasswordOutcome.LoggedIn(cookie, "emergency");
        }
        // a terminal's MFA exception never covers a vendor's maintenance account, nor a partner clinician of another
        // institution: they always need their second factor (issue 19; ACCT-3, AUTH-2; issue 21, AUTH-11)
        Optional<MfaExceptions.Exception> exception = a.type().equals("vendor") || a.type().equals("partner")
                ? Optional.empty()
                : exceptions.covering(address);
        if (exception.isPresent()) {
            String cookie = sessions.create(a.id(), Sessions.Stage.AUTHENTICATED, "pwd+exception", false, address,
                    userAgent, exception.get().id(), null);
            loggedIn(a.id(), loginId, address, "MFA exception " + exception.get().name());
            return new PasswordOutcome.LoggedIn(cookie, "exception");
        }
        clearFailures(loginId);
        event(a.id(), loginId, address, "login.password", true, null);
        return new PasswordOutcome.SecondFactorDue(sessions.create(a.id(), Sessions.Stage.SECOND_FACTOR, "pwd",
                false, address, userAgent, null, null));
    }

    /**
     * Sign-in through the institution's OpenID Connect provider (issue 21; AUTH-1, AUTH-2), after the federation
     * capability has validated the provider's ID token and found the account linked to its subject. The account
     * ledger decides here as for a password: an account that is not active, is retired or is locked cannot sign in
     * ({@link #REFUSED}); an emergency account never signs in this way (its sealed password, during a declared
     * emergency, is its rule). The session's method is {@code oidc}: with {@code providerMfa} (the provider's token
     * satisfied the configured rule) it is complete ({@code oidc+mfa}); otherwise, and always for a vendor's account,
     * Mamori asks for its own second factor, as after a password.
     *
     * @param how what the event records (the provider's name and the claims that counted), never a token
     */
    public PasswordOutcome federated(UUID account, boolean providerMfa, String how, String address, String userAgent) {
        limitAddress(address);
        Optional<Candidate> cand = Tx.read(ds, c -> candidateById(c, account));
        Instant now = now();
        String why = null;
        if (cand.isEmpty()) {
            why = "no such account";
        } else if (!cand.get().status().equals("active")) {
            why = "account " + cand.get().status();
        } else if (cand.get().retireAt() != null && !cand.get().retireAt().isAfter(now)) {
            why = "account retired";
        } else if (cand.get().type().equals("emergency")) {
            why = "emergency account";
        } else if (lockedUntil(cand.get().loginId()).filter(u -> u.isAfter(now)).isPresent()) {
            why = "locked after repeated failures";
        }
        if (why != null) {
            addressFailed(address);
            event(account, cand.map(Candidate::loginId).orElse(null), address, "login.oidc", false, how + ": " + why);
            throw new IdentityException(REFUSED);
        }
        Candidate a = cand.get();
        if (providerMfa && !a.type().equals("vendor")) {
            String cookie = sessions.create(a.id(), Sessions.Stage.AUTHENTICATED, "oidc+mfa", true, address, userAgent,
                    null, null);
            loggedIn(a.id(), a.loginId(), address, "oidc " + how);
            return new PasswordOutcome.LoggedIn(cookie, "oidc");
        }
        event(a.id(), a.loginId(), address, "login.oidc", true, how + ": second factor due");
        return new PasswordOutcome.SecondFactorDue(sessions.create(a.id(), Sessions.Stage.SECOND_FACTOR, "oidc", false,
                address, userAgent, null, null));
    }

    /** The second factor after a password: a TOTP code or a recovery code. Returns the new session cookie. */
    public String secondFactorCode(String cookie, Sessions.Session s, String code, boolean recovery, String address) {
        limitAddress(address);
        boolean ok = recovery ? factors.useRecoveryCode(s.accountId(), code, s.principal())
                : factors.verifyTotp(s.accountId(), code);
        String what = recovery ? "recovery code" : "totp";
        if (!ok) {
            secondFactorFailed(cookie, s, address, what);
            throw new IdentityException(WRONG_CODE);
        }
        String first = s.amr().equals("oidc") ? "oidc" : "pwd";
        String fresh = sessions.advance(cookie, Sessions.Stage.AUTHENTICATED, first + (recovery ? "+rec" : "+otp"), true);
        loggedIn(s.accountId(), s.loginId(), address, what);
        return fresh;
    }

    /** The second factor after a password, by passkey; the passkey must belong to the same account. */
    public String secondFactorPasskey(String cookie, Sessions.Session s, String requestId, String response,
                                      String address) {
        limitAddress(address);
        UUID who;
        try {
            who = passkeys.finishLogin(requestId, response);
        } catch (IdentityException e) {
            secondFactorFailed(cookie, s, address, "passkey: " + e.getMessage());
            throw e;
        }
        if (!who.equals(s.accountId())) {
            secondFactorFailed(cookie, s, address, "passkey of another account");
            throw new IdentityException("このパスキーは別のアカウントのものです / This passkey belongs to another account");
        }
        String fresh = sessions.advance(cookie, Sessions.Stage.AUTHENTICATED, s.amr().equals("oidc") ? "oidc+hwk"
                : "pwd+hwk", true);
        loggedIn(s.accountId(), s.loginId(), address, "passkey");
        return fresh;
    }

    /** Passkey login without a password: user verification by the authenticator is the second factor. */
    public String passkeyLogin(String requestId, String response, String address, String userAgent) {
        limitAddress(address);
        UUID who;
        try {
            who = passkeys.finishLogin(requestId, response);
        } catch (IdentityException e) {
            addressFailed(address);
            event(null, null, address, "login.passkey", false, e.getMessage());
            throw e;
        }
        Optional<Candidate> a = Tx.read(ds, c -> candidateById(c, who));
        Instant now = now();
        Optional<Instant> until = a.flatMap(x -> lockedUntil(x.loginId())).filter(u -> u.isAfter(now));
        if (a.isEmpty() || !a.get().status().equals("active")
                || (a.get().retireAt() != null && !a.get().retireAt().isAfter(now)) || until.isPresent()) {
            addressFailed(address);
            event(who, a.map(Candidate::loginId).orElse(null), address, "login.passkey", false, "account cannot log in");
            // The passkey proved whose account it is: telling its holder about the lock discloses nothing.
            throw new IdentityException(until.isPresent() && a.get().status().equals("active")
                    ? lockedMessage(until.get()) : REFUSED);
        }
        String cookie = sessions.create(who, Sessions.Stage.AUTHENTICATED, "hwk+uv", true, address, userAgent, null, null);
        loggedIn(who, a.get().loginId(), address, "passkey (user verified)");
        return cookie;
    }

    /**
     * Step-up and unlock: a fresh second factor from the session's own person. For a locked session the
     * password is asked too, unless a passkey (with user verification) is used.
     */
    public void reauthenticate(String cookie, Sessions.Session s, Optional<char[]> password, String code,
                               boolean recovery, String address, String event) {
        limitAddress(address);
        if (password.isPresent()) {
            Optional<Candidate> cand = Tx.read(ds, c -> candidateById(c, s.accountId()));
            if (cand.isEmpty() || cand.get().phc() == null || !hasher.verify(cand.get().phc(), password.get())) {
                secondFactorFailed(cookie, s, address, event + ": wrong password");
                throw new IdentityException(REFUSED);
            }
        }
        // Sessions that began without a second factor (emergency account, MFA-exempt terminal) have none to
        // ask for again: their password is what they can give.
        boolean passwordOnly = s.withoutSecondFactor();
        boolean ok;
        if (code.isBlank()) {
            ok = passwordOnly && password.isPresent();
        } else {
            ok = recovery ? factors.useRecoveryCode(s.accountId(), code, s.principal())
                    : factors.verifyTotp(s.accountId(), code);
        }
        if (!ok) {
            secondFactorFailed(cookie, s, address, event + ": wrong code");
            throw new IdentityException(WRONG_CODE);
        }
        sessions.reauthenticated(cookie);
        event(s.accountId(), s.loginId(), address, event, true, code.isBlank() ? "password" : recovery ? "recovery code" : "totp");
    }

    /** As {@link #reauthenticate}, with a passkey. */
    public void reauthenticatePasskey(String cookie, Sessions.Session s, String requestId, String response,
                                      String address, String event) {
        limitAddress(address);
        UUID who;
        try {
            who = passkeys.finishLogin(requestId, response);
        } catch (IdentityException e) {
            secondFactorFailed(cookie, s, address, event + ": " + e.getMessage());
            throw e;
        }
        if (!who.equals(s.accountId())) {
            secondFactorFailed(cookie, s, address, event + ": passkey of another account");
            throw new IdentityException("このパスキーは別のアカウントのものです / This passkey belongs to another account");
        }
        sessions.reauthenticated(cookie);
        event(s.accountId(), s.loginId(), address, event, true, "passkey");
    }

    private void secondFactorFailed(String cookie, Sessions.Session s, String address, String what) {
        addressFailed(address);
        Instant now = now();
        event(s.accountId(), s.loginId(), address, "login.second_factor", false, what);
        int failures = fail(s.loginId(), now);
        if (failures >= settings.lockoutThreshold() && s.stage() != Sessions.Stage.AUTHENTICATED) {
            sessions.end(cookie, "too many second-factor failures");
        }
    }

    /** A finished login: last login time, failure counter cleared and the event, in one transaction. */
    private void loggedIn(UUID account, String loginId, String address, String how) {
        Instant now = now();
        if (deferred.active()) {
            heldThrottle.remove(loginId);
            deferred.later("login of " + loginId + " (" + how + ") from " + address, c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE account SET last_login_at = greatest(last_login_at, ?)"
                        + " WHERE account_id = ?")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setObject(2, account);
                    ps.executeUpdate();
                }
                clearFailures(c, loginId);
                insertEvent(c, now, account, loginId, address, "login", true, how + " (degraded mode)");
            });
            return;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET last_login_at = ? WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, account);
                ps.executeUpdate();
            }
            clearFailures(c, loginId);
            insertEvent(c, now, account, loginId, address, "login", true, how);
            return null;
        });
    }

    private void rehash(UUID account, String old, char[] password) {
        if (deferred.active()) {
            return; // the next sign-in after the database returns does it
        }
        String fresh = hasher.hash(password);
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE password_credential SET phc = ? WHERE account_id = ?"
                    + " AND phc = ?")) {
                ps.setString(1, fresh);
                ps.setObject(2, account);
                ps.setString(3, old);
                ps.executeUpdate();
            }
            return null;
        });
    }

    // ---- throttling ---------------------------------------------------------------------------------------

    /**
     * Refuses an address that has failed {@link Settings#attemptsPerMinute()} times in the current minute, in
     * this process. Only failures count, so a ward where a whole shift logs in through one address (a NAT or
     * proxy) is never slowed by its own successful logins.
     */
    private void limitAddress(String address) {
        long minute = clock.millis() / 60_000;
        long[] w = perAddress.get(address);
        if (w != null && w[0] == minute && w[1] >= settings.attemptsPerMinute()) {
            event(null, null, address, "login.rate_limited", false, "over " + settings.attemptsPerMinute()
                    + " failures/min");
            throw new IdentityException(TOO_MANY);
        }
    }

    /** Counts one failed attempt from {@code address} in the current minute. */
    private void addressFailed(String address) {
        long minute = clock.millis() / 60_000;
        if (perAddress.size() > 100_000) {
            perAddress.clear();
        }
        perAddress.compute(address, (k, v) -> {
            if (v == null || v[0] != minute) {
                return new long[]{minute, 1};
            }
            v[1]++;
            return v;
        });
    }

    /** The lock message for {@code rawLoginId} when it is locked now (after a login ended by failed codes). */
    public Optional<String> lockNotice(String rawLoginId) {
        Instant now = now();
        return lockedUntil(normalizeLoginId(rawLoginId)).filter(u -> u.isAfter(now)).map(Logins::lockedMessage);
    }

    /**
     * The accounts locked now after repeated failures, the latest lock first (at most 500). Login ids that belong
     * to no account are left out: what people type there is not shown (a password typed into the wrong field).
     * {@code lockedAccounts(now).size()} is the count the administrator's home shows as a badge.
     */
    public List<Locked> lockedAccounts(Instant now) {
        return Tx.read(ds, c -> {
            List<Locked> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT a.account_id, a.login_id, a.family_name || ' ' ||"
                    + " a.given_name, t.failures, t.last_failure_at, t.locked_until FROM login_throttle t"
                    + " JOIN account a ON a.login_id = t.login_id WHERE t.locked_until > ?"
                    + " ORDER BY t.locked_until DESC, a.login_id LIMIT 500")) {
                ps.setTimestamp(1, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Locked(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getInt(4),
                                rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /**
     * An account administrator releases the lock of {@code account} before it ends (the person has been
     * identified, e.g. by telephone): the failure count starts again from zero. Recorded in the account's change
     * history with who released it and why, and as an authentication event.
     *
     * @throws IdentityException when there is no reason, or the account is not locked (any more)
     */
    public void releaseLock(UUID account, String by, String reason, String address) {
        String why = reason == null ? "" : reason.strip();
        if (why.isEmpty() || why.length() > 500) {
            throw new IdentityException("解除の理由を入力してください（500文字以内） / Give the reason for releasing the lock"
                    + " (at most 500 characters)");
        }
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Optional<Candidate> a = candidateById(c, account);
            if (a.isEmpty()) {
                throw new IdentityException("アカウントが見つかりません / No such account");
            }
            String loginId = a.get().loginId();
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM login_throttle WHERE login_id = ?"
                    + " AND locked_until > ? RETURNING failures, locked_until")) {
                ps.setString(1, loginId);
                ps.setTimestamp(2, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IdentityException("このアカウントはロックされていません（すでに解除されています）"
                                + " / This account is not locked (any more)");
                    }
                    Accounts.record(c, account, now, by, "login.lock_released", Accounts.JSON.createObjectNode()
                            .put("reason", why).put("failures", rs.getInt(1))
                            .put("lockedUntil", rs.getTimestamp(2).toInstant().toString()));
                }
            }
            insertEvent(c, now, account, loginId, address, "login.lock_released", true, "by " + by + ": " + why);
            return null;
        });
    }

    private Optional<Instant> lockedUntil(String loginId) {
        Optional<Instant> stored = storedLockedUntil(loginId);
        HeldThrottle h = heldThrottle.get(loginId);
        if (h == null || h.lockedUntil() == null) {
            return stored;
        }
        return stored.isPresent() && stored.get().isAfter(h.lockedUntil()) ? stored : Optional.of(h.lockedUntil());
    }

    private Optional<Instant> storedLockedUntil(String loginId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT locked_until FROM login_throttle WHERE login_id = ?")) {
                ps.setString(1, loginId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(Accounts.instant(rs.getTimestamp(1))) : Optional.<Instant>empty();
                }
            }
        });
    }

    /** Counts a failure; from the threshold on, locks the id for a time that doubles each time. */
    private int fail(String loginId, Instant now) {
        if (loginId == null || loginId.isEmpty()) {
            return 0;
        }
        if (deferred.active()) {
            // the throttle keeps working in memory (DEGRADED-2: sign-in works, guessing does not get easier)
            HeldThrottle t = heldThrottle.compute(loginId, (k, v) -> {
                int failures = (v != null ? v.failures() : storedFailures(k)) + 1;
                Instant until = v != null ? v.lockedUntil() : storedLockedUntil(k).orElse(null);
                if (failures >= settings.lockoutThreshold()) {
                    until = now.plus(lockout(failures));
                }
                return new HeldThrottle(failures, until);
            });
            deferred.later("login failure of " + loginId, c -> failIn(c, loginId, now));
            return t.failures();
        }
        return Tx.inTransaction(ds, c -> failIn(c, loginId, now));
    }

    private int storedFailures(String loginId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT failures FROM login_throttle WHERE login_id = ?")) {
                ps.setString(1, loginId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getInt(1) : 0;
                }
            }
        });
    }

    private Duration lockout(int failures) {
        int extra = Math.min(failures - settings.lockoutThreshold(), 20);
        Duration d = settings.firstLockout().multipliedBy(1L << extra);
        return d.compareTo(settings.maxLockout()) > 0 ? settings.maxLockout() : d;
    }

    private int failIn(Connection c, String loginId, Instant now) throws SQLException {
        {
            int failures; // one transaction: the count and the lock it reaches
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO login_throttle (login_id, failures,"
                    + " last_failure_at) VALUES (?, 1, ?) ON CONFLICT (login_id) DO UPDATE SET failures ="
                    + " login_throttle.failures + 1, last_failure_at = excluded.last_failure_at RETURNING failures")) {
                ps.setString(1, loginId);
                ps.setTimestamp(2, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    failures = rs.getInt(1);
                }
            }
            if (failures >= settings.lockoutThreshold()) {
                Duration d = lockout(failures);
                try (PreparedStatement ps = c.prepareStatement("UPDATE login_throttle SET locked_until = ?"
                        + " WHERE login_id = ?")) {
                    ps.setTimestamp(1, Timestamp.from(now.plus(d)));
                    ps.setString(2, loginId);
                    ps.executeUpdate();
                }
            }
            return failures;
        }
    }

    private void clearFailures(String loginId) {
        if (deferred.active()) {
            heldThrottle.remove(loginId);
            deferred.later("login failures of " + loginId + " cleared", c -> clearFailures(c, loginId));
            return;
        }
        Tx.inTransaction(ds, c -> {
            clearFailures(c, loginId);
            return null;
        });
    }

    private static void clearFailures(Connection c, String loginId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM login_throttle WHERE login_id = ?")) {
            ps.setString(1, loginId);
            ps.executeUpdate();
        }
    }

    /**
     * Failed logins (any {@code login*} event with outcome failure) since {@code since}, for the alert on many failures
     * (issue 18 §5). Reads only the newest {@code cap} events (by their key: auth_event has no index on time), so a
     * flood costs the same as a quiet hour and the count stops at {@code cap}.
     */
    public int failuresSince(Instant since, int cap) {
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (SELECT at, event, outcome FROM"
                    + " auth_event ORDER BY event_id DESC LIMIT ?) e WHERE at >= ? AND outcome = 'failure'"
                    + " AND event LIKE 'login%'")) {
                ps.setInt(1, cap);
                ps.setTimestamp(2, Timestamp.from(since));
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    /** Appends one authentication event; every success and failure goes through here. */
    public void event(UUID account, String loginId, String address, String event, boolean success, String detail) {
        Instant now = now();
        if (deferred.active()) {
            deferred.later("authentication event " + event + (success ? " success" : " failure") + " of " + loginId
                    + " from " + address, c -> insertEvent(c, now, account, loginId, address, event, success, detail));
            return;
        }
        Tx.inTransaction(ds, c -> {
            insertEvent(c, now, account, loginId, address, event, success, detail);
            return null;
        });
    }

    static void insertEvent(Connection c, Instant now, UUID account, String loginId, String address, String event,
                            boolean success, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO auth_event (at, account_id, login_id, address,"
                + " event, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setObject(2, account);
            ps.setString(3, loginId == null ? null : loginId.substring(0, Math.min(64, loginId.length())));
            ps.setString(4, address);
            ps.setString(5, event);
            ps.setString(6, success ? "success" : "failure");
            ps.setString(7, detail == null ? null : detail.substring(0, Math.min(500, detail.length())));
            ps.executeUpdate();
        }
    }

    private record Candidate(UUID id, String loginId, String type, String status, Instant retireAt, String phc) {
    }

    private static Optional<Candidate> candidate(Connection c, String loginId) throws SQLException {
        return one(c, "a.login_id = ?", loginId);
    }

    private static Optional<Candidate> candidateById(Connection c, UUID id) throws SQLException {
        return one(c, "a.account_id = ?", id);
    }

    private static Optional<Candidate> one(Connection c, String where, Object key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT a.account_id, a.login_id, a.account_type, a.status,"
                + " a.retire_at, p.phc FROM account a LEFT JOIN password_credential p ON p.account_id = a.account_id"
                + " WHERE " + where)) {
            ps.setObject(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Candidate(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getString(4), Accounts.instant(rs.getTimestamp(5)), rs.getString(6)));
            }
        }
    }
}
