package jp.mamori.continuity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.KitPdf;
import jp.mamori.records.RecordService;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a downtime kit holds of each patient (BACKUP-12 "the minimum information for care"), read through the record
 * service as the server's own system caller, many patients per search (100 references at a time): the patient, their
 * encounters, allergies, conditions, active medication orders, the results of the last {@link #RESULT_DAYS} days and
 * the final notes of the last {@link #NOTE_DAYS} days. Drafts are left out (they are their authors' until signed).
 */
final class KitContent {
    static final int RESULT_DAYS = 90;
    static final int NOTE_DAYS = 90;
    static final int RESULTS_SHOWN = 15;
    static final int NOTES_SHOWN = 3;
    static final int NOTE_CHARS = 600;
    private static final int BATCH = 100;
    private static final int PAGE = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ICD10 = "http://hl7.org/fhir/sid/icd-10";

    private final RecordService records;
    private final Caller caller;
    private final JpDates dates;

    KitContent(RecordService records, Caller caller, JpDates dates) {
        this.records = records;
        this.caller = caller;
        this.dates = dates;
    }

    /** One patient's records, as read. */
    static final class Chart {
        JsonNode patient;
        final List<JsonNode> encounters = new ArrayList<>();
        final List<JsonNode> allergies = new ArrayList<>();
        final List<JsonNode> conditions = new ArrayList<>();
        final List<JsonNode> medications = new ArrayList<>();
        final List<JsonNode> observations = new ArrayList<>();
        final List<JsonNode> notes = new ArrayList<>();
    }

    /** The charts of {@code patientIds} (resource ids), keyed by id; a patient that cannot be read is absent. */
    Map<String, Chart> load(Collection<String> patientIds, Instant now) {
        Map<String, Chart> out = new LinkedHashMap<>();
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(patientIds));
        String resultsFrom = now.minusSeconds(86_400L * RESULT_DAYS).toString();
        String notesFrom = now.minusSeconds(86_400L * NOTE_DAYS).toString();
        for (int i = 0; i < ids.size(); i += BATCH) {
            List<String> batch = ids.subList(i, Math.min(ids.size(), i + BATCH));
            for (JsonNode p : search("Patient", Map.of("_id", List.of(String.join(",", batch))))) {
                Chart c = new Chart();
                c.patient = p;
                out.put(p.path("id").asText(), c);
            }
            String refs = String.join(",", batch.stream().map(id -> "Patient/" + id).toList());
            each("Encounter", Map.of("patient", List.of(refs)), out, c -> c.encounters);
            each("AllergyIntolerance", Map.of("patient", List.of(refs)), out, c -> c.allergies);
            each("Condition", Map.of("patient", List.of(refs)), out, c -> c.conditions);
            each("MedicationRequest", Map.of("patient", List.of(refs), "status", List.of("active")), out,
                    c -> c.medications);
            each("Observation", Map.of("patient", List.of(refs), "date", List.of("ge" + resultsFrom)), out,
                    c -> c.observations);
            each("Composition", Map.of("patient", List.of(refs), "date", List.of("ge" + notesFrom),
                    "status", List.of("final,amended")), out, c -> c.notes);
        }
        return out;
    }

    private void each(String type, Map<String, List<String>> params, Map<String, Chart> charts,
                      java.util.function.Function<Chart, List<JsonNode>> into) {
        for (JsonNode r : search(type, params)) {
            String ref = r.path("subject").path("reference").asText(r.path("patient").path("reference").asText(""));
            Chart c = charts.get(ref.startsWith("Patient/") ? ref.substring(8) : ref);
            if (c != null) {
                into.apply(c).add(r);
            }
        }
    }

    private List<JsonNode> search(String type, Map<String, List<String>> params) {
        List<JsonNode> out = new ArrayList<>();
        Map<String, List<String>> p = new LinkedHashMap<>(params);
        p.put("_count", List.of(Integer.toString(PAGE)));
        while (true) {
            RecordService.SearchPage page = records.search(caller, type, p);
            for (RecordService.Stored s : page.matches()) {
                try {
                    out.add(JSON.readTree(s.body()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            if (page.nextCursor() == null) {
                return out;
            }
            p.put("_cursor", List.of(page.nextCursor()));
        }
    }

    // ------------------------------------------------------------------ what the kit prints

    /** Why a patient is in a place's kit today: an open inpatient stay there, or an outpatient visit there today. */
    record Stay(boolean inpatient, Instant start) {
    }

    /**
     * The patient's stay in {@code place} that puts them in the kit made at {@code now} (day from {@code dayStart} to
     * {@code dayEnd}): the open inpatient encounter, else today's outpatient encounter; null when there is none (a
     * visit planned for another day, a discharge).
     */
    static Stay stayIn(Chart c, String place, Instant dayStart, Instant dayEnd) {
        Stay best = null;
        for (JsonNode e : c.encounters) {
            if (!placesOf(e).contains(place)) {
                continue;
            }
            String status = e.path("status").asText("");
            boolean open = Set.of("planned", "arrived", "triaged", "in-progress", "onleave").contains(status);
            Instant start = instant(e.path("period").path("start"));
            Instant end = instant(e.path("period").path("end"));
            boolean inpatient = Set.of("IMP", "ACUTE", "NONAC").contains(e.path("class").path("code").asText(""));
            if (start == null || !start.isBefore(dayEnd)) {
                continue;
            }
            boolean today = open ? inpatient || !start.isBefore(dayStart)
                    : "finished".equals(status) && !inpatient && (end == null ? start : end).isAfter(dayStart);
            if (today && (best == null || inpatient && !best.inpatient())) {
                best = new Stay(inpatient && open, start);
            }
        }
        return best;
    }

    /** The places an encounter relates its patient to, named as the record store's index of stays names them. */
    static Set<String> placesOf(JsonNode e) {
        return jp.mamori.records.FhirJson.encounterPlaces(e);
    }

    /** The kit's page of one patient. */
    KitPdf.Patient patient(Chart c, Stay stay, String place, Instant now) {
        JsonNode p = c.patient;
        LocalDate today = dates.localDate(now);
        LocalDate birth = date(p.path("birthDate").asText(""));
        String age = birth == null || birth.isAfter(today) ? "不明" : JpDates.ageText(birth, today, JpDates.Lang.JA);
        String sex = switch (p.path("gender").asText("")) {
            case "male" -> "男";
            case "female" -> "女";
            case "other" -> "その他";
            default -> "不明";
        };
        String stayText = stay.inpatient()
                ? "入院中（" + place + "、" + dates.date(stay.start(), JpDates.Lang.JA) + "入院）"
                : "外来（" + place + "、本日 " + dates.time(stay.start()) + "）";
        List<String> allergies = new ArrayList<>();
        for (JsonNode a : c.allergies) {
            if (active(a) && !"entered-in-error".equals(code(a.path("verificationStatus")))) {
                String reaction = concept(a.path("reaction").path(0).path("manifestation").path(0));
                allergies.add(concept(a.path("code")) + (reaction.isEmpty() ? "" : "（" + reaction + "）")
                        + ("high".equals(a.path("criticality").asText("")) ? "　重篤リスク高" : ""));
            }
        }
        List<String> infections = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (JsonNode cond : c.conditions) {
            if (!active(cond) || "entered-in-error".equals(code(cond.path("verificationStatus")))) {
                continue;
            }
            String icd = firstCode(cond.path("code"), ICD10);
            String text = concept(cond.path("code")) + (icd.isEmpty() ? "" : "（" + icd + "）");
            if (icd.startsWith("A") || icd.startsWith("B")) {
                infections.add(text);
            }
            problems.add(text);
        }
        List<String> meds = new ArrayList<>();
        for (JsonNode m : c.medications) {
            String name = concept(m.path("medicationCodeableConcept"));
            if (name.isEmpty()) {
                name = m.path("medicationReference").path("display").asText("");
            }
            String dose = m.path("dosageInstruction").path(0).path("text").asText("");
            meds.add(name + (dose.isEmpty() ? "" : "　" + dose));
        }
        return new KitPdf.Patient(jp.mamori.audit.PatientDirectory.name(p, false),
                jp.mamori.audit.PatientDirectory.name(p, true), jp.mamori.audit.PatientDirectory.patientId(p), sex,
                age, stayText, allergies, infections, problems, meds, results(c), notes(c));
    }

    private List<List<String>> results(Chart c) {
        record Row(String name, String value, Instant at) {
        }
        Map<String, Row> newest = new HashMap<>();
        for (JsonNode o : c.observations) {
            Instant at = instant(o.has("effectiveDateTime") ? o.get("effectiveDateTime")
                    : o.path("effectivePeriod").path("start"));
            if (at == null || Set.of("entered-in-error", "cancelled").contains(o.path("status").asText(""))) {
                continue;
            }
            String name = concept(o.path("code"));
            String value = value(o);
            List<String> parts = new ArrayList<>();
            for (JsonNode comp : o.path("component")) {
                String v = value(comp);
                if (!v.isEmpty()) {
                    parts.add(concept(comp.path("code")) + " " + v);
                }
            }
            if (value.isEmpty()) {
                value = String.join("、", parts);
            }
            if (value.isEmpty()) {
                continue;
            }
            String key = name.isEmpty() ? firstCode(o.path("code"), null) : name;
            Row old = newest.get(key);
            if (old == null || old.at().isBefore(at)) {
                newest.put(key, new Row(name, value, at));
            }
        }
        return newest.values().stream().sorted(Comparator.comparing(Row::at).reversed()).limit(RESULTS_SHOWN)
                .map(r -> List.of(r.name(), r.value(), dates.dateTime(r.at(), JpDates.Lang.JA))).toList();
    }

    private static String value(JsonNode valued) {
        JsonNode q = valued.path("valueQuantity");
        if (q.has("value")) {
            String flag = "";
            for (JsonNode i : valued.path("interpretation")) {
                String f = firstCode(i, null);
                if (f.equals("H") || f.equals("L") || f.equals("HH") || f.equals("LL")) {
                    flag = " " + f;
                }
            }
            return q.path("value").asText() + " " + q.path("unit").asText(q.path("code").asText("")) + flag;
        }
        if (valued.has("valueString")) {
            return valued.get("valueString").asText();
        }
        if (valued.has("valueCodeableConcept")) {
            return concept(valued.get("valueCodeableConcept"));
        }
        return "";
    }

    private List<KitPdf.Note> notes(Chart c) {
        List<JsonNode> sorted = new ArrayList<>(c.notes);
        sorted.sort(Comparator.comparing((JsonNode n) -> {
            Instant i = instant(n.path("date"));
            return i == null ? Instant.EPOCH : i;
        }).reversed());
        List<KitPdf.Note> out = new ArrayList<>();
        for (JsonNode n : sorted) {
            if (out.size() >= NOTES_SHOWN) {
                break;
            }
            Instant at = instant(n.path("date"));
            StringBuilder text = new StringBuilder();
            for (JsonNode s : n.path("section")) {
                String body = plain(s.path("text").path("div").asText(""));
                if (!body.isBlank()) {
                    if (!text.isEmpty()) {
                        text.append('\n');
                    }
                    String title = s.path("title").asText("");
                    text.append(title.isEmpty() ? "" : title + ": ").append(body.strip());
                }
            }
            String t = text.toString();
            if (t.codePointCount(0, t.length()) > NOTE_CHARS) {
                t = t.substring(0, t.offsetByCodePoints(0, NOTE_CHARS)) + "…（以下略）";
            }
            out.add(new KitPdf.Note(at == null ? "" : dates.dateTime(at, JpDates.Lang.JA),
                    n.path("title").asText(""), n.path("author").path(0).path("display").asText(""), t));
        }
        return out;
    }

    /** The text of a narrative's XHTML: tags dropped, paragraph and line breaks kept, the XML entities read. */
    static String plain(String xhtml) {
        String s = xhtml.replaceAll("(?i)<br\\s*/?>|</p>|</div>|</li>", "\n").replaceAll("<[^>]*>", "");
        s = s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&apos;", "'").replace("&nbsp;", " ").replace("&amp;", "&");
        return s.replaceAll("\n{3,}", "\n\n");
    }

    private static boolean active(JsonNode res) {
        String s = code(res.path("clinicalStatus"));
        return s.isEmpty() || s.equals("active") || s.equals("recurrence") || s.equals("relapse");
    }

    private static String code(JsonNode cc) {
        return firstCode(cc, null);
    }

    private static String firstCode(JsonNode cc, String system) {
        return jp.mamori.records.FhirJson.firstCode(cc, system);
    }

    private static String concept(JsonNode cc) {
        return jp.mamori.records.FhirJson.concept(cc);
    }

    private LocalDate date(String s) {
        try {
            return s.length() >= 10 ? LocalDate.parse(s.substring(0, 10)) : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** A FHIR dateTime or instant; a date alone as the start of that day in the server's zone; null if absent. */
    private static Instant instant(JsonNode v) {
        return jp.mamori.records.FhirJson.instant(v);
    }

    static String nfkc(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFKC);
    }
}
