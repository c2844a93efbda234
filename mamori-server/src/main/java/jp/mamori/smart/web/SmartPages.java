package jp.mamori.smart.web;

import jp.mamori.access.Caller;
import jp.mamori.access.PersonContexts;
import jp.mamori.audit.Actor;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.Purpose;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Scope;
import jp.mamori.identity.Sessions;
import jp.mamori.kernel.FhirError;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.records.RecordService;
import jp.mamori.smart.Smart;
import jp.mamori.smart.SmartRefusal;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.net.URI;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * The console's SMART on FHIR pages (issue 21): the consent page an app's authorization request leads to
 * ({@code /console/smart/authorize}), the administrators' app registration ({@code /console/admin/smart-apps}, changes
 * with a fresh second factor) and the EHR launch from a patient's chart ({@code /console/smart/launch}). Who may open
 * them is the route's access rule, decided by the console's gate; what a person may grant is decided by {@link Smart}.
 */
public final class SmartPages {
    static final String APPS = "/console/admin/smart-apps";
    static final String APP = "/console/admin/smart-app";
    static final String AUTHORIZE = "/console/smart/authorize";
    static final String LAUNCH = "/console/smart/launch";
    /** The person withdraws an app they allowed (from their own account page, one of identity's own pages). */
    static final String MY_REVOKE = "/console/me/apps/revoke";
    /** The prefix of the consent form's fields that carry the app's request back. */
    static final String Q = "q_";

    private final Smart smart;
    private final Console console;
    private final RecordService records;
    private final PersonContexts contexts;
    private final PatientDirectory patients;
    private final Supplier<String> fhirBase;
    private final JpDates dates;

    public SmartPages(Smart smart, Console console, RecordService records, PersonContexts contexts,
                      PatientDirectory patients, Supplier<String> fhirBase, ZoneId zone) {
        this.smart = smart;
        this.console = console;
        this.records = records;
        this.contexts = contexts;
        this.patients = patients;
        this.fhirBase = fhirBase;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", AUTHORIZE, USER, false, this::consentPage);
        console.route("POST", AUTHORIZE, USER, false, this::decide);
        console.route("GET", LAUNCH, USER, false, this::launchPage);
        console.route("POST", LAUNCH, USER, false, this::launch);
        console.route("GET", APPS, ADMIN, false, r -> apps(r, 200, null, null, null, null, null));
        console.route("POST", APPS, ADMIN, true, this::create);
        console.route("GET", APP, ADMIN, false, r -> edit(r, 200, null, null, null, null));
        console.route("POST", APP, ADMIN, true, this::change);
        console.homePart(this::tile);
        console.part(Console.Place.ACCOUNT, this::accountPart);
        // like ending one's own session, withdrawing one's own consent takes access away: no step-up
        console.route("POST", MY_REVOKE, USER, false, this::revokeMine);
    }

    // ---- the person's own apps (on their account page) ----------------------------------------------------------

    gg.jte.Content accountPart(ConsoleRequest r) {
        Messages t = r.messages();
        JpDates.Lang lang = r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        List<SmartViews.MyApp> rows = new ArrayList<>();
        for (Smart.AllowedApp a : smart.allowedBy(r.session().accountId())) {
            List<String> words = new ArrayList<>();
            for (Scope sc : a.resources()) {
                words.add(words(t, sc));
            }
            for (String o : a.others()) {
                if (!o.equals("launch") && t.has("smart.scope." + o.replace('/', '_'))) {
                    words.add(t.get("smart.scope." + o.replace('/', '_')));
                }
            }
            rows.add(new SmartViews.MyApp(a.clientId(), a.name(), words, dates.dateTime(a.allowedAt(), lang),
                    a.lastUsedAt() == null ? t.get("smart.mine.neverUsed") : dates.dateTime(a.lastUsedAt(), lang)));
        }
        String notice = switch (r.param("apps")) {
            case "revoked" -> t.get("smart.mine.revoked");
            case "none" -> t.get("smart.mine.nothingToRevoke");
            default -> null;
        };
        return jp.mamori.web.console.Templates.content("smart/mine.jte", t, new SmartViews.MyApps(notice, rows,
                r.csrf()));
    }

    private Reply revokeMine(ConsoleRequest r) {
        Sessions.Session s = r.session();
        int n = smart.revokeFor(s.accountId(), r.param("app"), Actor.of(s, r.address()));
        return Console.redirect("/console/me?apps=" + (n > 0 ? "revoked" : "none") + "#my-apps");
    }

