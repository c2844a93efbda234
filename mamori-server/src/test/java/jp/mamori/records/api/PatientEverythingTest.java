package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.audit.AuditReports;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.nextLink;
import static jp.mamori.records.api.Api.pages;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Patient/[id]/$everything} against a real server and database: the patient's compartment by R4's search
 * parameters (and nothing of another patient), the practitioners it refers to, _since, _type, paging by a stable
 * cursor, the scopes of a system client, the refusals, and the audit entry that names the patient. A person through
 * SMART is in {@code SmartAppsTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PatientEverythingTest {
    private String pid;
    private String other;
    private String practitioner;
    private final Set<String> mine = new TreeSet<>();
    private String lateObservation;
    private Instant between;

    private static String observation(String pid, String code, String performer) {
        return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
                + "\"http://loinc.org\",\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"Patient/" + pid + "\"}"
                + (performer == null ? "" : ",\"performer\":[{\"reference\":\"" + performer + "\"}]") + "}";
    }

    @BeforeAll
    void data() throws Exception {
        String v = uid();
        pid = createId("Patient", patient(v, "Everything" + v, "Hanako", "female", "1970-04-01"));
        other = createId("Patient", patient(uid(), "Other" + v));
        practitioner = createId("Practitioner", "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"医師\"}]}");
        mine.add("Patient/" + pid);
        for (int i = 0; i < 5; i++) {
            mine.add("Observation/" + createId("Observation", observation(pid, "e" + i + v,
                    i == 0 ? "Practitioner/" + practitioner : i == 1 ? "Patient/" + pid : null)));
        }
        mine.add("AllergyIntolerance/" + createId("AllergyIntolerance", "{\"resourceType\":\"AllergyIntolerance\","
                + "\"code\":{\"text\":\"ペニシリン\"},\"patient\":{\"reference\":\"Patient/" + pid + "\"}}"));
        mine.add("Condition/" + createId("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"2型糖尿病\"},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"}}"));
        mine.add("Encounter/" + createId("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"finished\","
                + "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"}}"));
        // another patient's records, one of them performed by the same practitioner
        createId("Observation", observation(other, "x" + v, "Practitioner/" + practitioner));
        createId("Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"他人\"},\"subject\":{\"reference\":"
                + "\"Patient/" + other + "\"}}");
        Thread.sleep(20);
        between = Instant.now();
        Thread.sleep(20);
        lateObservation = createId("Observation", observation(pid, "late" + v, null));
        mine.add("Observation/" + lateObservation);
    }

    private static Set<String> refs(List<JsonNode> pages, String mode) {
        Set<String> out = new TreeSet<>();
        for (JsonNode p : pages) {
            for (JsonNode e : p.path("entry")) {
                if (mode.equals(e.path("search").path("mode").asText())) {
                    assertTrue(out.add(e.path("resource").path("resourceType").asText() + "/"
                            + e.path("resource").path("id").asText()) || mode.equals("include"),
                            () -> "given twice: " + e);
                }
            }
        }
        return out;
    }

    private static HttpResponse<String> as(String token, String path) {
        return s().send(HttpRequest.newBuilder(URI.create(s().base() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token).GET().build());
    }

    @Test
    void theWholeCompartmentOnceWithTheReferencedPractitionerAndNothingOfAnotherPatient() {
        List<JsonNode> all = pages("/Patient/" + pid + "/$everything", null);
        assertEquals(1, all.size(), "a small record fits one page");
        assertEquals("searchset", all.get(0).path("type").asText());
        assertEquals(mine, refs(all, "match"), "the patient and every resource that links to it, each once"
                + " (the observation whose subject and performer are both the patient too)");
        assertEquals(Set.of("Practitioner/" + practitioner), refs(all, "include"));
        assertFalse(all.get(0).toString().contains("Patient/" + other), "nothing of the other patient");
    }

    @Test
    void pagesFollowAStableCursorAndGiveTheSameSetAsOnePage() {
        List<JsonNode> paged = pages("/Patient/" + pid + "/$everything?_count=2", () -> {
        });
        assertTrue(paged.size() >= 5, "10 resources at 2 a page: " + paged.size());
        for (JsonNode p : paged) {
            long n = 0;
            for (JsonNode e : p.path("entry")) {
                if ("match".equals(e.path("search").path("mode").asText())) {
                    n++;
                }
            }
            assertTrue(n <= 2, "at most _count matches a page: " + p);
        }
        assertEquals(mine, refs(paged, "match"));
        String next = nextLink(paged.get(0));
        assertNotNull(next);
        assertTrue(next.contains("_cursor=") && next.contains("_count=2"), next);

        // a record written while paging appears on a later page or not at all, and nothing is given twice
        List<JsonNode> again = pages("/Patient/" + pid + "/$everything?_count=3&_type=Observation", null);
        assertEquals(mine.stream().filter(x -> x.startsWith("Observation/")).collect(java.util.stream.Collectors
                .toCollection(TreeSet::new)), refs(again, "match"));
    }

    @Test
    void sinceAndTypeNarrowTheAnswer() {
        List<JsonNode> since = pages("/Patient/" + pid + "/$everything?_since=" + enc(between.toString()), null);
        assertEquals(Set.of("Observation/" + lateObservation), refs(since, "match"),
                "only what changed since; the patient itself was written before");

        List<JsonNode> typed = pages("/Patient/" + pid + "/$everything?_type=" + enc("Patient,AllergyIntolerance,"
                + "Condition"), null);
        Set<String> want = new TreeSet<>();
        for (String r : mine) {
            if (r.startsWith("Patient/") || r.startsWith("AllergyIntolerance/") || r.startsWith("Condition/")) {
                want.add(r);
            }
        }
        assertEquals(want, refs(typed, "match"));
        assertEquals(Set.of(), refs(typed, "include"), "Practitioner not asked for");
    }

    @Test
    void badParametersAndUnknownPatientsAreClearRefusals() {
        for (String q : List.of("?_since=yesterday", "?_type=Nonsense", "?_count=abc", "?_count=0",
                "?_cursor=" + enc("!!!"), "?_cursor=" + enc("ZTEuOTk5"), "?start=2020-01-01", "?_type=Observation&_type=Patient")) {
            HttpResponse<String> r = s().get("/Patient/" + pid + "/$everything" + q);
            status(400, r);
            assertEquals("OperationOutcome", json(r).path("resourceType").asText(), r::body);
        }
        HttpResponse<String> missing = s().get("/Patient/" + uid() + "/$everything");
        status(404, missing);
        HttpResponse<String> typeLevel = s().get("/Patient/$everything");
        status(400, typeLevel);
        assertTrue(typeLevel.body().contains("Patient/[id]/$everything"), typeLevel::body);
        status(404, s().get("/Observation/x/$everything"));
    }

    @Test
    void aSystemClientGetsOnlyTheTypesItMaySearchAndIsToldWhichAreLeftOut() {
        String token = s().tokenWithScopes("system/Patient.rs system/Condition.rs");
        HttpResponse<String> r = as(token, "/Patient/" + pid + "/$everything");
        status(200, r);
        JsonNode b = json(r);
        List<JsonNode> page = List.of(b);
        Set<String> want = new TreeSet<>();
        for (String x : mine) {
            if (x.startsWith("Patient/") || x.startsWith("Condition/")) {
                want.add(x);
            }
        }
        assertEquals(want, refs(page, "match"));
        assertEquals(Set.of(), refs(page, "include"), "no Practitioner read scope: no practitioner");
        String outcome = null;
        for (JsonNode e : b.path("entry")) {
            if ("outcome".equals(e.path("search").path("mode").asText())) {
                outcome = e.path("resource").path("issue").get(0).path("diagnostics").asText();
            }
        }
        assertNotNull(outcome, "the types left out are said: " + r.body());
        assertTrue(outcome.contains("Observation") && outcome.contains("AllergyIntolerance")
                && !outcome.contains("Condition,"), outcome);

        HttpResponse<String> noPatient = as(s().tokenWithScopes("system/Observation.rs"),
                "/Patient/" + pid + "/$everything");
        status(403, noPatient);
    }

    @Test
    void theAnswerIsAuditedAsAReadNamingThePatient() {
        Instant before = Instant.now().minusSeconds(1);
        status(200, s().get("/Patient/" + pid + "/$everything?_type=Condition"));
        AuditReports.Row e = s().server().audit().reports().latest(200).stream()
                .filter(x -> x.action().equals("read") && x.patients().contains(pid)
                        && !x.at().isBefore(before.truncatedTo(java.time.temporal.ChronoUnit.MICROS)))
                .findFirst().orElseThrow(() -> new AssertionError("no read entry naming the patient"));
        assertEquals("success", e.outcome());
        assertFalse(e.patients().contains(other));
        Instant before2 = Instant.now().minusSeconds(1);
        status(403, as(s().tokenWithScopes("system/Observation.rs"), "/Patient/" + other + "/$everything"));
        AuditReports.Row refused = s().server().audit().reports().latest(200).stream()
                .filter(x -> x.action().equals("read") && x.patients().contains(other)
                        && !x.at().isBefore(before2.truncatedTo(java.time.temporal.ChronoUnit.MICROS)))
                .findFirst().orElseThrow(() -> new AssertionError("no refused read entry naming the patient"));
        assertEquals("refused", refused.outcome());
    }
}
