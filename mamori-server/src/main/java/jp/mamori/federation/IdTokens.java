package jp.mamori.federation;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * The checks of an ID token (issue 21; AUTH-1), by Nimbus's {@link IDTokenValidator}: a signature by one of the
 * provider's keys in an allowed algorithm (asymmetric only: never {@code none}, never a MAC with the client secret),
 * the issuer, this client in the audience, not expired, issued neither in the future nor long ago, and the nonce of
 * this round trip. When the provider says when the person authenticated, it must be after the round trip began
 * ({@code prompt=login}: a session left at the provider on a shared terminal does not sign the next person in).
 * A refusal says which check failed.
 */
final class IdTokens {
    /** The signature algorithms accepted. */
    static final Set<JWSAlgorithm> ALLOWED = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384,
            JWSAlgorithm.ES512);
    /** The clock difference allowed between Mamori and the provider. */
    static final Duration SKEW = Duration.ofSeconds(60);
    /** An ID token issued longer ago than this is not accepted (it comes straight from the token endpoint). */
    static final Duration MAX_AGE = Duration.ofMinutes(10);

    private IdTokens() {
    }

    /** The validated claims of {@code jwt}, or a {@link FederationRefusal} of kind TOKEN_INVALID that says why. */
    static IDTokenClaimsSet validate(JWT jwt, JWKSet keys, String issuer, String clientId, String nonce,
                                     Instant flowStarted, Instant now) {
        if (!(jwt instanceof SignedJWT signed)) {
            throw refused("署名のないIDトークンです", "the ID token is not signed");
        }
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (!ALLOWED.contains(alg)) {
            throw refused("IDトークンの署名アルゴリズム " + alg + " は許可されていません", "the ID token's algorithm " + alg
                    + " is not allowed");
        }
        JWTClaimsSet unverified;
        try {
            unverified = signed.getJWTClaimsSet();
        } catch (ParseException e) {
            throw refused("IDトークンを読めません", "the ID token cannot be read");
        }
        IDTokenClaimsSet claims;
        try {
            IDTokenValidator v = new IDTokenValidator(new Issuer(issuer), new ClientID(clientId),
                    new JWSVerificationKeySelector<SecurityContext>(ALLOWED, new ImmutableJWKSet<>(keys)), null);
            v.setMaxClockSkew((int) SKEW.toSeconds());
            claims = v.validate(jwt, new Nonce(nonce));
        } catch (BadJOSEException | JOSEException e) {
            throw why(unverified, issuer, clientId, nonce, now);
        }
        // Nimbus checks that iat is not in the future; an old one is refused here
        if (claims.getIssueTime().toInstant().isBefore(now.minus(MAX_AGE).minus(SKEW))) {
            throw refused("IDトークンの発行時刻が古すぎます", "the ID token was issued too long ago");
        }
        Date authTime = claims.getAuthenticationTime();
        if (authTime != null && authTime.toInstant().isBefore(flowStarted.minus(SKEW))) {
            throw refused("IDプロバイダで新たに認証されていません（以前のセッションが使われました）", "the person was not"
                    + " authenticated anew at the provider (an earlier session was used)");
        }
        return claims;
    }

    /** Which check failed, from the claims as sent (only to say why: nothing unverified is accepted). */
    private static FederationRefusal why(JWTClaimsSet c, String issuer, String clientId, String nonce, Instant now) {
        if (c.getIssuer() == null || !c.getIssuer().equals(issuer)) {
            return refused("IDトークンの発行者が登録されたIDプロバイダではありません", "the ID token's issuer is not the"
                    + " registered provider");
        }
        List<String> aud = c.getAudience();
        if (aud == null || !aud.contains(clientId)) {
            return refused("IDトークンがMamori宛てではありません", "the ID token is not meant for Mamori (audience)");
        }
        if (c.getExpirationTime() == null || c.getExpirationTime().toInstant().isBefore(now.minus(SKEW))) {
            return refused("IDトークンの有効期限が切れています", "the ID token has expired");
        }
        if (c.getIssueTime() == null || c.getIssueTime().toInstant().isAfter(now.plus(SKEW))) {
            return refused("IDトークンの発行時刻が正しくありません", "the ID token's issue time is wrong");
        }
        Object n = c.getClaim("nonce");
        if (!(n instanceof String s) || !java.security.MessageDigest.isEqual(
                s.getBytes(java.nio.charset.StandardCharsets.UTF_8), nonce.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            return refused("IDトークンのnonceがこのサインインのものと一致しません", "the ID token's nonce does not match"
                    + " this sign-in");
        }
        return refused("IDトークンの署名を検証できません", "the ID token's signature cannot be verified");
    }

    private static FederationRefusal refused(String ja, String en) {
        return new FederationRefusal(FederationRefusal.Kind.TOKEN_INVALID, ja + " / " + en);
    }
}
