package jp.mamori.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * A client's JWT assertion for {@code private_key_jwt} authentication (RFC 7523, RFC 7521 §4.2): signed with
 * an asymmetric key of the client's registered JWK set, issuer and subject the client id, audience the token
 * endpoint, at most {@link #MAX_LIFETIME} ahead, and a {@code jti} the caller must not have seen before (the
 * caller, {@link TokenEndpoint}, stores it until the assertion expires).
 *
 * <p>Only the algorithms in {@link #ALLOWED} are accepted. {@code none} and the HMAC family are refused by
 * name: an HMAC key would be a secret shared with the server, which private_key_jwt exists to avoid, and
 * verifying HMAC against a public key is the classic algorithm-confusion attack.
 */
final class ClientAssertion {
    static final Set<JWSAlgorithm> ALLOWED = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.RS256,
            JWSAlgorithm.PS256, JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);
    static final Duration MAX_LIFETIME = Duration.ofMinutes(5);
    static final Duration SKEW = Duration.ofSeconds(60);
    static final int MAX_LENGTH = 8 * 1024;
    private static final int MAX_KEYS = 10;
    /** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows. */
    private static final byte[] ED25519_SPKI = HexFormat.of().parseHex("302a300506032b6570032100");

    /** Why an assertion was refused. The message is plain ASCII, as RFC 6749 requires of error_description. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** The claims the token endpoint acts on, after every check has passed. */
    record Accepted(String jti, Instant expiresAt) {
    }

    private ClientAssertion() {
    }

    /**
     * Parses a JWK set (or a single JWK) for registration and refuses what an assertion could not safely be
     * verified with. See {@link #checkedKeys(JWKSet)}.
     */
    static JWKSet parseKeys(String json) {
        try {
            String t = json.strip();
            JWKSet set = t.contains("\"keys\"") ? JWKSet.parse(t) : new JWKSet(JWK.parse(t));
            return checkedKeys(set);
        } catch (ParseException e) {
            throw new IllegalArgumentException("the JWK set does not parse: " + e.getMessage());
        }
    }

    /**
     * Accepts 1 to {@value #MAX_KEYS} public signing keys: EC P-256 or P-384, RSA of at least 2048 bits, or
     * Ed25519. Refuses private keys (the server must never hold a client's private key), symmetric keys and
     * keys marked for encryption. Returns the set reduced to its public parts.
     */
    static JWKSet checkedKeys(JWKSet set) {
        List<JWK> keys = set.getKeys();
        if (keys.isEmpty() || keys.size() > MAX_KEYS) {
            throw new IllegalArgumentException("the JWK set must hold 1 to " + MAX_KEYS + " keys");
        }
        List<JWK> out = new ArrayList<>();
        for (JWK k : keys) {
            String id = k.getKeyID() == null ? "a key" : "key '" + k.getKeyID() + "'";
            if (k.isPrivate()) {
                throw new IllegalArgumentException("the JWK set holds a private key (" + id
                        + "); register only the public keys");
            }
            if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) {
                throw new IllegalArgumentException(id + " is not for signatures (use=" + k.getKeyUse() + ")");
            }
            boolean fit = switch (k) {
                case ECKey ec -> Curve.P_256.equals(ec.getCurve()) || Curve.P_384.equals(ec.getCurve());
                case RSAKey rsa -> rsa.size() >= 2048;
                case OctetKeyPair okp -> Curve.Ed25519.equals(okp.getCurve());
                default -> false;
            };
            if (!fit) {
                throw new IllegalArgumentException(id + " is not allowed: use EC P-256/P-384, RSA of 2048 bits"
                        + " or more, or Ed25519 (symmetric keys are refused)");
            }
            out.add(k.toPublicJWK());
        }
        return new JWKSet(out);
    }

    /**
     * Parses the assertion and returns the client it claims to come from, before anything is verified:
     * issuer and subject must both be present and the same.
     */
    static SignedJWT parse(String assertion) throws Refused {
        return parse(assertion, ALLOWED);
    }

    /** As {@link #parse(String)}, accepting only the algorithms in {@code allowed} (asymmetric ones). */
    static SignedJWT parse(String assertion, Set<JWSAlgorithm> allowed) throws Refused {
        if (assertion == null || assertion.isEmpty() || assertion.length() > MAX_LENGTH) {
            throw new Refused("client_assertion is missing or longer than " + MAX_LENGTH + " characters");
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(assertion);
        } catch (ParseException e) {
            throw new Refused("client_assertion is not a JWT");
        }
        if (jwt instanceof PlainJWT) {
            throw new Refused("unsigned client assertions (alg none) are refused");
        }
        if (!(jwt instanceof SignedJWT signed)) {
            throw new Refused("client_assertion must be a signed JWT (JWS), not an encrypted one");
        }
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
            throw new Refused("HMAC-signed client assertions are refused; sign with the client's private key");
        }
        if (!allowed.contains(alg)) {
            throw new Refused("client assertion algorithm " + alg + " is not allowed; use " + String.join(", ",
                    allowed.stream().map(JWSAlgorithm::getName).sorted().toList()));
        }
        if (signed.getHeader().getCriticalParams() != null && !signed.getHeader().getCriticalParams().isEmpty()) {
            throw new Refused("client assertions with critical header parameters are refused");
        }
        return signed;
    }

    /** The client id the assertion claims: issuer and subject, which must be present and equal. */
    static String claimedClient(SignedJWT jwt) throws Refused {
        JWTClaimsSet c = claims(jwt);
        if (c.getIssuer() == null || !c.getIssuer().equals(c.getSubject())) {
            throw new Refused("iss and sub of the client assertion must both be the client_id");
        }
        return c.getIssuer();
    }

    /** Checks the signature against every fitting key of {@code keys}; one must verify it. */
    static void verifySignature(SignedJWT jwt, JWKSet keys) throws Refused {
        JWSHeader h = jwt.getHeader();
        for (JWK k : keys.getKeys()) {
            if (h.getKeyID() != null && !h.getKeyID().equals(k.getKeyID())) {
                continue;
            }
            if (k.getAlgorithm() != null && !k.getAlgorithm().equals(h.getAlgorithm())) {
                continue;
            }
            if (verifies(jwt, k)) {
                return;
            }
        }
        throw new Refused("client assertion signature does not verify with the registered keys");
    }

    private static boolean verifies(SignedJWT jwt, JWK key) {
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        try {
            if (key instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(alg)) {
                return jwt.verify(new ECDSAVerifier(ec)); // refuses a curve that does not match the algorithm
            }
            if (key instanceof RSAKey rsa && JWSAlgorithm.Family.RSA.contains(alg)) {
                return jwt.verify(new RSASSAVerifier(rsa));
            }
            if (key instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())
                    && (alg.equals(JWSAlgorithm.EdDSA) || alg.equals(JWSAlgorithm.Ed25519))) {
                return ed25519(okp, jwt);
            }
            return false;
        } catch (JOSEException | GeneralSecurityException | IllegalStateException e) {
            return false;
        }
    }

    /** Ed25519 through the JDK, which has it built in (Nimbus would need Google Tink for this). */
    private static boolean ed25519(OctetKeyPair key, SignedJWT jwt) throws GeneralSecurityException {
        byte[] x = key.getDecodedX();
        if (x.length != 32) {
            return false;
        }
        byte[] spki = new byte[ED25519_SPKI.length + 32];
        System.arraycopy(ED25519_SPKI, 0, spki, 0, ED25519_SPKI.length);
        System.arraycopy(x, 0, spki, ED25519_SPKI.length, 32);
        PublicKey pub = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        Signature s = Signature.getInstance("Ed25519");
        s.initVerify(pub);
        s.update(jwt.getSigningInput());
        return s.verify(jwt.getSignature().decode());
    }

    /**
     * Checks the claims of an assertion whose signature has verified: audience, expiry (present, not past,
     * at most {@link #MAX_LIFETIME} ahead), not-before and issued-at (not in the future), and jti (present).
     * Each allows {@link #SKEW} of clock difference.
     */
    static Accepted checkClaims(SignedJWT jwt, String audience, Instant now) throws Refused {
        JWTClaimsSet c = claims(jwt);
        if (c.getAudience() == null || !c.getAudience().contains(audience)) {
            throw new Refused("aud of the client assertion must be the token endpoint " + audience);
        }
        Date exp = c.getExpirationTime();
        if (exp == null) {
            throw new Refused("the client assertion has no exp");
        }
        if (!exp.toInstant().isAfter(now.minus(SKEW))) {
            throw new Refused("the client assertion has expired");
        }
        if (exp.toInstant().isAfter(now.plus(MAX_LIFETIME).plus(SKEW))) {
            throw new Refused("exp of the client assertion is more than " + MAX_LIFETIME.toMinutes()
                    + " minutes ahead");
        }
        if (c.getNotBeforeTime() != null && c.getNotBeforeTime().toInstant().isAfter(now.plus(SKEW))) {
            throw new Refused("nbf of the client assertion is in the future");
        }
        if (c.getIssueTime() != null && c.getIssueTime().toInstant().isAfter(now.plus(SKEW))) {
            throw new Refused("iat of the client assertion is in the future");
        }
        String jti = c.getJWTID();
        if (jti == null || jti.isEmpty() || jti.length() > 200) {
            throw new Refused("the client assertion needs a jti of 1 to 200 characters");
        }
        return new Accepted(jti, exp.toInstant());
    }

    private static JWTClaimsSet claims(SignedJWT jwt) throws Refused {
        try {
            return jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new Refused("the claims of the client assertion do not parse");
        }
    }
}
