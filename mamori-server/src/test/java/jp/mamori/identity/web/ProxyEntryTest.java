package jp.mamori.identity.web;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Back-entry (後入力) and proxy entry (代行入力), issue 18 §4: a note from paper keeps its clinical time and real author
 * and shows both times; a clerk of a department enters a note for one of its physicians, who sees it in their queue
 * and on their home page and approves it, after which it is final with both names; nobody else may enter for that
 * physician or approve it; unapproved entries escalate to administrators; bad input is refused with the text kept.
 */
class ProxyEntryTest {
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    private static Hospital h;
    private static Clinic clinic;
    private static String medicine;
    private static String surgery;
    private static Person doctor;
    private static Person colleague;
    private static Person surgeon;
    private static Person clerk;

    private static void encounter(RecordService records, String patient, String department) {
        Encounter e = new Encounter();
        e.setStatus(Encounter.EncounterStatus.ARRIVED);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", null));
        e.setServiceType(new CodeableConcept().setText(department));
        e.setSubject(new Reference("Patient/" + patient));
        e.setPeriod(new Period().setStart(Date.from(Instant.now().minus(1, ChronoUnit.HOURS))));
        records.create(Caller.system("proxy-test"), e, null, null);
    }

    @BeforeAll
    static void start() throws Exception {
        h = Hospital.open();
        clinic = new Clinic(h);
        RecordService records = h.server.server().records();
        medicine = clinic.patient("9300000001", "森田", "花子", "モリタ", "ハナコ", "1950-02-03", "female");
        surgery = clinic.patient("9300000002", "川口", "次郎", "カワグチ", "ジロウ", "1966-08-09", "male");
        encounter(records, medicine, "内科");
        encounter(records, surgery, "外科");
        doctor = h.enrolStaff("ishi.p", "内科", "qualification", "physician", "licence_physician", "223344",
                "family_name", "内田", "given_name", "一郎");
        clinic.role(doctor.accountId, "physician", "内科");
        colleague = h.enrolStaff("ishi.q", "内科", "qualification", "physician", "licence_physician", "223345",
                "family_name", "小川", "given_name", "二郎");
        clinic.role(colleague.accountId, "physician", "内科");
        surgeon = h.enrolStaff("geka.p", "外科", "qualification", "physician", "licence_physician", "223346",
                "family_name", "外山", "given_name", "三郎");
        clinic.role(surgeon.accountId, "physician", "外科");
        clerk = h.enrolStaff("hojo.p", "内科", "family_name", "補助", "given_name", "四子");
        clinic.role(clerk.accountId, "physician_clerk", "内科");
    }

    @AfterAll
    static void stop() throws Exception {
        h.close();
    }

    private static String name(Person p) {
        return h.one("SELECT family_name || ' ' || given_name FROM account WHERE account_id = ?", p.accountId);
    }

    private static String section(String html, String id) {
        int at = html.indexOf("id=\"" + id + "\"");
        assertTrue(at >= 0, "no section " + id + " in " + html);
        int end = html.indexOf("</section>", at);
        return html.substring(at, end < 0 ? html.length() : end);
    }

    private static String current(String doc) {
        return h.server.server().records().read(Caller.system("proxy-test"), "Composition", doc).bodyText();
    }

    private static String documentId(Browser.Page p) {
        assertTrue(p.path().startsWith("/console/documents/"), p::toString);
        return p.path().substring("/console/documents/".length());
    }

    /** A proxy entry by the clerk for {@code responsible}; returns the note's id. */
    private static String enter(Person responsible, String text) {
        Browser.Page form = clerk.browser.get("/console/patients/" + medicine + "/proxy-entry");
        assertEquals(200, form.status(), form::toString);
        return documentId(clerk.browser.submit("/console/entries/save", "author", responsible.accountId.toString(),
                "s", text, "o", "", "a", "", "p", "", "op", "draft"));
    }

