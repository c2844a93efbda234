package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
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
 * Patient search (template {@code clinical/search.jte}): by patient ID, name (kanji or kana) or birth date, the
 * terms in the POST body, never in the URL; without a search, the patients this person opened recently.
 */
final class PatientSearchPages {
    private final PageSupport pages;

    PatientSearchPages(PageSupport pages) {
        this.pages = pages;
    }

    void register() {
        pages.console.route("GET", "/console/patients", USER, false, r -> search(r, false));
        pages.console.route("POST", "/console/patients", USER, false, r -> search(r, true));
    }

    private Reply search(ConsoleRequest r, boolean submitted) {
        String identifier = r.param("identifier").strip();
        String name = r.param("name").strip();
        String birth = r.param("birthdate").strip();
        Messages t = r.messages();
        String error = "";
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (submitted) {
            if (!identifier.isEmpty()) {
                if (!identifier.matches("[0-9A-Za-z\\-.]{1,64}")) {
                    error = t.get("clinical.search.badId");
                } else {
                    params.put("identifier", List.of(identifier));
                }
            }
            if (!name.isEmpty()) {
                if (name.length() > 100) {
                    error = t.get("clinical.search.longName");
                } else {
                    params.put("name", List.of(name));
                }
            }
            if (!birth.isEmpty()) {
                try {
                    params.put("birthdate", List.of(LocalDate.parse(birth).toString()));
                } catch (DateTimeParseException e) {
                    error = t.get("clinical.search.badBirthDate");
                }
            }
            if (error.isEmpty() && params.isEmpty()) {
                error = t.get("clinical.search.noCriteria");
            }
        }
        final boolean run = submitted && error.isEmpty();
        record Found(List<Res> results, List<Res> recent) {
        }
        Clinical clinical = pages.clinical;
        Found found = clinical.run(r, "search", null, u -> {
            u.detail("view", "patient-search");
            if (run) {
                u.detail("criteria", String.join(",", params.keySet()));
            }
            List<Res> results = run ? u.search("Patient", params, 50) : List.of();
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
            return new Found(results, recent);
        });
        ClinicalViews.Search v = new ClinicalViews.Search(error, identifier, name, birth, run,
                patients(r, found.results()), !identifier.isEmpty(), patients(r, found.recent()), r.csrf());
        return pages.page(r, error.isEmpty() ? 200 : 400, t.get("clinical.search.title"), "search", v);
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
