package jp.mamori.records;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
    void kanjiIsLeftAsWritten() {
        assertEquals("髙橋", TextNormalizer.normalize("髙橋"));
    }

    @Test
    void likeWildcardsInUserInputAreEscaped() {
        assertEquals("100\\%\\_a\\\\", TextNormalizer.likeEscape("100%_a\\"));
    }
}
