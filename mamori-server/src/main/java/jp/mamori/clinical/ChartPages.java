package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The chart (template {@code clinical/chart.jte}): the patient banner, the timeline of encounters and documents,
 * problems, allergies, medications, and each test's latest value (the cumulative table and trend charts are on the
 * results page, {@link ResultsPages}). Codes are shown as words (issue 22); each part the person may not see says
 * so, and 経過記録を書く is offered only to those the access model lets write a note for the patient.
 */
final class ChartPages {
    /** How many values of one test the chart's table (and the printed summary) shows. */
    static final int TABLE_ROWS = 10;

    private final PageSupport pages;

    ChartPages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths patients) {
        patients.add("", this::chart);
    }

    private Reply chart(ConsoleRequest r, String patientId) {
        record Loaded(ChartData data, boolean writes, boolean proxy) {
        }
        Loaded c;
        try {
            c = pages.clinical.run(r, "read", patientId, u -> {
                u.detail("view", "chart");
                ChartData d = ChartData.load(u, patientId);
                boolean writes = d.notes() != null && u.mayWriteNote(patientId);
                return new Loaded(d, writes, writes && u.entersForOthers());
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        return pages.page(r, 200, FhirText.name(c.data().patient().json()), "chart", view(r, c.data(), c.writes(), c.proxy()));
    }

    /** The chart's view model; {@code writes}: whether the person may write a note for the patient. */
    ClinicalViews.Chart view(ConsoleRequest r, ChartData c, boolean writes) {
        return view(r, c, writes, false);
    }

    /** As {@link #view(ConsoleRequest, ChartData, boolean)}; {@code proxy}: whether 代行入力 is offered. */
    ClinicalViews.Chart view(ConsoleRequest r, ChartData c, boolean writes, boolean proxy) {
        return new ClinicalViews.Chart(pages.banner(r, c.patient(), c.allergies(), c.conditions(), c.labels()),
                c.patient().stored().id(), writes, timeline(r, c), problems(r, c.conditions()),
                allergies(r, c.allergies()), medications(r, c.medications()), latest(r, c.observations()), proxy,
                pages.clinical.offersPrintout(r), pages.clinical.offersApps(r));
    }

    private List<ClinicalViews.Event> timeline(ConsoleRequest r, ChartData c) {
        if (c.encounters() == null && c.notes() == null) {
            return null;
        }
        record Item(Instant at, ClinicalViews.Event event) {
        }
        JpDates.Lang lang = PageSupport.jl(r);
        Messages t = r.messages();
        List<Item> items = new ArrayList<>();
        if (c.encounters() != null) {
            for (Res e : c.encounters()) {
                JsonNode j = e.json();
                Instant at = FhirText.instant(j.path("period").path("start"));
                items.add(new Item(at, new ClinicalViews.Event(when(at, lang), false, encounter(t, j), null, null,
                        null, null)));
            }
        }
        if (c.notes() != null) {
            for (Res n : c.notes()) {
                JsonNode j = n.json();
                Instant at = FhirText.instant(j.path("date"));
                items.add(new Item(at, new ClinicalViews.Event(when(at, lang), true, null, n.stored().id(),
                        j.path("title").asText(""), FhirText.author(j), j.path("status").asText(""))));
            }
        }
        items.sort(Comparator.comparing(Item::at, Comparator.nullsLast(Comparator.reverseOrder())));
        return items.stream().map(Item::event).toList();
    }

    /**
     * An encounter in words: its class (外来, 入院, 救急...), the department, and the ward when it names one; the
     * type's text only when it says something the class does not.
     */
    static String encounter(Messages t, JsonNode j) {
        List<String> parts = new ArrayList<>();
        String cls = j.path("class").path("code").asText("");
        String classText = cls.isEmpty() ? "" : t.code("clinical.encounterClass", cls);
        if (!classText.isEmpty()) {
            parts.add(classText);
        }
        if (j.path("type").isArray() && !j.path("type").isEmpty()) {
            String type = FhirText.concept(j.path("type").get(0));
            if (!type.isEmpty() && !type.equals(classText)) {
                parts.add(type);
            }
        }
        String dept = FhirText.concept(j.path("serviceType"));
        if (!dept.isEmpty()) {
            parts.add(dept);
        }
        for (JsonNode l : j.path("location")) {
            String ward = l.path("location").path("display").asText("");
            if (!ward.isEmpty()) {
                parts.add(ward);
            }
        }
        String status = j.path("status").asText("");
        if (status.equals("in-progress") || status.equals("cancelled") || status.equals("entered-in-error")) {
            parts.add("（" + t.code("clinical.encounterStatus", status) + "）");
        }
        return String.join(" ", parts);
    }

    private String when(Instant at, JpDates.Lang lang) {
        return at == null ? "" : pages.dates.dateTime(at, lang);
    }

    private List<ClinicalViews.Problem> problems(ConsoleRequest r, List<Res> conditions) {
        if (conditions == null) {
            return null;
        }
        List<Res> sorted = new ArrayList<>(conditions);
        sorted.sort(Comparator.comparing((Res x) -> !FhirText.active(x.json())));
        List<ClinicalViews.Problem> out = new ArrayList<>(sorted.size());
        for (Res c : sorted) {
            JsonNode j = c.json();
            Instant onset = FhirText.instant(j.path("onsetDateTime"));
            String code = FhirText.firstCode(j.path("clinicalStatus"), null);
            boolean active = FhirText.active(j);
            String status = code.isEmpty() ? r.messages().get(active ? "clinical.active" : "clinical.resolved")
                    : r.messages().code("clinical.conditionStatus", code);
            out.add(new ClinicalViews.Problem(FhirText.concept(j.path("code")),
                    onset == null ? "" : pages.dates.date(onset, PageSupport.jl(r)), active, status));
        }
        return out;
    }

    private static List<ClinicalViews.Allergy> allergies(ConsoleRequest r, List<Res> allergies) {
        if (allergies == null) {
            return null;
        }
        Messages t = r.messages();
        List<ClinicalViews.Allergy> out = new ArrayList<>(allergies.size());
        for (Res a : allergies) {
            JsonNode j = a.json();
            List<String> reactions = new ArrayList<>();
            for (JsonNode x : j.path("reaction")) {
                String severity = x.path("severity").asText("");
                for (JsonNode m : x.path("manifestation")) {
                    reactions.add(FhirText.concept(m) + (severity.isEmpty() ? ""
                            : "（" + t.code("clinical.severity", severity) + "）"));
                }
            }
            String criticality = j.path("criticality").asText("");
            out.add(new ClinicalViews.Allergy(FhirText.concept(j.path("code")), String.join("、", reactions),
                    criticality.isEmpty() ? "" : t.code("clinical.criticality", criticality),
                    criticality.equals("high")));
        }
        return out;
    }

    private ClinicalViews.Medications medications(ConsoleRequest r, List<Res> meds) {
        if (meds == null) {
            return null;
        }
        List<ClinicalViews.Medication> current = new ArrayList<>();
        List<ClinicalViews.Medication> past = new ArrayList<>();
        for (Res m : meds) {
            JsonNode j = m.json();
            String st = j.path("status").asText("");
            boolean active = st.equals("active") || st.equals("on-hold") || st.equals("draft");
            List<String> dosage = new ArrayList<>();
            for (JsonNode d : j.path("dosageInstruction")) {
                dosage.add(d.path("text").asText(""));
            }
            Instant since = FhirText.instant(j.path("authoredOn"));
            (active ? current : past).add(new ClinicalViews.Medication(
                    FhirText.concept(j.path("medicationCodeableConcept")), String.join("、", dosage),
                    since == null ? "" : pages.dates.date(since, PageSupport.jl(r)),
                    st.isEmpty() ? "" : r.messages().code("clinical.medicationStatus", st)));
        }
        return new ClinicalViews.Medications(current, past);
    }

    /** Each test's latest value (the cumulative table and trend charts are on the results page). */
    private List<ClinicalViews.Latest> latest(ConsoleRequest r, List<Res> observations) {
        if (observations == null) {
            return null;
        }
        JpDates.Lang lang = PageSupport.jl(r);
        List<ClinicalViews.Latest> out = new ArrayList<>();
        for (Map.Entry<String, ChartData.Series> e : ChartData.series(observations).entrySet()) {
            ChartData.Series s = e.getValue();
            List<ChartData.Point> points = s.newestFirst();
            ChartData.Point p = points.get(0);
            out.add(new ClinicalViews.Latest(ClinicalViews.param(e.getKey()), s.name(), s.unit(), p.text(), flag(p, s),
                    pages.dates.dateTime(p.at(), lang), s.low() == null && s.high() == null ? "" : range(s),
                    points.size()));
        }
        return out;
    }

    /**
     * The mark of a value out of range: the laboratory's interpretation when it gives H, L, HH, LL or A (N and the
     * like are no mark), else H or L against the test's reference range; "" within it.
     */
    static String flag(ChartData.Point p, ChartData.Series s) {
        String f = p.flag();
        if (!f.isEmpty()) {
            return switch (f) {
                case "H", "HH", "L", "LL", "A", "AA" -> f;
                case "HU", ">" -> "H";
                case "LU", "<" -> "L";
                default -> "";
            };
        }
        if (s.high() != null && p.value() > s.high()) {
            return "H";
        }
        if (s.low() != null && p.value() < s.low()) {
            return "L";
        }
        return "";
    }

    /** The reference range as written, "low–high" (either side empty when it has none). */
    static String range(ChartData.Series s) {
        return (s.low() == null ? "" : PageSupport.num(s.low())) + "–" + (s.high() == null ? "" : PageSupport.num(s.high()));
    }
}
