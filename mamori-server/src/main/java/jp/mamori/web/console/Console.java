package jp.mamori.web.console;

import jp.mamori.identity.Accounts;
import jp.mamori.identity.Identity;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.Sessions;
import jp.mamori.audit.AuditContext;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.QueryString;
import jp.mamori.web.Reply;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jp.mamori.kernel.Hashes;

/**
 * The console: server-rendered pages for people. Every console request passes one gate, {@link #handle},
 * which parses the form, refuses cross-site and CSRF-less state changes, finds the session, and applies the
 * route's access rule (logged in, not locked, administrator, fresh second factor) before any page code runs.
 * Pages never check these themselves.
 */
public final class Console implements jp.mamori.web.Endpoint {
    private static final Logger log = LoggerFactory.getLogger(Console.class);
    static final int MAX_FORM = 64 * 1024;
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

    /**
     * The console's Content-Security-Policy with {@code origin} also allowed as a form's destination: a consent page
     * whose form answers with a redirect to the app (issue 21), which browsers check against {@code form-action}.
     */
    public static String cspAllowingFormsTo(String origin) {
        return CSP.replace("form-action 'self';", "form-action 'self' " + origin + ";");
    }

    /** Who may open a route. */
    public enum Access {
        /** Anyone; a session is looked up if present but not required. */
        PUBLIC,
        /** A session whose password was accepted and whose second factor is due. */
        SECOND_FACTOR,
        /** A session registering its first second factor. */
        ENROLMENT,
        /** A logged-in session, even a locked one (the lock screen itself). */
        LOCKED_OK,
        /** A logged-in, unlocked session. */
        USER,
        /** As USER, with the account administrator role. */
        ADMIN,
        /**
         * The operations pages (health, backups): as ADMIN, or a vendor's maintenance session inside its approved
         * window and from its approved source (issue 19, {@link MaintenanceGate}).
         */
        OPERATIONS
    }

    @FunctionalInterface
    public interface Page {
        Reply serve(ConsoleRequest r) throws Exception;
    }

    /**
     * @param writes whether the route may write (refused in degraded read-only mode); GET and HEAD never do
     * @param files  whether the route takes {@code multipart/form-data} with files ({@link #routeUpload})
     */
    private record Route(Access access, boolean stepUp, Page page, boolean writes, boolean files) {
        Route(Access access, boolean stepUp, Page page, boolean writes) {
            this(access, stepUp, page, writes, false);
        }
    }

    /** Whether writes are refused now, and since when (issue 18 §2); normal unless {@link #availability} is given. */
    private volatile jp.mamori.db.Availability availability = jp.mamori.db.Availability.normal(Clock.systemUTC());
    private final jp.mamori.chart.JpDates dates = jp.mamori.chart.JpDates.tokyo();

    private final Identity identity;
    private final boolean tls;
    private final Clock clock;
    private final String sessionCookie;
    private final String preCookie;
    private final Map<String, Route> routes = new HashMap<>();
    /** Routes for every path under a prefix ({@code GET /console/patients/}), the page reads the rest. */
    private final Map<String, Route> prefixRoutes = new LinkedHashMap<>();
    /** The forms held while their senders give a fresh second factor. */
    private final PendingForms pending = new PendingForms();
    /** Where each locked session was, for its unlock. */
    private final ReturnPaths returnPaths = new ReturnPaths();

    private final java.util.List<String> configDeviations;
    /** What every page of a logged-in person shows above its content (the break-glass banner); none by default. */
    private volatile Banner banner = r -> "";
    private volatile boolean clinical;
    /** The origins a state-changing request may come from: the passkey origins and the server's public URL. */
    private volatile java.util.Set<String> origins;

    /**
     * A console without pages: each capability registers its own ({@code register()} of its pages class) through
     * {@link #route}, and they all pass the one gate of {@link #handle}.
     *
     * @param configDeviations the server configuration's deviations from the secure defaults, for the admin home
     */
    public Console(Identity identity, boolean tls, Clock clock, java.util.List<String> configDeviations) {
        this.configDeviations = java.util.List.copyOf(configDeviations);
        this.identity = identity;
        this.tls = tls;
        this.clock = clock;
        this.origins = java.util.Set.copyOf(identity.settings().origins());
        // __Host- cookies are bound to this exact origin and cannot be set by a sibling domain (cookie tossing).
        this.sessionCookie = tls ? "__Host-mamori-session" : "mamori-session";
        this.preCookie = tls ? "__Host-mamori-pre" : "mamori-pre";
    }

    /** Shown at the top of every page of a logged-in, unlocked person; the empty string for none. */
    @FunctionalInterface
    public interface Banner {
        String html(ConsoleRequest r);
    }

    public void banner(Banner banner) {
        this.banner = banner;
    }

    /** The gate of vendors' maintenance sessions; none: a vendor's session reaches the vendor desk only. */
    private volatile MaintenanceGate maintenance;

