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
import jp.mamori.identity.Account;
import jp.mamori.identity.Identity;
import jp.mamori.identity.IdentityException;
import jp.mamori.web.Reply;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

import static jp.mamori.web.console.Html.csrf;
import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Html.esc;
import static jp.mamori.web.console.Html.time;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/**
 * Access management in the console (ACCESS-1..5, ACCESS-12): roles and their permissions, role assignments
 * per department with the four-eyes approval queue, care relationships per patient, sensitivity privileges,
 * the change history, the periodic access review and its reports. Administrators only; every change needs
 * a fresh second factor (the gate checks both). The services enforce who may do what; pages only show it.
 */
public final class AccessPages {
    private final Identity id;
    private final AccessAdmin access;
    private final Console console;

    public AccessPages(Identity id, AccessAdmin access, Console console) {
        this.id = id;
        this.access = access;
        this.console = console;
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
        StringBuilder b = new StringBuilder("<section class=\"card\"><ul id=\"access-menu\">");
        for (String[] l : new String[][]{
                {"/console/admin/roles", "役割と権限", "Roles and permissions"},
                {"/console/admin/approvals", "承認待ち（二人目の管理者）", "Awaiting approval (second administrator)"},
                {"/console/admin/care", "担当関係（患者ごと）", "Care relationships (per patient)"},
                {"/console/admin/access-review", "アクセス権の見直し", "Access review"},
                {"/console/admin/access-reports", "報告（未使用・機微情報）", "Reports (unused, sensitive)"},
                {"/console/admin/access-history", "変更履歴", "Change history"}}) {
            b.append("<li><a href=\"").append(l[0]).append("\">").append(esc(r.t(l[1], l[2]))).append("</a></li>");
        }
        b.append("</ul><p>").append(esc(r.t("個人の役割の割り当ては、各アカウントの画面の「役割と権限」から行います。",
                "Roles are assigned to a person from \"Roles and privileges\" on their account page."))).append("</p></section>");
        return console.page(r, r.t("アクセス権の管理", "Access management"), b.toString());
    }

    // ---- roles and permissions ----------------------------------------------------------------------------

    private Reply roles(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<section class=\"card\"><table id=\"roles\"><thead><tr><th>").append(esc(r.t("役割", "Role")))
                .append("</th><th>").append(esc(r.t("コード", "Code"))).append("</th><th>").append(esc(r.t("種類", "Kind")))
                .append("</th><th>").append(esc(r.t("診療情報", "Clinical content"))).append("</th><th>")
                .append(esc(r.t("既定の範囲", "Default scope"))).append("</th></tr></thead><tbody>");
        for (Roles.Role role : access.roles().list()) {
            b.append("<tr><td><a href=\"/console/admin/role?code=").append(esc(enc(role.code()))).append("\">")
                    .append(esc(r.t(role.nameJa(), role.nameEn()))).append("</a></td><td><code>").append(esc(role.code()))
                    .append("</code></td><td>").append(esc(role.builtin() ? r.t("標準", "Built-in") : r.t("施設独自", "Institution")))
                    .append("</td><td>").append(esc(yesNo(r, role.clinicalContent()))).append("</td><td>")
                    .append(esc(scope(r, role.defaultScope()))).append("</td></tr>");
        }
        b.append("</tbody></table></section>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("施設独自の役割を追加", "Add an institution role")))
                .append("</h2><form method=\"post\" action=\"/console/admin/roles\" class=\"stack\">").append(csrf(r))
                .append(field(r, "code", "コード（半角英小文字・数字・_）", "Code (a-z, 0-9, _)"))
                .append(field(r, "name_ja", "名称（日本語）", "Name (Japanese)"))
                .append(field(r, "name_en", "名称（英語）", "Name (English)"))
                .append("<label class=\"check\"><input type=\"checkbox\" name=\"clinical\" value=\"1\"> ")
                .append(esc(r.t("診療情報を扱う役割", "May hold clinical content"))).append("</label>")
                .append(scopeSelect(r, "scope", false)).append("<button type=\"submit\">").append(esc(r.t("追加", "Add")))
                .append("</button></form></section>");
        return console.page(r, r.t("役割と権限", "Roles and permissions"), b.toString());
    }

