package jp.mamori.preservation;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline copy on real folders: absent media, first and later refreshes, damage, a full medium, staleness. */
class OfflineCopyTest {
    private static final Instant T0 = Instant.parse("2026-12-07T03:00:00Z");

    @TempDir
    Path dir;
    private BackupKeys keys;
    private FolderParts main;
    private Path usb;
    private Path local;
    private String inst;

    @BeforeEach
    void setUp() {
        keys = BackupKeys.loadOrCreate(dir.resolve("data"));
        inst = keys.installationId();
        main = new FolderParts(dir.resolve("backups").resolve(inst));
        usb = dir.resolve("usb");
        local = dir.resolve("state");
    }

    private OfflineCopy offline() {
        return new OfflineCopy(main, usb, inst, keys.signerPublicKey(), local);
    }

    private void plugIn() throws IOException {
        Files.createDirectories(usb);
        Files.writeString(usb.resolve(OfflineCopy.MARKER), "");
    }

    private Path medium(String part) {
        return usb.resolve(inst).resolve(part);
    }

    /** A sealed backup in the main folder: its parts, then signature, then manifest (unless {@code finish} is false). */
    private Manifest backup(BackupKeys by, String id, boolean finish) throws IOException {
        SealedParts sp = new SealedParts(main, new Envelope(keys), Envelope.Opener.of(keys));
        String[] names = {"data.tar", "wal.tar", "folder.tar"};
        int[] sizes = {1_500_000, 40_000, 3_000};
        for (int i = 0; i < names.length; i++) {
            try (OutputStream out = sp.create(BackupInfo.prefix(id) + names[i])) {
                out.write(Fixtures.plain(sizes[i], id.hashCode() * 31L + i));
            }
        }
        Manifest.Builder m = Manifest.builder().installationId(by.installationId()).backupId(id).kind("full")
                .createdAt(T0).postgres("17.6", "7581234567890123456").wal(1, "0/2000028", "0/2000100")
                .records(10, 10).auditNextSeq(5).resourceCount("Patient", 3);
        sp.sealed().forEach(m::part);
        Manifest manifest = m.build();
        if (finish) {
            Manifest.Signed signed = manifest.sign(by);
            write(BackupInfo.prefix(id) + Backups.SIGNATURE, signed.signature());
            write(BackupInfo.prefix(id) + Backups.MANIFEST, signed.json());
        }
        return manifest;
    }

    private Manifest backup(String id) throws IOException {
        return backup(keys, id, true);
    }

    private void wal(String name, int size) throws IOException {
        write("wal/" + name, Fixtures.plain(size, name.hashCode()));
    }

    private void write(String part, byte[] bytes) throws IOException {
        try (OutputStream out = main.create(part)) {
            out.write(bytes);
        }
    }

    private static List<String> files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    private void assertSameAsMain(String part) throws IOException {
        assertArrayEquals(Files.readAllBytes(main.file(part)), Files.readAllBytes(medium(part)), part);
    }

    @Test
    void anAbsentMediumOrAFolderWithoutTheMarkerIsNeverWritten() throws IOException {
        backup("b1");
        wal("000000010000000000000001", 1000);
        OfflineCopy.Refresh r = offline().refresh(T0);
        assertFalse(r.present());
        assertTrue(r.notPresent().contains("is not there"), r.notPresent());
        assertFalse(Files.exists(usb));
        assertFalse(Files.exists(local), "nothing written locally either");

        Files.createDirectories(usb); // an empty mount point on the server's own disk
        r = offline().refresh(T0);
        assertFalse(r.present());
        assertTrue(r.notPresent().contains("has no " + OfflineCopy.MARKER) && r.notPresent().contains(" / "),
                r.notPresent());
        assertEquals(List.of(), files(usb));
        assertFalse(Files.exists(local));
        assertEquals(List.of(r.notPresent()), offline().verify());
        assertTrue(offline().status(local, T0, 7).deviation().orElseThrow().contains("never been refreshed"));
    }

