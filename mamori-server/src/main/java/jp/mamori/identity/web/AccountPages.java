package jp.mamori.identity.web;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Emergencies;
import jp.mamori.identity.Identity;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.MfaExceptions;
import jp.mamori.identity.Passkeys;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static jp.mamori.web.console.Html.csrf;
import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.esc;
import static jp.mamori.web.console.Html.time;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/** "My account" for everyone, and account administration (the ledger) for account administrators. */
public final class AccountPages {
    private final Identity id;
    private final jp.mamori.access.AccessAdmin access;
    private final Console console;

    public AccountPages(Identity id, jp.mamori.access.AccessAdmin access, Console console) {
        this.id = id;
        this.access = access;
        this.console = console;
    }

    public void register() {
        console.route("GET", "/console/me", USER, false, r -> me(r, ""));
        console.route("POST", "/console/me/sessions/end", USER, false, this::endMySession);
        console.route("GET", "/console/me/password", USER, false, r -> passwordPage(r, ""));
        console.route("POST", "/console/me/password", USER, false, this::changePassword);
        console.route("GET", "/console/me/passkeys/add", USER, true, this::addPasskeyPage);
        console.route("POST", "/console/me/passkeys/add", USER, true, this::addPasskey);
        console.route("POST", "/console/me/passkeys/remove", USER, true, this::removePasskey);
        console.route("POST", "/console/me/recovery-codes", USER, true, this::newRecoveryCodes);

        console.route("GET", "/console/admin/accounts", ADMIN, false, this::ledger);
        console.route("GET", "/console/admin/accounts.csv", ADMIN, true, this::ledgerCsv);
        console.route("GET", "/console/admin/accounts/new", ADMIN, false, r -> newAccountPage(r, ""));
        console.route("POST", "/console/admin/accounts/new", ADMIN, true, this::createAccount);
        console.route("GET", "/console/admin/account", ADMIN, false, r -> accountPage(r, "", ""));
        console.route("POST", "/console/admin/account/enrolment-code", ADMIN, true, this::issueCode);
        console.route("POST", "/console/admin/account/suspend", ADMIN, true, this::suspend);
        console.route("POST", "/console/admin/account/reactivate", ADMIN, true, this::reactivate);
        console.route("POST", "/console/admin/account/retire", ADMIN, true, this::retire);
        console.route("POST", "/console/admin/account/compromised", ADMIN, true, this::compromised);
        console.route("POST", "/console/admin/account/proofing", ADMIN, true, this::addProofing);
        console.route("POST", "/console/admin/account/qualification", ADMIN, true, this::addQualification);
        console.route("GET", "/console/admin/unused", ADMIN, false, this::unused);
        console.route("GET", "/console/admin/sessions", ADMIN, false, this::sessions);
        console.route("POST", "/console/admin/sessions/end", ADMIN, true, this::endSession);
        console.route("GET", "/console/admin/mfa-exceptions", ADMIN, false, r -> exceptions(r, ""));
        console.route("POST", "/console/admin/mfa-exceptions", ADMIN, true, this::grantException);
        console.route("POST", "/console/admin/mfa-exceptions/revoke", ADMIN, true, this::revokeException);
        console.route("GET", "/console/admin/emergency", ADMIN, false, r -> emergency(r, "", null));
        console.route("POST", "/console/admin/emergency/declare", ADMIN, true, this::declare);
        console.route("POST", "/console/admin/emergency/end", ADMIN, true, this::endEmergency);
        console.route("POST", "/console/admin/emergency/accounts", ADMIN, true, this::createEmergencyAccount);
        console.route("POST", "/console/admin/emergency/review", ADMIN, true, this::review);
    }

    // ---- my account ---------------------------------------------------------------------------------------

    private Reply me(ConsoleRequest r, String notice) {
        Sessions.Session s = r.session();
        Account a = id.accounts().find(s.accountId()).orElseThrow();
        StringBuilder b = new StringBuilder(Html.message("info", notice));
        b.append("<section class=\"card\"><h2>").append(r.t("アカウント", "Account")).append("</h2><dl>")
                .append(dt(r, "氏名", "Name", a.displayName() + "（" + a.familyKana() + " " + a.givenKana() + "）"))
                .append(dt(r, "ログインID", "Login id", a.loginId()))
                .append(dt(r, "資格", "Qualifications", qualifications(a)))
                .append(dt(r, "部署", "Departments", String.join("、", a.departments())))
                .append("</dl><p><a href=\"/console/me/password\">").append(r.t("パスワードを変更", "Change password"))
                .append("</a></p></section>");
        b.append("<section class=\"card\"><h2>").append(r.t("認証手段", "Sign-in factors")).append("</h2><table><thead><tr><th>")
                .append(r.t("種類", "Kind")).append("</th><th>").append(r.t("名前", "Name")).append("</th><th>")
                .append(r.t("登録日時", "Added")).append("</th><th>").append(r.t("最終使用", "Last used")).append("</th><th></th></tr></thead><tbody>");
        for (Passkeys.PasskeyInfo p : id.passkeys().list(a.id())) {
            b.append("<tr><td>").append(r.t("パスキー", "Passkey")).append("</td><td>").append(esc(p.nickname())).append("</td><td>")
                    .append(time(p.createdAt())).append("</td><td>").append(time(p.lastUsedAt())).append("</td><td>")
                    .append("<form method=\"post\" action=\"/console/me/passkeys/remove\">").append(csrf(r))
                    .append("<input type=\"hidden\" name=\"credential\" value=\"").append(esc(p.credentialId()))
                    .append("\"><button type=\"submit\" class=\"secondary\">").append(r.t("削除", "Remove"))
                    .append("</button></form></td></tr>");
        }
        if (id.factors().hasTotp(a.id())) {
            b.append("<tr><td>").append(r.t("認証アプリ", "Authenticator app")).append("</td><td>TOTP</td><td></td><td></td><td></td></tr>");
        }
        b.append("<tr><td>").append(r.t("回復コード", "Recovery codes")).append("</td><td>")
                .append(r.t("残り ", "")).append(id.factors().recoveryCodesLeft(a.id())).append(r.t(" 個", " left"))
                .append("</td><td></td><td></td><td><form method=\"post\" action=\"/console/me/recovery-codes\">").append(csrf(r))
                .append("<button type=\"submit\" class=\"secondary\">").append(r.t("再発行", "Issue new codes"))
                .append("</button></form></td></tr></tbody></table><p><a class=\"button\" href=\"/console/me/passkeys/add\">")
                .append(r.t("パスキー・セキュリティキーを追加", "Add a passkey or security key")).append("</a></p></section>");
        b.append("<section class=\"card\"><h2>").append(r.t("ログイン中のセッション", "Open sessions")).append("</h2>")
                .append(sessionTable(r, id.sessions().open(Optional.of(a.id())), "/console/me/sessions/end")).append("</section>");
        return console.page(r, r.t("マイアカウント", "My account"), b.toString());
    }

