package jp.mamori.chart;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Breaks text into lines of a given width the Japanese way: anywhere between CJK characters, at spaces in
 * Latin text, never inside a surrogate pair, and with simple 禁則処理 (no line starts with a closing mark such
 * as 、。」 or a small kana, no line ends with an opening mark such as 「（).
 */
final class LineBreaker {
    private static final String NO_LINE_START = "、。，．,.・：；:;？！?!ー‐―–—…‥）)」』】〕〉》｝］]}’”〙〗"
            + "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々ゝゞヽヾ％%℃";
    private static final String NO_LINE_END = "（(「『【〔〈《｛［[{‘“〘〖";

    private LineBreaker() {
    }

    /** Lines of {@code text} (newlines start new lines; empty lines are kept) no wider than {@code max}. */
    static List<String> wrap(String text, double max, ToDoubleFunction<String> width) {
        List<String> lines = new ArrayList<>();
        for (String paragraph : text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1)) {
            wrapParagraph(paragraph, max, width, lines);
        }
        return lines;
    }

    private static void wrapParagraph(String text, double max, ToDoubleFunction<String> width, List<String> out) {
        List<String> tokens = tokens(text);
        StringBuilder line = new StringBuilder();
        double used = 0;
        for (String token : tokens) {
            boolean space = token.isBlank();
            double w = width.applyAsDouble(token);
            if (used + w <= max || (space && !line.isEmpty())) {
                if (!(space && line.isEmpty())) {
                    line.append(token);
                    used += w;
                }
                continue;
            }
            if (!line.isEmpty()) {
                out.add(line.toString().stripTrailing());
                line.setLength(0);
                used = 0;
            }
            if (space) {
                continue;
            }
            if (w <= max) {
                line.append(token);
                used = w;
                continue;
            }
            // A token wider than a whole line (a long number, a URL): break it by characters.
            for (int i = 0; i < token.length(); ) {
                int cp = token.codePointAt(i);
                String ch = new String(Character.toChars(cp));
                double cw = width.applyAsDouble(ch);
                if (used + cw > max && !line.isEmpty()) {
                    out.add(line.toString());
                    line.setLength(0);
                    used = 0;
                }
                line.append(ch);
                used += cw;
                i += Character.charCount(cp);
            }
        }
        out.add(line.toString().stripTrailing());
    }

    /**
     * Units that must not be broken: a CJK character, a run of other non-space characters (a Latin word or
     * number), or a run of spaces; closing marks are glued to the unit before them, opening marks to the unit
     * after them.
     */
    static List<String> tokens(String text) {
        List<String> raw = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            boolean space = cp == ' ' || cp == '\u3000';
            if (space || isCjk(cp) || NO_LINE_START.indexOf(cp) >= 0 || NO_LINE_END.indexOf(cp) >= 0) {
                if (!word.isEmpty()) {
                    raw.add(word.toString());
                    word.setLength(0);
                }
                raw.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        }
        if (!word.isEmpty()) {
            raw.add(word.toString());
        }
        List<String> glued = new ArrayList<>();
        String pendingOpen = "";
        for (String t : raw) {
            int cp = t.codePointAt(0);
            if (t.length() <= 2 && t.codePointCount(0, t.length()) == 1 && NO_LINE_END.indexOf(cp) >= 0) {
                pendingOpen += t;
                continue;
            }
            if (t.codePointCount(0, t.length()) == 1 && NO_LINE_START.indexOf(cp) >= 0 && !glued.isEmpty()
                    && pendingOpen.isEmpty() && !glued.get(glued.size() - 1).isBlank()) {
                glued.set(glued.size() - 1, glued.get(glued.size() - 1) + t);
                continue;
            }
            glued.add(pendingOpen + t);
            pendingOpen = "";
        }
        if (!pendingOpen.isEmpty()) {
            glued.add(pendingOpen);
        }
        return glued;
    }

    private static boolean isCjk(int cp) {
        return cp >= 0x2E80 && !(cp >= 0xFF01 && cp <= 0xFF5E && Character.isLetterOrDigit(cp));
    }
}
