package jp.mamori.identity.web;

import jp.mamori.testing.TestData;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JP-CLINS referral letter signed at finalization (issue 23 with issue 17): a doctor with a registered signing key
 * must give the PIN — without it nothing is stored and the form comes back with the reason in Japanese — and with it the
 * stored DocumentReference (the Bundle attached) is signed in the same transaction by the project's document signing
 * (CAdES B-T with the test TSA), shown as signed on the document's page.
 */
class ClinsSigningTest {
    private static final String PIN = "5521-0390";

    @Test
    void aReferralLetterIsSignedWithTheDoctorsKeyWhenFinalized() throws Exception {
        TestPki pki = TestPki.get();
        pki.tsaMode(TestPki.TsaMode.OK);
        try (Hospital h = Hospital.open(SigningSetup.options())) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000281", "高橋", "健", "タカハシ", "ケン", "1960-05-05", "male");
            // the default staff name is 山田 花子: the certificate names her, as a doctor
            Person doctor = h.enrolStaff("ishi.clins", "内科", "qualification", "physician", "licence_physician",
                    "917031");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            Path work = java.nio.file.Files.createDirectories(TestData.newFolder("clins-keys-"));
            Path p12 = pki.signer("山田 花子", "Medical Doctor").writePkcs12(work.resolve("yamada.p12"),
                    PIN.toCharArray());
            SigningSetup.Cli added = SigningSetup.addKey(h, doctor.loginId, PIN, "--pkcs12", p12.toString());
            assertEquals(0, added.code(), added.out());

            Browser b = doctor.browser;
            b.get("/console/clins/new?patient=" + pt);
            Browser.Page preview = b.submit("/console/clins/preview", "to_institution", "みなと循環器クリニック",
                    "t_950", "精査をお願いします。", "inc", "CONDITIONS");
            assertEquals(200, preview.status(), preview::toString);
            assertTrue(preview.contains("id=\"clins-pin\""), preview::toString);

            Browser.Page noPin = b.submit("/console/clins/finalize", "pin", "");
            assertEquals(400, noPin.status(), noPin::toString);
            assertTrue(noPin.contains("PIN が入力されていません") && noPin.contains("精査をお願いします。"), noPin::toString);
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM document_signature WHERE res_type ="
                    + " 'DocumentReference'"));
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM resource_version WHERE res_type ="
                    + " 'DocumentReference'"), "nothing was stored");

            b.get("/console/clins/new?patient=" + pt);
            b.submit("/console/clins/preview", "to_institution", "みなと循環器クリニック", "t_950", "精査をお願いします。",
                    "inc", "CONDITIONS");
            Browser.Page signed = b.submit("/console/clins/finalize", "pin", PIN);
            assertEquals(200, signed.status(), signed::toString);
            assertTrue(signed.path().startsWith("/console/clins/document"), signed.path());
            assertTrue(signed.contains("電子署名済み"), signed::toString);
            String doc = signed.uri().getQuery().substring("id=".length());
            assertEquals("B-T", h.one("SELECT level FROM document_signature WHERE res_type = 'DocumentReference'"
                    + " AND res_id = ?", doc));
        }
    }
}
