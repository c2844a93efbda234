package jp.mamori.preservation;

import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A whole Mamori server backed up while it runs, restored into a new folder, and started there. */
class RestoredServerTest {
    /** A restored folder, the patient written in it (two versions: the second from shipped WAL), a token of it. */
    private record Restored(Path folder, String patient, String token) {
    }

    private static Restored backUpAndRestore() throws Exception {
        FolderParts parts = new FolderParts(TestData.newFolder("srv-parts-"));
        Path source;
        String id;
        String token;
        try (TestServer src = TestServer.start(List.of("--http"))) {
            source = src.dataDir();
            token = src.adminToken();
            HttpResponse<String> created = src.post("/Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Hozon\",\"given\":[\"Taro\"]}]}");
            assertEquals(201, created.statusCode(), created.body());
            String location = created.headers().firstValue("Location").orElseThrow();
            id = location.replaceAll(".*/Patient/([^/]+)/_history/.*", "$1");
            try (Connection c = src.superuserConnection()) {
                BaseBackup.take(c, source.resolve("pg"), Database.walSpool(source), parts, "srv");
            }
            // A second version after the backup: it comes back through the shipped WAL.
            HttpResponse<String> updated = src.send(src.request("/Patient/" + id)
                    .header("Content-Type", "application/fhir+json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + id
                            + "\",\"name\":[{\"family\":\"Hozon\",\"given\":[\"Jiro\"]}]}")).build());
            assertEquals(200, updated.statusCode(), updated.body());
            try (Connection c = src.superuserConnection()) {
                TestDb.switchAndArchive(c);
            }
            new WalShipper(Database.walSpool(source), source.resolve("backup").resolve("ship-state"), parts).shipOnce();
        }

        Path restored = TestData.newFolder("srv-restored-");
        Restore.Result r = Restore.toNewFolder(parts, "srv", restored, Optional.empty());
        assertTrue(r.lastTransaction().isPresent(), r.toString());
        // What the caller adds: the data folder's other secrets and files (here: copied from the source).
        copyRest(source, restored);
        return new Restored(restored, id, token);
    }

    private static HttpResponse<String> read(MamoriServer s, String token, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.baseUrl() + path))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRestoredFolderStartsAsAMamoriServerWithItsRecordsIntact() throws Exception {
        Restored r = backUpAndRestore();
        try (MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", r.folder().toString(), "--port",
                "0", "--bind", "127.0.0.1", "--http"), Map.of()))) {
            List<RecordService.Mismatch> bad = new ArrayList<>();
            long versions = s.records().verifyAll(bad::add);
            assertTrue(versions >= 2, "versions checked: " + versions);
            assertEquals(List.of(), bad, "verify-records");
            String token = s.clients().create("restore-test", "system/*.*", "test").token();
            HttpResponse<String> read = read(s, token, "/Patient/" + r.patient());
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("Jiro") && read.body().contains("\"versionId\":\"2\""), read.body());
        }
    }

    /**
     * The standalone viewer after an attack (issue 18 §2, DEGRADED-4) from the newest backup: restored into a folder
     * on a clean machine and opened with {@code serve --read-only} straight away, never started writable.
     */
    @Test
    void aRestoredFolderOpensAsTheReadOnlyViewer() throws Exception {
        Restored r = backUpAndRestore();
        try (MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", r.folder().toString(), "--port",
                "0", "--bind", "127.0.0.1", "--http", "--read-only"), Map.of()))) {
            assertTrue(s.database().availability().state().forced());
            HttpResponse<String> read = read(s, r.token(), "/Patient/" + r.patient());
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("Jiro"), "the version from the shipped WAL: " + read.body());
            HttpResponse<String> write = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(s.baseUrl() + "/Patient")).header("Authorization", "Bearer " + r.token())
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, write.statusCode(), write.body());
            assertTrue(s.audit().journal().journaling() && s.audit().journal().entries() > 0,
                    "the read is audited into the viewer's journal");
        }
    }

    /** Everything of the source folder a restore does not bring: all but the database, its passwords, runtime. */
    private static void copyRest(Path from, Path to) throws Exception {
        Set<String> skip = Set.of("pg", "runtime", "backup", "secrets/db-superuser-password",
                "secrets/db-app-password");
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                String rel = from.relativize(p).toString();
                if (rel.isEmpty() || skip.stream().anyMatch(k -> rel.equals(k) || rel.startsWith(k + "/"))
                        || rel.equals(".lock") || rel.endsWith(".lock")) {
                    continue;
                }
                Path q = to.resolve(rel);
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else if (!Files.exists(q)) {
                    Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
