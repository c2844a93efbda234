package jp.mamori.preservation;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Backups of an external PostgreSQL through pgBackRest (ADR 0010 "External PostgreSQL (pgBackRest)"; BACKUP-1, 2,
 * 4, 5): at a hospital's scale a well-kept tool that the DBA sets up (repository, {@code repo1-cipher-type},
 * retention, {@code archive_command}) rather than Mamori's own copy. Mamori runs {@code check} at start (a deviation
 * when it fails), a backup on the schedule (full on Sundays and whenever no full backup is younger than a week, else
 * differential, at the configured hour), {@code info} to list the backups and judge the recovery point, {@code verify}
 * for {@code mamori backup verify}, and drills: the newest backup restored into a scratch cluster, started with the
 * same PostgreSQL binaries on a free loopback port, checked by a Mamori server as the embedded drills are, recorded
 * (audit {@code backup.drill}, {@code backup/drills.log}), stopped and removed.
 */
public final class PgBackRestBackups implements BackupEngine {
    private static final Logger log = LoggerFactory.getLogger(PgBackRestBackups.class);
    private static final Duration BACKUP_TIMEOUT = Duration.ofHours(12);
    private static final Set<String> NOT_IN_DRILL_FOLDER = Set.of("pg", "runtime", "backup");

    private final Path dataDir;
    private final ServerConfig.BackupOptions options;
    private final ServerConfig.PgBackRestOptions pgOptions;
    private final ServerConfig.Database database;
    private final PgBackRest tool;
    private final AuditRecorder audit;
    private final Clock clock;
    private final ZoneId zone;
    private ScheduledExecutorService timer;
    private volatile Optional<String> checkProblem = Optional.empty();
    private volatile String lastProblem;
    private volatile Backups.DrillResult lastDrill;
    private jp.mamori.access.SecurityNotifier notifier = n -> { };

