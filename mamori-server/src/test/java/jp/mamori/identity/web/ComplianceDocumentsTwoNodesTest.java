package jp.mamori.identity.web;

import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;
import jp.mamori.cli.Main;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.CookieManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two Mamori servers, each with its own data folder ({@code mamori node add} copies the installation's keys), on one
 * PostgreSQL server are one system for the compliance documents too (issue 20, ADR 0013, BACKUP-7): a document
 * uploaded through A is downloaded through B with the same session, and one uploaded through B through A. The bytes
 * are in the database, not in either node's data folder.
 */
class ComplianceDocumentsTwoNodesTest {
    private static final String LIST = "/console/compliance/documents";
    private static final String OWNER = "mamori_owner";
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();

    private static Map<String, String> fields(String kind, String title) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("kind", kind);
        f.put("title", title);
        f.put("reviewer", "");
        f.put("reviewed", "");
        f.put("expires", "");
        f.put("requirements", "");
        return f;
    }

    private static String origin(MamoriServer s) {
        return s.consoleUrl().substring(0, s.consoleUrl().length() - "/console".length());
    }

    private static MamoriServer serve(Path data, ExternalPostgres pg, Map<String, String> env) throws Exception {
        return MamoriServer.start(ServerConfig.fromArgs(List.of("--data", data.toString(), "--port", "0", "--bind",
                "127.0.0.1", "--no-backup", "--db-url", pg.jdbcUrl("mamori"), "--db-user", OWNER), env), env);
    }

    @Test
    void aDocumentUploadedThroughOneServerIsDownloadedThroughTheOther() throws Exception {
        String why = ExternalPostgres.unavailableReason();
        Assumptions.assumeTrue(why == null, "no plain PostgreSQL server here: " + why);
        Map<String, String> env = Map.of("MAMORI_DB_PASSWORD", OWNER_PASSWORD, "MAMORI_DB_APP_PASSWORD",
                "app-" + UUID.randomUUID());
        try (ExternalPostgres pg = ExternalPostgres.start()) {
            pg.createOwner(OWNER, OWNER_PASSWORD, "mamori");
            Path d1 = TestData.newFolder("docs-node-a-");
            Path d2 = d1.resolveSibling(d1.getFileName() + "-b");
            MamoriServer a = serve(d1, pg, env);
            MamoriServer b = null;
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int added = Main.run(List.of("node", "add", "--from", d1.toString(), "--data", d2.toString()),
                        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true,
                                StandardCharsets.UTF_8), env);
                assertEquals(0, added, out.toString(StandardCharsets.UTF_8));
                b = serve(d2, pg, env);

                Browser onA = new Browser(origin(a), d1, new CookieManager(), "admin-on-a");
                MultiProcessTest.firstAdministrator(onA, d1);
                Browser onB = new Browser(origin(b), d2, onA.jar(), "admin-on-b");

                byte[] viaA = ComplianceDocumentsTest.pdf("via-a-" + UUID.randomUUID());
                onA.get(LIST);
                Browser.Page doc = onA.submitMultipart(LIST + "/upload", fields("rules", "運用管理規程（ノードA）"),
                        new Browser.FilePart("file", "kitei.pdf", "application/pdf", viaA));
                assertEquals(200, doc.status(), doc::toString);
                String id = doc.uri().getQuery().replaceAll(".*id=([0-9a-f-]{36}).*", "$1");
                Browser.Page dl = onB.get(LIST + "/download?id=" + id + "&v=1");
                assertEquals(200, dl.status(), dl::toString);
                assertArrayEquals(viaA, dl.bytes(), "uploaded through A, served through B");

                byte[] viaB = ComplianceDocumentsTest.png("via-b-" + UUID.randomUUID());
                onB.get(LIST);
                Browser.Page docB = onB.submitMultipart(LIST + "/upload", fields("training", "研修記録（ノードB）"),
                        new Browser.FilePart("file", "kenshu.png", "image/png", viaB));
                assertEquals(200, docB.status(), docB::toString);
                String idB = docB.uri().getQuery().replaceAll(".*id=([0-9a-f-]{36}).*", "$1");
                Browser.Page dlA = onA.get(LIST + "/download?id=" + idB + "&v=1");
                assertEquals(200, dlA.status(), dlA::toString);
                assertArrayEquals(viaB, dlA.bytes(), "uploaded through B, served through A");
            } finally {
                if (b != null) {
                    b.close();
                }
                a.close();
            }
        }
    }
}
