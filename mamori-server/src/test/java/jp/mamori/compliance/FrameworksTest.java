package jp.mamori.compliance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checklists as data (issue 20): the seeds load with every row of seed 004, and a bad file in the institution's
 * folder is refused with file, line and reason while the version in force before stays in force.
 */
class FrameworksTest {

    /** A small framework of the next fiscal year, one item per line so refusals point at it. */
    static String next(String itemLines) {
        return """
                {"format": 1, "id": "onsite-inspection", "version": "2027", "fiscalYear": 2027,
                 "title": {"ja": "立入検査用チェックリスト（令和9年度）", "en": "On-site inspection checklist FY2027"},
                 "source": {"document": "医療機関におけるサイバーセキュリティ対策チェックリスト", "date": "2027-04"},
                 "sections": [{"id": "s1", "title": {"ja": "体制構築"}}],
                 "items": [
                """ + itemLines + "\n]}\n";
    }

    static final String GOOD_ITEM = """
              {"id": "p1-k-4-2", "section": "s1", "number": "4②", "title": "医療情報システムの管理・運用", "text": "不要なアカウントを削除しているか。", "party": "医療機関", "requirements": ["ACCT-2"]},
              {"id": "new-1", "section": "s1", "number": "1", "title": "連絡体制図", "text": "連絡体制図があるか。", "party": "共同", "replaces": "p1-k-5-1"}""";

    @Test
    void theSeedsHoldEveryRowOfTheChecklistAndTheCatalogue() {
        Frameworks f = new Frameworks(null).load();
        assertEquals(List.of(), f.refusals());
        assertEquals(jp.mamori.ops.HealthCheck.Status.UP, f.health().check().status());
        Framework roles = f.find("role-sharing", "2026").orElseThrow();
        Framework inspection = f.find("onsite-inspection", "2026").orElseThrow();
        Framework catalogue = f.find(Frameworks.CATALOGUE, "2026").orElseThrow();
        // Part1: A×3, B×7 numbers in 9 rows, C×3; Part2: A×12 with A9's second risk row, B×6, C×5 (seed 004 L87-169)
        assertEquals(15, roles.items().stream().filter(i -> i.id().startsWith("p1-")).count());
        assertEquals(24, roles.items().stream().filter(i -> i.id().startsWith("p2-")).count());
        // 立入検査用チェックリスト該当項目: Part1 5 numbers in 7 rows, Part2 8 rows (L79-86, L132-140)
        assertEquals(7, inspection.items().stream().filter(i -> i.party().equals("医療機関")).count());
        assertEquals(8, inspection.items().stream().filter(i -> i.party().equals("共同")).count());
        assertEquals(257, catalogue.items().size());
        assertEquals(2026, roles.fiscalYear());
        assertEquals("令和8年度", roles.fiscalYearJa());

        Framework.Item leavers = inspection.item("p1-k-4-2").orElseThrow();
        assertEquals("4②", leavers.number());
        assertEquals("② 退職者や使用していないアカウント等、不要なアカウントを削除しているか。", leavers.text());
        assertEquals("不要なIDによる不正アクセス等のリスクを防ぐため、退職者や使用していないID等が残存していないかを確認し、速やかに削除する。",
                leavers.examples());
        assertEquals(List.of("立入検査チェックリスト サイバーセキュリティ対策チェックリスト 厚労省ガイドライン企画管理編13"),
                leavers.references());
        assertEquals(List.of("ACCT-2"), leavers.requirements());
        Framework.Item sla = roles.item("p2-a-6").orElseThrow();
        assertEquals("具体的なサービス・レベルが定まらないまま委託した場合、障害等が発生した際の責任分担があいまいになるおそれがある。",
                sla.risks());
        assertEquals("SLAの締結", sla.title());
        assertEquals("システムやサービスの仕様", sla.category());
        assertTrue(f.requirementTexts().get("ACCT-2").length() > 10);
    }

    /** Japanese characters: hiragana, katakana, CJK ideographs. */
    private static final java.util.regex.Pattern JAPANESE = java.util.regex.Pattern.compile(
            "[\\p{IsHiragana}\\p{IsKatakana}\\p{IsHan}]");

