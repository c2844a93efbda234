package jp.mamori.preservation;

import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's backups kept by generation and copied to an offline medium (ADR 0010 §2, §4): the medium is written
 * only when it carries its marker, receives every finished backup checked against its signed manifest, and keeps
 * them when the backup folder prunes; pruning deletes what no rule keeps and records it.
 */
class GenerationsAndOfflineTest {
    @Test
    void theOfflineMediumReceivesEveryBackupAndKeepsThemWhenTheBackupFolderPrunes() throws Exception {
        Path backupDir = TestData.newFolder("gen-backups-");
        Path medium = TestData.newFolder("gen-medium-");
        try (TestServer server = TestServer.start(List.of("--http", "--backup-dir", backupDir.toString(),
                "--backup-offline-dir", medium.toString()))) {
            Backups backups = server.server().backups();
            List<String> ids = List.of(backups.backupNow("test").id(), backupNow(server, backups),
                    backupNow(server, backups));
            backups.shipWal();

            // not marked: an empty mount point on the server's own disk is never taken for the medium
            Files.createDirectories(medium);
            assertFalse(backups.refreshOffline("test").orElseThrow().present());
            assertTrue(backups.deviations().stream().anyMatch(d -> d.contains("offline")), backups.deviations()
                    .toString());
            Files.writeString(medium.resolve(OfflineCopy.MARKER), "Mamori offline medium\n");
            OfflineCopy.Refresh r = backups.refreshOffline("test").orElseThrow();
            assertTrue(r.present() && r.problems().isEmpty(), r.summary());
            assertTrue(r.backups().containsAll(ids), r.backups().toString());
            assertEquals(List.of(), backups.verifyOffline());
            assertTrue(backups.deviations().stream().noneMatch(d -> d.contains("offline copy")),
                    backups.deviations().toString());

            // a part on the medium damaged in place, its size unchanged: a refresh within the week checks sizes only
            Path onMedium = medium.resolve(backups.keys().installationId()).resolve("base").resolve(ids.get(2))
                    .resolve("data.tar");
            byte[] damaged = Files.readAllBytes(onMedium);
            damaged[damaged.length / 2] ^= 1;
            Files.write(onMedium, damaged);
            assertEquals(List.of(), backups.refreshOffline("test").orElseThrow().repaired());
            assertFalse(backups.verifyOffline().isEmpty(), "verify finds it");

            // forty days later, keeping only the newest daily backup: the older two go, from the folder only
            Backups later = Backups.open(server.dataDir(), new ServerConfig.BackupOptions(true, backupDir,
                            java.util.Optional.of(medium), 7, 2, new ServerConfig.BackupOptions.Keep(1, 0, 0, 0), 60, 7),
                    server.server().audit().recorder(), Clock.offset(Clock.systemUTC(), Duration.ofDays(40)),
                    ZoneId.of("Asia/Tokyo"));
            // what a backup killed half-way left (no manifest; a temporary part), and one another process is writing
            Path base = backups.destination().resolve("base");
            Path killed = Files.createDirectories(base.resolve("20200101T000000000Z"));
            Files.write(killed.resolve("data.tar"), new byte[1000]);
            Files.write(killed.resolve(".wal.tar.tmp"), new byte[100]);
            Path writing = Files.createDirectories(base.resolve("20990101T000000000Z"));
            Files.write(writing.resolve("data.tar"), new byte[1000]);
            java.nio.file.attribute.FileTime recent = java.nio.file.attribute.FileTime.from(
                    Instant.now().plus(Duration.ofDays(40)).minus(Duration.ofHours(1)));
            Files.setLastModifiedTime(writing.resolve("data.tar"), recent);
            Files.setLastModifiedTime(writing, recent);

            // the weekly full check (due: the last was forty days ago) re-reads the medium and copies the part again
            OfflineCopy.Refresh weekly = later.refreshOffline("test").orElseThrow();
            assertFalse(weekly.repaired().isEmpty(), weekly.summary());
            assertEquals(List.of(), later.verifyOffline());

            // every backup but the newest goes (the test's three, and the server's own first-start one when it ran)
            List<String> older = new java.util.ArrayList<>(backups.list().stream().map(Backups.Listed::id)
                    .sorted(java.util.Comparator.reverseOrder()).toList());
            String newest = older.remove(0);
            assertTrue(newest.compareTo(ids.get(2)) >= 0 && older.containsAll(List.of(ids.get(1), ids.get(0))),
                    newest + " " + older);
            older.add("20200101T000000000Z");
            Backups.Pruned p = later.prune("test");
            assertEquals(older, p.backups());
            assertFalse(Files.exists(killed), "the leftovers of an unfinished backup are deleted after a day");
            assertTrue(Files.exists(writing.resolve("data.tar")), "a backup being written is left alone");
            assertEquals(List.of(newest), later.list().stream().map(Backups.Listed::id).toList());
            assertEquals(newest, backups.verify(newest, "test").backupId());
            for (String id : ids) {
                assertTrue(Files.exists(medium.resolve(backups.keys().installationId()).resolve("base").resolve(id)
                        .resolve(Backups.MANIFEST)), "the medium keeps " + id);
            }
            try (Connection c = server.superuserConnection();
                 // this test's prune only: the server's own schedule may prune too (after its first-start backup,
                 // which finishes late on a busy machine) and record its own entry
                 var ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action = 'backup.delete'"
                         + " AND actor = 'system:test'");
                 var rs = ps.executeQuery()) {
                rs.next();
                assertEquals(2, rs.getLong(1), "the deletions (by generation, of leftovers) are in the audit trail");
            }
        }
    }

    private static String backupNow(TestServer server, Backups backups) throws Exception {
        HttpCheck.created(server);
        return backups.backupNow("test").id();
    }

    /** A write between backups, so that each covers more. */
    private static final class HttpCheck {
        static void created(TestServer server) {
            var r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"世代\"}]}");
            assertEquals(201, r.statusCode(), r.body());
        }
    }
}
