package jp.mamori.chart;

import org.apache.pdfbox.pdmodel.PDDocument;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;

/**
 * A longer document on paper (STORE-1 見読性), for printouts other capabilities compose from blocks: headings, wrapped
 * paragraphs, tables whose header repeats on each page, page breaks; the same header on every page and, at the
 * foot, lines the caller gives and "page N / M". Set with {@link PdfLayout} in the project's own font, like every
 * printout, so that Japanese reads the same on any machine. The compliance console's inspection pack prints through
 * it; it knows nothing of it.
 */
public final class BookPdf {
    private BookPdf() {
    }

    /** One piece of the document, drawn in order. */
    public sealed interface Block permits Heading, Text, Table, Gap, PageBreak {
    }

    /** A heading of {@code size} points, kept with what follows. */
    public record Heading(String text, float size) implements Block {
    }

    /** Wrapped text of {@code size} points, {@code indent} points from the left margin. */
    public record Text(String text, float size, float indent) implements Block {
    }

    /** A table: the columns' shares of the text width (summing to 1); no rows prints 登録なし. */
    public record Table(float[] widths, List<String> header, List<List<String>> rows, float size) implements Block {
        public Table {
            if (header.size() != widths.length) {
                throw new IllegalArgumentException("one width per column");
            }
            header = List.copyOf(header);
            rows = List.copyOf(rows);
        }
    }

    /** Vertical space. */
    public record Gap(float points) implements Block {
    }

    /** What follows starts on a new page. */
    public record PageBreak() implements Block {
    }

    /** The body text size of every printout. */
    public static final float BODY = PdfLayout.BODY;

    /**
     * The document as a PDF.
     *
     * @param header  the line above every page
     * @param footer  lines below every page (nulls skipped); the last shares its line with "N / M"
     * @param title   the PDF's title (its document information)
     */
    public static byte[] render(List<Block> blocks, String header, List<String> footer, String title,
                                Instant created, ZoneId zone) {
        try (PDDocument doc = new PDDocument(); PdfFont font = PdfFont.load(doc)) {
            PdfLayout l = new PdfLayout(doc, font);
            for (Block b : blocks) {
                switch (b) {
                    case Heading h -> l.heading(h.text(), h.size());
                    case Text t -> l.paragraph(t.text(), t.size(), t.indent());
                    case Table t -> l.table(t.widths(), t.header(), t.rows(), t.size());
                    case Gap g -> l.space(g.points());
                    case PageBreak p -> l.pageBreak();
                }
            }
            l.finish();
            l.frame(header, footer);
            return PdfLayout.save(doc, title, null, created, zone);
        } catch (IOException e) {
            throw new UncheckedIOException("the PDF could not be written", e);
        }
    }
}
