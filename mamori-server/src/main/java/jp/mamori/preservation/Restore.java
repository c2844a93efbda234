package jp.mamori.preservation;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jp.mamori.db.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Restores a base backup (and the WAL shipped after it) into a new data folder, to the end of the available WAL
 * or to a chosen moment. Every part the backup lists is checked first (size, SHA-256, archive structure): a
 * missing, truncated, tampered or foreign part is refused in one line before anything is written. Then the data
 * folder is unpacked into {@code <new>/pg}, the WAL into {@code <new>/backup/restore-wal}, and the embedded
 * PostgreSQL started on it in recovery ({@code recovery.signal}, a {@code restore_command} copying from that
 * folder, {@code recovery_target_time} when a moment is given, promoting at the end); when it has finished,
 * the recovery settings are reset and the server stopped cleanly.
 *
 * <p>The restored folder then starts as a Mamori data folder with the database passwords from the backup
 * ({@code secrets/db-superuser-password}, {@code secrets/db-app-password}); the caller adds the folder's other
 * secrets (TLS keys, signing keys, ...). A file {@code RESTORE-INCOMPLETE} stays in the folder until the restore
 * has succeeded.
 */
public final class Restore {
    private static final Logger log = LoggerFactory.getLogger(Restore.class);
    public static final String INCOMPLETE = "RESTORE-INCOMPLETE";
    private static final Duration STARTUP_WAIT = Duration.ofMinutes(30);
    private static final Duration RECOVERY_WAIT = Duration.ofHours(6);
    private static final long SMALL_FILE = 64 * 1024;
    private static final DateTimeFormatter PG_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(ZoneOffset.UTC);

    private Restore() {
    }

    /**
     * What was restored: the backup, the folder, the time of the last transaction replayed (empty when none was
     * after the backup), the WAL position reached, the new timeline, the last WAL segment available, how long.
     */
    public record Result(String backupId, Path dataDir, Optional<Instant> lastTransaction, String replayLsn,
                         int timeline, String lastWalSegment, Duration took) {
    }

    /** Restores into {@code newDataDir}, which must not exist or be empty. */
    public static Result toNewFolder(PartSource source, String backupId, Path newDataDir,
                                     Optional<Instant> targetTime) {
        return toNewFolder(source, backupId, newDataDir, targetTime, false);
    }

