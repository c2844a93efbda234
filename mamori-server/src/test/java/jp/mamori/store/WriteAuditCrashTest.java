package jp.mamori.store;

import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 15 item 10 (AUDIT-1): a write's audit entry is durable if and only if its version is. The server runs
 * as a separate JVM with the crash fault point armed ({@code -Dmamori.test.halt-after-write-commits=N}, see
 * {@code records.CrashPoint}): right after the N-th write transaction commits, the JVM halts, before the request does
 * anything else (formerly: before its entry was appended). Four clients create, update and delete Patients and send
 * transaction bundles meanwhile. After a restart on the same data folder, every stored version has an entry that
 * names it, every successful write entry names a stored version, and {@code audit-verify} and
 * {@code verify-records} pass.
 */
class WriteAuditCrashTest {
    private static final int CLIENTS = 4;
    private static final int HALT_AFTER = 40;
    private static final int HALT_STATUS = 86;

    private final PackagedJar pj = new PackagedJar("audit");
    private final Path data = pj.data;
    private final Path logs = pj.logs;

    @Test
    void everyVersionStoredBeforeAHaltRightAfterItsCommitHasItsEntry() throws Exception {
        Files.createDirectories(logs);
        Process server = null;
        try {
            int port = PackagedJar.freePort();
            server = start(port, "-D" + "mamori.test.halt-after-write-commits=" + HALT_AFTER, 1);
            String token = pj.createClient("audit-crash", "writes while the server halts"); // no record is written: the fault point counts only record writes
            HttpClient http = ExternalPostgres.httpClientFor(data);
            String base = "https://127.0.0.1:" + port + "/fhir";
            AtomicInteger acknowledged = new AtomicInteger();
            load(http, base, token, server, acknowledged);
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the fault point halted the server");
            assertEquals(HALT_STATUS, server.exitValue(), "halted by the fault point, not by something else");
            assertTrue(acknowledged.get() > 0, "some writes were answered before the halt");

            port = PackagedJar.freePort();
            server = start(port, null, 2);
            try (Connection c = superuser()) {
                long versions = count(c, "SELECT count(*) FROM resource_version");
                assertTrue(versions >= HALT_AFTER, "the writes before the halt are stored: " + versions);
                List<String> missing = List.of();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                do {
                    // entries still in the outbox are durable; the restarted appender moves them into the trail
                    missing = strings(c, "SELECT r.res_type || '/' || r.res_id || '/_history/' || v.version"
                            + " FROM resource_version v JOIN resource r ON r.res_pk = v.res_pk WHERE NOT EXISTS"
                            + " (SELECT 1 FROM audit_entry e WHERE e.resources @> ARRAY[r.res_type || '/' || r.res_id"
                            + " || '/_history/' || v.version]) ORDER BY 1");
                    if (!missing.isEmpty()) {
                        Thread.sleep(100);
                    }
                } while (!missing.isEmpty() && System.nanoTime() < deadline);
                assertTrue(missing.isEmpty(), missing.size() + " of " + versions + " stored versions have no audit"
                        + " entry: " + missing);
                List<String> phantom = strings(c, "SELECT e.seq || ' ' || x.ref FROM audit_entry e,"
                        + " unnest(e.resources) AS x(ref) WHERE e.outcome = 'success' AND e.action IN ('create',"
                        + " 'update', 'delete', 'transaction') AND x.ref LIKE '%/_history/%' AND NOT EXISTS (SELECT 1"
                        + " FROM resource r JOIN resource_version v ON v.res_pk = r.res_pk WHERE x.ref = r.res_type"
                        + " || '/' || r.res_id || '/_history/' || v.version)");
                assertTrue(phantom.isEmpty(), "entries name versions that were never stored: " + phantom);
                assertEquals(0, count(c, "SELECT count(*) FROM audit_outbox"), "the outbox was drained");
            }
            PackagedJar.Result v = pj.run("audit-verify", "--data", data.toString());
            assertEquals(0, v.code(), "audit-verify after the halt:\n" + v.out() + v.err());
            PackagedJar.Result r = pj.run("verify-records", "--data", data.toString());
            assertEquals(0, r.code(), "verify-records after the halt:\n" + r.out() + r.err());
            server.destroy();
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server stops on SIGTERM");
        } finally {
            if (server != null && server.isAlive()) {
                server.destroyForcibly();
            }
            CrashDurabilityTest.postmaster(data).ifPresent(pm -> {
                pm.descendants().forEach(ProcessHandle::destroyForcibly);
                pm.destroyForcibly();
            });
        }
    }

