package jp.mamori.preservation;

import jp.mamori.MamoriServer;
import jp.mamori.audit.AuditTrail;
import jp.mamori.cli.Main;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.records.RecordCensus;
import jp.mamori.records.RecordService;
import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Moving an embedded installation onto an external PostgreSQL (Debian's 15; the embedded one is 17) through a
 * restore (issue 16, EXT-6): a server with records (demo data) and audit entries is backed up, the backup restored
 * and copied onto an empty external database, a server started on the new folder reads the same chart, and
 * verify-records and the audit trail verification pass; a non-empty target and a wrong password are refused in one
 * line. {@code -Dmamori.movePatients=500} measures the move of demo-sized data (default 6 patients).
 */
class MoveToExternalTest {
    private static final String OWNER = "mamori_owner";
    private static final String PASSWORD = "Owner-pass-" + java.util.UUID.randomUUID();
    private static DebianPostgres pg;
    private static Path source;
    private static Path backupDir;
    private static String backupId;
    private static String patient;
    private static RecordCensus census;
    private static long auditNext;

    @BeforeAll
    static void aServerWithRecordsAndAuditEntriesIsBackedUp() throws Exception {
        DebianPostgres.assumeAvailable();
        pg = DebianPostgres.start(Map.of());
        backupDir = TestData.newFolder("move-backups-");
        try (TestServer s = TestServer.start(List.of("--http", "--backup-dir", backupDir.toString()))) {
            source = s.dataDir();
            Run demo = mamori(Map.of(), "demo-data", "--data", source.toString(), "--patients",
                    Integer.getInteger("mamori.movePatients", 6).toString(), "--seed", "16");
            assertEquals(0, demo.code, demo.out + demo.err);
            HttpResponse<String> created = s.post("/Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"移行\",\"given\":[\"花子\"]}]}");
            assertEquals(201, created.statusCode(), created.body());
            patient = created.headers().firstValue("Location").orElseThrow()
                    .replaceAll(".*/Patient/([^/]+)/_history/.*", "$1");
            for (int i = 0; i < 10; i++) { // each read is an audit entry
                assertEquals(200, s.get("/Patient/" + patient).statusCode());
            }
            backupId = s.server().backups().backupNow("test").id();
            try (Connection c = s.superuserConnection()) {
                census = RecordCensus.of(c);
                auditNext = AuditTrail.nextSeq(c);
            }
        }
        pg.createOwner(OWNER, PASSWORD, "mamori");
        pg.createOwner("other_owner", PASSWORD, "other");
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void anEmbeddedInstallationMovesOntoTheExternalDatabaseAndStartsThereWithItsChartsAndTrail() throws Exception {
        Path moved = TestData.newFolder("moved-");
        long t0 = System.nanoTime();
        Run r = move(moved, pg.jdbcUrl("mamori"), OWNER, PASSWORD);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(r.out.contains("moved and verified") && r.out.contains("(counts equal)"), r.out);
        System.out.println("MEASURED move of " + census.versions() + " record versions and " + auditNext
                + " audit entries (restore + copy + verification): " + ms + " ms\n" + r.out);

        // The new folder is one for the external database: no embedded database or its passwords left.
        assertFalse(Files.exists(moved.resolve("pg")));
        assertFalse(Files.exists(moved.resolve("secrets").resolve("db-superuser-password")));
        assertTrue(Files.exists(moved.resolve(MoveToExternal.EXTERNAL_MARKER)));
        assertFalse(Files.exists(moved.resolve(Restore.INCOMPLETE)));
        ConfigException embedded = assertThrows(ConfigException.class, () -> MamoriServer.start(
                ServerConfig.fromArgs(List.of("--data", moved.toString(), "--http", "--port", "0"), Map.of())));
        assertTrue(embedded.getMessage().contains("external"), embedded.getMessage());

        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("mamori"), OWNER, PASSWORD)) {
            RecordCensus there = RecordCensus.of(c);
            assertEquals(census.versions(), there.versions());
            assertEquals(census.resources(), there.resources());
            assertTrue(auditNext > 10, "audit entries to move: " + auditNext);
            assertTrue(AuditTrail.nextSeq(c) >= auditNext, "the trail came along (and the check's server added to it)");
        }
        try (MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", moved.toString(), "--port",
                "0", "--bind", "127.0.0.1", "--http", "--db-url", pg.jdbcUrl("mamori"), "--db-user", OWNER),
                Map.of("MAMORI_DB_PASSWORD", PASSWORD)))) {
            List<RecordService.Mismatch> bad = new ArrayList<>();
            assertEquals(census.versions(), s.records().verifyAll(bad::add));
            assertEquals(List.of(), bad, "verify-records on the external database");
            String token = s.clients().create("move-test", "system/*.*", "test").token();
            HttpResponse<String> read = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(s.baseUrl() + "/Patient/" + patient)).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("花子"), read.body());
            // a new record gets a new identity, after the copied ones (the sequences came along)
            HttpResponse<String> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(s.baseUrl() + "/Patient")).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/fhir+json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"新規\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(201, created.statusCode(), created.body());
        }

        // Again onto the same database: it holds records now, refused in one line, nothing changed.
        Run again = move(TestData.newFolder("moved-again-"), pg.jdbcUrl("mamori"), OWNER, PASSWORD);
        assertEquals(1, again.code, again.out + again.err);
        assertEquals(1, again.err.lines().count(), again.err);
        assertTrue(again.err.contains("is not empty") && again.err.contains("--force"), again.err);
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("mamori"), OWNER, PASSWORD)) {
            assertEquals(census.versions() + 1, RecordCensus.of(c).versions());
        }
    }

    @Test
    void aWrongPasswordIsOneClearLineBeforeAnythingIsRestored() throws Exception {
        Path target = TestData.newFolder("moved-badpw-");
        Run r = move(target, pg.jdbcUrl("other"), "other_owner", "not-the-password");
        assertEquals(1, r.code, r.out + r.err);
        assertEquals(1, r.err.lines().count(), r.err);
        assertTrue(r.err.contains("cannot connect") && r.err.contains("password authentication failed"), r.err);
        assertFalse(r.err.contains("not-the-password"), "the password is never echoed");
        assertFalse(Files.exists(target), "nothing restored");
        Run none = mamori(Map.of(), "backup", "restore", "--data", source.toString(), "--backup-dir",
                backupDir.toString(), "--id", backupId, "--to", target.toString(), "--to-db-url", pg.jdbcUrl("other"),
                "--to-db-user", "other_owner");
        assertEquals(2, none.code, none.out + none.err);
        assertTrue(none.err.contains("MAMORI_DB_PASSWORD"), none.err);
        Run inUrl = move(target, pg.jdbcUrl("other") + "?password=" + PASSWORD, "other_owner", PASSWORD);
        assertEquals(2, inUrl.code, inUrl.out + inUrl.err);
        assertEquals(1, inUrl.err.lines().count(), inUrl.err);
        assertTrue(inUrl.err.contains("must not carry the password"), inUrl.err);
        assertFalse(Files.exists(target), "nothing restored");
    }

    @Test
    void aDatabaseOfAnotherApplicationIsNotOverwrittenEvenWithForce() throws Exception {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("other"), "other_owner", PASSWORD);
             java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY, note text)");
            st.execute("INSERT INTO ledger VALUES (1, 'keep me') ON CONFLICT DO NOTHING");
        }
        Path target = TestData.newFolder("moved-foreign-");
        Run r = mamori(Map.of("MAMORI_DB_PASSWORD", PASSWORD), "backup", "restore", "--data", source.toString(),
                "--backup-dir", backupDir.toString(), "--id", backupId, "--to", target.toString(), "--to-db-url",
                pg.jdbcUrl("other"), "--to-db-user", "other_owner", "--force");
        assertTrue(r.code != 0, r.out + r.err);
        assertEquals(1, r.err.lines().count(), r.err);
        assertTrue(Files.exists(target.resolve(Restore.INCOMPLETE)), "the half-moved folder is marked");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("other"), "other_owner", PASSWORD);
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT note FROM ledger WHERE id = 1")) {
            assertTrue(rs.next());
            assertEquals("keep me", rs.getString(1));
        }
    }

    private static Run move(Path to, String url, String user, String password) {
        return mamori(Map.of("MAMORI_DB_PASSWORD", password), "backup", "restore", "--data", source.toString(),
                "--backup-dir", backupDir.toString(), "--id", backupId, "--to", to.toString(), "--to-db-url", url,
                "--to-db-user", user);
    }

    private record Run(int code, String out, String err) {
    }

    private static Run mamori(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
