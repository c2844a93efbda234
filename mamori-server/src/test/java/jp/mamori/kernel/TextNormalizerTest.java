package jp.mamori.kernel;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextNormalizerTest {
    @Test
    void hiraganaHalfWidthAndFullWidthKatakanaShareOneForm() {
        String full = TextNormalizer.normalize("ヤマダ");
        assertEquals(full, TextNormalizer.normalize("やまだ"));
        assertEquals(full, TextNormalizer.normalize("ﾔﾏﾀﾞ"));
    }

    @Test
    void voicedSoundMarksAreKeptBecauseTheyChangeTheSound() {
        assertNotEquals(TextNormalizer.normalize("ガ"), TextNormalizer.normalize("カ"));
        assertNotEquals(TextNormalizer.normalize("パ"), TextNormalizer.normalize("ハ"));
        assertEquals(TextNormalizer.normalize("ガ"), TextNormalizer.normalize("が"));
    }

    @Test
    void latinTextIsCaseAndAccentInsensitive() {
        assertEquals("jose", TextNormalizer.normalize("José"));
        assertEquals("muller", TextNormalizer.normalize("MÜLLER"));
        assertEquals("abc", TextNormalizer.normalize("ＡＢＣ"));
    }

    @Test
    void spacesIncludingIdeographicSpaceCollapseToOne() {
        assertEquals("山田 太郎", TextNormalizer.normalize(" 山田\u3000\u3000太郎 "));
    }

    @Test
    void kanjiOutsideTheFoldingTableIsLeftAsWritten() {
        assertEquals("山田葛飾", TextNormalizer.normalize("山田葛飾"));
    }

    @Test
    void itaijiOfTheTableFoldToOneFormForSearchButNotForExact() {
        assertEquals("高橋", TextNormalizer.normalize("髙橋"));
        assertEquals(TextNormalizer.normalize("山崎"), TextNormalizer.normalize("山﨑"));
        assertEquals(TextNormalizer.normalize("渡辺"), TextNormalizer.normalize("渡邊"));
        assertEquals(TextNormalizer.normalize("渡辺"), TextNormalizer.normalize("渡邉"));
        assertEquals(TextNormalizer.normalize("斎藤"), TextNormalizer.normalize("齋藤"));
        assertEquals(TextNormalizer.normalize("斎藤"), TextNormalizer.normalize("斉藤"));
        assertEquals("吉野", TextNormalizer.normalize("\uD842\uDFB7野"), "𠮷 (U+20BB7) outside the BMP");
        assertEquals("髙橋", TextNormalizer.canonical("髙橋"));
        assertEquals("山﨑", TextNormalizer.canonical("山﨑"));
    }

    @Test
    void invisibleCharactersAreRemovedFromBothForms() {
        String[] invisible = {"\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD", "\uFE0F", "\uDB40\uDD00",
                "\u200E", "\u202E", "\u2066", "\u061C", "\u180E", "\u034F", "\u0007", "\u007F", "\u009B"};
        for (String c : invisible) {
            String s = "山" + c + "田";
            assertEquals("山田", TextNormalizer.normalize(s), () -> "U+" + Integer.toHexString(c.codePointAt(0)));
            assertEquals("山田", TextNormalizer.canonical(s), () -> "U+" + Integer.toHexString(c.codePointAt(0)));
        }
        assertEquals("葛飾", TextNormalizer.canonical("葛\uDB40\uDD00飾"), "an ideographic variation selector");
    }

    @Test
    void whiteSpaceOfEveryKindSeparatesWordsInTheSearchFormAndStaysInTheExactForm() {
        for (String sp : new String[]{"\t", "\n", "\u00A0", "\u2028", "\u2029", "\u0085", "\u3000", "\u202F"}) {
            assertEquals("山田 太郎", TextNormalizer.normalize("山田" + sp + "太郎"), () -> "U+" + Integer.toHexString(sp.charAt(0)));
            assertEquals("山田" + sp + "太郎", TextNormalizer.canonical("山田" + sp + "太郎"));
        }
    }

    @Test
    void composedAndDecomposedKanaShareTheExactFormButWidthAndCaseDoNot() {
        assertEquals("ガ", TextNormalizer.canonical("カ\u3099"));
        assertEquals("パ", TextNormalizer.canonical("ハ\u309A"));
        assertEquals("が", TextNormalizer.canonical("か\u3099"));
        assertEquals(TextNormalizer.normalize("ガ"), TextNormalizer.normalize("カ\u3099"));
        assertNotEquals(TextNormalizer.canonical("ガ"), TextNormalizer.canonical("ｶﾞ"));
        assertNotEquals(TextNormalizer.canonical("Abc"), TextNormalizer.canonical("abc"));
    }

    @Test
    void theFormsAreStableSoStoredValuesCanBeMadeAgainFromTheExactColumn() {
        String[] samples = {"髙橋 太郎", "山\u200B﨑", "ｶﾞﾓｳ", "カ\u3099モウ", "José MÜLLER", "葛\uDB40\uDD00飾", " やまだ\u3000はなこ ",
                "\uD842\uDFB7野", "ﾊﾟﾝ\u00AD", "Ⅻ㍿"};
        for (String x : samples) {
            String canonical = TextNormalizer.canonical(x);
            String norm = TextNormalizer.normalize(x);
            assertEquals(canonical, TextNormalizer.canonical(canonical), x);
            assertEquals(norm, TextNormalizer.normalize(canonical), x);
            assertEquals(norm, TextNormalizer.normalize(norm), x);
        }
    }

    @Test
    void theFoldingTableIsWellFormed() {
        Map<Integer, Integer> fold = TextNormalizer.foldTable();
        assertTrue(fold.size() >= 40, "the table was read: " + fold.size());
        for (Map.Entry<Integer, Integer> e : fold.entrySet()) {
            assertFalse(fold.containsKey(e.getValue()), "no chains: " + Character.toString(e.getValue()));
            assertTrue(Character.isIdeographic(e.getKey()) && Character.isIdeographic(e.getValue()),
                    Character.toString(e.getKey()));
        }
        assertThrows(IllegalStateException.class, () -> TextNormalizer.parseTable("高 髙\n髙 x\n"), "a chain");
        assertThrows(IllegalStateException.class, () -> TextNormalizer.parseTable("高 髙\n橋 髙\n"), "a duplicate");
        assertThrows(IllegalStateException.class, () -> TextNormalizer.parseTable("塚 \uFA10\n"), "NFKC changes it");
        assertThrows(IllegalStateException.class, () -> TextNormalizer.parseTable("高\n"), "no variant");
        assertEquals(Map.of(0x9AD9, 0x9AD8), TextNormalizer.parseTable("# comment\n\n高 髙  # はしご高\n"));
    }

    @Test
    void likeWildcardsInUserInputAreEscaped() {
        assertEquals("100\\%\\_a\\\\", TextNormalizer.likeEscape("100%_a\\"));
    }
}
