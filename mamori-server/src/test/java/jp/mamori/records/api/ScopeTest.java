package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.identity.SystemClients;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.matchIds;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SMART system scopes are enforced on every request, bundle entry, include, chain and _has. */
class ScopeTest {

    private static HttpResponse<String> as(String token, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s().base() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/fhir+json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        return s().send(b.build());
    }

    private static void forbidden(HttpResponse<String> r) {
        status(403, r);
        assertEquals("OperationOutcome", json(r).path("resourceType").asText(), r::body);
        assertEquals("forbidden", json(r).path("issue").get(0).path("code").asText(), r::body);
    }

    private static String observation(String pid, String code) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"Patient/" + pid + "\"}}";
    }

    @Test
    void patientReadScopeReadsAndSearchesPatientsButCannotWriteOrReadObservations() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Scope" + v));
        String oid = createId("Observation", observation(pid, "s" + v));
        String token = s().tokenWithScopes("system/Patient.read");
        status(200, as(token, "GET", "/Patient/" + pid, null));
        HttpResponse<String> found = as(token, "GET", "/Patient?identifier=" + enc(SYS + "|" + v), null);
        status(200, found);
        assertEquals(List.of(pid), matchIds(json(found)));
        status(200, as(token, "GET", "/Patient/" + pid + "/_history", null));
        forbidden(as(token, "POST", "/Patient", patient(uid(), "NotAllowed")));
        forbidden(as(token, "PUT", "/Patient/" + pid, InteractionsTest.withId(patient(v, "Changed"), pid)));
        forbidden(as(token, "DELETE", "/Patient/" + pid, null));
        forbidden(as(token, "GET", "/Observation/" + oid, null));
        forbidden(as(token, "GET", "/Observation?subject=" + pid, null));
        forbidden(as(token, "GET", "/_history", null));
        assertEquals("1", json(s().get("/Patient/" + pid)).path("meta").path("versionId").asText());
    }

    @Test
    void typeHistoryIsASearchAndInstanceHistoryIsARead() {
        // Issue 15: system/Patient.r was refused Patient?name=a but got every Patient through Patient/_history.
        String v = uid();
        String pid = createId("Patient", patient(v, "Hist" + v));
        String oid = createId("Observation", observation(pid, "h" + v));
        String readOnly = s().tokenWithScopes("system/Patient.r");
        forbidden(as(readOnly, "GET", "/Patient?name=hist" + v, null));
        forbidden(as(readOnly, "GET", "/Patient/_history", null));
        forbidden(as(readOnly, "GET", "/Patient/_history?_count=0", null));
        status(200, as(readOnly, "GET", "/Patient/" + pid + "/_history", null));
        status(200, as(readOnly, "GET", "/Patient/" + pid + "/_history/1", null));

        String readSearch = s().tokenWithScopes("system/Patient.rs");
        status(200, as(readSearch, "GET", "/Patient/_history", null));
        status(200, as(readSearch, "GET", "/Patient/" + pid + "/_history", null));
        forbidden(as(readSearch, "GET", "/Observation/_history", null));

        // v1 "read" is r and s together
        status(200, as(s().tokenWithScopes("system/Patient.read"), "GET", "/Patient/_history", null));

        // search alone lists versions of the type (as a search lists resources) but reads no single record
        String searchOnly = s().tokenWithScopes("system/Patient.s system/Observation.rs");
        status(200, as(searchOnly, "GET", "/Patient/_history", null));
        forbidden(as(searchOnly, "GET", "/Patient/" + pid + "/_history", null));
        status(200, as(searchOnly, "GET", "/Observation/_history", null));
        status(200, as(searchOnly, "GET", "/Observation/" + oid + "/_history", null));
    }

    @Test
    void systemHistoryNeedsSearchOnEveryType() {
        // Issue 15: system/*.r listed resources of every type through /_history.
        for (String scopes : List.of("system/*.r", "system/Patient.read", "system/Patient.rs system/Observation.rs",
                "system/Patient.s system/Observation.rs", "system/*.cud", "system/*.write")) {
            String token = s().tokenWithScopes(scopes);
            forbidden(as(token, "GET", "/_history", null));
            forbidden(as(token, "GET", "/_history?_count=0", null));
        }
        for (String scopes : List.of("system/*.rs", "system/*.s", "system/*.read", "system/*.*")) {
            HttpResponse<String> r = as(s().tokenWithScopes(scopes), "GET", "/_history?_count=1", null);
            status(200, r);
            assertEquals("history", json(r).path("type").asText(), r::body);
        }
    }

    @Test
    void aTransactionWithAnEntryOutsideTheScopesIsRefusedAsAWhole() {
        String v = uid();
        String pid = createId("Patient", patient(v, "TxScope" + v));
        String code = "x" + uid();
        String token = s().tokenWithScopes("system/Patient.read system/Patient.write");
        String w = uid();
        HttpResponse<String> r = as(token, "POST", "", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                + "\"entry\":[{\"resource\":" + patient(w, "TxOk" + w) + ",\"request\":{\"method\":\"POST\",\"url\":"
                + "\"Patient\"}},{\"resource\":" + observation(pid, code) + ",\"request\":{\"method\":\"POST\","
                + "\"url\":\"Observation\"}}]}");
        forbidden(r);
        assertTrue(search("/Observation?code=" + code).isEmpty());
        assertTrue(search("/Patient?identifier=" + enc(SYS + "|" + w)).isEmpty());
    }

    @Test
    void readLetterWithoutSearchLetterReadsButCannotSearch() {
        String pid = createId("Patient", patient(uid(), "Letters"));
        String token = s().tokenWithScopes("system/Patient.r");
        status(200, as(token, "GET", "/Patient/" + pid, null));
        forbidden(as(token, "GET", "/Patient?_id=" + pid, null));
    }

    @Test
    void includeOfATypeTheCallerCannotReadIsSilentlyLeftOut() {
        String v = uid();
        String pid = createId("Patient", patient(v, "IncScope" + v));
        String oid = createId("Observation", observation(pid, "i" + v));
        String obsOnly = s().tokenWithScopes("system/Observation.read");
        HttpResponse<String> r = as(obsOnly, "GET", "/Observation?_id=" + oid + "&_include=Observation:subject", null);
        status(200, r);
        JsonNode b = json(r);
        assertEquals(1, b.path("entry").size(), b::toString);
        assertEquals(oid, b.path("entry").get(0).path("resource").path("id").asText());
        String patientOnly = s().tokenWithScopes("system/Patient.read");
        HttpResponse<String> rev = as(patientOnly, "GET", "/Patient?_id=" + pid + "&_revinclude=Observation:subject",
                null);
        status(200, rev);
        assertEquals(1, json(rev).path("entry").size(), rev::body);
        // with both scopes, both come back
        String both = s().tokenWithScopes("system/Patient.read system/Observation.read");
        assertEquals(2, json(as(both, "GET", "/Observation?_id=" + oid + "&_include=Observation:subject", null))
                .path("entry").size());
    }

    @Test
    void aReverseIncludeIsASearchOfItsSourceTypeAndNeedsItsSearchPermission() {
        String v = uid();
        String pid = createId("Patient", patient(v, "RevScope" + v));
        String oid = createId("Observation", observation(pid, "r" + v));
        String path = "/Patient?_id=" + pid + "&_revinclude=Observation:subject";
        // Observation.r reads an Observation whose id the caller knows; listing every Observation of a patient
        // through _revinclude is a search, as Observation?subject= would be (refused with r alone)
        String readOnly = s().tokenWithScopes("system/Patient.rs system/Observation.r");
        forbidden(as(readOnly, "GET", "/Observation?subject=Patient/" + pid, null));
        HttpResponse<String> r = as(readOnly, "GET", path, null);
        status(200, r);
        assertEquals(List.of(pid), matchIds(json(r)), r::body);
        assertEquals(1, json(r).path("entry").size(), r::body);
        String search = s().tokenWithScopes("system/Patient.rs system/Observation.rs");
        JsonNode b = json(as(search, "GET", path, null));
        assertEquals(2, b.path("entry").size(), b::toString);
        assertEquals(oid, b.path("entry").get(1).path("resource").path("id").asText(), b::toString);
    }

    @Test
    void chainedSearchAndHasNeedSearchAccessToTheOtherType() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Probe" + v));
        String code = "p" + uid();
        createId("Observation", observation(pid, code));
        String obsOnly = s().tokenWithScopes("system/Observation.read");
        // otherwise a caller without Patient access could learn patients' names by probing
        forbidden(as(obsOnly, "GET", "/Observation?subject:Patient.family=probe" + v, null));
        String patientOnly = s().tokenWithScopes("system/Patient.read");
        forbidden(as(patientOnly, "GET", "/Patient?_has:Observation:patient:code=" + code, null));
        String both = s().tokenWithScopes("system/Patient.read system/Observation.read");
        status(200, as(both, "GET", "/Observation?subject:Patient.family=probe" + v, null));
        assertEquals(List.of(pid), matchIds(json(as(both, "GET", "/Patient?_has:Observation:patient:code=" + code,
                null))));
    }

    @Test
    void aRevokedTokenIsRefused() {
        String pid = createId("Patient", patient(uid(), "Revoked"));
        SystemClients.Created c = s().server().clients().create("revoke-" + uid(), "system/Patient.read", "test");
        status(200, as(c.token(), "GET", "/Patient/" + pid, null));
        assertTrue(s().server().clients().revoke(c.client().clientId(), "test revocation", "test"));
        HttpResponse<String> r = as(c.token(), "GET", "/Patient/" + pid, null);
        status(401, r);
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        status(401, as("mamori_not-a-real-token", "GET", "/Patient/" + pid, null));
    }
}
