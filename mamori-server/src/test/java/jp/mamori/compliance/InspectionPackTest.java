package jp.mamori.compliance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inspection pack's content (issue 20 "Outputs"; GOV-5, GOV-6), without a server: the seeded on-site inspection
 * checklist with a few answers, a failing and a passing probe, one register and one deviation. The PDF's extracted
 * text holds the items as written, the answers, dates, target dates, reviewers, evidence lines, the register and the
 * deviation in Japanese; the CSV is Excel's UTF-8 with quoted cells and no formula; the OSCAL export has the shape
 * of assessment results. Page 1 and 2 are rendered to target/screenshots/ to be looked at.
 */
class InspectionPackTest {
    static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    static final Instant AT = Instant.parse("2026-12-07T01:30:00Z"); // 10:30 in Japan
    static Framework fw;
    static InspectionPack pack;

    static Answers.Current answer(String item, Answers.Answer a, LocalDate checked, LocalDate target, String note) {
        return new Answers.Current(new Answers.Entry(1, "onsite-inspection", "2026", item, a, checked, target, note,
                "管理 花子", AT.minusSeconds(3600)), null);
    }

    @BeforeAll
    static void make() {
        fw = new Frameworks(null).load().find("onsite-inspection", "2026").orElseThrow();
        Map<String, Answers.Current> answers = new HashMap<>();
        answers.put("p1-k-4-2", answer("p1-k-4-2", Answers.Answer.NO, LocalDate.of(2026, 5, 1),
                LocalDate.of(2026, 9, 30), "=HYPERLINK(\"http://evil\",\"x\")"));
        answers.put("p1-k-2", answer("p1-k-2", Answers.Answer.YES, LocalDate.of(2026, 6, 2), null, "体制図を確認"));
        answers.put("p2-k-7", answer("p2-k-7", Answers.Answer.PARTIAL, LocalDate.of(2026, 6, 3),
                LocalDate.of(2027, 1, 31), null));
        EvidenceSource source = id -> switch (id) {
            case "ACCT-2" -> List.of(new Evidence("identity.account-sweep", Evidence.Status.FAIL,
                    "退職者のアカウントが 2 件残っています / 2 leavers' accounts remain", "/console/admin/accounts",
                    AT.minusSeconds(600)));
            case "BACKUP-6" -> List.of(new Evidence("backup.health", Evidence.Status.PASS,
                    "最新のバックアップは検証済みです / the newest backup is verified", "/console/admin/backups",
                    AT.minusSeconds(300)));
            case "MAL-3" -> throw new IllegalStateException("a broken source gives no evidence");
            default -> List.of();
        };
        PackSection contacts = new PackSection("連絡体制図", List.of("連絡先", "担当", "電話"),
                List.of(List.of("保守事業者", "山田 一郎", "03-0000-0000"), List.of("都道府県の窓口", "医療政策課", "")),
                "最終見直し 2026年11月1日");
        pack = InspectionPack.of(fw, answers, source, List.of(contacts),
                List.of("no institution seal (--seal-pkcs12 or --seal-pkcs11): printouts are not sealed"),
                "まもり病院", "管理 花子（kanri.hanako）", AT, JST);
    }

