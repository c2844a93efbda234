package jp.mamori.access.web;

import jp.mamori.access.AccessReviews;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The access administration pages: what people and the database named (roles, departments, notes, patients,
 * change details) is escaped wherever the templates put it, and every code the pages name has a text.
 */
class AccessTemplatesTest {
    private static final String HOSTILE = "<script>alert('x')</script>\"&";
    private static final String ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";
    private static final Messages JA = Messages.of(ConsoleRequest.Lang.JA);
    private static final Messages EN = Messages.of(ConsoleRequest.Lang.EN);

    @Test
    void everyScopeStateAndDecisionHasATextInBothLanguages() {
        for (Messages t : List.of(JA, EN)) {
            AccessViews.SCOPES.forEach(s -> assertFalse(t.get("access.admin.scope." + s).isBlank(), s));
            AccessViews.STATES.forEach(s -> assertFalse(t.get("access.admin.state." + s).isBlank(), s));
            AccessReviews.DECISIONS.forEach(d -> assertFalse(t.get("access.admin.decision." + d).isBlank(), d));
        }
        assertEquals(List.of("department", "ward", "hospital"), AccessViews.SCOPES);
        assertEquals("Whole hospital", EN.get("access.admin.scope.hospital"));
    }

    @Test
    void anAssignmentsStateFollowsApprovalAndRevocation() {
        assertEquals("inForce", AccessViews.state(true, false));
        assertEquals("pending", AccessViews.state(false, false));
        assertEquals("revoked", AccessViews.state(true, true));
        assertEquals("rejected", AccessViews.state(false, true), "never approved, then revoked: rejected or withdrawn");
    }

    @Test
    void theRolesPageEscapesNamesAndTheRefilledForm() {
        AccessViews.Roles v = new AccessViews.Roles(HOSTILE, List.of(new AccessViews.RoleRow("ward_clerk", "ward_clerk",
                HOSTILE, false, true, "ward")), "\"><b>", HOSTILE, "", AccessViews.SCOPES, "tok");
        String html = Templates.page("access/adminRoles.jte", JA, v);
        assertFalse(html.contains("<script>") || html.contains("<b>"), html);
        assertTrue(html.contains("<tr><td><a href=\"/console/admin/role?code=ward_clerk\">" + ESCAPED
                + "</a></td><td><code>ward_clerk</code></td><td>施設独自</td><td>はい</td><td>病棟</td></tr>"), html);
        assertTrue(html.contains("<label>コード（半角英小文字・数字・_）<input name=\"code\" value=\"&quot;&gt;&lt;b&gt;\"></label>"
                + "<label>名称（日本語）<input name=\"name_ja\" value=\"" + ESCAPED + "\"></label>"), html);
        assertTrue(html.contains("<div class=\"msg error\" role=\"alert\"><p>" + ESCAPED + "</p></div>"), html);
        assertTrue(html.contains("<label>範囲<select name=\"scope\"><option value=\"department\">部署</option>"
                + "<option value=\"ward\">病棟</option><option value=\"hospital\">病院全体</option></select></label>"), html);
    }

    @Test
    void aBuiltInRoleShowsItsPermissionsAndAnInstitutionRoleIsAFormWithRefusedBoxesDisabled() {
        AccessViews.CategoryRow row = new AccessViews.CategoryRow(HOSTILE, true, List.of(
                new AccessViews.Cell("results:read", "results read", true, true),
                new AccessViews.Cell("results:search", "results search", false, false)));
        AccessViews.Role builtin = new AccessViews.Role("", "physician", "医師", true, true, "department",
                List.of("参照", "検索"), List.of(row), "tok");
        String shown = Templates.page("access/adminRole.jte", JA, builtin);
        assertFalse(shown.contains("<form") || shown.contains("<script>"), shown);
        assertTrue(shown.contains("<tr><th>" + ESCAPED + " *</th><td>●</td><td></td></tr>"), shown);
        assertTrue(shown.contains("<dd>標準（読み取り専用）</dd>"), shown);

        AccessViews.Role own = new AccessViews.Role("", HOSTILE, "x", false, false, "hospital", List.of("read", "search"),
                List.of(row), "tok");
        String form = Templates.page("access/adminRole.jte", EN, own);
        assertTrue(form.contains("<form method=\"post\" action=\"/console/admin/role/permissions\"><input type=\"hidden\""
                + " name=\"csrf\" value=\"tok\"><input type=\"hidden\" name=\"code\" value=\"" + ESCAPED + "\">"), form);
        assertTrue(form.contains("<td><input type=\"checkbox\" name=\"p\" value=\"results:read\" checked disabled"
                + " aria-label=\"results read\"></td><td><input type=\"checkbox\" name=\"p\" value=\"results:search\""
                + " aria-label=\"results search\"></td>"), form);
        assertTrue(form.contains("<button type=\"submit\">Save</button></form></section>"), form);
    }

