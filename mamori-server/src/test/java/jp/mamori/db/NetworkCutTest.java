package jp.mamori.db;

import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import jp.mamori.testing.TcpProxy;
import jp.mamori.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The network between Mamori and its database is cut and restored (issue 18 §1, "Bad input and faults"): a TCP
 * proxy started here carries every connection of a {@code serve} process; while it is stopped, FHIR writes get 503
 * with Retry-After and a transient OperationOutcome and console pages a Japanese-first "try again" page with 503
 * (never a 500); when it listens again, Mamori continues without a restart, every acknowledged write is there once
 * and the record store verifies.
 */
class NetworkCutTest {
    private static final String OWNER = "mamori_owner";
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();
    private static final Map<String, String> ENV = Map.of("MAMORI_DB_APP_PASSWORD", "app-" + UUID.randomUUID());

    @Test
    void requestsDuringACutGetARetryableAnswerAndMamoriContinuesWhenTheNetworkReturns() throws Exception {
        DebianPostgres.assumeAvailable();
        PackagedJar pj = new PackagedJar("netcut");
        try (DebianPostgres pg = DebianPostgres.start(Map.of()); TcpProxy proxy = TcpProxy.to(pg.port())) {
            pg.createOwner(OWNER, OWNER_PASSWORD, "mamori");
            List<String> viaProxy = List.of("--db-url", "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/mamori",
                    "--db-user", OWNER, "--db-password", OWNER_PASSWORD);
            try (ServeProcess m = ServeProcess.start(pj, "m", pj.data, viaProxy, ENV)) {
                List<String> create = new ArrayList<>(List.of("client", "create", "--data", pj.data.toString()));
                create.addAll(List.of("--db-url", pg.jdbcUrl("mamori"), "--db-user", OWNER, "--db-password",
                        OWNER_PASSWORD, "--name", "netcut", "--scopes", "system/*.*", "--owner", "試験 担当",
                        "--purpose", "network cut"));
                PackagedJar.Result c = pj.run(create.toArray(String[]::new));
                assertEquals(0, c.code(), c.out() + c.err());
                String token = c.out().lines().filter(l -> !l.isBlank()).reduce((x, y) -> y).orElseThrow().trim();
                HttpClient http = ExternalPostgres.httpClientFor(pj.data);
                try (WriteLoad load = new WriteLoad(http, token)) {
                    load.writer("w1", m::fhir).writer("w2", m::fhir);
                    load.awaitAcks(20);

                    proxy.cut();
                    // a console page at the same time as the writes (each waits for the pool's connection timeout)
                    java.util.concurrent.CompletableFuture<HttpResponse<String>> console =
                            java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                                try {
                                    return http.send(HttpRequest.newBuilder(URI.create(m.origin() + "/console/home"))
                                            .header("Cookie", "__Host-mamori-session=" + Secrets.random256())
                                            .timeout(Duration.ofSeconds(60)).GET().build(),
                                            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            });
                    load.awaitStatus(503, 1, 60);
                    String outcome = load.examples.get(503);
                    // the audit entry or the write itself could not be stored: either way transient, retry
                    assertTrue(outcome.contains("\"transient\"") && outcome.contains("OperationOutcome"), outcome);
                    assertEquals("5", load.retryAfter.get(503));
                    HttpResponse<String> page = console.get(60, java.util.concurrent.TimeUnit.SECONDS);
                    assertEquals(503, page.statusCode(), page.body());
                    assertEquals("5", page.headers().firstValue("Retry-After").orElse(""));
                    assertTrue(page.body().contains("しばらくしてから再送してください"), page.body());
                    assertTrue(!page.body().contains("Exception") && !page.body().contains("at jp.mamori"), page.body());

                    proxy.restore();
                    load.awaitAcks(20); // no restart
                    load.close();
                    assertEquals(0, load.count(500), "no 500: " + load.examples.get(500));
                    int extra = load.checkAcknowledged(m.fhir());
                    System.out.println("network cut: " + load.acked.size() + " acknowledged, " + extra
                            + " stored without an answer; answers " + load.statuses);
                }
            }
            List<String> verify = new ArrayList<>(List.of("verify-records", "--data", pj.data.toString(), "--db-url",
                    pg.jdbcUrl("mamori"), "--db-user", OWNER, "--db-password", OWNER_PASSWORD));
            PackagedJar.Result v = pj.run(verify.toArray(String[]::new));
            assertEquals(0, v.code(), v.out() + v.err());
            assertTrue(v.out().contains("all hashes match"), v.out());
        }
    }
}
