package jp.mamori.edge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import jp.mamori.identity.SystemClients;
import jp.mamori.identity.TokenEndpoint;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Host header names nothing the server relies on: the token endpoint's expected audience, the links in
 * bundles and the Location of a created resource come from --public-url or, without it, from the listener's own
 * address. A client assertion made for another server is not accepted because the request claims to be for it.
 */
class HostHeaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FOREIGN = "other-hospital.example:8443";

    private final TestServer s = TestServer.shared();

    private static String tokenUrl(String base) {
        return base.replaceFirst("/fhir$", TokenEndpoint.PATH);
    }

    /** A private_key_jwt client on {@code server}; returns an assertion signer for it. */
    private static java.util.function.Function<String, String> jwtClient(TestServer server) throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k-" + UUID.randomUUID()).generate();
        String id = server.server().clients().create(new SystemClients.NewClient("jwt-" + UUID.randomUUID(),
                "system/Patient.read", "検査部 / laboratory", "Host header test", 30, null,
                new JWKSet(key.toPublicJWK())), "test").client().clientId();
        return audience -> {
            try {
                SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID())
                        .type(JOSEObjectType.JWT).build(), new JWTClaimsSet.Builder().issuer(id).subject(id)
                        .audience(audience).jwtID(UUID.randomUUID().toString()).issueTime(new Date())
                        .expirationTime(Date.from(Instant.now().plusSeconds(60))).build());
                jwt.sign(new ECDSASigner(key));
                return jwt.serialize();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static Edge.Answer token(TestServer server, String host, String assertion) throws Exception {
        String form = "grant_type=client_credentials&client_assertion_type="
                + URLEncoder.encode(TokenEndpoint.JWT_BEARER, StandardCharsets.UTF_8)
                + "&client_assertion=" + URLEncoder.encode(assertion, StandardCharsets.UTF_8);
        return Edge.raw(server, "POST", TokenEndpoint.PATH, Map.of("Host", host,
                "Content-Type", "application/x-www-form-urlencoded"), form.getBytes(StandardCharsets.UTF_8));
    }

    private static Edge.Answer fhir(TestServer server, String method, String target, String host, String body)
            throws Exception {
        return Edge.raw(server, method, target, Map.of("Host", host, "Authorization", "Bearer " + server.adminToken(),
                "Content-Type", "application/fhir+json"), body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anAssertionForAnotherServerIsRefusedEvenWithThatServersHostHeader() throws Exception {
        var sign = jwtClient(s);
        Edge.Answer forged = token(s, FOREIGN, sign.apply("https://" + FOREIGN + TokenEndpoint.PATH));
        assertEquals(401, forged.status(), forged.text());
        assertEquals("invalid_client", JSON.readTree(forged.text()).path("error").asText(), forged.text());

        // The audience this server expects is its own token URL, whatever Host the request names.
        Edge.Answer own = token(s, FOREIGN, sign.apply(tokenUrl(s.base())));
        assertEquals(200, own.status(), own.text());
    }

    @Test
    void locationAndBundleLinksUseTheListenersAddressNotTheHostHeader() throws Exception {
        String family = "Host" + UUID.randomUUID().toString().substring(0, 8);
        Edge.Answer created = fhir(s, "POST", "/fhir/Patient", FOREIGN,
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
        assertEquals(201, created.status(), created.text());
        assertTrue(created.header("Location").startsWith(s.base() + "/Patient/"), created.header("Location"));

        Edge.Answer search = fhir(s, "GET", "/fhir/Patient?family=" + family, FOREIGN, null);
        assertEquals(200, search.status(), search.text());
        JsonNode bundle = JSON.readTree(search.text());
        assertEquals(1, bundle.path("entry").size(), search.text());
        for (JsonNode link : bundle.path("link")) {
            assertTrue(link.path("url").asText().startsWith(s.base() + "/Patient"), search.text());
        }
        assertTrue(bundle.path("entry").get(0).path("fullUrl").asText().startsWith(s.base() + "/Patient/"));
        assertFalse(search.text().contains("other-hospital"), search.text());
    }

    @Test
    void withPublicUrlEverythingUsesItWhicheverAddressTheRequestCameTo() throws Exception {
        String pub = "https://mamori.example.jp:8443";
        try (TestServer p = TestServer.start(List.of("--public-url", pub))) {
            assertEquals(pub + "/fhir", p.base());
            var sign = jwtClient(p);
            String local = "127.0.0.1:" + p.server().port();
            Edge.Answer wrong = token(p, local, sign.apply("https://" + local + TokenEndpoint.PATH));
            assertEquals(401, wrong.status(), "the listener's address is not the audience when --public-url is set");
            assertEquals(200, token(p, local, sign.apply(pub + TokenEndpoint.PATH)).status());

            Edge.Answer created = fhir(p, "POST", "/fhir/Patient", FOREIGN, "{\"resourceType\":\"Patient\"}");
            assertEquals(201, created.status(), created.text());
            assertTrue(created.header("Location").startsWith(pub + "/fhir/Patient/"), created.header("Location"));
        }
    }

    @Test
    void theConsoleComparesOriginWithItsOwnOriginsNotWithTheHostHeader() throws Exception {
        // A page on another site whose name was rebound to this server's address sends matching Origin and Host.
        Edge.Answer r = Edge.raw(s, "POST", "/console/login", Map.of("Host", FOREIGN, "Origin", "https://" + FOREIGN,
                "Content-Type", "application/x-www-form-urlencoded"), "login_id=x&password=y".getBytes(
                StandardCharsets.UTF_8));
        assertEquals(403, r.status(), r.text());
        assertTrue(r.text().contains("他のサイトからの操作は受け付けません"), r.text());
    }
}
