package jp.mamori.audit.web;

import jp.mamori.access.AccessAdmin;
import jp.mamori.access.Action;
import jp.mamori.access.Roles;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditExport;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.RecordTitles;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.ReportPdf;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Identity;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static jp.mamori.web.console.Console.Access.USER;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;

/**
 * The audit console (AUDIT-2, AUDIT-7, AUDIT-8, AUDIT-10): reports over the trail with CSV, FHIR AuditEvent
 * exports, the review sign-off and its coverage, and the trail's status. Open to people whose roles hold the
 * {@code audit} category (監査担当) and to account administrators; every report viewed, printed or exported is
 * itself an entry, written before the report is shown.
 *
 * <p>Reports are written in words (issue 22; STORE-1 見読性): people by name, role and department, times in the
 * institution's time zone, actions and purposes in the reader's language, patients by name and 患者ID, records by
 * kind, title and date ({@link Readable}). A patient's access history (開示請求) is asked for by 患者ID and shows
 * only that patient's records; it prints as a PDF a patient can be handed ({@link ReportPdf}).
 */
public final class AuditPages {
    private static final int LIMIT = 5000;
    /** Records read per report to name them by kind, title and date; past it, by kind alone. */
    private static final int DESCRIBED = 2000;
    private final Identity id;
    private final Audit audit;
    private final Console console;
    private final PatientDirectory patients;
    private final RecordTitles titles;
    private final AccessAdmin access;
    private final String institution;
    private final JpDates dates;

    /**
     * @param institution the institution's name for printouts
     * @param zone        the time zone pages and printouts show times in ({@code --time-zone}, JST)
     */
    public AuditPages(Identity id, Audit audit, Console console, PatientDirectory patients, RecordTitles titles,
                      AccessAdmin access, String institution, ZoneId zone) {
        this.id = id;
        this.audit = audit;
        this.console = console;
        this.patients = patients;
        this.titles = titles;
        this.access = access;
        this.institution = institution;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.auditor(this::mayOpen);
        console.route("GET", "/console/audit", USER, false, auditor(Action.READ, this::home));
        console.route("GET", "/console/audit/report", USER, false, auditor(Action.READ, this::report));
        console.route("GET", "/console/audit/export", USER, true, auditor(Action.EXPORT, this::export));
        console.route("GET", "/console/audit/print", USER, true, auditor(Action.PRINT, this::print));
        console.route("POST", "/console/audit/review", USER, true, auditor(Action.READ, this::signOff));
    }

    /**
     * Whether the person may open the audit console: the account administrator role, or a role holding the audit
     * category with read. The navigation links it for them only (the same rule as the routes').
     */
    public boolean mayOpen(Sessions.Session s) {
        if (s.hasRole(Accounts.ADMIN_ROLE)) {
            return true;
        }
        // asked on every page: kept per account while its access version (roles, permissions) stays the same
        long[] known = openers.get(s.accountId());
        if (known != null && known[0] == s.accessVersion()) {
            return known[1] == 1;
        }
        boolean may = audit.permits(s.accountId(), Action.READ);
        openers.put(s.accountId(), new long[]{s.accessVersion(), may ? 1 : 0});
        return may;
    }

    /** Per account: the access version {@link #mayOpen} was decided at, and the answer. */
    private final java.util.concurrent.ConcurrentHashMap<UUID, long[]> openers =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The route's rule: the audit category with {@code action}, or the account administrator role. */
    private Console.Page auditor(Action action, Console.Page page) {
        return r -> {
            Sessions.Session s = r.session();
            if (!s.hasRole(Accounts.ADMIN_ROLE) && !audit.permits(s.accountId(), action)) {
                return console.error(r, 403, "audit.notAllowed", "audit.notAllowed.message");
            }
            return page.serve(r);
        };
    }

