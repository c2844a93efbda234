package jp.mamori.identity;

import com.nimbusds.jose.jwk.JWKSet;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.sql.Types;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jp.mamori.kernel.Hashes;

/**
 * Systems that call the API (department systems, other servers), each registered with an owner, a purpose,
 * SMART scopes and an expiry, and one way to authenticate (NET-6, AUTH-1):
 * <ul>
 *   <li>{@link Method#MTLS}: the TLS connection presents the registered client certificate, recognised by
 *       the SHA-256 of its DER encoding (a pin), within the certificate's own validity dates;</li>
 *   <li>{@link Method#PRIVATE_KEY_JWT}: the client signs a JWT assertion with a key of its registered JWK set
 *       and exchanges it at {@link TokenEndpoint} for a short-lived access token;</li>
 *   <li>{@link Method#BEARER}: a static token, shown once when made. Kept for clients made before the other
 *       methods existed; it is the weaker method, since a leaked token works until revoked or expired.</li>
 * </ul>
 * Static and access tokens are 256-bit random values stored only as SHA-256. A revoked or expired client
 * authenticates nowhere, and access tokens it was given stop working with it.
 *
 * <p>Authentications are remembered for at most {@link #CACHE_TTL} (never beyond the credential's expiry) so
 * that a busy API does not look each one up in the database; a revocation therefore takes effect within
 * that time.
 */
public final class SystemClients {
    private static final Logger log = LoggerFactory.getLogger(SystemClients.class);

    public static final String TOKEN_PREFIX = "mamori_";
    /** Access tokens begin with this; '.' never occurs in a static token, so the two cannot be confused. */
    public static final String ACCESS_TOKEN_PREFIX = "mamori_at.";
    public static final Duration CACHE_TTL = Duration.ofSeconds(5);
    public static final int DEFAULT_EXPIRY_DAYS = 365;
    public static final int MAX_EXPIRY_DAYS = 3 * 365;
    public static final Duration DEFAULT_ACCESS_TOKEN_LIFETIME = Duration.ofMinutes(5);
    public static final Duration MAX_ACCESS_TOKEN_LIFETIME = Duration.ofHours(1);

    /** How a client proves who it is. */
    public enum Method {
        BEARER("bearer"), MTLS("mtls"), PRIVATE_KEY_JWT("private_key_jwt");

        /** The name stored in {@code system_client.auth_method} and shown by {@code client list}. */
        public final String dbName;

        Method(String dbName) {
            this.dbName = dbName;
        }

        static Method of(String dbName) {
            for (Method m : values()) {
                if (m.dbName.equals(dbName)) {
                    return m;
                }
            }
            throw new IllegalStateException("unknown auth_method " + dbName);
        }
    }

    /** A client as listed; no token is ever kept. {@code owner} and {@code purpose} are null for old clients. */
    public record Client(String clientId, String name, String scopes, Instant createdAt, String createdBy,
                         Instant revokedAt, String revokedBy, String revokeReason, String owner, String purpose,
                         Instant expiresAt, Method method) {
        public boolean active() {
            return revokedAt == null;
        }

        public boolean expired(Instant now) {
            return !expiresAt.isAfter(now);
        }
    }

    /**
     * What to register. At most one of {@code certificate} and {@code jwks}; with neither, the client gets a
     * static bearer token.
     *
     * @param expiresDays 1 to {@link #MAX_EXPIRY_DAYS}
     */
    public record NewClient(String name, String scopes, String owner, String purpose, int expiresDays,
                            X509Certificate certificate, JWKSet jwks) {
        public Method method() {
            return certificate != null ? Method.MTLS : jwks != null ? Method.PRIVATE_KEY_JWT : Method.BEARER;
        }
    }

    /** A new client and, for a bearer client, its token, to be shown once (null for the other methods). */
    public record Created(Client client, String token) {
        @Override
        public String toString() {
            return "Created[" + client.clientId() + ", token=" + (token == null ? "none" : "****") + "]";
        }
    }

    /** A current, active client as the token endpoint needs it. {@code jwks} is null unless private_key_jwt. */
    record Registered(String clientId, String name, Set<Scope> scopes, Instant expiresAt, JWKSet jwks) {
    }

