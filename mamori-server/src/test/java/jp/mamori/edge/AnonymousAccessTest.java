package jp.mamori.edge;

import jp.mamori.testing.Fhir;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No anonymous access except /fhir/metadata and /health; every answer carries the security headers. */
class AnonymousAccessTest {
    private static final List<String> PATHS = List.of("/fhir", "/fhir/", "/fhir/Patient", "/fhir/Patient/x",
            "/fhir/Patient/x/_history", "/fhir/Patient/x/_history/1", "/fhir/_history", "/fhir/Patient/_search",
            "/fhir/Patient/_history", "/fhir/Observation", "/fhir/NotAType", "/fhir/$export", "/fhir/Patient/$expunge",
            "/admin", "/healthz", "/health/x", "/fhir/metadata/x", "/fhir/Patient/metadata");
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE");

    private final TestServer s = TestServer.shared();

    private String origin() {
        URI b = URI.create(s.base());
        return b.getScheme() + "://" + b.getAuthority();
    }

    private HttpResponse<String> send(String method, String path, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin() + path));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (method.equals("POST") || method.equals("PUT")) {
            b.header("Content-Type", "application/fhir+json");
            b.method(method, HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}"));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        try {
            return s.send(b.build());
        } catch (IllegalStateException e) {
            throw new AssertionError(method + " " + path + " got no answer: " + e.getCause(), e);
        }
    }

    private static void assertRefused(HttpResponse<String> r, String what) {
        assertEquals(401, r.statusCode(), what + ": " + r.body());
        String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
        assertTrue(challenge.startsWith("Bearer"), what + ": WWW-Authenticate was '" + challenge + "'");
        OperationOutcome oo = Fhir.parse(OperationOutcome.class, r.body());
        assertFalse(oo.getIssue().isEmpty(), what);
        assertEquals(OperationOutcome.IssueType.LOGIN, oo.getIssueFirstRep().getCode(), what);
        assertSecurityHeaders(r, what);
    }

    static void assertSecurityHeaders(HttpResponse<String> r, String what) {
        var h = r.headers();
        assertEquals("no-store", h.firstValue("Cache-Control").orElse(null), what);
        assertEquals("nosniff", h.firstValue("X-Content-Type-Options").orElse(null), what);
        assertTrue(h.firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"), what);
        assertTrue(h.firstValue("Strict-Transport-Security").orElse("").contains("max-age="), what);
        assertEquals("no-referrer", h.firstValue("Referrer-Policy").orElse(null), what);
    }

    @Test
    void everyPathAndMethodExceptMetadataAndHealthNeedsAToken() {
        int checked = 0;
        for (String path : PATHS) {
            for (String method : METHODS) {
                assertRefused(send(method, path, null), method + " " + path);
                checked++;
            }
        }
        assertEquals(PATHS.size() * METHODS.size(), checked);
    }

    @Test
    void aBodyRefusedUnreadDoesNotBreakTheNextRequestOnTheSameConnection() {
        // One client, one kept-alive connection: a write refused with 401 before its body is read, then
        // another write. The server must skip the unread body or close the connection and say so.
        for (int i = 0; i < 20; i++) {
            assertRefused(send("POST", "/fhir/Patient", null), "POST #" + i);
            assertRefused(send("PUT", "/fhir/Patient/x", null), "PUT #" + i);
        }
        HttpResponse<String> ok = send("GET", "/fhir/metadata", null);
        assertEquals(200, ok.statusCode());
        assertTrue(ok.headers().firstValue("Connection").isEmpty(), "a request without a body keeps the connection");
    }

    @Test
    void consolePagesWithoutASessionLeadOnlyToTheLoginPage() {
        for (String path : List.of("/", "/console", "/console/home", "/console/me", "/console/admin/accounts",
                "/console/admin/accounts.csv", "/console/admin/account?id=00000000-0000-0000-0000-000000000000",
                "/console/admin/sessions", "/console/lock", "/console/login/factor", "/console/enrol/factor")) {
            HttpResponse<String> r = send("GET", path, null);
            assertEquals(303, r.statusCode(), path);
            String to = r.headers().firstValue("Location").orElse("");
            assertTrue(to.equals("/console/login") || to.equals("/console/home"), path + " -> " + to);
            assertEquals("", r.body(), path);
        }
        // A state change without a session (and so without a CSRF token) is refused before anything else.
        HttpRequest post = HttpRequest.newBuilder(URI.create(origin() + "/console/admin/account/suspend"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("id=00000000-0000-0000-0000-000000000000&reason=x")).build();
        assertEquals(403, s.send(post).statusCode());
    }

    @Test
    void writingToMetadataOrHealthNeedsAToken() {
        for (String method : List.of("POST", "PUT", "DELETE")) {
            assertRefused(send(method, "/fhir/metadata", null), method + " /fhir/metadata");
        }
    }

    @Test
    void metadataAndHealthAnswerWithoutAToken() {
        HttpResponse<String> meta = send("GET", "/fhir/metadata", null);
        assertEquals(200, meta.statusCode());
        assertTrue(meta.body().contains("\"CapabilityStatement\""));
        assertSecurityHeaders(meta, "GET /fhir/metadata");
        HttpResponse<String> health = send("GET", "/health", null);
        assertEquals(200, health.statusCode());
        assertSecurityHeaders(health, "GET /health");
    }

    @Test
    void malformedUnknownAndForgedTokensAreRefused() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String forged = "mamori_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String realButCut = s.adminToken().substring(0, s.adminToken().length() - 1);
        List<String> headers = new ArrayList<>(List.of(
                "Bearer", "Bearer ", "Bearer  ", "bearer", "Basic " + Base64.getEncoder().encodeToString(
                        "admin:admin".getBytes(StandardCharsets.UTF_8)),
                "Bearer abc", "Bearer " + forged, "Bearer mamori_", "Bearer " + realButCut,
                "Bearer " + s.adminToken() + "x", "Token " + s.adminToken(), s.adminToken(),
                "Bearer " + "mamori_" + "a".repeat(5000), "Bearer mamori_' OR '1'='1", "Bearer,Bearer"));
        for (String h : headers) {
            for (String path : List.of("/fhir/Patient", "/fhir/_history")) {
                assertRefused(send("GET", path, h), "Authorization: " + h.substring(0, Math.min(h.length(), 40)));
            }
        }
    }

    @Test
    void theRealTokenIsAcceptedWithTheSchemeInAnyCase() {
        for (String scheme : List.of("Bearer ", "bearer ", "BEARER ")) {
            HttpResponse<String> r = send("GET", "/fhir/Patient?_count=1", scheme + s.adminToken());
            assertEquals(200, r.statusCode(), scheme + r.body());
        }
    }

    @Test
    void securityHeadersArePresentOnSuccessAndOnEveryKindOfError() {
        Map<String, Integer> expected = new java.util.LinkedHashMap<>();
        String auth = "Bearer " + s.adminToken();
        expected.put("GET /fhir/Patient?_count=1", 200);
        expected.put("GET /fhir/Patient/does-not-exist-edge", 404);
        expected.put("GET /fhir/NotAType", 404);
        expected.put("DELETE /fhir", 405);
        expected.put("GET /fhir/metadata?_format=yaml", 406);
        expected.put("GET /fhir/Patient?_count=abc", 400);
        expected.put("GET /nothing-here", 404);
        expected.forEach((req, status) -> {
            String[] mp = req.split(" ", 2);
            HttpResponse<String> r = send(mp[0], mp[1], auth);
            assertEquals(status, r.statusCode(), req + ": " + r.body());
            assertSecurityHeaders(r, req);
        });
        HttpResponse<String> unsupported = s.send(s.request("/Patient").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build());
        assertEquals(415, unsupported.statusCode());
        assertSecurityHeaders(unsupported, "415");
        HttpResponse<String> bad = s.post("/Patient", "{\"resourceType\":");
        assertEquals(400, bad.statusCode());
        assertSecurityHeaders(bad, "400");
        assertNotNull(Fhir.parse(OperationOutcome.class, bad.body()));
    }
}