    /** Appends the entry for looking at the trail; the page is shown only once it is durable. */
    private void recordView(ConsoleRequest r, AuditAction action, String report, Map<String, String> params,
                            List<String> patients) {
        try {
            audit.recorder().append(view(r.session(), r.address(), action, report, params, patients).build());
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
    }

    /** The entry of a look at the trail: the report, its parameters, the patients whose history it shows. */
    static AuditEvent.Builder view(Sessions.Session s, String address, AuditAction action, String report,
                                   Map<String, String> params, List<String> patients) {
        AuditEvent.Builder e = AuditEvent.by(Actor.of(s, address), action).purpose(Purpose.AUDIT).details(params)
                .detail("report", report);
        for (String p : patients) {
            e.patient(PatientRef.named(p));
        }
        return e;
    }

    private Reply home(ConsoleRequest r) {
        recordView(r, AuditAction.AUDIT_VIEW, "home", Map.of(), List.of());
        return console.page(r, 200, r.messages().get("audit.title"), "audit/home.jte", homeView(r));
    }

    /** What the home page shows: the trail's status, the report kinds, the review coverage of 30 days. */
    AuditViews.Home homeView(ConsoleRequest r) {
        var clock = audit.lastClock();
        LocalDate today = LocalDate.now(dates.zone());
        JpDates.Lang lang = lang(r);
        List<AuditReports.CoverageDay> cov = audit.reports().coverage(today.minusDays(29), today);
        long reviewed = cov.stream().filter(AuditReports.CoverageDay::reviewed).count();
        return new AuditViews.Home(audit.reports().size(), clock == null ? null : clock.state(),
                audit.reports().options().retentionYears(), checkpoint(lang), KINDS, reviewed, cov.stream().map(d -> new AuditViews.CoverageDay(
                        dates.dateWithWeekday(d.day(), lang), d.entries(), d.reviewed(), String.join(", ",
                        d.reviews().stream().map(n -> "#" + n).toList()))).toList(), r.csrf());
    }

    /** The verification status (AUDIT-3): the last signed checkpoint, its time-stamp and anchor, any problem. */
    private AuditViews.Checkpoint checkpoint(JpDates.Lang lang) {
        jp.mamori.audit.Checkpointer cp = audit.checkpointer();
        if (cp == null) {
            return null;
        }
        jp.mamori.audit.Checkpointer.Status st = cp.status();
        var last = st.last();
        return new AuditViews.Checkpoint(last == null ? null : new AuditViews.Signed(last.size(),
                dates.dateTimeWithZone(last.signedAt(), lang), last.tsaStatus(), String.valueOf(last.tsaError()),
                last.anchorStatus(), last.anchorStatus().equals("ok") ? String.valueOf(cp.anchor().dir()) : null,
                String.valueOf(last.anchorError()), cp.signer().verifierKey().format()),
                st.problem());
    }

    /** The report kinds, in the order the form lists them; each is named by the text audit.kind.KIND. */
    public static final List<String> KINDS = List.of("patient", "actor", "window", "counts", "break-glass", "after-hours",
            "volume", "same-name");
    /** The kinds that list entries (and print). */
    private static final Set<String> ENTRY_KINDS = Set.of("patient", "actor", "window", "break-glass", "after-hours",
            "same-name");

    private record Window(Instant from, Instant to, LocalDate fromDay, LocalDate toDay) {
    }

    private Window window(ConsoleRequest r) {
        LocalDate today = LocalDate.now(dates.zone());
        try {
            LocalDate from = r.param("from").isBlank() ? today.minusDays(30) : LocalDate.parse(r.param("from").strip());
            LocalDate to = r.param("to").isBlank() ? today : LocalDate.parse(r.param("to").strip());
            if (to.isBefore(from)) {
                throw new IllegalArgumentException();
            }
            return new Window(from.atStartOfDay(dates.zone()).toInstant(),
                    to.plusDays(1).atStartOfDay(dates.zone()).toInstant(), from, to);
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw jp.mamori.kernel.FhirError.badRequest("期間が正しくありません（YYYY-MM-DD、開始日は終了日以前）"
                    + " / The period is not valid (YYYY-MM-DD, the start not after the end)");
        }
    }

    /**
     * The patient whose history is asked for: by 患者ID ({@code patient}), or by the record's id ({@code ref}) once a
     * choice between several patients with one 患者ID was made. A text that is no 患者ID but a record's id is taken
     * as one (the history of a patient whose record was disposed stays in the trail).
     *
     * @param id      the Patient id the trail names, or null when the report cannot be made ({@code problem} says why)
     * @param patient the patient's demographics, or null when the record is not there
     */
    private record Subject(String id, PatientDirectory.Demographics patient, AuditViews.Problem problem) {
    }

    private Subject subject(ConsoleRequest r) {
        JpDates.Lang lang = lang(r);
        String ref = r.param("ref").strip();
        if (!ref.isEmpty()) {
            if (!ref.matches("[A-Za-z0-9\\-.]{1,64}")) {
                return new Subject(null, null, new AuditViews.Problem(r.messages().get("audit.patient.notFound"),
                        List.of()));
            }
            return new Subject(ref, patients.byIds(List.of(ref)).get(ref), null);
        }
        String text = r.param("patient").strip();
        if (text.isEmpty()) {
            return new Subject(null, null, new AuditViews.Problem(r.messages().get("audit.patient.required"),
                    List.of()));
        }
        if (text.length() > 64) {
            return new Subject(null, null, new AuditViews.Problem(r.messages().get("audit.patient.notFound"),
                    List.of()));
        }
        List<PatientDirectory.Demographics> found = patients.byPatientId(text);
        if (found.size() == 1) {
            return new Subject(found.get(0).id(), found.get(0), null);
        }
        if (found.size() > 1) {
            List<AuditViews.Choice> choices = new ArrayList<>();
            for (PatientDirectory.Demographics d : found) {
                Map<String, String> q = new LinkedHashMap<>();
                q.put("kind", "patient");
                q.put("ref", d.id());
                q.put("from", r.param("from"));
                q.put("to", r.param("to"));
                choices.add(new AuditViews.Choice(query(q), name(d), d.birthDate() == null ? ""
                        : dates.date(d.birthDate(), lang)));
            }
            return new Subject(null, null, new AuditViews.Problem(r.messages().get("audit.patient.several"), choices));
        }
        if (text.matches("[A-Za-z0-9\\-.]{1,64}")) {
            return new Subject(text, patients.byIds(List.of(text)).get(text), null);
        }
        return new Subject(null, null, new AuditViews.Problem(r.messages().get("audit.patient.notFound"), List.of()));
    }

    private List<AuditReports.Row> rows(String kind, ConsoleRequest r, Window w, Subject subject) {
        AuditReports rep = audit.reports();
        return switch (kind) {
            case "patient" -> rep.patientAccess(subject.id(), w.from(), w.to(), LIMIT);
            case "actor" -> rep.actorActivity(required(r, "actor"), w.from(), w.to(), LIMIT);
            case "window" -> rep.window(w.from(), w.to(), LIMIT);
            case "break-glass" -> rep.breakGlass(w.from(), w.to(), LIMIT);
            case "after-hours" -> rep.afterHours(w.from(), w.to(), LIMIT);
            case "same-name" -> rep.sameFamilyName(w.from(), w.to(), LIMIT).stream().map(AuditReports.SameName::entry)
                    .toList();
            default -> throw jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report");
        };
    }

    private static String required(ConsoleRequest r, String name) {
        String v = r.param(name).strip();
        if (v.isEmpty() || v.length() > 200) {
            throw jp.mamori.kernel.FhirError.badRequest("利用者（ログインID）を入力してください"
                    + " / Enter the person's login id");
        }
        return v;
    }

    /** The report's parameters as the entry of looking at it records them. */
    private static Map<String, String> params(ConsoleRequest r, Window w, Subject subject) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("from", w.fromDay().toString());
        p.put("to", w.toDay().toString());
        if (subject != null) {
            p.put("patient", subject.id());
        }
        if (!r.param("actor").isBlank()) {
            p.put("actor", r.param("actor").strip());
        }
        return p;
    }

