package jp.mamori.access.web;

import jp.mamori.access.BreakGlass;
import jp.mamori.identity.Identity;
import jp.mamori.web.Reply;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.UUID;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.time;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Templates;

/**
 * Break-glass (緊急時アクセス) in the console: a person starts it for one patient (the route asks for a fresh
 * second factor), sees their active uses and the banner on every page; the security manager's page lists
 * the notices, the review queue (escalated first) and reports.
 */
public final class BreakGlassPages {
    private final Identity id;
    private final BreakGlass breakGlass;
    private final Console console;

    public BreakGlassPages(Identity id, BreakGlass breakGlass, Console console) {
        this.id = id;
        this.breakGlass = breakGlass;
        this.console = console;
    }

    public void register() {
        // Every page of a person who holds an active use says so.
        console.banner(r -> banner(r, breakGlass.activeFor(r.session().accountId(), console.clock().instant())));
        console.route("GET", "/console/break-glass", USER, false, r -> mine(r, ""));
        console.route("POST", "/console/break-glass", USER, true, this::start);
        console.route("POST", "/console/break-glass/end", USER, false, this::end);
        console.route("GET", "/console/admin/break-glass", ADMIN, false, r -> admin(r, ""));
        console.route("POST", "/console/admin/break-glass/review", ADMIN, true, this::review);
        console.route("POST", "/console/admin/break-glass/notices-read", ADMIN, false, this::noticesRead);
    }

    static String reason(ConsoleRequest r, String code) {
        return r.messages().code("access.reason", code);
    }

    static String outcome(ConsoleRequest r, String code) {
        return r.messages().code("access.outcome", code);
    }

    /** The red banner for a person's active break-glass uses; "" when there are none. Other pages may include it. */
    static String banner(ConsoleRequest r, List<BreakGlass.Grant> grants) {
        if (grants.isEmpty()) {
            return "";
        }
        return Templates.page("access/breakGlassBanner.jte", r.messages(), new BreakGlassViews.Banner(
                grants.stream().map(g -> grant(g, null)).toList()));
    }

    /** @param now when to count the time left from; null when it is not shown */
    static BreakGlassViews.Grant grant(BreakGlass.Grant g, Instant now) {
        return new BreakGlassViews.Grant(g.id().toString(), g.patientId(), g.reasonCode(), g.reasonText(),
                time(g.expiresAt()), now == null ? 0 : (g.timeLeft(now).toSeconds() + 59) / 60);
    }

    // ---- the person ---------------------------------------------------------------------------------------

    private Reply mine(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.mine.title"), "access/breakGlass.jte", mineView(r, error));
    }

    BreakGlassViews.Mine mineView(ConsoleRequest r, String error) {
        Instant now = console.clock().instant();
        return new BreakGlassViews.Mine(error, hours(breakGlass.settings().grant()), r.param("patient"),
                r.param("reason"), r.param("reason_text"), BreakGlass.REASONS,
                breakGlass.activeFor(r.session().accountId(), now).stream().map(g -> grant(g, now)).toList(), r.csrf());
    }

    private Reply start(ConsoleRequest r) {
        try {
            breakGlass.start(r.session(), r.param("patient"), r.param("reason"), r.param("reason_text"), r.address(),
                    console.clock().instant());
            return Console.redirect("/console/break-glass");
        } catch (BreakGlass.Refused e) {
            return Console.status(mine(r, e.getMessage()), 400);
        }
    }

    private Reply end(ConsoleRequest r) {
        try {
            breakGlass.end(uuid(r.param("id")), r.session(), console.clock().instant());
            return Console.redirect("/console/break-glass");
        } catch (BreakGlass.Refused e) {
            return Console.status(mine(r, e.getMessage()), 400);
        }
    }

    // ---- the security manager -----------------------------------------------------------------------------

    private Reply admin(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.review.title"), "access/breakGlassReview.jte",
                adminView(r, error));
    }

    BreakGlassViews.Review adminView(ConsoleRequest r, String error) {
        long unread = breakGlass.unreadNotices();
        List<BreakGlassViews.Notice> notices = breakGlass.notices(50).stream().map(n -> new BreakGlassViews.Notice(
                time(n.at()), n.subject(), n.readAt() == null, n.readAt() == null ? ""
                : nullToEmpty(n.readBy()) + " " + time(n.readAt())))
                .toList();
        List<BreakGlassViews.Queued> queue = breakGlass.pendingReviews().stream().map(u -> new BreakGlassViews.Queued(
                u.grant().id().toString(), nullToEmpty(u.displayName()) + " (" + nullToEmpty(u.loginId()) + ")", u.grant().patientId(),
                u.grant().department(), u.grant().reasonCode(), u.grant().reasonText(), time(u.grant().startedAt()),
                u.accesses(), u.outcome(), u.escalationLevel(), u.comment(),
                u.grant().accountId().equals(r.session().accountId()))).toList();
        BreakGlass.Filter f;
        boolean badDates = false;
        try {
            f = new BreakGlass.Filter(r.param("login_id"), r.param("patient"), r.param("department"), r.param("outcome"),
                    day(r.param("from"), 0), day(r.param("to"), 1));
        } catch (DateTimeParseException e) {
            f = BreakGlass.Filter.ALL;
            badDates = true;
        }
        List<BreakGlass.Use> uses;
        String reportError = null;
        try {
            uses = breakGlass.report(f);
        } catch (BreakGlass.Refused e) {
            uses = List.of();
            reportError = e.getMessage();
        }
        return new BreakGlassViews.Review(error, unread, notices, queue, BreakGlass.DECISIONS, badDates,
                new BreakGlassViews.Filter(r.param("login_id"), r.param("patient"), r.param("department"),
                        r.param("outcome"), r.param("from"), r.param("to")), BreakGlass.OUTCOMES, reportError,
                uses.stream().map(u -> new BreakGlassViews.Reported(u.loginId(), u.grant().patientId(),
                        u.grant().department(), u.grant().reasonCode(), time(u.grant().startedAt()) + "〜"
                        + time(u.endedAt() != null ? u.endedAt() : u.grant().expiresAt()), u.accesses(), u.outcome(),
                        nullToEmpty(u.reviewer()) + " " + (u.reviewedAt() == null ? "" : time(u.reviewedAt()))))
                        .toList(), r.csrf());
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private Reply review(ConsoleRequest r) {
        try {
            breakGlass.review(uuid(r.param("id")), r.session(), r.param("decision"), r.param("comment"));
            return Console.redirect("/console/admin/break-glass");
        } catch (BreakGlass.Refused e) {
            return Console.status(admin(r, e.getMessage()), 400);
        }
    }

    private Reply noticesRead(ConsoleRequest r) {
        breakGlass.markNoticesRead(r.session().principal());
        return Console.redirect("/console/admin/break-glass");
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    /** The start of the day (plus {@code plusDays}) in Japan; null when blank. */
    private static Instant day(String s, int plusDays) {
        if (s == null || s.isBlank()) {
            return null;
        }
        return LocalDate.parse(s.strip()).plusDays(plusDays).atStartOfDay(Html.JST).toInstant();
    }

    private static UUID uuid(String s) {
        try {
            return UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            throw new BreakGlass.Refused("緊急時アクセスの記録が見つかりません / No such break-glass use");
        }
    }

    private static long hours(Duration d) {
        return d.toHours();
    }
}
