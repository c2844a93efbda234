package jp.mamori.preservation;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded database archives its WAL into the spool, and the shipper moves it on. */
class WalArchivingTest {
    private static TestDb db;

    @BeforeAll
    static void start() throws Exception {
        db = TestDb.start("wal-");
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    @Test
    void archivingIsOnAndSegmentsReachTheSpool() throws Exception {
        try (Connection c = db.superuser(); Statement st = c.createStatement()) {
            assertEquals("on", setting(st, "archive_mode"));
            assertEquals("basic_archive", setting(st, "archive_library"));
            assertEquals("1min", setting(st, "archive_timeout"));
            assertEquals(db.spool().toAbsolutePath().toString(), setting(st, "basic_archive.archive_directory"));
            String seg = TestDb.switchAndArchive(c);
            assertTrue(Files.isRegularFile(db.spool().resolve(seg)), "archived segment in the spool");
            try (ResultSet rs = st.executeQuery("SELECT archived_count, failed_count FROM pg_stat_archiver")) {
                rs.next();
                assertTrue(rs.getLong(1) >= 1);
                assertEquals(0, rs.getLong(2), "no failed archiving");
            }
        }
    }

    @Test
    void shipperCopiesThenDeletesAndIsIdempotent() throws Exception {
        String seg;
        try (Connection c = db.superuser()) {
            seg = TestDb.switchAndArchive(c);
        }
        byte[] original = Files.readAllBytes(db.spool().resolve(seg));
        Path dest = db.dataDir.resolve("ship-dest");
        Path state = db.dataDir.resolve("ship-state");
        FolderParts parts = new FolderParts(dest);
        WalShipper shipper = new WalShipper(db.spool(), state, parts);
        WalShipper.Result r = shipper.shipOnce();
        assertTrue(r.shipped().get("default").contains(seg), "shipped: " + r);
        assertTrue(r.deleted().contains(seg));
        assertFalse(Files.exists(db.spool().resolve(seg)), "deleted from the spool once shipped");
        try (InputStream in = parts.open("wal/" + seg)) {
            assertArrayEquals(original, in.readAllBytes());
        }
        WalShipper.Result again = shipper.shipOnce();
        assertTrue(again.shipped().get("default").isEmpty(), "nothing new to ship: " + again);
        assertEquals(List.of(), parts.list(".partial"));
    }

    @Test
    void aHeldSpoolIsShippedButNotDeletedAndAForgottenStateReships() throws Exception {
        String seg;
        try (Connection c = db.superuser()) {
            seg = TestDb.switchAndArchive(c);
        }
        Path state = db.dataDir.resolve("ship-state-held");
        FolderParts parts = new FolderParts(db.dataDir.resolve("ship-dest-held"));
        WalShipper shipper = new WalShipper(db.spool(), state, parts);
        try (SpoolHold hold = SpoolHold.take(db.spool(), "test")) {
            WalShipper.Result r = shipper.shipOnce();
            assertTrue(r.held());
            assertTrue(r.shipped().get("default").contains(seg));
            assertTrue(Files.exists(db.spool().resolve(seg)), "a held spool keeps its files");
            // A crash after the copy but before the state was written: the next run ships it again.
            Files.delete(state.resolve("default.shipped"));
            WalShipper.Result again = shipper.shipOnce();
            assertTrue(again.shipped().get("default").contains(seg), "re-shipped: " + again);
        }
        WalShipper.Result released = shipper.shipOnce();
        assertTrue(released.deleted().contains(seg));
        assertTrue(parts.list("wal/").contains("wal/" + seg));
    }

    @Test
    void aHoldOfAProcessThatIsGoneHoldsNothing() throws Exception {
        Path f = db.spool().resolve(".hold-999999999-gone");
        Files.writeString(f, "999999999 2020-01-01T00:00:00Z\n");
        assertFalse(SpoolHold.held(db.spool()) && Files.exists(f));
        assertFalse(Files.exists(f), "a stale hold is removed");
    }

    private static String setting(Statement st, String name) throws Exception {
        try (ResultSet rs = st.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
