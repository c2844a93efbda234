package jp.mamori.federation.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.federation.Federation;
import jp.mamori.federation.FederationRefusal;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Logins;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.PUBLIC;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * Sign-in through the institution's OpenID Connect provider in the console (issue 21; AUTH-1, AUTH-2, AUTH-5,
 * AUTH-10): the provider's button on the login page (and, while it does not answer, the notice that the password with
 * the second factor still works), the round trip's start and callback, linking from the person's own account page, and
 * the administrators' page ({@code /console/admin/federation}: registration with step-up, the second-factor rule as
 * evidence, versions, links and their removal).
 *
 * <p>The browser binding of a round trip is a cookie of its own, {@code SameSite=Lax} so that it comes back with the
 * provider's redirect (a top-level navigation from another site), HttpOnly, ten minutes. The callback answers with a
 * short page that continues on this site rather than a redirect, so that the session cookie ({@code SameSite=Strict})
 * is sent with the next request.
 */
public final class FederationPages {
    static final String ADMIN_PATH = "/console/admin/federation";
    static final String START = "/console/login/oidc";
    static final String LINK = "/console/me/federation/link";
    static final String UNLINK_MINE = "/console/me/federation/unlink";
    /** The methods of a session signed in locally with two factors: only such a session may link. */
    static final Set<String> LOCAL_TWO_FACTORS = Set.of("pwd+otp", "pwd+hwk", "pwd+rec", "hwk+uv");

    private final Federation federation;
    private final Console console;
    private final JpDates dates;
    private final String bindingCookie;
    private final boolean tls;

    public FederationPages(Federation federation, Console console, ZoneId zone, boolean tls) {
        this.federation = federation;
        this.console = console;
        this.dates = new JpDates(zone);
        this.tls = tls;
        this.bindingCookie = tls ? "__Host-mamori-oidc" : "mamori-oidc";
    }

    public void register() {
        console.part(Console.Place.LOGIN, this::loginPart);
        console.part(Console.Place.ACCOUNT, this::accountPart);
        console.routeReading("POST", START, PUBLIC, false, this::startLogin);
        console.route("GET", Federation.CALLBACK_PATH, PUBLIC, false, this::callback);
        console.route("POST", LINK, USER, true, this::startLink);
        console.route("POST", UNLINK_MINE, USER, true, this::unlinkMine);
        console.route("GET", ADMIN_PATH, ADMIN, false, r -> admin(r, 200, null, null, null));
        console.route("POST", ADMIN_PATH, ADMIN, true, this::registerProvider);
        console.route("POST", ADMIN_PATH + "/disable", ADMIN, true, this::disable);
        console.route("POST", ADMIN_PATH + "/unlink", ADMIN, true, this::unlink);
        console.homePart(this::tile);
    }

    // ---- login page ------------------------------------------------------------------------------------------

    gg.jte.Content loginPart(ConsoleRequest r) {
        Optional<Federation.Provider> p = federation.active();
        if (p.isEmpty()) {
            return null;
        }
        return Templates.content("federation/login.jte", r.messages(), new FederationViews.LoginPart(
                r.messages().get("federation.login.button", p.get().displayName()), federation.health().down(),
                r.csrf()));
    }

    private Reply startLogin(ConsoleRequest r) {
        try {
            return started(r, federation.startLogin(r.address()));
        } catch (FederationRefusal e) {
            return refused(r, e, false);
        }
    }

    /**
     * On to the provider with the binding cookie: a page that continues there, not a redirect, because the console's
     * {@code form-action 'self'} would stop a form's redirect to another site.
     */
    private Reply started(ConsoleRequest r, Federation.Start s) {
        return onward(r, s.redirect().toString(), null).header("Set-Cookie", bindingCookie + "="
                + s.browserBinding() + "; Path=/; Max-Age=" + Federation.FLOW_TTL.toSeconds()
                + "; HttpOnly; SameSite=Lax" + (tls ? "; Secure" : ""));
    }

    private Reply callback(ConsoleRequest r) {
        Map<String, String> params = new HashMap<>();
        for (String k : List.of("code", "state", "error", "iss")) {
            String v = r.param(k);
            if (!v.isEmpty()) {
                params.put(k, v);
            }
        }
        boolean link = false;
        try {
            Federation.Result result = federation.callback(params, cookie(r, bindingCookie), r.address(),
                    r.header().apply("User-Agent"));
            return switch (result) {
                case Federation.Result.Linked l -> onward(r, "/console/me?federation=linked", null);
                case Federation.Result.SignedIn s -> switch (s.outcome()) {
                    case Logins.PasswordOutcome.SecondFactorDue d -> onward(r, "/console/login/factor", d.cookie());
                    case Logins.PasswordOutcome.LoggedIn l -> onward(r, "/console/home", l.cookie());
                };
            };
        } catch (FederationRefusal e) {
            return refused(r, e, r.session() != null && r.session().stage() == Sessions.Stage.AUTHENTICATED);
        }
    }