    /** The administrators' tile on the home page. */
    gg.jte.Content tile(ConsoleRequest r) {
        if (!r.session().hasRole(jp.mamori.identity.Accounts.ADMIN_ROLE)) {
            return null;
        }
        return jp.mamori.web.console.Templates.content("smart/tile.jte", r.messages(), APPS);
    }

    // ---- consent --------------------------------------------------------------------------------------------

    private Reply consentPage(ConsoleRequest r) {
        Reply page = consent(r, r.query(), null, 200);
        return page.header("Set-Cookie", console.forgetReturn());
    }

    private Reply consent(ConsoleRequest r, Map<String, List<String>> query, String error, int status) {
        Messages t = r.messages();
        Sessions.Session s = r.session();
        if (MaintenanceGate.applies(s)) {
            return console.error(r, 403, "smart.refused.title", "smart.refused.vendor");
        }
        Smart.Authorization a;
        try {
            a = smart.authorize(query, fhirBase.get(), s.accountId());
        } catch (SmartRefusal.Redirected e) {
            return Console.redirect(e.location());
        } catch (SmartRefusal e) {
            return console.page(r, 400, t.get("smart.refused.title"), "smart/refused.jte", e.getMessage());
        }
        List<SmartViews.ScopeRow> rows = new ArrayList<>();
        for (Scope sc : a.resources()) {
            rows.add(new SmartViews.ScopeRow(sc.text(), words(t, sc), writes(sc), sc.text()));
        }
        for (String o : a.others()) {
            if (!o.equals("launch")) {
                rows.add(new SmartViews.ScopeRow(o, t.get("smart.scope." + o.replace('/', '_')), false, o));
            }
        }
        List<SmartViews.Hidden> hidden = new ArrayList<>();
        a.params().forEach((k, v) -> hidden.add(new SmartViews.Hidden(Q + k, v)));
        String patient = a.launchPatient() == null ? null : patientWords(a.launchPatient());
        Reply page = console.page(r, status, t.get("smart.consent.title"), "smart/consent.jte", new SmartViews.Consent(
                a.app().name(), t.get(a.app().confidential() ? "smart.kind.confidential" : "smart.kind.public"),
                s.displayName(), rows, hidden, patient, a.asksForPatient(), r.param("patient_ident"), error, r.csrf()));
        // the form answers with a redirect to the app: browsers check it against form-action
        return page.header("Content-Security-Policy", Console.cspAllowingFormsTo(origin(a.redirectUri())));
    }

    private Reply decide(ConsoleRequest r) {
        Sessions.Session s = r.session();
        if (MaintenanceGate.applies(s)) {
            return console.error(r, 403, "smart.refused.title", "smart.refused.vendor");
        }
        Map<String, List<String>> query = new LinkedHashMap<>();
        r.form().forEach((k, v) -> {
            if (k.startsWith(Q)) {
                query.put(k.substring(Q.length()), v);
            }
        });
        Smart.Authorization a;
        try {
            a = smart.authorize(query, fhirBase.get(), s.accountId());
        } catch (SmartRefusal.Redirected e) {
            return Console.redirect(e.location());
        } catch (SmartRefusal e) {
            return console.page(r, 400, r.messages().get("smart.refused.title"), "smart/refused.jte", e.getMessage());
        }
        Actor by = Actor.of(s, r.address());
        if (!"allow".equals(r.param("decision"))) {
            return Console.redirect(smart.deny(a, by));
        }
        String patient = null;
        if (a.asksForPatient() && !r.param("patient_ident").isBlank()) {
            Optional<String> chosen = choosePatient(r, r.param("patient_ident").strip());
            if (chosen.isEmpty()) {
                return consent(r, query, r.messages().get("smart.consent.patient.notFound"), 400);
            }
            patient = chosen.get();
        }
        try {
            return Console.redirect(smart.approve(a, new LinkedHashSet<>(r.params("scope")), patient, s.accountId(),
                    s.displayName(), by));
        } catch (SmartRefusal.Redirected e) { // the launch was used meanwhile (another tab)
            return Console.redirect(e.location());
        }
    }

