package jp.mamori.identity.web;

import jp.mamori.identity.web.SigningSetup.Cli;
import jp.mamori.signatures.SignatureUpkeep;
import jp.mamori.testing.TestData;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17, end to end through the console (SIGN-1, SIGN-3, SIGN-4, SIGN-5, SIGN-6): a doctor's signing key is
 * registered by the CLI (its PIN checked, never kept; another person's certificate and an unrecorded qualification
 * refused); 確定保存 then needs the PIN — none or a wrong one leaves the note a draft — and signs the exact stored
 * version in the same transaction (CAdES B-T with the TSA's time, kept in a Provenance readable through the FHIR
 * API); the upkeep extends it to LTA; {@code verify-signatures} validates it and openssl accepts it; with the TSA down
 * the note is still finalized, signed at B and marked pending until the upkeep time-stamps it; a version rewritten
 * behind the server's back fails verification.
 */
class SigningConsoleTest {
    private static final String PIN = "4821-7730";

    @AfterAll
    static void tsaBack() {
        TestPki.get().tsaMode(TestPki.TsaMode.OK);
    }

    private static Cli addKey(Hospital h, String login, Path p12, String pin) throws Exception {
        return SigningSetup.addKey(h, login, pin, "--pkcs12", p12.toString());
    }

    @Test
    void aDoctorSignsAtFinalizeWithThePinAndTheSignatureIsKeptVerifiableForDecades() throws Exception {
        TestPki pki = TestPki.get();
        pki.tsaMode(TestPki.TsaMode.OK);
        try (Hospital h = Hospital.open(SigningSetup.options())) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000171", "高橋", "健", "タカハシ", "ケン", "1960-05-05", "male");
            // the default staff name is 山田 花子: the certificate names her, as a doctor
            Person doctor = h.enrolStaff("ishi.y", "内科", "qualification", "physician", "licence_physician", "917001");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            Path work = TestData.newFolder("keys-");
            Files.createDirectories(work);
            TestPki.Issued hers = pki.signer("山田 花子", "Medical Doctor");
            Path p12 = hers.writePkcs12(work.resolve("yamada.p12"), PIN.toCharArray());

            // registering: the PIN is needed and checked; another person's certificate is refused
            Cli noPin = addKey(h, doctor.loginId, p12, null);
            assertEquals(1, noPin.code(), noPin.out());
            assertTrue(noPin.out().contains("PIN が入力されていません"), noPin.out());
            Cli wrongPin = addKey(h, doctor.loginId, p12, "0000");
            assertEquals(1, wrongPin.code(), wrongPin.out());
            assertTrue(wrongPin.out().contains("PIN が正しくありません / the PIN is wrong"), wrongPin.out());
            Path other = pki.signer("佐藤 次郎", "Medical Doctor").writePkcs12(work.resolve("sato.p12"), PIN.toCharArray());
            Cli notHers = addKey(h, doctor.loginId, other, PIN);
            assertEquals(1, notHers.code(), notHers.out());
            assertTrue(notHers.out().contains("証明書の氏名が署名者のアカウントと一致しません"), notHers.out());
            Path pharmacist = pki.signer("山田 花子", "Pharmacist").writePkcs12(work.resolve("yakuzai.p12"),
                    PIN.toCharArray());
            Cli notQualified = addKey(h, doctor.loginId, pharmacist, PIN);
            assertEquals(1, notQualified.code(), notQualified.out());
            assertTrue(notQualified.out().contains("資格(hcRole)がアカウントに登録された資格と一致しません")
                    && notQualified.out().contains("薬剤師"), notQualified.out());
            Cli added = addKey(h, doctor.loginId, p12, PIN);
            assertEquals(0, added.code(), added.out());
            assertTrue(added.out().contains("registered for " + doctor.loginId) && added.out().contains("医師"),
                    added.out());

            // 確定保存 needs the PIN: without it, or with a wrong one, the note stays a draft and the text is kept
            Browser b = doctor.browser;
            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page draft = b.submit("/console/notes/save", "s", "胸痛なし。", "o", "BP 128/76", "a",
                    "高血圧症", "p", "降圧薬継続", "op", "draft");
            String doc = draft.path().substring("/console/documents/".length());
            Browser.Page form = b.get("/console/documents/" + doc + "/edit");
            assertTrue(form.contains("id=\"signing-pin\"") && form.contains("医師"), form::toString);
            Browser.Page noPinFinal = b.submit("/console/notes/save", "s", "胸痛なし。", "o", "BP 128/76", "a",
                    "高血圧症", "p", "降圧薬継続", "op", "finalize", "pin", "");
            assertEquals(422, noPinFinal.status(), noPinFinal::toString);
            assertTrue(noPinFinal.contains("PIN が入力されていません") && noPinFinal.contains("降圧薬継続"),
                    noPinFinal::toString);
            b.get("/console/documents/" + doc + "/edit");
            Browser.Page wrongPinFinal = b.submit("/console/notes/save", "s", "胸痛なし。", "o", "BP 128/76", "a",
                    "高血圧症", "p", "降圧薬継続", "op", "finalize", "pin", "9999-0000");
            assertEquals(422, wrongPinFinal.status(), wrongPinFinal::toString);
            assertTrue(wrongPinFinal.contains("PIN が正しくありません"), wrongPinFinal::toString);
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM document_signature WHERE res_id = ?", doc));
            assertEquals(1, (int) h.<Integer>one("SELECT max(version) FROM resource_version WHERE res_id = ?", doc),
                    "nothing was finalized");

            b.get("/console/documents/" + doc + "/edit");
            Browser.Page signed = b.submit("/console/notes/save", "s", "胸痛なし。", "o", "BP 128/76", "a",
                    "高血圧症", "p", "降圧薬継続", "op", "finalize", "pin", PIN);
            assertTrue(signed.contains("status-final"), signed::toString);
            assertTrue(signed.contains("id=\"signatures\"") && signed.contains("山田 花子（医師）")
                    && signed.contains("<td>B-T</td>"), signed::toString);
            String provenance = h.one("SELECT provenance_id FROM document_signature WHERE res_id = ? AND version = 2",
                    doc);
            assertNotNull(provenance);
            assertEquals("B-T", h.one("SELECT level FROM document_signature WHERE res_id = ?", doc));

            // the signature is a FHIR Provenance of that exact version, readable through the API
            HttpResponse<String> prov = h.server.get("/Provenance/" + provenance);
            assertEquals(200, prov.statusCode(), prov.body());
            assertTrue(prov.body().contains("\"reference\":\"Composition/" + doc + "/_history/2\"")
                    && prov.body().contains("\"sigFormat\":\"application/pkcs7-signature\"")
                    && prov.body().contains("1.2.840.10065.1.12.1.1"), prov.body());

            // an outside tool accepts it: openssl cms over the version's stored bytes
            if (Files.isExecutable(Path.of("/usr/bin/openssl"))) {
                Matcher m = Pattern.compile("\"data\":\"([A-Za-z0-9+/=]+)\"").matcher(prov.body());
                assertTrue(m.find(), prov.body());
                Path sig = work.resolve("sig.p7s");
                Files.write(sig, Base64.getDecoder().decode(m.group(1)));
                Path body = work.resolve("version.json");
                String stored = h.one("SELECT body FROM resource_version WHERE res_id = ? AND version = 2", doc);
                Files.writeString(body, stored);
                Path root = SigningSetup.trustDir().resolve("root.pem");
                Process p = new ProcessBuilder("/usr/bin/openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                        sig.toString(), "-content", body.toString(), "-CAfile", root.toString(), "-purpose", "any",
                        "-out", "/dev/null").redirectErrorStream(true).start();
                String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue(), said);
                assertTrue(said.contains("Verification successful"), said);
            }