    @Test
    void aClerkEntersForAPhysicianOfTheirDepartmentWhoApprovesIt() {
        assertTrue(clerk.browser.get("/console/patients/" + medicine).contains("id=\"proxy-entry\""),
                "the chart offers 代行入力 to whom the access model gives it");
        Browser.Page doctorsChart = doctor.browser.get("/console/patients/" + medicine);
        assertTrue(doctorsChart.contains("id=\"back-entry\"") && !doctorsChart.contains("id=\"proxy-entry\""),
                doctorsChart::toString);
        Browser.Page form = clerk.browser.get("/console/patients/" + medicine + "/proxy-entry");
        assertEquals(200, form.status(), form::toString);
        String select = form.body().substring(form.body().indexOf("id=\"entry-author\""));
        select = select.substring(0, select.indexOf("</select>"));
        assertTrue(select.contains(name(doctor)) && select.contains(name(colleague)), select);
        assertFalse(select.contains(name(surgeon)), "a physician of another department is not offered: " + select);
        assertFalse(select.contains(name(clerk)), "nobody enters for themselves: " + select);

        Browser.Page saved = clerk.browser.submit("/console/entries/save", "author", doctor.accountId.toString(),
                "s", "代行: 頭痛が続く。", "o", "", "a", "", "p", "鎮痛薬を継続", "op", "finalize");
        String doc = documentId(saved);
        String marks = section(saved.body(), "document");
        assertTrue(marks.contains("代行入力: 入力 " + name(clerk) + "、責任者 " + name(doctor) + "（承認待ち）"), marks);
        assertTrue(saved.contains("頭痛が続く") && !saved.contains("id=\"approve-form\""), saved::toString);
        assertTrue(current(doc).contains("\"status\":\"preliminary\""), "a proxy entry is never final by itself");

        // the physician finds it on the home page and in the queue, reads it and approves it
        Browser.Page home = doctor.browser.get("/console/home");
        String waiting = section(home.body(), "worklist-proxy");
        assertTrue(waiting.contains("承認待ちの代行入力（1 件）") && waiting.contains("森田")
                && waiting.contains("href=\"/console/documents/" + doc + "\"") && waiting.contains(name(clerk)), waiting);
        assertFalse(home.contains("id=\"worklist-drafts\""), "a proxy entry is not among my own drafts: " + home);
        Browser.Page queue = doctor.browser.get("/console/proxy");
        assertTrue(section(queue.body(), "proxy-for-me").contains("href=\"/console/documents/" + doc + "\""),
                queue::toString);

        // another physician of the department sees that it exists, not what it says, and may not approve it
        Browser.Page other = colleague.browser.get("/console/documents/" + doc);
        assertEquals(200, other.status(), other::toString);
        assertFalse(other.contains("頭痛が続く") || other.contains("id=\"approve-form\""), other::toString);
        Browser.Page refused = colleague.browser.post("/console/proxy/approve", Map.of("csrf", other.csrf(), "id", doc,
                "base", "1"), Map.of());
        assertEquals(403, refused.status(), refused::toString);
        assertTrue(refused.contains("承認できるのは責任者本人のみです"), refused::toString);

        Browser.Page opened = doctor.browser.get("/console/documents/" + doc);
        assertTrue(opened.contains("頭痛が続く") && opened.contains("id=\"approve-form\""), opened::toString);
        Browser.Page approved = doctor.browser.submit("/console/proxy/approve");
        assertEquals("/console/documents/" + doc, approved.path(), approved::toString);
        String meta = section(approved.body(), "document");
        assertTrue(meta.contains("代行入力: 入力 " + name(clerk) + "、責任者 " + name(doctor)) && meta.contains("に承認"),
                meta);
        assertFalse(approved.contains("id=\"approve-form\""), approved::toString);
        String history = approved.body().substring(approved.body().indexOf("id=\"history\""));
        assertTrue(history.contains(name(clerk)) && history.contains(name(doctor)), "both people in the history: "
                + history);
        assertTrue(current(doc).contains("\"status\":\"final\""), current(doc));
        assertEquals("account:" + doctor.accountId, h.server.server().records().read(Caller.system("proxy-test"),
                "Composition", doc).author(), "final as the physician's");
        assertEquals("account:" + clerk.accountId, h.one("SELECT author FROM resource_version WHERE res_type ="
                + " 'Composition' AND res_id = ? AND version = 1", doc), "entered by the clerk");
        assertEquals("approved", h.one("SELECT state FROM proxy_entry WHERE composition_id = ?", doc));
        assertFalse(doctor.browser.get("/console/home").contains("id=\"worklist-proxy\""));
        // each step is in the trail: the entry (by the clerk) and the approval (by the physician)
        assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'create'"
                + " AND ? = ANY(patients)", "account:" + clerk.accountId, medicine));
        assertTrue(h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'finalize'"
                + " AND ? = ANY(patients)", "account:" + doctor.accountId, medicine) >= 1);
    }

    @Test
    void noEntryForAPhysicianOfAnotherDepartmentAndHostileInputKeepsTheText() {
        clerk.browser.get("/console/patients/" + medicine + "/proxy-entry");
        Browser.Page other = clerk.browser.submit("/console/entries/save", "author", surgeon.accountId.toString(),
                "s", "外科の先生の分", "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(403, other.status(), other::toString);
        assertTrue(other.contains("この人の代行入力はできません") && other.contains("外科の先生の分"), other::toString);
        assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM proxy_entry WHERE responsible = ?", surgeon.accountId));

        Browser.Page wrongId = clerk.browser.submit("/console/entries/save", "author", "../../etc", "s", "残す文章",
                "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(400, wrongId.status(), wrongId::toString);
        assertTrue(wrongId.contains("記載者・責任者を選んでください") && wrongId.contains("残す文章"), wrongId::toString);

        Browser.Page myself = clerk.browser.submit("/console/entries/save", "author", clerk.accountId.toString(),
                "s", "自分のため", "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(400, myself.status(), myself::toString);

        String huge = "x".repeat(20_001);
        Browser.Page tooLong = clerk.browser.submit("/console/entries/save", "author", doctor.accountId.toString(),
                "s", huge, "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(413, tooLong.status(), tooLong::toString);
        assertTrue(tooLong.contains(huge), "the text is kept");

        Browser.Page badPatient = clerk.browser.submit("/console/entries/save", "patient", "x'y", "author",
                doctor.accountId.toString(), "s", "患者違い", "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(400, badPatient.status(), badPatient::toString);

        // a patient of another department: the write is refused by the access model, the text kept
        clerk.browser.get("/console/patients/" + medicine + "/proxy-entry");
        Browser.Page notMine = clerk.browser.submit("/console/entries/save", "patient", surgery, "author",
                doctor.accountId.toString(), "s", "他科の患者", "o", "", "a", "", "p", "", "op", "draft");
        assertEquals(403, notMine.status(), notMine::toString);
        assertTrue(notMine.contains("他科の患者"), notMine::toString);
    }

    @Test
    void unapprovedEntriesEscalateToAdministratorsWithoutTheirContent() throws Exception {
        String late = enter(colleague, "遅れている代行入力の本文");
        Browser.Page before = h.admin.browser.get("/console/home");
        assertFalse(before.body().contains("時間を過ぎた承認待ちの代行入力</a>") && section(before.body(), "waiting")
                .contains("代行入力"), "nothing is overdue yet");
        // a day passes: the entry is moved back in the database (rows are otherwise closed once and never changed)
        try (Connection c = h.server.superuserConnection()) {
            c.createStatement().execute("SET session_replication_role = replica");
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE proxy_entry SET entered_at = now() - interval '25 hours' WHERE composition_id = ?")) {
                ps.setString(1, late);
                assertEquals(1, ps.executeUpdate());
            }
        }
        Browser.Page home = h.admin.browser.get("/console/home");
        String waiting = section(home.body(), "waiting");
        assertTrue(waiting.contains("24 時間を過ぎた承認待ちの代行入力") && waiting.contains("/console/proxy"), waiting);
        Browser.Page queue = h.admin.browser.get("/console/proxy");
        String overdue = section(queue.body(), "proxy-overdue");
        assertTrue(overdue.contains(name(clerk)) && overdue.contains(name(colleague)) && overdue.contains("督促"), overdue);
        assertFalse(queue.contains("遅れている代行入力の本文") || queue.contains("森田") || queue.contains(late),
                "an administrator sees names and times, not the patient or the content: " + queue);
        // an approval without the form's CSRF token is refused by the console's gate, and nothing changes
        Browser.Page forged = colleague.browser.post("/console/proxy/approve", Map.of("id", late, "base", "1"),
                Map.of());
        assertEquals(403, forged.status(), forged::toString);
        assertEquals("pending", h.one("SELECT state FROM proxy_entry WHERE composition_id = ?", late));
        // the physician sees it marked overdue in their own queue
        assertTrue(section(colleague.browser.get("/console/proxy").body(), "proxy-for-me").contains("督促"));
    }

    @Test
    void aBackEntryKeepsItsClinicalTimeAndRealAuthorAndShowsBothTimes() {
        LocalDate yesterday = LocalDate.now(JST).minusDays(1);
        String from = LocalDateTime.of(yesterday, java.time.LocalTime.of(9, 0)).toString();
        String to = LocalDateTime.of(yesterday, java.time.LocalTime.of(12, 0)).toString();
        String written = LocalDateTime.of(yesterday, java.time.LocalTime.of(10, 30)).toString();
        Browser.Page form = doctor.browser.get("/console/patients/" + medicine + "/back-entry");
        assertEquals(200, form.status(), form::toString);

        Browser.Page outside = doctor.browser.submit("/console/entries/save", "downFrom", from, "downTo", to,
                "clinical", LocalDateTime.of(yesterday, java.time.LocalTime.of(13, 0)).toString(), "reason", "停電",
                "number", "D-0012", "s", "停電中の紙の記録", "o", "", "a", "", "p", "", "op", "finalize");
        assertEquals(400, outside.status(), outside::toString);
        assertTrue(outside.contains("記載日時が停止期間の外です") && outside.contains("停電中の紙の記録")
                && outside.contains("D-0012"), outside::toString);
        Browser.Page badNumber = doctor.browser.submit("/console/entries/save", "downFrom", from, "downTo", to,
                "clinical", written, "reason", "停電", "number", "<script>", "s", "停電中の紙の記録", "o", "", "a", "",
                "p", "", "op", "finalize");
        assertEquals(400, badNumber.status(), badNumber::toString);
        assertFalse(badNumber.contains("<script>"), "escaped");

        Browser.Page saved = doctor.browser.submit("/console/entries/save", "downFrom", from, "downTo", to,
                "clinical", written, "reason", "停電", "number", "D-0012", "s", "停電中の紙の記録", "o", "", "a", "",
                "p", "", "op", "finalize");
        String doc = documentId(saved);
        String shown = section(saved.body(), "document");
        String writtenText = yesterday.getYear() + "年" + yesterday.getMonthValue() + "月" + yesterday.getDayOfMonth()
                + "日 10:30";
        assertTrue(shown.contains("後入力: 記載 ") && shown.contains(writtenText) && shown.contains("10:30")
                && shown.contains("（" + name(doctor) + "）") && shown.contains("理由: 停電")
                && shown.contains("停止中の仮患者番号: D-0012"), shown);
        String history = saved.body().substring(saved.body().indexOf("id=\"history\""));
        assertTrue(history.contains("（記載 ") && history.contains("10:30"), history);

        // the record's own time is the entry time; the clinical time is the note's date; the number is searchable
        RecordService records = h.server.server().records();
        RecordService.Stored s = records.read(Caller.system("proxy-test"), "Composition", doc);
        assertTrue(s.lastUpdated().isAfter(Instant.now().minus(10, ChronoUnit.MINUTES)), "entry time " + s.lastUpdated());
        String body = s.bodyText();
        String utc = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").format(
                LocalDateTime.parse(written).atZone(JST).withZoneSameInstant(java.time.ZoneOffset.UTC));
        assertTrue(body.contains("\"date\":\"" + utc), "the clinical time is the note's date: " + body);
        assertTrue(body.contains("https://mamori.jp/fhir/StructureDefinition/back-entry"), body);
        RecordService.SearchPage found = records.search(Caller.system("proxy-test"), "Composition", Map.of("identifier",
                List.of("https://mamori.jp/fhir/downtime-patient-number|D-0012")));
        assertEquals(1, found.matches().size());
        assertEquals(doc, found.matches().get(0).id());
        assertEquals("account:" + doctor.accountId, s.author());
    }
}