    /** The patient with this 患者ID, if there is exactly one and the person may read it (their own access rules). */
    private Optional<String> choosePatient(ConsoleRequest r, String ident) {
        if (ident.length() > 64) {
            return Optional.empty();
        }
        PatientDirectory.Found found;
        try {
            found = patients.find(new PatientDirectory.Criteria(ident, "", ""), r.session(), r.address(),
                    Purpose.TREATMENT, "smart-consent");
        } catch (PatientDirectory.BadCriteria e) {
            return Optional.empty();
        }
        List<String> exact = found.patients().stream().filter(d -> ident.equals(d.patientId()))
                .map(PatientDirectory.Demographics::id).toList();
        if (exact.size() != 1 || !mayRead(r, exact.get(0))) {
            return Optional.empty();
        }
        return Optional.of(exact.get(0));
    }

    private boolean mayRead(ConsoleRequest r, String patientId) {
        Sessions.Session s = r.session();
        Caller me = Caller.person(contexts.get(s.accountId(), s.accessVersion()), s.displayName(), r.address());
        try {
            records.read(me, "Patient", patientId);
            return true;
        } catch (FhirError e) {
            return false;
        }
    }

    private String patientWords(String id) {
        PatientDirectory.Demographics d = patients.byIds(List.of(id)).get(id);
        return d == null ? id : d.name() + "（患者ID " + d.patientId() + "）";
    }

    private static boolean writes(Scope s) {
        return s.permissions().contains(Scope.Permission.CREATE) || s.permissions().contains(Scope.Permission.UPDATE)
                || s.permissions().contains(Scope.Permission.DELETE);
    }

    /** A scope in words: "検査・観察結果：参照・検索（あなたが見られる範囲）". */
    static String words(Messages t, Scope s) {
        String type = s.resourceType().equals("*") ? t.get("smart.type.all") : t.has("smart.type." + s.resourceType())
                ? t.get("smart.type." + s.resourceType()) : s.resourceType();
        List<String> acts = new ArrayList<>();
        for (Scope.Permission p : Scope.Permission.values()) {
            if (s.permissions().contains(p)) {
                acts.add(t.get("smart.permission." + p.name().toLowerCase(java.util.Locale.ROOT)));
            }
        }
        return t.get(s.context() == Scope.Context.PATIENT ? "smart.scope.patient" : "smart.scope.user", type,
                String.join(t.get("smart.separator"), acts));
    }

    private static String origin(String uri) {
        URI u = URI.create(uri);
        return u.getScheme() + "://" + u.getRawAuthority();
    }

    // ---- EHR launch -----------------------------------------------------------------------------------------

    private Reply launchPage(ConsoleRequest r) {
        return launchView(r, 200, null);
    }

    private Reply launchView(ConsoleRequest r, int status, String error) {
        Messages t = r.messages();
        String id = r.param("patient");
        if (!id.matches("[A-Za-z0-9.-]{1,64}") || !mayRead(r, id)) {
            return console.error(r, 403, "smart.refused.title", "smart.launch.notPermitted");
        }
        PatientDirectory.Demographics d = patients.byIds(List.of(id)).get(id);
        List<Smart.App> launchable = smart.apps().stream().filter(a -> a.enabled() && a.launchUrl() != null).toList();
        List<SmartViews.LaunchApp> apps = launchable.stream().map(a -> new SmartViews.LaunchApp(a.clientId(),
                a.name())).toList();
        Reply page = console.page(r, status, t.get("smart.launch.title"), "smart/launch.jte", new SmartViews.Launch(
                d == null ? "" : d.name(), d == null ? "" : d.patientId(), id, apps, error, r.csrf()));
        // each form answers with a redirect to its app's launch URL: browsers check it against form-action
        String origins = String.join(" ", new LinkedHashSet<>(launchable.stream().map(a -> origin(a.launchUrl()))
                .toList()));
        return origins.isEmpty() ? page : page.header("Content-Security-Policy", Console.cspAllowingFormsTo(origins));
    }

    private Reply launch(ConsoleRequest r) {
        Sessions.Session s = r.session();
        String id = r.param("patient");
        if (MaintenanceGate.applies(s) || !id.matches("[A-Za-z0-9.-]{1,64}") || !mayRead(r, id)) {
            return console.error(r, 403, "smart.refused.title", "smart.launch.notPermitted");
        }
        try {
            return Console.redirect(smart.launch(r.param("app"), s.accountId(), id, fhirBase.get(),
                    Actor.of(s, r.address())));
        } catch (SmartRefusal e) {
            return launchView(r, 400, e.getMessage());
        }
    }

