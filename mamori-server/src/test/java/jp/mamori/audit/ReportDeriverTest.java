package jp.mamori.audit;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 24: an entry is durable in {@code audit_log} alone; its report columns are derived afterwards in the database,
 * and the view {@code audit_entry} shows every entry at once, derived or not, with the same columns either way.
 */
class ReportDeriverTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        // its own server: one test stores an entry that no appender wrote, which a checkpointer would refuse
        server = TestServer.start(List.of("--audit-checkpoint-seconds", "3600"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void anEntryIsInTheReportAtOnceAndTheSameOnceDerived() throws Exception {
        String id = AuditTrailTest.create(server, AuditTrailTest.patientJson("派生" + UUID.randomUUID()
                .toString().substring(0, 6)));
        HttpResponse<String> read = server.get("/Patient/" + id);
        assertEquals(200, read.statusCode(), read.body());
        try (Connection c = server.superuserConnection()) {
            long seq = readEntry(c, id);
            List<String> before = columns(c, seq);
            assertEquals("read", before.get(0));
            assertTrue(before.get(1).contains(id), "the patient read: " + before);
            ReportDeriver.catchUp(server.server().database().dataSource());
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT next_seq FROM audit_report_head")) {
                rs.next();
                assertTrue(rs.getLong(1) > seq, "derived past the entry");
            }
            assertEquals(before, columns(c, seq), "the derived row says what the entry said");
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_report WHERE seq = ?")) {
                ps.setLong(1, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(1, rs.getInt(1), "one derived row");
                }
            }
        }
    }

    @Test
    void theRuntimeRoleCannotWriteTheReportButCanDeriveIt() throws Exception {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE mamori_app");
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> st.execute(
                    "INSERT INTO audit_report (seq, recorded_at, actor, actor_kind, action, outcome, purpose)"
                            + " VALUES (99999999, now(), 'mallory', 'person', 'read', 'success', 'treatment')"));
            assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
            try (ResultSet rs = st.executeQuery("SELECT mamori_audit_report(10)")) {
                assertTrue(rs.next(), "the deriver runs for the runtime role");
            }
            st.execute("RESET ROLE");
        }
    }

    @Test
    void anUnreadableEntryStopsNeitherTheReportNorTheDeriver() throws Exception {
        long forged;
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            long seq;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT next_seq FROM audit_head FOR UPDATE")) {
                rs.next();
                seq = rs.getLong(1);
            }
            byte[] entry = ("{\"seq\":" + seq + ",\"not json").getBytes(StandardCharsets.UTF_8);
            byte[] leaf = EntryCodec.leafHash(entry);
            AuditSealTest.storeBehindTheAppender(c, seq, entry, leaf);
            c.commit();
            forged = seq;
        }
        // the appender goes on after it (it reads the moved head), and every query still answers
        String id = AuditTrailTest.create(server, AuditTrailTest.patientJson("後続" + UUID.randomUUID()
                .toString().substring(0, 6)));
        try (Connection c = server.superuserConnection()) {
            assertEquals(List.of("unreadable", "", "error"), columns(c, forged), "shown as unreadable before");
            ReportDeriver.catchUp(server.server().database().dataSource());
            assertEquals(List.of("unreadable", "", "error"), columns(c, forged), "and after it is derived");
            assertFalse(AuditTrailTest.entriesAbout(server, id).isEmpty(), "entries after it are derived too");
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT next_seq, (SELECT next_seq FROM audit_head) FROM"
                         + " audit_report_head")) {
                rs.next();
                assertTrue(rs.getLong(1) > forged, "the deriver went past it");
            }
        }
    }

    /** The seq of the newest read entry about patient {@code id}. */
    private static long readEntry(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max(seq) FROM audit_entry WHERE action = 'read'"
                + " AND ? = ANY(patients)")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long seq = rs.getLong(1);
                assertFalse(rs.wasNull(), "the read has its entry");
                return seq;
            }
        }
    }

    /** action, patients, outcome of entry {@code seq} through the view. */
    private static List<String> columns(Connection c, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT action, array_to_string(patients, ','), outcome, entry"
                + " FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "entry " + seq + " is in the view");
                List<String> out = new ArrayList<>();
                out.add(rs.getString(1));
                out.add(rs.getString(2));
                out.add(rs.getString(3));
                assertNotNull(rs.getBytes(4), "with its bytes");
                assertFalse(rs.next(), "once");
                return out;
            }
        }
    }
}
