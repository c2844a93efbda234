package jp.mamori.identity;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The identity capability as one object: who the people are, how they log in, and their sessions.
 * Built once at start from validated {@link Settings}.
 */
public record Identity(Settings settings, Accounts accounts, Sessions sessions, Logins logins, Enrolment enrolment,
                       Factors factors, Passkeys passkeys, MfaExceptions mfaExceptions, Emergencies emergencies) {

    /**
     * @param rpId     the WebAuthn relying party id: the host name people type (e.g. {@code mamori.example.jp})
     * @param origins  the exact origins pages are served from (scheme, host and port)
     */
    public record Settings(Sessions.Settings sessions, Logins.Settings logins, int minPasswordLength,
                           Duration enrolmentCodeTtl, int unusedDays, boolean suspendUnused, String rpId,
                           Set<String> origins, String issuer) {
    }

    public static Identity create(DataSource ds, Path dataDir, Settings s, Clock clock) {
        PasswordHasher hasher = new PasswordHasher(PasswordHasher.DEFAULT, 4);
        SecretSealer sealer = SecretSealer.open(dataDir.resolve("secrets").resolve("identity-keys"));
        Accounts accounts = new Accounts(ds, clock);
        Sessions sessions = new Sessions(ds, clock, s.sessions());
        Factors factors = new Factors(ds, sealer, clock, s.issuer());
        Passkeys passkeys = new Passkeys(ds, s.rpId(), s.origins(), s.issuer());
        MfaExceptions exceptions = new MfaExceptions(ds, clock);
        Emergencies emergencies = new Emergencies(ds, clock, accounts, hasher);
        Logins logins = new Logins(ds, clock, s.logins(), hasher, factors, passkeys, sessions, exceptions, emergencies);
        // one queue for what sign-in cannot write while the database is read-only (issue 18 §2)
        Deferred deferred = new Deferred();
        sessions.deferred = deferred;
        logins.deferred = deferred;
        factors.deferred = deferred;
        emergencies.deferred = deferred;
        passkeys.store().deferred = deferred;
        sessions.heldDeclarationEnd = emergencies::heldEnd;
        Enrolment enrolment = new Enrolment(ds, clock, accounts, hasher, new PasswordPolicy(s.minPasswordLength()),
                sessions, factors, logins);
        return new Identity(s, accounts, sessions, logins, enrolment, factors, passkeys, exceptions, emergencies);
    }

    /**
     * Keeps sign-in working in degraded read-only mode (issue 18 §2, DEGRADED-2, ADR 0013): while {@code availability}
     * is degraded, sessions, the login throttle, the TOTP replay counter and the authentication events are held in
     * memory, and before it leaves degraded mode they are written to {@code ds} in one transaction (a failure keeps
     * the process degraded, so nothing is lost). Sessions started while degraded therefore continue after the return,
     * on this process and on any other, like every session.
     */
    public void degradedWhile(jp.mamori.db.Availability availability, DataSource ds) {
        Deferred d = sessions.deferred;
        d.degradedWhile(availability::degraded);
        availability.beforeLeaving(() -> {
            d.flush(ds, sessions.heldWrites());
            sessions.heldWritten();
            logins.heldWritten();
            factors.heldWritten();
            passkeys.store().heldWritten();
            emergencies.heldWritten();
        });
    }

    /** Sessions held in memory and identity writes waiting for the database (degraded mode), for the health report. */
    public String heldWhileDegraded() {
        return sessions.heldInMemory() + " session(s), " + sessions.deferred.waiting() + " write(s)";
    }

    /**
     * Deviations from the secure defaults that arise while the server runs: the MFA exceptions in force.
     * The identity settings themselves are reported by {@link jp.mamori.config.ServerConfig#deviations()}.
     */
    public List<String> deviations() {
        return mfaExceptions.deviations();
    }
}
