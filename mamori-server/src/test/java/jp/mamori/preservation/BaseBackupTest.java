package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Base backups of a running embedded database: what the parts hold, and failures that leave nothing complete. */
class BaseBackupTest {
    private static TestDb db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDb.start("bb-");
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    @Test
    void aBackupHoldsTheDataFolderItsLabelAndTheWalItNeeds() throws Exception {
        FolderParts parts = new FolderParts(TestData.newFolder("bb-parts-"));
        BaseBackup.Result r;
        long systemId;
        try (Connection c = db.superuser()) {
            systemId = TestDb.count(c, "SELECT system_identifier FROM pg_control_system()");
            r = BaseBackup.take(c, db.pgData(), db.spool(), parts, "b1");
        }
        assertEquals(systemId, r.systemIdentifier());
        assertEquals(1, r.timeline());
        assertTrue(r.startWal().compareTo(r.stopWal()) <= 0);
        assertEquals(List.of("base/b1/backup.info", "base/b1/data.tar", "base/b1/db-secrets.tar", "base/b1/wal.tar"),
                parts.list("base/b1/"));
        for (BaseBackup.Part p : r.parts()) {
            assertEquals(Files.size(parts.file(p.name())), p.size(), p.name());
        }
        List<String> names = entries(parts, "base/b1/data.tar");
        assertTrue(names.containsAll(List.of("backup_label", "global/pg_control", "PG_VERSION")), names.toString());
        assertTrue(names.contains("pg_wal"), "pg_wal itself is kept");
        assertFalse(names.stream().anyMatch(n -> n.startsWith("pg_wal/0")), "no WAL files in the data part");
        for (String leftOut : List.of("postmaster.pid", "postmaster.opts", "epg-lock")) {
            assertFalse(names.contains(leftOut), leftOut);
        }
        List<String> wal = entries(parts, "base/b1/wal.tar");
        assertEquals(r.startWal(), wal.get(0));
        assertTrue(wal.contains(r.stopWal()));
        assertTrue(wal.stream().anyMatch(n -> n.endsWith(".backup")), "the backup history file: " + wal);
        // Only this process's own, finished backup: the spool hold is gone.
        try (var s = Files.list(db.spool())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".hold-")));
        }
    }

    @Test
    void aBackupThatFailsHalfWayLeavesNoPartAndTheNextOneWorks() throws Exception {
        FolderParts folder = new FolderParts(TestData.newFolder("bb-fail-"));
        PartSink failing = name -> {
            OutputStream real = folder.create(name);
            return new FailingStream(real, 2_000_000);
        };
        try (Connection c = db.superuser()) {
            BackupException e = assertThrows(BackupException.class,
                    () -> BaseBackup.take(c, db.pgData(), db.spool(), failing, "broken"));
            assertTrue(e.getMessage().contains("broken") && !e.getMessage().contains("\n"), e.getMessage());
            assertEquals(List.of(), folder.list(""), "no committed part");
            try (var s = Files.walk(folder.root())) {
                assertTrue(s.filter(Files::isRegularFile).findAny().isEmpty(), "no temporary file left");
            }
            // The server's backup was ended on the same session: another one starts there.
            BaseBackup.Result ok = BaseBackup.take(c, db.pgData(), db.spool(), folder, "after-failure");
            assertEquals(4, ok.parts().size());
        }
    }

    @Test
    void aBackupStartedOnASessionThatEndsIsOverWithIt() throws Exception {
        try (Connection c = db.superuser()) {
            TestDb.exec(c, "SELECT pg_backup_start('abandoned', true)");
        } // the session ends as it would if the process were killed
        FolderParts folder = new FolderParts(TestData.newFolder("bb-next-"));
        try (Connection c = db.superuser()) {
            BaseBackup.Result r = BaseBackup.take(c, db.pgData(), db.spool(), folder, "next");
            assertTrue(folder.list("").contains("base/next/backup.info"), r.toString());
        }
    }

    @Test
    void badLabelsAreRefused() throws Exception {
        FolderParts folder = new FolderParts(TestData.newFolder("bb-label-"));
        try (Connection c = db.superuser()) {
            for (String bad : List.of("", "../x", "a/b", ".hidden", "x".repeat(65))) {
                BackupException e = assertThrows(BackupException.class,
                        () -> BaseBackup.take(c, db.pgData(), db.spool(), folder, bad));
                assertTrue(e.getMessage().startsWith("バックアップ名が不正です / bad backup label"), e.getMessage());
            }
        }
        assertEquals(List.of(), folder.list(""));
    }

    private static List<String> entries(FolderParts parts, String name) throws IOException {
        List<String> names = new ArrayList<>();
        try (InputStream in = parts.open(name)) {
            Tar.Reader r = new Tar.Reader(in, name);
            for (Tar.Entry e; (e = r.next()) != null; ) {
                names.add(e.name());
            }
        }
        return names;
    }

    /** Throws once {@code limit} bytes were written, as a full disk or a lost connection would. */
    private static final class FailingStream extends OutputStream implements PartSink.Abortable {
        private final OutputStream out;
        private long left;

        FailingStream(OutputStream out, long limit) {
            this.out = out;
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > left) {
                throw new IOException("no space left on device (test)");
            }
            left -= len;
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.close();
        }

        @Override
        public void abort() {
            PartSink.abort(out);
        }
    }
}