    private Reply endMySession(ConsoleRequest r) {
        Sessions.Session s = r.session();
        Optional<UUID> ended = id.sessions().endByRef(r.param("session"), Optional.of(s.accountId()), s.principal(),
                "ended by its owner");
        if (ended.isPresent() && r.param("session").equals(s.ref())) {
            return console.clearSession(Console.redirect("/console/login"));
        }
        return me(r, ended.isPresent() ? "セッションを終了しました / Session ended" : "");
    }

    private Reply passwordPage(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        if (r.session().mustChangePassword()) {
            b.append(Html.message("error", "パスワードが漏えいした可能性があるため、変更が必要です / Your password may have been"
                    + " exposed: set a new one to continue"));
        }
        b.append("<p>").append(r.t("定期的な変更は不要です。他で使っていない、12文字以上のパスワードにしてください。",
                        "No periodic change is needed. Use 12 or more characters that you do not use elsewhere."))
                .append("</p><form method=\"post\" action=\"/console/me/password\" class=\"stack\">").append(csrf(r))
                .append(field(r, "current", "現在のパスワード", "Current password", "password", "current-password", true))
                .append(field(r, "password", "新しいパスワード", "New password", "password", "new-password", true))
                .append(field(r, "password2", "新しいパスワード（確認）", "New password (again)", "password", "new-password", true))
                .append("<button type=\"submit\">").append(r.t("変更", "Change")).append("</button></form>");
        return console.page(r, r.t("パスワードの変更", "Change password"), b.toString());
    }

    private Reply changePassword(ConsoleRequest r) {
        try {
            id.enrolment().changePassword(r.session(), r.param("current").toCharArray(), r.param("password").toCharArray(),
                    r.param("password2").toCharArray());
            id.logins().event(r.session().accountId(), r.session().loginId(), r.address(), "password.changed", true, null);
            return me(r, "パスワードを変更しました / Password changed");
        } catch (IdentityException e) {
            return Console.status(passwordPage(r, e.getMessage()), 400);
        }
    }

    private Reply addPasskeyPage(ConsoleRequest r) {
        Sessions.Session s = r.session();
        return console.page(r, r.t("パスキーの追加", "Add a passkey"), passkeyForm(r, "/console/me/passkeys/add",
                "register", id.passkeys().startRegistration(s.accountId(), s.loginId(), s.displayName()),
                r.t("パスキーを登録", "Register a passkey")));
    }

    private Reply addPasskey(ConsoleRequest r) {
        Sessions.Session s = r.session();
        id.passkeys().finishRegistration(s.accountId(), r.param("request"), r.param("response"), AuthPages.nickname(r));
        id.accounts().note(s.accountId(), s.principal(), "factor.passkey_registered", Map.of());
        return me(r, "パスキーを登録しました / Passkey registered");
    }

    private Reply removePasskey(ConsoleRequest r) {
        Sessions.Session s = r.session();
        boolean others = id.passkeys().list(s.accountId()).size() > 1 || id.factors().hasTotp(s.accountId());
        if (!others) {
            throw new IdentityException("最後の認証手段は削除できません。先に別の手段を登録してください / The last second factor"
                    + " cannot be removed; register another one first");
        }
        if (id.passkeys().remove(s.accountId(), r.param("credential"), s.principal())) {
            id.accounts().note(s.accountId(), s.principal(), "factor.passkey_removed", Map.of("credential", r.param("credential")));
        }
        return me(r, "パスキーを削除しました / Passkey removed");
    }

    private Reply newRecoveryCodes(ConsoleRequest r) {
        List<String> codes = id.factors().newRecoveryCodes(r.session().accountId(), r.session().principal());
        return new AuthPages(id, access, console).recoveryCodesPage(r, codes, r.t("新しい回復コード", "New recovery codes"));
    }

    // ---- ledger ---------------------------------------------------------------------------------------------