    /** Installs the just-in-time check of vendors' maintenance sessions (issue 19). */
    public void maintenance(MaintenanceGate gate) {
        this.maintenance = gate;
    }

    /** Who may open the audit console, as its pages decide; the navigation links it for them only. None by default. */
    private volatile java.util.function.Predicate<Sessions.Session> auditor = s -> false;

    /** Says who may open the audit console (the audit pages register their rule), for the navigation link. */
    public void auditor(java.util.function.Predicate<Sessions.Session> auditor) {
        this.auditor = auditor;
    }

    /**
     * A part of the home page from one capability (the clinician's worklist): HTML it rendered from its own
     * template for this person, or null when it has nothing for them. Its data passes that capability's own checks
     * (and its own audit entry); the home page only places it.
     */
    @FunctionalInterface
    public interface HomePart {
        gg.jte.Content render(ConsoleRequest r) throws Exception;
    }

    /**
     * Something waiting for this person, counted by the capability that owns it (break-glass uses to review,
     * locked accounts), shown as a badge on the home page with a link to where it is dealt with.
     *
     * @param label what waits, in the request's language
     * @param href  the page where it is dealt with
     */
    public record Waiting(String label, long count, String href) {
    }

    /** What waits for this person in one capability; an empty list for nothing (or not theirs to see). */
    @FunctionalInterface
    public interface WaitingSource {
        java.util.List<Waiting> waiting(ConsoleRequest r) throws Exception;
    }

