package jp.mamori.identity.web;

import jp.mamori.identity.web.SigningSetup.Cli;
import jp.mamori.testing.SoftHsm;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17 through the console with the key on a real PKCS#11 token (SIGN-6, AUTH-7): a doctor's key and chain live on
 * the tests' SoftHSM2 token ({@link SoftHsm}, stored there by this class); the administrator registers it with
 * {@code mamori signing-key add --pkcs11 LIBRARY:TOKEN:KEY} and the token's PIN in {@code MAMORI_SIGNING_PIN}; 確定保存
 * then signs on the token given the PIN typed on the form. A wrong PIN is refused with the token's own answer
 * (CKR_PIN_INCORRECT, shown as "PIN が正しくありません") and nothing is finalized; the right one signs at B-T and
 * {@code verify-signatures} finds the signature valid. Skipped without SoftHSM2 unless
 * {@code -Dmamori.requireSoftHsm=true}.
 */
class SigningTokenConsoleTest {
    private static final String TOKEN = SoftHsm.TOKEN;
    private static final String KEY = "console-ishi";
    private static final String PIN = SoftHsm.PIN;
    private static TestPki.Issued doctorKey;

    @BeforeAll
    static void token() throws Exception {
        SoftHsm.assumeAvailable();
        SoftHsm.token();
        // the default staff name of the console tests is 山田 花子: the card names her, as a doctor
        doctorKey = TestPki.get().signer("山田 花子", "Medical Doctor");
        SoftHsm.store(KEY, doctorKey.key(), doctorKey.chain());
    }

    @Test
    void aDoctorSignsOnHerTokenWithItsPinAndAWrongPinFinalizesNothing() throws Exception {
        TestPki.get().tsaMode(TestPki.TsaMode.OK);
        try (Hospital h = Hospital.open(SigningSetup.options())) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000172", "中村", "誠", "ナカムラ", "マコト", "1955-03-03", "male");
            Person doctor = h.enrolStaff("ishi.t", "内科", "qualification", "physician", "licence_physician", "917002");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            String locator = SoftHsm.LIBRARY + ":" + TOKEN + ":" + KEY;

            // registering reads the certificate off the token, which needs its PIN; no such key is named
            Cli wrongAtAdd = SigningSetup.addKey(h, doctor.loginId, "000000", "--pkcs11", locator);
            assertEquals(1, wrongAtAdd.code(), wrongAtAdd.out());
            assertTrue(wrongAtAdd.out().contains("PIN が正しくありません / the PIN is wrong"), wrongAtAdd.out());
            Cli noKey = SigningSetup.addKey(h, doctor.loginId, PIN, "--pkcs11", SoftHsm.LIBRARY + ":" + TOKEN
                    + ":no-such-key");
            assertEquals(1, noKey.code(), noKey.out());
            assertTrue(noKey.out().contains("no-such-key"), noKey.out());
            Cli added = SigningSetup.addKey(h, doctor.loginId, PIN, "--pkcs11", locator);
            assertEquals(0, added.code(), added.out());
            assertTrue(added.out().contains("registered for " + doctor.loginId) && added.out().contains("医師"),
                    added.out());
            assertEquals("pkcs11", h.one("SELECT kind FROM signing_key WHERE account_id = ? AND retired_at IS NULL",
                    doctor.accountId));
            assertFalse(h.<String>one("SELECT locator FROM signing_key WHERE account_id = ?", doctor.accountId)
                    .contains(PIN), "the PIN is never kept");

            Browser b = doctor.browser;
            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page draft = b.submit("/console/notes/save", "s", "咳嗽あり。", "o", "SpO2 97%", "a", "急性気管支炎",
                    "p", "鎮咳薬", "op", "draft");
            String doc = draft.path().substring("/console/documents/".length());
            Browser.Page form = b.get("/console/documents/" + doc + "/edit");
            assertTrue(form.contains("id=\"signing-pin\"") && form.contains("IC カード/トークン (PKCS#11)"),
                    form::toString);

            // a wrong PIN: the token refuses it, the note stays a draft and what was typed is kept
            Browser.Page wrong = b.submit("/console/notes/save", "s", "咳嗽あり。", "o", "SpO2 97%", "a",
                    "急性気管支炎", "p", "鎮咳薬", "op", "finalize", "pin", "999999");
            assertEquals(422, wrong.status(), wrong::toString);
            assertTrue(wrong.contains("PIN が正しくありません / the PIN is wrong") && wrong.contains("鎮咳薬"),
                    wrong::toString);
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM document_signature WHERE res_id = ?", doc));
            assertEquals(1, (int) h.<Integer>one("SELECT max(version) FROM resource_version WHERE res_id = ?", doc),
                    "nothing was finalized");
            assertEquals("preliminary", h.one("SELECT body::jsonb ->> 'status' FROM resource_version WHERE res_id = ?"
                    + " AND version = 1", doc));

            // the right PIN: signed on the token, in the finalizing transaction, time-stamped
            b.get("/console/documents/" + doc + "/edit");
            Browser.Page signed = b.submit("/console/notes/save", "s", "咳嗽あり。", "o", "SpO2 97%", "a",
                    "急性気管支炎", "p", "鎮咳薬", "op", "finalize", "pin", PIN);
            assertTrue(signed.contains("status-final"), signed::toString);
            assertTrue(signed.contains("id=\"signatures\"") && signed.contains("山田 花子（医師）")
                    && signed.contains("<td>B-T</td>"), signed::toString);
            assertEquals(doctorKey.certificate().getSerialNumber().toString(16), h.one(
                    "SELECT certificate_serial FROM document_signature WHERE res_id = ? AND version = 2", doc),
                    "signed with the token's key");

            Cli verified = SigningSetup.verifySignatures(h, "--document", "Composition/" + doc);
            assertEquals(0, verified.code(), verified.out());
            assertTrue(verified.out().contains("VALID   Composition/" + doc + "/_history/2  山田 花子 (医師)")
                    && verified.out().contains("B-T  TOTAL_PASSED"), verified.out());
        }
    }
}
