package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The archive format and the plain-folder parts, against cut-short, tampered and hostile input. */
class TarAndPartsTest {
    @Test
    void whatTheWriterWritesTheReaderReadsBack() throws Exception {
        byte[] tar = sample();
        assertEquals(0, tar.length % 512);
        Tar.Reader r = new Tar.Reader(new ByteArrayInputStream(tar), "t.tar");
        Tar.Entry d = r.next();
        assertEquals(new Tar.Entry("base", Tar.Type.DIRECTORY, 0, 0700, 1), d);
        Tar.Entry f = r.next();
        assertEquals("base/" + "y".repeat(60) + "/" + "x".repeat(60), f.name(), "a long name uses the ustar prefix");
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), r.content().readAllBytes());
        assertEquals("empty", r.next().name());
        assertNull(r.next());
    }

    @Test
    void systemTarReadsIt() throws Exception {
        Path dir = TestData.newFolder("tar-");
        Files.createDirectories(dir);
        Files.write(dir.resolve("t.tar"), sample());
        Process p = new ProcessBuilder("tar", "-tf", dir.resolve("t.tar").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals(List.of("base/", "base/" + "y".repeat(60) + "/" + "x".repeat(60), "empty"), out.lines().toList());
    }

    @Test
    void aCutShortOrAlteredArchiveIsRefusedInOneLine() throws Exception {
        byte[] tar = sample();
        for (int cut : new int[] {100, 512, 1024 + 3, tar.length - 512}) {
            BackupException e = assertThrows(BackupException.class, () -> readAll(Arrays.copyOf(tar, cut)));
            assertTrue(e.getMessage().contains("part t.tar is truncated"), cut + ": " + e.getMessage());
        }
        byte[] flipped = tar.clone();
        flipped[512 + 10] ^= 1; // inside the second header's name
        assertTrue(assertThrows(BackupException.class, () -> readAll(flipped)).getMessage()
                .contains("checksum is wrong"));
        byte[] trailing = Arrays.copyOf(tar, tar.length + 512);
        trailing[tar.length + 7] = 'x';
        assertTrue(assertThrows(BackupException.class, () -> readAll(trailing)).getMessage()
                .contains("data follows the end"));
    }

    @Test
    void hostileNamesAndKindsAreRefused() throws Exception {
        for (String name : List.of("../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b", "sp ace")) {
            byte[] tar = withHeader(name, '0');
            BackupException e = assertThrows(BackupException.class, () -> readAll(tar), name);
            assertTrue(e.getMessage().contains("bad entry name"), e.getMessage());
        }
        for (char type : new char[] {'1', '2', '3', '4', '6', 'x', 'L'}) {
            BackupException e = assertThrows(BackupException.class, () -> readAll(withHeader("link", type)));
            assertTrue(e.getMessage().contains("neither a file nor a folder"), e.getMessage());
        }
    }

    @Test
    void folderPartsCommitOnCloseOnlyAndRefuseBadNames() throws Exception {
        FolderParts parts = new FolderParts(TestData.newFolder("parts-"));
        OutputStream a = parts.create("base/x/data.tar");
        a.write(new byte[3000]);
        assertEquals(List.of(), parts.list(""), "not visible before it is closed");
        a.close();
        assertEquals(List.of("base/x/data.tar"), parts.list("base/"));
        OutputStream b = parts.create("base/x/wal.tar");
        b.write(1);
        PartSink.abort(b);
        assertEquals(List.of("base/x/data.tar"), parts.list(""));
        try (var s = Files.walk(parts.root())) {
            assertEquals(1, s.filter(Files::isRegularFile).count(), "the aborted part's temporary file is gone");
        }
        try (InputStream in = parts.open("base/x/data.tar")) {
            assertEquals(3000, in.readAllBytes().length);
        }
        for (String bad : List.of("../x", "/x", "a/../b", ".hidden", "a//b", "a b", "")) {
            assertThrows(BackupException.class, () -> parts.create(bad), bad);
            assertThrows(BackupException.class, () -> parts.open(bad), bad);
        }
        assertThrows(IOException.class, () -> parts.open("base/x/none"));
    }

    @Test
    void aBackupDescriptionIsReadStrictly() throws Exception {
        BackupInfo info = new BackupInfo("b", -5L, 1, "0/2000028", "0/2000100", "000000010000000000000002",
                "000000010000000000000002", 16 << 20, 170006, java.time.Instant.EPOCH, java.time.Instant.EPOCH,
                List.of(new BackupInfo.PartInfo("base/b/data.tar", 10, "0".repeat(64))));
        assertEquals(info, BackupInfo.read(new ByteArrayInputStream(info.encode()), "i"));
        String text = new String(info.encode(), StandardCharsets.UTF_8);
        for (String bad : List.of(text.substring(0, text.length() - 20), text.replace("timeline 1", "timeline x"),
                text + "extra line\n",
                text.replace("stop-wal 000000010000000000000002", "stop-wal 00000001000000000000000"),
                "x".repeat(70_000))) {
            BackupException e = assertThrows(BackupException.class,
                    () -> BackupInfo.read(new ByteArrayInputStream(bad.getBytes(StandardCharsets.UTF_8)), "i"));
            assertTrue(e.getMessage().startsWith("部品 i を読めません / part i is not valid"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    private static byte[] sample() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Tar.Writer w = new Tar.Writer(out);
        w.directory("base", 0700, 1);
        w.file("base/" + "y".repeat(60) + "/" + "x".repeat(60), 0600, 2, "hello".getBytes(StandardCharsets.US_ASCII));
        w.file("empty", 0600, 3, new byte[0]);
        w.finish();
        return out.toByteArray();
    }

    /** A one-entry archive with a well-formed header of any name and type, as an attacker would craft it. */
    private static byte[] withHeader(String name, char type) {
        byte[] h = new byte[512 * 3];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, h, 0, n.length);
        put(h, 100, "0000600");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, "00000000000");
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[263] = '0';
        h[264] = '0';
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += h[i] & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private static void readAll(byte[] tar) throws IOException {
        Tar.Reader r = new Tar.Reader(new ByteArrayInputStream(tar), "t.tar");
        while (r.next() != null) {
            r.content().readAllBytes();
        }
    }
}
