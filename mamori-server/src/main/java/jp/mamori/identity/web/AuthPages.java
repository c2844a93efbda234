package jp.mamori.identity.web;

import gg.jte.Content;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Enrolment;
import jp.mamori.identity.Factors;
import jp.mamori.identity.Identity;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.Logins;
import jp.mamori.identity.Passkeys;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static jp.mamori.web.console.Console.Access.ENROLMENT;
import static jp.mamori.web.console.Console.Access.LOCKED_OK;
import static jp.mamori.web.console.Console.Access.PUBLIC;
import static jp.mamori.web.console.Console.Access.SECOND_FACTOR;
import static jp.mamori.web.console.Console.Access.USER;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/** Pages for becoming and being logged in: first setup, login, second factor, enrolment, lock, step-up. */
public final class AuthPages {
    private final Identity id;
    private final Console console;
    private final jp.mamori.access.AccessAdmin access;

    /** @param access the access model, for the roles awaiting confirmation on the administrator's home; may be null */
    public AuthPages(Identity id, jp.mamori.access.AccessAdmin access, Console console) {
        this.id = id;
        this.access = access;
        this.console = console;
    }

    public void register() {
        console.waiting(r -> r.session().hasRole(Accounts.ADMIN_ROLE)
                ? List.of(new Console.Waiting(r.messages().get("identity.waiting.emergency"),
                        id.emergencies().uses(true).size(), "/console/admin/emergency"),
                new Console.Waiting(r.messages().get("identity.waiting.locks"),
                        id.logins().lockedAccounts(console.clock().instant()).size(), "/console/admin/locks"),
                new Console.Waiting(r.messages().get("identity.waiting.deviations"),
                        console.configDeviations().size() + id.deviations().size(), "/console/home#deviations"))
                : List.of());
        console.route("GET", "/console/home", USER, false, this::home);
        console.route("GET", "/console/setup", PUBLIC, false, r -> setupPage(r, ""));
        console.route("POST", "/console/setup", PUBLIC, false, this::setup);
        console.route("GET", "/console/login", PUBLIC, false, r -> loginPage(r, ""));
        console.routeReading("POST", "/console/login", PUBLIC, false, this::login);
        console.routeReading("POST", "/console/login/passkey", PUBLIC, false, this::passkeyLogin);
        console.route("GET", "/console/login/factor", SECOND_FACTOR, false, r -> factorPage(r, ""));
        console.routeReading("POST", "/console/login/factor", SECOND_FACTOR, false, this::factor);
        console.routeReading("POST", "/console/login/factor/passkey", SECOND_FACTOR, false, this::factorPasskey);
        console.route("GET", "/console/enrol", PUBLIC, false, r -> enrolPage(r, ""));
        console.route("POST", "/console/enrol", PUBLIC, false, this::enrol);
        console.route("GET", "/console/enrol/factor", ENROLMENT, false, r -> enrolFactorPage(r, ""));
        console.route("POST", "/console/enrol/totp", ENROLMENT, false, this::enrolTotp);
        console.route("POST", "/console/enrol/passkey", ENROLMENT, false, this::enrolPasskey);
        console.route("GET", "/console/lock", LOCKED_OK, false, r -> lockPage(r, ""));
        console.routeReading("POST", "/console/lock", LOCKED_OK, false, this::lock);
        console.routeReading("POST", "/console/unlock", LOCKED_OK, false, this::unlock);
        console.routeReading("POST", "/console/unlock/passkey", LOCKED_OK, false, this::unlockPasskey);
        console.route("GET", "/console/step-up", USER, false, r -> stepUpPage(r, ""));
        console.routeReading("POST", "/console/step-up", USER, false, this::stepUp);
        console.routeReading("POST", "/console/step-up/passkey", USER, false, this::stepUpPasskey);
        console.routeReading("POST", "/console/logout", PUBLIC, false, this::logout);
        // The page's own sign that its person is at the keyboard (console.js, at most once a minute while they type
        // or move): the gate records the session as seen, so a long note typed without a request between is not
        // refused for idleness when it is saved (issue 22). Without input the page sends nothing and locks (AUTH-9).
        console.routeReading("POST", "/console/alive", USER, false, r -> jp.mamori.web.Reply.empty(204));
    }

