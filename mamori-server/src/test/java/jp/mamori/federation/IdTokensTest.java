package jp.mamori.federation;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ID token's checks (issue 21; AUTH-1), with tokens really signed by a provider's keys (RSA and EC) and by keys it
 * does not have: a foreign issuer, another audience, an expired token, one issued in the future or long ago, a nonce of
 * another round trip, a bad signature, an unsigned token, a token MACed with a guessable secret, an authentication
 * older than the round trip. Keycloak in {@code FederationKeycloakTest} never sends such tokens, so they are made here.
 */
class IdTokensTest {
    static final String ISSUER = "https://idp.hospital.example.jp/realms/hospital";
    static final String CLIENT = "mamori";
    static final String NONCE = "n-0S6_WzA2Mj-this-round-trip-nonce-value";
    static final RSAKey RSA = key();
    static final ECKey EC;
    static final RSAKey STRANGER = key();

    static {
        try {
            EC = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static RSAKey key() {
        try {
            return new RSAKeyGenerator(2048).keyID("rsa-" + System.nanoTime()).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    final Instant now = Instant.now();
    final Instant started = now.minusSeconds(30);
    final JWKSet keys = new JWKSet(List.of(RSA.toPublicJWK(), EC.toPublicJWK()));

    JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().issuer(ISSUER).subject("f:3b1c:sato").audience(CLIENT)
                .expirationTime(Date.from(now.plusSeconds(300))).issueTime(Date.from(now.minusSeconds(5)))
                .claim("nonce", NONCE).claim("auth_time", now.minusSeconds(10).getEpochSecond())
                .claim("amr", List.of("pwd", "otp"));
    }

    SignedJWT rsa(Consumer<JWTClaimsSet.Builder> change, RSAKey with) throws Exception {
        JWTClaimsSet.Builder b = claims();
        change.accept(b);
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(RSA.getKeyID()).build(), b.build());
        jwt.sign(new RSASSASigner(with));
        return jwt;
    }

    IDTokenClaimsSet validate(com.nimbusds.jwt.JWT jwt) {
        return IdTokens.validate(jwt, keys, ISSUER, CLIENT, NONCE, started, now);
    }

    String refusal(com.nimbusds.jwt.JWT jwt) {
        FederationRefusal e = assertThrows(FederationRefusal.class, () -> validate(jwt));
        assertEquals(FederationRefusal.Kind.TOKEN_INVALID, e.kind());
        return e.getMessage();
    }

    @Test
    void aTokenOfTheProviderForThisRoundTripIsAccepted() throws Exception {
        IDTokenClaimsSet c = validate(rsa(b -> { }, RSA));
        assertEquals("f:3b1c:sato", c.getSubject().getValue());
        SignedJWT ec = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(), claims().build());
        ec.sign(new ECDSASigner(EC));
        assertEquals("f:3b1c:sato", validate(ec).getSubject().getValue());
    }

    @Test
    void eachFailedCheckIsRefusedAndSaysWhich() throws Exception {
        assertTrue(refusal(rsa(b -> b.issuer("https://evil.example.com/realms/hospital"), RSA)).contains("発行者"));
        assertTrue(refusal(rsa(b -> b.audience("another-client"), RSA)).contains("Mamori宛て"));
        assertTrue(refusal(rsa(b -> b.expirationTime(Date.from(now.minusSeconds(120))), RSA)).contains("有効期限"));
        assertTrue(refusal(rsa(b -> b.issueTime(Date.from(now.plusSeconds(600))), RSA)).contains("発行時刻"));
        assertTrue(refusal(rsa(b -> b.issueTime(Date.from(now.minus(Duration.ofMinutes(30)))), RSA))
                .contains("古すぎます"));
        assertTrue(refusal(rsa(b -> b.claim("nonce", "a-nonce-of-another-round-trip-000000"), RSA)).contains("nonce"));
        assertTrue(refusal(rsa(b -> b.claim("nonce", null), RSA)).contains("nonce"));
        assertTrue(refusal(rsa(b -> { }, STRANGER)).contains("署名"), "signed by a key the provider does not have");
        assertTrue(refusal(rsa(b -> b.claim("auth_time", now.minus(Duration.ofHours(2)).getEpochSecond()), RSA))
                .contains("新たに認証されていません"));
    }

    @Test
    void unsignedAndSymmetricTokensAreRefused() throws Exception {
        assertTrue(refusal(new PlainJWT(claims().build())).contains("署名のない"));
        SignedJWT hs = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims().build());
        hs.sign(new MACSigner("a-client-secret-anyone-could-know-0123456789".getBytes()));
        assertTrue(refusal(hs).contains("HS256"));
    }

    @Test
    void theProvidersMfaCountsOnlyAsRegistered() throws Exception {
        Federation.Provider amrOtp = provider(List.of(), List.of("otp", "hwk"));
        Federation.Provider acrGold = provider(List.of("gold"), List.of());
        Federation.Provider never = provider(List.of(), List.of());
        IDTokenClaimsSet otp = validate(rsa(b -> { }, RSA));
        IDTokenClaimsSet pwd = validate(rsa(b -> b.claim("amr", List.of("pwd")), RSA));
        IDTokenClaimsSet gold = validate(rsa(b -> b.claim("acr", "gold").claim("amr", null), RSA));
        assertTrue(Federation.mfa(amrOtp, otp));
        assertFalse(Federation.mfa(amrOtp, pwd));
        assertFalse(Federation.mfa(amrOtp, gold));
        assertTrue(Federation.mfa(acrGold, gold));
        assertFalse(Federation.mfa(acrGold, otp));
        assertFalse(Federation.mfa(never, otp));
        assertFalse(Federation.mfa(never, gold));
    }

    static Federation.Provider provider(List<String> acr, List<String> amr) {
        return new Federation.Provider(1, true, "病院ID", ISSUER + "/.well-known/openid-configuration", ISSUER,
                Optional.empty(), CLIENT, Federation.ClientAuth.CLIENT_SECRET_BASIC, Optional.empty(), acr, amr,
                "test", Instant.now());
    }
}