    @Test
    void theFirstRefreshCopiesEveryFinishedBackupAndTheWalAndVerifies() throws IOException {
        Manifest b1 = backup("b1");
        Manifest b2 = backup("b2");
        backup(keys, "b3", false); // still being written: no manifest
        wal("000000010000000000000001", 100_000);
        wal("000000010000000000000002", 100_000);
        wal("00000002.history", 50);
        plugIn();

        OfflineCopy.Refresh r = offline().refresh(T0);
        assertTrue(r.present(), r.summary());
        assertEquals(List.of("b1", "b2"), r.backups());
        assertEquals(List.of("000000010000000000000001", "000000010000000000000002", "00000002.history"),
                r.walFiles());
        assertEquals(List.of(), r.repaired());
        assertEquals(List.of(), r.problems());
        assertEquals("b2", r.newestBackup().orElseThrow());
        assertTrue(r.sameDisk(), "the test's folders share a disk, and the result says so");
        long expected = 200_050;
        for (Manifest m : List.of(b1, b2)) {
            for (Manifest.Part p : m.parts()) {
                expected += p.sealedSize();
                assertSameAsMain(p.name());
            }
            assertSameAsMain(BackupInfo.prefix(m.backupId()) + Backups.MANIFEST);
            assertSameAsMain(BackupInfo.prefix(m.backupId()) + Backups.SIGNATURE);
            expected += Files.size(medium(BackupInfo.prefix(m.backupId()) + Backups.MANIFEST))
                    + Files.size(medium(BackupInfo.prefix(m.backupId()) + Backups.SIGNATURE));
        }
        assertEquals(expected, r.bytes());
        assertFalse(Files.exists(medium("base/b3")), "an unfinished backup is not copied");
        assertSameAsMain("wal/000000010000000000000002");
        assertEquals(List.of(), offline().verify());

        // The copy on the medium is a usable backup: its manifest verifies and every part opens.
        FolderParts onMedium = new FolderParts(usb.resolve(inst));
        Manifest m = Backups.manifest(onMedium, "b2", s -> s.verifyWithFingerprint(keys.signerFingerprint()));
        Backups.verify(onMedium, "b2", Envelope.Opener.of(keys), m);

        // The refresh is recorded on the medium and locally.
        String state = Files.readString(medium(OfflineCopy.MEDIUM_STATE));
        assertTrue(state.contains("at " + T0 + "\n") && state.contains("newest-backup b2\n"), state);
        assertEquals(state, Files.readString(local.resolve(OfflineCopy.LOCAL_STATE)));
        OfflineCopy.Status s = offline().status(local, T0.plusSeconds(3600), 7);
        assertEquals(T0, s.lastRefresh().orElseThrow());
        assertEquals("b2", s.newestBackup().orElseThrow());
        assertTrue(s.deviation().isEmpty(), s.toString());
    }

    @Test
    void aLaterRefreshCopiesOnlyWhatIsNewAndNeverDeletes() throws IOException {
        backup("b1");
        wal("000000010000000000000001", 10_000);
        plugIn();
        offline().refresh(T0);

        Manifest b2 = backup("b2");
        wal("000000010000000000000002", 20_000);
        // The main folder's retention removed the old ones: the medium keeps them.
        Files.delete(main.file("wal/000000010000000000000001"));
        OfflineCopy.Refresh r = offline().refresh(T0.plusSeconds(60));
        assertEquals(List.of("b2"), r.backups());
        assertEquals(List.of("000000010000000000000002"), r.walFiles());
        long expected = 20_000 + b2.parts().stream().mapToLong(Manifest.Part::sealedSize).sum()
                + Files.size(main.file("base/b2/" + Backups.MANIFEST)) + Files.size(main.file("base/b2/"
                + Backups.SIGNATURE));
        assertEquals(expected, r.bytes());
        assertTrue(Files.exists(medium("wal/000000010000000000000001")));
        assertEquals("b2", r.newestBackup().orElseThrow());

        OfflineCopy.Refresh again = offline().refresh(T0.plusSeconds(120));
        assertEquals(List.of(), again.backups());
        assertEquals(List.of(), again.walFiles());
        assertEquals(0, again.bytes());
        assertEquals(List.of(), offline().verify());
        assertEquals(T0.plusSeconds(120), offline().status(local, T0.plusSeconds(120), 7).lastRefresh().orElseThrow());
    }

