package jp.mamori.retention;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.cli.Main;
import jp.mamori.records.RecordService;
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
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention rules, candidates and the two-administrator disposal on a real server (ADR 0011; STORE-6, DISPOSAL-1,
 * DISPOSAL-5, DISPOSAL-7). The records are written now; retention's clock stands six years later.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetentionTest {
    private static TestServer server;
    private static Retention retention;
    private static final String U = UUID.randomUUID().toString().substring(0, 6);
    private static final Actor A = Actor.person("admin-a-" + U, "管理 一郎", List.of("admin"), null, "127.0.0.1", null);
    private static final Actor B = Actor.person("admin-b-" + U, "管理 二郎", List.of("admin"), null, "127.0.0.1", null);
    /** Only an Observation: clinical records, 5 years. */
    private static final String P = "ret-p-" + U;
    /** An Observation referenced by another patient's report: stays (DISPOSAL-5). */
    private static final String Q = "ret-q-" + U;
    private static final String R = "ret-r-" + U;
    /** Under a legal hold. */
    private static final String H = "ret-h-" + U;
    /** Changed after the batch was proposed. */
    private static final String S = "ret-s-" + U;
    /** An encounter (medical record): kept longer once that kind is set to 10 years. */
    private static final String E = "ret-e-" + U;

    @BeforeAll
    static void start() {
        server = TestServer.start(List.of());
        retention = new Retention(server.server().database(), server.server().audit().recorder(),
                server.server().audit().reports(), Clock.offset(Clock.systemUTC(), Duration.ofDays(6 * 366)));
        for (String p : List.of(P, Q, R, H, S, E)) {
            created(server.put("/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p
                    + "\",\"name\":[{\"family\":\"保存\",\"given\":[\"" + p + "\"]}]}").statusCode());
            created(server.put("/Observation/obs-" + p, observation(p, "1")).statusCode());
        }
        created(server.put("/Encounter/enc-" + E, "{\"resourceType\":\"Encounter\",\"id\":\"enc-" + E
                + "\",\"status\":\"finished\",\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
                + "\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/" + E + "\"}}").statusCode());
        created(server.put("/DiagnosticReport/rep-" + R, "{\"resourceType\":\"DiagnosticReport\",\"id\":\"rep-" + R
                + "\",\"status\":\"final\",\"code\":{\"text\":\"report\"},\"subject\":{\"reference\":\"Patient/" + R
                + "\"},\"result\":[{\"reference\":\"Observation/obs-" + Q + "\"}]}").statusCode());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static void created(int status) {
        assertTrue(status == 200 || status == 201, "status " + status);
    }

    private static String observation(String patient, String value) {
        return "{\"resourceType\":\"Observation\",\"id\":\"obs-" + patient + "\",\"status\":\"final\","
                + "\"code\":{\"text\":\"体温\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
                + "\"valueQuantity\":{\"value\":" + value + "}}";
    }

    private static List<String> candidateIds() {
        List<String> out = new ArrayList<>();
        String after = null;
        do {
            Retention.Page page = retention.candidates(after, 2);
            page.candidates().forEach(c -> out.add(c.facts().patientId()));
            after = page.next();
        } while (after != null);
        return out;
    }

    @Test
    @Order(1)
    void aPeriodShorterThanTheLawIsRefusedALongerOneIsKept() {
        RetentionException e = assertThrows(RetentionException.class, () -> retention.setYears(A, "medical-record", 4));
        assertTrue(e.getMessage().startsWith("診療録の保存期間は法定の 5 年より短くできません / "), e.getMessage());
        assertThrows(RetentionException.class, () -> retention.setYears(A, "dispensing-record", 2));
        assertEquals(3, retention.setYears(A, "clinical-records", 3).years());
        assertEquals(10, retention.setYears(A, "medical-record", 10).years());
        assertThrows(RetentionException.class, () -> retention.setYears(A, "nonsense", 10));
        retention.setYears(A, "clinical-records", 5);
    }

    @Test
    @Order(2)
    void candidatesRespectTheLastEntryReferencesAndHolds() {
        List<String> before = candidateIds();
        assertTrue(before.containsAll(List.of(P, H, S, R)), before.toString());
        assertFalse(before.contains(Q), "referenced by another patient's report: " + before);
        assertFalse(before.contains(E), "an encounter is kept 10 years: " + before);
        retention.hold(A, H, "訴訟のため保存");
        assertFalse(candidateIds().contains(H));
        Retention nowClock = new Retention(server.server().database(), server.server().audit().recorder(),
                server.server().audit().reports(), Clock.systemUTC());
        assertFalse(nowClock.candidates(null, 200).candidates().stream()
                .anyMatch(c -> c.facts().patientId().equals(P)), "written today: not past retention");
    }

    @Test
    @Order(3)
    void twoAdministratorsApproveThenTheRecordsGoAndEveryVerifierPasses() throws Exception {
        Retention.Batch b = retention.propose(A, List.of(P), "保存期間満了");
        assertEquals(2, b.items().size(), b.items().toString());
        String chain = b.items().stream().filter(i -> i.type().equals("Observation")).findFirst().orElseThrow()
                .lastChain();
        retention.approve(A, b.id());
        RetentionException twice = assertThrows(RetentionException.class, () -> retention.approve(A, b.id()));
        assertTrue(twice.getMessage().contains("二度承認"), twice.getMessage());
        assertEquals(200, server.get("/Patient/" + P).statusCode(), "one approval removes nothing");
        Retention.Batch done = retention.approve(B, b.id());
        assertEquals("executed", done.status());

        var read = server.get("/Observation/obs-" + P);
        assertEquals(410, read.statusCode(), read.body());
        assertTrue(read.body().contains("disposed of on") && read.body().contains("batch " + b.id()), read.body());
        assertEquals(410, server.get("/Patient/" + P + "/_history").statusCode());
        assertEquals(410, server.get("/Patient/" + P + "/_history/1").statusCode());
        assertFalse(server.get("/Patient?_id=" + P).body().contains("\"id\":\"" + P + "\""));
        assertTrue(server.put("/Patient/" + P, "{\"resourceType\":\"Patient\",\"id\":\"" + P + "\"}").statusCode()
                >= 400, "a disposed id is not used again");

        List<RecordService.Mismatch> mismatches = Collections.synchronizedList(new ArrayList<>());
        server.server().records().verifyAll(mismatches::add);
        assertEquals(List.of(), mismatches);
        Retention.Report report = retention.verify(A);
        assertTrue(report.ok(), report.findings().toString());
        assertTrue(report.tombstones() >= 2 && report.disposals() >= 1, report.toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(List.of("audit-verify", "--data", server.dataDir().toString()), new PrintStream(out),
                new PrintStream(out), Map.of());
        assertEquals(0, code, out.toString(StandardCharsets.UTF_8));

        out.reset();
        assertEquals(0, Main.run(List.of("retention", "verify", "--data", server.dataDir().toString()),
                new PrintStream(out), new PrintStream(out), Map.of()), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("every tombstone matches the trail"));
        out.reset();
        assertEquals(2, Main.run(List.of("retention", "certificate", "--data", server.dataDir().toString(),
                "--batch", "x"), new PrintStream(out), new PrintStream(out), Map.of()));
        assertEquals(1, out.toString(StandardCharsets.UTF_8).strip().lines().count(), out.toString());

        List<String> entries = new ArrayList<>();
        server.server().audit().reports().forEachOf(List.of(AuditAction.DISPOSAL_EXECUTE.code),
                s -> entries.add(new String(s.entry(), StandardCharsets.UTF_8)));
        String entry = entries.stream().filter(x -> x.contains("\"batch\":\"" + b.id() + "\"")).findFirst()
                .orElseThrow();
        assertTrue(entry.contains(chain) && entry.contains("Observation/obs-" + P + "/_history/1")
                && entry.contains("管理 一郎") && entry.contains("管理 二郎"), entry);
        String cert = retention.certificate(A, b.id());
        assertTrue(cert.contains("廃棄証明") && cert.contains(chain), cert);
        assertTrue(cert.contains("\"backups\"") && cert.contains("mamori backup destroy"), "the certificate says what"
                + " the backups still hold: " + cert);
    }

    @Test
    @Order(4)
    void aBatchWhoseRecordChangedAfterItWasProposedIsRefused() {
        Retention.Batch b = retention.propose(A, List.of(S), "保存期間満了");
        retention.approve(B, b.id());
        var changed = server.send(server.request("/Observation/obs-" + S).header("X-Mamori-Reason", "correction")
                .header("Content-Type", "application/fhir+json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(observation(S, "2"))).build());
        assertEquals(200, changed.statusCode(), changed.body());
        RetentionException e = assertThrows(RetentionException.class, () -> retention.approve(A, b.id()));
        assertTrue(e.getMessage().contains("提案後に記録が変わった"), e.getMessage());
        assertEquals("rejected", retention.batch(b.id()).orElseThrow().status());
        assertEquals(200, server.get("/Observation/obs-" + S).statusCode());
    }

    @Test
    @Order(5)
    void hostileInputIsRefusedWithOneLine() {
        List<String> million = Collections.nCopies(1_000_000, "x");
        RetentionException many = assertThrows(RetentionException.class, () -> retention.propose(A, million, "r"));
        assertTrue(many.getMessage().contains("at most 50 patients") && !many.getMessage().contains("\n"),
                many.getMessage());
        RetentionException bad = assertThrows(RetentionException.class,
                () -> retention.propose(A, List.of("../etc/passwd"), "r"));
        assertTrue(bad.getMessage().startsWith("患者IDが正しくありません"), bad.getMessage());
        assertThrows(RetentionException.class, () -> retention.propose(A, List.of(R), " "));
        RetentionException notCandidate = assertThrows(RetentionException.class,
                () -> retention.propose(A, List.of(E), "r"));
        assertTrue(notCandidate.getMessage().contains("is not a disposal candidate"), notCandidate.getMessage());
        assertThrows(RetentionException.class, () -> retention.propose(A, List.of(H), "r"), "held");
        assertThrows(RetentionException.class, () -> retention.candidates("'; DROP TABLE x; --", 10));
    }

    @Test
    @Order(6)
    void theRuntimeRoleCanNeitherCallTheRemovalNorDelete() throws Exception {
        String port = Files.readString(server.dataDir().resolve("runtime/db-port")).trim();
        String pw = Files.readString(server.dataDir().resolve("secrets/db-app-password")).trim();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                "mamori_app", pw); Statement st = c.createStatement()) {
            SQLException call = assertThrows(SQLException.class,
                    () -> st.executeQuery("SELECT * FROM mamori_dispose(1, 'x', 'y')"));
            assertEquals("42501", call.getSQLState(), call.getMessage());
            SQLException del = assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM resource_version"));
            assertEquals("42501", del.getSQLState(), del.getMessage());
            assertThrows(SQLException.class, () -> st.executeUpdate("DELETE FROM resource_tombstone"));
        }
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            SQLException del = assertThrows(SQLException.class, () -> st.executeUpdate(
                    "DELETE FROM resource_version WHERE res_id = 'obs-" + R + "'"));
            assertTrue(del.getMessage().contains("removed only by an approved disposal"), del.getMessage());
        }
    }

    @Test
    @Order(7)
    void aRecordRemovedBehindTheDisposalPathIsFoundByVerify() throws Exception {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.execute("ALTER TABLE resource_version DISABLE TRIGGER USER");
            st.execute("CREATE TEMP TABLE gone AS SELECT res_pk FROM resource WHERE res_type = 'Observation'"
                    + " AND res_id = 'obs-" + R + "'");
            for (String t : List.of("sp_string", "sp_token", "sp_date", "sp_reference", "sp_quantity", "sp_uri",
                    "resource_version", "resource")) {
                st.execute("DELETE FROM " + t + " WHERE res_pk IN (SELECT res_pk FROM gone)");
            }
            st.execute("ALTER TABLE resource_version ENABLE TRIGGER USER");
            st.execute("COMMIT");
        }
        Retention.Report report = retention.verify(A);
        assertFalse(report.ok());
        assertTrue(report.findings().stream().anyMatch(f -> f.startsWith("Observation/obs-" + R + " is named in the"
                + " audit trail but is neither stored nor disposed of")), report.findings().toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(1, Main.run(List.of("retention", "verify", "--data", server.dataDir().toString()),
                new PrintStream(out), new PrintStream(out), Map.of()), out.toString(StandardCharsets.UTF_8));
    }
}
