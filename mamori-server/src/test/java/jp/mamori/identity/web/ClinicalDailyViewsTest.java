package jp.mamori.identity.web;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22 on the clinician's pages, over HTTP, one hospital for the class: codes read as words; a page offers only
 * what the access model lets the person do, and a refused write keeps what was typed; a draft is its author's until
 * it is finalized; the patient search narrows by department, kind of encounter and age and pages in a stable order;
 * the results page is a cumulative table with values out of range marked and one trend chart on demand.
 */
class ClinicalDailyViewsTest {
    private static Hospital h;
    private static Clinic clinic;
    private static RecordService records;
    private static final Caller SYSTEM = Caller.system("daily-views-test");
    private static Person doctor;
    private static Person colleague;
    private static Person nurse;
    private static String hanako;

    @BeforeAll
    static void open() throws Exception {
        h = Hospital.open();
        clinic = new Clinic(h);
        records = h.server.server().records();
        hanako = clinic.patient("9100000001", "山田", "花子", "ヤマダ", "ハナコ", "1970-04-01", "female");
        clinic.allergy(hanako, "ペニシリン系薬剤");
        encounter(hanako, "内科", "AMB", 40);
        encounter(hanako, "外科", "IMP", 20);
        medication(hanako, "アムロジピン錠5mg", MedicationRequest.MedicationRequestStatus.ACTIVE);
        medication(hanako, "ロキソプロフェン錠60mg", MedicationRequest.MedicationRequestStatus.STOPPED);
        clinic.hba1c(hanako, 7.1, 60);
        clinic.hba1c(hanako, 6.0, 30);
        clinic.hba1c(hanako, 4.2, 1);
        doctor = h.enrolStaff("ishi.d", "内科", "qualification", "physician", "licence_physician", "123456");
        clinic.role(doctor.accountId, "physician", "内科");
        clinic.cares(doctor.accountId, hanako);
        colleague = h.enrolStaff("ishi.c", "内科", "qualification", "physician", "licence_physician", "123456");
        clinic.role(colleague.accountId, "physician", "内科");
        clinic.cares(colleague.accountId, hanako);
        nurse = h.enrolStaff("kango.n", "内科", "qualification", "nurse", "licence_nurse", "654321");
        clinic.role(nurse.accountId, "nurse", "内科");
        clinic.cares(nurse.accountId, hanako);
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
    }

    private static void encounter(String patient, String department, String cls, int daysAgo) {
        Encounter e = new Encounter();
        e.setStatus(Encounter.EncounterStatus.FINISHED);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", cls, null));
        e.setServiceType(new CodeableConcept().addCoding(new Coding("https://mamori.jp/fhir/CodeSystem/department",
                "x", department)).setText(department));
        e.setSubject(new Reference("Patient/" + patient));
        Instant start = Instant.now().minus(daysAgo, ChronoUnit.DAYS);
        e.setPeriod(new Period().setStart(Date.from(start)).setEnd(Date.from(start.plusSeconds(1800))));
        records.create(SYSTEM, e, null, null);
    }

    private static void medication(String patient, String name, MedicationRequest.MedicationRequestStatus status) {
        MedicationRequest m = new MedicationRequest();
        m.setStatus(status);
        m.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        m.setMedication(new CodeableConcept().setText(name));
        m.setSubject(new Reference("Patient/" + patient));
        m.addDosageInstruction().setText("1回1錠 1日1回");
        records.create(SYSTEM, m, null, null);
    }

    private static String write(Person who, String patient, String op, String s) {
        who.browser.get("/console/patients/" + patient + "/notes/new");
        Browser.Page p = who.browser.submit("/console/notes/save", "s", s, "o", "BT 36.5", "a", "安定", "p", "継続",
                "op", op);
        assertTrue(p.path().startsWith("/console/documents/"), p::toString);
        return p.path().substring("/console/documents/".length());
    }

    @Test
    void theChartAndANotesHistoryReadInWordsNotCodes() {
        Browser.Page chart = doctor.browser.get("/console/patients/" + hanako);
        assertEquals(200, chart.status(), chart::toString);
        assertTrue(chart.contains("<td class=\"high-risk\">高</td>"), "criticality in words: " + chart);
        assertFalse(chart.contains(">high<"), chart::toString);
        assertTrue(chart.contains("外来 内科") && chart.contains("入院 外科"), "encounter class in words: " + chart);
        assertTrue(chart.contains("<td>有効</td>") && chart.contains("<td>中止</td>"), "medication status: " + chart);
        assertFalse(chart.contains(">AMB") || chart.contains(">stopped<") || chart.contains(">active<"), chart::toString);

        String doc = write(doctor, hanako, "draft", "初診。");
        doctor.browser.get("/console/documents/" + doc + "/edit");
        doctor.browser.submit("/console/notes/save", "s", "初診。", "o", "BT 36.5", "a", "安定", "p", "継続", "op",
                "finalize");
        doctor.browser.get("/console/documents/" + doc + "/edit");
        Browser.Page amended = doctor.browser.submit("/console/notes/amend", "s", "初診。既往なし。", "o", "BT 36.5",
                "a", "安定", "p", "継続", "reason", "既往歴の追記");
        assertTrue(amended.contains("<td>作成</td>") && amended.contains("<td>確定</td>") && amended.contains("<td>修正</td>"),
                "what each version did, in words: " + amended);
        assertFalse(amended.contains("<td>create</td>") || amended.contains("<td>amend</td>")
                || amended.contains("account:"), "no codes or account ids: " + amended);
    }

