package jp.mamori.chart;

import jp.mamori.chart.JpDates.Lang;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Printouts as PDF (STORE-1 見読性 on paper): a progress note version and a chart summary, A4 portrait, in
 * Japanese with the font embedded. Every page carries the institution's name, the patient (name and ID), page N / M,
 * who printed it and when (with the zone), and the document reference, version and whole SHA-256, each line kept
 * inside the paper, so a paper copy can be traced to the exact stored version. Line breaks the writer typed are
 * kept, an empty section or list says 登録なし, a table row is never split across pages (unless taller than a page),
 * and codes are printed as Japanese words.
 *
 * <p>Rendering only: the caller MUST have checked that the person may read what is printed and MUST record the
 * print as an audited action; nothing here reads the store.
 */
public final class ChartPdf {
    /**
     * Who printed, when, how times are shown, and the institution whose name heads every page ({@code serve
     * --institution-name}; the server passes its host name when none is set, as the seal does); null: none printed.
     */
    public record Printing(String printedBy, Instant printedAt, JpDates dates, String institution) {
        public Printing {
            Objects.requireNonNull(printedBy, "printedBy");
            Objects.requireNonNull(printedAt, "printedAt");
            Objects.requireNonNull(dates, "dates");
        }

        public Printing(String printedBy, Instant printedAt, JpDates dates) {
            this(printedBy, printedAt, dates, null);
        }
    }

    /** The patient as the page header names them. {@code sex} as shown (男 / 女 / その他); any field may be null. */
    public record Patient(String name, String kana, String patientId, String sex, LocalDate birthDate) {
    }

    /**
     * What a printed page is a copy of: a reference such as {@code Composition/abc}, its version, and the
     * stored version's SHA-256 (hex). For a chart summary, see {@link #fingerprint}.
     */
    public record Trace(String reference, String version, String sha256) {
        public Trace {
            Objects.requireNonNull(reference, "reference");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(sha256, "sha256");
        }
    }

    /**
     * One version of a progress note. {@code status} is the Composition status code (preliminary, final, amended,
     * entered-in-error); {@code reason} the reason recorded with this version, if any.
     */
    public record NoteVersion(Trace trace, String title, String status, String author, Instant date,
                              Instant recordedAt, String recordedBy, String department, String reason,
                              String subjective, String objective, String assessment, String plan) {
    }

    public record Problem(String name, String onset, String status) {
    }

    public record Allergy(String substance, String reaction, String criticality) {
    }

    public record Medication(String name, String dosage, String period, String status) {
    }

    /** One result: the value as written (with its flag, e.g. H or L) and the reference range as text. */
    public record Result(Instant time, String value, String flag, String range) {
    }

    /** Results of one test, newest first as the caller orders them. */
    public record ResultTable(String name, String unit, List<Result> results) {
    }

    /** One note of the summary's list; {@code version} its version number as stored. */
    public record NoteEntry(Instant date, String title, String author, String status, String version) {
    }

    /** A chart summary; {@code alerts} are printed in the banner (allergies, infections, sensitivity markers). */
    public record ChartSummary(Trace trace, List<String> alerts, List<Problem> problems, List<Allergy> allergies,
                               List<Medication> medications, List<ResultTable> results, List<NoteEntry> notes) {
    }

    private ChartPdf() {
    }

    /** The note version as a PDF. */
    public static byte[] note(Patient patient, NoteVersion note, Printing printing) {
        return render(patient, note.trace(), note.title() == null ? "経過記録" : note.title(), printing, l -> {
            JpDates d = printing.dates();
            l.heading(nz(note.title(), "経過記録 (Progress note)"), 15);
            List<List<String>> meta = new ArrayList<>();
            meta.add(List.of("状態 Status", statusLabel(note.status())));
            meta.add(List.of("記載者 Author", nz(note.author(), "")));
            if (note.date() != null) {
                meta.add(List.of("記載日時 Date", d.dateTimeWithZone(note.date(), Lang.JA)));
            }
            if (note.department() != null) {
                meta.add(List.of("診療科 Department", note.department()));
            }
            if (note.recordedAt() != null) {
                meta.add(List.of("この版の保存 Stored", d.dateTimeWithZone(note.recordedAt(), Lang.JA)
                        + (note.recordedBy() == null ? "" : "  " + note.recordedBy())));
            }
            if (note.reason() != null && !note.reason().isBlank()) {
                meta.add(List.of("変更理由 Reason", note.reason()));
            }
            meta.add(List.of("版 Version", note.trace().reference() + " 版 " + note.trace().version()));
            meta.add(List.of("SHA-256", note.trace().sha256()));
            l.table(new float[]{0.25f, 0.75f}, List.of("項目", "内容"), meta, 9);
            l.space(6);
            section(l, "S 主観的情報 (Subjective)", note.subjective());
            section(l, "O 客観的情報 (Objective)", note.objective());
            section(l, "A 評価 (Assessment)", note.assessment());
            section(l, "P 計画 (Plan)", note.plan());
        });
    }

