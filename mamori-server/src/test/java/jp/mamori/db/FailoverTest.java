package jp.mamori.db;

import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ReplicatedPostgres;
import jp.mamori.testing.ServeProcess;
import jp.mamori.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The failover path (issue 18 §1, BACKUP-8, docs/continuity.md): a primary and a synchronous hot standby
 * ({@link ReplicatedPostgres}), Mamori with both hosts in {@code --db-url}. The primary is killed with SIGKILL while
 * FHIR creates run: they get 503 with Retry-After (never a 500) until the standby is promoted with
 * {@code pg_ctl promote}; then Mamori goes on without a restart, every acknowledged create is on the new primary,
 * the record store verifies, and the health report names the new host as the primary. Between the kill and the
 * promotion only the standby answers: Mamori enters degraded read-only mode by itself, serves reads from the standby
 * with their audit entries in its local journal, and leaves it after the promotion, merging the journal into the one
 * trail that the outside verifier accepts (issue 18 §2). The times of both switches are printed (docs/performance.md).
 */
class FailoverTest {
    private static final String OWNER = "mamori_owner";
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();
    private static final Map<String, String> ENV = Map.of("MAMORI_DB_APP_PASSWORD", "app-" + UUID.randomUUID());

    @Test
    void primaryKilledStandbyPromotedMamoriContinuesWithEveryAcknowledgedWrite() throws Exception {
        DebianPostgres.assumeAvailable();
        PackagedJar pj = new PackagedJar("failover");
        try (ReplicatedPostgres rp = ReplicatedPostgres.start()) {
            rp.primary().createOwner(OWNER, OWNER_PASSWORD, "mamori");
            List<String> db = List.of("--db-url", rp.jdbcUrl("mamori"), "--db-user", OWNER, "--db-password",
                    OWNER_PASSWORD);
            String primaryAt = "127.0.0.1:" + rp.primary().port();
            String standbyAt = "127.0.0.1:" + rp.standby().port();
            try (ServeProcess m = ServeProcess.start(pj, "m", pj.data, db, ENV)) {
                List<String> create = new ArrayList<>(List.of("client", "create", "--data", pj.data.toString()));
                create.addAll(db);
                create.addAll(List.of("--name", "failover", "--scopes", "system/*.* system/health.read", "--owner",
                        "試験 担当", "--purpose", "failover"));
                PackagedJar.Result c = pj.run(create.toArray(String[]::new));
                assertEquals(0, c.code(), c.out() + c.err());
                String token = c.out().lines().filter(l -> !l.isBlank()).reduce((x, y) -> y).orElseThrow().trim();
                HttpClient http = ExternalPostgres.httpClientFor(pj.data);
                String before = m.get(http, "/health/detail", token).body();
                assertTrue(before.contains("connected to the primary: " + primaryAt), before);

                try (WriteLoad load = new WriteLoad(http, token)) {
                    load.writer("w1", m::fhir).writer("w2", m::fhir);
                    load.awaitAcks(20);
                    WriteLoad.Ack known = load.acked.values().iterator().next();
                    java.time.Instant killed = java.time.Instant.now();
                    rp.primary().kill9();
                    load.awaitStatus(503, 1, 60);
                    assertEquals("5", load.retryAfter.get(503));
                    assertTrue(load.examples.get(503).contains("\"transient\""), load.examples.get(503));
                    // Only the standby answers: degraded read-only mode by itself (issue 18 §2), reads served from the
                    // standby and audited into the local journal, writes refused.
                    awaitBanner(m, http, true, "degraded mode was not entered");
                    HttpResponse<String> read = m.get(http, "/fhir/Patient/" + known.id(), token);
                    assertEquals(200, read.statusCode(), read.body());
                    assertTrue(read.body().contains(known.identifier()), read.body());
                    // the health report (refreshed every few seconds) says so too, and names the standby in use
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    HttpResponse<String> status;
                    do {
                        assertTrue(System.nanoTime() < until, "the health report does not show degraded mode");
                        Thread.sleep(200);
                        status = m.get(http, "/health/detail", token);
                    } while (!(status.body().contains("縮退運用中") && status.body().contains("standby")));
                    java.time.Instant promoted = java.time.Instant.now();
                    rp.standby().promote();
                    assertFalse(rp.standby().inRecovery());
                    awaitBanner(m, http, false, "degraded mode was not left after the promotion");
                    // the switches' own times, from the server's log (a page asked meanwhile may wait for the pool)
                    double toDegraded = seconds(killed, logged(m, "DEGRADED read-only mode entered"));
                    double toNormal = seconds(promoted, logged(m, "DEGRADED read-only mode left"));
                    System.out.printf("failover: primary killed -> degraded in %.1f s; promoted -> normal in %.1f s%n",
                            toDegraded, toNormal);
                    load.awaitAcks(20); // no restart: the pool finds the new primary
                    load.close();
                    assertEquals(0, load.count(500), "no 500: " + load.examples.get(500));
                    int extra = load.checkAcknowledged(m.fhir());
                    System.out.println("failover: " + load.acked.size() + " acknowledged, " + extra
                            + " stored without an answer; answers " + load.statuses);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                HttpResponse<String> after;
                do {
                    assertTrue(System.nanoTime() < deadline, "the health report does not name the new primary");
                    Thread.sleep(200);
                    after = m.get(http, "/health/detail", token);
                } while (!after.body().contains("connected to the primary: " + standbyAt));
            }
            // The journal of the degraded reads was merged into the one trail, which the outside verifier accepts.
            List<String> trail = new ArrayList<>(List.of("audit-verify", "--data", pj.data.toString()));
            trail.addAll(db);
            PackagedJar.Result t = pj.run(trail.toArray(String[]::new));
            assertEquals(0, t.code(), t.out() + t.err());
            try (java.sql.Connection c = rp.standby().superuser("mamori");
                 java.sql.ResultSet rs = c.createStatement().executeQuery(
                         "SELECT count(*) FROM audit_entry WHERE action = 'journal.merged'")) {
                rs.next();
                assertTrue(rs.getLong(1) >= 1, "the degraded reads' journal was merged");
            }
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                    pj.data.resolve("audit-journal"))) {
                assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".journal.merged")),
                        "the merged journal is kept as evidence");
            }
            List<String> verify = new ArrayList<>(List.of("verify-records", "--data", pj.data.toString()));
            verify.addAll(db);
            PackagedJar.Result v = pj.run(verify.toArray(String[]::new));
            assertEquals(0, v.code(), v.out() + v.err());
            assertTrue(v.out().contains("all hashes match"), v.out());
        }
    }

    /**
     * Waits until the console's sign-in (here: first setup) page shows (or no longer shows) the degraded banner: asked of every request,
     * unlike the health report, which may be a few seconds old, so the printed times are the switch's own.
     */
    private static void awaitBanner(ServeProcess m, HttpClient http, boolean shown, String failure) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            HttpResponse<String> page = m.get(http, "/console/login", null);
            if (page.statusCode() == 303) { // no administrator yet: the sign-in page sends to the first setup
                page = m.get(http, java.net.URI.create(page.headers().firstValue("Location").orElseThrow()).getPath(),
                        null);
            }
            if (page.body().contains("縮退運用中 — 参照のみ") == shown) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, failure + ": " + page.statusCode() + " "
                    + page.body().substring(0, Math.min(3000, page.body().length())));
            Thread.sleep(100);
        }
    }

    /**
     * When the server logged a line containing {@code text} (its log lines start with an ISO-8601 time). The process's
     * output reaches the test through a copying thread, which may lag the page the test just read on a busy machine:
     * wait for the line up to 30 s.
     */
    private static java.time.Instant logged(ServeProcess m, String text) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            java.util.Optional<java.time.Instant> at = m.output().lines().filter(l -> l.contains(text)).findFirst()
                    .map(l -> java.time.OffsetDateTime.parse(l.substring(0, l.indexOf(' '))).toInstant());
            if (at.isPresent()) {
                return at.get();
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("the server did not log: " + text);
            }
            Thread.sleep(100);
        }
    }

    private static double seconds(java.time.Instant from, java.time.Instant to) {
        return java.time.Duration.between(from, to).toMillis() / 1000.0;
    }
}
