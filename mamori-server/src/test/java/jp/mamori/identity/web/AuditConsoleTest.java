package jp.mamori.identity.web;

import jp.mamori.audit.AuditRecord;
import jp.mamori.audit.AuditReports;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit console over HTTP (AUDIT-2, AUDIT-7, AUDIT-8): open to an auditor, refused to a physician; every
 * report viewed or exported is itself an entry (an export as {@code export}); the CSV opens safely in a
 * spreadsheet.
 */
class AuditConsoleTest {

    private static Person withRole(Hospital h, String stem, String department, String role) {
        Person p = h.enrolStaff(stem, department);
        h.admin.browser.get("/console/admin/account/roles?id=" + p.accountId);
        Browser.Page done = h.adminSubmit("/console/admin/account/roles/assign", "role", role,
                "department", department, "scope", "");
        assertEquals("/console/admin/account/roles", done.path(), done::toString);
        assertTrue(h.<Object>one("SELECT approved_at FROM role_assignment WHERE account_id = ? AND role = ?",
                p.accountId, role) != null, role + " is in force");
        return p;
    }

    private static List<AuditReports.Row> activity(Hospital h, Person p) {
        return h.server.server().audit().reports().actorActivity(p.loginId, Instant.EPOCH,
                Instant.now().plusSeconds(5), 1000);
    }

    /** A GET that needs a fresh second factor: given on the step-up page when asked, then fetched again. */
    private static Browser.Page getFresh(Person p, String path) {
        Browser.Page page = p.browser.get(path);
        if (page.path().equals(Hospital.STEP_UP_PATH)) {
            p.stepUpQuickly(p.browser);
            page = p.browser.get(path);
        }
        return page;
    }

