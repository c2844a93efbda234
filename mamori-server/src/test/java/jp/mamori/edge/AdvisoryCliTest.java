package jp.mamori.edge;

import jp.mamori.cli.Main;
import jp.mamori.compliance.Sbom;
import jp.mamori.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mamori advisories} and {@code mamori sbom}: one-line refusals, help, and an import recorded in the trail. */
class AdvisoryCliTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void oneLine(Run r, String contains) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(contains), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    @Test
    void helpNamesImportListAndSbom() {
        Run h = run("advisories", "--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("advisories import --data DIR FILE") && h.out().contains("advisories list"),
                h.out());
        Run sub = run("help", "advisories", "import");
        assertEquals(0, sub.code());
        assertTrue(sub.out().contains("OSV JSON") && !sub.out().contains("advisories list"), sub.out());
        assertEquals(0, run("sbom", "--help").code());
    }

    @Test
    void badInputIsOneLineAndNothingIsOpened(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("no-such-data");
        oneLine(run("advisories", "import", "--data", data.toString()), "name the file to import");
        oneLine(run("advisories", "import", "--data", data.toString(), tmp.resolve("absent.json").toString()),
                "no such file");
        Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"id\": \"GHSA-1\", \"affected\": [");
        oneLine(run("advisories", "import", "--data", data.toString(), broken.toString()), "not valid JSON");
        Path sbom = Files.writeString(tmp.resolve("sbom.json"), "{\"bomFormat\": \"CycloneDX\", \"components\": []}");
        oneLine(run("advisories", "import", "--data", data.toString(), sbom.toString()), "an SBOM, not a VEX");
        Path big = tmp.resolve("big.json");
        try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'['}), 9L * 1024 * 1024); // sparse, over 8 MiB
        }
        oneLine(run("advisories", "import", "--data", data.toString(), big.toString()), "file too large");
        oneLine(run("advisories", "import", "--data", data.toString(), "--frobnicate", broken.toString()),
                "unknown option");
        oneLine(run("advisories", "remove"), "unknown subcommand");
        Path good = Files.writeString(tmp.resolve("good.json"), "[]");
        oneLine(run("advisories", "import", "--data", data.toString(), good.toString()), "no data folder");
        assertFalse(Files.exists(data), "no data folder was made");
    }

    @Test
    void anImportIsMatchedListedAndRecordedInTheAuditTrail(@TempDir Path tmp) throws Exception {
        TestServer s = TestServer.shared();
        Sbom.Component jetty = Sbom.bundled().orElseThrow().maven("org.eclipse.jetty", "jetty-server").orElseThrow();
        String id = "GHSA-test-" + System.nanoTime();
        Path osv = Files.writeString(tmp.resolve("jetty-osv.json"), """
                {"id": "%s", "modified": "2026-11-30T00:00:00Z", "aliases": ["CVE-2026-77777"],
                 "summary": "Test advisory for the running Jetty", "database_specific": {"severity": "MODERATE"},
                 "affected": [{"package": {"ecosystem": "Maven", "name": "org.eclipse.jetty:jetty-server"},
                   "versions": ["%s"]}]}
                """.formatted(id, jetty.version()));
        String data = s.dataDir().toString();
        Run imp = run("advisories", "import", "--data", data, osv.toString());
        assertEquals(0, imp.code(), imp.err());
        assertTrue(imp.out().contains("取り込みました / imported: jetty-osv.json (osv, 1 advisories"), imp.out());
        Run again = run("advisories", "import", "--data", data, osv.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("取り込み済みです / already imported"), again.out());

        Run list = run("advisories", "list", "--data", data);
        assertEquals(0, list.code(), list.err());
        String line = list.out().lines().filter(l -> l.contains(id)).findFirst().orElseThrow(() ->
                new AssertionError(list.out()));
        assertTrue(line.contains("未対応 OPEN") && line.contains("CVE-2026-77777") && line.contains("MODERATE")
                && line.contains("org.eclipse.jetty:jetty-server " + jetty.version()), line);
        assertTrue(list.out().contains("JST"), "import times in JST: " + list.out());

        try (Connection c = s.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action ="
                     + " 'advisory.import' AND convert_from(entry, 'UTF8') LIKE ?")) {
            ps.setString(1, "%jetty-osv.json%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(1, rs.getInt(1), "one entry for the import, none for the repeat");
            }
        }
    }

    @Test
    void sbomPrintsTheBuildsSbom() {
        Run r = run("sbom");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"bomFormat\" : \"CycloneDX\"") && r.out().contains("BIZ UDPGothic"),
                r.out().substring(0, Math.min(300, r.out().length())));
    }
}
