package jp.mamori.preservation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Seals and opens a 256 MiB stream in memory and prints the throughput (benchmark-style; nothing is asserted about
 * time). Both directions include the SHA-256 of the sealed bytes, which the manifest lists. Figures are in the test's
 * output file (target/surefire-reports/...EnvelopeThroughputBench-output.txt).
 */
class EnvelopeThroughputBench {
    private static final int MIB = 1 << 20;
    private static final int SIZE = 256 * MIB;

    @TempDir
    Path dir;

    /** An output stream into one preallocated array, so the measurement is the envelope's, not a buffer's growth. */
    private static final class ArrayOut extends OutputStream {
        final byte[] bytes;
        int size;

        ArrayOut(int capacity) {
            bytes = new byte[capacity];
        }

        @Override
        public void write(int b) {
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }
    }

    @Test
    void sealsAndOpens256MiBAndPrintsTheThroughput() throws IOException, NoSuchAlgorithmException {
        BackupKeys keys = BackupKeys.loadOrCreate(dir);
        Envelope env = new Envelope(keys);
        byte[] block = Fixtures.plain(MIB, 16);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < SIZE / MIB; i++) {
            md.update(block);
        }
        byte[] plainHash = md.digest();
        ArrayOut out = new ArrayOut(SIZE + MIB);
        byte[] readBuffer = new byte[256 * 1024];
        // Warm-up: many small chunks, so that the JIT compiles the AES-GCM and SHA-256 intrinsics before measuring.
        Envelope small = new Envelope(keys, 16 * 1024);
        for (int w = 0; w < 3; w++) {
            out.size = 0;
            try (Envelope.SealingStream s = small.seal(out, "warm-up")) {
                for (int i = 0; i < 64; i++) {
                    s.write(block);
                }
                s.finish();
            }
            InputStream in = Envelope.open(new ByteArrayInputStream(out.bytes, 0, out.size), "warm-up",
                    Envelope.Opener.of(keys));
            while (in.read(readBuffer) >= 0) {
                // Discarded.
            }
        }
        for (int round = 1; round <= 2; round++) {
            // Seal: written in 1 MiB blocks, as a tar or a WAL segment stream would be.
            out.size = 0;
            long t0 = System.nanoTime();
            Manifest.Part part;
            try (Envelope.SealingStream s = env.seal(out, "base/0001.tar")) {
                for (int i = 0; i < SIZE / MIB; i++) {
                    s.write(block);
                }
                part = s.finish();
            }
            long sealNanos = System.nanoTime() - t0;
            assertEquals(out.size, part.sealedSize());

            // Open: read in 256 KiB pieces, as a tar reader or a file copy would.
            t0 = System.nanoTime();
            MessageDigest check = MessageDigest.getInstance("SHA-256");
            Envelope.OpeningStream in = Envelope.open(new ByteArrayInputStream(out.bytes, 0, out.size),
                    "base/0001.tar", Envelope.Opener.of(keys));
            long total = 0;
            int n;
            while ((n = in.read(readBuffer)) >= 0) {
                total += n;
                if (round == 2) {
                    check.update(readBuffer, 0, n);
                }
            }
            long openNanos = System.nanoTime() - t0;
            assertEquals(SIZE, total);
            assertEquals(part, in.part());
            assertEquals(part, in.part(), "asked twice, the same");
            if (round == 2) {
                assertArrayEquals(plainHash, check.digest(), "the plaintext came back");
            }
            System.out.printf("round %d: seal %.0f MB/s (%.0f MiB/s), open %.0f MB/s (%.0f MiB/s)%s for %d MiB;"
                            + " overhead %d bytes%n", round, SIZE / (sealNanos / 1e3), SIZE / (sealNanos / 1e9) / MIB,
                    SIZE / (openNanos / 1e3), SIZE / (openNanos / 1e9) / MIB,
                    round == 2 ? " (incl. a SHA-256 of the plaintext by the test)" : "", SIZE / MIB,
                    part.sealedSize() - part.plainSize());
        }
        // The raw primitives alone, for comparison: SHA-256 of 256 MiB.
        long t0 = System.nanoTime();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < SIZE / MIB; i++) {
            sha.update(out.bytes, i * MIB, MIB);
        }
        System.out.printf("SHA-256 alone: %.0f MB/s (%s…)%n", SIZE / ((System.nanoTime() - t0) / 1e3),
                HexFormat.of().formatHex(Arrays.copyOf(sha.digest(), 4)));
    }
}