    private Reply ledger(ConsoleRequest r) {
        String filter = r.param("status");
        StringBuilder b = new StringBuilder("<p class=\"actions\"><a class=\"button\" href=\"/console/admin/accounts/new\">")
                .append(r.t("アカウントを作成", "Create an account")).append("</a> <a class=\"button secondary\" href=\"/console/admin/accounts.csv\">")
                .append(r.t("台帳をCSVで出力", "Export the ledger (CSV)")).append("</a> <a href=\"/console/admin/unused\">")
                .append(r.t("未使用アカウント", "Unused accounts")).append("</a></p>");
        b.append("<p class=\"filters\">").append(r.t("状態：", "Status: "));
        b.append("<a href=\"/console/admin/accounts\">").append(r.t("すべて", "all")).append("</a>");
        for (Account.Status st : Account.Status.values()) {
            b.append(" <a href=\"/console/admin/accounts?status=").append(st.code).append("\">").append(r.t(st.ja, st.en)).append("</a>");
        }
        b.append("</p><table id=\"ledger\"><thead><tr><th>").append(r.t("ログインID", "Login id")).append("</th><th>")
                .append(r.t("氏名", "Name")).append("</th><th>").append(r.t("種別", "Type")).append("</th><th>")
                .append(r.t("状態", "Status")).append("</th><th>").append(r.t("資格", "Qualifications")).append("</th><th>")
                .append(r.t("最終ログイン", "Last login")).append("</th><th>").append(r.t("退職予定", "Retires")).append("</th></tr></thead><tbody>");
        for (Account a : id.accounts().list()) {
            if (!filter.isEmpty() && !a.status().code.equals(filter)) {
                continue;
            }
            b.append("<tr><td><a href=\"/console/admin/account?id=").append(a.id()).append("\">").append(esc(a.loginId()))
                    .append("</a></td><td>").append(esc(a.displayName())).append("</td><td>").append(r.t(a.type().ja, a.type().en))
                    .append("</td><td class=\"status-").append(a.status().code).append("\">").append(r.t(a.status().ja, a.status().en))
                    .append("</td><td>").append(esc(qualifications(a))).append("</td><td>").append(time(a.lastLoginAt()))
                    .append("</td><td>").append(time(a.retireAt())).append("</td></tr>");
        }
        b.append("</tbody></table>");
        return console.page(r, r.t("アカウント台帳", "Account ledger"), b.toString());
    }

    private Reply ledgerCsv(ConsoleRequest r) {
        Sessions.Session s = r.session();
        String csv = id.accounts().ledgerCsv(Html.JST);
        id.logins().event(s.accountId(), s.loginId(), r.address(), "export.account_ledger", true, "CSV");
        return Reply.of(200, "text/csv;charset=UTF-8", csv).header("Content-Disposition",
                "attachment; filename=\"mamori-accounts-" + LocalDate.now(Html.JST) + ".csv\"");
    }

    private Reply newAccountPage(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(r.t("アカウントは一人に一つです。共用のアカウントは作成できません。本人確認の記録が必要です。",
                "One account per person; shared accounts cannot be created. Identity proofing must be recorded.")).append("</p>");
        b.append("<form method=\"post\" action=\"/console/admin/accounts/new\" class=\"stack\">").append(csrf(r))
                .append(field(r, "login_id", "ログインID", "Login id", "text", "off", true))
                .append("<div class=\"row\">").append(field(r, "family_name", "姓", "Family name", "text", "off", true))
                .append(field(r, "given_name", "名", "Given name", "text", "off", true)).append("</div><div class=\"row\">")
                .append(field(r, "family_kana", "セイ（カナ）", "Family name (kana)", "text", "off", true))
                .append(field(r, "given_kana", "メイ（カナ）", "Given name (kana)", "text", "off", true)).append("</div>")
                .append("<label>").append(r.t("種別", "Type")).append("<select name=\"type\"><option value=\"staff\">")
                .append(r.t("職員", "Staff")).append("</option><option value=\"vendor\">").append(r.t("保守業者（無効の状態で作成）",
                        "Vendor maintenance (created disabled)")).append("</option></select></label>");
        b.append("<fieldset><legend>").append(r.t("資格と免許番号", "Qualifications and licence numbers")).append("</legend>");
        for (Accounts.CatalogueEntry q : id.accounts().catalogue()) {
            b.append("<div class=\"qual\"><label class=\"check\"><input type=\"checkbox\" name=\"qualification\" value=\"")
                    .append(esc(q.code())).append("\"").append(r.params("qualification").contains(q.code()) ? " checked" : "")
                    .append("> ").append(esc(r.t(q.nameJa(), q.nameEn()))).append("</label>");
            if (q.licenceRequired()) {
                b.append("<input name=\"licence_").append(esc(q.code())).append("\" placeholder=\"").append(esc(q.licenceLabelJa()))
                        .append("\" value=\"").append(esc(r.param("licence_" + q.code()))).append("\">");
            }
            b.append("</div>");
        }
        b.append("</fieldset>").append(field(r, "departments", "部署（読点・カンマ区切り）", "Departments (comma separated)", "text", "off", false))
                .append("<label class=\"check\"><input type=\"checkbox\" name=\"admin\" value=\"1\"> ")
                .append(r.t("アカウント管理者にする（別の管理者の承認後に有効）",
                        "Make an account administrator (in force once a second administrator approves)")).append("</label>")
                .append("<p class=\"hint\">").append(r.t("資格に応じた既定の役割が各部署で割り当てられます。",
                        "The default roles of the qualifications are assigned in each department.")).append("</p>");
        b.append(proofingFields(r)).append("<button type=\"submit\">").append(r.t("作成", "Create")).append("</button></form>");
        return console.page(r, r.t("アカウントの作成", "Create an account"), b.toString());
    }