    /** The chart summary as a PDF. */
    public static byte[] summary(Patient patient, ChartSummary s, Printing printing) {
        return render(patient, s.trace(), "診療録要約 (Chart summary)", printing, l -> {
            l.heading("診療録要約 (Chart summary)", 15);
            summaryBody(l, s, printing);
        });
    }

    /** A passage of a disclosed record printed in full: its heading (date, title, author) and its text. */
    public record Passage(String heading, String text) {
    }

    /**
     * The patient's own copy (開示, issue 23): the chart contents the institution decided to disclose, as the summary
     * prints them, after {@code preface} (what was asked, the period, what was withheld and why), followed by the
     * full text of the disclosed notes and documents.
     */
    public static byte[] disclosure(Patient patient, ChartSummary s, List<String> preface, List<Passage> passages,
                                    Printing printing) {
        return render(patient, s.trace(), "診療情報の開示 (Disclosure of medical records)", printing, l -> {
            l.heading("診療情報の開示 (Disclosure of medical records)", 15);
            for (String line : preface) {
                l.paragraph(line, PdfLayout.BODY, 0);
            }
            l.space(6);
            summaryBody(l, s, printing);
            if (!passages.isEmpty()) {
                l.heading("記録の本文 (Notes and documents in full)", 12);
                for (Passage p : passages) {
                    l.heading(nz(p.heading(), ""), 10);
                    l.paragraph(p.text() == null || p.text().isBlank() ? PdfLayout.NONE : p.text(), PdfLayout.BODY, 6);
                    l.space(4);
                }
            }
        });
    }

    private static void summaryBody(PdfLayout l, ChartSummary s, Printing printing) {
        JpDates d = printing.dates();
        if (!s.alerts().isEmpty()) {
            l.paragraph("注意 Alerts: " + String.join(" / ", s.alerts()), 10, 0);
            l.space(4);
        }
        l.heading("問題リスト (Problems)", 12);
        l.table(new float[]{0.6f, 0.2f, 0.2f}, List.of("病名", "発症", "状態"),
                s.problems().stream().map(p -> List.of(nz(p.name(), ""), nz(p.onset(), ""), nz(p.status(), "")))
                        .toList(), 9);
        l.heading("アレルギー (Allergies)", 12);
        l.table(new float[]{0.4f, 0.4f, 0.2f}, List.of("物質", "反応", "重篤度"),
                s.allergies().stream().map(a -> List.of(nz(a.substance(), ""), nz(a.reaction(), ""),
                        nz(a.criticality(), ""))).toList(), 9);
        l.heading("処方 (Medications)", 12);
        l.table(new float[]{0.35f, 0.35f, 0.18f, 0.12f}, List.of("薬剤", "用法・用量", "期間", "状態"),
                s.medications().stream().map(m -> List.of(nz(m.name(), ""), nz(m.dosage(), ""),
                        nz(m.period(), ""), nz(m.status(), ""))).toList(), 9);
        l.heading("検査結果 (Results)", 12);
        if (s.results().isEmpty()) {
            l.table(new float[]{1f}, List.of(), List.of(), 9);
        }
        for (ResultTable t : s.results()) {
            l.paragraph(t.name() + (t.unit() == null || t.unit().isBlank() ? "" : " (" + t.unit() + ")"), 10, 0);
            l.table(new float[]{0.35f, 0.2f, 0.1f, 0.35f}, List.of("日時", "値", "判定", "基準範囲"),
                    t.results().stream().map(r -> List.of(d.dateTime(r.time(), Lang.JA), nz(r.value(), ""),
                            nz(r.flag(), ""), nz(r.range(), ""))).toList(), 9);
        }
        l.heading("記録 (Notes)", 12);
        l.table(new float[]{0.22f, 0.42f, 0.2f, 0.1f, 0.06f}, List.of("日時", "表題", "記載者", "状態", "版"),
                s.notes().stream().map(n -> List.of(n.date() == null ? "" : d.dateTime(n.date(), Lang.JA),
                        nz(n.title(), ""), nz(n.author(), ""), statusLabel(n.status()), nz(n.version(), "")))
                        .toList(), 9);
    }

    /**
     * A SHA-256 over the stored versions a summary shows ({@code Type/id/_history/version} plus each version's
     * hash, one per entry): the same set of versions gives the same fingerprint in any order, so a printed
     * summary can be matched to what the store held when it was printed.
     */
    public static String fingerprint(Collection<String> versionKeys) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            versionKeys.stream().sorted().forEach(k -> md.update((k + "\n").getBytes(StandardCharsets.UTF_8)));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The Composition status as printed: a Japanese word (a person reads the paper, not the code). */
    public static String statusLabel(String status) {
        if (status == null) {
            return "";
        }
        return switch (status) {
            case "preliminary" -> "下書き";
            case "final" -> "確定";
            case "amended" -> "修正済";
            case "entered-in-error" -> "記載誤り";
            default -> status;
        };
    }

