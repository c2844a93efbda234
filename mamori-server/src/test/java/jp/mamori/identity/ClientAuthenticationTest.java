package jp.mamori.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import jp.mamori.testing.TestIdentity;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * System clients authenticate with a pinned TLS client certificate or with a signed JWT assertion exchanged
 * for a short-lived access token (NET-6, AUTH-1), against a real server over real TLS.
 */
class ClientAuthenticationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpClient client(TestServer s, TestIdentity id) {
        return TestIdentity.httpClient(s, id);
    }

    private static HttpResponse<String> get(HttpClient http, TestServer s, String path, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static String tokenEndpoint(TestServer s) {
        return s.base().replaceFirst("/fhir$", "/oauth/token");
    }

    private static HttpResponse<String> token(HttpClient http, TestServer s, Map<String, String> form)
            throws Exception {
        String body = form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
        return http.send(HttpRequest.newBuilder(URI.create(tokenEndpoint(s))).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static Map<String, String> assertionForm(String assertion, String... more) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "client_credentials");
        f.put("client_assertion_type", TokenEndpoint.JWT_BEARER);
        f.put("client_assertion", assertion);
        for (int i = 0; i + 1 < more.length; i += 2) {
            f.put(more[i], more[i + 1]);
        }
        return f;
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static void oauthError(int status, String error, HttpResponse<String> r) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(error, json(r).path("error").asText(), r.body());
        assertTrue(r.headers().firstValue("Cache-Control").orElse("").contains("no-store"));
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        String description = json(r).path("error_description").asText();
        assertTrue(description.chars().allMatch(c -> c >= 0x20 && c <= 0x7e), description);
    }

    private static String patientId(TestServer s) {
        HttpResponse<String> r = s.post("/Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        assertEquals(201, r.statusCode(), r.body());
        String loc = r.headers().firstValue("Location").orElseThrow();
        return loc.split("/Patient/")[1].split("/")[0];
    }

    private static SystemClients.Created mtlsClient(TestServer s, TestIdentity id, String scopes) {
        return s.server().clients().create(new SystemClients.NewClient("mtls-" + UUID.randomUUID(), scopes,
                "医事課 / medical affairs", "test of mTLS", 30, id.cert(), null), "test");
    }

    /** A JWT client with a fresh EC P-256 key; returns the key (private part included) and the client id. */
    private record JwtClient(ECKey key, String clientId) {
        String assertion(String audience, String jti, Instant exp) throws Exception {
            JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(audience)
                    .jwtID(jti).issueTime(new Date()).expirationTime(Date.from(exp)).build();
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID())
                    .type(JOSEObjectType.JWT).build(), claims);
            jwt.sign(new ECDSASigner(key));
            return jwt.serialize();
        }

        String assertion(String audience) throws Exception {
            return assertion(audience, UUID.randomUUID().toString(), Instant.now().plusSeconds(60));
        }
    }

    private static JwtClient jwtClient(TestServer s, String scopes) throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k-" + UUID.randomUUID()).generate();
        SystemClients.Created c = s.server().clients().create(new SystemClients.NewClient("jwt-" + UUID.randomUUID(),
                scopes, "検査部 / laboratory", "test of private_key_jwt", 30, null, new JWKSet(key.toPublicJWK())),
                "test");
        assertEquals(null, c.token(), "a private_key_jwt client has no static token");
        return new JwtClient(key, c.client().clientId());
    }

    @Test
    void anMtlsClientWithThePinnedCertificateReadsPatients() throws Exception {
        TestServer s = TestServer.shared();
        String pid = patientId(s);
        TestIdentity id = TestIdentity.selfSigned();
        SystemClients.Created c = mtlsClient(s, id, "system/Patient.read");
        assertEquals(null, c.token(), "an mtls client has no static token");
        HttpClient http = client(s, id);
        HttpResponse<String> r = get(http, s, "/Patient/" + pid, null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(200, get(http, s, "/Patient?_id=" + pid, null).statusCode());
        HttpResponse<String> write = http.send(HttpRequest.newBuilder(URI.create(s.base() + "/Patient"))
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, write.statusCode(), "the certificate carries only the client's scopes");
    }

    @Test
    void anotherSelfSignedCertificateOrNoneGets401() throws Exception {
        TestServer s = TestServer.shared();
        String pid = patientId(s);
        mtlsClient(s, TestIdentity.selfSigned(), "system/Patient.read");
        for (HttpClient http : List.of(client(s, TestIdentity.selfSigned()), client(s, null))) {
            HttpResponse<String> r = get(http, s, "/Patient/" + pid, null);
            assertEquals(401, r.statusCode(), r.body());
            assertEquals("OperationOutcome", json(r).path("resourceType").asText());
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        }
        // A browser or bearer client without a certificate still connects and uses its token.
        assertEquals(200, get(client(s, null), s, "/Patient/" + pid, s.adminToken()).statusCode());
    }

    @Test
    void aPinnedCertificateWithAWrongBearerTokenIsRefusedNotFallenBackOn() throws Exception {
        TestServer s = TestServer.shared();
        TestIdentity id = TestIdentity.selfSigned();
        mtlsClient(s, id, "system/Patient.read");
        assertEquals(401, get(client(s, id), s, "/Patient?_count=1", "mamori_wrong").statusCode());
    }

    @Test
    void anExpiredClientIsRefusedWhicheverWayItAuthenticates() throws Exception {
        TestServer s = TestServer.shared();
        TestIdentity id = TestIdentity.selfSigned();
        SystemClients.Created m = mtlsClient(s, id, "system/Patient.read");
        SystemClients.Created b = s.server().clients().create(new SystemClients.NewClient("bearer-" + UUID.randomUUID(),
                "system/Patient.read", "owner", "test of expiry", 1, null, null), "test");
        JwtClient j = jwtClient(s, "system/Patient.read");
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "update system_client set expires_at = created_at + interval '1 millisecond'"
                        + " where client_id in (?, ?, ?)")) {
            ps.setString(1, m.client().clientId());
            ps.setString(2, b.client().clientId());
            ps.setString(3, j.clientId());
            assertEquals(3, ps.executeUpdate());
        }
        assertEquals(401, get(client(s, id), s, "/Patient?_count=1", null).statusCode());
        assertEquals(401, get(s.httpClient(), s, "/Patient?_count=1", b.token()).statusCode());
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(j.assertion(tokenEndpoint(s)))));
        assertTrue(s.server().clients().list().stream().filter(c -> c.clientId().equals(j.clientId()))
                .allMatch(c -> c.expired(Instant.now())));
    }

    @Test
    void aPinnedCertificatePastItsValidityDatesIsRefused() throws Exception {
        TestServer s = TestServer.shared();
        Instant now = Instant.now();
        TestIdentity id = TestIdentity.selfSigned(now.minus(Duration.ofMinutes(5)), now.plusSeconds(3));
        mtlsClient(s, id, "system/Patient.read");
        HttpClient http = client(s, id);
        assertEquals(200, get(http, s, "/Patient?_count=1", null).statusCode());
        Thread.sleep(Duration.between(Instant.now(), now.plusSeconds(4)).toMillis());
        assertEquals(401, get(client(s, id), s, "/Patient?_count=1", null).statusCode());
    }

    @Test
    void privateKeyJwtGetsAShortLivedScopedTokenThatReads() throws Exception {
        TestServer s = TestServer.shared();
        String pid = patientId(s);
        JwtClient j = jwtClient(s, "system/Patient.read system/Observation.read");
        HttpResponse<String> r = token(s.httpClient(), s, assertionForm(j.assertion(tokenEndpoint(s)),
                "scope", "system/Patient.read"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Cache-Control").orElse("").contains("no-store"));
        JsonNode t = json(r);
        assertEquals("Bearer", t.path("token_type").asText());
        assertEquals("system/Patient.rs", t.path("scope").asText());
        long expiresIn = t.path("expires_in").asLong();
        assertEquals(300, expiresIn, r.body());
        String access = t.path("access_token").asText();
        assertTrue(access.startsWith(SystemClients.ACCESS_TOKEN_PREFIX), access);
        assertEquals(200, get(s.httpClient(), s, "/Patient/" + pid, access).statusCode());
        assertEquals(403, get(s.httpClient(), s, "/Observation?_count=1", access).statusCode(),
                "the token carries only the scope asked for");

        // Without scope, all of the client's scopes.
        JsonNode all = json(token(s.httpClient(), s, assertionForm(j.assertion(tokenEndpoint(s)))));
        assertEquals("system/Patient.rs system/Observation.rs", all.path("scope").asText());
        assertEquals(200, get(s.httpClient(), s, "/Observation?_count=1", all.path("access_token").asText())
                .statusCode());

        // Only the token's hash is stored.
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "select count(*) from access_token where token_sha256 = sha256(convert_to(?, 'UTF8'))")) {
            ps.setString(1, access);
            try (var rs = ps.executeQuery()) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        }
    }

    @Test
    void aReplayedAssertionIsRefused() throws Exception {
        TestServer s = TestServer.shared();
        JwtClient j = jwtClient(s, "system/Patient.read");
        String a = j.assertion(tokenEndpoint(s));
        assertEquals(200, token(s.httpClient(), s, assertionForm(a)).statusCode());
        HttpResponse<String> again = token(s.httpClient(), s, assertionForm(a));
        oauthError(401, "invalid_client", again);
        assertTrue(json(again).path("error_description").asText().contains("jti"), again.body());
    }

    @Test
    void badAssertionsAreInvalidClient() throws Exception {
        TestServer s = TestServer.shared();
        JwtClient j = jwtClient(s, "system/Patient.read");
        String aud = tokenEndpoint(s);
        String id = UUID.randomUUID().toString();
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(
                j.assertion("https://elsewhere.example/oauth/token"))));
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(
                j.assertion(aud, id, Instant.now().minusSeconds(300)))));
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(
                j.assertion(aud, UUID.randomUUID().toString(), Instant.now().plusSeconds(3600)))));

        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(j.clientId()).subject(j.clientId()).audience(aud)
                .jwtID(UUID.randomUUID().toString()).expirationTime(Date.from(Instant.now().plusSeconds(60))).build();
        HttpResponse<String> none = token(s.httpClient(), s, assertionForm(new PlainJWT(claims).serialize()));
        oauthError(401, "invalid_client", none);
        assertTrue(json(none).path("error_description").asText().contains("none"), none.body());

        SignedJWT hmac = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        hmac.sign(new MACSigner(secret));
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(hmac.serialize())));

        // HMAC with the client's public key as the secret: the algorithm-confusion attack.
        SignedJWT confused = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        confused.sign(new MACSigner(j.key().toPublicJWK().toJSONString().repeat(2).getBytes(StandardCharsets.UTF_8)));
        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(confused.serialize())));

        JwtClient stranger = new JwtClient(new ECKeyGenerator(Curve.P_256).keyID("x").generate(), "0123456789abcdef");
        HttpResponse<String> unknown = token(s.httpClient(), s, assertionForm(stranger.assertion(aud)));
        oauthError(401, "invalid_client", unknown);
        // Signed with another key under the right client id: the same answer as an unknown client.
        JwtClient impostor = new JwtClient(new ECKeyGenerator(Curve.P_256).keyID(j.key().getKeyID()).generate(),
                j.clientId());
        HttpResponse<String> forged = token(s.httpClient(), s, assertionForm(impostor.assertion(aud)));
        oauthError(401, "invalid_client", forged);
        assertEquals(json(unknown).path("error_description"), json(forged).path("error_description"));

        oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm("not.a.jwt")));
        oauthError(401, "invalid_client", token(s.httpClient(), s, Map.of("grant_type", "client_credentials")));
    }

    @Test
    void requestErrorsFollowRfc6749() throws Exception {
        TestServer s = TestServer.shared();
        JwtClient j = jwtClient(s, "system/Patient.read");
        String aud = tokenEndpoint(s);
        oauthError(400, "invalid_scope", token(s.httpClient(), s, assertionForm(j.assertion(aud), "scope",
                "system/Observation.read")));
        oauthError(400, "invalid_scope", token(s.httpClient(), s, assertionForm(j.assertion(aud), "scope",
                "system/Patient.write")));
        oauthError(400, "invalid_scope", token(s.httpClient(), s, assertionForm(j.assertion(aud), "scope",
                "openid")));
        Map<String, String> wrongGrant = assertionForm(j.assertion(aud));
        wrongGrant.put("grant_type", "password");
        oauthError(400, "unsupported_grant_type", token(s.httpClient(), s, wrongGrant));
        Map<String, String> noGrant = assertionForm(j.assertion(aud));
        noGrant.remove("grant_type");
        oauthError(400, "invalid_request", token(s.httpClient(), s, noGrant));
        HttpResponse<String> twice = s.send(HttpRequest.newBuilder(URI.create(aud))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&grant_type=client_credentials"))
                .build());
        oauthError(400, "invalid_request", twice);
        HttpResponse<String> json = s.send(HttpRequest.newBuilder(URI.create(aud))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        oauthError(400, "invalid_request", json);
        oauthError(405, "invalid_request", s.send(HttpRequest.newBuilder(URI.create(aud)).GET().build()));
    }

    @Test
    void anEd25519AssertionIsAccepted() throws Exception {
        TestServer s = TestServer.shared();
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("Ed25519");
        KeyPair kp = kpg.generateKeyPair();
        byte[] spki = kp.getPublic().getEncoded();
        byte[] x = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
        OctetKeyPair pub = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(x)).keyID("ed").build();
        String clientId = s.server().clients().create(new SystemClients.NewClient("ed-" + UUID.randomUUID(),
                "system/Patient.read", "owner", "test of EdDSA", 30, null, new JWKSet(pub)), "test")
                .client().clientId();
        String header = Base64URL.encode("{\"alg\":\"EdDSA\",\"kid\":\"ed\"}").toString();
        String payload = Base64URL.encode(new JWTClaimsSet.Builder().issuer(clientId).subject(clientId)
                .audience(tokenEndpoint(s)).jwtID(UUID.randomUUID().toString())
                .expirationTime(Date.from(Instant.now().plusSeconds(60))).build().toString()).toString();
        Signature sig = Signature.getInstance("Ed25519");
        sig.initSign(kp.getPrivate());
        sig.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
        String jws = header + "." + payload + "." + Base64URL.encode(sig.sign());
        HttpResponse<String> r = token(s.httpClient(), s, assertionForm(jws));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(200, get(s.httpClient(), s, "/Patient?_count=1", json(r).path("access_token").asText())
                .statusCode());
    }

    @Test
    void anMtlsClientMayAlsoGetAnAccessTokenWithItsCertificate() throws Exception {
        TestServer s = TestServer.shared();
        TestIdentity id = TestIdentity.selfSigned();
        String clientId = mtlsClient(s, id, "system/Patient.read").client().clientId();
        HttpResponse<String> r = token(client(s, id), s, Map.of("grant_type", "client_credentials",
                "client_id", clientId));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(200, get(s.httpClient(), s, "/Patient?_count=1", json(r).path("access_token").asText())
                .statusCode(), "the access token works without the certificate");
        oauthError(401, "invalid_client", token(client(s, TestIdentity.selfSigned()), s, Map.of("grant_type",
                "client_credentials", "client_id", clientId)));
    }

    @Test
    void revokingAClientStopsItsAccessTokens() throws Exception {
        TestServer s = TestServer.shared();
        JwtClient j = jwtClient(s, "system/Patient.read");
        String access = json(token(s.httpClient(), s, assertionForm(j.assertion(tokenEndpoint(s)))))
                .path("access_token").asText();
        assertEquals(200, get(s.httpClient(), s, "/Patient?_count=1", access).statusCode());
        assertTrue(s.server().clients().revoke(j.clientId(), "test", "test"));
        assertEquals(401, get(s.httpClient(), s, "/Patient?_count=1", access).statusCode());
    }

    @Test
    void anAccessTokenStopsWorkingWhenItsLifetimeEnds() throws Exception {
        try (TestServer s = TestServer.start(List.of("--access-token-lifetime", "1"))) {
            JwtClient j = jwtClient(s, "system/Patient.read");
            HttpResponse<String> r = token(s.httpClient(), s, assertionForm(j.assertion(tokenEndpoint(s))));
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(1, json(r).path("expires_in").asLong());
            String access = json(r).path("access_token").asText();
            assertEquals(200, get(s.httpClient(), s, "/Patient?_count=1", access).statusCode());
            Thread.sleep(1500);
            assertEquals(401, get(s.httpClient(), s, "/Patient?_count=1", access).statusCode());
        }
    }

    private static long tokensOf(TestServer s, String clientId) throws Exception {
        try (java.sql.Connection c = s.superuserConnection(); java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM access_token WHERE client_id = ?")) {
            ps.setString(1, clientId);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Issue 18 §2: system clients keep reading in degraded mode; tokens issued meanwhile hold after the return. */
    @Test
    void inDegradedModeAJwtClientStillGetsATokenAndReadsAndTheTokenHoldsAfterTheReturn() throws Exception {
        TestServer s = TestServer.shared();
        String pid = patientId(s);
        JwtClient j = jwtClient(s, "system/Patient.read");
        jp.mamori.db.Availability availability = s.server().database().availability();
        s.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::close);
        availability.enterDegraded("test: only the standby answers");
        String access;
        try {
            String jti = UUID.randomUUID().toString();
            String assertion = j.assertion(tokenEndpoint(s), jti, Instant.now().plusSeconds(60));
            HttpResponse<String> r = token(s.httpClient(), s, assertionForm(assertion));
            assertEquals(200, r.statusCode(), r.body());
            access = json(r).path("access_token").asText();
            assertEquals(200, get(s.httpClient(), s, "/Patient/" + pid, access).statusCode());
            oauthError(401, "invalid_client", token(s.httpClient(), s, assertionForm(assertion))); // a replay
            assertEquals(0L, tokensOf(s, j.clientId()), "held in memory while degraded");
        } finally {
            availability.leaveDegraded("test: the primary is back");
            s.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::start);
        }
        assertEquals(1L, tokensOf(s, j.clientId()), "written when the primary returned");
        assertEquals(200, get(s.httpClient(), s, "/Patient/" + pid, access).statusCode());
    }
}
