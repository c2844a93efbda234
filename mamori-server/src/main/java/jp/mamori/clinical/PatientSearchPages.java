package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * Patient search (template {@code clinical/search.jte}): by patient ID, name (kanji or kana) or birth date, narrowed
 * by the department or ward and the kind of a past or current encounter (外来, 入院, 救急) and by age; the terms in the POST
 * body, never in the URL. Results come {@link #PAGE} at a time in patient ID order (a stable order: the next page
 * continues after the last patient shown, whatever is added meanwhile). Without a search, the patients this person
 * opened recently. The record service decides what the person sees, page by page (ACCESS-1).
 */
final class PatientSearchPages {
    /** Patients on one page of results. */
    static final int PAGE = 20;
    /** The encounter classes of each kind a search narrows to (v3 ActCode). */
    static final Map<String, String> SETTINGS = Map.of("outpatient", "AMB", "inpatient", "IMP,ACUTE,NONAC,SS",
            "emergency", "EMER", "home", "HH", "virtual", "VR");

    private final PageSupport pages;

    PatientSearchPages(PageSupport pages) {
        this.pages = pages;
    }

    void register() {
        pages.console.route("GET", "/console/patients", USER, false, r -> search(r, false));
        pages.console.routeReading("POST", "/console/patients", USER, false, r -> search(r, true));
    }

    /** The criteria of a search as typed, each "" when not given. */
    record Criteria(String identifier, String name, String birthdate, String department, String setting,
                    String ageFrom, String ageTo) {
        static Criteria of(ConsoleRequest r) {
            return new Criteria(r.param("identifier").strip(), r.param("name").strip(), r.param("birthdate").strip(),
                    r.param("department").strip(), r.param("setting").strip(), r.param("age_from").strip(),
                    r.param("age_to").strip());
        }
    }

    private Reply search(ConsoleRequest r, boolean submitted) {
        Criteria c = Criteria.of(r);
        String cursor = r.param("cursor").strip();
        Integer pageNo = PageSupport.version(r.param("page"));
        Messages t = r.messages();
        LocalDate today = pages.dates.localDate(pages.clinical.clock().instant());
        Map<String, List<String>> params = new LinkedHashMap<>();
        String error = submitted ? criteria(t, c, today, params) : "";
        if (submitted && error.isEmpty() && params.isEmpty()) {
            error = t.get("clinical.search.noCriteria");
        }
        if (!cursor.isEmpty() && !cursor.matches("[A-Za-z0-9_-]{1,2000}")) {
            error = t.get("clinical.search.badPage");
        }
        final boolean run = submitted && error.isEmpty();
        if (run) {
            params.put("_count", List.of(Integer.toString(PAGE)));
            params.put("_sort", List.of("identifier"));
            if (!cursor.isEmpty()) {
                params.put("_cursor", List.of(cursor));
            }
        }
        record Found(List<Res> results, String next, List<Res> recent) {
        }
        Clinical clinical = pages.clinical;
        Found found;
        try {
            found = clinical.run(r, "search", null, u -> {
                u.detail("view", "patient-search");
                if (run) {
                    u.detail("criteria", String.join(",", params.keySet().stream()
                            .filter(k -> !k.startsWith("_c") && !k.equals("_sort")).toList()));
                }
                Clinical.Page results = run ? u.page("Patient", params) : new Clinical.Page(List.of(), null);
                List<Res> recent = List.of();
                List<String> ids = clinical.recentPatients(r, 20);
                if (!ids.isEmpty() && !run) {
                    List<Res> got = u.search("Patient", Map.of("_id", List.of(String.join(",", ids))), 20);
                    Map<String, Res> byId = new LinkedHashMap<>();
                    got.forEach(x -> byId.put(x.stored().id(), x));
                    List<Res> ordered = new ArrayList<>();
                    for (String id : ids) {
                        if (byId.containsKey(id)) {
                            ordered.add(byId.get(id));
                        }
                    }
                    recent = ordered;
                }
                return new Found(results.matches(), results.next(), recent);
            });
        } catch (FhirError e) {
            if (e.status() != 400) {
                throw e;
            }
            // a paging cursor that is not one of ours: the form again, with what was typed
            return pages.page(r, 400, t.get("clinical.search.title"), "search", view(r, c, t.get(
                    "clinical.search.badPage"), false, List.of(), null, 1, List.of()));
        }
        int page = pageNo == null || cursor.isEmpty() ? 1 : Math.max(1, pageNo);
        return pages.page(r, error.isEmpty() ? 200 : 400, t.get("clinical.search.title"), "search",
                view(r, c, error, run, patients(r, found.results()), found.next(), page, patients(r, found.recent())));
    }

