package jp.mamori.chart;

import org.apache.pdfbox.pdmodel.PDDocument;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * A report on paper (STORE-1 見読性): the institution's name and the report's title on every page, a few lines that
 * say what the report is about, one table (its header repeated on each page), and on every page who printed it,
 * when (with the zone named) and "page N / M". Set in the project's own font, embedded as a subset, so it reads the
 * same on any machine. The audit reports (a patient's access history for a disclosure request, a person's activity,
 * break-glass) print through it; it knows nothing of them.
 */
public final class ReportPdf {
    private ReportPdf() {
    }

    /**
     * What to print.
     *
     * @param institution the institution's name, on every page
     * @param about       lines under the title (the patient, the period, the filters)
     * @param widths      the columns' shares of the text width (summing to 1)
     * @param empty       what the page says when there are no rows
     * @param note        a line after the table (e.g. that the list was cut short), or null
     * @param footer      a line above the printer on every page (e.g. where the report comes from), or null
     */
    public record Report(String institution, String title, List<String> about, List<String> header, float[] widths,
                         List<List<String>> rows, String empty, String note, String footer) {
        public Report {
            if (header.size() != widths.length) {
                throw new IllegalArgumentException("one width per column");
            }
            about = List.copyOf(about);
            header = List.copyOf(header);
            rows = List.copyOf(rows);
        }
    }

    /** The report as a PDF. */
    public static byte[] render(Report r, String printedBy, Instant printedAt, JpDates dates) {
        try (PDDocument doc = new PDDocument(); PdfFont font = PdfFont.load(doc)) {
            PdfLayout l = new PdfLayout(doc, font);
            l.heading(r.title(), 14);
            for (String line : r.about()) {
                l.paragraph(line, PdfLayout.BODY, 0);
            }
            l.space(8);
            if (r.rows().isEmpty()) {
                l.paragraph(r.empty(), PdfLayout.BODY, 0);
            } else {
                l.table(r.widths(), r.header(), r.rows(), 8.5f);
            }
            if (r.note() != null && !r.note().isBlank()) {
                l.space(4);
                l.paragraph(r.note(), PdfLayout.BODY, 0);
            }
            l.finish();
            l.frame(r.institution() + "　" + r.title(), java.util.Arrays.asList(r.footer(), "印刷者 " + printedBy
                    + "   印刷日時 " + dates.dateTimeWithZone(printedAt, JpDates.Lang.JA)));
            return PdfLayout.save(doc, r.title(), null, printedAt, dates.zone());
        } catch (IOException e) {
            throw new UncheckedIOException("the PDF could not be written", e);
        }
    }
}
