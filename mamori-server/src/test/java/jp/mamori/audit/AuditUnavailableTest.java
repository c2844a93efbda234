package jp.mamori.audit;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No audit, no answer: when the entry cannot be stored, the request gets a 503 and none of the data. */
class AuditUnavailableTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(List.of());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aReadWhoseEntryCannotBeStoredIsAnswered503WithoutTheRecord() throws Exception {
        String family = "非開示" + UUID.randomUUID().toString().substring(0, 6);
        HttpResponse<String> created = server.post("/Patient", AuditTrailTest.patientJson(family));
        assertEquals(201, created.statusCode());
        String id = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("REVOKE INSERT ON audit_log FROM mamori_app");
        }
        try {
            HttpResponse<String> read = server.get("/Patient/" + id);
            assertEquals(503, read.statusCode(), read.body());
            assertEquals("5", read.headers().firstValue("Retry-After").orElse(null), "tells when to try again");
            assertTrue(read.body().contains("監査記録を保存できないため応答できません"), read.body());
            assertFalse(read.body().contains(family), "no patient data in the refusal");
            HttpResponse<String> search = server.get("/Patient?_id=" + id);
            assertEquals(503, search.statusCode());
            assertFalse(search.body().contains(family));
        } finally {
            try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
                st.execute("GRANT INSERT ON audit_log TO mamori_app");
            }
        }
        assertEquals(200, server.get("/Patient/" + id).statusCode(), "answers again once entries can be stored");
    }

    /**
     * AUDIT-1, issue 15: a write whose entry cannot be stored is not stored either (formerly the version committed
     * first and the 503 came after it). Also for a transaction bundle and a delete.
     */
    @Test
    void aWriteWhoseEntryCannotBeStoredIsNotStored() throws Exception {
        String family = "記録不能" + UUID.randomUUID().toString().substring(0, 6);
        HttpResponse<String> kept = server.post("/Patient", AuditTrailTest.patientJson(family + "既存"));
        assertEquals(201, kept.statusCode());
        String keptId = kept.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
        long versionsBefore = versions();
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("REVOKE INSERT ON audit_log, audit_outbox FROM mamori_app");
        }
        try {
            HttpResponse<String> create = server.post("/Patient", AuditTrailTest.patientJson(family));
            assertTrue(create.statusCode() >= 500, create.statusCode() + " " + create.body());
            String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
                    + AuditTrailTest.patientJson(family + "束") + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
            HttpResponse<String> tx = server.post("", bundle);
            assertTrue(tx.statusCode() >= 500, tx.statusCode() + " " + tx.body());
            HttpResponse<String> delete = server.delete("/Patient/" + keptId, "誤登録");
            assertTrue(delete.statusCode() >= 500, delete.statusCode() + " " + delete.body());
        } finally {
            try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
                st.execute("GRANT INSERT ON audit_log, audit_outbox TO mamori_app");
            }
        }
        assertEquals(versionsBefore, versions(), "no version was stored without its entry");
        assertEquals(200, server.get("/Patient/" + keptId).statusCode(), "the delete did not happen");
    }

    private static long versions() throws Exception {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM resource_version")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
