package jp.mamori.store;

import jp.mamori.cli.Main;
import jp.mamori.demo.DemoData;
import jp.mamori.demo.DemoGenerator;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STORE-1 真正性 for what is derived from the versions: the head of a resource ({@code resource}) and its search index
 * rows ({@code sp_*}, {@code encounter_care}). The runtime role cannot change them except by appending a version
 * (ADR 0002), and {@code verify-records} compares both with the newest version, so that an edit by the database
 * superuser that hides a record from search, or moves it, is reported with the resource and what differs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DerivedHeadAndIndexTest {
    private static TestServer server;

    record Result(int code, String out, String err) {
        List<String> linesAbout(String ref) {
            return out.lines().filter(l -> l.contains(ref + " ")).toList();
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
    void aCleanStoreOfEveryKindOfRecordVerifies() {
        // Synthetic charts (encounters with their wards, observations, notes amended with a reason, ...) through the
        // record service's own write path, plus an updated and a deleted patient over HTTP.
        new DemoData(server.server().database().dataSource(), server.server().audit().recorder()).create(2, 7, new DemoGenerator.Options(4, 2),
                java.time.LocalDate.of(2026, 11, 23));
        String updated = patient("やまだ");
        assertEquals(200, server.put("/Patient/" + updated, Patients.jsonWithId(updated, ident(updated), "やまもと"))
                .statusCode());
        String deleted = patient("さとう");
        assertEquals(200, server.delete("/Patient/" + deleted, "test: a deleted record verifies too").statusCode());
        String suzuki = patient("すずき");
        encounter(suzuki);
        // A finished encounter without a period ends at its last update: the server's time of this version, which
        // the stored body carries (so the index must be made from the resource as stored, not as sent).
        assertEquals(201, server.post("/Encounter", "{\"resourceType\":\"Encounter\",\"status\":\"finished\","
                + "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"AMB\"},"
                + "\"subject\":{\"reference\":\"Patient/" + suzuki + "\"},\"serviceProvider\":{\"display\":\"第二外科\"}}")
                .statusCode());
        // A period open at its start (indexed from the earliest instant) and a quantity with a trailing zero.
        assertEquals(201, server.post("/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8310-5\"}]},"
                + "\"subject\":{\"reference\":\"Patient/" + suzuki + "\"},"
                + "\"effectivePeriod\":{\"end\":\"2026-11-20T10:00:00+09:00\"},"
                + "\"valueQuantity\":{\"value\":36.50,\"unit\":\"Cel\",\"system\":\"http://unitsofmeasure.org\","
                + "\"code\":\"Cel\"}}").statusCode());

        Result r = verify();
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(r.out().contains("MISMATCH"), r.out());
        assertTrue(r.out().contains("all hashes match"), r.out());
    }

    @Test
    @Order(2)
    void aHeadMarkedDeletedBehindTheServersBackIsReported() throws Exception {
        String id = patient("たかはし");
        assertEquals(1, found(id), "findable before");
        superuser("UPDATE resource SET deleted = true WHERE res_type = 'Patient' AND res_id = ?", id);
        assertEquals(0, found(id), "the edit hides the record from search: that is what verify-records must catch");

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout("Patient/" + id);
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).contains("Patient/" + id + " version 1: ") && lines.get(0).contains("deleted")
                && lines.get(0).contains("(expected false, found true)"), lines.get(0));
    }

    @Test
    @Order(3)
    void deletedIndexRowsAreReportedWithTheRowsThatAreMissing() throws Exception {
        String id = patient("いとう");
        superuser("DELETE FROM sp_string WHERE res_pk = (SELECT res_pk FROM resource WHERE res_type = 'Patient'"
                + " AND res_id = ?) AND param = 'family'", id);
        HttpResponse<String> byName = server.get("/Patient?family=" + enc("いとう") + "&identifier="
                + enc(Patients.SYSTEM + "|" + ident(id)));
        assertEquals(0, byName.body().split("\"fullUrl\"").length - 1, "no longer found by family name");

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout("Patient/" + id);
        assertEquals(1, lines.size(), r.out());
        assertTrue(lines.get(0).contains("sp_string"), lines.get(0));
        assertTrue(lines.get(0).contains("(expected family \"イトウ\" \"いとう\", found none)"), lines.get(0));
    }

    @Test
    @Order(4)
    void aChangedIndexValueIsReportedWithTheExpectedAndTheStoredRow() throws Exception {
        String id = patient("わたなべ");
        superuser("UPDATE sp_token SET code = 'male' WHERE res_pk = (SELECT res_pk FROM resource"
                + " WHERE res_type = 'Patient' AND res_id = ?) AND param = 'gender'", id);

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout("Patient/" + id);
        assertEquals(1, lines.size(), r.out());
        String line = lines.get(0);
        assertTrue(line.contains("sp_token"), line);
        assertTrue(line.contains("gender \"http://hl7.org/fhir/administrative-gender\" \"female\""), line);
        assertTrue(line.contains("gender \"http://hl7.org/fhir/administrative-gender\" \"male\""), line);
    }

    @Test
    @Order(5)
    void changedAccessColumnsAndADeletedWardRowAreReported() throws Exception {
        String patient = patient("なかむら");
        String enc = encounter(patient);
        superuser("UPDATE resource SET patients = '{someone-else}' WHERE res_type = 'Encounter' AND res_id = ?", enc);
        superuser("DELETE FROM encounter_care WHERE res_pk = (SELECT res_pk FROM resource WHERE res_type = 'Encounter'"
                + " AND res_id = ?)", enc);

        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout("Encounter/" + enc);
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("patients") && l.contains("(expected [" + patient
                + "], found [someone-else])")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("encounter_care") && l.contains("\"" + patient
                + "\" \"第一内科\"")), r.out());
    }

    @Test
    @Order(6)
    void theRuntimeRoleCannotChangeHeadsOrIndexRowsDirectly() throws Exception {
        String id = patient("こばやし");
        long pk;
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT res_pk FROM resource WHERE res_type = 'Patient'"
                     + " AND res_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                pk = rs.getLong(1);
            }
        }
        List<String> refused = new ArrayList<>();
        for (String t : List.of("sp_string", "sp_token", "sp_date", "sp_reference", "sp_quantity", "sp_uri",
                "encounter_care")) {
            refused.add("DELETE FROM " + t + " WHERE res_pk = " + pk);
            refused.add("UPDATE " + t + " SET res_pk = res_pk WHERE res_pk = " + pk);
            refused.add("INSERT INTO " + t + " SELECT * FROM " + t + " WHERE res_pk = " + pk);
        }
        refused.addAll(List.of(
                "UPDATE resource SET deleted = true WHERE res_pk = " + pk,
                "UPDATE resource SET version = version + 1 WHERE res_pk = " + pk,
                "UPDATE resource SET patients = '{}', labels = '{}' WHERE res_pk = " + pk,
                "INSERT INTO resource (res_type, res_id, version, last_updated) VALUES ('Patient', 'x', 1, now())",
                "INSERT INTO resource_version (res_pk, version, res_type, res_id, recorded_at, author, operation, body,"
                        + " content_sha256, chain_sha256) SELECT res_pk, version + 1, res_type, res_id, now(), 'mallory',"
                        + " operation, body, content_sha256, chain_sha256 FROM resource_version WHERE res_pk = " + pk,
                "SELECT 1 FROM resource WHERE res_pk = " + pk + " FOR UPDATE"));
        // Logged in as the runtime role itself, as request handling is (RuntimeRoleLoginTest).
        try (Connection c = server.server().database().dataSource().getConnection(); Statement st = c.createStatement()) {
            assertEquals("mamori_app", one(st, "SELECT current_user"));
            for (String sql : refused) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("permission denied"), sql + ": " + e.getMessage());
            }
        }
        assertEquals(1, found(id), "still findable");
        Result r = verify();
        assertTrue(r.linesAbout("Patient/" + id).isEmpty(), r.out());
    }

    @Test
    @Order(7)
    void theRuntimeRoleWritesOnlyByAppendingAVersionAndWrongIndexRowsAreReported() throws Exception {
        String id = patient("かとう");
        // What the runtime role may call: the write function. With the head's own version number it changes nothing.
        String call = "SELECT mamori_write_version(1, 'Patient', res_id, ?, now(), 'mallory', 'hide it', 'update', NULL,"
                + " body, content_sha256, chain_sha256" + ", '{}'".repeat(27) + ") FROM resource_version"
                + " WHERE res_type = 'Patient' AND res_id = ? AND version = 1";
        try (Connection c = server.server().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(call)) {
            ps.setInt(1, 1);
            ps.setString(2, id);
            SQLException e = assertThrows(SQLException.class, ps::executeQuery);
            assertTrue(e.getMessage().contains("does not follow version 1"), e.getMessage());
            assertEquals(1, found(id));
            // With the next number it appends a version, here with no index rows: the record leaves search, but not
            // without a trace. The version is in the history, and verify-records reports the index rows it lacks.
            ps.setInt(1, 2);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
            }
        }
        assertEquals(0, found(id));
        HttpResponse<String> history = server.get("/Patient/" + id + "/_history");
        assertEquals(2, history.body().split("\"fullUrl\"").length - 1, history.body());
        Result r = verify();
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> lines = r.linesAbout("Patient/" + id);
        assertTrue(lines.stream().anyMatch(l -> l.contains("version 2: ") && l.contains("sp_token")
                && l.contains("identifier \"" + Patients.SYSTEM + "\" \"" + ident(id) + "\" null")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.contains("version 2: chain hash mismatch")), r.out());
    }

    // ---------------------------------------------------------------- helpers

    private static final Map<String, String> IDENTS = new java.util.concurrent.ConcurrentHashMap<>();

    private static String patient(String family) {
        String ident = Patients.uniqueValue();
        HttpResponse<String> created = server.post("/Patient", Patients.json(ident, family));
        assertEquals(201, created.statusCode(), created.body());
        String id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());
        IDENTS.put(id, ident);
        return id;
    }

    private static String ident(String id) {
        return IDENTS.get(id);
    }

    /** An in-progress encounter of the patient in the ward 第一内科. */
    private static String encounter(String patient) {
        HttpResponse<String> created = server.post("/Encounter", "{\"resourceType\":\"Encounter\",\"status\":"
                + "\"in-progress\",\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
                + "\"code\":\"IMP\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
                + "\"period\":{\"start\":\"2026-11-20T09:00:00+09:00\"},"
                + "\"serviceProvider\":{\"display\":\"第一内科\"}}");
        assertEquals(201, created.statusCode(), created.body());
        String location = created.headers().firstValue("Location").orElseThrow();
        String rest = location.substring(location.indexOf("/Encounter/") + "/Encounter/".length());
        return rest.substring(0, rest.indexOf('/'));
    }

    /** How many Patients a search by the patient's identifier finds. */
    private static int found(String id) {
        HttpResponse<String> r = server.get("/Patient?identifier=" + enc(Patients.SYSTEM + "|" + ident(id)));
        assertEquals(200, r.statusCode(), r.body());
        return r.body().split("\"fullUrl\"").length - 1;
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void superuser(String sql, String arg) throws SQLException {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            assertTrue(ps.executeUpdate() > 0, sql);
        }
    }

    private static String one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getString(1);
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
