package jp.mamori.preservation;

import jp.mamori.MamoriServer;
import jp.mamori.cli.Main;
import jp.mamori.config.ServerConfig;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole capability on a running server (ADR 0010): a base backup sealed and signed, listed and verified, WAL
 * shipped after it, restored into a new data folder that starts as a Mamori server with every record, through the
 * installation's keys and through the printed recovery key alone; tampered, truncated and unfinished copies refused
 * before anything is written; the command line doing the same.
 */
class BackupsTest {
    private static TestServer server;
    private static Path backupDir;
    private static Backups backups;
    private static String patient;
    private static Backups.Taken taken;

    @BeforeAll
    static void backUpAServerWithARecordAndAnUpdateAfterIt() throws Exception {
        backupDir = TestData.newFolder("backups-");
        server = TestServer.start(List.of("--http", "--backup-dir", backupDir.toString()));
        backups = server.server().backups();
        HttpResponse<String> created = server.post("/Patient",
                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"保存\",\"given\":[\"太郎\"]}]}");
        assertEquals(201, created.statusCode(), created.body());
        patient = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/_history/.*",
                "$1");
        taken = backups.backupNow("test");
        // a second version after the backup: a restore brings it back through the shipped WAL
        HttpResponse<String> updated = server.send(server.request("/Patient/" + patient)
                .header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + patient
                        + "\",\"name\":[{\"family\":\"保存\",\"given\":[\"次郎\"]}]}")).build());
        assertEquals(200, updated.statusCode(), updated.body());
        try (Connection c = server.superuserConnection()) {
            TestDb.switchAndArchive(c);
        }
        backups.shipWal();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theBackupIsSealedSignedListedAndVerified() throws Exception {
        Manifest m = taken.manifest();
        assertEquals(backups.keys().installationId(), m.installationId());
        assertTrue(m.newestVersion() >= 1 && m.versionCount() >= 1, m.toString());
        assertTrue(m.resourceCounts().getOrDefault("Patient", 0L) >= 1, m.resourceCounts().toString());
        assertTrue(m.auditNextSeq() > 0);
        List<String> parts = m.parts().stream().map(Manifest.Part::name).toList();
        for (String p : List.of("data.tar", "wal.tar", "db-secrets.tar", "folder.tar", "backup.info")) {
            assertTrue(parts.contains("base/" + taken.id() + "/" + p), parts.toString());
        }
        // sealed: no plaintext of the record, the keys or the passwords on the destination
        Path dir = backups.destination().resolve("base").resolve(taken.id());
        byte[] folder = Files.readAllBytes(dir.resolve("folder.tar"));
        assertTrue(new String(folder, 0, 8, StandardCharsets.US_ASCII).equals("MAMORIBK"));
        assertFalse(new String(folder, StandardCharsets.ISO_8859_1).contains("audit-signing-key"));
        assertTrue(backups.list().stream().anyMatch(l -> l.id().equals(taken.id()) && l.ok()), backups.list()
                .toString());
        assertEquals(m, backups.verify(taken.id(), "test"));
        assertTrue(Files.list(backups.destination().resolve("wal")).findAny().isPresent(), "WAL shipped");
    }

    @Test
    void aRestoredFolderStartsAsAMamoriServerWithEveryRecordAndVerifiesClean() throws Exception {
        Path target = TestData.newFolder("restored-");
        Restore.Result r = backups.restore(taken.id(), target, Optional.empty(), false, "test");
        assertTrue(r.lastTransaction().isPresent(), r.toString());
        assertFalse(Files.exists(target.resolve(BackupKeys.recoverySheet(target).getFileName())),
                "the recovery sheet is not part of a backup");
        assertStartsWithTheUpdate(target);
    }

    @Test
    void theRecoveryKeyAloneRestoresOnANewMachine() throws Exception {
        String sheet = Files.readString(BackupKeys.recoverySheet(server.dataDir()));
        Matcher key = Pattern.compile("MRK1(-[0-9A-Z]{4}){14}").matcher(sheet);
        Matcher signer = Pattern.compile("MSK1-[0-9A-Z-]+").matcher(sheet);
        assertTrue(key.find() && signer.find(), sheet);
        Path target = TestData.newFolder("recovered-");
        Restore.Result r = Backups.restoreWithRecoveryKey(backups.destination(), taken.id(), target, Optional.empty(),
                false, BackupKeys.parseRecoveryKey(key.group()), signer.group());
        assertTrue(r.lastTransaction().isPresent(), r.toString());
        assertStartsWithTheUpdate(target);
        // the wrong signer's fingerprint is refused before anything is written
        Path other = TestData.newFolder("recovered-");
        BackupException e = assertThrows(BackupException.class, () -> Backups.restoreWithRecoveryKey(
                backups.destination(), taken.id(), other, Optional.empty(), false,
                BackupKeys.parseRecoveryKey(key.group()), "MSK1-AAAA-AAAA-AAAA-AAAA"));
        assertFalse(Files.exists(other), e.getMessage());
    }

    @Test
    void aTamperedTruncatedOrUnfinishedCopyIsRefusedNamingThePartBeforeAnythingIsWritten() throws Exception {
        Backups.Taken t = backups.backupNow("test");
        Path dir = backups.destination().resolve("base").resolve(t.id());
        Path data = dir.resolve("data.tar");
        byte[] original = Files.readAllBytes(data);
        try {
            byte[] flipped = original.clone();
            flipped[flipped.length / 2] ^= 1;
            Files.write(data, flipped);
            BackupException altered = assertThrows(BackupException.class, () -> backups.verify(t.id(), "test"));
            assertTrue(altered.getMessage().contains("data.tar") && altered.getMessage().contains("altered"),
                    altered.getMessage());
            Path target = TestData.newFolder("refused-");
            BackupException refused = assertThrows(BackupException.class,
                    () -> backups.restore(t.id(), target, Optional.empty(), false, "test"));
            assertTrue(refused.getMessage().contains("data.tar"), refused.getMessage());
            assertFalse(Files.exists(target), "nothing written for a refused copy");

            Files.write(data, java.util.Arrays.copyOf(original, original.length - 1000));
            BackupException cut = assertThrows(BackupException.class, () -> backups.verify(t.id(), "test"));
            assertTrue(cut.getMessage().contains("data.tar") && cut.getMessage().contains("truncated"),
                    cut.getMessage());

            // Re-sealed with the installation's own keys: a valid envelope around the same plaintext, so every chunk's
            // tag checks; only the signed manifest tells, and the restore's own reading pass refuses it unwritten.
            String name = BackupInfo.prefix(t.id()) + "data.tar";
            Files.write(data, Fixtures.seal(new Envelope(backups.keys()), name,
                    Fixtures.open(original, name, Envelope.Opener.of(backups.keys()))));
            Path replacedTarget = TestData.newFolder("replaced-");
            BackupException replaced = assertThrows(BackupException.class,
                    () -> backups.restore(t.id(), replacedTarget, Optional.empty(), false, "test"));
            assertTrue(replaced.getMessage().contains("data.tar")
                    && replaced.getMessage().contains("does not match the signed manifest"), replaced.getMessage());
            assertFalse(Files.exists(replacedTarget.resolve("pg")), "no database written for a replaced part");
        } finally {
            Files.write(data, original);
        }
        assertEquals(t.manifest(), backups.verify(t.id(), "test"));

        // a changed manifest no longer carries a valid signature
        Path manifest = dir.resolve(Backups.MANIFEST);
        String json = Files.readString(manifest);
        Files.writeString(manifest, json.replaceFirst("\"newestVersion\":\\d+", "\"newestVersion\":999999"));
        try {
            BackupException forged = assertThrows(BackupException.class, () -> backups.verify(t.id(), "test"));
            assertFalse(forged.getMessage().isBlank());
        } finally {
            Files.writeString(manifest, json);
        }
        // a backup without its manifest did not finish: not listed, not restored
        Files.move(manifest, dir.resolve("manifest.json.aside"));
        try {
            assertTrue(backups.list().stream().noneMatch(l -> l.id().equals(t.id())));
            BackupException unfinished = assertThrows(BackupException.class,
                    () -> backups.restore(t.id(), TestData.newFolder("unfinished-"), Optional.empty(), false, "t"));
            assertTrue(unfinished.getMessage().contains("no manifest"), unfinished.getMessage());
        } finally {
            Files.move(dir.resolve("manifest.json.aside"), manifest);
        }
    }

    @Test
    void aDrillRestoresTheNewestCopyChecksItWithAWholeServerAndRecordsTheResult() throws Exception {
        Backups.DrillResult r = backups.drill(new jp.mamori.DrillChecks(), "test");
        assertTrue(r.passed(), r.findings().toString());
        assertTrue(r.restore().toMillis() > 0 && r.total().compareTo(r.restore()) >= 0, r.toString());
        assertTrue(backups.lastDrillAt().isPresent());
        assertTrue(backups.deviations().stream().noneMatch(d -> d.contains("drill")), backups.deviations().toString());
        assertFalse(Files.exists(server.dataDir().resolve("backup").resolve("drill")), "the scratch copy is deleted");
        String log = Files.readString(server.dataDir().resolve("backup").resolve("drills.log"));
        assertTrue(log.contains(" pass ") && log.contains(r.backupId()), log);
        // (the server's own schedule may run a drill of its own meanwhile: look for this one by its backup)
        assertTrue(drills("backup.drill", r.backupId()).contains("success"));

        // one drill at a time on a data folder (the server's schedule and the command line share the scratch copy)
        Path lockFile = server.dataDir().resolve("backup").resolve("drill.lock");
        try (var ch = java.nio.channels.FileChannel.open(lockFile, java.nio.file.StandardOpenOption.WRITE);
             var held = ch.lock()) {
            BackupException busy = assertThrows(BackupException.class, () -> backups.drill((x, m) -> List.of(), "t"));
            assertTrue(busy.getMessage().contains("another restore drill"), busy.getMessage());
        }

        // a drill whose checks find something fails, says so as a deviation and a security notice, and is recorded
        List<jp.mamori.access.SecurityNotifier.Notice> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
        backups.notifying(notices::add);
        Backups.DrillResult failed = backups.drill((restored, m) -> List.of("a planted finding"), "test");
        assertFalse(failed.passed());
        assertTrue(notices.stream().anyMatch(n -> n.event().equals("backup.drill-failed")
                && n.text().contains("a planted finding")), notices.toString());
        assertTrue(backups.deviations().stream().anyMatch(d -> d.contains("drill") && d.contains("a planted finding")),
                backups.deviations().toString());
        assertTrue(Files.readString(server.dataDir().resolve("backup").resolve("drills.log")).contains(" FAIL "));
        assertEquals(List.of("error"), drills("backup.drill", "a planted finding"));
    }

    /** The outcomes of the trail's entries of {@code action} whose entry mentions {@code text}, oldest first. */
    private static List<String> drills(String action, String text) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = server.superuserConnection();
             var ps = c.prepareStatement("SELECT outcome FROM audit_entry WHERE action = ?"
                     + " AND position(? in convert_from(entry, 'UTF8')) > 0 ORDER BY seq")) {
            ps.setString(1, action);
            ps.setString(2, text);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    @Test
    void theServersScheduledDrillRunsAsAProcessOfItsOwnAndIsRecorded() throws Exception {
        List<jp.mamori.access.SecurityNotifier.Notice> notices = new java.util.concurrent.CopyOnWriteArrayList<>();
        long before = Files.exists(drillLog()) ? Files.readAllLines(drillLog()).size() : 0;
        jp.mamori.DrillChecks.runAsProcess(server.server().config(), notices::add);
        List<String> lines = Files.readAllLines(drillLog());
        assertEquals(before + 1, lines.size(), String.join("\n", lines) + "\n"
                + Files.readString(server.dataDir().resolve("runtime").resolve("drill.out")));
        assertTrue(lines.get(lines.size() - 1).contains(" pass "), lines.get(lines.size() - 1));
        assertEquals(List.of(), notices);
        // The scratch copy's own settings (plain HTTP on loopback, no backups) are the drill's, not deviations of
        // this installation: the drill's output does not report them as such.
        String out = Files.readString(server.dataDir().resolve("runtime").resolve("drill.out"));
        assertFalse(out.contains("DEVIATION from the secure defaults: plain HTTP")
                || out.contains("DEVIATION from the secure defaults: backups are off"), out);
    }

    private static Path drillLog() {
        return server.dataDir().resolve("backup").resolve("drills.log");
    }

    @Test
    void walIsShippedWhileALongBaseBackupHoldsTheBackups() throws Exception {
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread backup = Thread.ofPlatform().start(() -> {
            synchronized (backups) { // as backupNow does for the whole of a (paced, hours-long) base backup
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try {
            held.await();
            java.util.concurrent.CompletableFuture<WalShipper.Result> shipping =
                    java.util.concurrent.CompletableFuture.supplyAsync(backups::shipWal);
            // not a timing assertion: before shipping had its own lock this waited until the backup ended
            WalShipper.Result r = shipping.get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(r != null && !r.held(), String.valueOf(r));
        } finally {
            release.countDown();
            backup.join();
        }
    }

    @Test
    void aRestoreIntoAFolderThatIsNotEmptyIsRefused() throws Exception {
        Path target = TestData.newFolder("occupied-");
        Files.createDirectories(target);
        Files.writeString(target.resolve("keep.txt"), "someone's file", StandardOpenOption.CREATE_NEW);
        BackupException e = assertThrows(BackupException.class,
                () -> backups.restore(taken.id(), target, Optional.empty(), false, "test"));
        assertFalse(e.getMessage().isBlank());
        assertEquals(List.of(target.resolve("keep.txt")), Files.list(target).toList());
    }

    @Test
    void theCommandLineTakesListsVerifiesAndRestoresWhileTheServerRuns() throws Exception {
        String data = server.dataDir().toString();
        String bk = backupDir.toString();
        Run now = mamori("backup", "now", "--data", data, "--backup-dir", bk);
        assertEquals(0, now.code, now.err);
        Matcher id = Pattern.compile("^backup (\\S+): ").matcher(now.out);
        assertTrue(id.find(), now.out);
        Run list = mamori("backup", "list", "--data", data, "--backup-dir", bk);
        assertEquals(0, list.code, list.err);
        assertTrue(list.out.contains(id.group(1)) && list.out.contains(" ok"), list.out);
        Run verify = mamori("backup", "verify", "--data", data, "--backup-dir", bk, "--id", id.group(1));
        assertEquals(0, verify.code, verify.out + verify.err);
        Run into = mamori("backup", "restore", "--data", data, "--backup-dir", bk, "--id", id.group(1), "--to", data);
        assertEquals(2, into.code, "never over the data folder: " + into.out);
        assertTrue(into.err.contains("new folder"), into.err);
        Run bad = mamori("backup", "restore", "--data", data, "--backup-dir", bk, "--id", id.group(1), "--to",
                TestData.newFolder("cli-").toString(), "--at", "yesterday");
        assertEquals(2, bad.code);
        assertEquals(1, bad.err.lines().count(), bad.err);
        Run missing = mamori("backup", "verify", "--data", data, "--backup-dir", bk, "--id", "20000101T000000000Z");
        assertEquals(1, missing.code);
        assertTrue(missing.out.contains("no manifest"), missing.out);
        Run rotate = mamori("backup", "rotate-recovery-key", "--data", data, "--backup-dir", bk);
        assertEquals(2, rotate.code, "a running server keeps the key it loaded: " + rotate.out);
        assertTrue(rotate.err.contains("stop the server first") && rotate.err.lines().count() == 1, rotate.err);
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

    private static void assertStartsWithTheUpdate(Path folder) throws Exception {
        try (MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", folder.toString(), "--port",
                "0", "--bind", "127.0.0.1", "--http", "--no-backup"), Map.of()))) {
            List<RecordService.Mismatch> bad = new ArrayList<>();
            long versions = s.records().verifyAll(bad::add);
            assertTrue(versions >= 2, "versions checked: " + versions);
            assertEquals(List.of(), bad, "verify-records on the restored folder");
            String token = s.clients().create("restore-test", "system/*.*", "test").token();
            HttpResponse<String> read = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(s.baseUrl() + "/Patient/" + patient)).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("次郎") && read.body().contains("\"versionId\":\"2\""), read.body());
            assertTrue(s.audit().trail().stats() != null);
        }
    }
}
