package jp.mamori.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The one normaliser of text for search: string index values and string queries go through it, so what is
 * stored and what is asked are compared in the same form (ADR 0003). Two forms:
 * <ul>
 *   <li>{@link #canonical}: for {@code :exact}. Invisible characters removed ({@link #isInvisible}), then
 *   NFC: カ + U+3099 and ガ are the same text, 髙 and 高 are not.</li>
 *   <li>{@link #normalize}: for plain string search and {@code :contains}. The canonical form, then NFKC
 *   (folds half-width kana and full-width Latin), lower case, accents removed, hiragana folded to katakana,
 *   runs of white space as one space, and the 異体字 of the folding table ({@code itaiji-fold.txt}) folded
 *   to their target (髙 → 高). The voiced-sound marks (゛゜) are kept, because ガ and カ are different
 *   sounds, not accented letters.</li>
 * </ul>
 * Stored records are never normalised: only their index values are.
 */
public final class TextNormalizer {
    /** The folding table, a resource beside this class. */
    static final String TABLE = "itaiji-fold.txt";

    /**
     * The version of the rules written in this class. Raise it with any change to them: together with the
     * table's content it forms {@link #formId()}, and a change of that re-normalises the stored index values
     * at the next start ({@link SearchNormalForm}).
     */
    static final int RULES_VERSION = 2;

    private static final String TABLE_TEXT = readTable();
    private static final Map<Integer, Integer> FOLD = parseTable(TABLE_TEXT);

    private TextNormalizer() {
    }

    /** The form compared by {@code :exact} and kept in the index's exact column: invisibles removed, NFC. */
    public static String canonical(String s) {
        if (s == null) {
            return "";
        }
        return Normalizer.normalize(visible(s), Normalizer.Form.NFC);
    }

    /** The search form of a string: compared by plain string search, {@code :contains} and sort. */
    public static String normalize(String s) {
        if (s == null) {
            return "";
        }
        String t = Normalizer.normalize(visible(s), Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        String d = Normalizer.normalize(t, Normalizer.Form.NFD);
        StringBuilder sb = new StringBuilder(d.length());
        boolean space = false;
        for (int i = 0; i < d.length(); ) {
            int c = d.codePointAt(i);
            i += Character.charCount(c);
            if (Character.getType(c) == Character.NON_SPACING_MARK && c != '\u3099' && c != '\u309A') {
                continue; // an accent: é → e
            }
            if (c >= '\u3041' && c <= '\u3096') {
                c += 0x60; // hiragana → katakana
            } else if (c == '\u309D' || c == '\u309E') {
                c += 0x60; // iteration marks ゝゞ → ヽヾ
            }
            if (Character.isWhitespace(c) || c == '\u3000' || c == '\u0085') {
                if (!space && !sb.isEmpty()) {
                    sb.append(' ');
                }
                space = true;
                continue;
            }
            space = false;
            sb.appendCodePoint(FOLD.getOrDefault(c, c));
        }
        int end = sb.length();
        if (end > 0 && sb.charAt(end - 1) == ' ') {
            sb.setLength(end - 1);
        }
        return Normalizer.normalize(sb, Normalizer.Form.NFC);
    }

    /**
     * Characters that show nothing and say nothing about the name, removed from index values and queries
     * alike (never from stored records): every format character (Unicode category Cf: zero-width space,
     * joiners U+200B–U+200D, word joiner U+2060, BOM U+FEFF, soft hyphen U+00AD, bidi marks, embeddings and
     * isolates, tags), variation selectors (U+FE00–U+FE0F and the ideographic ones U+E0100–U+E01EF common
     * in Japanese names, Mongolian U+180B–U+180F), the combining grapheme joiner U+034F, Hangul fillers, and
     * control characters other than white space. White space (including U+0085, U+2028, U+2029) is not
     * invisible: it separates words and becomes one space in the search form.
     */
    static boolean isInvisible(int c) {
        if (Character.getType(c) == Character.FORMAT) {
            return true;
        }
        if ((c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) || (c >= 0x180B && c <= 0x180F)) {
            return true;
        }
        if (c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0) {
            return true;
        }
        return Character.getType(c) == Character.CONTROL && !Character.isWhitespace(c) && c != 0x0085;
    }

    private static String visible(String s) {
        int i = 0;
        while (i < s.length() && !isInvisible(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length()).append(s, 0, i);
        while (i < s.length()) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (!isInvisible(c)) {
                sb.appendCodePoint(c);
            }
        }
        return sb.toString();
    }

    /**
     * Identifies the search form: the rules' version and the folding table's content. Stored index values
     * were made with the form of this id; when it changes they are made again ({@link SearchNormalForm}).
     */
    public static int formId() {
        CRC32 crc = new CRC32();
        crc.update(("rules " + RULES_VERSION + "\n").getBytes(StandardCharsets.UTF_8));
        crc.update(TABLE_TEXT.getBytes(StandardCharsets.UTF_8));
        return (int) crc.getValue();
    }

    /** The folding table: each variant code point to its target. */
    static Map<Integer, Integer> foldTable() {
        return FOLD;
    }

    /** Escapes LIKE wildcards so user input matches literally. */
    public static String likeEscape(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    private static String readTable() {
        try (InputStream in = TextNormalizer.class.getResourceAsStream(TABLE)) {
            if (in == null) {
                throw new IllegalStateException("the 異体字 folding table " + TABLE + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the table; a malformed one stops the server rather than search silently differently. */
    static Map<Integer, Integer> parseTable(String text) {
        Map<Integer, Integer> fold = new HashMap<>();
        java.util.Set<Integer> targets = new java.util.HashSet<>();
        int n = 0;
        for (String raw : text.split("\n")) {
            n++;
            int hash = raw.indexOf('#');
            String line = (hash < 0 ? raw : raw.substring(0, hash)).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\\s+");
            int[] cps = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                if (f[i].codePointCount(0, f[i].length()) != 1
                        || !Normalizer.normalize(f[i], Normalizer.Form.NFKC).equals(f[i])) {
                    throw new IllegalStateException(TABLE + " line " + n + ": '" + f[i]
                            + "' must be one character that NFKC leaves unchanged");
                }
                cps[i] = f[i].codePointAt(0);
            }
            if (cps.length < 2) {
                throw new IllegalStateException(TABLE + " line " + n + ": a target needs at least one variant");
            }
            if (!targets.add(cps[0])) {
                throw new IllegalStateException(TABLE + " line " + n + ": target '" + f[0] + "' appears twice");
            }
            for (int i = 1; i < cps.length; i++) {
                if (fold.put(cps[i], cps[0]) != null) {
                    throw new IllegalStateException(TABLE + " line " + n + ": '" + f[i] + "' appears twice");
                }
            }
        }
        for (Map.Entry<Integer, Integer> e : fold.entrySet()) {
            if (targets.contains(e.getKey())) {
                throw new IllegalStateException(TABLE + ": '" + Character.toString(e.getKey())
                        + "' is both a variant and a target");
            }
        }
        return Collections.unmodifiableMap(fold);
    }

    /**
     * A department or ward name as compared for care relationships (access) and indexed from encounters (records):
     * NFKC, trimmed; null when blank or longer than 100 characters. Both sides call this one function.
     */
    public static String placeName(String name) {
        if (name == null) {
            return null;
        }
        String n = Normalizer.normalize(name, Normalizer.Form.NFKC).strip();
        return n.isEmpty() || n.length() > 100 ? null : n;
    }
}