    @Test
    void aDamagedPartOnTheMediumIsNamedAndRepaired() throws IOException {
        Manifest b1 = backup("b1");
        Manifest b2 = backup("b2");
        wal("000000010000000000000001", 10_000);
        plugIn();
        offline().refresh(T0);

        String cut = b1.parts().get(0).name();
        try (RandomAccessFile f = new RandomAccessFile(medium(cut).toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        String altered = b2.parts().get(1).name();
        byte[] b = Files.readAllBytes(medium(altered));
        b[b.length / 2] ^= 1;
        Files.write(medium(altered), b);
        byte[] w = Files.readAllBytes(medium("wal/000000010000000000000001"));
        w[5] ^= 1;
        Files.write(medium("wal/000000010000000000000001"), w);

        List<String> problems = offline().verify();
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("backup b1 on the offline medium: part " + cut + " is truncated"),
                problems.get(0));
        assertTrue(problems.get(1).contains("backup b2 on the offline medium: part " + altered + " is altered"),
                problems.get(1));
        assertTrue(problems.get(2).contains("wal/000000010000000000000001 on the offline medium is altered"),
                problems.get(2));
        problems.forEach(p -> assertFalse(p.contains("\n"), p));

        // A quick refresh repairs what its sizes give away; a full one what only the hashes do.
        OfflineCopy.Refresh quick = offline().refresh(T0.plusSeconds(60));
        assertEquals(List.of(cut), quick.repaired());
        assertEquals(List.of(), quick.backups(), "the manifests were already there");
        assertEquals(2, offline().verify().size());
        OfflineCopy.Refresh full = offline().refresh(T0.plusSeconds(120), true);
        assertEquals(List.of(altered, "wal/000000010000000000000001"), full.repaired());
        assertEquals(List.of(), offline().verify());
        assertSameAsMain(cut);
        assertSameAsMain(altered);
    }

    @Test
    void anInterruptedCopyIsCheckedAndRepairedBeforeItsManifestIsWritten() throws IOException {
        Manifest b1 = backup("b1");
        plugIn();
        // An earlier refresh stopped half-way: one part whole, one part of the right size but wrong bytes.
        String good = b1.parts().get(0).name();
        String bad = b1.parts().get(1).name();
        Files.createDirectories(medium("base/b1"));
        Files.copy(main.file(good), medium(good));
        Files.write(medium(bad), new byte[(int) b1.parts().get(1).sealedSize()]);
        assertTrue(offline().verify().get(0).contains("backup b1 on the offline medium is unfinished"));

        OfflineCopy.Refresh r = offline().refresh(T0);
        assertEquals(List.of("b1"), r.backups());
        assertEquals(List.of(bad), r.repaired());
        assertSameAsMain(bad);
        assertEquals(List.of(), offline().verify());
    }

    @Test
    void aBackupThatDoesNotMatchItsSignedManifestInTheMainFolderIsNotCopied() throws IOException {
        Manifest b1 = backup("b1");
        backup(BackupKeys.loadOrCreate(dir.resolve("elsewhere")), "b2", true); // signed by a foreign key
        backup("b3");
        byte[] b = Files.readAllBytes(main.file(b1.parts().get(2).name()));
        b[100] ^= 1;
        Files.write(main.file(b1.parts().get(2).name()), b);
        plugIn();

        OfflineCopy.Refresh r = offline().refresh(T0);
        assertEquals(List.of("b3"), r.backups());
        assertEquals(2, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).contains("part " + b1.parts().get(2).name() + " in the backup folder does not"
                + " match the signed manifest (altered)"), r.problems().get(0));
        assertTrue(r.problems().get(1).contains("backup b2 is not copied") && r.problems().get(1).contains(
                "signed by another key"), r.problems().get(1));
        assertFalse(Files.exists(medium("base/b1/" + Backups.MANIFEST)));
        assertFalse(Files.exists(medium(b1.parts().get(2).name())), "the bad part was never committed");
        assertFalse(Files.exists(medium("base/b2")));
        assertEquals("b3", r.newestBackup().orElseThrow());
    }

    /** Writes through to the medium until {@code budget} bytes are spent, then fails as a full disk does. */
    private static Function<FolderParts, PartSink> fullAfter(long budget) {
        AtomicLong left = new AtomicLong(budget);
        return folder -> name -> {
            OutputStream real = folder.create(name);
            return new FailingStream(real, left);
        };
    }

    private static final class FailingStream extends OutputStream implements PartSink.Abortable {
        private final OutputStream real;
        private final AtomicLong left;

        FailingStream(OutputStream real, AtomicLong left) {
            this.real = real;
            this.left = left;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (left.addAndGet(-len) < 0) {
                throw new IOException("No space left on device");
            }
            real.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            real.close();
        }

