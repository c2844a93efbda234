package jp.mamori.identity.web;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Roles, assignments and the four-eyes queue through the console's access pages (ACCESS-1..4). */
class AccessConsoleTest {
    /** Every state-changing route of the access pages. */
    static final List<String> POSTS = List.of("/console/admin/roles", "/console/admin/role/permissions",
            "/console/admin/account/roles/assign", "/console/admin/account/roles/revoke",
            "/console/admin/account/privileges/grant", "/console/admin/account/privileges/revoke",
            "/console/admin/approvals/approve", "/console/admin/approvals/reject", "/console/admin/approvals/confirm", "/console/admin/care/add",
            "/console/admin/care/end", "/console/admin/access-review/start", "/console/admin/access-review/decide",
            "/console/admin/access-review/complete");

    @Test
    void aRoleIsAssignedInADepartmentAndShowsOnTheAccount() {
        try (Hospital h = Hospital.open()) {
            UUID nurse = h.createStaff(Person.uniqueId("suzuki.k"), "内科");
            Browser.Page account = h.openAccount(nurse);
            assertTrue(account.contains("href=\"/console/admin/account/roles?id=" + nurse + "\""),
                    "the account page links to its roles");
            Browser.Page roles = h.admin.browser.get("/console/admin/account/roles?id=" + nurse);
            assertEquals(200, roles.status(), roles::toString);

            Browser.Page after = h.adminSubmit("/console/admin/account/roles/assign", "role", "nurse",
                    "department", "5階東病棟", "scope", "");
            assertEquals("/console/admin/account/roles", after.path(), after::toString);
            String assignments = table(after, "assignments");
            assertTrue(assignments.contains("看護師 (nurse)") && assignments.contains("5階東病棟")
                    && assignments.contains("有効") && assignments.contains("病棟"), assignments);

            List<Map<String, Object>> rows = h.rows("SELECT role, department, scope, granted_by, approved_by"
                    + " FROM role_assignment WHERE account_id = ? AND role = 'nurse'", nurse);
            assertEquals(1, rows.size());
            assertEquals("ward", rows.get(0).get("scope"), "the nurse role's default scope");
            assertEquals(h.admin.accountId, rows.get(0).get("approved_by"), "no four eyes for someone else's clinical role");
            assertEquals(h.admin.principal(), h.one("SELECT by_principal FROM access_change WHERE action = 'role.assigned'"
                    + " AND subject = ? AND detail->>'role' = 'nurse'", "account:" + nurse));

            Browser.Page history = h.admin.browser.get("/console/admin/access-history");
            assertTrue(table(history, "access-changes").contains("role.assigned"), history::toString);

            h.admin.browser.get("/console/admin/account/roles?id=" + nurse);
            Browser.Page dup = h.adminSubmit("/console/admin/account/roles/assign", "role", "nurse",
                    "department", "5階東病棟", "scope", "");
            assertEquals(400, dup.status());
            assertTrue(dup.error().contains("既に割り当てられています"), dup.error());
        }
    }

    @Test
    void assigningAClinicalRoleToOneselfWaitsForAnotherAdministrator() {
        try (Hospital h = Hospital.open()) {
            UUID me = h.admin.accountId;
            h.admin.browser.get("/console/admin/account/roles?id=" + me);
            Browser.Page asked = h.adminSubmit("/console/admin/account/roles/assign", "role", "physician",
                    "department", "内科", "scope", "");
            assertEquals("/console/admin/account/roles", asked.path(), asked::toString);
            assertTrue(table(asked, "assignments").contains("承認待ち"), asked::toString);
            UUID assignment = h.one("SELECT assignment_id FROM role_assignment WHERE account_id = ? AND role = 'physician'", me);
            assertNull(h.one("SELECT approved_at FROM role_assignment WHERE assignment_id = ?", assignment),
                    "nothing is given before a second administrator approves");

            Browser.Page queue = h.admin.browser.get("/console/admin/approvals");
            String pending = table(queue, "pending");
            assertTrue(pending.contains("別の管理者の承認待ち") && !pending.contains("/console/admin/approvals/approve"),
                    "no approve button for one's own request: " + pending);
            Browser.Page self = h.adminSubmit("/console/admin/approvals/reject", "reason", "x");
            assertEquals("/console/admin/approvals", self.path(), "withdrawing is allowed: " + self);
            assertNotNull(h.one("SELECT revoked_at FROM role_assignment WHERE assignment_id = ?", assignment));

            // Asked again; a direct approve post by the same administrator is refused by the service.
            h.admin.browser.get("/console/admin/account/roles?id=" + me);
            h.adminSubmit("/console/admin/account/roles/assign", "role", "physician", "department", "内科", "scope", "");
            UUID again = h.one("SELECT assignment_id FROM role_assignment WHERE account_id = ? AND role = 'physician'"
                    + " AND revoked_at IS NULL", me);
            Browser.Page q = h.admin.browser.get("/console/admin/approvals");
            Browser.Page refused = h.admin.browser.post("/console/admin/approvals/approve",
                    Map.of("csrf", q.csrf(), "kind", "role", "item", again.toString()), Map.of());
            assertEquals(400, refused.status(), refused::toString);
            assertTrue(refused.error().contains("別の管理者"), refused.error());
            assertNull(h.one("SELECT approved_at FROM role_assignment WHERE assignment_id = ?", again));

            Person second = h.enrolAdministrator("kanri.j", "情報システム部");
            Browser b = second.browser;
            Browser.Page theirs = b.get("/console/admin/approvals");
            assertEquals(200, theirs.status(), theirs::toString);
            assertTrue(table(theirs, "pending").contains("/console/admin/approvals/approve"), theirs::toString);
            Browser.Page approved = b.submit("/console/admin/approvals/approve");
            if (approved.path().equals(Hospital.STEP_UP_PATH)) {
                approved = second.stepUpQuickly(b); // the approval continues after the step-up
            }
            assertEquals("/console/admin/approvals", approved.path(), approved::toString);
            assertEquals(second.accountId, h.one("SELECT approved_by FROM role_assignment WHERE assignment_id = ?", again));
            assertEquals(second.principal(), h.one("SELECT by_principal FROM access_change"
                    + " WHERE action = 'role.assignment_approved' AND detail->>'assignment' = ?", again.toString()));
            Browser.Page mine = h.admin.browser.get("/console/admin/account/roles?id=" + me);
            assertTrue(table(mine, "assignments").contains("有効"), mine::toString);
        }
    }

