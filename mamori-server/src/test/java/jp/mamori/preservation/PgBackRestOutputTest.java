package jp.mamori.preservation;

import jp.mamori.config.ServerConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Mamori reads from pgBackRest (2.45's {@code info --output=json}, {@code verify --output=text}, its error lines)
 * and decides from it (the backup type, how to run the drill's pg_ctl), without a cluster: hostile or cut output is
 * one line, never an exception trace.
 */
class PgBackRestOutputTest {
    private static final String INFO = """
            [{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000005",
              "min":"000000010000000000000001"}],
              "backup":[{"archive":{"start":"000000010000000000000002","stop":"000000010000000000000003"},
                "error":false,"info":{"repository":{"delta":3069216,"size":3069216},"size":22992580},
                "label":"20261207-020026F","timestamp":{"start":1796608826,"stop":1796608829},"type":"full"},
               {"archive":{"start":"000000010000000000000004","stop":"000000010000000000000004"},"error":false,
                "info":{"repository":{"size":1000},"size":22992580},"label":"20261207-020026F_20261207-020032D",
                "timestamp":{"start":1796608832,"stop":1796608834},"type":"diff"},
               {"error":false,"label":"--target=x","timestamp":{"start":1796608840,"stop":1796608841},"type":"incr"}],
              "cipher":"aes-256-cbc","db":[{"id":1,"repo-key":1,"system-id":7716376140963964736,"version":"15"}],
              "name":"mamori","repo":[{"cipher":"aes-256-cbc","key":1,"status":{"code":0,"message":"ok"}}],
              "status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]""";

    @Test
    void infoIsReadForBackupsTheWalRangeTheCipherAndTheVersion() {
        PgBackRest.Info i = PgBackRest.Info.parse(INFO, "mamori");
        assertEquals(3, i.backups().size());
        assertEquals("20261207-020026F_20261207-020032D", i.newest().orElseThrow().label(),
                "the newest good one: a label that is not pgBackRest's own form is never used");
        assertTrue(i.backups().get(2).error());
        assertEquals(Instant.ofEpochSecond(1796608834), i.newest().orElseThrow().stop());
        assertEquals(Optional.of("000000010000000000000001"), i.walMin());
        assertEquals(Optional.of("000000010000000000000005"), i.walMax());
        assertEquals("15", i.pgVersion());
        assertTrue(i.encrypted());
        assertFalse(PgBackRest.Info.parse(INFO.replace("\"cipher\":\"aes-256-cbc\",\"key\"", "\"cipher\":\"none\",\"key\""),
                "mamori").encrypted(), "one unencrypted repository is enough");
        BackupException other = assertThrows(BackupException.class, () -> PgBackRest.Info.parse(INFO, "other"));
        assertTrue(other.getMessage().contains("no stanza"), other.getMessage());
        for (String bad : List.of("", "[{\"name\":", "{}", "\u0000", "[1,2,3]")) {
            BackupException e = assertThrows(BackupException.class, () -> PgBackRest.Info.parse(bad, "mamori"));
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void verifysSummaryIsReadBecauseItExitsZeroAlsoWhenFilesAreInvalid() {
        assertEquals(List.of(), PgBackRest.verifySummary("""
                stanza: mamori
                status: ok
                  backup: 20261207-020026F, status: valid, total files checked: 964, total valid files: 964
                """));
        List<String> bad = PgBackRest.verifySummary("""
                stanza: mamori
                status: error
                  backup: 20261207-020026F, status: invalid, total files checked: 964, total valid files: 963
                    checksum invalid: 1
                  backup: 20261207-020026F_20261207-020032D, status: valid, total files checked: 5, total valid files: 5
                """);
        assertEquals(2, bad.size(), bad.toString());
        assertTrue(bad.get(0).contains("stanza status error"), bad.get(0));
        assertTrue(bad.get(1).contains("20261207-020026F, status: invalid") && bad.get(1).contains("checksum invalid: 1"),
                bad.get(1));
        assertEquals(1, PgBackRest.verifySummary("nothing useful").size());
    }

    @Test
    void anErrorIsPgBackRestsFirstErrorLine() {
        String p = PgBackRest.problem("check", new PgBackRest.Ran(56, "", """
                WARN: unable to check pg1: [DbConnectError] unable to connect
                ERROR: [056]: unable to find primary cluster - cannot proceed
                       HINT: are all available clusters in recovery?
                """));
        assertEquals("pgBackRest check に失敗しました / pgBackRest check failed (error 056: unable to find primary"
                + " cluster - cannot proceed)", p);
        String q = PgBackRest.problem("info", new PgBackRest.Ran(1, "", "x".repeat(10_000)));
        assertTrue(q.length() < 400 && q.lines().count() == 1, q);
    }

    @Test
    void fullOnSundaysAndWhenNoneIsAWeekOldElseDifferential() {
        ZoneId tokyo = ZoneId.of("Asia/Tokyo");
        Instant wednesday = Instant.parse("2026-12-09T03:00:00Z");
        Instant sunday = Instant.parse("2026-12-13T03:00:00Z");
        PgBackRest.Backup full = new PgBackRest.Backup("20261207-020026F", "full", wednesday.minusSeconds(86_400 * 2),
                wednesday.minusSeconds(86_400 * 2), 1, 1, null, null, false);
        PgBackRest.Info withFull = new PgBackRest.Info(0, "ok", "aes-256-cbc", "15", List.of(full), Optional.empty(),
                Optional.empty());
        PgBackRest.Info none = new PgBackRest.Info(0, "ok", "aes-256-cbc", "15", List.of(), Optional.empty(),
                Optional.empty());
        assertEquals("full", engine(wednesday, tokyo).typeFor(none));
        assertEquals("diff", engine(wednesday, tokyo).typeFor(withFull));
        assertEquals("full", engine(sunday, tokyo).typeFor(withFull));
        assertEquals("full", engine(wednesday.plusSeconds(86_400 * 6), tokyo).typeFor(withFull), "a week old");
    }

    @Test
    void theDrillRunsPgCtlThroughTheSameUserSwitchButNotOverSsh() {
        assertEquals(Optional.of(List.of("sudo", "-u", "postgres")),
                new PgBackRest(List.of("sudo", "-u", "postgres", "pgbackrest"), "s", Optional.empty()).wrapper());
        assertEquals(Optional.of(List.of()), new PgBackRest(List.of("/usr/bin/pgbackrest"), "s", Optional.empty())
                .wrapper());
        assertEquals(Optional.empty(), new PgBackRest(List.of("ssh", "db-host", "pgbackrest"), "s", Optional.empty())
                .wrapper());
        assertEquals(Optional.empty(), new PgBackRest(List.of("my-wrapper"), "s", Optional.empty()).wrapper());
        assertEquals(List.of("pgbackrest", "--config=/etc/pb.conf", "--stanza=s", "--log-level-console=warn",
                "--log-level-stderr=error", "check"), new PgBackRest(List.of("pgbackrest"), "s",
                Optional.of(Path.of("/etc/pb.conf"))).commandLine("check"));
        assertEquals("mamori", PgBackRestBackups.databaseName("jdbc:postgresql://db:5432/mamori?ssl=true"));
    }

    private static PgBackRestBackups engine(Instant now, ZoneId zone) {
        Path data = Path.of("target", "no-such-data");
        return new PgBackRestBackups(data, ServerConfig.BackupOptions.defaults(data), ServerConfig.PgBackRestOptions.NONE,
                new ServerConfig.Database(Optional.of("jdbc:postgresql://h/db"), Optional.empty(), Optional.empty(),
                        Optional.empty()), new PgBackRest(List.of("pgbackrest"), "s", Optional.empty()), null,
                Clock.fixed(now, ZoneOffset.UTC), zone);
    }
}
