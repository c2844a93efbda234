package jp.mamori.ledger;

/**
 * Reads {@code seq} and {@code prev} from one entry line without a JSON library and without allocating:
 * the fast path expects the canonical start {@code {"seq":N,"prev":"<base64>",}; otherwise it scans the
 * top-level object for a {@code "prev"} member. Everything else in the entry is opaque. Not thread-safe.
 */
final class EntryScanner {
    static final int ABSENT = 0;
    static final int EMPTY = 1;
    static final int PRESENT = 2;
    static final int MALFORMED = 3;

    private static final byte[] SEQ = "{\"seq\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] PREV = "\"prev\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int[] B64 = new int[256];

    static {
        java.util.Arrays.fill(B64, -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++) {
            B64[alphabet.charAt(i)] = i;
        }
    }

    /** The entry's seq, or -1 when the line does not start with a valid {@code {"seq":N}. */
    long seq;
    /** ABSENT, EMPTY ({@code "prev":""}), PRESENT (decoded into {@link #prev}) or MALFORMED. */
    int prevState;
    final byte[] prev = new byte[Merkle.HASH_SIZE];

    void scan(byte[] b, int off, int len) {
        seq = -1;
        prevState = ABSENT;
        int end = off + len;
        if (len < SEQ.length + 2 || !startsWith(b, off, end, SEQ)) {
            return;
        }
        int p = off + SEQ.length;
        int digits = 0;
        long v = 0;
        while (p < end && b[p] >= '0' && b[p] <= '9') {
            if (++digits > 18) {
                return;
            }
            v = v * 10 + (b[p] - '0');
            p++;
        }
        if (digits == 0 || (digits > 1 && b[off + SEQ.length] == '0') || p >= end || (b[p] != ',' && b[p] != '}')) {
            return;
        }
        seq = v;
        if (b[p] == '}') {
            return;
        }
        p++;
        if (startsWith(b, p, end, PREV)) {
            prevValue(b, p + PREV.length, end);
        } else {
            slowPrev(b, p, end);
        }
    }

    /** Decodes the string value starting at q (just after its opening quote). */
    private void prevValue(byte[] b, int q, int end) {
        if (q < end && b[q] == '"') {
            prevState = EMPTY;
            return;
        }
        if (q + 45 > end || b[q + 44] != '"' || b[q + 43] != '=' || !decode32(b, q)) {
            prevState = MALFORMED;
            return;
        }
        prevState = PRESENT;
    }

    /** 44 base64 characters (43 significant, one '=') to 32 bytes; false unless canonical. */
    private boolean decode32(byte[] b, int q) {
        int o = 0;
        for (int g = 0; g < 10; g++, q += 4) {
            int a = B64[b[q] & 0xff], c = B64[b[q + 1] & 0xff], d = B64[b[q + 2] & 0xff], e = B64[b[q + 3] & 0xff];
            if ((a | c | d | e) < 0) {
                return false;
            }
            int x = (a << 18) | (c << 12) | (d << 6) | e;
            prev[o++] = (byte) (x >>> 16);
            prev[o++] = (byte) (x >>> 8);
            prev[o++] = (byte) x;
        }
        int a = B64[b[q] & 0xff], c = B64[b[q + 1] & 0xff], d = B64[b[q + 2] & 0xff];
        if ((a | c | d) < 0 || (d & 3) != 0) {
            return false;
        }
        int x = (a << 12) | (c << 6) | d;
        prev[o++] = (byte) (x >>> 10);
        prev[o] = (byte) (x >>> 2);
        return true;
    }

    /** Looks for a top-level "prev" member anywhere after seq. */
    private void slowPrev(byte[] b, int p, int end) {
        int depth = 1;
        while (p < end) {
            byte ch = b[p];
            if (ch == '"') {
                int s = p + 1;
                int q = s;
                while (q < end && b[q] != '"') {
                    q += b[q] == '\\' ? 2 : 1;
                }
                if (q >= end) {
                    return;
                }
                int after = q + 1;
                while (after < end && (b[after] == ' ' || b[after] == '\t')) {
                    after++;
                }
                boolean isKey = after < end && b[after] == ':';
                if (depth == 1 && isKey && q - s == 4 && b[s] == 'p' && b[s + 1] == 'r' && b[s + 2] == 'e' && b[s + 3] == 'v') {
                    int v = after + 1;
                    while (v < end && (b[v] == ' ' || b[v] == '\t')) {
                        v++;
                    }
                    if (v < end && b[v] == '"') {
                        prevValue(b, v + 1, end);
                    } else {
                        prevState = MALFORMED;
                    }
                    return;
                }
                p = q + 1;
                continue;
            }
            if (ch == '{' || ch == '[') {
                depth++;
            } else if (ch == '}' || ch == ']') {
                depth--;
            }
            p++;
        }
    }

    private static boolean startsWith(byte[] b, int off, int end, byte[] prefix) {
        if (end - off < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[off + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
