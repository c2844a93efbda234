package jp.mamori.compliance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Answers;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.Dashboard;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.EvidenceSource;
import jp.mamori.compliance.Framework;
import jp.mamori.compliance.Frameworks;
import jp.mamori.compliance.Probes;
import jp.mamori.compliance.Reviews;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * The executive dashboard (経営層向け, issue 20 "Outputs"; GOV-7 the state reported to management, GOV-2 review and
 * improvement): red, amber or green per area of the guideline ({@link Dashboard}), what changed since the last review
 * (answers given and probes' status changes), what is overdue, and the inspection packs of the newest checklists.
 * Who: the compliance console's readers (account administrators, and readers of the audit console such as an
 * executive with the auditor role); recording a review ({@code POST /console/compliance/review}, 見直しを記録) is for
 * account administrators only, and is an audit entry. The rule is applied here, once per route.
 */
public final class DashboardPages {
    static final String PATH = CompliancePages.PATH + "/dashboard";
    static final String REVIEW = CompliancePages.PATH + "/review";

    private final Frameworks frameworks;
    private final Answers answers;
    private final EvidenceSource evidence;
    private final Reviews reviews;
    private final Console console;
    private final ComplianceAccess access;
    private final JpDates dates;

    public DashboardPages(Frameworks frameworks, Answers answers, EvidenceSource evidence, Reviews reviews,
                          Console console, Predicate<Sessions.Session> reader, ZoneId zone) {
        this.frameworks = frameworks;
        this.answers = answers;
        this.evidence = evidence;
        this.reviews = reviews;
        this.console = console;
        this.access = new ComplianceAccess(console, reader);
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", PATH, USER, false, access.read(r -> dashboard(r, 200, null, null)));
        console.route("POST", REVIEW, USER, false, access.write(this::review));
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private String title(ConsoleRequest r, Framework fw) {
        return r.lang() == ConsoleRequest.Lang.EN && fw.titleEn() != null ? fw.titleEn() + " (FY" + fw.fiscalYear()
                + ")" : fw.titleJa() + "（" + fw.fiscalYearJa() + "）";
    }

    private static String stateClass(Dashboard.Colour c) {
        return switch (c) {
            case GREEN -> "state-ok";
            case AMBER -> "state-warn";
            case RED -> "state-bad";
        };
    }

    private static String stateClass(Evidence.Status s) {
        return switch (s) {
            case PASS -> "state-ok";
            case PARTIAL, UNKNOWN -> "state-warn";
            case FAIL -> "state-bad";
        };
    }

    private Reply dashboard(ConsoleRequest r, int status, String error, String typedNote) {
        Messages t = r.messages();
        JpDates.Lang lang = lang(r);
        List<Framework> newest = new ArrayList<>();
        for (Framework fw : frameworks.all()) {
            frameworks.newest(fw.id()).filter(n -> n.version().equals(fw.version())).ifPresent(newest::add);
        }
        Map<Framework, Map<String, Answers.Current>> cur = new LinkedHashMap<>();
        for (Framework fw : newest) {
            cur.put(fw, answers.current(fw));
        }
        Dashboard.View v = Dashboard.compute(newest, cur, evidence, LocalDate.now(console.clock().withZone(dates.zone())));

        List<DashboardViews.Area> areas = new ArrayList<>();
        for (Dashboard.Area a : v.areas()) {
            areas.add(new DashboardViews.Area(a.def().id(), r.lang() == ConsoleRequest.Lang.EN ? a.def().titleEn()
                    : a.def().titleJa(), stateClass(a.colour()), t.get("compliance.dashboard.colour." + a.colour()),
                    String.join(" · ", a.def().families()), a.reasons(),
                    t.get("compliance.dashboard.counts", a.items(), a.answered())));
        }

        Reviews.Mark last = reviews.last().orElse(null);
        String lastReview = last == null ? t.get("compliance.dashboard.noReview")
                : t.get("compliance.dashboard.lastReview", dates.dateTime(last.at(), lang), last.reviewerName())
                + (last.note() == null ? "" : "　" + last.note());
        List<DashboardViews.Line> changes = new ArrayList<>();
        List<Reviews.AnswerChange> answered = reviews.answersSince(last == null ? null : last.at());
        List<Probes.Change> probed = reviews.probeChangesSince(last == null ? null : last.at());
        record Timed(java.time.Instant at, DashboardViews.Line line) {
        }
        List<Timed> timed = new ArrayList<>();
        for (Reviews.AnswerChange c : answered) {
            Framework fw = frameworks.find(c.framework(), c.version()).orElse(null);
            Framework.Item it = fw == null ? null : fw.item(c.item()).orElse(null);
            String what = it == null ? t.get("compliance.dashboard.unknownItem")
                    : title(r, fw) + " " + it.number() + " " + (it.title() == null ? "" : it.title());
            timed.add(new Timed(c.at(), new DashboardViews.Line(t.get("compliance.dashboard.answered", what,
                    r.lang() == ConsoleRequest.Lang.EN ? c.answer().en : c.answer().ja, c.reviewerName()),
                    dates.dateTime(c.at(), lang), CompliancePages.answerClass(c.answer()),
                    it == null ? null : CompliancePages.href(fw, it))));
        }
        for (Probes.Change c : probed) {
            timed.add(new Timed(c.at(), new DashboardViews.Line(t.get("compliance.dashboard.probeChanged",
                    t.get("compliance.dashboard.status." + c.status().name()), c.summary()),
                    dates.dateTime(c.at(), lang), stateClass(c.status()), null)));
        }
        timed.sort(java.util.Comparator.comparing(Timed::at).reversed());
        for (Timed x : timed) {
            changes.add(x.line());
        }
        boolean cut = answered.size() >= Reviews.MAX_CHANGES || probed.size() >= Reviews.MAX_CHANGES;

        List<DashboardViews.Line> overdue = new ArrayList<>();
        for (Dashboard.Overdue o : v.overdue()) {
            overdue.add(new DashboardViews.Line(title(r, o.framework()) + " " + o.item().number() + " "
                    + (o.item().title() == null ? "" : o.item().title()), t.get("compliance.targetOn",
                    dates.date(o.target(), lang)), "state-bad", CompliancePages.href(o.framework(), o.item())));
        }
        List<DashboardViews.Line> failing = new ArrayList<>();
        for (Evidence e : v.failing()) {
            String detail = e.detailPath() != null && e.detailPath().matches("/console/[A-Za-z0-9/_.?=&%#-]{0,300}")
                    ? e.detailPath() : null;
            failing.add(new DashboardViews.Line(e.summary(), dates.dateTime(e.at(), lang), "state-bad", detail));
        }
        List<DashboardViews.Line> unanswered = new ArrayList<>();
        for (Dashboard.Unanswered u : v.unanswered()) {
            unanswered.add(new DashboardViews.Line(title(r, u.framework()), t.get("compliance.dashboard.unanswered",
                    u.count(), u.items()), "state-warn", CompliancePages.href(u.framework())));
        }
        List<DashboardViews.Line> packs = new ArrayList<>();
        for (Framework fw : newest) {
            packs.add(new DashboardViews.Line(title(r, fw), null, "", packQuery(fw)));
        }
        String notice = "recorded".equals(r.param("done")) && error == null ? t.get("compliance.dashboard.recorded")
                : null;
        return console.page(r, status, t.get("compliance.dashboard.title"), "compliance/dashboard.jte",
                new DashboardViews.Dashboard(areas, lastReview, changes, cut, overdue, failing, unanswered, packs,
                        ComplianceAccess.mayWrite(r.session()), typedNote == null ? "" : typedNote, error, notice,
                        r.csrf()));
    }

    /** The pack's path and query without its format (the template adds {@code &format=…}). */
    static String packQuery(Framework fw) {
        return PackPages.PATH + "?id=" + enc(fw.id()) + "&v=" + enc(fw.version());
    }

    private Reply review(ConsoleRequest r) {
        String note = r.param("note");
        try {
            reviews.record(Actor.of(r.session(), r.address()), note);
        } catch (ComplianceException e) {
            return dashboard(r, 400, e.getMessage(), note == null ? "" : note.length() > Reviews.MAX_NOTE + 100
                    ? note.substring(0, Reviews.MAX_NOTE + 100) : note);
        }
        return Console.redirect(PATH + "?done=recorded");
    }
}
