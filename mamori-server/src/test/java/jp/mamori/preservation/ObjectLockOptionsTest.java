package jp.mamori.preservation;

import jp.mamori.cli.Main;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code --backup-s3-*} options, their deviations, the retention rule and the command's refusals. */
class ObjectLockOptionsTest {
    @TempDir
    Path dir;

    private static ServerConfig parse(String... args) {
        return ServerConfig.fromArgs(List.of(args), Map.of());
    }

    @Test
    void theOptionsHaveSafeDefaultsAndBadValuesAreRefusedInOneLine() {
        assertEquals(Optional.empty(), parse("--data", "/srv/d").backup().s3());
        ServerConfig.BackupOptions.S3 s3 = parse("--data", "/srv/d", "--backup-s3-bucket", "hospital-copies")
                .backup().s3().orElseThrow();
        assertEquals("mamori", s3.prefix());
        assertEquals("ap-northeast-1", s3.region());
        assertEquals(Path.of("/srv/d/secrets/backup-s3-credentials"), s3.credentials());
        assertEquals(26, s3.maxHours());
        assertEquals(Optional.empty(), s3.endpoint());
        assertTrue(parse("--data", "/srv/d", "--backup-s3-bucket", "hospital-copies", "--backup-offline-dir",
                "/mnt/usb").deviations().isEmpty(), "the secure defaults deviate from nothing");
        assertEquals(URI.create("https://s3.example.jp:9000"), parse("--backup-s3-bucket", "b-1",
                "--backup-s3-endpoint", "https://s3.example.jp:9000").backup().s3().orElseThrow().endpoint()
                .orElseThrow());

        List<String> weak = parse("--backup-offline-dir", "/mnt/usb", "--backup-s3-bucket", "b-1",
                "--backup-s3-endpoint", "http://store.example.jp:9000", "--backup-s3-max-hours", "72").deviations();
        assertTrue(weak.stream().anyMatch(d -> d.contains("without TLS")), weak.toString());
        assertTrue(weak.stream().anyMatch(d -> d.contains("72 hours")), weak.toString());
        assertTrue(parse("--backup-offline-dir", "/mnt/usb", "--backup-s3-bucket", "b-1", "--backup-s3-endpoint",
                "http://127.0.0.1:9000").deviations().isEmpty(), "plain HTTP on loopback only is no deviation");

        for (String[] bad : List.of(new String[]{"--backup-s3-bucket", "Bad_Bucket"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-endpoint", "ftp://x"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-endpoint", "https://user:pw@x"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-endpoint", "https://x/?a=b"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-prefix", "../up"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-region", "EU WEST"},
                new String[]{"--backup-s3-bucket", "b-1", "--backup-s3-max-hours", "0"},
                new String[]{"--backup-s3-endpoint", "https://x"})) {
            String m = assertThrows(ConfigException.class, () -> parse(bad), String.join(" ", bad)).getMessage();
            assertFalse(m.contains("\n") || m.contains("pw"), m);
        }
    }

    @Test
    void aBackupIsLockedToTheEndOfTheLongestFinishedGenerationThatKeepsItPlusOnePeriod() {
        var keep = new ServerConfig.BackupOptions.Keep(7, 5, 12, 5);
        ZoneId tokyo = ZoneId.of("Asia/Tokyo");
        Instant t = Instant.parse("2026-12-07T02:00:00.250Z"); // Monday 11:00 in Tokyo, ISO week 2026-W50
        List<String> all = List.of("newest", "daily 2026-12-07", "weekly 2026-W50", "monthly 2026-12", "yearly 2026");
        // while its week, month and year run, the newest backup is locked for the daily window only
        assertEquals(Instant.parse("2026-12-15T02:00:01Z"), ObjectLockCopy.retainUntil(t, all, keep, tokyo, t));
        assertEquals(Instant.parse("2026-12-15T02:00:01Z"), ObjectLockCopy.retainUntil(t, List.of(), keep, tokyo, t));
        // the week over (Monday of W51 in Tokyo): the keeper of W50 for 6 weeks
        Instant nextWeek = Instant.parse("2026-12-13T15:00:00Z");
        assertEquals(t.plusSeconds(6L * 7 * 86400).plusMillis(750), ObjectLockCopy.retainUntil(t, all, keep, tokyo,
                nextWeek));
        // the year over: the keeper of 2026 for 6 years (of 366 days)
        Instant nextYear = Instant.parse("2026-12-31T15:00:00Z");
        assertEquals(t.plusSeconds(6L * 366 * 86400).plusMillis(750), ObjectLockCopy.retainUntil(t, all, keep, tokyo,
                nextYear));
        assertEquals(Instant.parse("2026-12-15T02:00:01Z"), ObjectLockCopy.retainUntil(t, List.of("daily 2026-12-07"),
                keep, tokyo, nextYear));
    }

    @Test
    void theCommandRefusesInOneLineWithoutABucketOrWithABadEndpoint() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(List.of("backup", "s3", "--data", dir.toString()), new PrintStream(out), new PrintStream(err,
                true, StandardCharsets.UTF_8), Map.of());
        assertEquals(2, rc);
        String e = err.toString(StandardCharsets.UTF_8).strip();
        assertTrue(e.contains("--backup-s3-bucket") && !e.contains("\n"), e);
        err.reset();
        rc = Main.run(List.of("backup", "drill", "--data", dir.toString(), "--from", "tape"), new PrintStream(out),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--from"), err.toString(StandardCharsets.UTF_8));
    }
}
