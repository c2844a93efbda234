package jp.mamori.bench;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static jp.mamori.bench.OptionsTest.print;
import static jp.mamori.bench.OptionsTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code bench identity} for a second per measurement against the server it starts. */
class IdentityBenchTest {

    @Test
    void everyMeasurementCountsSuccessesAndNoErrors() throws Exception {
        Path data = TestData.newFolder("bench-id-");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Bench.run(List.of("identity", "--data", data.toString(), "--concurrency", "2", "--seconds", "1",
                "--warmup", "0", "--accounts", "12"), print(out), print(err));
        String o = text(out);
        assertEquals(0, code, o + text(err));

        List<String> parts = new ArrayList<>();
        for (String line : o.split("\\R")) {
            Matcher m = Pattern.compile("^bench identity part=([a-z0-9-]+) ").matcher(line);
            assertTrue(m.find(), line);
            parts.add(m.group(1));
        }
        assertEquals(List.of("session-check", "session-check", "session-check-touching", "db-round-trip",
                "http-session", "http-session", "login", "argon2id-verify", "login"), parts, o);
        assertPositive(o, "part=session-check threads=1 calls=(\\d+) errors=0 ");
        assertPositive(o, "part=session-check threads=2 calls=(\\d+) errors=0 ");
        assertPositive(o, "part=session-check-touching threads=1 calls=(\\d+) errors=0 ");
        assertPositive(o, "part=argon2id-verify threads=1 calls=(\\d+) ");
        assertPositive(o, "part=http-session clients=1 requests=(\\d+) errors=0 ");
        assertPositive(o, "part=http-session clients=2 requests=(\\d+) errors=0 ");
        assertPositive(o, "part=login clients=1 logins=(\\d+) errors=0 ");
        assertPositive(o, "part=login clients=2 logins=(\\d+) errors=0 ");
        assertTrue(Pattern.compile("p50=\\d+\\.\\d{3}ms").matcher(o).find(), o);
    }

    @Test
    void aFolderInUseIsRefused() throws Exception {
        Path data = Files.createDirectories(TestData.newFolder("bench-id-"));
        Files.writeString(data.resolve("something"), "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Bench.run(List.of("identity", "--data", data.toString()), print(out), print(err)));
        assertTrue(text(err).contains("not a new, empty folder"), text(err));
        assertEquals(2, Bench.run(List.of("identity"), print(out), print(err)));
        assertEquals(2, Bench.run(List.of("identity", "--data", data.resolve("n").toString(), "--accounts", "5",
                "--concurrency", "4"), print(out), print(err)));
    }

    private static void assertPositive(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertTrue(m.find(), regex + " in\n" + out);
        assertTrue(Long.parseLong(m.group(1)) > 0, m.group());
    }
}
