package jp.mamori.db;

import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standalone viewer's database ({@code serve --read-only}, issue 18 §2, DEGRADED-4): a copy of a data folder opened
 * read-only refuses writes at the server, is never migrated, and a copy whose schema is behind this build is refused.
 */
class ReadOnlyCopyTest {
    @TempDir
    static Path tmp;
    private static Path original;

    @BeforeAll
    static void makeAFolder() {
        original = tmp.resolve("original");
        try (Database db = Database.open(embedded(), original, 2)) {
            assertEquals("on", db.setting("fsync"));
        }
    }

    @AfterAll
    static void nothing() {
    }

    private static ServerConfig.Database embedded() {
        return ServerConfig.fromArgs(List.of("--data", "unused"), Map.of()).database();
    }

    private static Path copy(String name) throws IOException {
        return jp.mamori.testing.TestData.copyDataFolder(original, tmp.resolve(name));
    }

    private static long accounts(Database db) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM auth_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aCopyOpensReadOnlyForcedDegradedAndRefusesWritesAtTheServer() throws Exception {
        Path copy = copy("copy");
        long before;
        try (Database db = Database.openReadOnly(embedded(), copy, 2)) {
            assertTrue(db.availability().degraded());
            assertTrue(db.availability().state().forced());
            assertTrue(db.availability().state().reason().contains("--read-only"));
            assertEquals("on", db.setting("default_transaction_read_only"));
            before = accounts(db);
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate(
                        "INSERT INTO auth_event (at, account_id, login_id, address, event, outcome, detail)"
                        + " VALUES (now(), NULL, 'x', '127.0.0.1', 'login', 'failure', 'test')"));
                assertTrue(Availability.retryable(e), e.getSQLState());
                // even a session that asks for a writable transaction gets none: the server's own setting
                c.setReadOnly(false);
                SQLException again = assertThrows(SQLException.class, () -> st.executeUpdate(
                        "INSERT INTO auth_event (at, account_id, login_id, address, event, outcome, detail)"
                        + " VALUES (now(), NULL, 'x', '127.0.0.1', 'login', 'failure', 'test')"));
                assertEquals("25006", again.getSQLState());
            }
        }
        try (Database db = Database.openReadOnly(embedded(), copy, 2)) {
            assertEquals(before, accounts(db), "the copy's data are as they were");
        }
    }

    @Test
    void aCopyWhoseSchemaIsBehindThisBuildIsRefusedWithOneLineAndNotMigrated() throws Exception {
        Path copy = copy("behind");
        try (Database db = Database.open(embedded(), copy, 2); Connection c = db.ownerConnection();
             Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM flyway_schema_history WHERE installed_rank = (SELECT max(installed_rank)"
                    + " FROM flyway_schema_history)");
        }
        ConfigException e = assertThrows(ConfigException.class, () -> Database.openReadOnly(embedded(), copy, 2));
        assertTrue(e.getMessage().contains("behind this build") && e.getMessage().contains("古い形式"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
