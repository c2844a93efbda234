package jp.mamori.store;

import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An acknowledged write survives {@code kill -9} of the server and of its embedded database at any moment, and
 * after a restart the store verifies clean.
 *
 * <p>The server runs as a separate OS process ({@link PackagedJar}: the build's classes, or the shaded jar). Eight
 * clients create Patients, each with a unique identifier, and remember which creates were acknowledged (201) and
 * with what content. While they write, the server JVM and the whole PostgreSQL process tree are killed with SIGKILL. The server is restarted on the same
 * data folder; every acknowledged create must be readable with the same content, unacknowledged ones may or may
 * not be there (but never twice), and {@code verify-records} must exit 0. Two such cycles run on one data folder,
 * then a third that kills only the server JVM, leaving its PostgreSQL orphaned: the restart must deal with it.
 */
class CrashDurabilityTest {
    private static final int CLIENTS = 8;
    /** What each cycle kills: the server and its database, twice; then the server JVM alone. */
    private static final List<Kill> CYCLES = List.of(Kill.SERVER_AND_DATABASE, Kill.SERVER_AND_DATABASE,
            Kill.SERVER_ONLY);

    enum Kill {
        /** SIGKILL to the server JVM and to every PostgreSQL process: as in a power cut or an OOM kill of both. */
        SERVER_AND_DATABASE,
        /** SIGKILL to the server JVM only: its PostgreSQL server lives on, orphaned, holding the data folder. */
        SERVER_ONLY
    }
    private static final Duration LOAD_BEFORE_KILL = Duration.ofSeconds(3);

    private final PackagedJar pj = new PackagedJar("data");
    private final Path data = pj.data;
    private final Path logs = pj.logs;

    /** What a client was told about one create. */
    record Ack(String identifier, String id, String body) {
    }

    @Test
    void acknowledgedCreatesSurviveKillNineOfServerAndDatabaseAndTheStoreVerifiesClean() throws Exception {
        Files.createDirectories(logs);
        Map<String, Ack> acked = new ConcurrentHashMap<>();
        List<String> unacked = java.util.Collections.synchronizedList(new ArrayList<>());
        Server server = null;
        try {
            server = Server.start(this, 0);
            String token = pj.createClient("crash", "write load during kill -9");
            for (int cycle = 1; cycle <= CYCLES.size(); cycle++) {
                Kill kill = CYCLES.get(cycle - 1);
                HttpClient http = ExternalPostgres.httpClientFor(data);
                int ackedBefore = acked.size();
                int unackedBefore = unacked.size();
                Optional<ProcessHandle> postmasterBefore = postmaster(data);
                runLoadAndKill(server, http, token, cycle, kill, acked, unacked);
                log("cycle " + cycle + " (" + kill + "): acknowledged " + (acked.size() - ackedBefore) + ", unacknowledged "
                        + (unacked.size() - unackedBefore));
                assertTrue(acked.size() - ackedBefore > 0, "no create was acknowledged before the kill in cycle "
                        + cycle + "; see " + logs);

                if (kill == Kill.SERVER_ONLY) {
                    assertTrue(postmasterBefore.isPresent() && postmasterBefore.get().isAlive(),
                            "the orphaned postmaster should still be running before the restart");
                }
                long t0 = System.nanoTime();
                server = Server.start(this, cycle);
                log("restart " + cycle + " ready after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
                        + " ms");
                if (kill == Kill.SERVER_ONLY) {
                    // Not our child, so its exit is seen by polling: allow a moment.
                    postmasterBefore.get().onExit().get(10, TimeUnit.SECONDS);
                    assertTrue(!postmasterBefore.get().isAlive(),
                            "the restart should have stopped the orphaned postmaster");
                }
                http = ExternalPostgres.httpClientFor(data);
                checkEverythingAcknowledgedIsThere(server, http, token, acked, unacked, cycle);
                PackagedJar.Result v = pj.run("verify-records", "--data", data.toString());
                assertEquals(0, v.code(), "verify-records after crash " + cycle + ":\n" + v.out() + v.err());
                assertTrue(v.out().contains("all hashes match"), v.out());
            }
            // Finally a clean stop, and the offline verification (verify-records starting the database itself).
            server.stopGracefully();
            server = null;
            PackagedJar.Result v = pj.run("verify-records", "--data", data.toString());
            assertEquals(0, v.code(), "verify-records on the stopped data folder:\n" + v.out() + v.err());
            assertTrue(v.out().contains("all hashes match"), v.out());
            // The clean stop is in the audit trail, after the last start (SIGTERM stops the server before the
            // embedded database's own shutdown hook stops the database).
            Path export = Files.createTempDirectory(data.getParent(), "export");
            PackagedJar.Result e = pj.run("audit-export", "--data", data.toString(), "--out", export.resolve("x").toString());
            assertEquals(0, e.code(), e.out() + e.err());
            List<String> entries = Files.readAllLines(export.resolve("x").resolve("entries.jsonl"));
            int lastStart = -1;
            int lastStop = -1;
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).contains("\"action\":\"server.start\"")) {
                    lastStart = i;
                } else if (entries.get(i).contains("\"action\":\"server.stop\"")) {
                    lastStop = i;
                }
            }
            assertTrue(lastStart >= 0 && lastStop > lastStart, "the graceful stop is recorded after the last start: start "
                    + lastStart + ", stop " + lastStop + " of " + entries.size());
        } finally {
            if (server != null) {
                server.killEverything();
            }
            killPostmaster(data);
        }
    }

    private void runLoadAndKill(Server server, HttpClient http, String token, int cycle, Kill kill,
                                Map<String, Ack> acked, List<String> unacked) throws Exception {
        // The first create in a fresh server JVM loads the FHIR validator and can take seconds; do it before the
        // clock starts so that the load really is running when the kill comes.
        String warm = "crash-" + cycle + "-warmup-" + UUID.randomUUID();
        HttpResponse<String> w = http.send(HttpRequest.newBuilder(URI.create(server.base() + "/Patient"))
                .timeout(Duration.ofSeconds(120)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(Patients.json(warm, "ウォームアップ"), StandardCharsets.UTF_8))
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(201, w.statusCode(), w.body());
        acked.put(warm, new Ack(warm, Patients.idFromLocation(w.headers().firstValue("Location").orElseThrow()),
                w.body()));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(CLIENTS);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < CLIENTS; t++) {
            int thread = t;
            Thread th = Thread.ofPlatform().name("crash-client-" + t).start(() -> {
                try {
                    for (int n = 0; !stop.get(); n++) {
                        String ident = "crash-" + cycle + "-" + thread + "-" + n + "-" + UUID.randomUUID();
                        HttpRequest rq = HttpRequest.newBuilder(URI.create(server.base() + "/Patient"))
                                .timeout(Duration.ofSeconds(20))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/fhir+json")
                                .POST(HttpRequest.BodyPublishers.ofString(Patients.json(ident, "クラッシュ" + n),
                                        StandardCharsets.UTF_8))
                                .build();
                        try {
                            HttpResponse<String> r = http.send(rq, HttpResponse.BodyHandlers.ofString(
                                    StandardCharsets.UTF_8));
                            if (r.statusCode() == 201) {
                                String id = Patients.idFromLocation(r.headers().firstValue("Location").orElseThrow());
                                acked.put(ident, new Ack(ident, id, r.body()));
                            } else {
                                unacked.add(ident);
                                failures.incrementAndGet();
                                if (!stop.get()) {
                                    log("client " + thread + ": status " + r.statusCode() + " " + r.body());
                                }
                            }
                        } catch (java.net.ConnectException e) {
                            refused.incrementAndGet(); // never reached the server: nothing to look for
                            if (!stop.get()) {
                                Thread.sleep(20);
                            }
                        } catch (IOException e) {
                            unacked.add(ident);
                            failures.incrementAndGet();
                            if (!stop.get()) {
                                if (failures.get() < 5) {
                                    log("client " + thread + ": " + e);
                                }
                                Thread.sleep(20); // the server is going down; do not spin
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
            threads.add(th);
        }
        try {
            Thread.sleep(LOAD_BEFORE_KILL.toMillis());
            if (kill == Kill.SERVER_AND_DATABASE) {
                server.killEverything(); // while the clients are writing
            } else {
                server.killServerOnly();
            }
        } finally {
            stop.set(true);
            if (!done.await(60, TimeUnit.SECONDS)) {
                threads.forEach(Thread::interrupt);
                fail("clients did not stop after the kill");
            }
            log("cycle " + cycle + ": " + refused.get() + " creates refused at connect after the kill (not counted)");
        }
    }

    private void checkEverythingAcknowledgedIsThere(Server server, HttpClient http, String token,
                                                    Map<String, Ack> acked, List<String> unacked, int cycle)
            throws Exception {
        // Four requests at a time: the same checks, a quarter of the waiting.
        AtomicInteger found = new AtomicInteger();
        List<String> lost = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> changed = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger unackedStored = new AtomicInteger();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<?>> checks = new ArrayList<>();
            for (Ack a : acked.values()) {
                checks.add(pool.submit(() -> {
                    HttpResponse<String> r = get(http, token, server.base() + "/Patient/" + a.id());
                    if (r.statusCode() != 200) {
                        lost.add(a.identifier() + " -> Patient/" + a.id() + ": " + r.statusCode());
                    } else if (!r.body().equals(a.body())) {
                        changed.add(a.identifier() + " -> Patient/" + a.id() + "\n  told:   " + a.body()
                                + "\n  stored: " + r.body());
                    } else {
                        found.incrementAndGet();
                    }
                    int matches = matchesFor(http, token, server, a.identifier());
                    if (matches != 1) {
                        changed.add(a.identifier() + " is stored " + matches + " times");
                    }
                    return null;
                }));
            }
            for (String ident : List.copyOf(unacked)) {
                checks.add(pool.submit(() -> {
                    int matches = matchesFor(http, token, server, ident);
                    if (matches > 1) {
                        changed.add("unacknowledged " + ident + " is stored " + matches + " times");
                    }
                    unackedStored.addAndGet(matches);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : checks) {
                f.get(); // an assertion or I/O failure inside surfaces here
            }
        } finally {
            pool.shutdownNow();
        }
        log("after restart " + cycle + ": acknowledged " + acked.size() + ", found " + found
                + ", unacknowledged " + unacked.size() + " of which stored " + unackedStored);
        assertTrue(lost.isEmpty(), lost.size() + " acknowledged creates are lost: " + lost);
        assertTrue(changed.isEmpty(), String.join("\n", changed));
        assertEquals(acked.size(), found.get());
    }

    private static int matchesFor(HttpClient http, String token, Server server, String ident) throws Exception {
        HttpResponse<String> r = get(http, token, server.base() + "/Patient?identifier="
                + URLEncoder.encode(Patients.SYSTEM + "|" + ident, StandardCharsets.UTF_8) + "&_count=10");
        assertEquals(200, r.statusCode(), r.body());
        int n = 0;
        for (int i = r.body().indexOf("\"fullUrl\""); i >= 0; i = r.body().indexOf("\"fullUrl\"", i + 1)) {
            n++;
        }
        return n;
    }

    private static HttpResponse<String> get(HttpClient http, String token, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** One server process, its output copied to a log file, ready once it prints "Mamori ready at". */
    static final class Server {
        private final Process process;
        private final Path data;
        private final int port;

        private Server(Process process, Path data, int port) {
            this.process = process;
            this.data = data;
            this.port = port;
        }

        static Server start(CrashDurabilityTest it, int generation) throws Exception {
            int port = PackagedJar.freePort();
            List<String> cmd = new ArrayList<>(it.pj.command());
            cmd.addAll(List.of("serve", "--data", it.data.toString(), "--port", Integer.toString(port), "--bind",
                    "127.0.0.1", "--backup-drill-days", "0")); // backups on, as shipped; no drill's second server
            Path out = it.logs.resolve("serve-" + generation + ".out");
            // on a failed start: SIGKILL to the JVM and to the embedded PostgreSQL it started
            Process p = ServeProcess.launch(cmd, Map.of(), out, "serve-" + generation,
                    failed -> new Server(failed, it.data, port).killEverything());
            return new Server(p, it.data, port);
        }

        String base() {
            return "https://127.0.0.1:" + port + "/fhir";
        }

        /** SIGKILL to the server JVM and to the embedded PostgreSQL: the postmaster and all its children. */
        void killEverything() {
            Optional<ProcessHandle> postmaster = postmaster(data);
            List<ProcessHandle> tree = new ArrayList<>();
            postmaster.ifPresent(pm -> {
                tree.add(pm);
                pm.descendants().forEach(tree::add);
            });
            process.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
            try {
                process.waitFor(30, TimeUnit.SECONDS);
                for (ProcessHandle h : tree) {
                    h.onExit().get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException("processes did not die", e);
            }
        }

        /** SIGKILL to the server JVM alone. */
        void killServerOnly() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the server JVM did not die");
            }
        }

        /** SIGTERM: the server's shutdown hook stops the database. */
        void stopGracefully() throws Exception {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                killEverything();
                fail("the server did not stop on SIGTERM");
            }
        }
    }

    /** The postmaster of the embedded database, from the first line of pg/postmaster.pid, if it is running. */
    static Optional<ProcessHandle> postmaster(Path data) {
        Path pidFile = data.resolve("pg").resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(pidFile);
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(lines.get(0).trim()))
                    .filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().command().map(c -> c.endsWith("postgres")).orElse(false));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static void killPostmaster(Path data) {
        postmaster(data).ifPresent(pm -> {
            pm.descendants().forEach(ProcessHandle::destroyForcibly);
            pm.destroyForcibly();
        });
    }

    private void log(String line) {
        System.out.println("CrashDurabilityTest: " + line);
        try {
            Files.writeString(logs.resolve("summary.txt"), line + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
