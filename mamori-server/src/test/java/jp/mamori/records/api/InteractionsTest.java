package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.create;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.get;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.send;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FHIR R4 instance and type interactions: create, read, vread, update, delete, conditionals, history. */
class InteractionsTest {
    private static final String FHIR_JSON = "application/fhir+json";

    @Test
    void createAnswers201WithLocationEtagAndLastModified() {
        String v = uid();
        HttpResponse<String> r = s().post("/Patient", patient(v, "Create" + v));
        status(201, r);
        JsonNode body = json(r);
        String id = body.path("id").asText();
        assertFalse(id.isEmpty());
        assertEquals(s().base() + "/Patient/" + id + "/_history/1", r.headers().firstValue("Location").orElseThrow());
        assertEquals("W/\"1\"", r.headers().firstValue("ETag").orElseThrow());
        String lm = r.headers().firstValue("Last-Modified").orElseThrow();
        ZonedDateTime.parse(lm, DateTimeFormatter.RFC_1123_DATE_TIME);
        assertEquals("1", body.path("meta").path("versionId").asText());
        assertEquals("Create" + v, body.path("name").get(0).path("family").asText());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith(FHIR_JSON));
    }

    @Test
    void readReturnsTheStoredResourceWithVersionHeaders() {
        String v = uid();
        String id = createId("Patient", patient(v, "Read" + v, "Hanako", "female", "1980-04-01"));
        HttpResponse<String> r = s().get("/Patient/" + id);
        status(200, r);
        JsonNode p = json(r);
        assertEquals(id, p.path("id").asText());
        assertEquals("Read" + v, p.path("name").get(0).path("family").asText());
        assertEquals("1980-04-01", p.path("birthDate").asText());
        assertEquals("W/\"1\"", r.headers().firstValue("ETag").orElseThrow());
        assertTrue(r.headers().firstValue("Last-Modified").isPresent());
    }

    @Test
    void readOfUnknownIdIs404() {
        HttpResponse<String> r = s().get("/Patient/no-such-" + uid());
        status(404, r);
        assertEquals("OperationOutcome", json(r).path("resourceType").asText());
    }

    @Test
    void updateIncrementsTheVersionAndVreadKeepsTheEarlierOne() {
        String v = uid();
        String id = createId("Patient", patient(v, "Before" + v));
        JsonNode updated = json(putOk("/Patient/" + id, patient(v, "After" + v).replace("{\"resourceType\":\"Patient\",",
                "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\","), 200));
        assertEquals("2", updated.path("meta").path("versionId").asText());
        HttpResponse<String> now = s().get("/Patient/" + id);
        assertEquals("W/\"2\"", now.headers().firstValue("ETag").orElseThrow());
        assertEquals("After" + v, json(now).path("name").get(0).path("family").asText());
        HttpResponse<String> v1 = s().get("/Patient/" + id + "/_history/1");
        status(200, v1);
        assertEquals("Before" + v, json(v1).path("name").get(0).path("family").asText());
        assertEquals("W/\"1\"", v1.headers().firstValue("ETag").orElseThrow());
        status(404, s().get("/Patient/" + id + "/_history/3"));
    }

    @Test
    void updateWithAClientIdCreatesTheResourceWith201() {
        String id = "client-" + uid();
        HttpResponse<String> r = s().put("/Patient/" + id, patient(uid(), "Client").replace(
                "{\"resourceType\":\"Patient\",", "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\","));
        status(201, r);
        assertEquals(id, json(r).path("id").asText());
        assertEquals(s().base() + "/Patient/" + id + "/_history/1", r.headers().firstValue("Location").orElseThrow());
        status(200, s().get("/Patient/" + id));
    }

    @Test
    void updateWhoseBodyIdDiffersFromTheUrlIs400() {
        String id = createId("Patient", patient(uid(), "Mismatch"));
        HttpResponse<String> r = s().put("/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"other-"
                + uid() + "\"}");
        status(400, r);
    }

    @Test
    void updateWithStaleIfMatchIsRefusedWith412AndNothingWritten() {
        String v = uid();
        String id = createId("Patient", patient(v, "Stale" + v));
        putOk("/Patient/" + id, withId(patient(v, "Second" + v), id), 200);
        HttpResponse<String> r = send("PUT", "/Patient/" + id, FHIR_JSON, withId(patient(v, "Lost" + v), id),
                "If-Match", "W/\"1\"");
        status(412, r);
        assertEquals("OperationOutcome", json(r).path("resourceType").asText());
        HttpResponse<String> now = s().get("/Patient/" + id);
        assertEquals("W/\"2\"", now.headers().firstValue("ETag").orElseThrow());
        assertEquals("Second" + v, json(now).path("name").get(0).path("family").asText());
        assertTrue(search("/Patient?family=Lost" + v).isEmpty());
        // the right version goes through
        HttpResponse<String> ok = send("PUT", "/Patient/" + id, FHIR_JSON, withId(patient(v, "Third" + v), id),
                "If-Match", "W/\"2\"");
        status(200, ok);
        assertEquals("W/\"3\"", ok.headers().firstValue("ETag").orElseThrow());
    }

    @Test
    void conditionalCreateWithoutAMatchCreates() {
        String v = uid();
        HttpResponse<String> r = send("POST", "/Patient", FHIR_JSON, patient(v, "Cond" + v),
                "If-None-Exist", "identifier=" + enc(SYS + "|" + v));
        status(201, r);
        assertEquals(1, search("/Patient?identifier=" + enc(SYS + "|" + v)).size());
    }

    @Test
    void conditionalCreateWithOneMatchAnswers200AndCreatesNothing() {
        String v = uid();
        String id = createId("Patient", patient(v, "Cond" + v));
        HttpResponse<String> r = send("POST", "/Patient", FHIR_JSON, patient(v, "Other" + v),
                "If-None-Exist", "identifier=" + enc(SYS + "|" + v));
        status(200, r);
        assertEquals(id, json(r).path("id").asText());
        assertEquals("W/\"1\"", r.headers().firstValue("ETag").orElseThrow());
        assertEquals(List.of(id), search("/Patient?identifier=" + enc(SYS + "|" + v)));
        assertTrue(search("/Patient?family=Other" + v).isEmpty());
    }

    @Test
    void conditionalCreateWithTwoMatchesIs412() {
        String v = uid();
        createId("Patient", patient(v, "Twin" + v));
        createId("Patient", patient(v, "Twin" + v));
        HttpResponse<String> r = send("POST", "/Patient", FHIR_JSON, patient(v, "Third" + v),
                "If-None-Exist", "identifier=" + enc(SYS + "|" + v));
        status(412, r);
        assertEquals(2, search("/Patient?identifier=" + enc(SYS + "|" + v)).size());
    }

    @org.junit.jupiter.api.RepeatedTest(3)
    void concurrentConditionalCreatesCreateOnlyOne() throws Exception {
        String v = uid();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answers.add(pool.submit(() -> {
                    start.await();
                    return send("POST", "/Patient", FHIR_JSON, patient(v, "Race" + v),
                            "If-None-Exist", "identifier=" + enc(SYS + "|" + v)).statusCode();
                }));
            }
            start.countDown();
            int created = 0;
            for (java.util.concurrent.Future<Integer> a : answers) {
                int code = a.get();
                assertTrue(code == 201 || code == 200, "HTTP " + code);
                created += code == 201 ? 1 : 0;
            }
            assertEquals(1, created);
        } finally {
            pool.shutdown();
        }
        assertEquals(1, search("/Patient?identifier=" + enc(SYS + "|" + v)).size());
    }

    @Test
    void conditionalUpdateUpdatesTheSingleMatchAndCreatesWhenNoneMatches() {
        String v = uid();
        String id = createId("Patient", patient(v, "CondUp" + v));
        HttpResponse<String> r = s().put("/Patient?identifier=" + enc(SYS + "|" + v), patient(v, "CondUp2" + v));
        status(200, r);
        assertEquals(id, json(r).path("id").asText());
        assertEquals("2", json(r).path("meta").path("versionId").asText());
        String w = uid();
        HttpResponse<String> c = s().put("/Patient?identifier=" + enc(SYS + "|" + w), patient(w, "CondNew" + w));
        status(201, c);
        assertEquals(1, search("/Patient?identifier=" + enc(SYS + "|" + w)).size());
    }

    @Test
    void conditionalUpdateWithTwoMatchesIs412() {
        String v = uid();
        createId("Patient", patient(v, "A" + v));
        createId("Patient", patient(v, "B" + v));
        status(412, s().put("/Patient?identifier=" + enc(SYS + "|" + v), patient(v, "C" + v)));
        assertTrue(search("/Patient?family=C" + v).isEmpty());
    }

    @Test
    void deleteWithoutReasonIsRefusedWith422AndKeepsTheRecord() {
        String id = createId("Patient", patient(uid(), "NoReason"));
        HttpResponse<String> r = s().delete("/Patient/" + id, null);
        status(422, r);
        assertTrue(Api.firstIssue(r).path("diagnostics").asText().contains("X-Mamori-Reason"));
        status(200, s().get("/Patient/" + id));
    }

    @Test
    void deleteWithReasonMakesReadGoneKeepsEarlierVersionsAndShowsInHistory() {
        String v = uid();
        String id = createId("Patient", patient(v, "Del" + v));
        putOk("/Patient/" + id, withId(patient(v, "Del2" + v), id), 200);
        HttpResponse<String> d = s().send(s().request("/Patient/" + id).DELETE()
                .header("X-Mamori-Reason", "%E9%87%8D%E8%A4%87%E7%99%BB%E9%8C%B2%20(duplicate)").build());
        status(200, d);
        status(410, s().get("/Patient/" + id));
        HttpResponse<String> v1 = s().get("/Patient/" + id + "/_history/1");
        status(200, v1);
        assertEquals("Del" + v, json(v1).path("name").get(0).path("family").asText());
        status(200, s().get("/Patient/" + id + "/_history/2"));
        assertTrue(search("/Patient?identifier=" + enc(SYS + "|" + v)).isEmpty());
        HttpResponse<String> h = s().get("/Patient/" + id + "/_history");
        status(200, h);
        JsonNode entries = json(h).path("entry");
        assertEquals(3, entries.size(), h::body);
        JsonNode newest = entries.get(0);
        assertEquals("DELETE", newest.path("request").path("method").asText());
        assertEquals("W/\"3\"", newest.path("response").path("etag").asText());
        assertTrue(newest.path("resource").isMissingNode());
        // the reason was recorded as decoded UTF-8
        assertEquals("重複登録 (duplicate)", s().server().records().history(jp.mamori.access.Caller.system("test"),
                "Patient", id, null, 10, null).versions().get(0).reason());
    }

    @Test
    void readWithMatchingIfNoneMatchAnswers304() {
        String id = createId("Patient", patient(uid(), "Cache"));
        HttpResponse<String> r = get("/Patient/" + id, "If-None-Match", "W/\"1\"");
        status(304, r);
        assertTrue(r.body().isEmpty());
        assertEquals("W/\"1\"", r.headers().firstValue("ETag").orElseThrow());
        status(200, get("/Patient/" + id, "If-None-Match", "W/\"7\""));
    }

    @Test
    void instanceHistoryPagesThroughEveryVersionNewestFirst() {
        String v = uid();
        String id = createId("Patient", patient(v, "H0" + v));
        for (int i = 1; i < 5; i++) {
            putOk("/Patient/" + id, withId(patient(v, "H" + i + v), id), 200);
        }
        List<JsonNode> pages = Api.pages("/Patient/" + id + "/_history?_count=2", null);
        assertEquals(3, pages.size());
        List<String> versions = new ArrayList<>();
        for (JsonNode p : pages) {
            assertEquals("history", p.path("type").asText());
            assertTrue(p.path("entry").size() <= 2);
            for (JsonNode e : p.path("entry")) {
                versions.add(e.path("resource").path("meta").path("versionId").asText());
            }
        }
        assertEquals(List.of("5", "4", "3", "2", "1"), versions);
    }

    @Test
    void typeAndSystemHistoryPageWithoutDuplicatesOrGaps() throws Exception {
        String since = java.time.Instant.now().minusMillis(5).toString();
        String v = uid();
        Set<String> mine = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            String id = createId("Patient", patient(v, "TH" + i + v));
            mine.add("Patient/" + id + "#1");
            putOk("/Patient/" + id, withId(patient(v, "TH" + i + "b" + v), id), 200);
            mine.add("Patient/" + id + "#2");
        }
        for (String path : List.of("/Patient/_history", "/_history")) {
            List<JsonNode> pages = Api.pages(path + "?_count=2&_since=" + enc(since), null);
            Set<String> seen = new HashSet<>();
            for (JsonNode p : pages) {
                assertTrue(p.path("entry").size() <= 2);
                for (JsonNode e : p.path("entry")) {
                    String key = e.path("fullUrl").asText().replace(s().base() + "/", "") + "#"
                            + e.path("response").path("etag").asText().replaceAll("[^0-9]", "");
                    assertTrue(seen.add(key), () -> "duplicate history entry " + key + " in " + path);
                }
            }
            assertTrue(seen.containsAll(mine), () -> path + " misses some of " + mine + ": " + seen);
        }
    }

    @Test
    void historySinceLeavesOutEarlierVersions() throws Exception {
        String v = uid();
        JsonNode created = create("Patient", patient(v, "Since" + v));
        String id = created.path("id").asText();
        Thread.sleep(20);
        java.time.Instant between = java.time.Instant.now();
        Thread.sleep(20);
        putOk("/Patient/" + id, withId(patient(v, "Since2" + v), id), 200);
        HttpResponse<String> h = s().get("/Patient/" + id + "/_history?_since=" + enc(between.toString()));
        status(200, h);
        JsonNode entries = json(h).path("entry");
        assertEquals(1, entries.size(), h::body);
        assertEquals("2", entries.get(0).path("resource").path("meta").path("versionId").asText());
        HttpResponse<String> bad = s().get("/Patient/" + id + "/_history?_since=yesterday");
        status(400, bad);
    }

    static HttpResponse<String> putOk(String path, String body, int expected) {
        HttpResponse<String> r = s().put(path, body);
        status(expected, r);
        assertNotNull(r.headers().firstValue("ETag").orElse(null));
        return r;
    }

    static String withId(String resourceJson, String id) {
        return resourceJson.replaceFirst("\\{\"resourceType\":\"(\\w+)\",", "{\"resourceType\":\"$1\",\"id\":\"" + id
                + "\",");
    }
}