        @Override
        public void abort() {
            PartSink.abort(real);
        }
    }

    @Test
    void aFullMediumIsOneClearLineAndLeavesNothingThatLooksComplete() throws IOException {
        backup("b1");
        Manifest b2 = backup("b2");
        plugIn();
        long b1Bytes = 0;
        for (String n : main.list("base/b1/")) {
            b1Bytes += Files.size(main.file(n));
        }
        long budget = b1Bytes + b2.parts().get(0).sealedSize() + 100;
        OfflineCopy full = new OfflineCopy(main, usb, inst, keys.signerPublicKey(), local, fullAfter(budget));

        BackupException e = assertThrows(BackupException.class, () -> full.refresh(T0));
        assertTrue(e.getMessage().contains("cannot write part " + b2.parts().get(1).name() + " to the offline medium")
                && e.getMessage().contains("No space left on device") && e.getMessage().startsWith("オフライン媒体"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(Files.exists(medium("base/b1/" + Backups.MANIFEST)), "b1 fitted and is complete");
        assertFalse(Files.exists(medium("base/b2/" + Backups.MANIFEST)));
        assertFalse(Files.exists(medium("base/b2/" + Backups.SIGNATURE)));
        assertFalse(Files.exists(medium(b2.parts().get(1).name())), "the part cut short was not committed");
        List<String> onMedium = new ArrayList<>(files(usb.resolve(inst)));
        assertTrue(onMedium.stream().noneMatch(n -> n.contains(".partial-")), onMedium.toString());
        assertFalse(Files.exists(medium(OfflineCopy.MEDIUM_STATE)), "no refresh recorded on the medium");
        assertFalse(Files.exists(local.resolve(OfflineCopy.LOCAL_STATE)), "nor locally");
        assertTrue(offline().status(local, T0, 7).deviation().isPresent());
        List<String> problems = offline().verify();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("backup b2 on the offline medium is unfinished"), problems.get(0));

        // With room again, the next refresh finishes b2.
        OfflineCopy.Refresh r = offline().refresh(T0.plusSeconds(60));
        assertEquals(List.of("b2"), r.backups());
        assertEquals(List.of(), offline().verify());
    }

    @Test
    void aLinkOnTheMediumWhereAFolderBelongsIsRefused() throws IOException {
        backup("b1");
        plugIn();
        Path elsewhere = Files.createDirectories(dir.resolve("server-disk"));
        Files.createDirectories(usb.resolve(inst));
        Files.createSymbolicLink(usb.resolve(inst).resolve("base"), elsewhere);
        BackupException e = assertThrows(BackupException.class, () -> offline().refresh(T0));
        assertTrue(e.getMessage().contains("is a link: refused"), e.getMessage());
        assertEquals(List.of(), files(elsewhere));
    }

    @Test
    void theStatusReportsAStaleOrUnreadableOfflineCopy() throws IOException {
        backup("b1");
        plugIn();
        offline().refresh(T0);
        OfflineCopy oc = offline();
        assertTrue(oc.status(local, T0.plus(Duration.ofDays(7)), 7).deviation().isEmpty(), "7 days is within policy");
        OfflineCopy.Status stale = oc.status(local, T0.plus(Duration.ofDays(8)).plusSeconds(3600), 7);
        assertEquals(T0, stale.lastRefresh().orElseThrow());
        assertEquals("b1", stale.newestBackup().orElseThrow());
        String line = stale.deviation().orElseThrow();
        assertTrue(line.startsWith("the offline copy was last refreshed 8 days ago (policy: 7"), line);
        assertTrue(line.contains(" / オフラインの複製"), line);
        assertTrue(oc.status(local, T0.plus(Duration.ofDays(8)), 30).deviation().isEmpty());

        Files.writeString(local.resolve(OfflineCopy.LOCAL_STATE), "at yesterday\n", StandardCharsets.US_ASCII);
        String bad = oc.status(local, T0, 7).deviation().orElseThrow();
        assertTrue(bad.contains("is malformed") && !bad.contains("\n"), bad);

        String other = Files.readString(medium(OfflineCopy.MEDIUM_STATE))
                .replace("installation " + inst, "installation 0123456789abcdef");
        Files.writeString(local.resolve(OfflineCopy.LOCAL_STATE), other);
        assertTrue(oc.status(local, T0, 7).deviation().orElseThrow().contains("another installation"));
    }
}