    /** An access token just issued; {@code token} is shown to the client once and kept only as a hash. */
    record Issued(String token, Instant expiresAt, String scopes) {
        @Override
        public String toString() {
            return "Issued[token=****, expires " + expiresAt + ", " + scopes + "]";
        }
    }

    private record Cached(Authenticated client, long expiresAtNanos, Instant validUntil) {
        boolean fresh(long nowNanos) {
            return expiresAtNanos - nowNanos > 0 && validUntil.isAfter(Instant.now());
        }
    }

    private final DataSource ds;
    private final Duration accessTokenLifetime;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
    /** Whether the database is read-only now (degraded mode, issue 18 §2); never by default. */
    private volatile java.util.function.BooleanSupplier degraded = () -> false;

    /** An access token issued while the database is read-only: kept here, written when it returns. */
    private record HeldToken(byte[] hash, String clientId, String scopes, Instant issuedAt, Instant expiresAt) {
    }

    private final ConcurrentHashMap<String, HeldToken> heldTokens = new ConcurrentHashMap<>();
    /** Assertion ids used while the database is read-only (replay protection), until when they are kept. */
    private final ConcurrentHashMap<String, Instant> heldJtis = new ConcurrentHashMap<>();

    /**
     * Keeps the token endpoint working in degraded read-only mode (DEGRADED-1: reads go on, for system clients too):
     * access tokens and used assertion ids are held in memory while {@code availability} is degraded and written
     * before it leaves degraded mode, so tokens issued meanwhile stay valid on every process afterwards.
     */
    public void degradedWhile(jp.mamori.db.Availability availability) {
        this.degraded = availability::degraded;
        availability.beforeLeaving(() -> {
            List<HeldToken> tokens = List.copyOf(heldTokens.values());
            java.util.Map<String, Instant> jtis = java.util.Map.copyOf(heldJtis);
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_token (token_sha256, client_id,"
                        + " scopes, issued_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                    for (HeldToken t : tokens) {
                        ps.setBytes(1, t.hash());
                        ps.setString(2, t.clientId());
                        ps.setString(3, t.scopes());
                        ps.setTimestamp(4, Timestamp.from(t.issuedAt()));
                        ps.setTimestamp(5, Timestamp.from(t.expiresAt()));
                        ps.executeUpdate();
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO client_assertion_jti (client_id, jti,"
                        + " expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                    for (java.util.Map.Entry<String, Instant> j : jtis.entrySet()) {
                        int sep = j.getKey().indexOf('\n');
                        ps.setString(1, j.getKey().substring(0, sep));
                        ps.setString(2, j.getKey().substring(sep + 1));
                        ps.setTimestamp(3, Timestamp.from(j.getValue()));
                        ps.executeUpdate();
                    }
                }
                return null;
            });
            tokens.forEach(t -> heldTokens.remove(HexFormat.of().formatHex(t.hash())));
            jtis.keySet().forEach(heldJtis::remove);
        });
    }

    /** The client of an access token issued while degraded, if it is current and its client still active. */
    private Optional<Authenticated> heldToken(String token, String address) {
        HeldToken t = heldTokens.get(HexFormat.of().formatHex(hash(token)));
        Instant now = Instant.now();
        if (t == null || !t.expiresAt().isAfter(now)) {
            return Optional.empty();
        }
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT client_id, name FROM system_client WHERE client_id = ?"
                    + " AND revoked_at IS NULL AND expires_at > ?")) {
                ps.setString(1, t.clientId());
                ps.setTimestamp(2, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Authenticated("client:" + rs.getString(1), rs.getString(2),
                            Scope.parseList(t.scopes()), address)) : Optional.<Authenticated>empty();
                }
            }
        });
    }

    public SystemClients(DataSource ds) {
        this(ds, DEFAULT_ACCESS_TOKEN_LIFETIME);
    }

    /** @param accessTokenLifetime how long an access token from {@link TokenEndpoint} works, 1 s to 1 h */
    public SystemClients(DataSource ds, Duration accessTokenLifetime) {
        if (accessTokenLifetime.compareTo(Duration.ofSeconds(1)) < 0
                || accessTokenLifetime.compareTo(MAX_ACCESS_TOKEN_LIFETIME) > 0) {
            throw new IllegalArgumentException("the access token lifetime must be 1 s to 1 h");
        }
        this.ds = ds;
        this.accessTokenLifetime = accessTokenLifetime;
    }

    public Duration accessTokenLifetime() {
        return accessTokenLifetime;
    }

    /**
     * A bearer client owned by {@code createdBy}, without a stated purpose, valid for
     * {@link #DEFAULT_EXPIRY_DAYS}: for tools and tests. Registrations by people go through
     * {@link #create(NewClient, String)}, where the CLI requires owner and purpose.
     */
    public Created create(String name, String scopes, String createdBy) {
        return create(new NewClient(name, scopes, createdBy, null, DEFAULT_EXPIRY_DAYS, null, null), createdBy);
    }

    /**
     * Registers a client. Refuses (IllegalArgumentException, with a message for the operator) a bad name or
     * scope, an expiry outside 1 to {@link #MAX_EXPIRY_DAYS} days, a certificate outside its validity dates or
     * already registered, and a JWK set that {@link ClientAssertion#checkedKeys} refuses.
     */
    public Created create(NewClient spec, String createdBy) {
        String name = spec.name();
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("--name must be 1 to 200 characters");
        }
        if (spec.owner() != null && (spec.owner().isBlank() || spec.owner().length() > 200)) {
            throw new IllegalArgumentException("--owner must be 1 to 200 characters");
        }
        if (spec.purpose() != null && (spec.purpose().isBlank() || spec.purpose().length() > 500)) {
            throw new IllegalArgumentException("--purpose must be 1 to 500 characters");
        }
        if (spec.expiresDays() < 1 || spec.expiresDays() > MAX_EXPIRY_DAYS) {
            throw new IllegalArgumentException("--expires-days must be 1 to " + MAX_EXPIRY_DAYS + " (3 years)");
        }
        if (spec.certificate() != null && spec.jwks() != null) {
            throw new IllegalArgumentException("give either --cert or --jwks, not both");
        }
        Set<Scope> parsed = Scope.parseList(spec.scopes());
        String normalized = scopeText(parsed);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        byte[] certPin = null;
        if (spec.certificate() != null) {
            try {
                spec.certificate().checkValidity(Date.from(now));
            } catch (CertificateException e) {
                throw new IllegalArgumentException("the certificate is not valid now (valid "
                        + spec.certificate().getNotBefore().toInstant() + " to "
                        + spec.certificate().getNotAfter().toInstant() + ")");
            }
            certPin = certificatePin(spec.certificate());
        }
        String jwks = spec.jwks() == null ? null : ClientAssertion.checkedKeys(spec.jwks()).toString(true);
        Method method = spec.method();
        String clientId = HexFormat.of().formatHex(Hashes.sha256(Secrets.random256().getBytes(
                StandardCharsets.UTF_8)), 0, 8);
        String token = method == Method.BEARER ? TOKEN_PREFIX + Secrets.random256() : null;
        Instant expires = now.plus(Duration.ofDays(spec.expiresDays()));
        String owner = spec.owner() == null ? null : spec.owner().strip();
        String purpose = spec.purpose() == null ? null : spec.purpose().strip();
        byte[] pin = certPin;
        Tx.inTransaction(ds, c -> {
            if (pin != null) {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT client_id FROM system_client WHERE cert_sha256 = ?")) {
                    ps.setBytes(1, pin);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            throw new IllegalArgumentException("this certificate is already registered for client "
                                    + rs.getString(1) + "; each client needs its own certificate");
                        }
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO system_client (client_id, name, scopes,"
                    + " token_sha256, created_at, created_by, owner, purpose, expires_at, auth_method, cert_sha256,"
                    + " jwks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)")) {
                ps.setString(1, clientId);
                ps.setString(2, name.strip());
                ps.setString(3, normalized);
                ps.setBytes(4, token == null ? null : hash(token));
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setString(6, createdBy);
                ps.setString(7, owner);
                ps.setString(8, purpose);
                ps.setTimestamp(9, Timestamp.from(expires));
                ps.setString(10, method.dbName);
                ps.setBytes(11, pin);
                if (jwks == null) {
                    ps.setNull(12, Types.VARCHAR);
                } else {
                    ps.setString(12, jwks);
                }
                ps.executeUpdate();
            }
            return null;
        });
        log.info("system client {} \"{}\" registered by {}: {}, owner {}, expires {}", clientId, name.strip(),
                createdBy, method.dbName, owner, expires);
        return new Created(new Client(clientId, name.strip(), normalized, now, createdBy, null, null, null, owner,
                purpose, expires, method), token);
    }

    /**
     * Parses a client's public JWK set (or one JWK) for registration; refuses private, symmetric, weak and
     * encryption keys with an IllegalArgumentException.
     */
    public static JWKSet parseJwks(String json) {
        return ClientAssertion.parseKeys(json);
    }

    /** A client assertion that passed every check of {@link #verifyAssertion}: its client, jti and expiry. */
    public record VerifiedAssertion(String clientId, String jti, Instant expiresAt) {
    }

    /**
     * The client an assertion claims (iss = sub), before anything is verified, so that its keys can be looked up; the
     * assertion's form and algorithm are checked first ({@code alg none}, HMAC and anything outside {@code allowed}
     * refused).
     *
     * @throws IllegalArgumentException with a plain-ASCII reason
     */
    public static String assertionClient(String assertion, Set<com.nimbusds.jose.JWSAlgorithm> allowed) {
        try {
            return ClientAssertion.claimedClient(ClientAssertion.parse(assertion, allowed));
        } catch (ClientAssertion.Refused e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /**
     * Verifies a client's {@code private_key_jwt} assertion (RFC 7523) as the system clients' are verified, for another
     * registry of clients (SMART apps): the algorithm is in {@code allowed}, the signature verifies with one of
     * {@code keys}, aud is {@code audience}, exp present and at most 5 minutes ahead, nbf and iat not in the future,
     * a jti present. The caller keeps the jti until it expires and refuses it a second time.
     *
     * @throws IllegalArgumentException with a plain-ASCII reason
     */
    public static VerifiedAssertion verifyAssertion(String assertion, JWKSet keys,
                                                    Set<com.nimbusds.jose.JWSAlgorithm> allowed, String audience,
                                                    Instant now) {
        try {
            com.nimbusds.jwt.SignedJWT jwt = ClientAssertion.parse(assertion, allowed);
            String client = ClientAssertion.claimedClient(jwt);
            ClientAssertion.verifySignature(jwt, keys);
            ClientAssertion.Accepted ok = ClientAssertion.checkClaims(jwt, audience, now);
            return new VerifiedAssertion(client, ok.jti(), ok.expiresAt());
        } catch (ClientAssertion.Refused e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    /** The scopes in their stored form, e.g. {@code system/Patient.rs system/*.cruds}. */
    static String scopeText(Set<Scope> scopes) {
        return String.join(" ", scopes.stream().map(SystemClients::scopeText).toList());
    }

    private static String scopeText(Scope s) {
        return "system/" + s.resourceType() + "." + letters(s.permissions());
    }

    private static String letters(Set<Scope.Permission> p) {
        StringBuilder sb = new StringBuilder();
        if (p.contains(Scope.Permission.CREATE)) sb.append('c');
        if (p.contains(Scope.Permission.READ)) sb.append('r');
        if (p.contains(Scope.Permission.UPDATE)) sb.append('u');
        if (p.contains(Scope.Permission.DELETE)) sb.append('d');
        if (p.contains(Scope.Permission.SEARCH)) sb.append('s');
        return sb.toString();
    }

    public List<Client> list() {
        return Tx.read(ds, c -> {
            List<Client> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT client_id, name, scopes, created_at, created_by,"
                    + " revoked_at, revoked_by, revoke_reason, owner, purpose, expires_at, auth_method"
                    + " FROM system_client ORDER BY created_at");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp rev = rs.getTimestamp(6);
                    out.add(new Client(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant(), rs.getString(5), rev == null ? null : rev.toInstant(),
                            rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                            rs.getTimestamp(11).toInstant(), Method.of(rs.getString(12))));
                }
            }
            return out;
        });
    }

    /** Revokes a client and with it its access tokens; returns false if no active client has that id. */
    public boolean revoke(String clientId, String reason, String by) {
        boolean done = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE system_client SET revoked_at = now(),"
                    + " revoked_by = ?, revoke_reason = ? WHERE client_id = ? AND revoked_at IS NULL")) {
                ps.setString(1, by);
                ps.setString(2, reason);
                ps.setString(3, clientId);
                return ps.executeUpdate() == 1;
            }
        });
        cache.clear();
        return done;
    }

    /**
     * The caller a bearer token stands for, if it is a current static token of an active, unexpired bearer
     * client, or a current access token of an active, unexpired client.
     */
    public Optional<Authenticated> authenticate(String token, String address) {
        if (token == null || !token.startsWith(TOKEN_PREFIX) || token.length() > 200) {
            return Optional.empty();
        }
        boolean access = token.startsWith(ACCESS_TOKEN_PREFIX);
        if (access && !heldTokens.isEmpty()) {
            Optional<Authenticated> held = heldToken(token, address);
            if (held.isPresent()) {
                return held;
            }
        }
        String sql = access
                ? "SELECT c.client_id, c.name, t.scopes, least(t.expires_at, c.expires_at) FROM access_token t"
                + " JOIN system_client c ON c.client_id = t.client_id WHERE t.token_sha256 = ? AND t.expires_at > ?"
                + " AND c.revoked_at IS NULL AND c.expires_at > ?"
                : "SELECT client_id, name, scopes, expires_at FROM system_client WHERE token_sha256 = ?"
                + " AND auth_method = 'bearer' AND revoked_at IS NULL AND expires_at > ?";
        return cached(token, address, sql, hash(token), access ? 2 : 1);
    }

    /**
     * The caller a TLS client certificate stands for: an active, unexpired mtls client whose pin is the
     * SHA-256 of exactly this certificate, when the certificate is within its validity dates. The TLS
     * handshake has already proven that the peer holds the certificate's private key.
     */
    public Optional<Authenticated> authenticateCertificate(X509Certificate cert, String address) {
        if (cert == null || !withinValidity(cert)) {
            return Optional.empty();
        }
        byte[] pin = certificatePin(cert);
        return cached("cert:" + HexFormat.of().formatHex(pin), address, "SELECT client_id, name, scopes, expires_at"
                + " FROM system_client WHERE cert_sha256 = ? AND auth_method = 'mtls' AND revoked_at IS NULL"
                + " AND expires_at > ?", pin, 1).filter(c -> withinValidity(cert));
    }

    /**
     * Looks a credential up: by {@code key} in the cache, else by {@code sql}, whose parameters are the
     * credential's hash and then {@code nowParams} times the current time.
     */
    private Optional<Authenticated> cached(String key, String address, String sql, byte[] credentialHash, int nowParams) {
        long nanos = System.nanoTime();
        Cached hit = cache.get(key);
        if (hit != null && hit.fresh(nanos)) {
            return Optional.of(withAddress(hit.client(), address));
        }
        Instant now = Instant.now();
        Cached found = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setBytes(1, credentialHash);
                for (int i = 0; i < nowParams; i++) {
                    ps.setTimestamp(2 + i, Timestamp.from(now));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Authenticated client = new Authenticated("client:" + rs.getString(1), rs.getString(2),
                            Scope.parseList(rs.getString(3)), address);
                    return new Cached(client, nanos + CACHE_TTL.toNanos(), rs.getTimestamp(4).toInstant());
                }
            }
        });
        if (found == null) {
            cache.remove(key);
            return Optional.empty();
        }
        if (cache.size() > 10_000) {
            cache.clear();
        }
        cache.put(key, found);
        return Optional.of(found.client());
    }

    /** An active, unexpired client of the given method, or empty. */
    Optional<Registered> registered(String clientId, Method method) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > 100) {
            return Optional.empty();
        }
        Instant now = Instant.now();
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT client_id, name, scopes, expires_at, jwks::text"
                    + " FROM system_client WHERE client_id = ? AND auth_method = ? AND revoked_at IS NULL"
                    + " AND expires_at > ?")) {
                ps.setString(1, clientId);
                ps.setString(2, method.dbName);
                ps.setTimestamp(3, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    String jwks = rs.getString(5);
                    JWKSet keys;
                    try {
                        keys = jwks == null ? null : JWKSet.parse(jwks);
                    } catch (ParseException e) {
                        throw new IllegalStateException("stored JWK set of client " + clientId + " does not parse", e);
                    }
                    return Optional.of(new Registered(rs.getString(1), rs.getString(2),
                            Scope.parseList(rs.getString(3)), rs.getTimestamp(4).toInstant(), keys));
                }
            }
        });
    }

    /** The mtls client {@code clientId}, if {@code cert} is its pinned certificate and within its dates. */
    Optional<Registered> registeredCertificate(String clientId, X509Certificate cert) {
        if (cert == null || !withinValidity(cert)) {
            return Optional.empty();
        }
        return authenticateCertificate(cert, "-").filter(c -> c.principal().equals("client:" + clientId))
                .flatMap(c -> registered(clientId, Method.MTLS));
    }

    /**
     * Records that an assertion's {@code jti} has been used, until {@code keepUntil}. Returns false if the
     * client already used it (a replay). Forgets the jtis and access tokens that have expired.
     */
    boolean useAssertionId(String clientId, String jti, Instant keepUntil) {
        Instant now = Instant.now();
        if (degraded.getAsBoolean()) {
            heldJtis.values().removeIf(until -> until.isBefore(now));
            boolean seen = Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM client_assertion_jti WHERE client_id = ?"
                        + " AND jti = ?")) {
                    ps.setString(1, clientId);
                    ps.setString(2, jti);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next();
                    }
                }
            });
            return !seen && heldJtis.putIfAbsent(clientId + "\n" + jti, keepUntil) == null;
        }
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM client_assertion_jti WHERE expires_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO client_assertion_jti (client_id, jti,"
                    + " expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setString(1, clientId);
                ps.setString(2, jti);
                ps.setTimestamp(3, Timestamp.from(keepUntil));
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Issues an access token with {@code scopes}, working for the configured lifetime or until the client expires. */
    Issued issue(Registered client, Set<Scope> scopes) {
        String token = ACCESS_TOKEN_PREFIX + Secrets.random256();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant expires = now.plus(accessTokenLifetime);
        if (client.expiresAt().isBefore(expires)) {
            expires = client.expiresAt();
        }
        String text = scopeText(scopes);
        Instant until = expires;
        if (degraded.getAsBoolean()) {
            heldTokens.values().removeIf(t -> !t.expiresAt().isAfter(now));
            heldTokens.put(HexFormat.of().formatHex(hash(token)), new HeldToken(hash(token), client.clientId(), text,
                    now, until));
            log.info("access token issued to system client {} with scopes {} until {} (held in memory: degraded mode)",
                    client.clientId(), text, until);
            return new Issued(token, until, text);
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM access_token WHERE expires_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_token (token_sha256, client_id,"
                    + " scopes, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setBytes(1, hash(token));
                ps.setString(2, client.clientId());
                ps.setString(3, text);
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setTimestamp(5, Timestamp.from(until));
                ps.executeUpdate();
            }
            return null;
        });
        log.info("access token issued to system client {} with scopes {} until {}", client.clientId(), text, until);
        return new Issued(token, until, text);
    }

    /** SHA-256 of the certificate's DER encoding: what an mtls client is pinned by. */
    public static byte[] certificatePin(X509Certificate cert) {
        try {
            return Hashes.sha256(cert.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the certificate cannot be encoded", e);
        }
    }

    private static boolean withinValidity(X509Certificate cert) {
        try {
            cert.checkValidity();
            return true;
        } catch (CertificateException e) {
            return false;
        }
    }

    private static Authenticated withAddress(Authenticated c, String address) {
        return address.equals(c.address()) ? c : new Authenticated(c.principal(), c.display(), c.scopes(), address);
    }

    private static byte[] hash(String token) {
        return Hashes.sha256(token);
    }

    /**
     * A system client that proved who it is: its principal ({@code client:<id>}), name, the SMART scopes it was
     * granted, and the address it called from. Access control turns it into a caller.
     */
    public record Authenticated(String principal, String display, Set<Scope> scopes, String address) {
        public Authenticated {
            scopes = Set.copyOf(scopes);
        }
    }
}
