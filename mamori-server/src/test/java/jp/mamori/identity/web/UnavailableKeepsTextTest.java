package jp.mamori.identity.web;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A note saved at the moment the database cannot take writes (issue 18 §1: a standby before its promotion, a
 * failover): the editor comes back with 503 and Retry-After, what was typed still in it and a Japanese-first message
 * to save again in a few seconds; nothing was stored; saving again once the database takes writes stores it once.
 * Before issue 18 this was a 500 page and the text was gone.
 */
class UnavailableKeepsTextTest {
    @Test
    void aNoteSavedWhileTheDatabaseIsReadOnlyComesBackWithItsTextAndIsSavedOnTheNextTry() throws Exception {
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000031", "高橋", "健", "タカハシ", "ケン", "1975-05-05", "male");
            Person doctor = h.enrolStaff("ishi.t", "内科", "qualification", "physician", "licence_physician", "234567");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            Browser b = doctor.browser;
            b.get("/console/patients/" + pt + "/notes/new");
            // the write meets what a hot standby answers: "cannot execute INSERT in a read-only transaction"
            h.execute("CREATE FUNCTION test_read_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " RAISE EXCEPTION 'cannot execute INSERT in a read-only transaction' USING ERRCODE = '25006';"
                    + " END $$");
            h.execute("CREATE TRIGGER test_read_only BEFORE INSERT ON resource_version FOR EACH ROW"
                    + " EXECUTE FUNCTION test_read_only()");
            Browser.Page refused = b.submit("/console/notes/save", "s", "胸部不快感が朝から続く。", "o", "BP 142/88",
                    "a", "狭心症疑い", "p", "心電図", "op", "draft");
            assertEquals(503, refused.status(), refused::toString);
            assertEquals("5", refused.response().headers().firstValue("Retry-After").orElse(""));
            assertTrue(refused.contains("入力した内容はそのままです") && refused.contains("胸部不快感が朝から続く。")
                    && refused.contains("狭心症疑い"), refused::toString);
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM resource_version WHERE body::text"
                    + " LIKE '%胸部不快感%'"), "nothing stored");

            // a back-entry from paper meets the same: the form comes back with the paper's text and its times
            java.time.LocalDate yesterday = java.time.LocalDate.now(Hospital.JST).minusDays(1);
            String from = yesterday.atTime(9, 0).toString();
            String to = yesterday.atTime(12, 0).toString();
            b.get("/console/patients/" + pt + "/back-entry");
            Browser.Page back = b.submit("/console/entries/save", "downFrom", from, "downTo", to, "clinical",
                    yesterday.atTime(10, 30).toString(), "reason", "停電", "number", "D-0031", "s", "停電中の紙の記録",
                    "o", "", "a", "", "p", "", "op", "finalize");
            assertEquals(503, back.status(), back::toString);
            assertTrue(back.contains("入力した内容はそのままです") && back.contains("停電中の紙の記録")
                    && back.contains("D-0031"), back::toString);

            h.execute("DROP TRIGGER test_read_only ON resource_version");
            // the note sent again from its editor, once the database takes writes: stored once
            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page saved = b.submit("/console/notes/save", "s", "胸部不快感が朝から続く。", "o", "BP 142/88",
                    "a", "狭心症疑い", "p", "心電図", "op", "draft");
            assertTrue(saved.path().startsWith("/console/documents/"), saved::toString);
            assertTrue(saved.contains("胸部不快感が朝から続く。"), saved::toString);
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM resource_version WHERE body::text"
                    + " LIKE '%胸部不快感%'"), "stored once");
        }
    }
}
