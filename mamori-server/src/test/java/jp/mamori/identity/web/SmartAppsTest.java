package jp.mamori.identity.web;

import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationErrorResponse;
import com.nimbusds.oauth2.sdk.AuthorizationRequest;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.AuthorizationSuccessResponse;
import com.nimbusds.oauth2.sdk.RefreshTokenGrant;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenIntrospectionRequest;
import com.nimbusds.oauth2.sdk.TokenIntrospectionResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.TokenRevocationRequest;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.oauth2.sdk.token.AccessToken;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.oauth2.sdk.token.RefreshToken;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.oauth2.sdk.auth.PrivateKeyJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.token.OIDCTokens;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import jp.mamori.kernel.Hashes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Date;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SMART on FHIR (issue 21), driven by a real OAuth 2.0 client library (the Nimbus OAuth 2.0 SDK: the authorization
 * request with PKCE, the code exchange, refresh, revocation, introspection) against a real server and database, the
 * person signing in and consenting through the console's pages. What a person's token reaches is the person's access
 * (care relationships, roles) intersected with the scopes they granted; every refusal is a clear OAuth error or
 * OperationOutcome and is recorded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmartAppsTest {
    private static final String REDIRECT = "http://127.0.0.1:9/callback";
    private static final String LAUNCH_URL = "http://127.0.0.1:9/launch";

    private Hospital h;
    private Clinic clinic;
    private Person doctor;
    private String hanako;
    private String ichiro;
    private String saburo;
    private String publicApp;
    private String confidentialApp;
    private String confidentialSecret;
    private SSLContext tls;

    @BeforeAll
    void open() throws Exception {
        h = Hospital.open();
        clinic = new Clinic(h);
        hanako = clinic.patient("9100000001", "山田", "花子", "ヤマダ", "ハナコ", "1970-04-01", "female");
        ichiro = clinic.patient("9100000002", "鈴木", "一郎", "スズキ", "イチロウ", "1955-12-24", "male");
        saburo = clinic.patient("9100000003", "佐藤", "三郎", "サトウ", "サブロウ", "1948-02-11", "male");
        clinic.hba1c(hanako, 7.1, 60);
        clinic.hba1c(hanako, 6.8, 30);
        clinic.hba1c(ichiro, 8.2, 10);
        clinic.hba1c(ichiro, 8.0, 5);
        clinic.hba1c(ichiro, 7.9, 1);
        clinic.hba1c(saburo, 6.1, 3);
        doctor = h.enrolStaff("smart.ishi", "内科", "qualification", "physician", "licence_physician", "223456");
        clinic.role(doctor.accountId, "physician", "内科");
        clinic.cares(doctor.accountId, hanako);
        clinic.cares(doctor.accountId, saburo);
        tls = Browser.trusting(h.server.dataDir());
        publicApp = register("血糖ビューア", false, REDIRECT, "user/*.rs patient/*.rs launch launch/patient offline_access");
        Browser.Page created = h.admin.browser.last();
        assertFalse(created.body().contains("client-secret"), "a public app has no secret");
        confidentialApp = register("退院サマリ作成支援", true, REDIRECT, "user/Observation.rs user/Patient.rs online_access");
        confidentialSecret = h.admin.browser.last().code("client-secret");
        assertTrue(confidentialSecret.startsWith("mamori_scs."));
        assertEquals(confidentialApp, h.one("SELECT client_id FROM smart_app WHERE secret_sha256 = ?",
                (Object) Hashes.sha256(confidentialSecret)), "only the secret's hash is stored");
    }

    @AfterAll
    void close() {
        if (h != null) {
            h.close();
        }
    }

    /** Registers an app on the administrators' page (with the step-up it asks for); returns its client id. */
    private String register(String name, boolean confidential, String redirects, String scopes) {
        Browser.Page list = h.admin.browser.get("/console/admin/smart-apps");
        assertEquals(200, list.status(), list::toString);
        Browser.Page done = h.adminSubmit("/console/admin/smart-apps", "name", name, "kind",
                confidential ? "confidential" : "public", "redirects", redirects, "launch_url", LAUNCH_URL,
                "scopes", scopes, "enabled", "1");
        assertEquals(200, done.status(), done::toString);
        assertTrue(done.contains("を登録しました"), done::toString);
        String id = h.one("SELECT client_id FROM smart_app WHERE name = ?", name);
        assertNotNull(id);
        assertTrue(eventually("action = 'smart.app' AND convert_from(entry, 'UTF8') LIKE ?", "%" + id + "%")
                > 0, "the registration is recorded");
        return id;
    }

    // ---- the OAuth client's side --------------------------------------------------------------------------------

    /** One authorization by the app: its PKCE verifier, state, and the request URI the SDK built. */
    private record Flow(CodeVerifier verifier, State state, URI request) {
    }

    private Flow request(String clientId, String scope, String launch, String redirect, String aud) {
        CodeVerifier verifier = new CodeVerifier();
        State state = new State();
        AuthorizationRequest.Builder b = new AuthorizationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
                new ClientID(clientId)).endpointURI(URI.create(origin() + "/oauth/authorize"))
                .redirectionURI(URI.create(redirect)).scope(Scope.parse(scope)).state(state)
                .codeChallenge(verifier, CodeChallengeMethod.S256).customParameter("aud", aud);
        if (launch != null) {
            b.customParameter("launch", launch);
        }
        return new Flow(verifier, state, b.build().toURI());
    }

    private Flow request(String clientId, String scope) {
        return request(clientId, scope, null, REDIRECT, h.server.base());
    }

    private String origin() {
        return h.server.base().replaceFirst("/fhir$", "");
    }

    /**
     * The person's browser follows the app's authorization request: Mamori's page at /oauth/authorize leads to the
     * console's consent page (the person is signed in).
     */
    private Browser.Page consentPage(Person p, Flow f) {
        Browser.Page hop = p.browser.get(f.request().getRawPath() + "?" + f.request().getRawQuery());
        assertEquals(200, hop.status(), hop::toString);
        assertTrue(hop.contains("/console/smart/authorize?"), hop::toString);
        return p.browser.get("/console/smart/authorize?" + f.request().getRawQuery());
    }

    /** Sends the consent form with these scopes ticked (and a patient ID, when given). */
    private Browser.Page decide(Person p, Browser.Page consent, String decision, List<String> ticked,
                                String patientIdent) {
        StringBuilder body = new StringBuilder();
        Map<String, String> fields = new LinkedHashMap<>(consent.hiddenFields("/console/smart/authorize"));
        fields.put("decision", decision);
        if (patientIdent != null) {
            fields.put("patient_ident", patientIdent);
        }
        fields.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(enc(k)).append('=').append(enc(v)));
        for (String s : ticked) {
            body.append("&scope=").append(enc(s));
        }
        return p.browser.postRaw("/console/smart/authorize", "application/x-www-form-urlencoded",
                body.toString().getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** Where Mamori sent the browser back to the app (not followed: the app's address is not running). */
    private static URI backToApp(Browser.Page p) {
        assertEquals(303, p.status(), p::toString);
        return URI.create(p.response().headers().firstValue("Location").orElseThrow());
    }

    private AuthorizationCode code(Browser.Page redirected, Flow f) throws Exception {
        AuthorizationResponse r = AuthorizationResponse.parse(backToApp(redirected));
        assertTrue(r.indicatesSuccess(), () -> String.valueOf(r.toErrorResponse().getErrorObject()));
        assertEquals(f.state(), r.getState(), "state comes back unchanged");
        return ((AuthorizationSuccessResponse) r).getAuthorizationCode();
    }

    /** The whole way to a code: request, consent with these scopes ticked. */
    private AuthorizationCode authorize(Person p, Flow f, List<String> ticked) throws Exception {
        Browser.Page consent = consentPage(p, f);
        assertEquals(200, consent.status(), consent::toString);
        return code(decide(p, consent, "allow", ticked, null), f);
    }

    private TokenResponse send(TokenRequest r) throws Exception {
        return TokenResponse.parse(http(r.toHTTPRequest()));
    }

    private HTTPResponse http(HTTPRequest r) throws Exception {
        r.setSSLSocketFactory(tls.getSocketFactory());
        return r.send();
    }

    private TokenResponse exchange(String clientId, AuthorizationCode code, CodeVerifier verifier) throws Exception {
        return send(new TokenRequest(URI.create(origin() + "/oauth/token"), new ClientID(clientId),
                new AuthorizationCodeGrant(code, URI.create(REDIRECT), verifier)));
    }

    private AccessTokenResponse tokens(String clientId, AuthorizationCode code, CodeVerifier verifier) throws Exception {
        TokenResponse r = exchange(clientId, code, verifier);
        assertTrue(r.indicatesSuccess(), () -> String.valueOf(r.toErrorResponse().getErrorObject().toJSONObject()));
        return r.toSuccessResponse();
    }

    private HttpResponse<String> fhir(AccessToken token, String path) {
        return h.server.send(HttpRequest.newBuilder(URI.create(h.server.base() + path))
                .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token.getValue()).GET().build());
    }

    private static String error(TokenResponse r) {
        assertFalse(r.indicatesSuccess(), "refused");
        return ((TokenErrorResponse) r).getErrorObject().getCode();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private long entries(String where, Object... params) {
        Long n = h.one("SELECT count(*) FROM audit_entry WHERE " + where, params);
        return n == null ? 0 : n;
    }

    /** Staged entries (consent, registration) reach the trail shortly after their transaction commits. */
    private long eventually(String where, Object... params) {
        for (int i = 0; i < 100; i++) {
            long n = entries(where, params);
            if (n > 0) {
                return n;
            }
            Browser.sleep(100);
        }
        return 0;
    }

    private void update(String sql, Object... params) throws Exception {
        try (Connection c = h.server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.executeUpdate();
        }
    }

    /** The id of the first resource a system client finds with this search. */
    private String firstId(String search) {
        HttpResponse<String> r = h.server.get("/" + search);
        var m = java.util.regex.Pattern.compile("\"fullUrl\"\\s*:\\s*\"[^\"]*/([A-Za-z0-9.-]{1,64})\"")
                .matcher(r.body());
        assertTrue(m.find(), r::body);
        return m.group(1);
    }

    private static int total(HttpResponse<String> bundle) {
        var m = java.util.regex.Pattern.compile("\"total\"\\s*:\\s*(\\d+)").matcher(bundle.body());
        assertTrue(m.find(), bundle::body);
        return Integer.parseInt(m.group(1));
    }

    // ---- the tests ----------------------------------------------------------------------------------------------

    @Test
    void theConfigurationDocumentListsEveryEndpointAndBackendServices() {
        for (String path : List.of("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration")) {
            HttpResponse<String> r = h.server.send(HttpRequest.newBuilder(URI.create(origin() + path)).GET().build());
            assertEquals(200, r.statusCode(), r::body);
            for (String s : List.of("\"authorization_endpoint\":\"" + origin() + "/oauth/authorize\"",
                    "\"token_endpoint\":\"" + origin() + "/oauth/token\"", "revocation_endpoint",
                    "introspection_endpoint", "\"code_challenge_methods_supported\":[\"S256\"]", "launch-ehr",
                    "launch-standalone", "client-public", "client-confidential-symmetric", "context-ehr-patient",
                    "context-standalone-patient", "permission-v2", "client_credentials", "private_key_jwt")) {
                assertTrue(r.body().contains(s), () -> s + " in " + r.body());
            }
        }
    }

    @Test
    void standaloneLaunchReadsOnlyWhatThePersonMayAndIsAuditedWithTheApp() throws Exception {
        Flow f = request(publicApp, "user/*.rs offline_access openid");
        Browser.Page consent = consentPage(doctor, f);
        assertEquals(200, consent.status(), consent::toString);
        assertTrue(consent.contains("血糖ビューア"), "the app's name");
        assertTrue(consent.contains("すべての種類の診療情報：参照・検索"), "the scope in words: " + consent.body());
        assertTrue(consent.contains("ログアウト後も使える更新トークン"), "offline_access in words");
        assertTrue(consent.response().headers().firstValue("Content-Security-Policy").orElse("")
                .contains("form-action 'self' http://127.0.0.1:9;"), "the form may answer with a redirect to the app");
        AuthorizationCode code = code(decide(doctor, consent, "allow", List.of("user/*.rs", "offline_access"), null), f);
        AccessTokenResponse ok = tokens(publicApp, code, f.verifier());
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertTrue(ok.getTokens().getAccessToken().getLifetime() <= 600, "short-lived");
        assertNotNull(ok.getTokens().getRefreshToken(), "offline_access: a refresh token");
        assertEquals(Scope.parse("user/*.rs offline_access"), ok.getTokens().getAccessToken().getScope(),
                "openid is not within this app's maximum; the rest as ticked");

        assertEquals(200, fhir(at, "/Patient/" + hanako).statusCode(), "a patient the doctor cares for");
        HttpResponse<String> foreign = fhir(at, "/Observation/" + firstId("Observation?patient=" + ichiro));
        assertEquals(403, foreign.statusCode(), "no care relationship: refused even with user/*.rs");
        assertTrue(foreign.body().contains("OperationOutcome"), foreign::body);
        HttpResponse<String> all = fhir(at, "/Observation?_count=1&_total=accurate");
        assertEquals(200, all.statusCode(), all::body);
        assertEquals(3, total(all), "hanako's 2 and saburo's 1, not ichiro's 3: filtered before counting");
        HttpResponse<String> write = h.server.send(HttpRequest.newBuilder(URI.create(h.server.base() + "/Observation"))
                .header("Authorization", "Bearer " + at.getValue()).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Observation\",\"status\":\"final\","
                        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + hanako + "\"}}")).build());
        assertEquals(403, write.statusCode(), "no c scope: no write, whatever the person may do");

        String actor = "account:" + doctor.accountId;
        assertTrue(entries("actor = ? AND action = 'read' AND outcome = 'success' AND session_hash LIKE ?"
                + " AND actor_display LIKE '%血糖ビューア%' AND ? = ANY(patients)", actor, "app:" + publicApp + " %",
                hanako) > 0, "the read names the person as actor and the app");
        assertTrue(entries("actor = ? AND action = 'read' AND outcome = 'refused' AND session_hash LIKE ?", actor,
                "app:" + publicApp + " %") > 0, "the refusal is recorded with the app");
        assertTrue(eventually("action = 'smart.consent' AND actor = ? AND convert_from(entry, 'UTF8') LIKE '%allowed%'"
                + " AND convert_from(entry, 'UTF8') LIKE ?", doctor.principal(), "%" + publicApp + "%") > 0, "the consent is recorded");
        assertTrue(eventually("action = 'smart.token' AND outcome = 'success' AND actor = ?", "smart-app:" + publicApp)
                > 0, "the token's issue is recorded");
    }

    @Test
    void aPersonsBulkExportThroughAnAppHoldsOnlyWhatTheyMayRead() throws Exception {
        Flow f = request(publicApp, "user/*.rs");
        BearerAccessToken at = tokens(publicApp, authorize(doctor, f, List.of("user/*.rs")), f.verifier())
                .getTokens().getBearerAccessToken();
        HttpResponse<String> k = h.server.send(HttpRequest.newBuilder(URI.create(h.server.base()
                        + "/Patient/$export?_type=Patient,Observation")).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + at.getValue()).header("Prefer", "respond-async").GET().build());
        assertEquals(202, k.statusCode(), k::body);
        String status = k.headers().firstValue("Content-Location").orElseThrow();
        String manifest = null;
        for (int i = 0; i < 300 && manifest == null; i++) {
            HttpResponse<String> r = fhirUrl(at, status);
            if (r.statusCode() == 200) {
                manifest = r.body();
            } else {
                assertTrue(r.statusCode() == 202 || r.statusCode() == 429, r::body);
                Browser.sleep(1100); // Retry-After: 1
            }
        }
        assertNotNull(manifest, "the export finished");
        StringBuilder all = new StringBuilder();
        var urls = java.util.regex.Pattern.compile("\"url\":\"([^\"]+)\"").matcher(manifest);
        while (urls.find()) {
            HttpResponse<String> file = fhirUrl(at, urls.group(1));
            assertEquals(200, file.statusCode(), file::body);
            all.append(file.body());
        }
        String ndjson = all.toString();
        assertTrue(ndjson.contains("\"id\":\"" + hanako + "\"") && ndjson.contains("\"id\":\"" + saburo + "\""),
                "the patients the doctor cares for");
        assertEquals(List.of(), ndjson.lines().filter(l -> l.contains("Patient/" + ichiro)).toList(),
                "never a record the person may not read: none of ichiro's observations");
        java.util.Set<String> exported = new java.util.TreeSet<>();
        ndjson.lines().filter(l -> l.startsWith("{\"resourceType\":\"Patient\"")).forEach(l -> exported.add(
                l.replaceFirst("^\\{\"resourceType\":\"Patient\",\"id\":\"([^\"]+)\".*$", "$1")));
        java.util.Set<String> searched = new java.util.TreeSet<>();
        var ids = java.util.regex.Pattern.compile("\"fullUrl\":\"[^\"]*/Patient/([^\"]+)\"")
                .matcher(fhir(at, "/Patient?_count=1000").body());
        while (ids.find()) {
            searched.add(ids.group(1));
        }
        assertEquals(searched, exported, "the Patients exactly as the person's own search shows them (demographics"
                + " for identification)");
        assertEquals(3, ndjson.lines().filter(l -> l.contains("\"resourceType\":\"Observation\"")).count(),
                "hanako's 2 and saburo's 1");
        String actor = "account:" + doctor.accountId;
        assertTrue(eventually("action = 'bulk.complete' AND actor = ? AND ? = ANY(patients) AND ? = ANY(patients)",
                actor, hanako, saburo) > 0, "the completion names the patients it covers");
        assertTrue(entries("action = 'bulk.download' AND actor = ? AND ? = ANY(patients)", actor, saburo) > 0);
        HttpResponse<String> foreign = h.server.send(HttpRequest.newBuilder(URI.create(status))
                .header("Authorization", "Bearer " + h.server.adminToken()).GET().build());
        assertEquals(404, foreign.statusCode(), "a system client cannot poll the person's export");
    }

    private HttpResponse<String> fhirUrl(AccessToken token, String url) {
        return h.server.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token.getValue()).GET().build());
    }

    @Test
    void everythingGivesAPersonOnlyWhatTheyMayReadAndIsAuditedAsTheirRead() throws Exception {
        Flow f = request(publicApp, "user/Patient.rs user/Observation.rs");
        AuthorizationCode code = authorize(doctor, f, List.of("user/Patient.rs", "user/Observation.rs"));
        BearerAccessToken at = tokens(publicApp, code, f.verifier()).getTokens().getBearerAccessToken();
        HttpResponse<String> mine = fhir(at, "/Patient/" + hanako + "/$everything");
        assertEquals(200, mine.statusCode(), mine::body);
        String body = mine.body();
        assertEquals(3, body.split("\"mode\":\"match\"", -1).length - 1, "hanako and her two results: " + body);
        assertFalse(body.contains("Patient/" + ichiro) || body.contains("Patient/" + saburo), body);
        assertTrue(body.contains("\"mode\":\"outcome\"") && body.contains("Condition"),
                "the types outside the granted scopes are said to be left out: " + body);
        // no care relationship: what a read and a search give this person, no more (the demographics the access
        // model lets every physician read, none of ichiro's three results)
        assertEquals(fhir(at, "/Patient/" + ichiro).statusCode(), 200);
        HttpResponse<String> foreign = fhir(at, "/Patient/" + ichiro + "/$everything");
        assertEquals(200, foreign.statusCode(), foreign::body);
        assertEquals(1, foreign.body().split("\"mode\":\"match\"", -1).length - 1, foreign::body);
        assertFalse(foreign.body().contains("\"resourceType\":\"Observation\""), foreign::body);
        String actor = "account:" + doctor.accountId;
        assertTrue(entries("actor = ? AND action = 'read' AND outcome = 'success' AND ? = ANY(patients)"
                + " AND convert_from(entry, 'UTF8') LIKE '%$everything%'", actor, hanako) > 0, "the read, by the person");
        assertTrue(entries("actor = ? AND action = 'read' AND ? = ANY(patients)"
                + " AND convert_from(entry, 'UTF8') LIKE '%$everything%'", actor, ichiro) > 0, "this one too");
    }

    @Test
    void aTypeLeftUntickedOrOutsideTheScopesIsRefused() throws Exception {
        Flow f = request(publicApp, "user/Observation.rs user/Patient.rs");
        AccessTokenResponse ok = tokens(publicApp, authorize(doctor, f, List.of("user/Observation.rs")), f.verifier());
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertEquals(Scope.parse("user/Observation.rs"), ok.getTokens().getAccessToken().getScope());
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        HttpResponse<String> patient = fhir(at, "/Patient/" + hanako);
        assertEquals(403, patient.statusCode(), "Patient was unticked on the consent page");
        assertTrue(patient.body().contains("アプリに許可された範囲外"), patient::body);
        assertEquals(403, fhir(at, "/Patient?_count=5").statusCode(), "nor searched");

        // a scope beyond the app's registered maximum is not granted whatever is asked
        Flow g = request(confidentialApp, "user/Condition.rs user/Observation.rs");
        Browser.Page consent = consentPage(doctor, g);
        assertTrue(consent.contains("name=\"scope\" value=\"user/Observation.rs\""), consent::toString);
        assertFalse(consent.contains("name=\"scope\" value=\"user/Condition.rs\""), "beyond the maximum: not even"
                + " offered");
    }

    @Test
    void ehrLaunchCarriesThePatientAndPatientScopesStayWithIt() throws Exception {
        Browser.Page launchPage = doctor.browser.get("/console/smart/launch?patient=" + hanako);
        assertEquals(200, launchPage.status(), launchPage::toString);
        assertTrue(launchPage.contains("血糖ビューア"), launchPage::toString);
        Browser.Page launched = doctor.browser.submit("/console/smart/launch", "app", publicApp);
        URI to = backToApp(launched);
        assertTrue(to.toString().startsWith(LAUNCH_URL + "?iss="), to::toString);
        Map<String, List<String>> q = jp.mamori.kernel.QueryString.parse(to.getRawQuery());
        assertEquals(h.server.base(), q.get("iss").get(0));
        String launch = q.get("launch").get(0);

        Flow f = request(publicApp, "launch patient/*.rs", launch, REDIRECT, h.server.base());
        Browser.Page consent = consentPage(doctor, f);
        assertTrue(consent.contains("山田"), "the consent page names the launch patient: " + consent.body());
        AccessTokenResponse ok = tokens(publicApp, code(decide(doctor, consent, "allow", List.of("patient/*.rs"),
                null), f), f.verifier());
        assertEquals(hanako, ok.getCustomParameters().get("patient"), "the token response carries the patient");
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Patient/" + hanako).statusCode());
        assertEquals(403, fhir(at, "/Patient/" + saburo).statusCode(), "another patient the doctor cares for: refused");
        HttpResponse<String> obs = fhir(at, "/Observation?_total=accurate");
        assertEquals(2, total(obs), "only the launch patient's: " + obs.body());
        assertTrue(eventually("action = 'smart.launch' AND ? = ANY(patients)", hanako) > 0, "the launch is recorded");

        // the launch id is single use
        Flow again = request(publicApp, "launch patient/*.rs", launch, REDIRECT, h.server.base());
        AuthorizationResponse r = AuthorizationResponse.parse(backToApp(consentPage(doctor, again)));
        assertFalse(r.indicatesSuccess());
        assertEquals("invalid_request", r.toErrorResponse().getErrorObject().getCode());

        // no launch for a patient the person cannot open, nor for a malformed id
        assertEquals(403, doctor.browser.get("/console/smart/launch?patient=nobody-here").status());
        assertEquals(403, doctor.browser.get("/console/smart/launch?patient=%27%3Cx%3E").status());
    }

    @Test
    void standaloneLaunchLetsThePersonPickAPatientTheyMaySee() throws Exception {
        Flow f = request(publicApp, "launch/patient patient/Observation.rs");
        Browser.Page consent = consentPage(doctor, f);
        assertTrue(consent.contains("name=\"patient_ident\""), consent::toString);
        Browser.Page refused = decide(doctor, consent, "allow", List.of("patient/Observation.rs", "launch/patient"),
                "9199999999");
        assertEquals(400, refused.status(), "no such patient");
        assertTrue(refused.contains("参照できない患者"), refused::toString);
        Browser.Page page = consentPage(doctor, f);
        AccessTokenResponse ok = tokens(publicApp, code(decide(doctor, page, "allow",
                List.of("patient/Observation.rs", "launch/patient"), "9100000003"), f), f.verifier());
        assertEquals(saburo, ok.getCustomParameters().get("patient"));
        assertEquals(1, total(fhir(ok.getTokens().getBearerAccessToken(), "/Observation?_total=accurate")));
    }

    @Test
    void wrongVerifierAndReplayedCodesAreRefusedAndTheReplayRevokes() throws Exception {
        Flow f = request(publicApp, "user/Observation.rs");
        AuthorizationCode code = authorize(doctor, f, List.of("user/Observation.rs"));
        assertEquals("invalid_grant", error(exchange(publicApp, code, new CodeVerifier())), "wrong PKCE verifier");
        assertEquals("invalid_grant", error(exchange(publicApp, code, f.verifier())), "the code was spent");

        Flow g = request(publicApp, "user/Observation.rs");
        AuthorizationCode code2 = authorize(doctor, g, List.of("user/Observation.rs"));
        BearerAccessToken at = tokens(publicApp, code2, g.verifier()).getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        TokenResponse replay = exchange(publicApp, code2, g.verifier());
        assertEquals("invalid_grant", error(replay));
        assertEquals(401, fhir(at, "/Observation?patient=" + hanako).statusCode(),
                "a replayed code revokes the tokens issued from it");
        assertTrue(eventually("action = 'smart.token' AND outcome = 'refused' AND convert_from(entry, 'UTF8') LIKE ?",
                "%used before%") > 0);
        assertNotNull(h.one("SELECT revoked_reason FROM smart_grant WHERE revoked_reason = 'authorization code replayed'"
                + " LIMIT 1"));
        assertEquals("invalid_client", error(exchange(confidentialApp, code2, g.verifier())),
                "a confidential app without its secret");
    }

    @Test
    void aRedirectUriOffByOneCharacterIsShownNeverRedirected() {
        Flow f = request(publicApp, "user/Observation.rs", null, REDIRECT + "x", h.server.base());
        Browser.Page p = consentPage(doctor, f);
        assertEquals(400, p.status(), p::toString);
        assertTrue(p.response().headers().firstValue("Location").isEmpty());
        assertTrue(p.contains("リダイレクトURIが登録されたものと一致しません"), p::toString);
        Flow g = request("app-unknown", "user/Observation.rs");
        Browser.Page q = consentPage(doctor, g);
        assertEquals(400, q.status(), "an unknown client is shown too");
    }

    @Test
    void badRequestsGoBackToTheAppWithAnErrorAndTheirState() throws Exception {
        Flow wrongAud = request(publicApp, "user/Observation.rs", null, REDIRECT, "https://evil.example/fhir");
        AuthorizationErrorResponse e = AuthorizationResponse.parse(backToApp(consentPage(doctor, wrongAud)))
                .toErrorResponse();
        assertEquals("invalid_request", e.getErrorObject().getCode());
        assertEquals(wrongAud.state(), e.getState());

        StringBuilder huge = new StringBuilder("user/Observation.rs");
        for (int i = 0; i < 100; i++) {
            huge.append(" unknown").append(i);
        }
        AuthorizationResponse big = AuthorizationResponse.parse(backToApp(consentPage(doctor,
                request(publicApp, huge.toString()))));
        assertEquals("invalid_scope", big.toErrorResponse().getErrorObject().getCode());

        // without PKCE
        State st = new State();
        String noPkce = "/console/smart/authorize?response_type=code&client_id=" + publicApp + "&redirect_uri="
                + enc(REDIRECT) + "&scope=user%2FObservation.rs&state=" + st.getValue() + "&aud="
                + enc(h.server.base());
        AuthorizationResponse r = AuthorizationResponse.parse(backToApp(doctor.browser.get(noPkce)));
        assertEquals("invalid_request", r.toErrorResponse().getErrorObject().getCode());
        assertEquals(st, r.getState());

        // plain PKCE is refused: S256 only
        assertEquals("invalid_request", AuthorizationResponse.parse(backToApp(doctor.browser.get(noPkce
                + "&code_challenge=" + "a".repeat(43) + "&code_challenge_method=plain"))).toErrorResponse()
                .getErrorObject().getCode());

        StringBuilder many = new StringBuilder(noPkce);
        for (int i = 0; i < 30; i++) {
            many.append("&x").append(i).append("=1");
        }
        assertEquals(400, doctor.browser.get(many.toString()).status(), "too many parameters: shown");
        assertEquals(400, doctor.browser.get(noPkce + "&client_id=" + publicApp).status(), "a repeated parameter");

        // the token endpoint: a huge form, an unknown grant, a missing verifier
        HttpResponse<String> big2 = h.server.send(HttpRequest.newBuilder(URI.create(origin() + "/oauth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers
                        .ofString("grant_type=authorization_code&code=" + "x".repeat(40_000))).build());
        assertEquals(400, big2.statusCode());
        assertTrue(big2.body().contains("invalid_request"), big2::body);
        HttpResponse<String> noVerifier = h.server.send(HttpRequest.newBuilder(URI.create(origin() + "/oauth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers
                        .ofString("grant_type=authorization_code&code=abc&redirect_uri=" + enc(REDIRECT)
                                + "&client_id=" + publicApp)).build());
        assertEquals(400, noVerifier.statusCode());
        assertTrue(noVerifier.body().contains("invalid_request"), noVerifier::body);
    }

    @Test
    void consentDeniedTellsTheAppAccessDenied() throws Exception {
        Flow forged = request(publicApp, "user/Observation.rs");
        Browser.Page page = consentPage(doctor, forged);
        Map<String, String> fields = new LinkedHashMap<>(page.hiddenFields("/console/smart/authorize"));
        fields.put("csrf", "forged");
        fields.put("decision", "allow");
        fields.put("scope", "user/Observation.rs");
        Browser.Page refused = doctor.browser.post("/console/smart/authorize", fields, Map.of());
        assertEquals(403, refused.status(), "no consent without the session's CSRF token");
        assertTrue(refused.response().headers().firstValue("Location").isEmpty());

        Flow f = request(publicApp, "user/Observation.rs");
        AuthorizationResponse r = AuthorizationResponse.parse(backToApp(decide(doctor, consentPage(doctor, f), "deny",
                List.of("user/Observation.rs"), null)));
        assertEquals("access_denied", r.toErrorResponse().getErrorObject().getCode());
        assertEquals(f.state(), r.getState());
        assertTrue(eventually("action = 'smart.consent' AND outcome = 'refused' AND convert_from(entry, 'UTF8') LIKE '%denied%'")
                > 0);
    }

    @Test
    void wrongExpiredAndRevokedTokensAreRefused() throws Exception {
        assertEquals(401, fhir(new BearerAccessToken("mamori_sat.nothing"), "/Observation").statusCode());
        Flow f = request(publicApp, "user/Observation.rs offline_access");
        AccessTokenResponse ok = tokens(publicApp, authorize(doctor, f, List.of("user/Observation.rs",
                "offline_access")), f.verifier());
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        update("UPDATE smart_token SET expires_at = now() - interval '1 second' WHERE token_sha256 = ?",
                Hashes.sha256(at.getValue()));
        HttpResponse<String> expired = fhir(at, "/Observation?patient=" + hanako);
        assertEquals(401, expired.statusCode());
        assertTrue(expired.body().contains("OperationOutcome"), expired::body);

        Flow g = request(publicApp, "user/Observation.rs offline_access");
        AccessTokenResponse ok2 = tokens(publicApp, authorize(doctor, g, List.of("user/Observation.rs",
                "offline_access")), g.verifier());
        BearerAccessToken at2 = ok2.getTokens().getBearerAccessToken();
        HTTPResponse revoked = http(new TokenRevocationRequest(URI.create(origin() + "/oauth/revoke"),
                new ClientID(publicApp), ok2.getTokens().getRefreshToken()).toHTTPRequest());
        assertEquals(200, revoked.getStatusCode());
        assertEquals(401, fhir(at2, "/Observation?patient=" + hanako).statusCode(),
                "revoking the refresh token ends the grant, its access token too");
        assertEquals("invalid_grant", error(send(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(publicApp), new RefreshTokenGrant(ok2.getTokens().getRefreshToken())))));
        assertTrue(entries("actor = 'anonymous' AND action = 'authenticate' AND outcome = 'refused'") > 0,
                "a refused token is recorded");
    }

    @Test
    void refreshTokensRotateAndReuseRevokesTheFamily() throws Exception {
        Flow f = request(publicApp, "user/Observation.rs offline_access");
        AccessTokenResponse first = tokens(publicApp, authorize(doctor, f, List.of("user/Observation.rs",
                "offline_access")), f.verifier());
        RefreshToken r1 = first.getTokens().getRefreshToken();
        TokenResponse second = send(new TokenRequest(URI.create(origin() + "/oauth/token"), new ClientID(publicApp),
                new RefreshTokenGrant(r1)));
        assertTrue(second.indicatesSuccess());
        RefreshToken r2 = second.toSuccessResponse().getTokens().getRefreshToken();
        BearerAccessToken at2 = second.toSuccessResponse().getTokens().getBearerAccessToken();
        assertNotNull(r2);
        assertFalse(r1.equals(r2), "rotated");
        assertEquals(200, fhir(at2, "/Observation?patient=" + hanako).statusCode());
        assertEquals("invalid_grant", error(send(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(publicApp), new RefreshTokenGrant(r1)))), "the rotated one used again");
        assertEquals(401, fhir(at2, "/Observation?patient=" + hanako).statusCode(), "the whole family is revoked");
        assertEquals("invalid_grant", error(send(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(publicApp), new RefreshTokenGrant(r2)))));
    }

    @Test
    void aSuspendedPersonsTokenStopsAtOnce() throws Exception {
        Person nurse = h.enrolStaff("smart.kango", "内科", "qualification", "physician", "licence_physician", "323456");
        clinic.role(nurse.accountId, "physician", "内科");
        clinic.cares(nurse.accountId, hanako);
        Flow f = request(publicApp, "user/Observation.rs offline_access");
        AccessTokenResponse ok = tokens(publicApp, authorize(nurse, f, List.of("user/Observation.rs",
                "offline_access")), f.verifier());
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        h.server.server().identity().accounts().suspend(nurse.accountId, "退職", "account:" + h.admin.accountId);
        assertEquals(401, fhir(at, "/Observation?patient=" + hanako).statusCode(), "suspended: refused at once");
        assertEquals("invalid_grant", error(send(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(publicApp), new RefreshTokenGrant(ok.getTokens().getRefreshToken())))));
    }

    @Test
    void aDisabledAppIsRefusedEverywhere() throws Exception {
        String app = register("一時停止するアプリ", false, REDIRECT, "user/Observation.rs");
        Flow f = request(app, "user/Observation.rs");
        BearerAccessToken at = tokens(app, authorize(doctor, f, List.of("user/Observation.rs")), f.verifier())
                .getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        h.admin.browser.get("/console/admin/smart-app?id=" + app);
        Browser.Page saved = h.adminSubmit("/console/admin/smart-app", "name", "一時停止するアプリ", "redirects",
                REDIRECT, "launch_url", LAUNCH_URL, "scopes", "user/Observation.rs");
        assertEquals(200, saved.status(), saved::toString);
        assertTrue(saved.contains("第2版"), saved::toString);
        assertEquals(Boolean.FALSE, h.one("SELECT enabled FROM smart_app WHERE client_id = ?", app));
        assertEquals(2L, h.<Long>one("SELECT count(*) FROM smart_app_version WHERE client_id = ?", app));
        assertEquals(401, fhir(at, "/Observation?patient=" + hanako).statusCode(), "the app's tokens stop");
        Browser.Page p = consentPage(doctor, request(app, "user/Observation.rs"));
        assertEquals(400, p.status());
        assertTrue(p.contains("利用が停止されています"), p::toString);
    }

    @Test
    void introspectionIsForConfidentialAppsAboutTheirOwnTokens() throws Exception {
        Flow f = request(confidentialApp, "user/Observation.rs online_access");
        AuthorizationCode code = authorize(doctor, f, List.of("user/Observation.rs", "online_access"));
        ClientSecretBasic auth = new ClientSecretBasic(new ClientID(confidentialApp), new Secret(confidentialSecret));
        TokenResponse r = send(new TokenRequest(URI.create(origin() + "/oauth/token"), auth,
                new AuthorizationCodeGrant(code, URI.create(REDIRECT), f.verifier())));
        assertTrue(r.indicatesSuccess());
        BearerAccessToken at = r.toSuccessResponse().getTokens().getBearerAccessToken();

        TokenIntrospectionResponse mine = TokenIntrospectionResponse.parse(http(new TokenIntrospectionRequest(
                URI.create(origin() + "/oauth/introspect"), auth, at).toHTTPRequest()));
        assertTrue(mine.toSuccessResponse().isActive());
        assertEquals(Scope.parse("user/Observation.rs online_access"), mine.toSuccessResponse().getScope());

        Flow g = request(publicApp, "user/Observation.rs");
        BearerAccessToken other = tokens(publicApp, authorize(doctor, g, List.of("user/Observation.rs")),
                g.verifier()).getTokens().getBearerAccessToken();
        TokenIntrospectionResponse foreign = TokenIntrospectionResponse.parse(http(new TokenIntrospectionRequest(
                URI.create(origin() + "/oauth/introspect"), auth, other).toHTTPRequest()));
        assertFalse(foreign.toSuccessResponse().isActive(), "another app's token");

        HTTPResponse publicClient = http(new TokenIntrospectionRequest(URI.create(origin() + "/oauth/introspect"),
                new ClientSecretBasic(new ClientID(publicApp), new Secret("guess")), other).toHTTPRequest());
        assertEquals(401, publicClient.getStatusCode(), "a public app may not introspect");
        HTTPResponse wrongSecret = http(new TokenIntrospectionRequest(URI.create(origin() + "/oauth/introspect"),
                new ClientSecretBasic(new ClientID(confidentialApp), new Secret("mamori_scs.wrong")), at)
                .toHTTPRequest());
        assertEquals(401, wrongSecret.getStatusCode());
    }

    @Test
    void signingInFirstReturnsToTheConsentPage() throws Exception {
        Person p = h.enrolStaff("smart.login", "内科", "qualification", "physician", "licence_physician", "423456");
        clinic.role(p.accountId, "physician", "内科");
        p.logOut(p.browser);
        Flow f = request(publicApp, "user/Observation.rs");
        Browser.Page hop = p.browser.get(f.request().getRawPath() + "?" + f.request().getRawQuery());
        assertEquals(200, hop.status());
        Browser.Page login = p.browser.get("/console/smart/authorize?" + f.request().getRawQuery());
        assertEquals("/console/login", login.path(), "not signed in: the login page");
        Browser.Page factor = p.browser.submit("/console/login", "login_id", p.loginId, "password", p.password);
        Browser.Page consent = p.browser.submit("/console/login/factor", "code", p.totp());
        assertEquals("/console/smart/authorize", consent.path(), "back to the app's request after signing in");
        assertTrue(consent.contains("血糖ビューア"), consent::toString);
        assertEquals("/console/login/factor", factor.path(), factor::toString);
        assertEquals(303, decide(p, consent, "deny", new ArrayList<>(), null).status());
    }

    // ---- openid fhirUser: ID tokens and the person's Practitioner -------------------------------------------------

    private HttpResponse<String> anonymousGet(String uri) {
        return h.server.send(HttpRequest.newBuilder(URI.create(uri)).GET().build());
    }

    /** An OpenID Connect authentication request (Nimbus OIDC SDK) with PKCE, a nonce and SMART's aud. */
    private Flow openIdRequest(String clientId, String scope, Nonce nonce) {
        CodeVerifier verifier = new CodeVerifier();
        State state = new State();
        AuthenticationRequest.Builder b = new AuthenticationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
                Scope.parse(scope), new ClientID(clientId), URI.create(REDIRECT))
                .endpointURI(URI.create(origin() + "/oauth/authorize")).state(state)
                .codeChallenge(verifier, CodeChallengeMethod.S256).customParameter("aud", h.server.base());
        if (nonce != null) {
            b.nonce(nonce);
        }
        return new Flow(verifier, state, b.build().toURI());
    }

    private OIDCTokens openIdTokens(String clientId, Flow f, List<String> ticked) throws Exception {
        AuthorizationCode code = authorize(doctor, f, ticked);
        TokenResponse r = OIDCTokenResponseParser.parse(http(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(clientId), new AuthorizationCodeGrant(code, URI.create(REDIRECT), f.verifier()))
                .toHTTPRequest()));
        assertTrue(r.indicatesSuccess(), () -> String.valueOf(r.toErrorResponse().getErrorObject().toJSONObject()));
        return ((OIDCTokenResponse) r.toSuccessResponse()).getOIDCTokens();
    }

    @Test
    void openidFhirUserGivesAnIdTokenSignedByMamoriAndThePersonsOwnPractitioner() throws Exception {
        String app = register("職員ポータル", false, REDIRECT, "user/Observation.rs openid fhirUser");
        String base = h.server.base();
        HttpResponse<String> conf = anonymousGet(origin() + "/fhir/.well-known/smart-configuration");
        for (String s : List.of("\"jwks_uri\":\"" + origin() + "/oauth/jwks\"", "sso-openid-connect", "\"openid\"",
                "\"fhirUser\"", "\"issuer\":\"" + base + "\"")) {
            assertTrue(conf.body().contains(s), () -> s + " in " + conf.body());
        }
        // the OpenID Provider configuration at the issuer (the FHIR base), read by the OIDC library
        HttpResponse<String> discovery = anonymousGet(base + "/.well-known/openid-configuration");
        assertEquals(200, discovery.statusCode(), discovery::body);
        OIDCProviderMetadata md = OIDCProviderMetadata.parse(discovery.body());
        assertEquals(new Issuer(base), md.getIssuer());
        assertTrue(md.getIDTokenJWSAlgs().contains(JWSAlgorithm.RS256), "RS256, as OpenID Connect requires");
        HttpResponse<String> keys = anonymousGet(md.getJWKSetURI().toString());
        assertEquals(200, keys.statusCode(), keys::body);
        JWKSet jwks = JWKSet.parse(keys.body());
        assertFalse(jwks.getKeys().isEmpty());
        assertTrue(jwks.getKeys().stream().noneMatch(JWK::isPrivate), "only public keys are published");
        assertFalse(keys.body().contains("\"d\""), "no private exponent");
        byte[] sealed = h.one("SELECT sealed_private FROM smart_signing_key WHERE retired_at IS NULL");
        assertFalse(new String(sealed, StandardCharsets.ISO_8859_1).contains("\"d\""), "the private key is sealed");

        Nonce nonce = new Nonce();
        Flow f = openIdRequest(app, "openid fhirUser user/Observation.rs", nonce);
        Browser.Page consent = consentPage(doctor, f);
        assertTrue(consent.contains("あなたが誰かをアプリに伝える"), "openid in words: " + consent.body());
        assertTrue(consent.contains("あなたの職員情報（氏名）をアプリが参照する"), "fhirUser in words");
        AuthorizationCode granted = code(decide(doctor, consent, "allow", List.of("openid", "fhirUser",
                "user/Observation.rs"), null), f);
        OIDCTokens tokens = exchangeOpenId(app, granted, f);
        JWT idToken = tokens.getIDToken();
        assertNotNull(idToken, "openid granted: an ID token");
        assertEquals(JWSAlgorithm.RS256, idToken.getHeader().getAlgorithm());
        String kid = ((SignedJWT) idToken).getHeader().getKeyID();
        assertNotNull(jwks.getKeyByKeyId(kid), "the token names its key by kid, and the JWKS holds it");

        // verified by the library from the published JWKS: signature, iss, aud, exp, iat, nonce
        IDTokenClaimsSet claims = new IDTokenValidator(new Issuer(base), new ClientID(app), JWSAlgorithm.RS256, jwks)
                .validate(idToken, nonce);
        assertEquals(doctor.accountId.toString(), claims.getSubject().getValue());
        assertEquals(List.of(new com.nimbusds.oauth2.sdk.id.Audience(app)), claims.getAudience());
        assertEquals(300, (claims.getExpirationTime().getTime() - claims.getIssueTime().getTime()) / 1000);
        String fhirUser = claims.getStringClaim("fhirUser");
        assertEquals(base + "/Practitioner/staff-" + doctor.accountId, fhirUser);
        assertThrows(com.nimbusds.jose.proc.BadJOSEException.class, () -> new IDTokenValidator(new Issuer(base),
                new ClientID(app), JWSAlgorithm.RS256, jwks).validate(idToken, new Nonce()), "another nonce");
        assertThrows(com.nimbusds.jose.proc.BadJOSEException.class, () -> new IDTokenValidator(new Issuer(base),
                new ClientID(publicApp), JWSAlgorithm.RS256, jwks).validate(idToken, nonce), "another audience");

        // the person's own Practitioner, read with the access token (no Practitioner scope, no role for it)
        HttpResponse<String> me = h.server.send(HttpRequest.newBuilder(URI.create(fhirUser))
                .header("Authorization", "Bearer " + tokens.getAccessToken().getValue()).GET().build());
        assertEquals(200, me.statusCode(), me::body);
        assertTrue(me.body().contains("\"resourceType\":\"Practitioner\""), me::body);
        assertTrue(me.body().contains(doctor.accountId.toString()), "identified by the account's id");
        assertTrue(me.body().contains("https://mamori.jp/fhir/sid/account"), me::body);
        assertTrue(me.body().contains("山田") && me.body().contains("ヤマダ"), "the account's names: " + me.body());
        assertFalse(me.body().contains("223456"), "no licence number");
        assertTrue(eventually("action = 'create' AND convert_from(entry, 'UTF8') LIKE ?",
                "%Practitioner/staff-" + doctor.accountId + "%") > 0, "the derived Practitioner is audited");
        assertEquals(1L, (Long) h.one("SELECT count(*) FROM resource_version WHERE res_type = 'Practitioner' AND res_id = ?"
                + " AND author = 'system:smart-fhir-user' AND reason LIKE 'SMART fhirUser%'", "staff-" + doctor.accountId));
        assertEquals(403, fhir(tokens.getAccessToken(), "/Practitioner?_id=staff-" + doctor.accountId).statusCode(),
                "one record at a time: not by search");
        assertEquals(403, fhir(tokens.getAccessToken(), "/Practitioner/staff-" + h.accountId(h.admin.loginId)).statusCode(),
                "not someone else's");

        // the key has signed for longer than its period: the next signing rotates it; both stay published
        update("UPDATE smart_signing_key SET created_at = created_at - interval '100 days' WHERE kid = ?", kid);
        // a second grant without fhirUser: an ID token without the claim, and the Practitioner is not readable
        Flow g = openIdRequest(app, "openid fhirUser user/Observation.rs", null);
        OIDCTokens second = openIdTokens(app, g, List.of("openid", "user/Observation.rs"));
        String newKid = ((SignedJWT) second.getIDToken()).getHeader().getKeyID();
        assertFalse(kid.equals(newKid), "a new key after rotation");
        JWKSet rotated = JWKSet.parse(anonymousGet(md.getJWKSetURI().toString()).body());
        assertNotNull(rotated.getKeyByKeyId(kid), "the retired key stays published");
        assertNotNull(rotated.getKeyByKeyId(newKid));
        new IDTokenValidator(new Issuer(base), new ClientID(app), JWSAlgorithm.RS256, rotated).validate(idToken, nonce);
        IDTokenClaimsSet plain = new IDTokenValidator(new Issuer(base), new ClientID(app), JWSAlgorithm.RS256,
                rotated).validate(second.getIDToken(), null);
        assertNull(plain.getStringClaim("fhirUser"));
        assertNull(plain.getNonce(), "no nonce asked, none given");
        assertEquals(403, fhir(second.getAccessToken(), "/Practitioner/staff-" + doctor.accountId).statusCode(),
                "fhirUser left unticked: the app may not read it");
        assertEquals(1L, (Long) h.one("SELECT count(*) FROM resource_version WHERE res_type = 'Practitioner' AND res_id = ?"
                + " AND author = 'system:smart-fhir-user' AND reason LIKE 'SMART fhirUser%'", "staff-" + doctor.accountId),
                "an unchanged account writes no second version");
    }

    private OIDCTokens exchangeOpenId(String clientId, AuthorizationCode code, Flow f) throws Exception {
        TokenResponse r = OIDCTokenResponseParser.parse(http(new TokenRequest(URI.create(origin() + "/oauth/token"),
                new ClientID(clientId), new AuthorizationCodeGrant(code, URI.create(REDIRECT), f.verifier()))
                .toHTTPRequest()));
        assertTrue(r.indicatesSuccess(), () -> String.valueOf(r.toErrorResponse().getErrorObject().toJSONObject()));
        return ((OIDCTokenResponse) r.toSuccessResponse()).getOIDCTokens();
    }

    @Test
    void aPersonRevokesOnlyTheirOwnAppsAndOnlyWithTheFormsToken() throws Exception {
        Flow f = request(publicApp, "user/Observation.rs offline_access");
        AccessTokenResponse ok = tokens(publicApp, authorize(doctor, f, List.of("user/Observation.rs", "offline_access")),
                f.verifier());
        BearerAccessToken at = ok.getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        Browser.Page mine = doctor.browser.get("/console/me");
        assertTrue(mine.contains("id=\"my-apps\"") && mine.contains("血糖ビューア"), mine::toString);

        Person other = h.enrolStaff("smart.other", "内科", "qualification", "physician", "licence_physician", "523456");
        other.browser.get("/console/me");
        Map<String, String> form = new LinkedHashMap<>(other.browser.last().hiddenFields("/console/me/recovery-codes"));
        form.put("app", publicApp); // a valid form token, but the other person's own account
        Browser.Page tried = other.browser.post("/console/me/apps/revoke", form, Map.of());
        assertTrue(tried.contains("取り消す許可はありませんでした"), tried::toString);
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode(), "another person cannot revoke it");

        Browser.Page forged = doctor.browser.postRaw("/console/me/apps/revoke", "application/x-www-form-urlencoded",
                ("app=" + publicApp).getBytes(StandardCharsets.UTF_8), Map.of());
        assertFalse(forged.status() == 303 && forged.response().headers().firstValue("Location").orElse("")
                .contains("apps=revoked"), "no CSRF token: refused");
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode(), "still allowed");

        doctor.browser.get("/console/me");
        Browser.Page revoked = doctor.browser.submit("/console/me/apps/revoke", "app", publicApp);
        assertTrue(revoked.contains("アプリの許可を取り消しました"), revoked::toString);
        assertEquals(401, fhir(at, "/Observation?patient=" + hanako).statusCode(), "the access token ends at once");
        TokenResponse refreshed = send(new TokenRequest(URI.create(origin() + "/oauth/token"), new ClientID(publicApp),
                new RefreshTokenGrant(ok.getTokens().getRefreshToken())));
        assertEquals("invalid_grant", error(refreshed), "and the refresh token");
    }

    // ---- private_key_jwt for confidential apps ------------------------------------------------------------------------

    /** Registers an app that authenticates with its keys (kind confidential_keys), with the step-up. */
    private String registerWithKeys(String name, String jwks) {
        h.admin.browser.get("/console/admin/smart-apps");
        Browser.Page done = h.adminSubmit("/console/admin/smart-apps", "name", name, "kind", "confidential_keys",
                "jwks", jwks, "redirects", REDIRECT, "launch_url", LAUNCH_URL, "scopes", "user/Observation.rs",
                "enabled", "1");
        assertEquals(200, done.status(), done::toString);
        assertTrue(done.contains("を登録しました"), done::toString);
        assertFalse(done.body().contains("client-secret"), "an app with keys gets no secret");
        return h.one("SELECT client_id FROM smart_app WHERE name = ?", name);
    }

    /** The token endpoint's answer to a code exchange authenticated by this client assertion (sent as it is). */
    private HttpResponse<String> exchangeAsserted(String clientId, AuthorizationCode code, Flow f, String assertion) {
        String form = "grant_type=authorization_code&code=" + enc(code.getValue()) + "&redirect_uri=" + enc(REDIRECT)
                + "&code_verifier=" + enc(f.verifier().getValue()) + "&client_id=" + enc(clientId)
                + "&client_assertion_type=" + enc("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                + "&client_assertion=" + enc(assertion);
        return h.server.send(HttpRequest.newBuilder(URI.create(origin() + "/oauth/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build());
    }

    private static String assertion(String clientId, String aud, Date exp, String jti, JWSAlgorithm alg,
                                    com.nimbusds.jose.JWSSigner signer, String kid) throws Exception {
        SignedJWT jwt = new SignedJWT(new com.nimbusds.jose.JWSHeader.Builder(alg).keyID(kid).build(),
                new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(aud)
                        .expirationTime(exp).issueTime(new Date()).jwtID(jti).build());
        jwt.sign(signer);
        return jwt.serialize();
    }

    @Test
    void appsAuthenticateWithTheirKeysAndBadAssertionsAreRefused() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID("app-rsa-1").generate();
        ECKey ec = new ECKeyGenerator(Curve.P_384).keyID("app-ec-1").generate();
        // what registration refuses: a private key, a key that cannot sign ES384 or RS384
        h.admin.browser.get("/console/admin/smart-apps");
        Browser.Page priv = h.adminSubmit("/console/admin/smart-apps", "name", "鍵アプリ（秘密鍵）", "kind",
                "confidential_keys", "jwks", new JWKSet(rsa).toString(false), "redirects", REDIRECT, "scopes",
                "user/Observation.rs", "enabled", "1");
        assertEquals(400, priv.status(), priv::toString);
        assertTrue(priv.contains("private key"), priv::toString);
        h.admin.browser.get("/console/admin/smart-apps");
        Browser.Page p256 = h.adminSubmit("/console/admin/smart-apps", "name", "鍵アプリ（P-256）", "kind",
                "confidential_keys", "jwks", new JWKSet(new ECKeyGenerator(Curve.P_256).generate().toPublicJWK())
                        .toString(), "redirects", REDIRECT, "scopes", "user/Observation.rs", "enabled", "1");
        assertEquals(400, p256.status(), "ES384 needs P-384");

        String app = registerWithKeys("退院サマリ作成支援（鍵）", new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK()))
                .toString());
        assertTrue(h.<String>one("SELECT jwks FROM smart_app WHERE client_id = ?", app).contains("app-ec-1"));
        assertNull(h.one("SELECT secret_sha256 FROM smart_app WHERE client_id = ?", app));
        String endpoint = origin() + "/oauth/token";
        Date in4 = new Date(System.currentTimeMillis() + 240_000);

        Flow f = request(app, "user/Observation.rs");
        AuthorizationCode code = authorize(doctor, f, List.of("user/Observation.rs"));
        // refusals (none spends the code: the client is refused before the code is looked at)
        assertEquals(401, exchange(app, code, f.verifier()) instanceof TokenErrorResponse e
                ? e.getErrorObject().getHTTPStatusCode() : 0, "client_id alone: an app with keys must assert");
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("wrong aud", assertion(app, endpoint + "x", in4, UUID.randomUUID().toString(), JWSAlgorithm.RS384,
                new RSASSASigner(rsa), rsa.getKeyID()));
        bad.put("expired", assertion(app, endpoint, new Date(System.currentTimeMillis() - 120_000),
                UUID.randomUUID().toString(), JWSAlgorithm.RS384, new RSASSASigner(rsa), rsa.getKeyID()));
        bad.put("exp too far ahead", assertion(app, endpoint, new Date(System.currentTimeMillis() + 3_600_000),
                UUID.randomUUID().toString(), JWSAlgorithm.RS384, new RSASSASigner(rsa), rsa.getKeyID()));
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("unknown-kid").generate();
        bad.put("unknown kid", assertion(app, endpoint, in4, UUID.randomUUID().toString(), JWSAlgorithm.RS384,
                new RSASSASigner(stranger), stranger.getKeyID()));
        bad.put("right kid, another key", assertion(app, endpoint, in4, UUID.randomUUID().toString(),
                JWSAlgorithm.RS384, new RSASSASigner(stranger), rsa.getKeyID()));
        bad.put("RS256 (not SMART's)", assertion(app, endpoint, in4, UUID.randomUUID().toString(), JWSAlgorithm.RS256,
                new RSASSASigner(rsa), rsa.getKeyID()));
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        bad.put("HS256", assertion(app, endpoint, in4, UUID.randomUUID().toString(), JWSAlgorithm.HS256,
                new com.nimbusds.jose.crypto.MACSigner(secret), rsa.getKeyID()));
        bad.put("alg none", new com.nimbusds.jwt.PlainJWT(new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(app)
                .subject(app).audience(endpoint).expirationTime(in4).jwtID(UUID.randomUUID().toString()).build())
                .serialize());
        bad.put("another app's", assertion(confidentialApp, endpoint, in4, UUID.randomUUID().toString(),
                JWSAlgorithm.RS384, new RSASSASigner(rsa), rsa.getKeyID()));
        for (Map.Entry<String, String> b : bad.entrySet()) {
            HttpResponse<String> r = exchangeAsserted(app, code, f, b.getValue());
            assertEquals(401, r.statusCode(), () -> b.getKey() + ": " + r.body());
            assertTrue(r.body().contains("invalid_client"), () -> b.getKey() + ": " + r.body());
        }

        // a good RS384 assertion made by the OAuth library (PrivateKeyJWT), then the same assertion again
        PrivateKeyJWT good = new PrivateKeyJWT(new ClientID(app), URI.create(endpoint), JWSAlgorithm.RS384,
                rsa.toPrivateKey(), rsa.getKeyID(), null);
        TokenResponse ok = send(new TokenRequest(URI.create(endpoint), good, new AuthorizationCodeGrant(code,
                URI.create(REDIRECT), f.verifier())));
        assertTrue(ok.indicatesSuccess(), () -> ok.toErrorResponse().getErrorObject().toJSONObject().toString());
        BearerAccessToken at = ok.toSuccessResponse().getTokens().getBearerAccessToken();
        assertEquals(200, fhir(at, "/Observation?patient=" + hanako).statusCode());
        Flow g = request(app, "user/Observation.rs");
        AuthorizationCode code2 = authorize(doctor, g, List.of("user/Observation.rs"));
        TokenResponse replayed = send(new TokenRequest(URI.create(endpoint), good, new AuthorizationCodeGrant(code2,
                URI.create(REDIRECT), g.verifier())));
        assertEquals("invalid_client", error(replayed), "a jti is single use");
        // ES384 with the other key; introspection with a fresh assertion
        TokenResponse es = send(new TokenRequest(URI.create(endpoint), new PrivateKeyJWT(new ClientID(app),
                URI.create(endpoint), JWSAlgorithm.ES384, ec.toPrivateKey(), ec.getKeyID(), null),
                new AuthorizationCodeGrant(code2, URI.create(REDIRECT), g.verifier())));
        assertTrue(es.indicatesSuccess(), () -> es.toErrorResponse().getErrorObject().toJSONObject().toString());
        TokenIntrospectionResponse mine = TokenIntrospectionResponse.parse(http(new TokenIntrospectionRequest(
                URI.create(origin() + "/oauth/introspect"), new PrivateKeyJWT(new ClientID(app), URI.create(endpoint),
                JWSAlgorithm.ES384, ec.toPrivateKey(), ec.getKeyID(), null), at).toHTTPRequest()));
        assertTrue(mine.toSuccessResponse().isActive(), "an app with keys is confidential: it may introspect");
        assertTrue(eventually("action = 'smart.token' AND outcome = 'refused' AND convert_from(entry, 'UTF8') LIKE ?",
                "%jti was used before%") > 0, "the replay is recorded");
    }

    // ---- tamper checks ------------------------------------------------------------------------------------------

    /** {@code ./mamori verify-records} on the running server's folder; its output, with the exit code checked when >= 0. */
    private String verifyRecords(int expectedCode) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = jp.mamori.cli.Main.run(List.of("verify-records", "--data", h.server.dataDir().toString()),
                new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        if (expectedCode >= 0) {
            assertEquals(expectedCode, code, text);
        }
        return text;
    }

    @Test
    void scopesWidenedOrRedirectsAddedBySqlAreFoundByVerifyRecordsAndTheProbe() throws Exception {
        Flow f = request(publicApp, "user/Observation.rs");
        tokens(publicApp, authorize(doctor, f, List.of("user/Observation.rs")), f.verifier());
        String grant = h.one("SELECT grant_id::text FROM smart_grant WHERE client_id = ? ORDER BY created_at DESC"
                + " LIMIT 1", publicApp);
        javax.sql.DataSource ds = h.server.server().database().dataSource();
        jp.mamori.identity.SecretSealer keys = jp.mamori.identity.SecretSealer.open(h.server.dataDir()
                .resolve("secrets").resolve("identity-keys"));
        jp.mamori.compliance.Probe probe = jp.mamori.compliance.StandardProbes.sealedGrants(ds, keys);
        // the clinic's Observations are made in Java (a Date with milliseconds under a precision of seconds): their
        // date index holds what their stored text says, so the whole check is clean before a seal is broken
        String clean = verifyRecords(0);
        assertTrue(clean.contains("apps, grants and partner shares held against their seals"), clean);
        assertFalse(clean.contains("MISMATCH smart_"), clean);
        assertEquals(jp.mamori.compliance.Evidence.Status.PASS, probe.evaluate(java.time.Instant.now()).status());

        String maxScopes = h.one("SELECT max_scopes FROM smart_app WHERE client_id = ?", publicApp);
        // the database superuser widens the grant and adds a redirect URI, behind the server's back
        update("UPDATE smart_grant SET scopes = 'user/*.cruds offline_access' WHERE grant_id = ?::uuid", grant);
        update("UPDATE smart_app SET redirect_uris = redirect_uris || '{https://evil.example/cb}'::text[],"
                + " max_scopes = 'user/*.cruds' WHERE client_id = ?", publicApp);
        try {
            String found = verifyRecords(1);
            assertTrue(found.contains("MISMATCH smart_grant " + grant), found);
            assertTrue(found.contains("MISMATCH smart_app " + publicApp), found);
            jp.mamori.compliance.Evidence e = probe.evaluate(java.time.Instant.now());
            assertEquals(jp.mamori.compliance.Evidence.Status.FAIL, e.status(), e::toString);
        } finally {
            update("UPDATE smart_grant SET scopes = 'user/Observation.rs' WHERE grant_id = ?::uuid", grant);
            update("UPDATE smart_app SET redirect_uris = array_remove(redirect_uris, 'https://evil.example/cb'),"
                    + " max_scopes = ? WHERE client_id = ?", maxScopes, publicApp);
        }
        String restored = verifyRecords(-1);
        assertFalse(restored.contains("MISMATCH smart_"), restored);
        assertEquals(jp.mamori.compliance.Evidence.Status.PASS, probe.evaluate(java.time.Instant.now()).status());
    }
}
