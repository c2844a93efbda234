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
        Enrolment enrolment = new Enrolment(ds, clock, accounts, hasher, new PasswordPolicy(s.minPasswordLength()),
                sessions, factors, logins);
        return new Identity(s, accounts, sessions, logins, enrolment, factors, passkeys, exceptions, emergencies);
    }

    /**
     * Deviations from the secure defaults that arise while the server runs: the MFA exceptions in force.
     * The identity settings themselves are reported by {@link jp.mamori.config.ServerConfig#deviations()}.
     */
    public List<String> deviations() {
        return mfaExceptions.deviations();
    }
}
