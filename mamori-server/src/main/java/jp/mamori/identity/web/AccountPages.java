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

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.identity.web.AccountWords.when;
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
        console.route("GET", "/console/admin/account", ADMIN, false, r -> accountPage(r, "", null));
        console.route("POST", "/console/admin/account/enrolment-code", ADMIN, true, this::issueCode);
        console.route("POST", "/console/admin/account/suspend", ADMIN, true, this::suspend);
        console.route("POST", "/console/admin/account/reactivate", ADMIN, true, this::reactivate);
        console.route("POST", "/console/admin/account/retire", ADMIN, true, this::retire);
        console.route("POST", "/console/admin/account/compromised", ADMIN, true, this::compromised);
        console.route("POST", "/console/admin/account/proofing", ADMIN, true, this::addProofing);
        console.route("POST", "/console/admin/account/qualification", ADMIN, true, this::addQualification);
        console.route("GET", "/console/admin/locks", ADMIN, false, r -> locks(r, "", ""));
        console.route("POST", "/console/admin/locks/release", ADMIN, true, this::releaseLock);
        console.route("GET", "/console/admin/unused", ADMIN, false, this::unused);
        console.route("GET", "/console/admin/sessions", ADMIN, false, this::sessions);
        console.route("POST", "/console/admin/sessions/end", ADMIN, true, this::endSession);
        console.route("GET", "/console/admin/mfa-exceptions", ADMIN, false, r -> exceptions(r, ""));
        console.route("POST", "/console/admin/mfa-exceptions", ADMIN, true, this::grantException);
        console.route("POST", "/console/admin/mfa-exceptions/revoke", ADMIN, true, this::revokeException);
        console.route("GET", "/console/admin/emergency", ADMIN, false, r -> emergency(r, "", null));
        // DEGRADED-2: an emergency can be declared and ended in degraded mode too (held until the database returns)
        console.routeReading("POST", "/console/admin/emergency/declare", ADMIN, true, this::declare);
        console.routeReading("POST", "/console/admin/emergency/end", ADMIN, true, this::endEmergency);
        console.route("POST", "/console/admin/emergency/accounts", ADMIN, true, this::createEmergencyAccount);
        console.route("POST", "/console/admin/emergency/review", ADMIN, true, this::review);
    }

    // ---- my account ---------------------------------------------------------------------------------------

    private Reply me(ConsoleRequest r, String notice) {
        return console.page(r, 200, r.messages().get("identity.me.title"), "identity/me.jte", meView(r, notice));
    }

    AccountViews.Me meView(ConsoleRequest r, String notice) {
        Sessions.Session s = r.session();
        Account a = id.accounts().find(s.accountId()).orElseThrow();
        List<AccountViews.PasskeyRow> passkeys = id.passkeys().list(a.id()).stream().map(p -> new AccountViews.PasskeyRow(
                p.credentialId(), p.nickname(), when(r, p.createdAt()), when(r, p.lastUsedAt()))).toList();
        return new AccountViews.Me(notice, fullName(a), a.loginId(), qualifications(a), String.join("、", a.departments()),
                passkeys, id.factors().hasTotp(a.id()), id.factors().recoveryCodesLeft(a.id()),
                sessionTable(r, id.sessions().open(Optional.of(a.id())), "/console/me/sessions/end"), r.csrf(),
                console.parts(Console.Place.ACCOUNT, r));
    }

    private Reply endMySession(ConsoleRequest r) {
        Sessions.Session s = r.session();
        Optional<UUID> ended = id.sessions().endByRef(r.param("session"), Optional.of(s.accountId()), s.principal(),
                "ended by its owner");
        if (ended.isPresent() && r.param("session").equals(s.ref())) {
            return console.clearSession(Console.redirect("/console/login"));
        }
        return me(r, ended.isPresent() ? r.messages().get("identity.notice.sessionEnded") : "");
    }

    private Reply passwordPage(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("identity.password.title"), "identity/password.jte",
                new AccountViews.Password(error, r.session().mustChangePassword(), r.csrf()));
    }

    private Reply changePassword(ConsoleRequest r) {
        try {
            id.enrolment().changePassword(r.session(), r.param("current").toCharArray(), r.param("password").toCharArray(),
                    r.param("password2").toCharArray());
            id.logins().event(r.session().accountId(), r.session().loginId(), r.address(), "password.changed", true, null);
            return me(r, r.messages().get("identity.notice.passwordChanged"));
        } catch (IdentityException e) {
            return Console.status(passwordPage(r, e.getMessage()), 400);
        }
    }

    private Reply addPasskeyPage(ConsoleRequest r) {
        Sessions.Session s = r.session();
        return console.page(r, 200, r.messages().get("identity.addPasskey.title"), "identity/addPasskey.jte",
                AuthPages.passkey(r, "/console/me/passkeys/add", "register",
                        id.passkeys().startRegistration(s.accountId(), s.loginId(), s.displayName()), null));
    }

    private Reply addPasskey(ConsoleRequest r) {
        Sessions.Session s = r.session();
        id.passkeys().finishRegistration(s.accountId(), r.param("request"), r.param("response"), AuthPages.nickname(r));
        id.accounts().note(s.accountId(), s.principal(), "factor.passkey_registered", Map.of());
        return me(r, r.messages().get("identity.notice.passkeyRegistered"));
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
        return me(r, r.messages().get("identity.notice.passkeyRemoved"));
    }

    private Reply newRecoveryCodes(ConsoleRequest r) {
        List<String> codes = id.factors().newRecoveryCodes(r.session().accountId(), r.session().principal());
        return new AuthPages(id, access, console).recoveryCodesPage(r, codes, r.messages().get("identity.newCodes.title"));
    }

    // ---- ledger ---------------------------------------------------------------------------------------------

    private Reply ledger(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("identity.ledger.title"), "identity/ledger.jte", ledgerView(r));
    }

    AccountViews.Ledger ledgerView(ConsoleRequest r) {
        String filter = r.param("status");
        List<AccountViews.StatusFilter> statuses = new ArrayList<>();
        for (Account.Status st : Account.Status.values()) {
            statuses.add(new AccountViews.StatusFilter(st.code, r.lang().t(st.ja, st.en)));
        }
        List<AccountViews.LedgerRow> rows = new ArrayList<>();
        for (Account a : id.accounts().list()) {
            if (!filter.isEmpty() && !a.status().code.equals(filter)) {
                continue;
            }
            rows.add(new AccountViews.LedgerRow(a.id().toString(), a.loginId(), a.displayName(),
                    r.lang().t(a.type().ja, a.type().en), a.status().code, r.lang().t(a.status().ja, a.status().en),
                    qualifications(a), when(r, a.lastLoginAt()), when(r, a.retireAt())));
        }
        return new AccountViews.Ledger(statuses, rows, id.logins().lockedAccounts(console.clock().instant()).size());
    }

    private Reply ledgerCsv(ConsoleRequest r) {
        Sessions.Session s = r.session();
        String csv = id.accounts().ledgerCsv(Html.JST);
        id.logins().event(s.accountId(), s.loginId(), r.address(), "export.account_ledger", true, "CSV");
        return Reply.of(200, "text/csv;charset=UTF-8", csv).header("Content-Disposition",
                "attachment; filename=\"mamori-accounts-" + LocalDate.now(Html.JST) + ".csv\"");
    }

    private Reply newAccountPage(ConsoleRequest r, String error) {
        List<AccountViews.QualificationChoice> catalogue = new ArrayList<>();
        for (Accounts.CatalogueEntry q : id.accounts().catalogue()) {
            catalogue.add(new AccountViews.QualificationChoice(q.code(), r.lang().t(q.nameJa(), q.nameEn()),
                    r.params("qualification").contains(q.code()), q.licenceRequired() ? q.licenceLabelJa() : null,
                    r.param("licence_" + q.code())));
        }
        return console.page(r, 200, r.messages().get("identity.newAccount.title"), "identity/newAccount.jte",
                new AccountViews.NewAccount(error, r.param("login_id"), r.param("family_name"), r.param("given_name"),
                        r.param("family_kana"), r.param("given_kana"), catalogue, r.param("departments"),
                        proofingForm(r), r.csrf(), r.param("type").isEmpty() ? "staff" : r.param("type"),
                        r.param("institution_name"), r.param("institution_code")));
    }

    /** The proofing fields as the form shows them again; the day verified is today until one is given. */
    private static AccountViews.ProofingForm proofingForm(ConsoleRequest r) {
        return new AccountViews.ProofingForm(r.param("proof_note"), r.param("proof_by"),
                r.param("proof_date").isEmpty() ? LocalDate.now(Html.JST).toString() : r.param("proof_date"));
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
            Account.Type type = r.param("type").equals("vendor") ? Account.Type.VENDOR
                    : r.param("type").equals("partner") ? Account.Type.PARTNER : Account.Type.STAFF;
            if (type == Account.Type.PARTNER) {
                // a partner clinician of another institution (issue 21, AUTH-11): its institution, no role, no
                // department of this hospital; what it reaches comes only from shares
                if (r.param("admin").equals("1")) {
                    throw new IdentityException("連携先医療者を管理者にはできません / A partner clinician cannot be an"
                            + " administrator");
                }
                Account a = id.accounts().createPartner(new Accounts.NewAccount(r.param("login_id"),
                        r.param("family_name"), r.param("given_name"), r.param("family_kana"), r.param("given_kana"),
                        type, quals, List.of(), Set.of(), proofing(r)), new jp.mamori.identity.PartnerInstitutions
                        .Institution(r.param("institution_name"), r.param("institution_code")),
                        r.session().principal());
                return Console.redirect("/console/admin/account?id=" + a.id());
            }
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

    /** @param issued the enrolment code just issued, or null */
    private Reply accountPage(ConsoleRequest r, String notice, AccountViews.Issued issued) {
        AccountViews.Detail v = accountView(r, notice, issued);
        return console.page(r, 200, r.messages().get("identity.account.title", v.loginId()), "identity/account.jte", v);
    }

    AccountViews.Detail accountView(ConsoleRequest r, String notice, AccountViews.Issued issued) {
        Account a = target(r);
        Account.Status status = a.status();
        boolean emergency = a.type() == Account.Type.EMERGENCY;
        List<AccountViews.Option> catalogue = status == Account.Status.RETIRED ? List.of() : id.accounts().catalogue()
                .stream().map(q -> new AccountViews.Option(q.code(), r.lang().t(q.nameJa(), q.nameEn()))).toList();
        AccountWords words = new AccountWords(id, r);
        List<AccountViews.ProofingRow> proofings = id.accounts().proofings(a.id()).stream()
                .map(p -> new AccountViews.ProofingRow(words.method(p.method()), words.document(p.documentType()),
                        p.documentNote(), words.verifier(p.verifiedBy()), AccountWords.day(r, p.verifiedAt()))).toList();
        List<AccountViews.Change> history = id.accounts().history(a.id()).stream()
                .map(c -> new AccountViews.Change(when(r, c.at()), words.actor(c.by()), words.sentence(c))).toList();
        String lock = id.logins().lockedAccounts(console.clock().instant()).stream()
                .filter(l -> l.accountId().equals(a.id())).findFirst()
                .map(l -> r.messages().get("identity.account.lockedUntil", AccountWords.DATES.time(l.lockedUntil())))
                .orElse("");
        return new AccountViews.Detail(notice, issued, a.id().toString(), fullName(a), a.loginId(),
                r.lang().t(a.type().ja, a.type().en) + (a.type() == Account.Type.PARTNER ? id.accounts()
                        .partnerInstitution(a.id()).map(i -> "（" + i.label() + "）").orElse("") : ""),
                r.lang().t(status.ja, status.en)
                + (a.statusReason() == null ? "" : "（" + a.statusReason() + "）") + lock, qualifications(a),
                String.join("、", a.departments()), String.join("、", a.roles().stream().map(words::role).toList()),
                when(r, a.createdAt()) + " " + words.actor(a.createdBy()), when(r, a.lastLoginAt()), when(r, a.retireAt()),
                !emergency && (status == Account.Status.CREATED || status == Account.Status.ENROLMENT_PENDING),
                !emergency && status == Account.Status.ACTIVE,
                status != Account.Status.RETIRED && status != Account.Status.SUSPENDED,
                status == Account.Status.SUSPENDED, status != Account.Status.RETIRED, catalogue, proofings,
                proofingForm(r), sessionTable(r, id.sessions().open(Optional.of(a.id())), "/console/admin/sessions/end"),
                history, r.csrf());
    }

    private Reply issueCode(ConsoleRequest r) {
        Account a = target(r);
        String code = id.accounts().issueEnrolmentCode(a.id(), id.settings().enrolmentCodeTtl(), r.session().principal());
        String link = id.settings().origins().iterator().next() + "/console/enrol?code=" + URLEncoder.encode(code, StandardCharsets.UTF_8);
        return accountPage(r, r.messages().get("identity.notice.codeIssued"), new AccountViews.Issued(code, link,
                when(r, Instant.now().plus(id.settings().enrolmentCodeTtl()))));
    }

    private Reply suspend(ConsoleRequest r) {
        id.accounts().suspend(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, r.messages().get("identity.notice.suspended"), null);
    }

    private Reply reactivate(ConsoleRequest r) {
        id.accounts().reactivate(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, r.messages().get("identity.notice.reactivated"), null);
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
        return accountPage(r, at == null ? r.messages().get("identity.notice.retired")
                : r.messages().get("identity.notice.retirementScheduled"), null);
    }

    private Reply compromised(ConsoleRequest r) {
        id.accounts().markPasswordCompromised(target(r).id(), r.param("reason"), r.session().principal());
        return accountPage(r, r.messages().get("identity.notice.compromised"), null);
    }

    private Reply addProofing(ConsoleRequest r) {
        Account a = target(r);
        id.accounts().addProofingRecord(a.id(), proofing(r), r.session().principal());
        return accountPage(r, r.messages().get("identity.notice.proofingRecorded"), null);
    }

    private Reply addQualification(ConsoleRequest r) {
        Account a = target(r);
        id.accounts().addQualification(a.id(), new Accounts.QualificationGrant(r.param("qualification"),
                r.param("licence")), r.session().principal());
        return accountPage(r, r.messages().get("identity.notice.qualificationAdded"), null);
    }

    // ---- locked after failed logins ------------------------------------------------------------------------

    private Reply locks(ConsoleRequest r, String notice, String error) {
        return console.page(r, 200, r.messages().get("identity.locks.title"), "identity/locks.jte",
                locksView(r, notice, error));
    }

    AccountViews.Locks locksView(ConsoleRequest r, String notice, String error) {
        List<AccountViews.LockRow> rows = id.logins().lockedAccounts(console.clock().instant()).stream()
                .map(l -> new AccountViews.LockRow(l.accountId().toString(), l.loginId(), l.displayName(), l.failures(),
                        when(r, l.lastFailureAt()), AccountWords.DATES.time(l.lockedUntil()),
                        l.accountId().toString().equals(r.param("id")) ? r.param("reason") : "")).toList();
        return new AccountViews.Locks(notice.isEmpty() && r.param("released").equals("1")
                ? r.messages().get("identity.notice.lockReleased") : notice, error, rows, r.csrf());
    }

    /** Releases a lock before it ends (POST, CSRF, step-up by the gate); recorded with who and why. */
    private Reply releaseLock(ConsoleRequest r) {
        UUID account;
        try {
            account = UUID.fromString(r.param("id"));
        } catch (IllegalArgumentException e) {
            return Console.status(locks(r, "", "アカウントが見つかりません / No such account"), 400);
        }
        try {
            id.logins().releaseLock(account, r.session().principal(), r.param("reason"), r.address());
        } catch (IdentityException e) {
            return Console.status(locks(r, "", e.getMessage()), 400);
        }
        return Console.redirect("/console/admin/locks?released=1");
    }

    private Reply unused(ConsoleRequest r) {
        int days = id.settings().unusedDays();
        List<AccountViews.UnusedRow> rows = id.accounts().unused(days).stream().map(u -> new AccountViews.UnusedRow(
                u.account().id().toString(), u.account().loginId(), u.account().displayName(), when(r, u.lastUsed()),
                u.idleDays())).toList();
        return console.page(r, 200, r.messages().get("identity.unused.title"), "identity/unused.jte",
                new AccountViews.Unused(days, id.settings().suspendUnused(), rows));
    }

    private Reply sessions(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("identity.sessions.title"), "identity/sessions.jte",
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

    static AccountViews.SessionTable sessionTable(ConsoleRequest r, List<Sessions.Info> list, String action) {
        List<AccountViews.SessionRow> rows = new ArrayList<>();
        AccountWords words = new AccountWords(null, r);
        for (Sessions.Info i : list) {
            boolean mine = r.session() != null && i.ref().equals(r.session().ref());
            String state = i.locked() ? "locked" : i.stage() == Sessions.Stage.AUTHENTICATED ? "active" : "signingIn";
            rows.add(new AccountViews.SessionRow(i.ref(), i.loginId(), mine, when(r, i.createdAt()), when(r, i.lastSeenAt()),
                    state, words.amr(i.amr()), i.address()));
        }
        return new AccountViews.SessionTable(action, rows, r.csrf());
    }

    // ---- MFA exceptions -----------------------------------------------------------------------------------

    private Reply exceptions(ConsoleRequest r, String error) {
        Instant now = console.clock().instant();
        List<AccountViews.ExceptionRow> rows = id.mfaExceptions().list().stream().map(e -> new AccountViews.ExceptionRow(
                e.id().toString(), e.name(), e.addressRange(), e.compensatingControl(), when(r, e.expiresAt()),
                e.inForce(now))).toList();
        return console.page(r, 200, r.messages().get("identity.exceptions.title"), "identity/exceptions.jte",
                new AccountViews.Exceptions(error, rows, r.param("name"), r.param("range"), r.param("control"), r.csrf()));
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
        return console.page(r, 200, r.messages().get("identity.emergency.title"), "identity/emergency.jte",
                emergencyView(r, error, sealed));
    }

    AccountViews.Emergency emergencyView(ConsoleRequest r, String error, Emergencies.Sealed sealed) {
        AccountViews.Declaration declaration = id.emergencies().current().map(d -> new AccountViews.Declaration(
                d.declaredBy(), when(r, d.declaredAt()), when(r, d.expiresAt()), d.reason())).orElse(null);
        List<AccountViews.Use> uses = id.emergencies().uses(false).stream().map(u -> new AccountViews.Use(u.id(),
                u.loginId(), when(r, u.startedAt()), u.address(), u.reviewedAt() != null, u.reviewedBy(),
                when(r, u.reviewedAt()), u.reviewNote())).toList();
        return new AccountViews.Emergency(error, sealed == null ? null
                : new AccountViews.Sealed(sealed.account().loginId(), sealed.password()), declaration,
                r.param("declared_by"), r.param("reason"), r.param("label"), uses, r.csrf());
    }

    private Reply declare(ConsoleRequest r) {
        try {
            int hours = Integer.parseInt(r.param("hours").isBlank() ? "4" : r.param("hours"));
            id.emergencies().declare(r.param("declared_by") + "（" + r.session().loginId() + "）", r.param("reason"),
                    Duration.ofHours(hours));
            return Console.redirect("/console/admin/emergency");
        } catch (NumberFormatException e) {
            return Console.status(emergency(r, r.messages().get("identity.emergency.badHours"), null), 400);
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

    /** The display name with the kana: 山田 花子（ヤマダ ハナコ）. */
    private static String fullName(Account a) {
        return a.displayName() + "（" + a.familyKana() + " " + a.givenKana() + "）";
    }

    static String qualifications(Account a) {
        List<String> out = new ArrayList<>();
        for (Account.Qualification q : a.qualifications()) {
            out.add(q.nameJa() + (q.licenceNumber() == null ? "" : "（" + q.licenceNumber() + "）"));
        }
        return String.join("、", out);
    }
}