    /**
     * Restores into {@code newDataDir}; with {@code force}, a folder that is not empty is accepted and its
     * {@code pg} folder replaced (never while a PostgreSQL runs on it).
     */
    public static Result toNewFolder(PartSource source, String backupId, Path newDataDir, Optional<Instant> targetTime,
                                     boolean force) {
        long t0 = System.nanoTime();
        if (backupId == null || !backupId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new BackupException("バックアップ名が不正です / bad backup id: " + Messages.quote(backupId));
        }
        Path dir = newDataDir.toAbsolutePath().normalize();
        try {
            BackupInfo info = readInfo(source, backupId);
            if (targetTime.isPresent() && targetTime.get().isBefore(info.stopTime())) {
                throw new BackupException("指定時刻はバックアップ " + backupId + " の完了 (" + info.stopTime()
                        + ") より前です / the target time " + targetTime.get() + " is before backup " + backupId
                        + " was consistent (" + info.stopTime() + "): choose an older backup");
            }
            checkTarget(dir, force);
            Map<String, BackupInfo.PartInfo> parts = new TreeMap<>();
            for (BackupInfo.PartInfo p : info.parts()) {
                parts.put(p.name(), p);
            }
            String prefix = BackupInfo.prefix(backupId);
            for (String required : List.of(BaseBackup.DATA, BaseBackup.WAL)) {
                if (!parts.containsKey(prefix + required)) {
                    throw new BackupException("バックアップ " + backupId + " に部品 " + required + " がありません / backup "
                            + backupId + " lists no part " + prefix + required);
                }
            }
            boolean secrets = parts.containsKey(prefix + BaseBackup.SECRETS);
            Path pwFile = dir.resolve("secrets").resolve(Database.SUPERUSER_PASSWORD_FILE);
            if (!secrets && !Files.isRegularFile(pwFile)) {
                throw new BackupException("バックアップ " + backupId + " にデータベースのパスワードがありません / backup "
                        + backupId + " holds no database passwords, and " + pwFile + " does not exist");
            }
            for (BackupInfo.PartInfo p : parts.values()) {
                if (!p.name().startsWith(prefix) || !Set.of(BaseBackup.DATA, BaseBackup.WAL, BaseBackup.SECRETS)
                        .contains(p.name().substring(prefix.length()))) {
                    throw new BackupException("部品 " + p.name() + " は想定外です / part " + p.name()
                            + " is not one a base backup has");
                }
                check(source, p, info);
            }
            List<String> shipped = shippedWal(source, info);

            // Checked: from here on the folder is written.
            Files.createDirectories(dir);
            ownerOnly(dir, true);
            Files.writeString(dir.resolve(INCOMPLETE), "restore of " + backupId + " started " + Instant.now() + "\n");
            Path pg = dir.resolve("pg");
            Path walDir = dir.resolve("backup").resolve("restore-wal");
            deleteTree(pg);
            deleteTree(walDir);
            Files.createDirectories(pg);
            ownerOnly(pg, true);
            Files.createDirectories(walDir);
            ownerOnly(dir.resolve("backup"), true);
            unpack(source, parts.get(prefix + BaseBackup.DATA), pg);
            unpack(source, parts.get(prefix + BaseBackup.WAL), walDir);
            if (secrets) {
                Files.createDirectories(dir.resolve("secrets"));
                ownerOnly(dir.resolve("secrets"), true);
                for (String f : BaseBackup.SECRET_FILES) {
                    Files.deleteIfExists(dir.resolve("secrets").resolve(f)); // left by an interrupted restore (force)
                }
                unpack(source, parts.get(prefix + BaseBackup.SECRETS), dir.resolve("secrets"));
            }
            String lastWal = copyShipped(source, shipped, walDir, info);
            writeRecoverySettings(pg, targetTime);

            Recovered r = recover(dir);
            deleteTree(walDir);
            Files.delete(dir.resolve(INCOMPLETE));
            FolderParts.forceDirectory(dir);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            log.info("restored backup {} into {}: last transaction {}, WAL {}, timeline {}, in {}", backupId, dir,
                    r.lastTransaction.map(Instant::toString).orElse("(none after the backup)"), r.lsn, r.timeline,
                    took);
            return new Result(backupId, dir, r.lastTransaction, r.lsn, r.timeline, lastWal, took);
        } catch (BackupException e) {
            throw e;
        } catch (IOException | SQLException | RuntimeException e) {
            throw new BackupException("バックアップ " + backupId + " を復元できません / restoring backup " + backupId
                    + " failed: " + Messages.firstLine(e), e);
        }
    }

    private static BackupInfo readInfo(PartSource source, String backupId) throws IOException {
        String name = BackupInfo.partName(backupId);
        InputStream in;
        try {
            in = source.open(name);
        } catch (IOException e) {
            throw new BackupException("バックアップ " + backupId + " は見つからないか完了していません / backup " + backupId
                    + " is missing or did not finish (no part " + name + ")");
        }
        try (in) {
            BackupInfo info = BackupInfo.read(in, name);
            if (!info.label().equals(backupId)) {
                throw new BackupException("部品 " + name + " は別のバックアップのものです / part " + name
                        + " describes another backup (" + Messages.quote(info.label()) + ")");
            }
            return info;
        }
    }

