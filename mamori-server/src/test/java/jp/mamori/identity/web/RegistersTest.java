package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.Probe;
import jp.mamori.compliance.RegisterKind;
import jp.mamori.compliance.Registers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registers' engine on a running server (issue 20, "Registers"): versions, retiring, the runtime role cannot
 * change or delete a version, one audit entry per version without the values; CSV round trip and all-or-nothing
 * import; and each probe red, amber and green.
 */
class RegistersTest {
    private static Hospital h;
    private static Registers registers;
    private static final Actor ADMIN = Actor.person("account:kanri.registers", "管理 花子", List.of("admin"), "情報システム",
            "127.0.0.1", null);

    @BeforeAll
    static void open() {
        h = Hospital.open();
        registers = h.server.server().registers();
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static Evidence probe(String key) {
        Probe p = registers.probes().stream().filter(x -> x.id().equals("registers." + key)).findFirst().orElseThrow();
        return p.evaluate(Instant.now());
    }

    private static long versions(String register) {
        return h.<Long>one("SELECT count(*) FROM compliance_register_version WHERE register = ?", register);
    }

    @Test
    void versionsRetireAppendOnlyAndAnAuditEntryPerVersionWithoutValues() throws Exception {
        RegisterKind k = RegisterKind.CONTACTS;
        Map<String, String> typed = new HashMap<>(Map.of("organisation", "情報システム室", "category", "internal",
                "order", "1", "person", "山田", "phone", "090-1234-5678", "when", "最初に連絡"));
        Registers.Row first = registers.save(ADMIN, k, null, null, typed, "", null);
        assertEquals(1, first.version());
        assertEquals(registers.today().plusMonths(12), first.review(), "the default review is a year on");
        typed.put("phone", "090-8765-4321");
        Registers.Row second = registers.save(ADMIN, k, first.entry(), 1, typed, "", "番号変更");
        assertEquals(2, second.version());
        // an edit of an old version is refused; saving the same again writes nothing
        ComplianceException stale = assertThrows(ComplianceException.class,
                () -> registers.save(ADMIN, k, first.entry(), 1, typed, "", null));
        assertTrue(stale.getMessage().startsWith("この行は他の人が先に変更しました"), stale.getMessage());
        assertEquals(2, registers.save(ADMIN, k, first.entry(), 2, typed, "", null).version());
        List<Registers.Change> history = registers.history(k, first.entry());
        assertEquals(2, history.size());
        assertEquals(List.of("phone"), history.get(0).changed());
        assertEquals("番号変更", history.get(0).row().reason());
        // retiring needs a reason and is a version
        ComplianceException noReason = assertThrows(ComplianceException.class,
                () -> registers.retire(ADMIN, k, first.entry(), 2, " "));
        assertEquals("理由を入力してください / enter the reason", noReason.getMessage());
        registers.retire(ADMIN, k, first.entry(), 2, "担当者の異動");
        assertTrue(registers.current(k).stream().noneMatch(r -> r.entry() == first.entry()));
        assertTrue(registers.row(k, first.entry()).orElseThrow().retired());
        assertEquals(3L, versions("contacts"));
        assertThrows(ComplianceException.class, () -> registers.save(ADMIN, k, first.entry(), 3, typed, "", null));

        // the runtime role may not change or delete a version; the superuser is stopped by the trigger
        try (Connection c = h.server.server().database().dataSource().getConnection(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> st.executeUpdate("UPDATE compliance_register_version SET retired = false"));
            assertTrue(e.getMessage().contains("permission denied") || e.getMessage().contains("refused"), e::getMessage);
        }
        try (Connection c = h.server.server().database().dataSource().getConnection(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> st.executeUpdate("DELETE FROM compliance_register_version"));
            assertTrue(e.getMessage().contains("permission denied") || e.getMessage().contains("refused"), e::getMessage);
        }
        try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement()) {
            assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM compliance_register_version"));
        }
        assertEquals(3L, versions("contacts"));

        // one audit entry per version: which fields changed, never the phone number
        List<String> entries = List.of();
        for (int i = 0; i < 100 && entries.size() < 3; i++) {
            entries = h.rows("SELECT convert_from(entry, 'UTF8') AS e FROM audit_entry WHERE action ="
                    + " 'compliance.register' AND convert_from(entry, 'UTF8')::jsonb -> 'detail' ->> 'register' ="
                    + " 'contacts' ORDER BY seq").stream().map(r -> (String) r.get("e")).toList();
            Browser.sleep(100);
        }
        assertEquals(3, entries.size(), "one audit entry per version");
        String all = String.join("\n", entries);
        assertTrue(all.contains("\"changed\":\"phone\"") && all.contains("\"retired\":\"true\"")
                && !all.contains("090-"), all);
    }

