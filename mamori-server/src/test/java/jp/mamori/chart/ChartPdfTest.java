package jp.mamori.chart;

import jp.mamori.chart.ChartPdf.ChartSummary;
import jp.mamori.chart.ChartPdf.NoteVersion;
import jp.mamori.chart.ChartPdf.Patient;
import jp.mamori.chart.ChartPdf.Printing;
import jp.mamori.chart.ChartPdf.Trace;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.font.PDCIDFont;
import org.apache.pdfbox.pdmodel.font.PDFont;
import org.apache.pdfbox.pdmodel.font.PDType0Font;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ChartPdfTest {
    static final Patient PATIENT = new Patient("試験 花子", "シケン ハナコ", "0001234567", "女", LocalDate.of(1958, 4, 1));
    static final String INSTITUTION = "医療法人 守り会 守り総合病院";
    static final Printing PRINTING = new Printing("医師 山田一郎", Instant.parse("2026-11-23T05:05:00Z"), JpDates.tokyo(),
            INSTITUTION);
    static final String HASH = sha256("version 3");

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static NoteVersion note(String subjective) {
        return new NoteVersion(new Trace("Composition/note-1", "3", HASH), "内科 経過記録", "amended", "医師 鈴木健太",
                Instant.parse("2026-11-20T01:30:00Z"), Instant.parse("2026-11-21T02:00:00Z"), "医師 鈴木健太", "内科",
                "検査値の転記誤りを訂正", subjective,
                "血圧 128/76 mmHg、脈拍 72/分、体温 36.6℃。HbA1c 7.1%（前回 7.4%）。",
                "2型糖尿病：血糖コントロールは改善傾向。", "メトホルミン継続。4週後に再診、HbA1c 再検。");
    }

    /** Page text with all whitespace removed: the extractor may put spaces or breaks between CJK glyphs. */
    static String text(PDDocument doc, int from, int to) throws Exception {
        PDFTextStripper s = new PDFTextStripper();
        s.setStartPage(from);
        s.setEndPage(to);
        return s.getText(doc).replaceAll("\\s+", "");
    }

    @Test
    void aNotePrintsItsJapaneseTextAndTheTraceOnThePage() throws Exception {
        byte[] pdf = ChartPdf.note(PATIENT, note("3日前から頭痛あり。市販薬で改善せず。夜間の睡眠は良好。"), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            assertEquals(1, doc.getNumberOfPages());
            String t = text(doc, 1, 1);
            for (String expected : List.of("3日前から頭痛あり。市販薬で改善せず。夜間の睡眠は良好。", "S主観的情報",
                    "O客観的情報", "A評価", "P計画", "メトホルミン継続。4週後に再診、HbA1c再検。",
                    "試験花子", "シケンハナコ", "患者ID0001234567", "生年月日1958年4月1日(68歳)",
                    "印刷者医師山田一郎", "印刷日時2026年11月23日14:05JST", "1/1", "Composition/note-1", "版3",
                    HASH, "状態Status修正済", "検査値の転記誤りを訂正", INSTITUTION.replace(" ", ""))) {
                assertTrue(t.contains(expected), "missing " + expected + " in " + t);
            }
            assertFalse(t.contains("amended"), "the status in Japanese only: " + t);
            assertEquals("内科 経過記録", doc.getDocumentInformation().getTitle());
            assertTrue(doc.getDocumentInformation().getSubject().contains(HASH));
        }
        assertTrue(pdf.length < 300_000, "the font is embedded as a subset: " + pdf.length + " bytes");
    }

    @Test
    void onlyTheBundledFontIsUsedAndItIsEmbeddedAsASubset() throws Exception {
        byte[] pdf = ChartPdf.summary(PATIENT, summary(2), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            int fonts = 0;
            for (PDPage page : doc.getPages()) {
                for (COSName name : page.getResources().getFontNames()) {
                    PDFont f = page.getResources().getFont(name);
                    fonts++;
                    PDType0Font t0 = assertInstanceOf(f);
                    assertTrue(f.isEmbedded(), f.getName());
                    assertTrue(f.getName().matches("[A-Z]{6}\\+BIZUDPGothic.*"), f.getName());
                    PDCIDFont cid = t0.getDescendantFont();
                    assertNotNull(cid.getFontDescriptor().getFontFile2(), "TrueType program embedded");
                }
            }
            assertTrue(fonts > 0);
        }
    }

    private static PDType0Font assertInstanceOf(PDFont f) {
        assertTrue(f instanceof PDType0Font, "not a Type0 font: " + f.getClass() + " " + f.getName());
        return (PDType0Font) f;
    }

    @Test
    void aTwentyPageChartNumbersEveryPageAndRepeatsTheTrace() throws Exception {
        ChartSummary s = summary(20);
        byte[] pdf = ChartPdf.summary(PATIENT, s, PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            int n = doc.getNumberOfPages();
            assertTrue(n >= 20, n + " pages");
            for (int i = 1; i <= n; i++) {
                String t = text(doc, i, i);
                assertTrue(t.contains(i + "/" + n), "page " + i + ": " + t.substring(Math.max(0, t.length() - 200)));
                assertTrue(t.contains(s.trace().sha256()), "page " + i + " carries the fingerprint");
                assertTrue(t.contains("患者ID0001234567"), "page " + i + " names the patient");
                assertTrue(t.contains("印刷者医師山田一郎"), "page " + i + " names who printed it");
                assertTrue(t.contains(INSTITUTION.replace(" ", "")), "page " + i + " names the institution");
            }
            String all = text(doc, 1, n);
            assertTrue(all.contains("注意Alerts:ペニシリン系薬剤アレルギー"), all.substring(0, 300));
            assertTrue(all.contains("HbA1c(%)"));
            assertTrue(all.contains("2型糖尿病"));
        }
    }

    @Test
    void charactersTheFontLacksAreReplacedNotFatal() throws Exception {
        int emoji = "😀".codePointAt(0);
        int plane16 = 0x10FFFD;
        try (PDDocument d = new PDDocument(); PdfFont f = PdfFont.load(d)) {
            assertFalse(f.has(emoji) && f.has(plane16), "the test needs a character the font lacks");
            assertTrue(f.has(PdfFont.MISSING));
        }
        byte[] pdf = ChartPdf.note(PATIENT, note("患者は😀と言った。\u0007制御文字\uDBFF\uDFFDも含む\uD800。"), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            String t = text(doc, 1, 1);
            assertTrue(t.contains("患者は〓と言った。制御文字〓も含む〓。"), t);
        }
    }

    @Test
    void longJapaneseTextWrapsWithinTheMarginsAndContinuesOnTheNextPage() throws Exception {
        String para = "経過良好であり、前回処方を継続する。".repeat(300);
        byte[] pdf = ChartPdf.note(PATIENT, note(para), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            assertTrue(doc.getNumberOfPages() >= 3, doc.getNumberOfPages() + " pages");
            StringBuilder body = new StringBuilder();
            for (PDPage page : doc.getPages()) { // the body region only: between the page header and footer
                org.apache.pdfbox.text.PDFTextStripperByArea area = new org.apache.pdfbox.text.PDFTextStripperByArea();
                area.setSortByPosition(true);
                float h = page.getMediaBox().getHeight();
                area.addRegion("body", new java.awt.geom.Rectangle2D.Float(0, 60, page.getMediaBox().getWidth(), h - 60 - 50));
                area.extractRegions(page);
                body.append(area.getTextForRegion("body").replaceAll("\\s+", ""));
            }
            String all = body.toString();
            assertEquals(300, all.split("経過良好であり、前回処方を継続する。", -1).length - 1, all.length() + " chars");
        }
    }

    /** Every glyph of every page with its page number (1-based), as PDFBox places it. */
    record Glyph(int page, String text, float x, float y, float width, float height) {
    }

    static List<Glyph> glyphs(PDDocument doc) throws Exception {
        List<Glyph> out = new ArrayList<>();
        PDFTextStripper s = new PDFTextStripper() {
            @Override
            protected void writeString(String text, List<org.apache.pdfbox.text.TextPosition> positions) {
                for (org.apache.pdfbox.text.TextPosition p : positions) {
                    out.add(new Glyph(getCurrentPageNo(), p.getUnicode(), p.getXDirAdj(), p.getYDirAdj(),
                            p.getWidthDirAdj(), p.getHeightDir()));
                }
            }
        };
        s.setSortByPosition(true);
        s.getText(doc);
        return out;
    }

    /** Lines as a person reads them: sorted by position, spaces inside a line dropped, empty lines kept. */
    static List<String> lines(PDDocument doc, int page) throws Exception {
        PDFTextStripper s = new PDFTextStripper();
        s.setSortByPosition(true);
        s.setStartPage(page);
        s.setEndPage(page);
        return List.of(s.getText(doc).replaceAll("[ \\t\u3000]+", "").split("\\R"));
    }

    @Test
    void everyCharacterOfTheHeaderAndFooterIsInsideThePage() throws Exception {
        // A long reference (a UUID) and a long name: the trace line with the whole SHA-256 used to run off the page.
        String uuid = "3f2b8c1e-9a7d-4e65-b0c4-5d1e2f3a4b5c";
        NoteVersion n = new NoteVersion(new Trace("Composition/" + uuid, "12", HASH), "内科 経過記録", "final",
                "医師 鈴木健太", Instant.parse("2026-11-20T01:30:00Z"), null, null, "内科", null, "頭痛。", "", "", "");
        Patient longName = new Patient("長谷川部 左衛門之介太郎兵衛", "ハセガワベ サエモンノスケタロウベエ", "0001234567890", "男",
                LocalDate.of(1930, 1, 31));
        Printing printing = new Printing("看護師 長谷川部 左衛門之介太郎兵衛 (hasegawabe.saemonnosuke.taroubee)",
                PRINTING.printedAt(), JpDates.tokyo(), "社会医療法人財団 守り会 守り総合医療センター附属第二病院");
        for (byte[] pdf : List.of(ChartPdf.note(longName, n, printing), ChartPdf.summary(longName, summary(3), printing))) {
            try (PDDocument doc = Loader.loadPDF(pdf)) {
                float w = doc.getPage(0).getMediaBox().getWidth();
                float h = doc.getPage(0).getMediaBox().getHeight();
                List<Glyph> all = glyphs(doc);
                assertFalse(all.isEmpty());
                for (Glyph g : all) {
                    assertTrue(g.x() >= 20 && g.x() + g.width() <= w - 20 && g.y() >= 20 && g.y() <= h - 14,
                            "inside the printable area of the page (20 pt margins): " + g);
                }
                for (int i = 1; i <= doc.getNumberOfPages(); i++) {
                    String t = text(doc, i, i);
                    String hash = pdf.length > 0 && t.contains(HASH) ? HASH : null;
                    assertTrue(hash != null || t.contains(summary(3).trace().sha256()), "page " + i
                            + " carries the whole hash: " + t);
                    assertTrue(t.contains("社会医療法人財団守り会守り総合医療センター附属第二病院"), "page " + i + ": " + t);
                }
            }
        }
    }

    @Test
    void lineBreaksInASoapSectionArePrintedAsTyped() throws Exception {
        byte[] pdf = ChartPdf.note(PATIENT, note("頭痛あり。\n市販薬で改善せず。\n\n夜間の睡眠は良好。"), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            List<String> lines = lines(doc, 1).stream().filter(l -> !l.isEmpty()).toList();
            int i = lines.indexOf("頭痛あり。");
            assertTrue(i >= 0, "the first line stands alone: " + lines);
            assertEquals("市販薬で改善せず。", lines.get(i + 1), lines.toString());
            assertEquals("夜間の睡眠は良好。", lines.get(i + 2), lines.toString());
            List<Glyph> g = glyphs(doc);
            float first = g.stream().filter(x -> x.text().equals("頭")).findFirst().orElseThrow().y();
            float second = g.stream().filter(x -> x.text().equals("市")).findFirst().orElseThrow().y();
            float third = g.stream().filter(x -> x.text().equals("夜")).findFirst().orElseThrow().y();
            assertTrue(second - first > 8 && third - second > 1.5f * (second - first),
                    "one line down, then an empty line: " + first + ", " + second + ", " + third);
        }
    }

    @Test
    void emptySectionsAndEmptyListsSay登録なし() throws Exception {
        NoteVersion n = new NoteVersion(new Trace("Composition/note-1", "1", HASH), "経過記録", "preliminary",
                "医師 鈴木健太", Instant.parse("2026-11-20T01:30:00Z"), null, null, null, null, "咽頭痛。", "", "  ", null);
        try (PDDocument doc = Loader.loadPDF(ChartPdf.note(PATIENT, n, PRINTING))) {
            String t = text(doc, 1, doc.getNumberOfPages());
            assertTrue(t.contains("O客観的情報(Objective)登録なしA評価(Assessment)登録なしP計画(Plan)登録なし"), t);
            assertTrue(t.contains("状態Status下書き"), t);
            assertFalse(t.contains("preliminary") || t.contains("記載なし"), t);
        }
        ChartSummary empty = new ChartSummary(new Trace("Patient/p1 要約", "1", HASH), List.of(), List.of(), List.of(),
                List.of(), List.of(), List.of());
        try (PDDocument doc = Loader.loadPDF(ChartPdf.summary(PATIENT, empty, PRINTING))) {
            String t = text(doc, 1, doc.getNumberOfPages());
            for (String section : List.of("問題リスト(Problems)", "アレルギー(Allergies)", "処方(Medications)",
                    "検査結果(Results)", "記録(Notes)")) {
                assertTrue(t.contains(section + "登録なし"), section + " says 登録なし: " + t);
            }
            assertFalse(t.contains("病名発症状態"), "no table header above nothing: " + t);
        }
    }

    @Test
    void aTableRowIsNeverSplitAcrossPages() throws Exception {
        List<ChartPdf.NoteEntry> notes = new ArrayList<>();
        for (int i = 10; i < 70; i++) { // each title wraps to several lines: its first and last words must share a page
            notes.add(new ChartPdf.NoteEntry(Instant.parse("2026-11-20T01:30:00Z").minusSeconds(86_400L * i),
                    "始" + i + "経過記録" + "、定期受診時の所見と方針".repeat(4) + "終" + i, "医師 鈴木健太",
                    i % 2 == 0 ? "final" : "amended", "2"));
        }
        ChartSummary s = new ChartSummary(new Trace("Patient/p1 要約", "1", HASH), List.of(), List.of(), List.of(),
                List.of(), List.of(), notes);
        try (PDDocument doc = Loader.loadPDF(ChartPdf.summary(PATIENT, s, PRINTING))) {
            assertTrue(doc.getNumberOfPages() >= 3, doc.getNumberOfPages() + " pages");
            for (int i = 10; i < 70; i++) {
                int start = -1;
                int end = -1;
                for (int p = 1; p <= doc.getNumberOfPages(); p++) {
                    String t = text(doc, p, p);
                    start = t.contains("始" + i + "経過記録") ? p : start;
                    end = t.contains("終" + i) ? p : end;
                }
                assertTrue(start > 0 && start == end, "row " + i + " begins on page " + start + " and ends on " + end);
            }
            String all = text(doc, 1, doc.getNumberOfPages());
            assertTrue(all.contains("確定") && all.contains("修正済"), all);
            assertFalse(all.contains("final") || all.contains("amended"), "status words in Japanese: " + all);
        }
    }

    @Test
    void latinTextReadsBackAsWrittenWithoutLigatures() throws Exception {
        byte[] pdf = ChartPdf.note(PATIENT, note("first visit: influenza suspected, office fluid intake fine"), PRINTING);
        try (PDDocument doc = Loader.loadPDF(pdf)) {
            assertTrue(text(doc, 1, 1).contains("firstvisit:influenzasuspected,officefluidintakefine"), text(doc, 1, 1));
        }
    }

    @Test
    void codesOfAllergiesAndMedicationsAreWords() {
        assertEquals("高", ChartPdf.criticalityLabel("high"));
        assertEquals("低", ChartPdf.criticalityLabel("low"));
        assertEquals("評価不能", ChartPdf.criticalityLabel("unable-to-assess"));
        assertEquals("", ChartPdf.criticalityLabel(null));
        assertEquals("処方中", ChartPdf.medicationStatusLabel("active"));
        assertEquals("中止", ChartPdf.medicationStatusLabel("stopped"));
        assertEquals("終了", ChartPdf.medicationStatusLabel("completed"));
        assertEquals("記載誤り", ChartPdf.medicationStatusLabel("entered-in-error"));
        assertEquals("確定", ChartPdf.statusLabel("final"));
    }

    @Test
    void popplerReadsTheWholeHashAndTheLineBreaks() throws Exception {
        Path pdftotext = Path.of("/usr/bin/pdftotext");
        String why = Files.isExecutable(pdftotext) ? null : "pdftotext (poppler-utils) is not installed";
        if (why != null && Boolean.getBoolean("mamori.requirePoppler")) {
            fail(why + " (-Dmamori.requirePoppler=true)");
        }
        Assumptions.assumeTrue(why == null, why + "; skipped");
        String uuid = "3f2b8c1e-9a7d-4e65-b0c4-5d1e2f3a4b5c";
        NoteVersion n = new NoteVersion(new Trace("Composition/" + uuid, "12", HASH), "経過記録", "final",
                "医師 鈴木健太", Instant.parse("2026-11-20T01:30:00Z"), null, null, null, null,
                "頭痛あり。\n市販薬で改善せず。", "", "", "");
        Path file = Files.createTempFile("note-", ".pdf");
        try {
            Files.write(file, ChartPdf.note(PATIENT, n, PRINTING));
            Process p = new ProcessBuilder(pdftotext.toString(), "-layout", file.toString(), "-")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor());
            assertTrue(out.contains(HASH), "poppler keeps only what is on the page; the whole hash is: " + out);
            assertTrue(out.contains(uuid), out);
            assertTrue(out.matches("(?s).*頭痛あり。\\s*\\R\\s*市販薬で改善せず。.*"), out);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void theFingerprintIsOrderIndependent() {
        assertEquals(ChartPdf.fingerprint(List.of("Observation/1/_history/2 aa", "Condition/9/_history/1 bb")),
                ChartPdf.fingerprint(List.of("Condition/9/_history/1 bb", "Observation/1/_history/2 aa")));
        assertFalse(ChartPdf.fingerprint(List.of("a")).equals(ChartPdf.fingerprint(List.of("b"))));
    }

    /** A summary long enough to fill about {@code pages} pages. */
    static ChartSummary summary(int pages) {
        List<ChartPdf.Result> rows = new ArrayList<>();
        Instant t = Instant.parse("2020-01-06T00:00:00Z");
        for (int i = 0; i < pages * 46; i++) {
            rows.add(new ChartPdf.Result(t.plusSeconds(86_400L * 7 * i), String.format("%.1f", 6 + (i % 20) / 10.0),
                    i % 20 > 2 ? "H" : "", "4.6–6.2"));
        }
        List<String> keys = List.of("Patient/p1/_history/1 " + sha256("p"), "Observation/o1/_history/1 " + sha256("o"));
        return new ChartSummary(new Trace("Patient/p1 診療録要約", "2026-11-23T14:05+09:00", ChartPdf.fingerprint(keys)),
                List.of("ペニシリン系薬剤アレルギー", "精神科記録あり"),
                List.of(new ChartPdf.Problem("2型糖尿病", "2019年4月", "継続"),
                        new ChartPdf.Problem("高血圧症", "2015年", "継続")),
                List.of(new ChartPdf.Allergy("ペニシリン系薬剤", "蕁麻疹", "高")),
                List.of(new ChartPdf.Medication("メトホルミン塩酸塩錠250mg", "1回2錠 1日2回 朝夕食後", "2024年〜", "服用中")),
                List.of(new ChartPdf.ResultTable("HbA1c", "%", rows)),
                List.of(new ChartPdf.NoteEntry(Instant.parse("2026-11-20T01:30:00Z"), "内科 経過記録", "医師 鈴木健太",
                        "final", "Composition/note-1")));
    }
}