    /** A report built: the heading, the rows in words, and the patients it names (for the entry of looking). */
    private record Built(AuditViews.Heading heading, List<AuditViews.Entry> rows, boolean truncated,
                         List<String> shown, String query) {
    }

    private Built build(ConsoleRequest r, String kind, Window w, Subject subject) {
        List<AuditReports.Row> rows = rows(kind, r, w, subject);
        String focus = subject == null ? null : subject.id();
        Set<String> named = new LinkedHashSet<>();
        Set<String> refs = new LinkedHashSet<>();
        Set<String> unnamed = new LinkedHashSet<>();
        for (AuditReports.Row row : rows) {
            if (focus == null) {
                int n = 0;
                for (String p : row.patients()) {
                    if (n++ < Readable.PATIENTS_PER_ROW) {
                        named.add(p);
                    }
                }
            }
            refs.addAll(row.resources());
            if (row.display() == null || row.display().isBlank()) {
                unnamed.add(row.actor());
            }
            for (String res : row.resources()) {
                if (res.startsWith("Account/")) {
                    unnamed.add("account:" + res.substring("Account/".length()));
                }
            }
        }
        Map<String, PatientDirectory.Demographics> demo = patients.byIds(named);
        Readable readable = new Readable(r.messages(), dates, demo, roleNames(r), titles.describe(refs, DESCRIBED),
                people(unnamed), focus);
        Map<String, String> q = new LinkedHashMap<>();
        q.put("kind", kind);
        q.putAll(params(r, w, subject));
        if (subject != null) {
            q.remove("patient");
            q.put("ref", subject.id());
        }
        List<String> shown = new ArrayList<>(focus == null ? demo.keySet() : List.of(focus));
        return new Built(heading(r, kind, w, subject), rows.stream().map(readable::entry).toList(),
                rows.size() >= LIMIT, shown, query(q));
    }

