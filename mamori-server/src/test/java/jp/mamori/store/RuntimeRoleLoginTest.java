package jp.mamori.store;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request handling logs in as the runtime role itself, so no statement can climb back to the owner. */
class RuntimeRoleLoginTest {
    @Test
    void poolConnectionsLogInAsTheRuntimeRoleAndResetRoleGainsNothing() throws SQLException {
        TestServer s = TestServer.shared();
        try (Connection c = s.server().database().dataSource().getConnection(); Statement st = c.createStatement()) {
            assertEquals("mamori_app|mamori_app", one(st, "SELECT session_user || '|' || current_user"));
            st.execute("RESET ROLE");
            assertEquals("mamori_app", one(st, "SELECT current_user"));
            assertEquals("off", one(st, "SELECT current_setting('is_superuser')"));
            SQLException e = assertThrows(SQLException.class,
                    () -> st.executeUpdate("UPDATE resource_version SET author = 'x' WHERE false"));
            assertEquals("42501", e.getSQLState());
            assertThrows(SQLException.class, () -> st.execute("SET ROLE postgres"));
        }
    }

    @Test
    void theRuntimeRoleHoldsNoAttributeThatCouldLiftItsLimits() throws SQLException {
        TestServer s = TestServer.shared();
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication,"
                     + " rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'mamori_app'")) {
            assertTrue(rs.next());
            for (int i = 1; i <= 5; i++) {
                assertFalse(rs.getBoolean(i), "attribute " + i + " must be off");
            }
            assertTrue(rs.getBoolean(6));
        }
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