    /** Writes of every kind until the server dies. */
    private void load(HttpClient http, String base, String token, Process server, AtomicInteger acknowledged)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(CLIENTS);
        for (int t = 0; t < CLIENTS; t++) {
            int thread = t;
            Thread.ofPlatform().daemon().name("audit-crash-client-" + t).start(() -> {
                try {
                    for (int n = 0; !stop.get() && server.isAlive(); n++) {
                        String ident = "audit-crash-" + thread + "-" + n;
                        try {
                            if (thread == 0 && n % 2 == 1) {
                                String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                                        + "{\"resource\":" + Patients.json(ident + "-a", "束甲") + ",\"request\":"
                                        + "{\"method\":\"POST\",\"url\":\"Patient\"}},{\"resource\":"
                                        + Patients.json(ident + "-b", "束乙") + ",\"request\":"
                                        + "{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
                                if (send(http, base, token, "POST", "", bundle) == 200) {
                                    acknowledged.incrementAndGet();
                                }
                                continue;
                            }
                            HttpResponse<String> created = sendFor(http, base, token, "POST", "/Patient",
                                    Patients.json(ident, "停止" + n));
                            if (created.statusCode() != 201) {
                                continue;
                            }
                            acknowledged.incrementAndGet();
                            String id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());
                            if (n % 3 == 0 && send(http, base, token, "PUT", "/Patient/" + id,
                                    Patients.jsonWithId(id, ident, "更新" + n)) == 200) {
                                acknowledged.incrementAndGet();
                            }
                            if (n % 4 == 0 && send(http, base, token, "DELETE", "/Patient/" + id, null) == 200) {
                                acknowledged.incrementAndGet();
                            }
                        } catch (IOException e) {
                            Thread.sleep(20); // the server is going down
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            if (!server.waitFor(120, TimeUnit.SECONDS)) {
                fail("the fault point did not halt the server within 2 minutes; see " + logs);
            }
        } finally {
            stop.set(true);
            assertTrue(done.await(60, TimeUnit.SECONDS), "clients stopped");
        }
    }

    private static int send(HttpClient http, String base, String token, String method, String path, String body)
            throws IOException, InterruptedException {
        return sendFor(http, base, token, method, path, body).statusCode();
    }

    private static HttpResponse<String> sendFor(HttpClient http, String base, String token, String method,
                                                String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + token);
        if (body != null) {
            b.header("Content-Type", "application/fhir+json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        } else {
            b.header("X-Mamori-Reason", "crash%20test").method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** The embedded database as its superuser, through the port and password in the data folder. */
    private Connection superuser() throws Exception {
        String port = Files.readString(data.resolve("runtime").resolve("db-port")).trim();
        String password = Files.readString(data.resolve("secrets").resolve("db-superuser-password")).trim();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", password);
    }

    private static long count(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> strings(Connection c, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private Process start(int port, String jvmOption, int generation) throws Exception {
        List<String> cmd = new ArrayList<>(jvmOption == null ? pj.command() : pj.command(jvmOption));
        cmd.addAll(List.of("serve", "--data", data.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--backup-drill-days", "0")); // backups on, as shipped; no drill's second server
        Path out = logs.resolve("serve-" + generation + ".out");
        Process p = ServeProcess.launch(cmd, Map.of(), out, "serve-" + generation, Process::destroyForcibly);
        return p;
    }

}
