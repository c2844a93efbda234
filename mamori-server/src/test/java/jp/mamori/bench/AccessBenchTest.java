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

/** Runs {@code bench access} briefly against a fresh data folder: every run counts operations, finds matches, errs never. */
class AccessBenchTest {

    @Test
    void everyRunCountsOperationsAndNoErrors() throws Exception {
        Path data = TestData.newFolder("bench-acc-");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Bench.run(List.of("access", "--data", data.toString(), "--concurrency", "2", "--seconds", "0.2",
                "--warmup", "0", "--patients", "30", "--related", "12"), print(out), print(err));
        String o = text(out);
        assertEquals(0, code, o + text(err));
        List<String> runs = new ArrayList<>();
        Matcher m = Pattern.compile("^bench access op=([\\w-]+) caller=([a-z-]+) threads=2 ops=(\\d+) errors=(\\d+)"
                + " found=(\\d+) rate=\\d+/s mean=\\S+ p50=\\d+\\.\\d{3}ms p95=\\S+ p99=\\S+$", Pattern.MULTILINE).matcher(o);
        while (m.find()) {
            runs.add(m.group(1) + ":" + m.group(2));
            assertTrue(Long.parseLong(m.group(3)) > 0, m.group());
            assertEquals("0", m.group(4), m.group());
            assertTrue(Long.parseLong(m.group(5)) > 0, m.group());
        }
        assertEquals(List.of("read:system", "read:person-uncached", "read:person-per-request", "read:person-cached",
                "read:permit-all", "search-patient:system", "search-patient:person-uncached",
                "search-patient:person-per-request", "search-patient:person-cached", "search-patient:permit-all",
                "search-code:system", "search-code:person-uncached", "search-code:person-per-request",
                "search-code:person-cached", "search-code:permit-all", "search-code-in-care:system",
                "search-code-in-care:person-uncached", "search-code-in-care:person-per-request",
                "search-code-in-care:person-cached", "search-code-in-care:permit-all"), runs, o);
        assertTrue(Pattern.compile("(?m)^bench access op=read ratio system/permit-all=\\d+\\.\\d{3}"
                + " person-uncached/permit-all=\\d+\\.\\d{3} person-per-request/permit-all=\\d+\\.\\d{3}"
                + " person-cached/permit-all=\\d+\\.\\d{3}$").matcher(o).find(), o);
        assertTrue(o.contains("op=search-patient ratio "), o);
        assertTrue(o.contains("op=search-code ratio "), o);
    }

    @Test
    void theMeasuredTimeIsSecondsWholeOrDecimal() {
        assertEquals(250, AccessBench.AccessOptions.parse(List.of("--data", "x", "--seconds", "0.25")).millis());
        assertEquals(20_000, AccessBench.AccessOptions.parse(List.of("--data", "x")).millis());
        for (String bad : List.of("0.0001", "0.05", "abc", "1e3x", "3601")) {
            Options.UsageException e = org.junit.jupiter.api.Assertions.assertThrows(Options.UsageException.class,
                    () -> AccessBench.AccessOptions.parse(List.of("--data", "x", "--seconds", bad)));
            assertTrue(e.getMessage().startsWith("--seconds must be a number of seconds from 0.1 to 3600"),
                    e.getMessage());
        }
    }

    @Test
    void thePhysiciansPatientsAlternateWithOthers() {
        List<Integer> mine = new ArrayList<>();
        for (int n = 0; n < 2000; n++) {
            if (AccessBench.inCare(n, 2000, 1000)) {
                mine.add(n);
            }
        }
        assertEquals(1000, mine.size());
        for (int i = 0; i < mine.size(); i++) {
            assertEquals(2 * i + 1, mine.get(i), "every other patient");
        }
        int few = 0;
        for (int n = 0; n < 30; n++) {
            few += AccessBench.inCare(n, 30, 12) ? 1 : 0;
        }
        assertEquals(12, few);
    }

    @Test
    void onlyTheChosenOperationsAndCallersRunWithPermitAllAsTheReference() throws Exception {
        Path data = TestData.newFolder("bench-acc-");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Bench.run(List.of("access", "--data", data.toString(), "--concurrency", "1", "--seconds", "0.2",
                "--warmup", "0", "--patients", "20", "--related", "8", "--ops", "search-code",
                "--callers", "person-cached"), print(out), print(err));
        String o = text(out);
        assertEquals(0, code, o + text(err));
        List<String> runs = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^bench access op=([\\w-]+) caller=([a-z-]+) ").matcher(o);
        while (m.find()) {
            runs.add(m.group(1) + ":" + m.group(2));
        }
        assertEquals(List.of("search-code:person-cached", "search-code:permit-all"), runs, o);
        assertTrue(Pattern.compile("(?m)^bench access op=search-code ratio person-cached/permit-all=\\d+\\.\\d{3}$")
                .matcher(o).find(), o);

        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        Path other = data.resolveSibling(data.getFileName() + "-b");
        assertEquals(2, Bench.run(List.of("access", "--data", other.toString(), "--callers", "person-cached,root"),
                print(new ByteArrayOutputStream()), print(err2)));
        assertTrue(text(err2).contains("--callers takes system,person-uncached,person-per-request,person-cached, not root"),
                text(err2));
    }

    @Test
    void aFolderInUseIsRefused() throws Exception {
        Path data = Files.createDirectories(TestData.newFolder("bench-acc-"));
        Files.writeString(data.resolve("something"), "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Bench.run(List.of("access", "--data", data.toString()), print(out), print(err)));
        assertTrue(text(err).contains("not a new, empty folder"), text(err));
    }
}
