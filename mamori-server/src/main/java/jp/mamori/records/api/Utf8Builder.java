package jp.mamori.records.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds a UTF-8 document in bytes. Stored resources are already UTF-8; appending them as bytes avoids
 * decoding them to UTF-16 and encoding them back, which dominated the cost of search answers.
 */
final class Utf8Builder {
    private byte[] buf;
    private int len;

    Utf8Builder(int capacity) {
        buf = new byte[Math.max(64, capacity)];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    Utf8Builder append(byte[] utf8) {
        ensure(utf8.length);
        System.arraycopy(utf8, 0, buf, len, utf8.length);
        len += utf8.length;
        return this;
    }

    Utf8Builder append(String s) {
        int n = s.length();
        ensure(n);
        // ASCII fast path: the structure of a bundle is ASCII.
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return append(s.substring(i).getBytes(StandardCharsets.UTF_8));
            }
            buf[len++] = (byte) c;
        }
        return this;
    }

    Utf8Builder append(char c) {
        if (c < 0x80) {
            ensure(1);
            buf[len++] = (byte) c;
            return this;
        }
        return append(String.valueOf(c));
    }

    Utf8Builder append(long v) {
        return append(Long.toString(v));
    }

    Utf8Builder append(Object o) {
        return append(String.valueOf(o));
    }

    byte[] toBytes() {
        return Arrays.copyOf(buf, len);
    }
}