    private AuditViews.Heading heading(ConsoleRequest r, String kind, Window w, Subject subject) {
        Messages t = r.messages();
        JpDates.Lang lang = lang(r);
        List<String> filters = new ArrayList<>();
        if (!r.param("actor").isBlank()) {
            filters.add(t.get("audit.form.actor") + ": " + actorName(r.param("actor").strip()));
        }
        AuditViews.PatientName patient = subject == null ? null : subject.patient() == null
                ? new AuditViews.PatientName(t.get("audit.patient.unknown"), "", "", false) : name(subject.patient());
        return new AuditViews.Heading(t.get("audit.kind." + kind), dates.date(w.fromDay(), lang),
                dates.date(w.toDay(), lang), filters, patient);
    }

    private Reply report(ConsoleRequest r) {
        String kind = r.param("kind");
        if (!KINDS.contains(kind)) {
            throw jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report");
        }
        Window w = window(r);
        Messages t = r.messages();
        String title = t.get("audit.kind." + kind);
        Subject subject = null;
        if (kind.equals("patient")) {
            subject = subject(r);
            if (subject.problem() != null) {
                recordView(r, AuditAction.AUDIT_REPORT, kind, params(r, w, null), List.of());
                return console.page(r, subject.problem().choices().isEmpty() ? 404 : 200, title, "audit/problem.jte",
                        subject.problem());
            }
        }
        Map<String, String> p = params(r, w, subject);
        if (kind.equals("counts")) {
            List<AuditReports.PatientCount> counts = audit.reports().countsPerPatient(w.from(), w.to());
            Map<String, PatientDirectory.Demographics> demo = patients.byIds(counts.stream()
                    .map(AuditReports.PatientCount::patient).toList());
            recordView(r, AuditAction.AUDIT_REPORT, kind, p, new ArrayList<>(demo.keySet()));
            Readable readable = new Readable(t, dates, demo, Map.of(), Map.of(), Map.of(), null);
            return console.page(r, 200, title, "audit/counts.jte", new AuditViews.Counts(heading(r, kind, w, null),
                    counts.stream().map(c -> new AuditViews.PatientCount(readable.patient(c.patient()), c.accesses(),
                            c.people())).toList()));
        }
        if (kind.equals("volume")) {
            recordView(r, AuditAction.AUDIT_REPORT, kind, p, List.of());
            JpDates.Lang lang = lang(r);
            return console.page(r, 200, title, "audit/volume.jte", new AuditViews.Volume(heading(r, kind, w, null),
                    String.valueOf(audit.reports().options().volumeFactor()), audit.reports().unusualVolume(w.from(),
                    w.to()).stream().map(d -> new AuditViews.UnusualDay(d.display() == null ? actorName(d.actor())
                    : d.display(), dates.dateWithWeekday(d.day(), lang), d.count(), String.valueOf(d.median())))
                    .toList()));
        }
        Built b = build(r, kind, w, subject);
        recordView(r, AuditAction.AUDIT_REPORT, kind, p, b.shown());
        return console.page(r, 200, title, "audit/entries.jte", new AuditViews.Entries(b.heading(), b.query(),
                subject != null, b.rows(), b.truncated(), LIMIT));
    }