    private Reply createRole(ConsoleRequest r) {
        return act(() -> {
            access.roles().createRole(r.session().accountId(), r.param("code"), r.param("name_ja"), r.param("name_en"),
                    r.param("clinical").equals("1"), scopeOf(r.param("scope"), PersonContext.Scope.DEPARTMENT));
            return Console.redirect("/console/admin/role?code=" + enc(r.param("code")));
        }, e -> roles(r, e));
    }

    private Reply role(ConsoleRequest r, String error) {
        Roles.Role role = access.roles().get(r.param("code"));
        boolean editable = !role.builtin();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<section class=\"card\"><dl>").append(dt(r, "コード", "Code", role.code()))
                .append(dt(r, "種類", "Kind", role.builtin() ? r.t("標準（読み取り専用）", "Built-in (read only)") : r.t("施設独自", "Institution")))
                .append(dt(r, "診療情報", "Clinical content", yesNo(r, role.clinicalContent())))
                .append(dt(r, "既定の範囲", "Default scope", scope(r, role.defaultScope()))).append("</dl></section>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("権限（情報区分 × 操作）", "Permissions (category × action)")))
                .append("</h2>");
        if (editable) {
            b.append("<form method=\"post\" action=\"/console/admin/role/permissions\">").append(csrf(r))
                    .append("<input type=\"hidden\" name=\"code\" value=\"").append(esc(role.code())).append("\">");
        }
        b.append("<table id=\"permissions\"><thead><tr><th>").append(esc(r.t("情報区分", "Category"))).append("</th>");
        for (Action a : Action.values()) {
            b.append("<th>").append(esc(r.t(a.ja, a.en))).append("</th>");
        }
        b.append("</tr></thead><tbody>");
        for (Category c : access.categories().all()) {
            Set<Action> held = role.permissions().getOrDefault(c.code(), Set.of());
            boolean refused = c.clinical() && !role.clinicalContent();
            b.append("<tr><th>").append(esc(r.t(c.nameJa(), c.nameEn()))).append(c.clinical() ? " *" : "").append("</th>");
            for (Action a : Action.values()) {
                boolean on = held.contains(a);
                b.append("<td>");
                if (editable) {
                    b.append("<input type=\"checkbox\" name=\"p\" value=\"").append(esc(c.code() + ":" + a.code)).append("\"")
                            .append(on ? " checked" : "").append(refused ? " disabled" : "").append(" aria-label=\"")
                            .append(esc(c.code() + " " + a.code)).append("\">");
                } else {
                    b.append(on ? "●" : "");
                }
                b.append("</td>");
            }
            b.append("</tr>");
        }
        b.append("</tbody></table><p>").append(esc(r.t("* 診療情報の区分。診療情報を扱わない役割には付与できません。",
                "* Clinical categories; a role without clinical content cannot hold them."))).append("</p>");
        if (editable) {
            b.append("<button type=\"submit\">").append(esc(r.t("保存", "Save"))).append("</button></form>");
        }
        b.append("</section>");
        return console.page(r, r.t("役割：", "Role: ") + r.t(role.nameJa(), role.nameEn()), b.toString());
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
        Account a = account(r.param("id"));
        Map<String, Roles.Role> roles = roleMap();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p><a href=\"/console/admin/account?id=").append(a.id()).append("\">")
                .append(esc(r.t("アカウントの画面へ", "Back to the account"))).append("</a> — ")
                .append(esc(r.t("部署：", "Departments: "))).append(esc(String.join("、", a.departments()))).append("</p>");
        String hidden = csrf(r) + "<input type=\"hidden\" name=\"id\" value=\"" + a.id() + "\">";
        b.append("<section class=\"card\"><h2>").append(esc(r.t("役割の割り当て", "Role assignments")))
                .append("</h2><table id=\"assignments\"><thead><tr><th>").append(esc(r.t("役割", "Role"))).append("</th><th>")
                .append(esc(r.t("部署", "Department"))).append("</th><th>").append(esc(r.t("範囲", "Scope"))).append("</th><th>")
                .append(esc(r.t("状態", "State"))).append("</th><th>").append(esc(r.t("付与", "Granted"))).append("</th><th>")
                .append(esc(r.t("承認", "Approved"))).append("</th><th></th></tr></thead><tbody>");
        for (Roles.Assignment as : access.roles().assignments(a.id())) {
            b.append("<tr><td>").append(esc(roleName(r, roles, as.role()))).append("</td><td>").append(esc(as.department()))
                    .append("</td><td>").append(esc(scope(r, as.scope()))).append("</td><td>").append(esc(state(r, as)))
                    .append("</td><td>").append(esc(login(as.grantedBy()))).append(" ").append(time(as.grantedAt()))
                    .append("</td><td>").append(esc(login(as.approvedBy()))).append(" ").append(as.approvedAt() == null ? "" : time(as.approvedAt()))
                    .append("</td><td>");
            if (as.revokedAt() == null) {
                b.append("<form method=\"post\" action=\"/console/admin/account/roles/revoke\" class=\"inline\">").append(hidden)
                        .append("<input type=\"hidden\" name=\"assignment\" value=\"").append(as.id()).append("\">")
                        .append("<input name=\"reason\" required maxlength=\"500\" placeholder=\"").append(esc(r.t("理由", "Reason")))
                        .append("\"><button type=\"submit\" class=\"secondary\">").append(esc(r.t("取消", "Revoke")))
                        .append("</button></form>");
            } else {
                b.append(esc(r.t("取消 ", "Revoked "))).append(time(as.revokedAt())).append(" ").append(esc(login(as.revokedBy())));
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table>");
        b.append("<form method=\"post\" action=\"/console/admin/account/roles/assign\" class=\"inline\">").append(hidden)
                .append("<label>").append(esc(r.t("役割", "Role"))).append("<select name=\"role\" required>");
        for (Roles.Role role : roles.values()) {
            b.append("<option value=\"").append(esc(role.code())).append("\">").append(esc(r.t(role.nameJa(), role.nameEn())))
                    .append("</option>");
        }
        b.append("</select></label>").append(field(r, "department", "部署・病棟", "Department or ward"))
                .append(scopeSelect(r, "scope", true)).append("<button type=\"submit\">").append(esc(r.t("割り当て", "Assign")))
                .append("</button></form><p>").append(esc(r.t("自分への診療系の役割、アカウント管理者・システム管理者の割り当ては、別の管理者の承認まで無効です。",
                        "Assigning yourself a clinical role, or anyone account or system administration, gives nothing until a"
                                + " different administrator approves."))).append("</p></section>");

        b.append("<section class=\"card\"><h2>").append(esc(r.t("機微情報の権限", "Sensitivity privileges")))
                .append("</h2><table id=\"privileges\"><thead><tr><th>").append(esc(r.t("ラベル", "Label"))).append("</th><th>")
                .append(esc(r.t("状態", "State"))).append("</th><th>").append(esc(r.t("付与", "Granted"))).append("</th><th></th></tr></thead><tbody>");
        for (SensitivityPrivileges.Privilege p : access.privileges().of(a.id())) {
            b.append("<tr><td>").append(esc(p.label())).append("</td><td>").append(esc(state(r, p.approvedAt() != null, p.revokedAt() != null)))
                    .append("</td><td>").append(esc(login(p.grantedBy()))).append(" ").append(time(p.grantedAt())).append("</td><td>");
            if (p.revokedAt() == null) {
                b.append("<form method=\"post\" action=\"/console/admin/account/privileges/revoke\" class=\"inline\">").append(hidden)
                        .append("<input type=\"hidden\" name=\"privilege\" value=\"").append(p.id()).append("\">")
                        .append("<input name=\"reason\" required maxlength=\"500\" placeholder=\"").append(esc(r.t("理由", "Reason")))
                        .append("\"><button type=\"submit\" class=\"secondary\">").append(esc(r.t("取消", "Revoke")))
                        .append("</button></form>");
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table><form method=\"post\" action=\"/console/admin/account/privileges/grant\" class=\"inline\">")
                .append(hidden).append("<label>").append(esc(r.t("ラベル", "Label"))).append("<select name=\"label\" required>");
        for (SensitivityPrivileges.Label l : access.privileges().labels()) {
            b.append("<option value=\"").append(esc(l.code())).append("\">").append(esc(r.t(l.nameJa(), l.nameEn())))
                    .append(" (").append(esc(l.code())).append(")</option>");
        }
        b.append("</select></label><button type=\"submit\">").append(esc(r.t("付与", "Grant"))).append("</button></form></section>");
        return console.page(r, r.t("役割と権限：", "Roles and privileges: ") + a.loginId(), b.toString());
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
        Map<String, Roles.Role> roles = roleMap();
        UUID me = r.session().accountId();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(esc(r.t("割り当てた本人・受ける本人は承認できません。別の管理者が承認または却下します。",
                "Neither the administrator who granted it nor the person who receives it may approve; a different"
                        + " administrator approves or rejects."))).append("</p>");
        b.append("<section class=\"card\"><table id=\"pending\"><thead><tr><th>").append(esc(r.t("種類", "Kind")))
                .append("</th><th>").append(esc(r.t("対象者", "Person"))).append("</th><th>").append(esc(r.t("内容", "What")))
                .append("</th><th>").append(esc(r.t("申請者", "Requested by"))).append("</th><th>").append(esc(r.t("日時", "When")))
                .append("</th><th></th></tr></thead><tbody>");
        boolean sole = access.roles().soleAdministrator(me);
        for (Roles.Assignment a : access.roles().pending()) {
            boolean soleMayApprove = sole && me.equals(a.grantedBy()) && !me.equals(a.accountId())
                    && (a.role().equals("account_admin") || a.role().equals("system_admin"));
            b.append(pendingRow(r, "role", a.id(), r.t("役割", "Role"), a.accountId(),
                    roleName(r, roles, a.role()) + " / " + a.department() + " / " + scope(r, a.scope()), a.grantedBy(),
                    a.grantedAt(), soleMayApprove ? null : me));
        }
        for (SensitivityPrivileges.Privilege p : access.privileges().pending()) {
            b.append(pendingRow(r, "privilege", p.id(), r.t("機微情報の権限", "Sensitivity privilege"), p.accountId(),
                    p.label(), p.grantedBy(), p.grantedAt(), me));
        }
        b.append("</tbody></table></section>");
        if (sole) {
            b.append("<p id=\"sole-admin\">").append(esc(r.t("管理者があなた一人のため、二人目の管理者の権限はあなた自身が承認できます。"
                    + "この承認は記録され、三人目の管理者が確認するまで逸脱としてホームに表示されます。",
                    "You are the only administrator, so you may approve the second administrator's rights yourself. The"
                            + " approval is recorded and listed as a deviation on the home page until a third administrator"
                            + " confirms it."))).append("</p>");
        }
        List<Roles.Assignment> unconfirmed = access.roles().awaitingConfirmation();
        if (!unconfirmed.isEmpty()) {
            b.append("<section class=\"card\"><h2>").append(esc(r.t("唯一の管理者による承認（確認待ち）",
                    "Approved by a sole administrator (awaiting confirmation)"))).append("</h2><table id=\"unconfirmed\"><tbody>");
            for (Roles.Assignment a : unconfirmed) {
                b.append("<tr><td>").append(esc(login(a.accountId()))).append("</td><td>")
                        .append(esc(roleName(r, roles, a.role()) + " / " + a.department())).append("</td><td>")
                        .append(esc(login(a.approvedBy()))).append(" ").append(time(a.approvedAt())).append("</td><td>");
                if (!me.equals(a.approvedBy()) && !me.equals(a.accountId())) {
                    b.append("<form method=\"post\" action=\"/console/admin/approvals/confirm\" class=\"inline\">")
                            .append(csrf(r)).append("<input type=\"hidden\" name=\"item\" value=\"").append(a.id())
                            .append("\"><button type=\"submit\">").append(esc(r.t("確認", "Confirm"))).append("</button></form>");
                } else {
                    b.append(esc(r.t("三人目の管理者の確認待ち", "Awaiting a third administrator")));
                }
                b.append("</td></tr>");
            }
            b.append("</tbody></table></section>");
        }
        return console.page(r, r.t("承認待ち", "Awaiting approval"), b.toString());
    }

    /** {@code me} null: the approve button is shown (the sole administrator approving a second administrator). */
    private String pendingRow(ConsoleRequest r, String kind, UUID itemId, String kindLabel, UUID account, String what,
                              UUID grantedBy, java.time.Instant at, UUID me) {
        StringBuilder b = new StringBuilder("<tr><td>").append(esc(kindLabel)).append("</td><td>").append(esc(login(account)))
                .append("</td><td>").append(esc(what)).append("</td><td>").append(esc(login(grantedBy))).append("</td><td>")
                .append(time(at)).append("</td><td>");
        String hidden = csrf(r) + "<input type=\"hidden\" name=\"kind\" value=\"" + kind + "\"><input type=\"hidden\""
                + " name=\"item\" value=\"" + itemId + "\">";
        if (me == null || (!me.equals(grantedBy) && !me.equals(account))) {
            b.append("<form method=\"post\" action=\"/console/admin/approvals/approve\" class=\"inline\">").append(hidden)
                    .append("<button type=\"submit\">").append(esc(r.t("承認", "Approve"))).append("</button></form>");
        } else {
            b.append(esc(r.t("別の管理者の承認待ち", "Awaiting a different administrator"))).append(" ");
        }
        b.append("<form method=\"post\" action=\"/console/admin/approvals/reject\" class=\"inline\">").append(hidden)
                .append("<input name=\"reason\" required maxlength=\"500\" placeholder=\"").append(esc(r.t("理由", "Reason")))
                .append("\"><button type=\"submit\" class=\"secondary\">")
                .append(esc(grantedBy.equals(me) ? r.t("取り下げ", "Withdraw") : r.t("却下", "Reject"))).append("</button></form></td></tr>");
        return b.toString();
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
        String patient = r.param("patient").strip();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<form method=\"get\" action=\"/console/admin/care\" class=\"inline\">")
                .append(field(r, "patient", "患者ID（FHIR Patient）", "Patient id (FHIR Patient)"))
                .append("<button type=\"submit\">").append(esc(r.t("表示", "Show"))).append("</button></form>");
        if (!patient.isEmpty()) {
            String hidden = csrf(r) + "<input type=\"hidden\" name=\"patient\" value=\"" + esc(patient) + "\">";
            b.append("<section class=\"card\"><h2>").append(esc(r.t("担当関係：", "Care relationships: "))).append(esc(patient))
                    .append("</h2><table id=\"care\"><thead><tr><th>").append(esc(r.t("担当者", "Person"))).append("</th><th>")
                    .append(esc(r.t("種類", "Kind"))).append("</th><th>").append(esc(r.t("部署", "Department"))).append("</th><th>")
                    .append(esc(r.t("期間", "Period"))).append("</th><th>").append(esc(r.t("登録", "Added"))).append("</th><th></th></tr></thead><tbody>");
            for (CareRelationships.CareAssignment c : access.care().ofPatient(patient)) {
                b.append("<tr><td>").append(esc(login(c.accountId()))).append("</td><td>")
                        .append(esc(c.kind() == CareRelationships.Kind.CARE_TEAM ? r.t("チーム", "Care team") : r.t("担当", "Assignment")))
                        .append("</td><td>").append(esc(c.department() == null ? r.t("（部署指定なし）", "(any department)") : c.department()))
                        .append("</td><td>").append(time(c.validFrom())).append("〜").append(c.validTo() == null ? "" : time(c.validTo()))
                        .append("</td><td>").append(esc(login(c.addedBy()))).append(" ").append(time(c.addedAt())).append("</td><td>");
                if (c.endedAt() == null) {
                    b.append("<form method=\"post\" action=\"/console/admin/care/end\" class=\"inline\">").append(hidden)
                            .append("<input type=\"hidden\" name=\"care\" value=\"").append(c.id()).append("\">")
                            .append("<input name=\"reason\" required maxlength=\"500\" placeholder=\"").append(esc(r.t("理由", "Reason")))
                            .append("\"><button type=\"submit\" class=\"secondary\">").append(esc(r.t("終了", "End"))).append("</button></form>");
                } else {
                    b.append(esc(r.t("終了 ", "Ended "))).append(time(c.endedAt())).append(" ").append(esc(login(c.endedBy())));
                }
                b.append("</td></tr>");
            }
            b.append("</tbody></table><form method=\"post\" action=\"/console/admin/care/add\" class=\"inline\">").append(hidden)
                    .append(field(r, "login_id", "担当者のログインID", "Person's login id"))
                    .append("<label>").append(esc(r.t("種類", "Kind"))).append("<select name=\"kind\"><option value=\"care_team\">")
                    .append(esc(r.t("診療チーム", "Care team"))).append("</option><option value=\"assignment\">")
                    .append(esc(r.t("担当割り当て", "Assignment"))).append("</option></select></label>")
                    .append(field(r, "department", "部署・病棟（空欄：部署指定なし）", "Department or ward (empty: any)"))
                    .append("<label>").append(esc(r.t("終了日（任意）", "Until (optional)")))
                    .append("<input type=\"date\" name=\"until\"></label><button type=\"submit\">").append(esc(r.t("追加", "Add")))
                    .append("</button></form></section>");
        }
        return console.page(r, r.t("担当関係", "Care relationships"), b.toString());
    }

    private Reply addCare(ConsoleRequest r) {
        return act(() -> {
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
            access.care().add(r.session().accountId(), a.id(), r.param("patient").strip(),
                    r.param("kind").equals("assignment") ? CareRelationships.Kind.ASSIGNMENT : CareRelationships.Kind.CARE_TEAM,
                    dept, null, until);
            return Console.redirect("/console/admin/care?patient=" + enc(r.param("patient").strip()));
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
        StringBuilder b = new StringBuilder("<section class=\"card\"><table id=\"access-changes\"><thead><tr><th>")
                .append(esc(r.t("日時", "When"))).append("</th><th>").append(esc(r.t("実施者", "By"))).append("</th><th>")
                .append(esc(r.t("内容", "What"))).append("</th><th>").append(esc(r.t("対象", "Subject"))).append("</th><th>")
                .append(esc(r.t("詳細", "Detail"))).append("</th></tr></thead><tbody>");
        for (AccessReports.Change c : access.reports().history(500)) {
            b.append("<tr><td>").append(time(c.at())).append("</td><td>").append(esc(c.by())).append("</td><td>")
                    .append(esc(c.action())).append("</td><td>").append(esc(c.subject())).append("</td><td><code>")
                    .append(esc(c.detail())).append("</code></td></tr>");
        }
        b.append("</tbody></table></section>");
        return console.page(r, r.t("アクセス権の変更履歴", "Access change history"), b.toString());
    }

    // ---- access review ------------------------------------------------------------------------------------

    private Reply reviews(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(esc(r.t("部署ごとに、誰がどの役割を持っているかを最終ログインとともに一覧し、継続か削除かを判定します。結果は判定者と日時とともに記録されます。",
                "Per department, list who holds which role with their last login, and confirm or remove each. The result"
                        + " is recorded with the reviewer and the date."))).append("</p>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("見直しを開始", "Start a review")))
                .append("</h2><form method=\"post\" action=\"/console/admin/access-review/start\" class=\"inline\">").append(csrf(r))
                .append(field(r, "department", "部署・病棟", "Department or ward")).append("<button type=\"submit\">")
                .append(esc(r.t("開始", "Start"))).append("</button></form></section>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("これまでの見直し", "Reviews")))
                .append("</h2><table id=\"reviews\"><thead><tr><th>").append(esc(r.t("部署", "Department"))).append("</th><th>")
                .append(esc(r.t("開始", "Started"))).append("</th><th>").append(esc(r.t("完了", "Completed"))).append("</th><th>")
                .append(esc(r.t("判定済み", "Decided"))).append("</th><th>").append(esc(r.t("削除", "Removed"))).append("</th></tr></thead><tbody>");
        for (AccessReviews.Review v : access.reviews().list()) {
            b.append("<tr><td><a href=\"/console/admin/access-review/view?id=").append(v.id()).append("\">")
                    .append(esc(v.department())).append("</a></td><td>").append(time(v.startedAt())).append(" ")
                    .append(esc(v.startedByLogin())).append("</td><td>")
                    .append(v.open() ? esc(r.t("未完了", "Open")) : time(v.completedAt()) + " " + esc(v.completedByLogin()))
                    .append("</td><td>").append(v.decided()).append(" / ").append(v.items()).append("</td><td>").append(v.removed())
                    .append("</td></tr>");
        }
        b.append("</tbody></table></section>");
        return console.page(r, r.t("アクセス権の見直し", "Access review"), b.toString());
    }

    private Reply startReview(ConsoleRequest r) {
        return act(() -> {
            UUID review = access.reviews().start(r.session().accountId(), r.param("department"));
            return Console.redirect("/console/admin/access-review/view?id=" + review);
        }, e -> reviews(r, e));
    }

    private Reply review(ConsoleRequest r, String error) {
        AccessReviews.Review v = access.reviews().review(uuid(r.param("id")));
        Map<String, Roles.Role> roles = roleMap();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<section class=\"card\"><dl>").append(dt(r, "部署", "Department", v.department()))
                .append(dt(r, "開始", "Started", time(v.startedAt()) + " " + v.startedByLogin()))
                .append(dt(r, "完了", "Completed", v.open() ? r.t("未完了", "Open") : time(v.completedAt()) + " " + v.completedByLogin()))
                .append("</dl></section>");
        String hidden = csrf(r) + "<input type=\"hidden\" name=\"id\" value=\"" + v.id() + "\">";
        b.append("<section class=\"card\"><table id=\"review-items\"><thead><tr><th>").append(esc(r.t("氏名", "Name")))
                .append("</th><th>").append(esc(r.t("役割", "Role"))).append("</th><th>").append(esc(r.t("最終ログイン", "Last login")))
                .append("</th><th>").append(esc(r.t("判定", "Decision"))).append("</th></tr></thead><tbody>");
        for (AccessReviews.Item i : access.reviews().items(v.id())) {
            b.append("<tr><td>").append(esc(i.name())).append(" (").append(esc(i.loginId())).append(")</td><td>")
                    .append(esc(roleName(r, roles, i.role()))).append("</td><td>")
                    .append(i.lastUsedAt() == null ? esc(r.t("なし", "never")) : time(i.lastUsedAt())).append("</td><td>");
            if (i.decision() != null) {
                b.append("<strong>").append(esc(decision(r, i.decision()))).append("</strong> ").append(esc(i.decidedByLogin()))
                        .append(" ").append(time(i.decidedAt())).append(i.note() == null ? "" : "<br>" + esc(i.note()));
            } else if (v.open()) {
                b.append("<form method=\"post\" action=\"/console/admin/access-review/decide\" class=\"inline\">").append(hidden)
                        .append("<input type=\"hidden\" name=\"item\" value=\"").append(i.id()).append("\"><select name=\"decision\">");
                for (String d : AccessReviews.DECISIONS) {
                    b.append("<option value=\"").append(d).append("\">").append(esc(decision(r, d))).append("</option>");
                }
                b.append("</select><input name=\"note\" maxlength=\"1000\" placeholder=\"").append(esc(r.t("備考", "Note")))
                        .append("\"><button type=\"submit\">").append(esc(r.t("記録", "Record"))).append("</button></form>");
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table>");
        if (v.open()) {
            b.append("<form method=\"post\" action=\"/console/admin/access-review/complete\">").append(hidden)
                    .append("<button type=\"submit\">").append(esc(r.t("見直しを完了", "Complete the review"))).append("</button></form>");
        }
        b.append("</section>");
        return console.page(r, r.t("アクセス権の見直し：", "Access review: ") + v.department(), b.toString());
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
        int days = id.settings().unusedDays();
        Map<String, Roles.Role> roles = roleMap();
        StringBuilder b = new StringBuilder("<section class=\"card\"><h2>")
                .append(esc(r.t(days + "日以上使われていない権限", "Privileges unused for " + days + " days"))).append("</h2><p>")
                .append(esc(r.t("最終ログインが" + days + "日以上前、または一度もない人の役割と機微情報の権限。",
                        "Roles and sensitivity privileges of people whose last login is over " + days + " days ago, or never.")))
                .append("</p>").append(holdings(r, "unused", access.reports().unused(days), roles)).append("</section>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("機微情報・診療情報に届く人", "People who reach guarded information")))
                .append("</h2><p>").append(esc(r.t("機微情報の権限を持つ人と、診療情報の区分に権限のある役割を持つ人。",
                        "People holding a sensitivity privilege, or a role with a permission on a clinical category.")))
                .append("</p>").append(holdings(r, "sensitive", access.reports().sensitive(), roles)).append("</section>");
        return console.page(r, r.t("アクセス権の報告", "Access reports"), b.toString());
    }

    private String holdings(ConsoleRequest r, String tableId, List<AccessReports.Holding> list, Map<String, Roles.Role> roles) {
        StringBuilder b = new StringBuilder("<table id=\"").append(tableId).append("\"><thead><tr><th>")
                .append(esc(r.t("氏名", "Name"))).append("</th><th>").append(esc(r.t("権限", "Holding"))).append("</th><th>")
                .append(esc(r.t("部署", "Department"))).append("</th><th>").append(esc(r.t("最終ログイン", "Last login")))
                .append("</th></tr></thead><tbody>");
        for (AccessReports.Holding h : list) {
            b.append("<tr><td><a href=\"/console/admin/account/roles?id=").append(h.accountId()).append("\">").append(esc(h.name()))
                    .append(" (").append(esc(h.loginId())).append(")</a></td><td>")
                    .append(esc(h.kind().equals("role") ? roleName(r, roles, h.what()) : r.t("機微：", "Sensitive: ") + h.what()))
                    .append("</td><td>").append(esc(h.department())).append("</td><td>")
                    .append(h.lastLoginAt() == null ? esc(r.t("なし", "never")) : time(h.lastLoginAt())).append("</td></tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    /** A page about something that may not exist: the service's message instead of an internal error. */
    private Reply shown(ConsoleRequest r, Supplier<Reply> page) {
        try {
            return page.get();
        } catch (AccessException e) {
            return console.page(r.lang(), 404, r.t("見つかりません", "Not found"), r, Html.message("error", e.getMessage())
                    + "<p><a href=\"/console/admin/access\">" + esc(r.t("アクセス権の管理へ", "Access management")) + "</a></p>");
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

    private String login(UUID account) {
        if (account == null) {
            return "";
        }
        return id.accounts().find(account).map(Account::loginId).orElse(account.toString());
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
        return role == null ? code : r.t(role.nameJa(), role.nameEn()) + " (" + code + ")";
    }

    private static String state(ConsoleRequest r, Roles.Assignment a) {
        return state(r, a.approvedAt() != null, a.revokedAt() != null);
    }

    private static String state(ConsoleRequest r, boolean approved, boolean revoked) {
        if (revoked) {
            return approved ? r.t("取消済み", "Revoked") : r.t("却下・取り下げ", "Rejected or withdrawn");
        }
        return approved ? r.t("有効", "In force") : r.t("承認待ち（別の管理者）", "Awaiting a second administrator");
    }

    private static String scope(ConsoleRequest r, PersonContext.Scope s) {
        return switch (s) {
            case DEPARTMENT -> r.t("部署", "Department");
            case WARD -> r.t("病棟", "Ward");
            case HOSPITAL -> r.t("病院全体", "Whole hospital");
        };
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

    private static String scopeSelect(ConsoleRequest r, String name, boolean withDefault) {
        StringBuilder b = new StringBuilder("<label>").append(esc(r.t("範囲", "Scope"))).append("<select name=\"")
                .append(name).append("\">");
        if (withDefault) {
            b.append("<option value=\"\">").append(esc(r.t("役割の既定", "The role's default"))).append("</option>");
        }
        for (PersonContext.Scope s : PersonContext.Scope.values()) {
            b.append("<option value=\"").append(esc(s.code)).append("\">").append(esc(scope(r, s))).append("</option>");
        }
        return b.append("</select></label>").toString();
    }

    private static String decision(ConsoleRequest r, String d) {
        return d.equals("remove") ? r.t("削除", "Remove") : r.t("継続", "Confirm");
    }

    private static String yesNo(ConsoleRequest r, boolean v) {
        return v ? r.t("はい", "Yes") : r.t("いいえ", "No");
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

    private static String field(ConsoleRequest r, String name, String ja, String en) {
        return "<label>" + esc(r.t(ja, en)) + "<input name=\"" + name + "\" value=\"" + esc(r.param(name)) + "\"></label>";
    }

    private static String dt(ConsoleRequest r, String ja, String en, String value) {
        return "<dt>" + esc(r.t(ja, en)) + "</dt><dd>" + esc(value) + "</dd>";
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