    @Test
    void everyAccessPagePostNeedsAFreshSecondFactorAndTheCsrfToken() throws Exception {
        try (Hospital h = Hospital.open()) {
            Browser b = h.admin.browser;
            String csrf = b.get("/console/admin/access").csrf();
            h.execute("UPDATE web_session SET second_factor_at = second_factor_at - interval '10 minutes'"
                    + " WHERE account_id = ? AND ended_at IS NULL", h.admin.accountId);
            long changes = h.<Long>one("SELECT count(*) FROM access_change");
            for (String path : POSTS) {
                Map<String, String> form = Map.of("csrf", csrf, "code", "ward_clerk", "name_ja", "病棟クラーク",
                        "name_en", "Ward clerk", "department", "内科", "role", "clerk", "id", h.admin.accountId.toString());
                Browser.Page stale = b.post(path, form, Map.of());
                assertEquals(Hospital.STEP_UP_PATH, stale.path(), path + " without a fresh second factor: " + stale);
                b.get("/console/admin/access");
                Browser.Page noToken = b.post(path, Map.of("code", "ward_clerk", "department", "内科"), Map.of());
                assertEquals(403, noToken.status(), path + " without the CSRF token");
                // another first character: "x" + the rest was the real token whenever it began with "x" (1 in 64)
                String wrong = (csrf.charAt(0) == 'x' ? "y" : "x") + csrf.substring(1);
                Browser.Page wrongToken = b.post(path, Map.of("csrf", wrong, "department", "内科"), Map.of());
                assertEquals(403, wrongToken.status(), path + " with a wrong CSRF token");
                b.get("/console/admin/access");
            }
            assertEquals(changes, (long) h.<Long>one("SELECT count(*) FROM access_change"), "nothing was changed");
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM role WHERE code = 'ward_clerk'"));
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM access_review"));
            assertFalse(POSTS.isEmpty());
        }
    }

