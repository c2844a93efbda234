package jp.mamori.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void parsesAllOptions() {
        Options options = Options.parse(List.of("--base", "https://127.0.0.1:8443/fhir/", "--token", "abc.def",
                "--scenario", "transaction", "--concurrency", "4", "--seconds=10", "--warmup", "0", "--insecure",
                "--patients", "250"));
        assertEquals(new Options("https://127.0.0.1:8443/fhir", "abc.def", Scenario.TRANSACTION, 4, 10, 0, true, 250),
                options);
    }

    @Test
    void appliesDefaults() {
        Options read = Options.parse(List.of("--base", "http://localhost:8080/fhir", "--scenario", "read"));
        assertEquals(16, read.concurrency());
        assertEquals(30, read.seconds());
        assertEquals(5, read.warmup());
        assertEquals(1_000, read.patients());
        assertNull(read.token());
        assertFalse(read.insecure());

        Options search = Options.parse(List.of("--base", "http://localhost:8080/fhir", "--scenario", "search"));
        assertEquals(10_000, search.patients());
    }

    @Test
    void missingBaseIsAUsageError() {
        assertUsageError(List.of("--scenario", "create"),
                "bench: --base is required (e.g. --base https://127.0.0.1:8443/fhir)");
    }

    @Test
    void badScenarioIsAUsageError() {
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "delete"),
                "bench: --scenario must be one of create, read, search, transaction, mixed");
        assertUsageError(List.of("--base", "http://localhost/fhir"),
                "bench: --scenario must be one of create, read, search, transaction, mixed");
    }

    @Test
    void nonNumericConcurrencyIsAUsageError() {
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "read", "--concurrency", "lots"),
                "bench: --concurrency must be a whole number from 1 to 10000, got 'lots'");
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "read", "--concurrency", "0"),
                "bench: --concurrency must be a whole number from 1 to 10000, got '0'");
    }

    @Test
    void otherMistakesAreUsageErrors() {
        assertUsageError(List.of("--base", "ftp://host/fhir", "--scenario", "read"),
                "bench: --base must be an http:// or https:// URL, got 'ftp://host/fhir'");
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "read", "--seconds"),
                "bench: --seconds requires a value");
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "read", "--threads", "3"),
                "bench: unknown option '--threads'");
        assertUsageError(List.of("--base", "http://a/fhir", "--base", "http://b/fhir", "--scenario", "read"),
                "bench: --base given more than once");
        assertUsageError(List.of("--base", "http://localhost/fhir", "--scenario", "read", "--token", "a b"),
                "bench: --token must be printable ASCII without spaces");
    }

    @Test
    void helpPrintsUsage() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, Bench.run(List.of("--help"), print(out), print(err)));
        assertTrue(text(out).startsWith("usage: mamori bench --base URL"));
        assertEquals("", text(err));
    }

    /** Both Options.parse and Bench.run report the same single line, and run returns 2. */
    private static void assertUsageError(List<String> args, String expectedLine) {
        Options.UsageException e = assertThrows(Options.UsageException.class, () -> Options.parse(args));
        assertEquals(expectedLine, "bench: " + e.getMessage());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Bench.run(args, print(out), print(err)));
        assertEquals(expectedLine + System.lineSeparator(), text(err));
        assertEquals("", text(out));
    }

    static PrintStream print(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    static String text(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
