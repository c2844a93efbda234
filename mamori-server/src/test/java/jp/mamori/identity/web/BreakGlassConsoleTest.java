package jp.mamori.identity.web;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Break-glass through the console pages, as a nurse and the administrator who reviews it would use them. */
class BreakGlassConsoleTest {

    @Test
    void aPersonStartsBreakGlassAfterStepUpSeesTheBannerAndAnAdministratorReviewsIt() throws Exception {
        try (Hospital h = Hospital.open()) {
            String patient = new Clinic(h).patient("pt-1001", "救急", "太郎", "キュウキュウ", "タロウ", "1980-01-01", "male");
            new Clinic(h).patient("pt-1002", "救急", "次郎", "キュウキュウ", "ジロウ", "1981-01-01", "male");
            Person nurse = h.enrolStaff("sato.m", "救急科");
            // Logged in a while ago: the second factor is no longer fresh.
            h.execute("UPDATE web_session SET second_factor_at = second_factor_at - interval '10 minutes'"
                    + " WHERE account_id = ? AND ended_at IS NULL", nurse.accountId);
            Browser b = nurse.browser;
            Browser.Page form = b.get("/console/break-glass");
            assertEquals(200, form.status(), form::toString);
            assertFalse(form.contains("id=\"break-glass-banner\""), "no banner before");

            Browser.Page p = b.submit("/console/break-glass", "patient", "pt-1001", "reason", "unconscious_patient",
                    "reason_text", "救急搬送、意識なし。既往歴と服薬の確認");
            assertEquals(Hospital.STEP_UP_PATH, p.path(), "a fresh second factor first: " + p);
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM break_glass WHERE account_id = ?", nurse.accountId),
                    "nothing started without it");
            // The request that was sent continues after the step-up: nothing to type again.
            Browser.Page started = nurse.stepUpQuickly(b);
            assertEquals("/console/break-glass", started.path(), started::toString);
            assertTrue(started.contains("id=\"break-glass-banner\""), "the banner shows");
            assertTrue(started.contains("救急　太郎") && started.contains("pt-1001") && started.contains("既往歴と服薬の確認"),
                    "the patient by name and 患者ID: " + started);
            assertTrue(started.contains("id=\"break-glass-active\""), "listed with the time left");
            Browser.Page elsewhere = b.get("/console/me");
            assertTrue(elsewhere.contains("id=\"break-glass-banner\""), "on every page while it lasts");

            b.get("/console/break-glass");
            Browser.Page tooShort = b.submit("/console/break-glass", "patient", "pt-1002", "reason", "other",
                    "reason_text", "急いでいる");
            assertEquals(400, tooShort.status());
            assertTrue(tooShort.error().contains("10"), tooShort.error());

            List<Map<String, Object>> rows = h.rows("SELECT break_glass_id, patient_id, department, reason_code,"
                    + " expires_at - started_at AS lasts FROM break_glass WHERE account_id = ?", nurse.accountId);
            assertEquals(1, rows.size());
            assertEquals(patient, rows.get(0).get("patient_id"), "the 患者ID names the patient's record");
            assertEquals("救急科", rows.get(0).get("department"));
            assertEquals("2 hours", String.valueOf(rows.get(0).get("lasts")).replace("0 years 0 mons 0 days ", "")
                    .replace(" 0 mins 0.0 secs", ""));
            UUID use = (UUID) rows.get(0).get("break_glass_id");

            Browser.Page queue = h.admin.browser.get("/console/admin/break-glass");
            assertEquals(200, queue.status(), queue::toString);
            assertTrue(queue.contains("未読 1 件"), "one unread notice for the security manager");
            assertTrue(queue.body().contains(nurse.loginId) && queue.contains("pt-1001") && queue.contains("救急　太郎"),
                    queue::toString);
            Browser.Page reviewed = h.adminSubmit("/console/admin/break-glass/review", "decision", "appropriate",
                    "comment", "救急外来の受診記録と一致");
            assertEquals("/console/admin/break-glass", reviewed.path(), reviewed::toString);
            assertEquals("appropriate", h.one("SELECT decision FROM break_glass_review WHERE break_glass_id = ?", use));
            assertEquals(h.admin.principal(), h.one("SELECT reviewer FROM break_glass_review WHERE break_glass_id = ?", use));

            Browser.Page report = h.admin.browser.get("/console/admin/break-glass?patient=pt-1001&outcome=appropriate");
            assertTrue(report.contains("適切"), report::toString);
            assertEquals(403, b.get("/console/admin/break-glass").status(), "the review page is for administrators");
        }
    }
}
