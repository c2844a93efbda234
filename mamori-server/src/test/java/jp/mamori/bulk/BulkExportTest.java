package jp.mamori.bulk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FHIR Bulk Data export end to end over HTTPS against a real server and database: kick-off, polling, manifest and
 * files at the system, Patient and Group level; _type, _since, _typeFilter; cancel; expiry with a moved clock; who may
 * export what; bad input; and the trail's entries with their patients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private TestServer s;
    private BulkExport bulk;
    private String hanako;
    private String taro;
    private String group;
    private Instant afterSetup;

    @BeforeAll
    void open() throws Exception {
        s = TestServer.start(List.of());
        bulk = s.server().bulk();
        bulk.settings(bulk.settings().with(Duration.ofHours(24), Duration.ZERO));
        hanako = created(s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"山田\",\"given\":[\"花子\"]}],"
                + "\"gender\":\"female\",\"birthDate\":\"1970-04-01\"}"));
        taro = created(s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"鈴木\",\"given\":[\"太郎\"]}],"
                + "\"gender\":\"male\",\"birthDate\":\"1960-01-02\"}"));
        observation(hanako, "4548-4", "HbA1c", 6.8);
        observation(hanako, "2345-7", "血糖", 110);
        observation(taro, "4548-4", "HbA1c", 8.1);
        created(s.post("/Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"2型糖尿病\"},"
                + "\"subject\":{\"reference\":\"Patient/" + taro + "\"}}"));
        created(s.post("/Organization", "{\"resourceType\":\"Organization\",\"name\":\"守り病院\"}"));
        group = created(s.post("/Group", "{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true,"
                + "\"name\":\"糖尿病外来\",\"member\":[{\"entity\":{\"reference\":\"Patient/" + hanako + "\"}}]}"));
        Thread.sleep(20);
        afterSetup = Instant.now();
        Thread.sleep(20);
    }

    @AfterAll
    void close() {
        if (s != null) {
            s.close();
        }
    }

    @AfterEach
    void reset() {
        bulk.hold(null);
        bulk.clock(Clock.systemUTC());
        bulk.settings(BulkExport.Settings.defaults().with(Duration.ofHours(24), Duration.ZERO));
    }

    // ------------------------------------------------------------------------------------------------ the flow

    @Test
    void systemLevelKickOffPollManifestAndFiles() throws Exception {
        HttpResponse<String> k = kickOff(s.adminToken(), "/$export?_type=Patient,Observation,Organization");
        assertEquals(202, k.statusCode(), k::body);
        String status = k.headers().firstValue("Content-Location").orElseThrow();
        assertTrue(status.startsWith(s.base() + "/$export-poll/"), status);
        JsonNode m = manifest(s.adminToken(), status);
        assertTrue(m.get("requiresAccessToken").asBoolean());
        assertEquals(s.base() + "/$export?_type=Patient,Observation,Organization", m.get("request").asText());
        assertNotNull(Instant.parse(m.get("transactionTime").asText()));
        Map<String, Long> counts = counts(m);
        assertEquals(Map.of("Patient", 2L, "Observation", total("Observation"), "Organization", 1L), counts);
        assertEquals(0, m.get("error").size());
        List<String> patients = new ArrayList<>();
        for (JsonNode o : m.get("output")) {
            HttpResponse<String> f = s.send(HttpRequest.newBuilder(URI.create(o.get("url").asText()))
                    .header("Authorization", "Bearer " + s.adminToken()).GET().build());
            assertEquals(200, f.statusCode(), f::body);
            assertEquals("application/fhir+ndjson", f.headers().firstValue("Content-Type").orElse(""));
            String[] lines = f.body().split("\n");
            assertEquals(o.get("count").asLong(), lines.length);
            for (String line : lines) {
                JsonNode r = JSON.readTree(line);
                assertEquals(o.get("type").asText(), r.get("resourceType").asText());
                if (r.get("resourceType").asText().equals("Patient")) {
                    patients.add(r.get("id").asText());
                }
            }
            if (o.get("type").asText().equals("Patient")) {
                assertTrue(f.body().contains("山田") && f.body().contains("花子"), "Japanese text as stored");
            }
        }
        assertTrue(patients.contains(hanako) && patients.contains(taro));
        String job = status.substring(status.lastIndexOf('/') + 1);
        assertEquals(1, entries("action = 'bulk.export' AND convert_from(entry, 'UTF8') LIKE ?", "%" + job + "%"));
        assertEquals(1, entries("action = 'bulk.complete' AND outcome = 'success' AND ? = ANY(patients)"
                + " AND ? = ANY(patients) AND convert_from(entry, 'UTF8') LIKE ?", hanako, taro, "%" + job + "%"));
        assertEquals(3, entries("action = 'bulk.download' AND convert_from(entry, 'UTF8') LIKE ?", "%" + job + "%"));
        assertEquals(2, entries("action = 'bulk.download' AND ? = ANY(patients) AND convert_from(entry, 'UTF8')"
                + " LIKE ?", hanako, "%" + job + "%"), "the Patient and the Observation files name hanako");
    }

    @Test
    void patientLevelExportsThePatientCompartmentOnly() throws Exception {
        Map<String, Long> c = counts(manifest(s.adminToken(), location(kickOff(s.adminToken(), "/Patient/$export"))));
        assertEquals(2L, c.get("Patient"));
        assertEquals(total("Observation"), c.get("Observation"));
        assertEquals(1L, c.get("Condition"));
        assertFalse(c.containsKey("Organization"), "not about a patient: " + c);
        HttpResponse<String> org = kickOff(s.adminToken(), "/Patient/$export?_type=Organization");
        assertEquals(400, org.statusCode(), org::body);
    }

    @Test
    void groupLevelExportsItsMembersOnly() throws Exception {
        JsonNode m = manifest(s.adminToken(), location(kickOff(s.adminToken(), "/Group/" + group
                + "/$export?_type=Patient,Observation,Condition")));
        assertEquals(Map.of("Patient", 1L, "Observation", 2L), counts(m), "hanako and her two observations");
        assertEquals(404, kickOff(s.adminToken(), "/Group/nope/$export").statusCode());
    }

    @Test
    void sinceAndTypeFilterNarrowTheExport() throws Exception {
        String later = created(s.post("/Observation", observationJson(taro, "2345-7", "血糖", 150)));
        String since = URLEncoder.encode(afterSetup.atOffset(ZoneOffset.ofHours(9)).toString(), StandardCharsets.UTF_8);
        JsonNode m = manifest(s.adminToken(), location(kickOff(s.adminToken(), "/$export?_type=Observation&_since="
                + since)));
        assertEquals(Map.of("Observation", 1L), counts(m));
        assertTrue(download(s.adminToken(), m.get("output").get(0).get("url").asText()).contains(later));

        String filter = URLEncoder.encode("Observation?code=http://loinc.org|4548-4", StandardCharsets.UTF_8);
        m = manifest(s.adminToken(), location(kickOff(s.adminToken(), "/$export?_type=Observation,Patient"
                + "&_typeFilter=" + filter)));
        assertEquals(Map.of("Observation", 2L, "Patient", 2L), counts(m), "HbA1c only, patients unfiltered");

        for (String bad : List.of("Observation?_include=Observation:subject", "Observation?nonsense=1",
                "Patient?name=x", "Observation", "Observation?code=a&x=,Observation?code=b")) {
            HttpResponse<String> r = kickOff(s.adminToken(), "/$export?_type=Observation&_typeFilter="
                    + URLEncoder.encode(bad, StandardCharsets.UTF_8));
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(r.body().contains("OperationOutcome") && r.body().contains("_typeFilter"), r::body);
        }
    }

    // ------------------------------------------------------------------------------------------------ cancel, expiry

    @Test
    void cancelStopsTheExportAndDeletesItsFiles() throws Exception {
        String status = location(kickOff(s.adminToken(), "/$export?_type=Patient"));
        manifest(s.adminToken(), status);
        String job = status.substring(status.lastIndexOf('/') + 1);
        assertTrue(Files.isDirectory(bulk.root().resolve(job)));
        HttpResponse<String> del = s.send(HttpRequest.newBuilder(URI.create(status))
                .header("Authorization", "Bearer " + s.adminToken()).DELETE().build());
        assertEquals(202, del.statusCode(), del::body);
        assertFalse(Files.exists(bulk.root().resolve(job)), "files deleted");
        HttpResponse<String> after = poll(s.adminToken(), status);
        assertEquals(410, after.statusCode(), after::body);
        assertTrue(after.body().contains("取り消"), after::body);
        assertEquals(410, s.send(HttpRequest.newBuilder(URI.create(s.base() + "/$export-file/" + job + "/1"))
                .header("Authorization", "Bearer " + s.adminToken()).GET().build()).statusCode());
        assertEquals(1, entries("action = 'bulk.cancel' AND convert_from(entry, 'UTF8') LIKE ?", "%" + job + "%"));

        CountDownLatch hold = new CountDownLatch(1);
        bulk.hold(hold);
        String queued = location(kickOff(s.adminToken(), "/$export?_type=Patient"));
        assertEquals(202, s.send(HttpRequest.newBuilder(URI.create(queued))
                .header("Authorization", "Bearer " + s.adminToken()).DELETE().build()).statusCode());
        hold.countDown();
        assertEquals(410, poll(s.adminToken(), queued).statusCode());
    }

    @Test
    void filesExpireAfterTheirLifetimeAndTheSweeperRemovesThem() throws Exception {
        bulk.settings(bulk.settings().with(Duration.ofMinutes(10), Duration.ZERO));
        String a = location(kickOff(s.adminToken(), "/$export?_type=Patient"));
        String url = manifest(s.adminToken(), a).get("output").get(0).get("url").asText();
        String b = location(kickOff(s.adminToken(), "/$export?_type=Organization"));
        manifest(s.adminToken(), b);
        bulk.clock(Clock.offset(Clock.systemUTC(), Duration.ofMinutes(11)));
        HttpResponse<String> f = s.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + s.adminToken()).GET().build());
        assertEquals(410, f.statusCode(), f::body);
        assertTrue(f.body().contains("有効期限") && f.body().contains("expired"), f::body);
        String jobB = b.substring(b.lastIndexOf('/') + 1);
        assertTrue(Files.exists(bulk.root().resolve(jobB)));
        assertTrue(bulk.sweep() >= 1);
        assertFalse(Files.exists(bulk.root().resolve(jobB)), "the sweeper removed the expired files");
        assertEquals(410, poll(s.adminToken(), b).statusCode());
    }

    // ------------------------------------------------------------------------------------------------ access

    @Test
    void aClientExportsOnlyTheTypesItMayReadAndOnlyItsOwnJobs() throws Exception {
        String patientsOnly = s.tokenWithScopes("system/Patient.rs");
        HttpResponse<String> refused = kickOff(patientsOnly, "/$export?_type=Observation");
        assertEquals(403, refused.statusCode(), refused::body);
        String status = location(kickOff(patientsOnly, "/$export"));
        assertEquals(Map.of("Patient", 2L), counts(manifest(patientsOnly, status)), "only what it may read");
        String url = manifest(patientsOnly, status).get("output").get(0).get("url").asText();

        String other = s.tokenWithScopes("system/*.read");
        HttpResponse<String> foreignPoll = poll(other, status);
        assertEquals(404, foreignPoll.statusCode(), "someone else's job does not exist for them");
        assertEquals(404, s.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + other)
                .GET().build()).statusCode());
        assertEquals(404, s.send(HttpRequest.newBuilder(URI.create(status)).header("Authorization", "Bearer " + other)
                .DELETE().build()).statusCode());
        assertEquals(401, s.send(HttpRequest.newBuilder(URI.create(url)).GET().build()).statusCode(),
                "requiresAccessToken");
        assertEquals(200, s.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer "
                + patientsOnly).GET().build()).statusCode(), "the owner still can");
    }

    @Test
    void tooManyExportsAndTooFastPollsAreThrottled() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        bulk.hold(hold);
        bulk.settings(bulk.settings().with(Duration.ofHours(24), Duration.ofHours(1)));
        try {
            String token = s.tokenWithScopes("system/*.read");
            String status = location(kickOff(token, "/$export?_type=Patient"));
            HttpResponse<String> second = kickOff(token, "/$export?_type=Patient");
            assertEquals(429, second.statusCode(), second::body);
            assertTrue(second.headers().firstValue("Retry-After").isPresent());
            HttpResponse<String> first = poll(token, status);
            assertEquals(202, first.statusCode());
            assertTrue(first.headers().firstValue("X-Progress").isPresent());
            assertEquals("3600", first.headers().firstValue("Retry-After").orElse(""));
            HttpResponse<String> fast = poll(token, status);
            assertEquals(429, fast.statusCode(), fast::body);
            assertTrue(fast.body().contains("Retry-After"), fast::body);
            bulk.settings(bulk.settings().withJobs(1, 1));
            HttpResponse<String> full = kickOff(s.tokenWithScopes("system/*.read"), "/$export?_type=Patient");
            assertEquals(429, full.statusCode(), "the server-wide bound: " + full.body());
        } finally {
            hold.countDown();
        }
    }

    // ------------------------------------------------------------------------------------------------ bad input

    @Test
    void badKickOffsAreClearOperationOutcomes() {
        HttpResponse<String> noPrefer = s.send(s.request("/$export").header("Accept", "application/fhir+json")
                .GET().build());
        assertEquals(400, noPrefer.statusCode());
        assertTrue(noPrefer.body().contains("respond-async"), noPrefer::body);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("/$export?_outputFormat=text/csv", "_outputFormat");
        cases.put("/$export?_type=Nonsense", "Nonsense");
        cases.put("/$export?_since=yesterday", "_since");
        cases.put("/$export?_since=2026-01-01", "_since");
        cases.put("/$export?patient=Patient/x", "patient");
        StringBuilder many = new StringBuilder("/$export?_type=");
        for (String t : jp.mamori.records.FhirSupport.CTX.getResourceTypes()) {
            many.append(t).append(',');
        }
        bulk.settings(new BulkExport.Settings(Duration.ofHours(1), 1 << 20, 4, 1, Duration.ZERO, 20, 10, 2));
        cases.put(many.toString(), "_type");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse<String> r = kickOff(s.adminToken(), c.getKey());
            assertEquals(400, r.statusCode(), c.getKey() + ": " + r.body());
            assertTrue(r.body().contains("OperationOutcome") && r.body().contains(c.getValue()), r::body);
        }
        HttpResponse<String> post = s.send(s.request("/$export").header("Prefer", "respond-async")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(405, post.statusCode(), post::body);
        assertEquals(404, poll(s.adminToken(), s.base() + "/$export-poll/" + "0".repeat(32)).statusCode());
        assertEquals(404, poll(s.adminToken(), s.base() + "/$export-poll/../../etc").statusCode());
        assertEquals(404, poll(s.adminToken(), s.base() + "/Patient/$export-poll").statusCode());
    }

    @Test
    void filesAreBoundedByBytes() throws Exception {
        bulk.settings(bulk.settings().withFileBytes(1024));
        for (int i = 0; i < 6; i++) {
            observation(taro, "2345-7", "血糖 " + "とても長い説明".repeat(10), 100 + i);
        }
        JsonNode m = manifest(s.adminToken(), location(kickOff(s.adminToken(), "/$export?_type=Observation")));
        long total = 0;
        int files = 0;
        for (JsonNode o : m.get("output")) {
            String body = download(s.adminToken(), o.get("url").asText());
            long bytes = body.getBytes(StandardCharsets.UTF_8).length;
            assertTrue(bytes <= 1024 || o.get("count").asLong() == 1, "bounded: " + bytes);
            total += o.get("count").asLong();
            files++;
        }
        assertTrue(files > 2, "split into several files: " + files);
        assertEquals(total("Observation"), total);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private HttpResponse<String> kickOff(String token, String path) {
        return s.send(HttpRequest.newBuilder(URI.create(s.base() + path)).header("Authorization", "Bearer " + token)
                .header("Prefer", "respond-async").header("Accept", "application/fhir+json").GET().build());
    }

    private static String location(HttpResponse<String> r) {
        assertEquals(202, r.statusCode(), r::body);
        return r.headers().firstValue("Content-Location").orElseThrow();
    }

    private HttpResponse<String> poll(String token, String status) {
        return s.send(HttpRequest.newBuilder(URI.create(status)).header("Authorization", "Bearer " + token)
                .GET().build());
    }

    /** Polls until the manifest (200); fails on anything but 202 meanwhile. */
    private JsonNode manifest(String token, String status) throws Exception {
        for (int i = 0; i < 600; i++) {
            HttpResponse<String> r = poll(token, status);
            if (r.statusCode() == 200) {
                assertTrue(r.headers().firstValue("Expires").isPresent());
                return JSON.readTree(r.body());
            }
            assertEquals(202, r.statusCode(), r::body);
            Thread.sleep(50);
        }
        throw new AssertionError("the export did not finish");
    }

    private String download(String token, String url) {
        HttpResponse<String> f = s.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + token).GET().build());
        assertEquals(200, f.statusCode(), f::body);
        return f.body();
    }

    /** How many resources of {@code type} the store has now (search total). */
    private long total(String type) throws Exception {
        return JSON.readTree(s.get("/" + type + "?_summary=count").body()).get("total").asLong();
    }

    private static Map<String, Long> counts(JsonNode m) {
        Map<String, Long> c = new LinkedHashMap<>();
        for (JsonNode o : m.get("output")) {
            c.merge(o.get("type").asText(), o.get("count").asLong(), Long::sum);
        }
        return c;
    }

    private void observation(String patient, String code, String text, double value) {
        created(s.post("/Observation", observationJson(patient, code, text, value)));
    }

    private static String observationJson(String patient, String code, String text, double value) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"" + code + "\"}],\"text\":\"" + text + "\"},\"subject\":"
                + "{\"reference\":\"Patient/" + patient + "\"},\"valueQuantity\":{\"value\":" + value + "}}";
    }

    private static String created(HttpResponse<String> r) {
        assertEquals(201, r.statusCode(), r::body);
        String loc = r.headers().firstValue("Location").orElseThrow();
        String[] p = loc.split("/");
        return p[p.length - 3];
    }

    private long entries(String where, Object... params) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Connection c = s.superuserConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE " + where)) {
                for (int j = 0; j < params.length; j++) {
                    ps.setObject(j + 1, params[j]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long n = rs.getLong(1);
                    if (n > 0) {
                        return n;
                    }
                }
            }
            Thread.sleep(50);
        }
        return 0;
    }
}
