package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.expressions;
import static jp.mamori.records.api.Api.firstIssue;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Transaction and batch bundles: reference rewriting, atomicity, per-entry outcomes. */
class BundleTest {

    static String entry(String fullUrl, String resource, String method, String url, String extraRequest) {
        return "{" + (fullUrl == null ? "" : "\"fullUrl\":\"" + fullUrl + "\",")
                + (resource == null ? "" : "\"resource\":" + resource + ",")
                + "\"request\":{\"method\":\"" + method + "\",\"url\":\"" + url + "\""
                + (extraRequest == null ? "" : "," + extraRequest) + "}}";
    }

    static String bundle(String type, String... entries) {
        return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
    }

    static String observation(String subjectRef, String code) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"" + subjectRef + "\"}}";
    }

    private static List<String> byIdentifier(String v) {
        return search("/Patient?identifier=" + enc(SYS + "|" + v));
    }

    @Test
    void transactionStoresEveryEntryAndRewritesUrnUuidReferences() {
        String v = uid();
        String code = "t" + uid();
        String urn = "urn:uuid:" + UUID.randomUUID();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(null, observation(urn, code), "POST", "Observation", null),
                entry(urn, patient(v, "Tx" + v), "POST", "Patient", null)));
        status(200, r);
        JsonNode resp = json(r);
        assertEquals("transaction-response", resp.path("type").asText());
        assertEquals(2, resp.path("entry").size());
        for (JsonNode e : resp.path("entry")) {
            assertTrue(e.path("response").path("status").asText().startsWith("201"), e::toString);
            assertTrue(e.path("response").path("location").asText().contains("/_history/1"), e::toString);
        }
        List<String> patients = byIdentifier(v);
        assertEquals(1, patients.size());
        String pid = patients.get(0);
        assertEquals("Patient/" + pid + "/_history/1", resp.path("entry").get(1).path("response").path("location")
                .asText());
        List<String> obs = search("/Observation?code=" + code);
        assertEquals(1, obs.size());
        JsonNode o = json(s().get("/Observation/" + obs.get(0)));
        assertEquals("Patient/" + pid, o.path("subject").path("reference").asText());
        assertEquals(obs, search("/Observation?subject=Patient/" + pid));
    }

    @Test
    void conditionalReferenceInATransactionResolvesToTheExistingPatient() {
        String v = uid();
        String pid = createId("Patient", patient(v, "CondRef" + v));
        String code = "c" + uid();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(null, observation("Patient?identifier=" + SYS + "|" + v, code), "POST", "Observation", null)));
        status(200, r);
        List<String> obs = search("/Observation?code=" + code);
        assertEquals(1, obs.size());
        assertEquals("Patient/" + pid, json(s().get("/Observation/" + obs.get(0))).path("subject").path("reference")
                .asText());
    }

    @Test
    void transactionWithAConditionalReferenceMatchingNothingIsRefused() {
        String code = "n" + uid();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(null, observation("Patient?identifier=" + SYS + "|none-" + uid(), code), "POST", "Observation",
                        null)));
        assertTrue(r.statusCode() >= 400, r::body);
        assertTrue(search("/Observation?code=" + code).isEmpty());
    }

    @Test
    void transactionWithAStaleIfMatchEntryFailsAsAWholeAndStoresNothing() {
        String v = uid();
        String existing = createId("Patient", patient(v, "Existing" + v));
        String w = uid();
        String code = "s" + uid();
        String urn = "urn:uuid:" + UUID.randomUUID();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(urn, patient(w, "New" + w), "POST", "Patient", null),
                entry(null, observation(urn, code), "POST", "Observation", null),
                entry(null, InteractionsTest.withId(patient(v, "Changed" + v), existing), "PUT",
                        "Patient/" + existing, "\"ifMatch\":\"W/\\\"3\\\"\"")));
        status(412, r);
        JsonNode issue = firstIssue(r);
        assertTrue(issue.path("diagnostics").asText().contains("Bundle.entry[2]"), issue::toString);
        assertTrue(expressions(r).stream().anyMatch(x -> x.startsWith("Bundle.entry[2]")), r::body);
        assertTrue(byIdentifier(w).isEmpty(), "the new patient of the failed transaction was stored");
        assertTrue(search("/Observation?code=" + code).isEmpty(), "the observation of the failed transaction was stored");
        JsonNode now = json(s().get("/Patient/" + existing));
        assertEquals("1", now.path("meta").path("versionId").asText());
        assertEquals("Existing" + v, now.path("name").get(0).path("family").asText());
    }

    @Test
    void transactionWithAnUnknownElementInOneEntryIsRefusedNamingTheEntryAndStoresNothing() {
        String v = uid();
        String w = uid();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(null, patient(v, "Good" + v), "POST", "Patient", null),
                entry(null, patient(w, "Bad" + w).replace("}]}", "}],\"bogus\":1}"),
                        "POST", "Patient", null)));
        status(422, r);
        assertEquals(List.of("Bundle.entry[1].resource.bogus"), expressions(r));
        assertTrue(byIdentifier(v).isEmpty());
        assertTrue(byIdentifier(w).isEmpty());
    }

    @Test
    void transactionWithAnInvalidEntryFoundByValidationNamesTheEntry() {
        String v = uid();
        String w = uid();
        // a Patient.link needs 'other' and 'type': well-formed JSON, structurally invalid
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(null, patient(v, "Good" + v), "POST", "Patient", null),
                entry(null, "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\""
                        + w + "\"}],\"link\":[{\"type\":\"seealso\"}]}", "POST", "Patient", null)));
        status(422, r);
        assertTrue(expressions(r).stream().allMatch(x -> x.startsWith("Bundle.entry[1].resource.link")), r::body);
        assertTrue(byIdentifier(v).isEmpty());
        assertTrue(byIdentifier(w).isEmpty());
    }

    @Test
    void batchWithOneBadEntryAppliesTheOthersAndReportsTheBadOne() {
        String v1 = uid();
        String v2 = uid();
        String existing = createId("Patient", patient(uid(), "BatchExisting"));
        HttpResponse<String> r = s().post("", bundle("batch",
                entry(null, patient(v1, "Batch" + v1), "POST", "Patient", null),
                entry(null, InteractionsTest.withId(patient(uid(), "Stale"), existing), "PUT", "Patient/" + existing,
                        "\"ifMatch\":\"W/\\\"9\\\"\""),
                entry(null, patient(v2, "Batch" + v2), "POST", "Patient", null)));
        status(200, r);
        JsonNode resp = json(r);
        assertEquals("batch-response", resp.path("type").asText());
        JsonNode entries = resp.path("entry");
        assertEquals(3, entries.size());
        assertTrue(entries.get(0).path("response").path("status").asText().startsWith("201"), entries::toString);
        assertTrue(entries.get(1).path("response").path("status").asText().startsWith("412"), entries::toString);
        assertEquals("OperationOutcome", entries.get(1).path("response").path("outcome").path("resourceType").asText());
        assertTrue(entries.get(2).path("response").path("status").asText().startsWith("201"), entries::toString);
        assertEquals(1, byIdentifier(v1).size());
        assertEquals(1, byIdentifier(v2).size());
        assertEquals("1", json(s().get("/Patient/" + existing)).path("meta").path("versionId").asText());
    }

    @Test
    void transactionOfAHundredPatientsStoresThemAll() {
        String v = uid();
        String[] entries = new String[100];
        for (int i = 0; i < 100; i++) {
            entries[i] = entry("urn:uuid:" + UUID.randomUUID(), patient(v + "-" + i, "Bulk" + v), "POST", "Patient",
                    null);
        }
        HttpResponse<String> r = s().post("", bundle("transaction", entries));
        status(200, r);
        assertEquals(100, json(r).path("entry").size());
        JsonNode count = json(s().get("/Patient?family=bulk" + v + "&_summary=count"));
        assertEquals(100, count.path("total").asInt(), count::toString);
    }

    @Test
    void conditionalCreateInATransactionReusesTheExistingMatch() {
        String v = uid();
        String pid = createId("Patient", patient(v, "IfNone" + v));
        String urn = "urn:uuid:" + UUID.randomUUID();
        String code = "n" + uid();
        HttpResponse<String> r = s().post("", bundle("transaction",
                entry(urn, patient(v, "Duplicate" + v), "POST", "Patient",
                        "\"ifNoneExist\":\"identifier=" + SYS + "|" + v + "\""),
                entry(null, observation(urn, code), "POST", "Observation", null)));
        status(200, r);
        assertTrue(json(r).path("entry").get(0).path("response").path("status").asText().startsWith("200"), r::body);
        assertEquals(List.of(pid), byIdentifier(v));
        List<String> obs = search("/Observation?code=" + code);
        assertEquals("Patient/" + pid, json(s().get("/Observation/" + obs.get(0))).path("subject").path("reference")
                .asText());
    }

    @org.junit.jupiter.api.RepeatedTest(5)
    void concurrentConditionalCreatesInTransactionsCreateOnlyOne() throws Exception {
        String v = uid();
        String body = bundle("transaction", entry("urn:uuid:" + UUID.randomUUID(), patient(v, "Race" + v), "POST",
                "Patient", "\"ifNoneExist\":\"identifier=" + SYS + "|" + v + "\""));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answers.add(pool.submit(() -> {
                    start.await();
                    return s().post("", body).statusCode();
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<Integer> a : answers) {
                int code = a.get();
                assertTrue(code == 200 || code == 409, "HTTP " + code);
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(1, byIdentifier(v).size());
    }

    @Test
    void batchGetEntriesAnswerWithSearchsetsAndReads() {
        String v = uid();
        String pid = createId("Patient", patient(v, "BatchGet" + v));
        HttpResponse<String> r = s().post("", bundle("batch",
                entry(null, null, "GET", "Patient?identifier=" + enc(SYS + "|" + v), null),
                entry(null, null, "GET", "Patient/" + pid, null),
                entry(null, null, "GET", "Patient/missing-" + uid(), null)));
        status(200, r);
        JsonNode entries = json(r).path("entry");
        assertEquals(List.of(pid), Api.matchIds(entries.get(0).path("resource")));
        assertEquals(pid, entries.get(1).path("resource").path("id").asText().isEmpty()
                ? entries.get(1).path("fullUrl").asText().replaceAll(".*/", "")
                : entries.get(1).path("resource").path("id").asText());
        assertTrue(entries.get(2).path("response").path("status").asText().startsWith("404"), entries::toString);
    }

    @Test
    void aBundleOfAnotherTypeIsRefused() {
        status(400, s().post("", bundle("collection", entry(null, patient(uid(), "Coll"), "POST", "Patient", null))));
    }
}