    @Test
    void csvRoundTripsAndABadRowRefusesTheWholeFile() {
        RegisterKind k = RegisterKind.DEVICES;
        String csv = "\uFEFF名称,種別,設置場所,使用可否の状態,リモート保守,保守事業者,備考\r\n"
                + "電子カルテサーバ,サーバ,3階サーバ室,使用中,はい,\"A社, 保守部\",\"二台構成\n予備あり\"\r\n"
                + "=cmd|' /C calc'!A0,端末PC,外来,使用中,いいえ,,\r\n";
        int had = registers.current(k).size();
        Registers.Imported done = registers.importCsv(ADMIN, k, csv.getBytes(StandardCharsets.UTF_8));
        assertEquals(new Registers.Imported(2, 0, 0), done);
        int server = registers.current(k).stream().filter(r -> r.get("name").equals("電子カルテサーバ")).findFirst()
                .orElseThrow().entry();
        byte[] out = registers.exportCsv(k);
        String text = new String(out, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\uFEFF台帳番号,名称,種別,設置場所"), text);
        assertTrue(text.contains("\"A社, 保守部\"") && text.contains("\"二台構成\n予備あり\""), text);
        assertTrue(text.contains("\r\n" + (server + 1) + ",'=cmd|' /C calc'!A0,端末PC"), "a formula is neutralised: "
                + text);
        // the export imports back unchanged: nothing written
        long before = versions("devices");
        assertEquals(new Registers.Imported(0, 0, had + 2), registers.importCsv(ADMIN, k, out));
        assertEquals(before, versions("devices"));
        assertEquals("=cmd|' /C calc'!A0", registers.row(k, server + 1).orElseThrow().get("name"), "the value is kept as typed");

        // one bad row (line 4) refuses the whole file: nothing written, the first good row neither
        String bad = "台帳番号,名称,種別,設置場所,使用可否の状態,リモート保守\n"
                + server + ",電子カルテサーバ（更新）,サーバ,3階サーバ室,使用中,はい\n"
                + ",新しい端末,端末PC,病棟,使用中,いいえ\n"
                + ",壊れた行,冷蔵庫,病棟,使用中,いいえ\n";
        ComplianceException e = assertThrows(ComplianceException.class,
                () -> registers.importCsv(ADMIN, k, bad.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("4 行目: 種別は次のどれかです"), e.getMessage());
        assertEquals(before, versions("devices"), "nothing written");
        // an unknown row number, an unknown heading, too large, too many rows
        e = assertThrows(ComplianceException.class, () -> registers.importCsv(ADMIN, k,
                "台帳番号,名称,種別,設置場所,使用可否の状態,リモート保守\n99,x,サーバ,x,使用中,いいえ\n".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("2 行目: 台帳番号 99 の行はありません"), e.getMessage());
        e = assertThrows(ComplianceException.class, () -> registers.importCsv(ADMIN, k,
                "名称,種別,設置場所,使用可否の状態,リモート保守,色\n".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("1 行目: 見出し「色」はこの台帳にありません"), e.getMessage());
        e = assertThrows(ComplianceException.class, () -> registers.importCsv(ADMIN, k,
                new byte[Registers.MAX_CSV_BYTES + 1]));
        assertTrue(e.getMessage().startsWith("ファイルが大きすぎます"), e.getMessage());
        StringBuilder many = new StringBuilder("名称,種別,設置場所,使用可否の状態,リモート保守\n");
        for (int i = 0; i <= Registers.MAX_CSV_ROWS; i++) {
            many.append("端末").append(i).append(",端末PC,病棟,使用中,いいえ\n");
        }
        e = assertThrows(ComplianceException.class, () -> registers.importCsv(ADMIN, k,
                many.toString().getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("行が多すぎます"), e.getMessage());
        assertEquals(before, versions("devices"));
        // the inspection pack's read: Japanese labels and words
        Map<String, String> first = registers.labelled(k).stream().filter(m -> m.get("名称").equals("電子カルテサーバ"))
                .findFirst().orElseThrow();
        assertEquals(Integer.toString(server), first.get("台帳番号"));
        assertEquals("サーバ", first.get("種別"));
        assertEquals("はい", first.get("リモート保守"));
        assertTrue(first.containsKey("次回見直し日"));
        assertEquals(8, registers.kinds().size());
    }

    @Test
    void eachProbeTurnsRedAmberAndGreen() {
        LocalDate today = registers.today();
        // appointments: empty → UNKNOWN saying what to enter; one role only → FAIL; both roles → PASS; an overdue
        // review → PARTIAL
        Evidence e = probe("appointments");
        assertEquals(Evidence.Status.UNKNOWN, e.status());
        assertTrue(e.summary().contains("医療情報システム安全管理責任者と企画管理者の任命を入力してください"), e.summary());
        assertEquals("/console/compliance/register?r=appointments", e.detailPath());
        registers.save(ADMIN, RegisterKind.APPOINTMENTS, null, null, Map.of("role", "security_manager", "person",
                "院長 一郎", "since", today.minusYears(1).toString()), "", null);
        e = probe("appointments");
        assertEquals(Evidence.Status.FAIL, e.status());
        assertTrue(e.summary().startsWith("企画管理者が現在任命されていません"), e.summary());
        registers.save(ADMIN, RegisterKind.APPOINTMENTS, null, null, Map.of("role", "企画管理者", "person",
                "情報 次郎", "since", today.toString()), today.minusDays(1).toString(), null);
        e = probe("appointments");
        assertEquals(Evidence.Status.PARTIAL, e.status(), e.summary());
        assertTrue(e.summary().contains("見直し期限切れ 1 件"), e.summary());
        registers.save(ADMIN, RegisterKind.APPOINTMENTS, 2, 1, Map.of("role", "planning_manager", "person",
                "情報 次郎", "since", today.toString()), today.plusMonths(6).toString(), "見直し済み");
        assertEquals(Evidence.Status.PASS, probe("appointments").status());

        // vendors: an SLA missing → FAIL; complete → PASS
        Map<String, String> vendor = new HashMap<>(Map.of("name", "A社", "service", "電子カルテ保守", "contract_end",
                today.plusYears(1).toString(), "sla", "no", "sds", "yes"));
        registers.save(ADMIN, RegisterKind.VENDORS, null, null, vendor, "", null);
        assertEquals(Evidence.Status.FAIL, probe("vendors").status());
        vendor.put("sla", "yes");
        registers.save(ADMIN, RegisterKind.VENDORS, 1, 1, vendor, "", null);
        assertEquals(Evidence.Status.PASS, probe("vendors").status(), probe("vendors").summary());

        // training: only an old course → FAIL; one this year → PASS
        registers.save(ADMIN, RegisterKind.TRAINING, null, null, Map.of("title", "情報セキュリティ研修", "kind", "periodic",
                "date", today.minusMonths(13).toString(), "audience", "全職員"), "", null);
        assertEquals(Evidence.Status.FAIL, probe("training").status());
        registers.save(ADMIN, RegisterKind.TRAINING, null, null, Map.of("title", "標的型メール訓練", "kind", "drill",
                "date", today.toString(), "audience", "全職員"), "", null);
        assertEquals(Evidence.Status.PASS, probe("training").status());

        // risks: a review passed → FAIL (GOV-15 reviews continuously)
        registers.save(ADMIN, RegisterKind.RISKS, null, null, Map.of("risk", "ランサムウェア", "owner", "企画管理者",
                "likelihood", "medium", "impact", "high", "treatment", "reduce"), today.minusDays(1).toString(), null);
        assertEquals(Evidence.Status.FAIL, probe("risks").status());

        // incidents: none → PASS; an open one is fine while it is updated
        assertEquals(Evidence.Status.PASS, probe("incidents").status());
        registers.save(ADMIN, RegisterKind.INCIDENTS, null, null, Map.of("title", "不審なメール", "found",
                today.toString(), "status", "open"), "", null);
        assertEquals(Evidence.Status.PASS, probe("incidents").status());
        Probe incidents = registers.probes().stream().filter(p -> p.id().equals("registers.incidents")).findFirst()
                .orElseThrow();
        Evidence later = incidents.evaluate(Instant.now().plus(Registers.INCIDENT_STALE).plusSeconds(3600));
        assertEquals(Evidence.Status.FAIL, later.status(), later.summary());

        // devices past end of support without a recorded reason → FAIL
        registers.save(ADMIN, RegisterKind.DEVICES, null, null, Map.of("name", "旧端末", "category", "terminal",
                "location", "医事課", "state", "in_use", "remote", "no", "end_of_support", "2020-01-14"), "", null);
        e = probe("devices");
        assertEquals(Evidence.Status.FAIL, e.status());
        assertTrue(e.summary().contains("旧端末"), e.summary());
        // the probes are registered on the server
        List<String> ids = h.server.server().probes().probes().stream().map(Probe::id).toList();
        assertTrue(ids.containsAll(List.of("registers.appointments", "registers.contacts", "registers.devices",
                "registers.vendors", "registers.bcp", "registers.training", "registers.risks", "registers.incidents")), ids::toString);
        assertFalse(probe("contacts").status() == Evidence.Status.PASS);
    }
}
