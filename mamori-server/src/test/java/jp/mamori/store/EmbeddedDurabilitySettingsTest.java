package jp.mamori.store;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The embedded PostgreSQL commits durably. The embedded library starts the server with {@code -F} (fsync off)
 * and {@code synchronous_commit=off}; Mamori overrides both, and these are the values the server really runs with.
 */
class EmbeddedDurabilitySettingsTest {

    @Test
    void theEmbeddedDatabaseRunsWithFsyncSynchronousCommitAndFullPageWritesOn() throws Exception {
        TestServer s = TestServer.shared();
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement()) {
            for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
                try (ResultSet rs = st.executeQuery("SHOW " + setting)) {
                    rs.next();
                    assertEquals("on", rs.getString(1), setting);
                }
            }
        }
        for (String setting : List.of("fsync", "synchronous_commit", "full_page_writes")) {
            assertEquals("on", s.server().database().setting(setting), "as seen by the server's own pool: " + setting);
        }
    }
}
