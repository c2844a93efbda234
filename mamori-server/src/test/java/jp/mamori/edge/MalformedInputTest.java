package jp.mamori.edge;

import jp.mamori.testing.Fhir;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The specific inputs the fuzz run found mishandled, kept as fixed cases. */
class MalformedInputTest {
    private final TestServer s = TestServer.shared();

    private static final String OBSERVATION = "{\"resourceType\":\"Observation\",\"status\":\"final\","
            + "\"code\":{\"text\":\"%s\"},\"valueQuantity\":{\"value\":%s}}";

    private Edge.Answer raw(String method, String target, Map<String, String> extra, String body) throws Exception {
        Map<String, String> h = new java.util.LinkedHashMap<>();
        h.put("Authorization", "Bearer " + s.adminToken());
        h.putAll(extra);
        return Edge.raw(s, method, target, h, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    private static OperationOutcome outcome(Edge.Answer a) {
        assertTrue(a.header("Content-Type").startsWith("application/fhir+json"), a.headers().toString());
        assertEquals("no-store", a.header("Cache-Control"), a.headers().toString());
        assertEquals("nosniff", a.header("X-Content-Type-Options"));
        assertTrue(a.header("Strict-Transport-Security") != null);
        return Fhir.parse(OperationOutcome.class, a.text());
    }

    @Test
    void aDecimalWithAHugeExponentIsRefusedWithoutExhaustingMemory() throws Exception {
        // HAPI expands JSON decimals to plain digits: 1e-999999999 would need a gigabyte-long string.
        for (String n : List.of("1e-999999999", "-9.5E+999999999", "1e1001")) {
            var r = s.post("/Observation", OBSERVATION.formatted("x", n));
            assertEquals(400, r.statusCode(), n + ": " + r.body());
        }
        String xml = "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/><code><text value=\"x\"/>"
                + "</code><valueQuantity><value value=\"1e-999999999\"/></valueQuantity></Observation>";
        var rx = s.send(s.request("/Observation").header("Content-Type", "application/fhir+xml")
                .POST(HttpRequest.BodyPublishers.ofString(xml)).build());
        assertEquals(400, rx.statusCode(), rx.body());
    }

    @Test
    void aSearchedNumberWithAHugeExponentIsRefusedAtOnce() {
        // Found by FuzzTest (seed 55999142820957): the implicit range of 1e999999 has a million digits, and writing
        // them out held the request thread past the client's timeout.
        for (String q : List.of("value-quantity=1e999999", "value-quantity=1e-999999", "value-quantity=ap1e1001",
                "value-quantity=" + java.net.URLEncoder.encode("gt1e999999||mg", java.nio.charset.StandardCharsets.UTF_8))) {
            var r = s.get("/Observation?" + q);
            assertEquals(400, r.statusCode(), q + ": " + r.body());
            assertTrue(r.body().contains("out of range"), r.body());
        }
        assertEquals(200, s.get("/Observation?value-quantity=1e300").statusCode(), "large but ordinary");
    }

    @Test
    void ordinaryExponentsAndNumberLikeTextAreStillAccepted() {
        var small = s.post("/Observation", OBSERVATION.formatted("1e-999999999 in text", "1.5e2"));
        assertEquals(201, small.statusCode(), small.body());
        var edge = s.post("/Observation", OBSERVATION.formatted("x", "1e-300"));
        assertTrue(edge.statusCode() == 201 || edge.statusCode() == 422, edge.body());
    }

    @Test
    void aNulCharacterInAStringIsRefusedWith422AtTheElement() {
        Map<String, String> bodies = Map.of(
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\u0000b\"}]}", "Patient.name[0].family",
                "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:x\",\"value\":\"\\u0000\"}]}",
                "Patient.identifier[0].value");
        for (Map.Entry<String, String> b : bodies.entrySet()) {
            var r = s.post("/Patient", b.getKey());
            assertEquals(422, r.statusCode(), r.body());
            var issue = Fhir.parse(OperationOutcome.class, r.body()).getIssueFirstRep();
            assertEquals(OperationOutcome.IssueType.STRUCTURE, issue.getCode(), r.body());
            assertEquals(b.getValue(), issue.getExpression().get(0).getValue(), r.body());
        }
        var search = s.get("/Patient?name=a%00b");
        assertTrue(search.statusCode() < 500, search.statusCode() + " " + search.body());
    }

    @Test
    void historyWithCountZeroAnswersWithTheTotalOnlyAsASearchDoes() {
        // Issue 15: _count=0 answered 500 on history at every level. FHIR reads _count=0 as "the total only", and
        // a search already answers it so (total, no entries); history now does the same at all three levels.
        String before = java.time.Instant.now().minusSeconds(1).toString();
        var created = s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zero\"}]}");
        assertEquals(201, created.statusCode(), created.body());
        String id = Fhir.parse(org.hl7.fhir.r4.model.Patient.class, created.body()).getIdPart();
        for (String family : List.of("Zero2", "Zero3")) {
            var u = s.put("/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\""
                    + family + "\"}]}");
            assertEquals(200, u.statusCode(), u.body());
        }
        Bundle search = Fhir.parse(Bundle.class, s.get("/Patient?_id=" + id + "&_count=0").body());
        assertEquals(1, search.getTotal());
        assertTrue(search.getEntry().isEmpty());

        Bundle instance = history("/Patient/" + id + "/_history?_count=0");
        assertEquals(3, instance.getTotal(), "every version of the record");
        Bundle since = history("/Patient/" + id + "/_history?_count=0&_since=" + java.net.URLEncoder.encode(
                Fhir.parse(org.hl7.fhir.r4.model.Patient.class, s.get("/Patient/" + id).body()).getMeta()
                        .getLastUpdatedElement().getValueAsString(), java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(1, since.getTotal(), "_since still applies");
        Bundle type = history("/Patient/_history?_count=0&_since=" + before);
        assertTrue(type.getTotal() >= 3, "at least this test's versions: " + type.getTotal());
        Bundle system = history("/_history?_count=0&_since=" + before);
        assertTrue(system.getTotal() >= type.getTotal(), system.getTotal() + " < " + type.getTotal());
        for (String bad : List.of("-1", "x", "", "99999999999999999999")) {
            for (String path : List.of("/_history", "/Patient/_history", "/Patient/" + id + "/_history")) {
                var r = s.get(path + "?_count=" + bad);
                assertEquals(400, r.statusCode(), path + " _count=" + bad + ": " + r.body());
                assertFalse(Fhir.parse(OperationOutcome.class, r.body()).getIssue().isEmpty());
            }
        }
        var huge = s.get("/Patient/" + id + "/_history?_count=2147483647");
        assertEquals(200, huge.statusCode(), huge.body());
        assertEquals(3, Fhir.parse(Bundle.class, huge.body()).getEntry().size(), "a large _count is capped, not refused");
    }

    private Bundle history(String path) {
        var r = s.get(path);
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        Bundle b = Fhir.parse(Bundle.class, r.body());
        assertEquals(Bundle.BundleType.HISTORY, b.getType(), path);
        assertTrue(b.hasTotal(), path + ": " + r.body());
        assertTrue(b.getEntry().isEmpty(), path + ": " + r.body());
        assertTrue(b.getLink("next") == null, path + ": " + r.body());
        return b;
    }

    @Test
    void includeAndRevincludeWithEmptyOrOddSegmentsAreA400() {
        // Issue 15: _include=: and _include=:: answered 500 (the split left no segment to look at).
        var p = s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Colons\"}]}");
        assertEquals(201, p.statusCode(), p.body());
        String id = Fhir.parse(org.hl7.fhir.r4.model.Patient.class, p.body()).getIdPart();
        for (String search : List.of("/Patient?_id=" + id, "/Patient?_id=no-such-patient")) {
            for (String v : List.of(":", "::", ":::", ".", "Patient:", "Patient::", ":organization",
                    "Patient::Organization", "Patient:organization:", "Patient:organization:Nope",
                    "Patient:organization:Organization:x", "Observation:subject", "Patient:name", "")) {
                assertBadRequest(search + "&_include=" + enc(v));
            }
            for (String v : List.of(":", "::", ":::", ".", "Observation:", ":subject", "Observation::",
                    "Observation:subject:", "Observation:subject:Nope", "Observation:subject:Patient:x",
                    "Nope:subject", "Observation:code", "")) {
                assertBadRequest(search + "&_revinclude=" + enc(v));
            }
        }
        for (String ok : List.of("_include=Patient:organization", "_include=Patient:*",
                "_include=Patient:organization:Organization", "_revinclude=Observation:subject",
                "_revinclude=Observation:subject:Patient")) {
            var r = s.get("/Patient?_id=" + id + "&" + ok);
            assertEquals(200, r.statusCode(), ok + ": " + r.body());
        }
    }

    @Test
    void emptyAndBareSegmentsInOtherParametersAreA400() {
        // The same class of input for the other parameters that are split on ':' '.' or ',': none may reach a 500.
        for (String q : List.of("name:=x", ":=x", "::=x", ".=x", "name.=x", "subject.=x", "subject:.name=x",
                "subject:Patient.=x", "subject..name=x", "_has=x", "_has:=x", "_has:::=x", "_has::::=x",
                "_has:Observation::code=x", "_has:Observation:patient:=x", "_sort=-", "_sort=:", "_sort=.",
                "_summary=", "_id:=x", "_lastUpdated:=2020", "_count=", "_count=:")) {
            var r = s.get("/Patient?" + q);
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, q + ": " + r.statusCode() + " " + r.body());
            assertFalse(Fhir.parse(OperationOutcome.class, r.body()).getIssue().isEmpty(), q);
        }
        for (String ok : List.of("_sort=,", "_elements=,", "_elements=:")) {
            var r = s.get("/Patient?_count=1&" + ok);
            assertEquals(200, r.statusCode(), ok + ": " + r.body());
        }
    }

    @Test
    void aTotalModeFhirDoesNotDefineIsA400() {
        // FHIR defines none, estimate and accurate; anything else was silently ignored
        for (String v : List.of("", "yes", "ACCURATE", "accurate,estimate", ":")) {
            assertBadRequest("/Patient?_count=1&_total=" + enc(v));
        }
        for (String ok : List.of("none", "estimate", "accurate")) {
            var r = s.get("/Patient?_count=1&_total=" + ok);
            assertEquals(200, r.statusCode(), ok + ": " + r.body());
        }
    }

    @Test
    void elementsWithAnEmptyPathSegmentAreA400() {
        // Found by the extended FuzzTest (issue 15): HAPI splits each _elements name on '.' and indexes the parts,
        // so '.' and '..' answered 500 on a search and on a read.
        var p = s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Elements\"}]}");
        assertEquals(201, p.statusCode(), p.body());
        String id = Fhir.parse(org.hl7.fhir.r4.model.Patient.class, p.body()).getIdPart();
        for (String v : List.of(".", "..", "...", "name.", ".name", "name..family", "name,.", "*.")) {
            assertBadRequest("/Patient?_id=" + id + "&_elements=" + enc(v));
            assertBadRequest("/Patient/" + id + "?_elements=" + enc(v));
        }
        for (String ok : List.of("name", "name,gender", ",", "Patient.name", "*.text")) {
            var r = s.get("/Patient?_id=" + id + "&_elements=" + enc(ok));
            assertEquals(200, r.statusCode(), ok + ": " + r.body());
            var read = s.get("/Patient/" + id + "?_elements=" + enc(ok));
            assertEquals(200, read.statusCode(), ok + ": " + read.body());
        }
    }

