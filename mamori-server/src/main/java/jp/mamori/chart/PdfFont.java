package jp.mamori.chart;

import org.apache.fontbox.ttf.TTFParser;
import org.apache.fontbox.ttf.TrueTypeFont;
import org.apache.fontbox.ttf.CmapLookup;
import org.apache.pdfbox.io.RandomAccessReadBuffer;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.font.PDType0Font;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one font printouts use: BIZ UDPGothic (Morisawa's universal-design Gothic, SIL Open Font License 1.1),
 * a TrueType font shipped inside the server's jar, so a PDF is the same on any machine and never depends on
 * system fonts. It is embedded as a subset (only the glyphs used), which keeps a PDF small.
 *
 * <p>Text is passed through {@link #printable} first: a character the font lacks becomes {@link #MISSING}
 * (〓, the geta mark Japanese typesetting uses for exactly this) instead of failing the whole printout.
 */
final class PdfFont implements AutoCloseable {
    static final String RESOURCE = "/jp/mamori/chart/fonts/BIZUDPGothic-Regular.ttf";
    static final int MISSING = 0x3013;

    private static volatile byte[] bytes;
    /** Advance widths in 1/1000 em by code point; the font never changes, so they are shared. */
    private static final ConcurrentHashMap<Integer, Float> WIDTHS = new ConcurrentHashMap<>();

    final PDType0Font font;
    private final TrueTypeFont ttf;
    private final CmapLookup cmap;

    private PdfFont(PDType0Font font, TrueTypeFont ttf) throws IOException {
        this.font = font;
        this.ttf = ttf;
        this.cmap = ttf.getUnicodeCmapLookup();
    }

    /** Loads the font for one document; close it after the document is saved. */
    static PdfFont load(PDDocument doc) {
        try {
            TrueTypeFont ttf = new TTFParser().parse(new RandomAccessReadBuffer(fontBytes()));
            // No glyph substitution: PDFBox would draw "fi" as the font's ligature glyph, which no text extraction maps
            // back, so "final" was copied and searched as " nal" (STORE-1: the printed text must read back as written).
            ttf.setEnableGsub(false);
            return new PdfFont(PDType0Font.load(doc, ttf, true), ttf);
        } catch (IOException e) {
            throw new UncheckedIOException("the bundled font cannot be read", e);
        }
    }

    static byte[] fontBytes() {
        byte[] b = bytes;
        if (b == null) {
            try (InputStream in = PdfFont.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("font resource " + RESOURCE + " is missing from the jar");
                }
                b = in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bytes = b;
        }
        return b;
    }

    boolean has(int codePoint) {
        return cmap.getGlyphId(codePoint) > 0;
    }

    /**
     * One line of text as it can be drawn: tabs and line breaks become spaces; other control, format and variation-selector characters
     * are dropped (they have no glyph of their own); any other character the font lacks becomes 〓.
     */
    String printable(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (cp == '\t' || cp == '\n' || cp == '\r') {
                out.append(' ');
            } else if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT
                    || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF)) {
                // nothing to draw
            } else if (Character.getType(cp) == Character.SURROGATE || !has(cp)) {
                out.appendCodePoint(MISSING);
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.toString();
    }

    /**
     * Text of several lines as it can be drawn: as {@link #printable} line by line, the line breaks kept (CR LF and
     * CR become LF), so that {@link LineBreaker#wrap} starts a new line where the writer did (STORE-1 見読性: a note
     * prints as it was typed).
     */
    String printableText(String s) {
        String[] lines = s.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                out.append('\n');
            }
            out.append(printable(lines[i]));
        }
        return out.toString();
    }

    /** Width of one printable code point at {@code size} points. */
    float width(int codePoint, float size) {
        Float w = WIDTHS.get(codePoint);
        if (w == null) {
            try {
                w = font.getStringWidth(new String(Character.toChars(codePoint)));
            } catch (IOException | IllegalArgumentException e) {
                w = 1000f;
            }
            WIDTHS.put(codePoint, w);
        }
        return w * size / 1000f;
    }

    float width(String printable, float size) {
        float sum = 0;
        for (int i = 0; i < printable.length(); ) {
            int cp = printable.codePointAt(i);
            sum += width(cp, size);
            i += Character.charCount(cp);
        }
        return sum;
    }

    @Override
    public void close() {
        try {
            ttf.close();
        } catch (IOException e) {
            // a closed in-memory buffer: nothing to release
        }
    }
}
