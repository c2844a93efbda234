package jp.mamori.disclosure.web;

import jp.mamori.access.AccessAdmin;
import jp.mamori.access.Roles;
import jp.mamori.audit.Actor;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.Purpose;
import jp.mamori.chart.JpDates;
import jp.mamori.disclosure.Disclosures;
import jp.mamori.disclosure.Kind;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static jp.mamori.web.console.Console.Access.ADMIN;

/**
 * The records manager's disclosure pages (開示請求, issue 23): the list of requests of every patient with the form for a
 * new one ({@code /console/admin/disclosures}), one request's page with its packages and the decision form
 * ({@code /console/admin/disclosure}), producing a package, downloading it (its producer only, for
 * {@link Disclosures#HOLD}) and recording its hand-over. Every page is the account administrators' (the console's
 * ADMIN rule: Mamori's built-in role for records requests); every change and the download need a fresh second factor,
 * and every form carries the console's CSRF token.
 */
public final class DisclosurePages {
    static final String LIST = "/console/admin/disclosures";
    static final String ONE = "/console/admin/disclosure";
    static final String PRODUCE = "/console/admin/disclosure/package";
    static final String DOWNLOAD = "/console/admin/disclosure/download";
    static final String HANDOVER = "/console/admin/disclosure/handover";

    private final Disclosures disclosures;
    private final Console console;
    private final PatientDirectory patients;
    private final AccessAdmin access;
    private final JpDates dates;

    public DisclosurePages(Disclosures disclosures, Console console, PatientDirectory patients, AccessAdmin access,
                           ZoneId zone) {
        this.disclosures = disclosures;
        this.console = console;
        this.patients = patients;
        this.access = access;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", LIST, ADMIN, false, r -> list(r, 200, null, null, null));
        console.route("POST", LIST, ADMIN, true, this::record);
        console.route("GET", ONE, ADMIN, false, r -> one(r, 200, null, null, null));
        console.route("POST", PRODUCE, ADMIN, true, this::produce);
        // a POST with the form's token: a link from another site cannot make a download happen (nor its entry)
        console.routeReading("POST", DOWNLOAD, ADMIN, true, this::download);
        console.route("POST", HANDOVER, ADMIN, true, this::handOver);
        console.homePart(this::tile);
    }

