package jp.mamori.store;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STORE-1 真正性: the database itself refuses to change stored history, whoever asks. The runtime role
 * {@code mamori_app} lacks the privileges; the owner (here the embedded superuser) is stopped by triggers.
 */
class AppendOnlyHistoryTest {
    private static TestServer server;
    private static String id;
    private static long pk;

    @BeforeAll
    static void aResourceWithTwoVersions() throws Exception {
        server = TestServer.shared();
        String ident = Patients.uniqueValue();
        HttpResponse<String> created = server.post("/Patient", Patients.json(ident, "やまだ"));
        assertEquals(201, created.statusCode(), created.body());
        id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());
        HttpResponse<String> updated = server.put("/Patient/" + id, Patients.jsonWithId(id, ident, "やまもと"));
        assertEquals(200, updated.statusCode(), updated.body());
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT res_pk FROM resource WHERE res_type = 'Patient' AND res_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                pk = rs.getLong(1);
            }
        }
    }

    @Test
    void theRuntimeRoleHasNoPrivilegeToUpdateDeleteOrTruncateVersions() throws Exception {
        List<String> before = versions();
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE mamori_app");
            for (String sql : List.of(
                    "UPDATE resource_version SET author = 'mallory' WHERE res_pk = " + pk,
                    "UPDATE resource_version SET body = body || ' ' WHERE res_pk = " + pk,
                    "DELETE FROM resource_version WHERE res_pk = " + pk,
                    "TRUNCATE resource_version",
                    "TRUNCATE resource_version CASCADE")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("permission denied"), sql + ": " + e.getMessage());
            }
            // The runtime role cannot switch the triggers off or step out of its role to someone who can.
            SQLException alter = assertThrows(SQLException.class, () -> st.execute(
                    "ALTER TABLE resource_version DISABLE TRIGGER resource_version_no_update_delete"));
            assertTrue(alter.getMessage().contains("must be owner"), alter.getMessage());
            assertThrows(SQLException.class, () -> st.execute("SET session_replication_role = replica"));
        }
        assertEquals(before, versions(), "stored versions changed");
    }

    @Test
    void theRuntimeRoleCannotDeleteOrTruncateResourceHeads() throws Exception {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE mamori_app");
            for (String sql : List.of("DELETE FROM resource WHERE res_pk = " + pk, "TRUNCATE resource CASCADE")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertTrue(e.getMessage().contains("permission denied"), sql + ": " + e.getMessage());
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM resource WHERE res_pk = " + pk)) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        }
    }

    @Test
    void triggersRefuseUpdateDeleteAndTruncateEvenForTheOwningSuperuser() throws Exception {
        List<String> before = versions();
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "this test must run as the superuser that owns the tables");
            }
            for (String sql : List.of(
                    "UPDATE resource_version SET author = 'mallory' WHERE res_pk = " + pk,
                    "UPDATE resource_version SET recorded_at = recorded_at - interval '1 day' WHERE res_pk = " + pk,
                    "DELETE FROM resource_version WHERE res_pk = " + pk + " AND version = 1",
                    "TRUNCATE resource_version",
                    "TRUNCATE resource CASCADE")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertTrue(e.getMessage().contains("append-only"), sql + ": " + e.getMessage());
            }
            // Removing the head would orphan its versions: the foreign key stops it.
            SQLException fk = assertThrows(SQLException.class,
                    () -> st.execute("DELETE FROM resource WHERE res_pk = " + pk));
            assertEquals("23503", fk.getSQLState(), fk.getMessage());
        }
        assertEquals(before, versions(), "stored versions changed");
        assertEquals(2, before.size());
        HttpResponse<String> v1 = server.get("/Patient/" + id + "/_history/1");
        assertEquals(200, v1.statusCode());
        assertTrue(v1.body().contains("やまだ"), v1.body());
    }

    /** Every column of every version of the resource, as text. */
    private static List<String> versions() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT v::text FROM resource_version v WHERE res_pk = ?"
                     + " ORDER BY version")) {
            ps.setLong(1, pk);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