    /**
     * A page that continues to {@code to} at once (and a link for a browser that does not): to the provider after a
     * start, or on this site after the callback. A redirect after the callback would carry the provider's site as the
     * navigation's origin, and the strict session cookie would not be sent with it.
     */
    private Reply onward(ConsoleRequest r, String to, String sessionCookie) {
        Messages t = r.messages();
        String href = Html.esc(to);
        String html = "<!DOCTYPE html><html lang=\"" + (r.lang() == ConsoleRequest.Lang.EN ? "en" : "ja") + "\"><head>"
                + "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=" + href + "\"><title>"
                + Html.esc(t.get("federation.onward.title")) + "</title></head><body><p><a href=\"" + href
                + "\" id=\"onward\">" + Html.esc(t.get("federation.onward.link")) + "</a></p></body></html>";
        Reply reply = Reply.of(200, "text/html;charset=UTF-8", html).header("Content-Security-Policy",
                "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                .header("Referrer-Policy", "no-referrer").header("Cache-Control", "no-store");
        return sessionCookie == null ? reply : console.withSession(reply, sessionCookie);
    }

    private Reply refused(ConsoleRequest r, FederationRefusal e, boolean link) {
        int status = switch (e.kind()) {
            case PROVIDER_DOWN -> 503;
            case NOT_CONFIGURED -> 404;
            default -> 401;
        };
        return console.page(r, status, r.messages().get("federation.refused.title"), "federation/refused.jte",
                new FederationViews.Refused(e.getMessage(), e.kind() == FederationRefusal.Kind.PROVIDER_DOWN, link));
    }

    /** The value of the request's cookie {@code name}, or null. */
    static String cookie(ConsoleRequest r, String name) {
        String header = r.header().apply("Cookie");
        if (header == null || header.length() > 8192) {
            return null;
        }
        for (String part : header.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).strip().equals(name)) {
                String v = part.substring(eq + 1).strip();
                // RFC 2965 clients (Java's CookieManager for a cookie with Max-Age) quote the value
                return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
            }
        }
        return null;
    }

    // ---- the person's own account page -----------------------------------------------------------------------

    gg.jte.Content accountPart(ConsoleRequest r) {
        Optional<Federation.Provider> p = federation.active();
        List<Federation.Link> mine = federation.linksOf(r.session().accountId());
        if (p.isEmpty() && mine.isEmpty()) {
            return null;
        }
        return Templates.content("federation/account.jte", r.messages(), accountView(r, p, mine,
                r.param("federation").equals("linked") ? r.messages().get("federation.account.linked") : null));
    }

    private FederationViews.AccountPart accountView(ConsoleRequest r, Optional<Federation.Provider> p,
                                                    List<Federation.Link> mine, String notice) {
        Messages t = r.messages();
        String cannot = null;
        if (p.isEmpty()) {
            cannot = t.get("federation.account.off");
        } else if (mine.stream().anyMatch(l -> l.issuer().equals(p.get().issuer()))) {
            cannot = t.get("federation.account.already");
        } else if (!LOCAL_TWO_FACTORS.contains(r.session().amr())) {
            cannot = t.get("federation.account.localFirst");
        }
        return new FederationViews.AccountPart(notice, p.map(Federation.Provider::displayName).orElse(""),
                rows(r, mine), cannot, r.csrf());
    }

    private Reply startLink(ConsoleRequest r) {
        Sessions.Session s = r.session();
        if (!LOCAL_TWO_FACTORS.contains(s.amr())) {
            return refused(r, new FederationRefusal(FederationRefusal.Kind.ACCOUNT, r.messages().get(
                    "federation.account.localFirst")), true);
        }
        try {
            return started(r, federation.startLink(s.accountId(), r.address()));
        } catch (FederationRefusal e) {
            return refused(r, e, true);
        }
    }

    private Reply unlinkMine(ConsoleRequest r) {
        try {
            federation.removeLink(seq(r), Optional.of(r.session().accountId()), Actor.of(r.session(), r.address()),
                    r.messages().get("federation.reason.self"));
        } catch (FederationRefusal e) {
            return refused(r, e, true);
        }
        return Console.redirect("/console/me");
    }

    // ---- administrators --------------------------------------------------------------------------------------

    gg.jte.Content tile(ConsoleRequest r) {
        if (!r.session().hasRole(Accounts.ADMIN_ROLE)) {
            return null;
        }
        Optional<Federation.Provider> p = federation.active();
        boolean down = p.isPresent() && federation.health().down();
        return Templates.content("federation/tile.jte", r.messages(), new FederationViews.Tile(ADMIN_PATH,
                r.messages().get(down ? "federation.tile.down" : "federation.title"), down));
    }

    private Reply registerProvider(ConsoleRequest r) {
        Federation.Registration in;
        try {
            in = new Federation.Registration(r.param("display_name"), r.param("discovery_url"), r.param("ca_pem"),
                    r.param("client_id"), Federation.ClientAuth.of(r.param("client_auth")), r.param("client_secret"),
                    List.of(r.param("mfa_acr")), List.of(r.param("mfa_amr")));
            federation.register(in, Actor.of(r.session(), r.address()));
        } catch (FederationRefusal e) {
            return admin(r, 400, null, e.getMessage(), form(r));
        }
        return admin(r, 200, r.messages().get("federation.admin.saved"), null, null);
    }

    private Reply disable(ConsoleRequest r) {
        try {
            federation.disable(Actor.of(r.session(), r.address()));
        } catch (FederationRefusal e) {
            return admin(r, 409, null, e.getMessage(), null);
        }
        return admin(r, 200, r.messages().get("federation.admin.disabled"), null, null);
    }

    private Reply unlink(ConsoleRequest r) {
        try {
            federation.removeLink(seq(r), Optional.empty(), Actor.of(r.session(), r.address()), r.param("reason"));
        } catch (FederationRefusal e) {
            return admin(r, 400, null, e.getMessage(), null);
        }
        return admin(r, 200, r.messages().get("federation.admin.unlinked"), null, null);
    }

    private static long seq(ConsoleRequest r) {
        try {
            return Long.parseLong(r.param("link").strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static FederationViews.Form form(ConsoleRequest r) {
        return new FederationViews.Form(r.param("display_name"), r.param("discovery_url"), r.param("ca_pem"),
                r.param("client_id"), r.param("client_auth"), r.param("mfa_acr"), r.param("mfa_amr"), false);
    }

    private Reply admin(ConsoleRequest r, int status, String notice, String error, FederationViews.Form typed) {
        return console.page(r, status, r.messages().get("federation.title"), "federation/admin.jte",
                adminView(r, notice, error, typed));
    }

    FederationViews.Admin adminView(ConsoleRequest r, String notice, String error, FederationViews.Form typed) {
        Messages t = r.messages();
        Optional<Federation.Provider> cur = federation.current();
        List<FederationViews.Setting> settings = new ArrayList<>();
        String rule = t.get("federation.rule.none");
        FederationViews.Form form = typed;
        if (cur.isPresent()) {
            Federation.Provider p = cur.get();
            rule = rule(t, p);
            settings.add(new FederationViews.Setting(t.get("federation.cfg.name"), p.displayName()));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.discovery"), p.discoveryUrl()));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.issuer"), p.issuer()));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.trust"), p.caPem().isPresent()
                    ? String.join("、", p.caSubjects()) : t.get("federation.cfg.trust.jdk")));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.client"), p.clientId()));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.auth"), t.get("federation.auth."
                    + p.clientAuth().code)));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.flow"), t.get("federation.cfg.flow.value")));
            settings.add(new FederationViews.Setting(t.get("federation.cfg.version"), t.get("federation.cfg.version.value",
                    p.version(), time(r, p.at()), p.by())));
            if (form == null) {
                form = new FederationViews.Form(p.displayName(), p.discoveryUrl(), p.caPem().orElse(""), p.clientId(),
                        p.clientAuth().code, String.join(" ", p.mfaAcr()), String.join(" ", p.mfaAmr()), true);
            }
        }
        if (form == null) {
            form = new FederationViews.Form("", "", "", "", Federation.ClientAuth.CLIENT_SECRET_BASIC.code, "", "",
                    false);
        }
        Federation.Health h = federation.health();
        String health = h.at() == null ? t.get("federation.health.unknown") : h.down()
                ? t.get("federation.health.down", time(r, h.at()), h.reason()) : t.get("federation.health.up",
                time(r, h.at()));
        List<FederationViews.VersionRow> versions = federation.versions().stream().map(p -> new FederationViews
                .VersionRow(p.version(), time(r, p.at()), p.by(), t.get(p.enabled() ? "federation.state.on"
                : "federation.state.off"), p.issuer() + " · " + p.clientId() + " · " + rule(t, p))).toList();
        return new FederationViews.Admin(notice, error, cur.isPresent(), cur.map(Federation.Provider::enabled)
                .orElse(false), cur.isPresent() && h.down(), health, rule, settings,
                cur.flatMap(Federation.Provider::publicJwk).orElse(null), federation.redirectUri(), form, versions,
                rows(r, federation.links()), r.csrf());
    }

    /** The second-factor rule in words: the evidence for AUTH-2. */
    static String rule(Messages t, Federation.Provider p) {
        if (!p.mfaRule()) {
            return t.get("federation.rule.never");
        }
        List<String> parts = new ArrayList<>();
        if (!p.mfaAcr().isEmpty()) {
            parts.add(t.get("federation.rule.acr", String.join("、", p.mfaAcr())));
        }
        if (!p.mfaAmr().isEmpty()) {
            parts.add(t.get("federation.rule.amr", String.join("、", p.mfaAmr())));
        }
        return t.get("federation.rule.some", String.join(t.get("federation.rule.or"), parts));
    }

    private List<FederationViews.LinkRow> rows(ConsoleRequest r, List<Federation.Link> links) {
        return links.stream().map(l -> new FederationViews.LinkRow(l.seq(), l.name(), l.loginId(), l.issuer(),
                l.subject(), l.by(), time(r, l.at()))).toList();
    }

    private String time(ConsoleRequest r, Instant at) {
        return dates.dateTime(at, r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA);
    }
}