    /** AllergyIntolerance.criticality as printed. */
    public static String criticalityLabel(String code) {
        if (code == null) {
            return "";
        }
        return switch (code) {
            case "low" -> "低";
            case "high" -> "高";
            case "unable-to-assess" -> "評価不能";
            default -> code;
        };
    }

    /** MedicationRequest.status as printed. */
    public static String medicationStatusLabel(String code) {
        if (code == null) {
            return "";
        }
        return switch (code) {
            case "active" -> "処方中";
            case "on-hold" -> "休止中";
            case "cancelled" -> "取消";
            case "completed" -> "終了";
            case "entered-in-error" -> "記載誤り";
            case "stopped" -> "中止";
            case "draft" -> "下書き";
            case "unknown" -> "不明";
            default -> code;
        };
    }

    private interface Body {
        void write(PdfLayout layout);
    }

    private static void section(PdfLayout l, String title, String text) {
        l.heading(title, 11);
        l.paragraph(text == null || text.isBlank() ? PdfLayout.NONE : text, PdfLayout.BODY, 6);
        l.space(6);
    }

    private static byte[] render(Patient patient, Trace trace, String title, Printing printing, Body body) {
        try (PDDocument doc = new PDDocument(); PdfFont font = PdfFont.load(doc)) {
            PdfLayout layout = new PdfLayout(doc, font);
            body.write(layout);
            layout.finish();
            decorate(layout, patient, trace, title.replaceAll(" \\(.*\\)$", ""), printing);
            return PdfLayout.save(doc, title, trace.reference() + " version " + trace.version() + " sha256 "
                    + trace.sha256(), printing.printedAt(), printing.dates().zone());
        } catch (IOException e) {
            throw new UncheckedIOException("the PDF could not be written", e);
        }
    }

    /**
     * Header and footer on every page, drawn last, when the page count is known: the institution and the document's
     * title, the patient; who printed and when with the page number, the document reference and version, and the
     * whole SHA-256 on a line of its own. Each line is fitted to the width of the paper (smaller type, never cut off).
     */
    private static void decorate(PdfLayout l, Patient p, Trace trace, String title, Printing printing) {
        JpDates d = printing.dates();
        int total = l.pages.size();
        String who = nz(p.name(), "") + (p.kana() == null ? "" : "（" + p.kana() + "）");
        StringBuilder banner = new StringBuilder("患者 ").append(who).append("   患者ID ").append(nz(p.patientId(), "-"));
        if (p.birthDate() != null) {
            banner.append("   生年月日 ").append(d.date(p.birthDate(), Lang.JA)).append(" (")
                    .append(JpDates.ageText(p.birthDate(), d.localDate(printing.printedAt()), Lang.JA)).append(")");
        }
        if (p.sex() != null) {
            banner.append("   ").append(p.sex());
        }
        String institution = printing.institution() == null ? "" : printing.institution();
        String traceLine = "文書 " + trace.reference() + "   版 " + trace.version();
        String hashLine = "SHA-256 " + trace.sha256();
        String printed = "印刷者 " + printing.printedBy() + "   印刷日時 " + d.dateTimeWithZone(printing.printedAt(), Lang.JA);
        float left = PdfLayout.MARGIN_X;
        float right = PdfLayout.A4.getWidth() - PdfLayout.MARGIN_X;
        float full = right - left;
        float top = PdfLayout.A4.getHeight();
        for (int i = 0; i < total; i++) {
            PDPage page = l.pages.get(i);
            String pageNo = (i + 1) + " / " + total;
            l.decorate(page, () -> {
                float titleWidth = l.drawFittedRight(right, top - 26, 9, full * 0.4f, title);
                l.drawFitted(left, top - 26, 9, full - titleWidth - 12, institution, true);
                l.drawFitted(left, top - 42, 9, full, banner.toString(), false);
                l.line(left, top - 48, right, 0.6f);
                l.line(left, 56, right, 0.4f);
                float pageWidth = l.font.width(pageNo, 9);
                l.drawFitted(left, 46, 7.5f, full - pageWidth - 12, printed, false);
                l.draw(right - pageWidth, 46, 9, pageNo, false);
                l.drawFitted(left, 36, 7, full, traceLine, false);
                l.drawFitted(left, 26, 7, full, hashLine, false);
            });
        }
    }

    private static String nz(String s, String otherwise) {
        return s == null ? otherwise : s;
    }
}