    /**
     * The report as a PDF (STORE-1 見読性): the institution's name, the title and the subject on every page, the
     * rows in words, who printed it and when, page N / M. Printing is recorded as {@code print}, naming the patients
     * the printout names.
     */
    private Reply print(ConsoleRequest r) {
        String kind = r.param("kind");
        if (!ENTRY_KINDS.contains(kind)) {
            throw jp.mamori.kernel.FhirError.badRequest("このレポートは印刷できません / This report does not print");
        }
        Window w = window(r);
        Messages t = r.messages();
        Subject subject = null;
        if (kind.equals("patient")) {
            subject = subject(r);
            if (subject.problem() != null) {
                return console.page(r, 404, t.get("audit.kind." + kind), "audit/problem.jte", subject.problem());
            }
        }
        Built b = build(r, kind, w, subject);
        Map<String, String> p = params(r, w, subject);
        p.put("format", "pdf");
        recordView(r, AuditAction.PRINT, kind, p, b.shown());
        AuditViews.Heading h = b.heading();
        List<String> about = new ArrayList<>();
        if (h.patient() != null) {
            AuditViews.PatientName n = h.patient();
            about.add(t.get("audit.print.patient", n.name() + (n.kana().isEmpty() ? "" : "（" + n.kana() + "）"),
                    n.patientId().isEmpty() ? "—" : n.patientId()));
        }
        about.add(t.get("audit.print.period", h.from(), h.to()));
        about.addAll(h.filters());
        about.add(t.get("audit.print.count", b.rows().size()));
        boolean focused = subject != null;
        List<String> header = new ArrayList<>(List.of(t.get("audit.report.time"), t.get("audit.report.who"),
                t.get("audit.report.roles")));
        if (!focused) {
            header.add(t.get("audit.report.patient"));
        }
        header.addAll(List.of(t.get("audit.report.action"), t.get("audit.report.resources"),
                t.get("audit.report.purpose"), t.get("audit.report.outcome")));
        float[] widths = focused ? new float[]{0.15f, 0.13f, 0.15f, 0.16f, 0.22f, 0.10f, 0.09f}
                : new float[]{0.13f, 0.12f, 0.13f, 0.14f, 0.11f, 0.19f, 0.10f, 0.08f};
        List<List<String>> rows = new ArrayList<>();
        for (AuditViews.Entry e : b.rows()) {
            List<String> row = new ArrayList<>(List.of(e.time(), e.who(), e.roles()));
            if (!focused) {
                List<String> names = new ArrayList<>();
                for (AuditViews.PatientName n : e.patients()) {
                    names.add(n.name() + (n.patientId().isEmpty() ? "" : "（" + n.patientId() + "）"));
                }
                if (e.morePatients() > 0) {
                    names.add(t.get("audit.report.morePatients", e.morePatients()));
                }
                row.add(String.join("\n", names));
            }
            row.addAll(List.of(e.action(), String.join("、", e.records()), e.purpose(), e.outcome()));
            rows.add(row);
        }
        ReportPdf.Report report = new ReportPdf.Report(institution, h.title(), about, header, widths, rows,
                t.get("audit.report.none"), b.truncated() ? t.get("audit.report.truncated", LIMIT, LIMIT) : null,
                t.get("audit.print.footer"));
        Sessions.Session s = r.session();
        byte[] pdf = ReportPdf.render(report, s.displayName() + "（" + s.loginId() + "）", console.clock().instant(),
                dates);
        String name = "mamori-audit-" + kind + "-" + w.fromDay() + "-" + w.toDay() + ".pdf";
        return Reply.of(200, "application/pdf", pdf).header("Content-Disposition", "inline; filename=\"" + name + "\"");
    }

