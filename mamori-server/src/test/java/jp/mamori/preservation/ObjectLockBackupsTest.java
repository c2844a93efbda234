package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Object Lock copy wired into a running server's backups (BACKUP-1, BACKUP-3), against {@link S3Peer} (our own
 * peer): each base backup reaches the bucket locked, a drill restores the newest copy from the bucket, and an
 * unreachable store leaves the local backup done while it is a deviation and a security notice.
 */
class ObjectLockBackupsTest {
    private static Path credentials() throws Exception {
        Path f = Files.createDirectories(TestData.newFolder("s3-secrets-")).resolve("backup-s3-credentials");
        Files.writeString(f, "access-key-id " + S3Peer.ACCESS_KEY + "\nsecret-access-key " + S3Peer.SECRET_KEY + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void eachBaseBackupReachesTheBucketAndADrillRestoresFromIt() throws Exception {
        AtomicReference<Instant> clock = new AtomicReference<>(Instant.now());
        try (S3Peer peer = new S3Peer(clock);
             TestServer server = TestServer.start(List.of("--http", "--backup-dir",
                     TestData.newFolder("s3-backups-").toString(), "--backup-s3-endpoint", peer.endpoint().toString(),
                     "--backup-s3-bucket", "hospital-copies", "--backup-s3-credentials", credentials().toString()))) {
            peer.createBucket("hospital-copies", true, true, "COMPLIANCE");
            Backups backups = server.server().backups();
            var r = server.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"施錠\"}]}");
            assertEquals(201, r.statusCode(), r.body());
            Backups.Taken t = backups.backupNow("test");
            assertTrue(backups.objectLockCopyIdle(60));
            String manifest = "mamori/" + backups.keys().installationId() + "/base/" + t.id() + "/"
                    + Backups.MANIFEST;
            assertTrue(peer.keys("hospital-copies").contains(manifest), peer.keys("hospital-copies").toString());
            assertEquals("COMPLIANCE", peer.versions("hospital-copies", manifest).get(0).mode);
            assertTrue(backups.deviations().stream().noneMatch(d -> d.contains("Object Lock")),
                    backups.deviations().toString());
            assertEquals(List.of(), backups.verifyS3());

            // the restore from the downloaded copy is the drill's (its whole-server checks: BackupsTest)
            List<String> checked = new CopyOnWriteArrayList<>();
            Backups.DrillResult d = backups.drillFromS3((restored, m) -> {
                checked.add(m.backupId());
                return Files.isDirectory(restored.resolve("pg")) ? List.of() : List.of("no database restored");
            }, "test");
            assertEquals(List.of(d.backupId()), checked);
            assertTrue(d.passed(), d.findings().toString());
            assertTrue(d.backupId().compareTo(t.id()) >= 0, d.backupId()); // or a newer one the schedule took
            assertFalse(Files.exists(server.dataDir().resolve("backup").resolve("s3-download")));
            try (Connection c = server.superuserConnection();
                 var ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action = 'backup.drill'"
                         + " AND position('\"from\"' in convert_from(entry, 'UTF8')) > 0");
                 var rs = ps.executeQuery()) {
                rs.next();
                assertEquals(1, rs.getLong(1), "the drill from the bucket is in the audit trail");
            }
        }
    }

    @Test
    void anUnreachableStoreIsADeviationAndANoticeWhileTheLocalBackupSucceeds() throws Exception {
        Path backupDir = TestData.newFolder("s3-down-backups-");
        try (TestServer server = TestServer.start(List.of("--http", "--backup-dir", backupDir.toString(),
                "--backup-s3-endpoint", "http://127.0.0.1:9", "--backup-s3-bucket", "hospital-copies",
                "--backup-s3-credentials", credentials().toString()))) {
            Backups backups = server.server().backups();
            List<jp.mamori.access.SecurityNotifier.Notice> notices = new CopyOnWriteArrayList<>();
            backups.notifying(notices::add);
            Backups.Taken t = backups.backupNow("test");
            assertTrue(Files.exists(backupDir.resolve(backups.keys().installationId()).resolve("base").resolve(t.id())
                    .resolve(Backups.MANIFEST)), "the local backup is done");
            assertTrue(backups.objectLockCopyIdle(120));
            assertTrue(notices.stream().anyMatch(n -> n.event().equals("backup.s3-failed")), notices.toString());
            assertTrue(backups.deviations().stream().anyMatch(d -> d.contains("cannot refresh the Object Lock copy")),
                    backups.deviations().toString());
            for (var n : notices) {
                assertFalse(n.text().contains(S3Peer.SECRET_KEY) || n.text().contains("\n"), n.text());
            }
        }
    }
}
