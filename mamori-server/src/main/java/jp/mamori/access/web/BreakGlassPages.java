package jp.mamori.access.web;

import jp.mamori.access.BreakGlass;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.Purpose;
import jp.mamori.identity.Identity;
import jp.mamori.web.Reply;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * the notices, the review queue (escalated first) and reports. Patients are named by name and 患者ID (the person
 * asks for break-glass by the 患者ID on the banner), never by the record's id (issue 22).
 */
public final class BreakGlassPages {
    /** A patient as a stored notice names them. */
    private static final Pattern NOTICE_PATIENT = Pattern.compile("Patient/([A-Za-z0-9\\-.]{1,64})");
    private final Identity id;
    private final BreakGlass breakGlass;
    private final Console console;
    private final PatientDirectory patients;

    /** @param patients names the patients of uses (demographics only) and finds a patient by 患者ID */
    public BreakGlassPages(Identity id, BreakGlass breakGlass, Console console, PatientDirectory patients) {
        this.id = id;
        this.breakGlass = breakGlass;
        this.console = console;
        this.patients = patients;
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
    String banner(ConsoleRequest r, List<BreakGlass.Grant> grants) {
        if (grants.isEmpty()) {
            return "";
        }
        Map<String, PatientDirectory.Demographics> named = named(grants.stream().map(BreakGlass.Grant::patientId)
                .toList());
        return Templates.page("access/breakGlassBanner.jte", r.messages(), new BreakGlassViews.Banner(
                grants.stream().map(g -> grant(r, g, named, null)).toList()));
    }

    /** @param now when to count the time left from; null when it is not shown */
    static BreakGlassViews.Grant grant(ConsoleRequest r, BreakGlass.Grant g,
                                       Map<String, PatientDirectory.Demographics> named, Instant now) {
        return new BreakGlassViews.Grant(g.id().toString(), label(r, named, g.patientId()), g.reasonCode(),
                g.reasonText(), time(g.expiresAt()), now == null ? 0 : (g.timeLeft(now).toSeconds() + 59) / 60);
    }

    /** The demographics of these patients (Patient ids), those whose record is there. */
    private Map<String, PatientDirectory.Demographics> named(Collection<String> ids) {
        return patients.byIds(new LinkedHashSet<>(ids));
    }

    private static AccessViews.PatientLabel label(ConsoleRequest r, Map<String, PatientDirectory.Demographics> named,
                                                  String patientId) {
        PatientDirectory.Demographics d = named.get(patientId);
        return d == null ? new AccessViews.PatientLabel(patientId, r.messages().get("access.patient.unknown"), "", "",
                "", "", false) : AccessPages.label(r, d);
    }

    // ---- the person ---------------------------------------------------------------------------------------

    private Reply mine(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.mine.title"), "access/breakGlass.jte", mineView(r, error));
    }

    BreakGlassViews.Mine mineView(ConsoleRequest r, String error) {
        Instant now = console.clock().instant();
        List<BreakGlass.Grant> active = breakGlass.activeFor(r.session().accountId(), now);
        Map<String, PatientDirectory.Demographics> named = named(active.stream().map(BreakGlass.Grant::patientId)
                .toList());
        String patient = r.param("patient").strip();
        if (r.method().equals("GET") && !patient.isEmpty() && patients.byPatientId(patient).isEmpty()) {
            // from a chart's refusal, which names the record: the form shows the 患者ID the person knows
            PatientDirectory.Demographics d = patients.byIds(List.of(patient)).get(patient);
            if (d != null && !d.patientId().isEmpty()) {
                patient = d.patientId();
            }
        }
        return new BreakGlassViews.Mine(error, hours(breakGlass.settings().grant()), patient,
                r.param("reason"), r.param("reason_text"), BreakGlass.REASONS,
                active.stream().map(g -> grant(r, g, named, now)).toList(), r.csrf());
    }

    /**
     * Starts a use for the patient the person names by 患者ID (the one on the banner). A text that is no 患者ID but
     * the id of a patient's record is taken as that (links that name the record); anything else is refused before
     * a use starts, so that break-glass is never opened on a patient who is not there.
     */
    private Reply start(ConsoleRequest r) {
        try {
            String asked = r.param("patient").strip();
            List<PatientDirectory.Demographics> byId = patients.byPatientId(asked);
            String patient;
            if (byId.size() == 1) {
                patient = byId.get(0).id();
            } else if (byId.size() > 1) {
                throw new BreakGlass.Refused("この患者IDの患者が複数います。管理者に連絡してください"
                        + " / Several patients have this patient ID: ask an administrator");
            } else if (!asked.isEmpty() && patients.byIds(List.of(asked)).containsKey(asked)) {
                patient = asked;
            } else {
                throw new BreakGlass.Refused("その患者IDの患者は見つかりません / No patient has this patient ID");
            }
            breakGlass.start(r.session(), patient, r.param("reason"), r.param("reason_text"), r.address(),
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

    /**
     * The security manager's page. The patients of the notices, the queue and the report are named by name and 患者ID;
     * showing them is recorded as the administrator's look at those patients' demographics (ACCESS-7).
     */
    BreakGlassViews.Review adminView(ConsoleRequest r, String error) {
        long unread = breakGlass.unreadNotices();
        List<BreakGlass.StoredNotice> stored = breakGlass.notices(50);
        List<BreakGlass.Use> pending = breakGlass.pendingReviews();
        BreakGlass.Filter f;
        boolean badDates = false;
        String patientFilter = r.param("patient").strip();
        try {
            f = new BreakGlass.Filter(r.param("login_id"), patientRef(patientFilter), r.param("department"),
                    r.param("outcome"), day(r.param("from"), 0), day(r.param("to"), 1));
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
        Set<String> ids = new LinkedHashSet<>();
        pending.forEach(u -> ids.add(u.grant().patientId()));
        uses.forEach(u -> ids.add(u.grant().patientId()));
        for (BreakGlass.StoredNotice n : stored) {
            Matcher m = NOTICE_PATIENT.matcher(n.subject());
            while (m.find()) {
                ids.add(m.group(1));
            }
        }
        Map<String, PatientDirectory.Demographics> named = named(ids);
        patients.recordShown(new ArrayList<>(named.values()), r.session(), r.address(), Purpose.ADMINISTRATION,
                "break-glass-review");
        List<BreakGlassViews.Notice> notices = stored.stream().map(n -> new BreakGlassViews.Notice(
                time(n.at()), notice(r, n.subject(), named), n.readAt() == null, n.readAt() == null ? ""
                : nullToEmpty(n.readBy()) + " " + time(n.readAt())))
                .toList();
        List<BreakGlassViews.Queued> queue = pending.stream().map(u -> new BreakGlassViews.Queued(
                u.grant().id().toString(), nullToEmpty(u.displayName()) + "（" + nullToEmpty(u.loginId()) + "）",
                label(r, named, u.grant().patientId()), u.grant().department(), u.grant().reasonCode(),
                u.grant().reasonText(), time(u.grant().startedAt()), u.accesses(), u.outcome(), u.escalationLevel(),
                u.comment(), u.grant().accountId().equals(r.session().accountId()))).toList();
        return new BreakGlassViews.Review(error, unread, notices, queue, BreakGlass.DECISIONS, badDates,
                new BreakGlassViews.Filter(r.param("login_id"), patientFilter, r.param("department"),
                        r.param("outcome"), r.param("from"), r.param("to")), BreakGlass.OUTCOMES, reportError,
                uses.stream().map(u -> new BreakGlassViews.Reported(nullToEmpty(u.displayName()) + "（"
                        + nullToEmpty(u.loginId()) + "）", label(r, named, u.grant().patientId()),
                        u.grant().department(), u.grant().reasonCode(), time(u.grant().startedAt()) + "〜"
                        + time(u.endedAt() != null ? u.endedAt() : u.grant().expiresAt()), u.accesses(), u.outcome(),
                        nullToEmpty(u.reviewer()) + " " + (u.reviewedAt() == null ? "" : time(u.reviewedAt()))))
                        .toList(), r.csrf());
    }

    /** The report's patient filter: a 患者ID names the patient's record; anything else is taken as it is. */
    private String patientRef(String asked) {
        if (asked.isEmpty()) {
            return null;
        }
        List<PatientDirectory.Demographics> found = patients.byPatientId(asked);
        return found.size() == 1 ? found.get(0).id() : asked;
    }

    /** A stored notice's text with each patient named by name and 患者ID instead of the record's id. */
    private static String notice(ConsoleRequest r, String subject, Map<String, PatientDirectory.Demographics> named) {
        Matcher m = NOTICE_PATIENT.matcher(subject);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            PatientDirectory.Demographics d = named.get(m.group(1));
            String name = d == null ? r.messages().get("access.patient.unknown")
                    : d.name() + "（" + r.messages().get("access.patientId") + " "
                    + (d.patientId().isEmpty() ? "—" : d.patientId()) + "）";
            m.appendReplacement(sb, Matcher.quoteReplacement(name));
        }
        m.appendTail(sb);
        return sb.toString();
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