    @Test
    void aContentTypeWithoutAMediaTypeIsA415() throws Exception {
        for (String ct : List.of(";", ";;", " ; charset=utf-8")) {
            Edge.Answer a = raw("POST", "/fhir/Patient", Map.of("Content-Type", ct), "{\"resourceType\":\"Patient\"}");
            assertEquals(415, a.status(), "'" + ct + "': " + a.text());
            assertFalse(outcome(a).getIssue().isEmpty());
        }
    }

    private void assertBadRequest(String pathAndQuery) {
        var r = s.get(pathAndQuery);
        assertEquals(400, r.statusCode(), pathAndQuery + ": " + r.body());
        OperationOutcome oo = Fhir.parse(OperationOutcome.class, r.body());
        assertFalse(oo.getIssue().isEmpty(), pathAndQuery);
        assertFalse(r.body().contains("Exception"), r.body());
    }

    private static String enc(String v) {
        return java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aForgedSearchCursorIsAClientError() {
        for (String cursor : List.of("AAAA", "w6cn", "garbage", "%FF%FE", "eyJ4IjoxfQ")) {
            var r = s.get("/Observation?_cursor=" + cursor);
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, cursor + ": " + r.statusCode() + " " + r.body());
        }
    }

    @Test
    void diagnosticsNameTheProblemNotTheJavaException() {
        var r = s.post("/Patient", "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":99999999999999999999}");
        assertEquals(422, r.statusCode(), r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("java."), r.body());
        assertTrue(r.body().contains("99999999999999999999"), "still says which value: " + r.body());
        var deep = s.send(s.request("/Patient").header("Content-Type", "application/fhir+xml")
                .POST(HttpRequest.BodyPublishers.ofString("<a>".repeat(5000) + "</a>".repeat(5000))).build());
        assertEquals(400, deep.statusCode(), deep.body());
        assertFalse(deep.body().contains("Exception"), deep.body());
    }