    @Test
    void administratorRightsFromTheNewAccountFormWaitForASecondAdministrator() {
        try (Hospital h = Hospital.open()) {
            Person second = h.enrolStaff("kanri.s", "総務課", "admin", "1");
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM account_role WHERE account_id = ?", second.accountId),
                    "account_role is for the bootstrap administrator only");
            UUID asked = h.one("SELECT assignment_id FROM role_assignment WHERE account_id = ? AND role = 'account_admin'"
                    + " AND four_eyes AND approved_at IS NULL AND revoked_at IS NULL", second.accountId);
            assertNotNull(asked, "the box asks for an account_admin assignment through the four-eyes queue");
            assertEquals(403, second.browser.get("/console/admin/accounts").status(), "no administrator rights yet");

            // The first administrator is the only one: they may approve, flagged, after a fresh second factor.
            Browser.Page queue = h.admin.browser.get("/console/admin/approvals");
            assertTrue(queue.contains("id=\"sole-admin\"") && table(queue, "pending").contains("/console/admin/approvals/approve"),
                    queue::toString);
            Browser.Page approved = h.adminSubmit("/console/admin/approvals/approve", "kind", "role", "item", asked.toString());
            assertEquals("/console/admin/approvals", approved.path(), approved::toString);
            assertEquals(h.admin.accountId, h.one("SELECT approved_by FROM role_assignment WHERE assignment_id = ?", asked));
            assertEquals(Boolean.TRUE, h.one("SELECT sole_admin FROM role_assignment WHERE assignment_id = ?", asked));
            assertEquals("sole administrator", h.one("SELECT detail->>'note' FROM access_change"
                    + " WHERE action = 'role.assignment_approved' AND detail->>'assignment' = ?", asked.toString()));
            assertEquals(200, second.browser.get("/console/admin/accounts").status(), "rights in force after approval");
            Browser.Page home = h.admin.browser.get("/console/home");
            assertTrue(home.contains("唯一の管理者による承認"), "listed among the deviations: " + home);

            // The grantee cannot confirm; with two administrators, nobody approves their own request any more.
            Browser.Page theirs = second.browser.get("/console/admin/approvals");
            assertFalse(table(theirs, "unconfirmed").contains("/console/admin/approvals/confirm"), theirs::toString);
            Person third = h.enrolStaff("kanri.m", "総務課", "admin", "1");
            UUID thirdAsked = h.one("SELECT assignment_id FROM role_assignment WHERE account_id = ? AND role = 'account_admin'",
                    third.accountId);
            Browser.Page q = h.admin.browser.get("/console/admin/approvals");
            assertFalse(q.contains("id=\"sole-admin\""), "no longer the only administrator");
            assertFalse(table(q, "pending").contains("/console/admin/approvals/approve"), q::toString);
            Browser.Page refused = h.admin.browser.post("/console/admin/approvals/approve",
                    Map.of("csrf", q.csrf(), "kind", "role", "item", thirdAsked.toString()), Map.of());
            assertEquals(400, refused.status(), refused::toString);
            assertNull(h.one("SELECT approved_at FROM role_assignment WHERE assignment_id = ?", thirdAsked));

            Browser b = second.browser;
            b.get("/console/admin/approvals");
            Browser.Page ok = b.submit("/console/admin/approvals/approve", "kind", "role", "item", thirdAsked.toString());
            if (ok.path().equals(Hospital.STEP_UP_PATH)) {
                ok = second.stepUpQuickly(b);
            }
            assertEquals(second.accountId, h.one("SELECT approved_by FROM role_assignment WHERE assignment_id = ?", thirdAsked));
            assertEquals(Boolean.FALSE, h.one("SELECT sole_admin FROM role_assignment WHERE assignment_id = ?", thirdAsked));

            // A third administrator confirms the sole administrator's approval; the deviation goes away.
            Browser t = third.browser;
            Browser.Page list = t.get("/console/admin/approvals");
            assertTrue(table(list, "unconfirmed").contains("/console/admin/approvals/confirm"), list::toString);
            Browser.Page confirmed = t.submit("/console/admin/approvals/confirm");
            if (confirmed.path().equals(Hospital.STEP_UP_PATH)) {
                confirmed = third.stepUpQuickly(t);
            }
            assertEquals("/console/admin/approvals", confirmed.path(), confirmed::toString);
            assertEquals(third.accountId, h.one("SELECT confirmed_by FROM role_assignment WHERE assignment_id = ?", asked));
            assertFalse(h.admin.browser.get("/console/home").contains("唯一の管理者による承認"));
        }
    }

    @Test
    void aNurseCreatedInAWardHoldsTheNurseRoleThere() {
        try (Hospital h = Hospital.open()) {
            UUID nurse = h.createStaff(Person.uniqueId("kango.a"), "5階東病棟、外来", "qualification", "nurse",
                    "licence_nurse", "N" + Math.abs(System.nanoTime() % 1_000_000_000L));
            List<Map<String, Object>> rows = h.rows("SELECT role, department, scope, four_eyes, granted_by, approved_by"
                    + " FROM role_assignment WHERE account_id = ? AND revoked_at IS NULL ORDER BY department", nurse);
            assertEquals(2, rows.size(), rows::toString);
            assertEquals("nurse", rows.get(0).get("role"));
            assertEquals(List.of("5階東病棟", "外来"), rows.stream().map(r -> r.get("department")).sorted().toList());
            for (Map<String, Object> r : rows) {
                assertEquals("ward", r.get("scope"), "the nurse role's default scope");
                assertEquals(Boolean.FALSE, r.get("four_eyes"), "granted by the creating administrator: not a self-grant");
                assertEquals(h.admin.accountId, r.get("approved_by"));
            }
            assertEquals(2L, (long) h.<Long>one("SELECT count(*) FROM access_change WHERE action = 'role.assigned'"
                    + " AND subject = ? AND by_principal = ? AND detail->>'role' = 'nurse'"
                    + " AND detail->>'origin' = 'default for qualification nurse'", "account:" + nurse, h.admin.principal()));
            Browser.Page page = h.admin.browser.get("/console/admin/account/roles?id=" + nurse);
            assertTrue(table(page, "assignments").contains("看護師 (nurse)"), page::toString);
        }
    }

    /** The inner HTML of {@code <table id="id">}. */
    static String table(Browser.Page p, String id) {
        var m = java.util.regex.Pattern.compile("<table id=\"" + id + "\">(.*?)</table>", java.util.regex.Pattern.DOTALL)
                .matcher(p.body());
        if (!m.find()) {
            throw new AssertionError("no table " + id + " on " + p);
        }
        return m.group(1);
    }
}
