package jp.mamori.db;

import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A measurement, not a test (run it by name: {@code -Dtest=TwoProcessBench}): FHIR throughput of one {@code serve}
 * process against two on the same Debian PostgreSQL (issue 18 §1, docs/continuity.md), with the same total client
 * concurrency: one bench at 8 connections against A, then two benches at 4 each against A and B at the same time.
 * On a 2-core machine the database, both servers and the load clients share the cores, so two processes cannot
 * scale; the figures show what a second process costs.
 */
class TwoProcessBench {
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();

    @Test
    void oneProcessAgainstTwo() throws Exception {
        DebianPostgres.assumeAvailable();
        PackagedJar pj = new PackagedJar("twoproc");
        Path d2 = pj.data.resolveSibling(pj.data.getFileName() + "-b");
        Map<String, String> env = Map.of("MAMORI_DB_APP_PASSWORD", "app-" + UUID.randomUUID());
        try (DebianPostgres pg = DebianPostgres.start(Map.of("shared_buffers", "256MB"))) {
            pg.createOwner("mamori_owner", OWNER_PASSWORD, "mamori");
            List<String> db = List.of("--db-url", pg.jdbcUrl("mamori"), "--db-user", "mamori_owner", "--db-password",
                    OWNER_PASSWORD);
            try (ServeProcess a = ServeProcess.start(pj, "a", pj.data, db, env)) {
                assertEquals(0, pj.run("node", "add", "--from", pj.data.toString(), "--data", d2.toString()).code());
                Files.createDirectories(d2.resolve("tls"));
                Files.copy(pj.data.resolve("tls").resolve("server.p12"), d2.resolve("tls").resolve("server.p12"));
                Files.copy(pj.data.resolve("secrets").resolve("tls-keystore-password"),
                        d2.resolve("secrets").resolve("tls-keystore-password"), StandardCopyOption.COPY_ATTRIBUTES);
                List<String> create = new ArrayList<>(List.of("client", "create", "--data", pj.data.toString()));
                create.addAll(db);
                create.addAll(List.of("--name", "bench", "--scopes", "system/*.*", "--owner", "計測", "--purpose",
                        "two processes"));
                PackagedJar.Result c = pj.run(create.toArray(String[]::new));
                String token = c.out().lines().filter(l -> !l.isBlank()).reduce((x, y) -> y).orElseThrow().trim();
                try (ServeProcess b = ServeProcess.start(pj, "b", d2, db, env)) {
                    for (String scenario : List.of("create", "read")) {
                        PackagedJar.Result one = bench(pj, a, token, scenario, 8);
                        System.out.println("ONE PROCESS  " + scenario + ": " + one.out().strip());
                        CompletableFuture<PackagedJar.Result> onA = CompletableFuture.supplyAsync(() ->
                                benchQuietly(pj, a, token, scenario, 4));
                        PackagedJar.Result onB = bench(pj, b, token, scenario, 4);
                        System.out.println("TWO PROCESSES " + scenario + " A: " + onA.get().out().strip());
                        System.out.println("TWO PROCESSES " + scenario + " B: " + onB.out().strip());
                    }
                }
            }
        }
    }

    private static PackagedJar.Result bench(PackagedJar pj, ServeProcess s, String token, String scenario,
                                            int concurrency) throws Exception {
        return pj.run("bench", "--base", s.fhir(), "--token", token, "--scenario", scenario, "--concurrency",
                Integer.toString(concurrency), "--seconds", "20", "--warmup", "5", "--insecure");
    }

    private static PackagedJar.Result benchQuietly(PackagedJar pj, ServeProcess s, String token, String scenario,
                                                   int concurrency) {
        try {
            return bench(pj, s, token, scenario, concurrency);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