            Cli verified = SigningSetup.verifySignatures(h, "--document", "Composition/" + doc);
            assertEquals(0, verified.code(), verified.out());
            assertTrue(verified.out().contains("VALID   Composition/" + doc + "/_history/2  山田 花子 (医師)")
                    && verified.out().contains("(time-stamp)  B-T  TOTAL_PASSED"), verified.out());

            // the stored ETSI validation report is shown with the signature, to whoever may read the version
            Browser.Page page = b.get("/console/documents/" + doc);
            assertTrue(page.contains("/console/documents/" + doc + "/signature-report?v=2") && page.contains("有効"),
                    page::toString);
            Browser.Page report = b.get("/console/documents/" + doc + "/signature-report?v=2");
            assertEquals(200, report.status(), report::toString);
            assertTrue(report.body().contains("ValidationReport") && report.body().contains("mainindication:total-passed"),
                    report::toString);
            assertEquals(404, b.get("/console/documents/" + doc + "/signature-report?v=1").status(),
                    "version 1, a draft, has no signature");
            // a physician without a care relationship to this patient gets no report, and the refusal is recorded
            Person stranger = h.enrolStaff("ishi.z", "内科", "qualification", "physician", "licence_physician",
                    "917002");
            clinic.role(stranger.accountId, "physician", "内科");
            Browser.Page refused = stranger.browser.get("/console/documents/" + doc + "/signature-report?v=2");
            assertTrue(refused.status() == 403 || refused.status() == 404, refused::toString);
            assertFalse(refused.body().contains("ValidationReport"), refused::toString);
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND outcome ="
                    + " 'refused' AND position('signature-report' in convert_from(entry, 'UTF8')) > 0",
                    "account:" + stranger.accountId));

            // the upkeep extends it to LTA, as a new version of the Provenance
            SignatureUpkeep.Run run = h.server.server().signatureUpkeep().runOnce();
            assertEquals(1, run.extended(), run.toString());
            assertEquals("LTA", h.one("SELECT level FROM document_signature WHERE res_id = ?", doc));
            assertEquals(2, (int) h.<Integer>one("SELECT max(version) FROM resource_version WHERE res_id = ?",
                    provenance));
            Cli lta = SigningSetup.verifySignatures(h, "--patient", pt);
            assertEquals(0, lta.code(), lta.out());
            assertTrue(lta.out().contains("  LTA  TOTAL_PASSED"), lta.out());

            // an amendment is signed too, as its own version
            b.get("/console/documents/" + doc + "/edit");
            Browser.Page amended = b.submit("/console/notes/amend", "s", "胸痛なし。", "o", "BP 128/76、脈整",
                    "a", "高血圧症", "p", "降圧薬継続", "reason", "所見の追記", "pin", PIN);
            assertTrue(amended.contains("status-amended"), amended::toString);
            Cli both = SigningSetup.verifySignatures(h, "--document", "Composition/" + doc);
            assertEquals(0, both.code(), both.out());
            assertTrue(both.out().contains("VALID   Composition/" + doc + "/_history/2")
                    && both.out().contains("VALID   Composition/" + doc + "/_history/3"), both.out());

            // a signature's Provenance cannot be changed or deleted through the API, even with every scope
            HttpResponse<String> overwrite = h.server.put("/Provenance/" + provenance, prov.body()
                    .replaceFirst("\"data\":\"[A-Za-z0-9+/=]+\"", "\"data\":\"AAAA\"")
                    .replaceFirst("\"meta\":\\{[^}]*\\},", ""));
            assertEquals(403, overwrite.statusCode(), overwrite.body());
            assertTrue(overwrite.body().contains("電子署名の Provenance は変更・削除できません"), overwrite.body());
            assertEquals(403, h.server.delete("/Provenance/" + provenance, "test: remove a signature").statusCode());

            // with the TSA down the note is still finalized, signed at B and marked pending; then time-stamped
            pki.tsaMode(TestPki.TsaMode.DOWN);
            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page pending = b.submit("/console/notes/save", "s", "頭痛あり。", "o", "", "a", "片頭痛", "p",
                    "経過観察", "op", "finalize", "pin", PIN);
            assertTrue(pending.contains("status-final") && pending.contains("タイムスタンプ待ち")
                    && pending.contains("<td>B</td>"), pending::toString);
            String doc2 = pending.path().substring("/console/documents/".length());
            assertNotNull(h.one("SELECT pending_reason FROM document_signature WHERE res_id = ?", doc2));
            pki.tsaMode(TestPki.TsaMode.OK);
            SignatureUpkeep.Run later = h.server.server().signatureUpkeep().runOnce();
            assertEquals(1, later.timestamped(), later.toString());
            assertEquals("B-T", h.one("SELECT level FROM document_signature WHERE res_id = ?", doc2));
            assertEquals(null, h.<String>one("SELECT pending_reason FROM document_signature WHERE res_id = ?", doc2));

            // a revoked certificate signs nothing: the note stays a draft
            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page third = b.submit("/console/notes/save", "s", "咳嗽。", "o", "", "a", "感冒", "p", "対症療法",
                    "op", "draft");
            String doc3 = third.path().substring("/console/documents/".length());
            pki.revoke(hers.certificate());
            b.get("/console/documents/" + doc3 + "/edit");
            Browser.Page revoked = b.submit("/console/notes/save", "s", "咳嗽。", "o", "", "a", "感冒", "p", "対症療法",
                    "op", "finalize", "pin", PIN);
            assertEquals(422, revoked.status(), revoked::toString);
            assertTrue(revoked.contains("失効"), revoked::toString);
            assertEquals(1, (int) h.<Integer>one("SELECT max(version) FROM resource_version WHERE res_id = ?", doc3));

            // every version, Provenances included, is in the signed trail
            Cli records = SigningSetup.cli(Map.of(), "verify-records", "--data", h.server.dataDir().toString());
            assertEquals(0, records.code(), records.out());

            // a signed version rewritten behind the server's back no longer verifies
            try (var c = h.server.superuserConnection(); var st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("SET LOCAL session_replication_role = replica");
                st.executeUpdate("UPDATE resource_version SET body = replace(body, '降圧薬継続', '降圧薬中止')"
                        + " WHERE res_id = '" + doc + "' AND version = 2");
                c.commit();
            }
            Cli broken = SigningSetup.verifySignatures(h, "--document", "Composition/" + doc);
            assertEquals(1, broken.code(), broken.out());
            assertTrue(broken.out().contains("INVALID Composition/" + doc + "/_history/2")
                    && broken.out().contains("版の内容が署名時と異なります"), broken.out());
            assertFalse(broken.out().contains("VALID   Composition/" + doc + "/_history/2"), broken.out());
        }
    }
}
