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

class ChartPdfTest {
    static final Patient PATIENT = new Patient("試験 花子", "シケン ハナコ", "0001234567", "女", LocalDate.of(1958, 4, 1));
    static final Printing PRINTING = new Printing("医師 山田一郎", Instant.parse("2026-11-23T05:05:00Z"), JpDates.tokyo());
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
                    HASH, "修正済(amended)", "検査値の転記誤りを訂正")) {
                assertTrue(t.contains(expected), "missing " + expected + " in " + t);
            }
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
