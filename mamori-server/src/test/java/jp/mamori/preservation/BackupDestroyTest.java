package jp.mamori.preservation;

import jp.mamori.cli.Main;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The end of use (EXT-6, DISPOSAL-8): every backup destroyed with proof. The folder's and the offline medium's copies
 * go, the keys are destroyed, the certificate lists each backup by its manifest's hash and says which recovery sheet
 * to shred, and the destruction is an audit entry; a copy that stayed elsewhere then opens only with that sheet.
 */
class BackupDestroyTest {
    @Test
    void everyCopyGoesTheKeysAreDestroyedAndTheCertificateSaysWhatStaysAndWhatToShred() throws Exception {
        Path backupDir = TestData.newFolder("destroy-backups-");
        Path medium = TestData.newFolder("destroy-medium-");
        Files.createDirectories(medium);
        Files.writeString(medium.resolve(OfflineCopy.MARKER), "Mamori offline medium\n");
        try (TestServer server = TestServer.start(List.of("--http", "--backup-dir", backupDir.toString(),
                "--backup-offline-dir", medium.toString()))) {
            Backups backups = server.server().backups();
            String id = backups.backupNow("test").id();
            assertTrue(backups.refreshOffline("test").orElseThrow().problems().isEmpty());
            String installation = backups.keys().installationId();
            String recovery = Fixtures.recoveryKeyOnSheet(server.dataDir());
            String signer = backups.keys().signerFingerprint();
            // a copy someone made elsewhere (or an unplugged medium): it stays whatever Mamori does
            Path elsewhere = TestData.newFolder("destroy-elsewhere-");
            copyTree(backups.destination(), elsewhere);

            Run running = mamori("backup", "destroy", "--data", server.dataDir().toString(), "--backup-dir",
                    backupDir.toString(), "--confirm", installation);
            assertEquals(2, running.code, running.out);
            assertTrue(running.err.contains("stop the server first"), running.err);
            BackupException wrongId = assertThrows(BackupException.class,
                    () -> backups.destroyAll("0123456789abcdef", server.dataDir().resolve("c.txt"), "test"));
            assertTrue(wrongId.getMessage().contains(installation), wrongId.getMessage());
            BackupException inside = assertThrows(BackupException.class,
                    () -> backups.destroyAll(installation, backups.destination().resolve("c.txt"), "test"));
            assertTrue(inside.getMessage().contains("outside the backup folder"), inside.getMessage());
            assertEquals(List.of(id), backups.list().stream().map(Backups.Listed::id).toList(), "nothing went yet");

            Path cert = server.dataDir().resolve("backup-destruction-certificate.txt");
            Backups.Destroyed d = backups.destroyAll(installation, cert, "test");
            assertEquals(List.of(id), d.backups());
            assertTrue(d.files() > 0 && d.bytes() > 0, d.toString());
            assertEquals(List.of(), backups.list());
            assertFalse(Files.exists(backups.destination().resolve("base")), "the folder's backups are gone");
            assertFalse(Files.exists(medium.resolve(installation)), "the medium's copies are gone");
            assertTrue(Files.exists(medium.resolve(OfflineCopy.MARKER)), "the medium stays a medium");
            assertFalse(Files.exists(BackupKeys.file(server.dataDir())), "the backup keys are destroyed");
            assertFalse(Files.exists(BackupKeys.recoverySheet(server.dataDir())), "and a sheet left on the server");
            String text = Files.readString(cert, StandardCharsets.UTF_8);
            String keyId = d.recoveryKeyIds().get(0);
            assertTrue(text.contains(id) && text.contains(installation) && text.contains(keyId)
                    && text.contains("Shred every recovery sheet") && text.contains("deleted from the offline medium"),
                    text);
            try (Connection c = server.superuserConnection();
                 var ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action = 'backup.delete'"
                         + " AND position('destroy' in convert_from(entry, 'UTF8')) > 0");
                 var rs = ps.executeQuery()) {
                rs.next();
                assertEquals(1, rs.getLong(1), "the destruction is in the audit trail");
            }

            // what stayed elsewhere opens only with the recovery sheet, which the hospital now shreds
            Path target = TestData.newFolder("destroy-restored-");
            Restore.Result r = Backups.restoreWithRecoveryKey(elsewhere.resolve(installation), id, target,
                    Optional.empty(), false, BackupKeys.parseRecoveryKey(recovery), signer);
            assertEquals(id, r.backupId());
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.getParent().relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().startsWith(".")) {
                    Files.copy(p, t);
                }
            }
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run mamori(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
