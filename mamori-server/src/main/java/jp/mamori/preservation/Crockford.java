package jp.mamori.preservation;

/**
 * Crockford's base32 (digits and upper-case letters without I, L, O and U), used for text a person copies from
 * paper: the recovery key and the signer's fingerprint. Decoding is case-insensitive and reads O as 0 and I, L as 1.
 */
final class Crockford {
    static final String ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private Crockford() {
    }

    /** Characters for {@code bytes}, 5 bits each, the last one padded with zero bits. */
    static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder((bytes.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                sb.append(ALPHABET.charAt((buffer >>> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(ALPHABET.charAt((buffer << (5 - bits)) & 31));
        }
        return sb.toString();
    }

    /** The value 0..31 of one character, or -1 when it is not a base32 character. */
    static int value(char c) {
        char u = Character.toUpperCase(c);
        switch (u) {
            case 'O':
                return 0;
            case 'I':
            case 'L':
                return 1;
            default:
                return u < 128 ? ALPHABET.indexOf(u) : -1;
        }
    }

    /**
     * The {@code length} bytes in {@code text} (already checked to hold only base32 characters, exactly enough of
     * them); null when the padding bits of the last character are not zero.
     */
    static byte[] decode(CharSequence text, int length) {
        byte[] out = new byte[length];
        int buffer = 0;
        int bits = 0;
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            buffer = (buffer << 5) | value(text.charAt(i));
            bits += 5;
            if (bits >= 8) {
                if (n == length) {
                    return null;
                }
                out[n++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
            buffer &= (1 << bits) - 1;
        }
        return n == length && buffer == 0 ? out : null;
    }

    /** {@code s} in groups of four characters joined by '-'. */
    static String grouped(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i += 4) {
            if (i > 0) {
                sb.append('-');
            }
            sb.append(s, i, Math.min(s.length(), i + 4));
        }
        return sb.toString();
    }
}
