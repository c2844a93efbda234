package jp.mamori.ssmix2;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;

/**
 * The character set of SS-MIX2 messages: ISO-2022-JP, ASCII (ISO IR-6) with JIS X 0208 (ISO IR-87) switched in by
 * escape sequences ({@code ESC $ B}, {@code ESC $ @}) and back ({@code ESC ( B}, {@code ESC ( J}). Decoding is strict:
 * any byte or sequence that is not ISO-2022-JP (an 8-bit byte of Shift_JIS or UTF-8, JIS X 0212, a cut double-byte
 * character) refuses the message rather than guessing, so that no mojibake is ever written. The JDK also reads
 * half-width katakana ({@code ESC ( I}), which some systems write: kept as read. Export writes ASCII and JIS X 0208
 * only, half-width katakana as full-width (the guideline's rule for one-byte characters).
 */
final class Jis {
    static final Charset ISO_2022_JP = Charset.forName("ISO-2022-JP");
    /** What a character JIS X 0208 cannot hold becomes on export (the guideline's 外字 replacement). */
    static final char REPLACEMENT = '■';

    private static final java.util.regex.Pattern HALF_WIDTH_KANA = java.util.regex.Pattern.compile("[\uFF61-\uFF9F]+");

    private Jis() {
    }

    /** Thrown when the bytes are not ISO-2022-JP; the message says where. */
    static final class Undecodable extends Exception {
        Undecodable(String message) {
            super(message);
        }
    }

    static String decode(byte[] bytes) throws Undecodable {
        for (int i = 0; i < bytes.length; i++) {
            if ((bytes[i] & 0x80) != 0) {
                throw new Undecodable("8 ビットのバイトがあります（Shift_JIS や UTF-8 の可能性） / byte " + i + " is 8-bit"
                        + " (0x" + Integer.toHexString(bytes[i] & 0xff) + "): not ISO-2022-JP (Shift_JIS or UTF-8?)");
            }
        }
        CharsetDecoder d = ISO_2022_JP.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            String s = d.decode(in).toString();
            if (s.indexOf('\u001b') >= 0 || s.indexOf('\ufffd') >= 0) {
                throw new Undecodable("未知のエスケープシーケンスです / an escape sequence that is not ISO-2022-JP");
            }
            return s;
        } catch (CharacterCodingException e) {
            throw new Undecodable("ISO-2022-JP として読めません / not ISO-2022-JP near byte " + in.position()
                    + " (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The text in ISO-2022-JP; characters it cannot hold become {@link #REPLACEMENT}, counted in {@code replaced}. */
    static byte[] encode(String text, int[] replaced) {
        CharsetEncoder e = ISO_2022_JP.newEncoder();
        text = HALF_WIDTH_KANA.matcher(text).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(
                java.text.Normalizer.normalize(m.group(), java.text.Normalizer.Form.NFKC)));
        StringBuilder safe = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            String ch = new String(Character.toChars(cp));
            if (e.canEncode(ch) && !HALF_WIDTH_KANA.matcher(ch).matches()) {
                safe.append(ch);
            } else {
                safe.append(REPLACEMENT);
                replaced[0]++;
            }
        });
        try {
            ByteBuffer b = ISO_2022_JP.newEncoder().encode(CharBuffer.wrap(safe));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException ex) {
            throw new IllegalStateException("ISO-2022-JP encoding failed after replacement", ex);
        }
    }
}