    private static void checkTarget(Path dir, boolean force) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new BackupException("復元先はフォルダではありません / the restore target " + dir + " is not a folder");
        }
        boolean empty = true;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                // the data folder lock the caller holds on the target (runtime/mamori.lock) does not count
                if (!(p.getFileName().toString().equals("runtime") && onlyTheLock(p))) {
                    empty = false;
                }
            }
        }
        if (empty) {
            return;
        }
        if (!force) {
            throw new BackupException("復元先が空ではありません / the restore target " + dir
                    + " is not empty (restore into a new folder, or force it)");
        }
        Path pid = dir.resolve("pg").resolve("postmaster.pid");
        if (Files.exists(pid)) {
            List<String> lines = Files.readAllLines(pid);
            boolean running = !lines.isEmpty() && lines.get(0).trim().matches("[0-9]{1,10}")
                    && ProcessHandle.of(Long.parseLong(lines.get(0).trim())).map(ProcessHandle::isAlive).orElse(false);
            if (running) {
                if (!Files.exists(dir.resolve(INCOMPLETE))) {
                    throw new BackupException("復元先でデータベースが動いています / a PostgreSQL server is running on "
                            + dir.resolve("pg") + ": stop it first");
                }
                // left running by an interrupted restore into this folder (the caller holds the folder's lock, so no
                // Mamori process uses it): stop it, as a server start stops its own orphan
                stopLeftoverDatabase(dir);
            }
        }
    }

    /**
     * Stops a PostgreSQL server still running on {@code <folder>/pg} that the process which started it left behind
     * (an interrupted restore or drill). The caller holds what guards the folder (its data folder lock, the drill lock).
     */
    static void stopLeftoverDatabase(Path folder) throws IOException {
        if (Files.isDirectory(folder.resolve("pg"))) {
            Files.createDirectories(folder.resolve("runtime"));
            Database.stopOrphanedPostmaster(folder.resolve("pg"), folder.resolve("runtime").resolve(Database.POSTGRES_LOG));
        }
    }

    private static boolean onlyTheLock(Path runtime) throws IOException {
        if (!Files.isDirectory(runtime, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(runtime)) {
            for (Path p : ds) {
                if (!p.getFileName().toString().equals("mamori.lock")) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Reads a whole part: its size, its SHA-256 and, for archives, their structure, against the description. */
    private static void check(PartSource source, BackupInfo.PartInfo p, BackupInfo info) throws IOException {
        MessageDigest sha = DigestingOutputStream.newSha256();
        long[] count = {0};
        try (InputStream raw = open(source, p.name());
             InputStream in = new DigestInputStream(new CountingInput(raw, count), sha)) {
            Tar.Reader tar = new Tar.Reader(in, p.name());
            Set<String> names = new HashSet<>();
            boolean version = false;
            try {
                for (Tar.Entry e; (e = tar.next()) != null; ) {
                    if (!names.add(e.name())) {
                        throw new BackupException("部品 " + p.name() + " に同じ名前が二度あります / part " + p.name()
                                + " holds " + Messages.quote(e.name()) + " twice");
                    }
                    if (p.name().endsWith("/" + BaseBackup.DATA) && e.name().equals("PG_VERSION") && e.size() < 16) {
                        String v = new String(tar.content().readAllBytes(), StandardCharsets.US_ASCII).trim();
                        version = v.equals(Integer.toString(info.serverVersion() / 10000));
                    }
                    if (!p.name().endsWith("/" + BaseBackup.DATA)
                            && (e.type() != Tar.Type.FILE || e.name().contains("/")
                            || (p.name().endsWith("/" + BaseBackup.WAL) ? !WalNames.isArchived(e.name())
                            : !BaseBackup.SECRET_FILES.contains(e.name())))) {
                        throw new BackupException("部品 " + p.name() + " に想定外の項目があります / part " + p.name()
                                + " holds an unexpected entry " + Messages.quote(e.name()));
                    }
                }
            } catch (BackupException e) {
                // A cut-short part shows first as a broken archive: say what it is.
                if (count[0] < p.size()) {
                    throw truncated(p, count[0]);
                }
                throw e;
            }
            in.transferTo(OutputStream.nullOutputStream());
            if (count[0] < p.size()) {
                throw truncated(p, count[0]);
            }
            if (count[0] > p.size()) {
                throw new BackupException("部品 " + p.name() + " が記録より長いです / part " + p.name() + " is longer ("
                        + count[0] + " bytes) than its backup says (" + p.size() + ")");
            }
            if (!HexFormat.of().formatHex(sha.digest()).equals(p.sha256())) {
                throw new BackupException("部品 " + p.name() + " の内容が記録と一致しません / part " + p.name()
                        + " does not match its SHA-256: altered, or from another backup");
            }
            if (p.name().endsWith("/" + BaseBackup.DATA) && (!version || !names.contains("global/pg_control")
                    || !names.contains("backup_label"))) {
                throw new BackupException("部品 " + p.name() + " は PostgreSQL " + info.serverVersion() / 10000
                        + " のデータフォルダではありません / part " + p.name() + " is not a complete PostgreSQL "
                        + info.serverVersion() / 10000 + " data folder");
            }
        }
    }

    private static BackupException truncated(BackupInfo.PartInfo p, long got) {
        return new BackupException("部品 " + p.name() + " は途中で切れています / part " + p.name() + " is truncated: "
                + got + " of " + p.size() + " bytes");
    }

    private static InputStream open(PartSource source, String name) {
        try {
            return source.open(name);
        } catch (IOException e) {
            throw new BackupException("部品 " + name + " がありません / part " + name + " is missing: "
                    + Messages.firstLine(e));
        }
    }

    /** Unpacks a checked archive part into {@code into}, checking its hash again as it goes. */
    private static void unpack(PartSource source, BackupInfo.PartInfo p, Path into) throws IOException {
        MessageDigest sha = DigestingOutputStream.newSha256();
        try (InputStream in = new DigestInputStream(open(source, p.name()), sha)) {
            Tar.Reader tar = new Tar.Reader(in, p.name());
            for (Tar.Entry e; (e = tar.next()) != null; ) {
                Path target = into.resolve(e.name()).normalize();
                if (!target.startsWith(into)) {
                    throw new BackupException("部品 " + p.name() + " に不正な名前があります / part " + p.name()
                            + " holds a bad entry name: " + Messages.quote(e.name()));
                }
                if (e.type() == Tar.Type.DIRECTORY) {
                    Files.createDirectories(target);
                    ownerOnly(target, true);
                } else {
                    Files.createDirectories(target.getParent());
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE)) {
                        ownerOnly(target, false);
                        tar.content().transferTo(out);
                    }
                }
            }
            in.transferTo(OutputStream.nullOutputStream());
        }
        if (!HexFormat.of().formatHex(sha.digest()).equals(p.sha256())) {
            throw new BackupException("部品 " + p.name() + " が読み直すと変わっていました / part " + p.name()
                    + " changed while it was restored");
        }
    }

    /**
     * The shipped WAL that continues the backup: its timeline's segments after the backup's last one, without a
     * gap (recovery stops at a gap anyway), the segments of later timelines, and every timeline history.
     */
    private static List<String> shippedWal(PartSource source, BackupInfo info) {
        long seg = info.walSegmentSize();
        long stop = WalNames.segmentNumber(info.stopWal(), seg);
        long first = WalNames.segmentNumber(info.startWal(), seg);
        TreeMap<Long, String> sameTimeline = new TreeMap<>();
        List<String> other = new ArrayList<>();
        for (String part : source.list(WalShipper.PREFIX)) {
            String name = part.substring(WalShipper.PREFIX.length());
            if (WalNames.isHistory(name)) {
                other.add(name);
            } else if (WalNames.isSegment(name)) {
                int tl = WalNames.timeline(name);
                long n = WalNames.segmentNumber(name, seg);
                if (tl == info.timeline() && n > stop) {
                    sameTimeline.put(n, name);
                } else if (tl > info.timeline() && n >= first) {
                    other.add(name);
                }
            }
        }
        List<String> chosen = new ArrayList<>(other);
        long next = stop + 1;
        for (Map.Entry<Long, String> e : sameTimeline.entrySet()) {
            if (e.getKey() != next) {
                log.warn("shipped WAL has a gap before {}: recovery ends at the segment before it", e.getValue());
                break;
            }
            chosen.add(e.getValue());
            next++;
        }
        chosen.sort(null);
        return chosen;
    }

    /** Copies the chosen shipped WAL; a segment must be exactly one segment long. Returns the last segment. */
    private static String copyShipped(PartSource source, List<String> names, Path walDir, BackupInfo info)
            throws IOException {
        String last = info.stopWal();
        for (String name : names) {
            Path target = walDir.resolve(name);
            if (Files.exists(target)) {
                continue; // a history file the backup holds already
            }
            long limit = WalNames.isSegment(name) ? info.walSegmentSize() : SMALL_FILE;
            String part = WalShipper.PREFIX + name;
            long n;
            try (InputStream in = open(source, part); OutputStream out = Files.newOutputStream(target)) {
                ownerOnly(target, false);
                byte[] b = in.readNBytes((int) Math.min(limit, 1 << 20));
                n = 0;
                while (b.length > 0) {
                    out.write(b);
                    n += b.length;
                    if (n > limit) {
                        break;
                    }
                    b = in.readNBytes((int) Math.min(limit + 1 - n, 1 << 20));
                }
            }
            if (WalNames.isSegment(name) ? n != limit : n > limit) {
                Files.delete(target);
                throw new BackupException("部品 " + part + " の大きさが不正です / part " + part + " has the wrong size ("
                        + n + " bytes)");
            }
            if (WalNames.isSegment(name) && WalNames.timeline(name) == info.timeline()) {
                last = name;
            }
        }
        return last;
    }

    private static void writeRecoverySettings(Path pg, Optional<Instant> targetTime) throws IOException {
        StringBuilder b = new StringBuilder("\n# Recovery settings of a Mamori restore; reset when recovery ends.\n");
        // The startup process runs in the data folder: a relative path needs no quoting of the folder's name.
        b.append("restore_command = 'cp \"../backup/restore-wal/%f\" \"%p\"'\n");
        if (targetTime.isPresent()) {
            b.append("recovery_target_time = '").append(PG_TIME.format(targetTime.get())).append("'\n");
            b.append("recovery_target_action = 'promote'\n");
        }
        Files.writeString(pg.resolve("postgresql.auto.conf"), b.toString(), StandardOpenOption.APPEND);
        Files.write(pg.resolve("recovery.signal"), new byte[0]);
    }

    private record Recovered(Optional<Instant> lastTransaction, String lsn, int timeline) {
    }

    /** Starts PostgreSQL on the restored folder, waits for the end of recovery, resets its settings, stops it. */
    private static Recovered recover(Path dir) throws IOException, SQLException {
        Path logFile = dir.resolve("runtime").resolve(Database.POSTGRES_LOG);
        long logStart = Files.exists(logFile) ? Files.size(logFile) : 0;
        EmbeddedPostgres pg;
        try {
            pg = Database.startEmbedded(dir, STARTUP_WAIT);
        } catch (IOException | RuntimeException e) {
            throw new BackupException("復元したデータベースが起動しません / the restored database did not start: "
                    + lastFatal(logFile, logStart).orElse(Messages.firstLine(e)), e);
        }
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            String password = Files.readString(dir.resolve("secrets").resolve(Database.SUPERUSER_PASSWORD_FILE)).trim();
            long deadline = System.nanoTime() + RECOVERY_WAIT.toNanos();
            while (true) {
                try (Connection c = DriverManager.getConnection(url, "postgres", password);
                     Statement st = c.createStatement()) {
                    boolean inRecovery;
                    try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        inRecovery = rs.getBoolean(1);
                    }
                    if (!inRecovery) {
                        st.execute("CHECKPOINT");
                        Recovered r;
                        try (ResultSet rs = st.executeQuery("SELECT pg_last_xact_replay_timestamp(),"
                                + " pg_last_wal_replay_lsn()::text,"
                                + " (SELECT timeline_id FROM pg_control_checkpoint())")) {
                            rs.next();
                            java.time.OffsetDateTime t = rs.getObject(1, java.time.OffsetDateTime.class);
                            r = new Recovered(Optional.ofNullable(t).map(java.time.OffsetDateTime::toInstant),
                                    rs.getString(2), rs.getInt(3));
                        }
                        for (String s : List.of("restore_command", "recovery_target_time", "recovery_target_action")) {
                            st.execute("ALTER SYSTEM RESET " + s);
                        }
                        return r;
                    }
                } catch (SQLException e) {
                    if (!Files.exists(dir.resolve("pg").resolve("postmaster.pid"))) {
                        throw new BackupException("復元したデータベースの回復が失敗しました / recovery of the restored"
                                + " database failed: " + lastFatal(logFile, logStart).orElse(Messages.firstLine(e)));
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new BackupException("回復が終わりません / recovery did not finish within " + RECOVERY_WAIT);
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new BackupException("復元が中断されました / the restore was interrupted");
                }
            }
        } finally {
            pg.close();
            waitForStop(dir.resolve("pg"));
        }
    }

    /** pg_ctl waits only seconds for a shutdown; the end-of-recovery checkpoint may take longer. */
    private static void waitForStop(Path pg) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (Files.exists(pg.resolve("postmaster.pid")) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (Files.exists(pg.resolve("postmaster.pid"))) {
            throw new BackupException("復元したデータベースが停止しません / the restored database did not stop ("
                    + pg.resolve("postmaster.pid") + " remains)");
        }
    }

    /** The last FATAL line PostgreSQL logged since {@code from}, for a one-line message. */
    private static Optional<String> lastFatal(Path logFile, long from) {
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long start = Math.max(from, f.length() - SMALL_FILE);
            byte[] b = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(b);
            String found = null;
            for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) {
                if (line.contains("FATAL:")) {
                    found = line.substring(line.indexOf("FATAL:")).trim();
                }
            }
            return Optional.ofNullable(found);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void ownerOnly(Path p, boolean dir) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(dir ? "rwx------" : "rw-------"));
        } catch (UnsupportedOperationException | IOException ignored) {
            // Not a POSIX file system: rely on the folder's ACLs.
        }
    }

    /** Deletes a folder tree without following links; how many regular files and bytes it deleted. */
    static long[] deleteTree(Path root) throws IOException {
        long[] deleted = {0, 0};
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return deleted;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                if (attrs.isRegularFile()) {
                    deleted[0]++;
                    deleted[1] += attrs.size();
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
        return deleted;
    }

    /** Counts the bytes read through it. */
    private static final class CountingInput extends java.io.FilterInputStream {
        private final long[] count;

        CountingInput(InputStream in, long[] count) {
            super(in);
            this.count = count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count[0]++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count[0] += n;
            }
            return n;
        }
    }
}
