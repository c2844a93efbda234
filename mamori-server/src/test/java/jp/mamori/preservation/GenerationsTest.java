package jp.mamori.preservation;

import jp.mamori.config.ServerConfig.BackupOptions;
import jp.mamori.config.ServerConfig.BackupOptions.Keep;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generations: which backups a retention policy keeps, which WAL it still needs, and deleting the rest. */
class GenerationsTest {
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    @Test
    void aYearOfDailyBackupsKeepsTwentyTwoDistinctOnesUnderTheDefaults() {
        // One backup at 02:00 Japan time (17:00 UTC the day before) on each of 365 days, 2025-12-07 .. 2026-12-06
        // (a Sunday, the end of ISO week 2026-W49); now is 2026-12-06 12:00.
        List<Generations.Kept> year = new ArrayList<>();
        for (LocalDate d = LocalDate.of(2025, 12, 7); !d.isAfter(LocalDate.of(2026, 12, 6)); d = d.plusDays(1)) {
            year.add(at(d, 2));
        }
        Collections.shuffle(year, new java.util.Random(16)); // the plan does not depend on the list's order
        Generations.Plan plan = Generations.plan(year, Keep.DEFAULT, JST, jst(2026, 12, 6, 12));
        // Each rule counts its own periods, so the newest backup is kept by all four and the sets overlap:
        //   daily   7: 11-30 .. 12-06                                                 7
        //   weekly  5: W49 (12-06, daily), W48 11-29, W47 11-22, W46 11-15, W45 11-08    + 4
        //   monthly 12: 2026-12 (12-06), 2026-11 (11-30, daily), 10-31, 09-30, 08-31, 07-31, 06-30, 05-31,
        //               04-30, 03-31, 02-28, 01-31 (2025-12 is the 13th month, beyond 12)      + 10
        //   yearly  5: 2026 (12-06), 2025 (2025-12-31); no older year has a backup      + 1
        // = 22 distinct backups (7+5+12+5 = 29 mentions with 7 overlaps), the other 343 deleted.
        Set<String> expected = new TreeSet<>();
        for (int day = 30; day <= 36; day++) {
            expected.add(id(LocalDate.of(2026, 11, 1).plusDays(day - 1)));
        }
        for (String d : List.of("2026-11-29", "2026-11-22", "2026-11-15", "2026-11-08", "2026-10-31", "2026-09-30",
                "2026-08-31", "2026-07-31", "2026-06-30", "2026-05-31", "2026-04-30", "2026-03-31", "2026-02-28",
                "2026-01-31", "2025-12-31")) {
            expected.add(id(LocalDate.parse(d)));
        }
        assertEquals(22, expected.size());
        assertEquals(expected, new TreeSet<>(plan.kept().keySet()));
        assertEquals(365 - 22, plan.deleted().size());
        assertTrue(Collections.disjoint(plan.kept().keySet(), plan.deleted()));
        // Periods are Japan's: the newest was taken at 17:00 UTC on 12-05, which is 02:00 on 12-06 in Tokyo.
        assertEquals(List.of("newest", "daily 2026-12-06", "weekly 2026-W49", "monthly 2026-12", "yearly 2026",
                "younger than 24 h"), plan.kept().get(id(LocalDate.of(2026, 12, 6))));
        assertEquals(List.of("yearly 2025"), plan.kept().get(id(LocalDate.of(2025, 12, 31))));
        assertEquals(List.of("weekly 2026-W48"), plan.kept().get(id(LocalDate.of(2026, 11, 29))));
        assertEquals(List.of("daily 2026-11-30", "monthly 2026-11"), plan.kept().get(id(LocalDate.of(2026, 11, 30))));
    }

    @Test
    void weeklyKeepsTheNewestOfEachOfTheLastWeeksThatHaveOne() {
        // Weeks 2026-W48 and W46 have no backup: the 3 weekly generations reach back to W45, not W47.
        List<Generations.Kept> b = List.of(at(LocalDate.of(2026, 12, 6), 2), at(LocalDate.of(2026, 12, 1), 2),
                at(LocalDate.of(2026, 11, 18), 2), at(LocalDate.of(2026, 11, 20), 2), at(LocalDate.of(2026, 11, 3), 2),
                at(LocalDate.of(2026, 10, 27), 2));
        Generations.Plan plan = Generations.plan(b, new Keep(1, 3, 0, 0), JST, jst(2026, 12, 6, 12));
        assertEquals(Map.of(id(LocalDate.of(2026, 12, 6)), List.of("newest", "daily 2026-12-06", "weekly 2026-W49",
                        "younger than 24 h"),
                id(LocalDate.of(2026, 11, 20)), List.of("weekly 2026-W47"),
                id(LocalDate.of(2026, 11, 3)), List.of("weekly 2026-W45")), plan.kept());
        assertEquals(Set.of(id(LocalDate.of(2026, 12, 1)), id(LocalDate.of(2026, 11, 18)),
                id(LocalDate.of(2026, 10, 27))), Set.copyOf(plan.deleted()));
    }

