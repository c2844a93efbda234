package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Search over clinical resources: references, tokens, dates, quantities, chains, _has and includes. */
class ClinicalSearchTest {
    static final String LOINC = "http://loinc.org";
    static final String UCUM = "http://unitsofmeasure.org";

    static String observation(String patientId, String code, String status, String effective, String value,
                              String unit, String category) {
        return "{\"resourceType\":\"Observation\",\"status\":\"" + status + "\",\"category\":[{\"coding\":[{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"" + category
                + "\"}]}],\"code\":{\"coding\":[{\"system\":\"" + LOINC + "\",\"code\":\"" + code + "\"}]},"
                + "\"subject\":{\"reference\":\"Patient/" + patientId + "\"},\"effectiveDateTime\":\"" + effective
                + "\"" + (value == null ? "" : ",\"valueQuantity\":{\"value\":" + value + ",\"unit\":\"" + unit
                + "\",\"system\":\"" + UCUM + "\",\"code\":\"" + unit + "\"}") + "}";
    }

    private static Set<String> found(String pathAndQuery) {
        return Set.copyOf(search(pathAndQuery));
    }

    @Test
    void observationBySubjectPatientCodeDateCategoryAndStatus() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Obs" + v));
        String o1 = createId("Observation", observation(pid, "2345-7", "final", "2026-04-01T09:00:00+09:00", "5.6",
                "mmol/L", "laboratory"));
        String o2 = createId("Observation", observation(pid, "8867-4", "preliminary", "2026-05-02T09:00:00+09:00",
                null, null, "vital-signs"));
        assertEquals(Set.of(o1, o2), found("/Observation?subject=Patient/" + pid));
        assertEquals(Set.of(o1, o2), found("/Observation?subject=" + pid));
        assertEquals(Set.of(o1, o2), found("/Observation?patient=" + pid));
        assertEquals(Set.of(o1, o2), found("/Observation?patient=Patient/" + pid));
        assertEquals(Set.of(o1, o2), found("/Observation?subject:Patient=" + pid));
        assertEquals(Set.of(o1), found("/Observation?patient=" + pid + "&code=" + enc(LOINC + "|2345-7")));
        assertEquals(Set.of(o1), found("/Observation?patient=" + pid + "&code=2345-7"));
        assertEquals(Set.of(), found("/Observation?patient=" + pid + "&code=" + enc("http://other|2345-7")));
        assertEquals(Set.of(o1, o2), found("/Observation?patient=" + pid + "&code=2345-7,8867-4"));
        assertEquals(Set.of(o2), found("/Observation?patient=" + pid + "&date=2026-05"));
        assertEquals(Set.of(o1), found("/Observation?patient=" + pid + "&date=lt2026-05-01"));
        assertEquals(Set.of(o1), found("/Observation?patient=" + pid + "&date=2026-04-01"));
        assertEquals(Set.of(o2), found("/Observation?patient=" + pid + "&category=vital-signs"));
        assertEquals(Set.of(o1), found("/Observation?patient=" + pid + "&status=final"));
        assertEquals(Set.of(o2), found("/Observation?patient=" + pid + "&status:not=final"));
    }

    @Test
    void valueQuantityHonoursPrefixesAndUnits() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Qty" + v));
        String low = createId("Observation", observation(pid, "2345-7", "final", "2026-04-01", "5.4", "mg", "laboratory"));
        String high = createId("Observation", observation(pid, "2345-7", "final", "2026-04-02", "7.25", "mg",
                "laboratory"));
        String other = createId("Observation", observation(pid, "2345-7", "final", "2026-04-03", "9", "g",
                "laboratory"));
        String p = "/Observation?patient=" + pid + "&value-quantity=";
        assertEquals(Set.of(high, other), found(p + "gt5.4"));
        assertEquals(Set.of(high), found(p + enc("gt5.4|" + UCUM + "|mg")));
        assertEquals(Set.of(low, high), found(p + enc("ge5.4||mg")));
        assertEquals(Set.of(low), found(p + enc("5.4|" + UCUM + "|mg")));
        assertEquals(Set.of(low), found(p + "5.4"));
        assertEquals(Set.of(low), found(p + "lt7"));
        assertEquals(Set.of(low, high), found(p + "le7.25"));
        assertEquals(Set.of(other), found(p + enc("9|" + UCUM + "|g")));
        assertEquals(Set.of(), found(p + enc("9|" + UCUM + "|mg")));
        assertEquals(Set.of(high, other), found(p + "ne5.4"));
        status(400, s().get(p + "gtfive"));
    }

    @Test
    void encounterByPatientDateStatusAndClass() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Enc" + v));
        String amb = createId("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"},\"period\":{\"start\":\"2026-03-10T09:00:00+09:00\","
                + "\"end\":\"2026-03-10T10:00:00+09:00\"}}");
        String imp = createId("Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"},\"period\":{\"start\":\"2026-06-01T09:00:00+09:00\"}}");
        String p = "/Encounter?patient=" + pid;
        assertEquals(Set.of(amb, imp), found(p));
        assertEquals(Set.of(amb), found(p + "&status=finished"));
        assertEquals(Set.of(imp), found(p + "&class=IMP"));
        assertEquals(Set.of(amb), found(p + "&class=" + enc("http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB")));
        assertEquals(Set.of(amb), found(p + "&date=2026-03-10"));
        assertEquals(Set.of(imp), found(p + "&date=ge2026-05-01"));
        assertEquals(Set.of(amb), found(p + "&date=lt2026-04"));
    }

    @Test
    void conditionByClinicalStatusAndOnsetDate() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Cond" + v));
        String active = createId("Condition", "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
                + "\"code\":{\"text\":\"高血圧\"},\"subject\":{\"reference\":\"Patient/" + pid + "\"},"
                + "\"onsetDateTime\":\"2019-07-01\"}");
        String resolved = createId("Condition", "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{"
                + "\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"resolved\"}]},"
                + "\"code\":{\"text\":\"感冒\"},\"subject\":{\"reference\":\"Patient/" + pid + "\"},"
                + "\"onsetDateTime\":\"2024-01-15\"}");
        String p = "/Condition?patient=" + pid;
        assertEquals(Set.of(active), found(p + "&clinical-status=active"));
        assertEquals(Set.of(resolved), found(p + "&clinical-status=resolved"));
        assertEquals(Set.of(active), found(p + "&onset-date=2019"));
        assertEquals(Set.of(resolved), found(p + "&onset-date=gt2020-01-01"));
    }

    @Test
    void medicationRequestByStatusAndAuthoredOn() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Med" + v));
        String mr = "{\"resourceType\":\"MedicationRequest\",\"status\":\"%s\",\"intent\":\"order\","
                + "\"medicationCodeableConcept\":{\"text\":\"ロキソニン錠60mg\"},\"subject\":{\"reference\":\"Patient/"
                + pid + "\"},\"authoredOn\":\"%s\"}";
        String a = createId("MedicationRequest", mr.formatted("active", "2026-02-01T10:00:00+09:00"));
        String s2 = createId("MedicationRequest", mr.formatted("stopped", "2026-02-20T10:00:00+09:00"));
        String p = "/MedicationRequest?patient=" + pid;
        assertEquals(Set.of(a), found(p + "&status=active"));
        assertEquals(Set.of(s2), found(p + "&authoredon=ge2026-02-10"));
        assertEquals(Set.of(a, s2), found(p + "&authoredon=2026-02"));
    }

    @Test
    void documentReferenceAndCompositionByPatientTypeDateAndStatus() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Doc" + v));
        String dr = createId("DocumentReference", "{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
                + "\"docStatus\":\"preliminary\",\"type\":{\"coding\":[{\"system\":\"" + LOINC + "\",\"code\":\"18842-5\"}]},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"},\"date\":\"2026-01-05T10:00:00+09:00\","
                + "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"5oSf5p+T\"}}]}");
        String comp = createId("Composition", "{\"resourceType\":\"Composition\",\"status\":\"preliminary\","
                + "\"type\":{\"coding\":[{\"system\":\"" + LOINC + "\",\"code\":\"11506-3\"}]},"
                + "\"subject\":{\"reference\":\"Patient/" + pid + "\"},\"date\":\"2026-01-06T10:00:00+09:00\","
                + "\"author\":[{\"display\":\"医師 一郎\"}],\"title\":\"経過記録\"}");
        assertEquals(Set.of(dr), found("/DocumentReference?patient=" + pid + "&type=" + enc(LOINC + "|18842-5")
                + "&status=current&date=2026-01-05"));
        assertEquals(Set.of(), found("/DocumentReference?patient=" + pid + "&status=superseded"));
        assertEquals(Set.of(comp), found("/Composition?patient=" + pid + "&type=11506-3&status=preliminary"
                + "&date=ge2026-01-06"));
        assertEquals(Set.of(), found("/Composition?patient=" + pid + "&date=lt2026-01-06"));
    }

    @Test
    void chainedSearchFindsObservationsByTheirPatientsFamilyName() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Chain" + v));
        String other = createId("Patient", patient(uid(), "Other" + v));
        String o = createId("Observation", observation(pid, "2345-7", "final", "2026-04-01", "1", "mg", "laboratory"));
        createId("Observation", observation(other, "2345-7", "final", "2026-04-01", "1", "mg", "laboratory"));
        assertEquals(Set.of(o), found("/Observation?subject:Patient.family=chain" + v));
        assertEquals(Set.of(o), found("/Observation?patient.identifier=" + enc(SYS + "|" + v)));
    }

    @Test
    void hasFindsPatientsReferredToByMatchingObservations() {
        String v = uid();
        String code = "h" + uid();
        String with = createId("Patient", patient(v, "Has" + v));
        String without = createId("Patient", patient(v, "HasNot" + v));
        createId("Observation", observation(with, code, "final", "2026-04-01", "1", "mg", "laboratory"));
        createId("Observation", observation(without, "other-" + code, "final", "2026-04-01", "1", "mg", "laboratory"));
        assertEquals(Set.of(with), found("/Patient?_has:Observation:patient:code=" + code));
        assertEquals(Set.of(with), found("/Patient?_has:Observation:subject:code=" + enc(LOINC + "|" + code)
                + "&identifier=" + enc(SYS + "|" + v)));
    }

    @Test
    void includeAddsTheReferencedPatientsAsIncludeEntries() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Inc" + v));
        String o = createId("Observation", observation(pid, "2345-7", "final", "2026-04-01", "1", "mg", "laboratory"));
        HttpResponse<String> r = s().get("/Observation?patient=" + pid + "&_include=Observation:subject");
        status(200, r);
        JsonNode b = json(r);
        assertEquals(Set.of(o), Set.copyOf(Api.matchIds(b)));
        Set<String> included = new HashSet<>();
        for (JsonNode e : b.path("entry")) {
            String mode = e.path("search").path("mode").asText();
            String type = e.path("resource").path("resourceType").asText();
            assertEquals(type.equals("Patient") ? "include" : "match", mode, e::toString);
            if (mode.equals("include")) {
                included.add(e.path("resource").path("id").asText());
            }
        }
        assertEquals(Set.of(pid), included);
    }

    @Test
    void revincludeAddsTheObservationsThatReferToTheMatches() {
        String v = uid();
        String pid = createId("Patient", patient(v, "Rev" + v));
        String o1 = createId("Observation", observation(pid, "2345-7", "final", "2026-04-01", "1", "mg", "laboratory"));
        String o2 = createId("Observation", observation(pid, "8867-4", "final", "2026-04-01", "1", "mg", "laboratory"));
        HttpResponse<String> r = s().get("/Patient?identifier=" + enc(SYS + "|" + v)
                + "&_revinclude=Observation:subject");
        status(200, r);
        JsonNode b = json(r);
        assertEquals(java.util.List.of(pid), Api.matchIds(b));
        Set<String> included = new HashSet<>();
        for (JsonNode e : b.path("entry")) {
            if ("include".equals(e.path("search").path("mode").asText())) {
                assertEquals("Observation", e.path("resource").path("resourceType").asText());
                included.add(e.path("resource").path("id").asText());
            }
        }
        assertEquals(Set.of(o1, o2), included);
        assertTrue(b.path("total").asInt() == 1, b::toString);
    }
}