    private Reply home(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("identity.home.title"), "identity/home.jte", homeView(r));
    }

    AuthViews.Home homeView(ConsoleRequest r) {
        Sessions.Session s = r.session();
        boolean admin = s.hasRole(Accounts.ADMIN_ROLE);
        List<String> deviations = new ArrayList<>();
        int pending = 0;
        if (admin) {
            deviations.addAll(console.configDeviations());
            deviations.addAll(id.deviations());
            if (access != null) {
                for (jp.mamori.access.Roles.Assignment a : access.roles().awaitingConfirmation()) {
                    String who = id.accounts().find(a.accountId()).map(x -> x.loginId()).orElse(a.accountId().toString());
                    deviations.add(r.messages().get("identity.home.awaitingConfirmation", a.role(), who, a.department()));
                }
            }
            pending = id.emergencies().uses(true).size();
        }
        return new AuthViews.Home(s.displayName(), s.amr().contains("emergency"), s.amr().contains("exception"),
                console.clinical() && s.readsPatientData(), admin, deviations, pending, console.waiting(r),
                console.homeParts(r));
    }

    // ---- first administrator -------------------------------------------------------------------------------

    private Reply setupPage(ConsoleRequest r, String error) {
        boolean open = id.enrolment().setupOpen();
        return console.page(r, 200, open ? r.messages().get("identity.setup.pageTitle") : r.messages().get("identity.setup.title"),
                "identity/setup.jte", new AuthViews.Setup(error, open, r.param("login_id"), r.param("family_name"),
                        r.param("given_name"), r.param("family_kana"), r.param("given_kana"), r.csrf()));
    }

    private Reply setup(ConsoleRequest r) {
        try {
            Accounts.NewAccount who = new Accounts.NewAccount(r.param("login_id"), r.param("family_name"),
                    r.param("given_name"), r.param("family_kana"), r.param("given_kana"), null, List.of(), List.of(),
                    null, new Accounts.Proofing("employer_record", "staff_id",
                    "初期設定用シークレットの保持者（サーバー管理者）/ holder of the bootstrap secret", "bootstrap-secret",
                    console.clock().instant()));
            String cookie = id.enrolment().setupFirstAdministrator(r.param("secret"), who,
                    r.param("password").toCharArray(), r.param("password2").toCharArray(), r.address(),
                    r.header().apply("User-Agent"));
            return console.withSession(Console.redirect("/console/enrol/factor"), cookie);
        } catch (IdentityException e) {
            return Console.status(setupPage(r, e.getMessage()), 400);
        }
    }

    // ---- login --------------------------------------------------------------------------------------------

    private Reply loginPage(ConsoleRequest r, String error) {
        if (id.enrolment().setupOpen() && !id.accounts().any()) {
            return Console.redirect("/console/setup");
        }
        if (r.session() != null && r.session().stage() == Sessions.Stage.AUTHENTICATED) {
            return Console.redirect(r.session().locked() ? "/console/lock" : console.afterLogin(r));
        }
        Passkeys.Challenge ch = id.passkeys().startLogin(Optional.empty());
        return console.page(r, 200, r.messages().get("identity.login.title"), "identity/login.jte",
                new AuthViews.Login(error, r.param("login_id"), passkey(r, "/console/login/passkey", "login", ch, null),
                        r.csrf(), console.parts(Console.Place.LOGIN, r)));
    }

    private Reply login(ConsoleRequest r) {
        try {
            Logins.PasswordOutcome o = id.logins().password(r.param("login_id"), r.param("password").toCharArray(),
                    r.address(), r.header().apply("User-Agent"));
            return switch (o) {
                case Logins.PasswordOutcome.SecondFactorDue d ->
                        console.withSession(Console.redirect("/console/login/factor"), d.cookie());
                case Logins.PasswordOutcome.LoggedIn l ->
                        console.withSession(Console.redirect(console.afterLogin(r)), l.cookie());
            };
        } catch (IdentityException e) {
            return Console.status(loginPage(r, e.getMessage()), 401);
        }
    }

    private Reply passkeyLogin(ConsoleRequest r) {
        try {
            String cookie = id.logins().passkeyLogin(r.param("request"), r.param("response"), r.address(),
                    r.header().apply("User-Agent"));
            return console.withSession(Console.redirect(console.afterLogin(r)), cookie);
        } catch (IdentityException e) {
            return Console.status(loginPage(r, e.getMessage()), 401);
        }
    }

    private Reply factorPage(ConsoleRequest r, String error) {
        Sessions.Session s = r.session();
        AuthViews.Passkey passkey = id.passkeys().hasAny(s.accountId()) ? passkey(r, "/console/login/factor/passkey",
                "login", id.passkeys().startLogin(Optional.of(s.accountId())), null) : null;
        return console.page(r, 200, r.messages().get("identity.factor.title"), "identity/factor.jte",
                new AuthViews.Factor(error, passkey, id.factors().hasTotp(s.accountId()), r.csrf()));
    }

    private Reply factor(ConsoleRequest r) {
        try {
            boolean recovery = !r.param("recovery_code").isBlank();
            String cookie = id.logins().secondFactorCode(r.cookie(), r.session(),
                    recovery ? r.param("recovery_code") : r.param("code"), recovery, r.address());
            return console.withSession(Console.redirect(console.afterLogin(r)), cookie);
        } catch (IdentityException e) {
            Optional<Sessions.Session> still = id.sessions().check(r.cookie());
            if (still.isEmpty()) {
                // Ended after too many wrong codes: the login id is locked now, and the person is told until when.
                return Console.status(loginPage(withoutSession(r),
                        id.logins().lockNotice(r.session().loginId()).orElse(e.getMessage())), 401);
            }
            return Console.status(factorPage(r, e.getMessage()), 401);
        }
    }

    private Reply factorPasskey(ConsoleRequest r) {
        try {
            String cookie = id.logins().secondFactorPasskey(r.cookie(), r.session(), r.param("request"),
                    r.param("response"), r.address());
            return console.withSession(Console.redirect(console.afterLogin(r)), cookie);
        } catch (IdentityException e) {
            return Console.status(factorPage(r, e.getMessage()), 401);
        }
    }

    // ---- enrolment ----------------------------------------------------------------------------------------

    private Reply enrolPage(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("identity.enrol.title"), "identity/enrol.jte",
                new AuthViews.Enrol(error, r.param("code"), r.csrf()));
    }

    private Reply enrol(ConsoleRequest r) {
        try {
            String cookie = id.enrolment().redeem(r.param("code"), r.param("password").toCharArray(),
                    r.param("password2").toCharArray(), r.address(), r.header().apply("User-Agent"));
            return console.withSession(Console.redirect("/console/enrol/factor"), cookie);
        } catch (IdentityException e) {
            return Console.status(enrolPage(r, e.getMessage()), 400);
        }
    }

    private Reply enrolFactorPage(ConsoleRequest r, String error) {
        return enrolFactorPage(r, error, "");
    }

    /** @param totpError why the app's code was refused (shown beside it), or "" */
    private Reply enrolFactorPage(ConsoleRequest r, String error, String totpError) {
        Sessions.Session s = r.session();
        // A mistyped code shows the same secret again (no second scan); a new session gets a new one.
        Factors.TotpSetup totp = id.factors().beginTotp(s.accountId(), s.loginId(), s.createdAt());
        Passkeys.Challenge ch = id.passkeys().startRegistration(s.accountId(), s.loginId(), s.displayName());
        // The QR code is an SVG the server draws from the secret (Qr.svg), written as it is.
        Content qr = out -> out.writeContent(totp.qrSvg());
        return console.page(r, 200, r.messages().get("identity.enrolFactor.title"), "identity/enrolFactor.jte",
                new AuthViews.EnrolFactor(error, passkey(r, "/console/enrol/passkey", "register", ch, null), qr,
                        totp.secretBase32(), totpError, r.csrf()));
    }

    private Reply enrolTotp(ConsoleRequest r) {
        if (!id.factors().confirmTotp(r.session().accountId(), r.param("code"), r.session().principal())) {
            return Console.status(enrolFactorPage(r, "", Logins.WRONG_CODE + "\n"
                    + r.messages().get("identity.enrolFactor.sameKey")), 400);
        }
        return finished(r, "pwd+otp");
    }

    private Reply enrolPasskey(ConsoleRequest r) {
        try {
            id.passkeys().finishRegistration(r.session().accountId(), r.param("request"), r.param("response"),
                    nickname(r));
        } catch (IdentityException e) {
            return Console.status(enrolFactorPage(r, e.getMessage()), 400);
        }
        id.accounts().note(r.session().accountId(), r.session().principal(), "factor.passkey_registered", java.util.Map.of());
        return finished(r, "pwd+hwk");
    }

    static String nickname(ConsoleRequest r) {
        String ua = r.header().apply("User-Agent");
        String n = r.param("nickname");
        if (!n.isBlank()) {
            return n.strip().substring(0, Math.min(60, n.strip().length()));
        }
        return "パスキー " + LocalDate.now(Html.JST) + (ua != null && ua.contains("Chrome") ? " (Chrome)" : "");
    }

    private Reply finished(ConsoleRequest r, String amr) {
        Enrolment.Finished f = id.enrolment().finish(r.cookie(), r.session(), amr, r.address());
        return console.withSession(recoveryCodesPage(r, f.recoveryCodes(), r.messages().get("identity.enrolled.title")),
                f.cookie());
    }

    Reply recoveryCodesPage(ConsoleRequest r, List<String> codes, String title) {
        return console.page(r, 200, title, "identity/recoveryCodes.jte", new AuthViews.RecoveryCodes(List.copyOf(codes)));
    }

    // ---- lock, step-up, logout ----------------------------------------------------------------------------

    private Reply lockPage(ConsoleRequest r, String error) {
        Sessions.Session s = r.session();
        if (!s.locked()) {
            return Console.redirect("/console/home");
        }
        return console.page(r, 200, r.messages().get("identity.lock.title"), "identity/lock.jte",
                new AuthViews.Lock(error, s.displayName(), reauth(r, "/console/unlock", true, null, null), r.csrf()));
    }

    private Reply lock(ConsoleRequest r) {
        console.rememberWhereLocked(r);
        id.sessions().lock(r.cookie());
        id.logins().event(r.session().accountId(), r.session().loginId(), r.address(), "session.locked", true,
                r.param("why").equals("idle") ? "idle in the browser" : "locked by the person");
        return Console.redirect("/console/lock");
    }

    private Reply unlock(ConsoleRequest r) {
        try {
            boolean recovery = !r.param("recovery_code").isBlank();
            id.logins().reauthenticate(r.cookie(), r.session(), Optional.of(r.param("password").toCharArray()),
                    recovery ? r.param("recovery_code") : r.param("code"), recovery, r.address(), "session.unlock");
            return Console.redirect(console.whereLocked(r));
        } catch (IdentityException e) {
            return afterFailure(r, e, () -> Console.status(lockPage(r, e.getMessage()), 401));
        }
    }

    private Reply unlockPasskey(ConsoleRequest r) {
        try {
            id.logins().reauthenticatePasskey(r.cookie(), r.session(), r.param("request"), r.param("response"),
                    r.address(), "session.unlock");
            return Console.redirect(console.whereLocked(r));
        } catch (IdentityException e) {
            return afterFailure(r, e, () -> Console.status(lockPage(r, e.getMessage()), 401));
        }
    }

    /**
     * The step-up page. With {@code resume}, the ticket of a form the gate holds (a break-glass, a care relationship
     * ...), it says that what was sent is kept and continues after the confirmation; "取りやめる" goes back.
     */
    private Reply stepUpPage(ConsoleRequest r, String error) {
        String next = Console.safeNext(r.param("next"));
        String resume = r.param("resume");
        boolean holds = !resume.isEmpty() && console.holdsForm(r, resume);
        return console.page(r, 200, r.messages().get("identity.stepUp.title"), "identity/stepUp.jte",
                new AuthViews.StepUp(error, reauth(r, "/console/step-up", false, next, holds ? resume : null), holds,
                        next));
    }

    private Reply stepUp(ConsoleRequest r) throws Exception {
        try {
            boolean recovery = !r.param("recovery_code").isBlank();
            boolean passwordOnly = r.session().withoutSecondFactor();
            id.logins().reauthenticate(r.cookie(), r.session(), passwordOnly
                            ? Optional.of(r.param("password").toCharArray()) : Optional.empty(),
                    recovery ? r.param("recovery_code") : r.param("code"), recovery, r.address(), "step_up");
        } catch (IdentityException e) {
            return Console.status(stepUpPage(r, e.getMessage()), 401);
        }
        return afterStepUp(r);
    }

    private Reply stepUpPasskey(ConsoleRequest r) throws Exception {
        try {
            id.logins().reauthenticatePasskey(r.cookie(), r.session(), r.param("request"), r.param("response"),
                    r.address(), "step_up");
        } catch (IdentityException e) {
            return Console.status(stepUpPage(r, e.getMessage()), 401);
        }
        return afterStepUp(r);
    }

    /** The held form continues through the gate (its own errors are its page's); without one, back to the page. */
    private Reply afterStepUp(ConsoleRequest r) throws Exception {
        return console.resume(r, r.param("resume")).orElseGet(() -> Console.redirect(Console.safeNext(r.param("next"))));
    }

    private Reply logout(ConsoleRequest r) {
        if (r.session() != null) {
            console.dropHeldForm(r);
            id.sessions().end(r.cookie(), "logout");
            id.logins().event(r.session().accountId(), r.session().loginId(), r.address(), "logout", true, null);
        }
        return console.clearSession(Console.redirect("/console/login"));
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    private Reply afterFailure(ConsoleRequest r, IdentityException e, java.util.function.Supplier<Reply> page) {
        if (id.sessions().check(r.cookie()).isEmpty()) {
            return console.clearSession(Console.status(loginPage(withoutSession(r), e.getMessage()), 401));
        }
        return page.get();
    }

    private static ConsoleRequest withoutSession(ConsoleRequest r) {
        return new ConsoleRequest(r.method(), r.path(), r.query(), r.form(), r.header(), r.address(), r.lang(), null,
                null, r.csrf());
    }

    /**
     * The forms that re-authenticate a session: passkey, or (password and) code.
     *
     * @param lock whether the code form asks for the password too (the lock screen)
     * @param next   where to go afterwards (step-up), or null
     * @param resume the ticket of the form that continues afterwards (step-up), or null
     */
    private AuthViews.Reauth reauth(ConsoleRequest r, String action, boolean lock, String next, String resume) {
        Sessions.Session s = r.session();
        boolean passwordOnly = s.withoutSecondFactor();
        AuthViews.Passkey passkey = !passwordOnly && id.passkeys().hasAny(s.accountId()) ? passkey(r, action + "/passkey",
                "login", id.passkeys().startLogin(Optional.of(s.accountId())), next, resume) : null;
        return new AuthViews.Reauth(action, passwordOnly, passkey, lock, !passwordOnly && id.factors().hasTotp(s.accountId()),
                next, resume, r.csrf());
    }

    /** A form that runs a WebAuthn ceremony in the browser (passkeys.js) and posts its result. */
    static AuthViews.Passkey passkey(ConsoleRequest r, String action, String kind, Passkeys.Challenge ch, String next) {
        return passkey(r, action, kind, ch, next, null);
    }

    static AuthViews.Passkey passkey(ConsoleRequest r, String action, String kind, Passkeys.Challenge ch, String next,
                                     String resume) {
        return new AuthViews.Passkey(action, kind, ch.publicKeyJson(), ch.requestId(), next, resume, r.csrf());
    }
}
