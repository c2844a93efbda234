package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Point-in-time recovery from a real backup: rows written before the backup, between the backup and a chosen
 * moment, and after it; restored to the end of the WAL and to the moment. Damaged backups and occupied targets
 * are refused before anything is written.
 */
class RestoreTest {
    private static TestDb db;
    private static FolderParts parts;
    private static Instant between;

    @BeforeAll
    static void backUpAndWrite() throws Exception {
        db = TestDb.start("pitr-");
        parts = new FolderParts(TestData.newFolder("pitr-parts-"));
        try (Connection c = db.superuser()) {
            TestDb.exec(c, "CREATE TABLE pitr (id int PRIMARY KEY, note text)");
            TestDb.exec(c, "INSERT INTO pitr VALUES (1, 'before the backup'), (2, 'before the backup')");
            BaseBackup.take(c, db.pgData(), db.spool(), parts, "pitr");
            TestDb.exec(c, "INSERT INTO pitr VALUES (3, 'after the backup, before the moment')");
            Thread.sleep(20);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT clock_timestamp()")) {
                rs.next();
                between = rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
            }
            Thread.sleep(20);
            TestDb.exec(c, "INSERT INTO pitr VALUES (4, 'after the moment')");
            TestDb.switchAndArchive(c);
        }
        new WalShipper(db.spool(), db.dataDir.resolve("ship-state"), parts).shipOnce();
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    @Test
    void withoutATargetEveryRowIsBack() throws Exception {
        Path target = TestData.newFolder("pitr-all-");
        Restore.Result r = Restore.toNewFolder(parts, "pitr", target, Optional.empty());
        assertEquals(target, r.dataDir());
        assertTrue(r.lastTransaction().isPresent() && !r.lastTransaction().get().isBefore(between), r.toString());
        assertEquals(List.of(1, 2, 3, 4), rowsIn(target));
    }

    @Test
    void toAMomentBetweenTwoWritesOnlyTheEarlierRowsAreBack() throws Exception {
        Path target = TestData.newFolder("pitr-moment-");
        Restore.Result r = Restore.toNewFolder(parts, "pitr", target, Optional.of(between));
        assertTrue(r.lastTransaction().orElseThrow().isBefore(between), r.toString());
        assertEquals(List.of(1, 2, 3), rowsIn(target));
        assertFalse(Files.exists(target.resolve(Restore.INCOMPLETE)));
        assertFalse(Files.exists(target.resolve("pg").resolve("recovery.signal")));
        assertFalse(Files.readString(target.resolve("pg").resolve("postgresql.auto.conf")).contains("restore_command"),
                "the recovery settings are reset");
        assertFalse(Files.exists(target.resolve("pg").resolve("postmaster.pid")), "stopped cleanly");
    }

    @Test
    void aNonEmptyTargetIsRefused() throws Exception {
        Path target = TestData.newFolder("pitr-full-");
        Files.createDirectories(target);
        Files.writeString(target.resolve("something"), "precious");
        BackupException e = assertThrows(BackupException.class,
                () -> Restore.toNewFolder(parts, "pitr", target, Optional.empty()));
        assertOneLine(e, "is not empty");
        assertEquals(List.of(target.resolve("something")), list(target));
    }

    @Test
    void aTruncatedDataPartIsRefusedBeforeAnythingIsWritten() throws Exception {
        FolderParts copy = copyOfParts("pitr-cut-");
        try (RandomAccessFile f = new RandomAccessFile(copy.file("base/pitr/data.tar").toFile(), "rw")) {
            f.setLength(f.length() / 2 + 100);
        }
        Path target = TestData.newFolder("pitr-cut-target-");
        BackupException e = assertThrows(BackupException.class,
                () -> Restore.toNewFolder(copy, "pitr", target, Optional.empty()));
        assertOneLine(e, "part base/pitr/data.tar is truncated");
        assertFalse(Files.exists(target), "nothing written");
    }

    @Test
    void anAlteredPartIsRefused() throws Exception {
        FolderParts copy = copyOfParts("pitr-alt-");
        try (RandomAccessFile f = new RandomAccessFile(copy.file("base/pitr/wal.tar").toFile(), "rw")) {
            f.seek(4096);
            int b = f.read();
            f.seek(4096);
            f.write(b ^ 1);
        }
        Path target = TestData.newFolder("pitr-alt-target-");
        BackupException e = assertThrows(BackupException.class,
                () -> Restore.toNewFolder(copy, "pitr", target, Optional.empty()));
        assertOneLine(e, "part base/pitr/wal.tar does not match its SHA-256");
        assertFalse(Files.exists(target));
    }

    @Test
    void anUnfinishedBackupAndATargetBeforeTheBackupAreRefused() throws Exception {
        FolderParts copy = copyOfParts("pitr-unf-");
        Files.delete(copy.file("base/pitr/backup.info"));
        Path target = TestData.newFolder("pitr-unf-target-");
        assertOneLine(assertThrows(BackupException.class,
                () -> Restore.toNewFolder(copy, "pitr", target, Optional.empty())), "did not finish");
        assertOneLine(assertThrows(BackupException.class, () -> Restore.toNewFolder(parts, "pitr", target,
                Optional.of(Instant.parse("2020-01-01T00:00:00Z")))), "before backup pitr was consistent");
        assertFalse(Files.exists(target));
    }

    private static void assertOneLine(BackupException e, String expected) {
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(" / "), "日本語 / English: " + e.getMessage());
    }

    private static FolderParts copyOfParts(String prefix) throws Exception {
        Path to = TestData.newFolder(prefix);
        for (String name : parts.list("")) {
            Path t = to.resolve(name);
            Files.createDirectories(t.getParent());
            Files.copy(parts.file(name), t);
        }
        return new FolderParts(to);
    }

    private static List<Path> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** Starts the restored folder as the server would, and reads the table back. */
    private static List<Integer> rowsIn(Path dataDir) throws Exception {
        try (TestDb restored = TestDb.open(dataDir); Connection c = restored.superuser();
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM pitr ORDER BY id")) {
            List<Integer> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
            return ids;
        }
    }
}