    /** The administrators' tile on the home page. */
    gg.jte.Content tile(ConsoleRequest r) {
        if (!r.session().hasRole(jp.mamori.identity.Accounts.ADMIN_ROLE)) {
            return null;
        }
        return jp.mamori.web.console.Templates.content("disclosure/tile.jte", r.messages(), LIST);
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    // ---- the list ---------------------------------------------------------------------------------------------

    private Reply list(ConsoleRequest r, int status, String notice, String error, DisclosureViews.RequestForm form) {
        Messages t = r.messages();
        String filter = r.param("patient_ident").strip();
        List<Disclosures.Request> requests;
        if (!filter.isEmpty() && form == null) {
            requests = new ArrayList<>();
            for (PatientDirectory.Demographics d : patients.byPatientId(filter)) {
                requests.addAll(disclosures.requestsOf(d.id()));
            }
        } else {
            requests = disclosures.latestRequests(200);
        }
        Map<String, PatientDirectory.Demographics> demo = patients.byIds(requests.stream()
                .map(Disclosures.Request::patientId).toList());
        List<DisclosureViews.RequestRow> rows = new ArrayList<>();
        for (Disclosures.Request q : requests) {
            PatientDirectory.Demographics d = demo.get(q.patientId());
            List<Disclosures.Package> ps = disclosures.packagesOf(q.id());
            rows.add(new DisclosureViews.RequestRow(ONE + "?id=" + q.id(), d == null ? "—" : d.name(),
                    d == null ? "" : d.patientId(), requester(t, q), dates.date(q.receivedOn(), lang(r)),
                    dates.dateTime(q.recordedAt(), lang(r)) + " " + q.recordedByName(), ps.size(),
                    ps.stream().anyMatch(p -> p.handover() != null)));
        }
        patients.recordShown(demo.values(), r.session(), r.address(), Purpose.ADMINISTRATION, "disclosures");
        DisclosureViews.RequestForm f = form != null ? form : new DisclosureViews.RequestForm(filter, "patient", "",
                "", LocalDate.now(console.clock().withZone(dates.zone())).toString(), "", "");
        return console.page(r, status, t.get("disclosure.title"), "disclosure/list.jte", new DisclosureViews.Requests(
                notice, error, rows, f, filter, r.csrf()));
    }

    private String requester(Messages t, Disclosures.Request q) {
        return q.requesterName() + "（" + t.get("disclosure.requester." + q.requesterKind())
                + (q.relationship() == null ? "" : "・" + q.relationship()) + "）";
    }

    private Reply record(ConsoleRequest r) {
        DisclosureViews.RequestForm f = new DisclosureViews.RequestForm(r.param("patient_ident").strip(),
                r.param("requester_kind"), r.param("requester_name"), r.param("relationship"), r.param("received_on"),
                r.param("asked"), r.param("note"));
        Messages t = r.messages();
        List<PatientDirectory.Demographics> found = f.patientIdent().length() > 64 ? List.of()
                : patients.byPatientId(f.patientIdent());
        if (found.size() != 1) {
            return list(r, found.isEmpty() ? 404 : 400, null, t.get(found.isEmpty() ? "disclosure.patient.notFound"
                    : "disclosure.patient.ambiguous"), f);
        }
        try {
            Disclosures.Request q = disclosures.record(new Disclosures.RequestForm(found.get(0).id(),
                    f.requesterKind(), f.requesterName(), f.relationship(), f.receivedOn(), f.asked(), f.note()),
                    Actor.of(r.session(), r.address()));
            return Console.redirect(ONE + "?id=" + q.id() + "&recorded=1");
        } catch (Disclosures.Refusal e) {
            return list(r, 400, null, e.getMessage(), f);
        }
    }

    // ---- one request -------------------------------------------------------------------------------------------

    private Optional<Disclosures.Request> requestOf(ConsoleRequest r) {
        try {
            return disclosures.request(UUID.fromString(r.param("id")));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private Reply one(ConsoleRequest r, int status, String notice, String error, Map<String, Object> entered) {
        Optional<Disclosures.Request> found = requestOf(r);
        if (found.isEmpty()) {
            return console.error(r, 404, "disclosure.title", "disclosure.request.unknown");
        }
        Messages t = r.messages();
        Disclosures.Request q = found.get();
        PatientDirectory.Demographics d = patients.byIds(List.of(q.patientId())).get(q.patientId());
        if (d != null) {
            patients.recordShown(List.of(d), r.session(), r.address(), Purpose.ADMINISTRATION, "disclosure");
        }
        UUID me = r.session().accountId();
        List<DisclosureViews.PackageRow> packages = new ArrayList<>();
        for (Disclosures.Package p : disclosures.packagesOf(q.id())) {
            List<String> kinds = new ArrayList<>();
            for (String k : p.kinds()) {
                kinds.add(t.get("disclosure.kind." + k));
            }
            List<String> withheld = p.withheld().stream().map(w -> t.get("disclosure.kind." + w.kind().code) + "："
                    + w.reason()).toList();
            List<DisclosureViews.FileRow> files = new ArrayList<>();
            p.files().forEach((name, hash) -> files.add(new DisclosureViews.FileRow(name, hash)));
            packages.add(new DisclosureViews.PackageRow(p.id().toString(), dates.dateTime(p.producedAt(), lang(r)),
                    p.producedByName(), String.join("、", kinds), period(t, p.from(), p.to(), r),
                    withheld, p.accessFrom() == null ? t.get("disclosure.access.none")
                    : period(t, p.accessFrom(), p.accessTo(), r), p.resources(),
                    t.get(p.sealed() ? "disclosure.sealed.yes" : "disclosure.sealed.no"), files, p.zipSha256(),
                    disclosures.downloadable(p.id(), me), p.handover() == null ? null
                    : dates.dateTime(p.handover().at(), lang(r)) + " " + p.handover().byName() + "（"
                    + p.handover().how() + "）"));
        }
        Map<String, Object> e = entered == null ? Map.of() : entered;
        @SuppressWarnings("unchecked")
        List<String> ticked = (List<String>) e.getOrDefault("kinds", List.of("allergies", "conditions", "medications",
                "results", "notes"));
        @SuppressWarnings("unchecked")
        Map<String, String> reasons = (Map<String, String>) e.getOrDefault("reasons", Map.of());
        List<DisclosureViews.KindRow> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            kinds.add(new DisclosureViews.KindRow(k.code, t.get("disclosure.kind." + k.code), ticked.contains(k.code),
                    reasons.getOrDefault(k.code, "")));
        }
        LocalDate today = LocalDate.now(console.clock().withZone(dates.zone()));
        if (notice == null && "1".equals(r.param("recorded"))) {
            notice = t.get("disclosure.request.recorded");
        }
        return console.page(r, status, t.get("disclosure.request.title", d == null ? "—" : d.name()),
                "disclosure/request.jte", new DisclosureViews.Request(notice, error, q.id().toString(),
                        d == null ? "—" : d.name(), d == null ? "" : d.patientId(), requester(t, q),
                        dates.date(q.receivedOn(), lang(r)), q.asked(), q.note() == null ? "" : q.note(),
                        dates.dateTime(q.recordedAt(), lang(r)) + " " + q.recordedByName(), packages, kinds,
                        (String) e.getOrDefault("from", ""), (String) e.getOrDefault("to", ""),
                        (Boolean) e.getOrDefault("access", Boolean.TRUE),
                        (String) e.getOrDefault("accessFrom", today.minusYears(1).toString()),
                        (String) e.getOrDefault("accessTo", today.toString()), disclosures.sealed(), r.csrf()));
    }

    private String period(Messages t, LocalDate from, LocalDate to, ConsoleRequest r) {
        if (from == null && to == null) {
            return t.get("disclosure.period.all");
        }
        return (from == null ? "" : dates.date(from, lang(r))) + " 〜 " + (to == null ? "" : dates.date(to, lang(r)));
    }

    private Reply produce(ConsoleRequest r) {
        Optional<Disclosures.Request> found = requestOf(r);
        if (found.isEmpty()) {
            return console.error(r, 404, "disclosure.title", "disclosure.request.unknown");
        }
        List<String> kinds = r.params("kind");
        Map<String, String> reasons = new HashMap<>();
        for (Kind k : Kind.values()) {
            reasons.put(k.code, r.param("reason_" + k.code));
        }
        Map<String, Object> entered = new LinkedHashMap<>();
        entered.put("kinds", kinds);
        entered.put("reasons", reasons);
        entered.put("from", r.param("from"));
        entered.put("to", r.param("to"));
        entered.put("access", "1".equals(r.param("access_report")));
        entered.put("accessFrom", r.param("access_from"));
        entered.put("accessTo", r.param("access_to"));
        Sessions.Session s = r.session();
        try {
            Disclosures.Decision d = Disclosures.decision(kinds.size() > 10 ? kinds.subList(0, 10) : kinds,
                    r.param("from"), r.param("to"), reasons, "1".equals(r.param("access_report")),
                    r.param("access_from"), r.param("access_to"));
            Disclosures.Produced p = disclosures.produce(found.get().id(), d, words(), Actor.of(s, r.address()),
                    s.accountId());
            return one(r, 200, r.messages().get("disclosure.package.produced", p.pkg().resources()), null, null);
        } catch (Disclosures.Refusal e) {
            return one(r, 400, null, e.getMessage(), entered);
        }
    }

    /** The access report's words: always Japanese (it is given to the patient), roles by their Japanese names. */
    private Disclosures.Words words() {
        Messages ja = Messages.of(ConsoleRequest.Lang.JA);
        Map<String, String> roles = new HashMap<>();
        for (Roles.Role role : access.roles().list()) {
            roles.put(role.code(), role.nameJa());
        }
        return new Disclosures.Words() {
            @Override
            public String action(String code) {
                return ja.code("audit.action", code);
            }

            @Override
            public String purpose(String code) {
                return code == null ? "" : ja.code("audit.purpose", code);
            }

            @Override
            public String roles(List<String> codes) {
                return String.join("、", codes.stream().map(c -> roles.getOrDefault(c, c)).toList());
            }
        };
    }

    private Reply download(ConsoleRequest r) {
        UUID id;
        try {
            id = UUID.fromString(r.param("package"));
        } catch (IllegalArgumentException e) {
            return console.error(r, 404, "disclosure.title", "disclosure.download.refused");
        }
        Sessions.Session s = r.session();
        try {
            Disclosures.Download d = disclosures.download(id, s.accountId(), Actor.of(s, r.address()));
            return Reply.of(200, "application/zip", d.zip()).header("Content-Disposition", "attachment; filename=\""
                    + d.fileName().replaceAll("[^A-Za-z0-9._-]", "_") + "\"").header("Cache-Control", "no-store");
        } catch (Disclosures.Refusal e) {
            return console.error(r, 403, "disclosure.title", "disclosure.download.refused");
        }
    }

    private Reply handOver(ConsoleRequest r) {
        UUID id;
        try {
            id = UUID.fromString(r.param("package"));
        } catch (IllegalArgumentException e) {
            return console.error(r, 404, "disclosure.title", "disclosure.request.unknown");
        }
        try {
            disclosures.handOver(id, r.param("how"), Actor.of(r.session(), r.address()));
            return one(r, 200, r.messages().get("disclosure.handover.recorded"), null, null);
        } catch (Disclosures.Refusal e) {
            return one(r, 400, null, e.getMessage(), null);
        }
    }
}
