package jp.mamori.bench;

import static jp.mamori.bench.OptionsTest.print;
import static jp.mamori.bench.OptionsTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Runs Bench against {@link FakeFhirServer} for one second per scenario. */
class BenchEndToEndTest {

    private static final Pattern RESULT = Pattern.compile(
            "bench scenario=(\\w+) concurrency=2 seconds=1 requests=(\\d+) errors=(\\d+) rps=(\\d+\\.\\d)"
                    + " p50=(\\d+\\.\\d\\d)ms p95=(\\d+\\.\\d\\d)ms p99=(\\d+\\.\\d\\d)ms client_cpu_us=(\\d+\\.\\d) base=(\\S+)");

    record Run(int exitCode, String out, String err) {
        Matcher result() {
            String[] lines = out.split("\\R");
            assertEquals(1, lines.length, "exactly one line on out: " + out);
            Matcher matcher = RESULT.matcher(lines[0]);
            assertTrue(matcher.matches(), lines[0]);
            return matcher;
        }
    }

    static Run bench(String base, String scenario, String... extra) {
        List<String> args = new ArrayList<>(List.of("--base", base, "--scenario", scenario,
                "--concurrency", "2", "--seconds", "1", "--warmup", "0", "--patients", "150"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Bench.run(args, print(out), print(err));
        return new Run(code, text(out), text(err));
    }

    @ParameterizedTest
    @EnumSource(Scenario.class)
    void everyScenarioRunsWithoutErrors(Scenario scenario) throws IOException {
        try (FakeFhirServer server = FakeFhirServer.http()) {
            Run run = bench(server.base(), scenario.label(), "--token", "s3cret");

            assertEquals(0, run.exitCode(), run.err());
            Matcher result = run.result();
            assertEquals(scenario.label(), result.group(1));
            assertTrue(Long.parseLong(result.group(2)) > 0, run.out());
            assertEquals("0", result.group(3), run.err());
            assertEquals(server.base(), result.group(9));
            assertTrue(Double.parseDouble(result.group(8)) > 0, "the client's own CPU per request: " + run.out());
            assertFalse(run.err().contains("Exception"), run.err());

            // Every request carried the token; every POST declared FHIR JSON.
            assertEquals(java.util.Set.of("Bearer s3cret"), server.authorizations);
            assertTrue(server.contentTypes.stream().allMatch("application/fhir+json"::equals), server.contentTypes.toString());
            switch (scenario) {
                case CREATE -> {
                    assertTrue(server.count("POST Patient") > 0);
                    assertEquals(java.util.Set.of("return=minimal"), server.prefers);
                }
                case READ -> {
                    assertTrue(server.count("GET Patient/id") > 0);
                    // setup created exactly --patients patients (two bundles: 100 + 50)
                    assertEquals(150, server.idsIssued());
                    assertEquals(2, server.count("POST bundle"));
                    server.readIds.forEach(id -> assertTrue(Integer.parseInt(id) <= 150, id));
                }
                case SEARCH -> {
                    assertTrue(server.count("GET Patient?") > 0);
                    assertTrue(SyntheticPatients.familyNames().containsAll(server.families), server.families.toString());
                }
                case TRANSACTION -> assertTrue(server.count("POST bundle") > 0);
                case MIXED -> assertTrue(server.count("GET Patient/id") > server.count("POST Patient"));
            }
        }
    }

    @Test
    void setupFallsBackToSingleCreatesWhenTransactionsFail() throws IOException {
        try (FakeFhirServer server = new FakeFhirServer(null, false, 200)) {
            Run run = bench(server.base(), "read");

            assertEquals(0, run.exitCode(), run.err());
            assertEquals("0", run.result().group(3));
            assertTrue(run.err().contains("answered HTTP 400 to a transaction bundle"), run.err());
            assertEquals(1, server.count("POST bundle"));
            assertEquals(150, server.count("POST Patient"));
            assertTrue(server.count("GET Patient/id") > 0);
            assertTrue(server.prefers.contains(""), "setup creates do not ask for a minimal answer");
        }
    }

    @Test
    void non2xxAnswersAreErrorsAndTheFirstIsShownOnce() throws IOException {
        try (FakeFhirServer server = new FakeFhirServer(null, true, 500)) {
            Run run = bench(server.base(), "read");

            assertEquals(1, run.exitCode(), "no request succeeded");
            Matcher result = run.result();
            assertEquals(result.group(2), result.group(3), "every request is an error");
            List<String> errorLines = run.err().lines().filter(l -> l.contains("first:")).toList();
            assertEquals(1, errorLines.size(), run.err());
            assertTrue(errorLines.get(0).contains("HTTP 500 from GET /fhir/Patient/"), errorLines.get(0));
            assertTrue(errorLines.get(0).contains("database is on fire"), errorLines.get(0));
        }
    }

    @Test
    void connectionFailureIsOneLineAndExitOne() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Run run = bench("http://127.0.0.1:" + port + "/fhir", "create");

        assertEquals(1, run.exitCode());
        assertEquals("", run.out());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("bench: cannot connect to http://127.0.0.1:" + port + "/fhir: "), run.err());
    }

