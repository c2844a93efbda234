package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.TrendChart;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The chart (template {@code clinical/chart.jte}): the patient banner, the timeline of encounters and documents,
 * problems, allergies, medications, and results with their trend charts. Each part the person may not see says so.
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
        ChartData c;
        try {
            c = pages.clinical.run(r, "read", patientId, u -> {
                u.detail("view", "chart");
                return ChartData.load(u, patientId);
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        return pages.page(r, 200, FhirText.name(c.patient().json()), "chart", view(r, c));
    }

    /** The chart's view model. */
    ClinicalViews.Chart view(ConsoleRequest r, ChartData c) {
        return new ClinicalViews.Chart(pages.banner(r, c.patient(), c.allergies(), c.conditions(), c.labels()),
                c.patient().stored().id(), c.notes() != null, timeline(r, c), problems(r, c.conditions()),
                allergies(c.allergies()), medications(r, c.medications()), results(r, c.observations()));
    }

    private List<ClinicalViews.Event> timeline(ConsoleRequest r, ChartData c) {
        if (c.encounters() == null && c.notes() == null) {
            return null;
        }
        record Item(Instant at, ClinicalViews.Event event) {
        }
        JpDates.Lang lang = PageSupport.jl(r);
        List<Item> items = new ArrayList<>();
        if (c.encounters() != null) {
            for (Res e : c.encounters()) {
                JsonNode j = e.json();
                Instant at = FhirText.instant(j.path("period").path("start"));
                String type = j.path("type").isArray() && !j.path("type").isEmpty()
                        ? FhirText.concept(j.path("type").get(0)) : "";
                items.add(new Item(at, new ClinicalViews.Event(when(at, lang), false,
                        type + " " + FhirText.concept(j.path("serviceType")), null, null, null, null)));
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
            out.add(new ClinicalViews.Problem(FhirText.concept(j.path("code")),
                    onset == null ? "" : pages.dates.date(onset, PageSupport.jl(r)), FhirText.active(j)));
        }
        return out;
    }

    private static List<ClinicalViews.Allergy> allergies(List<Res> allergies) {
        if (allergies == null) {
            return null;
        }
        List<ClinicalViews.Allergy> out = new ArrayList<>(allergies.size());
        for (Res a : allergies) {
            JsonNode j = a.json();
            List<String> reactions = new ArrayList<>();
            for (JsonNode x : j.path("reaction")) {
                for (JsonNode m : x.path("manifestation")) {
                    reactions.add(FhirText.concept(m));
                }
            }
            out.add(new ClinicalViews.Allergy(FhirText.concept(j.path("code")), String.join("、", reactions),
                    j.path("criticality").asText("")));
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
                    since == null ? "" : pages.dates.date(since, PageSupport.jl(r))));
        }
        return new ClinicalViews.Medications(current, past);
    }

    private List<ClinicalViews.Result> results(ConsoleRequest r, List<Res> observations) {
        if (observations == null) {
            return null;
        }
        JpDates.Lang lang = PageSupport.jl(r);
        List<ClinicalViews.Result> out = new ArrayList<>();
        int n = 0;
        for (ChartData.Series s : ChartData.series(observations).values()) {
            n++;
            List<ChartData.Point> points = s.newestFirst();
            ClinicalViews.Drawn trend = null;
            if (points.size() >= 2) {
                List<TrendChart.Point> pts = new ArrayList<>(points.size());
                for (ChartData.Point p : points) {
                    pts.add(new TrendChart.Point(p.at(), p.value()));
                }
                trend = ClinicalViews.Drawn.trend(new TrendChart.Series(s.name(), s.unit(), pts, s.low(), s.high()),
                        "trend-" + n, pages.dates, lang);
            }
            List<ClinicalViews.Value> latest = new ArrayList<>();
            for (ChartData.Point p : points.subList(0, Math.min(TABLE_ROWS, points.size()))) {
                latest.add(new ClinicalViews.Value(pages.dates.dateTime(p.at(), lang), p.text(), p.flag()));
            }
            out.add(new ClinicalViews.Result(s.name(), s.unit(), trend, points.size(), latest,
                    s.low() == null && s.high() == null ? null : range(s)));
        }
        return out;
    }

    /** The reference range as written, "low–high" (either side empty when it has none). */
    static String range(ChartData.Series s) {
        return (s.low() == null ? "" : PageSupport.num(s.low())) + "–" + (s.high() == null ? "" : PageSupport.num(s.high()));
    }
}
