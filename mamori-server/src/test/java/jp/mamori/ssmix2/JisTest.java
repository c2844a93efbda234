package jp.mamori.ssmix2;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The character set of SS-MIX2 files: what is read, what is refused, what export writes. */
class JisTest {
    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    @Test
    void mixedEscapeSequencesAreRead() throws Exception {
        // ESC $ B (JIS X 0208-1983) 山田, ESC ( B ASCII, ESC $ @ (1978) 亜, ESC ( J (JIS roman) A
        byte[] b = bytes('P', 'I', 'D', '|', 0x1b, '$', 'B', 0x3b, 0x33, 0x45, 0x44, 0x1b, '(', 'B', '|',
                0x1b, '$', '@', 0x30, 0x21, 0x1b, '(', 'J', 'A');
        assertEquals("PID|山田|亜A", Jis.decode(b));
    }

    @Test
    void whatIsNotIso2022JpIsRefusedWithWhere() {
        Jis.Undecodable sjis = assertThrows(Jis.Undecodable.class, () -> Jis.decode("PID|山田".getBytes(
                java.nio.charset.Charset.forName("Shift_JIS"))));
        assertTrue(sjis.getMessage().contains("byte 4 is 8-bit"), sjis.getMessage());
        assertThrows(Jis.Undecodable.class, () -> Jis.decode("山田".getBytes(StandardCharsets.UTF_8)));
        // JIS X 0212 (ESC $ ( D) and a double-byte character cut in half
        assertThrows(Jis.Undecodable.class, () -> Jis.decode(bytes(0x1b, '$', '(', 'D', 0x30, 0x21, 0x1b, '(', 'B')));
        assertThrows(Jis.Undecodable.class, () -> Jis.decode(bytes(0x1b, '$', 'B', 0x30)));
    }

    @Test
    void exportWritesJisX0208OnlyAndCountsWhatItReplaced() throws Exception {
        int[] replaced = {0};
        byte[] b = Jis.encode("髙橋ｶﾞｸ 山田", replaced);
        assertEquals(1, replaced[0], "髙 is not in JIS X 0208");
        assertEquals("■橋ガク 山田", Jis.decode(b), "half-width katakana written full-width");
        for (byte x : b) {
            assertTrue((x & 0x80) == 0);
        }
        assertTrue(new String(b, StandardCharsets.US_ASCII).contains("\u001b$B"), "JIS X 0208 by its escape");
        assertArrayEquals("MSH|".getBytes(StandardCharsets.US_ASCII), Jis.encode("MSH|", new int[1]));
    }
}
