package jp.mamori.ledger;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * Entry lines already hashed and scanned, in file order: the part of verification that needs no order
 * and so can run on several threads. The verifier then walks the batches in order.
 */
final class LineBatch {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = 0x0a0a0a0a0a0a0a0aL;

    int count;
    long[] seq;
    byte[] prevState;
    byte[] prev;
    byte[] hash;

    LineBatch(int capacity) {
        seq = new long[capacity];
        prevState = new byte[capacity];
        prev = new byte[capacity * Merkle.HASH_SIZE];
        hash = new byte[capacity * Merkle.HASH_SIZE];
    }

    boolean full() {
        return count == seq.length;
    }

    void add(byte[] b, int off, int len, Merkle.Hasher hasher, EntryScanner scanner) {
        if (count == seq.length) {
            int cap = seq.length * 2;
            seq = Arrays.copyOf(seq, cap);
            prevState = Arrays.copyOf(prevState, cap);
            prev = Arrays.copyOf(prev, cap * Merkle.HASH_SIZE);
            hash = Arrays.copyOf(hash, cap * Merkle.HASH_SIZE);
        }
        int i = count++;
        hasher.leaf(b, off, len, hash, i * Merkle.HASH_SIZE);
        scanner.scan(b, off, len);
        seq[i] = scanner.seq;
        prevState[i] = (byte) scanner.prevState;
        if (scanner.prevState == EntryScanner.PRESENT) {
            System.arraycopy(scanner.prev, 0, prev, i * Merkle.HASH_SIZE, Merkle.HASH_SIZE);
        }
    }

    /** The index of the first '\n' in b[from, to), or -1; eight bytes at a time. */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ NEWLINES;
            long t = (x - ONES) & ~x & HIGHS;
            if (t != 0) {
                return i + (Long.numberOfTrailingZeros(t) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /**
     * Hashes and scans the lines that start in [begin, end) of the file: a line starts at 0 or after a
     * '\n'. The last of them is read to its end even past {@code end}. Thread-safe per call.
     */
    static LineBatch read(FileChannel ch, long fileSize, long begin, long end) throws IOException {
        long pos = begin == 0 ? 0 : begin - 1;
        byte[] buf = new byte[(int) (end - pos) + 8192];
        int have = fill(ch, buf, 0, pos, fileSize);
        int lineStart;
        if (begin == 0) {
            lineStart = 0;
        } else {
            int nl = indexOfNewline(buf, 0, Math.min(have, (int) (end - pos)));
            if (nl < 0) {
                return new LineBatch(1); // no line starts in this range
            }
            lineStart = nl + 1;
        }
        LineBatch out = new LineBatch(Math.max(16, (int) ((end - begin) / 256)));
        Merkle.Hasher hasher = new Merkle.Hasher();
        EntryScanner scanner = new EntryScanner();
        int limit = (int) (end - pos); // lines must start before this offset
        while (lineStart < limit && pos + lineStart < fileSize) {
            int nl = indexOfNewline(buf, lineStart, have);
            while (nl < 0 && pos + have < fileSize) {
                if (have == buf.length) {
                    if (buf.length >= 1 << 29) {
                        throw new IOException("an entry line is longer than 512 MiB");
                    }
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
                int from = have;
                have += fill(ch, buf, have, pos + have, fileSize);
                nl = indexOfNewline(buf, from, have);
            }
            int lineEnd = nl < 0 ? have : nl;
            out.add(buf, lineStart, lineEnd - lineStart, hasher, scanner);
            lineStart = lineEnd + 1;
        }
        return out;
    }

    private static int fill(FileChannel ch, byte[] buf, int off, long filePos, long fileSize) throws IOException {
        int want = (int) Math.min(buf.length - off, fileSize - filePos);
        ByteBuffer bb = ByteBuffer.wrap(buf, off, want);
        long p = filePos;
        while (bb.hasRemaining()) {
            int r = ch.read(bb, p);
            if (r < 0) {
                break;
            }
            p += r;
        }
        return (int) (p - filePos);
    }
}
