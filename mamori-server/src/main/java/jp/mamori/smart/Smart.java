package jp.mamori.smart;

import com.nimbusds.jose.util.JSONObjectUtils;
import jp.mamori.access.PersonContexts;
import jp.mamori.audit.Actor;
import jp.mamori.audit.ActorKind;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.Purpose;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Scope;
import jp.mamori.identity.TokenEndpoint;
import jp.mamori.kernel.Hashes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * SMART on FHIR (issue 21): Mamori as the OAuth 2.0 authorization server for apps that act for a person, and the one
 * entry of the capability. It keeps the registered apps, checks authorization requests (authorization code with PKCE
 * S256 only; client and redirect URI compared exactly), records the person's consent as a grant with a single-use
 * code, issues access and rotating refresh tokens, revokes (RFC 7009), introspects (RFC 7662), starts EHR launches,
 * and tells the FHIR API whom a token stands for ({@link #authenticate}).
 *
 * <p><b>Access tokens are opaque</b> (256 random bits, stored as SHA-256) rather than signed JWTs: each use is checked
 * in one query against the grant, the app and the person's account, so a token stops working the moment the person is
 * suspended, the app disabled or the grant revoked; a JWT would keep working until it expires unless every use looked
 * it up anyway. The same query reads the person's access version, so no second lookup is needed for their rights.
 *
 * <p><b>Refresh tokens rotate</b>: each use replaces it; a replaced one used again revokes the whole grant (all its
 * tokens), as does a replayed code (RFC 6749 §4.1.2, §10.4; OAuth 2.0 Security BCP §4.14).
 */
public final class Smart {
    private static final Logger log = LoggerFactory.getLogger(Smart.class);

    public static final String AUTHORIZE_PATH = "/oauth/authorize";
    public static final String REVOKE_PATH = "/oauth/revoke";
    public static final String INTROSPECT_PATH = "/oauth/introspect";
    public static final String CONFIGURATION_PATH = "/.well-known/smart-configuration";
    /** The OpenID Provider configuration, under the FHIR base (the ID tokens' issuer). */
    public static final String OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration";
    /** The public keys of the ID tokens. */
    public static final String JWKS_PATH = "/oauth/jwks";
    public static final String ACCESS_PREFIX = "mamori_sat.";
    public static final String REFRESH_PREFIX = "mamori_srt.";
    public static final Duration CODE_LIFETIME = Duration.ofSeconds(60);
    public static final Duration ACCESS_LIFETIME = Duration.ofMinutes(5);
    public static final Duration OFFLINE_LIFETIME = Duration.ofDays(30);
    public static final Duration ONLINE_LIFETIME = Duration.ofHours(12);
    public static final Duration LAUNCH_LIFETIME = Duration.ofMinutes(5);
    /** A grant's last use is written when the one recorded is older than this (not on every request). */
    static final Duration USE_TOUCH_EVERY = Duration.ofMinutes(1);
    static final int MAX_PARAM = 2000;

    /** A registered app as administrators and the consent page see it; never its secret. */
    public record App(String clientId, String name, boolean confidential, List<String> redirectUris, String launchUrl,
                      String maxScopes, boolean enabled, int version, Instant changedAt, String changedBy,
                      String jwks) {
        public App {
            redirectUris = List.copyOf(redirectUris);
        }

        /** Whether the app authenticates with its own keys ({@code private_key_jwt}) rather than a secret. */
        public boolean usesKeys() {
            return jwks != null;
        }
    }

    /** What an administrator enters for an app. Redirect URIs one per line. */
    public record AppSpec(String name, boolean confidential, String redirectUris, String launchUrl, String maxScopes,
                          boolean enabled, String jwks) {
        /** An app with a client secret (confidential) or none (public). */
        public AppSpec(String name, boolean confidential, String redirectUris, String launchUrl, String maxScopes,
                       boolean enabled) {
            this(name, confidential, redirectUris, launchUrl, maxScopes, enabled, null);
        }
    }

    /** The client assertion type of {@code private_key_jwt} (RFC 7523 §2.2). */
    static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    /** The algorithms SMART App Launch 2.x names for asymmetric client authentication. */
    static final Set<com.nimbusds.jose.JWSAlgorithm> ASSERTION_ALGS = Set.of(com.nimbusds.jose.JWSAlgorithm.RS384,
            com.nimbusds.jose.JWSAlgorithm.ES384);
    /** The most an app's JWK set may hold, as text. */
    static final int MAX_JWKS = 8192;

    /** A newly registered app and, for a confidential one, its client secret, shown once. */
    public record Registered(App app, String secret) {
        @Override
        public String toString() {
            return "Registered[" + app.clientId() + ", secret=" + (secret == null ? "none" : "****") + "]";
        }
    }

    /**
     * An authorization request that passed every check: the app, its exact redirect URI, the state to return, the PKCE
     * challenge, the scopes the person may grant (asked for, within the app's maximum), and the patient of an EHR
     * launch (null otherwise). {@code params} are the request's own parameters, for the consent form to send back.
     */
    public record Authorization(App app, String redirectUri, String state, String challenge, List<Scope> resources,
                                List<String> others, String launchPatient, Map<String, String> params) {
        public Authorization {
            resources = List.copyOf(resources);
            others = List.copyOf(others);
            params = Map.copyOf(params);
        }

        /** Whether the app asks to choose a patient in a standalone launch ({@code launch/patient}). */
        public boolean asksForPatient() {
            return launchPatient == null && others.contains("launch/patient");
        }

        /** Every scope the person may tick, as text. */
        public List<String> scopeTexts() {
            List<String> out = new ArrayList<>();
            resources.forEach(s -> out.add(s.text()));
            out.addAll(others);
            return out;
        }
    }

    /** Whom an access token stands for: the person (with their access version), the scopes, the app and the grant. */
    public record Bearer(UUID accountId, long accessVersion, String display, Set<Scope> scopes, String patient,
                         String clientId, String appName, String grant, boolean fhirUser) {
    }

    private final DataSource ds;
    private final AuditRecorder audit;
    private final Clock clock;

    private volatile SmartIdTokens idTokens;
    private volatile SmartPractitioners practitioners;
    private volatile String issuer;
    private volatile jp.mamori.identity.SecretSealer sealer;

    public Smart(DataSource ds, AuditRecorder audit, Clock clock) {
        this.ds = ds;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * Grants {@code openid fhirUser} (SMART App Launch 2.x, OpenID Connect): ID tokens signed with a key sealed by
     * {@code sealer}, naming the person's Practitioner (derived from the account and written through {@code records}).
     *
     * @param fhirBase this server's FHIR base URL: the ID tokens' issuer
     */
    public Smart openId(jp.mamori.identity.SecretSealer sealer, jp.mamori.records.RecordService records,
                        Accounts accounts, String fhirBase) {
        this.practitioners = new SmartPractitioners(records, accounts, audit);
        this.issuer = fhirBase;
        this.idTokens = new SmartIdTokens(ds, sealer, clock);
        this.sealer = sealer;
        return this;
    }

    /** Whether ID tokens are issued ({@link #openId}). */
    public boolean issuesIdTokens() {
        return idTokens != null;
    }

    /** The JWKS of the ID tokens' keys (the current one and those retired within a day). */
    public String jwks() {
        return idTokens == null ? "{\"keys\":[]}" : idTokens.jwks();
    }

    /** {@code /fhir/.well-known/openid-configuration} (OpenID Connect Discovery 1.0 §3) for the server at origin. */
    public Optional<String> openIdConfiguration(String origin) {
        return idTokens == null ? Optional.empty()
                : Optional.of(JSONObjectUtils.toJSONString(SmartIdTokens.discovery(origin, issuer)));
    }

    /** Retires the ID tokens' signing key and makes a new one (the retired key stays published for a day). */
    public String rotateSigningKey() {
        if (idTokens == null) {
            throw new IllegalStateException("ID tokens are not issued");
        }
        return idTokens.rotate();
    }

    // ---- the configuration document --------------------------------------------------------------------------

    /** {@code /.well-known/smart-configuration} for the server at {@code origin} (SMART App Launch 2.x §2). */
    public String configuration(String origin) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("authorization_endpoint", origin + AUTHORIZE_PATH);
        c.put("token_endpoint", origin + TokenEndpoint.PATH);
        c.put("revocation_endpoint", origin + REVOKE_PATH);
        c.put("introspection_endpoint", origin + INTROSPECT_PATH);
        c.put("grant_types_supported", List.of("authorization_code", "refresh_token", "client_credentials"));
        c.put("response_types_supported", List.of("code"));
        c.put("code_challenge_methods_supported", List.of("S256"));
        // client_secret_* and private_key_jwt (RS384, ES384) for apps acting for a person; private_key_jwt for
        // backend services (client_credentials)
        c.put("token_endpoint_auth_methods_supported", List.of("client_secret_basic", "client_secret_post",
                "private_key_jwt"));
        c.put("token_endpoint_auth_signing_alg_values_supported", List.of("ES256", "ES384", "RS256", "RS384",
                "PS256", "EdDSA"));
        List<String> scopes = new ArrayList<>(List.of("launch", "launch/patient", "offline_access", "online_access",
                "user/*.cruds", "user/*.rs", "patient/*.cruds", "patient/*.rs", "system/*.cruds", "system/*.rs"));
        List<String> capabilities = new ArrayList<>(List.of("launch-ehr", "launch-standalone", "client-public",
                "client-confidential-symmetric", "client-confidential-asymmetric", "context-ehr-patient", "context-standalone-patient",
                "permission-v2", "permission-v1", "permission-patient", "permission-user", "permission-offline",
                "permission-online"));
        if (idTokens != null) {
            c.put("issuer", issuer);
            c.put("jwks_uri", origin + JWKS_PATH);
            scopes.addAll(List.of("openid", "fhirUser"));
            capabilities.add("sso-openid-connect");
        }
        c.put("scopes_supported", scopes);
        c.put("capabilities", capabilities);
        return JSONObjectUtils.toJSONString(c);
    }

    // ---- apps ------------------------------------------------------------------------------------------------

    public List<App> apps() {
        return Tx.read(ds, c -> {
            List<App> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(APP_COLUMNS + " ORDER BY changed_at DESC");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(app(rs));
                }
            }
            return out;
        });
    }

    public Optional<App> app(String clientId) {
        if (clientId == null || clientId.length() > 64) {
            return Optional.empty();
        }
        return Tx.read(ds, c -> app(c, clientId));
    }

    private static final String APP_COLUMNS = "SELECT client_id, name, confidential, redirect_uris, launch_url,"
            + " max_scopes, enabled, version, changed_at, changed_by, jwks FROM smart_app";

    private static Optional<App> app(Connection c, String clientId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(APP_COLUMNS + " WHERE client_id = ?")) {
            ps.setString(1, clientId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(app(rs)) : Optional.empty();
            }
        }
    }

    private static App app(ResultSet rs) throws SQLException {
        return new App(rs.getString(1), rs.getString(2), rs.getBoolean(3),
                List.of((String[]) rs.getArray(4).getArray()), rs.getString(5), rs.getString(6), rs.getBoolean(7),
                rs.getInt(8), rs.getObject(9, OffsetDateTime.class).toInstant(), rs.getString(10), rs.getString(11));
    }

    /** Registers an app; a confidential one gets a client secret, returned here once and kept only as a hash. */
    public Registered register(AppSpec spec, Actor by) {
        Checked ok = check(spec);
        String clientId = "app-" + Secrets.random256().substring(0, 16).replace('_', 'x').replace('-', 'y')
                .toLowerCase(java.util.Locale.ROOT);
        String secret = spec.confidential() && ok.jwks() == null ? "mamori_scs." + Secrets.random256() : null;
        Instant now = clock.instant();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_app (client_id, name, confidential,"
                    + " secret_sha256, redirect_uris, launch_url, max_scopes, enabled, version, changed_at, changed_by,"
                    + " jwks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)")) {
                ps.setString(1, clientId);
                ps.setString(2, ok.name());
                ps.setBoolean(3, spec.confidential());
                ps.setBytes(4, secret == null ? null : Hashes.sha256(secret));
                ps.setArray(5, c.createArrayOf("text", ok.uris().toArray()));
                ps.setString(6, ok.launchUrl());
                ps.setString(7, ok.scopes());
                ps.setBoolean(8, spec.enabled());
                ps.setObject(9, utc(now));
                ps.setString(10, by.principal());
                ps.setString(11, ok.jwks());
                ps.executeUpdate();
            }
            version(c, clientId, true);
            audit.stage(c, AuditEvent.by(by, AuditAction.SMART_APP).purpose(Purpose.SECURITY)
                    .detail("change", "registered").detail("app", clientId).detail("name", ok.name())
                    .detail("confidential", String.valueOf(spec.confidential()))
                    .detail("client_auth", !spec.confidential() ? "none" : ok.jwks() != null ? "private_key_jwt"
                            : "client_secret").detail("scopes", ok.scopes())
                    .detail("redirect_uris", String.join(" ", ok.uris())).detail("enabled",
                            String.valueOf(spec.enabled())).build());
            return null;
        });
        audit.drainSoon();
        log.info("SMART app {} ({}) registered by {}", clientId, ok.name(), by.principal());
        return new Registered(app(clientId).orElseThrow(), secret);
    }

    /**
     * Changes an app's registration (a new version, audited). A confidential app keeps its secret; {@code newSecret}
     * makes a new one (returned once) and the old stops working. The client type cannot change.
     */
    public Registered update(String clientId, AppSpec spec, boolean newSecret, Actor by) {
        Checked ok = check(spec);
        App before = app(clientId).orElseThrow(() -> new SmartRefusal.Invalid(
                "そのアプリは登録されていません / No such app"));
        if (before.confidential() != spec.confidential() || before.usesKeys() != (ok.jwks() != null)) {
            throw new SmartRefusal.Invalid("公開クライアントと機密クライアントの種別は変更できません。新しく登録してください /"
                    + " The client type cannot change: register a new app");
        }
        String secret = newSecret && before.confidential() && !before.usesKeys() ? "mamori_scs." + Secrets.random256()
                : null;
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE smart_app SET name = ?, redirect_uris = ?,"
                    + " launch_url = ?, max_scopes = ?, enabled = ?, version = version + 1, changed_at = ?,"
                    + " changed_by = ?, secret_sha256 = coalesce(?, secret_sha256), jwks = ? WHERE client_id = ?")) {
                ps.setString(1, ok.name());
                ps.setArray(2, c.createArrayOf("text", ok.uris().toArray()));
                ps.setString(3, ok.launchUrl());
                ps.setString(4, ok.scopes());
                ps.setBoolean(5, spec.enabled());
                ps.setObject(6, utc(clock.instant()));
                ps.setString(7, by.principal());
                ps.setBytes(8, secret == null ? null : Hashes.sha256(secret));
                ps.setString(9, ok.jwks());
                ps.setString(10, clientId);
                ps.executeUpdate();
            }
            version(c, clientId, secret != null);
            audit.stage(c, AuditEvent.by(by, AuditAction.SMART_APP).purpose(Purpose.SECURITY)
                    .detail("change", "updated").detail("app", clientId).detail("name", ok.name())
                    .detail("scopes", ok.scopes()).detail("redirect_uris", String.join(" ", ok.uris()))
                    .detail("enabled", String.valueOf(spec.enabled())).detail("new_secret",
                            String.valueOf(secret != null)).detail("keys_changed", String.valueOf(ok.jwks() != null
                            && !ok.jwks().equals(before.jwks()))).build());
            return null;
        });
        audit.drainSoon();
        log.info("SMART app {} changed by {} (enabled {}, new secret {})", clientId, by.principal(), spec.enabled(),
                secret != null);
        return new Registered(app(clientId).orElseThrow(), secret);
    }

    private void version(Connection c, String clientId, boolean secretChanged) throws SQLException {
        sealApp(c, clientId);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_app_version (client_id, version, name,"
                + " confidential, redirect_uris, launch_url, max_scopes, enabled, secret_changed, changed_at,"
                + " changed_by, jwks) SELECT client_id, version, name, confidential, redirect_uris, launch_url,"
                + " max_scopes, enabled, ?, changed_at, changed_by, jwks FROM smart_app WHERE client_id = ?")) {
            ps.setBoolean(1, secretChanged);
            ps.setString(2, clientId);
            ps.executeUpdate();
        }
    }

    private record Checked(String name, List<String> uris, String launchUrl, String scopes, String jwks) {
    }

    // ---- tamper checks -----------------------------------------------------------------------------------------

    /**
     * What the seals of the apps and grants say: rows checked and each one whose decisive columns no longer match
     * their seal (changed behind the server's back, e.g. by the database superuser, who does not hold the key file).
     */
    public record SealCheck(long checked, List<String> findings) {
        public SealCheck {
            findings = List.copyOf(findings);
        }
    }

    private static final String UNIT = "\u001f";

    private static byte[] grantContent(UUID grant, String clientId, UUID account, String scopes, String patient,
                                       String redirect) {
        return String.join(UNIT, "smart_grant", grant.toString(), clientId, account.toString(), scopes,
                patient == null ? "" : patient, redirect).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] appContent(ResultSet rs) throws SQLException {
        byte[] secret = rs.getBytes(9);
        return String.join(UNIT, "smart_app", rs.getString(1), String.valueOf(rs.getBoolean(2)),
                String.join("\n", (String[]) rs.getArray(3).getArray()), String.valueOf(rs.getString(4)),
                rs.getString(5), String.valueOf(rs.getBoolean(6)), String.valueOf(rs.getString(7)),
                secret == null ? "" : Hashes.hex(secret), String.valueOf(rs.getInt(8)))
                .getBytes(StandardCharsets.UTF_8);
    }

    private static final String APP_SEALED = "SELECT client_id, confidential, redirect_uris, launch_url, max_scopes,"
            + " enabled, jwks, version, secret_sha256, seal FROM smart_app";

    private byte[] attest(byte[] content) {
        return sealer == null ? null : sealer.attest(content);
    }

    /** Seals the app's decisive columns as they now stand (in the transaction that changed them). */
    private void sealApp(Connection c, String clientId) throws SQLException {
        byte[] seal;
        try (PreparedStatement ps = c.prepareStatement(APP_SEALED + " WHERE client_id = ?")) {
            ps.setString(1, clientId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                seal = attest(appContent(rs));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE smart_app SET seal = ? WHERE client_id = ?")) {
            ps.setBytes(1, seal);
            ps.setString(2, clientId);
            ps.executeUpdate();
        }
    }

    /**
     * Recomputes every app's and grant's seal with {@code keys} (identity's key file) and reports each row that does
     * not match: redirect URIs, maximum scopes, credentials, enabled or version of an app, or the scopes, patient,
     * person, app or redirect URI of a grant changed by SQL; a row without a seal is reported too.
     */
    public static SealCheck verifySeals(DataSource ds, jp.mamori.identity.SecretSealer keys) {
        return Tx.read(ds, c -> {
            List<String> out = new ArrayList<>();
            long n = 0;
            try (PreparedStatement ps = c.prepareStatement(APP_SEALED + " ORDER BY client_id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n++;
                    if (!keys.attests(rs.getBytes(10), appContent(rs))) {
                        out.add("smart_app " + rs.getString(1) + ": " + (rs.getBytes(10) == null ? "no seal"
                                : "redirect URIs, maximum scopes, credentials or state differ from what Mamori sealed")
                                + " / 連携アプリの登録内容が封印と一致しません");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT grant_id, client_id, account_id, scopes, patient_id,"
                    + " redirect_uri, seal FROM smart_grant ORDER BY created_at");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n++;
                    UUID g = rs.getObject(1, UUID.class);
                    if (!keys.attests(rs.getBytes(7), grantContent(g, rs.getString(2), rs.getObject(3, UUID.class),
                            rs.getString(4), rs.getString(5), rs.getString(6)))) {
                        out.add("smart_grant " + g + ": " + (rs.getBytes(7) == null ? "no seal"
                                : "the scopes, patient, person, app or redirect URI differ from the consent Mamori"
                                + " sealed") + " / 同意の内容が封印と一致しません");
                    }
                }
            }
            return new SealCheck(n, out);
        });
    }

    private static Checked check(AppSpec spec) {
        String name = spec.name() == null ? "" : spec.name().strip();
        if (name.isEmpty() || name.length() > 100) {
            throw new SmartRefusal.Invalid("アプリ名を100文字以内で入力してください / Enter the app's name (up to 100"
                    + " characters)");
        }
        List<String> uris = new ArrayList<>();
        for (String line : (spec.redirectUris() == null ? "" : spec.redirectUris()).split("\\R")) {
            String u = line.strip();
            if (!u.isEmpty()) {
                uris.add(redirectUri(u));
            }
        }
        if (uris.isEmpty() || uris.size() > 10) {
            throw new SmartRefusal.Invalid("リダイレクトURIを1〜10件、1行に1件入力してください / Enter 1 to 10 redirect"
                    + " URIs, one per line");
        }
        String launch = spec.launchUrl() == null || spec.launchUrl().isBlank() ? null
                : redirectUri(spec.launchUrl().strip());
        SmartScopes.Parsed max = SmartScopes.registered(spec.maxScopes());
        if (max.resources().isEmpty()) {
            throw new SmartRefusal.Invalid("少なくとも1つの user/ または patient/ スコープが必要です / At least one user/"
                    + " or patient/ scope is required");
        }
        return new Checked(name, List.copyOf(new LinkedHashSet<>(uris)), launch, max.text(), jwks(spec));
    }

    /**
     * An app's public JWK set for {@code private_key_jwt}: inline, at most {@link #MAX_JWKS} characters, 1 to 10 public
     * signing keys that can make RS384 (RSA of 2048 bits or more) or ES384 (EC P-384) signatures; private, symmetric
     * and other keys refused by name. Null for an app without keys.
     */
    private static String jwks(AppSpec spec) {
        if (spec.jwks() == null || spec.jwks().isBlank()) {
            return null;
        }
        if (!spec.confidential()) {
            throw new SmartRefusal.Invalid("公開鍵で認証するアプリは機密クライアントです / An app that authenticates with its"
                    + " keys is a confidential client");
        }
        if (spec.jwks().length() > MAX_JWKS) {
            throw new SmartRefusal.Invalid("公開鍵（JWK Set）は" + MAX_JWKS + "文字までです / The JWK set may be at most "
                    + MAX_JWKS + " characters");
        }
        com.nimbusds.jose.jwk.JWKSet set;
        try {
            set = jp.mamori.identity.SystemClients.parseJwks(spec.jwks());
        } catch (IllegalArgumentException e) {
            throw new SmartRefusal.Invalid("公開鍵（JWK Set）を使えません: " + ascii(e.getMessage()) + " / The JWK set"
                    + " cannot be used: " + ascii(e.getMessage()));
        }
        for (com.nimbusds.jose.jwk.JWK k : set.getKeys()) {
            boolean fit = k instanceof com.nimbusds.jose.jwk.RSAKey
                    || k instanceof com.nimbusds.jose.jwk.ECKey ec && com.nimbusds.jose.jwk.Curve.P_384.equals(ec.getCurve());
            if (!fit) {
                throw new SmartRefusal.Invalid("公開鍵は RS384（RSA 2048ビット以上）か ES384（EC P-384）に使えるものにしてください"
                        + " / Each key must sign RS384 (RSA, 2048 bits or more) or ES384 (EC P-384)");
            }
        }
        return set.toString(true);
    }

    /**
     * A redirect or launch URI as registered: absolute, https (or http on the loopback address only, RFC 8252 §7.3),
     * no fragment, no user info, at most {@link #MAX_PARAM} characters. Compared exactly afterwards.
     */
    private static String redirectUri(String u) {
        URI uri;
        try {
            uri = new URI(u);
        } catch (Exception e) {
            throw new SmartRefusal.Invalid("URI「" + u + "」が正しくありません / Not a valid URI: " + u);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        boolean loopback = "127.0.0.1".equals(uri.getHost()) || "[::1]".equals(uri.getHost());
        if (u.length() > MAX_PARAM || !uri.isAbsolute() || uri.getHost() == null || uri.getRawFragment() != null
                || uri.getRawUserInfo() != null || !(scheme.equals("https") || scheme.equals("http") && loopback)) {
            throw new SmartRefusal.Invalid("URI「" + u + "」は使えません: https の絶対URI（http はループバックのみ）、"
                    + "フラグメントなし / URI '" + u + "' is not allowed: an absolute https URI (http on the loopback"
                    + " address only), without a fragment");
        }
        return u;
    }

    // ---- the authorization request ---------------------------------------------------------------------------

    /**
     * Checks an authorization request (SMART App Launch 2.x, RFC 6749 §4.1.1, RFC 7636) for the person {@code account}.
     * Until the app and its redirect URI are known to match exactly, a refusal is {@link SmartRefusal.Shown};
     * afterwards it is {@link SmartRefusal.Redirected} to the app with the request's state.
     *
     * @param query    the request's parameters, each at most once
     * @param fhirBase this server's FHIR base URL: the only {@code aud} accepted
     */
    public Authorization authorize(Map<String, List<String>> query, String fhirBase, UUID account) {
        if (query.size() > 20) {
            record(Actor.anonymous(null, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason",
                    "too many parameters"));
            throw new SmartRefusal.Shown("認可要求のパラメータが多すぎます / The authorization request has too many"
                    + " parameters");
        }
        Map<String, String> p = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            if (e.getValue().size() != 1 || e.getKey().length() > 64) {
                record(Actor.anonymous(null, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason",
                        "repeated parameter", "parameter", clip(e.getKey())));
                throw new SmartRefusal.Shown("認可要求のパラメータ「" + clip(e.getKey()) + "」が重複しています /"
                        + " A parameter of the authorization request is repeated");
            }
            String v = e.getValue().get(0);
            if (v.length() > MAX_PARAM) {
                record(Actor.anonymous(null, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason",
                        "parameter too long", "parameter", clip(e.getKey())));
                throw new SmartRefusal.Shown("認可要求のパラメータ「" + clip(e.getKey()) + "」が長すぎます / A parameter of"
                        + " the authorization request is too long");
            }
            p.put(e.getKey(), v);
        }
        String clientId = p.get("client_id");
        Optional<App> found = clientId == null ? Optional.empty() : app(clientId);
        if (found.isEmpty() || !found.get().enabled()) {
            log.info("SMART authorize refused: unknown or disabled client {}", clip(clientId));
            record(Actor.anonymous(null, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason",
                    "unknown or disabled app", "app", clip(clientId)));
            throw new SmartRefusal.Shown("このアプリは登録されていないか、利用が停止されています / This app is not"
                    + " registered or has been disabled");
        }
        App app = found.get();
        String redirect = p.get("redirect_uri");
        if (redirect == null || !app.redirectUris().contains(redirect)) {
            log.info("SMART authorize refused for {}: redirect_uri is not registered exactly", app.clientId());
            record(appActor(app, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason",
                    "redirect_uri not registered", "redirect_uri", clip(redirect)));
            throw new SmartRefusal.Shown("リダイレクトURIが登録されたものと一致しません。アプリの提供元に連絡してください /"
                    + " The redirect URI does not match the registered one exactly: contact the app's vendor");
        }
        String state = p.get("state");
        if (!"code".equals(p.get("response_type"))) {
            throw redirected(app, redirect, state, "unsupported_response_type", "response_type must be code");
        }
        if (state == null || state.isEmpty()) {
            throw redirected(app, redirect, null, "invalid_request", "state is required");
        }
        String challenge = p.get("code_challenge");
        if (!"S256".equals(p.get("code_challenge_method")) || challenge == null
                || !challenge.matches("[A-Za-z0-9_-]{43}")) {
            throw redirected(app, redirect, state, "invalid_request", "PKCE is required: code_challenge (43"
                    + " characters, base64url of SHA-256) with code_challenge_method=S256");
        }
        if (!fhirBase.equals(p.get("aud"))) {
            throw redirected(app, redirect, state, "invalid_request", "aud must be this server's FHIR base URL "
                    + fhirBase);
        }
        SmartScopes.Parsed asked = SmartScopes.requested(p.getOrDefault("scope", ""));
        if (asked == null) {
            throw redirected(app, redirect, state, "invalid_scope", "scope is too long or names too many scopes");
        }
        SmartScopes.Parsed granted = SmartScopes.within(asked, SmartScopes.registered(app.maxScopes()));
        String launchPatient = null;
        String launch = p.get("launch");
        if (launch != null) {
            launchPatient = launchPatient(launch, account, app.clientId());
            if (launchPatient == null) {
                throw redirected(app, redirect, state, "invalid_request", "launch is unknown, expired, used, or not"
                        + " for this person and app");
            }
        } else if (granted.has("launch")) {
            throw redirected(app, redirect, state, "invalid_request", "scope launch needs the launch parameter of an"
                    + " EHR launch");
        }
        if (granted.resources().isEmpty()) {
            throw redirected(app, redirect, state, "invalid_scope", "none of the requested scopes is allowed for"
                    + " this app");
        }
        return new Authorization(app, redirect, state, challenge, List.copyOf(granted.resources()),
                List.copyOf(granted.others()), launchPatient, p);
    }

    /** The patient of an EHR launch that is current, unused and bound to this person and app; null otherwise. */
    private String launchPatient(String launch, UUID account, String clientId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT patient_id FROM smart_launch WHERE launch_sha256 = ?"
                    + " AND account_id = ? AND client_id = ? AND used_at IS NULL AND expires_at > ?")) {
                ps.setBytes(1, Hashes.sha256(launch));
                ps.setObject(2, account);
                ps.setString(3, clientId);
                ps.setObject(4, utc(clock.instant()));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    private SmartRefusal.Redirected redirected(App app, String redirect, String state, String error,
                                               String description) {
        log.info("SMART authorize for {} answered {}: {}", app.clientId(), error, description);
        record(appActor(app, null), AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("reason", error + ": "
                + description));
        return new SmartRefusal.Redirected("アプリからの認可要求に誤りがあります（" + error + "） / The app's authorization"
                + " request is wrong: " + description, location(redirect, error, description, state));
    }

    private static String location(String redirect, String error, String description, String state) {
        StringBuilder sb = new StringBuilder(redirect).append(redirect.contains("?") ? '&' : '?');
        sb.append("error=").append(enc(error)).append("&error_description=").append(enc(description));
        if (state != null) {
            sb.append("&state=").append(enc(state));
        }
        return sb.toString();
    }

    /**
     * The person allows the app what they left ticked: the grant is recorded (the consent) with a code of
     * {@link #CODE_LIFETIME}, and the app's redirect URI with {@code code} and {@code state} is returned. An EHR
     * launch's id is used up here.
     *
     * @param ticked  the scope texts the person left ticked on the consent page
     * @param patient the patient the person chose in a standalone launch (already checked as one they may see), or null
     */
    public String approve(Authorization a, Set<String> ticked, String patient, UUID account, String display,
                          Actor by) {
        SmartScopes.Parsed chosen = SmartScopes.chosen(new SmartScopes.Parsed(new LinkedHashSet<>(a.resources()),
                new LinkedHashSet<>(a.others())), ticked);
        if (chosen.resources().isEmpty()) {
            return deny(a, by);
        }
        String context = a.launchPatient() != null ? a.launchPatient() : a.asksForPatient() ? patient : null;
        String code = Secrets.random256();
        UUID grant = UUID.randomUUID();
        Instant now = clock.instant();
        String refresh = chosen.has("offline_access") ? "offline" : chosen.has("online_access") ? "online" : null;
        Tx.inTransaction(ds, c -> {
            if (a.launchPatient() != null) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE smart_launch SET used_at = ? WHERE"
                        + " launch_sha256 = ? AND used_at IS NULL AND account_id = ?")) {
                    ps.setObject(1, utc(now));
                    ps.setBytes(2, Hashes.sha256(a.params().get("launch")));
                    ps.setObject(3, account);
                    if (ps.executeUpdate() != 1) {
                        throw redirected(a.app(), a.redirectUri(), a.state(), "invalid_request",
                                "launch was used already");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_grant (grant_id, client_id, account_id,"
                    + " display, scopes, patient_id, redirect_uri, code_sha256, code_challenge, code_expires_at,"
                    + " refresh, created_at, nonce, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, grant);
                ps.setString(2, a.app().clientId());
                ps.setObject(3, account);
                ps.setString(4, display.length() > 200 ? display.substring(0, 200) : display);
                ps.setString(5, chosen.text());
                ps.setString(6, context);
                ps.setString(7, a.redirectUri());
                ps.setBytes(8, Hashes.sha256(code));
                ps.setString(9, a.challenge());
                ps.setObject(10, utc(now.plus(CODE_LIFETIME)));
                ps.setString(11, refresh);
                ps.setObject(12, utc(now));
                String nonce = a.params().get("nonce");
                ps.setString(13, nonce == null || nonce.isEmpty() ? null : nonce);
                ps.setBytes(14, attest(grantContent(grant, a.app().clientId(), account, chosen.text(), context,
                        a.redirectUri())));
                ps.executeUpdate();
            }
            Map<String, String> d = new LinkedHashMap<>();
            d.put("decision", "allowed");
            d.put("app", a.app().clientId());
            d.put("app_name", a.app().name());
            d.put("scopes", chosen.text());
            d.put("grant", grant.toString());
            AuditEvent.Builder e = AuditEvent.by(by, AuditAction.SMART_CONSENT).purpose(Purpose.SECURITY).details(d);
            if (context != null) {
                e.patient(jp.mamori.audit.PatientRef.of(context));
            }
            audit.stage(c, e.build());
            return null;
        });
        audit.drainSoon();
        return a.redirectUri() + (a.redirectUri().contains("?") ? "&" : "?") + "code=" + enc(code) + "&state="
                + enc(a.state());
    }

    /** The person refuses: recorded, and the app is told {@code access_denied} with its state. */
    public String deny(Authorization a, Actor by) {
        record(by, AuditAction.SMART_CONSENT, Outcome.REFUSED, Map.of("decision", "denied", "app",
                a.app().clientId(), "app_name", a.app().name()));
        return location(a.redirectUri(), "access_denied", "the person did not allow the app", a.state());
    }

    // ---- EHR launch ------------------------------------------------------------------------------------------

    /**
     * Starts an EHR launch of {@code clientId} for the person and the open patient: a single-use launch id of
     * {@link #LAUNCH_LIFETIME}, bound to them, and the app's launch URL with {@code iss} and {@code launch}.
     */
    public String launch(String clientId, UUID account, String patient, String fhirBase, Actor by) {
        App app = app(clientId).filter(App::enabled).filter(x -> x.launchUrl() != null).orElseThrow(() ->
                new SmartRefusal.Shown("このアプリは起動できません（未登録、停止中、または起動URLなし） / This app cannot"
                        + " be launched (not registered, disabled, or without a launch URL)"));
        if (patient == null || patient.isBlank() || patient.length() > 64) {
            throw new SmartRefusal.Shown("患者が選ばれていません / No patient is open");
        }
        String launch = Secrets.random256();
        Instant now = clock.instant();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_launch (launch_sha256, account_id,"
                    + " patient_id, client_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setBytes(1, Hashes.sha256(launch));
                ps.setObject(2, account);
                ps.setString(3, patient);
                ps.setString(4, clientId);
                ps.setObject(5, utc(now));
                ps.setObject(6, utc(now.plus(LAUNCH_LIFETIME)));
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.SMART_LAUNCH).purpose(Purpose.TREATMENT)
                    .patient(jp.mamori.audit.PatientRef.of(patient)).detail("app", clientId)
                    .detail("app_name", app.name()).build());
            return null;
        });
        audit.drainSoon();
        return app.launchUrl() + (app.launchUrl().contains("?") ? "&" : "?") + "iss=" + enc(fhirBase) + "&launch="
                + enc(launch);
    }

    // ---- the token endpoint: authorization_code and refresh_token ----------------------------------------------

    /** Whether this grant type is answered here rather than by the system clients' token endpoint. */
    public static boolean handles(String grantType) {
        return "authorization_code".equals(grantType) || "refresh_token".equals(grantType);
    }

    private static final class Failure extends Exception {
        final int status;
        final String error;

        Failure(int status, String error, String description) {
            super(description, null, false, false);
            this.status = status;
            this.error = error;
        }
    }

    /**
     * {@code POST /oauth/token} with {@code grant_type} authorization_code or refresh_token (RFC 6749 §4.1.3, §6).
     *
     * @param form          the form's parameters, each once
     * @param authorization the Authorization header (client_secret_basic), or null
     */
    public TokenEndpoint.Answer token(Map<String, String> form, String authorization, String address) {
        App app = null;
        try {
            app = client(form, authorization);
            Map<String, Object> out = "authorization_code".equals(form.get("grant_type"))
                    ? exchangeCode(app, form, address) : refresh(app, form, address);
            return new TokenEndpoint.Answer(200, JSONObjectUtils.toJSONString(out));
        } catch (Failure f) {
            log.info("SMART token request from {} refused: {} {}", address, f.error, f.getMessage());
            record(app == null ? Actor.anonymous(address, null) : appActor(app, address), AuditAction.SMART_TOKEN,
                    Outcome.REFUSED, Map.of("grant_type", clip(form.get("grant_type")), "error", f.error,
                            "reason", f.getMessage()));
            return error(f);
        }
    }

    private Map<String, Object> exchangeCode(App app, Map<String, String> form, String address) throws Failure {
        String code = form.get("code");
        String verifier = form.get("code_verifier");
        String redirect = form.get("redirect_uri");
        if (code == null || verifier == null || redirect == null) {
            throw new Failure(400, "invalid_request", "code, code_verifier and redirect_uri are required");
        }
        Instant now = clock.instant();
        Object[] result = new Object[1];
        Object[] oidc = new Object[3];
        String failed = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT grant_id, client_id, redirect_uri, code_challenge,"
                    + " code_expires_at, code_used_at, revoked_at, account_id, scopes, patient_id, refresh, "
                    + Accounts.activeStaffSql("account_id") + ", nonce FROM smart_grant WHERE code_sha256 = ?"
                    + " FOR UPDATE")) {
                ps.setBytes(1, Hashes.sha256(code));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return "the code is unknown";
                    }
                    UUID grant = rs.getObject(1, UUID.class);
                    if (!rs.getString(2).equals(app.clientId())) {
                        return "the code was issued to another client";
                    }
                    if (rs.getObject(6) != null) {
                        // RFC 6749 §4.1.2: a code used twice revokes every token issued from it
                        revokeGrant(c, grant, "authorization code replayed", now);
                        log.warn("SMART code replayed for client {} from {}: grant {} revoked", app.clientId(), address,
                                grant);
                        return "the code was used before; the tokens issued from it are revoked";
                    }
                    markCodeUsed(c, grant, now);
                    if (rs.getObject(7) != null) {
                        return "the grant was revoked";
                    }
                    if (!rs.getObject(5, OffsetDateTime.class).toInstant().isAfter(now)) {
                        return "the code has expired";
                    }
                    if (!rs.getString(3).equals(redirect)) {
                        return "redirect_uri differs from the authorization request's";
                    }
                    if (!pkce(verifier, rs.getString(4))) {
                        return "code_verifier does not match the code_challenge";
                    }
                    if (!rs.getBoolean(12)) {
                        revokeGrant(c, grant, "the person is no longer active", now);
                        return "the person's account is not active";
                    }
                    result[0] = issue(c, grant, rs.getString(9), rs.getString(10), rs.getString(11), now);
                    oidc[0] = rs.getObject(8, UUID.class);
                    oidc[1] = rs.getString(13);
                    oidc[2] = grant;
                    return null;
                }
            }
        });
        Map<String, Object> out = answered(failed, result[0], app, address, "authorization_code");
        String scopes = String.valueOf(out.get("scope"));
        if (idTokens != null && List.of(scopes.split(" ")).contains("openid")) {
            out.put("id_token", idToken(app, (UUID) oidc[0], (String) oidc[1], (UUID) oidc[2],
                    List.of(scopes.split(" ")).contains("fhirUser"), address));
        }
        return out;
    }

    /**
     * The ID token of a code exchange (OpenID Connect Core §3.1.3.3; SMART App Launch 2.x "sso-openid-connect"):
     * issuer the FHIR base, subject the person's account, audience the app, the request's nonce, and with
     * {@code fhirUser} the URL of the person's Practitioner, written first when missing. Should that fail, the grant
     * is revoked (the app holds no tokens without the ID token it asked for) and the app is told server_error.
     */
    private String idToken(App app, UUID account, String nonce, UUID grant, boolean fhirUser, String address)
            throws Failure {
        try {
            String user = fhirUser ? issuer + "/Practitioner/" + practitioners.ensure(account) : null;
            return idTokens.sign(issuer, account.toString(), app.clientId(), nonce, user, clock.instant());
        } catch (RuntimeException e) {
            log.error("SMART ID token for grant {} could not be made: {}", grant, e.toString());
            Tx.inTransaction(ds, c -> {
                revokeGrant(c, grant, "the ID token could not be made", clock.instant());
                return null;
            });
            throw new Failure(500, "server_error", "the ID token could not be made; the grant is revoked");
        }
    }

    private Map<String, Object> refresh(App app, Map<String, String> form, String address) throws Failure {
        String token = form.get("refresh_token");
        if (token == null || !token.startsWith(REFRESH_PREFIX) || token.length() > 200) {
            throw new Failure(400, "invalid_grant", "refresh_token is missing or not one of this server's");
        }
        Instant now = clock.instant();
        Object[] result = new Object[1];
        String failed = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT t.grant_id, t.expires_at, t.replaced_at,"
                    + " g.revoked_at, g.client_id, g.scopes, g.patient_id, g.refresh, "
                    + Accounts.activeStaffSql("g.account_id") + " FROM smart_token t JOIN smart_grant g"
                    + " ON g.grant_id = t.grant_id WHERE t.token_sha256 = ? AND t.kind = 'refresh' FOR UPDATE")) {
                ps.setBytes(1, Hashes.sha256(token));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return "the refresh token is unknown";
                    }
                    UUID grant = rs.getObject(1, UUID.class);
                    if (!rs.getString(5).equals(app.clientId())) {
                        return "the refresh token was issued to another client";
                    }
                    if (rs.getObject(4) != null) {
                        return "the grant was revoked";
                    }
                    if (rs.getObject(3) != null) {
                        // a rotated token used again: stolen or replayed; the whole family ends
                        revokeGrant(c, grant, "rotated refresh token reused", now);
                        log.warn("SMART refresh token reused for client {} from {}: grant {} revoked", app.clientId(),
                                address, grant);
                        return "the refresh token was used before; every token of this grant is revoked";
                    }
                    if (!rs.getObject(2, OffsetDateTime.class).toInstant().isAfter(now)) {
                        return "the refresh token has expired";
                    }
                    if (!rs.getBoolean(9)) {
                        revokeGrant(c, grant, "the person is no longer active", now);
                        return "the person's account is not active";
                    }
                    try (PreparedStatement up = c.prepareStatement("UPDATE smart_token SET replaced_at = ?"
                            + " WHERE token_sha256 = ?")) {
                        up.setObject(1, utc(now));
                        up.setBytes(2, Hashes.sha256(token));
                        up.executeUpdate();
                    }
                    result[0] = issue(c, grant, rs.getString(6), rs.getString(7), rs.getString(8), now);
                    return null;
                }
            }
        });
        return answered(failed, result[0], app, address, "refresh_token");
    }

    /**
     * The token response of a grant's transaction, recorded ({@code smart.token}); or, when the transaction returned
     * why not (its refusals, such as revoking a replayed code's tokens, are committed), an {@code invalid_grant}.
     */
    private Map<String, Object> answered(String failed, Object issued, App app, String address, String grantType)
            throws Failure {
        if (failed != null) {
            throw new Failure(400, "invalid_grant", failed);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) issued;
        record(appActor(app, address), AuditAction.SMART_TOKEN, Outcome.SUCCESS, Map.of("grant_type", grantType,
                "grant", String.valueOf(out.remove("_grant"))));
        return out;
    }

    /** Issues an access token (and a refresh token when the grant has one) and returns the token response. */
    private static Map<String, Object> issue(Connection c, UUID grant, String scopes, String patient, String refresh,
                                             Instant now) throws SQLException {
        String access = ACCESS_PREFIX + Secrets.random256();
        token(c, access, grant, "access", now, now.plus(ACCESS_LIFETIME));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("access_token", access);
        out.put("token_type", "Bearer");
        out.put("expires_in", ACCESS_LIFETIME.toSeconds());
        out.put("scope", scopes);
        if (refresh != null) {
            String r = REFRESH_PREFIX + Secrets.random256();
            token(c, r, grant, "refresh", now, now.plus(refresh.equals("offline") ? OFFLINE_LIFETIME
                    : ONLINE_LIFETIME));
            out.put("refresh_token", r);
        }
        if (patient != null) {
            out.put("patient", patient);
        }
        out.put("_grant", grant.toString());
        return out;
    }

    private static void token(Connection c, String token, UUID grant, String kind, Instant now, Instant expires)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_token (token_sha256, grant_id, kind,"
                + " created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setBytes(1, Hashes.sha256(token));
            ps.setObject(2, grant);
            ps.setString(3, kind);
            ps.setObject(4, utc(now));
            ps.setObject(5, utc(expires));
            ps.executeUpdate();
        }
    }

    private static void markCodeUsed(Connection c, UUID grant, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE smart_grant SET code_used_at = ? WHERE grant_id = ?")) {
            ps.setObject(1, utc(now));
            ps.setObject(2, grant);
            ps.executeUpdate();
        }
    }

    private static void revokeGrant(Connection c, UUID grant, String reason, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE smart_grant SET revoked_at = coalesce(revoked_at, ?),"
                + " revoked_reason = coalesce(revoked_reason, ?), code_used_at = coalesce(code_used_at, ?)"
                + " WHERE grant_id = ?")) {
            ps.setObject(1, utc(now));
            ps.setString(2, reason);
            ps.setObject(3, utc(now));
            ps.setObject(4, grant);
            ps.executeUpdate();
        }
    }

    /** PKCE S256 (RFC 7636 §4.6): base64url(SHA-256(verifier)) equals the challenge, compared in constant time. */
    static boolean pkce(String verifier, String challenge) {
        if (!verifier.matches("[A-Za-z0-9._~-]{43,128}")) {
            return false;
        }
        String computed = Base64.getUrlEncoder().withoutPadding().encodeToString(
                Hashes.sha256(verifier.getBytes(StandardCharsets.US_ASCII)));
        return MessageDigest.isEqual(computed.getBytes(StandardCharsets.US_ASCII),
                challenge.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The client of a token, revocation or introspection request (RFC 6749 §2.3.1): a confidential app by its secret,
     * in the Authorization header (Basic) or in the form, never both; a public app by {@code client_id} alone.
     */
    private App client(Map<String, String> form, String authorization) throws Failure {
        String id = form.get("client_id");
        String secret = form.get("client_secret");
        if (form.get("client_assertion") != null || form.get("client_assertion_type") != null) {
            if (authorization != null || secret != null) {
                throw new Failure(401, "invalid_client", "authenticate with one method: the client assertion alone");
            }
            return assertedClient(id, form.get("client_assertion_type"), form.get("client_assertion"));
        }
        if (authorization != null) {
            if (secret != null || !authorization.regionMatches(true, 0, "Basic ", 0, 6) || authorization.length() > 600) {
                throw new Failure(401, "invalid_client", "authenticate with one method: HTTP Basic or the form");
            }
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(authorization.substring(6).strip()),
                        StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new Failure(401, "invalid_client", "the Basic credentials are malformed");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new Failure(401, "invalid_client", "the Basic credentials are malformed");
            }
            String basicId = jp.mamori.kernel.QueryString.decode(decoded.substring(0, colon));
            if (id != null && !id.equals(basicId)) {
                throw new Failure(401, "invalid_client", "client_id differs from the Basic credentials");
            }
            id = basicId;
            secret = jp.mamori.kernel.QueryString.decode(decoded.substring(colon + 1));
        }
        if (id == null) {
            throw new Failure(401, "invalid_client", "client_id is required");
        }
        String clientId = id;
        String given = secret;
        Optional<byte[]> stored = Tx.read(ds, c -> {
            // an app with keys has no secret, and is not a public app either: it must send its assertion
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(secret_sha256, ''::bytea) FROM smart_app"
                    + " WHERE client_id = ? AND enabled AND jwks IS NULL")) {
                ps.setString(1, clientId.length() > 64 ? "" : clientId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
                }
            }
        });
        if (stored.isEmpty()) {
            throw new Failure(401, "invalid_client", "client authentication failed");
        }
        boolean confidential = stored.get().length > 0;
        if (confidential ? given == null || !MessageDigest.isEqual(stored.get(), Hashes.sha256(given))
                : given != null) {
            throw new Failure(401, "invalid_client", "client authentication failed");
        }
        return app(clientId).orElseThrow();
    }

    /**
     * A confidential app by its {@code private_key_jwt} assertion (RFC 7523; SMART App Launch 2.x "asymmetric client
     * authentication"): RS384 or ES384 (none, HMAC and others refused), signed by a key of the app's registered JWK
     * set (the header's kid must name one), iss = sub = the app, aud = this token endpoint, exp at most 5 minutes
     * ahead, and a jti used once. Verified as the system clients' assertions are ({@code SystemClients}).
     */
    private App assertedClient(String id, String type, String assertion) throws Failure {
        if (!JWT_BEARER.equals(type) || assertion == null) {
            throw new Failure(401, "invalid_client", "client_assertion_type must be " + JWT_BEARER
                    + " with a client_assertion");
        }
        if (issuer == null) {
            throw new Failure(401, "invalid_client", "private_key_jwt is not available on this server");
        }
        String claimed;
        try {
            claimed = jp.mamori.identity.SystemClients.assertionClient(assertion, ASSERTION_ALGS);
        } catch (IllegalArgumentException e) {
            throw new Failure(401, "invalid_client", e.getMessage());
        }
        if (id != null && !id.equals(claimed)) {
            throw new Failure(401, "invalid_client", "client_id differs from the client assertion's iss");
        }
        Optional<App> app = claimed.length() > 64 ? Optional.empty() : app(claimed);
        if (app.isEmpty() || !app.get().enabled() || !app.get().usesKeys()) {
            throw new Failure(401, "invalid_client", "client authentication failed");
        }
        jp.mamori.identity.SystemClients.VerifiedAssertion ok;
        try {
            ok = jp.mamori.identity.SystemClients.verifyAssertion(assertion,
                    com.nimbusds.jose.jwk.JWKSet.parse(app.get().jwks()), ASSERTION_ALGS, tokenEndpoint(),
                    clock.instant());
        } catch (IllegalArgumentException | java.text.ParseException e) {
            throw new Failure(401, "invalid_client", e.getMessage());
        }
        if (!useJti(claimed, ok.jti(), ok.expiresAt())) {
            log.warn("SMART client assertion of {} replayed (jti {})", claimed, clip(ok.jti()));
            throw new Failure(401, "invalid_client", "the client assertion's jti was used before");
        }
        return app.get();
    }

    /** This server's token endpoint, the only audience of a client assertion. */
    private String tokenEndpoint() {
        return issuer.replaceFirst("/fhir$", "") + TokenEndpoint.PATH;
    }

    /** Records a client assertion's jti until it expires; false when the app used it before (a replay). */
    private boolean useJti(String clientId, String jti, Instant expires) {
        Instant now = clock.instant();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM smart_assertion_jti WHERE expires_at < ?")) {
                ps.setObject(1, utc(now.minus(Duration.ofMinutes(2)))); // kept past exp by more than the skew allowed
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_assertion_jti (client_id, jti, expires_at)"
                    + " VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setString(1, clientId);
                ps.setString(2, jti);
                ps.setObject(3, utc(expires));
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static TokenEndpoint.Answer error(Failure f) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("error", f.error);
        out.put("error_description", ascii(f.getMessage()));
        return new TokenEndpoint.Answer(f.status, JSONObjectUtils.toJSONString(out));
    }

    // ---- revocation and introspection ------------------------------------------------------------------------

    /**
     * {@code POST /oauth/revoke} (RFC 7009): the app revokes one of its tokens, which ends its grant (the access and
     * refresh tokens issued from the same consent). 200 whether or not the token was known (§2.2); 401 when the client
     * does not authenticate.
     */
    public TokenEndpoint.Answer revoke(Map<String, String> form, String authorization, String address) {
        App app;
        try {
            app = client(form, authorization);
        } catch (Failure f) {
            record(Actor.anonymous(address, null), AuditAction.SMART_REVOKE, Outcome.REFUSED, Map.of("error", f.error));
            return error(f);
        }
        String token = form.get("token");
        if (token == null || token.length() > 200) {
            return error(new Failure(400, "invalid_request", "token is required"));
        }
        Instant now = clock.instant();
        UUID revoked = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT g.grant_id FROM smart_token t JOIN smart_grant g"
                    + " ON g.grant_id = t.grant_id WHERE t.token_sha256 = ? AND g.client_id = ?")) {
                ps.setBytes(1, Hashes.sha256(token));
                ps.setString(2, app.clientId());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    UUID g = rs.getObject(1, UUID.class);
                    revokeGrant(c, g, "revoked by the app", now);
                    return g;
                }
            }
        });
        record(appActor(app, address), AuditAction.SMART_REVOKE, revoked == null ? Outcome.INVALID : Outcome.SUCCESS,
                Map.of("grant", String.valueOf(revoked)));
        return new TokenEndpoint.Answer(200, "{}");
    }

    /**
     * {@code POST /oauth/introspect} (RFC 7662). Who may ask: a confidential app, authenticated by its secret, about
     * its own tokens. Public apps cannot keep a secret, so they may not (401); another app's token, an unknown,
     * expired or revoked one, or one whose person is no longer active is {@code {"active":false}}.
     */
    public TokenEndpoint.Answer introspect(Map<String, String> form, String authorization, String address) {
        App app;
        try {
            app = client(form, authorization);
            if (!app.confidential()) {
                throw new Failure(401, "invalid_client", "only confidential apps may introspect tokens");
            }
        } catch (Failure f) {
            record(Actor.anonymous(address, null), AuditAction.SMART_TOKEN, Outcome.REFUSED, Map.of("introspection",
                    "refused", "error", f.error));
            return error(f);
        }
        String token = form.get("token");
        if (token == null || token.length() > 200) {
            return error(new Failure(400, "invalid_request", "token is required"));
        }
        Map<String, Object> out = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT t.kind, t.created_at, t.expires_at, g.account_id,"
                    + " g.scopes, g.patient_id FROM smart_token t JOIN smart_grant g ON g.grant_id = t.grant_id"
                    + " JOIN smart_app a ON a.client_id = g.client_id WHERE t.token_sha256 = ? AND g.client_id = ?"
                    + " AND t.expires_at > ? AND t.replaced_at IS NULL AND g.revoked_at IS NULL AND a.enabled AND "
                    + Accounts.activeStaffSql("g.account_id"))) {
                ps.setBytes(1, Hashes.sha256(token));
                ps.setString(2, app.clientId());
                ps.setObject(3, utc(clock.instant()));
                try (ResultSet rs = ps.executeQuery()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    if (!rs.next()) {
                        m.put("active", false);
                        return m;
                    }
                    m.put("active", true);
                    m.put("client_id", app.clientId());
                    m.put("token_type", rs.getString(1).equals("access") ? "Bearer" : "refresh_token");
                    m.put("scope", rs.getString(5));
                    m.put("sub", "account:" + rs.getObject(4, UUID.class));
                    m.put("iat", rs.getObject(2, OffsetDateTime.class).toEpochSecond());
                    m.put("exp", rs.getObject(3, OffsetDateTime.class).toEpochSecond());
                    if (rs.getString(6) != null) {
                        m.put("patient", rs.getString(6));
                    }
                    return m;
                }
            }
        });
        return new TokenEndpoint.Answer(200, JSONObjectUtils.toJSONString(out));
    }

    // ---- the resource side -----------------------------------------------------------------------------------

    /**
     * Whom an access token stands for, if it is current: unexpired, its grant not revoked, its app enabled and its
     * person an active member of staff, with their access version (for their cached access context). One query.
     */
    public Optional<Bearer> authenticate(String token) {
        if (token == null || !token.startsWith(ACCESS_PREFIX) || token.length() > 200) {
            return Optional.empty();
        }
        List<UUID> touched = new ArrayList<>(1);
        Optional<Bearer> found = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT g.grant_id, g.account_id, g.display, g.scopes,"
                    + " g.patient_id, a.client_id, a.name, " + PersonContexts.accessVersionSql("g.account_id")
                    + ", g.last_used_at FROM smart_token t JOIN smart_grant g ON g.grant_id = t.grant_id"
                    + " JOIN smart_app a ON a.client_id = g.client_id WHERE t.token_sha256 = ? AND t.kind = 'access'"
                    + " AND t.expires_at > ? AND g.revoked_at IS NULL AND a.enabled AND "
                    + Accounts.activeStaffSql("g.account_id"))) {
                ps.setBytes(1, Hashes.sha256(token));
                ps.setObject(2, utc(clock.instant()));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    Set<Scope> scopes = new LinkedHashSet<>();
                    boolean fhirUser = false;
                    for (String s : rs.getString(4).split(" ")) {
                        Scope.parsePerson(s).ifPresent(scopes::add);
                        fhirUser |= s.equals("fhirUser");
                    }
                    UUID grant = rs.getObject(1, UUID.class);
                    OffsetDateTime used = rs.getObject(9, OffsetDateTime.class);
                    if (used == null || used.toInstant().plus(USE_TOUCH_EVERY).isBefore(clock.instant())) {
                        touched.add(grant);
                    }
                    return Optional.of(new Bearer(rs.getObject(2, UUID.class), rs.getLong(8), rs.getString(3),
                            Set.copyOf(scopes), rs.getString(5), rs.getString(6), rs.getString(7),
                            grant.toString().substring(0, 8), fhirUser));
                }
            }
        });
        if (!touched.isEmpty()) {
            // when the grant was last used, for the person's own list of apps: written at most once a minute
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE smart_grant SET last_used_at = ? WHERE"
                        + " grant_id = ?")) {
                    ps.setObject(1, utc(clock.instant()));
                    ps.setObject(2, touched.get(0));
                    ps.executeUpdate();
                }
                return null;
            });
        }
        return found;
    }

    // ---- a person's own apps ---------------------------------------------------------------------------------

    /**
     * An app a person allowed and has not revoked: its name, the scopes of the newest consent (resource scopes and
     * the others), when first allowed, when a token of it was last used (null: never), and how many consents.
     */
    public record AllowedApp(String clientId, String name, List<Scope> resources, List<String> others,
                             Instant allowedAt, Instant lastUsedAt, int grants) {
        public AllowedApp {
            resources = List.copyOf(resources);
            others = List.copyOf(others);
        }
    }

    /** A grant in force: not revoked, and its code not yet spent or a token of it still current. */
    private static final String IN_FORCE = "g.revoked_at IS NULL AND ((g.code_used_at IS NULL AND g.code_expires_at > ?)"
            + " OR EXISTS (SELECT 1 FROM smart_token t WHERE t.grant_id = g.grant_id AND t.expires_at > ?"
            + " AND t.replaced_at IS NULL))";

    /** The apps {@code account} allowed that still hold a grant in force, the most recently allowed first. */
    public List<AllowedApp> allowedBy(UUID account) {
        Instant now = clock.instant();
        return Tx.read(ds, c -> {
            List<AllowedApp> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT a.client_id, a.name, (array_agg(g.scopes ORDER BY"
                    + " g.created_at DESC))[1], min(g.created_at), max(g.last_used_at), count(*) FROM smart_grant g"
                    + " JOIN smart_app a ON a.client_id = g.client_id WHERE g.account_id = ? AND " + IN_FORCE
                    + " GROUP BY a.client_id, a.name ORDER BY max(g.created_at) DESC LIMIT 100")) {
                ps.setObject(1, account);
                ps.setObject(2, utc(now));
                ps.setObject(3, utc(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        List<Scope> resources = new ArrayList<>();
                        List<String> others = new ArrayList<>();
                        for (String t : rs.getString(3).split(" ")) {
                            Optional<Scope> sc = Scope.parsePerson(t);
                            if (sc.isPresent()) {
                                resources.add(sc.get());
                            } else if (!t.isEmpty()) {
                                others.add(t);
                            }
                        }
                        OffsetDateTime used = rs.getObject(5, OffsetDateTime.class);
                        out.add(new AllowedApp(rs.getString(1), rs.getString(2), resources, others,
                                rs.getObject(4, OffsetDateTime.class).toInstant(), used == null ? null
                                : used.toInstant(), rs.getInt(6)));
                    }
                }
            }
            return out;
        });
    }

    /**
     * The person withdraws their consent to an app: every grant of theirs to it is revoked, which ends each of its
     * access and refresh tokens at once (the next request with one is 401). Audited ({@code smart.revoke}) with the
     * grants revoked. Returns how many grants were revoked (0: none in force, e.g. revoked in another tab).
     */
    public int revokeFor(UUID account, String clientId, Actor by) {
        if (clientId == null || clientId.length() > 64) {
            return 0;
        }
        Instant now = clock.instant();
        List<String> revoked = Tx.inTransaction(ds, c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("UPDATE smart_grant g SET revoked_at = ?, revoked_reason ="
                    + " 'revoked by the person', code_used_at = coalesce(code_used_at, ?) WHERE g.account_id = ? AND"
                    + " g.client_id = ? AND g.revoked_at IS NULL RETURNING g.grant_id")) {
                ps.setObject(1, utc(now));
                ps.setObject(2, utc(now));
                ps.setObject(3, account);
                ps.setString(4, clientId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getObject(1, UUID.class).toString());
                    }
                }
            }
            if (!ids.isEmpty()) {
                audit.stage(c, AuditEvent.by(by, AuditAction.SMART_REVOKE).purpose(Purpose.SECURITY)
                        .detail("by", "person").detail("app", clientId).detail("app_name", app(c, clientId)
                                .map(App::name).orElse(clientId)).detail("grants", String.join(" ", ids)).build());
            }
            return ids;
        });
        audit.drainSoon();
        log.info("SMART grants of app {} revoked by their person {}: {}", clientId, account, revoked.size());
        return revoked.size();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static Actor appActor(App app, String address) {
        return new Actor("smart-app:" + app.clientId(), ActorKind.CLIENT, app.name(), List.of(), null, address, null);
    }

    private void record(Actor by, AuditAction action, Outcome outcome, Map<String, String> detail) {
        audit.append(AuditEvent.by(by, action).outcome(outcome).purpose(Purpose.SECURITY).details(detail).build());
    }

    private static OffsetDateTime utc(Instant at) {
        return at.atOffset(ZoneOffset.UTC);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String clip(String s) {
        return s == null ? "" : s.length() > 80 ? s.substring(0, 80) : s;
    }

    /** Printable ASCII without '"' and '\', as RFC 6749 §5.2 allows in error_description. */
    private static String ascii(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 300));
        for (int i = 0; i < s.length() && sb.length() < 300; i++) {
            char ch = s.charAt(i);
            sb.append(ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\' ? ch : '?');
        }
        return sb.toString();
    }
}
