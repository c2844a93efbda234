package jp.mamori.bench;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static jp.mamori.bench.OptionsTest.print;
import static jp.mamori.bench.OptionsTest.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code bench audit} briefly against a fresh data folder and checks what it prints. */
class AuditBenchTest {

    private static Matcher line(String regex, String text) {
        Matcher m = Pattern.compile("(?m)^" + regex + "$").matcher(text);
        assertTrue(m.find(), "no line /" + regex + "/ in:\n" + text);
        return m;
    }

    @Test
    void appendsTheFhirScenariosAndTheSizeAreReported() throws Exception {
        Path data = TestData.newFolder("bench-audit-");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Bench.run(List.of("audit", "--data", data.toString(), "--threads", "4", "--seconds", "1",
                "--warmup", "0", "--concurrency", "2", "--read-patients", "5", "--search-patients", "5"),
                print(out), print(err));
        String o = text(out);
        assertEquals(0, code, o + text(err));

        Matcher a = line("bench audit op=append threads=4 seconds=1 appends=(\\d+) errors=0 rate=\\d+/s"
                + " transactions=(\\d+) entries/tx=(\\d+\\.\\d) p50=\\d+\\.\\d{3}ms p95=\\S+ p99=\\S+", o);
        long appends = Long.parseLong(a.group(1));
        long transactions = Long.parseLong(a.group(2));
        assertTrue(appends > 0 && transactions > 0 && transactions <= appends, a.group());

        for (String scenario : List.of("read", "search")) {
            Matcher r = line("bench scenario=" + scenario + " concurrency=2 seconds=1 requests=(\\d+) errors=0 rps=\\S+"
                    + " p50=\\S+ p95=\\S+ p99=\\S+ client_cpu_us=\\S+ base=\\(this server, auditing on\\)", o);
            long requests = Long.parseLong(r.group(1));
            Matcher h = line("bench audit op=http-" + scenario + " entries=(\\d+) transactions=(\\d+) entries/tx=\\S+", o);
            assertTrue(Long.parseLong(h.group(1)) >= requests, "every request made an entry: " + h.group()
                    + " after " + r.group());
        }

        Matcher s = line("bench audit op=size entries=(\\d+) audit_log\\+audit_report=(\\d+) bytes \\(heap \\d+, indexes \\d+\\)"
                + " per-entry=(\\d+) bytes canonical-entry=(\\d+) bytes all-audit-tables=(\\d+) bytes", o);
        assertTrue(Long.parseLong(s.group(1)) >= appends, s.group());
        assertTrue(Long.parseLong(s.group(3)) > Long.parseLong(s.group(4)), "a row costs more than its entry: "
                + s.group());
        assertTrue(Long.parseLong(s.group(5)) >= Long.parseLong(s.group(2)), s.group());
    }

    @Test
    void aFolderInUseIsRefused() throws Exception {
        Path data = Files.createDirectories(TestData.newFolder("bench-audit-"));
        Files.writeString(data.resolve("something"), "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, Bench.run(List.of("audit", "--data", data.toString()), print(out), print(err)));
        assertTrue(text(err).contains("not a new, empty folder"), text(err));
    }
}
