package jp.mamori.preservation;

import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code kill -9} of {@code mamori backup now} in the middle of a backup, and of {@code mamori backup restore} in the
 * middle of a restore, each a process of its own beside a running server: the next run starts cleanly, what the
 * killed run left is never listed or started as complete, and the manifests say the truth.
 */
class BackupKillTest {
    private final PackagedJar pj = new PackagedJar("backup-kill");

    @Test
    void aKilledBackupLeavesNothingThatLooksFinishedAndAKilledRestoreIsRedoneWithForce() throws Exception {
        Path data = pj.data;
        Path backups = data.resolveSibling(data.getFileName() + "-bk");
        int port = PackagedJar.freePort();
        List<String> cmd = new ArrayList<>(pj.command());
        cmd.addAll(List.of("serve", "--data", data.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--backup-dir", backups.toString(), "--backup-drill-days", "0"));
        Path out = pj.logs.resolve("serve.out");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            waitFor(() -> Files.readString(out).contains("Mamori ready at"), server, out);
            String token = pj.createClient("kill", "backups killed half-way");
            HttpClient http = ExternalPostgres.httpClientFor(data);
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                                + "/fhir/Patient")).timeout(Duration.ofSeconds(60))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"name\":[{\"family\""
                                + ":\"中断" + i + "\"}]}", StandardCharsets.UTF_8)).build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                assertEquals(201, r.statusCode(), r.body());
            }

            // the server's own first backup (its schedule takes one soon after the first start) comes first, so
            // that the only backup written below is the command's
            waitFor(() -> !listed(data, backups).isEmpty(), server, out);

            // 1. kill -9 a backup while it writes its first part
            Process backup = start("backup", "now", "--data", data.toString(), "--backup-dir", backups.toString());
            waitFor(() -> partial(backups), backup, pj.logs.resolve("backup-now.out"));
            backup.destroyForcibly();
            assertTrue(backup.waitFor(30, TimeUnit.SECONDS));
            List<String> killed = partialBackups(backups);
            assertEquals(1, killed.size(), killed.toString());
            List<String> before = listed(data, backups);
            assertTrue(before.stream().noneMatch(l -> l.contains("REFUSED") || l.startsWith(killed.get(0))),
                    "the killed backup is not listed: " + before);

            // 2. the next backup runs cleanly (the killed one's session ended with its process) and is the one listed
            PackagedJar.Result again = pj.run("backup", "now", "--data", data.toString(), "--backup-dir",
                    backups.toString());
            assertEquals(0, again.code(), again.out() + again.err());
            Matcher id = Pattern.compile("backup (\\S+): ").matcher(again.out());
            assertTrue(id.find(), again.out());
            // (the server's own schedule may add its first backup meanwhile: compare by id)
            List<String> after = listed(data, backups);
            assertTrue(after.containsAll(before), after.toString());
            assertTrue(after.stream().anyMatch(l -> l.startsWith(id.group(1)) && l.endsWith(" ok")), after.toString());
            assertTrue(after.stream().noneMatch(l -> l.startsWith(killed.get(0)) || l.contains("REFUSED")),
                    after.toString());
            PackagedJar.Result verify = pj.run("backup", "verify", "--data", data.toString(), "--backup-dir",
                    backups.toString());
            assertEquals(0, verify.code(), verify.out() + verify.err());

            // 3. kill -9 a restore while its database recovers; the folder is refused as a data folder, and a
            //    restore with --force into it finishes (stopping the database the killed one left running)
            Path target = data.resolveSibling(data.getFileName() + "-restored");
            Process restore = start("backup", "restore", "--data", data.toString(), "--backup-dir",
                    backups.toString(), "--id", id.group(1), "--to", target.toString());
            waitFor(() -> Files.exists(target.resolve("pg").resolve("postmaster.pid")), restore,
                    pj.logs.resolve("backup-restore.out"));
            restore.destroyForcibly();
            assertTrue(restore.waitFor(30, TimeUnit.SECONDS));
            assertTrue(Files.exists(target.resolve(Restore.INCOMPLETE)), "killed while its database recovered");
            {
                PackagedJar.Result refused = pj.run("verify-records", "--data", target.toString());
                assertEquals(2, refused.code(), "an unfinished restore is not a data folder: " + refused.out());
                assertTrue(refused.err().contains("did not finish"), refused.err());
                PackagedJar.Result plain = pj.run("backup", "restore", "--data", data.toString(), "--backup-dir",
                        backups.toString(), "--id", id.group(1), "--to", target.toString());
                assertEquals(1, plain.code(), "not over an unfinished restore without --force: " + plain.out());
                assertEquals(1, plain.err().lines().count(), plain.err());
            }
            PackagedJar.Result forced = pj.run("backup", "restore", "--data", data.toString(), "--backup-dir",
                    backups.toString(), "--id", id.group(1), "--to", target.toString(), "--force");
            assertEquals(0, forced.code(), forced.out() + forced.err());
            assertFalse(Files.exists(target.resolve(Restore.INCOMPLETE)));
            PackagedJar.Result records = pj.run("verify-records", "--data", target.toString());
            assertEquals(0, records.code(), records.out() + records.err());
            assertTrue(records.out().contains("all hashes match"), records.out());
        } finally {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private List<String> listed(Path data, Path backups) throws Exception {
        PackagedJar.Result list = pj.run("backup", "list", "--data", data.toString(), "--backup-dir",
                backups.toString());
        assertEquals(0, list.code(), list.out() + list.err());
        return list.out().lines().filter(l -> l.matches("^[0-9]{8}T.*")).toList();
    }

    /** The ids of the backups with a part left half-written (a temporary file). */
    private static List<String> partialBackups(Path backups) throws Exception {
        try (Stream<Path> s = Files.walk(backups)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".partial-") && p.toString().contains("/base/"))
                    .map(p -> p.getParent().getFileName().toString()).distinct().toList();
        }
    }

    /** Whether a part is being written (its temporary file exists) under any backup of the folder. */
    private static boolean partial(Path backups) throws Exception {
        if (!Files.isDirectory(backups)) {
            return false;
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(".partial-")
                    && p.toString().contains("/base/"));
        }
    }

    private Process start(String... args) throws Exception {
        List<String> c = new ArrayList<>(pj.command());
        c.addAll(List.of(args));
        return new ProcessBuilder(c).redirectErrorStream(true)
                .redirectOutput(pj.logs.resolve(args[0] + "-" + args[1] + ".out").toFile()).start();
    }

    @FunctionalInterface
    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check check, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!check.ok()) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                fail("did not happen before the process ended:\n" + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(2);
        }
    }
}
