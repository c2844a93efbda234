package jp.mamori.identity;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecoveryCodesTest {
    @Test
    void tenCodesOfTwelveUnambiguousCharactersInThreeGroupsAreMadeByDefault() {
        List<String> codes = RecoveryCodes.generate();
        assertEquals(10, codes.size());
        assertEquals(10, new HashSet<>(codes).size(), "distinct");
        for (String c : codes) {
            assertTrue(c.matches("[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}"), c);
        }
    }

    @Test
    void theAlphabetHasNoLookAlikesAndGivesAboutSixtyBits() {
        assertEquals(31, RecoveryCodes.ALPHABET.length());
        for (char c : "01OIL".toCharArray()) {
            assertEquals(-1, RecoveryCodes.ALPHABET.indexOf(c), String.valueOf(c));
        }
        double bits = RecoveryCodes.LENGTH * Math.log(RecoveryCodes.ALPHABET.length()) / Math.log(2);
        assertTrue(bits > 59 && bits < 60, String.valueOf(bits));
    }

    @Test
    void everyCharacterOfTheAlphabetTurnsUp() {
        Set<Character> seen = new HashSet<>();
        for (String c : RecoveryCodes.generate(100)) {
            c.replace("-", "").chars().forEach(ch -> seen.add((char) ch));
        }
        assertEquals(31, seen.size(), "1,200 draws from 31 characters miss one with odds under 1e-15");
    }

    @Test
    void theCountIsBounded() {
        assertEquals(1, RecoveryCodes.generate(1).size());
        assertThrows(IllegalArgumentException.class, () -> RecoveryCodes.generate(0));
        assertThrows(IllegalArgumentException.class, () -> RecoveryCodes.generate(101));
    }

    @Test
    void anEntryIsNormalizedFromLowerCaseSpacesDashesAndFullWidth() {
        assertEquals("ABCD2345WXYZ", RecoveryCodes.normalize("abcd-2345-wxyz"));
        assertEquals("ABCD2345WXYZ", RecoveryCodes.normalize(" abcd 2345  wxyz "));
        assertEquals("ABCD2345WXYZ", RecoveryCodes.normalize("ＡＢＣＤ－２３４５－ＷＸＹＺ"));
        assertEquals("ABCD2345WXYZ", RecoveryCodes.normalize("ａｂｃｄー２３４５　ｗｘｙｚ"), "long sound mark, ideographic space");
        assertEquals("ABCD2345WXYZ", RecoveryCodes.normalize("ABCD\u20122345\u2212WXYZ"));
        assertEquals("ABCD2345WXY0", RecoveryCodes.normalize("abcd-2345-wxy0"), "a wrong character stays wrong");
    }

    @Test
    void theHashIsSha256OfTheDomainPrefixAndTheNormalizedCode() throws Exception {
        byte[] expected = MessageDigest.getInstance("SHA-256")
                .digest("mamori-recovery-v1:ABCD2345WXYZ".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(expected, RecoveryCodes.hash("ABCD-2345-WXYZ"));
        assertArrayEquals(expected, RecoveryCodes.hash("abcd 2345 wxyz"));
    }

    @Test
    void aGeneratedCodeMatchesItsHashHoweverItIsTypedAndNothingElseDoes() {
        List<String> codes = RecoveryCodes.generate(2);
        byte[] stored = RecoveryCodes.hash(codes.get(0));
        assertTrue(RecoveryCodes.matches(stored, codes.get(0)));
        assertTrue(RecoveryCodes.matches(stored, codes.get(0).toLowerCase().replace("-", " ")));
        assertFalse(RecoveryCodes.matches(stored, codes.get(1)));
        String c = codes.get(0);
        String oneOff = c.substring(0, 13) + (c.charAt(13) == 'Z' ? 'Y' : 'Z');
        assertFalse(RecoveryCodes.matches(stored, oneOff));
        assertFalse(RecoveryCodes.matches(stored, c.substring(0, 13)));
        assertFalse(RecoveryCodes.matches(stored, null));
        assertFalse(RecoveryCodes.matches(null, c));
        assertFalse(RecoveryCodes.matches(stored, c + " ".repeat(200)), "absurdly long entries are refused");
    }
}