    @Test
    void aNurseIsOfferedOnlyWhatSheMayDoAndARefusedWriteKeepsHerText() {
        Browser.Page chart = nurse.browser.get("/console/patients/" + hanako);
        assertEquals(200, chart.status(), chart::toString);
        assertTrue(chart.contains("ペニシリン系薬剤"), "she reads the chart");
        assertFalse(chart.contains("/notes/new"), "no 経過記録を書く for a nurse: " + chart);
        Browser.Page form = nurse.browser.get("/console/patients/" + hanako + "/notes/new");
        assertEquals(403, form.status(), form::toString);

        String doc = write(doctor, hanako, "finalize", "胸部聴診で異常なし。");
        Browser.Page page = nurse.browser.get("/console/documents/" + doc);
        assertEquals(200, page.status(), page::toString);
        assertTrue(page.contains("胸部聴診で異常なし。"), "she reads the final note");
        assertFalse(page.contains("修正（理由が必要）") || page.contains("/edit\""), "no 修正 for a nurse: " + page);
        assertFalse(page.contains("記載誤りとして取り消す"), "no entered-in-error either");
        assertFalse(page.contains("id=\"print-document\""), "nurses do not print physicians' notes: " + page);

        // A stale form or a crafted post: refused, plainly, with every word she typed still there.
        Browser.Page refused = nurse.browser.post("/console/notes/amend", Map.of("csrf", page.csrf(), "id", doc,
                "base", "1", "patient", hanako, "s", "看護師の追記テキスト", "o", "SpO2 98%", "a", "", "p", "",
                "reason", "申し送り"), Map.of());
        assertEquals(403, refused.status(), refused::toString);
        assertTrue(refused.contains("看護師の追記テキスト") && refused.contains("SpO2 98%") && refused.contains("申し送り"),
                "the text is kept: " + refused);
        assertTrue(refused.contains("権限がないため、保存していません"), "and says why: " + refused);
        assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM resource_version WHERE body::text LIKE ?",
                "%看護師の追記テキスト%"));
    }

    @Test
    void aDraftIsItsAuthorsUntilFinalized() {
        String doc = write(doctor, hanako, "draft", "まだ誰にも見せない下書き");
        Browser.Page mine = doctor.browser.get("/console/documents/" + doc);
        assertTrue(mine.contains("まだ誰にも見せない下書き") && mine.contains("id=\"edit-note\""), mine::toString);

        Browser.Page chart = colleague.browser.get("/console/patients/" + hanako);
        assertTrue(chart.contains("/console/documents/" + doc) && chart.contains("status-preliminary"),
                "the colleague sees that a draft exists: " + chart);
        Browser.Page theirs = colleague.browser.get("/console/documents/" + doc);
        assertEquals(200, theirs.status(), theirs::toString);
        assertTrue(theirs.contains("id=\"draft-withheld\""), theirs::toString);
        assertFalse(theirs.contains("まだ誰にも見せない下書き"), "not its text: " + theirs);
        assertFalse(theirs.contains("id=\"edit-note\"") || theirs.contains("記載誤りとして取り消す"), theirs::toString);
        Browser.Page edit = colleague.browser.get("/console/documents/" + doc + "/edit");
        assertEquals(403, edit.status(), edit::toString);
        assertFalse(edit.contains("まだ誰にも見せない下書き"), edit::toString);
        Browser.Page overwrite = colleague.browser.post("/console/notes/save", Map.of("csrf", theirs.csrf(), "id", doc,
                "base", "1", "patient", "", "s", "同僚が書いた文", "o", "", "a", "", "p", "", "op", "draft"), Map.of());
        assertEquals(403, overwrite.status(), overwrite::toString);
        assertTrue(overwrite.contains("同僚が書いた文") && overwrite.contains("記載者本人のもの"), overwrite::toString);
        assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM resource_version v JOIN resource r ON r.res_pk ="
                + " v.res_pk WHERE r.res_id = ?", doc), "nothing written");

        doctor.browser.get("/console/documents/" + doc + "/edit");
        doctor.browser.submit("/console/notes/save", "s", "まだ誰にも見せない下書き", "o", "BT 36.5", "a", "安定",
                "p", "継続", "op", "finalize");
        assertTrue(colleague.browser.get("/console/documents/" + doc).contains("まだ誰にも見せない下書き"),
                "once final, the colleague reads it");
    }

    @Test
    void theSearchNarrowsByDepartmentKindOfEncounterAndAgeAndPages() {
        for (int i = 0; i < 23; i++) {
            String id = clinic.patient(String.format("92000000%02d", i), "頁送", "太郎" + i, "ページオクリ", "タロウ",
                    LocalDate.now(ZoneId.of("Asia/Tokyo")).minusYears(30 + i).minusDays(10).toString(), "male");
            if (i % 2 == 0) {
                encounter(id, "小児外科", "IMP", 5);
            }
        }
        Browser b = doctor.browser;
        b.get("/console/patients");
        Browser.Page first = b.submit("/console/patients", "name", "ぺーじおくり");
        assertEquals(200, first.status(), first::toString);
        assertTrue(first.contains("1〜20 件目") && first.contains("9200000000") && first.contains("9200000019"),
                "the first page in patient ID order: " + first);
        assertFalse(first.contains("9200000020"), first::toString);
        java.util.regex.Matcher cursor = java.util.regex.Pattern.compile("name=\"cursor\" value=\"([^\"]+)\"")
                .matcher(first.body());
        assertTrue(cursor.find(), "a next page: " + first);
        Browser.Page second = b.post("/console/patients", Map.of("csrf", first.csrf(), "name", "ぺーじおくり",
                "cursor", cursor.group(1), "page", "2"), Map.of());
        assertTrue(second.contains("21〜23 件目") && second.contains("9200000022") && !second.contains("9200000019"),
                "the next page continues after the last shown: " + second);

        b.get("/console/patients");
        Browser.Page inpatients = b.submit("/console/patients", "name", "ぺーじおくり", "department", "小児外科",
                "setting", "inpatient");
        assertTrue(inpatients.contains("9200000000") && inpatients.contains("9200000022"), inpatients::toString);
        assertFalse(inpatients.contains("9200000001"), "no encounter there: " + inpatients);
        b.get("/console/patients");
        Browser.Page aged = b.submit("/console/patients", "name", "ぺーじおくり", "age_from", "40", "age_to", "42");
        assertTrue(aged.contains("9200000010") && aged.contains("9200000012"), aged::toString);
        assertFalse(aged.contains("9200000009") || aged.contains("9200000013"), "only 40 to 42: " + aged);
        assertTrue(aged.contains("name=\"age_from\" type=\"number\" min=\"0\" max=\"150\" inputmode=\"numeric\""
                + " class=\"short\" value=\"40\""), "the criteria stay in the form");

        b.get("/console/patients");
        Browser.Page bad = b.submit("/console/patients", "name", "ぺーじおくり", "age_from", "50", "age_to", "20");
        assertEquals(400, bad.status());
        assertTrue(bad.contains("年齢は 0〜150 の整数で") && bad.contains("value=\"ぺーじおくり\""), bad::toString);
        b.get("/console/patients");
        Browser.Page forged = b.submit("/console/patients", "name", "ぺーじおくり", "cursor", "!!!");
        assertEquals(400, forged.status(), forged::toString);
        b.get("/console/patients");
        Browser.Page badSetting = b.submit("/console/patients", "name", "ぺーじおくり", "setting", "<script>");
        assertEquals(400, badSetting.status());
        assertFalse(badSetting.contains("<script>"), badSetting::toString);
    }

    @Test
    void resultsAreACumulativeTableWithOneTrendOnDemand() {
        Browser.Page chart = doctor.browser.get("/console/patients/" + hanako);
        assertFalse(chart.contains("<svg"), "no chart per test on the chart: " + chart);
        assertTrue(chart.contains("href=\"/console/patients/" + hanako + "/results\""), chart::toString);
        Browser.Page table = doctor.browser.get("/console/patients/" + hanako + "/results");
        assertEquals(200, table.status(), table::toString);
        assertTrue(table.contains("id=\"cumulative-table\"") && table.contains("HbA1c"), table::toString);
        assertTrue(table.contains("7.1 <abbr class=\"flag\" title=\"基準値より高い\">H</abbr>")
                && table.contains("4.2 <abbr class=\"flag\" title=\"基準値より低い\">L</abbr>"), "out of range marked: " + table);
        assertTrue(table.contains("<td class=\"range\">4.6–6.2</td>"), table::toString);
        assertTrue(table.contains("<td class=\"num\">6</td>") || table.contains("<td class=\"num\">6.0</td>"),
                "a value within range is not marked: " + table);
        assertFalse(table.contains("<svg"), "no chart until one is asked for");

        String from = LocalDate.now(ZoneId.of("Asia/Tokyo")).minusDays(45).toString();
        Browser.Page recent = doctor.browser.get("/console/patients/" + hanako + "/results?from=" + from);
        assertFalse(recent.contains("7.1 <abbr"), "the date range leaves older values out: " + recent);
        assertTrue(recent.contains("4.2 <abbr"), recent::toString);

        Browser.Page trend = doctor.browser.get("/console/patients/" + hanako + "/results?trend="
                + java.net.URLEncoder.encode("http://loinc.org|4548-4", java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(1, trend.body().split("<svg", -1).length - 1, "one trend chart: " + trend);
        Browser.Page bad = doctor.browser.get("/console/patients/" + hanako + "/results?from=2025-13-40");
        assertEquals(400, bad.status());
        assertTrue(bad.contains("日付は YYYY-MM-DD で入力してください"), bad::toString);
        assertEquals(403, h.admin.browser.get("/console/patients/" + hanako + "/results").status(),
                "an administrator sees no results");
    }
}