    @Test
    void everyRequirementOfTheCatalogueReadsInJapaneseAndKeepsItsEnglish() {
        Frameworks f = new Frameworks(null).load();
        Framework catalogue = f.find(Frameworks.CATALOGUE, "2026").orElseThrow();
        for (Framework.Item it : catalogue.items()) {
            assertTrue(JAPANESE.matcher(it.text()).find(), () -> it.id() + " has no Japanese text: " + it.text());
            assertTrue(JAPANESE.matcher(it.title()).find(), () -> it.id() + " has no Japanese title: " + it.title());
            assertTrue(it.textEn() != null && it.textEn().matches("(?s).*\\b[a-z]{4,}\\b.*"),
                    () -> it.id() + " has no English text");
            assertFalse(it.text().equals(it.textEn()), it::id);
            assertEquals(it.text(), it.text(false));
            assertEquals(it.textEn(), it.text(true));
        }
        // the guideline's own words where the catalogue cites a seed line (004 Part1 立入検査 row 4① L83)
        assertEquals("利用者に付与したID等について台帳等により一覧して管理する。", f.requirementTexts().get("ACCT-1"));
        assertEquals("Keep a ledger (台帳) listing all IDs issued to users.", f.requirementTexts(true).get("ACCT-1"));
        assertEquals(f.requirementTexts(false), f.requirementTexts());
        assertEquals(257, f.requirementTexts(true).size());
        // an English sentence is not cut at "e.g." any more
        assertTrue(catalogue.item("AUTH-10").orElseThrow().textEn().contains("(MFA)"));
        // the checklists of seed 004 have no English: the Japanese is shown in both languages
        Framework.Item leavers = f.find("onsite-inspection", "2026").orElseThrow().item("p1-k-4-2").orElseThrow();
        assertEquals(leavers.text(), leavers.text(true));
        assertEquals(leavers.title(), leavers.title(true));
    }

