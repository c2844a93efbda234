package jp.mamori.bulk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.audit.Actor;
import jp.mamori.audit.ActorKind;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract-end hand-over (DISPOSAL-7): a store with varied records (Japanese text, an attachment, references)
 * written out, verified, imported into a second fresh Mamori with its own database, and every resource compared; the
 * tampered copies that verify must name (a changed, missing or extra file, a rewritten manifest, another key).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Actor OPERATOR = new Actor("system:handover-test", ActorKind.SYSTEM, "handover test",
            List.of(), null, "local", null);
    private TestServer a;
    private TestServer b;
    private Path out;
    private Handover.Summary exported;

    @BeforeAll
    void open() throws Exception {
        a = TestServer.start(List.of());
        String p = created(a.post("/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                + "\"urn:oid:1.2.392.100495.20.3.51.11234567890\",\"value\":\"00012345\"}],\"name\":[{\"family\":\"山田\","
                + "\"given\":[\"花子\"]},{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation\","
                + "\"valueCode\":\"SYL\"}],\"family\":\"ヤマダ\",\"given\":[\"ハナコ\"]}],\"gender\":\"female\","
                + "\"birthDate\":\"1970-04-01\",\"address\":[{\"text\":\"東京都千代田区霞が関1-2-2\"}]}"));
        String q = created(a.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"髙橋\","
                + "\"given\":[\"𠮷男\"]}],\"gender\":\"male\",\"birthDate\":\"1948-02-11\"}"));
        created(a.post("/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                + "[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}],\"text\":\"HbA1c\"},\"subject\":{\"reference\":"
                + "\"Patient/" + p + "\"},\"effectiveDateTime\":\"2026-11-30T09:00:00+09:00\",\"valueQuantity\":"
                + "{\"value\":6.8,\"unit\":\"%\"}}"));
        created(a.post("/Condition", "{\"resourceType\":\"Condition\",\"code\":{\"text\":\"2型糖尿病（食事療法中）\"},"
                + "\"subject\":{\"reference\":\"Patient/" + q + "\"},\"note\":[{\"text\":\"改行を含む\\n注記\"}]}"));
        created(a.post("/AllergyIntolerance", "{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"ペニシリン\"},"
                + "\"patient\":{\"reference\":\"Patient/" + p + "\"}}"));
        String pdf = Base64.getEncoder().encodeToString("%PDF-1.4 紹介状の本文".getBytes(StandardCharsets.UTF_8));
        created(a.post("/DocumentReference", "{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
                + "\"subject\":{\"reference\":\"Patient/" + p + "\"},\"description\":\"診療情報提供書\",\"content\":"
                + "[{\"attachment\":{\"contentType\":\"application/pdf\",\"title\":\"紹介状.pdf\",\"data\":\"" + pdf
                + "\"}}]}"));
        created(a.post("/Organization", "{\"resourceType\":\"Organization\",\"name\":\"守り総合病院\"}"));
        String gone = created(a.post("/Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"取り消す\"},\"subject\":{\"reference\":\"Patient/" + q + "\"}}"));
        assertEquals(200, a.delete("/Observation/" + gone, "誤登録").statusCode() / 100 * 100);
        // an updated record: its current version is handed over
        HttpResponse<String> cur = a.get("/Patient/" + q);
        assertEquals(200, a.put("/Patient/" + q, cur.body().replace("\"male\"", "\"other\"")).statusCode());

        out = TestData.newDatabaseFolder("handover-").resolve("out");
        exported = handover(a).export(out, 64L * 1024 * 1024, OPERATOR);
        b = TestServer.start(List.of());
    }

    @AfterAll
    void close() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    private static Handover handover(TestServer s) {
        return new Handover(s.server().database().dataSource(), s.server().audit().recorder(), s.dataDir());
    }

    @Test
    void roundTripIntoAFreshMamoriGivesTheSameResources() throws Exception {
        assertEquals(7, exported.resources(), "every current record, the deleted one not: " + exported.perType());
        Handover.Verification v = Handover.verify(out, null);
        assertTrue(v.ok(), v.problems()::toString);
        assertEquals(exported.manifestSha256(), v.manifestSha256());
        assertEquals(1, entries(a, "action = 'handover.export' AND convert_from(entry, 'UTF8') LIKE ?",
                "%" + exported.manifestSha256() + "%"), "recorded as evidence with the manifest's hash");

        String[] verified = cli("handover", "verify", out.toString(), "--key", out.resolve(Handover.PUBLIC_KEY).toString());
        assertEquals("0", verified[0], verified[1] + verified[2]);
        assertTrue(verified[1].contains("OK") && verified[1].contains(exported.manifestSha256()), verified[1]);
        String[] imported = cli("handover", "import", out.toString(), "--data", b.dataDir().toString());
        assertEquals("0", imported[0], imported[1] + imported[2]);
        assertTrue(imported[1].contains("handover import: リソース 7 件"), imported[1]);
        int compared = 0;
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".ndjson")).toList()) {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    JsonNode original = JSON.readTree(line);
                    String ref = original.get("resourceType").asText() + "/" + original.get("id").asText();
                    HttpResponse<String> there = b.get("/" + ref);
                    assertEquals(200, there.statusCode(), ref);
                    JsonNode copy = JSON.readTree(there.body());
                    assertEquals(withoutVersion(original), withoutVersion(copy), ref);
                    compared++;
                }
            }
        }
        assertEquals(7, compared);
        assertTrue(b.get("/Patient?name=山田").body().contains("花子"), "searchable in the new store");
        assertTrue(entries(b, "action = 'handover.import' AND outcome = 'success'") == 1);
        assertTrue(entries(b, "actor = 'system:handover-import' AND convert_from(entry, 'UTF8') LIKE '%handover import%'")
                > 0, "the versions' entries name the reason");
        Path again = out.resolveSibling("again");
        assertThrows(IllegalArgumentException.class, () -> handover(a).export(out, 1 << 20, OPERATOR),
                "never into a folder that is not empty");
        Handover.Summary small = handover(a).export(again, 300, OPERATOR);
        assertTrue(small.files() > exported.files(), "bounded by bytes: more files");
        assertTrue(Handover.verify(again, null).ok());
    }

    @Test
    void verifyNamesEveryChangedMissingOrExtraFileAndARewrittenManifest() throws Exception {
        Path base = out.resolveSibling("tamper");
        String someFile = Handover.verify(out, null).entries().get(0).file();

        Path changed = copy(base.resolve("changed"));
        byte[] bytes = Files.readAllBytes(changed.resolve(someFile));
        bytes[10] ^= 1;
        Files.write(changed.resolve(someFile), bytes);
        assertProblems(changed, "changed: " + someFile);
        String[] cli = cli("handover", "verify", changed.toString());
        assertEquals("1", cli[0], cli[1] + cli[2]);
        assertTrue(cli[1].contains("NG\t") && cli[1].contains(someFile), cli[1]);

        Path missing = copy(base.resolve("missing"));
        Files.delete(missing.resolve(someFile));
        assertProblems(missing, "missing: " + someFile);

        Path extra = copy(base.resolve("extra"));
        Files.writeString(extra.resolve("Patient.99.ndjson"), "{}\n");
        assertProblems(extra, "extra: Patient.99.ndjson");

        Path rewritten = copy(base.resolve("manifest"));
        String m = Files.readString(rewritten.resolve(Handover.MANIFEST));
        Files.writeString(rewritten.resolve(Handover.MANIFEST), m.replaceFirst("\"count\" : \\d+", "\"count\" : 999"));
        assertProblems(rewritten, "signature does not match");

        PublicKey other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
        Handover.Verification v = Handover.verify(out, other);
        assertFalse(v.ok());
        assertTrue(v.problems().toString().contains("not the trusted key"), v.problems()::toString);

        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> handover(b).importFrom(changed, null, OPERATOR, x -> { }));
        assertTrue(refused.getMessage().contains("nothing imported"), refused.getMessage());
    }

    /** Runs the command line as {@code ./mamori} would: exit code, stdout, stderr. */
    private static String[] cli(String... argv) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream e = new java.io.ByteArrayOutputStream();
        int code = jp.mamori.cli.Main.run(List.of(argv), new java.io.PrintStream(o, true, StandardCharsets.UTF_8),
                new java.io.PrintStream(e, true, StandardCharsets.UTF_8), Map.of());
        return new String[]{Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }

    private void assertProblems(Path dir, String expected) throws Exception {
        Handover.Verification v = Handover.verify(dir, null);
        assertFalse(v.ok(), dir.toString());
        assertTrue(v.problems().toString().contains(expected), v.problems()::toString);
    }

    private Path copy(Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    /** A resource as compared: meta.versionId and meta.lastUpdated are the store's own and differ by design. */
    private static JsonNode withoutVersion(JsonNode r) {
        ObjectNode copy = r.deepCopy();
        if (copy.get("meta") instanceof ObjectNode meta) {
            meta.remove("versionId");
            meta.remove("lastUpdated");
            if (meta.isEmpty()) {
                copy.remove("meta");
            }
        }
        return copy;
    }

    private static String created(HttpResponse<String> r) {
        assertEquals(201, r.statusCode(), r::body);
        String[] p = r.headers().firstValue("Location").orElseThrow().split("/");
        return p[p.length - 3];
    }

    private static long entries(TestServer s, String where, Object... params) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Connection c = s.superuserConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE " + where)) {
                for (int j = 0; j < params.length; j++) {
                    ps.setObject(j + 1, params[j]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return rs.getLong(1);
                    }
                }
            }
            Thread.sleep(50);
        }
        return 0;
    }
}
