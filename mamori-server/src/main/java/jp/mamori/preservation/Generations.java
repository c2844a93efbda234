package jp.mamori.preservation;

import jp.mamori.config.ServerConfig;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Generations (ADR 0010 §4): which base backups to keep, which to delete, and which shipped WAL files are still
 * needed. Grandfather-father-son: the newest backup of each of the last {@code daily} calendar days that have one
 * (days, weeks, months and years in the installation's zone), of the last {@code weekly} ISO weeks, of the last
 * {@code monthly} months and of the last {@code yearly} years; a backup is kept when any rule keeps it, and the newest
 * backup and any backup younger than 24 h are always kept. Each rule counts its own periods, so one backup may be
 * kept by several rules at once (the newest is the newest of its day, week, month and year).
 *
 * <p>Every base backup restores on its own (its {@code wal.tar} holds the WAL from its start to its end); shipped WAL
 * is needed only for point-in-time recovery, which reaches back over the daily window: the WAL from the start
 * segment of the backups the daily rule keeps onwards. Older segments are deleted; timeline histories never are.
 */
final class Generations {
    static final Duration YOUNG = Duration.ofHours(24);
    static final String NEWEST = "newest";
    static final String YOUNGER_THAN_A_DAY = "younger than 24 h";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Generations() {
    }

    /** A finished backup: its id, when it was taken, and the name of the WAL segment it started in. */
    record Kept(String id, Instant createdAt, String startWalFile) {
        Kept {
            checkId(id);
            if (createdAt == null) {
                throw new BackupException("バックアップ " + id + " の作成時刻がありません / backup " + id
                        + " has no creation time");
            }
            if (startWalFile == null || !WalNames.isSegment(startWalFile)) {
                throw new BackupException("バックアップ " + id + " の開始 WAL 名が不正です / backup " + id
                        + " has no valid start WAL segment name: " + Messages.quote(startWalFile));
            }
        }
    }

    /**
     * What to keep (each id with the rules that keep it, newest first), what to delete (newest first), and the start
     * segments from which shipped WAL is still needed (of the backups kept by the daily rule or for being young).
     */
    record Plan(Map<String, List<String>> kept, List<String> deleted, List<String> walNeededFrom) {
        Plan {
            kept = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(kept));
            deleted = List.copyOf(deleted);
            walNeededFrom = List.copyOf(walNeededFrom);
        }

        boolean keeps(String id) {
            return kept.containsKey(id);
        }

        /**
         * The shipped WAL files (bare names, e.g. {@code 000000010000000000000003}) no longer needed: segments,
         * partial segments and backup history files that lie before the start segment of every backup that
         * point-in-time recovery starts from. A file is needed from a backup starting at (timeline T, segment S)
         * when it is on timeline T or a later one (a restore only ever moves to later timelines) and at segment S or
         * later. Timeline histories and names that are not PostgreSQL's are never listed; with no backup, nothing is.
         */
        List<String> walToDelete(List<String> shippedWalNames) {
            if (walNeededFrom.isEmpty()) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String name : new java.util.TreeSet<>(shippedWalNames)) {
                if (name == null || !WalNames.isArchived(name) || WalNames.isHistory(name)) {
                    continue;
                }
                boolean needed = false;
                for (String from : walNeededFrom) {
                    needed |= WalNames.timeline(name) >= WalNames.timeline(from)
                            && segment(name) >= segment(from);
                }
                if (!needed) {
                    out.add(name);
                }
            }
            return out;
        }

        /** The segment number of a segment name (or a name that starts with one), whatever the segment size. */
        private static long segment(String name) {
            return Long.parseLong(name.substring(8, 16), 16) << 32 | Long.parseLong(name.substring(16, 24), 16);
        }
    }

    /** What {@link #apply} deleted: backup ids, shipped WAL file names, and the bytes they took. */
    record Deleted(List<String> backups, List<String> wal, long bytes) {
    }

    /** Which of {@code backups} to keep under {@code keep}, in {@code zone}, at {@code now}. */
    static Plan plan(List<Kept> backups, ServerConfig.BackupOptions.Keep keep, ZoneId zone, Instant now) {
        Set<String> ids = new HashSet<>();
        for (Kept k : backups) {
            if (!ids.add(k.id())) {
                throw new BackupException("バックアップ " + k.id() + " が二度あります / backup " + k.id()
                        + " is listed twice");
            }
        }
        // Newest first; equal times ordered by id, so that the plan does not depend on the list's order.
        List<Kept> sorted = new ArrayList<>(backups);
        sorted.sort(Comparator.comparing(Kept::createdAt).thenComparing(Kept::id).reversed());
        Map<String, List<String>> reasons = new LinkedHashMap<>();
        sorted.forEach(k -> reasons.put(k.id(), new ArrayList<>()));
        Set<String> daily = rule(sorted, keep.daily(), "daily", zone, LocalDate::toString, reasons);
        rule(sorted, keep.weekly(), "weekly", zone, d -> String.format("%d-W%02d",
                d.get(IsoFields.WEEK_BASED_YEAR), d.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)), reasons);
        rule(sorted, keep.monthly(), "monthly", zone, d -> String.format("%d-%02d", d.getYear(), d.getMonthValue()),
                reasons);
        rule(sorted, keep.yearly(), "yearly", zone, d -> Integer.toString(d.getYear()), reasons);
        Set<String> young = new HashSet<>();
        for (Kept k : sorted) {
            if (Duration.between(k.createdAt(), now).compareTo(YOUNG) < 0) {
                reasons.get(k.id()).add(YOUNGER_THAN_A_DAY);
                young.add(k.id());
            }
        }
        if (!sorted.isEmpty()) {
            reasons.get(sorted.get(0).id()).add(0, NEWEST);
        }
        Map<String, List<String>> kept = new LinkedHashMap<>();
        List<String> deleted = new ArrayList<>();
        List<String> walFrom = new ArrayList<>();
        for (Kept k : sorted) {
            List<String> r = reasons.get(k.id());
            if (r.isEmpty()) {
                deleted.add(k.id());
            } else {
                kept.put(k.id(), List.copyOf(r));
                if (daily.contains(k.id()) || young.contains(k.id())) {
                    walFrom.add(k.startWalFile());
                }
            }
        }
        return new Plan(kept, deleted, walFrom.stream().distinct().sorted().toList());
    }

    /**
     * Applies {@code rule}: the newest backup of each of the last {@code count} periods that have one, a period being
     * what {@code period} names a local date; returns the ids it keeps and adds "RULE PERIOD" to their reasons.
     */
    private static Set<String> rule(List<Kept> newestFirst, int count, String rule, ZoneId zone,
                                    Function<LocalDate, String> period, Map<String, List<String>> reasons) {
        Set<String> ids = new HashSet<>();
        Set<String> periods = new HashSet<>();
        for (Kept k : newestFirst) {
            if (periods.size() >= count) {
                break;
            }
            String p = period.apply(LocalDate.ofInstant(k.createdAt(), zone));
            if (periods.add(p)) { // the first seen of a period is its newest
                ids.add(k.id());
                reasons.get(k.id()).add(rule + " " + p);
            }
        }
        return ids;
    }

    /**
     * Deletes what {@code plan} drops from {@code destination}: for each deleted backup its manifest first (so that a
     * backup deleted half-way is never listed as finished), then its other parts and its emptied folder; then the
     * shipped WAL files among {@code shippedWal} (bare names) that the plan no longer needs. Running it again is
     * safe. Throws one line naming the part at the first part that cannot be deleted.
     */
    static Deleted apply(FolderParts destination, Plan plan, List<String> shippedWal) {
        if (plan.kept().isEmpty() && !plan.deleted().isEmpty()) {
            throw new BackupException("全てのバックアップを削除する計画は実行しません / refusing a plan that deletes"
                    + " every backup");
        }
        List<String> backups = new ArrayList<>();
        long bytes = 0;
        for (String id : plan.deleted()) {
            checkId(id);
            if (plan.keeps(id)) {
                throw new BackupException("バックアップ " + id + " は保持と削除の両方にあります / backup " + id
                        + " is both kept and deleted in the plan");
            }
            String prefix = BackupInfo.prefix(id);
            long manifest = delete(destination, prefix + Backups.MANIFEST);
            boolean found = manifest >= 0;
            long freed = Math.max(0, manifest);
            for (String part : destination.list(prefix)) {
                long n = delete(destination, part);
                found |= n >= 0;
                freed += Math.max(0, n);
            }
            removeEmptyFolder(destination.file(prefix + Backups.MANIFEST).getParent());
            if (found) {
                backups.add(id);
                bytes += freed;
            }
        }
        List<String> wal = new ArrayList<>();
        for (String name : plan.walToDelete(shippedWal)) {
            long n = delete(destination, WalShipper.PREFIX + name);
            if (n >= 0) {
                wal.add(name);
                bytes += n;
            }
        }
        return new Deleted(List.copyOf(backups), List.copyOf(wal), bytes);
    }

    /** Deletes one part; returns the bytes it held, or -1 when it was not there. */
    private static long delete(FolderParts destination, String part) {
        Path f = destination.file(part);
        long size = -1;
        try {
            if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                size = Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) ? Files.size(f) : 0;
            }
        } catch (IOException e) {
            size = -1; // gone meanwhile
        }
        destination.delete(part);
        return size;
    }

    /** Removes a backup's folder once its parts are gone; left alone when anything else is still in it. */
    private static void removeEmptyFolder(Path dir) {
        try {
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(dir)) {
                FolderParts.forceDirectory(dir.getParent());
            }
        } catch (DirectoryNotEmptyException e) {
            // a hidden temporary file or a foreign file: not ours to judge, the parts are gone
        } catch (IOException e) {
            throw new BackupException("フォルダ " + dir.getFileName() + " を削除できません / cannot remove the folder of"
                    + " backup " + dir.getFileName() + ": " + Messages.firstLine(e), e);
        }
    }

    private static void checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new BackupException("バックアップ名が不正です / bad backup id: " + Messages.quote(id));
        }
    }

    /** The plan in a few lines, newest first, for logs and the command line. */
    static String describe(Plan plan) {
        StringBuilder b = new StringBuilder();
        plan.kept().forEach((id, r) -> b.append("keep ").append(id).append(": ")
                .append(String.join(", ", r)).append('\n'));
        plan.deleted().forEach(id -> b.append("delete ").append(id).append('\n'));
        return b.toString();
    }
}