    private String proofingFields(ConsoleRequest r) {
        StringBuilder b = new StringBuilder("<fieldset><legend>" + r.t("本人確認（AUTH-10）", "Identity proofing (AUTH-10)") + "</legend>");
        b.append("<label>").append(r.t("方法", "Method")).append("<select name=\"proof_method\">");
        for (String[] m : new String[][]{{"in_person", "対面", "In person"}, {"video_call", "ビデオ通話", "Video call"},
                {"employer_record", "人事記録との照合", "Employer record"}}) {
            b.append("<option value=\"").append(m[0]).append("\">").append(r.t(m[1], m[2])).append("</option>");
        }
        b.append("</select></label><label>").append(r.t("確認した書類", "Document checked")).append("<select name=\"proof_document\">");
        for (String[] d : new String[][]{{"my_number_card", "マイナンバーカード", "My Number card"},
                {"drivers_licence", "運転免許証", "Driver's licence"}, {"passport", "旅券", "Passport"},
                {"residence_card", "在留カード", "Residence card"}, {"health_insurance_card", "健康保険証", "Health insurance card"},
                {"professional_licence", "免許証（資格）", "Professional licence"}, {"hpki_card", "HPKIカード", "HPKI card"},
                {"staff_id", "職員証", "Staff ID"}}) {
            b.append("<option value=\"").append(d[0]).append("\">").append(r.t(d[1], d[2])).append("</option>");
        }
        b.append("</select></label>")
                .append(field(r, "proof_note", "備考（番号は下4桁までにしてください）", "Note (at most the last 4 digits of a number)", "text", "off", false))
                .append(field(r, "proof_by", "確認者", "Verified by", "text", "off", true))
                .append("<label>").append(r.t("確認日", "Date verified")).append("<input type=\"date\" name=\"proof_date\" required value=\"")
                .append(esc(r.param("proof_date").isEmpty() ? LocalDate.now(Html.JST).toString() : r.param("proof_date")))
                .append("\"></label></fieldset>");
        return b.toString();
    }

    private Accounts.Proofing proofing(ConsoleRequest r) {
        return new Accounts.Proofing(r.param("proof_method"), r.param("proof_document"), r.param("proof_note"),
                r.param("proof_by"), date(r.param("proof_date"), "確認日 / date verified"));
    }

    private static Instant date(String s, String what) {
        try {
            return LocalDate.parse(s).atStartOfDay(Html.JST).toInstant();
        } catch (DateTimeParseException e) {
            throw new IdentityException(what + " を YYYY-MM-DD で入力してください / Enter " + what + " as YYYY-MM-DD");
        }
    }

    private Reply createAccount(ConsoleRequest r) {
        try {
            List<Accounts.QualificationGrant> quals = new ArrayList<>();
            for (String q : r.params("qualification")) {
                quals.add(new Accounts.QualificationGrant(q, r.param("licence_" + q)));
            }
            List<String> depts = List.of(r.param("departments").split("[,、，]"));
            Account.Type type = r.param("type").equals("vendor") ? Account.Type.VENDOR : Account.Type.STAFF;
            // account_role is for the bootstrap administrator only: every other administrator is an account_admin
            // role assignment that waits for a second administrator's approval (four eyes, ADR 0005).
            boolean admin = r.param("admin").equals("1");
            // The account and the roles it is created with commit together: no account without its roles.
            Account a = id.accounts().create(new Accounts.NewAccount(r.param("login_id"), r.param("family_name"),
                    r.param("given_name"), r.param("family_kana"), r.param("given_kana"), type, quals, depts,
                    Set.of(), proofing(r)), r.session().principal(), (c, created) -> access.roles().assignAtCreation(c,
                    r.session().accountId(), created.id(),
                    created.qualifications().stream().map(Account.Qualification::code).toList(),
                    created.departments(), admin));
            return Console.redirect("/console/admin/account?id=" + a.id());
        } catch (IdentityException | jp.mamori.access.AccessException e) {
            return Console.status(newAccountPage(r, e.getMessage()), 400);
        }
    }

    private Account target(ConsoleRequest r) {
        try {
            return id.accounts().find(UUID.fromString(r.param("id"))).orElseThrow(() ->
                    new IdentityException("アカウントが見つかりません / No such account"));
        } catch (IllegalArgumentException e) {
            throw new IdentityException("アカウントが見つかりません / No such account");
        }
    }

