package jp.mamori.preservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A consistent physical backup of a running PostgreSQL with its low-level API (the embedded binaries include no
 * pg_basebackup). On one session: {@code pg_backup_start}; the data folder streamed into a tar part while the
 * server keeps writing (files may change or vanish meanwhile: the WAL written during the copy repairs that);
 * {@code pg_backup_stop}, which waits until the WAL the copy needs is archived; its {@code backup_label} added
 * to the tar; then those WAL segments copied out of the spool into a second part, so that the backup restores
 * on its own; the database's two passwords into a third; and last {@code backup.info}, whose presence says the
 * backup finished. Parts: {@code base/<label>/data.tar}, {@code wal.tar}, {@code db-secrets.tar},
 * {@code backup.info}.
 *
 * <p>A failure half-way aborts the part being written, ends the backup on the server and writes no
 * {@code backup.info}. If the process dies instead, the session ends and PostgreSQL ends its backup with it.
 */
public final class BaseBackup {
    private static final Logger log = LoggerFactory.getLogger(BaseBackup.class);
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern START_WAL = Pattern.compile(
            "(?m)^START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+) \\(file ([0-9A-F]{24})\\)$");
    private static final Pattern START_TIMELINE = Pattern.compile("(?m)^START TIMELINE: ([0-9]+)$");
    /** Folders whose contents a backup leaves out (PostgreSQL recreates or does not need them). */
    private static final Set<String> EMPTY_FOLDERS = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
    /** Files in the data folder's top a backup leaves out: a running server's, or a restore's own. */
    private static final Set<String> LEFT_OUT = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
            "backup_label.old", "tablespace_map", "tablespace_map.old", "backup_manifest", "postgresql.auto.conf.tmp",
            "current_logfiles.tmp", "recovery.signal", "standby.signal", "epg-lock");
    static final String DATA = "data.tar";
    static final String WAL = "wal.tar";
    static final String SECRETS = "db-secrets.tar";
    /** The database passwords a restored folder needs to start, under {@code <data>/secrets}. */
    static final List<String> SECRET_FILES = List.of("db-superuser-password", "db-app-password");

    private BaseBackup() {
    }

    /** One committed part: name, size in bytes, SHA-256 (hex). */
    public record Part(String name, long size, String sha256) {
    }

    /** What was backed up; {@code databaseBytes} is the size of all databases as PostgreSQL counts it. */
    public record Result(String label, String startLsn, String stopLsn, int timeline, long systemIdentifier,
                         String startWal, String stopWal, Instant startTime, Instant stopTime, List<Part> parts,
                         long databaseBytes, Duration took) {
    }

    /**
     * Takes a base backup of the server {@code superuser} is connected to, whose data folder is {@code pgData}
     * (in a Mamori data folder, {@code <data>/pg}; the passwords are then read from {@code <data>/secrets}) and
     * whose archiver copies WAL into {@code walSpool}. {@code label} names the backup and its parts.
     */
    public static Result take(Connection superuser, Path pgData, Path walSpool, PartSink sink, String label) {
        if (label == null || !LABEL.matcher(label).matches()) {
            throw new BackupException("バックアップ名が不正です / bad backup label: " + Messages.quote(label));
        }
        long t0 = System.nanoTime();
        boolean started = false;
        DigestingOutputStream open = null;
        try (SpoolHold hold = SpoolHold.take(walSpool, label)) {
            superuser.setAutoCommit(true);
            checkServer(superuser, pgData);
            long systemId = queryLong(superuser, "SELECT system_identifier FROM pg_control_system()");
            long segSize = queryLong(superuser,
                    "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'");
            int version = (int) queryLong(superuser, "SELECT current_setting('server_version_num')::int");
            long dbBytes = queryLong(superuser, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database");
            Instant startTime = queryInstant(superuser, "SELECT clock_timestamp()");
            String startLsn;
            try (PreparedStatement ps = superuser.prepareStatement("SELECT pg_backup_start(?, true)::text")) {
                ps.setString(1, label);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    startLsn = rs.getString(1);
                }
            }
            started = true;
            log.info("base backup {} started at {}", label, startLsn);

            List<Part> parts = new ArrayList<>();
            String prefix = BackupInfo.prefix(label);
            open = new DigestingOutputStream(sink.create(prefix + DATA));
            Tar.Writer tar = new Tar.Writer(open);
            copyTree(tar, pgData, "", true);

            String stopLsn;
            String labelFile;
            String mapFile;
            try (Statement st = superuser.createStatement()) {
                // pg_backup_stop waits for the archiver, forever if archiving fails: not longer than this.
                st.execute("SET statement_timeout = '10min'");
                try (ResultSet rs = st.executeQuery(
                        "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)")) {
                    rs.next();
                    stopLsn = rs.getString(1);
                    labelFile = rs.getString(2);
                    mapFile = rs.getString(3);
                }
                started = false;
                st.execute("RESET statement_timeout");
            }
            Instant stopTime = queryInstant(superuser, "SELECT clock_timestamp()");
            long now = stopTime.getEpochSecond();
            tar.file("backup_label", 0600, now, labelFile.getBytes(StandardCharsets.UTF_8));
            if (mapFile != null && !mapFile.isEmpty()) {
                tar.file("tablespace_map", 0600, now, mapFile.getBytes(StandardCharsets.UTF_8));
            }
            tar.finish();
            parts.add(commit(open, prefix + DATA));
            open = null;

            Matcher sw = START_WAL.matcher(labelFile);
            Matcher tl = START_TIMELINE.matcher(labelFile);
            if (!sw.find() || !tl.find()) {
                throw new BackupException("backup_label を解釈できません / cannot read the backup_label PostgreSQL"
                        + " returned");
            }
            String startWal = sw.group(2);
            int timeline = Integer.parseInt(tl.group(1));
            String stopWal;
            try (PreparedStatement ps = superuser.prepareStatement("SELECT pg_walfile_name(?::pg_lsn)")) {
                ps.setString(1, stopLsn);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    stopWal = rs.getString(1);
                }
            }

            open = new DigestingOutputStream(sink.create(prefix + WAL));
            copyWal(new Tar.Writer(open), walSpool, startWal, stopWal, timeline, segSize);
            parts.add(commit(open, prefix + WAL));
            open = null;

            Path secrets = pgData.toAbsolutePath().getParent().resolve("secrets");
            if (SECRET_FILES.stream().allMatch(f -> Files.isRegularFile(secrets.resolve(f)))) {
                open = new DigestingOutputStream(sink.create(prefix + SECRETS));
                Tar.Writer st = new Tar.Writer(open);
                for (String f : SECRET_FILES) {
                    st.file(f, 0600, now, Files.readAllBytes(secrets.resolve(f)));
                }
                st.finish();
                parts.add(commit(open, prefix + SECRETS));
                open = null;
            } else {
                log.warn("base backup {}: no database passwords in {}; a restore must be given them", label, secrets);
            }

            BackupInfo info = new BackupInfo(label, systemId, timeline, startLsn, stopLsn, startWal, stopWal, segSize,
                    version, startTime, stopTime, parts.stream().map(p -> new BackupInfo.PartInfo(p.name(), p.size(),
                    p.sha256())).toList());
            open = new DigestingOutputStream(sink.create(BackupInfo.partName(label)));
            open.write(info.encode());
            parts.add(commit(open, BackupInfo.partName(label)));
            open = null;
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            log.info("base backup {} done: {} to {} on timeline {}, {} parts, {}", label, startLsn, stopLsn, timeline,
                    parts.size(), took);
            return new Result(label, startLsn, stopLsn, timeline, systemId, startWal, stopWal, startTime, stopTime,
                    List.copyOf(parts), dbBytes, took);
        } catch (BackupException e) {
            throw e;
        } catch (IOException | SQLException | RuntimeException e) {
            throw new BackupException("バックアップ " + label + " に失敗しました / base backup " + label + " failed: "
                    + Messages.firstLine(e), e);
        } finally {
            if (open != null) {
                PartSink.abort(open.part());
            }
            if (started) {
                endBackup(superuser);
            }
        }
    }

    private static Part commit(DigestingOutputStream out, String name) throws IOException {
        out.close();
        return new Part(name, out.count(), out.sha256Hex());
    }

    /** Ends a backup that failed half-way; if the session is gone, PostgreSQL has ended it already. */
    private static void endBackup(Connection c) {
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_backup_stop(false)");
        } catch (SQLException e) {
            log.warn("could not end the failed backup on its session ({}); it ends with the session",
                    Messages.firstLine(e));
        }
    }

    private static void checkServer(Connection c, Path pgData) throws SQLException {
        String mode = queryString(c, "SELECT current_setting('archive_mode')");
        if ("off".equals(mode)) {
            throw new BackupException("WAL のアーカイブが無効です / WAL archiving is off on this server"
                    + " (archive_mode=off): a base backup would not restore");
        }
        String dir = queryString(c, "SELECT current_setting('data_directory')");
        if (!samePath(Path.of(dir), pgData)) {
            throw new BackupException("データフォルダが接続先と一致しません / " + pgData
                    + " is not the data folder of the server connected to (" + dir + ")");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(pgData.resolve("pg_tblspc"))) {
            if (ds.iterator().hasNext()) {
                throw new BackupException("テーブル空間には対応していません / tablespaces are not supported"
                        + " (pg_tblspc is not empty)");
            }
        } catch (NoSuchFileException e) {
            // no tablespaces at all
        } catch (IOException e) {
            throw new BackupException("pg_tblspc を読めません / cannot read pg_tblspc: " + Messages.firstLine(e));
        }
    }

    private static boolean samePath(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** Streams the folder {@code dir} (named {@code rel} in the archive) into {@code tar}. */
    private static void copyTree(Tar.Writer tar, Path dir, String rel, boolean top) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        } catch (NoSuchFileException e) {
            return; // a folder dropped meanwhile (e.g. DROP DATABASE): its WAL says so
        }
        children.sort(null);
        for (Path p : children) {
            String name = p.getFileName().toString();
            String childRel = rel.isEmpty() ? name : rel + "/" + name;
            if (name.startsWith("pgsql_tmp") || name.startsWith("pg_internal.init")
                    || (top && LEFT_OUT.contains(name))) {
                continue;
            }
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                continue;
            }
            if (!childRel.matches("[A-Za-z0-9._+/-]+")) {
                log.warn("base backup leaves out {}: not a name PostgreSQL writes", Messages.quote(childRel));
                continue;
            }
            long mtime = a.lastModifiedTime().toInstant().getEpochSecond();
            if (a.isDirectory()) {
                tar.directory(childRel, 0700, mtime);
                if (top && EMPTY_FOLDERS.contains(name)) {
                    if (name.equals("pg_wal")) {
                        tar.directory("pg_wal/archive_status", 0700, mtime);
                        tar.directory("pg_wal/summaries", 0700, mtime);
                    }
                    continue;
                }
                copyTree(tar, p, childRel, false);
            } else if (a.isRegularFile()) {
                FileChannel ch;
                try {
                    ch = FileChannel.open(p, StandardOpenOption.READ);
                } catch (NoSuchFileException e) {
                    continue; // removed meanwhile
                }
                try (ch) {
                    // The length seen now is the length copied (see Tar.Writer).
                    tar.file(childRel, 0600, mtime, ch.size(), ch);
                }
            } else {
                log.warn("base backup leaves out {}: neither a file nor a folder", childRel);
            }
        }
    }

    /** Copies segments {@code startWal .. stopWal}, the backup history file and the timeline histories. */
    private static void copyWal(Tar.Writer tar, Path spool, String startWal, String stopWal, int timeline,
                                long segSize) throws IOException {
        long first = WalNames.segmentNumber(startWal, segSize);
        long last = WalNames.segmentNumber(stopWal, segSize);
        for (long s = first; s <= last; s++) {
            String name = WalNames.segmentName(timeline, s, segSize);
            Path f = spool.resolve(name);
            if (!Files.isRegularFile(f) || Files.size(f) != segSize) {
                throw new BackupException("WAL セグメント " + name + " がスプールにありません / WAL segment " + name
                        + " the backup needs is missing from the spool " + spool + " (or has the wrong size)");
            }
            try (InputStream in = Files.newInputStream(f)) {
                tar.file(name, 0600, Files.getLastModifiedTime(f).toInstant().getEpochSecond(), segSize, in);
            }
        }
        List<Path> extra = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                boolean history = WalNames.isHistory(n) && WalNames.timeline(n) <= timeline;
                boolean backupFile = WalNames.isArchived(n) && n.startsWith(startWal + ".") && n.endsWith(".backup");
                if (history || backupFile) {
                    extra.add(p);
                }
            }
        }
        extra.sort(null);
        for (Path p : extra) {
            byte[] b = Files.readAllBytes(p); // both kinds are a few hundred bytes
            tar.file(p.getFileName().toString(), 0600, Files.getLastModifiedTime(p).toInstant().getEpochSecond(), b);
        }
        tar.finish();
    }

    static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Instant queryInstant(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
        }
    }
}
