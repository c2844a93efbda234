package jp.mamori.maintenance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
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
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * Vendor maintenance's pages, {@code /console/maintenance} (issue 19; MAINT-1 … MAINT-3, ACCT-3, ACCESS-6): the
 * institution's administrators keep the vendors (contract, contacts, subcontractors), their staff, routes and
 * components, see every work request by state and approve or refuse it; a signed-in vendor account that is one of a
 * vendor's staff files requests and sees its own vendor's requests only.
 *
 * <p>Who, decided here once per route: account administrators everything (the vendors' and decisions' routes are
 * {@code ADMIN} at the console's gate); a vendor account linked to a vendor its own vendor's requests and the filing
 * form; anyone else (a clinician, an auditor) a refusal that repeats nothing the request carried. Every POST passes the
 * gate's CSRF check; approve and refuse also ask for a fresh second factor (step-up).
 */
public final class MaintenancePages {
    static final String PATH = "/console/maintenance";
    /** The longest text a form keeps when it is refused (what was typed comes back, clipped). */
    private static final int KEEP = 2100;

    private final WorkOrders orders;
    private final Vendors vendors;
    private final Console console;
    final JpDates dates;
    /** The work reports, the live view and ending a job at once ({@link ReportPages}); null without them. */
    private final WorkReports reports;
    private final Sessions sessions;

    public MaintenancePages(WorkOrders orders, Console console, ZoneId zone) {
        this(orders, null, null, console, zone);
    }

    /**
     * With the work reports, the live view and ending a job at once ({@link ReportPages}, registered with these).
     *
     * @param sessions the console's sessions, to end the open sessions of a job's staff when it is ended at once
     */
    public MaintenancePages(WorkOrders orders, WorkReports reports, Sessions sessions, Console console, ZoneId zone) {
        this.orders = orders;
        this.vendors = orders.vendors();
        this.console = console;
        this.dates = new JpDates(zone);
        this.reports = reports;
        this.sessions = sessions;
    }

    public void register() {
        console.route("GET", PATH, USER, false, this::home);
        console.route("GET", PATH + "/vendor", ADMIN, false, r -> vendorPage(r, 200, null, Map.of()));
        console.route("GET", PATH + "/vendor/new", ADMIN, false, r -> vendorForm(r, 200, Map.of(), null));
        console.route("POST", PATH + "/vendor/new", ADMIN, false, this::saveVendor);
        console.route("POST", PATH + "/vendor/staff", ADMIN, false, r -> addToVendor(r, "staff"));
        console.route("POST", PATH + "/vendor/route", ADMIN, false, r -> addToVendor(r, "route"));
        console.route("POST", PATH + "/vendor/component", ADMIN, false, r -> addToVendor(r, "component"));
        console.route("POST", PATH + "/vendor/retire", ADMIN, false, this::retire);
        console.route("GET", PATH + "/request/new", USER, false, r -> requestForm(r, 200, Map.of(), List.of(), null));
        console.route("POST", PATH + "/request/new", USER, false, this::file);
        console.route("GET", PATH + "/request", USER, false, r -> requestPage(r, 200, null, null));
        console.route("POST", PATH + "/request/approve", ADMIN, true, r -> decide(r, true));
        console.route("POST", PATH + "/request/refuse", ADMIN, true, r -> decide(r, false));
        console.waiting(this::waiting);
        console.homePart(this::tile);
        if (reports != null) {
            new ReportPages(this, reports, sessions, console).register();
        }
    }

    // ---- who ---------------------------------------------------------------------------------------------------

    static boolean admin(Sessions.Session s) {
        return s.hasRole(Accounts.ADMIN_ROLE);
    }

    /** The vendor whose staff the signed-in vendor account is; empty for anyone else. */
    Optional<Vendors.Entry> ownVendor(Sessions.Session s) {
        if (s.accountType() != Account.Type.VENDOR) {
            return Optional.empty();
        }
        return vendors.staffOf(s.accountId()).flatMap(st -> vendors.find(Vendors.VENDOR, st.vendor()))
                .filter(v -> !v.retired());
    }

    Reply refused(ConsoleRequest r) {
        return console.error(r, 403, "maintenance.notAllowed", "maintenance.notAllowed.message");
    }

    Reply notFound(ConsoleRequest r) {
        return console.error(r, 404, "maintenance.notFound", "maintenance.notFound.message");
    }

    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!admin(r.session())) {
            return List.of();
        }
        try {
            long n = orders.waiting();
            return n == 0 ? List.of() : List.of(new Console.Waiting(r.messages().get("maintenance.waiting"), n, PATH));
        } catch (RuntimeException e) {
            return List.of(); // the home page never fails for a reminder
        }
    }

    gg.jte.Content tile(ConsoleRequest r) {
        if (!admin(r.session()) && ownVendor(r.session()).isEmpty()) {
            return null;
        }
        return Templates.content("maintenance/tile.jte", r.messages(), new MaintenanceViews.Tile(PATH,
                r.messages().get("maintenance.title")));
    }

    // ---- words -------------------------------------------------------------------------------------------------

    JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    String window(ConsoleRequest r, Instant start, Instant end) {
        JpDates.Lang l = lang(r);
        boolean sameDay = dates.localDate(start).equals(dates.localDate(end));
        return dates.dateTime(start, l) + " 〜 " + (sameDay ? dates.time(end) : dates.dateTime(end, l))
                + (l == JpDates.Lang.EN ? " JST" : "");
    }

    private static String css(WorkOrders.State s) {
        return switch (s) {
            case WAITING -> "state-warn";
            case APPROVED, ACTIVE -> "state-ok";
            case REFUSED, LAPSED -> "state-bad";
            case ENDED -> "";
        };
    }

    private String staffNames(List<UUID> staff) {
        Map<String, String> names = new HashMap<>();
        for (Vendors.Entry e : vendors.current(Vendors.STAFF)) {
            names.put(e.get("account"), e.get("name") + "（" + e.get("login_id") + "）");
        }
        List<String> out = new ArrayList<>();
        for (UUID u : staff) {
            out.add(names.getOrDefault(u.toString(), "—"));
        }
        return String.join("、", out);
    }

    private String vendorName(int n) {
        return vendors.find(Vendors.VENDOR, n).map(v -> v.get("name")).orElse("—");
    }

    MaintenanceViews.RequestRow row(ConsoleRequest r, WorkOrders.WorkOrder w, Instant now) {
        Messages t = r.messages();
        WorkOrders.State s = w.state(now);
        String data = w.patientData() || w.exportData()
                ? t.get("maintenance.data." + (w.exportData() ? "export" : "see")) : t.get("maintenance.data.none");
        return new MaintenanceViews.RequestRow(w.number(), PATH + "/request?no=" + w.number(), vendorName(w.vendor()),
                staffNames(w.staff()), window(r, w.start(), w.end()), w.systems(), data,
                t.get("maintenance.state." + s.name().toLowerCase(java.util.Locale.ROOT)), css(s),
                t.get("maintenance.approvals", w.approvals(), w.approvalsNeeded()));
    }

    // ---- the overview ------------------------------------------------------------------------------------------

    private Reply home(ConsoleRequest r) {
        Messages t = r.messages();
        boolean admin = admin(r.session());
        Optional<Vendors.Entry> own = ownVendor(r.session());
        if (!admin && own.isEmpty()) {
            return refused(r);
        }
        Instant now = orders.now();
        List<WorkOrders.WorkOrder> list = admin ? orders.all() : orders.ofVendor(own.get().entry());
        Map<WorkOrders.State, List<MaintenanceViews.RequestRow>> by = new LinkedHashMap<>();
        for (WorkOrders.State s : List.of(WorkOrders.State.WAITING, WorkOrders.State.ACTIVE, WorkOrders.State.APPROVED,
                WorkOrders.State.ENDED, WorkOrders.State.REFUSED)) {
            by.put(s, new ArrayList<>());
        }
        for (WorkOrders.WorkOrder w : list) {
            WorkOrders.State s = w.state(now);
            by.get(s == WorkOrders.State.LAPSED ? WorkOrders.State.REFUSED : s).add(row(r, w, now));
        }
        List<MaintenanceViews.Group> groups = new ArrayList<>();
        by.forEach((s, rows) -> groups.add(new MaintenanceViews.Group("requests-" + s.name().toLowerCase(
                java.util.Locale.ROOT), t.get("maintenance.group." + s.name().toLowerCase(java.util.Locale.ROOT)),
                rows)));
        List<MaintenanceViews.VendorRow> vs = new ArrayList<>();
        if (admin) {
            java.time.LocalDate today = dates.localDate(now);
            for (Vendors.Entry v : vendors.current(Vendors.VENDOR)) {
                vs.add(new MaintenanceViews.VendorRow(v.get("name"), v.get("contract_no"), period(r, v),
                        v.get("responsible"), vendors.current(Vendors.STAFF, v.entry()).size(),
                        vendors.current(Vendors.ROUTE, v.entry()).size(), PATH + "/vendor?n=" + v.entry(),
                        !today.isBefore(v.contractFrom()) && !today.isAfter(v.contractTo())));
            }
        }
        String done = r.param("done");
        String notice = "filed".equals(done) ? t.get("maintenance.notice.filed") : null;
        List<MaintenanceViews.Overdue> late = new ArrayList<>();
        if (reports != null) {
            for (WorkReports.Overdue o : reports.overdue(now)) {
                if (admin || list.stream().anyMatch(w -> w.number().equals(o.number()))) {
                    late.add(new MaintenanceViews.Overdue(o.number(), PATH + "/report?no=" + o.number(),
                            t.get("maintenance.report.late." + o.step())));
                }
            }
        }
        return console.page(r, 200, t.get("maintenance.title"), "maintenance/home.jte", new MaintenanceViews.Home(admin,
                own.map(v -> v.get("name")).orElse(null), groups, vs, PATH + "/request/new", notice, late));
    }

    private String period(ConsoleRequest r, Vendors.Entry v) {
        return dates.date(v.contractFrom(), lang(r)) + " 〜 " + dates.date(v.contractTo(), lang(r));
    }

    // ---- vendors (administrators) ------------------------------------------------------------------------------

    private static Integer number(String s) {
        return s != null && s.matches("[0-9]{1,9}") ? Integer.valueOf(s) : null;
    }

    static String clip(String s) {
        return s == null ? "" : s.length() > KEEP ? s.substring(0, KEEP) : s;
    }

    static Map<String, String> kept(ConsoleRequest r, String... keys) {
        Map<String, String> m = new HashMap<>();
        for (String k : keys) {
            m.put(k, clip(r.param(k)));
        }
        return m;
    }

    private static final String[] VENDOR_FIELDS = {"name", "contract_no", "contract_from", "contract_to", "responsible",
            "contacts", "subcontractors"};

    private Reply vendorForm(ConsoleRequest r, int status, Map<String, String> kept, String error) {
        return console.page(r, status, r.messages().get("maintenance.vendor.new"), "maintenance/vendorForm.jte",
                new MaintenanceViews.VendorForm(kept, error, r.csrf()));
    }

    private Reply saveVendor(ConsoleRequest r) {
        Map<String, String> typed = kept(r, VENDOR_FIELDS);
        try {
            Vendors.Entry v = vendors.saveVendor(Actor.of(r.session(), r.address()), null, typed);
            return Console.redirect(PATH + "/vendor?n=" + v.entry() + "&done=saved");
        } catch (MaintenanceException e) {
            return vendorForm(r, 400, typed, e.getMessage());
        }
    }

    private Reply vendorPage(ConsoleRequest r, int status, String error, Map<String, String> kept) {
        Messages t = r.messages();
        Integer n = number(r.param("n"));
        Vendors.Entry v = n == null ? null : vendors.find(Vendors.VENDOR, n).filter(x -> !x.retired()).orElse(null);
        if (v == null) {
            return notFound(r);
        }
        List<MaintenanceViews.Line> head = List.of(
                new MaintenanceViews.Line(t.get("maintenance.f.contract_no"), v.get("contract_no")),
                new MaintenanceViews.Line(t.get("maintenance.f.period"), period(r, v)),
                new MaintenanceViews.Line(t.get("maintenance.f.responsible"), v.get("responsible")),
                new MaintenanceViews.Line(t.get("maintenance.f.contacts"), v.get("contacts")));
        List<String> subs = v.get("subcontractors").isEmpty() ? List.of()
                : List.of(v.get("subcontractors").split("\n"));
        List<MaintenanceViews.Item> staff = new ArrayList<>();
        for (Vendors.Entry e : vendors.current(Vendors.STAFF, v.entry())) {
            staff.add(new MaintenanceViews.Item(Vendors.STAFF, e.entry(), List.of(new MaintenanceViews.Line(
                    t.get("maintenance.f.person"), e.get("name") + "（" + e.get("login_id") + "）"))));
        }
        List<MaintenanceViews.Item> routes = new ArrayList<>();
        for (Vendors.Entry e : vendors.current(Vendors.ROUTE, v.entry())) {
            routes.add(new MaintenanceViews.Item(Vendors.ROUTE, e.entry(), List.of(
                    new MaintenanceViews.Line(t.get("maintenance.f.route"), e.get("name")),
                    new MaintenanceViews.Line(t.get("maintenance.f.sources"), e.get("sources")),
                    new MaintenanceViews.Line(t.get("maintenance.f.reaches"), e.get("reaches")),
                    new MaintenanceViews.Line(t.get("maintenance.f.device"), e.get("device").isEmpty() ? "—"
                            : e.get("device")))));
        }
        List<MaintenanceViews.Item> components = new ArrayList<>();
        for (Vendors.Entry e : vendors.current(Vendors.COMPONENT, v.entry())) {
            components.add(new MaintenanceViews.Item(Vendors.COMPONENT, e.entry(), List.of(
                    new MaintenanceViews.Line(t.get("maintenance.f.component"), e.get("component")),
                    new MaintenanceViews.Line(t.get("maintenance.f.duty"), e.get("duty")))));
        }
        String done = r.param("done");
        String notice = done != null && done.matches("saved|added|retired") ? t.get("maintenance.notice." + done)
                : null;
        return console.page(r, status, v.get("name"), "maintenance/vendor.jte", new MaintenanceViews.Vendor(
                v.get("name"), head, subs, staff, routes, components, v.entry(), kept, error, notice, r.csrf()));
    }

    private Reply addToVendor(ConsoleRequest r, String kind) {
        Integer n = number(r.param("n"));
        if (n == null) {
            return notFound(r);
        }
        Actor by = Actor.of(r.session(), r.address());
        Map<String, String> typed = kept(r, "login_id", "name", "sources", "reaches", "device", "component", "duty");
        try {
            switch (kind) {
                case "staff" -> vendors.addStaff(by, n, typed.get("login_id"));
                case "route" -> vendors.addRoute(by, n, typed);
                default -> vendors.addComponent(by, n, typed);
            }
            return Console.redirect(PATH + "/vendor?n=" + n + "&done=added");
        } catch (MaintenanceException e) {
            typed.put("form", kind);
            return vendorPage(r, 400, e.getMessage(), typed);
        }
    }

    private Reply retire(ConsoleRequest r) {
        Integer n = number(r.param("n"));
        Integer entry = number(r.param("entry"));
        String kind = r.param("kind");
        if (n == null || entry == null || kind == null || !kind.matches("staff|route|component")) {
            return notFound(r);
        }
        try {
            Vendors.Entry e = vendors.find(kind, entry).filter(x -> x.vendor() == n).orElseThrow(
                    () -> new MaintenanceException("その行はありません / no such row"));
            vendors.retire(Actor.of(r.session(), r.address()), kind, e.entry(), r.param("reason"));
            return Console.redirect(PATH + "/vendor?n=" + n + "&done=retired");
        } catch (MaintenanceException e) {
            return vendorPage(r, 400, e.getMessage(), Map.of());
        }
    }

    // ---- requests ----------------------------------------------------------------------------------------------

    private static final String[] REQUEST_FIELDS = {"systems", "purpose", "patient_data", "export_data", "data_reason",
            "patients", "start", "end", "source"};

    /** The vendor a request form is for: the vendor's own; for an administrator the one chosen. */
    private Optional<Vendors.Entry> formVendor(ConsoleRequest r) {
        if (admin(r.session())) {
            Integer n = number(r.param("vendor"));
            return n == null ? Optional.empty() : vendors.find(Vendors.VENDOR, n).filter(v -> !v.retired());
        }
        return ownVendor(r.session());
    }

    private Reply requestForm(ConsoleRequest r, int status, Map<String, String> kept, List<String> chosen,
                              String error) {
        Messages t = r.messages();
        boolean admin = admin(r.session());
        if (!admin && ownVendor(r.session()).isEmpty()) {
            return refused(r);
        }
        Vendors.Entry v = formVendor(r).orElse(null);
        List<MaintenanceViews.Option> choose = new ArrayList<>();
        List<MaintenanceViews.Option> staff = new ArrayList<>();
        List<String> routes = new ArrayList<>();
        if (v == null) {
            for (Vendors.Entry x : vendors.current(Vendors.VENDOR)) {
                choose.add(new MaintenanceViews.Option(Integer.toString(x.entry()), x.get("name"), false));
            }
        } else {
            for (Vendors.Entry e : vendors.current(Vendors.STAFF, v.entry())) {
                staff.add(new MaintenanceViews.Option(e.get("login_id"), e.get("name") + "（" + e.get("login_id")
                        + "）", chosen.contains(e.get("login_id"))
                        || (chosen.isEmpty() && e.get("account").equals(r.session().accountId().toString()))));
            }
            for (Vendors.Entry e : vendors.current(Vendors.ROUTE, v.entry())) {
                routes.add(e.get("name") + ": " + e.get("sources"));
            }
        }
        return console.page(r, status, t.get("maintenance.request.new"), "maintenance/requestForm.jte",
                new MaintenanceViews.RequestForm(v == null ? 0 : v.entry(), v == null ? null : v.get("name"), choose,
                        staff, routes, kept, error, r.csrf(), Long.toString(WorkOrders.MAX_WINDOW.toHours())));
    }

    private Instant local(String typed) {
        if (typed == null || typed.isBlank() || typed.length() > 40) {
            return null;
        }
        try {
            return LocalDateTime.parse(typed.strip()).atZone(dates.zone()).toInstant();
        } catch (DateTimeParseException e) {
            throw new MaintenanceException("日時を正しく入力してください（例 2026-12-08T09:00） / enter the date and time"
                    + " (e.g. 2026-12-08T09:00)");
        }
    }

    private Reply file(ConsoleRequest r) {
        boolean admin = admin(r.session());
        if (!admin && ownVendor(r.session()).isEmpty()) {
            return refused(r);
        }
        Map<String, String> typed = kept(r, REQUEST_FIELDS);
        List<String> chosen = r.params("staff").stream().limit(50).map(MaintenancePages::clip).toList();
        Vendors.Entry v = formVendor(r).orElse(null);
        if (v == null) {
            return notFound(r);
        }
        try {
            Map<String, UUID> byLogin = new HashMap<>();
            for (Vendors.Entry e : vendors.current(Vendors.STAFF, v.entry())) {
                byLogin.put(e.get("login_id"), e.account());
            }
            List<UUID> staff = new ArrayList<>();
            for (String c : chosen) {
                UUID u = byLogin.get(c);
                if (u == null) {
                    throw new MaintenanceException("作業者はこの保守業者の登録された作業者から選んでください / the staff"
                            + " must be registered staff of this vendor");
                }
                staff.add(u);
            }
            WorkOrders.WorkOrder w = orders.file(Actor.of(r.session(), r.address()), r.session().accountId(),
                    new WorkOrders.NewRequest(v.entry(), staff, typed.get("systems"), typed.get("purpose"),
                            "1".equals(typed.get("patient_data")), "1".equals(typed.get("export_data")),
                            typed.get("data_reason"), local(typed.get("start")), local(typed.get("end")),
                            typed.get("source"), WorkOrders.patients(typed.get("patients"))));
            return Console.redirect(PATH + "/request?no=" + w.number() + "&done=filed");
        } catch (MaintenanceException e) {
            return requestForm(r, 400, typed, chosen, e.getMessage());
        }
    }

    private Reply requestPage(ConsoleRequest r, int status, String reason, String error) {
        Messages t = r.messages();
        boolean admin = admin(r.session());
        Optional<Vendors.Entry> own = ownVendor(r.session());
        if (!admin && own.isEmpty()) {
            return refused(r);
        }
        WorkOrders.WorkOrder w = orders.find(r.param("no")).orElse(null);
        if (w == null || (!admin && w.vendor() != own.get().entry())) {
            return notFound(r); // another vendor's request is not found, not forbidden: nothing is disclosed
        }
        Instant now = orders.now();
        JpDates.Lang l = lang(r);
        List<MaintenanceViews.Line> lines = new ArrayList<>();
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.purpose"), w.purpose()));
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.source"), w.source().toString()));
        vendors.find(Vendors.ROUTE, w.route()).ifPresent(x -> lines.add(new MaintenanceViews.Line(
                t.get("maintenance.f.route"), x.get("name"))));
        if (w.dataReason() != null) {
            lines.add(new MaintenanceViews.Line(t.get("maintenance.f.data_reason"), w.dataReason()));
        }
        if (w.patientData()) {
            lines.add(new MaintenanceViews.Line(t.get("maintenance.f.patients"), w.patients().isEmpty()
                    ? t.get("maintenance.f.patients.none") : String.join("、", w.patients())));
        }
        lines.add(new MaintenanceViews.Line(t.get("maintenance.f.requester"), w.requesterName() + " · "
                + dates.dateTime(w.filedAt(), l)));
        w.endedEarly().ifPresent(e -> lines.add(new MaintenanceViews.Line(t.get("maintenance.f.endedEarly"),
                endedEarly(r, e))));
        List<MaintenanceViews.Decision> ds = new ArrayList<>();
        for (WorkOrders.Decision d : w.decisions()) {
            ds.add(new MaintenanceViews.Decision(t.get(d.approve() ? "maintenance.decision.approve"
                    : "maintenance.decision.refuse"), d.byName(), dates.dateTime(d.at(), l),
                    d.reason() == null ? "" : d.reason(), d.approve()));
        }
        WorkOrders.State s = w.state(now);
        boolean mayDecide = admin && s == WorkOrders.State.WAITING;
        String done = r.param("done");
        String notice = done != null && done.matches("filed|approved|refused") ? t.get("maintenance.notice." + done)
                : null;
        List<MaintenanceViews.Link> links = new ArrayList<>();
        if (reports != null && w.approved()) {
            if (s == WorkOrders.State.ACTIVE || s == WorkOrders.State.ENDED) {
                links.add(new MaintenanceViews.Link("report-link", PATH + "/report?no=" + w.number(),
                        t.get("maintenance.link.report")));
            }
            if (admin && (s == WorkOrders.State.ACTIVE || s == WorkOrders.State.APPROVED)) {
                links.add(new MaintenanceViews.Link("live-link", PATH + "/live?no=" + w.number(),
                        t.get("maintenance.link.live")));
            }
        }
        return console.page(r, status, t.get("maintenance.request.title", w.number()), "maintenance/request.jte",
                new MaintenanceViews.Request(row(r, w, now), lines, ds, mayDecide, reason == null ? "" : reason, error,
                        notice, r.csrf(), links));
    }

    /** "Ended at once by whom, when — why" in the reader's language. */
    String endedEarly(ConsoleRequest r, WorkOrders.EarlyEnd e) {
        return r.messages().get("maintenance.endedEarly", e.byName(), dates.dateTime(e.at(), lang(r)), e.reason());
    }

    private Reply decide(ConsoleRequest r, boolean approve) {
        String no = r.param("no");
        if (orders.find(no).isEmpty()) {
            return notFound(r);
        }
        String reason = r.param("reason");
        try {
            Actor by = Actor.of(r.session(), r.address());
            if (approve) {
                orders.approve(by, r.session().accountId(), no);
            } else {
                orders.refuse(by, r.session().accountId(), no, reason);
            }
            return Console.redirect(PATH + "/request?no=" + no + "&done=" + (approve ? "approved" : "refused"));
        } catch (MaintenanceException e) {
            return requestPage(r, 400, clip(reason), e.getMessage());
        }
    }
}