    @Test
    void requestsJettyRefusesGetAnOperationOutcomeWithTheSecurityHeaders() throws Exception {
        for (String method : List.of("GET", "PUT", "DELETE")) {
            for (String target : List.of("/fhir/Patient/%zz", "/fhir/Patient/x%2Fy", "/fhir/%2e%2e/health",
                    "/fhir/Pat%00ient")) {
                Edge.Answer a = raw(method, target, method.equals("PUT")
                        ? Map.of("Content-Type", "application/fhir+json") : Map.of(), method.equals("PUT") ? "{}" : null);
                assertEquals(400, a.status(), method + " " + target + ": " + a.text());
                assertFalse(outcome(a).getIssue().isEmpty());
            }
        }
        Edge.Answer tooLong = raw("GET", "/fhir/Patient?name=" + "x".repeat(40_000), Map.of(), null);
        assertTrue(tooLong.status() == 414 || tooLong.status() == 431, tooLong.status() + " " + tooLong.text());
        outcome(tooLong);
        Edge.Answer bigHeader = raw("GET", "/fhir/Patient", Map.of("X-Big", "y".repeat(40_000)), null);
        assertEquals(431, bigHeader.status(), bigHeader.text());
        outcome(bigHeader);
    }

    @Test
    void aRefusedLargeBodyStillGetsItsAnswer() throws Exception {
        // POST _search takes a form; a large JSON body is refused before it is read.
        String big = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "長".repeat(200_000) + "\"}]}";
        Edge.Answer a = raw("POST", "/fhir/Patient/_search", Map.of("Content-Type", "application/fhir+json"), big);
        assertEquals(415, a.status(), a.text());
        outcome(a);
        HttpResponse<String> after = s.get("/Patient?_count=1");
        assertEquals(200, after.statusCode());
    }
}
