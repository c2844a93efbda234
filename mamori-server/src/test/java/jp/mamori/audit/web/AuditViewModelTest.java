package jp.mamori.audit.web;

import jp.mamori.audit.AuditReports;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.RecordTitles;
import jp.mamori.chart.JpDates;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an audit report row shows, decided before any HTML is written (issue 22): every value in words, patients by
 * name and 患者ID, records by kind, title and date; one patient's history keeps only that patient.
 */
class AuditViewModelTest {
    private static final Messages JA = Messages.of(ConsoleRequest.Lang.JA);
    private static final Map<String, PatientDirectory.Demographics> PATIENTS = Map.of(
            "p1", new PatientDirectory.Demographics("p1", "100001", "山田　花子", "ヤマダ　ハナコ", "female",
                    LocalDate.of(1950, 4, 1), 1),
            "p2", new PatientDirectory.Demographics("p2", "100002", "鈴木　一郎", "スズキ　イチロウ", "male",
                    LocalDate.of(1960, 5, 2), 1));
    private static final Map<String, RecordTitles.Described> RECORDS = Map.of(
            "Composition/c1/_history/2", new RecordTitles.Described("Composition", "経過記録",
                    LocalDate.of(2026, 12, 1), Set.of("p1")),
            "Observation/o2/_history/1", new RecordTitles.Described("Observation", "", LocalDate.of(2026, 11, 30),
                    Set.of("p2")),
            "Patient/p1/_history/1", new RecordTitles.Described("Patient", "", LocalDate.of(2026, 1, 1), Set.of("p1")),
            "Patient/p2/_history/1", new RecordTitles.Described("Patient", "", LocalDate.of(2026, 1, 1), Set.of("p2")));

    private static AuditReports.Row row(String actor, String kind, String display, List<String> roles,
                                        List<String> patients, String action, String purpose, List<String> resources) {
        return new AuditReports.Row(12, Instant.parse("2026-12-01T00:30:00Z"), actor, kind, display, roles, "内科",
                patients, action, "success", purpose, resources, "10.0.0.1", "s1", false);
    }

    /** Every action the trail can hold reads as words in both languages: none falls to "システムの処理" (other). */
    @Test
    void everyAuditActionReadsAsItsOwnWordsInBothLanguages() {
        for (ConsoleRequest.Lang lang : ConsoleRequest.Lang.values()) {
            Messages t = Messages.of(lang);
            Readable readable = new Readable(t, JpDates.tokyo(), PATIENTS, Map.of(), RECORDS, Map.of(), null);
            for (jp.mamori.audit.AuditAction a : jp.mamori.audit.AuditAction.values()) {
                String word = readable.entry(row("system:x", "system", "Mamori", List.of(), List.of(), a.code,
                        "operations", List.of())).action();
                assertFalse(word.equals(t.get("audit.action.other")) || word.equals(a.code),
                        lang + " " + a.code + " reads as: " + word);
            }
        }
    }

    @Test
    void aPersonIsNamedWithRoleAndDepartmentAndEveryCodeIsAWord() {
        Readable readable = new Readable(JA, JpDates.tokyo(), PATIENTS, Map.of("physician", "医師"), RECORDS, Map.of(),
                null);
        AuditViews.Entry e = readable.entry(row("account:7f9d", "person", "田中 一郎", List.of("physician"),
                List.of("p1", "p2"), "read", "treatment", List.of("Composition/c1/_history/2",
                        "Observation/o2/_history/1")));
        assertEquals("2026年12月1日 09:30", e.time(), "in JST");
        assertEquals("田中 一郎", e.who());
        assertEquals("医師 / 内科", e.roles());
        assertEquals("閲覧", e.action());
        assertEquals("診療", e.purpose());
        assertEquals("完了", e.outcome());
        assertEquals(List.of("経過記録 2026年12月1日", "検査・観察結果 2026年11月30日"), e.records());
        assertEquals(List.of(new AuditViews.PatientName("山田　花子", "ヤマダ　ハナコ", "100001", true),
                new AuditViews.PatientName("鈴木　一郎", "スズキ　イチロウ", "100002", true)), e.patients());
        assertEquals("10.0.0.1", e.address());
        String all = e.toString();
        assertFalse(all.contains("c1") || all.contains("p1") || all.contains("account:") || all.contains("treatment")
                || all.contains("physician"), "no id or code: " + all);

        AuditViews.Entry client = readable.entry(new AuditReports.Row(13, Instant.parse("2026-12-01T00:30:00Z"),
                "client:lab", "client", "検査システム", List.of(), null, List.of("gone"), "search", "refused",
                "operations", List.of("Patient"), "10.0.0.2", null, false));
        assertEquals("外部システム：検査システム", client.who());
        assertEquals("", client.roles());
        assertEquals("検索", client.action());
        assertEquals("拒否", client.outcome());
        assertTrue(client.refused());
        assertEquals("業務（外部システム連携）", client.purpose());
        assertEquals(List.of(new AuditViews.PatientName("（患者の記録がありません）", "", "", false)), client.patients());
        AuditViews.Entry unknown = readable.entry(row("account:x", "person", null, List.of("custom_role"), List.of(),
                "account.suspended", "administration", List.of("Account/x")));
        assertEquals("アカウント管理", unknown.action(), "a family of actions has a word");
        assertEquals("その他の役割 / 内科", unknown.roles());
        assertEquals("管理業務", unknown.purpose());
    }

    @Test
    void onePatientsHistoryShowsASearchThatReturnedOthersAsOneSearchThatShowedThisPatientAlone() {
        Readable readable = new Readable(JA, JpDates.tokyo(), PATIENTS, Map.of(), RECORDS, Map.of(), "p1");
        AuditViews.Entry e = readable.entry(row("account:7f9d", "person", "田中 一郎", List.of(), List.of("p1", "p2"),
                "search", "treatment", List.of("Patient", "Patient/p1/_history/1", "Patient/p2/_history/1",
                        "Observation/o2/_history/1")));
        assertEquals("検索（結果にこの患者が表示）", e.action());
        assertEquals(List.of("患者基本情報"), e.records(), "only this patient's record");
        assertTrue(e.patients().isEmpty(), "no other patient is named");
        assertEquals(0, e.morePatients());
        assertEquals("", e.address(), "the disclosure shows no network address");
        assertFalse(e.toString().contains("鈴木") || e.toString().contains("100002"), e.toString());
    }
}