    @Test
    void anIsoWeekAcrossNewYearIsOneWeek() {
        // 2026-12-28 (Mon) .. 2027-01-03 (Sun) is ISO week 2026-W53; 2027-01-04 starts 2027-W01.
        List<Generations.Kept> b = List.of(at(LocalDate.of(2026, 12, 28), 2), at(LocalDate.of(2026, 12, 31), 2),
                at(LocalDate.of(2027, 1, 3), 2), at(LocalDate.of(2027, 1, 4), 2));
        Generations.Plan plan = Generations.plan(b, new Keep(1, 2, 0, 0), JST, jst(2027, 1, 6, 12));
        assertEquals(List.of("weekly 2026-W53"), plan.kept().get(id(LocalDate.of(2027, 1, 3))));
        assertEquals(List.of(id(LocalDate.of(2026, 12, 31)), id(LocalDate.of(2026, 12, 28))), plan.deleted());
    }

    @Test
    void aBackupYoungerThanADayIsAlwaysKept() {
        Instant now = jst(2026, 12, 6, 12);
        List<Generations.Kept> b = List.of(kept("b-1h", now.minus(Duration.ofHours(1)), 10),
                kept("b-2h", now.minus(Duration.ofHours(2)), 9),
                kept("b-23h", now.minus(Duration.ofHours(23).plusMinutes(59)), 8),
                kept("b-25h", now.minus(Duration.ofHours(25)), 7));
        Generations.Plan plan = Generations.plan(b, new Keep(1, 0, 0, 0), JST, now);
        assertEquals(List.of("newest", "daily 2026-12-06", "younger than 24 h"), plan.kept().get("b-1h"));
        assertEquals(List.of("younger than 24 h"), plan.kept().get("b-2h"));
        assertEquals(List.of("younger than 24 h"), plan.kept().get("b-23h"), "12:01 yesterday: not a day old yet");
        assertEquals(List.of("b-25h"), plan.deleted());
        // A backup dated after now (a clock set back) is never deleted either.
        Generations.Plan skewed = Generations.plan(List.of(kept("future", now.plus(Duration.ofDays(3)), 11),
                kept("today", now.minus(Duration.ofHours(1)), 10)), new Keep(1, 0, 0, 0), JST, now);
        assertEquals(Set.of("future", "today"), skewed.kept().keySet());
    }

    @Test
    void theNewestIsAlwaysKeptEvenWhenOldAndTiesAreDecidedByIdNotOrder() {
        Instant old = Instant.parse("2020-01-01T00:00:00Z");
        Instant now = Instant.parse("2026-12-06T03:00:00Z");
        List<Generations.Kept> b = List.of(kept("a", old.minusSeconds(3600), 1), kept("b", old, 2),
                kept("c", old, 3));
        for (List<Generations.Kept> order : List.of(b, b.reversed())) {
            Generations.Plan plan = Generations.plan(order, new Keep(1, 0, 0, 0), JST, now);
            assertEquals(Map.of("c", List.of("newest", "daily 2020-01-01")), plan.kept());
            assertEquals(List.of("b", "a"), plan.deleted());
        }
        assertEquals(Map.of(), Generations.plan(List.of(), Keep.DEFAULT, JST, now).kept());
    }

    @Test
    void yearlyKeepsFiveYears() {
        // One backup on the 15th of every month for eight years, 2019-01 .. 2026-12; only yearly generations.
        List<Generations.Kept> b = new ArrayList<>();
        for (LocalDate d = LocalDate.of(2019, 1, 15); d.getYear() <= 2026; d = d.plusMonths(1)) {
            b.add(at(d, 2));
        }
        Generations.Plan plan = Generations.plan(b, new Keep(1, 0, 0, 5), JST, jst(2026, 12, 20, 12));
        // The newest (2026-12-15, also daily) and the December backups of 2025, 2024, 2023, 2022.
        assertEquals(List.of(id(LocalDate.of(2026, 12, 15)), id(LocalDate.of(2025, 12, 15)),
                id(LocalDate.of(2024, 12, 15)), id(LocalDate.of(2023, 12, 15)), id(LocalDate.of(2022, 12, 15))),
                List.copyOf(plan.kept().keySet()));
        assertEquals(List.of("newest", "daily 2026-12-15", "yearly 2026"), plan.kept().get(id(LocalDate.of(2026, 12,
                15))));
        assertEquals(96 - 5, plan.deleted().size());
    }

