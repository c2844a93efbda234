package jp.mamori.identity.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22, "step-up keeps the form": a fresh second factor demanded in the middle of a form (break-glass with its
 * typed reason, a care relationship) is given once, and the form that was sent then continues through the whole
 * gate; nothing is typed again. The held form is single use, bound to its session and CSRF token, and runs only
 * after the step-up page of that very request.
 */
class StepUpKeepsTheFormTest {
    private static final String KEPT = "送信した内容は保持されています";
    private static Hospital h;
    /** Record ids of the patients with 患者ID pt-3002 and pt-3003 (the care page takes the chosen record). */
    private static String care2;
    private static String care3;

    @BeforeAll
    static void open() {
        h = Hospital.open();
        Clinic clinic = new Clinic(h);
        clinic.patient("pt-3001", "救急", "一郎", "キュウキュウ", "イチロウ", "1970-01-01", "male");
        care2 = clinic.patient("pt-3002", "担当", "二郎", "タントウ", "ジロウ", "1971-02-02", "male");
        care3 = clinic.patient("pt-3003", "担当", "三郎", "タントウ", "サブロウ", "1972-03-03", "male");
        clinic.patient("pt-3004", "救急", "四郎", "キュウキュウ", "シロウ", "1973-04-04", "male");
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
    }

    /** The second factor of the person's sessions, as if given long ago: the next step-up route asks again. */
    private static void staleFactor(Person p) throws Exception {
        h.execute("UPDATE web_session SET second_factor_at = second_factor_at - interval '10 minutes'"
                + " WHERE account_id = ? AND ended_at IS NULL", p.accountId);
    }

    private static long count(String sql, Object... params) {
        return h.<Long>one(sql, params);
    }

    private static String ticket(Browser.Page stepUp) {
        Matcher m = Pattern.compile("name=\"resume\" value=\"([^\"]+)\"").matcher(stepUp.body());
        assertTrue(m.find(), () -> "the step-up form carries the held form's ticket: " + stepUp);
        return m.group(1);
    }

    @Test
    void breakGlassContinuesAfterTheStepUpWithTheReasonAsTyped() throws Exception {
        Person nurse = h.enrolStaff("kyukyu.a", "救急科");
        staleFactor(nurse);
        Browser b = nurse.browser;
        b.get("/console/break-glass");
        String reason = "救急搬送、意識なし。既往歴と服薬の確認のため";
        Browser.Page asked = b.submit("/console/break-glass", "patient", "pt-3001", "reason", "unconscious_patient",
                "reason_text", reason);
        assertEquals(Hospital.STEP_UP_PATH, asked.path(), asked::toString);
        assertTrue(asked.contains(KEPT), "the step-up page says what was sent is kept: " + asked);
        assertFalse(asked.uri().toString().contains("reason") || asked.uri().toString().contains("pt-3001"),
                "the form is not in the address: " + asked.uri());
        assertEquals(0L, count("SELECT count(*) FROM break_glass WHERE account_id = ?", nurse.accountId));

        Browser.Page started = nurse.stepUpQuickly(b);
        assertEquals("/console/break-glass", started.path(), started::toString);
        assertTrue(started.contains("id=\"break-glass-banner\""), started::toString);
        assertEquals(reason, h.one("SELECT reason_text FROM break_glass WHERE account_id = ?", nurse.accountId),
                "started with the reason as typed, without typing it again");
    }

