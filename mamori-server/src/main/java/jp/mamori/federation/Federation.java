package jp.mamori.federation;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.JWTAuthenticationClaimsSet;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.Audience;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.Prompt;
import com.nimbusds.openid.connect.sdk.claims.ACR;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.Logins;
import jp.mamori.identity.SecretSealer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
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
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Sign-in through the institution's OpenID Connect provider (issue 21; AUTH-1, AUTH-2, AUTH-5, AUTH-10, AUDIT-1).
 *
 * <p>The registration is versioned: an administrator's change is a new version, audited; the secret (or the private key
 * of {@code private_key_jwt}) is sealed with identity's key file. The flow is the authorization code flow with PKCE
 * (S256), {@code state} bound to the browser by a cookie and used once within ten minutes, and {@code nonce}; the ID
 * token is checked by {@link IdTokens}. Every call to the provider is bounded ({@link ProviderClient}).
 *
 * <p>The account ledger stays authoritative: the provider only authenticates a person whose account is already linked
 * to its (issuer, subject), by the person's own round trip after a local sign-in with two factors; never by a claimed
 * e-mail. Sign-in goes through identity's {@link Logins#federated}: the session is complete when the token's
 * {@code acr} or {@code amr} meets the registered rule, otherwise Mamori asks for its own second factor.
 *
 * <p>When the provider does not answer, sign-in through it is refused with {@link FederationRefusal.Kind#PROVIDER_DOWN}
 * and {@link #health()} says so until it answers again: the login page tells people that the password with the
 * second factor still works.
 */
public final class Federation {
    private static final Logger log = LoggerFactory.getLogger(Federation.class);
    /** How long a started round trip may take. */
    public static final Duration FLOW_TTL = Duration.ofMinutes(10);
    /** The path of the callback (the redirect URI is the server's origin followed by it). */
    public static final String CALLBACK_PATH = "/console/login/oidc/callback";
    /** How long the provider's discovery document is reused. */
    static final Duration METADATA_TTL = Duration.ofMinutes(10);
    static final int MAX_VALUES = 10;
    private static final Pattern VALUE = Pattern.compile("[\\x21-\\x7e]{1,100}");
    private static final Pattern CLIENT_ID = Pattern.compile("[\\x21-\\x7e]{1,200}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public enum ClientAuth {
        CLIENT_SECRET_BASIC("client_secret_basic"), PRIVATE_KEY_JWT("private_key_jwt");

        public final String code;

        ClientAuth(String code) {
            this.code = code;
        }

        public static ClientAuth of(String code) {
            for (ClientAuth a : values()) {
                if (a.code.equals(code)) {
                    return a;
                }
            }
            throw new FederationRefusal(FederationRefusal.Kind.INVALID, "クライアント認証の方式を選んでください / Choose"
                    + " how Mamori authenticates to the provider");
        }
    }

    /**
     * What an administrator enters. {@code clientSecret} blank keeps the secret of the version before (same client
     * id); {@code caPem} blank trusts the JDK's certificate authorities.
     */
    public record Registration(String displayName, String discoveryUrl, String caPem, String clientId,
                               ClientAuth clientAuth, String clientSecret, List<String> mfaAcr, List<String> mfaAmr) {
    }

    /** One version of the registration as recorded (never the secret). */
    public record Provider(long version, boolean enabled, String displayName, String discoveryUrl, String issuer,
                           Optional<String> caPem, String clientId, ClientAuth clientAuth, Optional<String> publicJwk,
                           List<String> mfaAcr, List<String> mfaAmr, String by, Instant at) {
        /** Whether the provider's own multi-factor authentication can count at all. */
        public boolean mfaRule() {
            return !mfaAcr.isEmpty() || !mfaAmr.isEmpty();
        }

        /** The subjects of the registered CA certificates, for the page. */
        public List<String> caSubjects() {
            return caPem.map(p -> ProviderClient.certificates(p).stream().map(c -> ((X509Certificate) c)
                    .getSubjectX500Principal().getName()).toList()).orElse(List.of());
        }
    }

    /** Whether the provider answered the last time it was asked. {@code down} with when and why. */
    public record Health(boolean down, Instant at, String reason) {
        static final Health UNKNOWN = new Health(false, null, null);
    }

    /** A round trip started: send the browser to {@code redirect} with {@code browserBinding} as its cookie. */
    public record Start(URI redirect, String browserBinding) {
    }

    /** How a callback ended. */
    public sealed interface Result {
        /** Signed in: identity's outcome (a complete session, or the second factor due). */
        record SignedIn(Logins.PasswordOutcome outcome, boolean providerMfa) implements Result {
        }

        /** The account was linked to the provider's subject. */
        record Linked(UUID account) implements Result {
        }
    }

    /** A link in force. */
    public record Link(long seq, UUID accountId, String loginId, String name, String issuer, String subject, String by,
                       Instant at) {
    }

    private record Flow(String purpose, UUID account, long version, String nonce, String verifier, byte[] browserHash,
                        Instant createdAt, Instant expiresAt, Instant usedAt) {
    }

    private record Loaded(long version, OIDCProviderMetadata metadata, Instant at) {
    }

    private final DataSource ds;
    private final Accounts accounts;
    private final Logins logins;
    private final AuditRecorder audit;
    private final SecretSealer sealer;
    private final Clock clock;
    private final String redirectUri;
    private volatile Health health = Health.UNKNOWN;
    private volatile Loaded loaded;

    /** @param origin the server's public origin ({@code https://host[:port]}); the redirect URI is it + the callback */
    public Federation(DataSource ds, Accounts accounts, Logins logins, AuditRecorder audit, SecretSealer sealer,
                      Clock clock, String origin) {
        this.ds = ds;
        this.accounts = accounts;
        this.logins = logins;
        this.audit = audit;
        this.sealer = sealer;
        this.clock = clock;
        this.redirectUri = origin + CALLBACK_PATH;
    }

    /** The redirect URI to register at the provider, exactly. */
    public String redirectUri() {
        return redirectUri;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    public Health health() {
        return health;
    }

    private void down(String why) {
        health = new Health(true, now(), why);
        log.warn("identity provider unreachable: {}", why);
    }

    private void up() {
        if (health.down() || health.at() == null) {
            health = new Health(false, now(), null);
        }
    }

    /**
     * The plain read for a probe: whether a provider is registered and on, whether it answered the last time, the
     * second-factor rule (acr and amr values that count) and how many links are in force.
     */
    public record Summary(boolean enabled, boolean down, String downReason, List<String> mfaAcr, List<String> mfaAmr,
                        int links, String issuer) {
    }

    public Summary summary() {
        Optional<Provider> p = active();
        Health h = health;
        return new Summary(p.isPresent(), p.isPresent() && h.down(), h.reason(), p.map(Provider::mfaAcr).orElse(List.of()),
                p.map(Provider::mfaAmr).orElse(List.of()), links().size(), p.map(Provider::issuer).orElse(null));
    }

    // ---- registration ----------------------------------------------------------------------------------------

    /** The newest version, if any was registered. */
    public Optional<Provider> current() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY version DESC LIMIT 1")) {
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(provider(rs)) : Optional.empty();
                }
            }
        });
    }

    /** The provider people may sign in through now: the newest version, when it is enabled. */
    public Optional<Provider> active() {
        return current().filter(Provider::enabled);
    }

    /** Every version, newest first (at most 50). */
    public List<Provider> versions() {
        return Tx.read(ds, c -> {
            List<Provider> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY version DESC LIMIT 50");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(provider(rs));
                }
            }
            return out;
        });
    }

    private static final String SELECT = "SELECT version, enabled, display_name, discovery_url, issuer, ca_pem,"
            + " client_id, client_auth, public_jwk, mfa_acr, mfa_amr, by_who, at FROM oidc_provider";

    private static Provider provider(ResultSet rs) throws SQLException {
        return new Provider(rs.getLong(1), rs.getBoolean(2), rs.getString(3), rs.getString(4), rs.getString(5),
                Optional.ofNullable(rs.getString(6)), rs.getString(7), ClientAuth.of(rs.getString(8)),
                Optional.ofNullable(rs.getString(9)), split(rs.getString(10)), split(rs.getString(11)),
                rs.getString(12), rs.getTimestamp(13).toInstant());
    }

    private static List<String> split(String s) {
        return s == null || s.isBlank() ? List.of() : List.of(s.strip().split(" "));
    }

    /**
     * Registers a new version after checking it: the discovery URL is https and answers as the provider's discovery
     * document (fetched now, bounded), its issuer, endpoints and keys are https, it offers the code flow with PKCE
     * S256. A refusal (kind INVALID) says what is wrong and nothing is recorded.
     */
    public Provider register(Registration in, Actor by) {
        String name = in.displayName() == null ? "" : in.displayName().strip();
        if (name.isEmpty() || name.length() > 60) {
            throw invalid("ボタンに表示する名前を60文字以内で入力してください", "Enter the name for the sign-in button (at"
                    + " most 60 characters)");
        }
        URI discovery = httpsUri(in.discoveryUrl(), "探索URL", "the discovery URL");
        String clientId = in.clientId() == null ? "" : in.clientId().strip();
        if (!CLIENT_ID.matcher(clientId).matches()) {
            throw invalid("クライアントIDを入力してください（200文字以内、空白なし）", "Enter the client id (at most 200"
                    + " characters, no spaces)");
        }
        List<String> acr = values(in.mfaAcr(), "acr");
        List<String> amr = values(in.mfaAmr(), "amr");
        String ca = in.caPem() == null || in.caPem().isBlank() ? null : in.caPem().strip();
        if (ca != null) {
            if (ca.length() > 65536) {
                throw invalid("CA証明書が大きすぎます（64 KiBまで）", "The CA certificate is too large (64 KiB at most)");
            }
            ProviderClient.certificates(ca);
        }
        Optional<Provider> before = current();
        // the secret: a new one, or the sealed one of the version before
        byte[] sealed;
        String publicJwk = null;
        if (in.clientAuth() == ClientAuth.CLIENT_SECRET_BASIC) {
            String secret = in.clientSecret() == null ? "" : in.clientSecret().strip();
            if (secret.length() > 1000) {
                throw invalid("クライアントシークレットが長すぎます", "The client secret is too long");
            }
            if (secret.isEmpty()) {
                sealed = before.filter(p -> p.clientAuth() == ClientAuth.CLIENT_SECRET_BASIC
                        && p.clientId().equals(clientId)).map(p -> sealedOf(p.version())).orElseThrow(() ->
                        invalid("クライアントシークレットを入力してください", "Enter the client secret"));
            } else {
                sealed = sealer.seal(secret.getBytes(StandardCharsets.UTF_8), aad(clientId));
            }
        } else {
            Optional<Provider> keep = before.filter(p -> p.clientAuth() == ClientAuth.PRIVATE_KEY_JWT
                    && p.clientId().equals(clientId));
            if (keep.isPresent()) {
                sealed = sealedOf(keep.get().version());
                publicJwk = keep.get().publicJwk().orElseThrow();
            } else {
                try {
                    ECKey key = new ECKeyGenerator(Curve.P_256).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256)
                            .keyIDFromThumbprint(true).generate();
                    sealed = sealer.seal(key.toJSONString().getBytes(StandardCharsets.UTF_8), aad(clientId));
                    publicJwk = new JWKSet(key.toPublicJWK()).toString();
                } catch (JOSEException e) {
                    throw new IllegalStateException("cannot make a key: " + e.getMessage(), e);
                }
            }
        }
        // the provider's discovery document, fetched and checked now
        OIDCProviderMetadata m = discover(new ProviderClient(ca), discovery);
        String issuer = m.getIssuer().getValue();
        httpsUri(issuer, "発行者（issuer）", "the issuer");
        if (m.getAuthorizationEndpointURI() == null || m.getTokenEndpointURI() == null || m.getJWKSetURI() == null) {
            throw invalid("探索文書に認可・トークン・鍵のエンドポイントがありません", "The discovery document lacks the"
                    + " authorization, token or key set endpoint");
        }
        for (URI u : List.of(m.getAuthorizationEndpointURI(), m.getTokenEndpointURI(), m.getJWKSetURI())) {
            httpsUri(u.toString(), "エンドポイント", "an endpoint");
        }
        if (m.getCodeChallengeMethods() != null && !m.getCodeChallengeMethods().contains(CodeChallengeMethod.S256)) {
            throw invalid("このIDプロバイダはPKCE（S256）に対応していません", "The provider does not offer PKCE with S256");
        }
        if (m.getResponseTypes() != null && !m.getResponseTypes().contains(ResponseType.CODE)) {
            throw invalid("このIDプロバイダは認可コードフローに対応していません", "The provider does not offer the"
                    + " authorization code flow");
        }
        if (in.clientAuth() == ClientAuth.PRIVATE_KEY_JWT && m.getTokenEndpointAuthMethods() != null
                && m.getTokenEndpointAuthMethods().stream().noneMatch(x -> x.getValue().equals("private_key_jwt"))) {
            throw invalid("このIDプロバイダはprivate_key_jwtに対応していません", "The provider does not offer"
                    + " private_key_jwt");
        }
        Instant at = now();
        byte[] sealedFinal = sealed;
        String jwk = publicJwk;
        long version = Tx.inTransaction(ds, c -> {
            long v;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO oidc_provider (enabled, display_name,"
                    + " discovery_url, issuer, ca_pem, client_id, client_auth, sealed_secret, public_jwk, mfa_acr,"
                    + " mfa_amr, by_who, at) VALUES (true, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING version")) {
                ps.setString(1, name);
                ps.setString(2, discovery.toString());
                ps.setString(3, issuer);
                ps.setString(4, ca);
                ps.setString(5, clientId);
                ps.setString(6, in.clientAuth().code);
                ps.setBytes(7, sealedFinal);
                ps.setString(8, jwk);
                ps.setString(9, String.join(" ", acr));
                ps.setString(10, String.join(" ", amr));
                ps.setString(11, by.name(200));
                ps.setTimestamp(12, Timestamp.from(at));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    v = rs.getLong(1);
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.FEDERATION_PROVIDER).detail("version", Long.toString(v))
                    .detail("enabled", "true").detail("issuer", issuer).detail("client_id", clientId)
                    .detail("client_auth", in.clientAuth().code).detail("mfa_acr", String.join(" ", acr))
                    .detail("mfa_amr", String.join(" ", amr)).detail("ca", ca == null ? "jdk" : "registered")
                    .detail("secret", in.clientAuth() == ClientAuth.CLIENT_SECRET_BASIC
                            && in.clientSecret() != null && !in.clientSecret().isBlank() ? "new" : "kept").build());
            return v;
        });
        audit.drainSoon();
        loaded = new Loaded(version, m, at);
        up();
        return current().orElseThrow();
    }

    /** Turns sign-in through the provider off (a new version, audited); links are kept. */
    public void disable(Actor by) {
        Provider p = current().filter(Provider::enabled).orElseThrow(() -> new FederationRefusal(
                FederationRefusal.Kind.NOT_CONFIGURED, "IDプロバイダは登録されていないか、既に停止しています / No provider"
                + " is registered, or it is off already"));
        Instant at = now();
        Tx.inTransaction(ds, c -> {
            long v;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO oidc_provider (enabled, display_name,"
                    + " discovery_url, issuer, ca_pem, client_id, client_auth, sealed_secret, public_jwk, mfa_acr,"
                    + " mfa_amr, by_who, at) SELECT false, display_name, discovery_url, issuer, ca_pem, client_id,"
                    + " client_auth, sealed_secret, public_jwk, mfa_acr, mfa_amr, ?, ? FROM oidc_provider"
                    + " WHERE version = ? RETURNING version")) {
                ps.setString(1, by.name(200));
                ps.setTimestamp(2, Timestamp.from(at));
                ps.setLong(3, p.version());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    v = rs.getLong(1);
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.FEDERATION_PROVIDER).detail("version", Long.toString(v))
                    .detail("enabled", "false").detail("issuer", p.issuer()).build());
            return null;
        });
        audit.drainSoon();
    }

    private byte[] sealedOf(long version) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT sealed_secret FROM oidc_provider WHERE version = ?")) {
                ps.setLong(1, version);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBytes(1);
                }
            }
        });
    }

    private static byte[] aad(String clientId) {
        return ("mamori-oidc-client:" + clientId).getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> values(List<String> in, String what) {
        List<String> out = new ArrayList<>();
        for (String v : in == null ? List.<String>of() : in) {
            for (String x : v.strip().split("[\\s,]+")) {
                if (x.isEmpty()) {
                    continue;
                }
                if (!VALUE.matcher(x).matches()) {
                    throw invalid(what + " の値に使えない文字があります: " + x.substring(0, Math.min(40, x.length())),
                            "A " + what + " value has characters that cannot be used");
                }
                if (!out.contains(x)) {
                    out.add(x);
                }
            }
        }
        if (out.size() > MAX_VALUES) {
            throw invalid(what + " の値は" + MAX_VALUES + "個までです", "At most " + MAX_VALUES + " " + what + " values");
        }
        return out;
    }

    private static URI httpsUri(String s, String ja, String en) {
        String v = s == null ? "" : s.strip();
        if (v.isEmpty()) {
            throw invalid(ja + "を入力してください", "Enter " + en);
        }
        if (v.length() > 2000) {
            throw invalid(ja + "が長すぎます", en + " is too long");
        }
        URI u;
        try {
            u = new URI(v);
        } catch (URISyntaxException e) {
            throw invalid(ja + "の形式が正しくありません", en + " is not a valid address");
        }
        if (!"https".equalsIgnoreCase(u.getScheme())) {
            throw invalid(ja + "は https:// で始まる必要があります（暗号化されない http は使えません）", en + " must start"
                    + " with https:// (unencrypted http is refused)");
        }
        if (u.getHost() == null || u.getRawUserInfo() != null || u.getRawFragment() != null) {
            throw invalid(ja + "の形式が正しくありません", en + " is not a valid address");
        }
        return u;
    }

    private static FederationRefusal invalid(String ja, String en) {
        return new FederationRefusal(FederationRefusal.Kind.INVALID, ja + " / " + en);
    }

    private OIDCProviderMetadata discover(ProviderClient client, URI discovery) {
        ProviderClient.Answer a;
        try {
            a = client.get(discovery);
        } catch (ProviderClient.Unreachable e) {
            throw invalid("探索URLに接続できません（" + e.getMessage() + "）", "The discovery URL cannot be reached ("
                    + e.getMessage() + ")");
        }
        if (a.status() != 200) {
            throw invalid("探索URLが探索文書を返しません（HTTP " + a.status() + "）", "The discovery URL does not answer"
                    + " with a discovery document (HTTP " + a.status() + ")");
        }
        try {
            return OIDCProviderMetadata.parse(a.body());
        } catch (com.nimbusds.oauth2.sdk.ParseException e) {
            throw invalid("探索URLの応答がOpenID Connectの探索文書ではありません", "The discovery URL's answer is not an"
                    + " OpenID Connect discovery document");
        }
    }

    /** The provider's discovery document for {@code p}, reused for ten minutes; refreshed when older. */
    private OIDCProviderMetadata metadata(Provider p, ProviderClient client) throws ProviderClient.Unreachable {
        return metadata(p, client, false);
    }

    /**
     * @param fresh fetch it now whatever the cache holds: a round trip starts only when the provider answers, so that
     *              a provider that is down is said on Mamori's own page, not by the browser's error at its address
     */
    private OIDCProviderMetadata metadata(Provider p, ProviderClient client, boolean fresh)
            throws ProviderClient.Unreachable {
        Loaded l = loaded;
        if (!fresh && l != null && l.version() == p.version() && l.at().plus(METADATA_TTL).isAfter(now())) {
            return l.metadata();
        }
        ProviderClient.Answer a = client.get(URI.create(p.discoveryUrl()));
        if (a.status() != 200) {
            throw new ProviderClient.Unreachable("discovery answered HTTP " + a.status());
        }
        OIDCProviderMetadata m;
        try {
            m = OIDCProviderMetadata.parse(a.body());
        } catch (com.nimbusds.oauth2.sdk.ParseException e) {
            throw new ProviderClient.Unreachable("discovery document unreadable");
        }
        if (!m.getIssuer().getValue().equals(p.issuer())) {
            throw new ProviderClient.Unreachable("the discovery document names another issuer");
        }
        loaded = new Loaded(p.version(), m, now());
        return m;
    }

    // ---- round trips -----------------------------------------------------------------------------------------

    /** Starts a sign-in through the provider. */
    public Start startLogin(String address) {
        return start("login", null, address);
    }

    /**
     * Starts linking {@code account} (the caller has checked that its session was signed in locally with two factors
     * and is fresh).
     */
    public Start startLink(UUID account, String address) {
        return start("link", account, address);
    }

    /** Round trips one address may start in a minute (each stores a row and asks the provider). */
    public static final int STARTS_PER_MINUTE = 20;
    private final java.util.concurrent.ConcurrentHashMap<String, long[]> starts =
            new java.util.concurrent.ConcurrentHashMap<>();

    private void limit(String address) {
        long minute = clock.millis() / 60_000;
        if (starts.size() > 100_000) {
            starts.clear();
        }
        long[] w = starts.compute(address == null ? "" : address, (k, v) -> v == null || v[0] != minute
                ? new long[]{minute, 1} : new long[]{minute, v[1] + 1});
        if (w[1] > STARTS_PER_MINUTE) {
            logins.event(null, null, address, "login.rate_limited", false, "over " + STARTS_PER_MINUTE
                    + " identity provider sign-ins/min");
            throw new FederationRefusal(FederationRefusal.Kind.PROVIDER_ERROR, Logins.TOO_MANY);
        }
    }

    private Start start(String purpose, UUID account, String address) {
        limit(address);
        Provider p = active().orElseThrow(() -> new FederationRefusal(FederationRefusal.Kind.NOT_CONFIGURED,
                "外部IDプロバイダでのサインインは設定されていません / Sign-in through an identity provider is not set up"));
        OIDCProviderMetadata m;
        try {
            m = metadata(p, new ProviderClient(p.caPem().orElse(null)), true);
        } catch (ProviderClient.Unreachable e) {
            down(e.getMessage());
            if (purpose.equals("login")) {
                logins.event(null, null, address, "login.oidc", false, "provider unreachable: " + e.getMessage());
            }
            throw providerDown();
        }
        up();
        State state = new State();
        Nonce nonce = new Nonce();
        CodeVerifier verifier = new CodeVerifier();
        String browser = random();
        Instant at = now();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM oidc_flow WHERE expires_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(at.minus(Duration.ofDays(1))));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO oidc_flow (state_hash, browser_hash, purpose,"
                    + " account_id, provider_version, nonce, code_verifier, created_at, expires_at) VALUES"
                    + " (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setBytes(1, sha256(state.getValue()));
                ps.setBytes(2, sha256(browser));
                ps.setString(3, purpose);
                ps.setObject(4, account);
                ps.setLong(5, p.version());
                ps.setString(6, nonce.getValue());
                ps.setString(7, verifier.getValue());
                ps.setTimestamp(8, Timestamp.from(at));
                ps.setTimestamp(9, Timestamp.from(at.plus(FLOW_TTL)));
                ps.executeUpdate();
            }
            return null;
        });
        AuthenticationRequest.Builder b = new AuthenticationRequest.Builder(ResponseType.CODE,
                new Scope("openid"), new ClientID(p.clientId()), URI.create(redirectUri))
                .endpointURI(m.getAuthorizationEndpointURI()).state(state).nonce(nonce)
                .codeChallenge(verifier, CodeChallengeMethod.S256)
                // a shared terminal: the person authenticates anew, a session left at the provider does not count
                .prompt(new Prompt(Prompt.Type.LOGIN));
        if (!p.mfaAcr().isEmpty()) {
            b.acrValues(p.mfaAcr().stream().map(ACR::new).toList());
        }
        return new Start(b.build().toURI(), browser);
    }

    private static FederationRefusal providerDown() {
        return new FederationRefusal(FederationRefusal.Kind.PROVIDER_DOWN, "外部IDプロバイダに接続できません。パスワードと"
                + "二要素目（認証アプリ・パスキー）でのサインインは引き続き使えます / The identity provider cannot be reached."
                + " Signing in with your password and second factor (authenticator app or passkey) still works");
    }

    /**
     * Finishes a round trip at the callback. {@code params} are the callback's query parameters ({@code code},
     * {@code state}, {@code error}, {@code iss}); {@code browserBinding} the binding cookie the browser sent, or null.
     * Every refusal is a {@link FederationRefusal} that says why, recorded as an authentication event (sign-in) or an
     * audit entry (linking).
     */
    public Result callback(Map<String, String> params, String browserBinding, String address, String userAgent) {
        String stateValue = params.getOrDefault("state", "");
        if (stateValue.isEmpty() || stateValue.length() > 200) {
            throw refusedLogin(null, address, FederationRefusal.Kind.STATE_UNKNOWN, "state missing",
                    "サインインの要求を確認できません（stateがありません）。もう一度お試しください", "The sign-in cannot be"
                    + " matched to a request (no state); please try again");
        }
        Instant now = now();
        byte[] stateHash = sha256(stateValue);
        // used once: the first callback with this state marks it, any later one finds it used
        Optional<Flow> flow = Tx.inTransaction(ds, c -> {
            Optional<Flow> f = flow(c, stateHash);
            if (f.isPresent() && f.get().usedAt() == null) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE oidc_flow SET used_at = ? WHERE state_hash = ?"
                        + " AND used_at IS NULL")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setBytes(2, stateHash);
                    if (ps.executeUpdate() != 1) {
                        return flow(c, stateHash);
                    }
                }
            }
            return f;
        });
        if (flow.isEmpty()) {
            throw refusedLogin(null, address, FederationRefusal.Kind.STATE_UNKNOWN, "unknown state",
                    "サインインの要求を確認できません（不明なstate）。もう一度お試しください", "The sign-in cannot be matched"
                    + " to a request (unknown state); please try again");
        }
        Flow f = flow.get();
        if (f.usedAt() != null) {
            throw refused(f, address, FederationRefusal.Kind.STATE_REPLAYED, "state replayed",
                    "このサインインの応答は既に使われています（再送は受け付けません）。もう一度お試しください", "This"
                    + " sign-in answer was used already (a replay is refused); please try again");
        }
        if (!f.expiresAt().isAfter(now)) {
            throw refused(f, address, FederationRefusal.Kind.STATE_EXPIRED, "state expired",
                    "サインインの要求の有効期限（10分）が切れました。もう一度お試しください", "The sign-in request expired"
                    + " (10 minutes); please try again");
        }
        if (browserBinding == null || browserBinding.length() > 200
                || !MessageDigest.isEqual(sha256(browserBinding), f.browserHash())) {
            throw refused(f, address, FederationRefusal.Kind.STATE_OTHER_BROWSER, "state of another browser",
                    "このサインインは別のブラウザで始められたものです。このブラウザでもう一度お試しください", "This sign-in"
                    + " was started in another browser; please start it again in this one");
        }
        Provider p = active().filter(x -> x.version() == f.version()).orElseThrow(() -> refused(f, address,
                FederationRefusal.Kind.NOT_CONFIGURED, "provider changed during the round trip",
                "IDプロバイダの設定が途中で変更されました。もう一度お試しください", "The provider's registration changed"
                        + " meanwhile; please try again"));
        String error = params.getOrDefault("error", "");
        if (!error.isEmpty()) {
            String e = error.substring(0, Math.min(60, error.length()));
            if (e.equals("access_denied")) {
                throw refused(f, address, FederationRefusal.Kind.ACCESS_DENIED, "provider error access_denied",
                        "IDプロバイダでサインインが取り消されたか、拒否されました", "The sign-in was cancelled or refused at"
                        + " the identity provider");
            }
            throw refused(f, address, FederationRefusal.Kind.PROVIDER_ERROR, "provider error " + e,
                    "IDプロバイダがエラーを返しました（" + e + "）", "The identity provider answered with an error (" + e
                    + ")");
        }
        String iss = params.get("iss");
        if (iss != null && !iss.equals(p.issuer())) {
            throw refused(f, address, FederationRefusal.Kind.PROVIDER_ERROR, "callback from another issuer",
                    "応答が登録されたIDプロバイダからのものではありません", "The answer is not from the registered provider");
        }
        String code = params.getOrDefault("code", "");
        if (code.isEmpty() || code.length() > 2000) {
            throw refused(f, address, FederationRefusal.Kind.PROVIDER_ERROR, "no code",
                    "IDプロバイダの応答に認可コードがありません", "The provider's answer has no authorization code");
        }
        ProviderClient client = new ProviderClient(p.caPem().orElse(null));
        IDTokenClaimsSet claims;
        try {
            OIDCProviderMetadata m = metadata(p, client);
            com.nimbusds.jwt.JWT idToken = exchange(p, m, client, code, f);
            ProviderClient.Answer keys = client.get(m.getJWKSetURI());
            if (keys.status() != 200) {
                throw new ProviderClient.Unreachable("key set answered HTTP " + keys.status());
            }
            JWKSet jwks;
            try {
                jwks = JWKSet.parse(keys.body());
            } catch (java.text.ParseException e) {
                throw new ProviderClient.Unreachable("key set unreadable");
            }
            up();
            claims = IdTokens.validate(idToken, jwks, p.issuer(), p.clientId(), f.nonce(), f.createdAt(), now());
        } catch (ProviderClient.Unreachable e) {
            down(e.getMessage());
            throw refused(f, address, FederationRefusal.Kind.PROVIDER_DOWN, "provider unreachable: " + e.getMessage(),
                    providerDown().getMessage());
        } catch (FederationRefusal e) {
            throw refused(f, address, e.kind(), e.getMessage(), e.getMessage());
        }
        String subject = claims.getSubject().getValue();
        boolean mfa = mfa(p, claims);
        String how = p.displayName() + " sub=" + cut(subject, 80) + " acr=" + (claims.getACR() == null ? "-"
                : cut(claims.getACR().getValue(), 40)) + " amr=" + (claims.getAMR() == null ? "-"
                : cut(claims.getAMR().toString(), 80)) + (mfa ? " (provider MFA counted)" : " (provider MFA not counted)");
        if (f.purpose().equals("link")) {
            link(f.account(), p.issuer(), subject, address);
            return new Result.Linked(f.account());
        }
        Optional<Link> link = linkOf(p.issuer(), subject);
        if (link.isEmpty()) {
            throw refusedLogin(null, address, FederationRefusal.Kind.UNLINKED, "unlinked subject: " + how,
                    "この外部IDはMamoriのアカウントに連携されていません。パスワードと二要素目でサインインし、アカウントの画面で"
                            + "連携してください", "This identity is not linked to a Mamori account. Sign in with your"
                            + " password and second factor, then link it on your account page");
        }
        try {
            return new Result.SignedIn(logins.federated(link.get().accountId(), mfa, how, address, userAgent), mfa);
        } catch (IdentityException e) {
            throw new FederationRefusal(FederationRefusal.Kind.ACCOUNT, e.getMessage());
        }
    }

    /** Whether the validated claims meet the registered rule: acr one of the values, or amr containing one. */
    static boolean mfa(Provider p, IDTokenClaimsSet claims) {
        if (claims.getACR() != null && p.mfaAcr().contains(claims.getACR().getValue())) {
            return true;
        }
        if (claims.getAMR() != null) {
            for (com.nimbusds.openid.connect.sdk.claims.AMR a : claims.getAMR()) {
                if (p.mfaAmr().contains(a.getValue())) {
                    return true;
                }
            }
        }
        return false;
    }

    private com.nimbusds.jwt.JWT exchange(Provider p, OIDCProviderMetadata m, ProviderClient client, String code,
                                          Flow f) throws ProviderClient.Unreachable {
        ClientAuthentication auth;
        byte[] secret = sealer.open(sealedOf(p.version()), aad(p.clientId()));
        try {
            if (p.clientAuth() == ClientAuth.CLIENT_SECRET_BASIC) {
                auth = new ClientSecretBasic(new ClientID(p.clientId()), new Secret(new String(secret,
                        StandardCharsets.UTF_8)));
            } else {
                ECKey key = ECKey.parse(new String(secret, StandardCharsets.UTF_8));
                auth = new PrivateKeyJWT(new JWTAuthenticationClaimsSet(new ClientID(p.clientId()),
                        new Audience(p.issuer())), JWSAlgorithm.ES256, key.toECPrivateKey(), key.getKeyID(), null);
            }
        } catch (JOSEException | java.text.ParseException e) {
            throw new IllegalStateException("the sealed client credential cannot be used: " + e.getMessage(), e);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        TokenRequest request = new TokenRequest(m.getTokenEndpointURI(), auth, new AuthorizationCodeGrant(
                new AuthorizationCode(code), URI.create(redirectUri), new CodeVerifier(f.verifier())));
        HTTPRequest h = request.toHTTPRequest();
        ProviderClient.Answer a = client.post(h.getURI(), h.getHeaderMap(), h.getBody());
        if (a.status() >= 500) {
            throw new ProviderClient.Unreachable("token endpoint answered HTTP " + a.status());
        }
        HTTPResponse response = new HTTPResponse(a.status());
        if (!a.contentType().isEmpty()) {
            response.setHeader("Content-Type", a.contentType());
        }
        response.setBody(a.body());
        TokenResponse t;
        try {
            t = OIDCTokenResponseParser.parse(response);
        } catch (com.nimbusds.oauth2.sdk.ParseException e) {
            throw new FederationRefusal(FederationRefusal.Kind.PROVIDER_ERROR, "IDプロバイダのトークン応答を読めません"
                    + " / The provider's token answer cannot be read");
        }
        if (!t.indicatesSuccess()) {
            TokenErrorResponse err = t.toErrorResponse();
            String e = err.getErrorObject() == null || err.getErrorObject().getCode() == null ? "HTTP " + a.status()
                    : cut(err.getErrorObject().getCode(), 60);
            throw new FederationRefusal(FederationRefusal.Kind.PROVIDER_ERROR, "IDプロバイダが認可コードを受け付けません"
                    + "（" + e + "）/ The provider refused the authorization code (" + e + ")");
        }
        if (!(t.toSuccessResponse() instanceof OIDCTokenResponse oidc) || oidc.getOIDCTokens().getIDToken() == null) {
            throw new FederationRefusal(FederationRefusal.Kind.PROVIDER_ERROR, "IDプロバイダの応答にIDトークンがありません"
                    + " / The provider's answer has no ID token");
        }
        return oidc.getOIDCTokens().getIDToken();
    }

    private static Optional<Flow> flow(Connection c, byte[] stateHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT purpose, account_id, provider_version, nonce,"
                + " code_verifier, browser_hash, created_at, expires_at, used_at FROM oidc_flow WHERE state_hash = ?"
                + " FOR UPDATE")) {
            ps.setBytes(1, stateHash);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Timestamp used = rs.getTimestamp(9);
                return Optional.of(new Flow(rs.getString(1), rs.getObject(2, UUID.class), rs.getLong(3),
                        rs.getString(4), rs.getString(5), rs.getBytes(6), rs.getTimestamp(7).toInstant(),
                        rs.getTimestamp(8).toInstant(), used == null ? null : used.toInstant()));
            }
        }
    }

    /** A refusal of a round trip: an authentication event for a sign-in, an audit entry for a linking. */
    private FederationRefusal refused(Flow f, String address, FederationRefusal.Kind kind, String detail, String ja,
                                      String en) {
        return refused(f, address, kind, detail, ja + " / " + en);
    }

    private FederationRefusal refused(Flow f, String address, FederationRefusal.Kind kind, String detail,
                                      String message) {
        if (f.purpose().equals("link")) {
            Optional<Account> a = accounts.find(f.account());
            audit.append(AuditEvent.by(actor(a, f.account(), address), AuditAction.FEDERATION_REFUSED)
                    .outcome(Outcome.REFUSED).detail("why", cut(detail, 300)).detail("kind", kind.name()).build());
            return new FederationRefusal(kind, message);
        }
        return refusedLogin(null, address, kind, detail, message);
    }

    private FederationRefusal refusedLogin(UUID account, String address, FederationRefusal.Kind kind, String detail,
                                           String ja, String en) {
        return refusedLogin(account, address, kind, detail, ja + " / " + en);
    }

    private FederationRefusal refusedLogin(UUID account, String address, FederationRefusal.Kind kind, String detail,
                                           String message) {
        logins.event(account, null, address, "login.oidc", false, cut(detail, 480));
        return new FederationRefusal(kind, message);
    }

    private static Actor actor(Optional<Account> a, UUID id, String address) {
        return a.map(x -> Actor.person(x.principal(), x.displayName(), List.copyOf(x.roles()), null, address, null))
                .orElseGet(() -> Actor.person("account-id:" + id, null, List.of(), null, address, null));
    }

    // ---- links -----------------------------------------------------------------------------------------------

    private static final long LINK_LOCK = 0x6d616d6f_6f696463L; // "mamooidc"

    private void link(UUID accountId, String issuer, String subject, String address) {
        Account a = accounts.find(accountId).orElseThrow();
        Actor by = actor(Optional.of(a), accountId, address);
        if (a.status() != Account.Status.ACTIVE || a.type() == Account.Type.EMERGENCY) {
            audit.append(AuditEvent.by(by, AuditAction.FEDERATION_REFUSED).outcome(Outcome.REFUSED)
                    .detail("why", "account " + a.status().code + " / " + a.type().code).build());
            throw new FederationRefusal(FederationRefusal.Kind.ACCOUNT, "このアカウントは外部IDと連携できません / This"
                    + " account cannot be linked to an identity provider");
        }
        Instant at = now();
        String refusal = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
                ps.setLong(1, LINK_LOCK);
                ps.execute();
            }
            Optional<Link> bySubject = linkOf(c, issuer, subject);
            if (bySubject.isPresent()) {
                return bySubject.get().accountId().equals(accountId) ? "same" : "other";
            }
            if (!linksOf(c, accountId).stream().filter(l -> l.issuer().equals(issuer)).toList().isEmpty()) {
                return "account";
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO oidc_link (account_id, issuer, subject, by_who,"
                    + " at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setObject(1, accountId);
                ps.setString(2, issuer);
                ps.setString(3, subject);
                ps.setString(4, by.name(200));
                ps.setTimestamp(5, Timestamp.from(at));
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.FEDERATION_LINK).detail("account", a.loginId())
                    .detail("issuer", issuer).detail("subject", subject).build());
            return null;
        });
        audit.drainSoon();
        if (refusal != null) {
            audit.append(AuditEvent.by(by, AuditAction.FEDERATION_REFUSED).outcome(Outcome.REFUSED)
                    .detail("why", "subject " + cut(subject, 80) + (refusal.equals("other")
                            ? " linked to another account" : refusal.equals("same") ? " linked already"
                            : ": the account is linked to another subject")).build());
            throw new FederationRefusal(FederationRefusal.Kind.ALREADY_LINKED, switch (refusal) {
                case "other" -> "この外部IDは別のアカウントに連携されています。連携できません / This identity is linked to"
                        + " another account and cannot be linked";
                case "same" -> "この外部IDは既にあなたのアカウントに連携されています / This identity is linked to your"
                        + " account already";
                default -> "あなたのアカウントは既に別の外部IDと連携されています。先に解除してください / Your account is"
                        + " linked to another identity already; remove that link first";
            });
        }
        accounts.note(accountId, a.principal(), "federation.linked", Map.of("issuer", issuer, "subject",
                cut(subject, 80)));
    }

    /** The link in force for this subject, if any. */
    public Optional<Link> linkOf(String issuer, String subject) {
        return Tx.read(ds, c -> linkOf(c, issuer, subject));
    }

    private static Optional<Link> linkOf(Connection c, String issuer, String subject) throws SQLException {
        List<Link> l = links(c, " AND l.issuer = ? AND l.subject = ?", issuer, subject);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** The links in force of one account. */
    public List<Link> linksOf(UUID account) {
        return named(Tx.read(ds, c -> linksOf(c, account)));
    }

    private static List<Link> linksOf(Connection c, UUID account) throws SQLException {
        return links(c, " AND l.account_id = ?", account);
    }

    /** Every link in force, newest first (at most 2000). */
    public List<Link> links() {
        return named(Tx.read(ds, c -> links(c, "")));
    }

    private static List<Link> links(Connection c, String where, Object... args) throws SQLException {
        List<Link> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT l.seq, l.account_id, l.issuer, l.subject, l.by_who, l.at"
                + " FROM oidc_link l WHERE NOT EXISTS (SELECT 1 FROM oidc_link_removal r WHERE r.link_seq = l.seq)"
                + where + " ORDER BY l.seq DESC LIMIT 2000")) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Link(rs.getLong(1), rs.getObject(2, UUID.class), null, null, rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getTimestamp(6).toInstant()));
                }
            }
        }
        return out;
    }

    /** The links with their people's login ids and names, asked of identity (its tables are its own). */
    private List<Link> named(List<Link> links) {
        Map<UUID, Optional<Account>> seen = new java.util.HashMap<>();
        return links.stream().map(l -> {
            Optional<Account> a = seen.computeIfAbsent(l.accountId(), accounts::find);
            return new Link(l.seq(), l.accountId(), a.map(Account::loginId).orElse(""), a.map(Account::displayName)
                    .orElse(""), l.issuer(), l.subject(), l.by(), l.at());
        }).toList();
    }

    /**
     * Removes a link in force (audited, and a line in the account's history). {@code owner}: the account that must
     * hold the link (a person removing their own), or empty for an administrator.
     */
    public void removeLink(long seq, Optional<UUID> owner, Actor by, String reason) {
        String why = reason == null || reason.isBlank() ? "" : reason.strip();
        if (why.isEmpty() || why.length() > 500) {
            throw invalid("解除の理由を500文字以内で入力してください", "Enter why the link is removed (at most 500"
                    + " characters)");
        }
        Instant at = now();
        Link l = Tx.inTransaction(ds, c -> {
            Optional<Link> found = named(links(c, " AND l.seq = ?", seq)).stream().findFirst()
                    .filter(x -> owner.isEmpty() || owner.get().equals(x.accountId()));
            if (found.isEmpty()) {
                return null;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO oidc_link_removal (link_seq, by_who, reason, at)"
                    + " VALUES (?, ?, ?, ?)")) {
                ps.setLong(1, seq);
                ps.setString(2, by.name(200));
                ps.setString(3, why);
                ps.setTimestamp(4, Timestamp.from(at));
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.FEDERATION_UNLINK).detail("account", found.get().loginId())
                    .detail("issuer", found.get().issuer()).detail("subject", found.get().subject())
                    .detail("reason", cut(why, 300)).build());
            return found.get();
        });
        if (l == null) {
            throw new FederationRefusal(FederationRefusal.Kind.INVALID, "この連携は見つかりません（既に解除されています）"
                    + " / This link is not found (removed already)");
        }
        audit.drainSoon();
        accounts.note(l.accountId(), by.principal(), "federation.unlinked", Map.of("issuer", l.issuer(), "subject",
                cut(l.subject(), 80), "reason", cut(why, 200)));
    }

    // ---- small things ----------------------------------------------------------------------------------------

    private static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String cut(String s, int max) {
        return s == null ? "" : s.length() > max ? s.substring(0, max) : s;
    }

    /** A short summary of the registration for the start log line; never the secret. */
    public static Map<String, String> describe(Provider p) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("issuer", p.issuer());
        m.put("client_id", p.clientId());
        m.put("client_auth", p.clientAuth().code);
        m.put("mfa_acr", String.join(" ", p.mfaAcr()));
        m.put("mfa_amr", String.join(" ", p.mfaAmr()));
        return m;
    }
}
