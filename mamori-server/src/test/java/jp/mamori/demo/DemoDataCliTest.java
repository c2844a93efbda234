package jp.mamori.demo;

import jp.mamori.cli.Main;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoDataCliTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badArgumentsAreRefusedInOneLineBeforeTouchingTheDatabase() {
        for (String[] argv : List.of(new String[]{"demo-data", "--data", "nowhere", "--patients", "0"},
                new String[]{"demo-data", "--data", "nowhere", "--patients", "many"},
                new String[]{"demo-data", "--data", "nowhere", "--seed", "x"},
                new String[]{"demo-data", "--data", "nowhere", "--notes-per-patient", "-1"},
                new String[]{"demo-data", "--data", "nowhere", "--wat", "1"})) {
            Run r = run(argv);
            assertEquals(2, r.code(), String.join(" ", argv) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.out().isEmpty());
        }
        Run missing = run("demo-data", "--data", "target/no-such-folder");
        assertEquals(2, missing.code(), missing.err());
    }

    @Test
    void demoPatientsAreWrittenThroughTheStoreAndReadableOverTheApi() throws Exception {
        try (TestServer s = TestServer.start(List.of())) {
            Run r = run("demo-data", "--data", s.dataDir().toString(), "--patients", "6", "--seed", "77");
            assertEquals(0, r.code(), r.err());
            List<String> lines = r.out().lines().toList();
            assertTrue(lines.get(0).matches("demo-data: 6 synthetic patients, \\d+ resources \\(\\d+ notes amended\\) in .*"),
                    r.out());
            // Patients to try: their patient IDs (as every banner shows them), names in kanji and kana, birth date
            // and department, no internal id; then today's patients per department.
            List<String> samples = lines.stream().filter(l -> l.matches("  9077\\d{6}  .*")).toList();
            assertEquals(6, samples.size(), r.out());
            for (String l : samples) {
                assertTrue(l.matches("  9077\\d{6}  \\S+\u3000\\S+  [\\p{InKatakana}ー]+\u3000[\\p{InKatakana}ー]+  \\d{4}-\\d{2}-\\d{2}"
                        + "  (内科|外科|小児科|整形外科|精神科)(  (入院中 \\S+|外来 \\d{1,2}:\\d{2}))?"), l);
            }
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("本日の外来・入院 / in hospital today: ")), r.out());
            HttpResponse<String> found = s.get("/Patient?identifier="
                    + URLEncoder.encode(DemoGenerator.IDENTIFIER_SYSTEM + "|9077000003", StandardCharsets.UTF_8));
            assertEquals(200, found.statusCode(), found.body());
            assertTrue(found.body().contains("\"total\":1") || found.body().contains("9077000003"), found.body());
            assertTrue(found.body().contains("synthetic"), found.body());
            HttpResponse<String> notes = s.get("/Composition?_tag="
                    + URLEncoder.encode(DemoGenerator.ORIGIN_SYSTEM + "|synthetic", StandardCharsets.UTF_8) + "&_count=200");
            assertEquals(200, notes.statusCode(), notes.body());
            assertTrue(notes.body().contains("11506-3"), notes.body());
            // A chart larger than one transaction: references and amendments cross transaction boundaries.
            Run big = run("demo-data", "--data", s.dataDir().toString(), "--patients", "2", "--seed", "78",
                    "--observations-per-patient", "450", "--notes-per-patient", "40");
            assertEquals(0, big.code(), big.err());
            HttpResponse<String> obs = s.get("/Observation?_summary=count&code="
                    + URLEncoder.encode("http://loinc.org|4548-4", StandardCharsets.UTF_8));
            assertEquals(200, obs.statusCode(), obs.body());
            Run verify = run("verify-records", "--data", s.dataDir().toString());
            assertEquals(0, verify.code(), verify.out() + verify.err());
        }
    }
}
