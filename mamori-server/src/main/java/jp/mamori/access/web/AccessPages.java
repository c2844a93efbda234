package jp.mamori.access.web;

import jp.mamori.access.AccessAdmin;
import jp.mamori.access.AccessException;
import jp.mamori.access.AccessReports;
import jp.mamori.access.AccessReviews;
import jp.mamori.access.Action;
import jp.mamori.access.CareRelationships;
import jp.mamori.access.Category;
import jp.mamori.access.PersonContext;
import jp.mamori.access.Roles;
import jp.mamori.access.SensitivityPrivileges;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.Purpose;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Identity;
import jp.mamori.identity.IdentityException;
import jp.mamori.web.Reply;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Html.time;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/**
 * Access management in the console (ACCESS-1..5, ACCESS-12): roles and their permissions, role assignments
 * per department with the four-eyes approval queue, care relationships per patient, sensitivity privileges,
 * the change history, the periodic access review and its reports. Administrators only; every change needs
 * a fresh second factor (the gate checks both). The services enforce who may do what; pages only show it.
 * Each page is a view model ({@link AccessViews}) rendered by a template {@code access/admin*.jte}, with its
 * texts in the access bundle ({@code access.admin.*}).
 */
public final class AccessPages {
    private final Identity id;
    private final AccessAdmin access;
    private final Console console;
    private final PatientDirectory patients;

    /** @param patients where the care page finds patients and names them (demographics only, recorded) */
    public AccessPages(Identity id, AccessAdmin access, Console console, PatientDirectory patients) {
        this.id = id;
        this.access = access;
        this.console = console;
        this.patients = patients;
    }

    public void register() {
        console.route("GET", "/console/admin/access", ADMIN, false, this::index);
        console.route("GET", "/console/admin/roles", ADMIN, false, r -> roles(r, ""));
        console.route("POST", "/console/admin/roles", ADMIN, true, this::createRole);
        console.route("GET", "/console/admin/role", ADMIN, false, r -> shown(r, () -> role(r, "")));
        console.route("POST", "/console/admin/role/permissions", ADMIN, true, this::setPermissions);
        console.route("GET", "/console/admin/account/roles", ADMIN, false, r -> accountRoles(r, ""));
        console.route("POST", "/console/admin/account/roles/assign", ADMIN, true, this::assign);
        console.route("POST", "/console/admin/account/roles/revoke", ADMIN, true, this::revoke);
        console.route("POST", "/console/admin/account/privileges/grant", ADMIN, true, this::grantPrivilege);
        console.route("POST", "/console/admin/account/privileges/revoke", ADMIN, true, this::revokePrivilege);
        console.route("GET", "/console/admin/approvals", ADMIN, false, r -> approvals(r, ""));
        console.route("POST", "/console/admin/approvals/approve", ADMIN, true, this::approve);
        console.route("POST", "/console/admin/approvals/reject", ADMIN, true, this::reject);
        console.route("POST", "/console/admin/approvals/confirm", ADMIN, true, this::confirm);
        console.route("GET", "/console/admin/care", ADMIN, false, r -> care(r, ""));
        console.routeReading("POST", "/console/admin/care/find", ADMIN, false, this::findCare);
        console.route("POST", "/console/admin/care/add", ADMIN, true, this::addCare);
        console.route("POST", "/console/admin/care/end", ADMIN, true, this::endCare);
        console.route("GET", "/console/admin/access-history", ADMIN, false, this::history);
        console.route("GET", "/console/admin/access-review", ADMIN, false, r -> reviews(r, ""));
        console.route("POST", "/console/admin/access-review/start", ADMIN, true, this::startReview);
        console.route("GET", "/console/admin/access-review/view", ADMIN, false, r -> shown(r, () -> review(r, "")));
        console.route("POST", "/console/admin/access-review/decide", ADMIN, true, this::decide);
        console.route("POST", "/console/admin/access-review/complete", ADMIN, true, this::completeReview);
        console.route("GET", "/console/admin/access-reports", ADMIN, false, this::reports);
    }

    // ---- index --------------------------------------------------------------------------------------------

