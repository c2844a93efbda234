package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.clinical.Clinical.Unit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a chart shows (the chart page and the printed summary); each list null when the person may not see
 * that kind of record at all.
 */
record ChartData(Res patient, List<Res> encounters, List<Res> notes, List<Res> conditions, List<Res> allergies,
                 List<Res> medications, List<Res> observations) {
    /** A chart shows at most this many of each kind of resource (the bench's chart has 5,000 results). */
    private static final int MAX_PER_TYPE = 10_000;

    static ChartData load(Unit u, String patientId) {
        Res patient = u.read("Patient", patientId);
        u.requireClinical(patientId);
        return new ChartData(patient, u.ofPatient("Encounter", patientId, MAX_PER_TYPE),
                u.ofPatient("Composition", patientId, MAX_PER_TYPE), u.ofPatient("Condition", patientId, MAX_PER_TYPE),
                u.ofPatient("AllergyIntolerance", patientId, MAX_PER_TYPE),
                u.ofPatient("MedicationRequest", patientId, MAX_PER_TYPE),
                u.ofPatient("Observation", patientId, MAX_PER_TYPE));
    }

    /** The sensitive-information labels of the patient and of every record the chart holds. */
    Set<String> labels() {
        Set<String> out = new LinkedHashSet<>(FhirText.labels(patient.json()));
        for (List<Res> l : java.util.Arrays.asList(encounters, notes, conditions, allergies, medications, observations)) {
            if (l != null) {
                l.forEach(x -> out.addAll(FhirText.labels(x.json())));
            }
        }
        return out;
    }

    /** A measured value: when, the number, the number as written, the interpretation code, and its resource. */
    record Point(Instant at, double value, String text, String flag, Res from) {
    }

    /** One test's numeric results, grouped by code (a panel's components count as tests of their own). */
    record Series(String name, String unit, Double low, Double high, List<Point> points) {
        /** The points, newest first. */
        List<Point> newestFirst() {
            List<Point> out = new ArrayList<>(points);
            out.sort(Comparator.comparing(Point::at).reversed());
            return out;
        }
    }

    static Map<String, Series> series(List<Res> observations) {
        Map<String, Series> out = new LinkedHashMap<>();
        for (Res o : observations) {
            JsonNode j = o.json();
            Instant at = FhirText.instant(j.has("effectiveDateTime") ? j.get("effectiveDateTime")
                    : j.path("effectivePeriod").path("start"));
            if (at == null) {
                continue;
            }
            add(out, j.path("code"), j, at, o);
            for (JsonNode comp : j.path("component")) {
                add(out, comp.path("code"), comp, at, o);
            }
        }
        return out;
    }

    private static void add(Map<String, Series> out, JsonNode code, JsonNode valued, Instant at, Res from) {
        JsonNode q = valued.path("valueQuantity");
        if (!q.has("value")) {
            return;
        }
        JsonNode range = valued.path("referenceRange").path(0);
        Series s = out.computeIfAbsent(FhirText.code(code), k -> new Series(FhirText.concept(code),
                q.path("unit").asText(q.path("code").asText("")),
                range.path("low").has("value") ? range.path("low").path("value").asDouble() : null,
                range.path("high").has("value") ? range.path("high").path("value").asDouble() : null, new ArrayList<>()));
        String flag = "";
        for (JsonNode i : valued.path("interpretation")) {
            flag = FhirText.firstCode(i, null);
        }
        s.points().add(new Point(at, q.path("value").asDouble(), q.path("value").asText(), flag, from));
    }
}
