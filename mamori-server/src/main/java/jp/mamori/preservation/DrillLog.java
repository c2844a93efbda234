package jp.mamori.preservation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The evidence of backups the console shows (BACKUP-5; 004 checklist row 7, "restore confirmed"): the last restore
 * drill, from this process's own result or else from the last line of {@code backup/drills.log} that
 * {@link Backups#drill} appends, and where the offline copy stands. Read only; the audit trail holds the same
 * drills as entries and stays the record of authority.
 */
public final class DrillLog {
    /** How much of the end of the log is read: a line is a few hundred bytes; the file grows by one a week. */
    static final int TAIL_BYTES = 64 * 1024;
    private static final Pattern LINE = Pattern.compile("(\\S{1,40}) (pass|FAIL) \\{backup=([^,]{1,64}),"
            + "(?: from=[a-z0-9]{1,16},)? restore_ms=([0-9]{1,15}), total_ms=([0-9]{1,15}), data_age_s=([0-9]{1,15}),"
            + " findings=([0-9]{1,9})(?:, first=(.*))?}");
    private static final Pattern BACKUP_ID = CopyManifests.BACKUP_ID;

    private DrillLog() {
    }

    /**
     * One restore drill.
     *
     * @param backupId     the backup restored, or empty when there was none to restore
     * @param restore      the measured restore time (RTO)
     * @param total        the whole drill, checks included
     * @param dataAge      the age of the newest transaction the copy brought back (measured RPO)
     * @param findingCount how many findings; none means passed
     * @param findings     the findings ("日本語 / English"): all of them for a drill of this process, only the
     *                     first for one read back from the log
     */
    public record Drill(Instant at, boolean passed, Optional<String> backupId, Duration restore, Duration total,
                        Duration dataAge, int findingCount, List<String> findings) {
    }

    /**
     * What a drill records (the audit entry's details and the log line), in the order {@link #parse} reads back;
     * {@code from} names a copy other than the backup folder (e.g. {@code s3}).
     */
    static Map<String, String> detail(String backupId, Optional<String> from, Duration restore, Duration total,
                                      Duration dataAge, List<String> findings) {
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("backup", String.valueOf(backupId));
        from.ifPresent(f -> detail.put("from", f));
        detail.put("restore_ms", Long.toString(restore.toMillis()));
        detail.put("total_ms", Long.toString(total.toMillis()));
        detail.put("data_age_s", Long.toString(dataAge.toSeconds()));
        detail.put("findings", Integer.toString(findings.size()));
        if (!findings.isEmpty()) {
            detail.put("first", Backups.oneLine(findings.get(0)));
        }
        return detail;
    }

    /** Appends a drill's line to {@code <data>/backup/drills.log}; a failure to write it is logged, not thrown. */
    static void append(Path dataDir, Instant at, boolean passed, Map<String, String> detail) {
        try {
            Path logFile = dataDir.resolve("backup").resolve("drills.log");
            Files.createDirectories(logFile.getParent());
            Files.writeString(logFile, at + " " + (passed ? "pass" : "FAIL") + " " + detail + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(DrillLog.class).warn("backup drill: could not write the drill log: {}",
                    e.toString());
        }
    }

    /** The last drill of {@code backups}: this process's own, else the log's last one; empty when none ran. */
    public static Optional<Drill> last(Backups backups) {
        Optional<Backups.DrillResult> own = backups.lastDrill();
        if (own.isPresent()) {
            return Optional.of(of(own.get()));
        }
        return read(backups.dataDir().resolve("backup").resolve("drills.log"));
    }

    /** A drill this process ran, as the log would give it back (with all its findings). */
    static Drill of(Backups.DrillResult d) {
        return new Drill(d.at(), d.passed(), Optional.ofNullable(d.backupId()), d.restore(), d.total(), d.dataAge(),
                d.findings().size(), d.findings());
    }

    /**
     * The last well-formed drill line among the last {@link #TAIL_BYTES} of {@code log}; empty when there is none
     * (no file, or nothing in its end that is a drill line). A line that is not one is passed over.
     */
    static Optional<Drill> read(Path log) {
        byte[] tail;
        try (SeekableByteChannel ch = Files.newByteChannel(log)) {
            long size = ch.size();
            int n = (int) Math.min(size, TAIL_BYTES);
            ch.position(size - n);
            ByteBuffer buf = ByteBuffer.allocate(n);
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // until the tail is read
            }
            tail = java.util.Arrays.copyOf(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BackupException("復元訓練の記録 " + log + " を読めません / cannot read the drill log " + log + ": "
                    + e.getMessage(), e);
        }
        String[] lines = new String(tail, StandardCharsets.UTF_8).split("\n");
        // the first line of a cut tail may be the end of a longer one: it is considered only when the whole file fit
        int first = tail.length == TAIL_BYTES ? 1 : 0;
        for (int i = lines.length - 1; i >= first; i--) {
            Optional<Drill> d = parse(lines[i]);
            if (d.isPresent()) {
                return d;
            }
        }
        return Optional.empty();
    }

    /** One line as {@link Backups#drill} writes it, or empty when it is not one. */
    static Optional<Drill> parse(String line) {
        Matcher m = LINE.matcher(line.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            Instant at = Instant.parse(m.group(1));
            boolean passed = m.group(2).equals("pass");
            int count = Integer.parseInt(m.group(7));
            String first = m.group(8);
            if (passed != (count == 0) || (count > 0) != (first != null)) {
                return Optional.empty();
            }
            String id = m.group(3);
            return Optional.of(new Drill(at, passed, BACKUP_ID.matcher(id).matches() && !id.equals("null")
                    ? Optional.of(id) : Optional.empty(), Duration.ofMillis(Long.parseLong(m.group(4))),
                    Duration.ofMillis(Long.parseLong(m.group(5))), Duration.ofSeconds(Long.parseLong(m.group(6))),
                    count, first == null ? List.of() : List.of(first)));
        } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
            return Optional.empty();
        }
    }

    /**
     * Where the offline copy stands (from the local record of its last refresh, so an unplugged medium is not
     * touched), for a policy of {@code maxDays}; empty when no offline medium is configured.
     */
    public static Optional<OfflineCopy.Status> offline(Backups backups, Instant now, int maxDays) {
        return backups.offline().map(o -> o.status(o.localStateDir(), now, maxDays));
    }
}
