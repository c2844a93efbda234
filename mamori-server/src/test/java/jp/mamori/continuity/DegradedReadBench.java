package jp.mamori.continuity;

import jp.mamori.db.Availability;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A measurement, not a test (run it by name: {@code -Dtest=DegradedReadBench}): FHIR read throughput in degraded
 * read-only mode against normal mode (issue 18, target ≥ 80 %), on one server with its embedded PostgreSQL, the same
 * client in both. Degraded mode is real: the database is made read-only ({@code ALTER SYSTEM SET
 * default_transaction_read_only}, reloaded), the primary monitor switches by itself, and every read's audit entry goes
 * to the fsync'ed local journal instead of the trail; back to normal, the journal is merged. Rounds alternate (normal,
 * degraded, normal, …) so that the shared machine's noise falls on both alike.
 */
class DegradedReadBench {
    private static final int PATIENTS = 200;
    private static final int THREADS = 8;
    private static final int SECONDS = 10;
    private static final int ROUNDS = 3;

    @Test
    void readsInDegradedModeAgainstNormal() throws Exception {
        try (TestServer s = TestServer.start(List.of())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < PATIENTS; i++) {
                HttpResponse<String> r = s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"計測"
                        + i + "\",\"given\":[\"花子\"]}],\"birthDate\":\"1970-01-01\"}");
                assertEquals(201, r.statusCode(), r.body());
                ids.add(r.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1"));
            }
            Availability availability = s.server().database().availability();
            read(s, ids, 5); // warm-up
            List<Double> normal = new ArrayList<>();
            List<Double> degraded = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                normal.add(read(s, ids, SECONDS));
                readOnly(s, true);
                await(() -> availability.degraded());
                degraded.add(read(s, ids, SECONDS));
                readOnly(s, false);
                await(() -> !availability.degraded());
                System.out.printf("round %d: normal %.0f reads/s, degraded %.0f reads/s, ratio %.2f%n", round + 1,
                        normal.get(round), degraded.get(round), degraded.get(round) / normal.get(round));
            }
            double n = normal.stream().mapToDouble(Double::doubleValue).sum();
            double d = degraded.stream().mapToDouble(Double::doubleValue).sum();
            System.out.printf("DEGRADED READS: normal %s, degraded %s reads/s; degraded / normal = %.2f%n", normal,
                    degraded, d / n);
            assertTrue(d > 0 && n > 0);
        }
    }

    private static void readOnly(TestServer s, boolean on) throws Exception {
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement()) {
            st.execute(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                    : "ALTER SYSTEM RESET default_transaction_read_only");
            st.execute("SELECT pg_reload_conf()");
        }
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "the mode did not switch");
            Thread.sleep(50);
        }
    }

    /** Reads random patients from {@link #THREADS} threads for {@code seconds}; successful reads per second. */
    private static double read(TestServer s, List<String> ids, int seconds) throws Exception {
        HttpClient http = s.httpClient();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Long>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    long ok = 0;
                    while (System.nanoTime() < end) {
                        String id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
                        HttpRequest req = s.request("/Patient/" + id).GET().build();
                        HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() == 200) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            long total = 0;
            for (Future<Long> f : done) {
                total += f.get();
            }
            return total / (double) seconds;
        } finally {
            pool.shutdownNow();
        }
    }
}
