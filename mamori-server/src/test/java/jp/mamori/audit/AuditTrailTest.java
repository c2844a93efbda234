package jp.mamori.audit;

import ca.uhn.fhir.context.FhirContext;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AUDIT-1, AUDIT-3: every access is in the trail before it is answered, and the trail only grows. */
class AuditTrailTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.shared();
    }

    static String patientJson(String family) {
        return "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}";
    }

    static String create(TestServer s, String json) {
        HttpResponse<String> r = s.post(json.contains("\"Patient\"") ? "/Patient" : "/Observation", json);
        assertEquals(201, r.statusCode(), r.body());
        String loc = r.headers().firstValue("Location").orElseThrow();
        return loc.replaceAll(".*/(Patient|Observation)/([^/]+)/_history/.*", "$2");
    }

    /**
     * Waits until the outbox is empty: a write's entry is durable in the outbox when the write is answered, and is
     * in the trail once the appender moved it (AUDIT-1, ADR 0006).
     */
    static void drained(TestServer s) {
        s.server().audit().trail().drainSoon();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM audit_outbox)")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the audit outbox was not drained");
                }
                Thread.sleep(10);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The entries whose resources or patients mention {@code what}, newest first. */
    static List<AuditReports.Row> entriesAbout(TestServer s, String patient) {
        drained(s);
        return s.server().audit().reports().patientAccess(patient, Instant.EPOCH, Instant.now().plusSeconds(5), 100);
    }

    @Test
    void aReadIsInTheTrailWhenItsAnswerArrives() {
        String id = create(server, patientJson("監査" + UUID.randomUUID().toString().substring(0, 6)));
        HttpResponse<String> read = server.get("/Patient/" + id);
        assertEquals(200, read.statusCode());
        // No waiting: the answer came only after the entry was durable.
        AuditReports.Row e = entriesAbout(server, id).stream().filter(r -> r.action().equals("read")).findFirst()
                .orElseThrow(() -> new AssertionError("no read entry for Patient/" + id));
        assertEquals("success", e.outcome());
        assertEquals("client", e.kind());
        assertTrue(e.actor().startsWith("client:"), e.actor());
        assertEquals(List.of("Patient/" + id + "/_history/1"), e.resources());
        assertEquals("127.0.0.1", e.address());
        assertTrue(e.session() != null && e.session().length() == 24, "session hash recorded");
        assertFalse(new String(entryBytes(e.seq()), StandardCharsets.UTF_8).contains(server.adminToken()),
                "the token itself is never recorded");
    }

    @Test
    void aCreateIsRecordedWithItsVersionAndPatient() {
        String id = create(server, patientJson("作成" + UUID.randomUUID().toString().substring(0, 6)));
        String obs = create(server, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"体温\"},"
                + "\"subject\":{\"reference\":\"Patient/" + id + "\"}}");
        List<AuditReports.Row> rows = entriesAbout(server, id);
        assertTrue(rows.stream().anyMatch(r -> r.action().equals("create")
                && r.resources().contains("Observation/" + obs + "/_history/1")), rows.toString());
    }

    /**
     * Issue 15: a transaction bundle's writes are recorded by one entry committed with them (each version, the
     * operations); what the bundle also read is recorded by an entry of its own before the answer, without the
     * written versions again.
     */
    @Test
    void aTransactionBundleRecordsItsWritesWithThemAndItsReadsBeforeTheAnswer() {
        String existing = create(server, patientJson("既存" + UUID.randomUUID().toString().substring(0, 6)));
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"fullUrl\":\"urn:uuid:0b4c5f0e-1111-4c3b-9a55-000000000001\",\"resource\":"
                + patientJson("束" + UUID.randomUUID().toString().substring(0, 6))
                + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"脈拍\"},"
                + "\"subject\":{\"reference\":\"urn:uuid:0b4c5f0e-1111-4c3b-9a55-000000000001\"}},"
                + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
                + "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/" + existing + "\"}}]}";
        HttpResponse<String> r = server.post("", bundle);
        assertEquals(200, r.statusCode(), r.body());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"location\":\"Patient/([^/\"]+)/_history/1\"")
                .matcher(r.body());
        String created = null;
        while (m.find()) {
            if (!m.group(1).equals(existing)) {
                created = m.group(1);
            }
        }
        assertNotNull(created, r.body());
        List<AuditReports.Row> writes = entriesAbout(server, created).stream()
                .filter(e -> e.action().equals("transaction")).toList();
        assertEquals(1, writes.size(), writes.toString());
        AuditReports.Row w = writes.get(0);
        assertEquals("success", w.outcome());
        assertTrue(w.resources().contains("Patient/" + created + "/_history/1"), w.resources().toString());
        assertTrue(w.resources().stream().anyMatch(x -> x.startsWith("Observation/")), w.resources().toString());
        assertFalse(w.resources().contains("Patient/" + existing + "/_history/1"), "the write entry names the writes");
        String text = new String(entryBytes(w.seq()), StandardCharsets.UTF_8);
        assertTrue(text.contains("\"operations\":\"create Patient/" + created + "/_history/1")
                || text.contains("create Patient/" + created + "/_history/1"), text);
        List<AuditReports.Row> reads = entriesAbout(server, existing).stream()
                .filter(e -> e.action().equals("transaction")).toList();
        assertEquals(1, reads.size(), "the bundle's read is recorded once: " + reads);
        assertTrue(reads.get(0).resources().contains("Patient/" + existing + "/_history/1"), reads.toString());
        assertFalse(reads.get(0).resources().contains("Patient/" + created + "/_history/1"),
                "the writes are not recorded twice: " + reads);
    }

    @Test
    void aSearchRecordsEveryPatientItReturned() {
        String family = "検索" + UUID.randomUUID().toString().substring(0, 6);
        String a = create(server, patientJson(family));
        String b = create(server, patientJson(family));
        HttpResponse<String> found = server.get("/Patient?family=" + java.net.URLEncoder.encode(family, StandardCharsets.UTF_8));
        assertEquals(200, found.statusCode(), found.body());
        AuditReports.Row e = entriesAbout(server, a).stream().filter(r -> r.action().equals("search")).findFirst()
                .orElseThrow();
        assertEquals(List.of(a, b).stream().sorted().toList(), e.patients());
        assertTrue(e.resources().containsAll(List.of("Patient/" + a + "/_history/1", "Patient/" + b + "/_history/1")));
    }

    @Test
    void aRefusedRequestIsRecordedAsRefused() {
        String id = create(server, patientJson("拒否" + UUID.randomUUID().toString().substring(0, 6)));
        String token = server.tokenWithScopes("system/Observation.read");
        HttpResponse<String> r = server.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base()
                + "/Patient/" + id)).header("Authorization", "Bearer " + token).GET().build());
        assertEquals(403, r.statusCode());
        AuditReports.Row e = entriesAbout(server, id).stream().filter(x -> x.outcome().equals("refused")).findFirst()
                .orElseThrow(() -> new AssertionError("no refused entry"));
        assertEquals("read", e.action());
        assertEquals(List.of("Patient/" + id), e.resources());
    }

    @Test
    void entriesChainTheirLeafHashesWithoutGapsUnderSixteenThreads() throws Exception {
        AuditTrail trail = server.server().audit().trail();
        AuditTrail.Stats before = trail.stats();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Long>> seqs = new ArrayList<>();
        for (int i = 0; i < 16 * 40; i++) {
            int n = i;
            seqs.add(pool.submit(() -> trail.append(new AuditRecord(Instant.now(), "system:test", "system", null,
                    List.of(), null, List.of("p" + (n % 7)), List.of(), "test.append", "success", "maintenance", null,
                    null, false, Map.of("n", Integer.toString(n))))));
        }
        List<Long> got = new ArrayList<>();
        for (Future<Long> f : seqs) {
            got.add(f.get());
        }
        pool.shutdown();
        AuditTrail.Stats after = trail.stats();
        assertEquals(got.size(), got.stream().distinct().count(), "each append got its own sequence number");
        long entries = after.entries() - before.entries();
        long transactions = after.transactions() - before.transactions();
        assertTrue(entries >= got.size());
        assertTrue(transactions < entries, "group commit: " + transactions + " transactions for " + entries + " entries");
        long expect = assertChainIntact();
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet h = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head")) {
            h.next();
            assertTrue(h.getLong(1) >= expect);
        }
    }

    /** The chain as stored: gap-free from 0, each entry naming its predecessor's leaf hash, and the head after it. */
    static long assertChainIntact() throws SQLException {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT seq, entry, leaf_hash FROM audit_entry ORDER BY seq")) {
            long expect = 0;
            byte[] prev = null;
            while (rs.next()) {
                assertEquals(expect, rs.getLong(1), "no gap in the sequence");
                byte[] entry = rs.getBytes(2);
                assertArrayEquals(EntryCodec.leafHash(entry), rs.getBytes(3), "leaf hash of entry " + expect);
                String text = new String(entry, StandardCharsets.UTF_8);
                String head = prev == null ? "{\"seq\":0,\"time\":" : "{\"seq\":" + expect + ",\"prev\":\""
                        + Base64.getEncoder().encodeToString(prev) + "\",";
                assertTrue(text.startsWith(head), text);
                assertFalse(text.contains("\n"));
                prev = rs.getBytes(3);
                expect++;
            }
            return expect;
        }
    }

    @Test
    void twoAppendersOnOneDatabaseKeepOneChain() throws Exception {
        // a second server process on the same database: each writer numbers its groups from the head it last
        // wrote, so every group of the other one makes the quick append find the head moved and number again
        AuditTrail first = server.server().audit().trail();
        AuditTrail.Stats firstBefore = first.stats();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Long>> seqs = new ArrayList<>();
        // the other process holds the same key (the data folder's), so its groups are sealed and may be signed
        try (AuditTrail second = new AuditTrail(server.server().database().dataSource(), AuditTrail.Settings.DEFAULT,
                GroupSeal.of(server.server().audit().checkpointer().signer()))) {
            for (int i = 0; i < 8 * 60; i++) {
                int n = i;
                AuditTrail trail = n % 2 == 0 ? first : second;
                seqs.add(pool.submit(() -> trail.append(new AuditRecord(Instant.now(), "system:test", "system", null,
                        List.of(), null, List.of("p" + (n % 5)), List.of(), "test.two-writers", "success",
                        "maintenance", null, null, false, Map.of("n", Integer.toString(n))))));
            }
            List<Long> got = new ArrayList<>();
            for (Future<Long> f : seqs) {
                got.add(f.get());
            }
            assertEquals(got.size(), got.stream().distinct().count(), "no sequence number given twice");
            assertTrue(second.stats().entries() >= got.size() / 2);
            assertEquals(0, second.stats().failedBatches());
        } finally {
            pool.shutdown();
        }
        assertEquals(firstBefore.failedBatches(), first.stats().failedBatches());
        // Both appenders' groups are signed: by this call, or, when the server's own checkpointer (every 10 s) came
        // first and left this call nothing new, by that checkpoint; either covers every entry appended above.
        long highest = seqs.stream().mapToLong(f -> {
            try {
                return f.get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).max().orElseThrow();
        TrailLedger.Stored signed = server.server().audit().checkpointer().checkpoint();
        if (signed == null) {
            signed = server.server().audit().checkpointer().status().last();
        }
        assertNotNull(signed, "both appenders' groups are signed");
        assertTrue(signed.size() > highest, "the checkpoint of " + signed.size() + " entries covers seq " + highest);
        long stored = assertChainIntact();
        assertEquals(null, server.server().audit().checkpointer().status().problem());
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             ResultSet h = st.executeQuery("SELECT next_seq FROM audit_head")) {
            h.next();
            assertTrue(h.getLong(1) >= stored);
        }
    }

    @Test
    void theDatabaseRefusesAGroupThatDoesNotContinueTheChain() throws Exception {
        // one transaction holds the head lock throughout, so the server's writer cannot move the head meanwhile
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            long seq;
            byte[] leaf;
            try (ResultSet h = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head FOR UPDATE")) {
                h.next();
                seq = h.getLong(1);
                leaf = h.getBytes(2);
            }
            st.execute("SET LOCAL ROLE mamori_app");
            AuditRecord r = new AuditRecord(Instant.now(), "system:test", "system", null, List.of(), null, List.of(),
                    List.of(), "test.forged", "success", "maintenance", null, null, false, Map.of());
            byte[] wrongPrev = EntryCodec.encode(seq, new byte[32], r);
            byte[] wrongSeq = EntryCodec.encode(seq + 1, leaf, r);
            byte[] good = EntryCodec.encode(seq, leaf, r);
            byte[] skipsOne = EntryCodec.encode(seq + 2, EntryCodec.leafHash(good), r);
            byte[] cut = java.util.Arrays.copyOf(good, good.length - 5); // an entry cut short: no longer itself
            for (byte[][] group : List.of(new byte[][]{wrongPrev}, new byte[][]{wrongSeq}, new byte[][]{good, skipsOne},
                    new byte[][]{cut, "\"}".getBytes(StandardCharsets.UTF_8)})) {
                java.sql.Savepoint before = c.setSavepoint();
                try (PreparedStatement ps = c.prepareStatement("SELECT appended FROM mamori_audit_append(?, ?, ?, NULL, NULL)")) {
                    ps.setLong(1, seq);
                    ps.setBytes(2, leaf);
                    ps.setBytes(3, lines(group));
                    SQLException e = assertThrows(SQLException.class, ps::executeQuery);
                    assertEquals("22000", e.getSQLState(), e.getMessage());
                }
                c.rollback(before);
            }
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action = 'test.forged'")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "nothing of a refused group is stored");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT appended FROM mamori_audit_append(?, ?, ?, NULL, NULL)")) {
                ps.setLong(1, seq);
                ps.setBytes(2, leaf);
                ps.setBytes(3, lines(new byte[][]{good}));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "the same entry continuing the chain is taken");
                }
            }
            c.rollback();
        }
    }

    @Test
    void listValuesReachTheirColumnsExactlyWhateverTheyContain() throws Exception {
        List<String> roles = List.of("医師", "a\"b", "c\\d", "{x,y}", "NULL", " spaced ", "");
        List<String> patients = List.of("p,1", "p\"2", "p}3");
        List<String> resources = List.of("Patient/x/_history/1", "Observation/{y}", "");
        long seq = server.server().audit().trail().append(new AuditRecord(Instant.now(), "system:test", "system",
                "表示 \"名\"", roles, "内科", patients, resources, "test.literal", "success", "maintenance",
                "192.0.2.9", null, true, Map.of()));
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT roles, patients, resources, actor_display, department,"
                     + " break_glass, address FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(roles, Arrays.asList((Object[]) rs.getArray(1).getArray()));
                assertEquals(patients.stream().sorted().toList(), Arrays.asList((Object[]) rs.getArray(2).getArray()));
                assertEquals(resources.stream().distinct().toList(), Arrays.asList((Object[]) rs.getArray(3).getArray()));
                assertEquals("表示 \"名\"", rs.getString(4));
                assertEquals("内科", rs.getString(5));
                assertTrue(rs.getBoolean(6));
                assertEquals("192.0.2.9", rs.getString(7));
            }
        }
    }

    @Test
    void theRuntimeRoleCannotChangeTheTrailAndTriggersStopTheOwner() throws Exception {
        server.get("/Patient?_count=1");
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            for (String sql : List.of("UPDATE audit_log SET entry = entry", "DELETE FROM audit_log",
                    "TRUNCATE audit_log", "UPDATE audit_report SET actor = 'mallory'", "DELETE FROM audit_report",
                    "TRUNCATE audit_report", "DELETE FROM audit_head", "UPDATE audit_head SET next_seq = 0")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
            st.execute("SET ROLE mamori_app");
            for (String sql : List.of("UPDATE audit_log SET entry = entry", "DELETE FROM audit_log",
                    "TRUNCATE audit_log", "UPDATE audit_report SET actor = 'mallory'", "DELETE FROM audit_report",
                    "INSERT INTO audit_report (seq, recorded_at, actor, actor_kind, action, outcome, purpose) VALUES"
                            + " (999999, now(), 'mallory', 'person', 'read', 'success', 'treatment')",
                    "UPDATE audit_report_head SET next_seq = 0",
                    "UPDATE audit_review SET findings = 'x'", "DELETE FROM audit_review")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertTrue(e.getMessage().contains("permission denied"), sql + ": " + e.getMessage());
            }
        }
    }

    @Test
    void eventsWrittenByOtherCapabilitiesReachTheTrailThroughTheOutbox() throws Exception {
        String login = "outbox-" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET ROLE mamori_app");
            st.execute("INSERT INTO auth_event (at, login_id, address, event, outcome) VALUES (now(), '" + login
                    + "', '192.0.2.1', 'login.password', 'failure')");
        }
        AuditReports.Row e = null;
        for (int i = 0; i < 100 && e == null; i++) {
            e = server.server().audit().reports().actorActivity("login:" + login, Instant.EPOCH,
                    Instant.now().plusSeconds(5), 10).stream().findFirst().orElse(null);
            if (e == null) {
                Thread.sleep(50);
            }
        }
        assertTrue(e != null, "the login failure reached the trail");
        assertEquals("auth.login.password", e.action());
        assertEquals("refused", e.outcome());
        assertEquals("192.0.2.1", e.address());
    }

    @Test
    void anEntryExportsAsABalpShapedAuditEvent() {
        String id = create(server, patientJson("出力" + UUID.randomUUID().toString().substring(0, 6)));
        server.get("/Patient/" + id);
        AuditReports.Row row = entriesAbout(server, id).stream().filter(r -> r.action().equals("read")).findFirst()
                .orElseThrow();
        String json = new AuditExport("mamori.example.jp").ndjson(List.of(row)).strip();
        AuditEvent e = FhirContext.forR4Cached().newJsonParser().parseResource(AuditEvent.class, json);
        assertEquals("rest", e.getType().getCode());
        assertEquals("read", e.getSubtypeFirstRep().getCode());
        assertEquals(AuditEvent.AuditEventAction.R, e.getAction());
        assertEquals(AuditEvent.AuditEventOutcome._0, e.getOutcome());
        AuditEvent.AuditEventAgentComponent who = e.getAgent().stream().filter(a -> a.getRequestor()).findFirst()
                .orElseThrow();
        assertEquals(row.actor(), who.getWho().getIdentifier().getValue());
        assertEquals("127.0.0.1", who.getNetwork().getAddress());
        assertEquals("mamori.example.jp", e.getSource().getSite());
        assertTrue(e.getSource().getObserver().hasDisplay());
        assertTrue(e.getEntity().stream().anyMatch(x -> x.getWhat().getReference().equals("Patient/" + id)
                && x.getRole().getCode().equals("1")));
        assertTrue(e.getEntity().stream().anyMatch(x -> x.getWhat().getReference().equals("Patient/" + id
                + "/_history/1") && x.getRole().getCode().equals("4")));
        assertEquals("HOPERAT", e.getPurposeOfEventFirstRep().getCodingFirstRep().getCode());
        String csv = AuditExport.csv(List.of(row));
        assertTrue(csv.startsWith("\uFEFF番号,日時,利用者"), csv);
        assertTrue(csv.contains("\"" + row.seq() + "\""));
    }

    private static byte[] entryBytes(long seq) {
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBytes(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyAnnouncedReadEndsItsAnnouncementWhateverItsAnswer() throws Exception {
        // issue 24: the writer waits (briefly) for the entries of reads already being answered; a read, search,
        // refusal, failure or write that forgot to end its announcement would make every later group wait
        String id = create(server, patientJson("告知" + UUID.randomUUID().toString().substring(0, 6)));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Integer>> answers = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int k = i;
                answers.add(pool.submit(() -> switch (k % 5) {
                    case 0 -> server.get("/Patient/" + id).statusCode();
                    case 1 -> server.get("/Patient?family=" + java.net.URLEncoder.encode("告知", StandardCharsets.UTF_8))
                            .statusCode();
                    case 2 -> server.get("/Patient/no-such-" + k).statusCode();
                    case 3 -> server.get("/Patient?unknown-parameter=1").statusCode();
                    default -> server.post("/Patient", patientJson("告知書込" + k)).statusCode();
                }));
            }
            java.util.Set<Integer> statuses = new java.util.TreeSet<>();
            for (java.util.concurrent.Future<Integer> f : answers) {
                statuses.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertTrue(statuses.containsAll(List.of(200, 201, 404)), statuses.toString());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, server.server().audit().trail().stats().coming(), "no announcement outlives its request");
    }

    @Test
    void anAnnouncedEntryThatNeverComesDoesNotHoldUpTheTrail() {
        AuditTrail trail = server.server().audit().trail();
        trail.expect(); // a request that announced itself and is still being answered (or forgot to end)
        try {
            long seq = trail.append(new AuditRecord(Instant.now(), "system:test", "system", null, List.of(), null,
                    List.of(), List.of(), "test.gather", "success", "maintenance", null, null, false, Map.of()));
            assertTrue(seq >= 0, "stored without the announced entry: " + seq);
            assertEquals(1, trail.stats().coming(), "the announcement stands until its request ends");
        } finally {
            trail.unexpect();
        }
        assertEquals(0, trail.stats().coming());
    }

    /** A group as the appender sends it: the canonical entries, one per line (issue 24). */
    static byte[] lines(byte[][] group) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < group.length; i++) {
            if (i > 0) {
                out.write('\n');
            }
            out.writeBytes(group[i]);
        }
        return out.toByteArray();
    }
}