    private Reply index(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("access.admin.title"), "access/adminIndex.jte",
                new AccessViews.Index());
    }

    // ---- roles and permissions ----------------------------------------------------------------------------

    private Reply roles(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.admin.roles.title"), "access/adminRoles.jte",
                rolesView(r, error));
    }

    AccessViews.Roles rolesView(ConsoleRequest r, String error) {
        return new AccessViews.Roles(error, access.roles().list().stream().map(role -> new AccessViews.RoleRow(
                role.code(), enc(role.code()), named(r, role.nameJa(), role.nameEn()), role.builtin(),
                role.clinicalContent(), role.defaultScope().code)).toList(), r.param("code"), r.param("name_ja"),
                r.param("name_en"), AccessViews.SCOPES, r.csrf());
    }

    private Reply createRole(ConsoleRequest r) {
        return act(() -> {
            access.roles().createRole(r.session().accountId(), r.param("code"), r.param("name_ja"), r.param("name_en"),
                    r.param("clinical").equals("1"), scopeOf(r.param("scope"), PersonContext.Scope.DEPARTMENT));
            return Console.redirect("/console/admin/role?code=" + enc(r.param("code")));
        }, e -> roles(r, e));
    }

    private Reply role(ConsoleRequest r, String error) {
        AccessViews.Role v = roleView(r, error);
        return console.page(r, 200, r.messages().get("access.admin.role.title", v.name()), "access/adminRole.jte", v);
    }

    AccessViews.Role roleView(ConsoleRequest r, String error) {
        Roles.Role role = access.roles().get(r.param("code"));
        List<AccessViews.CategoryRow> categories = new ArrayList<>();
        for (Category c : access.categories().all()) {
            Set<Action> held = role.permissions().getOrDefault(c.code(), Set.of());
            boolean refused = c.clinical() && !role.clinicalContent();
            categories.add(new AccessViews.CategoryRow(named(r, c.nameJa(), c.nameEn()), c.clinical(),
                    Arrays.stream(Action.values()).map(a -> new AccessViews.Cell(c.code() + ":" + a.code,
                            c.code() + " " + a.code, held.contains(a), refused)).toList()));
        }
        return new AccessViews.Role(error, role.code(), named(r, role.nameJa(), role.nameEn()), role.builtin(),
                role.clinicalContent(), role.defaultScope().code,
                Arrays.stream(Action.values()).map(a -> named(r, a.ja, a.en)).toList(), categories, r.csrf());
    }

    private Reply setPermissions(ConsoleRequest r) {
        return act(() -> {
            Roles.Role role = access.roles().get(r.param("code"));
            if (role.builtin()) {
                throw new AccessException("標準の役割は画面からは変更できません / Built-in roles are not edited here");
            }
            Map<String, Set<Action>> perms = new TreeMap<>();
            for (String p : r.params("p")) {
                int i = p.indexOf(':');
                if (i <= 0) {
                    throw new AccessException("権限の指定が正しくありません / Not a permission: " + p);
                }
                Action a;
                try {
                    a = Action.of(p.substring(i + 1));
                } catch (IllegalArgumentException e) {
                    throw new AccessException("操作「" + p.substring(i + 1) + "」はありません / No such action");
                }
                perms.computeIfAbsent(p.substring(0, i), k -> EnumSet.noneOf(Action.class)).add(a);
            }
            access.roles().setPermissions(r.session().accountId(), role.code(), perms);
            return Console.redirect("/console/admin/role?code=" + enc(role.code()));
        }, e -> role(r, e));
    }

    // ---- a person's roles and privileges ------------------------------------------------------------------

    private Reply accountRoles(ConsoleRequest r, String error) {
        AccessViews.AccountRoles v = accountRolesView(r, error);
        return console.page(r, 200, r.messages().get("access.admin.account.title", v.loginId()),
                "access/adminAccountRoles.jte", v);
    }

    AccessViews.AccountRoles accountRolesView(ConsoleRequest r, String error) {
        Account a = account(r.param("id"));
        Map<String, Roles.Role> roles = roleMap();
        List<AccessViews.Assignment> assignments = access.roles().assignments(a.id()).stream().map(as ->
                new AccessViews.Assignment(as.id().toString(), roleName(r, roles, as.role()), as.department(),
                        as.scope().code, AccessViews.state(as.approvedAt() != null, as.revokedAt() != null),
                        login(as.grantedBy()) + " " + time(as.grantedAt()),
                        login(as.approvedBy()) + " " + (as.approvedAt() == null ? "" : time(as.approvedAt())),
                        as.revokedAt() == null ? null : time(as.revokedAt()) + " " + login(as.revokedBy()))).toList();
        List<AccessViews.Privilege> privileges = access.privileges().of(a.id()).stream().map(p ->
                new AccessViews.Privilege(p.id().toString(), p.label(),
                        AccessViews.state(p.approvedAt() != null, p.revokedAt() != null),
                        login(p.grantedBy()) + " " + time(p.grantedAt()), p.revokedAt() != null)).toList();
        return new AccessViews.AccountRoles(error, a.id().toString(), a.loginId(), String.join("、", a.departments()),
                assignments, roles.values().stream().map(role -> new AccessViews.Option(role.code(),
                        named(r, role.nameJa(), role.nameEn()))).toList(), r.param("department"), AccessViews.SCOPES,
                privileges, access.privileges().labels().stream().map(l -> new AccessViews.Option(l.code(),
                        named(r, l.nameJa(), l.nameEn()) + " (" + l.code() + ")")).toList(), r.csrf());
    }

    private Reply assign(ConsoleRequest r) {
        return act(() -> {
            Account a = account(r.param("id"));
            access.roles().assign(r.session().accountId(), a.id(), r.param("role"), r.param("department"),
                    scopeOf(r.param("scope"), null));
            return Console.redirect("/console/admin/account/roles?id=" + a.id());
        }, e -> accountRoles(r, e));
    }

    private Reply revoke(ConsoleRequest r) {
        return act(() -> {
            Account a = account(r.param("id"));
            access.roles().revoke(r.session().accountId(), uuid(r.param("assignment")), reason(r));
            return Console.redirect("/console/admin/account/roles?id=" + a.id());
        }, e -> accountRoles(r, e));
    }

    private Reply grantPrivilege(ConsoleRequest r) {
        return act(() -> {
            Account a = account(r.param("id"));
            access.privileges().grant(r.session().accountId(), a.id(), r.param("label"));
            return Console.redirect("/console/admin/account/roles?id=" + a.id());
        }, e -> accountRoles(r, e));
    }

    private Reply revokePrivilege(ConsoleRequest r) {
        return act(() -> {
            Account a = account(r.param("id"));
            access.privileges().revoke(r.session().accountId(), uuid(r.param("privilege")), reason(r));
            return Console.redirect("/console/admin/account/roles?id=" + a.id());
        }, e -> accountRoles(r, e));
    }

    // ---- four eyes ----------------------------------------------------------------------------------------

    private Reply approvals(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.admin.approvals.title"), "access/adminApprovals.jte",
                approvalsView(r, error));
    }

    AccessViews.Approvals approvalsView(ConsoleRequest r, String error) {
        Map<String, Roles.Role> roles = roleMap();
        UUID me = r.session().accountId();
        boolean sole = access.roles().soleAdministrator(me);
        List<AccessViews.Pending> pending = new ArrayList<>();
        for (Roles.Assignment a : access.roles().pending()) {
            boolean soleMayApprove = sole && me.equals(a.grantedBy()) && !me.equals(a.accountId())
                    && (a.role().equals("account_admin") || a.role().equals("system_admin"));
            pending.add(pending("role", a.id(), a.accountId(), roleName(r, roles, a.role()) + " / " + a.department(),
                    a.scope().code, a.grantedBy(), a.grantedAt(), soleMayApprove ? null : me));
        }
        for (SensitivityPrivileges.Privilege p : access.privileges().pending()) {
            pending.add(pending("privilege", p.id(), p.accountId(), p.label(), null, p.grantedBy(), p.grantedAt(), me));
        }
        List<AccessViews.Unconfirmed> unconfirmed = access.roles().awaitingConfirmation().stream().map(a ->
                new AccessViews.Unconfirmed(a.id().toString(), login(a.accountId()),
                        roleName(r, roles, a.role()) + " / " + a.department(),
                        login(a.approvedBy()) + " " + time(a.approvedAt()),
                        !me.equals(a.approvedBy()) && !me.equals(a.accountId()))).toList();
        return new AccessViews.Approvals(error, pending, sole, unconfirmed, r.csrf());
    }

    /** {@code me} null: the approve button is shown (the sole administrator approving a second administrator). */
    private AccessViews.Pending pending(String kind, UUID item, UUID account, String what, String scope, UUID grantedBy,
                                        java.time.Instant at, UUID me) {
        return new AccessViews.Pending(kind, item.toString(), login(account), what, scope, login(grantedBy), time(at),
                me == null || (!me.equals(grantedBy) && !me.equals(account)), grantedBy.equals(me));
    }

    private Reply approve(ConsoleRequest r) {
        return act(() -> {
            UUID item = uuid(r.param("item"));
            if (r.param("kind").equals("privilege")) {
                access.privileges().approve(r.session().accountId(), item);
            } else {
                access.roles().approve(r.session().accountId(), item);
            }
            return Console.redirect("/console/admin/approvals");
        }, e -> approvals(r, e));
    }

    private Reply confirm(ConsoleRequest r) {
        return act(() -> {
            access.roles().confirm(r.session().accountId(), uuid(r.param("item")));
            return Console.redirect("/console/admin/approvals");
        }, e -> approvals(r, e));
    }

    private Reply reject(ConsoleRequest r) {
        return act(() -> {
            UUID item = uuid(r.param("item"));
            if (r.param("kind").equals("privilege")) {
                access.privileges().revoke(r.session().accountId(), item, reason(r));
            } else {
                access.roles().revoke(r.session().accountId(), item, reason(r));
            }
            return Console.redirect("/console/admin/approvals");
        }, e -> approvals(r, e));
    }

    // ---- care relationships -------------------------------------------------------------------------------

    private Reply care(ConsoleRequest r, String error) {
        return care(r, error, false, List.of(), false);
    }

    private Reply care(ConsoleRequest r, String error, boolean searched, List<AccessViews.PatientLabel> found,
                       boolean more) {
        return console.page(r, 200, r.messages().get("access.admin.care.title"), "access/adminCare.jte",
                careView(r, error, searched, found, more));
    }

    /**
     * The administrator finds the patient of a care relationship by 患者ID, name (kanji or kana) or birth date
     * (issue 22). Administrators only (the route's rule: those who record care relationships, ACCESS-2); the terms
     * travel in the POST body, never in a URL; at most {@link PatientDirectory#MAX_RESULTS} patients, demographics
     * only; the search is an audit entry naming every patient shown, for the purpose of administration (ACCESS-7).
     */
    private Reply findCare(ConsoleRequest r) {
        try {
            PatientDirectory.Found f = patients.find(new PatientDirectory.Criteria(r.param("patient_id"),
                    r.param("name"), r.param("birthdate")), r.session(), r.address(), Purpose.ADMINISTRATION,
                    "admin-care-search");
            return care(r, "", true, f.patients().stream().map(d -> label(r, d)).toList(), f.more());
        } catch (PatientDirectory.BadCriteria e) {
            return Console.status(care(r, e.getMessage()), 400);
        }
    }

    AccessViews.CarePage careView(ConsoleRequest r, String error, boolean searched,
                                  List<AccessViews.PatientLabel> found, boolean more) {
        String ref = r.param("patient").strip();
        AccessViews.PatientLabel patient = null;
        List<AccessViews.Care> relationships = List.of();
        if (!ref.isEmpty() && !searched) {
            PatientDirectory.Demographics d = patients.byIds(List.of(ref)).get(ref);
            if (d != null) {
                patients.recordShown(List.of(d), r.session(), r.address(), Purpose.ADMINISTRATION, "admin-care");
            }
            patient = d == null ? new AccessViews.PatientLabel(ref, r.messages().get("access.patient.unknown"), "", "",
                    "", "", false) : label(r, d);
            relationships = access.care().ofPatient(ref).stream()
                    .map(c -> new AccessViews.Care(c.id().toString(), login(c.accountId()),
                            c.kind() == CareRelationships.Kind.CARE_TEAM, c.department(),
                            time(c.validFrom()) + "〜" + (c.validTo() == null ? "" : time(c.validTo())),
                            login(c.addedBy()) + " " + time(c.addedAt()),
                            c.endedAt() == null ? null : time(c.endedAt()) + " " + login(c.endedBy()))).toList();
        }
        return new AccessViews.CarePage(error, r.param("patient_id"), r.param("name"), r.param("birthdate"), searched,
                found, more, PatientDirectory.MAX_RESULTS, patient, relationships, r.param("login_id"),
                r.param("department"), r.csrf());
    }

    /** A patient in words: name, kana, 患者ID, sex, birth date with age. */
    static AccessViews.PatientLabel label(ConsoleRequest r, PatientDirectory.Demographics d) {
        JpDates.Lang lang = r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        String birth = "";
        if (d.birthDate() != null) {
            JpDates dates = new JpDates(Html.JST);
            java.time.LocalDate today = java.time.LocalDate.now(Html.JST);
            birth = dates.date(d.birthDate(), lang) + (d.birthDate().isAfter(today) ? ""
                    : " (" + JpDates.ageText(d.birthDate(), today, lang) + ")");
        }
        return new AccessViews.PatientLabel(d.id(), d.name(), d.kana(), d.patientId(),
                r.messages().get("access.sex." + d.sex()), birth, true);
    }

    private Reply addCare(ConsoleRequest r) {
        return act(() -> {
            String patient = r.param("patient").strip();
            if (patient.isEmpty() || patients.byIds(List.of(patient)).isEmpty()) {
                throw new AccessException("患者を検索して選んでください / Find and choose the patient first");
            }
            Account a = id.accounts().findByLogin(r.param("login_id").strip()).orElseThrow(() ->
                    new AccessException("ログインIDが見つかりません / No account with this login id"));
            java.time.Instant until = null;
            if (!r.param("until").isBlank()) {
                try {
                    until = LocalDate.parse(r.param("until").strip()).plusDays(1).atStartOfDay(Html.JST).toInstant();
                } catch (DateTimeParseException e) {
                    throw new AccessException("日付は YYYY-MM-DD で入力してください / Dates are YYYY-MM-DD");
                }
            }
            String dept = r.param("department").isBlank() ? null : r.param("department").strip();
            access.care().add(r.session().accountId(), a.id(), patient,
                    r.param("kind").equals("assignment") ? CareRelationships.Kind.ASSIGNMENT : CareRelationships.Kind.CARE_TEAM,
                    dept, null, until);
            return Console.redirect("/console/admin/care?patient=" + enc(patient));
        }, e -> care(r, e));
    }

    private Reply endCare(ConsoleRequest r) {
        return act(() -> {
            access.care().end(r.session().accountId(), uuid(r.param("care")), reason(r));
            return Console.redirect("/console/admin/care?patient=" + enc(r.param("patient").strip()));
        }, e -> care(r, e));
    }

    // ---- history ------------------------------------------------------------------------------------------

    private Reply history(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("access.admin.history.title"), "access/adminHistory.jte",
                new AccessViews.History(access.reports().history(500).stream().map(c -> new AccessViews.Change(
                        time(c.at()), c.by(), c.action(), c.subject(), c.detail())).toList()));
    }

    // ---- access review ------------------------------------------------------------------------------------

    private Reply reviews(ConsoleRequest r, String error) {
        return console.page(r, 200, r.messages().get("access.admin.reviews.title"), "access/adminReviews.jte",
                reviewsView(r, error));
    }

    AccessViews.Reviews reviewsView(ConsoleRequest r, String error) {
        return new AccessViews.Reviews(error, r.param("department"), access.reviews().list().stream().map(v ->
                new AccessViews.ReviewRow(v.id().toString(), v.department(),
                        time(v.startedAt()) + " " + nullToEmpty(v.startedByLogin()),
                        v.open() ? null : time(v.completedAt()) + " " + nullToEmpty(v.completedByLogin()),
                        v.decided(), v.items(), v.removed())).toList(), r.csrf());
    }

    private Reply startReview(ConsoleRequest r) {
        return act(() -> {
            UUID review = access.reviews().start(r.session().accountId(), r.param("department"));
            return Console.redirect("/console/admin/access-review/view?id=" + review);
        }, e -> reviews(r, e));
    }

    private Reply review(ConsoleRequest r, String error) {
        AccessViews.Review v = reviewView(r, error);
        return console.page(r, 200, r.messages().get("access.admin.review.title", v.department()),
                "access/adminReview.jte", v);
    }

    AccessViews.Review reviewView(ConsoleRequest r, String error) {
        AccessReviews.Review v = access.reviews().review(uuid(r.param("id")));
        Map<String, Roles.Role> roles = roleMap();
        List<AccessViews.Item> items = access.reviews().items(v.id()).stream().map(i -> new AccessViews.Item(
                String.valueOf(i.id()), nullToEmpty(i.name()) + " (" + nullToEmpty(i.loginId()) + ")",
                roleName(r, roles, i.role()), i.lastUsedAt() == null ? null : time(i.lastUsedAt()),
                i.decision() == null ? null : i.decision().equals("remove") ? "remove" : "confirm",
                nullToEmpty(i.decidedByLogin()) + " " + time(i.decidedAt()), i.note())).toList();
        return new AccessViews.Review(error, v.id().toString(), v.department(),
                time(v.startedAt()) + " " + v.startedByLogin(),
                v.open() ? null : time(v.completedAt()) + " " + v.completedByLogin(), items, AccessReviews.DECISIONS,
                r.csrf());
    }

    private Reply decide(ConsoleRequest r) {
        return act(() -> {
            long item;
            try {
                item = Long.parseLong(r.param("item"));
            } catch (NumberFormatException e) {
                throw new AccessException("見直しの項目が見つかりません / No such review item");
            }
            access.reviews().decide(r.session().accountId(), item, r.param("decision"), r.param("note"));
            return Console.redirect("/console/admin/access-review/view?id=" + uuid(r.param("id")));
        }, e -> review(r, e));
    }

    private Reply completeReview(ConsoleRequest r) {
        return act(() -> {
            UUID review = uuid(r.param("id"));
            access.reviews().complete(r.session().accountId(), review);
            return Console.redirect("/console/admin/access-review/view?id=" + review);
        }, e -> review(r, e));
    }

    private Reply reports(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("access.admin.reports.title"), "access/adminReports.jte",
                reportsView(r));
    }

    AccessViews.Reports reportsView(ConsoleRequest r) {
        int days = id.settings().unusedDays();
        Map<String, Roles.Role> roles = roleMap();
        return new AccessViews.Reports(days, holdings(r, access.reports().unused(days), roles),
                holdings(r, access.reports().sensitive(), roles));
    }

    private static List<AccessViews.Holding> holdings(ConsoleRequest r, List<AccessReports.Holding> list,
                                                      Map<String, Roles.Role> roles) {
        return list.stream().map(h -> new AccessViews.Holding(h.accountId().toString(),
                nullToEmpty(h.name()) + " (" + nullToEmpty(h.loginId()) + ")", h.kind().equals("role"),
                h.kind().equals("role") ? roleName(r, roles, h.what()) : h.what(), h.department(),
                h.lastLoginAt() == null ? null : time(h.lastLoginAt()))).toList();
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    /** A page about something that may not exist: the service's message instead of an internal error. */
    private Reply shown(ConsoleRequest r, Supplier<Reply> page) {
        try {
            return page.get();
        } catch (AccessException e) {
            return console.page(r, 404, r.messages().get("access.admin.notFound"), "access/adminNotFound.jte",
                    new AccessViews.NotFound(e.getMessage()));
        }
    }

    /** Runs a change; a refusal by the service shows the page again with the message (400). */
    private static Reply act(Supplier<Reply> change, Function<String, Reply> page) {
        try {
            return change.get();
        } catch (AccessException | IdentityException e) {
            return Console.status(page.apply(e.getMessage()), 400);
        }
    }

    private Account account(String raw) {
        try {
            return id.accounts().find(UUID.fromString(raw)).orElseThrow(() ->
                    new IdentityException("アカウントが見つかりません / No such account"));
        } catch (IllegalArgumentException e) {
            throw new IdentityException("アカウントが見つかりません / No such account");
        }
    }

    /** A person as these pages name them: "name（login id）" (never the account's internal id). */
    private String login(UUID account) {
        if (account == null) {
            return "";
        }
        return id.accounts().find(account).map(a -> a.familyName() + " " + a.givenName() + "（" + a.loginId() + "）")
                .orElse("—");
    }

    private Map<String, Roles.Role> roleMap() {
        Map<String, Roles.Role> m = new java.util.LinkedHashMap<>();
        for (Roles.Role role : access.roles().list()) {
            m.put(role.code(), role);
        }
        return m;
    }

    private static String roleName(ConsoleRequest r, Map<String, Roles.Role> roles, String code) {
        Roles.Role role = roles.get(code);
        return role == null ? code : named(r, role.nameJa(), role.nameEn()) + " (" + code + ")";
    }

    private static PersonContext.Scope scopeOf(String code, PersonContext.Scope fallback) {
        if (code == null || code.isBlank()) {
            return fallback;
        }
        for (PersonContext.Scope s : PersonContext.Scope.values()) {
            if (s.code.equals(code)) {
                return s;
            }
        }
        throw new AccessException("範囲を選んでください / Choose a scope");
    }

    private static String reason(ConsoleRequest r) {
        String reason = r.param("reason").strip();
        if (reason.isEmpty() || reason.length() > 500) {
            throw new AccessException("理由を入力してください（500文字まで） / A reason is required (up to 500 characters)");
        }
        return reason;
    }

    private static UUID uuid(String s) {
        try {
            return UUID.fromString(s.strip());
        } catch (IllegalArgumentException e) {
            throw new AccessException("対象が見つかりません / Not found");
        }
    }

    /** A name the database holds in both languages, in the request's. */
    private static String named(ConsoleRequest r, String ja, String en) {
        return r.lang() == ConsoleRequest.Lang.EN ? en : ja;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
