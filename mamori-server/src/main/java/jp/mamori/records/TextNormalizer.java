package jp.mamori.records;

import java.text.Normalizer;
import java.util.Locale;

/**
 * The normal form of strings for FHIR string search: case- and accent-insensitive as the spec asks, and
 * right for Japanese: NFKC folds half-width kana and full-width Latin, hiragana folds to katakana (so
 * やまだ finds ヤマダ), and the voiced-sound marks (゛゜) are kept, because ガ and カ are different
 * sounds, not accented letters.
 */
public final class TextNormalizer {
    private TextNormalizer() {
    }

    public static String normalize(String s) {
        if (s == null) {
            return "";
        }
        String t = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        String d = Normalizer.normalize(t, Normalizer.Form.NFD);
        StringBuilder sb = new StringBuilder(d.length());
        boolean space = false;
        for (int i = 0; i < d.length(); i++) {
            char c = d.charAt(i);
            if (Character.getType(c) == Character.NON_SPACING_MARK && c != '\u3099' && c != '\u309A') {
                continue; // an accent: é → e
            }
            if (c >= '\u3041' && c <= '\u3096') {
                c = (char) (c + 0x60); // hiragana → katakana
            } else if (c == '\u309D' || c == '\u309E') {
                c = (char) (c + 0x60); // iteration marks ゝゞ → ヽヾ
            }
            if (Character.isWhitespace(c) || c == '\u3000') {
                if (!space && !sb.isEmpty()) {
                    sb.append(' ');
                }
                space = true;
                continue;
            }
            space = false;
            sb.append(c);
        }
        int end = sb.length();
        if (end > 0 && sb.charAt(end - 1) == ' ') {
            sb.setLength(end - 1);
        }
        return Normalizer.normalize(sb, Normalizer.Form.NFC);
    }

    /** Escapes LIKE wildcards so user input matches literally. */
    public static String likeEscape(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }
}
