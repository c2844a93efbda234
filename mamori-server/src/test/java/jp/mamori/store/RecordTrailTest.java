package jp.mamori.store;

import jp.mamori.MamoriServer;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.RecordTrail;
import jp.mamori.cli.Main;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.demo.DemoData;
import jp.mamori.demo.DemoGenerator;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.records.VersionHash;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17, part 1 (STORE-1, AUDIT-3): every write's audit entry names its versions with their hashes, so the record
 * store is held against the signed trail. A database superuser who rewrites a body and recomputes every hash passes
 * the store's own checks (the chain is not keyed) but not {@code verify-records}, which reports the resource, the
 * version and both hashes; one who then rewrites the trail too breaks its signed checkpoint. Versions stored before
 * writes named their hashes are anchored once, at the first start after the upgrade.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecordTrailTest {
    private static TestServer server;

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

    record Result(int code, String out) {
        List<String> mismatches(String about) {
            return out.lines().filter(l -> l.startsWith("MISMATCH") && l.contains(about)).toList();
        }
    }

    @Test
    @Order(1)
    void everyWriteNamesItsVersionsWithTheirHashesAndACleanStoreHoldsAgainstTheTrail() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 2);
        assertEquals(200, server.delete("/Patient/" + id, "test: a deletion is named too").statusCode());
        new DemoData(server.server().database().dataSource(), server.server().audit().recorder())
                .create(1, 17, new DemoGenerator.Options(2, 1), LocalDate.of(2026, 12, 7));

        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        StoredVersions.Row v2 = StoredVersions.row(server, id, 2);
        StoredVersions.Row v3 = StoredVersions.row(server, id, 3);
        String entry = entryNaming("Patient/" + id + "/_history/2");
        assertTrue(entry.contains("Patient/" + id + "/_history/2 sha256=" + VersionHash.hex(v2.content()) + " chain="
                + VersionHash.hex(v2.chain()) + " prev=" + VersionHash.hex(v1.chain())), entry);
        String deletion = entryNaming("Patient/" + id + "/_history/3");
        assertTrue(deletion.contains("Patient/" + id + "/_history/3 sha256=- chain=" + VersionHash.hex(v3.chain())
                + " prev=" + VersionHash.hex(v2.chain())), deletion);
        String created = entryNaming("Patient/" + id + "/_history/1");
        assertTrue(created.contains(" prev=" + "0".repeat(64)), created);
        // the demo data's writes, outside any request, are in the trail too: by their author, with their hashes
        assertTrue(countEntries("actor = 'system:demo-data' AND position('sha256=' in convert_from(entry, 'UTF8')) > 0")
                > 0, "demo data entries name their versions");

        Result r = verify();
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("versions held against the audit trail"), r.out());
        assertFalse(r.out().contains("MISMATCH"), r.out());
    }

    @Test
    @Order(2)
    void aBodyRewrittenWithEveryHashRecomputedPassesTheStoresOwnChecksButNotTheTrail() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 3);
        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        StoredVersions.Row v2 = StoredVersions.row(server, id, 2);
        StoredVersions.Row v3 = StoredVersions.row(server, id, 3);
        String forged = v2.body().replace("やまだ2", "さとう2");
        assertNotEquals(v2.body(), forged);
        byte[] content = VersionHash.content(forged);
        byte[] chain2 = VersionHash.chain(v1.chain(), "Patient", id, 2, v2.recordedAt(), v2.author(), v2.reason(),
                v2.operation(), v2.lifecycle(), content);
        byte[] chain3 = VersionHash.chain(chain2, "Patient", id, 3, v3.recordedAt(), v3.author(), v3.reason(),
                v3.operation(), v3.lifecycle(), v3.content());
        tamper(c -> {
            update(c, "UPDATE resource_version SET body = ?, content_sha256 = ?, chain_sha256 = ?"
                    + " WHERE res_pk = ? AND version = 2", forged, content, chain2, v2.pk());
            update(c, "UPDATE resource_version SET chain_sha256 = ? WHERE res_pk = ? AND version = 3", chain3,
                    v2.pk());
        });

        Result r = verify();
        assertEquals(1, r.code(), r.out());
        // the store's own checks find nothing: every hash was recomputed
        assertTrue(r.out().lines().noneMatch(l -> l.contains("Patient/" + id) && l.contains("hash mismatch")),
                r.out());
        List<String> lines = r.mismatches("Patient/" + id + " ");
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(0).contains("Patient/" + id + " version 2: differs from the audit trail (entry "), lines.get(0));
        assertTrue(lines.get(0).contains("trail sha256 " + VersionHash.hex(v2.content()) + " chain "
                + VersionHash.hex(v2.chain()) + "; store sha256 " + VersionHash.hex(content) + " chain "
                + VersionHash.hex(chain2)), lines.get(0));
        assertTrue(lines.get(1).contains("Patient/" + id + " version 3: differs from the audit trail"), lines.get(1));
        assertTrue(lines.get(1).contains("chain " + VersionHash.hex(v3.chain()) + "; store sha256 "
                + VersionHash.hex(v3.content()) + " chain " + VersionHash.hex(chain3)), lines.get(1));
        restore(v2, v3);
    }

    @Test
    @Order(3)
    void anAuthorRewrittenWithTheChainRecomputedIsCaught() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 1);
        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        byte[] chain = VersionHash.chain(VersionHash.GENESIS, "Patient", id, 1, v1.recordedAt(), "account:mallory",
                v1.reason(), v1.operation(), v1.lifecycle(), v1.content());
        tamper(c -> update(c, "UPDATE resource_version SET author = ?, chain_sha256 = ? WHERE res_pk = ? AND version = 1",
                "account:mallory", chain, v1.pk()));

        Result r = verify();
        assertEquals(1, r.code(), r.out());
        List<String> lines = r.mismatches("Patient/" + id + " ");
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).contains("version 1: differs from the audit trail"), lines.get(0));
        tamper(c -> update(c, "UPDATE resource_version SET author = ?, chain_sha256 = ? WHERE res_pk = ? AND version = 1",
                v1.author(), v1.chain(), v1.pk()));
        assertEquals(0, verify().code());
    }

    @Test
    @Order(4)
    void aVersionWrittenBehindTheJournalIsNotInTheTrailAndTheAnchorIsNotTakenTwice() throws Exception {
        // a writer without the journal (what an old server or a direct insert would leave)
        RecordService bare = new RecordService(server.server().database().dataSource(), new AccessPolicy(),
                new FhirSupport(), 50, 1000);
        String id = bare.create(Caller.system("bypass"), patient("ばいぱす"), null, null).stored().id();
        Result r = verify();
        assertEquals(1, r.code(), r.out());
        List<String> lines = r.mismatches("Patient/" + id + " ");
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).contains("version 1: not in the audit trail (trail -; store sha256 "), lines.get(0));
        // the anchor was taken at the first start: it does not cover what comes later
        assertEquals(-1, RecordTrail.anchor(server.server().database().dataSource(), server.server().audit().recorder()));
        assertEquals(1, r.mismatches("Patient/" + id + " ").size());
    }

    @Test
    @Order(5)
    void aTrailEntryRewrittenToMatchAForgedVersionBreaksTheSignedCheckpoint() throws Exception {
        String id = StoredVersions.patientWithVersions(server, 2);
        assertEquals(1, verify().code()); // the version of the test before is still outside the trail; signs a checkpoint
        StoredVersions.Row v1 = StoredVersions.row(server, id, 1);
        StoredVersions.Row v2 = StoredVersions.row(server, id, 2);
        String forged = v2.body().replace("やまだ2", "たなか2");
        byte[] content = VersionHash.content(forged);
        byte[] chain2 = VersionHash.chain(v1.chain(), "Patient", id, 2, v2.recordedAt(), v2.author(), v2.reason(),
                v2.operation(), v2.lifecycle(), content);
        long seq = seqNaming("Patient/" + id + "/_history/2");
        tamper(c -> {
            update(c, "UPDATE resource_version SET body = ?, content_sha256 = ?, chain_sha256 = ?"
                    + " WHERE res_pk = ? AND version = 2", forged, content, chain2, v2.pk());
            // and the trail: the entry rewritten to name the forged hashes, its leaf hash recomputed
            byte[] entry;
            try (PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_entry WHERE seq = ?")) {
                ps.setLong(1, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    entry = rs.getBytes(1);
                }
            }
            String text = new String(entry, StandardCharsets.UTF_8)
                    .replace(VersionHash.hex(v2.content()), VersionHash.hex(content))
                    .replace(VersionHash.hex(v2.chain()), VersionHash.hex(chain2));
            byte[] rewritten = text.getBytes(StandardCharsets.UTF_8);
            update(c, "UPDATE audit_log SET entry = ?, leaf_hash = ? WHERE seq = ?", rewritten,
                    jp.mamori.audit.EntryCodec.leafHash(rewritten), seq);
        });

        Result r = verify();
        assertEquals(1, r.code(), r.out());
        // store and trail now agree on the version (the search index of the forged head still shows the old name)
        assertTrue(r.mismatches("Patient/" + id + " ").stream().noneMatch(l -> l.contains("audit trail")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("MISMATCH audit trail checkpoint ")
                && l.contains("does not give the root of its newest signed checkpoint")), r.out());
    }

    @Test
    @Order(6)
    void versionsStoredBeforeTheUpgradeAreAnchoredOnceAtTheFirstStart() throws Exception {
        Path data = TestData.newDatabaseFolder("anchor-");
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", data.toString(), "--port", "0", "--bind",
                "127.0.0.1", "--no-backup"), Map.of());
        String legacy;
        try (Database db = Database.open(cfg.database(), data, 1)) {
            // written as an older server did: no entry names the version's hashes
            RecordService old = new RecordService(db.dataSource(), new AccessPolicy(), new FhirSupport(), 50, 1000);
            legacy = old.create(Caller.system("old-server"), patient("むかし"), null, null).stored().id();
            old.update(Caller.system("old-server"), "Patient", legacy, patient("むかし2").setId(legacy), 1, null);
        }
        try (MamoriServer s = MamoriServer.start(cfg)) {
            Result r = verify(data);
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains(" 2 versions held against the audit trail"), r.out());
            try (Connection c = s.database().dataSource().getConnection();
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), string_agg(convert_from(entry, 'UTF8'), '') FROM"
                         + " audit_entry WHERE action = 'records.anchor'")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                assertTrue(rs.getString(2).contains("Patient/" + legacy + "/_history/2 sha256="), rs.getString(2));
            }
        }
        try (MamoriServer s = MamoriServer.start(cfg)) { // a second start anchors nothing more
            try (Connection c = s.database().dataSource().getConnection();
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action = 'records.anchor'")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
            }
            assertEquals(0, verify(data).code());
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Patient patient(String family) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven("はなこ");
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        return p;
    }

    /** The entry (in the trail, once the appender moved it) whose resources name {@code ref}. */
    private static String entryNaming(String ref) throws Exception {
        long seq = seqNaming(ref);
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT convert_from(entry, 'UTF8') FROM audit_entry"
                     + " WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getString(1);
            }
        }
    }

    private static long seqNaming(String ref) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Connection c = server.superuserConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT seq FROM audit_entry WHERE ? = ANY(resources)"
                         + " AND position('sha256=' in convert_from(entry, 'UTF8')) > 0 ORDER BY seq LIMIT 1")) {
                ps.setString(1, ref);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return rs.getLong(1);
                    }
                }
            }
            Thread.sleep(50); // the appender moves the staged entry into the trail at once after the commit
        }
        throw new AssertionError("no entry names " + ref);
    }

    private static long countEntries(String where) throws SQLException {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    interface Tamper {
        void apply(Connection c) throws SQLException;
    }

    /** What only the database superuser can do: switch the append-only triggers off, change history, commit. */
    private static void tamper(Tamper t) throws SQLException {
        try (Connection c = server.superuserConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL session_replication_role = replica");
            }
            t.apply(c);
            c.commit();
        }
    }

    private static void update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            assertEquals(1, ps.executeUpdate(), sql);
        }
    }

    /** Puts versions 2 and 3 back as they were stored. */
    private static void restore(StoredVersions.Row v2, StoredVersions.Row v3) throws SQLException {
        tamper(c -> {
            update(c, "UPDATE resource_version SET body = ?, content_sha256 = ?, chain_sha256 = ?"
                    + " WHERE res_pk = ? AND version = 2", v2.body(), v2.content(), v2.chain(), v2.pk());
            update(c, "UPDATE resource_version SET chain_sha256 = ? WHERE res_pk = ? AND version = 3", v3.chain(),
                    v3.pk());
        });
    }

    private static Result verify() {
        return verify(server.dataDir());
    }

    private static Result verify(Path data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            code = Main.run(List.of("verify-records", "--data", data.toString()), o, o, Map.of());
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8));
    }
}
