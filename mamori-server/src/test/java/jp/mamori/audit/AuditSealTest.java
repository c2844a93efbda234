package jp.mamori.audit;

import jp.mamori.access.SecurityNotifier;
import jp.mamori.cli.Main;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 8 (AUDIT-3): the checkpointer signs only what an appender holding the key stored. A database
 * superuser appends a correctly chained entry after the last checkpoint (the chain, the head and the report columns
 * all consistent, as the append function would have written them): the next checkpoint is refused, a security
 * notice goes out, the problem is recorded and shown, {@code audit-verify} fails, and no checkpoint covers the entry.
 * Its own server, because such an entry can never leave the trail.
 */
class AuditSealTest {
    private static TestServer server;
    private static final List<SecurityNotifier.Notice> notices = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        // The test signs checkpoints itself; the server's own tick (every 10 s) would race it and sign first.
        server = TestServer.start(List.of("--audit-checkpoint-seconds", "3600"));
        server.server().audit().checkpointer().notifying(notices::add);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aCorrectlyChainedEntryAppendedByTheDatabaseSuperuserIsNotSigned() throws Exception {
        Checkpointer cp = server.server().audit().checkpointer();
        AuditTrailTest.create(server, AuditTrailTest.patientJson("封印" + UUID.randomUUID().toString().substring(0, 6)));
        AuditTrailTest.drained(server);
        assertNotNull(cp.checkpoint(), "what the appender stored is signed");
        assertNull(cp.status().problem());

        long fake;
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            long seq;
            byte[] prev;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head FOR UPDATE")) {
                rs.next();
                seq = rs.getLong(1);
                prev = rs.getBytes(2);
            }
            AuditRecord r = new AuditRecord(Instant.now(), "account:" + UUID.randomUUID(), "person", "偽の利用者",
                    List.of("physician"), null, List.of("p-fake"), List.of("Patient/p-fake/_history/1"), "read",
                    "success", "treatment", "10.0.0.9", null, false, Map.of("status", "200"));
            byte[] entry = EntryCodec.encode(seq, prev, r);
            byte[] leaf = EntryCodec.leafHash(entry);
            storeBehindTheAppender(c, seq, entry, leaf); // the head's own trigger accepts it: there and chained
            c.commit();
            fake = seq;
        }
        // the server goes on appending after it, chained to it
        AuditTrailTest.create(server, AuditTrailTest.patientJson("封印後" + UUID.randomUUID().toString().substring(0, 6)));
        AuditTrailTest.drained(server);

        assertNull(cp.checkpoint(), "no checkpoint over an entry no appender stored");
        String problem = cp.status().problem();
        assertNotNull(problem);
        assertTrue(problem.contains("audit entry " + fake + " "), problem);
        assertTrue(cp.deviations().stream().anyMatch(d -> d.contains("audit entry " + fake)), cp.deviations().toString());
        assertTrue(notices.stream().anyMatch(n -> n.event().equals("audit.integrity")
                && n.fields().get("problem").contains("audit entry " + fake)), notices.toString());
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_checkpoint WHERE size > " + fake)) {
                rs.next();
                assertEquals(0, rs.getLong(1), "no signature over the fake entry");
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action = 'audit.integrity'"
                    + " AND convert_from(entry, 'UTF8') LIKE '%" + "audit entry " + fake + " %'")) {
                rs.next();
                assertTrue(rs.getLong(1) >= 1, "the refusal is an entry of its own");
            }
        }

        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int code = Main.run(List.of("audit-verify", "--data", server.dataDir().toString()), p, p, Map.of());
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, out);
        assertTrue(out.contains("INTEGRITY PROBLEM") && out.contains("audit entry " + fake), out);
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_checkpoint WHERE size > " + fake)) {
            rs.next();
            assertEquals(0, rs.getLong(1), "audit-verify's own checkpointer did not sign it either");
        }
    }

    /**
     * Stores {@code entry} at {@code seq} and moves the head over it, as a database superuser could, past the appender
     * (no seal); {@code c} holds the head's lock in its transaction.
     */
    static void storeBehindTheAppender(java.sql.Connection c, long seq, byte[] entry, byte[] leaf)
            throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_log (seq, entry, leaf_hash) VALUES (?, ?, ?)")) {
            ps.setLong(1, seq);
            ps.setBytes(2, entry);
            ps.setBytes(3, leaf);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE audit_head SET next_seq = ?, last_leaf = ?")) {
            ps.setLong(1, seq + 1);
            ps.setBytes(2, leaf);
            ps.executeUpdate();
        }
    }
}