    @Test
    void thePdfReadsAsTheInspectorReadsTheChecklist() throws Exception {
        byte[] pdf = pack.pdf();
        try (PDDocument d = Loader.loadPDF(pdf)) {
            assertTrue(d.getNumberOfPages() >= 3, "cover, items, registers: " + d.getNumberOfPages());
            String raw = new PDFTextStripper().getText(d);
            String text = raw.replaceAll("[\\s\\u3000]+", "");
            assertTrue(text.contains("安全管理の点検資料（立入検査用）") && text.contains("まもり病院")
                    && text.contains("令和8年度") && text.contains("作成者：管理花子（kanri.hanako）")
                    && text.contains("2026年12月7日10:30"), "the cover: " + text);
            // every item, quoted as the framework has it
            for (Framework.Item it : fw.items()) {
                assertTrue(text.contains(it.text().replaceAll("\\s+", "")), "item " + it.number() + ": " + text);
            }
            assertTrue(text.contains("回答：いいえ確認日：2026年5月1日対応予定日：2026年9月30日確認者：管理花子"), text);
            assertTrue(text.contains("回答：はい確認日：2026年6月2日確認者：管理花子"), text);
            assertTrue(text.contains("回答：一部") && text.contains("回答：未回答"), text);
            assertTrue(text.contains("責任主体：医療機関") && text.contains("責任主体：共同（医療機関と事業者）"), text);
            assertTrue(text.contains("不適合：退職者のアカウントが2件残っています") && text.contains("適合：最新のバックアップは検証済みです")
                    && text.contains("2026年12月7日10:20時点"), "evidence with status in words and time: " + text);
            assertTrue(text.contains("項目15件：はい1、いいえ1、一部1、該当なし0、未回答12"), text);
            assertTrue(text.contains("2.台帳") && text.contains("連絡体制図") && text.contains("保守事業者山田一郎")
                    && text.contains("最終見直し2026年11月1日"), "the register from the seam: " + text);
            assertTrue(text.contains("3.安全な既定値からの逸脱") && text.contains("noinstitutionseal"), text);
            assertTrue(raw.contains("1 / " + d.getNumberOfPages()), "page numbers");
            assertFalse(text.contains("p1-k-4-2"), "no internal ids where a person reads");
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            PDFRenderer r = new PDFRenderer(d);
            for (int i = 0; i < 2; i++) {
                Path png = dir.resolve("compliance-pack-page" + (i + 1) + ".png");
                ImageIO.write(r.renderImageWithDPI(i, 80), "png", png.toFile());
                assertTrue(Files.size(png) > 10_000, png.toString());
            }
        }
    }