    @Test
    void aCareRelationshipIsRecordedAfterTheStepUpOnceAndOnlyForItsOwnSession() throws Exception {
        Person doctor = h.enrolStaff("naika.b", "内科");
        Person admin = h.admin;
        Browser b = admin.browser;
        staleFactor(admin);
        Browser.Page care = b.get("/console/admin/care?patient=" + care2);
        Map<String, String> form = new LinkedHashMap<>();
        form.put("csrf", care.csrf());
        form.put("patient", care2);
        form.put("login_id", doctor.loginId);
        form.put("kind", "assignment");
        form.put("department", "内科");
        Browser.Page asked = b.post("/console/admin/care/add", form, Map.of());
        assertEquals(Hospital.STEP_UP_PATH, asked.path(), asked::toString);
        String ticket = ticket(asked);
        String stepUpCsrf = asked.csrf();

        // Another session of the same administrator cannot run it, even with the ticket.
        Browser other = new Browser(h.server, "same-admin-elsewhere");
        admin.logIn(other);
        Browser.Page elsewhere = other.post("/console/step-up", Map.of("csrf", other.get("/console/me").csrf(),
                "recovery_code", admin.nextRecoveryCode(), "resume", ticket, "next", "/console/home"), Map.of());
        assertEquals("/console/home", elsewhere.path(), elsewhere::toString);
        String careRows = "SELECT count(*) FROM care_assignment WHERE patient_id = '" + care2 + "' AND account_id = ?";
        assertEquals(0L, count(careRows, doctor.accountId), "another session's step-up runs nothing");

        Browser.Page done = admin.stepUpQuickly(b);
        assertEquals("/console/admin/care", done.path(), done::toString);
        assertEquals(1L, count(careRows, doctor.accountId), "recorded after the step-up, without sending it again");

        // Single use: the same ticket again (the factor is fresh now, so this is a plain step-up) runs nothing.
        Browser.Page replay = b.post("/console/step-up", Map.of("csrf", stepUpCsrf, "code", admin.totp(),
                "resume", ticket, "next", "/console/home"), Map.of());
        assertEquals("/console/home", replay.path(), replay::toString);
        assertEquals(1L, count(careRows, doctor.accountId), "a held form runs once");
    }

    @Test
    void aFormLeftOnAStepUpPageDoesNotRunAfterALaterUnrelatedStepUp() throws Exception {
        Person doctor = h.enrolStaff("geka.c", "外科");
        Person admin = h.admin;
        Browser b = admin.browser;
        staleFactor(admin);
        Browser.Page care = b.get("/console/admin/care?patient=" + care3);
        Browser.Page asked = b.post("/console/admin/care/add", Map.of("csrf", care.csrf(), "patient", care3,
                "login_id", doctor.loginId, "kind", "care_team", "department", "外科"), Map.of());
        assertEquals(Hospital.STEP_UP_PATH, asked.path(), asked::toString);
        assertTrue(asked.contains("取りやめて戻る"), "the step-up page offers to cancel it: " + asked);

        // The administrator goes elsewhere instead, and steps up for a page that needs it.
        Browser.Page csvAsk = b.get("/console/admin/accounts.csv");
        assertEquals(Hospital.STEP_UP_PATH, csvAsk.path(), csvAsk::toString);
        assertFalse(csvAsk.contains(KEPT), "a page's step-up holds no form: " + csvAsk);
        Browser.Page csv = admin.stepUpQuickly(b);
        assertEquals("/console/admin/accounts.csv", csv.path(), csv::toString);
        assertEquals(0L, count("SELECT count(*) FROM care_assignment WHERE patient_id = '" + care3 + "'"),
                "the form left behind did not run");
    }

    @Test
    void theHeldFormOfAPersonSuspendedMeanwhileDoesNotRun() throws Exception {
        Person nurse = h.enrolStaff("byoto.d", "病棟");
        staleFactor(nurse);
        Browser b = nurse.browser;
        Browser.Page mine = b.get("/console/break-glass");
        Browser.Page asked = b.post("/console/break-glass", Map.of("csrf", mine.csrf(), "patient", "pt-3004",
                "reason", "unconscious_patient", "reason_text", "救急搬送、意識なし。既往歴の確認のため"), Map.of());
        assertEquals(Hospital.STEP_UP_PATH, asked.path(), asked::toString);
        h.accountAction(nurse.accountId, "/console/admin/account/suspend", "reason", "試験のため停止");
        assertEquals("suspended", h.status(nurse.accountId));

        Browser.Page after = b.post("/console/step-up", Map.of("csrf", asked.csrf(), "code", nurse.totp(),
                "resume", ticket(asked), "next", "/console/break-glass"), Map.of());
        assertEquals("/console/login", after.path(), after::toString);
        assertEquals(0L, count("SELECT count(*) FROM break_glass WHERE account_id = ?", nurse.accountId));
    }
}
