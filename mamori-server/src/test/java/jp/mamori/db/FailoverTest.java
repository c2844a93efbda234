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
 * the record store verifies, and the health report names the new host as the primary.
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
                    rp.primary().kill9();
                    load.awaitStatus(503, 1, 60);
                    assertEquals("5", load.retryAfter.get(503));
                    assertTrue(load.examples.get(503).contains("\"transient\""), load.examples.get(503));
                    rp.standby().promote();
                    assertFalse(rp.standby().inRecovery());
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
            List<String> verify = new ArrayList<>(List.of("verify-records", "--data", pj.data.toString()));
            verify.addAll(db);
            PackagedJar.Result v = pj.run(verify.toArray(String[]::new));
            assertEquals(0, v.code(), v.out() + v.err());
            assertTrue(v.out().contains("all hashes match"), v.out());
        }
    }
}