    @Test
    void anAuditorSeesTheTrailAPhysicianIsRefusedAndEveryViewAndExportIsAnEntry() {
        try (Hospital h = Hospital.open()) {
            Person auditor = withRole(h, "kansa.m", "監査室", "auditor");
            Person physician = withRole(h, "ishi.k", "内科", "physician");
            String patient = UUID.randomUUID().toString();
            // An entry whose cells would run as formulas in a spreadsheet if exported carelessly.
            h.server.server().audit().trail().append(new AuditRecord(Instant.now(), "client:lab", "client",
                    "=HYPERLINK(\"http://evil.example\",\"x\")", List.of("+lab"), "@dept", List.of(patient),
                    List.of("Patient/" + patient + "/_history/1"), "read", "success", "operations", "-10.0.0.1",
                    null, false, Map.of()));

            for (String path : List.of("/console/audit", "/console/audit/report?kind=patient&patient=" + patient,
                    "/console/audit/export?format=csv&kind=patient&patient=" + patient)) {
                Browser.Page refused = physician.browser.get(path);
                assertEquals(403, refused.status(), path + ": " + refused);
                assertFalse(refused.contains(patient), "nothing of the trail shows: " + path);
            }
            assertTrue(activity(h, physician).stream().noneMatch(r -> r.action().startsWith("audit.")
                    || r.action().equals("export")), "a refused page is no report view");

            Browser.Page home = auditor.browser.get("/console/audit");
            assertEquals(200, home.status(), home::toString);
            assertTrue(home.contains("監査記録") && home.contains("レビューの実施状況"), home::toString);
            assertTrue(activity(h, auditor).stream().anyMatch(r -> r.action().equals("audit.view")),
                    "opening the trail is an entry");

            Browser.Page report = auditor.browser.get("/console/audit/report?kind=patient&patient=" + patient);
            assertEquals(200, report.status(), report::toString);
            // In words (issue 22): the client by its name, the action and the record by kind, no raw reference.
            assertTrue(report.contains("外部システム：") && report.contains("閲覧") && report.contains("患者基本情報")
                    && report.contains("業務（外部システム連携）"), report::toString);
            assertFalse(report.contains("Patient/" + patient), report::toString);
            assertFalse(report.contains("=HYPERLINK(\"http"), "escaped in HTML");
            AuditReports.Row viewed = activity(h, auditor).stream().filter(r -> r.action().equals("audit.report"))
                    .findFirst().orElseThrow(() -> new AssertionError("viewing a report is an entry"));
            assertEquals(List.of(patient), viewed.patients(), "the patient whose history was looked at");
            assertEquals("audit", viewed.purpose());
            assertEquals("person", viewed.kind());

            Browser.Page csv = getFresh(auditor, "/console/audit/export?format=csv&kind=patient&patient=" + patient);
            assertEquals(200, csv.status(), csv::toString);
            assertTrue(csv.response().headers().firstValue("Content-Type").orElse("").startsWith("text/csv"));
            assertTrue(csv.response().headers().firstValue("Content-Disposition").orElse("").contains(".csv"));
            assertArrayEquals(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Arrays.copyOf(csv.bytes(), 3),
                    "UTF-8 with a BOM, so Excel reads the Japanese headers");
            String text = new String(csv.bytes(), 3, csv.bytes().length - 3, StandardCharsets.UTF_8);
            assertTrue(text.startsWith("番号,日時,利用者"), text);
            assertTrue(text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""), text);
            assertTrue(text.contains("\"'+lab\"") && text.contains("\"'@dept\"") && text.contains("\"'-10.0.0.1\""),
                    text);
            assertFalse(text.contains(",\"=") || text.contains(",\"+") || text.contains(",\"@")
                    || text.contains(",\"-"), "no cell starts a formula: " + text);
            AuditReports.Row exported = activity(h, auditor).stream().filter(r -> r.action().equals("export"))
                    .findFirst().orElseThrow(() -> new AssertionError("an export is recorded as export"));
            assertEquals(List.of(patient), exported.patients());
            assertTrue(exported.outcome().equals("success"));

            Browser.Page ndjson = getFresh(auditor, "/console/audit/export?format=ndjson&kind=patient&patient="
                    + patient);
            assertEquals(200, ndjson.status(), ndjson::toString);
            assertTrue(ndjson.body().contains("\"resourceType\":\"AuditEvent\"")
                    && ndjson.body().contains("Patient/" + patient), ndjson::toString);
            assertEquals(2, activity(h, auditor).stream().filter(r -> r.action().equals("export")).count(),
                    "the FHIR export is recorded too");
        }
    }

    @Test
    void aReportWhoseViewCannotBeRecordedIsA503ThatSaysWhenToTryAgainAndShowsNothingOfTheTrail() throws Exception {
        try (Hospital h = Hospital.open()) {
            Person auditor = withRole(h, "kansa.t", "監査室", "auditor");
            String patient = UUID.randomUUID().toString();
            h.server.server().audit().trail().append(new AuditRecord(Instant.now(), "client:lab", "client", "検査システム",
                    List.of(), null, List.of(patient), List.of("Patient/" + patient + "/_history/1"), "read", "success",
                    "operations", "10.0.0.1", null, false, Map.of()));
            String path = "/console/audit/report?kind=patient&patient=" + patient;
            assertEquals(200, getFresh(auditor, path).status(), "the report opens while views are recorded");
            try (java.sql.Connection c = h.server.superuserConnection(); java.sql.Statement st = c.createStatement()) {
                st.execute("REVOKE INSERT ON audit_log FROM mamori_app");
            }
            try {
                Browser.Page refused = auditor.browser.get(path);
                assertEquals(503, refused.status(), refused::toString);
                assertEquals("5", refused.response().headers().firstValue("Retry-After").orElse(null),
                        "tells when to try again");
                assertFalse(refused.contains(patient), "nothing of the trail shows: " + refused);
            } finally {
                try (java.sql.Connection c = h.server.superuserConnection(); java.sql.Statement st = c.createStatement()) {
                    st.execute("GRANT INSERT ON audit_log TO mamori_app");
                }
            }
            assertEquals(200, auditor.browser.get(path).status(), "answers again once views can be recorded");
        }
    }
}
