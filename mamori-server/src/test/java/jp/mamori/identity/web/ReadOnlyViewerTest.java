package jp.mamori.identity.web;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standalone viewer after an attack (issue 18 §2, DEGRADED-4): {@code serve --read-only} on a copy of a stopped
 * server's data folder. A person signs in with password and second factor and sees the read-only banner; records are
 * read through the FHIR API; every write is refused (the console's and the API's); each read's audit entry is in the
 * viewer's local journal, fsync'ed, which the ledger tool verifies on its own; and the copy's records are unchanged.
 */
class ReadOnlyViewerTest {
    @TempDir
    Path tmp;

    @Test
    void aCopyOpensAsAViewerThatSignsInReadsAuditsToItsJournalAndWritesNothing() throws Exception {
        Hospital h = Hospital.open();
        String patientId;
        String token = h.server.adminToken();
        Path original = h.server.dataDir();
        try {
            HttpResponse<String> created = h.server.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
                    + "\"縮退\",\"given\":[\"花子\"]}],\"gender\":\"female\",\"birthDate\":\"1960-04-01\"}");
            assertEquals(201, created.statusCode(), created.body());
            patientId = created.headers().firstValue("Location").orElseThrow().replaceAll(".*/Patient/([^/]+)/.*", "$1");
        } finally {
            h.close();
        }
        Path copy = jp.mamori.testing.TestData.copyDataFolder(original, tmp.resolve("viewer"));
        long patientsBefore;
        try (TestServer viewer = TestServer.onFolder(copy, List.of("--read-only"), token)) {
            assertTrue(viewer.server().database().availability().state().forced());
            // a person signs in (password, then a recovery code) and sees the banner
            Browser b = new Browser(viewer, "viewer");
            h.admin.password(b);
            Browser.Page home = b.submit("/console/login/factor", "recovery_code", h.admin.nextRecoveryCode());
            assertEquals("/console/home", home.path(), home::toString);
            assertTrue(home.contains("縮退運用中 — 参照のみ"), home::toString);
            // a console write is refused, saying what to do instead
            b.get("/console/admin/accounts/new");
            Browser.Page refused = b.submit("/console/admin/accounts/new", Hospital.pairs(Hospital.staffFields(
                    Person.uniqueId("viewer.new"), "内科")));
            assertEquals(503, refused.status(), refused::toString);
            assertTrue(refused.contains("縮退運用中（参照のみ）のため、この操作は保存されていません"), refused::toString);

            // the record is read, through the API
            HttpResponse<String> read = viewer.get("/Patient/" + patientId);
            assertEquals(200, read.statusCode(), read.body());
            assertTrue(read.body().contains("縮退"), read.body());
            patientsBefore = count(viewer, "Patient");
            HttpResponse<String> write = viewer.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
                    + "\"書込\"}]}");
            assertEquals(503, write.statusCode(), write.body());
            assertTrue(write.headers().firstValue("Retry-After").isPresent());
            assertTrue(write.body().contains("OperationOutcome") && write.body().contains("縮退運用中"), write.body());
            assertEquals(patientsBefore, count(viewer, "Patient"), "nothing was written");

            // the reads' entries are in the viewer's own journal, which verifies on its own
            Path journal;
            try (Stream<Path> files = Files.list(copy.resolve("audit-journal"))) {
                journal = files.filter(f -> f.getFileName().toString().endsWith(".journal")).findFirst().orElseThrow();
            }
            String text = Files.readString(journal, StandardCharsets.UTF_8);
            assertTrue(text.contains("Patient/" + patientId), "the read's entry names the record");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
            int code = jp.mamori.ledger.Main.run(new String[]{"verify-journal", journal.toString(), "--key",
                    viewer.server().audit().checkpointer().signer().verifierKey().format()}, ps, ps);
            assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
        }
    }

    private static long count(TestServer s, String type) {
        HttpResponse<String> r = s.get("/" + type + "?_summary=count");
        assertEquals(200, r.statusCode(), r.body());
        return Long.parseLong(r.body().replaceAll("(?s).*\"total\"\\s*:\\s*(\\d+).*", "$1"));
    }
}
