package jp.mamori.identity.web;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static jp.mamori.identity.web.AccessConsoleTest.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The periodic access review and its reports through the console (ACCESS-5, ACCESS-12). */
class AccessReviewTest {

    private static UUID staffWithRole(Hospital h, String stem, String role, String department) {
        // Created without departments, so that the qualification's default role (clerk) is not given there too:
        // the person holds exactly the role assigned here.
        UUID id = h.createStaff(Person.uniqueId(stem), "");
        h.admin.browser.get("/console/admin/account/roles?id=" + id);
        Browser.Page p = h.adminSubmit("/console/admin/account/roles/assign", "role", role, "department", department,
                "scope", "");
        assertEquals("/console/admin/account/roles", p.path(), p::toString);
        return id;
    }

    private static Browser.Page startReview(Hospital h, String department) {
        h.admin.browser.get("/console/admin/access-review");
        Browser.Page p = h.adminSubmit("/console/admin/access-review/start", "department", department);
        assertEquals("/console/admin/access-review/view", p.path(), p::toString);
        return p;
    }

    @Test
    void anAccessReviewRecordsWhoConfirmedOrRemovedEachRoleAndWhen() {
        try (Hospital h = Hospital.open()) {
            UUID a = staffWithRole(h, "ito.a", "physician", "外科");
            UUID b = staffWithRole(h, "kato.b", "nurse", "外科");
            staffWithRole(h, "endo.c", "nurse", "内科"); // another department: not in this review
            Browser.Page view = startReview(h, "外科");
            String items = table(view, "review-items");
            assertTrue(items.contains("医師 (physician)") && items.contains("看護師 (nurse)"), items);
            assertTrue(items.contains("なし"), "never logged in is shown: " + items);
            List<Map<String, Object>> rows = h.rows("SELECT item_id, account_id FROM access_review_item ORDER BY item_id");
            assertEquals(2, rows.size(), "one item per assignment in force in the department");

            Browser.Page early = h.adminSubmit("/console/admin/access-review/complete");
            assertEquals(400, early.status());
            assertTrue(early.error().contains("未判定"), early.error());

            UUID first = (UUID) rows.get(0).get("account_id");
            h.admin.browser.get(view.uri().getPath() + "?" + view.uri().getQuery());
            Browser.Page d1 = h.adminSubmit("/console/admin/access-review/decide", "decision", "confirm", "note", "業務継続");
            assertEquals("/console/admin/access-review/view", d1.path(), d1::toString);
            Browser.Page d2 = h.adminSubmit("/console/admin/access-review/decide", "decision", "remove", "note", "異動のため");
            assertEquals("/console/admin/access-review/view", d2.path(), d2::toString);
            Browser.Page done = h.adminSubmit("/console/admin/access-review/complete");
            assertEquals("/console/admin/access-review/view", done.path(), done::toString);

            List<Map<String, Object>> decided = h.rows("SELECT account_id, decision, decided_by, decided_at, note"
                    + " FROM access_review_item ORDER BY item_id");
            assertEquals(first, decided.get(0).get("account_id"));
            assertEquals("confirm", decided.get(0).get("decision"));
            assertEquals("remove", decided.get(1).get("decision"));
            assertEquals("異動のため", decided.get(1).get("note"));
            for (Map<String, Object> row : decided) {
                assertEquals(h.admin.accountId, row.get("decided_by"));
                assertNotNull(row.get("decided_at"));
            }
            assertEquals(h.admin.accountId, h.one("SELECT completed_by FROM access_review"));
            assertNotNull(h.one("SELECT completed_at FROM access_review"));
            assertTrue(Set(a, b).contains(first));

            Browser.Page list = h.admin.browser.get("/console/admin/access-review");
            String reviews = table(list, "reviews");
            assertTrue(reviews.contains("外科") && reviews.contains(h.admin.loginId) && reviews.contains("2 / 2"), reviews);
            assertFalse(reviews.contains("未完了"), reviews);
            String shown = table(h.admin.browser.get(view.uri().getPath() + "?" + view.uri().getQuery()), "review-items");
            assertTrue(shown.contains("継続") && shown.contains("削除") && shown.contains("異動のため"), shown);

            try {
                h.execute("UPDATE access_review_item SET decision = 'confirm' WHERE decision = 'remove'");
                throw new AssertionError("a decision was rewritten");
            } catch (java.sql.SQLException expected) {
                assertTrue(expected.getMessage().contains("never rewritten"), expected.getMessage());
            }
        }
    }

