package jp.mamori.maintenance.web;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditReports;
import jp.mamori.identity.Sessions;
import jp.mamori.maintenance.MaintenanceException;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.maintenance.WorkReports;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * After and during a maintenance job (issue 19; MAINT-3, MAINT-4, MAINT-5, MAINT-9, MAINT-13): the work report
 * ({@code /console/maintenance/report?no=}), printable in Japanese; the live view of a running job
 * ({@code /live?no=}, its entries refreshed in place from {@code /live/entries?no=} by console.js) with the form that
 * ends it at once ({@code POST /end}).
 *
 * <p>Who, decided here once per route (the console's gate has already checked the session, CSRF and step-up):
 * account administrators see every report, approve or return it (never one of the job's staff; step-up), watch and
 * end jobs (step-up); a vendor's staff member sees the reports of their own vendor's jobs (another vendor's is "not
 * found") and submits the report of a job they are named in; anyone else gets the one refusal page.
 */
final class ReportPages {
    private static final String PATH = MaintenancePages.PATH;
    /** The newest entries the live view shows. */
    static final int LIVE_ROWS = 200;
    /** The longest text a refused report form keeps (what was typed comes back, clipped past the limit). */
    private static final int KEEP = 4100;

    private final MaintenancePages pages;
    private final WorkReports reports;
    private final WorkOrders orders;
    private final Sessions sessions;
    private final Console console;

    ReportPages(MaintenancePages pages, WorkReports reports, Sessions sessions, Console console) {
        this.pages = pages;
        this.reports = reports;
        this.orders = reports.orders();
        this.sessions = sessions;
        this.console = console;
    }

    void register() {
        console.route("GET", PATH + "/report", USER, false, r -> reportPage(r, 200, Map.of(), null, null));
        console.route("POST", PATH + "/report/submit", USER, false, this::submit);
        console.route("POST", PATH + "/report/approve", ADMIN, true, r -> decide(r, true));
        console.route("POST", PATH + "/report/return", ADMIN, true, r -> decide(r, false));
        console.route("GET", PATH + "/live", ADMIN, false, r -> livePage(r, 200, null, null));
        console.route("GET", PATH + "/live/entries", ADMIN, false, this::liveEntries);
        console.route("POST", PATH + "/end", ADMIN, true, this::end);
        console.waiting(this::waiting);
    }

    // ---- who ---------------------------------------------------------------------------------------------------

    /**
     * The report the person may see: every approved job's for an administrator, their own vendor's for a vendor's
     * staff member; empty (not found) otherwise. Null when the person may not see reports at all.
     */
    private Optional<WorkReports.Report> visible(ConsoleRequest r) {
        boolean admin = MaintenancePages.admin(r.session());
        Optional<Vendors.Entry> own = pages.ownVendor(r.session());
        if (!admin && own.isEmpty()) {
            return null;
        }
        return reports.find(r.param("no")).filter(x -> x.order().approved())
                .filter(x -> admin || x.order().vendor() == own.get().entry());
    }

    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!MaintenancePages.admin(r.session())) {
            return List.of();
        }
        try {
            Instant now = orders.now();
            List<Console.Waiting> out = new ArrayList<>();
            long late = reports.overdue(now).size();
            if (late > 0) {
                out.add(new Console.Waiting(r.messages().get("maintenance.report.overdue"), late, PATH));
            }
            long waiting = reports.waitingApproval(now);
            if (waiting > 0) {
                out.add(new Console.Waiting(r.messages().get("maintenance.report.waiting"), waiting, PATH));
            }
            return out;
        } catch (RuntimeException e) {
            return List.of(); // the home page never fails for a reminder
        }
    }

    // ---- entries in words --------------------------------------------------------------------------------------

    private MaintenanceViews.LogRow row(ConsoleRequest r, AuditReports.Row e) {
        Messages t = r.messages();
        String who = switch (e.kind() == null ? "" : e.kind()) {
            case "system" -> e.display() == null || e.display().isBlank() ? t.get("audit.who.system")
                    : t.get("audit.who.system") + "：" + e.display();
            case "anonymous" -> t.get("audit.who.anonymous");
            default -> e.display() == null || e.display().isBlank() ? t.get("audit.who.unnamed") : e.display();
        };
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (String code : new LinkedHashSet<>(e.resources())) {
            int slash = code.indexOf('/');
            if (slash > 0) {
                kinds.merge(word(t, "audit.record", code.substring(0, slash), "audit.record.other"), 1, Integer::sum);
            }
        }
        List<String> records = new ArrayList<>();
        kinds.forEach((k, n) -> records.add(n == 1 ? k : k + " ×" + n));
        int patients = new LinkedHashSet<>(e.patients()).size();
        return new MaintenanceViews.LogRow(pages.dates.dateTime(e.at(), pages.lang(r)), who, action(t, e.action()),
                word(t, "audit.outcome", e.outcome(), "audit.outcome.other"), !"success".equals(e.outcome()),
                String.join("、", records), patients == 0 ? "" : t.get("maintenance.report.patients", patients),
                WorkReports.EXPORT_ACTIONS.contains(e.action()));
    }

    /** The action as the audit console names it: its own words, its family's ({@code x.any}), or "other". */
    static String action(Messages t, String code) {
        String w = code == null ? null : word(t, "audit.action", code, null);
        if (w == null && code != null) {
            int dot = code.indexOf('.');
            w = word(t, "audit.action", (dot > 0 ? code.substring(0, dot) : code) + ".any", null);
        }
        return w == null ? t.get("audit.action.other") : w;
    }

    private static String word(Messages t, String prefix, String code, String fallback) {
        String w = code == null ? code : t.code(prefix, code);
        if (w == null || w.equals(code)) {
            return fallback == null ? null : t.get(fallback);
        }
        return w;
    }

    // ---- the report --------------------------------------------------------------------------------------------

    private static final String[] REPORT_FIELDS = {"results", "done", "open_issues"};

    private Reply reportPage(ConsoleRequest r, int status, Map<String, String> kept, String reason, String error) {
        Optional<WorkReports.Report> found = visible(r);
        if (found == null) {
            return pages.refused(r);
        }
        if (found.isEmpty()) {
            return pages.notFound(r);
        }
        Messages t = r.messages();
        WorkReports.Report rep = found.get();
        WorkOrders.WorkOrder w = rep.order();
        Instant now = orders.now();
        var l = pages.lang(r);
        boolean admin = MaintenancePages.admin(r.session());

        List<MaintenanceViews.Line> lines = new ArrayList<>();
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.purpose"), w.purpose()));
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.source"), w.source().toString()));
        if (w.dataReason() != null) {
            lines.add(new MaintenanceViews.Line(t.get("maintenance.f.data_reason"), w.dataReason()));
        }
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.requester"), w.requesterName() + " · "
                + pages.dates.dateTime(w.filedAt(), l)));
        List<MaintenanceViews.Decision> ds = new ArrayList<>();
        for (WorkOrders.Decision d : w.decisions()) {
            ds.add(new MaintenanceViews.Decision(t.get(d.approve() ? "maintenance.decision.approve"
                    : "maintenance.decision.refuse"), d.byName(), pages.dates.dateTime(d.at(), l),
                    d.reason() == null ? "" : d.reason(), d.approve()));
        }
        String early = w.endedEarly().map(e -> pages.endedEarly(r, e)).orElse(null);

        WorkReports.Status st = rep.status();
        boolean over = rep.open(now);
        String statusWord = over ? t.get("maintenance.report.status." + st.name().toLowerCase(java.util.Locale.ROOT))
                : t.get("maintenance.report.status.running");
        String css = switch (st) {
            case APPROVED -> "state-ok";
            case SUBMITTED -> "state-warn";
            default -> over && !now.isBefore(rep.reportDue()) ? "state-bad" : "state-warn";
        };
        List<MaintenanceViews.Line> dues = List.of(
                new MaintenanceViews.Line(t.get("maintenance.report.due.report"), pages.dates.dateTime(rep.reportDue(),
                        l)),
                new MaintenanceViews.Line(t.get("maintenance.report.due.approval"),
                        pages.dates.dateTime(rep.approvalDue(), l)));

        // the generated part, from the trail
        WorkReports.Log log = reports.log(w);
        List<MaintenanceViews.LogRow> all = new ArrayList<>();
        List<MaintenanceViews.LogRow> exports = new ArrayList<>();
        List<MaintenanceViews.LogRow> refused = new ArrayList<>();
        Set<String> patients = new LinkedHashSet<>();
        Map<String, Integer> kinds = new LinkedHashMap<>();
        for (AuditReports.Row e : log.rows()) {
            MaintenanceViews.LogRow x = row(r, e);
            all.add(x);
            if (x.export()) {
                exports.add(x);
            }
            if (x.failed()) {
                refused.add(x);
            }
            patients.addAll(e.patients());
            for (String code : new LinkedHashSet<>(e.resources())) {
                int slash = code.indexOf('/');
                if (slash > 0) {
                    kinds.merge(word(t, "audit.record", code.substring(0, slash), "audit.record.other"), 1,
                            Integer::sum);
                }
            }
        }
        List<String> kindWords = new ArrayList<>();
        kinds.forEach((k, n) -> kindWords.add(k + " " + n));
        List<MaintenanceViews.Line> summary = List.of(
                new MaintenanceViews.Line(t.get("maintenance.report.sum.period"), pages.window(r, log.from(),
                        w.over())),
                new MaintenanceViews.Line(t.get("maintenance.report.sum.entries"), t.get("maintenance.report.count",
                        log.total())),
                new MaintenanceViews.Line(t.get("maintenance.report.sum.refused"), t.get("maintenance.report.count",
                        refused.size())),
                new MaintenanceViews.Line(t.get("maintenance.report.sum.exports"), t.get("maintenance.report.count",
                        exports.size())),
                new MaintenanceViews.Line(t.get("maintenance.report.sum.patients"), t.get("maintenance.report.people",
                        patients.size())),
                new MaintenanceViews.Line(t.get("maintenance.report.sum.records"), kindWords.isEmpty()
                        ? t.get("maintenance.none") : String.join("、", kindWords)));

        // the vendor's part and its history
        List<MaintenanceViews.Line> latest = rep.latest().map(v -> List.of(
                new MaintenanceViews.Line(t.get("maintenance.report.version"), t.get("maintenance.report.versionOf",
                        v.version(), v.byName(), pages.dates.dateTime(v.at(), l))),
                new MaintenanceViews.Line(t.get("maintenance.report.f.results"), v.results()),
                new MaintenanceViews.Line(t.get("maintenance.report.f.done"), v.done()),
                new MaintenanceViews.Line(t.get("maintenance.report.f.open_issues"), v.openIssues())))
                .orElse(List.of());
        List<MaintenanceViews.ReportStep> steps = new ArrayList<>();
        for (WorkReports.Step s : rep.steps()) {
            steps.add(new MaintenanceViews.ReportStep(t.get("maintenance.report.step." + s.step(), s.version()),
                    s.byName(), pages.dates.dateTime(s.at(), l), s.reason() == null ? "" : s.reason(),
                    switch (s.step()) {
                        case "approved" -> "state-ok";
                        case "returned" -> "state-bad";
                        default -> "";
                    }));
        }
        boolean staff = w.staff().contains(r.session().accountId());
        boolean maySubmit = staff && over && st != WorkReports.Status.APPROVED;
        boolean mayDecide = admin && !staff && st == WorkReports.Status.SUBMITTED;
        Map<String, String> typed = kept;
        if (typed.isEmpty() && maySubmit) {
            typed = rep.latest().map(v -> Map.of("results", v.results(), "done", v.done(), "open_issues",
                    v.openIssues())).orElse(Map.of());
        }
        String done = r.param("done");
        String notice = done != null && done.matches("submitted|approved|returned")
                ? t.get("maintenance.report.notice." + done) : null;
        return console.page(r, status, t.get("maintenance.report.title", w.number()), "maintenance/report.jte",
                new MaintenanceViews.Report(pages.row(r, w, now), lines, ds, early, statusWord, css, dues, summary,
                        exports, refused, all, log.more(), latest, steps, maySubmit, mayDecide, !over, typed,
                        reason == null ? "" : reason, error, notice, r.csrf(), PATH + "/request?no=" + w.number()));
    }

    private Reply submit(ConsoleRequest r) {
        Optional<WorkReports.Report> found = visible(r);
        if (found == null || MaintenancePages.admin(r.session())) {
            return pages.refused(r); // the vendor's own part: an administrator does not write it for them
        }
        if (found.isEmpty()) {
            return pages.notFound(r);
        }
        Map<String, String> typed = new java.util.HashMap<>();
        for (String k : REPORT_FIELDS) {
            String v = r.param(k);
            typed.put(k, v == null ? "" : v.length() > KEEP ? v.substring(0, KEEP) : v);
        }
        String no = found.get().order().number();
        try {
            reports.submit(Actor.of(r.session(), r.address()), r.session().accountId(), no, typed);
            return Console.redirect(PATH + "/report?no=" + no + "&done=submitted");
        } catch (MaintenanceException e) {
            return reportPage(r, 400, typed, null, e.getMessage());
        }
    }

    private Reply decide(ConsoleRequest r, boolean approve) {
        Optional<WorkReports.Report> found = visible(r);
        if (found == null) {
            return pages.refused(r);
        }
        if (found.isEmpty()) {
            return pages.notFound(r);
        }
        String no = found.get().order().number();
        String reason = r.param("reason");
        try {
            Actor by = Actor.of(r.session(), r.address());
            if (approve) {
                reports.approve(by, r.session().accountId(), no);
            } else {
                reports.sendBack(by, r.session().accountId(), no, reason);
            }
            return Console.redirect(PATH + "/report?no=" + no + "&done=" + (approve ? "approved" : "returned"));
        } catch (MaintenanceException e) {
            return reportPage(r, 400, Map.of(), MaintenancePages.clip(reason), e.getMessage());
        }
    }

    // ---- the live view and ending at once ----------------------------------------------------------------------

    private MaintenanceViews.LiveEntries entries(ConsoleRequest r, WorkOrders.WorkOrder w, Instant now) {
        Messages t = r.messages();
        List<MaintenanceViews.LogRow> rows = new ArrayList<>();
        for (AuditReports.Row e : reports.latest(w, LIVE_ROWS)) {
            rows.add(row(r, e));
        }
        WorkOrders.State s = w.state(now);
        return new MaintenanceViews.LiveEntries(rows, t.get("maintenance.state." + s.name().toLowerCase(
                java.util.Locale.ROOT)), s == WorkOrders.State.ACTIVE ? "state-ok" : "",
                t.get("maintenance.live.asOf", pages.dates.dateTime(now, pages.lang(r))), s == WorkOrders.State.ACTIVE
                || s == WorkOrders.State.APPROVED);
    }

    private Reply livePage(ConsoleRequest r, int status, String reason, String error) {
        WorkOrders.WorkOrder w = orders.find(r.param("no")).filter(WorkOrders.WorkOrder::approved).orElse(null);
        if (w == null) {
            return pages.notFound(r);
        }
        Messages t = r.messages();
        Instant now = orders.now();
        WorkOrders.State s = w.state(now);
        String done = r.param("done");
        String notice = "ended".equals(done) ? t.get("maintenance.live.notice.ended") : null;
        return console.page(r, status, t.get("maintenance.live.title", w.number()), "maintenance/live.jte",
                new MaintenanceViews.Live(pages.row(r, w, now), entries(r, w, now), PATH + "/live/entries?no="
                        + w.number(), s == WorkOrders.State.ACTIVE || s == WorkOrders.State.APPROVED,
                        w.endedEarly().map(e -> pages.endedEarly(r, e)).orElse(null), reason == null ? "" : reason,
                        error, notice, r.csrf(), PATH + "/request?no=" + w.number(), PATH + "/report?no="
                        + w.number()));
    }

    /** The live view's entries alone: a fragment console.js puts in place every few seconds. */
    private Reply liveEntries(ConsoleRequest r) {
        WorkOrders.WorkOrder w = orders.find(r.param("no")).filter(WorkOrders.WorkOrder::approved).orElse(null);
        if (w == null) {
            return Reply.of(404, "text/plain;charset=UTF-8", "not found");
        }
        String html = Templates.page("maintenance/liveEntries.jte", r.messages(), entries(r, w, orders.now()));
        return Reply.of(200, "text/html;charset=UTF-8", html).header("Content-Security-Policy", "default-src 'none'")
                .header("Cache-Control", "no-store");
    }

    private Reply end(ConsoleRequest r) {
        String no = r.param("no");
        if (orders.find(no).filter(WorkOrders.WorkOrder::approved).isEmpty()) {
            return pages.notFound(r);
        }
        String reason = r.param("reason");
        Actor by = Actor.of(r.session(), r.address());
        WorkOrders.WorkOrder w;
        try {
            w = orders.endNow(by, no, reason);
        } catch (MaintenanceException e) {
            return livePage(r, 400, MaintenancePages.clip(reason), e.getMessage());
        }
        // the staff's open sessions end now; the gate would end them on their next request anyway
        if (sessions != null) {
            for (java.util.UUID account : w.staff()) {
                for (Sessions.Info s : sessions.open(Optional.of(account))) {
                    sessions.endByRef(s.ref(), Optional.of(account), by.principal(), "maintenance ended at once: "
                            + w.number());
                }
            }
        }
        return Console.redirect(PATH + "/live?no=" + w.number() + "&done=ended");
    }
}
