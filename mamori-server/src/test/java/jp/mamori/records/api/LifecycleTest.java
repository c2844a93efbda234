package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.send;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Authenticity: drafts change freely; final records change only as reasoned amendments, never silently. */
class LifecycleTest {
    private static final String REASON = "X-Mamori-Reason";

    private static String obs(String id, String status, String value) {
        return "{\"resourceType\":\"Observation\"," + (id == null ? "" : "\"id\":\"" + id + "\",") + "\"status\":\""
                + status + "\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2345-7\"}]},"
                + "\"valueQuantity\":{\"value\":" + value + ",\"unit\":\"mg/dL\"}}";
    }

    private static String composition(String id, String status, String title) {
        return "{\"resourceType\":\"Composition\"," + (id == null ? "" : "\"id\":\"" + id + "\",") + "\"status\":\""
                + status + "\",\"type\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"11506-3\"}]},"
                + "\"date\":\"2026-04-01T10:00:00+09:00\",\"author\":[{\"display\":\"医師 一郎\"}],\"title\":\"" + title
                + "\"}";
    }

    private static HttpResponse<String> put(String path, String body, String reason) {
        return reason == null ? s().put(path, body)
                : send("PUT", path, "application/fhir+json", body, REASON, enc(reason).replace("+", "%20"));
    }

    private static RecordService.Stored version(String type, String id, int v) {
        return s().server().records().vread(Caller.system("test"), type, id, Integer.toString(v));
    }

    @Test
    void aPreliminaryObservationChangesWithoutAReason() {
        String id = createId("Observation", obs(null, "preliminary", "90"));
        HttpResponse<String> r = put("/Observation/" + id, obs(id, "preliminary", "95"), null);
        status(200, r);
        assertEquals("update", version("Observation", id, 2).operation());
        // and becomes final without a reason: finalizing is not a change of a final record
        status(200, put("/Observation/" + id, obs(id, "final", "95"), null));
    }

    @Test
    void aFinalObservationChangesOnlyWithAReasonAndTheChangeIsRecordedAsAnAmendment() {
        String id = createId("Observation", obs(null, "final", "120"));
        HttpResponse<String> refused = put("/Observation/" + id, obs(id, "amended", "125"), null);
        status(422, refused);
        assertTrue(Api.firstIssue(refused).path("diagnostics").asText().contains(REASON));
        assertEquals("1", json(s().get("/Observation/" + id)).path("meta").path("versionId").asText());
        HttpResponse<String> ok = put("/Observation/" + id, obs(id, "amended", "125"), "転記ミスの訂正 (typo)");
        status(200, ok);
        RecordService.Stored v2 = version("Observation", id, 2);
        assertEquals("amend", v2.operation());
        assertEquals("転記ミスの訂正 (typo)", v2.reason());
        HttpResponse<String> h = s().get("/Observation/" + id + "/_history");
        JsonNode entries = json(h).path("entry");
        assertEquals(2, entries.size());
        HttpResponse<String> v1 = s().get("/Observation/" + id + "/_history/1");
        status(200, v1);
        assertEquals("final", json(v1).path("status").asText());
        assertEquals(120, json(v1).path("valueQuantity").path("value").asInt());
        assertEquals(125, json(s().get("/Observation/" + id)).path("valueQuantity").path("value").asInt());
    }

    @Test
    void aFinalRecordCannotGoBackToPreliminaryEvenWithAReason() {
        String id = createId("Observation", obs(null, "final", "7"));
        status(422, put("/Observation/" + id, obs(id, "preliminary", "7"), "reopen"));
        assertEquals("final", json(s().get("/Observation/" + id)).path("status").asText());
    }

    @Test
    void markingEnteredInErrorNeedsAReason() {
        String id = createId("Observation", obs(null, "preliminary", "1"));
        status(422, put("/Observation/" + id, obs(id, "entered-in-error", "1"), null));
        status(200, put("/Observation/" + id, obs(id, "entered-in-error", "1"), "wrong patient / 患者取り違え"));
        assertEquals("entered-in-error", version("Observation", id, 2).operation());
        // and it stays locked
        status(422, put("/Observation/" + id, obs(id, "entered-in-error", "2"), null));
    }

    @Test
    void aNewRecordCannotStartAsEnteredInError() {
        status(422, s().post("/Observation", obs(null, "entered-in-error", "1")));
    }

    @Test
    void aFinalCompositionIsAmendedOnlyWithAReason() {
        String id = createId("Composition", composition(null, "preliminary", "経過記録 v1"));
        status(200, put("/Composition/" + id, composition(id, "preliminary", "経過記録 v2"), null));
        status(200, put("/Composition/" + id, composition(id, "final", "経過記録 v3"), null));
        status(422, put("/Composition/" + id, composition(id, "amended", "経過記録 v4"), null));
        status(200, put("/Composition/" + id, composition(id, "amended", "経過記録 v4"), "追記"));
        assertEquals("amend", version("Composition", id, 4).operation());
        assertEquals("経過記録 v3", json(s().get("/Composition/" + id + "/_history/3")).path("title").asText());
    }

    @Test
    void aFinalDocumentReferenceChangesOnlyWithAReason() {
        String pid = createId("Patient", patient(uid(), "DocLife"));
        String doc = "{\"resourceType\":\"DocumentReference\",%s\"status\":\"current\",\"docStatus\":\"final\","
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"},\"description\":\"%s\",\"content\":[{"
                + "\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"5oSf5p+T\"}}]}";
        String id = createId("DocumentReference", doc.formatted("", "v1"));
        String idField = "\"id\":\"" + id + "\",";
        status(422, put("/DocumentReference/" + id, doc.formatted(idField, "v2"), null));
        status(200, put("/DocumentReference/" + id, doc.formatted(idField, "v2"), "訂正"));
        assertEquals("amend", version("DocumentReference", id, 2).operation());
    }

    @Test
    void aFinalRecordInATransactionNeedsAReasonToo() {
        String id = createId("Observation", obs(null, "final", "3"));
        String entry = "{\"resource\":" + obs(id, "amended", "4") + ",\"request\":{\"method\":\"PUT\",\"url\":"
                + "\"Observation/" + id + "\"}}";
        HttpResponse<String> r = s().post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + entry + "]}");
        status(422, r);
        String withReason = "{\"resource\":" + obs(id, "amended", "4") + ",\"request\":{\"extension\":[{\"url\":"
                + "\"http://mamori.jp/fhir/StructureDefinition/change-reason\",\"valueString\":\"訂正\"}],"
                + "\"method\":\"PUT\",\"url\":\"Observation/" + id + "\"}}";
        status(200, s().post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + withReason
                + "]}"));
        assertEquals("amend", version("Observation", id, 2).operation());
        assertEquals("訂正", version("Observation", id, 2).reason());
    }
}