    private final java.util.List<HomePart> homeParts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.List<WaitingSource> waitingSources = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * The identity pages where another capability may place a part (issue 21): the login page (sign-in through the
     * institution's identity provider) and the person's own account page (linking it).
     */
    public enum Place {
        LOGIN, ACCOUNT
    }

    private final Map<Place, java.util.List<HomePart>> placed = new java.util.concurrent.ConcurrentHashMap<>();

    /** Adds a part to {@code place}, below those added before. */
    public void part(Place place, HomePart part) {
        placed.computeIfAbsent(place, x -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(part);
    }

    /** The parts of {@code place} for this request, in the order they were added; a part that fails is left out. */
    public java.util.List<gg.jte.Content> parts(Place place, ConsoleRequest r) {
        java.util.List<gg.jte.Content> out = new java.util.ArrayList<>();
        for (HomePart p : placed.getOrDefault(place, java.util.List.of())) {
            try {
                gg.jte.Content c = p.render(r);
                if (c != null) {
                    out.add(c);
                }
            } catch (Exception e) {
                log.warn("{} part failed: {}", place, e.toString());
            }
        }
        return out;
    }

    /** Adds a part to the home page, below those added before. */
    public void homePart(HomePart part) {
        homeParts.add(part);
    }

    /** Adds a source of badges to the home page. */
    public void waiting(WaitingSource source) {
        waitingSources.add(source);
    }

    /** The home page's parts for this person, in the order they were added; a part that fails is left out. */
    public java.util.List<gg.jte.Content> homeParts(ConsoleRequest r) {
        java.util.List<gg.jte.Content> out = new java.util.ArrayList<>();
        for (HomePart p : homeParts) {
            try {
                gg.jte.Content c = p.render(r);
                if (c != null) {
                    out.add(c);
                }
            } catch (FhirError e) {
                throw e; // the audit trail is unavailable: the page is not shown (AUDIT-1)
            } catch (Exception e) {
                log.warn("home part failed: {}", e.toString());
            }
        }
        return out;
    }

    /** What waits for this person, with a count above zero. */
    public java.util.List<Waiting> waiting(ConsoleRequest r) {
        java.util.List<Waiting> out = new java.util.ArrayList<>();
        for (WaitingSource w : waitingSources) {
            try {
                for (Waiting x : w.waiting(r)) {
                    if (x.count() > 0) {
                        out.add(x);
                    }
                }
            } catch (Exception e) {
                log.warn("waiting count failed: {}", e.toString());
            }
        }
        return out;
    }

    /**
     * Also accepts forms from {@code origin} (the server's public URL, when it differs from the passkey origin,
     * e.g. https://127.0.0.1:PORT beside https://localhost:PORT).
     */
    public void alsoServedAt(String origin) {
        java.util.Set<String> s = new java.util.HashSet<>(origins);
        s.add(origin);
        origins = java.util.Set.copyOf(s);
    }

    /**
     * Registers a route. A POST registered here is taken to write: in degraded read-only mode the gate refuses it
     * before its page runs (DEGRADED-1, DEGRADED-3). A POST that only reads (a search, sign-in, lock and unlock) is
     * registered with {@link #routeReading} instead.
     */
    public void route(String method, String path, Access access, boolean stepUp, Page page) {
        routes.put(method + " " + path, new Route(access, stepUp, page, writes(method)));
    }

    /**
     * Registers a POST that works in degraded read-only mode too: it writes nothing in the database, or only what
     * its capability keeps in memory while degraded (sign-in, second factor, lock, unlock, step-up, sign-out), or it
     * is a search sent as a form.
     */
    public void routeReading(String method, String path, Access access, boolean stepUp, Page page) {
        routes.put(method + " " + path, new Route(access, stepUp, page, false));
    }

    /**
     * Registers a POST that takes files: a {@code multipart/form-data} form (or a urlencoded one, without files) of
     * at most {@link Multipart#MAX_REQUEST} bytes, read only for a signed-in session and checked by the gate exactly
     * as other forms are (origin, CSRF token, access rule). The page reads the files with {@link
     * ConsoleRequest#file}. Every other route refuses multipart bodies unread.
     */
    public void routeUpload(String path, Access access, boolean stepUp, Page page) {
        routes.put("POST " + path, new Route(access, stepUp, page, true, true));
    }

    /** A route for every path that starts with {@code prefix} (which ends with '/'); exact routes win. */
    public void routePrefix(String method, String prefix, Access access, boolean stepUp, Page page) {
        prefixRoutes.put(method + " " + prefix, new Route(access, stepUp, page, writes(method)));
    }

    private static boolean writes(String method) {
        return !method.equals("GET") && !method.equals("HEAD");
    }

    /** The process's write availability: its degraded mode shows a banner on every page and refuses writing routes. */
    public void availability(jp.mamori.db.Availability availability) {
        this.availability = availability;
    }

    /** Whether the console is in degraded read-only mode now. */
    public boolean degraded() {
        return availability.degraded();
    }

    private Route find(String key) {
        Route exact = routes.get(key);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, Route> e : prefixRoutes.entrySet()) {
            if (key.startsWith(e.getKey()) && key.length() > e.getKey().length()) {
                return e.getValue();
            }
        }
        return null;
    }

    /** Says that the clinician pages are there (the home page links to them). */
    public void clinicalMounted() {
        this.clinical = true;
    }

    /** Whether the clinician pages are there. */
    public boolean clinical() {
        return clinical;
    }

    public java.util.List<String> configDeviations() {
        return configDeviations;
    }

    public Clock clock() {
        return clock;
    }

    /** This server's name as reports and exports show it. */
    public String hostName() {
        return identity.settings().rpId();
    }

    /** Answers one request under {@code /console} (or {@code /}). */
    @Override
    public Reply handle(jp.mamori.web.Exchange exchange) {
        return answer(exchange.request(), exchange.path());
    }

    private Reply answer(Request request, String path) {
        String method = request.getMethod();
        // every Cookie header: HTTP/2 and some clients send each cookie in a header of its own (RFC 9113 8.2.3)
        Map<String, String> cookies = cookies(String.join("; ", request.getHeaders().getValuesList(HttpHeader.COOKIE)));
        ConsoleRequest.Lang lang = "en".equals(cookies.get("mamori-lang")) ? ConsoleRequest.Lang.EN : ConsoleRequest.Lang.JA;
        String newPre = null;
        ConsoleRequest shown = null; // the request as an error page shows it: with the session, for the navigation
        try {
            if (path.equals("/") || path.equals("/console") || path.equals("/console/")) {
                path = "/console/home";
            }
            if (path.startsWith("/console/static/") && (method.equals("GET") || method.equals("HEAD"))) {
                return Static.serve(path.substring("/console/static/".length()));
            }
            if (path.equals("/console/lang") && method.equals("GET")) {
                String to = "en".equals(param(request, "to")) ? "en" : "ja";
                return redirect(safeNext(param(request, "next"))).header("Set-Cookie", "mamori-lang=" + to
                        + "; Path=/; Max-Age=31536000; SameSite=Strict" + (tls ? "; Secure" : ""));
            }
            String key = (method.equals("HEAD") ? "GET" : method) + " " + path;
            Route route = find(key);
            String sessionValue = cookies.get(sessionCookie);
            if (route == null) {
                shown = shownTo(request, path, lang, sessionValue);
                return errorKeys(shown, 404, "layout.error.notFound.title", "layout.error.notFound",
                        "layout.error.notFound.hint");
            }
            String pre = cookies.get(preCookie);
            if (pre == null || pre.length() != 43) {
                pre = jp.mamori.db.Secrets.random256();
                newPre = pre;
            }
            boolean state = !method.equals("GET") && !method.equals("HEAD");
            Map<String, List<String>> form = Map.of();
            Map<String, ConsoleRequest.Upload> files = Map.of();
            if (state) {
                try {
                    crossSite(request);
                } catch (FhirError e) {
                    log.info("console: refused cross-site {} {} from {} (Origin {}, Sec-Fetch-Site {})", method, path,
                            Request.getRemoteAddr(request), request.getHeaders().get(HttpHeader.ORIGIN),
                            request.getHeaders().get("Sec-Fetch-Site"));
                    throw e;
                }
                if (route.files() && Multipart.is(request.getHeaders().get(HttpHeader.CONTENT_TYPE))) {
                    // Up to 20 MB is read only for a signed-in person whom the route's own access level admits
                    // (an administrators' upload: an administrator): nobody else makes the server hold that much.
                    java.util.Optional<Sessions.Session> uploader = sessionValue == null ? java.util.Optional.empty()
                            : identity.sessions().check(sessionValue);
                    if (uploader.isEmpty() || route.access() == Access.ADMIN
                            && !uploader.get().hasRole(Accounts.ADMIN_ROLE)) {
                        log.info("console: refused an upload to {} without a session from {}", path,
                                Request.getRemoteAddr(request));
                        return page(lang, 403, lang.t("操作を受け付けられません", "Request refused"), null, Html.message(
                                "error", "ログインしてから送信してください / Sign in, then send the form again"));
                    }
                    Multipart.Parsed parsed = multipart(request);
                    form = parsed.form();
                    files = parsed.files();
                } else {
                    form = form(request);
                }
                String sent = first(form, "csrf");
                boolean ok = sessionValue != null && csrfToken(sessionValue).equals(sent)
                        || csrfToken(pre).equals(sent);
                if (!ok) {
                    log.info("console: refused {} {} without a valid CSRF token from {}", method, path,
                            Request.getRemoteAddr(request));
                    return page(lang, 403, lang.t("操作を受け付けられません", "Request refused"), null, Html.message("error",
                            "この操作は受け付けられません（画面を開き直してください） / This request was refused: reload the page"
                                    + " and try again (CSRF token missing or wrong)"));
                }
            }
            Optional<Sessions.Session> session = sessionValue == null ? Optional.empty()
                    : identity.sessions().check(sessionValue);
            Sessions.Session s = session.orElse(null);
            String csrf = csrfToken(s != null ? sessionValue : pre);
            ConsoleRequest r = new ConsoleRequest(method, path, QueryString.parse(request.getHttpURI().getQuery()), form,
                    name -> HttpHeader.COOKIE.is(name) ? String.join("; ", request.getHeaders().getValuesList(name))
                            : request.getHeaders().get(name), Request.getRemoteAddr(request), lang,
                    s != null ? sessionValue : null, s, csrf, files);
            shown = r;
            String[] workOrder = new String[1];
            Reply gate = gate(route, r, path, workOrder);
            Reply reply = gate != null ? gate : serve(route, r, workOrder[0]);
            // A reply has one Set-Cookie: a page's own cookie (the session after the identity provider's callback,
            // which arrives without the strict pre-session cookie) wins; the next page sets the pre-session cookie.
            if (newPre != null && !reply.headers().containsKey("Set-Cookie")) {
                reply.header("Set-Cookie", cookie(preCookie, newPre));
            }
            return reply;
        } catch (IdentityException e) {
            return errorPage(orBare(shown, path, lang), 400, lang.t("エラー", "Error"), e.getMessage(), null);
        } catch (FhirError e) {
            Reply reply = errorPage(e.status() == 503 ? orBare(null, path, lang) : orBare(shown, path, lang), e.status(),
                    lang.t("エラー", "Error"), e.getMessage(), null);
            // audit or database unavailable: the same advice as the FHIR API gives
            return e.status() == 503 ? jp.mamori.web.ErrorMapper.retryLater(reply) : reply;
        } catch (Exception e) {
            if (jp.mamori.web.ErrorMapper.databaseUnavailable(e) || jp.mamori.web.ErrorMapper.poolExhausted(e)) {
                // a lost connection or a read-only database (failover, network cut; issue 18 §1): retryable, not a
                // 500; shown without the navigation, whose parts need the database too
                log.warn("console page {}: the database is not available now: {}", path, e.toString());
                return jp.mamori.web.ErrorMapper.retryLater(errorKeys(orBare(null, path, lang), 503,
                        "layout.error.unavailable.title", "layout.error.unavailable", "layout.error.unavailable.hint"));
            }
            log.error("console page {} failed", path, e);
            try {
                return errorKeys(orBare(shown, path, lang), 500, "layout.error.internal.title", "layout.error.internal",
                        "layout.error.internal.hint");
            } catch (RuntimeException again) { // the page's own parts failed too (the banner's lookup): without them
                log.warn("console error page for {} shown without the navigation: {}", path, again.toString());
                return errorKeys(orBare(null, path, lang), 500, "layout.error.internal.title", "layout.error.internal",
                        "layout.error.internal.hint");
            }
        }
    }

    /**
     * The request an error page is shown for, when no route took it: the session is looked up (read only) so that
     * the page keeps the person's navigation; none when it cannot be (e.g. the database is down).
     */
    private ConsoleRequest shownTo(Request request, String path, ConsoleRequest.Lang lang, String sessionValue) {
        Sessions.Session s = null;
        try {
            s = sessionValue == null ? null : identity.sessions().check(sessionValue).orElse(null);
        } catch (RuntimeException e) {
            log.debug("console: no session for the error page of {}: {}", path, e.toString());
        }
        return new ConsoleRequest("GET", path, Map.of(), Map.of(), name -> null, Request.getRemoteAddr(request), lang,
                s != null ? sessionValue : null, s, s != null ? csrfToken(sessionValue) : "");
    }

    private static ConsoleRequest orBare(ConsoleRequest shown, String path, ConsoleRequest.Lang lang) {
        return shown != null ? shown : new ConsoleRequest("GET", path, Map.of(), Map.of(), name -> null, "", lang, null,
                null, "");
    }

    /**
     * An error page in the console layout (template {@code layout/error.jte}): the navigation of a signed-in person
     * stays, the page says in the person's language what happened and where to go (DEGRADED-3: a failure says so
     * plainly and never shows a stack trace). {@code title}, {@code message} and {@code hint} are message keys of
     * the layout bundle.
     */
    private Reply errorKeys(ConsoleRequest r, int status, String title, String message, String hint) {
        Messages t = r.messages();
        return errorPage(r, status, t.get(title), t.get(message), hint == null ? null : t.get(hint));
    }

    /** As {@link #errorKeys}, with the texts themselves. */
    private Reply errorPage(ConsoleRequest r, int status, String title, String message, String hint) {
        Sessions.Session s = r.session();
        boolean signedIn = s != null && s.stage() == Sessions.Stage.AUTHENTICATED && !s.locked();
        return page(r, status, title, "layout/error.jte", new Layout.ErrorView(message, hint, signedIn));
    }

    /** Runs the page; inside a maintenance window every audit entry it makes carries the work order (MAINT-9). */
    private static Reply serve(Route route, ConsoleRequest r, String workOrder) throws Exception {
        try (AuditContext.Scope ignored = AuditContext.open(workOrder)) {
            return route.page().serve(r);
        }
    }

    /** The access rule of the route; null when the page may run. */
    private Reply gate(Route route, ConsoleRequest r, String path, String[] workOrder) {
        Sessions.Session s = r.session();
        switch (route.access()) {
            case PUBLIC -> {
                return readOnlyRefusal(route, r);
            }
            case SECOND_FACTOR -> {
                return s != null && s.stage() == Sessions.Stage.SECOND_FACTOR ? readOnlyRefusal(route, r)
                        : redirect("/console/login");
            }
            case ENROLMENT -> {
                return s != null && s.stage() == Sessions.Stage.ENROLMENT ? readOnlyRefusal(route, r)
                        : redirect("/console/login");
            }
            default -> {
            }
        }
        if (s == null || s.stage() != Sessions.Stage.AUTHENTICATED) {
            return redirect("/console/login");
        }
        boolean operations = false;
        if (MaintenanceGate.applies(s)) {
            MaintenanceGate gate = maintenance;
            MaintenanceGate.Verdict v = gate == null ? new MaintenanceGate.Desk(null) : gate.admit(s, r.address());
            if (v instanceof MaintenanceGate.Ended ended) {
                identity.sessions().end(r.cookie(), "maintenance: " + ended.message());
                return clearSession(errorPage(new ConsoleRequest(r.method(), path, r.query(), Map.of(), r.header(),
                        r.address(), r.lang(), null, null, "", Map.of()), 403, r.lang().t("保守作業の終了",
                        "Maintenance ended"), ended.message(), null));
            }
            String wo = v instanceof MaintenanceGate.InWindow in ? in.window().workOrderNo() : null;
            String why = MaintenanceGate.refusal(v, r.method(), path, route.access() == Access.OPERATIONS);
            if (why != null) {
                if (gate != null) {
                    gate.refused(s, r.address(), path, wo);
                }
                return errorPage(r, 403, r.lang().t("この画面は使えません", "Not available"), why, null);
            }
            workOrder[0] = wo;
            operations = wo != null;
        }
        if (jp.mamori.access.PartnerShares.applies(s)) {
            // a partner clinician of another institution (issue 21, AUTH-11): its home, its account, and reading the
            // charts of the patients shared with it; nothing else, whatever the route's own rule
            String why = jp.mamori.access.PartnerShares.refusal(r.method(), path);
            if (why != null) {
                log.info("partner session {}: {} {} refused", s.loginId(), r.method(), path.length() > 200
                        ? path.substring(0, 200) : path);
                return errorPage(r, 403, r.lang().t("この画面は使えません", "Not available"), why, null);
            }
        }
        if (route.access() == Access.LOCKED_OK) {
            return readOnlyRefusal(route, r);
        }
        if (s.locked()) {
            if (r.method().equals("GET")) {
                returnPaths.remember(s.ref(), path + query(r));
            }
            return redirect("/console/lock");
        }
        if (s.mustChangePassword() && !path.equals("/console/me/password") && !path.equals("/console/logout")) {
            return redirect("/console/me/password");
        }
        if ((route.access() == Access.ADMIN || route.access() == Access.OPERATIONS && !operations)
                && !s.hasRole(Accounts.ADMIN_ROLE)) {
            return errorKeys(r, 403, "layout.error.forbidden.title", "layout.error.adminOnly",
                    "layout.error.forbidden.hint");
        }
        Reply readOnly = readOnlyRefusal(route, r);
        if (readOnly != null) {
            return readOnly; // before a step-up: nothing would be done after it either
        }
        if (route.stepUp() && !s.stepUpFresh(clock.instant())) {
            // A page: confirm, then open it. A form: nothing is done yet; it is held for this session, and after the
            // step-up it runs through this gate again (resume). Should it be gone by then, the person is back on
            // the page the form was on.
            boolean page = r.method().equals("GET") || r.method().equals("HEAD");
            String next = page ? path + query(r) : refererPath(r);
            String ticket = page || !PendingForms.holdable(r.form()) || !r.files().isEmpty() ? null : pending.keep(s.ref(), r.csrf(), r.method(), path, r.query(), r.form(),
                    r.header().apply("Referer"), clock.instant());
            return redirect("/console/step-up?next=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8)
                    + (ticket == null ? "" : "&resume=" + ticket));
        }
        return null;
    }

    /** Form fields never shown back on the refusal page: secrets and the form's own machinery. */
    private static final java.util.regex.Pattern SECRET_FIELD = java.util.regex.Pattern.compile(
            "(?i).*(csrf|password|passwd|secret|code|otp|token|credential|assertion|passkey|challenge|key|ticket|resume).*");
    private static final java.util.regex.Pattern ID_VALUE = java.util.regex.Pattern.compile(
            "(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{0,40}|[0-9]+");

    /**
     * The refusal of a writing route in degraded read-only mode (DEGRADED-1, DEGRADED-3): 503 with Retry-After and a
     * page that says what to do instead (paper and the downtime kit now, back-entry afterwards) and shows back what
     * the person typed, so that nothing typed is lost: the free text of the form, never secrets, identifiers or the
     * form's hidden machinery. Null when the route may run.
     */
    private Reply readOnlyRefusal(Route route, ConsoleRequest r) {
        if (!route.writes() || !availability.degraded()) {
            return null;
        }
        log.info("console: refused {} {} in degraded read-only mode from {}", r.method(), r.path(), r.address());
        List<String> typed = new java.util.ArrayList<>();
        r.form().forEach((name, values) -> {
            if (!SECRET_FIELD.matcher(name).matches()) {
                for (String v : values) {
                    String x = v == null ? "" : v.strip();
                    if (!x.isEmpty() && !ID_VALUE.matcher(x).matches()) {
                        typed.add(x);
                    }
                }
            }
        });
        Sessions.Session s = r.session();
        boolean signedIn = s != null && s.stage() == Sessions.Stage.AUTHENTICATED && !s.locked();
        Messages t = r.messages();
        return jp.mamori.web.ErrorMapper.retryLater(page(r, 503, t.get("layout.readOnly.title"), "layout/read-only.jte",
                new Layout.ReadOnlyView(since(r), List.copyOf(typed), signedIn)));
    }

    /** Since when the console is read-only, in the request's language and the institution's zone (JST). */
    private String since(ConsoleRequest r) {
        return dates.dateTimeWithZone(availability.state().since(), r.lang() == ConsoleRequest.Lang.EN
                ? jp.mamori.chart.JpDates.Lang.EN : jp.mamori.chart.JpDates.Lang.JA);
    }

    /** The degraded-mode banner's since-when, or null when writes are allowed. */
    private String degradedSince(ConsoleRequest r, ConsoleRequest.Lang lang) {
        if (!availability.degraded()) {
            return null;
        }
        return dates.dateTimeWithZone(availability.state().since(), lang == ConsoleRequest.Lang.EN
                ? jp.mamori.chart.JpDates.Lang.EN : jp.mamori.chart.JpDates.Lang.JA);
    }

    /**
     * After a successful step-up on {@code r} (the step-up form's own request): the form the gate held for this
     * session under {@code ticket}, run again through the whole gate (session, CSRF token, access rule, fresh second
     * factor) and then its page, as if it had been sent now. Empty when there is none: no ticket, another
     * session's or another CSRF token's, expired, or already used (single use). Any step-up of the session
     * drops what it held, so a form left behind never runs after a later, unrelated step-up.
     */
    public Optional<Reply> resume(ConsoleRequest r, String ticket) throws Exception {
        Sessions.Session s = r.session();
        if (s == null || r.cookie() == null) {
            return Optional.empty();
        }
        Optional<PendingForms.Pending> held = pending.take(s.ref(), ticket, csrfToken(r.cookie()), clock.instant());
        if (held.isEmpty()) {
            return Optional.empty();
        }
        PendingForms.Pending p = held.get();
        Route route = find(p.method() + " " + p.path());
        Sessions.Session now = identity.sessions().check(r.cookie()).orElse(null);
        if (route == null || now == null || !csrfToken(r.cookie()).equals(first(p.form(), "csrf"))) {
            return Optional.empty();
        }
        ConsoleRequest again = new ConsoleRequest(p.method(), p.path(), p.query(), p.form(),
                name -> "Referer".equalsIgnoreCase(name) ? p.referer() : r.header().apply(name), r.address(), r.lang(),
                r.cookie(), now, r.csrf());
        log.info("console: {} {} continues after a step-up from {}", p.method(), p.path(), r.address());
        String[] workOrder = new String[1];
        Reply gate = gate(route, again, p.path(), workOrder);
        return Optional.of(gate != null ? gate : serve(route, again, workOrder[0]));
    }

    /** Whether the step-up page of {@code r} holds a form under {@code ticket}, which continues after it. */
    public boolean holdsForm(ConsoleRequest r, String ticket) {
        return r.session() != null && pending.holds(r.session().ref(), ticket, clock.instant());
    }

    /**
     * Remembers where the person of {@code r} was when the session locked: the page the lock form was sent from
     * (its Referer, sent by the console's same-origin referrer policy), so that unlocking returns there.
     */
    public void rememberWhereLocked(ConsoleRequest r) {
        if (r.session() != null) {
            String from = refererPath(r);
            if (!from.startsWith("/console/lock")) {
                returnPaths.remember(r.session().ref(), from);
            }
        }
    }

    /**
     * Where unlocking takes the person of {@code r}: the page they were on when the session locked (single use,
     * kept in this process's memory, never in the lock screen's address), or the home page.
     */
    public String whereLocked(ConsoleRequest r) {
        return r.session() == null ? "/console/home" : safeNext(returnPaths.take(r.session().ref()));
    }

    /** Forgets the form held for the session of {@code r} (logout). */
    public void dropHeldForm(ConsoleRequest r) {
        if (r.session() != null) {
            pending.drop(r.session().ref());
        }
    }

    static String query(ConsoleRequest r) {
        StringBuilder sb = new StringBuilder();
        r.query().forEach((k, vs) -> vs.forEach(v -> sb.append(sb.isEmpty() ? "?" : "&").append(
                java.net.URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=').append(
                java.net.URLEncoder.encode(v, StandardCharsets.UTF_8))));
        return sb.toString();
    }

    private static String refererPath(ConsoleRequest r) {
        String ref = r.header().apply("Referer");
        if (ref != null) {
            int i = ref.indexOf("/console/");
            if (i >= 0) {
                return safeNext(ref.substring(i));
            }
        }
        return "/console/home";
    }

    /** Refuses requests another site made the browser send (checked before any form is read). */
    private void crossSite(Request request) {
        String site = request.getHeaders().get("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            throw new FhirError(403, OperationOutcome.IssueType.SECURITY,
                    "他のサイトからの操作は受け付けません / Requests from other sites are refused");
        }
        // Compared with the server's own origins, not with the Host header: a site whose name was rebound to this
        // server's address sends a Host that matches its Origin.
        String origin = request.getHeaders().get(HttpHeader.ORIGIN);
        if (origin != null && !origin.equals("null")) {
            if (origins.stream().noneMatch(origin::equalsIgnoreCase)) {
                throw new FhirError(403, OperationOutcome.IssueType.SECURITY,
                        "他のサイトからの操作は受け付けません / Requests from other sites are refused");
            }
        }
    }