    @Test
    void keepOneDailyKeepsOnlyTheNewestAndTheYoung() {
        List<Generations.Kept> b = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            b.add(at(LocalDate.of(2026, 11, 20).plusDays(i), 2)); // 11-20 .. 11-29 02:00
        }
        Generations.Plan plan = Generations.plan(b, new Keep(1, 0, 0, 0), JST, jst(2026, 11, 30, 9));
        assertEquals(Set.of(id(LocalDate.of(2026, 11, 29))), plan.kept().keySet(), "31 h after the newest");
        assertEquals(9, plan.deleted().size());
        // Two more taken this morning: the newest is kept by the rule, the other for being young; 11-29 02:00 is
        // 31 h old and goes.
        b.add(kept("morning-1", jst(2026, 11, 30, 3), 40));
        b.add(kept("morning-2", jst(2026, 11, 30, 6), 41));
        Generations.Plan young = Generations.plan(b, new Keep(1, 0, 0, 0), JST, jst(2026, 11, 30, 9));
        assertEquals(Map.of("morning-2", List.of("newest", "daily 2026-11-30", "younger than 24 h"),
                "morning-1", List.of("younger than 24 h")), young.kept());
        assertEquals(10, young.deleted().size());
    }

    @Test
    void walBeforeTheOldestDailyBackupsStartIsDroppedAndHistoriesAreKept() {
        // Daily backups on 11-28 (timeline 1, segment 1C) and 11-29 (1, 1D); a point-in-time recovery on the 29th
        // evening promoted timeline 2 at segment 1E, and the 11-30 backup started on (2, 1F). A monthly backup of
        // 10-15 started at (1, 01): it restores on its own and needs no shipped WAL.
        List<Generations.Kept> b = List.of(kept("oct", jst(2026, 10, 15, 2), 0x01),
                kept("d28", jst(2026, 11, 28, 2), 0x1C), kept("d29", jst(2026, 11, 29, 2), 0x1D),
                new Generations.Kept("d30", jst(2026, 11, 30, 2), seg(2, 0, 0x1F)));
        Generations.Plan plan = Generations.plan(b, new Keep(3, 0, 12, 0), JST, jst(2026, 11, 30, 12));
        assertEquals(Set.of("oct", "d28", "d29", "d30"), plan.kept().keySet());
        assertEquals(List.of(seg(1, 0, 0x1C), seg(1, 0, 0x1D), seg(2, 0, 0x1F)), plan.walNeededFrom());
        List<String> shipped = new ArrayList<>();
        for (int s = 0x01; s <= 0x1E; s++) {
            shipped.add(seg(1, 0, s));
        }
        for (int s = 0x1E; s <= 0x22; s++) {
            shipped.add(seg(2, 0, s));
        }
        String partial = seg(1, 0, 0x1E) + ".partial";
        String oldBackupFile = seg(1, 0, 0x10) + ".00000028.backup";
        String newBackupFile = seg(1, 0, 0x1C) + ".00000028.backup";
        shipped.addAll(List.of(partial, oldBackupFile, newBackupFile, "00000002.history", "00000003.history",
                "../../etc/passwd", "README", ".hidden"));
        List<String> drop = plan.walToDelete(shipped);
        List<String> expected = new ArrayList<>();
        for (int s = 0x01; s < 0x1C; s++) {
            expected.add(seg(1, 0, s));
        }
        expected.add(oldBackupFile);
        assertEquals(new TreeSet<>(expected), new TreeSet<>(drop));
        assertEquals(expected.size(), drop.size());
        for (String kept : List.of(partial, newBackupFile, "00000002.history", "00000003.history", seg(1, 0, 0x1C),
                seg(2, 0, 0x1E), "README")) {
            assertFalse(drop.contains(kept), kept);
        }
    }

    @Test
    void walSegmentsCompareByTheirWholeNumberAcrossTheLogIdBoundary() {
        Generations.Plan plan = Generations.plan(List.of(new Generations.Kept("only", jst(2026, 11, 30, 2),
                seg(1, 1, 0x02))), Keep.DEFAULT, JST, jst(2026, 11, 30, 12));
        assertEquals(List.of(seg(1, 0, 0xFF), seg(1, 1, 0x01)), plan.walToDelete(List.of(seg(1, 0, 0xFF),
                seg(1, 1, 0x01), seg(1, 1, 0x02), seg(1, 1, 0x03), seg(1, 2, 0x00), seg(2, 1, 0x02))));
        // On a later timeline but before the start: not reachable from the backup.
        assertEquals(List.of(seg(2, 0, 0xFF)), plan.walToDelete(List.of(seg(2, 0, 0xFF))));
        // No backup at all: no anchor, so no WAL is deleted.
        assertEquals(List.of(), Generations.plan(List.of(), Keep.DEFAULT, JST, jst(2026, 11, 30, 12))
                .walToDelete(List.of(seg(1, 0, 1))));
    }

    @Test
    void badBackupsAreRefusedInOneLine() {
        Instant t = jst(2026, 11, 30, 2);
        for (String id : new String[] {"../x", "a/b", "", ".hidden", "x".repeat(65)}) {
            BackupException e = assertThrows(BackupException.class, () -> new Generations.Kept(id, t, seg(1, 0, 1)));
            assertTrue(e.getMessage().contains("bad backup id"), e.getMessage());
        }
        assertTrue(assertThrows(BackupException.class, () -> new Generations.Kept("a", t, "0/3000028"))
                .getMessage().contains("backup a has no valid start WAL segment name"));
        assertTrue(assertThrows(BackupException.class, () -> Generations.plan(List.of(kept("a", t, 1),
                kept("a", t, 2)), Keep.DEFAULT, JST, t)).getMessage().contains("backup a is listed twice"));
    }

    @Test
    void applyDeletesTheDroppedBackupsAndWalManifestFirstAndNothingElse() throws Exception {
        Path data = TestData.newFolder("generations-");
        Files.createDirectories(data);
        Instant now = jst(2026, 11, 30, 12);
        try (Backups backups = Backups.open(data, BackupOptions.defaults(data), null, Clock.fixed(now,
                ZoneOffset.UTC), JST)) {
            FolderParts dest = new FolderParts(backups.destination());
            List<Generations.Kept> list = new ArrayList<>();
            for (int day = 26; day <= 30; day++) {
                Generations.Kept k = kept("d" + day, jst(2026, 11, day, 2), day);
                list.add(k);
                for (String part : List.of("data.tar", "wal.tar", "db-secrets.tar", "folder.tar", "backup.info",
                        "manifest.sig", "manifest.json")) {
                    write(dest, "base/" + k.id() + "/" + part, day * 100);
                }
            }
            List<String> shipped = new ArrayList<>();
            for (int s = 20; s <= 31; s++) {
                shipped.add(seg(1, 0, s));
                write(dest, "wal/" + seg(1, 0, s), 1000);
            }
            shipped.add("00000002.history");
            write(dest, "wal/00000002.history", 10);
            Path outside = Files.writeString(data.resolveSibling(data.getFileName() + "-outside"), "keep me");
            assertEquals(List.of("d26", "d27", "d28", "d29", "d30"), ids(backups));

            // keep 2 daily: d30, d29; d28 .. d26 go, and the WAL before d29's start segment (1, 29).
            Generations.Plan plan = Generations.plan(list, new Keep(2, 0, 0, 0), JST, now);
            assertEquals(List.of("d28", "d27", "d26"), plan.deleted());

            // A crash right after the first deletion: d28 without its manifest is no longer a backup.
            dest.delete("base/d28/manifest.json");
            assertEquals(List.of("d26", "d27", "d29", "d30"), ids(backups));
            assertTrue(Files.exists(dest.file("base/d28/data.tar")), "the rest of d28 is still there");

            Generations.Deleted done = Generations.apply(dest, plan, shipped);
            assertEquals(List.of("d28", "d27", "d26"), done.backups());
            List<String> walGone = new ArrayList<>();
            for (int s = 20; s < 29; s++) {
                walGone.add(seg(1, 0, s));
            }
            assertEquals(walGone, done.wal());
            // d28 lost its manifest before: 6 parts of 2800 bytes; d27 and d26 all 7; 9 WAL files of 1000.
            assertEquals(6 * 2800 + 7 * 2700 + 7 * 2600 + 9 * 1000, done.bytes());
            assertEquals(List.of("d29", "d30"), ids(backups));
            List<String> left = dest.list("");
            for (String id : List.of("d26", "d27", "d28")) {
                assertTrue(left.stream().noneMatch(n -> n.startsWith("base/" + id + "/")), id);
                assertFalse(Files.exists(backups.destination().resolve("base").resolve(id)), "folder of " + id);
            }
            assertEquals(7 * 2, left.stream().filter(n -> n.startsWith("base/")).count());
            Set<String> walLeft = left.stream().filter(n -> n.startsWith("wal/")).map(n -> n.substring(4))
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> walExpected = new TreeSet<>(List.of("00000002.history", seg(1, 0, 29), seg(1, 0, 30),
                    seg(1, 0, 31)));
            assertEquals(walExpected, walLeft);
            assertEquals("keep me", Files.readString(outside));

            // Running it again finds nothing more to delete and fails on nothing.
            Generations.Deleted again = Generations.apply(dest, plan, shipped);
            assertEquals(new Generations.Deleted(List.of(), List.of(), 0), again);
            assertEquals(walLeft, dest.list("wal/").stream().map(n -> n.substring(4))
                    .collect(Collectors.toCollection(TreeSet::new)));
        }
    }

    @Test
    void hostileNamesAndPlansAreRefusedAndNothingOutsideIsDeleted() throws Exception {
        Path root = TestData.newFolder("generations-hostile-");
        Path outside = Files.createDirectories(root.resolveSibling(root.getFileName() + "-outside"));
        Path victim = Files.writeString(outside.resolve("victim"), "keep me");
        FolderParts dest = new FolderParts(root);
        write(dest, "base/x/manifest.json", 10);
        for (String bad : new String[] {"../" + outside.getFileName() + "/victim", "base/../../x", "/etc/passwd",
                "base/.hidden", "base//x", ""}) {
            BackupException e = assertThrows(BackupException.class, () -> dest.delete(bad), bad);
            assertTrue(e.getMessage().contains("bad part name"), e.getMessage());
        }
        // A folder inside the destination that links out of it.
        Files.createSymbolicLink(root.resolve("base").resolve("evil"), outside);
        BackupException out = assertThrows(BackupException.class, () -> dest.delete("base/evil/victim"));
        assertTrue(out.getMessage().contains("part base/evil/victim leads out of"), out.getMessage());
        assertTrue(assertThrows(BackupException.class, () -> dest.delete("base/x")).getMessage()
                .contains("part base/x is a folder"));
        dest.delete("base/nothing/manifest.json"); // not there: not an error
        dest.delete("wal/000000010000000000000001");
        // A plan made by hand with a hostile id, or one that keeps nothing.
        Generations.Plan hostile = new Generations.Plan(Map.of("x", List.of("newest")), List.of("../../"
                + outside.getFileName()), List.of());
        assertTrue(assertThrows(BackupException.class, () -> Generations.apply(dest, hostile, List.of()))
                .getMessage().contains("bad backup id"));
        Generations.Plan everything = new Generations.Plan(Map.of(), List.of("x"), List.of());
        assertTrue(assertThrows(BackupException.class, () -> Generations.apply(dest, everything, List.of()))
                .getMessage().contains("refusing a plan that deletes every backup"));
        Generations.Plan both = new Generations.Plan(Map.of("x", List.of("newest")), List.of("x"), List.of());
        assertTrue(assertThrows(BackupException.class, () -> Generations.apply(dest, both, List.of()))
                .getMessage().contains("backup x is both kept and deleted"));
        assertEquals("keep me", Files.readString(victim));
        assertTrue(Files.exists(dest.file("base/x/manifest.json")));
    }

    // ------------------------------------------------------------------ helpers

    private static List<String> ids(Backups backups) {
        return backups.list().stream().map(Backups.Listed::id).toList();
    }

    private static void write(FolderParts dest, String part, int size) throws Exception {
        try (OutputStream out = dest.create(part)) {
            out.write(new byte[size]);
        }
    }

    private static Instant jst(int y, int m, int d, int hour) {
        return LocalDateTime.of(y, m, d, hour, 0).atZone(JST).toInstant();
    }

    /** The backup of {@code day} at {@code hour} Japan time, id {@code yyyy-mm-dd}, start segment = day of year. */
    private static Generations.Kept at(LocalDate day, int hour) {
        return new Generations.Kept(id(day), jst(day.getYear(), day.getMonthValue(), day.getDayOfMonth(), hour),
                seg(1, day.getYear() - 2000, day.getDayOfYear()));
    }

    private static String id(LocalDate day) {
        return day.toString();
    }

    private static Generations.Kept kept(String id, Instant t, int segment) {
        return new Generations.Kept(id, t, seg(1, 0, segment));
    }

    private static String seg(int timeline, int log, int segment) {
        HexFormat h = HexFormat.of().withUpperCase();
        return h.toHexDigits(timeline) + h.toHexDigits(log) + h.toHexDigits(segment);
    }
}
