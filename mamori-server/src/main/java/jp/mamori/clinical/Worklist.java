package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import gg.jte.Content;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The clinician's worklist on the home page (template {@code clinical/worklist.jte}): today's patients in the
 * person's departments and wards (outpatients booked or arrived today, inpatients staying, those seen today),
 * the person's own drafts not yet finalized, the patients of their care assignments, and the patients they
 * opened recently. Everything is read as the person through {@link Clinical#run}, so the access model decides
 * what appears (ACCESS-1: a patient appears because an encounter or an assignment relates the person to them)
 * and the page's audit entry names every patient it showed (AUDIT-2). Each list is bounded.
 */
public final class Worklist {
    /** At most this many rows per list, and this many encounters or drafts read to find them. */
    static final int ROWS = 50;
    static final int READ = 300;
    /** Encounter states that mean the patient is expected or in the hospital now. */
    static final String OPEN = "planned,arrived,triaged,in-progress,onleave";

    /**
     * One patient row.
     *
     * @param id      the resource id, for the link only (never shown)
     * @param when    the time of today's encounter ("10:30") or since when the stay lasts, else ""
     * @param state   what the encounter's state means in words (予約, 受付済, 診察中, 入院中, 終了), else ""
     * @param place   the department or ward, else ""
     */
    public record Row(String id, String patientId, String name, String kana, String sexAge, String when, String state,
               String place) {
    }

    /** A draft of the person's own: its title, patient and last save. */
    public record Draft(String documentId, String title, String patient, String patientId, String saved) {
    }

    /**
     * The worklist's view.
     *
     * @param places the person's departments and wards, as a reader reads them ("内科、4階東病棟"), or ""
     */
    public record View(String places, String today, List<Row> todays, List<Draft> drafts, List<Row> mine,
                List<Row> recent, List<Approval> approvals) {
    }

    /**
     * A proxy entry waiting for the person's approval (承認待ちの代行入力, issue 18 §4).
     *
     * @param overdue whether it waits longer than the escalation time
     */
    public record Approval(String documentId, String patient, String patientId, String enteredBy, String enteredAt,
                           boolean overdue) {
    }

    private final PageSupport pages;

    Worklist(PageSupport pages) {
        this.pages = pages;
    }

    void register() {
        pages.console.homePart(this::render);
    }

    /** The worklist for a person who reads patient data; null for others (their home has no worklist). */
    Content render(ConsoleRequest r) {
        if (!r.session().readsPatientData() || !pages.clinical.maySearch(r, "Patient")) {
            return null;
        }
        Instant now = pages.clinical.clock().instant();
        LocalDate today = pages.dates.localDate(now);
        Instant dayStart = today.atStartOfDay(pages.dates.zone()).toInstant();
        Instant dayEnd = today.plusDays(1).atStartOfDay(pages.dates.zone()).toInstant();
        String me = r.session().accountId().toString();
        record Found(List<Res> encounters, List<Res> drafts, Map<String, Res> patients, List<String> mine,
                     List<String> recent, Set<String> places, List<jp.mamori.access.ProxyEntries.Entry> approvals) {
        }
        jp.mamori.access.ProxyEntries proxies = pages.clinical.proxies();
        List<jp.mamori.access.ProxyEntries.Entry> waiting = proxies == null ? List.of()
                : proxies.waitingFor(r.session().accountId(), ROWS);
        Set<String> waitingIds = new HashSet<>();
        waiting.forEach(w -> waitingIds.add(w.compositionId()));
        Found f = pages.clinical.run(r, "search", null, u -> {
            u.detail("view", "worklist");
            Set<String> places = u.caller.person() == null ? Set.of() : u.caller.person().encounterPlaces().keySet();
            // today's candidates from the index of stays (open ones, and those ended today), then their encounters,
            // of which the page keeps (and its entry names) those of today in the person's places
            List<String> candidates = pages.clinical.stays(u, dayStart, READ).stream()
                    .map(jp.mamori.access.EncounterStays.Stay::patientId).distinct().toList();
            List<Res> encounters = new ArrayList<>();
            for (int i = 0; u.maySearch("Encounter") && u.maySearch("Patient") && i < candidates.size(); i += 100) {
                String refs = String.join(",", candidates.subList(i, Math.min(candidates.size(), i + 100)).stream()
                        .map(id -> "Patient/" + id).toList());
                encounters.addAll(u.search("Encounter", Map.of("patient", List.of(refs),
                        "status", List.of(OPEN + ",finished")), READ, e -> {
                    Instant start = start(e.json());
                    boolean open = OPEN.contains(e.json().path("status").asText("-"));
                    boolean inToday = start != null && start.isBefore(dayEnd)
                            && (open ? isInpatient(e.json()) || !start.isBefore(dayStart)
                            : end(e.json(), start).isAfter(dayStart));
                    return inToday && !placesOf(e.json(), places).isEmpty();
                }));
            }
            List<Res> drafts = new ArrayList<>();
            for (Res c : !u.maySearch("Composition") ? List.<Res>of() : u.search("Composition",
                    Map.of("status", List.of("preliminary")), READ, c -> me.equals(FhirText.authorAccount(c.json()))
                    && !waitingIds.contains(c.stored().id()))) {
                if (drafts.size() < ROWS) {
                    drafts.add(c);
                }
            }
            List<String> mine = u.caller.person() == null ? List.of()
                    : u.caller.person().caredPatients(now).stream().sorted().limit(ROWS).toList();
            List<String> recent = pages.clinical.recentPatients(r, 10);
            Set<String> ids = new LinkedHashSet<>();
            encounters.forEach(e -> ids.add(patientOf(e.json())));
            drafts.forEach(d -> ids.add(patientOf(d.json())));
            ids.addAll(mine);
            ids.addAll(recent);
            waiting.forEach(w -> ids.add(w.patientId()));
            ids.remove("");
            Map<String, Res> patients = new LinkedHashMap<>();
            List<String> all = new ArrayList<>(ids);
            for (int i = 0; u.maySearch("Patient") && i < all.size(); i += 100) {
                for (Res p : u.search("Patient", Map.of("_id", List.of(String.join(",",
                        all.subList(i, Math.min(all.size(), i + 100))))), 100)) {
                    patients.put(p.stored().id(), p);
                }
            }
            return new Found(encounters, drafts, patients, mine, recent, places, waiting);
        });
        Messages t = r.messages();
        JpDates.Lang lang = PageSupport.jl(r);
        List<Row> todays = new ArrayList<>();
        Set<String> listed = new HashSet<>();
        List<Res> encounters = new ArrayList<>(f.encounters());
        encounters.sort(Comparator.comparing((Res e) -> !isInpatient(e.json())).thenComparing(e -> start(e.json())));
        for (Res e : encounters) {
            Res p = f.patients().get(patientOf(e.json()));
            if (p == null || todays.size() >= ROWS || !listed.add(p.stored().id() + "|" + e.stored().id())) {
                continue;
            }
            Instant start = start(e.json());
            boolean inpatient = isInpatient(e.json());
            String when = inpatient && start.isBefore(dayStart)
                    ? t.get("clinical.worklist.since", pages.dates.date(start, lang)) : pages.dates.time(start);
            todays.add(row(r, p, today, when, state(t, e.json()), String.join("、", jp.mamori.records.FhirJson.encounterPlaces(e.json()))));
        }
        List<Draft> drafts = new ArrayList<>();
        for (Res d : f.drafts()) {
            Res p = f.patients().get(patientOf(d.json()));
            String saved = d.stored().lastUpdated() == null ? "" : pages.dates.dateTime(d.stored().lastUpdated(), lang);
            String title = d.json().path("title").asText(t.get("clinical.worklist.note"));
            drafts.add(new Draft(d.stored().id(), title, p == null ? "" : FhirText.name(p.json()),
                    p == null ? "" : FhirText.identifier(p.json()), saved));
        }
        List<Approval> approvals = new ArrayList<>();
        for (jp.mamori.access.ProxyEntries.Entry w : f.approvals()) {
            Res p = f.patients().get(w.patientId());
            approvals.add(new Approval(w.compositionId(), p == null ? "" : FhirText.name(p.json()),
                    p == null ? "" : FhirText.identifier(p.json()), w.enteredByName(),
                    pages.dates.dateTime(w.enteredAt(), lang), proxies.overdue(w)));
        }
        return Templates.content("clinical/worklist.jte", t, new View(String.join("、", f.places()),
                pages.dates.dateWithWeekday(today, lang), todays, drafts, rows(r, f.mine(), f.patients(), today),
                rows(r, f.recent(), f.patients(), today), approvals));
    }

    private List<Row> rows(ConsoleRequest r, List<String> ids, Map<String, Res> patients, LocalDate today) {
        List<Row> out = new ArrayList<>();
        for (String id : ids) {
            Res p = patients.get(id);
            if (p != null && out.size() < ROWS) {
                out.add(row(r, p, today, "", "", ""));
            }
        }
        return out;
    }

    private Row row(ConsoleRequest r, Res p, LocalDate today, String when, String state, String place) {
        JsonNode j = p.json();
        LocalDate birth = FhirText.birthDate(j);
        String age = birth == null || birth.isAfter(today) ? ""
                : JpDates.ageText(birth, today, PageSupport.jl(r));
        String sex = FhirText.sex(j, r.lang());
        return new Row(p.stored().id(), FhirText.identifier(j), FhirText.name(j), FhirText.kana(j),
                (sex + " " + age).strip(), when, state, place);
    }

    /** The encounter's state in words; an inpatient's open stay reads 入院中. */
    private static String state(Messages t, JsonNode e) {
        String status = e.path("status").asText("");
        if (isInpatient(e) && !status.equals("finished") && !status.equals("planned")) {
            return t.get("clinical.worklist.state.inpatient");
        }
        return switch (status) {
            case "planned" -> t.get("clinical.worklist.state.planned");
            case "arrived", "triaged" -> t.get("clinical.worklist.state.arrived");
            case "in-progress" -> t.get("clinical.worklist.state.inProgress");
            case "onleave" -> t.get("clinical.worklist.state.onLeave");
            case "finished" -> t.get("clinical.worklist.state.finished");
            default -> "";
        };
    }

    static boolean isInpatient(JsonNode e) {
        String c = e.path("class").path("code").asText("");
        return c.equals("IMP") || c.equals("ACUTE") || c.equals("NONAC");
    }

    /**
     * The places of {@code e} that are among the person's: the names care relationships read from an encounter
     * (service type text and displays, service provider, locations), normalised as role assignments are.
     */
    static Set<String> placesOf(JsonNode e, Set<String> mine) {
        Set<String> out = new LinkedHashSet<>(jp.mamori.records.FhirJson.encounterPlaces(e));
        out.retainAll(mine);
        return out;
    }

    private static String patientOf(JsonNode res) {
        String ref = res.path("subject").path("reference").asText("");
        return ref.startsWith("Patient/") ? ref.substring("Patient/".length()) : "";
    }

    static Instant start(JsonNode e) {
        return jp.mamori.records.FhirJson.instant(e.path("period").path("start"));
    }

    private static Instant end(JsonNode e, Instant otherwise) {
        Instant end = jp.mamori.records.FhirJson.instant(e.path("period").path("end"));
        return end == null ? otherwise : end;
    }
}
