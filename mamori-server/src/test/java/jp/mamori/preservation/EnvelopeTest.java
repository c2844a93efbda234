package jp.mamori.preservation;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static jp.mamori.preservation.Fixtures.headerLength;
import static jp.mamori.preservation.Fixtures.open;
import static jp.mamori.preservation.Fixtures.plain;
import static jp.mamori.preservation.Fixtures.seal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnvelopeTest {
    private static final String NAME = "base/0001.tar";
    /** Small chunks for the tests that cut and reorder: 7 full chunks and a short last one. */
    private static final int SMALL = 1024;

    @TempDir
    Path dir;
    private BackupKeys keys;
    private Envelope.Opener installation;

    @BeforeEach
    void keys() {
        keys = BackupKeys.loadOrCreate(dir.resolve("data"));
        installation = Envelope.Opener.of(keys);
    }

    private EnvelopeException refused(byte[] sealed, String name, Envelope.Opener opener) {
        EnvelopeException e = assertThrows(EnvelopeException.class, () -> open(sealed, name, opener));
        assertTrue(e.getMessage().contains(" / part " + name + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertEquals(name, e.part());
        return e;
    }

    private static void assertMessage(EnvelopeException e, String english, String japanese) {
        assertTrue(e.getMessage().contains(english), e.getMessage());
        assertTrue(e.getMessage().contains(japanese), e.getMessage());
    }

    @Test
    void roundTripsAtTheEdgesOfAChunkAndBeyond() throws IOException {
        RecoveryKey recovery = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(dir.resolve("data")));
        Envelope env = new Envelope(keys);
        int chunk = Envelope.CHUNK;
        for (int size : new int[] {0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 123}) {
            byte[] plain = plain(size, size);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Manifest.Part part;
            try (Envelope.SealingStream s = env.seal(out, NAME)) {
                // Uneven writes, to cross chunk boundaries inside one write.
                for (int off = 0; off < size; ) {
                    int n = Math.min(size - off, 300_001);
                    s.write(plain, off, n);
                    off += n;
                }
                part = s.finish();
            }
            byte[] sealed = out.toByteArray();
            assertArrayEquals(plain, open(sealed, NAME, installation), "size " + size);
            assertArrayEquals(plain, open(sealed, NAME, Envelope.Opener.of(recovery)), "size " + size);
            assertEquals(size, part.plainSize());
            assertEquals(sealed.length, part.sealedSize());
            assertEquals(jp.mamori.kernel.Hashes.hex(jp.mamori.kernel.Hashes.sha256(sealed)), part.sha256());
            int chunks = Math.max(1, (size + chunk - 1) / chunk);
            assertEquals(headerLength(sealed) + size + chunks * 20L, sealed.length, "one frame and tag per chunk");
            assertEquals(part, Envelope.check(new ByteArrayInputStream(sealed), NAME, installation));
        }
    }

    @Test
    void theSealedBytesHideThePlaintextAndDifferEachTime() throws IOException {
        byte[] plain = "患者 山田太郎 PATIENT-SECRET ".repeat(200).getBytes(StandardCharsets.UTF_8);
        Envelope env = new Envelope(keys);
        byte[] a = seal(env, NAME, plain);
        byte[] b = seal(env, NAME, plain);
        assertFalse(new String(a, StandardCharsets.ISO_8859_1).contains("PATIENT-SECRET"));
        assertFalse(Arrays.equals(a, b), "a fresh data key and nonce prefix per part");
    }

    @Test
    void readsByteByByteAndInSmallPieces() throws IOException {
        byte[] plain = plain(5 * SMALL + 7, 1);
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (InputStream in = Envelope.open(new ByteArrayInputStream(sealed), NAME, installation)) {
            int c;
            while ((c = in.read()) >= 0) {
                got.write(c);
            }
            assertEquals(-1, in.read(new byte[10], 0, 10));
        }
        assertArrayEquals(plain, got.toByteArray());
    }

    @Test
    void everyFlippedHeaderByteIsRefused() throws IOException {
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(3 * SMALL, 2));
        RecoveryKey recovery = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(dir.resolve("data")));
        int header = headerLength(sealed);
        for (int i = 0; i < header; i++) {
            byte[] t = sealed.clone();
            t[i] ^= 0x04;
            String m1 = refused(t, NAME, installation).getMessage();
            String m2 = refused(t, NAME, Envelope.Opener.of(recovery)).getMessage();
            if (i < 8) {
                assertTrue(m1.contains("not a Mamori backup part"), i + ": " + m1);
            } else if (i < 10) {
                assertTrue(m1.contains("format version"), i + ": " + m1);
            }
            assertTrue(m1.contains("header") || m1.contains("is part") || m1.contains("installation")
                    || m1.contains("another") || m1.contains("Mamori") || m1.contains("version"), i + ": " + m1);
            assertTrue(m2.contains("header") || m2.contains("is part") || m2.contains("another")
                    || m2.contains("Mamori") || m2.contains("version"), i + ": " + m2);
        }
        // From the wraps on, every flip is an altered header to both openers (the header tag covers both wraps),
        // except in the key ids, which name the key the opener lacks.
        int wrap1 = header - Envelope.WRAP1 - Envelope.WRAP2 - Envelope.TAG;
        int wrap2 = wrap1 + Envelope.WRAP1;
        for (int i = wrap1; i < header; i++) {
            byte[] t = sealed.clone();
            t[i] ^= 1;
            String m1 = refused(t, NAME, installation).getMessage();
            String m2 = refused(t, NAME, Envelope.Opener.of(recovery)).getMessage();
            boolean id1 = i < wrap1 + Envelope.KEY_ID;
            boolean id2 = i >= wrap2 && i < wrap2 + Envelope.KEY_ID;
            assertTrue(m1.contains(id1 ? "sealed under another data-wrapping key" : "the header was altered"), i + m1);
            assertTrue(m2.contains(id2 ? "sealed for another recovery key" : "the header was altered"), i + m2);
        }
    }

    @Test
    void aFlippedByteInAChunkOrItsTagNamesTheChunkAndReleasesNothingOfIt() throws IOException {
        byte[] plain = plain(7 * SMALL + 100, 3);
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain);
        int header = headerLength(sealed);
        int frame = SMALL + 20;
        // Chunk 3's ciphertext, chunk 2's tag, chunk 8's (the last) ciphertext, chunk 1's frame.
        int[][] cases = {{header + 2 * frame + 4 + 17, 3}, {header + 2 * frame - 1, 2}, {sealed.length - 20, 8},
                {header + 2, 1}};
        for (int[] c : cases) {
            byte[] t = sealed.clone();
            t[c[0]] ^= 0x10;
            assertMessage(refused(t, NAME, installation), "chunk " + c[1] + " was altered",
                    "第 " + c[1] + " チャンクが改ざんされています");
            // What came out before the refusal is exactly the chunks before the altered one, unaltered.
            ByteArrayOutputStream released = new ByteArrayOutputStream();
            try (InputStream in = Envelope.open(new ByteArrayInputStream(t), NAME, installation)) {
                byte[] b = new byte[333];
                assertThrows(EnvelopeException.class, () -> {
                    int n;
                    while ((n = in.read(b)) >= 0) {
                        released.write(b, 0, n);
                    }
                });
                assertThrows(EnvelopeException.class, () -> in.read(b), "the failure sticks");
            }
            assertEquals((c[1] - 1) * SMALL, released.size(), "case " + c[0]);
            assertArrayEquals(Arrays.copyOf(plain, released.size()), released.toByteArray());
        }
    }

    private static List<byte[]> chunks(byte[] sealed) {
        List<byte[]> out = new ArrayList<>();
        int pos = headerLength(sealed);
        while (pos < sealed.length) {
            int len = ((sealed[pos] & 0x7f) << 24 | (sealed[pos + 1] & 0xff) << 16 | (sealed[pos + 2] & 0xff) << 8
                    | (sealed[pos + 3] & 0xff)) + 20;
            out.add(Arrays.copyOfRange(sealed, pos, pos + len));
            pos += len;
        }
        return out;
    }

    private static byte[] join(byte[] header, List<byte[]> chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(header, 0, header.length);
        chunks.forEach(out::writeBytes);
        return out.toByteArray();
    }

    @Test
    void reorderedDroppedOrRepeatedChunksAreRefused() throws IOException {
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(7 * SMALL + 100, 4));
        byte[] header = Arrays.copyOf(sealed, headerLength(sealed));
        List<byte[]> chunks = chunks(sealed);
        assertEquals(8, chunks.size());

        List<byte[]> swapped = new ArrayList<>(chunks);
        swapped.set(2, chunks.get(3));
        swapped.set(3, chunks.get(2));
        assertMessage(refused(join(header, swapped), NAME, installation), "chunk 3 was altered (or is out of order)",
                "順序が違います");

        List<byte[]> dropped = new ArrayList<>(chunks);
        dropped.remove(4);
        assertMessage(refused(join(header, dropped), NAME, installation), "chunk 5 was altered", "第 5 チャンク");

        List<byte[]> repeated = new ArrayList<>(chunks);
        repeated.add(2, chunks.get(1));
        assertMessage(refused(join(header, repeated), NAME, installation), "chunk 3 was altered", "第 3 チャンク");

        // Chunks of another part (same installation, same name) under this header.
        byte[] other = seal(new Envelope(keys, SMALL), NAME, plain(7 * SMALL + 100, 4));
        List<byte[]> foreign = new ArrayList<>(chunks);
        foreign.set(6, chunks(other).get(6));
        assertMessage(refused(join(header, foreign), NAME, installation), "chunk 7 was altered", "第 7 チャンク");
    }

    @Test
    void truncationIsNamedWhereverItCuts() throws IOException {
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(7 * SMALL + 100, 5));
        int header = headerLength(sealed);
        int frame = SMALL + 20;
        assertMessage(refused(new byte[0], NAME, installation), "empty, not a Mamori backup part", "空です");
        assertMessage(refused(Arrays.copyOf(sealed, 5), NAME, installation), "truncated in the header",
                "ヘッダーの途中で切れています");
        assertMessage(refused(Arrays.copyOf(sealed, header - 1), NAME, installation), "truncated in the header",
                "ヘッダーの途中");
        assertMessage(refused(Arrays.copyOf(sealed, header), NAME, installation), "truncated after the header",
                "ヘッダーの後で切れています");
        for (int k = 1; k <= 7; k++) {
            assertMessage(refused(Arrays.copyOf(sealed, header + k * frame), NAME, installation),
                    "truncated after chunk " + k, "第 " + k + " チャンクの後で切れています");
            assertMessage(refused(Arrays.copyOf(sealed, header + k * frame - 7), NAME, installation),
                    "truncated inside chunk " + k, "第 " + k + " チャンクの途中で切れています");
        }
        assertMessage(refused(Arrays.copyOf(sealed, header + 2 * frame + 2), NAME, installation),
                "truncated inside chunk 3", "途中で切れています");
        assertMessage(refused(Arrays.copyOf(sealed, sealed.length - 1), NAME, installation),
                "truncated inside chunk 8", "途中で切れています");
        // A part cut at a chunk boundary whose last full chunk is then marked "last" is altered, not complete.
        byte[] cut = Arrays.copyOf(sealed, header + 3 * frame);
        cut[header + 2 * frame] |= (byte) 0x80;
        assertMessage(refused(cut, NAME, installation), "chunk 3 was altered", "改ざん");
        // Bytes after the last chunk.
        byte[] longer = Arrays.copyOf(sealed, sealed.length + 1);
        assertMessage(refused(longer, NAME, installation), "unexpected data after the last chunk", "余分なデータ");
    }

    @Test
    void aPartIsBoundToItsName() throws IOException {
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(2 * SMALL, 6));
        assertMessage(refused(sealed, "base/0002.tar", installation), "is part base/0001.tar, not base/0002.tar",
                "これは別の部品 base/0001.tar です");
        // The name edited in the header to the expected one: the header no longer opens.
        byte[] renamed = sealed.clone();
        int at = new String(renamed, StandardCharsets.ISO_8859_1).indexOf(NAME);
        renamed[at + 8] = '2';
        assertMessage(refused(renamed, "base/0002.tar", installation), "the header was altered", "改ざん");
        RecoveryKey recovery = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(dir.resolve("data")));
        assertMessage(refused(renamed, "base/0002.tar", Envelope.Opener.of(recovery)), "the header was altered",
                "改ざん");
    }

    @Test
    void anotherInstallationsKeysDoNotOpenAPart() throws IOException {
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(SMALL + 1, 7));
        BackupKeys other = BackupKeys.loadOrCreate(dir.resolve("other"));
        assertMessage(refused(sealed, NAME, Envelope.Opener.of(other)),
                "belongs to installation " + keys.installationId() + ", not to this one (" + other.installationId()
                        + ")", "別の施設");
        RecoveryKey otherRecovery = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(dir.resolve("other")));
        assertMessage(refused(sealed, NAME, Envelope.Opener.of(otherRecovery)),
                "sealed for another recovery key", "この復旧鍵では開けません");

        // The same installation id with another data-wrapping key (a key file mixed up or forged).
        Path forged = dir.resolve("forged");
        Path f = BackupKeys.file(forged);
        Files.createDirectories(f.getParent());
        String text = Files.readString(BackupKeys.file(dir.resolve("other")))
                .replaceAll("installation [0-9a-f]+", "installation " + keys.installationId());
        jp.mamori.db.Secrets.writeOwnerOnly(f, text);
        BackupKeys forgedKeys = BackupKeys.loadOrCreate(forged);
        assertEquals(keys.installationId(), forgedKeys.installationId());
        assertMessage(refused(sealed, NAME, Envelope.Opener.of(forgedKeys)), "sealed under another data-wrapping key",
                "別のデータ鍵");
    }

    @Test
    void theRecoveryKeyAloneOpensEveryPart() throws IOException {
        String typed = Fixtures.recoveryKeyOnSheet(dir.resolve("data")).toLowerCase().replace('-', ' ');
        keys.confirmRecoverySheetTakenOffline();
        RecoveryKey recovery = BackupKeys.parseRecoveryKey(typed);
        Envelope env = new Envelope(keys, SMALL);
        for (String name : List.of("base/0001.tar", "wal/000000010000000000000003")) {
            byte[] plain = plain(3 * SMALL + 9, name.hashCode());
            assertArrayEquals(plain, open(seal(env, name, plain), name, Envelope.Opener.of(recovery)));
        }
    }

    @Test
    void foreignDataAndOtherVersionsAreRefused() throws IOException {
        assertMessage(refused("ustar\0 not a backup at all".getBytes(StandardCharsets.US_ASCII), NAME, installation),
                "not a Mamori backup part", "Mamori のバックアップ部品ではありません");
        byte[] sealed = seal(new Envelope(keys, SMALL), NAME, plain(10, 8));
        byte[] v2 = sealed.clone();
        v2[9] = 2;
        assertMessage(refused(v2, NAME, installation), "envelope format version 2 is not supported",
                "対応していない形式の版 2");
        byte[] huge = sealed.clone();
        huge[10] = 0x7f;
        assertMessage(refused(huge, NAME, installation), "the header is malformed", "ヘッダーが壊れています");
    }

    @Test
    void closingWithoutFinishingLeavesAPartThatIsRefused() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Envelope.SealingStream s = new Envelope(keys, SMALL).seal(out, NAME)) {
            s.write(plain(3 * SMALL + 5, 9));
            // An exception here would skip finish(); close() still runs.
        }
        assertMessage(refused(out.toByteArray(), NAME, installation), "truncated after chunk 3", "切れています");
        assertThrows(IllegalArgumentException.class, () -> new Envelope(keys).seal(out, "../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> new Envelope(keys).seal(out, "/abs"));
    }

    @Test
    void sealToWritesTheFileOnlyWhenComplete() throws IOException {
        Path target = dir.resolve("copies/b1/base-0001.tar.mbk");
        byte[] plain = plain(2 * Envelope.CHUNK + 5, 10);
        Manifest.Part part = new Envelope(keys).sealTo(target, NAME, new ByteArrayInputStream(plain));
        assertEquals(Files.size(target), part.sealedSize());
        try (InputStream in = Files.newInputStream(target)) {
            assertEquals(part, Envelope.check(in, NAME, installation));
        }
        // A source that fails half-way leaves no target and no temporary file.
        Path failed = dir.resolve("copies/b1/base-0002.tar.mbk");
        InputStream broken = new InputStream() {
            private int n;

            @Override
            public int read() throws IOException {
                if (n++ > 3 * Envelope.CHUNK) {
                    throw new IOException("disk read error");
                }
                return n & 0xff;
            }
        };
        assertThrows(IOException.class, () -> new Envelope(keys).sealTo(failed, "base/0002.tar", broken));
        try (var files = Files.list(target.getParent())) {
            assertEquals(List.of(target), files.toList());
        }
    }
}
