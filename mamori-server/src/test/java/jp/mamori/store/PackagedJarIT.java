package jp.mamori.store;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shaded jar, as a hospital runs it ({@code ./mamori} runs {@code java -jar}), from a fresh data folder: the
 * server creates the database (initdb, every migration, the capabilities' Java migrations found through the jar's
 * merged service files), the command line adds a client, the server answers, records, stops on SIGTERM, and the
 * offline checks pass.
 * The crash and heap tests run the same server from the build's classes in the unit-test phase; this one shows
 * that what is packaged is the same server.
 */
class PackagedJarIT {
    private final PackagedJar pj = new PackagedJar("jar");

    @Test
    void theShadedJarStartsOnAFreshFolderServesStopsAndVerifiesClean() throws Exception {
        assertNotNull(pj.jar, "run by failsafe with -Dmamori.jar (the package phase's shaded jar)");
        Path data = pj.data;
        int port = PackagedJar.freePort();
        List<String> cmd = new ArrayList<>(pj.command());
        cmd.addAll(List.of("serve", "--data", data.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1"));
        Path out = pj.logs.resolve("serve.out");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!(Files.exists(out) && Files.readString(out).contains("Mamori ready at"))) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    fail("the packaged server did not become ready:\n" + Files.readString(out));
                }
                Thread.sleep(100);
            }
            String token = pj.createClient("jar", "the packaged server");
            HttpClient http = ExternalPostgres.httpClientFor(data);
            String base = "https://127.0.0.1:" + port + "/fhir";
            String ident = Patients.uniqueValue();
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/Patient"))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString(Patients.json(ident, "梱包"), StandardCharsets.UTF_8))
                    .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(201, created.statusCode(), created.body());
            String id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());
            HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(base + "/Patient/" + id))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains(ident) && read.body().contains("梱包"), read.body());

            server.destroy(); // SIGTERM: the shutdown hook stops the server, then its database
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the packaged server did not stop on SIGTERM");
        } finally {
            server.destroyForcibly();
        }
        PackagedJar.Result records = pj.run("verify-records", "--data", data.toString());
        assertEquals(0, records.code(), records.out() + records.err());
        assertTrue(records.out().contains("all hashes match"), records.out());
        PackagedJar.Result audit = pj.run("audit-verify", "--data", data.toString());
        assertEquals(0, audit.code(), audit.out() + audit.err());
    }
}
