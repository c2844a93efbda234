package jp.mamori.records.api;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.audit.AuditReports;

/** The action an API request is recorded under (AUDIT-1): a bulk export is an export, whatever its answer. */
class ApiAuditActionTest {

    private static String action(String method, String... segments) {
        return ApiAudit.action(new ApiAudit.Request(method, List.of(segments), "127.0.0.1", null)).code;
    }

    @Test
    void interactionsAreNamedFromMethodAndPath() {
        assertEquals("read", action("GET", "Patient", "p1"));
        assertEquals("vread", action("GET", "Patient", "p1", "_history", "2"));
        assertEquals("search", action("GET", "Observation"));
        assertEquals("search", action("POST", "Observation", "_search"));
        assertEquals("history", action("GET", "Patient", "p1", "_history"));
        assertEquals("create", action("POST", "Observation"));
        assertEquals("transaction", action("POST"));
        assertEquals("export", action("GET", "$export"));
        assertEquals("export", action("GET", "Patient", "$export"));
        assertEquals("export", action("GET", "Group", "g1", "$export"));
        assertEquals("operation", action("POST", "Patient", "p1", "$expunge"));
        assertEquals("read", action("GET", "Patient", "p1", "$everything"), "a read of that patient's record");
        assertEquals("operation", action("GET", "Patient", "$everything"));
    }

    @Test
    void aBulkExportRequestIsInTheTrailAsAnExportEvenWhenRefused() {
        TestServer server = TestServer.shared();
        Instant before = Instant.now().minusSeconds(1);
        HttpResponse<String> r = server.get("/Patient/$export");
        assertEquals(400, r.statusCode(), "without Prefer: respond-async the kick-off is refused (issue 23): " + r.body());
        AuditReports.Row e = server.server().audit().reports().latest(50).stream()
                .filter(x -> x.action().equals("export") && x.resources().contains("Patient")
                        && !x.at().isBefore(before.truncatedTo(java.time.temporal.ChronoUnit.MICROS)))
                .findFirst().orElseThrow(() -> new AssertionError("no export entry for GET /Patient/$export"));
        assertEquals("invalid", e.outcome(), "a 400 is recorded as invalid");
    }
}
