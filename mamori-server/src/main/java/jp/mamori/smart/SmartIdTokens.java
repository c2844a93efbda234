package jp.mamori.smart;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import jp.mamori.identity.SecretSealer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * The keys Mamori signs OpenID Connect ID tokens with (SMART {@code openid fhirUser}), and the signing itself.
 *
 * <p>RS256 with 2048-bit RSA keys: OpenID Connect Discovery requires RS256 among the ID token algorithms, and every
 * SMART client library verifies it. The private key is made on first need and kept only sealed with identity's key
 * file ({@link SecretSealer}, AES-GCM bound to the key id), as federation keeps its {@code private_key_jwt} key; the
 * public key is published in the JWKS. <b>Rotation</b> (every {@link #ROTATE_AFTER}, on the first signing after, or
 * {@link #rotate} at once): the current key is retired and a new one made; a retired key stays in the JWKS for {@link #RETIRED_PUBLISHED} (far longer than an ID token lives) so that a
 * token signed just before stays verifiable, and every token names its key by {@code kid}.
 */
final class SmartIdTokens {
    private static final Logger log = LoggerFactory.getLogger(SmartIdTokens.class);
    static final Duration LIFETIME = Duration.ofMinutes(5);
    static final Duration RETIRED_PUBLISHED = Duration.ofDays(1);
    /** A key signs for this long, then the next signing retires it and makes a new one. */
    static final Duration ROTATE_AFTER = Duration.ofDays(90);

    private record Current(String kid, RSAKey key) {
    }

    private final DataSource ds;
    private final SecretSealer sealer;
    private final Clock clock;
    private volatile Current current;

    SmartIdTokens(DataSource ds, SecretSealer sealer, Clock clock) {
        this.ds = ds;
        this.sealer = sealer;
        this.clock = clock;
    }

    /** A signed ID token (OIDC Core §2) for these claims, by the current key; {@code fhirUser} and {@code nonce} may be null. */
    String sign(String issuer, String subject, String audience, String nonce, String fhirUser, Instant now) {
        Current k = current();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuer).subject(subject).audience(audience)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(LIFETIME)));
        if (fhirUser != null) {
            claims.claim("fhirUser", fhirUser);
        }
        if (nonce != null) {
            claims.claim("nonce", nonce);
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(k.kid())
                .type(JOSEObjectType.JWT).build(), claims.build());
        try {
            jwt.sign(new RSASSASigner(k.key()));
        } catch (JOSEException e) {
            throw new IllegalStateException("the ID token could not be signed: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /** The public keys an app verifies ID tokens with: the current one and those retired within a day. */
    String jwks() {
        current(); // a key exists before anyone verifies with it
        List<JWK> keys = Tx.read(ds, c -> {
            List<JWK> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT public_jwk FROM smart_signing_key WHERE retired_at"
                    + " IS NULL OR retired_at > ? ORDER BY created_at DESC")) {
                ps.setObject(1, clock.instant().minus(RETIRED_PUBLISHED).atOffset(ZoneOffset.UTC));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        try {
                            out.add(JWK.parse(rs.getString(1)).toPublicJWK());
                        } catch (java.text.ParseException e) {
                            log.warn("a SMART signing key's public JWK cannot be read: {}", e.getMessage());
                        }
                    }
                }
            }
            return out;
        });
        return new JWKSet(keys).toString(true);
    }

    /** Retires the current key and makes a new one; returns the new key's id. */
    String rotate() {
        return rotate(null);
    }

    /**
     * Retires {@code old} (any current key when null) and makes a new key; when another process rotated {@code old}
     * first, its new key is kept. Returns the current key's id.
     */
    private String rotate(String old) {
        String kid = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE smart_signing_key SET retired_at = ? WHERE"
                    + " retired_at IS NULL AND (?::text IS NULL OR kid = ?)")) {
                ps.setObject(1, clock.instant().atOffset(ZoneOffset.UTC));
                ps.setString(2, old);
                ps.setString(3, old);
                if (ps.executeUpdate() == 0 && old != null) {
                    return null;
                }
            }
            return make(c);
        });
        current = null;
        if (kid == null) {
            return Tx.read(ds, SmartIdTokens::currentKid);
        }
        log.info("SMART ID token signing key rotated: {} is current", kid);
        return kid;
    }

    /** The current key, opened from its sealed form; made when there is none, and rotated when it is old. */
    private Current current() {
        String kid = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT kid, created_at FROM smart_signing_key WHERE"
                    + " retired_at IS NULL"); ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                boolean old = rs.getObject(2, java.time.OffsetDateTime.class).toInstant()
                        .isBefore(clock.instant().minus(ROTATE_AFTER));
                return old ? "old:" + rs.getString(1) : rs.getString(1);
            }
        });
        if (kid != null && kid.startsWith("old:")) {
            kid = rotate(kid.substring(4));
        }
        Current k = current;
        if (k != null && k.kid().equals(kid)) {
            return k;
        }
        if (kid == null) {
            try {
                kid = Tx.inTransaction(ds, this::make);
                log.info("SMART ID token signing key {} made", kid);
            } catch (RuntimeException e) {
                kid = Tx.read(ds, SmartIdTokens::currentKid); // another process made it at the same moment
                if (kid == null) {
                    throw e;
                }
            }
        }
        String id = kid;
        byte[] sealed = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT sealed_private FROM smart_signing_key WHERE kid = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBytes(1);
                }
            }
        });
        try {
            RSAKey key = RSAKey.parse(new String(sealer.open(sealed, aad(id)), StandardCharsets.UTF_8));
            k = new Current(id, key);
        } catch (java.text.ParseException e) {
            throw new IllegalStateException("the sealed SMART signing key cannot be read", e);
        }
        current = k;
        return k;
    }

    private static String currentKid(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT kid FROM smart_signing_key WHERE retired_at IS NULL");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private String make(Connection c) throws SQLException {
        String kid = "mamori-" + Secrets.random256().substring(0, 22);
        RSAKey key;
        try {
            key = new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256)
                    .generate();
        } catch (JOSEException e) {
            throw new IllegalStateException("an RSA key could not be made", e);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO smart_signing_key (kid, alg, public_jwk,"
                + " sealed_private, created_at) VALUES (?, 'RS256', ?, ?, ?)")) {
            ps.setString(1, kid);
            ps.setString(2, key.toPublicJWK().toJSONString());
            ps.setBytes(3, sealer.seal(key.toJSONString().getBytes(StandardCharsets.UTF_8), aad(kid)));
            ps.setObject(4, clock.instant().atOffset(ZoneOffset.UTC));
            ps.executeUpdate();
        }
        return kid;
    }

    private static byte[] aad(String kid) {
        return ("smart-id-token-key:" + kid).getBytes(StandardCharsets.UTF_8);
    }

    /** The OpenID Provider configuration (OIDC Discovery §3) at the FHIR base, which is the ID tokens' issuer. */
    static Map<String, Object> discovery(String origin, String issuer) {
        Map<String, Object> c = new java.util.LinkedHashMap<>();
        c.put("issuer", issuer);
        c.put("authorization_endpoint", origin + Smart.AUTHORIZE_PATH);
        c.put("token_endpoint", origin + jp.mamori.identity.TokenEndpoint.PATH);
        c.put("jwks_uri", origin + Smart.JWKS_PATH);
        c.put("response_types_supported", List.of("code"));
        c.put("subject_types_supported", List.of("public"));
        c.put("id_token_signing_alg_values_supported", List.of("RS256"));
        c.put("scopes_supported", List.of("openid", "fhirUser"));
        c.put("claims_supported", List.of("iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"));
        c.put("code_challenge_methods_supported", List.of("S256"));
        c.put("grant_types_supported", List.of("authorization_code", "refresh_token"));
        return c;
    }
}
