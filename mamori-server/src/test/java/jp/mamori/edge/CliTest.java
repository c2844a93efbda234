package jp.mamori.edge;

import jp.mamori.cli.Main;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import jp.mamori.testing.TestIdentity;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code mamori} command: client management against running and stopped servers, exit codes. */
class CliTest {
    private record Run(int code, String out, String err) {
        String lastLine() {
            List<String> lines = out.lines().toList();
            return lines.get(lines.size() - 1);
        }
    }

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static int status(TestServer s, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + "/Patient?_count=1"));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = s.send(b.GET().build());
        return r.statusCode();
    }

    private static String clientId(Run created) {
        // "Created system client <id> "<name>" with scopes: ..."
        String first = created.out().lines().findFirst().orElseThrow();
        assertTrue(first.startsWith("Created system client "), first);
        return first.split(" ")[3];
    }

    /**
     * Every command answers {@code --help} (and {@code -h}, and {@code help CMD}) with its own usage on stdout and
     * exit 0, without touching a data folder, also when other options are wrong; a subcommand shows its own lines.
     */
    @Test
    void everyCommandAnswersHelpWithItsOwnUsage() {
        List<String[]> commands = List.of(new String[]{"serve"}, new String[]{"client", "create"},
                new String[]{"client", "list"}, new String[]{"client", "revoke"}, new String[]{"emergency", "declare"},
                new String[]{"verify-records"}, new String[]{"audit-export"}, new String[]{"audit-proof"},
                new String[]{"audit-verify"}, new String[]{"backup", "restore"}, new String[]{"backup", "drill"},
                new String[]{"retention", "rules"}, new String[]{"signing-key", "add"},
                new String[]{"verify-signatures"}, new String[]{"demo-data"}, new String[]{"advisories", "import"},
                new String[]{"advisories", "list"}, new String[]{"sbom"});
        for (String[] c : commands) {
            List<String> argv = new java.util.ArrayList<>(List.of(c));
            argv.add("--data");
            argv.add("/nonexistent-" + UUID.randomUUID());
            argv.add("--help");
            Run r = run(argv.toArray(String[]::new));
            String name = String.join(" ", c);
            assertEquals(0, r.code(), name + ": " + r.err());
            assertEquals("", r.err(), name);
            List<String> heads = r.out().lines().filter(l -> l.startsWith("  ") && l.charAt(2) != ' ').toList();
            assertFalse(heads.isEmpty(), name + ": " + r.out());
            for (String h : heads) {
                assertTrue(h.substring(2).startsWith(name + " ") || h.substring(2).equals(name), name + ": " + h);
            }
        }
        Run backup = run("backup", "-h");
        assertEquals(0, backup.code());
        assertTrue(backup.out().contains("backup now") && backup.out().contains("backup restore"), backup.out());
        assertEquals(run("demo-data", "--help").out(), run("help", "demo-data").out());
        Run unknown = run("help", "no-such-command");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().startsWith("mamori: unknown command 'no-such-command'"), unknown.err());
        Run bench = run("bench", "--help");
        assertEquals(0, bench.code(), bench.err());
        assertFalse(bench.out().isBlank());
    }

    @Test
    void clientCreateOnARunningServerPrintsAWorkingTokenAndStoresOnlyItsHash() throws Exception {
        TestServer s = TestServer.shared();
        String name = "cli-" + UUID.randomUUID().toString().substring(0, 8);
        Run r = run("client", "create", "--data", s.dataDir().toString(), "--name", name, "--scopes",
                "system/Patient.read", "--owner", "医療情報部 / medical informatics", "--purpose", "CLI test");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        String token = r.lastLine();
        assertTrue(token.startsWith("mamori_") && !token.contains(" "), token);
        assertEquals(200, status(s, token));
        HttpResponse<String> write = s.send(HttpRequest.newBuilder(URI.create(s.base() + "/Patient"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")).build());
        assertEquals(403, write.statusCode(), "the token holds only the scopes asked for");

        byte[] expected = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        try (Connection c = s.superuserConnection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "select token_sha256 from system_client where client_id = ?")) {
                ps.setString(1, clientId(r));
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertArrayEquals(expected, rs.getBytes(1));
                }
            }
            assertTrue(columnsContaining(c, name).contains("system_client.name"), "the search itself works");
            assertEquals(List.of(), columnsContaining(c, token), "the plain token is stored somewhere");
            assertEquals(List.of(), columnsContaining(c, token.substring("mamori_".length())));
        }
    }

    /** Every text-like column of every user table that contains {@code needle}, as table.column. */
    private static List<String> columnsContaining(Connection c, String needle) throws Exception {
        List<String[]> cols = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "select table_schema, table_name, column_name, data_type from information_schema.columns"
                        + " where table_schema not in ('pg_catalog', 'information_schema')"
                        + " and data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')")) {
            while (rs.next()) {
                cols.add(new String[]{rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
            }
        }
        assertTrue(cols.stream().anyMatch(col -> col[1].equals("system_client")), "system_client not found");
        List<String> hits = new ArrayList<>();
        for (String[] col : cols) {
            String column = "\"" + col[2] + "\"";
            String where = col[3].equals("bytea") ? "position(convert_to(?, 'UTF8') in " + column + ") > 0"
                    : "position(? in " + column + "::text) > 0";
            String sql = "select count(*) from \"" + col[0] + "\".\"" + col[1] + "\" where " + where;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, needle);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        hits.add(col[1] + "." + col[2]);
                    }
                }
            }
        }
        return hits;
    }

    @Test
    void anEmergencyIsDeclaredAndEndedFromTheServerMachineByANamedPerson() throws Exception {
        try (TestServer s = TestServer.start(List.of())) {
            String data = s.dataDir().toString();
            Run none = run("emergency", "status", "--data", data);
            assertEquals(0, none.code(), none.err());
            assertTrue(none.out().contains("no emergency declared"), none.out());
            Run noReason = run("emergency", "declare", "--data", data, "--by", "当直医 山田");
            assertEquals(2, noReason.code());
            assertTrue(noReason.err().contains("--reason"), noReason.err());
            Run tooLong = run("emergency", "declare", "--data", data, "--by", "当直医 山田", "--reason",
                    "認証サーバー障害", "--hours", "48");
            assertEquals(1, tooLong.code(), tooLong.out());
            assertEquals(1, tooLong.err().lines().count(), tooLong.err());
            Run declared = run("emergency", "declare", "--data", data, "--by", "当直医 山田", "--reason",
                    "認証サーバー障害 / authentication outage", "--hours", "2");
            assertEquals(0, declared.code(), declared.err());
            assertTrue(s.server().identity().emergencies().active().isPresent());
            Run status = run("emergency", "status", "--data", data);
            assertTrue(status.out().contains("当直医 山田"), status.out());
            Run again = run("emergency", "declare", "--data", data, "--by", "x", "--reason", "second one");
            assertEquals(1, again.code());
            Run ended = run("emergency", "end", "--data", data, "--by", "当直医 山田");
            assertEquals(0, ended.code(), ended.err());
            assertTrue(s.server().identity().emergencies().active().isEmpty());
            try (Connection c = s.superuserConnection(); var rs = c.createStatement().executeQuery(
                    "SELECT declared_by, ended_by FROM emergency_declaration")) {
                assertTrue(rs.next());
                assertTrue(rs.getString(1).startsWith("当直医 山田 (cli:"), rs.getString(1));
                assertTrue(rs.getString(2).startsWith("当直医 山田 (cli:"), rs.getString(2));
            }
        }
    }

    @Test
    void badScopesExit2WithOneLine() {
        TestServer s = TestServer.shared();
        for (String scopes : List.of("system/Patient.fly", "", "  ", "patient/*.read", "system/Patient.sr",
                "system/*.*;drop")) {
            Run r = run("client", "create", "--data", s.dataDir().toString(), "--name", "bad", "--scopes", scopes);
            assertEquals(2, r.code(), "scopes '" + scopes + "': " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("mamori client: "), r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void missingNameOrBadNameExit2() {
        TestServer s = TestServer.shared();
        Run noName = run("client", "create", "--data", s.dataDir().toString(), "--scopes", "system/*.*");
        assertEquals(2, noName.code());
        assertTrue(noName.err().contains("--name"), noName.err());
        Run longName = run("client", "create", "--data", s.dataDir().toString(), "--name", "n".repeat(201),
                "--scopes", "system/*.*", "--owner", "o", "--purpose", "p");
        assertEquals(2, longName.code(), longName.err());
        assertEquals(1, longName.err().lines().count(), longName.err());
        assertTrue(longName.err().contains("--name"), longName.err());
    }

    @Test
    void createWithoutOwnerOrPurposeExits2WithOneLineSayingSo() {
        TestServer s = TestServer.shared();
        for (List<String> missing : List.of(List.of("--owner", "o"), List.of("--purpose", "p"), List.<String>of())) {
            List<String> argv = new ArrayList<>(List.of("client", "create", "--data", s.dataDir().toString(),
                    "--name", "no-owner", "--scopes", "system/*.read"));
            argv.addAll(missing);
            Run r = run(argv.toArray(String[]::new));
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().contains("--owner") && r.err().contains("--purpose") && r.err().contains("必須"),
                    r.err());
            assertEquals("", r.out());
        }
        Run tooLong = run("client", "create", "--data", s.dataDir().toString(), "--name", "long-lived", "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p", "--expires-days", "1096");
        assertEquals(2, tooLong.code(), tooLong.err());
        assertTrue(tooLong.err().contains("--expires-days"), tooLong.err());
    }

    @Test
    void createWithACertificatePrintsNoTokenAndTheCertificateAuthenticates() throws Exception {
        TestServer s = TestServer.shared();
        TestIdentity id = TestIdentity.selfSigned();
        Path pem = Files.createTempFile(Path.of("target"), "client", ".pem");
        Files.writeString(pem, id.pem());
        Run r = run("client", "create", "--data", s.dataDir().toString(), "--name", "lab-system", "--scopes",
                "system/Patient.read", "--owner", "検査部 / laboratory", "--purpose", "results interface",
                "--expires-days", "90", "--cert", pem.toString());
        assertEquals(0, r.code(), r.err());
        String id0 = clientId(r);
        assertEquals(id0, r.lastLine(), "the client id is the last line; there is no token");
        assertFalse(r.out().contains("mamori_"), r.out());
        HttpResponse<String> read = TestIdentity.httpClient(s, id).send(HttpRequest.newBuilder(URI.create(s.base()
                + "/Patient?_count=1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, read.statusCode(), read.body());

        Run again = run("client", "create", "--data", s.dataDir().toString(), "--name", "lab-system-2", "--scopes",
                "system/Patient.read", "--owner", "o", "--purpose", "p", "--cert", pem.toString());
        assertEquals(2, again.code(), "one certificate, one client");
        assertEquals(1, again.err().lines().count(), again.err());

        Run list = run("client", "list", "--data", s.dataDir().toString());
        String row = list.out().lines().filter(l -> l.startsWith(id0 + "\t")).findFirst().orElse("");
        assertTrue(row.contains("\tactive\tmtls\tlab-system\t検査部 / laboratory\tresults interface\t"), row);
        Instant expires = Instant.parse(row.split("\t")[7]);
        assertTrue(Math.abs(Duration.between(Instant.now().plus(Duration.ofDays(90)), expires).toMinutes()) < 5, row);
    }

    @Test
    void createWithAJwkSetPrintsTheClientIdLastAndRefusesPrivateKeys() throws Exception {
        TestServer s = TestServer.shared();
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        Path pub = Files.createTempFile(Path.of("target"), "jwks", ".json");
        Files.writeString(pub, new JWKSet(key.toPublicJWK()).toString());
        Run r = run("client", "create", "--data", s.dataDir().toString(), "--name", "pharmacy", "--scopes",
                "system/MedicationRequest.read", "--owner", "薬剤部 / pharmacy", "--purpose", "dispensing",
                "--jwks", pub.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(clientId(r), r.lastLine());
        Run list = run("client", "list", "--data", s.dataDir().toString());
        assertTrue(list.out().lines().anyMatch(l -> l.startsWith(clientId(r) + "\tactive\tprivate_key_jwt\t")),
                list.out());

        Path priv = Files.createTempFile(Path.of("target"), "jwks", ".json");
        Files.writeString(priv, new JWKSet(key).toString(false));
        Run bad = run("client", "create", "--data", s.dataDir().toString(), "--name", "leaky", "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p", "--jwks", priv.toString());
        assertEquals(2, bad.code(), bad.err());
        assertEquals(1, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().contains("private key"), bad.err());
        Run both = run("client", "create", "--data", s.dataDir().toString(), "--name", "both", "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p", "--jwks", pub.toString(), "--cert", "x.pem");
        assertEquals(2, both.code(), both.err());
        Run missing = run("client", "create", "--data", s.dataDir().toString(), "--name", "nofile", "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p", "--cert", "target/does-not-exist.pem");
        assertEquals(2, missing.code(), missing.err());
        assertEquals(1, missing.err().lines().count(), missing.err());
    }

    @Test
    void listShowsBearerAsTheWeakerMethodAndFlagsExpiredClients() throws Exception {
        TestServer s = TestServer.shared();
        Run r = run("client", "create", "--data", s.dataDir().toString(), "--name", "old-style", "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p");
        String id = clientId(r);
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "update system_client set expires_at = created_at + interval '1 millisecond' where client_id = ?")) {
            ps.setString(1, id);
            assertEquals(1, ps.executeUpdate());
        }
        Run list = run("client", "list", "--data", s.dataDir().toString());
        String row = list.out().lines().filter(l -> l.startsWith(id + "\t")).findFirst().orElse("");
        assertTrue(row.startsWith(id + "\tEXPIRED\tbearer (static token: weaker"), row);
        assertEquals(401, status(s, r.lastLine()), "an expired client authenticates nowhere");
    }

    @Test
    void listShowsTheClientAndRevokeStopsItsTokenWithinTheCacheTime() throws Exception {
        TestServer s = TestServer.shared();
        String name = "cli-revoke-" + UUID.randomUUID().toString().substring(0, 8);
        Run created = run("client", "create", "--data", s.dataDir().toString(), "--name", name, "--scopes",
                "system/*.read", "--owner", "o", "--purpose", "p");
        assertEquals(0, created.code(), created.err());
        String token = created.lastLine();
        String id = clientId(created);
        assertEquals(200, status(s, token)); // now cached by the server's SystemClients

        Run list = run("client", "list", "--data", s.dataDir().toString());
        assertEquals(0, list.code(), list.err());
        String row = list.out().lines().filter(l -> l.startsWith(id + "\t")).findFirst().orElse("");
        assertTrue(row.contains("\tactive\t") && row.contains(name) && row.contains("system/*.rs"), list.out());
        assertFalse(list.out().contains(token), "list never shows a token");

        Run revoked = run("client", "revoke", "--data", s.dataDir().toString(), "--id", id, "--reason", "test");
        assertEquals(0, revoked.code(), revoked.err());
        // The CLI revokes through its own SystemClients; the server's cache forgets the token within 5 s.
        long deadline = System.nanoTime() + 7_000_000_000L;
        int st;
        while ((st = status(s, token)) == 200 && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        assertEquals(401, st, "a revoked token still works after 7 s");

        Run again = run("client", "list", "--data", s.dataDir().toString());
        assertTrue(again.out().lines().anyMatch(l -> l.startsWith(id + "\trevoked ")), again.out());
        Run twice = run("client", "revoke", "--data", s.dataDir().toString(), "--id", id, "--reason", "again");
        assertEquals(1, twice.code());
        assertEquals(1, twice.err().lines().count(), twice.err());
    }

    @Test
    void unknownCommandsAndSubcommandsExit2() {
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run().code());
        assertEquals(2, run("client").code());
        assertEquals(2, run("client", "delete", "--data", "x").code());
        Run badOpt = run("client", "list", "--data", "x", "--verbose");
        assertEquals(2, badOpt.code());
        assertTrue(badOpt.err().contains("--verbose"), badOpt.err());
    }

    @Test
    void verifyRecordsOnTheRunningServersFolderExits0() {
        TestServer s = TestServer.shared();
        assertEquals(201, s.post("/Patient", "{\"resourceType\":\"Patient\",\"active\":true}").statusCode());
        Run r = run("verify-records", "--data", s.dataDir().toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("all hashes match"), r.out());
    }

    @Test
    void commandsOnAMissingDataFolderExit2WithOneLine() {
        Run r = run("client", "list", "--data", "target/test-data/does-not-exist-" + UUID.randomUUID());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void clientCreateOnAStoppedServersFolderStartsAndStopsTheDatabaseItself() throws Exception {
        TestServer stopped = TestServer.start(List.of());
        String data = stopped.dataDir().toString();
        stopped.close();
        Run r = run("client", "create", "--data", data, "--name", "offline", "--scopes", "system/*.*",
                "--owner", "o", "--purpose", "p");
        assertEquals(0, r.code(), r.err());
        String token = r.lastLine();
        assertTrue(token.startsWith("mamori_"), token);
        Run list = run("client", "list", "--data", data);
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains("\toffline\t"), list.out());
        // The CLI let go of the folder: a server starts on it again and accepts the token.
        try (var server = jp.mamori.MamoriServer.start(jp.mamori.config.ServerConfig.fromArgs(
                List.of("--data", data, "--port", "0", "--bind", "127.0.0.1"), Map.of()))) {
            var http = java.net.http.HttpClient.newBuilder().sslContext(Edge.trusting(java.nio.file.Path.of(data)))
                    .build();
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl()
                    .replace("127.0.0.1", "localhost") + "/Patient?_count=1")).header("Authorization", "Bearer " + token)
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, resp.statusCode(), resp.body());
        }
    }
}