    private Reply accountPage(ConsoleRequest r, String notice, String extra) {
        Account a = target(r);
        StringBuilder b = new StringBuilder(Html.message("info", notice)).append(extra);
        b.append("<section class=\"card\"><dl>")
                .append(dt(r, "氏名", "Name", a.displayName() + "（" + a.familyKana() + " " + a.givenKana() + "）"))
                .append(dt(r, "ログインID", "Login id", a.loginId()))
                .append(dt(r, "種別", "Type", r.t(a.type().ja, a.type().en)))
                .append(dt(r, "状態", "Status", r.t(a.status().ja, a.status().en) + (a.statusReason() == null ? "" : "（" + a.statusReason() + "）")))
                .append(dt(r, "資格", "Qualifications", qualifications(a)))
                .append(dt(r, "部署", "Departments", String.join("、", a.departments())))
                .append(dt(r, "権限", "Roles", String.join(" ", a.roles())))
                .append("<dt>").append(r.t("役割と権限", "Roles and privileges")).append("</dt><dd><a id=\"account-roles\" href=\"/console/admin/account/roles?id=")
                .append(a.id()).append("\">").append(r.t("部署ごとの役割・機微情報の権限", "Roles per department, sensitivity privileges"))
                .append("</a></dd>")
                .append(dt(r, "作成", "Created", time(a.createdAt()) + " " + a.createdBy()))
                .append(dt(r, "最終ログイン", "Last login", time(a.lastLoginAt())))
                .append(dt(r, "退職予定", "Retirement", time(a.retireAt())))
                .append("</dl></section>");
        String hidden = csrf(r) + "<input type=\"hidden\" name=\"id\" value=\"" + a.id() + "\">";
        b.append("<section class=\"card actions\"><h2>").append(r.t("操作", "Actions")).append("</h2>");
        if (a.type() != Account.Type.EMERGENCY && (a.status() == Account.Status.CREATED
                || a.status() == Account.Status.ENROLMENT_PENDING)) {
            b.append("<form method=\"post\" action=\"/console/admin/account/enrolment-code\">").append(hidden)
                    .append("<button type=\"submit\">").append(r.t("登録コードを発行", "Issue an enrolment code")).append("</button></form>");
        }
        if (a.type() != Account.Type.EMERGENCY && a.status() == Account.Status.ACTIVE) {
            b.append("<form method=\"post\" action=\"/console/admin/account/enrolment-code\" class=\"inline\">").append(hidden)
                    .append("<button type=\"submit\" class=\"secondary\">").append(r.t(
                            "再登録（本人確認後。パスワードと認証手段を無効にし登録コードを発行）",
                            "Re-enrol (after verifying the person: revokes password use and factors, issues a code)"))
                    .append("</button></form>");
        }
        if (a.status() != Account.Status.RETIRED && a.status() != Account.Status.SUSPENDED) {
            b.append(reasonForm(r, "/console/admin/account/suspend", hidden, "停止", "Suspend", ""));
        }
        if (a.status() == Account.Status.SUSPENDED) {
            b.append(reasonForm(r, "/console/admin/account/reactivate", hidden, "再開", "Reactivate", ""));
        }
        if (a.status() != Account.Status.RETIRED) {
            b.append(reasonForm(r, "/console/admin/account/retire", hidden, "退職・廃止", "Retire",
                    "<label>" + r.t("日時（空欄なら即時）", "When (empty: now)") + "<input type=\"datetime-local\" name=\"at\"></label>"));
            b.append(reasonForm(r, "/console/admin/account/compromised", hidden, "パスワード漏えい（変更を強制）",
                    "Password compromised (force change)", ""));
        }
        if (a.status() != Account.Status.RETIRED) {
            b.append("<form method=\"post\" action=\"/console/admin/account/qualification\" class=\"inline\">").append(hidden)
                    .append("<label>").append(r.t("資格を追加", "Add a qualification")).append("<select name=\"qualification\">");
            for (Accounts.CatalogueEntry q : id.accounts().catalogue()) {
                b.append("<option value=\"").append(esc(q.code())).append("\">").append(esc(r.t(q.nameJa(), q.nameEn())))
                        .append("</option>");
            }
            b.append("</select></label><label>").append(r.t("免許番号", "Licence number"))
                    .append("<input name=\"licence\" maxlength=\"40\"></label><button type=\"submit\">")
                    .append(r.t("追加", "Add")).append("</button></form>");
        }
        b.append("</section><section class=\"card\"><h2>").append(r.t("本人確認の記録", "Identity proofing")).append("</h2><table><tbody>");
        for (Accounts.Proofing p : id.accounts().proofings(a.id())) {
            b.append("<tr><td>").append(esc(p.method())).append("</td><td>").append(esc(p.documentType())).append("</td><td>")
                    .append(esc(p.documentNote())).append("</td><td>").append(esc(p.verifiedBy())).append("</td><td>")
                    .append(time(p.verifiedAt())).append("</td></tr>");
        }
        b.append("</tbody></table><details><summary>").append(r.t("本人確認を追加", "Add a proofing record")).append("</summary>")
                .append("<form method=\"post\" action=\"/console/admin/account/proofing\" class=\"stack\">").append(hidden)
                .append(proofingFields(r)).append("<button type=\"submit\">").append(r.t("記録", "Record")).append("</button></form></details></section>");
        b.append("<section class=\"card\"><h2>").append(r.t("セッション", "Sessions")).append("</h2>")
                .append(sessionTable(r, id.sessions().open(Optional.of(a.id())), "/console/admin/sessions/end")).append("</section>");
        b.append("<section class=\"card\"><h2>").append(r.t("変更履歴", "Change history")).append("</h2><table id=\"history\"><thead><tr><th>")
                .append(r.t("日時", "When")).append("</th><th>").append(r.t("実施者", "By")).append("</th><th>")
                .append(r.t("内容", "What")).append("</th><th></th></tr></thead><tbody>");
        for (Accounts.Change c : id.accounts().history(a.id())) {
            b.append("<tr><td>").append(time(c.at())).append("</td><td>").append(esc(c.by())).append("</td><td>")
                    .append(esc(c.action())).append("</td><td><code>").append(esc(c.detail())).append("</code></td></tr>");
        }
        b.append("</tbody></table></section>");
        return console.page(r, r.t("アカウント：", "Account: ") + a.loginId(), b.toString());
    }