    @Test
    void anInstitutionsNewFiscalYearLoadsFromTheFolder(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("inspection-2027.json"), next(GOOD_ITEM));
        Frameworks f = new Frameworks(dir).load();
        assertEquals(List.of(), f.refusals());
        assertEquals("2027", f.newest("onsite-inspection").orElseThrow().version());
        assertEquals(List.of("2026"), f.earlier("onsite-inspection", "2027").stream().map(Framework::version).toList());
        // a UTF-8 byte order mark (Notepad, Excel) is fine
        byte[] body = next(GOOD_ITEM).getBytes(StandardCharsets.UTF_8);
        byte[] bom = new byte[body.length + 3];
        bom[0] = (byte) 0xEF;
        bom[1] = (byte) 0xBB;
        bom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, bom, 3, body.length);
        Files.write(dir.resolve("inspection-2027.json"), bom);
        assertEquals(List.of(), f.reload());
    }

    private static FrameworkLoader.Refusal refusedAlone(Path dir, String name, byte[] content) throws Exception {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.write(dir.resolve(name), content);
        Frameworks f = new Frameworks(dir).load();
        assertEquals(1, f.refusals().size(), f.refusals()::toString);
        assertTrue(f.find("onsite-inspection", "2026").isPresent(), "the seeds stay");
        assertFalse(f.find("onsite-inspection", "2027").isPresent(), "nothing of a refused file is used");
        FrameworkLoader.Refusal r = f.refusals().get(0);
        assertEquals(name, r.file());
        assertTrue(r.reason().contains(" / "), "Japanese first, then English: " + r);
        return r;
    }

    @Test
    void eachKindOfBadFileIsRefusedWithFileLineAndReason(@TempDir Path dir) throws Exception {
        byte[] unknown = next(GOOD_ITEM.replace("\"party\": \"共同\"", "\"party\": \"共同\", \"owner\": \"x\""))
                .getBytes(StandardCharsets.UTF_8);
        FrameworkLoader.Refusal r = refusedAlone(dir, "a.json", unknown);
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("知らない項目名です（owner）"), r::toString);

        r = refusedAlone(dir, "b.json", next(GOOD_ITEM.replace("new-1", "p1-k-4-2")).getBytes(StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("項目の id が重複しています（p1-k-4-2）"), r::toString);

        r = refusedAlone(dir, "c.json", next(GOOD_ITEM.replace("ACCT-2", "ACCT-999")).getBytes(StandardCharsets.UTF_8));
        assertEquals(6, r.line(), r::toString);
        assertTrue(r.reason().startsWith("要件カタログにない要件 ID です（ACCT-999）"), r::toString);

        r = refusedAlone(dir, "d.json", next(GOOD_ITEM.replace("p1-k-5-1", "nothing-here")).getBytes(
                StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("replaces の項目 nothing-here が以前の版にありません"), r::toString);

        r = refusedAlone(dir, "e.json", next(GOOD_ITEM.replace("\"party\": \"共同\"", "\"party\": \"ベンダー\""))
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("担当 party は 医療機関・事業者・共同 のいずれかです"), r::toString);

        r = refusedAlone(dir, "f.json", next(GOOD_ITEM).getBytes(Charset.forName("Shift_JIS")));
        assertEquals(2, r.line(), "the first line with a non-UTF-8 byte: " + r);
        assertTrue(r.reason().startsWith("UTF-8 ではない文字があります"), r::toString);

        r = refusedAlone(dir, "g.json", next(GOOD_ITEM).getBytes(StandardCharsets.UTF_16));
        assertTrue(r.reason().startsWith("文字コードが UTF-16 です"), r::toString);

        r = refusedAlone(dir, "h.json", next(GOOD_ITEM.replace("\"number\": \"1\"", "\"number\": \"1\", \"number\": \"2\""))
                .getBytes(StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("同じ項目名が二度あります（number）"), r::toString);

        byte[] huge = new byte[FrameworkLoader.MAX_BYTES + 10];
        java.util.Arrays.fill(huge, (byte) ' ');
        r = refusedAlone(dir, "i.json", huge);
        assertTrue(r.reason().startsWith("ファイルが大きすぎます"), r::toString);

        r = refusedAlone(dir, "j.json", "{\"format\": 1, ".getBytes(StandardCharsets.UTF_8));
        assertTrue(r.reason().startsWith("JSON として読めません"), r::toString);

        r = refusedAlone(dir, "k.json", next(GOOD_ITEM.replace("\"party\": \"共同\"",
                "\"party\": \"共同\", \"textEn\": 7")).getBytes(StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("textEn は文字列です"), r::toString);

        r = refusedAlone(dir, "l.json", next(GOOD_ITEM.replace("\"party\": \"共同\"",
                "\"party\": \"共同\", \"textJa\": \"x\"")).getBytes(StandardCharsets.UTF_8));
        assertEquals(7, r.line(), r::toString);
        assertTrue(r.reason().startsWith("知らない項目名です（textJa）"), r::toString);
    }

    @Test
    void anItemMayCarryItsEnglishTitleAndText(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("inspection-2027.json"), next(GOOD_ITEM.replace("\"party\": \"共同\"",
                "\"party\": \"共同\", \"titleEn\": \"Contact chart\", \"textEn\": \"Is there a contact chart?\"")));
        Frameworks f = new Frameworks(dir).load();
        assertEquals(List.of(), f.refusals());
        Framework.Item it = f.find("onsite-inspection", "2027").orElseThrow().item("new-1").orElseThrow();
        assertEquals("連絡体制図", it.title(false));
        assertEquals("Contact chart", it.title(true));
        assertEquals("連絡体制図があるか。", it.text(false));
        assertEquals("Is there a contact chart?", it.text(true));
    }

    @Test
    void aFileBrokenByAnEditKeepsTheVersionLoadedBefore(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("inspection-2027.json");
        Files.writeString(file, next(GOOD_ITEM));
        Frameworks f = new Frameworks(dir).load();
        Framework before = f.find("onsite-inspection", "2027").orElseThrow();
        Files.writeString(file, next(GOOD_ITEM.replace("ACCT-2", "NOPE-1")));
        List<FrameworkLoader.Refusal> refused = f.reload();
        assertEquals(1, refused.size());
        assertEquals("inspection-2027.json", refused.get(0).file());
        assertEquals(before, f.find("onsite-inspection", "2027").orElseThrow(), "the previous version stays in force");
        jp.mamori.ops.HealthCheck.Result health = f.health().check();
        assertEquals(jp.mamori.ops.HealthCheck.Status.DEGRADED, health.status(), "a refusal is amber: " + health);
        assertTrue(health.summary().contains("inspection-2027.json:6"), health::summary);
        // the same version twice: the second file is refused, the first stays
        Files.writeString(file, next(GOOD_ITEM));
        Files.writeString(dir.resolve("z-copy.json"), next(GOOD_ITEM));
        refused = f.reload();
        assertEquals(1, refused.size());
        assertEquals("z-copy.json", refused.get(0).file());
        assertTrue(refused.get(0).reason().startsWith("同じ版がすでに読み込まれています"), refused::toString);
    }
}