    // ---- app registration -----------------------------------------------------------------------------------

    private Reply apps(ConsoleRequest r, int status, String notice, String error, String secret, String secretFor,
                       SmartViews.AppForm form) {
        Messages t = r.messages();
        List<SmartViews.AppRow> rows = smart.apps().stream().map(a -> new SmartViews.AppRow(a.name(), a.clientId(),
                t.get(kindKey(a)),
                List.of(a.maxScopes().split(" ")), a.redirectUris(), a.launchUrl(), a.enabled(),
                dates.dateTime(a.changedAt(), r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA),
                APP + "?id=" + a.clientId())).toList();
        return console.page(r, status, t.get("smart.apps.title"), "smart/apps.jte", new SmartViews.Apps(notice, error,
                rows, secret, secretFor, form == null ? new SmartViews.AppForm("", false, "", "",
                "user/*.rs launch launch/patient offline_access", true, false, "") : form, r.csrf()));
    }

    private static String kindKey(Smart.App a) {
        return a.usesKeys() ? "smart.kind.keys" : a.confidential() ? "smart.kind.confidential" : "smart.kind.public";
    }

    private SmartViews.AppForm form(ConsoleRequest r) {
        boolean keys = "confidential_keys".equals(r.param("kind"));
        return new SmartViews.AppForm(r.param("name"), keys || "confidential".equals(r.param("kind")),
                r.param("redirects"), r.param("launch_url"), r.param("scopes"), "1".equals(r.param("enabled")), keys,
                r.param("jwks"));
    }

    private Smart.AppSpec spec(SmartViews.AppForm f) {
        if (f.keys() && f.jwks().isBlank()) {
            throw new SmartRefusal.Invalid("公開鍵で認証するアプリには公開鍵（JWK Set）を入力してください / Enter the JWK set"
                    + " of an app that authenticates with its keys");
        }
        return new Smart.AppSpec(f.name(), f.confidential(), f.redirects(), f.launchUrl(), f.scopes(), f.enabled(),
                f.keys() ? f.jwks() : null);
    }

    private Reply create(ConsoleRequest r) {
        SmartViews.AppForm f = form(r);
        try {
            Smart.Registered done = smart.register(spec(f), Actor.of(r.session(), r.address()));
            return apps(r, 200, r.messages().get("smart.apps.registered", done.app().name(), done.app().clientId()),
                    null, done.secret(), done.app().name(), null);
        } catch (SmartRefusal e) {
            return apps(r, 400, null, e.getMessage(), null, null, f);
        }
    }

    private Reply edit(ConsoleRequest r, int status, String notice, String error, String secret,
                       SmartViews.AppForm entered) {
        Optional<Smart.App> app = smart.app(r.param("id"));
        if (app.isEmpty()) {
            return console.error(r, 404, "smart.refused.title", "smart.apps.unknown");
        }
        Smart.App a = app.get();
        SmartViews.AppForm f = entered != null ? entered : new SmartViews.AppForm(a.name(), a.confidential(),
                String.join("\n", a.redirectUris()), a.launchUrl() == null ? "" : a.launchUrl(), a.maxScopes(),
                a.enabled(), a.usesKeys(), a.usesKeys() ? a.jwks() : "");
        Messages t = r.messages();
        return console.page(r, status, t.get("smart.app.title", a.name()), "smart/app.jte", new SmartViews.Edit(
                notice, error, a.clientId(), t.get(kindKey(a)), a.confidential() && !a.usesKeys(), f, secret,
                r.csrf()));
    }

    private Reply change(ConsoleRequest r) {
        Optional<Smart.App> app = smart.app(r.param("id"));
        if (app.isEmpty()) {
            return console.error(r, 404, "smart.refused.title", "smart.apps.unknown");
        }
        SmartViews.AppForm f = form(r);
        f = new SmartViews.AppForm(f.name(), app.get().confidential(), f.redirects(), f.launchUrl(), f.scopes(),
                f.enabled(), app.get().usesKeys(), f.jwks());
        try {
            Smart.Registered done = smart.update(app.get().clientId(), spec(f), "1".equals(r.param("new_secret")),
                    Actor.of(r.session(), r.address()));
            return edit(r, 200, r.messages().get("smart.app.saved", done.app().version()), null, done.secret(), null);
        } catch (SmartRefusal e) {
            return edit(r, 400, null, e.getMessage(), null, f);
        }
    }
}