    private static String reasonForm(ConsoleRequest r, String action, String hidden, String ja, String en, String extra) {
        return "<form method=\"post\" action=\"" + action + "\" class=\"inline\">" + hidden + extra + "<label>"
                + r.t("理由", "Reason") + "<input name=\"reason\" required maxlength=\"500\"></label><button type=\"submit\">"
                + esc(r.t(ja, en)) + "</button></form>";
    }

    private Reply issueCode(ConsoleRequest r) {
        Account a = target(r);
        String code = id.accounts().issueEnrolmentCode(a.id(), id.settings().enrolmentCodeTtl(), r.session().principal());
        String link = id.settings().origins().iterator().next() + "/console/enrol?code=" + URLEncoder.encode(code, StandardCharsets.UTF_8);
        String extra = "<section class=\"card\"><h2>" + r.t("登録コード（この画面でのみ表示）", "Enrolment code (shown only now)")
                + "</h2><p>" + r.t("本人に直接渡してください。", "Hand it to the person directly.") + " "
                + r.t("有効期限：", "Expires: ") + time(Instant.now().plus(id.settings().enrolmentCodeTtl()))
                + "</p><p><code id=\"enrolment-code\">" + esc(code) + "</code></p><p><code id=\"enrolment-link\">" + esc(link)
                + "</code></p></section>";
        return accountPage(r, "登録コードを発行しました / Enrolment code issued", extra);
    }

    private Reply suspend(ConsoleRequest r) {
        id.accounts().suspend(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, "停止しました。セッションは終了しました / Suspended; its sessions ended", "");
    }

    private Reply reactivate(ConsoleRequest r) {
        id.accounts().reactivate(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, "再開しました / Reactivated", "");
    }

    private Reply retire(ConsoleRequest r) {
        Instant at = null;
        if (!r.param("at").isBlank()) {
            try {
                at = java.time.LocalDateTime.parse(r.param("at")).atZone(Html.JST).toInstant();
            } catch (DateTimeParseException e) {
                throw new IdentityException("日時の形式が正しくありません / The date and time are not valid");
            }
        }
        id.accounts().retire(target(r).id(), at, r.param("reason"), r.session().principal());
        return accountPage(r, at == null ? "退職処理をしました。セッションは終了しました / Retired; its sessions ended"
                : "退職日時を設定しました / Retirement scheduled", "");
    }

    private Reply compromised(ConsoleRequest r) {
        id.accounts().markPasswordCompromised(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, "次回ログイン時にパスワード変更が必要になりました / A password change is now required", "");
    }

    private Reply addProofing(ConsoleRequest r) {
        Account a = target(r);
        id.accounts().addProofingRecord(a.id(), proofing(r), r.session().principal());
        return accountPage(r, "本人確認を記録しました / Proofing recorded", "");
    }

    private Reply addQualification(ConsoleRequest r) {
        Account a = target(r);
        id.accounts().addQualification(a.id(), new Accounts.QualificationGrant(r.param("qualification"),
                r.param("licence")), r.session().principal());
        return accountPage(r, "資格を追加しました / Qualification added", "");
    }

    private Reply unused(ConsoleRequest r) {
        int days = id.settings().unusedDays();
        StringBuilder b = new StringBuilder("<p>").append(r.t(days + " 日以上ログインのない有効なアカウントです。", "Active accounts without a login for "
                + days + " days or more. ")).append(id.settings().suspendUnused()
                ? r.t("方針により自動的に停止されます（非常時用を除く）。", "By policy they are suspended automatically (except emergency accounts).")
                : r.t("方針により報告のみです（逸脱として記録）。", "By policy they are only reported (a recorded deviation)."))
                .append("</p><table id=\"unused\"><thead><tr><th>").append(r.t("ログインID", "Login id")).append("</th><th>")
                .append(r.t("氏名", "Name")).append("</th><th>").append(r.t("最終利用", "Last used")).append("</th><th>")
                .append(r.t("日数", "Days")).append("</th></tr></thead><tbody>");
        for (Accounts.Unused u : id.accounts().unused(days)) {
            b.append("<tr><td><a href=\"/console/admin/account?id=").append(u.account().id()).append("\">")
                    .append(esc(u.account().loginId())).append("</a></td><td>").append(esc(u.account().displayName()))
                    .append("</td><td>").append(time(u.lastUsed())).append("</td><td>").append(u.idleDays()).append("</td></tr>");
        }
        b.append("</tbody></table>");
        return console.page(r, r.t("未使用アカウント", "Unused accounts"), b.toString());
    }

    private Reply sessions(ConsoleRequest r) {
        return console.page(r, r.t("ログイン中のセッション", "Open sessions"),
                sessionTable(r, id.sessions().open(Optional.empty()), "/console/admin/sessions/end"));
    }

    private Reply endSession(ConsoleRequest r) {
        Optional<UUID> who = id.sessions().endByRef(r.param("session"), Optional.empty(), r.session().principal(),
                "ended by an administrator");
        if (who.isPresent() && r.param("session").equals(r.session().ref())) {
            return console.clearSession(Console.redirect("/console/login"));
        }
        return sessions(r);
    }

