package jp.mamori.identity.web;

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
import java.util.List;
import java.util.Optional;

import static jp.mamori.web.console.Console.Access.ENROLMENT;
import static jp.mamori.web.console.Console.Access.LOCKED_OK;
import static jp.mamori.web.console.Console.Access.PUBLIC;
import static jp.mamori.web.console.Console.Access.SECOND_FACTOR;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.csrf;
import static jp.mamori.web.console.Html.esc;
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
        console.route("GET", "/console/home", USER, false, this::home);
        console.route("GET", "/console/setup", PUBLIC, false, r -> setupPage(r, ""));
        console.route("POST", "/console/setup", PUBLIC, false, this::setup);
        console.route("GET", "/console/login", PUBLIC, false, r -> loginPage(r, ""));
        console.route("POST", "/console/login", PUBLIC, false, this::login);
        console.route("POST", "/console/login/passkey", PUBLIC, false, this::passkeyLogin);
        console.route("GET", "/console/login/factor", SECOND_FACTOR, false, r -> factorPage(r, ""));
        console.route("POST", "/console/login/factor", SECOND_FACTOR, false, this::factor);
        console.route("POST", "/console/login/factor/passkey", SECOND_FACTOR, false, this::factorPasskey);
        console.route("GET", "/console/enrol", PUBLIC, false, r -> enrolPage(r, ""));
        console.route("POST", "/console/enrol", PUBLIC, false, this::enrol);
        console.route("GET", "/console/enrol/factor", ENROLMENT, false, r -> enrolFactorPage(r, ""));
        console.route("POST", "/console/enrol/totp", ENROLMENT, false, this::enrolTotp);
        console.route("POST", "/console/enrol/passkey", ENROLMENT, false, this::enrolPasskey);
        console.route("GET", "/console/lock", LOCKED_OK, false, r -> lockPage(r, ""));
        console.route("POST", "/console/lock", LOCKED_OK, false, this::lock);
        console.route("POST", "/console/unlock", LOCKED_OK, false, this::unlock);
        console.route("POST", "/console/unlock/passkey", LOCKED_OK, false, this::unlockPasskey);
        console.route("GET", "/console/step-up", USER, false, r -> stepUpPage(r, ""));
        console.route("POST", "/console/step-up", USER, false, this::stepUp);
        console.route("POST", "/console/step-up/passkey", USER, false, this::stepUpPasskey);
        console.route("POST", "/console/logout", PUBLIC, false, this::logout);
    }

    private Reply home(ConsoleRequest r) {
        Sessions.Session s = r.session();
        StringBuilder b = new StringBuilder();
        b.append("<p>").append(esc(s.displayName())).append(r.t(" さん、ようこそ。", ", welcome.")).append("</p>");
        if (s.amr().contains("emergency")) {
            b.append(Html.message("error", "非常時用アカウントでログインしています。この利用は記録され、復旧後に確認されます"
                    + " / You are using an emergency account; this use is recorded and will be reviewed after recovery"));
        }
        if (s.amr().contains("exception")) {
            b.append(Html.message("info", "この端末は二要素認証の例外として登録されています / This terminal is registered as an"
                    + " exception to two-factor authentication"));
        }
        b.append("<ul class=\"tiles\">");
        if (console.clinical() && s.readsPatientData()) {
            b.append("<li><a href=\"/console/patients\" id=\"patients-link\">").append(r.t("患者検索・カルテ",
                    "Patients and charts")).append("</a></li>");
        }
        b.append("<li><a href=\"/console/me\">").append(r.t("マイアカウント（認証手段・セッション・パスワード）",
                "My account (factors, sessions, password)")).append("</a></li>");
        if (s.hasRole(Accounts.ADMIN_ROLE)) {
            b.append("<li><a href=\"/console/admin/accounts\">").append(r.t("アカウント管理（台帳）", "Account ledger"))
                    .append("</a></li><li><a href=\"/console/admin/unused\">").append(r.t("未使用アカウント", "Unused accounts"))
                    .append("</a></li><li><a href=\"/console/admin/sessions\">").append(r.t("ログイン中のセッション", "Open sessions"))
                    .append("</a></li><li><a href=\"/console/admin/emergency\">").append(r.t("非常時アカウント", "Emergency access"))
                    .append("</a></li><li><a href=\"/console/admin/mfa-exceptions\">").append(r.t("二要素認証の例外端末",
                            "Two-factor exceptions")).append("</a></li>");
        }
        b.append("</ul>");
        if (s.hasRole(Accounts.ADMIN_ROLE)) {
            java.util.List<String> deviations = new java.util.ArrayList<>(console.configDeviations());
            deviations.addAll(id.deviations());
            if (access != null) {
                for (jp.mamori.access.Roles.Assignment a : access.roles().awaitingConfirmation()) {
                    String who = id.accounts().find(a.accountId()).map(x -> x.loginId()).orElse(a.accountId().toString());
                    deviations.add("唯一の管理者による承認（三人目の管理者の確認待ち） / Approved by the sole administrator,"
                            + " awaiting a third administrator's confirmation: " + a.role() + " → " + who + " ("
                            + a.department() + ")");
                }
            }
            b.append("<section class=\"card\" id=\"deviations\"><h2>").append(r.t("安全な既定値からの逸脱", "Deviations from the secure defaults"))
                    .append("</h2>");
            if (deviations.isEmpty()) {
                b.append("<p>").append(r.t("ありません。すべて既定の安全な設定で動作しています。", "None: every setting is the secure default."))
                        .append("</p>");
            } else {
                b.append("<ul>");
                for (String d : deviations) {
                    b.append("<li>").append(esc(d)).append("</li>");
                }
                b.append("</ul>");
            }
            int pending = id.emergencies().uses(true).size();
            if (pending > 0) {
                b.append(Html.message("error", "未確認の非常時用アカウント利用が " + pending + " 件あります / " + pending
                        + " emergency account use(s) await review"));
            }
            b.append("</section>");
        }
        return console.page(r, r.t("ホーム", "Home"), b.toString());
    }

    // ---- first administrator -------------------------------------------------------------------------------

    private Reply setupPage(ConsoleRequest r, String error) {
        if (!id.enrolment().setupOpen()) {
            return console.page(r, r.t("初期設定", "First setup"), Html.message("error", error) + Html.message("info",
                    "初期設定は完了しています。ログインしてください / Setup is complete; log in")
                    + "<p><a class=\"button\" href=\"/console/login\">" + r.t("ログインへ", "Log in") + "</a></p>");
        }
        String b = Html.message("error", error)
                + "<p>" + r.t("最初の管理者を登録します。サーバー起動時に表示されたファイルにある初期設定用シークレットを入力してください。",
                "Register the first administrator. Enter the bootstrap secret from the file the server named when it started.")
                + "</p><form method=\"post\" action=\"/console/setup\" class=\"stack\">" + csrf(r)
                + field(r, "secret", "初期設定用シークレット", "Bootstrap secret", "password", "off", true)
                + field(r, "login_id", "ログインID", "Login id", "text", "username", true)
                + "<div class=\"row\">" + field(r, "family_name", "姓", "Family name", "text", "family-name", true)
                + field(r, "given_name", "名", "Given name", "text", "given-name", true) + "</div>"
                + "<div class=\"row\">" + field(r, "family_kana", "セイ（カナ）", "Family name (kana)", "text", "off", true)
                + field(r, "given_kana", "メイ（カナ）", "Given name (kana)", "text", "off", true) + "</div>"
                + field(r, "password", "パスワード（12文字以上）", "Password (12+ characters)", "password", "new-password", true)
                + field(r, "password2", "パスワード（確認）", "Password (again)", "password", "new-password", true)
                + "<button type=\"submit\">" + r.t("登録して二要素認証の設定へ", "Register and set up two-factor authentication")
                + "</button></form>";
        return console.page(r, r.t("初期設定：最初の管理者", "First setup: the first administrator"), b);
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
            return Console.redirect(r.session().locked() ? "/console/lock" : "/console/home");
        }
        Passkeys.Challenge ch = id.passkeys().startLogin(Optional.empty());
        String b = Html.message("error", error)
                + "<form method=\"post\" action=\"/console/login\" class=\"stack\" id=\"login-form\">" + csrf(r)
                + field(r, "login_id", "ログインID", "Login id", "text", "username", true)
                + field(r, "password", "パスワード", "Password", "password", "current-password", true)
                + "<button type=\"submit\">" + r.t("次へ（二要素認証）", "Next (second factor)") + "</button></form>"
                + "<div class=\"or\">" + r.t("または", "or") + "</div>"
                + passkeyForm(r, "/console/login/passkey", "login", ch, r.t("パスキーでログイン", "Log in with a passkey"))
                + "<p class=\"hint\">" + r.t("パスワードを忘れた場合は、アカウント管理者に本人確認のうえ再登録を依頼してください。",
                "Forgot your password? Ask an account administrator to verify your identity and re-enrol you.") + "</p>";
        return console.page(r, r.t("ログイン", "Log in"), b);
    }

    private Reply login(ConsoleRequest r) {
        try {
            Logins.PasswordOutcome o = id.logins().password(r.param("login_id"), r.param("password").toCharArray(),
                    r.address(), r.header().apply("User-Agent"));
            return switch (o) {
                case Logins.PasswordOutcome.SecondFactorDue d ->
                        console.withSession(Console.redirect("/console/login/factor"), d.cookie());
                case Logins.PasswordOutcome.LoggedIn l ->
                        console.withSession(Console.redirect("/console/home"), l.cookie());
            };
        } catch (IdentityException e) {
            return Console.status(loginPage(r, e.getMessage()), 401);
        }
    }

    private Reply passkeyLogin(ConsoleRequest r) {
        try {
            String cookie = id.logins().passkeyLogin(r.param("request"), r.param("response"), r.address(),
                    r.header().apply("User-Agent"));
            return console.withSession(Console.redirect("/console/home"), cookie);
        } catch (IdentityException e) {
            return Console.status(loginPage(r, e.getMessage()), 401);
        }
    }

    private Reply factorPage(ConsoleRequest r, String error) {
        Sessions.Session s = r.session();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(r.t("二つ目の認証手段で本人確認してください。", "Confirm it is you with your second factor.")).append("</p>");
        if (id.passkeys().hasAny(s.accountId())) {
            b.append(passkeyForm(r, "/console/login/factor/passkey", "login", id.passkeys().startLogin(Optional.of(s.accountId())),
                    r.t("パスキー・セキュリティキーを使う", "Use a passkey or security key")));
        }
        b.append(codeForm(r, "/console/login/factor", false, id.factors().hasTotp(s.accountId())));
        return console.page(r, r.t("二要素認証", "Second factor"), b.toString());
    }

    private Reply factor(ConsoleRequest r) {
        try {
            boolean recovery = !r.param("recovery_code").isBlank();
            String cookie = id.logins().secondFactorCode(r.cookie(), r.session(),
                    recovery ? r.param("recovery_code") : r.param("code"), recovery, r.address());
            return console.withSession(Console.redirect("/console/home"), cookie);
        } catch (IdentityException e) {
            Optional<Sessions.Session> still = id.sessions().check(r.cookie());
            if (still.isEmpty()) {
                return Console.status(loginPage(withoutSession(r), e.getMessage()), 401);
            }
            return Console.status(factorPage(r, e.getMessage()), 401);
        }
    }

    private Reply factorPasskey(ConsoleRequest r) {
        try {
            String cookie = id.logins().secondFactorPasskey(r.cookie(), r.session(), r.param("request"),
                    r.param("response"), r.address());
            return console.withSession(Console.redirect("/console/home"), cookie);
        } catch (IdentityException e) {
            return Console.status(factorPage(r, e.getMessage()), 401);
        }
    }

    // ---- enrolment ----------------------------------------------------------------------------------------

    private Reply enrolPage(ConsoleRequest r, String error) {
        String code = r.param("code");
        String b = Html.message("error", error)
                + "<p>" + r.t("管理者から受け取った登録コードで、パスワードと二要素認証を設定します。",
                "Set your password and second factor with the enrolment code an administrator gave you.") + "</p>"
                + "<form method=\"post\" action=\"/console/enrol\" class=\"stack\">" + csrf(r)
                + "<label>" + r.t("登録コード", "Enrolment code") + "<input name=\"code\" required autocomplete=\"off\" value=\""
                + esc(code) + "\"></label>"
                + field(r, "password", "新しいパスワード（12文字以上。よく使われるものは不可）",
                "New password (12+ characters, not a common one)", "password", "new-password", true)
                + field(r, "password2", "新しいパスワード（確認）", "New password (again)", "password", "new-password", true)
                + "<button type=\"submit\">" + r.t("次へ（二要素認証の設定）", "Next (second factor)") + "</button></form>";
        return console.page(r, r.t("アカウントの登録", "Enrol"), b);
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
        Sessions.Session s = r.session();
        Factors.TotpSetup totp = id.factors().beginTotp(s.accountId(), s.loginId());
        Passkeys.Challenge ch = id.passkeys().startRegistration(s.accountId(), s.loginId(), s.displayName());
        String b = Html.message("error", error)
                + "<p>" + r.t("二つ目の認証手段を一つ登録してください。登録が終わるとアカウントが使えるようになります。",
                "Register a second factor. Your account becomes usable when it is registered.") + "</p>"
                + "<section class=\"card\"><h2>" + r.t("パスキー・セキュリティキー（推奨）", "Passkey or security key (recommended)")
                + "</h2><p>" + r.t("端末の生体認証・PIN、またはセキュリティキーを使います。", "Uses this device's biometrics or PIN, or a security key.")
                + "</p>" + passkeyForm(r, "/console/enrol/passkey", "register", ch, r.t("パスキーを登録", "Register a passkey"))
                + "</section><section class=\"card\"><h2>" + r.t("認証アプリ（TOTP）", "Authenticator app (TOTP)") + "</h2><p>"
                + r.t("認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。",
                "Scan the QR code with an authenticator app, then enter the 6-digit code it shows.") + "</p>"
                + "<div class=\"qr\">" + totp.qrSvg() + "</div><p class=\"hint\">" + r.t("読み取れない場合のキー：", "Key, if you cannot scan: ")
                + "<code id=\"totp-secret\">" + esc(totp.secretBase32()) + "</code></p>"
                + "<form method=\"post\" action=\"/console/enrol/totp\" class=\"stack\">" + csrf(r)
                + "<label>" + r.t("確認コード（6桁）", "Code (6 digits)") + "<input name=\"code\" inputmode=\"numeric\" "
                + "autocomplete=\"one-time-code\" pattern=\"[0-9 ]{6,8}\" required></label><button type=\"submit\">"
                + r.t("認証アプリを登録", "Register the app") + "</button></form></section>";
        return console.page(r, r.t("二要素認証の設定", "Set up two-factor authentication"), b);
    }

    private Reply enrolTotp(ConsoleRequest r) {
        if (!id.factors().confirmTotp(r.session().accountId(), r.param("code"), r.session().principal())) {
            return Console.status(enrolFactorPage(r, Logins.WRONG_CODE), 400);
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
        return console.withSession(recoveryCodesPage(r, f.recoveryCodes(), r.t("登録が完了しました", "You are enrolled")), f.cookie());
    }

    Reply recoveryCodesPage(ConsoleRequest r, List<String> codes, String title) {
        StringBuilder b = new StringBuilder(Html.message("info", "登録が完了しました / Registration complete"));
        b.append("<p>").append(r.t("認証手段をなくした時のための回復コードです。この画面でのみ表示されます。印刷するか書き写して、安全な場所に保管してください。各コードは1回だけ使えます。",
                "These recovery codes are for when you lose your second factor. They are shown only now: print or copy them"
                        + " and keep them safe. Each works once.")).append("</p><ol class=\"codes\" id=\"recovery-codes\">");
        for (String c : codes) {
            b.append("<li><code>").append(esc(c)).append("</code></li>");
        }
        b.append("</ol><p><a class=\"button\" href=\"/console/home\">").append(r.t("保管しました。ホームへ", "I have kept them; continue"))
                .append("</a></p>");
        return console.page(r, title, b.toString());
    }

    // ---- lock, step-up, logout ----------------------------------------------------------------------------

    private Reply lockPage(ConsoleRequest r, String error) {
        Sessions.Session s = r.session();
        if (!s.locked()) {
            return Console.redirect("/console/home");
        }
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(r.t("画面はロックされています。", "The screen is locked. ")).append(esc(s.displayName()))
                .append(r.t(" さん本人が再認証すると続きから使えます。", " can continue after authenticating again.")).append("</p>");
        b.append(reauthForms(r, "/console/unlock", true));
        b.append("<form method=\"post\" action=\"/console/logout\">").append(csrf(r)).append("<button type=\"submit\" class=\"secondary\">")
                .append(r.t("別の人がログインする（ログアウト）", "Someone else: log out")).append("</button></form>");
        return console.page(r.lang(), 200, r.t("ロック中", "Locked"), r, b.toString());
    }

    private Reply lock(ConsoleRequest r) {
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
            return Console.redirect("/console/home");
        } catch (IdentityException e) {
            return afterFailure(r, e, () -> Console.status(lockPage(r, e.getMessage()), 401));
        }
    }

    private Reply unlockPasskey(ConsoleRequest r) {
        try {
            id.logins().reauthenticatePasskey(r.cookie(), r.session(), r.param("request"), r.param("response"),
                    r.address(), "session.unlock");
            return Console.redirect("/console/home");
        } catch (IdentityException e) {
            return afterFailure(r, e, () -> Console.status(lockPage(r, e.getMessage()), 401));
        }
    }

    private Reply stepUpPage(ConsoleRequest r, String error) {
        String next = Console.safeNext(r.param("next"));
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(r.t("この操作の前に、もう一度本人確認をしてください（5分間有効）。",
                "Confirm it is you before continuing (valid for 5 minutes).")).append("</p>");
        b.append(reauthForms(r, "/console/step-up", false).replace("</form>",
                "<input type=\"hidden\" name=\"next\" value=\"" + esc(next) + "\"></form>"));
        return console.page(r, r.t("本人確認", "Confirm it is you"), b.toString());
    }

    private Reply stepUp(ConsoleRequest r) {
        try {
            boolean recovery = !r.param("recovery_code").isBlank();
            boolean passwordOnly = r.session().withoutSecondFactor();
            id.logins().reauthenticate(r.cookie(), r.session(), passwordOnly
                            ? Optional.of(r.param("password").toCharArray()) : Optional.empty(),
                    recovery ? r.param("recovery_code") : r.param("code"), recovery, r.address(), "step_up");
            return Console.redirect(Console.safeNext(r.param("next")));
        } catch (IdentityException e) {
            return Console.status(stepUpPage(r, e.getMessage()), 401);
        }
    }

    private Reply stepUpPasskey(ConsoleRequest r) {
        try {
            id.logins().reauthenticatePasskey(r.cookie(), r.session(), r.param("request"), r.param("response"),
                    r.address(), "step_up");
            return Console.redirect(Console.safeNext(r.param("next")));
        } catch (IdentityException e) {
            return Console.status(stepUpPage(r, e.getMessage()), 401);
        }
    }

    private Reply logout(ConsoleRequest r) {
        if (r.session() != null) {
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

    /** The forms that re-authenticate a session: passkey, or (password and) code. */
    private String reauthForms(ConsoleRequest r, String action, boolean lock) {
        Sessions.Session s = r.session();
        boolean passwordOnly = s.withoutSecondFactor();
        StringBuilder b = new StringBuilder();
        if (!passwordOnly && id.passkeys().hasAny(s.accountId())) {
            b.append(passkeyForm(r, action + "/passkey", "login", id.passkeys().startLogin(Optional.of(s.accountId())),
                    r.t("パスキー・セキュリティキーで確認", "Confirm with a passkey or security key")));
        }
        if (passwordOnly) {
            b.append("<form method=\"post\" action=\"").append(action).append("\" class=\"stack\">").append(csrf(r))
                    .append(field(r, "password", "パスワード", "Password", "password", "current-password", true))
                    .append("<button type=\"submit\">").append(r.t("確認", "Confirm")).append("</button></form>");
            return b.toString();
        }
        b.append("<form method=\"post\" action=\"").append(action).append("\" class=\"stack\">").append(csrf(r));
        if (lock) {
            b.append(field(r, "password", "パスワード", "Password", "password", "current-password", true));
        }
        b.append("<label>").append(r.t("認証アプリの確認コード", "Code from the authenticator app"))
                .append("<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\"></label>")
                .append("<details><summary>").append(r.t("回復コードを使う", "Use a recovery code")).append("</summary><label>")
                .append(r.t("回復コード", "Recovery code")).append("<input name=\"recovery_code\" autocomplete=\"off\"></label></details>")
                .append("<button type=\"submit\">").append(r.t("確認", "Confirm")).append("</button></form>");
        return b.toString();
    }

    private String codeForm(ConsoleRequest r, String action, boolean password, boolean hasTotp) {
        StringBuilder b = new StringBuilder("<form method=\"post\" action=\"" + action + "\" class=\"stack\">" + csrf(r));
        if (password) {
            b.append(field(r, "password", "パスワード", "Password", "password", "current-password", true));
        }
        if (hasTotp) {
            b.append("<label>").append(r.t("認証アプリの確認コード（6桁）", "Code from the authenticator app (6 digits)"))
                    .append("<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus></label>");
        }
        b.append("<details").append(hasTotp ? "" : " open").append("><summary>").append(r.t("回復コードを使う", "Use a recovery code"))
                .append("</summary><label>").append(r.t("回復コード", "Recovery code"))
                .append("<input name=\"recovery_code\" autocomplete=\"off\"></label></details>")
                .append("<button type=\"submit\">").append(r.t("ログイン", "Log in")).append("</button></form>");
        return b.toString();
    }

    /** A form that runs a WebAuthn ceremony in the browser (passkeys.js) and posts its result. */
    static String passkeyForm(ConsoleRequest r, String action, String kind, Passkeys.Challenge ch, String label) {
        return "<form method=\"post\" action=\"" + action + "\" class=\"passkey\" data-passkey=\"" + kind
                + "\" data-options=\"" + esc(ch.publicKeyJson()) + "\">" + csrf(r)
                + "<input type=\"hidden\" name=\"request\" value=\"" + esc(ch.requestId()) + "\">"
                + "<input type=\"hidden\" name=\"response\" value=\"\">"
                + (kind.equals("register") ? "<label>" + r.t("名前（任意）", "Name (optional)")
                + "<input name=\"nickname\" maxlength=\"60\" autocomplete=\"off\"></label>" : "")
                + "<button type=\"button\" data-passkey-start>" + esc(label) + "</button>"
                + "<p class=\"error\" data-passkey-error role=\"alert\"></p></form>";
    }

    static String field(ConsoleRequest r, String name, String ja, String en, String type, String autocomplete,
                        boolean required) {
        String value = type.equals("password") ? "" : r.param(name);
        return "<label>" + esc(r.t(ja, en)) + "<input name=\"" + name + "\" type=\"" + type + "\" autocomplete=\""
                + autocomplete + "\"" + (required ? " required" : "") + " value=\"" + esc(value) + "\"></label>";
    }
}