    @Test
    void aPersonsRolesPageEscapesDepartmentsAndNames() {
        AccessViews.AccountRoles v = new AccessViews.AccountRoles("", "acc-1", HOSTILE, HOSTILE + "、外来",
                List.of(new AccessViews.Assignment("as-1", HOSTILE + " (nurse)", HOSTILE, "ward", "inForce", "admin t",
                        "admin t", null), new AccessViews.Assignment("as-2", "x", "y", "department", "revoked", "g", "a",
                        "2025-01-02 03:04 " + HOSTILE)), List.of(new AccessViews.Option("nurse", HOSTILE)), HOSTILE,
                AccessViews.SCOPES, List.of(new AccessViews.Privilege("pr-1", HOSTILE, "pending", "g", false)),
                List.of(new AccessViews.Option("PSY", "Psychiatry (PSY)")), "tok");
        String html = Templates.page("access/adminAccountRoles.jte", EN, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<p><a href=\"/console/admin/account?id=acc-1\">Back to the account</a> — Departments: "
                + ESCAPED + "、外来</p>"), html);
        assertTrue(html.contains("<tr><td>" + ESCAPED + " (nurse)</td><td>" + ESCAPED + "</td><td>Ward</td><td>In force</td>"),
                html);
        assertTrue(html.contains("<td>Revoked 2025-01-02 03:04 " + ESCAPED + "</td></tr>"), html);
        assertTrue(html.contains("<option value=\"nurse\">" + ESCAPED + "</option>"), html);
        assertTrue(html.contains("<input name=\"department\" value=\"" + ESCAPED + "\">"), html);
        assertTrue(html.contains("<option value=\"\">The role&#39;s default</option>"), html);
        assertTrue(html.contains("<tr><td>" + ESCAPED + "</td><td>Awaiting a second administrator</td>"), html);
    }

    @Test
    void theApprovalQueueNamesTheScopeAndOffersWithdrawalToTheRequester() {
        AccessViews.Approvals v = new AccessViews.Approvals("", List.of(
                new AccessViews.Pending("role", "i-1", HOSTILE, HOSTILE + " / 内科", "hospital", "me", "t", false, true),
                new AccessViews.Pending("privilege", "i-2", "p", "PSY", null, "other", "t", true, false)), true,
                List.of(new AccessViews.Unconfirmed("i-3", "p", HOSTILE, "me t", false)), "tok");
        String html = Templates.page("access/adminApprovals.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<tr><td>役割</td><td>" + ESCAPED + "</td><td>" + ESCAPED + " / 内科 / 病院全体</td>"
                + "<td>me</td><td>t</td><td>別の管理者の承認待ち <form method=\"post\" action=\"/console/admin/approvals/reject\""), html);
        assertTrue(html.contains(">取り下げ</button>"), html);
        assertTrue(html.contains("<tr><td>機微情報の権限</td><td>p</td><td>PSY</td><td>other</td><td>t</td><td><form method="
                + "\"post\" action=\"/console/admin/approvals/approve\" class=\"inline\"><input type=\"hidden\" name=\"csrf\""
                + " value=\"tok\"><input type=\"hidden\" name=\"kind\" value=\"privilege\"><input type=\"hidden\" name=\"item\""
                + " value=\"i-2\"><button type=\"submit\">承認</button></form>"), html);
        assertTrue(html.contains(">却下</button>"), html);
        assertTrue(html.contains("<p id=\"sole-admin\">"), html);
        assertTrue(html.contains("<td>" + ESCAPED + "</td><td>me t</td><td>三人目の管理者の確認待ち</td>"), html);
    }

    @Test
    void theCarePageEscapesThePatientAndTheDepartmentAndNamesThePatientByNameAndPatientId() {
        AccessViews.PatientLabel patient = new AccessViews.PatientLabel(HOSTILE, HOSTILE, "ヤマダ", "P-001", "Female",
                "1 Apr 1950 (75 y)", true);
        AccessViews.CarePage v = new AccessViews.CarePage("", HOSTILE, HOSTILE, "", false, List.of(), false, 20,
                patient, List.of(new AccessViews.Care("c-1", "nurse", true, HOSTILE, "t〜", "admin t", null),
                new AccessViews.Care("c-2", "nurse", false, null, "t〜t", "admin t", "t admin")), "", "", "tok");
        String html = Templates.page("access/adminCare.jte", EN, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<p id=\"care-patient-label\"><span class=\"pname\">" + ESCAPED
                + "</span> <span class=\"kana\">ヤマダ</span><br><small>Patient ID P-001</small>"), html);
        assertTrue(html.contains("<input type=\"hidden\" name=\"patient\" value=\"" + ESCAPED + "\">"), html);
        assertTrue(html.contains("<input name=\"patient_id\" value=\"" + ESCAPED + "\""), "the search form again: " + html);
        assertTrue(html.contains("<tr><td>nurse</td><td>Care team</td><td>" + ESCAPED + "</td><td>t〜</td>"), html);
        assertTrue(html.contains("<td>Assignment</td><td>(any department)</td><td>t〜t</td><td>admin t</td><td>Ended t admin</td>"),
                html);
        String none = Templates.page("access/adminCare.jte", EN, new AccessViews.CarePage("", "", "", "", false,
                List.of(), false, 20, null, List.of(), "", "", "t"));
        assertFalse(none.contains("id=\"care-patient\""), "no patient, no relationships: " + none);
        assertTrue(none.contains("action=\"/console/admin/care/find\""), "the search form: " + none);
        String found = Templates.page("access/adminCare.jte", JA, new AccessViews.CarePage("", "", HOSTILE, "", true,
                List.of(patient), true, 20, null, List.of(), "", "", "t"));
        assertTrue(found.contains("href=\"/console/admin/care?patient=" + ESCAPED + "\""), found);
        assertTrue(found.contains("該当する患者が 20 名を超えます"), "more than shown: " + found);
    }

    @Test
    void theReviewHistoryAndReportsEscapeWhatTheyShow() {
        AccessViews.Review review = new AccessViews.Review("", "r-1", HOSTILE, "t admin", null, List.of(
                new AccessViews.Item("1", HOSTILE + " (x)", "医師 (physician)", null, "remove", "admin t", HOSTILE),
                new AccessViews.Item("2", "y (y)", "z", "t", null, " —", null)), AccessReviews.DECISIONS, "tok");
        String html = Templates.page("access/adminReview.jte", JA, review);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<dd>" + ESCAPED + "</dd>") && html.contains("<dd>未完了</dd>"), html);
        assertTrue(html.contains("<tr><td>" + ESCAPED + " (x)</td><td>医師 (physician)</td><td>なし</td><td><strong>削除</strong>"
                + " admin t<br>" + ESCAPED + "</td></tr>"), html);
        assertTrue(html.contains("<select name=\"decision\"><option value=\"confirm\">継続</option><option value=\"remove\">"
                + "削除</option></select>"), html);
        assertTrue(html.contains("action=\"/console/admin/access-review/complete\""), html);

        String history = Templates.page("access/adminHistory.jte", EN, new AccessViews.History(List.of(
                new AccessViews.Change("t", HOSTILE, "role.assigned", "account:x", "{\"role\": \"" + HOSTILE + "\"}"))));
        assertFalse(history.contains("<script>"), history);
        assertTrue(history.contains("<td><code>{&quot;role&quot;: &quot;" + ESCAPED + "&quot;}</code></td>"), history);

        String reports = Templates.page("access/adminReports.jte", EN, new AccessViews.Reports(90, List.of(
                new AccessViews.Holding("a-1", HOSTILE + " (x)", true, "Physician (physician)", HOSTILE, null)), List.of(
                new AccessViews.Holding("a-2", "y (y)", false, "PSY", "", "t"))));
        assertFalse(reports.contains("<script>"), reports);
        assertTrue(reports.contains("<h2>Privileges unused for 90 days</h2>"), reports);
        assertTrue(reports.contains("<tr><td><a href=\"/console/admin/account/roles?id=a-1\">" + ESCAPED
                + " (x)</a></td><td>Physician (physician)</td><td>" + ESCAPED + "</td><td>never</td></tr>"), reports);
        assertTrue(reports.contains("<td>Sensitive: PSY</td><td></td><td>t</td>"), reports);
    }
}