    private static java.util.Set<UUID> Set(UUID... ids) {
        return java.util.Set.of(ids);
    }

    @Test
    void removingInAReviewRevokesTheAssignment() {
        try (Hospital h = Hospital.open()) {
            UUID staff = staffWithRole(h, "mori.d", "therapist", "リハビリテーション科");
            UUID assignment = h.one("SELECT assignment_id FROM role_assignment WHERE account_id = ?", staff);
            startReview(h, "リハビリテーション科");
            Browser.Page d = h.adminSubmit("/console/admin/access-review/decide", "decision", "remove", "note", "退職予定");
            assertEquals("/console/admin/access-review/view", d.path(), d::toString);
            UUID review = h.one("SELECT review_id FROM access_review");

            assertNotNull(h.one("SELECT revoked_at FROM role_assignment WHERE assignment_id = ?", assignment));
            assertEquals(h.admin.accountId, h.one("SELECT revoked_by FROM role_assignment WHERE assignment_id = ?", assignment));
            String reason = h.one("SELECT detail->>'reason' FROM access_change WHERE action = 'role.revoked'");
            assertTrue(reason.contains(review.toString()) && reason.contains("退職予定"), reason);
            Browser.Page roles = h.admin.browser.get("/console/admin/account/roles?id=" + staff);
            assertTrue(table(roles, "assignments").contains("取消済み"), roles::toString);

            Browser.Page again = startReviewAfterCompleting(h, review);
            assertFalse(table(again, "review-items").contains("療法士"), "a removed role is not reviewed again");
        }
    }

    private static Browser.Page startReviewAfterCompleting(Hospital h, UUID review) {
        h.admin.browser.get("/console/admin/access-review/view?id=" + review);
        Browser.Page done = h.adminSubmit("/console/admin/access-review/complete");
        assertEquals("/console/admin/access-review/view", done.path(), done::toString);
        return startReview(h, "リハビリテーション科");
    }

    @Test
    void theUnusedPrivilegesReportListsPeopleWithoutALoginFor90Days() throws Exception {
        try (Hospital h = Hospital.open()) {
            UUID never = staffWithRole(h, "noda.e", "clerk", "医事課");
            UUID longAgo = staffWithRole(h, "ueda.f", "physician", "内科");
            UUID recent = staffWithRole(h, "hara.g", "physician", "内科");
            h.execute("UPDATE account SET last_login_at = now() - interval '100 days' WHERE account_id = ?", longAgo);
            h.execute("UPDATE account SET last_login_at = now() - interval '10 days' WHERE account_id = ?", recent);
            h.admin.browser.get("/console/admin/account/roles?id=" + recent);
            Browser.Page granted = h.adminSubmit("/console/admin/account/privileges/grant", "label", "PSY");
            assertEquals("/console/admin/account/roles", granted.path(), granted::toString);
            assertTrue(table(granted, "privileges").contains("PSY") && table(granted, "privileges").contains("有効"),
                    granted::toString);

            Browser.Page report = h.admin.browser.get("/console/admin/access-reports");
            assertEquals(200, report.status(), report::toString);
            String unused = table(report, "unused");
            assertTrue(unused.contains(login(h, never)) && unused.contains(login(h, longAgo)), unused);
            assertFalse(unused.contains(login(h, recent)), "logged in 10 days ago: " + unused);
            String sensitive = table(report, "sensitive");
            assertTrue(sensitive.contains(login(h, recent)) && sensitive.contains("PSY"), sensitive);
            assertTrue(sensitive.contains(login(h, longAgo)), "a physician reaches clinical categories: " + sensitive);
            assertFalse(sensitive.contains(login(h, never)), "a clerk reaches no clinical category: " + sensitive);
        }
    }

    private static String login(Hospital h, UUID id) {
        return h.one("SELECT login_id FROM account WHERE account_id = ?", id);
    }
}