    @Test
    void theCsvIsExcelsUtf8WithQuotedCellsAndNoFormula() {
        byte[] csv = pack.csv();
        assertEquals((byte) 0xEF, csv[0], "a BOM for Excel");
        String s = new String(csv, StandardCharsets.UTF_8).substring(1);
        String[] lines = s.split("\r\n");
        assertTrue(lines[1].startsWith("\"区分\",\"番号\",\"項目\",\"内容（原文）\",\"責任主体\",\"回答\",\"確認日\",\"対応予定日\""),
                lines[1]);
        assertTrue(s.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""), "a formula is neutralised: " + s);
        assertTrue(s.contains("\"いいえ\",\"2026年5月1日\",\"2026年9月30日\",\"管理 花子\""), s);
        assertTrue(s.contains("\"不適合：退職者のアカウントが 2 件残っています"), s);
        assertTrue(s.contains("\"台帳：連絡体制図\"") && s.contains("\"保守事業者\",\"山田 一郎\",\"03-0000-0000\""), s);
        assertTrue(s.contains("\"安全な既定値からの逸脱\""), s);
        assertTrue(s.endsWith("\r\n"));
        // every quote inside a cell doubled: the number of quotes is even
        assertEquals(0, s.chars().filter(c -> c == '"').count() % 2);
    }

    private static final Pattern UUID4 = Pattern.compile(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    private static final Pattern TS = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?[+-]\\d{2}:\\d{2}$");

    private static void uuid(JsonNode n, String where) {
        assertTrue(UUID4.matcher(n.path("uuid").asText()).matches(), where + ": " + n.path("uuid"));
    }

    private static void ts(JsonNode n, String field) {
        assertTrue(TS.matcher(n.path(field).asText()).matches(), field + ": " + n.path(field));
    }

    @Test
    void theOscalExportHasTheShapeOfAssessmentResults() throws Exception {
        JsonNode root = new ObjectMapper().readTree(pack.oscal());
        assertEquals(Set.of("assessment-results"), Set.copyOf(iter(root.fieldNames())));
        JsonNode ar = root.get("assessment-results");
        for (String k : List.of("uuid", "metadata", "import-ap", "results")) {
            assertTrue(ar.has(k), k);
        }
        uuid(ar, "document");
        JsonNode md = ar.get("metadata");
        for (String k : List.of("title", "last-modified", "version", "oscal-version")) {
            assertTrue(md.hasNonNull(k), "metadata." + k);
        }
        assertEquals("1.1.2", md.get("oscal-version").asText());
        ts(md, "last-modified");
        assertEquals("2026-12-07T10:30:00+09:00", md.get("last-modified").asText(), "Japan time with its offset");
        assertFalse(ar.get("import-ap").path("href").asText().isBlank());
        assertEquals(1, ar.get("results").size());
        JsonNode result = ar.get("results").get(0);
        uuid(result, "result");
        for (String k : List.of("title", "description", "start", "reviewed-controls")) {
            assertTrue(result.has(k), "result." + k);
        }
        ts(result, "start");
        assertTrue(result.get("reviewed-controls").get("control-selections").size() >= 1);
        JsonNode findings = result.get("findings");
        assertEquals(fw.items().size(), findings.size(), "one finding per item");
        Map<String, JsonNode> obs = new HashMap<>();
        for (JsonNode o : result.get("observations")) {
            uuid(o, "observation");
            ts(o, "collected");
            assertTrue(o.get("methods").size() >= 1 && o.hasNonNull("description"), o.toString());
            obs.put(o.get("uuid").asText(), o);
        }
        JsonNode sweep = null;
        for (JsonNode f : findings) {
            uuid(f, "finding");
            assertTrue(f.hasNonNull("title") && f.hasNonNull("description"), f.toString());
            JsonNode target = f.get("target");
            assertEquals("objective-id", target.get("type").asText());
            assertTrue(target.get("target-id").asText().matches("^[\\p{L}_][\\p{L}\\p{N}._-]*$"), target.toString());
            assertTrue(Set.of("satisfied", "not-satisfied").contains(target.get("status").get("state").asText()));
            for (JsonNode ro : f.path("related-observations")) {
                assertTrue(obs.containsKey(ro.get("observation-uuid").asText()), "a related observation exists");
            }
            if (target.get("target-id").asText().equals("p1-k-4-2")) {
                sweep = f;
            }
        }
        assertTrue(sweep != null);
        assertEquals("not-satisfied", sweep.get("target").get("status").get("state").asText());
        assertEquals(2, sweep.get("related-observations").size(), "the answer and the probe's evidence");
        boolean linked = false;
        for (JsonNode ro : sweep.get("related-observations")) {
            JsonNode o = obs.get(ro.get("observation-uuid").asText());
            if (o.get("methods").get(0).asText().equals("TEST")) {
                assertEquals("/console/admin/accounts", o.get("relevant-evidence").get(0).get("href").asText());
                assertEquals("2026-12-07T10:20:00+09:00", o.get("collected").asText());
                linked = true;
            }
        }
        assertTrue(linked, "the probe's evidence is linked with its time");
        JsonNode resources = ar.get("back-matter").get("resources");
        assertEquals(2, resources.size(), "the register and the deviations");
        for (JsonNode r : resources) {
            uuid(r, "resource");
        }
    }

    @Test
    void everySeededChecklistPrintsWithoutAnswersOrEvidence() throws Exception {
        for (Framework f : new Frameworks(null).load().all()) {
            InspectionPack p = InspectionPack.of(f, Map.of(), EvidenceSource.NONE, List.of(), List.of(), "まもり病院",
                    "管理 花子（kanri.hanako）", AT, JST);
            try (PDDocument d = Loader.loadPDF(p.pdf())) {
                String text = new PDFTextStripper().getText(d).replaceAll("[\\s\\u3000]+", "");
                Framework.Item last = f.items().get(f.items().size() - 1);
                assertTrue(text.contains(last.text().replaceAll("[\\s\\u3000]+", "")), f.id() + ": the last item");
                assertTrue(text.contains("台帳は登録されていません（登録なし）") && text.contains("安全な既定値からの逸脱はありません"),
                        f.id());
            }
            JsonNode oscal = new ObjectMapper().readTree(p.oscal());
            assertEquals(f.items().size(), oscal.at("/assessment-results/results/0/findings").size(), f.id());
            assertFalse(oscal.at("/assessment-results/results/0").has("observations"), "no empty arrays");
        }
    }

    private static <T> List<T> iter(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
