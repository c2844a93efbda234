package jp.mamori.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The switch into degraded read-only mode and back, driven by a real PostgreSQL turning read-only (issue 18 §2). */
class PrimaryMonitorTest {
    private static EmbeddedPostgres pg;
    private static String url;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private static void readOnly(boolean on) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres"); Statement st = c.createStatement()) {
            st.execute("SET default_transaction_read_only = off");
            st.execute(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                    : "ALTER SYSTEM RESET default_transaction_read_only");
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @Test
    void entersWhenTheDatabaseTurnsReadOnlyAndLeavesWhenItIsWritableAgain() throws Exception {
        Availability a = Availability.normal(Clock.systemUTC());
        PrimaryMonitor m = new PrimaryMonitor(a, PrimaryMonitor.jdbc(url, "postgres", "postgres"), Duration.ofSeconds(1));
        m.checkOnce();
        m.checkOnce();
        assertFalse(a.degraded());
        assertEquals(PrimaryMonitor.Seen.PRIMARY, m.lastObservation().seen());
        try {
            readOnly(true);
            // an open connection's writes now fail as retryable (read-only transaction), never half-applied
            try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
                 Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute("CREATE TABLE t_refused(x int)"));
                assertTrue(Availability.retryable(e), e.getSQLState());
            }
            m.checkOnce();
            assertFalse(a.degraded(), "one observation is not enough (no flapping)");
            m.checkOnce();
            assertTrue(a.degraded());
            assertTrue(a.state().reason().contains("read-only"), a.state().reason());
            assertFalse(a.state().forced());
        } finally {
            readOnly(false);
        }
        m.checkOnce();
        assertTrue(a.degraded(), "one writable observation is not enough");
        m.checkOnce();
        assertFalse(a.degraded());
        assertTrue(a.state().reason().contains("writable primary"), a.state().reason());
    }

    private static javax.sql.DataSource source(String url) {
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser("postgres");
        ds.setPassword("postgres");
        return ds;
    }

    @Test
    void withSeveralHostsAndOnlyAReadOnlyOneLeftReadsGoToItWhileDegraded() throws Exception {
        // a host list whose primary is gone (port 1) and whose other host accepts reads only
        String hosts = "jdbc:postgresql://127.0.0.1:1,127.0.0.1:" + pg.getPort() + "/postgres?connectTimeout=2";
        String primaryUrl = PrimaryMonitor.withParams(hosts, Map.of("targetServerType", "primary"));
        Availability a = Availability.normal(Clock.systemUTC());
        PrimaryMonitor m = new PrimaryMonitor(a, PrimaryMonitor.jdbc(primaryUrl, "postgres", "postgres"),
                Duration.ofSeconds(1));
        RoutingDataSource routed = new RoutingDataSource(source(primaryUrl), source(PrimaryMonitor.withParams(hosts,
                Map.of("targetServerType", "preferPrimary"))), a::degraded);
        try {
            readOnly(true);
            assertThrows(SQLException.class, () -> routed.getConnection().close(), "no primary in the list");
            m.checkOnce();
            m.checkOnce();
            assertTrue(a.degraded(), m.lastObservation().toString());
            try (Connection c = routed.getConnection(); Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(c.isReadOnly());
                assertTrue(rs.next());
            }
        } finally {
            readOnly(false);
        }
    }

    @Test
    void nothingReachableIsDownNotDegradedAndAForcedModeIsNeverLeft() {
        Availability a = Availability.normal(Clock.systemUTC());
        PrimaryMonitor gone = new PrimaryMonitor(a, PrimaryMonitor.jdbc("jdbc:postgresql://127.0.0.1:1/postgres",
                "postgres", "postgres"), Duration.ofSeconds(1));
        gone.checkOnce();
        gone.checkOnce();
        gone.checkOnce();
        assertEquals(PrimaryMonitor.Seen.UNREACHABLE, gone.lastObservation().seen());
        assertFalse(a.degraded());

        Availability forced = Availability.readOnly(Clock.systemUTC(), "serve --read-only");
        PrimaryMonitor m = new PrimaryMonitor(forced, PrimaryMonitor.jdbc(url, "postgres", "postgres"),
                Duration.ofSeconds(1));
        m.checkOnce();
        m.checkOnce();
        assertTrue(forced.degraded());
    }

    @Test
    void urlParametersAreReplacedAndHostListsRecognised() {
        assertEquals("jdbc:postgresql://a,b/db?targetServerType=preferPrimary&x=1",
                PrimaryMonitor.withParams("jdbc:postgresql://a,b/db?targetServerType=primary&x=1",
                        Map.of("targetServerType", "preferPrimary")));
        assertTrue(PrimaryMonitor.multiHost("jdbc:postgresql://a:5432,b:5433/db?targetServerType=primary"));
        assertFalse(PrimaryMonitor.multiHost("jdbc:postgresql://127.0.0.1:5432/postgres"));
    }
}
