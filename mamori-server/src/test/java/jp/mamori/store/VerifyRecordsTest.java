package jp.mamori.store;

import jp.mamori.cli.Main;
import jp.mamori.records.VersionHash;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mamori verify-records} finds history that was changed behind the server's back, by someone able to
 * switch the append-only trigger off (the database owner), and says which resource and version and which hashes
 * disagree. Runs against its own server so that the shared one stays clean; verify-records attaches to the
 * running server's database, as an operator would run it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerifyRecordsTest {
    private static TestServer server;

    record Result(int code, String out, String err) {
        List<String> linesAbout(String id) {
            return out.lines().filter(l -> l.contains("Patient/" + id + " ")).toList();
        }
    }

    @BeforeAll
    static void start() {
        server = TestServer.start(List.of());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void aCleanStoreVerifiesWithExitCodeZero() {
        StoredVersions.patientWithVersions(server, 3);
        String deleted = StoredVersions.patientWithVersions(server, 2);
        assertEquals(200, server.delete("/Patient/" + deleted, "test: deleted to cover delete versions").statusCode());
        Result r = verify();
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("all hashes match"), r.out());
        assertFalse(r.out().contains("MISMATCH"), r.out());
    }

    @Test
    @Order(2)
    void anEditedBodyIsReportedWithTheStoredAndRecomputedContentHash() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 3);
        StoredVersions.Row before = StoredVersions.row(server, id, 2);
        String forged = before.body().replace("やまだ2", "さとう2");
        assertNotEquals(before.body(), forged);
        tamper("UPDATE resource_version SET body = ? WHERE res_pk = ? AND version = 2", forged, before.pk());

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(1, lines.size(), r.out());
        String line = lines.get(0);
        assertTrue(line.contains("Patient/" + id + " version 2: content hash mismatch"), line);
        assertTrue(line.contains("stored " + VersionHash.hex(before.content())), line);
        assertTrue(line.contains("computed " + VersionHash.hex(VersionHash.content(forged))), line);
    }

    @Test
    @Order(3)
    void anEditedBodyWithItsContentHashRecomputedIsStillCaughtByTheChain() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 2);
        StoredVersions.Row before = StoredVersions.row(server, id, 1);
        String forged = before.body().replace("1980-04-01", "1979-04-01");
        assertNotEquals(before.body(), forged);
        tamper("UPDATE resource_version SET body = ?, content_sha256 = ? WHERE res_pk = ? AND version = 1",
                forged, VersionHash.content(forged), before.pk());

        byte[] recomputed = VersionHash.chain(VersionHash.GENESIS, "Patient", id, 1, before.recordedAt(),
                before.author(), before.reason(), before.operation(), before.lifecycle(), VersionHash.content(forged));
        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(0).contains("version 1: chain hash mismatch (stored " + VersionHash.hex(before.chain())
                + ", computed " + VersionHash.hex(recomputed) + ")"), lines.get(0));
        // and the trail, whose entry named the version's content hash when it was written (issue 17)
        assertTrue(lines.get(1).contains("version 1: differs from the audit trail (entry ") && lines.get(1).contains(
                "trail sha256 " + VersionHash.hex(before.content())), lines.get(1));
    }

    @Test
    @Order(4)
    void anEditedAuthorIsReportedWithTheStoredAndRecomputedChainHash() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 2);
        StoredVersions.Row before = StoredVersions.row(server, id, 1);
        assertNotEquals("mallory", before.author());
        tamper("UPDATE resource_version SET author = ? WHERE res_pk = ? AND version = 1", "mallory", before.pk());

        byte[] recomputed = VersionHash.chain(VersionHash.GENESIS, "Patient", id, 1, before.recordedAt(), "mallory",
                before.reason(), before.operation(), before.lifecycle(), before.content());
        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(1, lines.size(), "only the edited version is out of line: " + r.out());
        assertTrue(lines.get(0).contains("Patient/" + id + " version 1: chain hash mismatch (stored "
                + VersionHash.hex(before.chain()) + ", computed " + VersionHash.hex(recomputed) + ")"), lines.get(0));
    }

    @Test
    @Order(5)
    void anEditedRecordingTimeIsReportedWithTheStoredAndRecomputedChainHash() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 3);
        StoredVersions.Row before = StoredVersions.row(server, id, 2);
        java.time.Instant earlier = before.recordedAt().minusSeconds(3600);
        tamper("UPDATE resource_version SET recorded_at = ? WHERE res_pk = ? AND version = 2",
                java.sql.Timestamp.from(earlier), before.pk());

        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        byte[] recomputed = VersionHash.chain(v1.chain(), "Patient", id, 2, earlier, before.author(),
                before.reason(), before.operation(), before.lifecycle(), before.content());
        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).contains("Patient/" + id + " version 2: chain hash mismatch (stored "
                + VersionHash.hex(before.chain()) + ", computed " + VersionHash.hex(recomputed) + ")"), lines.get(0));
    }

    @Test
    @Order(6)
    void aDeletedMiddleVersionIsReportedAsAGapAndABrokenChain() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 3);
        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        StoredVersions.Row v3 = StoredVersions.row(server, id, 3);
        tamper("DELETE FROM resource_version WHERE res_pk = ? AND version = 2", v1.pk());

        byte[] recomputed = VersionHash.chain(v1.chain(), "Patient", id, 3, v3.recordedAt(), v3.author(),
                v3.reason(), v3.operation(), v3.lifecycle(), v3.content());
        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(4, lines.size(), r.out());
        // the trail still names version 2, and version 3 as following it
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 2: is in the audit trail (entry ")
                && l.contains("but not in the store")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 3: follows another version than"
                + " the audit trail's")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 3: version sequence broken"
                + " (expected 2, found 3)")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 3: chain hash mismatch (stored "
                + VersionHash.hex(v3.chain()) + ", computed " + VersionHash.hex(recomputed) + ")")), r.out());
    }

    @Test
    @Order(7)
    void aDeletedLatestVersionIsReportedThroughTheHead() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 2);
        StoredVersions.Row v2 = StoredVersions.row(server, id, 2);
        tamper("DELETE FROM resource_version WHERE res_pk = ? AND version = 2", v2.pk());

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout(id);
        assertEquals(4, lines.size(), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 2: is in the audit trail (entry ")
                && l.contains("but not in the store")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 2: head points at a version that"
                + " is not the latest stored (expected 1, found 2)")), r.out());
        // The head and the search index still say what the removed version said: each difference is reported too.
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 1: ")
                && l.contains("head last_updated differs from the newest version")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("Patient/" + id + " version 1: ")
                && l.contains("search index sp_string differs") && l.contains("\"やまだ1\"")
                && l.contains("\"やまだ2\"")), r.out());
    }

    @Test
    @Order(8)
    void everyTamperingAboveIsCountedAndTheTriggerIsBackOn() throws Exception {
        Result r = verify();
        assertEquals(1, r.code());
        assertTrue(r.out().contains(" 13 mismatches"), r.out()); // 9 of the store's own checks, 4 of the trail's
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> st.execute("UPDATE resource_version SET author = author"));
            assertTrue(e.getMessage().contains("append-only"), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- helpers

    /** What only the owner can do: switch the append-only trigger off, change history, switch it back on. */
    private static void tamper(String sql, Object... args) throws SQLException {
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("ALTER TABLE resource_version DISABLE TRIGGER resource_version_no_update_delete");
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                assertEquals(1, ps.executeUpdate(), sql);
            }
            try (Statement st = c.createStatement()) {
                st.execute("ALTER TABLE resource_version ENABLE TRIGGER resource_version_no_update_delete");
            }
            c.commit();
        }
    }

    private static Result verify() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(List.of("verify-records", "--data", server.dataDir().toString()), o, e, Map.of());
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
