package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The last drill read back from {@code backup/drills.log} as {@link Backups#drill} writes it; anything else passed over. */
class DrillLogTest {
    private static final String PASS = "2026-12-06T17:00:01.250Z pass {backup=20261206T170000123Z, restore_ms=4012,"
            + " total_ms=7311, data_age_s=93, findings=0}";
    private static final String FAIL = "2026-12-07T17:00:00Z FAIL {backup=20261207T170000000Z, restore_ms=3000,"
            + " total_ms=5000, data_age_s=61, findings=3, first=件数が目録と違います {x=1, y=2} / counts differ, {x=1}}";
    private static final String NONE = "2026-12-08T17:00:00Z FAIL {backup=null, restore_ms=0, total_ms=12,"
            + " data_age_s=0, findings=1, first=復元できるバックアップがありません / there is no finished backup to restore}";

    private static Path log(String... lines) throws Exception {
        Path f = Files.createDirectories(TestData.newFolder("drill-log-")).resolve("drills.log");
        Files.writeString(f, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void aPassedDrillIsReadWithItsMeasuredTimes() throws Exception {
        DrillLog.Drill d = DrillLog.read(log(PASS)).orElseThrow();
        assertEquals(Instant.parse("2026-12-06T17:00:01.250Z"), d.at());
        assertTrue(d.passed());
        assertEquals(Optional.of("20261206T170000123Z"), d.backupId());
        assertEquals(Duration.ofMillis(4012), d.restore());
        assertEquals(Duration.ofMillis(7311), d.total());
        assertEquals(Duration.ofSeconds(93), d.dataAge());
        assertEquals(0, d.findingCount());
        assertEquals(List.of(), d.findings());
    }

    @Test
    void aDrillOfACopyElsewhereIsReadBackLikeAnyOtherWrittenTheSameWay() throws Exception {
        Path dir = TestData.newFolder("drill-log-s3-");
        Instant at = Instant.parse("2026-12-07T02:00:00Z");
        DrillLog.append(dir, at, true, DrillLog.detail("20261207T010000000Z", Optional.of("s3"),
                java.time.Duration.ofMillis(1500), java.time.Duration.ofMillis(9000), java.time.Duration.ofSeconds(4),
                java.util.List.of()));
        DrillLog.Drill d = DrillLog.read(dir.resolve("backup").resolve("drills.log")).orElseThrow();
        assertEquals(at, d.at());
        assertEquals(Optional.of("20261207T010000000Z"), d.backupId());
        assertEquals(1500, d.restore().toMillis());
        assertTrue(d.passed());
    }

    @Test
    void theLastDrillWinsAndAFailedOneKeepsItsFirstFindingWhateverItHolds() throws Exception {
        DrillLog.Drill d = DrillLog.read(log(PASS, FAIL)).orElseThrow();
        assertFalse(d.passed());
        assertEquals(3, d.findingCount());
        assertEquals(List.of("件数が目録と違います {x=1, y=2} / counts differ, {x=1}"), d.findings());
        DrillLog.Drill none = DrillLog.read(log(PASS, FAIL, NONE)).orElseThrow();
        assertEquals(Optional.empty(), none.backupId(), "no backup was there to restore");
    }

    @Test
    void linesThatAreNotDrillsArePassedOverAndNoLogIsNoDrill() throws Exception {
        assertEquals(Optional.empty(), DrillLog.read(TestData.newFolder("drill-log-").resolve("drills.log")));
        assertEquals(Optional.empty(), DrillLog.read(log("", "garbage", "2026-13-45T00:00:00Z pass {backup=x}")));
        for (String bad : List.of(
                PASS.replace(" pass ", " FAIL "),                      // failed without a finding
                FAIL.replace(" FAIL ", " pass "),                      // passed with findings
                PASS.replace("restore_ms=4012", "restore_ms=-1"),
                PASS.replace("20261206T170000123Z", "../../etc/passwd"),
                PASS.replace("2026-12-06T17:00:01.250Z", "yesterday"),
                PASS.substring(0, PASS.length() - 1))) {                // cut
            assertEquals(Optional.of(Instant.parse("2026-12-06T17:00:01.250Z")),
                    DrillLog.read(log(PASS, bad)).map(DrillLog.Drill::at), bad);
        }
    }

    @Test
    void onlyTheEndOfAHugeLogIsRead() throws Exception {
        Path f = log(PASS);
        Files.writeString(f, "x".repeat(3 * DrillLog.TAIL_BYTES) + "\n" + FAIL + "\n",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(3, DrillLog.read(f).orElseThrow().findingCount());
        Files.writeString(f, "y".repeat(2 * DrillLog.TAIL_BYTES) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        assertEquals(Optional.empty(), DrillLog.read(f), "a drill line beyond the tail is not looked for");
    }
}
