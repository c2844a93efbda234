package jp.mamori.chart;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.graphics.state.RenderingMode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Flows headings, paragraphs and tables down A4 portrait pages, starting a new page when the next line does not
 * fit (a table repeats its header on the new page, and a row moves whole to the next page rather than split, unless
 * it is taller than a page). Headers and footers are drawn afterwards by the caller, once the number of pages is
 * known; {@link #drawFitted} keeps each of their lines inside the page.
 */
final class PdfLayout {
    static final PDRectangle A4 = PDRectangle.A4;
    static final float MARGIN_X = 42;
    static final float TOP = A4.getHeight() - 70;      // body starts below the page header
    static final float BOTTOM = 64;                     // and ends above the page footer
    /** What an empty section or list says (STORE-1: "nothing recorded", not a blank that could be a lost page). */
    static final String NONE = "登録なし";
    static final float BODY = 10;
    static final float LEADING = 1.45f;

    final PDDocument doc;
    final PdfFont font;
    final List<PDPage> pages = new ArrayList<>();
    private PDPageContentStream cs;
    private float y;

    PdfLayout(PDDocument doc, PdfFont font) {
        this.doc = doc;
        this.font = font;
        newPage();
    }

    float width() {
        return A4.getWidth() - 2 * MARGIN_X;
    }

    private void newPage() {
        try {
            if (cs != null) {
                cs.close();
            }
            PDPage page = new PDPage(A4);
            doc.addPage(page);
            pages.add(page);
            cs = new PDPageContentStream(doc, page);
            y = TOP;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean fits(float height) {
        return y - height >= BOTTOM;
    }

    void space(float points) {
        y -= points;
    }

    /** Starts a new page unless nothing is drawn on the current one yet (a cover ends on its own page). */
    void pageBreak() {
        if (y < TOP) {
            newPage();
        }
    }

    /** A section heading, kept on the same page as at least two lines of what follows. */
    void heading(String text, float size) {
        float h = size * LEADING + 4 + 2 * BODY * LEADING;
        if (!fits(h)) {
            newPage();
        }
        y -= size * LEADING;
        draw(MARGIN_X, y + size * 0.3f, size, font.printable(text), true);
        rule(MARGIN_X, y, MARGIN_X + width(), 0.6f);
        y -= 4;
    }

    /** Wrapped text; {@code indent} from the left margin. */
    void paragraph(String text, float size, float indent) {
        String p = font.printableText(text == null ? "" : text);
        float lh = size * LEADING;
        for (String line : LineBreaker.wrap(p, width() - indent, s -> font.width(s, size))) {
            if (!fits(lh)) {
                newPage();
            }
            y -= lh;
            draw(MARGIN_X + indent, y + size * 0.3f, size, line, false);
        }
    }

    /**
     * A table with column widths as fractions of the text width; {@link #NONE} instead when there are no rows. A
     * row that does not fit on what is left of the page starts the next page, under a repeated header; only a row
     * taller than a whole page is continued across pages.
     */
    void table(float[] fractions, List<String> header, List<List<String>> rows, float size) {
        if (rows.isEmpty()) {
            paragraph(NONE, size + 1, 6);
            y -= 6;
            return;
        }
        float[] widths = new float[fractions.length];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = fractions[i] * width();
        }
        float lh = size * LEADING;
        List<List<String>> head = wrapCells(widths, header, size);
        int headLines = head.stream().mapToInt(List::size).max().orElse(1);
        // the lines a fresh page holds under the repeated header
        int pageLines = (int) Math.floor((TOP - BOTTOM - 2 - headLines * lh - 2) / lh);
        List<List<String>> first = wrapCells(widths, rows.get(0), size);
        int firstLines = first.stream().mapToInt(List::size).max().orElse(1);
        if (!fits((headLines + Math.min(firstLines, pageLines)) * lh + 4)) {
            newPage();
        }
        tableRow(widths, head, size, true);
        for (List<String> row : rows) {
            List<List<String>> cells = wrapCells(widths, row, size);
            int height = cells.stream().mapToInt(List::size).max().orElse(1);
            int from = 0;
            if (height <= pageLines && (int) Math.floor((y - BOTTOM - 2) / lh) < height) {
                newPage(); // the whole row on the next page rather than split
                tableRow(widths, head, size, true);
            }
            while (from < height) {
                int room = (int) Math.floor((y - BOTTOM - 2) / lh);
                if (room < 1) {
                    newPage();
                    tableRow(widths, wrapCells(widths, header, size), size, true);
                    continue;
                }
                int to = Math.min(height, from + room);
                List<List<String>> part = new ArrayList<>();
                for (List<String> c : cells) {
                    part.add(c.subList(Math.min(from, c.size()), Math.min(to, c.size())));
                }
                tableRow(widths, part, size, false);
                from = to;
            }
        }
        y -= 4;
    }

    private List<List<String>> wrapCells(float[] widths, List<String> row, float size) {
        List<List<String>> cells = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) {
            String text = font.printableText(i < row.size() && row.get(i) != null ? row.get(i) : "");
            cells.add(LineBreaker.wrap(text, widths[i] - 6, s -> font.width(s, size)));
        }
        return cells;
    }

    private void tableRow(float[] widths, List<List<String>> cells, float size, boolean header) {
        float lh = size * LEADING;
        int lines = Math.max(1, cells.stream().mapToInt(List::size).max().orElse(1));
        float top = y;
        float x = MARGIN_X;
        for (int i = 0; i < widths.length; i++) {
            List<String> c = cells.get(i);
            for (int l = 0; l < c.size(); l++) {
                draw(x + 3, top - (l + 1) * lh + size * 0.3f, size, c.get(l), header);
            }
            x += widths[i];
        }
        y = top - lines * lh - 2;
        rule(MARGIN_X, y, MARGIN_X + width(), header ? 0.6f : 0.2f);
    }

    void draw(float x, float baseline, float size, String printable, boolean bold) {
        if (printable.isEmpty()) {
            return;
        }
        try {
            cs.beginText();
            cs.setFont(font.font, size);
            if (bold) { // one regular font: fill and stroke the outline for emphasis
                cs.setRenderingMode(RenderingMode.FILL_STROKE);
                cs.setLineWidth(size / 40f);
            }
            cs.newLineAtOffset(x, baseline);
            cs.showText(printable);
            cs.endText();
            if (bold) {
                cs.setRenderingMode(RenderingMode.FILL);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void rule(float x1, float yy, float x2, float width) {
        try {
            cs.setLineWidth(width);
            cs.moveTo(x1, yy);
            cs.lineTo(x2, yy);
            cs.stroke();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends the flow; afterwards pages may be decorated with {@link #decorate}. */
    void finish() {
        try {
            cs.close();
            cs = null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Draws on top of a finished page (header and footer). */
    void decorate(PDPage page, Decorator d) {
        try (PDPageContentStream s = new PDPageContentStream(doc, page, PDPageContentStream.AppendMode.APPEND, true,
                true)) {
            cs = s;
            d.draw();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            cs = null;
        }
    }

    interface Decorator {
        void draw() throws IOException;
    }

    /**
     * One line drawn no wider than {@code maxWidth}: at {@code size}, or smaller when it would not fit (down to 5 pt;
     * then it is cut with …), so that a long name, reference or hash never runs off the paper.
     *
     * @return the width drawn
     */
    float drawFitted(float x, float baseline, float size, float maxWidth, String text, boolean bold) {
        Fitted f = fit(text, size, maxWidth);
        draw(x, baseline, f.size(), f.text(), bold);
        return f.width();
    }

    /** As {@link #drawFitted}, ending at {@code right}. */
    float drawFittedRight(float right, float baseline, float size, float maxWidth, String text) {
        Fitted f = fit(text, size, maxWidth);
        draw(right - f.width(), baseline, f.size(), f.text(), false);
        return f.width();
    }

    private record Fitted(String text, float size, float width) {
    }

    private Fitted fit(String text, float size, float maxWidth) {
        String p = font.printable(text == null ? "" : text);
        float s = size;
        float w = font.width(p, s);
        if (w > maxWidth) {
            s = Math.max(5f, size * maxWidth / w * 0.999f);
            w = font.width(p, s);
        }
        while (w > maxWidth && p.codePointCount(0, p.length()) > 1) {
            String cut = p.endsWith("…") ? p.substring(0, p.length() - 1) : p;
            p = cut.substring(0, cut.offsetByCodePoints(cut.length(), -1)) + "…";
            w = font.width(p, s);
        }
        return new Fitted(p, s, w);
    }

    /**
     * The frame of every page, drawn once the page count is known: {@code header} above a rule, {@code footer}'s
     * lines below one (bottom line last), and "N / M" on the bottom line's right; every line fitted to the paper
     * (smaller type, never cut off). For printouts whose header and footer are the same on each page.
     */
    void frame(String header, List<String> footer) {
        int total = pages.size();
        String head = font.printable(header);
        List<String> foot = footer.stream().filter(f -> f != null && !f.isEmpty()).map(font::printable).toList();
        float right = A4.getWidth() - MARGIN_X;
        float size = foot.size() > 1 ? 7 : 8;
        for (int i = 0; i < total; i++) {
            String pageNo = (i + 1) + " / " + total;
            decorate(pages.get(i), () -> {
                float top = A4.getHeight() - 40;
                drawFitted(MARGIN_X, top, 9, right - MARGIN_X, head, false);
                line(MARGIN_X, top - 6, right, 0.6f);
                line(MARGIN_X, 46, right, 0.4f);
                float y = 25 + 11 * (foot.size() - 1);
                for (int k = 0; k < foot.size(); k++, y -= 11) {
                    drawFitted(MARGIN_X, y, size, right - MARGIN_X - (k == foot.size() - 1 ? 60 : 0), foot.get(k),
                            false);
                }
                draw(right - font.width(pageNo, 9), 25, 9, pageNo, false);
            });
        }
    }

    void line(float x1, float yy, float x2, float width) {
        rule(x1, yy, x2, width);
    }

    /**
     * The finished document as bytes, with its title, subject (or none), creator and creation time in
     * {@code zone}: how every printout of the console is saved.
     */
    static byte[] save(PDDocument doc, String title, String subject, java.time.Instant created, java.time.ZoneId zone)
            throws IOException {
        org.apache.pdfbox.pdmodel.PDDocumentInformation info = doc.getDocumentInformation();
        info.setTitle(title);
        info.setCreator("Mamori");
        if (subject != null) {
            info.setSubject(subject);
        }
        java.util.Calendar c = new java.util.GregorianCalendar(java.util.TimeZone.getTimeZone(zone));
        c.setTimeInMillis(created.toEpochMilli());
        info.setCreationDate(c);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(64 * 1024);
        doc.save(out);
        return out.toByteArray();
    }
}
