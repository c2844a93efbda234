package jp.mamori.identity.web;

import jp.mamori.audit.AuditReports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compliance console over HTTP (issue 20; GOV-16, GOV-28 … GOV-40): an administrator answers checklist items with
 * their history and audit entries, an auditor reads, a physician is refused; a いいえ needs a target date within the
 * fiscal year; answers carry over to the institution's next fiscal year's file; a broken file in --compliance-dir is
 * listed with its line and reason while the server runs on.
 */
class ComplianceConsoleTest {
    private static Path dir;
    private static Hospital h;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("compliance");
        Files.writeString(dir.resolve("inspection-2027.json"), """
                {"format": 1, "id": "onsite-inspection", "version": "2027", "fiscalYear": 2027,
                 "title": {"ja": "立入検査用チェックリスト（令和9年度）", "en": "On-site inspection checklist FY2027"},
                 "source": {"document": "医療機関におけるサイバーセキュリティ対策チェックリスト（令和9年度）"},
                 "sections": [{"id": "s1", "title": {"ja": "管理・運用", "en": "Management"}}],
                 "items": [
                  {"id": "p1-k-4-2", "section": "s1", "number": "2-4", "title": "不要なアカウント", "text": "退職者や使用していないアカウント等、不要なアカウントを削除しているか。", "party": "医療機関", "requirements": ["ACCT-2"]},
                  {"id": "contacts", "section": "s1", "number": "3-1", "title": "連絡体制図", "text": "連絡体制図があるか。", "party": "共同", "replaces": "p1-k-5-1"}
                 ]}
                """);
        Files.writeString(dir.resolve("broken.json"), """
                {"format": 1, "id": "broken", "version": "2027", "fiscalYear": 2027,
                 "colour": "red"}
                """);
        h = Hospital.open(List.of("--compliance-dir", dir.toString()));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    private static final String ITEM_2026 = "/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-4-2";
    private static final String ITEM_2027 = "/console/compliance/item?id=onsite-inspection&v=2027&item=p1-k-4-2";

    private static long answers(String version, String item) {
        return h.<Long>one("SELECT count(*) FROM compliance_answer WHERE framework = 'onsite-inspection'"
                + " AND version = ? AND item = ?", version, item);
    }

    @Test
    void anAdministratorAnswersWithHistoryAndAuditAndAnswersCarryOver() {
        Browser b = h.admin.browser;
        Browser.Page home = b.get("/console/compliance");
        assertEquals(200, home.status(), home::toString);
        assertTrue(home.contains("立入検査用チェックリスト該当項目") && home.contains("役割分担等に関するチェックリスト")
                && home.contains("令和8年度") && home.contains("令和9年度"), home::toString);
        // the broken file: listed with its line and reason, the server runs on
        assertTrue(home.contains("broken.json:2: 知らない項目名です（colour）"), home::toString);

        Browser.Page list = b.get("/console/compliance/framework?id=onsite-inspection&v=2026");
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.contains("② 退職者や使用していないアカウント等、不要なアカウントを削除しているか。")
                && list.contains("未回答") && list.contains("医療機関"), list::toString);

        Browser.Page item = b.get(ITEM_2026);
        assertEquals(200, item.status(), item::toString);
        assertTrue(item.contains("推奨される対応例") && item.contains("不要なIDによる不正アクセス等のリスクを防ぐため")
                && item.contains("ACCT-2"), item::toString);
        String today = java.time.LocalDate.now(Hospital.JST).toString();
        Browser.Page saved = b.submit("/console/compliance/answer", "answer", "yes", "checked", today,
                "note", "退職者のアカウントは台帳で確認済み");
        assertEquals(200, saved.status(), saved::toString);
        assertTrue(saved.contains("回答を記録しました") && saved.contains("退職者のアカウントは台帳で確認済み"), saved::toString);
        assertEquals(1, answers("2026", "p1-k-4-2"));

        // the next fiscal year's file: the answer carries over by id, and by replaces
        b.get("/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-5-1");
        b.submit("/console/compliance/answer", "answer", "partial", "checked", today, "target", "", "note", "");
        Browser.Page next = b.get("/console/compliance/framework?id=onsite-inspection&v=2027");
        assertEquals(200, next.status(), next::toString);
        assertTrue(next.contains("令和8年度の回答を引き継ぎ"), next::toString);
        String body = next.body();
        int contacts = body.indexOf("連絡体制図があるか。");
        assertTrue(contacts > 0 && body.indexOf("一部", contacts) > 0, "carried over through replaces: " + body);