    private static Map<String, List<String>> form(Request request) throws IOException {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (type == null || !type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
            throw new FhirError(415, OperationOutcome.IssueType.NOTSUPPORTED,
                    "フォームの形式が正しくありません / Send the form as application/x-www-form-urlencoded");
        }
        jp.mamori.kernel.RequestText.requireUtf8Charset(type);
        if (request.getLength() > MAX_FORM) {
            throw new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "入力が大きすぎます / The form is too large");
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] b = in.readNBytes(MAX_FORM + 1);
            if (b.length > MAX_FORM) {
                throw new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "入力が大きすぎます / The form is too large");
            }
            return ConsoleRequest.parseForm(jp.mamori.kernel.RequestText.utf8(b, "the form"));
        }
    }

    /** A multipart form, read up to {@link Multipart#MAX_REQUEST} bytes in memory and no further. */
    private static Multipart.Parsed multipart(Request request) throws IOException {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (request.getLength() > Multipart.MAX_REQUEST) {
            throw Multipart.tooLarge();
        }
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] b = in.readNBytes(Multipart.MAX_REQUEST + 1);
            if (b.length > Multipart.MAX_REQUEST) {
                throw Multipart.tooLarge();
            }
            return Multipart.parse(b, type);
        }
    }

    private static String param(Request request, String name) {
        List<String> v = QueryString.parse(request.getHttpURI().getQuery()).get(name);
        return v == null || v.isEmpty() ? "" : v.get(0);
    }

    private static String first(Map<String, List<String>> form, String name) {
        List<String> v = form.get(name);
        return v == null || v.isEmpty() ? "" : v.get(0);
    }

    /**
     * The CSRF token of a cookie: its SHA-256, which a page can show and another site cannot compute
     * (the cookie is HttpOnly and never leaves this origin). Stateless, so every server process agrees.
     */
    static String csrfToken(String cookieValue) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Hashes.sha256(
                ("mamori-csrf:" + cookieValue)));
    }

    static Map<String, String> cookies(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        if (header == null) {
            return out;
        }
        for (String part : header.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                String name = part.substring(0, eq).strip();
                String value = part.substring(eq + 1).strip();
                if (name.startsWith("$")) {
                    continue; // RFC 2965 attributes ($Path, $Domain) some clients still send: not cookies
                }
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1); // RFC 6265 4.1.1: a value may be quoted
                }
                out.putIfAbsent(name, value);
            }
        }
        return out;
    }

    /**
     * Where a person goes after signing in: the console page a flow outside the console sent them from (an app's
     * authorization request, issue 21: the {@link #RETURN_COOKIE} it set), else the home page. Only console paths.
     */
    public String afterLogin(ConsoleRequest r) {
        String cookie = r.header().apply("Cookie");
        String value = cookie == null ? null : cookies(cookie).get(returnCookie());
        if (value == null || value.isEmpty()) {
            return "/console/home";
        }
        try {
            return safeNext(new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return "/console/home";
        }
    }

    /** The cookie that holds {@link #afterLogin}'s path (short-lived, this origin only). */
    public static final String RETURN_COOKIE = "mamori-return";

    private String returnCookie() {
        return tls ? "__Host-" + RETURN_COOKIE : RETURN_COOKIE;
    }

    /** A Set-Cookie header value that sends the person to {@code path} after signing in (ten minutes at most). */
    public String returnAfterLogin(String path) {
        return returnCookie() + "=" + Base64.getUrlEncoder().withoutPadding().encodeToString(safeNext(path)
                .getBytes(StandardCharsets.UTF_8)) + "; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"
                + (tls ? "; Secure" : "");
    }

    /** A Set-Cookie header value that forgets {@link #afterLogin}'s path (once the page it named was shown). */
    public String forgetReturn() {
        return returnCookie() + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (tls ? "; Secure" : "");
    }

    public String cookie(String name, String value) {
        return name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "");
    }

    /** Sets the session cookie to a new value (login, rotation). */
    public Reply withSession(Reply reply, String value) {
        return reply.header("Set-Cookie", cookie(sessionCookie, value));
    }

    public Reply clearSession(Reply reply) {
        return reply.header("Set-Cookie", sessionCookie + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                + (tls ? "; Secure" : ""));
    }

    /** {@code reply} with another status: a page shown again after a refused form (400, 401, 409). */
    public static Reply status(Reply reply, int status) {
        return new Reply(status, reply.contentType(), reply.body(), reply.headers());
    }

    public static Reply redirect(String to) {
        return Reply.empty(303).header("Location", to);
    }

    /** Only paths inside the console: an open redirect would hand a logged-in person to another site. */
    public static String safeNext(String next) {
        if (next == null || !next.startsWith("/console/") || next.startsWith("//") || next.contains("\\")
                || next.contains("\r") || next.contains("\n")) {
            return "/console/home";
        }
        return next;
    }

    /**
     * A page in the console layout that says one thing went wrong (a refusal, a page not found, a malformed request):
     * its title and its message are message keys, read in the request's language.
     */
    public Reply error(ConsoleRequest r, int status, String titleKey, String messageKey) {
        Messages t = r.messages();
        return page(r.lang(), status, t.get(titleKey), r, Html.message("error", t.get(messageKey)));
    }

    /** A whole page in the console layout. */
    public Reply page(ConsoleRequest.Lang lang, int status, String title, ConsoleRequest r, String body) {
        return html(status, Layout.render(lang, title, r, breakGlassBanner(r), body, idleSeconds(),
                auditor, degradedSince(r, lang), status < 400));
    }

    /**
     * A whole page in the console layout whose body is {@code template} (e.g. {@code "audit/home.jte"}) with the
     * request's texts as {@code t} and {@code view} as {@code v}.
     */
    public Reply page(ConsoleRequest r, int status, String title, String template, Object view) {
        Messages t = r.messages();
        return html(status, Templates.page("layout/page.jte", t, Layout.view(r.lang(), title, r,
                Templates.trusted(breakGlassBanner(r)), Templates.content(template, t, view), idleSeconds(), auditor,
                degradedSince(r, r.lang()), status < 400)));
    }

    private long idleSeconds() {
        return identity.sessions().settings().idleLock().toSeconds();
    }

    private static Reply html(int status, String html) {
        // same-origin: the console's own form posts then carry Origin and Referer (checked, and used to return
        // after step-up), while other sites still learn nothing of console addresses.
        return Reply.of(status, "text/html;charset=UTF-8", html).header("Content-Security-Policy", CSP)
                .header("Referrer-Policy", "same-origin");
    }

    /** The break-glass banner on every page of a logged-in person who holds an active use. */
    private String breakGlassBanner(ConsoleRequest r) {
        Sessions.Session s = r == null ? null : r.session();
        if (s == null || s.stage() != Sessions.Stage.AUTHENTICATED || s.locked()) {
            return "";
        }
        return banner.html(r);
    }

    public Reply page(ConsoleRequest r, String title, String body) {
        return page(r.lang(), 200, title, r, body);
    }
}