    PgBackRestBackups(Path dataDir, ServerConfig.BackupOptions options, ServerConfig.PgBackRestOptions pgOptions,
                      ServerConfig.Database database, PgBackRest tool, AuditRecorder audit, Clock clock, ZoneId zone) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.options = options;
        this.pgOptions = pgOptions;
        this.database = database;
        this.tool = tool;
        this.audit = audit;
        this.clock = clock;
        this.zone = zone;
    }

    /** The pgBackRest backups of the external database {@code database} of the data folder {@code dataDir}. */
    public static PgBackRestBackups open(Path dataDir, ServerConfig cfg, AuditRecorder audit, Clock clock) {
        return new PgBackRestBackups(dataDir, cfg.backup(), cfg.pgbackrest(), cfg.database(),
                new PgBackRest(cfg.pgbackrest()), audit, clock, cfg.timeZone());
    }

    public PgBackRestBackups notifying(jp.mamori.access.SecurityNotifier notifier) {
        this.notifier = java.util.Objects.requireNonNull(notifier);
        return this;
    }

    /** {@code pgbackrest check} now: empty when it passes, else why not (kept for {@link #deviations()}). */
    public Optional<String> check() {
        Optional<String> p;
        try {
            p = tool.check();
        } catch (BackupException e) {
            p = Optional.of(e.getMessage());
        }
        checkProblem = p;
        p.ifPresent(why -> log.warn("backup: {}", why));
        return p;
    }

    @Override
    public String describe() {
        return "pgBackRest stanza " + tool.stanza();
    }

    /** Whether this process runs the job now (the leader's lock, issue 18 §1, ADR 0013); always, alone. */
    private volatile java.util.function.BooleanSupplier leads = () -> true;

    /** Runs the scheduled work only while {@code leads} says this process leads it (several processes, one database). */
    public PgBackRestBackups ledBy(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    @Override
    public synchronized void start(Runnable scheduledDrill) {
        if (timer != null || !options.enabled()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-backup");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            if (!leads.getAsBoolean()) {
                return;
            }
            try {
                if (backupDue()) {
                    backupNow(Actor.server("schedule"));
                }
                if (scheduledDrill != null && options.drillDays() > 0 && drillDue()) {
                    scheduledDrill.run();
                }
            } catch (RuntimeException e) {
                log.warn("backup: scheduled pgBackRest backup or drill failed: {}", e.getMessage());
            }
        }, 15, 300, TimeUnit.SECONDS);
    }

    /** Whether the newest good backup is older than the last backup hour that has passed. */
    boolean backupDue() {
        Optional<Instant> newest = newestBackup();
        if (newest.isEmpty()) {
            return true;
        }
        ZonedDateTime now = clock.instant().atZone(zone);
        ZonedDateTime slot = now.withHour(options.hour()).withMinute(0).withSecond(0).withNano(0);
        if (slot.isAfter(now)) {
            slot = slot.minusDays(1);
        }
        return newest.get().isBefore(slot.toInstant());
    }

    private Optional<Instant> newestBackup() {
        try {
            return tool.info().newest().map(PgBackRest.Backup::stop);
        } catch (BackupException e) {
            return Optional.empty();
        }
    }

    /** Full on Sundays (the server's zone) and when no full backup is younger than 7 days; differential otherwise. */
    String typeFor(PgBackRest.Info info) {
        Instant now = clock.instant();
        boolean recentFull = info.backups().stream().anyMatch(b -> !b.error() && b.type().equals("full")
                && b.stop().isAfter(now.minus(Duration.ofDays(7))));
        boolean fullToday = info.backups().stream().anyMatch(b -> !b.error() && b.type().equals("full")
                && b.stop().atZone(zone).toLocalDate().equals(now.atZone(zone).toLocalDate()));
        boolean sunday = now.atZone(zone).getDayOfWeek() == DayOfWeek.SUNDAY;
        return !recentFull || (sunday && !fullToday) ? "full" : "diff";
    }

    @Override
    public synchronized Backups.Taken backupNow(Actor who) {
        long t0 = System.nanoTime();
        String type = "full";
        try {
            type = typeFor(tool.info());
            tool.backup(type, BACKUP_TIMEOUT);
            PgBackRest.Info after = tool.info();
            PgBackRest.Backup b = after.newest().orElseThrow(() -> new BackupException(
                    "pgBackRest の info に新しいバックアップがありません / pgBackRest info lists no backup after the backup"));
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            lastProblem = null;
            record(AuditAction.BACKUP_RUN, Outcome.SUCCESS, who, Map.of("backup", b.label(), "type", b.type(),
                    "bytes", Long.toString(b.repoSize()), "ms", Long.toString(took.toMillis()),
                    "destination", describe()));
            log.info("backup {} ({}): {} MB in the repository, {} ms", b.label(), b.type(), b.repoSize() / 1_000_000,
                    took.toMillis());
            return new Backups.Taken(b.label(), null, b.repoSize(), took);
        } catch (BackupException e) {
            lastProblem = e.getMessage();
            record(AuditAction.BACKUP_RUN, Outcome.ERROR, who, Map.of("type", type, "error", oneLine(e.getMessage()),
                    "destination", describe()));
            notice("backup.failed", Map.of("destination", describe()), "バックアップに失敗しました / a backup failed: "
                    + oneLine(e.getMessage()));
            throw e;
        }
    }

    @Override
    public List<Backups.Listed> list() {
        List<Backups.Listed> out = new ArrayList<>();
        for (PgBackRest.Backup b : tool.info().backups()) {
            out.add(new Backups.Listed(b.label(), b.stop(), b.repoSize(), 0, 0, b.error()
                    ? "pgBackRest がこのバックアップに誤りを記録しています / pgBackRest marks this backup as having errors" : null));
        }
        return out;
    }

    @Override
    public BackupEngine.Verified verifyAll(String by) {
        List<String> problems;
        try {
            problems = tool.verify(Duration.ofHours(12));
        } catch (BackupException e) {
            problems = List.of(e.getMessage());
        }
        record(AuditAction.BACKUP_VERIFY, problems.isEmpty() ? Outcome.SUCCESS : Outcome.ERROR, Actor.server(by),
                problems.isEmpty() ? Map.of("destination", describe()) : Map.of("destination", describe(), "error",
                        oneLine(problems.get(0)), "problems", Integer.toString(problems.size())));
        List<String> lines = new ArrayList<>();
        if (problems.isEmpty()) {
            for (Backups.Listed l : list()) {
                lines.add(l.id() + ": " + (l.ok() ? "ok (pgBackRest verify: every file matches its checksum)"
                        + " / 検証しました" : "REFUSED: " + l.problem()));
            }
        } else {
            problems.forEach(p -> lines.add(describe() + ": REFUSED: " + p));
        }
        return new BackupEngine.Verified(List.copyOf(lines), problems.isEmpty()
                && lines.stream().noneMatch(l -> l.contains("REFUSED")));
    }

    // ------------------------------------------------------------------ drills

    @Override
    public synchronized Backups.DrillResult drill(DrillCheck check, Actor who) {
        Instant at = clock.instant();
        long t0 = System.nanoTime();
        List<String> findings = new ArrayList<>();
        String id = null;
        Duration restoreTime = Duration.ZERO;
        Duration dataAge = Duration.ZERO;
        Path folder = dataDir.resolve("backup").resolve("drill");
        Optional<Path> scratch = pgOptions.drillDir().map(d -> d.resolve("mamori-drill-" + tool.stanza())
                .normalize());
        Optional<List<String>> wrapper = tool.wrapper();
        Path confDir = null;
        boolean started = false;
        Path pgBin = null;
        try {
            PgBackRest.Info info = tool.info();
            Optional<PgBackRest.Backup> newest = info.newest();
            if (newest.isEmpty()) {
                findings.add("復元できるバックアップがありません / there is no finished backup to restore");
            } else if (scratch.isEmpty()) {
                findings.add("訓練用フォルダが未設定です / no --backup-pgbackrest-drill-dir (a folder the database's OS"
                        + " user owns) for the scratch cluster");
            } else if (wrapper.isEmpty()) {
                findings.add("pgBackRest が別のホストで動くため訓練できません / the drill needs pgBackRest on this machine"
                        + " (directly, or through sudo/runuser), not through " + Messages.quote(pgOptions.command()
                        .get(0)));
            } else {
                id = newest.get().label();
                pgBin = Path.of("/usr/lib/postgresql", info.pgVersion(), "bin");
                if (!info.pgVersion().matches("[0-9]{1,3}") || !Files.isExecutable(pgBin.resolve("pg_ctl"))) {
                    throw new BackupException("PostgreSQL " + Messages.quote(info.pgVersion()) + " のプログラムがありません"
                            + " / the PostgreSQL binaries of version " + Messages.quote(info.pgVersion())
                            + " are not at " + pgBin + " (Debian's postgresql-" + info.pgVersion() + ")");
                }
                // A drill interrupted earlier may have left its cluster running and its files behind.
                stopScratch(wrapper.get(), pgBin, scratch.get());
                removeScratch(wrapper.get(), scratch.get());
                long r0 = System.nanoTime();
                tool.restore(id, scratch.get(), Duration.ofHours(6));
                int port = freePort();
                confDir = scratchConfig(port, scratch.get());
                exec(wrapper.get(), Duration.ofHours(6), pgBin.resolve("pg_ctl").toString(), "-D",
                        scratch.get().toString(), "-l", scratch.get().resolve("drill.log").toString(), "-w", "-t",
                        "21600", "-o", "-c config_file=" + confDir.resolve("postgresql.conf") + " -c hba_file="
                                + confDir.resolve("pg_hba.conf") + " -c ident_file=" + confDir.resolve("pg_ident.conf"),
                        "start");
                started = true;
                dataAge = Duration.between(newest.get().stop(), at);
                if (dataAge.isNegative()) {
                    dataAge = Duration.ZERO;
                }
                String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + databaseName(database.jdbcUrl().orElseThrow());
                awaitPromoted(url);
                restoreTime = Duration.ofNanos(System.nanoTime() - r0);
                copyDataFolder(folder);
                findings.addAll(check.checkExternal(folder, new ServerConfig.Database(Optional.of(url),
                        database.user(), database.password(), database.appPassword())));
            }
        } catch (Exception e) {
            findings.add(e instanceof BackupException ? e.getMessage() : "復元訓練に失敗しました / the drill failed: "
                    + oneLine(String.valueOf(e.getMessage())));
        } finally {
            if (scratch.isPresent() && wrapper.isPresent() && pgBin != null) {
                try {
                    if (started) {
                        stopScratch(wrapper.get(), pgBin, scratch.get());
                    }
                    removeScratch(wrapper.get(), scratch.get());
                } catch (RuntimeException e) {
                    findings.add("訓練用クラスタを削除できません / the scratch cluster could not be removed: "
                            + oneLine(e.getMessage()));
                }
            }
            deleteQuietly(folder);
            deleteQuietly(confDir);
        }
        Backups.DrillResult result = new Backups.DrillResult(id, at, restoreTime,
                Duration.ofNanos(System.nanoTime() - t0), dataAge, List.copyOf(findings));
        lastDrill = result;
        Map<String, String> detail = DrillLog.detail(String.valueOf(id), Optional.empty(), restoreTime,
                result.total(), dataAge, findings);
        record(AuditAction.BACKUP_DRILL, result.passed() ? Outcome.SUCCESS : Outcome.ERROR, who, detail);
        DrillLog.append(dataDir, at, result.passed(), detail);
        if (!result.passed()) {
            log.warn("backup drill of {}: FAILED: {}", id, findings);
            notice("backup.drill-failed", Map.of("backup", String.valueOf(id), "findings",
                    Integer.toString(findings.size())), "復元訓練が不合格です / a restore drill failed: "
                    + oneLine(findings.get(0)));
        } else {
            log.info("backup drill of {}: passed; restore {} ms, data age {} s", id, restoreTime.toMillis(),
                    dataAge.toSeconds());
        }
        return result;
    }

    /**
     * The scratch cluster's own settings, in a folder of this process readable by the database's OS user: loopback
     * only, a free port, its socket in the scratch folder, no archiving (never into the real repository), and
     * password logins from loopback only. The production cluster's configuration files are not used.
     */
    private static Path scratchConfig(int port, Path scratch) throws IOException {
        Path dir = Files.createTempDirectory("mamori-drill-conf-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("postgresql.conf"), "listen_addresses = '127.0.0.1'\nport = " + port
                + "\nunix_socket_directories = '" + scratch.toString().replace("'", "''") + "'\narchive_mode = off\nhot_standby = off\n"
                + "max_connections = 50\nshared_buffers = '128MB'\n");
        Files.writeString(dir.resolve("pg_hba.conf"), "host all all 127.0.0.1/32 scram-sha-256\n");
        Files.writeString(dir.resolve("pg_ident.conf"), "");
        for (String f : List.of("postgresql.conf", "pg_hba.conf", "pg_ident.conf")) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
        }
        return dir;
    }

    /** Waits (up to 6 hours) until the scratch cluster has finished recovery and accepts writes. */
    private void awaitPromoted(String url) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofHours(6).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, database.user().orElse(null),
                    database.password().orElse(null));
                 java.sql.Statement st = c.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
                last = "still in recovery";
            } catch (java.sql.SQLException e) {
                last = Messages.firstLine(e);
                if (e.getSQLState() != null && e.getSQLState().startsWith("28")) {
                    throw new BackupException("訓練用クラスタに接続できません / cannot log in to the scratch cluster: " + last);
                }
            }
            Thread.sleep(500);
        }
        throw new BackupException("訓練用クラスタの回復が終わりません / the scratch cluster did not finish recovery: " + last);
    }

    private static void stopScratch(List<String> wrapper, Path pgBin, Path scratch) {
        if (!Files.exists(scratch.resolve("postmaster.pid"))) {
            return;
        }
        try {
            exec(wrapper, Duration.ofMinutes(10), pgBin.resolve("pg_ctl").toString(), "-D", scratch.toString(), "-m",
                    "fast", "-w", "-t", "300", "stop");
        } catch (BackupException e) {
            log.warn("backup drill: the scratch cluster did not stop: {}", e.getMessage());
        }
    }

    /** Removes the scratch cluster's folder (as the database's OS user, which owns it). */
    private static void removeScratch(List<String> wrapper, Path scratch) {
        if (!scratch.getFileName().toString().startsWith("mamori-drill-")) {
            throw new IllegalStateException("not a drill folder: " + scratch);
        }
        exec(wrapper, Duration.ofMinutes(30), "rm", "-rf", "--", scratch.toString());
    }

    private static void exec(List<String> wrapper, Duration timeout, String... command) {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(List.of(command));
        PgBackRest.Ran r = PgBackRest.exec(cmd, timeout);
        if (!r.ok()) {
            throw new BackupException(Path.of(command[0]).getFileName() + " に失敗しました / " + Path.of(command[0])
                    .getFileName() + " failed (exit " + r.exit() + "): " + oneLine((r.err() + "\n" + r.out()).strip()));
        }
    }

    /** The data folder's own files (keys, certificates, the audit anchor) for the drill's server, as a backup has them. */
    private void copyDataFolder(Path folder) throws IOException {
        deleteQuietly(folder);
        Files.createDirectories(folder);
        try (Stream<Path> s = Files.walk(dataDir)) {
            for (Path p : s.filter(p -> !p.equals(dataDir)).sorted().toList()) {
                Path rel = dataDir.relativize(p);
                if (NOT_IN_DRILL_FOLDER.contains(rel.getName(0).toString()) || p.startsWith(options.dir())
                        || rel.getFileName().toString().endsWith(".lock") || Files.isSymbolicLink(p)) {
                    continue;
                }
                Path q = folder.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else if (Files.isRegularFile(p)) {
                    Files.copy(p, q);
                }
            }
        }
    }

    static String databaseName(String jdbcUrl) {
        String rest = jdbcUrl.substring("jdbc:postgresql://".length());
        int slash = rest.indexOf('/');
        String db = slash < 0 ? "postgres" : rest.substring(slash + 1);
        int q = db.indexOf('?');
        return q < 0 ? db : db.substring(0, q);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) {
            return;
        }
        try {
            Restore.deleteTree(p);
        } catch (IOException e) {
            log.warn("backup drill: could not delete {}: {}", p, e.toString());
        }
    }

    @Override
    public Optional<Instant> lastDrillAt() {
        Backups.DrillResult d = lastDrill;
        if (d != null) {
            return Optional.of(d.at());
        }
        return DrillLog.read(dataDir.resolve("backup").resolve("drills.log")).map(DrillLog.Drill::at);
    }

    boolean drillDue() {
        Optional<Instant> last = lastDrillAt();
        return newestBackup().isPresent() && (last.isEmpty()
                || last.get().isBefore(clock.instant().minus(Duration.ofDays(options.drillDays()))));
    }

    // ------------------------------------------------------------------ deviations

    /**
     * What falls short now: pgBackRest's check failed, its repository is not encrypted, the stanza is not ok, no
     * backup or the newest older than a day and a half (the recovery point), the last backup failed, no drill within
     * the policy or the last one failed.
     */
    @Override
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        if (!options.enabled()) {
            return out;
        }
        checkProblem.ifPresent(p -> out.add("pgBackRest check fails, so WAL archiving or the repository is broken: " + p
                + " (BACKUP-1) / pgBackRest の確認に失敗しました"));
        try {
            PgBackRest.Info info = tool.info();
            if (!info.encrypted()) {
                out.add("pgBackRest's repository is not encrypted (repo1-cipher-type=" + (info.cipher().isEmpty()
                        ? "none" : info.cipher()) + "): a leaked copy can be read; set repo1-cipher-type=aes-256-cbc"
                        + " (BACKUP-4, CRYPTO-1) / バックアップが暗号化されていません");
            }
            if (info.statusCode() != 0 && info.statusCode() != 2) {
                out.add("pgBackRest stanza " + tool.stanza() + ": " + oneLine(info.status()) + " (BACKUP-1)"
                        + " / pgBackRest の状態が正常ではありません");
            }
            Optional<PgBackRest.Backup> newest = info.newest();
            if (newest.isEmpty()) {
                out.add("pgBackRest holds no backup of stanza " + tool.stanza() + " yet (BACKUP-1) / バックアップがありません");
            } else if (newest.get().stop().isBefore(clock.instant().minus(Duration.ofHours(36)))) {
                out.add("the newest backup is from " + newest.get().stop() + ", more than a day and a half ago"
                        + " (BACKUP-5) / 最新のバックアップが古すぎます");
            }
        } catch (BackupException e) {
            out.add("pgBackRest info fails: " + e.getMessage() + " / pgBackRest の情報を取得できません");
        }
        String problem = lastProblem;
        if (problem != null) {
            out.add("the last backup failed: " + problem + " / 直近のバックアップが失敗しました");
        }
        if (pgOptions.drillDir().isEmpty()) {
            out.add("no --backup-pgbackrest-drill-dir: restores of the external database are not drilled (BACKUP-5)"
                    + " / 復元訓練の場所が設定されていません");
        }
        Optional<Instant> drilled = lastDrillAt();
        if (options.drillDays() > 0 && (drilled.isEmpty()
                || drilled.get().isBefore(clock.instant().minus(Duration.ofDays(options.drillDays()))))) {
            out.add("no restore drill within " + options.drillDays() + " days" + drilled.map(d -> " (last: " + d + ")")
                    .orElse(" (never)") + ": ./mamori backup drill (BACKUP-5) / 復元訓練が実施されていません");
        }
        Backups.DrillResult own = lastDrill;
        Optional<DrillLog.Drill> last = own != null ? Optional.of(DrillLog.of(own))
                : DrillLog.read(dataDir.resolve("backup").resolve("drills.log"));
        if (last.isPresent() && !last.get().passed()) {
            out.add("the last restore drill (" + last.get().at() + ") failed: " + last.get().findings().stream()
                    .findFirst().orElse("see backup/drills.log") + " / 直近の復元訓練が失敗しました");
        }
        return out;
    }

    // ------------------------------------------------------------------ helpers

    private void record(AuditAction action, Outcome outcome, Actor who, Map<String, String> detail) {
        Backups.record(audit, action, outcome, who, detail);
    }

    private void notice(String event, Map<String, String> fields, String text) {
        try {
            notifier.notify(new jp.mamori.access.SecurityNotifier.Notice(event, clock.instant(), null, fields, text));
        } catch (RuntimeException e) {
            log.warn("backup: security notice {} not delivered: {}", event, e.toString());
        }
    }

    private static String oneLine(String s) {
        return Backups.oneLine(s);
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
