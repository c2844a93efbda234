package jp.mamori.clinical;

import jp.mamori.chart.JpDates;
import jp.mamori.chart.TrendChart;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The cumulative results (検査結果 時系列, template {@code clinical/results.jte}) at
 * {@code /console/patients/ID/results?from=YYYY-MM-DD&to=YYYY-MM-DD&trend=CODE}: tests as rows, the dates with
 * results as columns (newest first, {@link #COLUMNS} at a time, older ones a link away), each value out of range
 * marked H or L beside the test's reference range; and, when a test is picked from the table, that one test's
 * trend chart over the range. The query holds dates and a test's code only, nothing about the patient. The page is
 * audited as a read of the results shown.
 */
final class ResultsPages {
    /** Date columns on one page of the table. */
    static final int COLUMNS = 14;
    /** A test's code as the page takes it back ({@code system|code}). */
    private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("[\\x21-\\x7e]{1,200}");

    private final PageSupport pages;

    ResultsPages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths patients) {
        patients.add("/results", this::results);
    }

    private Reply results(ConsoleRequest r, String patientId) {
        Messages t = r.messages();
        String fromText = r.param("from").strip();
        String toText = r.param("to").strip();
        String trendKey = r.param("trend").strip();
        String error = "";
        LocalDate from = null;
        LocalDate to = null;
        try {
            from = fromText.isEmpty() ? null : LocalDate.parse(fromText);
            to = toText.isEmpty() ? null : LocalDate.parse(toText);
        } catch (DateTimeParseException e) {
            error = t.get("clinical.results.badDate");
        }
        if (error.isEmpty() && from != null && to != null && from.isAfter(to)) {
            error = t.get("clinical.results.badRange");
        }
        if (!error.isEmpty()) {
            from = null;
            to = null;
        }
        if (!KEY.matcher(trendKey).matches()) {
            trendKey = "";
        }
        record Loaded(Res patient, List<Res> allergies, List<Res> conditions, List<Res> observations) {
        }
        Loaded c;
        try {
            c = pages.clinical.run(r, "read", patientId, u -> {
                u.detail("view", "results");
                Res patient = u.read("Patient", patientId);
                u.requireClinical(patientId);
                return new Loaded(patient, u.ofPatient("AllergyIntolerance", patientId, 1000),
                        u.ofPatient("Condition", patientId, 1000), u.ofPatient("Observation", patientId, 10_000));
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        java.util.Set<String> labels = new java.util.LinkedHashSet<>(FhirText.labels(c.patient().json()));
        ClinicalViews.Banner banner = pages.banner(r, c.patient(), c.allergies(), c.conditions(), labels);
        if (c.observations() == null) {
            return pages.page(r, 200, t.get("clinical.results.title"), "results", new ClinicalViews.Results(banner,
                    patientId, fromText, toText, error, List.of(), null, null, "", null, null));
        }
        JpDates dates = pages.dates;
        JpDates.Lang lang = PageSupport.jl(r);
        Map<String, ChartData.Series> series = ChartData.series(c.observations());
        // The dates with a result within the range, newest first; a page shows COLUMNS of them.
        TreeSet<LocalDate> days = new TreeSet<>(java.util.Comparator.reverseOrder());
        for (ChartData.Series s : series.values()) {
            for (ChartData.Point p : s.points()) {
                LocalDate d = dates.localDate(p.at());
                if ((from == null || !d.isBefore(from)) && (to == null || !d.isAfter(to))) {
                    days.add(d);
                }
            }
        }
        List<LocalDate> columns = new ArrayList<>(days).subList(0, Math.min(COLUMNS, days.size()));
        String olderTo = days.size() > COLUMNS ? columns.get(columns.size() - 1).minusDays(1).toString() : null;
        List<String> headings = new ArrayList<>();
        for (LocalDate d : columns) {
            headings.add(dates.date(d, lang));
        }
        List<ClinicalViews.ResultRow> rows = new ArrayList<>();
        for (Map.Entry<String, ChartData.Series> e : series.entrySet()) {
            ChartData.Series s = e.getValue();
            List<ClinicalViews.Cell> cells = new ArrayList<>();
            boolean any = false;
            for (LocalDate d : columns) {
                List<String> values = new ArrayList<>();
                String flag = "";
                // oldest first within the day, as measured
                List<ChartData.Point> points = new ArrayList<>(s.points());
                points.sort(java.util.Comparator.comparing(ChartData.Point::at));
                for (ChartData.Point p : points) {
                    if (dates.localDate(p.at()).equals(d)) {
                        values.add(p.text());
                        String f = ChartPages.flag(p, s);
                        if (!f.isEmpty()) {
                            flag = f;
                        }
                    }
                }
                any |= !values.isEmpty();
                cells.add(new ClinicalViews.Cell(String.join(" / ", values), flag));
            }
            if (any) {
                rows.add(new ClinicalViews.ResultRow(ClinicalViews.param(e.getKey()), s.name(), s.unit(),
                        s.low() == null && s.high() == null ? "" : ChartPages.range(s), cells));
            }
        }
        ClinicalViews.Drawn trend = null;
        String trendName = null;
        ChartData.Series picked = trendKey.isEmpty() ? null : series.get(trendKey);
        if (picked != null) {
            List<TrendChart.Point> pts = new ArrayList<>();
            for (ChartData.Point p : picked.points()) {
                LocalDate d = dates.localDate(p.at());
                if ((from == null || !d.isBefore(from)) && (to == null || !d.isAfter(to))) {
                    pts.add(new TrendChart.Point(p.at(), p.value()));
                }
            }
            pts.sort(java.util.Comparator.comparing(TrendChart.Point::time));
            trendName = picked.name();
            if (!pts.isEmpty()) {
                trend = ClinicalViews.Drawn.trend(new TrendChart.Series(picked.name(), picked.unit(), pts,
                        picked.low(), picked.high()), "trend", dates, lang);
            }
        } else {
            trendKey = "";
        }
        return pages.page(r, error.isEmpty() ? 200 : 400, t.get("clinical.results.title"), "results",
                new ClinicalViews.Results(banner, patientId, error.isEmpty() ? fromText : "",
                        error.isEmpty() ? toText : "", error, headings, rows, olderTo, trendKey, trendName, trend));
    }
}