        // いいえ without a target date: refused with one line, what was typed stays
        b.get(ITEM_2027);
        Browser.Page refused = b.submit("/console/compliance/answer", "answer", "no", "checked", today, "target", "",
                "note", "来年度に棚卸しする予定");
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("いいえの場合は対応予定日（令和9年度内）を入力してください"), refused::toString);
        assertTrue(refused.contains("来年度に棚卸しする予定") && refused.body().contains("value=\"no\" checked"),
                "the typed text is kept: " + refused);
        // a target outside the fiscal year, or not a date
        refused = b.submit("/console/compliance/answer", "answer", "no", "checked", today, "target", "2028-04-01",
                "note", "x");
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("対応予定日は令和9年度内"), refused::toString);
        refused = b.submit("/console/compliance/answer", "answer", "no", "checked", "昨日", "target", "2027-09-30");
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("確認日は 2026-04-01 の形で入力してください"), refused::toString);
        // a note longer than the table takes: refused, not cut
        refused = b.submit("/console/compliance/answer", "answer", "no", "checked", today, "target", "2027-09-30",
                "note", "長".repeat(2500));
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("備考は 2000 文字までです"), refused::toString);
        assertEquals(0, answers("2027", "p1-k-4-2"), "nothing refused is recorded");

        Browser.Page no = b.submit("/console/compliance/answer", "answer", "no", "checked", today, "target",
                "2027-09-30", "note", "来年度に棚卸し");
        assertEquals(200, no.status(), no::toString);
        Browser.Page yes = b.get(ITEM_2027);
        b.submit("/console/compliance/answer", "answer", "yes", "checked", today, "target", "2027-09-30");
        Browser.Page history = b.get(ITEM_2027);
        assertEquals(2, answers("2027", "p1-k-4-2"), "every change is kept");
        assertTrue(history.contains("回答の履歴") && history.contains("来年度に棚卸し")
                && history.contains("対応予定 2027年9月30日") && history.contains("管理"), history::toString);
        assertEquals(null, h.<Object>one("SELECT target_on FROM compliance_answer WHERE version = '2027' AND answer = 'yes'"),
                "a はい has no target date");

        // each answer is an audit entry
        List<AuditReports.Row> rows = List.of();
        for (int i = 0; i < 100; i++) {
            rows = h.server.server().audit().reports().actorActivity(h.admin.loginId, Instant.EPOCH,
                    Instant.now().plusSeconds(5), 1000).stream().filter(r -> r.action().equals("compliance.answer"))
                    .toList();
            if (rows.size() >= 4) {
                break;
            }
            Browser.sleep(100);
        }
        assertEquals(4, rows.size(), "one audit entry per answer");

        // the table only grows
        assertTrue(h.server.server() != null);
        try (var c = h.server.superuserConnection(); var st = c.createStatement()) {
            st.executeUpdate("UPDATE compliance_answer SET answer = 'yes'");
            throw new AssertionError("an answer was changed in place");
        } catch (java.sql.SQLException e) {
            assertTrue(e.getMessage().contains("answers are only ever added"), e::getMessage);
        }
    }

    @Test
    void anAuditorReadsAPhysicianIsRefusedAndEveryPostNeedsTheFormsToken() {
        Person auditor = h.staffWithRole("kansa.c", "監査室", "auditor");
        Person physician = h.staffWithRole("ishi.c", "内科", "physician");
        for (String path : List.of("/console/compliance", "/console/compliance/framework?id=role-sharing&v=2026",
                ITEM_2026)) {
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("推奨される対応例"), path);
            Browser.Page read = auditor.browser.get(path);
            assertEquals(200, read.status(), path + ": " + read);
        }
        Browser.Page item = auditor.browser.get(ITEM_2026);
        assertTrue(item.contains("閲覧のみです") && !item.body().contains("action=\"/console/compliance/answer\""),
                item::toString);
        long before = answers("2026", "p1-k-4-2");
        Map<String, String> form = new LinkedHashMap<>(Map.of("id", "onsite-inspection", "v", "2026",
                "item", "p1-k-4-2", "answer", "yes", "checked", java.time.LocalDate.now(Hospital.JST).toString(),
                "csrf", item.csrf()));
        Browser.Page post = auditor.browser.post("/console/compliance/answer", form, Map.of());
        assertEquals(403, post.status(), "an auditor reads, never answers: " + post);
        // an administrator's POST without the form's token is refused by the gate
        h.admin.browser.get(ITEM_2026);
        form.remove("csrf");
        Browser.Page noToken = h.admin.browser.post("/console/compliance/answer", form, Map.of());
        assertEquals(403, noToken.status(), noToken::toString);
        assertEquals(before, answers("2026", "p1-k-4-2"));
        // a hostile item id is a plain not-found
        Browser.Page odd = h.admin.browser.get("/console/compliance/item?id=onsite-inspection&v=2026&item=%3Cscript%3E");
        assertEquals(404, odd.status(), odd::toString);
        assertFalse(odd.body().contains("<script>"));
    }

    @Test
    void theRequirementCatalogueReadsInJapaneseInTheJapaneseConsoleAndInEnglishInTheEnglishOne() {
        Person reader = h.staffWithRole("kansa.en", "監査室", "auditor");
        String sla = "/console/compliance/item?id=role-sharing&v=2026&item=p2-a-6";
        String ja = "GOV-37: SLA：事業者は、2省GL 別紙1 の SLA 参考例を参考に、医療機関が必要とするサービス・レベルを満たす SLA 案を作成し";
        String en = "GOV-37: SLA: the vendor drafts an SLA, based on the 2省GL 別紙1 SLA 参考例, that meets the service"
                + " level";
        Browser.Page item = reader.browser.get(sla);
        assertEquals(200, item.status(), item::toString);
        assertTrue(item.contains(ja) && !item.contains(en), "the mapped requirement in Japanese: " + item);
        Browser.Page ledger = reader.browser.get("/console/compliance/item?id=mamori-requirements&v=2026&item=ACCT-1");
        assertTrue(ledger.contains("ACCT-1 IDの台帳管理") && ledger.contains("利用者に付与したID等について台帳等により一覧して管理する。")
                && !ledger.contains("Keep a ledger"), ledger::toString);
        Browser.Page catalogue = reader.browser.get("/console/compliance/framework?id=mamori-requirements&v=2026");
        assertTrue(catalogue.contains("不要なアカウントの削除") && !catalogue.contains("Delete unnecessary accounts"),
                catalogue::toString);

        // the language switch returns to this very item (its query kept) and sets mamori-lang; this client (the JDK's
        // cookie manager) sends it back quoted with RFC 2965 attributes, mamori-lang="en";$Path="/", and the console
        // reads it
        java.util.regex.Matcher next = java.util.regex.Pattern.compile("class=\"lang\" href=\"[^\"]*next=([^\"]+)\"")
                .matcher(item.body());
        assertTrue(next.find() && next.group(1).startsWith("%2Fconsole%2Fcompliance%2Fitem%3F")
                && next.group(1).contains("item%3Dp2-a-6"), "the switch keeps the item's query: " + item);
        Browser.Page switched = reader.browser.get("/console/lang?to=en&next="
                + java.net.URLEncoder.encode(sla, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(200, switched.status(), switched::toString);
        assertEquals("/console/compliance/item", switched.path(), switched::toString);
        assertTrue(switched.uri().getRawQuery().contains("item=p2-a-6"), "back on the same item: " + switched.uri());
        assertEquals("en", reader.browser.cookie("mamori-lang").orElseThrow());
        Browser.Page english = reader.browser.get(sla);
        assertEquals(200, english.status(), english::toString);
        assertTrue(english.contains(en) && !english.contains(ja), "the mapped requirement in English: " + english);
        ledger = reader.browser.get("/console/compliance/item?id=mamori-requirements&v=2026&item=ACCT-1");
        assertTrue(ledger.contains("Keep a ledger (台帳) listing all IDs issued to users.")
                && !ledger.contains("利用者に付与したID等について台帳等により一覧して管理する。"), ledger::toString);
        catalogue = reader.browser.get("/console/compliance/framework?id=mamori-requirements&v=2026");
        assertTrue(catalogue.contains("Delete unnecessary accounts") && !catalogue.contains("不要なアカウントの削除"),
                catalogue::toString);
    }
}