    private ClinicalViews.Search view(ConsoleRequest r, Criteria c, String error, boolean ran,
                                      List<ClinicalViews.Patient> results, String next, int page,
                                      List<ClinicalViews.Patient> recent) {
        return new ClinicalViews.Search(error, c.identifier(), c.name(), c.birthdate(), ran, results,
                !c.identifier().isEmpty() && !jp.mamori.maintenance.MaintenanceGate.applies(r.session()),
                recent, r.csrf(), c.department(), c.setting(), c.ageFrom(), c.ageTo(),
                next, page, (page - 1) * PAGE);
    }

    /**
     * The search parameters for the criteria, or why they are refused (one message, 日本語 / English). The department
     * and the kind of encounter each look for some encounter of the patient ({@code _has:Encounter}); the age range
     * is a range of birth dates on the server's today.
     */
    static String criteria(Messages t, Criteria c, LocalDate today, Map<String, List<String>> params) {
        if (!c.identifier().isEmpty()) {
            if (!c.identifier().matches("[0-9A-Za-z\\-.]{1,64}")) {
                return t.get("clinical.search.badId");
            }
            params.put("identifier", List.of(c.identifier()));
        }
        if (!c.name().isEmpty()) {
            if (c.name().length() > 100) {
                return t.get("clinical.search.longName");
            }
            params.put("name", List.of(c.name()));
        }
        List<String> births = new ArrayList<>();
        if (!c.birthdate().isEmpty()) {
            try {
                births.add(LocalDate.parse(c.birthdate()).toString());
            } catch (DateTimeParseException e) {
                return t.get("clinical.search.badBirthDate");
            }
        }
        if (!c.department().isEmpty()) {
            if (c.department().length() > 50 || c.department().contains(",") || c.department().contains("\\")) {
                return t.get("clinical.search.badDepartment");
            }
            params.put("_has:Encounter:patient:place", List.of(c.department()));
        }
        if (!c.setting().isEmpty()) {
            String classes = SETTINGS.get(c.setting());
            if (classes == null) {
                return t.get("clinical.search.badSetting");
            }
            params.put("_has:Encounter:patient:class", List.of(classes));
        }
        Integer from = null;
        Integer to = null;
        if (!c.ageFrom().isEmpty() || !c.ageTo().isEmpty()) {
            from = age(c.ageFrom());
            to = age(c.ageTo());
            if (from == Integer.MIN_VALUE || to == Integer.MIN_VALUE || from != null && to != null && from > to) {
                return t.get("clinical.search.badAge");
            }
        }
        if (from != null) { // at least `from` years old: born on or before today minus `from` years
            births.add("le" + today.minusYears(from));
        }
        if (to != null) { // at most `to` years old: born after today minus `to + 1` years
            births.add("gt" + today.minusYears(to + 1L));
        }
        if (!births.isEmpty()) {
            params.put("birthdate", births);
        }
        return "";
    }

    /** An age as typed: null when empty, MIN_VALUE when not a whole number of years from 0 to 150. */
    private static Integer age(String s) {
        if (s.isEmpty()) {
            return null;
        }
        if (!s.matches("[0-9]{1,3}") || Integer.parseInt(s) > 150) {
            return Integer.MIN_VALUE;
        }
        return Integer.parseInt(s);
    }

    private List<ClinicalViews.Patient> patients(ConsoleRequest r, List<Res> patients) {
        LocalDate today = pages.dates.localDate(pages.clinical.clock().instant());
        JpDates.Lang lang = PageSupport.jl(r);
        List<ClinicalViews.Patient> out = new ArrayList<>(patients.size());
        for (Res p : patients) {
            JsonNode j = p.json();
            LocalDate birth = FhirText.birthDate(j);
            out.add(new ClinicalViews.Patient(p.stored().id(), FhirText.identifier(j), FhirText.name(j),
                    FhirText.kana(j), FhirText.sex(j, r.lang()), birth == null ? ""
                    : pages.dates.date(birth, lang) + " (" + JpDates.ageText(birth, today, lang) + ")"));
        }
        return out;
    }
}
