package jp.mamori.chart;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineBreakerTest {
    /** Every code point is one unit wide. */
    private static List<String> wrap(String s, int width) {
        return LineBreaker.wrap(s, width, t -> t.codePointCount(0, t.length()));
    }

    @Test
    void japaneseBreaksBetweenAnyTwoCharacters() {
        assertEquals(List.of("あいうえ", "おかきく", "けこ"), wrap("あいうえおかきくけこ", 4));
    }

    @Test
    void latinBreaksAtSpacesAndOverlongWordsByCharacter() {
        assertEquals(List.of("HbA1c is", "7.1 now"), wrap("HbA1c is 7.1 now", 9));
        assertEquals(List.of("abcd", "efgh", "ij"), wrap("abcdefghij", 4));
    }

    @Test
    void noLineStartsWithAClosingMarkOrEndsWithAnOpeningOne() {
        for (String line : wrap("頭痛あり。「経過観察」とする、次回は（4週後）。", 5)) {
            assertFalse(line.startsWith("。") || line.startsWith("、") || line.startsWith("」")
                    || line.startsWith("）"), line);
            assertFalse(line.endsWith("「") || line.endsWith("（"), line);
        }
    }

    @Test
    void surrogatePairsStayWhole() {
        for (String line : wrap("𠮷𠮷𠮷😀😀😀", 2)) {
            assertFalse(Character.isLowSurrogate(line.charAt(0)), line);
            assertFalse(Character.isHighSurrogate(line.charAt(line.length() - 1)), line);
        }
        assertEquals(3, wrap("𠮷𠮷𠮷😀😀😀", 2).size());
    }

    @Test
    void newlinesAndEmptyLinesAreKept() {
        assertEquals(List.of("S", "", "O"), wrap("S\n\nO", 10));
        assertTrue(wrap("", 10).equals(List.of("")));
    }
}
