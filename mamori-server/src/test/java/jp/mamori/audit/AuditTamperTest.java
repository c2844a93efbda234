package jp.mamori.audit;

import jp.mamori.cli.Main;
import jp.mamori.ledger.Export;
import jp.mamori.ledger.Finding;
import jp.mamori.ledger.Merkle;
import jp.mamori.ledger.Report;
import jp.mamori.ledger.TrailVerifier;
import jp.mamori.ledger.VerifierKey;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AUDIT-3, the heart of issue 5: the database superuser changes the trail behind the server's back, and the exported
 * trail fails verification with the right finding at the right place.
 *
 * <p>Design: one server, several signed checkpoints. Each tamper runs in one superuser transaction with the
 * append-only triggers off ({@code session_replication_role = replica}, what a superuser would do), the export is
 * written through that same connection (so it sees exactly the tampered rows), verified, and the transaction is
 * rolled back: the next case starts from the intact trail, and the server never sees a tampered row. The last case
 * commits a truncation for real and shows that the server's checkpointer and {@code audit-verify} notice it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditTamperTest {
    private static TestServer server;
    private static Checkpointer checkpointer;
    private static VerifierKey key;
    private static List<Long> sizes;
    private static Path work;

    @BeforeAll
    static void trailWithCheckpoints() throws Exception {
        server = TestServer.start(List.of());
        checkpointer = server.server().audit().checkpointer();
        key = checkpointer.signer().verifierKey();
        work = Files.createTempDirectory(Path.of("target"), "tamper");
        for (int round = 0; round < 4; round++) {
            for (int i = 0; i < 6; i++) {
                String id = AuditTrailTest.create(server, AuditTrailTest.patientJson("改ざん" + UUID.randomUUID()
                        .toString().substring(0, 6)));
                assertEquals(200, server.get("/Patient/" + id).statusCode());
            }
            checkpointer.checkpoint();
        }
        sizes = new ArrayList<>();
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT size FROM audit_checkpoint ORDER BY size")) {
            while (rs.next()) {
                sizes.add(rs.getLong(1));
            }
        }
        assertTrue(sizes.size() >= 4, "several signed checkpoints: " + sizes);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A seq in the middle of the trail, under the second checkpoint, whose entry records a success. */
    private static long middle() throws SQLException {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT min(seq) FROM audit_entry WHERE seq > ? AND seq < ? AND outcome = 'success'")) {
            ps.setLong(1, sizes.get(0));
            ps.setLong(2, sizes.get(2) - 2);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long x = rs.getLong(1);
                assertFalse(rs.wasNull(), "an entry between the checkpoints " + sizes);
                return x;
            }
        }
    }

    interface Tamper {
        void apply(Connection c) throws Exception;
    }

    /** Tampers as the superuser, exports through that connection, verifies, and rolls everything back. */
    private static Report tamperAndVerify(String name, Tamper t) throws Exception {
        Path dir = work.resolve(name);
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL session_replication_role = replica");
            }
            t.apply(c);
            TrailLedger.export(c, dir, checkpointer.signer(), 0, checkpointer.anchor());
            c.rollback();
        }
        return new TrailVerifier(key).origin(key.name()).verify(Export.open(dir));
    }

    private static List<Finding> failures(Report r) {
        return r.findings().stream().filter(Finding::fails).toList();
    }

    private static Finding first(Report r, Finding.Kind kind) {
        return failures(r).stream().filter(f -> f.kind() == kind).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in " + failures(r)));
    }

    private static byte[] entry(Connection c, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "entry " + seq);
                return rs.getBytes(1);
            }
        }
    }

    private static void setEntry(Connection c, long seq, byte[] e, boolean rehash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(rehash
                ? "UPDATE audit_log SET entry = ?, leaf_hash = ? WHERE seq = ?"
                : "UPDATE audit_log SET entry = ? WHERE seq = ?")) {
            ps.setBytes(1, e);
            if (rehash) {
                ps.setBytes(2, Merkle.leafHash(e));
                ps.setLong(3, seq);
            } else {
                ps.setLong(2, seq);
            }
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static byte[] refused(byte[] e) {
        String s = new String(e, StandardCharsets.UTF_8);
        assertTrue(s.contains("\"outcome\":\"success\""), s);
        return s.replace("\"outcome\":\"success\"", "\"outcome\":\"refused\"").getBytes(StandardCharsets.UTF_8);
    }

    /** The smallest stored checkpoint size above {@code x}, and the largest at or below it (0 if none). */
    private static long above(long x) {
        return sizes.stream().filter(s -> s > x).findFirst().orElseThrow();
    }

    private static long atOrBelow(long x) {
        return sizes.stream().filter(s -> s <= x).reduce((a, b) -> b).orElse(0L);
    }

    @Test
    @Order(1)
    void theUntouchedTrailVerifies() throws Exception {
        Report r = tamperAndVerify("clean", c -> {
        });
        assertEquals(List.of(), failures(r), r.summary());
        assertTrue(r.checkpointsMatched() >= sizes.size(), r.summary());
        assertEquals(sizes.get(sizes.size() - 1), r.coveredSize());
    }

    @Test
    @Order(2)
    void anEditedEntryIsNamedByItsSuccessorsPrev() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("edit", c -> setEntry(c, x, refused(entry(c, x)), false));
        Finding f = first(r, Finding.Kind.EDITED);
        assertEquals(x, f.seq());
        assertEquals(x + 1, f.line());
        assertEquals(atOrBelow(x), first(r, Finding.Kind.ROOT_MISMATCH).seq());
    }

    @Test
    @Order(3)
    void anEditWithItsLeafHashRecomputedIsStillNamed() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("edit-rehash", c -> setEntry(c, x, refused(entry(c, x)), true));
        assertEquals(x, first(r, Finding.Kind.EDITED).seq());
    }

    @Test
    @Order(4)
    void anEditWithEveryLaterPrevRewrittenIsCaughtByTheSignedRoot() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("edit-relink", c -> {
            long head;
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT max(seq) FROM audit_entry")) {
                rs.next();
                head = rs.getLong(1) + 1;
            }
            byte[] e = refused(entry(c, x));
            setEntry(c, x, e, true);
            byte[] prevNew = Merkle.leafHash(e);
            for (long s = x + 1; s < head; s++) {
                byte[] cur = entry(c, s);
                String text = new String(cur, StandardCharsets.UTF_8);
                String rewritten = text.replaceFirst("\"prev\":\"[^\"]*\"",
                        "\"prev\":\"" + Base64.getEncoder().encodeToString(prevNew) + "\"");
                byte[] b = rewritten.getBytes(StandardCharsets.UTF_8);
                setEntry(c, s, b, true);
                prevNew = Merkle.leafHash(b);
            }
        });
        assertTrue(failures(r).stream().noneMatch(f -> f.kind() == Finding.Kind.EDITED),
                "the prev chain is consistent again: " + failures(r));
        Finding f = first(r, Finding.Kind.ROOT_MISMATCH);
        assertEquals(atOrBelow(x), f.seq());
        assertTrue(f.message().contains("seq " + atOrBelow(x) + "–" + (above(x) - 1)), f.message());
    }

    @Test
    @Order(5)
    void aDeletedEntryIsReportedWhereTheSequenceJumps() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("delete", c -> {
            try (Statement st = c.createStatement()) {
                assertEquals(1, st.executeUpdate("DELETE FROM audit_log WHERE seq = " + x));
            }
        });
        Finding f = first(r, Finding.Kind.DELETED);
        assertEquals(x, f.seq());
        assertEquals(x + 1, f.line());
        assertTrue(failures(r).stream().noneMatch(g -> g.kind() == Finding.Kind.TRUNCATED), failures(r).toString());

        // The same export through the real verifier jar, as an auditor would run it.
        Path jar = ledgerJar();
        Path vkey = work.resolve("hospital.vkey");
        Files.writeString(vkey, key.format() + "\n");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "verify", work.resolve("delete").toString(), "--key", vkey.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("FAIL DELETED") && l.contains("line " + (x + 1))
                && l.contains("seq " + x)), out);
    }

    static Path ledgerJar() throws IOException {
        Path target = Path.of("..", "mamori-ledger", "target");
        try (Stream<Path> s = Files.list(target)) {
            return s.filter(p -> p.getFileName().toString().matches("mamori-ledger-[0-9].*\\.jar")
                            && !p.getFileName().toString().contains("sources"))
                    .findFirst().orElseThrow(() -> new AssertionError("no ledger jar in " + target.toAbsolutePath()
                            + ": build mamori-ledger first (./mvnw package)"));
        }
    }

    @Test
    @Order(6)
    void anInsertedEntryIsNamedByItsLine() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("insert", c -> {
            byte[] leaf = Merkle.leafHash(entry(c, x));
            String forged = "{\"seq\":" + (x + 1) + ",\"prev\":\"" + Base64.getEncoder().encodeToString(leaf)
                    + "\",\"time\":\"2026-01-01T00:00:00.000000Z\",\"actor\":\"account:forged\",\"kind\":\"person\","
                    + "\"action\":\"read\",\"outcome\":\"success\",\"purpose\":\"treatment\"}";
            byte[] b = forged.getBytes(StandardCharsets.UTF_8);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE audit_log SET seq = seq + 1000000000 WHERE seq > " + x);
                st.executeUpdate("UPDATE audit_log SET seq = seq - 999999999 WHERE seq > 1000000000");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_log (seq, entry, leaf_hash)"
                    + " VALUES (?, ?, ?)")) {
                ps.setLong(1, x + 1);
                ps.setBytes(2, b);
                ps.setBytes(3, Merkle.leafHash(b));
                ps.executeUpdate();
            }
        });
        Finding f = first(r, Finding.Kind.INSERTED);
        assertEquals(x + 2, f.line());
        assertEquals(x + 1, f.seq());
    }

    @Test
    @Order(7)
    void twoSwappedEntriesAreReportedAsReordered() throws Exception {
        long x = middle();
        Report r = tamperAndVerify("swap", c -> {
            try (Statement st = c.createStatement()) {
                assertEquals(2, st.executeUpdate("UPDATE audit_log a SET entry = b.entry, leaf_hash = b.leaf_hash"
                        + " FROM audit_log b WHERE (a.seq = " + x + " AND b.seq = " + (x + 1) + ") OR (a.seq = "
                        + (x + 1) + " AND b.seq = " + x + ")"));
            }
        });
        Finding f = first(r, Finding.Kind.REORDERED);
        assertEquals(x + 2, f.line());
        assertEquals(x, f.seq());
    }

    @Test
    @Order(8)
    void aTruncatedTailWithItsCheckpointsRemovedIsCaughtByTheAnchorFolder() throws Exception {
        long t = sizes.get(1) + 1;
        Report r = tamperAndVerify("truncate", c -> truncate(c, t));
        Finding f = first(r, Finding.Kind.TRUNCATED);
        assertEquals(t, f.seq());
        assertEquals(1, failures(r).size(), failures(r).toString());
    }

    private static void truncate(Connection c, long t) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM audit_log WHERE seq >= " + t);
            assertTrue(st.executeUpdate("DELETE FROM audit_checkpoint WHERE size > " + t) >= 2);
            st.executeUpdate("DELETE FROM audit_subtree WHERE ((idx + 1) << level) > " + t);
            st.executeUpdate("UPDATE audit_head SET next_seq = " + t + ", last_leaf = (SELECT leaf_hash FROM audit_log"
                    + " WHERE seq = " + (t - 1) + ")");
        }
    }

    @Test
    @Order(9)
    void auditVerifyPassesOnTheIntactTrailAndIsItselfAudited() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(List.of("audit-verify", "--data", server.dataDir().toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8),
                Map.of());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        assertTrue(text.contains("検証成功 / verified"), text);
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action = 'verify.audit'"
                     + " AND outcome = 'success'")) {
            rs.next();
            assertTrue(rs.getLong(1) >= 1, "the verification run is an audit entry");
        }
    }

    @Test
    @Order(10)
    void aCommittedTruncationIsNoticedByTheServerAndByAuditVerify() throws Exception {
        checkpointer.checkpoint();
        long t;
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL session_replication_role = replica");
            }
            t = TrailLedger.latest(c).size() - 3;
            truncate(c, t);
            c.commit();
        }
        checkpointer.checkpoint();
        String problem = checkpointer.status().problem();
        assertNotNull(problem, "the checkpointer sees fewer entries than it signed");
        assertTrue(problem.contains("entries were removed"), problem);
        assertTrue(server.server().audit().deviations().stream().anyMatch(d -> d.contains("entries were removed")));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(List.of("audit-verify", "--data", server.dataDir().toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8),
                Map.of());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("FAIL ")), text);
        String kinds = text.lines().filter(l -> l.startsWith("FAIL ")).map(l -> l.split(" ")[1])
                .collect(Collectors.joining(" "));
        assertTrue(kinds.contains("TRUNCATED") || kinds.contains("ROOT_MISMATCH")
                || kinds.contains("INCONSISTENT_CHECKPOINTS"), text);
    }
}