    @Test
    void twoServersAreMeasuredAlternatelyAndTheRatioIsPrinted() throws IOException {
        try (FakeFhirServer a = FakeFhirServer.http(); FakeFhirServer b = FakeFhirServer.http()) {
            Run run = bench(a.base(), "read", "--token", "ta", "--compare-base", b.base(), "--compare-token", "tb",
                    "--rounds", "2");
            assertEquals(0, run.exitCode(), run.err());
            String[] lines = run.out().split("\\R");
            assertEquals(1, lines.length, run.out());
            Matcher m = Pattern.compile("bench compare scenario=read concurrency=2 seconds=1 rounds=2"
                    + " a_rps=(\\d+\\.\\d) b_rps=(\\d+\\.\\d) ratio=(\\d+\\.\\d\\d) errors=0 a=(\\S+) b=(\\S+)")
                    .matcher(lines[0]);
            assertTrue(m.matches(), lines[0]);
            assertEquals(a.base(), m.group(4));
            assertEquals(b.base(), m.group(5));
            double ratio = Double.parseDouble(m.group(1)) / Double.parseDouble(m.group(2));
            assertEquals(ratio, Double.parseDouble(m.group(3)), 0.01);
            // each side measured once a round, in swapped order, each with its own token and its own patients
            List<String> rounds = run.err().lines().filter(l -> l.startsWith("bench: round ")).toList();
            assertEquals(List.of("1 a", "1 b", "2 b", "2 a"), rounds.stream()
                    .map(l -> l.substring("bench: round ".length(), "bench: round ".length() + 3)).toList());
            assertEquals(java.util.Set.of("Bearer ta"), a.authorizations);
            assertEquals(java.util.Set.of("Bearer tb"), b.authorizations);
            assertEquals(150, a.idsIssued());
            assertEquals(150, b.idsIssued());
        }
    }

    @Test
    void compareOptionsWithoutACompareBaseAreRefused() {
        Run rounds = bench("http://127.0.0.1:1/fhir", "read", "--rounds", "2");
        assertEquals(2, rounds.exitCode());
        assertEquals("bench: --rounds goes with --compare-base\n", rounds.err());
        Run token = bench("http://127.0.0.1:1/fhir", "read", "--compare-token", "x");
        assertEquals(2, token.exitCode());
        assertTrue(token.err().startsWith("bench: --compare-token goes with --compare-base"), token.err());
        assertTrue(Double.isNaN(Bench.median(List.of())), "no measurement, no median");
        assertEquals(2.5, Bench.median(List.of(4.0, 1.0, 3.0, 2.0)), 0.0);
    }
}
