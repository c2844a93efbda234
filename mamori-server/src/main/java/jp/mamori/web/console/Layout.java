package jp.mamori.web.console;

import gg.jte.Content;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Sessions;
import jp.mamori.maintenance.MaintenanceGate;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The page shell every console page shares: header, navigation, language switch, idle lock
 * (template {@code layout/page.jte}).
 */
public final class Layout {
    private Layout() {
    }

    /**
     * The shell's view model.
     *
     * @param lang        the page's language, {@code ja} or {@code en}
     * @param who         the signed-in person, or null on the pages before login and on the lock screen
     * @param otherLang   the language the switch goes to
     * @param next        the page the language switch returns to, URL-encoded
     * @param banner      shown above the page (break-glass), possibly empty
     * @param degradedSince while in degraded read-only mode, since when (JST), for the banner on every page; else null
     */
    public record View(String lang, String title, SignedIn who, String otherLang, String next, Content banner,
                       Content body, String degradedSince) {
        /** A page in normal mode (no degraded banner). */
        public View(String lang, String title, SignedIn who, String otherLang, String next, Content banner,
                    Content body) {
            this(lang, title, who, otherLang, next, banner, body, null);
        }
    }

    /**
     * The refusal of a write in degraded read-only mode (template {@code layout/read-only.jte}).
     *
     * @param since    since when the console is read-only, in the page's language (JST)
     * @param typed    the free text the person had typed into the refused form, to copy onto paper
     * @param signedIn whether the person is signed in and unlocked
     */
    public record ReadOnlyView(String since, java.util.List<String> typed, boolean signedIn) {
    }

    /**
     * The person of an authenticated, unlocked session, as the header shows them.
     *
     * @param idleSeconds after how long without input the page locks itself
     * @param patients    whether the clinician pages are linked
     * @param admin       whether the administrator's pages are linked
     * @param emergency   whether the person signed in with an emergency account
     * @param audit       whether the audit console is linked (those its routes let in, and only them)
     * @param breakGlass  whether break-glass is linked: never for a vendor's maintenance account, which has no reach
     */
    public record SignedIn(long idleSeconds, boolean patients, boolean admin, String displayName, String loginId,
                           boolean emergency, String csrf, boolean audit, boolean breakGlass) {
    }

    /**
     * An error page's body (template {@code layout/error.jte}): what happened, what to do, and a way on: home for a
     * signed-in person (whose navigation the page keeps), the login page for anyone else.
     *
     * @param message  what happened, in the page's language
     * @param hint     where to go or what to do, or null
     * @param signedIn whether the person is signed in and unlocked
     */
    public record ErrorView(String message, String hint, boolean signedIn) {
    }

    /** @param banner HTML shown above the page on every page while it applies (break-glass), or "" */
    static String render(ConsoleRequest.Lang lang, String title, ConsoleRequest r, String banner, String body,
                         long idleSeconds, java.util.function.Predicate<Sessions.Session> auditor, String degradedSince,
                         boolean keepQuery) {
        return Templates.page("layout/page.jte", Messages.of(lang),
                view(lang, title, r, Templates.trusted(banner), Templates.trusted(body), idleSeconds, auditor,
                        degradedSince, keepQuery));
    }

    /**
     * @param auditor   whether a session may open the audit console (the audit pages' own rule)
     * @param keepQuery whether the language switch returns with the request's query (a page shown; never on a refusal
     *                  or an error, which then repeats nothing the request carried)
     */
    static View view(ConsoleRequest.Lang lang, String title, ConsoleRequest r, Content banner, Content body,
                     long idleSeconds, java.util.function.Predicate<Sessions.Session> auditor, String degradedSince,
                     boolean keepQuery) {
        Sessions.Session s = r == null ? null : r.session();
        boolean in = s != null && s.stage() == Sessions.Stage.AUTHENTICATED && !s.locked();
        SignedIn who = in ? new SignedIn(idleSeconds, s.readsPatientData(), s.hasRole(Accounts.ADMIN_ROLE),
                s.displayName(), s.loginId(), s.amr().contains("emergency"), r.csrf(), auditor.test(s),
                !MaintenanceGate.applies(s) && !jp.mamori.access.PartnerShares.applies(s)) : null;
        // the language switch returns to this very page, its query included (an item page needs its ids); a page
        // answering a POST, a refusal or an error returns to its path only
        String here = r == null ? "/console/home" : Console.safeNext(r.path()
                + (keepQuery && "GET".equals(r.method()) ? Console.query(r) : ""));
        return new View(lang == ConsoleRequest.Lang.JA ? "ja" : "en", title, who,
                lang == ConsoleRequest.Lang.JA ? "en" : "ja", URLEncoder.encode(here, StandardCharsets.UTF_8), banner,
                body, degradedSince);
    }
}
