package jp.mamori.chart;

import java.io.PrintStream;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures printing a 20-page chart summary (issue 6: at most 2 s): the first PDF in a fresh JVM (cold: font
 * read, classes loaded) and the median of later ones (warm). Run with
 * {@code java -cp mamori-server/target/mamori-server-*-all.jar jp.mamori.chart.PdfBench} or call {@link #run}.
 */
public final class PdfBench {
    private PdfBench() {
    }

    public static void main(String[] args) {
        System.exit(run(System.out, args.length > 0 ? Integer.parseInt(args[0]) : 10));
    }

    /** Prints cold and warm timings; returns 0. */
    public static int run(PrintStream out, int warmRuns) {
        ChartPdf.Patient patient = new ChartPdf.Patient("試験 花子", "シケン ハナコ", "0001234567", "女",
                LocalDate.of(1958, 4, 1));
        ChartPdf.Printing printing = new ChartPdf.Printing("医師 山田一郎", Instant.now(), JpDates.tokyo());
        ChartPdf.ChartSummary summary = twentyPages();
        long t0 = System.nanoTime();
        byte[] first = ChartPdf.summary(patient, summary, printing);
        double cold = (System.nanoTime() - t0) / 1e6;
        List<Double> warm = new ArrayList<>();
        for (int i = 0; i < warmRuns; i++) {
            long t = System.nanoTime();
            ChartPdf.summary(patient, summary, printing);
            warm.add((System.nanoTime() - t) / 1e6);
        }
        warm.sort(Double::compare);
        int pages = countPages(first);
        out.println(String.format(Locale.ROOT, "pdf: %d pages, %d KiB; cold %.0f ms; warm median %.0f ms, max %.0f ms"
                        + " (%d runs)", pages, first.length / 1024, cold, warm.isEmpty() ? 0 : warm.get(warm.size() / 2),
                warm.isEmpty() ? 0 : warm.get(warm.size() - 1), warm.size()));
        return 0;
    }

    private static int countPages(byte[] pdf) {
        try (var doc = org.apache.pdfbox.Loader.loadPDF(pdf)) {
            return doc.getNumberOfPages();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** A realistic chart summary of about 20 pages: problems, medications, a year of weekly results, notes. */
    static ChartPdf.ChartSummary twentyPages() {
        Instant start = Instant.parse("2024-01-08T00:00:00Z");
        String[][] tests = {{"HbA1c", "%", "4.6–6.2"}, {"血糖", "mg/dL", "73–109"}, {"AST", "U/L", "13–30"},
                {"ALT", "U/L", "7–23"}, {"eGFR", "mL/min/1.73m²", "60–"}, {"クレアチニン", "mg/dL", "0.46–0.79"},
                {"Hb", "g/dL", "11.6–14.8"}, {"WBC", "×10³/μL", "3.3–8.6"}, {"CRP", "mg/dL", "0–0.14"}};
        List<ChartPdf.ResultTable> results = new ArrayList<>();
        for (String[] t : tests) {
            List<ChartPdf.Result> rows = new ArrayList<>();
            for (int i = 0; i < 72; i++) {
                rows.add(new ChartPdf.Result(start.plusSeconds(86_400L * 7 * i), Integer.toString(50 + i % 40),
                        i % 9 == 0 ? "H" : "", t[2]));
            }
            results.add(new ChartPdf.ResultTable(t[0], t[1], rows));
        }
        List<ChartPdf.NoteEntry> notes = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            notes.add(new ChartPdf.NoteEntry(start.plusSeconds(86_400L * 3 * i), "内科 経過記録 第" + (i + 1) + "回",
                    "医師 鈴木健太", i % 10 == 0 ? "amended" : "final", "Composition/n" + i));
        }
        return new ChartPdf.ChartSummary(new ChartPdf.Trace("Patient/p1 診療録要約", "2026-11-23T14:05+09:00",
                ChartPdf.fingerprint(List.of("Patient/p1/_history/1"))), List.of("ペニシリン系薬剤アレルギー"),
                List.of(new ChartPdf.Problem("2型糖尿病", "2019年4月", "継続"), new ChartPdf.Problem("高血圧症", "2015年", "継続")),
                List.of(new ChartPdf.Allergy("ペニシリン系薬剤", "蕁麻疹", "高")),
                List.of(new ChartPdf.Medication("メトホルミン塩酸塩錠250mg", "1回2錠 1日2回 朝夕食後", "2024年〜", "服用中"),
                        new ChartPdf.Medication("アムロジピン錠5mg", "1回1錠 1日1回 朝食後", "2015年〜", "服用中")),
                results, notes);
    }
}