    private String sessionTable(ConsoleRequest r, List<Sessions.Info> list, String action) {
        StringBuilder b = new StringBuilder("<table class=\"sessions\"><thead><tr><th>").append(r.t("アカウント", "Account"))
                .append("</th><th>").append(r.t("開始", "Started")).append("</th><th>").append(r.t("最終操作", "Last seen"))
                .append("</th><th>").append(r.t("状態", "State")).append("</th><th>").append(r.t("接続元", "From"))
                .append("</th><th></th></tr></thead><tbody>");
        for (Sessions.Info i : list) {
            boolean mine = r.session() != null && i.ref().equals(r.session().ref());
            b.append("<tr><td>").append(esc(i.loginId())).append(mine ? r.t("（この画面）", " (this one)") : "").append("</td><td>")
                    .append(time(i.createdAt())).append("</td><td>").append(time(i.lastSeenAt())).append("</td><td>")
                    .append(i.locked() ? r.t("ロック中", "locked") : i.stage() == Sessions.Stage.AUTHENTICATED ? r.t("ログイン中", "active")
                            : r.t("認証途中", "signing in")).append(" ").append(esc(i.amr())).append("</td><td>").append(esc(i.address()))
                    .append("</td><td><form method=\"post\" action=\"").append(action).append("\">").append(csrf(r))
                    .append("<input type=\"hidden\" name=\"session\" value=\"").append(esc(i.ref())).append("\"><button type=\"submit\" class=\"secondary\">")
                    .append(r.t("終了", "End")).append("</button></form></td></tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    // ---- MFA exceptions -----------------------------------------------------------------------------------

    private Reply exceptions(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(r.t("物理的な入退室管理（ICカード＋静脈認証など）で本人が特定できる区域の端末に限り、二要素目を省略できます（AUTH-4）。"
                        + "例外はすべてコンプライアンス報告に逸脱として表示されます。",
                "Only terminals in areas whose entry control identifies the person (e.g. IC card + vein check) may skip the second"
                        + " factor (AUTH-4). Every exception is reported as a deviation.")).append("</p>");
        b.append("<table><thead><tr><th>").append(r.t("名前", "Name")).append("</th><th>").append(r.t("アドレス", "Addresses"))
                .append("</th><th>").append(r.t("代替策", "Compensating control")).append("</th><th>").append(r.t("期限", "Expires"))
                .append("</th><th>").append(r.t("状態", "State")).append("</th><th></th></tr></thead><tbody>");
        Instant now = console.clock().instant();
        for (MfaExceptions.Exception e : id.mfaExceptions().list()) {
            b.append("<tr><td>").append(esc(e.name())).append("</td><td>").append(esc(e.addressRange())).append("</td><td>")
                    .append(esc(e.compensatingControl())).append("</td><td>").append(time(e.expiresAt())).append("</td><td>")
                    .append(e.inForce(now) ? r.t("有効", "in force") : r.t("無効", "ended")).append("</td><td>");
            if (e.inForce(now)) {
                b.append("<form method=\"post\" action=\"/console/admin/mfa-exceptions/revoke\">").append(csrf(r))
                        .append("<input type=\"hidden\" name=\"exception\" value=\"").append(e.id()).append("\"><button type=\"submit\" class=\"secondary\">")
                        .append(r.t("取消", "Revoke")).append("</button></form>");
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table><form method=\"post\" action=\"/console/admin/mfa-exceptions\" class=\"stack\">").append(csrf(r))
                .append(field(r, "name", "名前（例：救急外来 処置室端末）", "Name (e.g. ER treatment room terminal)", "text", "off", true))
                .append(field(r, "range", "端末のIPアドレスまたは範囲", "Terminal IP address or range", "text", "off", true))
                .append("<label>").append(r.t("代替となる管理策", "Compensating control")).append("<textarea name=\"control\" required minlength=\"10\">")
                .append(esc(r.param("control"))).append("</textarea></label>")
                .append("<label>").append(r.t("期限", "Expires")).append("<input type=\"date\" name=\"expires\" required></label>")
                .append("<button type=\"submit\">").append(r.t("例外を登録", "Grant the exception")).append("</button></form>");
        return console.page(r, r.t("二要素認証の例外端末", "Two-factor exceptions"), b.toString());
    }

    private Reply grantException(ConsoleRequest r) {
        try {
            id.mfaExceptions().grant(r.param("name"), r.param("range"), r.param("control"),
                    date(r.param("expires"), "期限 / expiry"), r.session().principal());
            return Console.redirect("/console/admin/mfa-exceptions");
        } catch (IdentityException e) {
            return Console.status(exceptions(r, e.getMessage()), 400);
        }
    }

    private Reply revokeException(ConsoleRequest r) {
        try {
            id.mfaExceptions().revoke(UUID.fromString(r.param("exception")), r.session().principal());
        } catch (IllegalArgumentException e) {
            throw new IdentityException("例外が見つかりません / No such exception");
        }
        return Console.redirect("/console/admin/mfa-exceptions");
    }

    // ---- emergencies --------------------------------------------------------------------------------------

    private Reply emergency(ConsoleRequest r, String error, Emergencies.Sealed sealed) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        if (sealed != null) {
            b.append("<section class=\"card sealed\"><h2>").append(r.t("非常時用アカウント（印刷して封緘）", "Emergency account (print and seal)"))
                    .append("</h2><p>").append(r.t("この画面でのみ表示されます。", "Shown only now.")).append("</p><dl>")
                    .append(dt(r, "ログインID", "Login id", sealed.account().loginId()))
                    .append("<dt>").append(r.t("パスワード", "Password")).append("</dt><dd><code id=\"sealed-password\">")
                    .append(esc(sealed.password())).append("</code></dd></dl></section>");
        }
        Optional<Emergencies.Declaration> current = id.emergencies().current();
        b.append("<section class=\"card\"><h2>").append(r.t("非常時の宣言", "Emergency declaration")).append("</h2>");
        if (current.isPresent()) {
            Emergencies.Declaration d = current.get();
            b.append(Html.message("error", "非常時を宣言中：" + d.declaredBy() + "（" + time(d.declaredAt()) + "〜" + time(d.expiresAt())
                            + "）" + d.reason() + " / Emergency declared"))
                    .append("<form method=\"post\" action=\"/console/admin/emergency/end\">").append(csrf(r))
                    .append("<button type=\"submit\">").append(r.t("非常時を終了（非常時用セッションも終了）", "End the emergency (ends emergency sessions)"))
                    .append("</button></form>");
        } else {
            b.append("<form method=\"post\" action=\"/console/admin/emergency/declare\" class=\"stack\">").append(csrf(r))
                    .append(field(r, "declared_by", "宣言者の氏名", "Declared by (name)", "text", "off", true))
                    .append(field(r, "reason", "理由", "Reason", "text", "off", true))
                    .append("<label>").append(r.t("時間（1〜24）", "Hours (1-24)")).append("<input type=\"number\" name=\"hours\" min=\"1\" max=\"24\" value=\"4\"></label>")
                    .append("<button type=\"submit\">").append(r.t("非常時を宣言", "Declare an emergency")).append("</button></form>");
        }
        b.append("</section><section class=\"card\"><h2>").append(r.t("非常時用アカウントの作成", "Create an emergency account"))
                .append("</h2><form method=\"post\" action=\"/console/admin/emergency/accounts\" class=\"inline\">").append(csrf(r))
                .append(field(r, "label", "識別名（例 er-1）", "Label (e.g. er-1)", "text", "off", true))
                .append("<button type=\"submit\">").append(r.t("作成", "Create")).append("</button></form></section>");
        b.append("<section class=\"card\"><h2>").append(r.t("非常時用アカウントの利用（復旧後に確認）", "Emergency account uses (review after recovery)"))
                .append("</h2><table id=\"emergency-uses\"><thead><tr><th>").append(r.t("アカウント", "Account")).append("</th><th>")
                .append(r.t("開始", "Started")).append("</th><th>").append(r.t("接続元", "From")).append("</th><th>")
                .append(r.t("確認", "Review")).append("</th></tr></thead><tbody>");
        for (Emergencies.Use u : id.emergencies().uses(false)) {
            b.append("<tr><td>").append(esc(u.loginId())).append("</td><td>").append(time(u.startedAt())).append("</td><td>")
                    .append(esc(u.address())).append("</td><td>");
            if (u.reviewedAt() == null) {
                b.append("<form method=\"post\" action=\"/console/admin/emergency/review\" class=\"inline\">").append(csrf(r))
                        .append("<input type=\"hidden\" name=\"use\" value=\"").append(u.id()).append("\"><input name=\"note\" required minlength=\"5\" placeholder=\"")
                        .append(r.t("確認結果", "Finding")).append("\"><button type=\"submit\">").append(r.t("確認済にする", "Sign off")).append("</button></form>");
            } else {
                b.append(esc(u.reviewedBy())).append(" ").append(time(u.reviewedAt())).append(" ").append(esc(u.reviewNote()));
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table></section>");
        return console.page(r, r.t("非常時アクセス", "Emergency access"), b.toString());
    }

    private Reply declare(ConsoleRequest r) {
        try {
            int hours = Integer.parseInt(r.param("hours").isBlank() ? "4" : r.param("hours"));
            id.emergencies().declare(r.param("declared_by") + "（" + r.session().loginId() + "）", r.param("reason"),
                    Duration.ofHours(hours));
            return Console.redirect("/console/admin/emergency");
        } catch (NumberFormatException e) {
            return Console.status(emergency(r, "時間は1〜24の数字です / Hours must be a number from 1 to 24", null), 400);
        } catch (IdentityException e) {
            return Console.status(emergency(r, e.getMessage(), null), 400);
        }
    }

    private Reply endEmergency(ConsoleRequest r) {
        id.emergencies().end(r.session().principal());
        return Console.redirect("/console/admin/emergency");
    }

    private Reply createEmergencyAccount(ConsoleRequest r) {
        try {
            return emergency(r, "", id.emergencies().create(r.param("label"), null, r.session().principal()));
        } catch (IdentityException e) {
            return Console.status(emergency(r, e.getMessage(), null), 400);
        }
    }

    private Reply review(ConsoleRequest r) {
        try {
            id.emergencies().review(Long.parseLong(r.param("use")), r.session().principal(), r.param("note"));
            return Console.redirect("/console/admin/emergency");
        } catch (NumberFormatException e) {
            throw new IdentityException("利用記録が見つかりません / No such use");
        } catch (IdentityException e) {
            return Console.status(emergency(r, e.getMessage(), null), 400);
        }
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    private static String dt(ConsoleRequest r, String ja, String en, String value) {
        return "<dt>" + esc(r.t(ja, en)) + "</dt><dd>" + esc(value) + "</dd>";
    }

    private static String qualifications(Account a) {
        List<String> out = new ArrayList<>();
        for (Account.Qualification q : a.qualifications()) {
            out.add(q.nameJa() + (q.licenceNumber() == null ? "" : "（" + q.licenceNumber() + "）"));
        }
        return String.join("、", out);
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
