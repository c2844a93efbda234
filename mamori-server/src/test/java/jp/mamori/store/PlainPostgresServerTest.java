package jp.mamori.store;

import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same migrations and the same guarantees on a plain PostgreSQL server in its own process, started with
 * initdb and pg_ctl (not through the embedded wrapper), with Mamori connecting as an ordinary owner role that
 * may create roles but is not a superuser, its password given in {@code MAMORI_DB_PASSWORD}.
 */
class PlainPostgresServerTest {
    private static final String OWNER_PASSWORD = UUID.randomUUID().toString();

    private static ExternalPostgres pg;
    private static MamoriServer mamori;
    private static HttpClient http;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        String why = ExternalPostgres.unavailableReason();
        Assumptions.assumeTrue(why == null, "no plain PostgreSQL server here: " + why);
        pg = ExternalPostgres.start();
        pg.createOwner("mamori_owner", OWNER_PASSWORD, "mamori");
        Path data = TestData.newFolder("ext-");
        mamori = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", data.toString(), "--port", "0",
                        "--bind", "127.0.0.1", "--db-url", pg.jdbcUrl("mamori"), "--db-user", "mamori_owner"),
                Map.of("MAMORI_DB_PASSWORD", OWNER_PASSWORD, "MAMORI_DB_APP_PASSWORD", "app-" + OWNER_PASSWORD)));
        http = ExternalPostgres.httpClientFor(data);
        token = mamori.clients().create("ext-test", "system/*.*", "test").token();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (mamori != null) {
                mamori.close();
            }
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    @Test
    void requestHandlingLogsInAsTheRuntimeRoleWithTheConfiguredAppPassword() throws Exception {
        try (var c = mamori.database().dataSource().getConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT session_user, current_setting('is_superuser')")) {
            org.junit.jupiter.api.Assertions.assertTrue(rs.next());
            org.junit.jupiter.api.Assertions.assertEquals("mamori_app", rs.getString(1));
            org.junit.jupiter.api.Assertions.assertEquals("off", rs.getString(2));
        }
    }

    @Test
    void mamoriRunsAsANonSuperuserOwnerAndTheRuntimeRoleIsSeparate() throws Exception {
        try (Connection c = owner(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
            rs.next();
            assertFalse(rs.getBoolean(1), "mamori_owner must not be a superuser for this test to mean anything");
        }
        try (Connection c = pg.superuser("mamori"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT tableowner FROM pg_tables WHERE tablename = 'resource_version'")) {
            assertTrue(rs.next(), "migrations did not create resource_version");
            assertEquals("mamori_owner", rs.getString(1));
        }
    }

    @Test
    void disposalRunsThroughTheOwnerLoginAndTheRuntimeRoleCannotCallIt() throws Exception {
        String p = "ext-ret-" + UUID.randomUUID().toString().substring(0, 6);
        HttpResponse<String> put = send(request("/Patient/" + p).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}",
                        StandardCharsets.UTF_8)));
        assertTrue(put.statusCode() < 300, put.body());
        jp.mamori.retention.Retention r = new jp.mamori.retention.Retention(mamori.database(),
                mamori.audit().recorder(), mamori.audit().reports(),
                java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(6 * 366)));
        jp.mamori.audit.Actor a = jp.mamori.audit.Actor.person("ext-a", "管理 一", List.of("admin"), null, null, null);
        jp.mamori.audit.Actor b = jp.mamori.audit.Actor.person("ext-b", "管理 二", List.of("admin"), null, null, null);
        long batch = r.propose(a, List.of(p), "保存期間満了").id();
        r.approve(a, batch);
        assertEquals("executed", r.approve(b, batch).status());
        assertEquals(410, send(request("/Patient/" + p).GET()).statusCode());
        try (var c = mamori.database().dataSource().getConnection(); var st = c.createStatement()) {
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> st.executeQuery("SELECT * FROM mamori_dispose(" + batch + ", 'x', 'y')"));
            assertEquals("42501", e.getSQLState(), e.getMessage());
        }
    }

    @Test
    void createReadSearchAndHistoryWork() {
        String ident = Patients.uniqueValue();
        HttpResponse<String> created = send(request("/Patient").header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(Patients.json(ident, "すずき"), StandardCharsets.UTF_8)));
        assertEquals(201, created.statusCode(), created.body());
        String id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());

        HttpResponse<String> updated = send(request("/Patient/" + id).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(Patients.jsonWithId(id, ident, "すずきに"),
                        StandardCharsets.UTF_8)));
        assertEquals(200, updated.statusCode(), updated.body());

        HttpResponse<String> read = send(request("/Patient/" + id).GET());
        assertEquals(200, read.statusCode(), read.body());
        assertTrue(read.body().contains("すずきに"), read.body());

        HttpResponse<String> search = send(request("/Patient?identifier=" + Patients.SYSTEM + "%7C" + ident).GET());
        assertEquals(200, search.statusCode(), search.body());
        assertTrue(search.body().contains("\"total\":1") || countOf(search.body(), "\"fullUrl\"") == 1,
                search.body());
        assertTrue(search.body().contains(id), search.body());

        HttpResponse<String> history = send(request("/Patient/" + id + "/_history").GET());
        assertEquals(200, history.statusCode(), history.body());
        assertEquals(2, countOf(history.body(), "\"fullUrl\""), history.body());

        HttpResponse<String> v1 = send(request("/Patient/" + id + "/_history/1").GET());
        assertEquals(200, v1.statusCode(), v1.body());
        assertTrue(v1.body().contains("すずき\""), v1.body());
    }

    @Test
    void historyCannotBeChangedByTheRuntimeRoleTheOwnerOrTheSuperuser() throws Exception {
        String ident = Patients.uniqueValue();
        HttpResponse<String> created = send(request("/Patient").header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(Patients.json(ident, "たなか"), StandardCharsets.UTF_8)));
        assertEquals(201, created.statusCode(), created.body());
        String update = "UPDATE resource_version SET author = 'mallory'";
        String delete = "DELETE FROM resource_version";

        try (Connection c = owner(); Statement st = c.createStatement()) {
            st.execute("SET ROLE mamori_app");
            for (String sql : List.of(update, delete, "TRUNCATE resource_version")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertTrue(e.getMessage().contains("permission denied"), sql + ": " + e.getMessage());
            }
            SQLException e = assertThrows(SQLException.class, () -> st.execute("DELETE FROM resource"));
            assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
        }
        try (Connection c = owner(); Statement st = c.createStatement()) {
            for (String sql : List.of(update, delete, "TRUNCATE resource_version")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertTrue(e.getMessage().contains("append-only"), sql + ": " + e.getMessage());
            }
        }
        try (Connection c = pg.superuser("mamori"); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute(update));
            assertTrue(e.getMessage().contains("append-only"), e.getMessage());
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM resource_version WHERE author = 'mallory'")) {
                rs.next();
                assertEquals(0, rs.getInt(1));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Connection owner() throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl("mamori"), "mamori_owner", OWNER_PASSWORD);
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(mamori.baseUrl() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token);
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int countOf(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
