package jp.mamori.audit.web;

import jp.mamori.access.Action;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditExport;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Identity;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.esc;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;

/**
 * The audit console (AUDIT-2, AUDIT-7, AUDIT-8, AUDIT-10): reports over the trail with CSV, FHIR AuditEvent
 * exports, the review sign-off and its coverage, and the trail's status. Open to people whose roles hold the
 * {@code audit} category (監査担当) and to account administrators; every report viewed or exported is itself an
 * entry, written before the report is shown.
 */
public final class AuditPages {
    private static final int LIMIT = 5000;
    private final Identity id;
    private final Audit audit;
    private final Console console;

    public AuditPages(Identity id, Audit audit, Console console) {
        this.id = id;
        this.audit = audit;
        this.console = console;
    }

    public void register() {
        console.route("GET", "/console/audit", USER, false, auditor(Action.READ, this::home));
        console.route("GET", "/console/audit/report", USER, false, auditor(Action.READ, this::report));
        console.route("GET", "/console/audit/export", USER, true, auditor(Action.EXPORT, this::export));
        console.route("POST", "/console/audit/review", USER, true, auditor(Action.READ, this::signOff));
    }

    /** The route's rule: the audit category with {@code action}, or the account administrator role. */
    private Console.Page auditor(Action action, Console.Page page) {
        return r -> {
            Sessions.Session s = r.session();
            if (!s.hasRole(Accounts.ADMIN_ROLE) && !audit.permits(s.accountId(), action)) {
                Messages t = r.messages();
                return console.page(r.lang(), 403, t.get("audit.notAllowed"), r, Html.message("error",
                        t.get("audit.notAllowed.message")));
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
        LocalDate today = LocalDate.now(AuditReports.JST);
        List<AuditReports.CoverageDay> cov = audit.reports().coverage(today.minusDays(29), today);
        long reviewed = cov.stream().filter(AuditReports.CoverageDay::reviewed).count();
        return new AuditViews.Home(audit.reports().size(), clock == null ? "—" : clock.state() + " (" + clock.source()
                + ")", audit.reports().options().retentionYears(), checkpoint(), KINDS, reviewed,
                cov.stream().map(d -> new AuditViews.CoverageDay(d.day().toString(), d.entries(), d.reviewed(),
                        d.reviews().toString())).toList(), r.csrf());
    }

    /** The verification status (AUDIT-3): the last signed checkpoint, its time-stamp and anchor, any problem. */
    private AuditViews.Checkpoint checkpoint() {
        jp.mamori.audit.Checkpointer cp = audit.checkpointer();
        if (cp == null) {
            return null;
        }
        jp.mamori.audit.Checkpointer.Status st = cp.status();
        var last = st.last();
        return new AuditViews.Checkpoint(last == null ? null : new AuditViews.Signed(last.size(),
                last.signedAt().toString(), last.tsaStatus(), String.valueOf(last.tsaError()), last.anchorStatus(),
                last.anchorStatus().equals("ok") ? String.valueOf(cp.anchor().dir()) : null,
                String.valueOf(last.anchorError()), cp.signer().verifierKey().format()),
                st.problem());
    }

    /** The report kinds, in the order the form lists them; each is named by the text audit.kind.KIND. */
    public static final List<String> KINDS = List.of("patient", "actor", "window", "counts", "break-glass", "after-hours",
            "volume", "same-name");

    private record Window(Instant from, Instant to, LocalDate fromDay, LocalDate toDay) {
    }

    private static Window window(ConsoleRequest r) {
        LocalDate today = LocalDate.now(AuditReports.JST);
        try {
            LocalDate from = r.param("from").isBlank() ? today.minusDays(30) : LocalDate.parse(r.param("from"));
            LocalDate to = r.param("to").isBlank() ? today : LocalDate.parse(r.param("to"));
            if (to.isBefore(from)) {
                throw new IllegalArgumentException();
            }
            return new Window(from.atStartOfDay(AuditReports.JST).toInstant(),
                    to.plusDays(1).atStartOfDay(AuditReports.JST).toInstant(), from, to);
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw jp.mamori.kernel.FhirError.badRequest("期間が正しくありません / The period is not valid (YYYY-MM-DD)");
        }
    }

    private List<AuditReports.Row> rows(String kind, ConsoleRequest r, Window w) {
        AuditReports rep = audit.reports();
        return switch (kind) {
            case "patient" -> rep.patientAccess(required(r, "patient"), w.from(), w.to(), LIMIT);
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
            throw jp.mamori.kernel.FhirError.badRequest(name + " を入力してください / Enter " + name);
        }
        return v;
    }

    private static Map<String, String> params(ConsoleRequest r, Window w) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("from", w.fromDay().toString());
        p.put("to", w.toDay().toString());
        for (String k : List.of("patient", "actor")) {
            if (!r.param(k).isBlank()) {
                p.put(k, r.param(k).strip());
            }
        }
        return p;
    }

    private Reply report(ConsoleRequest r) {
        String kind = r.param("kind");
        Window w = window(r);
        Map<String, String> p = params(r, w);
        List<String> patients = kind.equals("patient") ? List.of(required(r, "patient")) : List.of();
        if (!KINDS.contains(kind)) {
            throw jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report");
        }
        String title = r.messages().get("audit.kind." + kind);
        List<String> filters = new java.util.ArrayList<>();
        p.forEach((k, v) -> {
            if (!k.equals("from") && !k.equals("to")) {
                filters.add(k + ": " + v);
            }
        });
        AuditViews.Heading heading = new AuditViews.Heading(title, w.fromDay().toString(), w.toDay().toString(),
                filters);
        if (kind.equals("counts")) {
            recordView(r, AuditAction.AUDIT_REPORT, kind, p, patients);
            return console.page(r, 200, title, "audit/counts.jte", new AuditViews.Counts(heading,
                    audit.reports().countsPerPatient(w.from(), w.to()).stream().map(c -> new AuditViews.PatientCount(
                            c.patient(), c.accesses(), c.people())).toList()));
        }
        if (kind.equals("volume")) {
            recordView(r, AuditAction.AUDIT_REPORT, kind, p, patients);
            return console.page(r, 200, title, "audit/volume.jte", new AuditViews.Volume(heading,
                    String.valueOf(audit.reports().options().volumeFactor()), audit.reports().unusualVolume(w.from(),
                    w.to()).stream().map(d -> new AuditViews.UnusualDay(d.display() == null ? d.actor() : d.display(),
                    d.day().toString(), d.count(), String.valueOf(d.median()))).toList()));
        }
        List<AuditReports.Row> rows = rows(kind, r, w);
        recordView(r, AuditAction.AUDIT_REPORT, kind, p, patients);
        return console.page(r, 200, title, "audit/entries.jte", new AuditViews.Entries(heading, query(kind, p),
                rows.stream().map(AuditPages::entry).toList(), rows.size() >= LIMIT, LIMIT));
    }

    /** One entry as a report row shows it. */
    static AuditViews.Entry entry(AuditReports.Row e) {
        return new AuditViews.Entry(e.seq(), Html.time(e.at()), e.display() == null ? e.actor()
                : e.display() + " (" + e.actor() + ")", String.join(" ", e.roles()) + (e.department() == null ? ""
                : " / " + e.department()), String.join(" ", e.patients()), e.action(),
                String.join(" ", e.resources()), e.outcome(), e.purpose(), e.address(), e.breakGlass());
    }

    /** The report's query for its export links (URL-encoded; HTML-escaped by the template). */
    private static String query(String kind, Map<String, String> p) {
        StringBuilder sb = new StringBuilder("kind=").append(kind);
        p.forEach((k, v) -> sb.append('&').append(k).append('=').append(java.net.URLEncoder.encode(v,
                java.nio.charset.StandardCharsets.UTF_8)));
        return sb.toString();
    }

    private Reply export(ConsoleRequest r) {
        String kind = r.param("kind");
        String format = r.param("format");
        Window w = window(r);
        Map<String, String> p = params(r, w);
        p.put("format", format);
        List<AuditReports.Row> rows = rows(kind, r, w);
        recordView(r, AuditAction.EXPORT, kind, p, kind.equals("patient") ? List.of(required(r, "patient")) : List.of());
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
