package jp.mamori.store;

import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A database written by a build whose normaliser did not yet remove invisible characters nor fold 異体字 is
 * re-normalised when the new build starts on it: its stored index values then answer the new queries
 * (ADR 0003). The previous build's index is reproduced by writing its values back behind the server's back.
 */
class SearchRenormalisationTest {

    /** As written; the family name's index values as the previous build stored them (norm, exact). */
    private static final Map<String, String[]> OLD = new LinkedHashMap<>();

    static {
        OLD.put("髙橋", new String[]{"髙橋", "髙橋"});
        OLD.put("山\u200B田", new String[]{"山\u200B田", "山\u200B田"});
        OLD.put("葛\uDB40\uDD00飾", new String[]{"葛\uDB40\uDD00飾", "葛\uDB40\uDD00飾"});
        OLD.put("カ\u3099モウ", new String[]{"ガモウ", "カ\u3099モウ"});
    }

    @Test
    void indexValuesOfThePreviousBuildAreReNormalisedAtStart() throws Exception {
        Map<String, String> idents = new LinkedHashMap<>();
        Path data;
        TestServer first = TestServer.start(List.of());
        try {
            data = first.dataDir();
            for (String written : OLD.keySet()) {
                String ident = Patients.uniqueValue();
                var r = first.post("/Patient", Patients.json(ident, written));
                assertEquals(201, r.statusCode(), r.body());
                idents.put(written, ident);
            }
            try (Connection c = first.superuserConnection()) {
                for (var e : OLD.entrySet()) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE sp_string s SET norm = ?, exact = ?"
                            + " FROM sp_token t WHERE t.res_pk = s.res_pk AND t.param = 'identifier' AND t.code = ?"
                            + " AND s.param = 'family'")) {
                        ps.setString(1, e.getValue()[0]);
                        ps.setString(2, e.getValue()[1]);
                        ps.setString(3, idents.get(e.getKey()));
                        assertEquals(1, ps.executeUpdate(), e.getKey());
                    }
                }
                // the previous build had not run the re-normalisation
                c.createStatement().execute("DELETE FROM flyway_schema_history WHERE version IS NULL"
                        + " AND description ILIKE '%search%normal%'");
            }
            String before = first.get("/Patient?family=" + enc("高橋") + "&identifier=" + enc(Patients.SYSTEM + "|"
                    + idents.get("髙橋"))).body();
            assertTrue(before.contains("\"total\":0"), "the old index does not find 髙橋 by 高橋: " + before);
        } finally {
            first.close();
        }

        try (MamoriServer again = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", data.toString(),
                "--port", "0", "--bind", "127.0.0.1"), Map.of()))) {
            HttpClient http = ExternalPostgres.httpClientFor(data);
            String token = again.clients().create("renormalised", "system/*.*", "test").token();
            Map<String, String> queries = Map.of(
                    "髙橋", "family=" + enc("高橋"),
                    "山\u200B田", "family=" + enc("山田"),
                    "葛\uDB40\uDD00飾", "family:exact=" + enc("葛飾"),
                    "カ\u3099モウ", "family:exact=" + enc("ガモウ"));
            for (var q : queries.entrySet()) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(again.baseUrl() + "/Patient?"
                                + q.getValue() + "&identifier=" + enc(Patients.SYSTEM + "|" + idents.get(q.getKey()))))
                        .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token).GET().build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                assertEquals(200, r.statusCode(), r.body());
                assertTrue(r.body().contains("\"total\":1"), q + ": " + r.body());
            }
            try (Connection c = superuser(data);
                 PreparedStatement ps = c.prepareStatement("SELECT s.norm, s.exact FROM sp_string s JOIN sp_token t"
                         + " ON t.res_pk = s.res_pk AND t.param = 'identifier' AND t.code = ? WHERE s.param = 'family'")) {
                ps.setString(1, idents.get("山\u200B田"));
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals("山田", rs.getString(1));
                    assertEquals("山田", rs.getString(2), "the index's exact form drops the invisible character too");
                }
            }
            // the re-normalised rows are what indexing the stored versions gives today: verify-records agrees
            java.util.List<String> mismatches = new java.util.ArrayList<>();
            again.records().verifyAll(m -> mismatches.add(m.toString()));
            assertEquals(List.of(), mismatches);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Connection superuser(Path data) throws Exception {
        String port = Files.readString(data.resolve("runtime").resolve("db-port")).trim();
        String pw = Files.readString(data.resolve("secrets").resolve("db-superuser-password")).trim();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", pw);
    }
}