    /** The query of a report's links (URL-encoded; HTML-escaped by the template). */
    private static String query(Map<String, String> p) {
        StringBuilder sb = new StringBuilder();
        p.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) {
                sb.append(sb.isEmpty() ? "" : "&").append(k).append('=').append(java.net.URLEncoder.encode(v,
                        java.nio.charset.StandardCharsets.UTF_8));
            }
        });
        return sb.toString();
    }

    private Reply export(ConsoleRequest r) {
        String kind = r.param("kind");
        String format = r.param("format");
        if (!ENTRY_KINDS.contains(kind)) {
            throw jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report");
        }
        Window w = window(r);
        Subject subject = null;
        if (kind.equals("patient")) {
            subject = subject(r);
            if (subject.problem() != null) {
                return console.page(r, 404, r.messages().get("audit.kind." + kind), "audit/problem.jte",
                        subject.problem());
            }
        }
        Map<String, String> p = params(r, w, subject);
        p.put("format", format);
        List<AuditReports.Row> rows = rows(kind, r, w, subject);
        recordView(r, AuditAction.EXPORT, kind, p, subject == null ? List.of() : List.of(subject.id()));
        String name = "mamori-audit-" + kind + "-" + w.fromDay() + "-" + w.toDay();
        AuditExport x = new AuditExport(console.hostName());
        return switch (format) {
            case "csv" -> Reply.of(200, "text/csv;charset=UTF-8", AuditExport.csv(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
            case "ndjson" -> Reply.of(200, "application/fhir+ndjson;charset=UTF-8", x.ndjson(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".ndjson\"");
            case "bundle" -> Reply.of(200, "application/fhir+json;charset=UTF-8", x.bundleJson(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".json\"");
            default -> throw jp.mamori.kernel.FhirError.badRequest("format は csv, ndjson, bundle のいずれかです"
                    + " / format must be csv, ndjson or bundle");
        };
    }

    // ---- names ------------------------------------------------------------------------------------------------

    private static AuditViews.PatientName name(PatientDirectory.Demographics d) {
        return new AuditViews.PatientName(d.name(), d.kana(), d.patientId(), true);
    }

    /** Role codes and their names in the reader's language. */
    private Map<String, String> roleNames(ConsoleRequest r) {
        Map<String, String> out = new HashMap<>();
        for (Roles.Role role : access.roles().list()) {
            out.put(role.code(), r.lang() == ConsoleRequest.Lang.EN ? role.nameEn() : role.nameJa());
        }
        return out;
    }

    /** The names of actors recorded without one ({@code account:UUID} or {@code account:LOGIN}), at most 500. */
    private Map<String, String> people(Set<String> actors) {
        Map<String, String> out = new HashMap<>();
        int n = 0;
        for (String a : actors) {
            if (a == null || !a.startsWith("account:") || n++ >= 500) {
                continue;
            }
            account(a.substring("account:".length())).ifPresent(acc -> out.put(a, acc.familyName() + " "
                    + acc.givenName()));
        }
        return out;
    }

    /** A person as a filter names them: "name (login id)", or what was asked when there is no such account. */
    private String actorName(String actor) {
        String key = actor.startsWith("account:") ? actor.substring("account:".length()) : actor;
        return account(key).map(a -> a.familyName() + " " + a.givenName() + "（" + a.loginId() + "）").orElse(actor);
    }

    private java.util.Optional<Account> account(String key) {
        try {
            return id.accounts().find(UUID.fromString(key));
        } catch (IllegalArgumentException e) {
            return id.accounts().findByLogin(key);
        }
    }

    private static JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    private Reply signOff(ConsoleRequest r) {
        Sessions.Session s = r.session();
        try {
            LocalDate from = LocalDate.parse(r.param("from"));
            LocalDate to = LocalDate.parse(r.param("to"));
            audit.reports().signOff(audit.trail(), from, to, r.param("department"), r.param("findings"), s.principal(),
                    s.displayName(), r.address());
        } catch (DateTimeParseException | IllegalArgumentException e) {
            Messages t = r.messages();
            return console.page(r.lang(), 400, t.get("audit.error"), r, Html.message("error",
                    e instanceof DateTimeParseException ? t.get("audit.error.period") : e.getMessage()));
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
        return Console.redirect("/console/audit");
    }
}
