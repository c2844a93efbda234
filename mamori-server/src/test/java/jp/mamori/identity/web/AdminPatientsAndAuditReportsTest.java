package jp.mamori.identity.web;

import jp.mamori.audit.AuditReports;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22 over HTTP: an administrator finds the patient of a care relationship by 患者ID, name or birth date and sees
 * demographics only, every search recorded; patients are named by name and 患者ID (never the record's id) on the
 * administrator's and break-glass pages; the audit reports are written in words, one patient's history shows only
 * that patient and prints as a PDF; the audit console is in the navigation of those it lets in. One server for the
 * class.
 */
class AdminPatientsAndAuditReportsTest {
    private static Hospital h;
    private static Clinic clinic;
    private static String hanako;
    private static String hanako2;
    private static String ichiro;
    private static Person doctor;
    private static Person auditor;

    @BeforeAll
    static void open() throws Exception {
        h = Hospital.open();
        clinic = new Clinic(h);
        hanako = clinic.patient("7000000001", "山田", "花子", "ヤマダ", "ハナコ", "1950-04-01", "female");
        hanako2 = clinic.patient("7000000003", "山田", "花代", "ヤマダ", "ハナヨ", "1988-08-08", "female");
        ichiro = clinic.patient("7000000002", "鈴木", "一郎", "スズキ", "イチロウ", "1960-05-02", "male");
        clinic.allergy(hanako, "ペニシリン系薬剤");
        clinic.note(hanako, "山田さんの主訴は頭痛");
        doctor = h.enrolStaff("ishi.a", "内科", "qualification", "physician", "licence_physician", "654321",
                "family_name", "田中", "given_name", "一郎", "family_kana", "タナカ", "given_kana", "イチロウ");
        clinic.role(doctor.accountId, "physician", "内科");
        clinic.cares(doctor.accountId, hanako);
        auditor = h.enrolStaff("kansa.a", "監査室");
        clinic.role(auditor.accountId, "auditor", "監査室");
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
    }

    /** What a person reads on the page: its text without the markup (links may carry a record's id). */
    private static String text(Browser.Page p) {
        return p.body().replaceAll("<[^>]*>", " ");
    }

    private static List<AuditReports.Row> activity(Person p) {
        return h.server.server().audit().reports().actorActivity(p.loginId, Instant.EPOCH,
                Instant.now().plusSeconds(5), 1000);
    }

    @Test
    void anAdministratorFindsThePatientByPatientIdNameOrBirthDateAndSeesDemographicsOnly() {
        Browser b = h.admin.browser;
        Browser.Page care = b.get("/console/admin/care");
        assertEquals(200, care.status(), care::toString);
        assertFalse(care.contains("FHIR"), "no internal id is asked for: " + care);

        Browser.Page byId = b.submit("/console/admin/care/find", "patient_id", "7000000001");
        assertEquals(200, byId.status(), byId::toString);
        assertEquals("/console/admin/care/find", byId.path(), "the terms travel in the body, not the URL");
        assertTrue(byId.contains("山田　花子") && byId.contains("ヤマダ　ハナコ") && byId.contains("7000000001"),
                byId::toString);
        assertTrue(byId.contains("href=\"/console/admin/care?patient=" + hanako + "\""), "chosen by a link");
        assertFalse(text(byId).contains(hanako) || byId.contains("山田　花代"), "one patient, no record id as text");
        assertFalse(byId.contains("ペニシリン") || byId.contains("頭痛"), "never clinical content");

        Browser.Page byKana = b.submit("/console/admin/care/find", "name", "やまだ");
        assertTrue(byKana.contains("山田　花子") && byKana.contains("山田　花代") && !byKana.contains("鈴木"),
                "hiragana finds the katakana name, as the clinician search does: " + byKana);
        Browser.Page byBirth = b.submit("/console/admin/care/find", "name", "山田", "birthdate", "1988-08-08");
        assertTrue(byBirth.contains("山田　花代") && !byBirth.contains("山田　花子"), byBirth::toString);

        Browser.Page nothing = b.submit("/console/admin/care/find", "patient_id", "", "name", " ", "birthdate", "");
        assertEquals(400, nothing.status(), "no wildcard search of everyone");
        assertTrue(nothing.error().contains("患者ID、氏名（漢字またはかな）、生年月日のいずれかを入力してください"),
                nothing.error());
        Browser.Page badDate = b.submit("/console/admin/care/find", "name", "やまだ", "birthdate", "1950/04/01");
        assertEquals(400, badDate.status());
        assertTrue(badDate.error().contains("YYYY-MM-DD") && badDate.contains("value=\"やまだ\""),
                "one message, the typed name kept: " + badDate);
        Browser.Page hostile = b.submit("/console/admin/care/find", "patient_id", "' OR 1=1 --");
        assertEquals(400, hostile.status(), hostile::toString);
        Browser.Page huge = b.submit("/console/admin/care/find", "name", "や".repeat(5000));
        assertEquals(400, huge.status(), "a huge term is refused, not searched");

        List<AuditReports.Row> searches = activity(h.admin).stream().filter(r -> r.action().equals("search")).toList();
        assertTrue(searches.size() >= 3, "every search is an entry: " + searches);
        AuditReports.Row first = searches.get(0);
        assertEquals("administration", first.purpose());
        assertEquals(List.of(hanako), first.patients(), "names the patient shown");
        assertTrue(searches.stream().anyMatch(r -> r.patients().containsAll(List.of(hanako, hanako2))), "both shown");

        Browser.Page chosen = b.get("/console/admin/care?patient=" + hanako);
        assertTrue(chosen.contains("id=\"care-patient-label\"") && chosen.contains("山田　花子")
                && chosen.contains("患者ID 7000000001"), chosen::toString);
        Browser.Page added = h.adminSubmit("/console/admin/care/add", "patient", hanako, "login_id", doctor.loginId,
                "kind", "care_team", "department", "内科", "until", "");
        assertEquals("/console/admin/care", added.path(), added::toString);
        assertTrue(added.contains("田中 一郎（" + doctor.loginId + "）"), "the person by name and login id: " + added);
        assertFalse(added.contains(doctor.accountId.toString()), "no account id as text");
        assertTrue(activity(h.admin).stream().anyMatch(r -> r.action().equals("read")
                && r.purpose().equals("administration") && r.patients().equals(List.of(hanako))),
                "showing the chosen patient is recorded");

        b.get("/console/admin/care?patient=" + hanako);
        Browser.Page nobody = h.adminSubmit("/console/admin/care/add", "patient", "no-such-patient", "login_id",
                doctor.loginId, "kind", "care_team", "department", "", "until", "");
        assertEquals(400, nobody.status(), "a care relationship only for a patient that is there");
        assertTrue(nobody.error().contains("患者を検索して選んでください"), nobody.error());

        assertEquals(403, doctor.browser.post("/console/admin/care/find", Map.of("csrf",
                doctor.browser.get("/console/home").csrf(), "name", "やまだ"), Map.of()).status(),
                "administrators only");
        assertEquals(403, b.post("/console/admin/care/find", Map.of("name", "やまだ"), Map.of()).status(),
                "CSRF is checked");
    }

    @Test
    void aPatientsAccessHistoryIsInWordsShowsOnlyThatPatientAndPrintsAsAPdf() throws Exception {
        Browser d = doctor.browser;
        assertEquals(200, d.get("/console/patients/" + hanako).status(), "the physician opens her chart");
        d.get("/console/patients");
        Browser.Page search = d.submit("/console/patients", "name", "やまだ");
        assertTrue(search.contains("山田　花代") && search.contains("山田　花子"), "a search that shows both");

        assertFalse(d.get("/console/home").contains("id=\"nav-audit\""), "not in a physician's navigation");
        Browser a = auditor.browser;
        Browser.Page home = a.get("/console/home");
        assertTrue(home.contains("id=\"nav-audit\"") && home.contains("href=\"/console/audit\""),
                "in the auditor's navigation: " + home);
        assertTrue(h.admin.browser.get("/console/home").contains("id=\"nav-audit\""), "and the administrator's");

        Browser.Page report = a.get("/console/audit/report?kind=patient&patient=7000000001");
        assertEquals(200, report.status(), report::toString);
        assertTrue(report.contains("山田　花子") && report.contains("7000000001"), "the patient named: " + report);
        assertTrue(report.contains("田中 一郎") && report.contains("医師"), "who, by name and role: " + report);
        assertTrue(report.contains("閲覧") && report.contains("検索（結果にこの患者が表示）") && report.contains("診療"),
                "what and why in words: " + report);
        assertTrue(report.contains("内科 経過記録 "), "which records, by title and date: " + report);
        assertFalse(report.contains("山田　花代") || report.contains("7000000003"), "no other patient of the search");
        for (String raw : List.of(hanako, hanako2, ichiro, "Composition/", "Patient/", "treatment", "account:",
                doctor.accountId.toString())) {
            assertFalse(text(report).contains(raw), "no id or code (" + raw + "): " + report);
        }
        AuditReports.Row viewed = activity(auditor).stream().filter(r -> r.action().equals("audit.report"))
                .reduce((x, y) -> y).orElseThrow();
        assertEquals(List.of(hanako), viewed.patients(), "looking at her history names her");

        Browser.Page pdf = a.get("/console/audit/print?kind=patient&ref=" + hanako);
        if (pdf.path().equals(Hospital.STEP_UP_PATH)) {
            auditor.stepUpQuickly(a);
            pdf = a.get("/console/audit/print?kind=patient&ref=" + hanako);
        }
        assertEquals(200, pdf.status(), pdf::toString);
        assertEquals("application/pdf", pdf.response().headers().firstValue("Content-Type").orElse(""));
        String text;
        try (PDDocument doc = Loader.loadPDF(pdf.bytes())) {
            text = new PDFTextStripper().getText(doc).replace("\n", "").replace("\r", "");
            assertTrue(doc.getPage(0).getResources().getFont(doc.getPage(0).getResources().getFontNames().iterator()
                    .next()).isEmbedded(), "the font is embedded");
        }
        assertTrue(text.contains("患者ごとのアクセス履歴") && text.contains("山田　花子") && text.contains("7000000001"),
                text);
        assertTrue(text.contains("1 / 1") && text.contains("印刷者") && text.contains("JST"), text);
        assertTrue(text.contains("検索（結果にこの患者が表示）") && !text.contains("山田　花代"), text);
        AuditReports.Row printed = activity(auditor).stream().filter(r -> r.action().equals("print"))
                .reduce((x, y) -> y).orElseThrow(() -> new AssertionError("printing is an entry"));
        assertEquals(List.of(hanako), printed.patients());

        Browser.Page unknown = a.get("/console/audit/report?kind=patient&patient=%E3%81%82");
        assertEquals(404, unknown.status(), unknown::toString);
        assertTrue(unknown.error().contains("その患者IDの患者は見つかりません"), unknown.error());

        Browser.Page actor = a.get("/console/audit/report?kind=actor&actor=" + doctor.loginId);
        assertEquals(200, actor.status(), actor::toString);
        assertTrue(actor.contains("山田　花子") && actor.contains("7000000001") && actor.contains("山田　花代"),
                "a person's activity names the patients by name and 患者ID: " + actor);
        assertFalse(text(actor).contains(hanako) || actor.contains("Patient/"), actor::toString);
    }

    @Test
    void theCheckpointTimeIsInJst() {
        h.server.server().audit().checkpointer().checkpoint();
        Browser.Page home = auditor.browser.get("/console/audit");
        assertEquals(200, home.status(), home::toString);
        assertTrue(home.body().matches("(?s).*署名時刻: \\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2} JST.*"), home::toString);
        assertFalse(home.body().matches("(?s).*\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}.*"), "no ISO instant: " + home);
    }

    @Test
    void breakGlassIsAskedForByPatientIdAndTheReviewNamesThePatient() throws Exception {
        Person nurse = h.enrolStaff("kango.b", "救急科");
        Browser b = nurse.browser;
        b.get("/console/break-glass");
        Browser.Page none = b.submit("/console/break-glass", "patient", "7999999999", "reason", "unconscious_patient",
                "reason_text", "救急搬送、意識なし。既往歴と服薬の確認");
        if (none.path().equals(Hospital.STEP_UP_PATH)) {
            nurse.stepUpQuickly(b);
            none = b.submit("/console/break-glass", "patient", "7999999999", "reason", "unconscious_patient",
                    "reason_text", "救急搬送、意識なし。既往歴と服薬の確認");
        }
        assertEquals(400, none.status(), none::toString);
        assertTrue(none.error().contains("その患者IDの患者は見つかりません") && none.contains("既往歴と服薬の確認"),
                "refused, the reason kept: " + none);
        Browser.Page started = b.submit("/console/break-glass", "patient", "7000000002", "reason",
                "unconscious_patient", "reason_text", "救急搬送、意識なし。既往歴と服薬の確認");
        assertEquals("/console/break-glass", started.path(), started::toString);
        assertEquals(ichiro, h.one("SELECT patient_id FROM break_glass WHERE account_id = ?", nurse.accountId),
                "the 患者ID names the patient's record");
        assertTrue(started.contains("鈴木　一郎") && started.contains("患者ID 7000000002"), started::toString);
        assertFalse(text(started).contains(ichiro), "the record's id is not shown: " + started);

        Browser.Page review = h.admin.browser.get("/console/admin/break-glass");
        assertEquals(200, review.status(), review::toString);
        assertTrue(review.contains("鈴木　一郎") && review.contains("7000000002") && review.contains(nurse.loginId),
                review::toString);
        assertFalse(text(review).contains(ichiro), "no record id, not even in the notices: " + review);
        Browser.Page filtered = h.admin.browser.get("/console/admin/break-glass?patient=7000000002");
        assertTrue(filtered.contains("id=\"break-glass-report\"") && filtered.contains("鈴木　一郎"), filtered::toString);
        assertTrue(activity(h.admin).stream().anyMatch(r -> r.purpose().equals("administration")
                && r.patients().contains(ichiro)), "the review's look at the patient is recorded");
    }
}
