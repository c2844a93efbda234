package jp.mamori.identity;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasswordPolicyTest {
    private final PasswordPolicy policy = new PasswordPolicy();

    @Test
    void aLongUnusualPassphraseIsAcceptedWithoutAnyCompositionRule() {
        assertEquals(List.of(), policy.problems("correct horse battery staple", "tanaka01", List.of("田中", "Taro")));
        assertEquals(List.of(), policy.problems("lowercaseonlywordsfine", null, null));
        assertEquals(List.of(), policy.problems("しずかな朝に珈琲を淹れる", "suzuki", List.of("鈴木", "花子")));
    }

    @Test
    void tooShortIsRefusedCountingCharactersAfterNfkc() {
        List<String> p = policy.problems("kT9#vLq2wZ", null, null);
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).contains("12文字以上") && p.get(0).contains("at least 12"), p.get(0));
        assertEquals(List.of(), policy.problems("kT9#vLq2wZx!", null, null), "twelve is enough");
        // Twelve UTF-16 units but six characters: 𠮷 (a kanji outside the BMP) counts once.
        assertFalse(policy.problems("𠮷𠮷𠮷野家丼", null, null).isEmpty());
        // Full-width characters count one each, like half-width ones.
        assertEquals(List.of(), policy.problems("ｋＴ９＃ｖＬｑ２ｗＺｘ！", null, null));
    }

    @Test
    void theMinimumLengthIsConfigurableButNeverBelowEight() {
        assertThrows(IllegalArgumentException.class, () -> new PasswordPolicy(7));
        PasswordPolicy eight = new PasswordPolicy(8);
        assertEquals(List.of(), eight.problems("kT9#vLq2", null, null));
        assertFalse(eight.problems("kT9#vLq", null, null).isEmpty());
        assertEquals(12, PasswordPolicy.DEFAULT_MIN_LENGTH);
    }

    @Test
    void moreThan128CharactersIsRefused() {
        String ok = "correct horse battery staple ".repeat(4) + "x".repeat(12);
        assertEquals(128, ok.length());
        assertEquals(List.of(), policy.problems(ok, null, null));
        List<String> p = policy.problems(ok + "y", null, null);
        assertEquals(1, p.size());
        assertTrue(p.get(0).contains("128"));
    }

    @Test
    void theShippedCommonPasswordListIsLoaded() {
        assertEquals(30_000, PasswordPolicy.commonPasswordCount());
    }

    @Test
    void aCommonPasswordIsRefusedWhateverItsCase() {
        assertTrue(problemMentions(policy.problems("1qaz2wsx3edc", null, null), "too common"));
        assertTrue(problemMentions(policy.problems("QAZWSXEDCRFV", null, null), "too common"));
        assertTrue(problemMentions(policy.problems("ｑａｚｗｓｘｅｄｃｒｆｖ", null, null), "too common"),
                "full-width typing of the same password");
        assertTrue(problemMentions(new PasswordPolicy(8).problems("Princess", null, null), "too common"));
    }

    @Test
    void aCommonPasswordWithDigitsOrSymbolsAddedAtTheEndIsRefused() {
        assertTrue(problemMentions(policy.problems("password123456", null, null), "added at the end"));
        assertTrue(problemMentions(policy.problems("Sakura2024!!!", null, null), "added at the end"));
        assertTrue(problemMentions(policy.problems("ｉｌｏｖｅｙｏｕ１２３４", null, null), "added at the end"));
        assertEquals(List.of(), policy.problems("password1234horse", null, null), "only a suffix counts");
        assertEquals(List.of(), policy.problems("vTq8mpLw2024!", null, null),
                "digits at the end of an uncommon password are fine");
    }

    @Test
    void thePasswordMustNotContainTheLoginIdOrANamePart() {
        assertTrue(problemMentions(policy.problems("myTanaka01horse", "tanaka01", List.of()), "login ID"));
        assertTrue(problemMentions(policy.problems("xxYAMADAsunflowers", "u1", List.of("Yamada", "Taro")),
                "your name"));
        assertTrue(problemMentions(policy.problems("私は山田太郎です春夏秋冬", "u1", List.of("山田太郎")), "your name"));
        assertTrue(problemMentions(policy.problems("ヤマダの春夏秋冬が大好き", "u1", List.of("ﾔﾏﾀﾞ")), "your name"),
                "half-width katakana in the name matches full-width in the password");
        assertEquals(List.of(), policy.problems("田中の春夏秋冬が好きです", "ab", List.of("田中", "tk")),
                "parts shorter than three characters are not looked for");
    }

    @Test
    void aRepeatedCharacterOrShortPatternIsRefused() {
        assertTrue(problemMentions(policy.problems("aaaaaaaaaaaa", null, null), "repeated"));
        assertTrue(problemMentions(policy.problems("ああああああああああああ", null, null), "repeated"));
        assertTrue(problemMentions(policy.problems("abcabcabcabc", null, null), "repeated"));
        assertTrue(problemMentions(policy.problems("1a2b1a2b1a2b1a2b", null, null), "repeated"));
        assertEquals(List.of(), policy.problems("abcdeabcdeabcde", null, null), "a longer unit is not a pattern");
    }

    @Test
    void aPlainSequenceIsRefused() {
        assertTrue(problemMentions(policy.problems("123456789012", null, null), "sequence"));
        assertTrue(problemMentions(policy.problems("abcdefghijkl", null, null), "sequence"));
        assertTrue(problemMentions(policy.problems("ZYXWVUTSRQPO", null, null), "sequence"));
        assertTrue(problemMentions(policy.problems("９８７６５４３２１０９８", null, null), "sequence"));
        assertTrue(problemMentions(policy.problems("uvwxyzabcdefg", null, null), "sequence"));
        assertEquals(List.of(), policy.problems("abcdefghijkm", null, null), "one break is enough");
    }

    @Test
    void messagesAreJapaneseThenEnglishAndNeverContainThePassword() {
        List<String> p = policy.problems("tanaka", "tanaka", List.of("tanaka"));
        assertTrue(p.size() >= 2);
        for (String m : p) {
            assertTrue(m.matches("[^ -~].* / [A-Z].*"), m);
            assertFalse(m.toLowerCase().contains("tanaka"), m);
        }
        assertEquals(1, policy.problems(null, null, null).size());
        assertEquals(1, policy.problems("", null, null).size());
    }

    private static boolean problemMentions(List<String> problems, String english) {
        return problems.stream().anyMatch(m -> m.contains(english));
    }
}
