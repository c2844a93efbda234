package jp.mamori.maintenance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Sessions;
import jp.mamori.maintenance.NoticeException;
import jp.mamori.maintenance.VendorNotices;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * Vendor notices in the console (issue 19; VULN-2, VULN-3): the list (open first, most severe first), the post form,
 * and a notice's page with its history and the acknowledge, plan and close forms.
 *
 * <p>Who, decided here once per route before any page code ({@link #mayPost}, {@link #mayRead}, {@link #mayAct}):
 * a vendor's own account posts and reads the notices it posted (VULN-3: the vendor pushes); an account administrator
 * posts for a vendor (a notice by telephone or letter), reads all, acknowledges, plans and closes (VULN-2: the
 * institution tracks it to closure); whoever may read the audit console (an auditor) reads all; anyone else (a
 * clinician) is refused with a page that repeats nothing the request carried.
 */
public final class NoticePages {
    public static final String PATH = "/console/maintenance/notices";
    static final String ONE = "/console/maintenance/notice";

    private final VendorNotices notices;
    private final Console console;
    private final Predicate<Sessions.Session> auditor;
    private final JpDates dates;
    private final Clock clock;

    /**
     * @param auditor who reads besides administrators and vendors (the audit console's rule)
     */
    public NoticePages(VendorNotices notices, Console console, Predicate<Sessions.Session> auditor, ZoneId zone,
                       Clock clock) {
        this.notices = notices;
        this.console = console;
        this.auditor = auditor;
        this.dates = new JpDates(zone);
        this.clock = clock;
    }

    public void register() {
        console.route("GET", PATH, USER, false, read(this::list));
        console.route("GET", PATH + "/new", USER, false, post(r -> form(r, 200, null, null)));
        console.route("POST", PATH + "/new", USER, false, post(this::save));
        console.route("GET", ONE, USER, false, read(r -> one(r, 200, null, null)));
        console.route("POST", ONE + "/acknowledge", USER, false, act(this::acknowledge));
        console.route("POST", ONE + "/plan", USER, false, act(this::plan));
        console.route("POST", ONE + "/close", USER, false, act(this::close));
        console.waiting(this::waiting);
    }

    // ---- the access rule ---------------------------------------------------------------------------------------

    static boolean isVendor(Sessions.Session s) {
        return s.accountType() == Account.Type.VENDOR;
    }

    static boolean isAdmin(Sessions.Session s) {
        return s.hasRole(Accounts.ADMIN_ROLE) && !isVendor(s);
    }

    /** Posting: a vendor's own account, or an administrator entering a notice for a vendor. */
    public static boolean mayPost(Sessions.Session s) {
        return isVendor(s) || isAdmin(s);
    }

    /** Acknowledging, planning and closing: account administrators only (never the vendor who posted). */
    public static boolean mayAct(Sessions.Session s) {
        return isAdmin(s);
    }

    boolean mayRead(Sessions.Session s) {
        return mayPost(s) || auditor.test(s);
    }

    /** Whether {@code s} may see this notice: a vendor sees only the notices its own account posted. */
    private boolean maySee(Sessions.Session s, VendorNotices.Notice n) {
        return !isVendor(s) || n.postedBy().equals(s.principal());
    }

    private Console.Page read(Console.Page page) {
        return r -> mayRead(r.session()) ? page.serve(r) : refused(r);
    }

    private Console.Page post(Console.Page page) {
        return r -> mayPost(r.session()) ? page.serve(r) : refused(r);
    }

    private Console.Page act(Console.Page page) {
        return r -> mayAct(r.session()) ? page.serve(r) : refused(r);
    }

    private Reply refused(ConsoleRequest r) {
        return console.error(r, 403, "notices.notAllowed", "notices.notAllowed.message");
    }

    private Reply notFound(ConsoleRequest r) {
        return console.error(r, 404, "notices.notFound", "notices.notFound.message");
    }

    /** The administrator's home: notices nobody has acknowledged (those past 24 h counted apart). */
    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!isAdmin(r.session())) {
            return List.of();
        }
        try {
            VendorNotices.Waiting w = notices.waiting(clock.instant());
            List<Console.Waiting> out = new ArrayList<>();
            if (w.overdue() > 0) {
                out.add(new Console.Waiting(r.messages().get("notices.waiting.overdue"), w.overdue(), PATH));
            }
            if (w.unacknowledged() - w.overdue() > 0) {
                out.add(new Console.Waiting(r.messages().get("notices.waiting"), w.unacknowledged() - w.overdue(),
                        PATH));
            }
            return out;
        } catch (RuntimeException e) {
            return List.of(); // the home page never fails for a reminder
        }
    }

    // ---- pages -------------------------------------------------------------------------------------------------

    private static boolean en(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN;
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return en(r) ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    static String href(VendorNotices.Notice n) {
        return ONE + "?n=" + n.label();
    }

    private static String severityClass(VendorNotices.Severity s) {
        return switch (s) {
            case CRITICAL, HIGH -> "state-bad";
            case MEDIUM -> "state-warn";
            case LOW -> "hint";
        };
    }

    private Reply list(ConsoleRequest r) {
        Messages t = r.messages();
        Instant now = clock.instant();
        List<NoticeViews.Line> open = new ArrayList<>();
        List<NoticeViews.Line> closed = new ArrayList<>();
        long overdue = 0;
        for (VendorNotices.Notice n : notices.all()) {
            if (!maySee(r.session(), n)) {
                continue;
            }
            boolean late = n.overdue(now);
            overdue += late ? 1 : 0;
            NoticeViews.Line line = new NoticeViews.Line(n.label(), href(n), n.severity().label(en(r)),
                    severityClass(n.severity()), n.kind().label(en(r)), n.vendor(), n.component(),
                    n.status().label(en(r)), late, dates.dateTime(n.postedAt(), lang(r)));
            (n.open() ? open : closed).add(line);
        }
        String done = "posted".equals(r.param("done")) ? t.get("notices.posted") : null;
        return console.page(r, 200, t.get("notices.title"), "maintenance/notices.jte", new NoticeViews.Listing(open,
                closed, mayPost(r.session()), isVendor(r.session()), done, overdue));
    }

    private static List<NoticeViews.Option> options(Map<String, String> labels, String selected) {
        List<NoticeViews.Option> out = new ArrayList<>();
        labels.forEach((code, label) -> out.add(new NoticeViews.Option(code, label, code.equals(selected))));
        return out;
    }

    private static String clip(String s, int max) {
        return s == null ? "" : s.length() > max ? s.substring(0, max) : s;
    }

    private Reply form(ConsoleRequest r, int status, VendorNotices.Draft typed, String error) {
        Messages t = r.messages();
        boolean vendor = isVendor(r.session());
        VendorNotices.Draft d = typed != null ? typed : new VendorNotices.Draft(vendor ? r.session().displayName()
                : "", "vulnerability", "", "", "", "", "", "", "");
        NoticeViews.Form f = new NoticeViews.Form(clip(d.vendor(), 300), vendor,
                options(VendorNotices.labels(VendorNotices.Kind.values(), en(r)), d.kind()), clip(d.component(), 300),
                clip(d.componentId(), 400), options(VendorNotices.labels(VendorNotices.Severity.values(), en(r)),
                d.severity()), clip(d.summary(), 4100), clip(d.workaround(), 4100), clip(d.patchOn(), 40),
                clip(d.references(), 4100), error, r.csrf());
        return console.page(r, status, t.get("notices.new"), "maintenance/noticesNew.jte", f);
    }

    private Reply save(ConsoleRequest r) {
        boolean vendor = isVendor(r.session());
        // a vendor posts as itself: the vendor name is its account's, whatever the form carried
        VendorNotices.Draft d = new VendorNotices.Draft(vendor ? r.session().displayName() : r.param("vendor"),
                r.param("kind"), r.param("component"), r.param("component_id"), r.param("severity"),
                r.param("summary"), r.param("workaround"), r.param("patch_on"), r.param("references"));
        try {
            VendorNotices.Notice n = notices.post(Actor.of(r.session(), r.address()), vendor, d);
            return Console.redirect(href(n) + "&done=posted");
        } catch (NoticeException e) {
            return form(r, 400, d, e.getMessage());
        }
    }

    private Optional<VendorNotices.Notice> notice(ConsoleRequest r) {
        String n = r.param("n");
        if (n == null || !n.matches("[0-9]{4}-[0-9]{1,7}")) {
            return Optional.empty();
        }
        String[] p = n.split("-");
        return notices.find(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }

    /** A typed text kept for the form after a refusal. */
    private record Kept(String plan, String how, String on, String note) {
    }

    private Reply one(ConsoleRequest r, int status, Kept kept, String error) {
        VendorNotices.Notice n = notice(r).filter(x -> maySee(r.session(), x)).orElse(null);
        if (n == null) {
            return notFound(r);
        }
        Messages t = r.messages();
        boolean e = en(r);
        List<NoticeViews.Fact> facts = new ArrayList<>();
        facts.add(new NoticeViews.Fact(t.get("notices.vendor"), n.vendor()));
        facts.add(new NoticeViews.Fact(t.get("notices.kind"), n.kind().label(e)));
        facts.add(new NoticeViews.Fact(t.get("notices.component"), n.component()));
        facts.add(new NoticeViews.Fact(t.get("notices.componentId"), n.componentId() == null ? ""
                : n.componentId()));
        facts.add(new NoticeViews.Fact(t.get("notices.summary"), n.summary()));
        facts.add(new NoticeViews.Fact(t.get("notices.workaround"), n.workaround() == null ? "" : n.workaround()));
        facts.add(new NoticeViews.Fact(t.get("notices.patchOn"), n.patchOn() == null ? ""
                : dates.date(n.patchOn(), lang(r))));
        facts.add(new NoticeViews.Fact(t.get("notices.references"), n.references() == null ? "" : n.references()));
        facts.add(new NoticeViews.Fact(t.get("notices.postedBy"), n.postedByName() + (n.postedByVendor()
                ? "" : " " + t.get("notices.enteredFor"))));
        List<NoticeViews.Step> history = new ArrayList<>();
        for (VendorNotices.Step s : notices.history(n)) {
            String detail = s.note() == null ? "" : s.note();
            if (s.closure() != null) {
                detail = t.get("notices.closedAs", s.closure().label(e), dates.date(s.closedOn(), lang(r)))
                        + (detail.isEmpty() ? "" : "\n" + detail);
            }
            history.add(new NoticeViews.Step(s.status() == VendorNotices.Status.POSTED ? t.get("notices.step.posted")
                    : s.status().label(e), dates.dateTime(s.at(), lang(r)), s.byName(), detail));
        }
        Kept k = kept != null ? kept : new Kept("", "", notices.today().toString(), "");
        boolean mayAct = mayAct(r.session()) && n.open();
        String done = switch (r.param("done") == null ? "" : r.param("done")) {
            case "posted" -> t.get("notices.posted");
            case "acknowledged" -> t.get("notices.acknowledged");
            case "planned" -> t.get("notices.planned");
            case "closed" -> t.get("notices.closed");
            default -> null;
        };
        return console.page(r, status, t.get("notices.numbered", n.label()), "maintenance/noticesOne.jte",
                new NoticeViews.One(n.label(), n.component(), n.severity().label(e),
                        severityClass(n.severity()), n.status().label(e), n.overdue(clock.instant()), facts, history,
                        mayAct, n.status() != VendorNotices.Status.POSTED, !n.open(),
                        options(VendorNotices.labels(VendorNotices.Closure.values(), e), k.how()), k.plan(), k.how(),
                        k.on(), k.note(), error, error == null ? done : null, r.csrf()));
    }

    private interface Act {
        VendorNotices.Notice run(Actor by, int year, int number);
    }

    private Reply act(ConsoleRequest r, Act act, String done, Kept kept) {
        VendorNotices.Notice n = notice(r).orElse(null);
        if (n == null) {
            return notFound(r);
        }
        try {
            act.run(Actor.of(r.session(), r.address()), n.year(), n.number());
            return Console.redirect(href(n) + "&done=" + done);
        } catch (NoticeException e) {
            return one(r, 400, kept, e.getMessage());
        }
    }

    private Reply acknowledge(ConsoleRequest r) {
        String note = r.param("note");
        return act(r, (by, y, n) -> notices.acknowledge(by, y, n, note), "acknowledged",
                new Kept("", "", notices.today().toString(), clip(note, 4100)));
    }

    private Reply plan(ConsoleRequest r) {
        String plan = r.param("plan");
        return act(r, (by, y, n) -> notices.plan(by, y, n, plan), "planned",
                new Kept(clip(plan, 4100), "", notices.today().toString(), ""));
    }

    private Reply close(ConsoleRequest r) {
        String how = r.param("how");
        String on = r.param("closed_on");
        String note = r.param("note");
        return act(r, (by, y, n) -> notices.close(by, y, n, how, on, note), "closed",
                new Kept("", clip(how, 40), clip(on, 40), clip(note, 4100)));
    }
}
