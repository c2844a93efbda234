package jp.mamori.preservation;

import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Outcome;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.records.RecordCensus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Preservation (保存性; ADR 0010): the one entry to this installation's backups. A base backup is PostgreSQL's own
 * physical copy ({@link BaseBackup}) plus the data folder's other files (signing keys, sealing keys, certificates,
 * the audit anchor), every part sealed ({@link Envelope}) and listed with its SHA-256 in a signed manifest written
 * last; closed WAL segments are sealed and shipped as they come ({@link WalShipper}). On a destination folder:
 * <pre>
 *   DIR/INSTALLATION/base/ID/{data.tar, wal.tar, db-secrets.tar, folder.tar, backup.info}   sealed
 *   DIR/INSTALLATION/base/ID/manifest.json, manifest.sig                                     signed, not sealed
 *   DIR/INSTALLATION/wal/SEGMENT                                                             sealed
 * </pre>
 * A backup whose manifest is missing did not finish, and is neither listed as a backup nor restored.
 */
public final class Backups implements BackupEngine {
    private static final Logger log = LoggerFactory.getLogger(Backups.class);
    /** The data folder's files a restore needs besides the database: all but these. */
    private static final Set<String> NOT_IN_FOLDER_PART = Set.of("pg", "runtime", "backup");
    static final String FOLDER_PART = "folder.tar";
    static final String MANIFEST = "manifest.json";
    static final String SIGNATURE = "manifest.sig";
    private static final DateTimeFormatter ID = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path dataDir;
    private final ServerConfig.BackupOptions options;
    private final BackupKeys keys;
    private final FolderParts destination;
    private final AuditRecorder audit;
    private final Clock clock;
    private final java.time.ZoneId zone;
    private ScheduledExecutorService timer;
    /** The daily work (base backup, pruning, copies, the drill) on a thread of its own: shipping never waits for it. */
    private ScheduledExecutorService daily;
    /** Shipping's own lock: a base backup (which holds this object's lock for its whole run) never delays the WAL. */
    private final Object shipLock = new Object();
    private volatile Instant lastBackup;
    private volatile String lastProblem;
    private volatile String lastShipProblem;
    /** When WAL shipping last ran without a failure in this process; null before (health report, issue 18). */
    private volatile Instant lastShipAt;
    private WalShipper shipper;
    private volatile DrillResult lastDrill;
    private OfflineCopy offline;
    private final ObjectLockUpkeep s3;
    private final Object s3Drill = new Object();
    private jp.mamori.access.SecurityNotifier notifier = n -> { };

    private Backups(Path dataDir, ServerConfig.BackupOptions options, BackupKeys keys, AuditRecorder audit,
                    Clock clock, java.time.ZoneId zone) {
        this.zone = zone;
        this.dataDir = dataDir;
        this.options = options;
        this.keys = keys;
        this.destination = new FolderParts(options.dir().resolve(keys.installationId()));
        this.audit = audit;
        this.clock = clock;
        this.s3 = new ObjectLockUpkeep(options == null ? Optional.empty() : options.s3(), () -> new ObjectLockCopy(
                destination, keys.installationId(), keys.signerPublicKey(), options.s3().get(), options.keep(), zone,
                dataDir.resolve("backup").resolve("state")), clock, this::record, this::notice);
    }

    /**
     * The backups of the data folder {@code dataDir}, its keys created on first use (with the recovery sheet to print;
     * ADR 0010). {@code audit} records each backup, verification and restore (null: not recorded). The daily
     * backup's hour is in {@code zone}.
     */
    public static Backups open(Path dataDir, ServerConfig.BackupOptions options, AuditRecorder audit, Clock clock,
                               java.time.ZoneId zone) {
        return new Backups(dataDir.toAbsolutePath().normalize(), options, BackupKeys.loadOrCreate(dataDir), audit,
                clock, zone);
    }

    /** Where failed backups, drills and shipments are sent as security notices (default: nowhere but the log). */
    public Backups notifying(jp.mamori.access.SecurityNotifier notifier) {
        this.notifier = java.util.Objects.requireNonNull(notifier);
        return this;
    }

    private void notice(String event, Map<String, String> fields, String text) {
        try {
            notifier.notify(new jp.mamori.access.SecurityNotifier.Notice(event, clock.instant(), null, fields, text));
        } catch (RuntimeException e) {
            log.warn("backup: security notice {} not delivered: {}", event, e.toString());
        }
    }

    public BackupKeys keys() {
        return keys;
    }

    /** The data folder these backups are of (its {@code backup/drills.log}: {@link DrillLog}). */
    Path dataDir() {
        return dataDir;
    }

    /** Where this installation's copies are: {@code DIR/INSTALLATION}. */
    public Path destination() {
        return destination.root();
    }

    @Override
    public String describe() {
        return destination.root().toString();
    }

    /** Every finished backup against its signed manifest ({@link #verify(String, String)}), a line each. */
    @Override
    public BackupEngine.Verified verifyAll(String by) {
        List<String> lines = new ArrayList<>();
        boolean ok = true;
        for (Listed l : list()) {
            try {
                Manifest m = verify(l.id(), by);
                lines.add(l.id() + ": ok, " + m.parts().size() + " parts match the signed manifest / 検証しました");
            } catch (BackupException e) {
                ok = false;
                lines.add(l.id() + ": REFUSED: " + e.getMessage());
            }
        }
        return new BackupEngine.Verified(List.copyOf(lines), ok);
    }

    // ------------------------------------------------------------------ running with the server

    /**
     * Starts the server's backup work: every 10 s the closed WAL segments are sealed and shipped; every 5 minutes,
     * a base backup when the newest is from before today's backup hour (or older than a day), the first one soon
     * after the first start; and {@code scheduledDrill} when a drill is due (the server runs it as a process of its
     * own, so that a drill's second server never shares the serving JVM's memory). With backups off ({@code --no-backup}, a deviation) the spool is emptied instead, so
     * that WAL archiving (always on, so that no gap appears when backups are turned on) never fills the disk.
     */
    @Override
    public synchronized void start(Runnable scheduledDrill) {
        if (timer != null) {
            return;
        }
        cleanInterruptedDrill();
        timer = lowPriorityTimer("mamori-backup");
        Path spool = Database.walSpool(dataDir);
        if (!options.enabled()) {
            timer.scheduleWithFixedDelay(() -> discardSpool(spool), 10, 60, TimeUnit.SECONDS);
            return;
        }
        timer.scheduleWithFixedDelay(() -> {
            try {
                shipWal();
            } catch (RuntimeException e) {
                log.warn("backup: WAL shipping failed: {}", e.getMessage());
            }
        }, 5, 10, TimeUnit.SECONDS);
        // The daily work on its own thread: a long base backup or a drill (up to hours at hospital scale) never
        // holds up the WAL shipping above, so the recovery point stays within minutes meanwhile.
        daily = lowPriorityTimer("mamori-backup-daily");
        daily.scheduleWithFixedDelay(() -> {
            try {
                // the check and the backup under the one lock backupNow takes: a backup someone started meanwhile
                // (an administrator, a tool) finishes first and then counts, so the schedule never takes a second
                synchronized (Backups.this) {
                    if (baseBackupDue()) {
                        backupNow("schedule");
                        prune("schedule");
                    }
                }
                refreshOffline("schedule");
                s3.soon(false); // retries a failed upload; lists the bucket when nothing is new
                if (scheduledDrill != null && options.drillDays() > 0 && drillDue()) {
                    scheduledDrill.run();
                }
            } catch (RuntimeException e) {
                log.warn("backup: scheduled backup or drill failed: {}", e.getMessage());
            }
        }, 15, 300, TimeUnit.SECONDS);
    }

    /** A single background thread at idle priority (LowPriority), a daemon. */
    private static ScheduledExecutorService lowPriorityTimer(String name) {
        return Executors.newSingleThreadScheduledExecutor(LowPriority.threads(name));
    }

    /**
     * Seals and ships the WAL segments archived since the last call (the server does it every 10 s). It has a lock of
     * its own, so it goes on while a base backup runs (the backup's note in the spool keeps the segments it copies).
     */
    public WalShipper.Result shipWal() {
        synchronized (shipLock) {
            return shipOnce();
        }
    }

    private WalShipper.Result shipOnce() {
        if (shipper == null) {
            shipper = new WalShipper(Database.walSpool(dataDir), dataDir.resolve("backup").resolve("state"),
                    new SealedParts(destination, new Envelope(keys), Envelope.Opener.of(keys)));
        }
        try {
            WalShipper.Result r = shipper.shipOnce();
            lastShipProblem = null;
            lastShipAt = clock.instant();
            if (r.shipped().values().stream().anyMatch(l -> !l.isEmpty())) {
                s3.soon(false);
            }
            return r;
        } catch (RuntimeException e) {
            if (lastShipProblem == null) {
                notice("backup.wal-failed", Map.of("destination", destination.root().toString()),
                        "WAL の送付に失敗しました / WAL shipping failed: " + oneLine(String.valueOf(e.getMessage())));
            }
            lastShipProblem = String.valueOf(e.getMessage());
            throw e;
        }
    }

    /** When WAL shipping last ran without failing in this process (empty before its first run). */
    public Optional<Instant> lastWalShipAt() {
        return Optional.ofNullable(lastShipAt);
    }

    /** Why WAL shipping failed the last time it ran, or empty when it worked. */
    public Optional<String> walProblem() {
        return Optional.ofNullable(lastShipProblem);
    }

    /** When the newest finished backup was taken (this process's last, else the newest on the destination). */
    public Optional<Instant> newestBackupAt() {
        Instant newest = lastBackup;
        if (newest != null) {
            return Optional.of(newest);
        }
        return list().stream().filter(Listed::ok).map(Listed::createdAt).filter(java.util.Objects::nonNull)
                .max(Instant::compareTo);
    }

    /** The backup settings this installation runs with. */
    public ServerConfig.BackupOptions options() {
        return options;
    }

    /** Whether a drill is due: a finished backup exists and the last drill is older than the policy's days. */
    boolean drillDue() {
        Optional<Instant> last = lastDrillAt();
        return list().stream().anyMatch(Listed::ok) && (last.isEmpty()
                || last.get().isBefore(clock.instant().minus(Duration.ofDays(options.drillDays()))));
    }

    /** When the last drill ran (this process or an earlier one, from {@code backup/drills.log}). */
    public Optional<Instant> lastDrillAt() {
        DrillResult d = lastDrill;
        if (d != null) {
            return Optional.of(d.at());
        }
        Path logFile = dataDir.resolve("backup").resolve("drills.log");
        try {
            if (!Files.exists(logFile)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(logFile);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String line = lines.get(i);
                int sp = line.indexOf(' ');
                if (sp > 0) {
                    try {
                        return Optional.of(Instant.parse(line.substring(0, sp)));
                    } catch (java.time.format.DateTimeParseException ignored) {
                        // not a drill line
                    }
                }
            }
        } catch (IOException e) {
            log.warn("backup: cannot read {}: {}", logFile, e.toString());
        }
        return Optional.empty();
    }

    /** Whether the newest finished backup is older than the last backup hour that has passed (or than a day). */
    boolean baseBackupDue() {
        Instant newest = lastBackup;
        if (newest == null) {
            newest = list().stream().filter(Listed::ok).map(Listed::createdAt).max(Instant::compareTo).orElse(null);
        }
        if (newest == null) {
            return true;
        }
        java.time.ZonedDateTime now = clock.instant().atZone(zone);
        java.time.ZonedDateTime slot = now.withHour(options.hour()).withMinute(0).withSecond(0).withNano(0);
        if (slot.isAfter(now)) {
            slot = slot.minusDays(1);
        }
        return newest.isBefore(slot.toInstant());
    }

    private static void discardSpool(Path spool) {
        try {
            if (!Files.isDirectory(spool) || SpoolHold.held(spool)) {
                return;
            }
            try (Stream<Path> s = Files.list(spool)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    if (!p.getFileName().toString().startsWith(".")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("backup: could not empty the WAL spool: {}", e.toString());
        }
    }

    /**
     * What falls short of the guideline now, one line each (the settings' own deviations are the configuration's):
     * backups off, no offline copy, the backup folder on the data folder's disk, the recovery sheet still on the
     * server, no finished backup within a day and a half, the last backup or shipment failed.
     */
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        if (!options.enabled()) {
            return out; // the configuration reports it
        }
        s3.deviation().ifPresent(out::add);
        if (options.offlineDir().isEmpty() && options.s3().isEmpty()) {
            out.add("no offline or write-protected backup copy (--backup-offline-dir, --backup-s3-bucket): ransomware"
                    + " on this server can reach every backup (BACKUP-1, BACKUP-3) / オフラインの複製がありません");
        } else if (options.offlineDir().isPresent()) {
            offline().get().status(dataDir.resolve("backup").resolve("state"), clock.instant(),
                    options.offlineMaxDays()).deviation().ifPresent(out::add);
        }
        try {
            Files.createDirectories(options.dir());
            if (Files.getFileStore(options.dir()).equals(Files.getFileStore(dataDir))) {
                out.add("the backup folder " + options.dir() + " is on the data folder's disk: one lost disk loses"
                        + " both (BACKUP-7) / バックアップが同じディスクにあります");
            }
        } catch (IOException e) {
            out.add("the backup folder " + options.dir() + " cannot be used: " + e.getMessage());
        }
        if (keys.recoverySheetPending()) {
            out.add("the recovery sheet " + BackupKeys.recoverySheet(dataDir) + " is still on the server: print it or"
                    + " put it in escrow, then ./mamori backup recovery-sheet-done (CRYPTO-1) / 復旧鍵の用紙が未処理です");
        }
        Optional<Instant> newest = list().stream().filter(Listed::ok).map(Listed::createdAt).max(Instant::compareTo);
        if (newest.isPresent() && newest.get().isBefore(clock.instant().minus(Duration.ofHours(36)))) {
            out.add("the newest backup is from " + newest.get() + ", more than a day and a half ago (BACKUP-5)"
                    + " / 最新のバックアップが古すぎます");
        }
        String problem = lastProblem;
        if (problem != null) {
            out.add("the last backup failed: " + problem + " / 直近のバックアップが失敗しました");
        }
        Optional<Instant> drilled = lastDrillAt();
        if (options.drillDays() > 0 && (drilled.isEmpty()
                || drilled.get().isBefore(clock.instant().minus(Duration.ofDays(options.drillDays()))))) {
            out.add("no restore drill within " + options.drillDays() + " days" + drilled.map(d -> " (last: " + d + ")")
                    .orElse(" (never)") + ": ./mamori backup drill (BACKUP-5) / 復元訓練が実施されていません");
        }
        Optional<DrillLog.Drill> drill = DrillLog.last(this);
        if (drill.isPresent() && !drill.get().passed()) {
            out.add("the last restore drill (" + drill.get().at() + ") failed: " + drill.get().findings().stream()
                    .findFirst().orElse("see backup/drills.log") + " / 直近の復元訓練が失敗しました");
        }
        String shipping = lastShipProblem;
        if (shipping != null) {
            out.add("WAL shipping fails: " + shipping + " / WAL の送付に失敗しています");
        }
        return out;
    }

    // ------------------------------------------------------------------ taking

    /** What one base backup wrote. */
    public record Taken(String id, Manifest manifest, long sealedBytes, Duration took) {
    }

    /** Takes a base backup now (the embedded database must be running: the server's or the command line's). */
    public Taken backupNow(String by) {
        return backupNow(jp.mamori.audit.Actor.server(by));
    }

    /** The same, recorded as done by {@code who} (a person who asked for it in the console). */
    public synchronized Taken backupNow(jp.mamori.audit.Actor who) {
        String id = ID.format(clock.instant());
        long t0 = System.nanoTime();
        Envelope envelope = new Envelope(keys);
        SealedParts sink = new SealedParts(destination, envelope, Envelope.Opener.of(keys));
        try (Connection c = superuser()) {
            if (!destination.list(BackupInfo.prefix(id)).isEmpty()) {
                throw new BackupException("バックアップ " + id + " は既にあります / backup " + id
                        + " exists already: wait a second and try again");
            }
            RecordCensus census = RecordCensus.of(c);
            long auditNext = AuditTrail.nextSeq(c);
            // The folder part first: its audit anchor must not hold a checkpoint signed after the database copy ends,
            // or a restored server (or a move onto an external database) would read that as removed checkpoints.
            // At idle priority: on a busy server the backup yields to the clinicians' requests (LowPriority).
            BaseBackup.Result r = atLowPriority(() -> {
                writeFolderPart(sink, id);
                return BaseBackup.take(c, dataDir.resolve("pg"), Database.walSpool(dataDir), new BusyThrottle(sink),
                        id);
            });
            Manifest.Builder m = Manifest.builder().installationId(keys.installationId()).backupId(id).kind("full")
                    .createdAt(r.stopTime()).postgres(postgresVersion(c), Long.toUnsignedString(r.systemIdentifier()))
                    .wal(r.timeline(), r.startLsn(), r.stopLsn())
                    .records(census.newestVersion(), census.versions()).auditNextSeq(auditNext)
                    .resourceCounts(census.resources());
            long bytes = 0;
            for (Manifest.Part p : sink.sealed()) {
                m.part(p);
                bytes += p.sealedSize();
            }
            Manifest manifest = m.build();
            Manifest.Signed signed = manifest.sign(keys);
            // The signature first, the manifest last: a backup is listed only once its manifest is there.
            write(BackupInfo.prefix(id) + SIGNATURE, signed.signature());
            write(BackupInfo.prefix(id) + MANIFEST, signed.json());
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            lastBackup = clock.instant();
            lastProblem = null;
            record(AuditAction.BACKUP_RUN, Outcome.SUCCESS, who, Map.of("backup", id, "bytes", Long.toString(bytes),
                    "manifest_sha256", sha256(signed.json()), "ms", Long.toString(took.toMillis()),
                    "destination", destination.root().toString()));
            log.info("backup {}: {} MB sealed to {} in {} ms", id, bytes / 1_000_000, destination.root(),
                    took.toMillis());
            s3.soon(true);
            return new Taken(id, manifest, bytes, took);
        } catch (SQLException | IOException | RuntimeException e) {
            String why = e instanceof BackupException ? e.getMessage() : "バックアップに失敗しました / backup failed: "
                    + e.getMessage();
            lastProblem = why;
            record(AuditAction.BACKUP_RUN, Outcome.ERROR, who, Map.of("backup", id, "error", oneLine(why)));
            notice("backup.failed", Map.of("backup", id, "destination", destination.root().toString()),
                    "バックアップに失敗しました / a backup failed: " + oneLine(why));
            throw e instanceof BackupException b ? b : new BackupException(why, e);
        }
    }

    private static <T> T atLowPriority(LowPriority.Work<T> work) throws SQLException, IOException {
        try {
            return LowPriority.call(work);
        } catch (SQLException | IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            throw new BackupException("バックアップが中断されました / the backup was interrupted", e);
        } catch (Exception e) {
            throw new BackupException(String.valueOf(e.getMessage()), e);
        }
    }

    /** The data folder's own files (all but the database, its runtime and the backup spool), as one sealed tar. */
    private void writeFolderPart(SealedParts sink, String id) throws IOException {
        OutputStream out = sink.create(BackupInfo.prefix(id) + FOLDER_PART);
        try {
            Tar.Writer tar = new Tar.Writer(out);
            List<Path> files;
            try (Stream<Path> s = Files.walk(dataDir)) {
                files = s.filter(p -> !p.equals(dataDir)).sorted().toList();
            }
            Path recoverySheet = BackupKeys.recoverySheet(dataDir);
            Path backupDir = options.dir();
            for (Path p : files) {
                Path rel = dataDir.relativize(p);
                if (NOT_IN_FOLDER_PART.contains(rel.getName(0).toString()) || p.startsWith(backupDir)
                        || p.equals(recoverySheet) || rel.getFileName().toString().endsWith(".lock")
                        || Files.isSymbolicLink(p)) {
                    continue;
                }
                String name = rel.toString().replace('\\', '/');
                long mtime = Files.getLastModifiedTime(p).toMillis() / 1000;
                if (Files.isDirectory(p)) {
                    tar.directory(name, 0700, mtime);
                } else if (Files.isRegularFile(p)) {
                    tar.file(name, 0600, mtime, Files.readAllBytes(p));
                }
            }
            tar.finish();
            out.close();
        } catch (IOException | RuntimeException e) {
            PartSink.abort(out);
            throw e;
        }
    }

    // ------------------------------------------------------------------ generations and the offline copy

    /**
     * Deletes the backups no generation rule keeps any more (ADR 0010 §4: the manifest first, so a half-deleted
     * backup is never listed as finished) and the shipped WAL older than the oldest daily backup's start; records
     * what went in the audit trail. Returns what was deleted.
     */
    public synchronized Pruned prune(String by) {
        List<Generations.Kept> kept = new ArrayList<>();
        for (String id : ids()) {
            try {
                Manifest m = manifest(id);
                kept.add(new Generations.Kept(id, m.createdAt(), startSegment(m)));
            } catch (BackupException e) {
                log.warn("backup: {} is left alone by pruning: {}", id, e.getMessage());
            }
        }
        List<String> leftovers = deleteLeftovers(clock.instant());
        if (!leftovers.isEmpty()) {
            record(AuditAction.BACKUP_DELETE, Outcome.SUCCESS, by, Map.of("unfinished", String.join(",", leftovers)));
        }
        if (kept.isEmpty()) {
            return new Pruned(leftovers, 0, 0, 0);
        }
        Generations.Plan plan = Generations.plan(kept, options.keep(), zone, clock.instant());
        List<String> shipped = destination.list(WalShipper.PREFIX).stream()
                .map(n -> n.substring(WalShipper.PREFIX.length())).toList();
        Generations.Deleted d = Generations.apply(destination, plan, shipped);
        if (!d.backups().isEmpty() || !d.wal().isEmpty()) {
            record(AuditAction.BACKUP_DELETE, Outcome.SUCCESS, by, Map.of("backups", String.join(",", d.backups()),
                    "wal_files", Integer.toString(d.wal().size()), "bytes", Long.toString(d.bytes()),
                    "kept", Integer.toString(plan.kept().size())));
            log.info("backup: pruned {} backups and {} WAL files ({} MB); {} kept", d.backups().size(),
                    d.wal().size(), d.bytes() / 1_000_000, plan.kept().size());
        }
        List<String> gone = new ArrayList<>(d.backups());
        gone.addAll(leftovers);
        return new Pruned(List.copyOf(gone), d.wal().size(), d.bytes(), plan.kept().size());
    }

    /** How long a backup folder without a manifest is left alone: it may be a backup another process is writing. */
    static final Duration LEFTOVER_AGE = Duration.ofHours(24);

    /**
     * Deletes what unfinished backups left behind: a backup folder without a manifest (a backup that failed or was
     * killed half-way, or a deletion that was interrupted after its manifest went), once nothing in it has changed for
     * {@link #LEFTOVER_AGE}. Without this such parts would stay forever, since nothing lists a backup without its
     * manifest. Returns the backup ids whose leftovers were deleted.
     */
    private List<String> deleteLeftovers(Instant now) {
        Path base = destination.root().resolve("base");
        if (!Files.isDirectory(base, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<String> deleted = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(base)) {
            for (Path dir : dirs.toList()) {
                if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        || Files.exists(dir.resolve(MANIFEST), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                List<Path> files;
                try (Stream<Path> f = Files.list(dir)) {
                    files = f.toList();
                }
                Instant newest = Files.getLastModifiedTime(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant();
                for (Path f : files) {
                    if (Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        newest = now; // not something a backup writes: leave it for a person to look at
                        break;
                    }
                    Instant m = Files.getLastModifiedTime(f, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant();
                    newest = m.isAfter(newest) ? m : newest;
                }
                if (newest.isAfter(now.minus(LEFTOVER_AGE))) {
                    continue;
                }
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
                Files.deleteIfExists(dir);
                FolderParts.forceDirectory(base);
                deleted.add(dir.getFileName().toString());
                log.info("backup: deleted what the unfinished backup {} left ({} files)", dir.getFileName(),
                        files.size());
            }
        } catch (IOException e) {
            log.warn("backup: cannot clean unfinished backups in {}: {}", base, e.getMessage());
        }
        return deleted;
    }

    /** What pruning deleted, and how many backups it kept. */
    public record Pruned(List<String> backups, int walFiles, long bytes, int kept) {
    }

    /** The WAL segment a backup's recovery starts from, from its start location (16 MiB segments). */
    static String startSegment(Manifest m) {
        String[] lsn = m.startWal().split("/");
        long pos = (Long.parseLong(lsn[0], 16) << 32) | Long.parseLong(lsn[1], 16);
        long seg = 16L << 20;
        return WalNames.segmentName(m.timeline(), pos / seg, seg);
    }

    /** The offline copy, when {@code --backup-offline-dir} is set. */
    Optional<OfflineCopy> offline() {
        if (options == null || options.offlineDir().isEmpty()) {
            return Optional.empty();
        }
        synchronized (this) {
            if (offline == null) {
                offline = new OfflineCopy(destination, options.offlineDir().get(), keys.installationId(),
                        keys.signerPublicKey(), dataDir.resolve("backup").resolve("state"));
            }
            return Optional.of(offline);
        }
    }

    /** Every backup on the offline medium against its signed manifest: a line per problem, none when sound. */
    public List<String> verifyOffline() {
        return offline().map(OfflineCopy::verify).orElse(List.of("no offline medium is configured"));
    }

    /**
     * How often a refresh of the offline copy also re-reads what the medium already holds (each part's SHA-256, not
     * only its size): media decay, and a damaged file of the same size is found within a week, not only by an
     * operator's {@code backup offline --verify}.
     */
    static final Duration OFFLINE_FULL_CHECK = Duration.ofDays(7);
    static final String OFFLINE_FULL_CHECK_STATE = "offline-full-check";

    private static boolean fullCheckDue(Path state, Instant now) {
        try {
            String s = Files.readString(state, StandardCharsets.US_ASCII).strip();
            return Instant.parse(s).plus(OFFLINE_FULL_CHECK).isBefore(now);
        } catch (IOException | java.time.format.DateTimeParseException e) {
            return true; // never checked in full (or the note is unreadable): check now
        }
    }

    /**
     * Copies what is new to the offline medium when it is present (marked {@code MAMORI-OFFLINE}); once a week
     * ({@link #OFFLINE_FULL_CHECK}) it also re-reads every part already there and copies a damaged one again.
     */
    public Optional<OfflineCopy.Refresh> refreshOffline(String by) {
        Optional<OfflineCopy> o = offline();
        if (o.isEmpty()) {
            return Optional.empty();
        }
        try {
            Instant now = clock.instant();
            Path fullCheck = dataDir.resolve("backup").resolve("state").resolve(OFFLINE_FULL_CHECK_STATE);
            boolean full = fullCheckDue(fullCheck, now);
            OfflineCopy.Refresh r = o.get().refresh(now, full);
            if (full && r.present() && r.problems().isEmpty()) {
                Files.createDirectories(fullCheck.getParent());
                Path tmp = fullCheck.resolveSibling(OFFLINE_FULL_CHECK_STATE + ".tmp");
                Files.writeString(tmp, now + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, fullCheck, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            if (r.present() && (!r.backups().isEmpty() || !r.problems().isEmpty())) {
                record(AuditAction.BACKUP_RUN, r.problems().isEmpty() ? Outcome.SUCCESS : Outcome.ERROR, by,
                        Map.of("offline", options.offlineDir().get().toString(), "backups",
                                String.join(",", r.backups()), "wal_files", Integer.toString(r.walFiles().size()),
                                "problems", Integer.toString(r.problems().size())));
                log.info("backup: offline copy refreshed: {}", r.summary());
            }
            return Optional.of(r);
        } catch (IOException e) {
            throw new BackupException("オフライン複製の点検記録を書けません / cannot record the offline copy's check: "
                    + Messages.firstLine(e), e);
        } catch (BackupException e) {
            lastProblem = e.getMessage();
            record(AuditAction.BACKUP_RUN, Outcome.ERROR, by, Map.of("offline", options.offlineDir().get().toString(),
                    "error", oneLine(e.getMessage())));
            notice("backup.offline-failed", Map.of("offline", options.offlineDir().get().toString()),
                    "オフライン複製に失敗しました / the offline copy failed: " + oneLine(e.getMessage()));
            throw e;
        }
    }

    /**
     * Replaces the recovery key ({@link BackupKeys#rotateRecoveryKey}) and records it; backups taken after this (by a
     * process that loads the keys anew) are sealed for the new key, whose sheet is now on the server.
     */
    public BackupKeys.Rotation rotateRecoveryKey(String by) {
        try {
            BackupKeys.Rotation r = BackupKeys.rotateRecoveryKey(dataDir);
            record(AuditAction.BACKUP_KEY_ROTATE, Outcome.SUCCESS, by, Map.of("recovery_key", r.keyId(),
                    "previous_recovery_key", r.previousKeyId()));
            return r;
        } catch (BackupException e) {
            record(AuditAction.BACKUP_KEY_ROTATE, Outcome.ERROR, by, Map.of("error", oneLine(e.getMessage())));
            throw e;
        }
    }

    // ------------------------------------------------------------------ the Object Lock copy

    /** The Object Lock copy, when {@code --backup-s3-bucket} is set (its credentials file read on first use). */
    public Optional<ObjectLockCopy> objectLockCopy() {
        return s3.copy();
    }

    /**
     * Uploads what is new to the Object Lock copy (BACKUP-3), recorded in the audit trail; a failure is recorded, sent
     * as a security notice when it starts, reported as a deviation until an upload succeeds, and thrown (one line).
     */
    public Optional<ObjectLockCopy.Refresh> refreshS3(String by) {
        return s3.refresh(by);
    }

    /** Every backup in the bucket against its signed manifest: a line per problem, none when sound. */
    public List<String> verifyS3() {
        return s3.copy().map(ObjectLockCopy::verify).orElse(List.of("no Object Lock copy is configured"
                + " (--backup-s3-bucket) / オブジェクトロック複製が設定されていません"));
    }

    /** Deletes the bucket's versions past their date that no generation keeps; each is recorded in the trail. */
    public List<ObjectLockCopy.Expired> expireS3(String by) {
        return s3.expire(by);
    }

    /**
     * A restore drill of the newest backup in the bucket (BACKUP-5 for the Object Lock copy): it is downloaded into
     * {@code <data>/backup/s3-download} (checked against its signed manifest as it comes), then drilled as any other.
     */
    public DrillResult drillFromS3(DrillCheck check, String by) {
        ObjectLockCopy c = s3.copy().orElseThrow(() -> new BackupException("オブジェクトロック複製が設定されていません /"
                + " no Object Lock copy is configured (--backup-s3-bucket)"));
        synchronized (s3Drill) { // one download folder: one drill from the bucket at a time
            return drillFromS3(c, check, by);
        }
    }

    private DrillResult drillFromS3(ObjectLockCopy c, DrillCheck check, String by) {
        Path into = dataDir.resolve("backup").resolve("s3-download");
        try {
            Restore.deleteTree(into);
            String id = c.newestInBucket().orElseThrow(() -> new BackupException("バケットに復元できるバックアップがありません"
                    + " / there is no finished backup in bucket " + c.bucket()));
            FolderParts got = c.download(id, into);
            return drill(check, jp.mamori.audit.Actor.server(by), got);
        } catch (IOException e) {
            throw new BackupException("取得用フォルダー " + into + " を空にできません / cannot empty " + into + ": "
                    + Messages.firstLine(e), e);
        } finally {
            try {
                Restore.deleteTree(into);
            } catch (IOException e) {
                log.warn("backup: could not delete {}: {}", into, e.toString());
            }
        }
    }

    /** Waits up to {@code seconds} for the Object Lock copy's pending refreshes (tests). */
    boolean objectLockCopyIdle(long seconds) throws Exception {
        return s3.idle(seconds);
    }

    // ------------------------------------------------------------------ destruction at the end of use

    /** What {@link #destroyAll} did: counted per place, what stays (and why), and where the certificate is. */
    public record Destroyed(List<String> backups, long files, long bytes, String offline, String objectLock,
                            List<String> recoveryKeyIds, Path certificate) {
        public Destroyed {
            backups = List.copyOf(backups);
            recoveryKeyIds = List.copyOf(recoveryKeyIds);
        }
    }

    /**
     * Destroys every backup of this installation at the end of its use, with proof (EXT-6, DISPOSAL-8): the backup
     * folder's copies and WAL deleted, the offline medium's when it is present, the Object Lock copies past their
     * date deleted (those still locked cannot be, by design: they stay until their date); then the backup keys are
     * destroyed (overwritten and deleted), so that every copy that stays anywhere (a locked object, an unplugged
     * medium, a copy someone made) is readable only with a recovery sheet, which the hospital shreds; the certificate
     * (廃棄証明) lists each of these and is written to {@code certificate}, and the destruction is an audit entry.
     * Only while the server is stopped: a running one would start backing up again with the keys it holds.
     */
    public synchronized Destroyed destroyAll(String confirmInstallation, Path certificate, String by) {
        if (!keys.installationId().equals(confirmInstallation)) {
            throw new BackupException("確認用のインストールIDが違います / the installation id to confirm is "
                    + keys.installationId() + ", not " + oneLine(String.valueOf(confirmInstallation)));
        }
        Path cert = certificate.toAbsolutePath().normalize();
        if (cert.startsWith(destination.root().toAbsolutePath().normalize())) {
            throw new BackupException("証明書はバックアップの保存先の外に書いてください / write the certificate outside the"
                    + " backup folder, which is being destroyed");
        }
        Instant at = clock.instant();
        List<String> ids = ids();
        Map<String, String> manifests = new LinkedHashMap<>();
        for (String id : ids) {
            try (InputStream in = destination.open(BackupInfo.prefix(id) + MANIFEST)) {
                manifests.put(id, sha256(in.readAllBytes()));
            } catch (IOException e) {
                manifests.put(id, "(unreadable: " + Messages.firstLine(e) + ")");
            }
        }
        long[] counted = deleteTree(destination.root());
        String offlineState;
        Optional<OfflineCopy> o = offline();
        if (o.isEmpty()) {
            offlineState = "オフライン媒体は設定されていません / no offline medium is configured";
        } else if (!Files.isRegularFile(options.offlineDir().get().resolve(OfflineCopy.MARKER))) {
            offlineState = "オフライン媒体が接続されていません: 媒体を接続して再実行するか物理的に破壊してください / the offline"
                    + " medium is not present: mount it and run this again, or destroy the medium physically";
        } else {
            long[] m = deleteTree(o.get().mediumDir());
            offlineState = "オフライン媒体から削除 / deleted from the offline medium: " + m[0] + " files, " + m[1] + " bytes";
        }
        String lockState;
        if (objectLockCopy().isEmpty()) {
            lockState = "オブジェクトロック複製は設定されていません / no Object Lock copy is configured";
        } else {
            try {
                int gone = expireS3(by).size();
                lockState = "期限を過ぎた " + gone + " 件を削除。ロック中のものは期限まで残りますが、鍵の破棄により復旧鍵の用紙なしでは"
                        + "読めません / " + gone + " object versions past their date deleted; the locked ones stay until"
                        + " their dates, unreadable without a recovery sheet once the keys are destroyed";
            } catch (RuntimeException e) {
                lockState = "バケットに接続できません: ロック中の複製は期限まで残ります / the bucket could not be reached ("
                        + oneLine(String.valueOf(e.getMessage())) + "): its locked copies stay until their dates";
            }
        }
        List<String> recoveryIds = List.of(jp.mamori.kernel.Hashes.hex(RecoveryKey.id(keys.recoveryPublicKey())));
        record(AuditAction.BACKUP_DELETE, Outcome.SUCCESS, by, Map.of("destroy", "all", "backups",
                String.join(",", ids), "files", Long.toString(counted[0]), "bytes", Long.toString(counted[1]),
                "keys", "destroyed", "recovery_key", recoveryIds.get(0)));
        String text = certificate(at, by, manifests, counted, offlineState, lockState, recoveryIds);
        try {
            Files.createDirectories(cert.getParent());
            Files.deleteIfExists(cert);
            jp.mamori.db.Secrets.writeOwnerOnly(cert, text);
            BackupKeys.fsync(cert);
        } catch (IOException e) {
            throw new BackupException("廃棄証明書を書けません / cannot write the destruction certificate " + cert + ": "
                    + Messages.firstLine(e), e);
        }
        keys.destroy();
        log.info("backup: every backup destroyed ({} backups, {} files, {} bytes); keys destroyed; certificate {}",
                ids.size(), counted[0], counted[1], cert);
        return new Destroyed(ids, counted[0], counted[1], offlineState, lockState, recoveryIds, cert);
    }

    /** {@link Restore#deleteTree}, one line when it fails: the files and bytes deleted. */
    private static long[] deleteTree(Path root) {
        try {
            return Restore.deleteTree(root);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BackupException("バックアップを削除できません / cannot delete the backups in " + root + ": "
                    + Messages.firstLine(e), e);
        }
    }

    private String certificate(Instant at, String by, Map<String, String> manifests, long[] counted, String offline,
                               String objectLock, List<String> recoveryIds) {
        StringBuilder b = new StringBuilder();
        b.append("Mamori バックアップ廃棄証明書 / Mamori backup destruction certificate\n");
        b.append("==================================================================\n\n");
        b.append("施設（インストール）ID / Installation id:  ").append(keys.installationId()).append('\n');
        b.append("実施日時 / Done at:                       ").append(at.atZone(zone)).append('\n');
        b.append("実施者 / By:                              ").append(by).append(" (")
                .append(System.getProperty("user.name")).append(")\n");
        b.append("署名鍵の指紋 / Signing key fingerprint:    ").append(keys.signerFingerprint()).append("\n\n");
        b.append("1. バックアップ保存先 / The backup folder ").append(destination.root()).append('\n');
        b.append("   削除したファイル / files deleted: ").append(counted[0]).append(", ").append(counted[1])
                .append(" bytes\n");
        b.append("   バックアップ（目録の SHA-256） / backups (SHA-256 of each signed manifest):\n");
        if (manifests.isEmpty()) {
            b.append("     (なし / none)\n");
        }
        manifests.forEach((id, sha) -> b.append("     ").append(id).append("  ").append(sha).append('\n'));
        b.append("2. オフライン媒体 / The offline medium: ").append(offline).append('\n');
        b.append("3. オブジェクトロック複製 / The Object Lock copy: ").append(objectLock).append('\n');
        b.append("4. 暗号鍵 / The keys: バックアップ鍵ファイル（データ鍵を包む鍵と目録の署名鍵）を上書きして削除しました。残る複製は"
                + "復旧鍵でしか開けません / the backup key file (the data-wrapping key and the manifests' signing key) was"
                + " overwritten and deleted: any copy that stays opens only with a recovery key.\n");
        b.append("5. 施設が行うこと / What the hospital does now:\n");
        b.append("   ・復旧鍵の用紙（識別子 ").append(String.join(", ", recoveryIds)).append(" と、鍵を交換した場合は以前の用紙）を"
                + "すべてシュレッダー等で破棄し、破棄した日と人をこの証明書に記入してください。\n");
        b.append("   - Shred every recovery sheet (key id ").append(String.join(", ", recoveryIds))
                .append(", and the earlier sheets if the key was rotated) and write on this certificate when and by"
                        + " whom.\n");
        b.append("   ・この記録は監査証跡に backup.delete（destroy）として記録されています / this destruction is recorded in"
                + " the audit trail as backup.delete (destroy).\n");
        b.append("   ・サーバーを再び起動すると新しい鍵でバックアップが始まります（使用を終える場合は起動しないか --no-backup）。\n");
        b.append("   - Starting the server again makes new keys and starts backing up again (when the use ends, do not"
                + " start it, or use --no-backup).\n\n");
        b.append("用紙の破棄 / Sheets shredded:  日付 / date ____________  氏名 / name ____________  確認 / checked by"
                + " ____________\n");
        return b.toString();
    }

    // ------------------------------------------------------------------ listing and verifying

    /** One backup on the destination. */
    public record Listed(String id, Instant createdAt, long sealedBytes, long newestVersion, long auditNextSeq,
                         String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    /** The finished backups on this installation's destination, oldest first, each with its manifest checked. */
    public List<Listed> list() {
        List<Listed> out = new ArrayList<>();
        for (String id : ids()) {
            try {
                Manifest m = manifest(id);
                out.add(new Listed(id, m.createdAt(), m.parts().stream().mapToLong(Manifest.Part::sealedSize).sum(),
                        m.newestVersion(), m.auditNextSeq(), null));
            } catch (BackupException e) {
                out.add(new Listed(id, null, 0, 0, 0, e.getMessage()));
            }
        }
        return out;
    }

    private List<String> ids() {
        return listIn(destination);
    }

    /** The ids of the backups in {@code folder} whose manifest is there, sorted (the newest last). */
    private static List<String> listIn(FolderParts folder) {
        TreeSet<String> ids = new TreeSet<>();
        for (String name : folder.list("base/")) {
            String[] p = name.split("/");
            if (p.length == 3 && p[2].equals(MANIFEST)) {
                ids.add(p[1]);
            }
        }
        return List.copyOf(ids);
    }

    /** The signed manifest of backup {@code id}, its signature checked by this installation's key. */
    public Manifest manifest(String id) {
        return manifest(destination, id, signed -> signed.verify(keys.signerPublicKey()));
    }

    /** The signed manifest of backup {@code id} in {@code folder}, accepted by {@code check} (a key, a fingerprint). */
    static Manifest manifest(FolderParts folder, String id, Function<Manifest.Signed, Manifest> check) {
        if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new BackupException("バックアップ名が不正です / bad backup id: " + Messages.quote(id));
        }
        String prefix = BackupInfo.prefix(id);
        try (InputStream json = folder.open(prefix + MANIFEST); InputStream sig = folder.open(prefix + SIGNATURE)) {
            Manifest m = check.apply(Manifest.Signed.read(json, sig));
            if (!m.backupId().equals(id)) {
                throw new BackupException("バックアップ " + id + " の目録は別のバックアップ (" + m.backupId()
                        + ") のものです / the manifest of backup " + id + " belongs to backup " + m.backupId());
            }
            return m;
        } catch (NoSuchFileException e) {
            throw new BackupException("バックアップ " + id + " の目録がありません (未完了か別の保存先) / backup " + id
                    + " has no manifest: it did not finish, or it is not on this destination");
        } catch (IOException e) {
            throw new BackupException("バックアップ " + id + " の目録を読めません / cannot read the manifest of backup "
                    + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks backup {@code id} without restoring it: the manifest's signature, then every part's size and SHA-256
     * against it, then every part opened to its end (each chunk's tag). Refuses, naming the part, at the first fault.
     */
    public Manifest verify(String id, String by) {
        try {
            Manifest m = verify(destination, id, Envelope.Opener.of(keys), manifest(id));
            record(AuditAction.BACKUP_VERIFY, Outcome.SUCCESS, by, Map.of("backup", id));
            return m;
        } catch (BackupException e) {
            record(AuditAction.BACKUP_VERIFY, Outcome.ERROR, by, Map.of("backup", id, "error", oneLine(e.getMessage())));
            throw e;
        }
    }

    static Manifest verify(FolderParts folder, String id, Envelope.Opener opener, Manifest m) {
        return verify(folder, id, opener, m, name -> true);
    }

    /** {@link #verify(FolderParts, String, Envelope.Opener, Manifest)} of the parts {@code which} accepts. */
    private static Manifest verify(FolderParts folder, String id, Envelope.Opener opener, Manifest m,
                                   java.util.function.Predicate<String> which) {
        byte[] buffer = new byte[1 << 20];
        for (Manifest.Part p : m.parts()) {
            if (!which.test(p.name())) {
                continue;
            }
            if (!p.name().startsWith(BackupInfo.prefix(id))) {
                throw new BackupException("目録の部品 " + p.name() + " はバックアップ " + id + " のものではありません / the"
                        + " manifest lists part " + p.name() + ", which is not of backup " + id);
            }
            // One pass: each chunk's tag is checked as it is read, and the sealed bytes are hashed on the way.
            Manifest.Part got;
            try (Envelope.OpeningStream in = Envelope.open(folder.open(p.name()), p.name(), opener)) {
                while (in.read(buffer) > 0) {
                    // read to the end
                }
                got = in.part();
            } catch (NoSuchFileException e) {
                throw new BackupException("部品 " + p.name() + " がありません / part " + p.name() + " is missing");
            } catch (IOException e) {
                throw new BackupException(e.getMessage(), e);
            }
            SealedParts.requireSame(p, got);
        }
        return m;
    }

    // ------------------------------------------------------------------ restoring

    /**
     * Restores backup {@code id} into the new data folder {@code target} (never the running one: it must not exist
     * or be empty, unless {@code force}), to {@code at} or to the end of the shipped WAL: checked first
     * ({@link #verify}), then the database recovered, then the data folder's own files put back.
     */
    public Restore.Result restore(String id, Path target, Optional<Instant> at, boolean force, String by) {
        try {
            Manifest m = manifest(id);
            Restore.Result r = restore(destination, id, m, target, at, force, Envelope.Opener.of(keys));
            record(AuditAction.BACKUP_RESTORE, Outcome.SUCCESS, by, Map.of("backup", id, "to", r.dataDir().toString(),
                    "at", at.map(Instant::toString).orElse("end of WAL"), "ms", Long.toString(r.took().toMillis())));
            return r;
        } catch (BackupException e) {
            record(AuditAction.BACKUP_RESTORE, Outcome.ERROR, by, Map.of("backup", id, "error",
                    oneLine(e.getMessage())));
            throw e;
        }
    }

    /**
     * The same from a destination folder alone ({@code DIR/INSTALLATION}), with the printed recovery key and the
     * signer's fingerprint from the sheet: for a new machine after the server and its disk are gone.
     */
    public static Restore.Result restoreWithRecoveryKey(Path installationDir, String id, Path target,
                                                        Optional<Instant> at, boolean force, RecoveryKey key,
                                                        String signerFingerprint) {
        FolderParts folder = new FolderParts(installationDir);
        Manifest m = manifest(folder, id, signed -> signed.verifyWithFingerprint(signerFingerprint));
        return restore(folder, id, m, target, at, force, Envelope.Opener.of(key));
    }

    /** The signed manifest of backup {@code id} in a destination folder, checked against the sheet's fingerprint. */
    public static Manifest manifest(Path installationDir, String id, String signerFingerprint) {
        return manifest(new FolderParts(installationDir), id, signed -> signed.verifyWithFingerprint(signerFingerprint));
    }

    private static Restore.Result restore(FolderParts folder, String id, Manifest m, Path target,
                                          Optional<Instant> at, boolean force, Envelope.Opener opener) {
        // Two passes over the database parts, not three: the restore's own check reads each of them to its end
        // before anything is written, through a source that compares it with the signed manifest at its end; the
        // other parts (the folder part, the description) are small and verified here first.
        Set<String> checkedByRestore = Set.of(BaseBackup.DATA, BaseBackup.WAL, BaseBackup.SECRETS);
        String prefix = BackupInfo.prefix(id);
        verify(folder, id, opener, m, name -> !(name.startsWith(prefix)
                && checkedByRestore.contains(name.substring(prefix.length()))));
        Path dir = target.toAbsolutePath().normalize();
        SealedParts checked = new SealedParts(folder, opener, m);
        Restore.Result r = Restore.toNewFolder(checked, id, dir, at, force);
        String part = prefix + FOLDER_PART;
        try (InputStream in = checked.open(part)) {
            Tar.Reader tar = new Tar.Reader(in, part);
            for (Tar.Entry e; (e = tar.next()) != null; ) {
                Path p = dir.resolve(Tar.checkName(e.name(), part)).normalize();
                if (!p.startsWith(dir) || p.startsWith(dir.resolve("pg"))) {
                    throw new BackupException("部品 " + part + " の名前 " + e.name() + " はデータフォルダの外を指します / "
                            + part + " names " + e.name() + " outside the data folder");
                }
                if (e.type() == Tar.Type.DIRECTORY) {
                    Files.createDirectories(p);
                } else {
                    Files.createDirectories(p.getParent());
                    try (OutputStream out = Files.newOutputStream(p)) {
                        tar.content().transferTo(out);
                    }
                    ownerOnly(p);
                }
            }
        } catch (IOException e) {
            throw new BackupException("部品 " + part + " を戻せません / cannot put back " + part + ": " + e.getMessage(), e);
        }
        return r;
    }

    private static void ownerOnly(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
    }

    // ------------------------------------------------------------------ drills

    /** One restore drill: which copy, the measured restore time and data age, and what was found. */
    public record DrillResult(String backupId, Instant at, Duration restore, Duration total, Duration dataAge,
                              List<String> findings) {
        public boolean passed() {
            return findings.isEmpty();
        }
    }

    /**
     * Restores the newest finished backup (with the WAL shipped after it) into a scratch folder beside the spool,
     * runs {@code check} on it, records the result in the audit trail and in {@code backup/drills.log}, and deletes
     * the scratch folder. The restore time is the measured recovery time (RTO); the age of the newest transaction the
     * copy brought back is the measured recovery point (RPO).
     */
    public DrillResult drill(DrillCheck check, String by) {
        return drill(check, jp.mamori.audit.Actor.server(by));
    }

    /** The same, recorded as done by {@code who} (a person who asked for it in the console). */
    public synchronized DrillResult drill(DrillCheck check, jp.mamori.audit.Actor who) {
        return drill(check, who, destination);
    }

    /** A drill of the newest backup in {@code source} (the backup folder, or a copy downloaded from the bucket). */
    private synchronized DrillResult drill(DrillCheck check, jp.mamori.audit.Actor who, FolderParts source) {
        Instant at = clock.instant();
        List<String> findings = new ArrayList<>();
        String id = source == destination
                ? list().stream().filter(Listed::ok).map(Listed::id).reduce((a, b) -> b).orElse(null)
                : listIn(source).stream().reduce((a, b) -> b).orElse(null);
        Duration restoreTime = Duration.ZERO;
        Duration dataAge = Duration.ZERO;
        long t0 = System.nanoTime();
        Path scratch = dataDir.resolve("backup").resolve("drill");
        java.nio.channels.FileChannel lockFile = null;
        java.nio.channels.FileLock lock = null;
        try {
            Files.createDirectories(scratch.getParent());
            lockFile = java.nio.channels.FileChannel.open(scratch.resolveSibling("drill.lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            lock = lockFile.tryLock();
        } catch (IOException | java.nio.channels.OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            closeQuietly(lockFile);
            throw new BackupException("別の復元訓練が実行中です / another restore drill is running on this data folder");
        }
        if (id == null) {
            findings.add("復元できるバックアップがありません / there is no finished backup to restore");
        } else {
            try {
                // a drill killed half-way may have left its copy's database running: stop it, then start afresh
                Restore.stopLeftoverDatabase(scratch);
                Restore.deleteTree(scratch);
                Manifest m = manifest(source, id, signed -> signed.verify(keys.signerPublicKey()));
                Restore.Result r = restore(source, id, m, scratch, Optional.empty(), false,
                        Envelope.Opener.of(keys));
                restoreTime = r.took();
                dataAge = Duration.between(r.lastTransaction().orElse(m.createdAt()), at);
                if (dataAge.isNegative()) {
                    dataAge = Duration.ZERO;
                }
                findings.addAll(check.check(scratch, m));
            } catch (Exception e) {
                findings.add(e instanceof BackupException ? e.getMessage() : "復元訓練に失敗しました / the drill failed: "
                        + oneLine(String.valueOf(e.getMessage())));
            } finally {
                try {
                    Restore.deleteTree(scratch);
                } catch (IOException e) {
                    log.warn("backup drill: could not delete {}: {}", scratch, e.toString());
                }
            }
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // released when the channel closes
        }
        closeQuietly(lockFile);
        DrillResult result = new DrillResult(id, at, restoreTime, Duration.ofNanos(System.nanoTime() - t0), dataAge,
                List.copyOf(findings));
        lastDrill = result;
        Map<String, String> detail = DrillLog.detail(id, source != destination ? Optional.of("s3") : Optional.empty(),
                restoreTime, result.total(), dataAge, findings);
        record(AuditAction.BACKUP_DRILL, result.passed() ? Outcome.SUCCESS : Outcome.ERROR, who, detail);
        DrillLog.append(dataDir, at, result.passed(), detail);
        if (result.passed()) {
            log.info("backup drill of {}: passed; restore {} ms, data age {} s", id, restoreTime.toMillis(),
                    dataAge.toSeconds());
        } else {
            log.warn("backup drill of {}: FAILED: {}", id, findings);
            notice("backup.drill-failed", Map.of("backup", String.valueOf(id), "findings",
                    Integer.toString(findings.size())), "復元訓練が不合格です / a restore drill failed: "
                    + oneLine(findings.get(0)));
        }
        return result;
    }

    /**
     * A drill interrupted by a crash of its process leaves its scratch copy, and perhaps that copy's database running:
     * at start, when no drill holds the lock, the database is stopped and the copy deleted.
     */
    void cleanInterruptedDrill() {
        Path scratch = dataDir.resolve("backup").resolve("drill");
        if (!Files.isDirectory(scratch)) {
            return;
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(scratch.resolveSibling("drill.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = ch.tryLock()) {
            if (held == null) {
                return; // a drill runs in another process
            }
            Restore.stopLeftoverDatabase(scratch);
            Restore.deleteTree(scratch);
            log.info("backup: removed the scratch copy of an interrupted restore drill");
        } catch (IOException | RuntimeException e) {
            log.warn("backup: could not remove the scratch copy of an interrupted drill {}: {}", scratch, e.toString());
        }
    }

    private static void closeQuietly(java.nio.channels.FileChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    /** The last drill this process ran, if any. */
    public Optional<DrillResult> lastDrill() {
        return Optional.ofNullable(lastDrill);
    }

    // ------------------------------------------------------------------ helpers

    private Connection superuser() throws SQLException, IOException {
        Path portFile = dataDir.resolve("runtime").resolve("db-port");
        String port = Files.readString(portFile).strip();
        String password = Files.readString(dataDir.resolve("secrets").resolve(Database.SUPERUSER_PASSWORD_FILE)).strip();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", password);
    }

    private static String postgresVersion(Connection c) throws SQLException {
        return BaseBackup.queryString(c, "SELECT current_setting('server_version')");
    }

    private void write(String name, byte[] bytes) throws IOException {
        try (OutputStream out = destination.create(name)) {
            out.write(bytes);
        }
    }

    private void record(AuditAction action, Outcome outcome, String by, Map<String, String> detail) {
        record(action, outcome, jp.mamori.audit.Actor.server(by == null ? "backup" : by), detail);
    }

    /** Records in the audit trail, naming {@code who}: the server or a tool, or the person who asked for it. */
    private void record(AuditAction action, Outcome outcome, jp.mamori.audit.Actor who, Map<String, String> detail) {
        record(audit, action, outcome, who, detail);
    }

    /**
     * What a backup engine did, as a security entry of {@code audit} (none when null); a trail that cannot take it is
     * logged, never thrown: the backup itself stands.
     */
    static void record(AuditRecorder audit, AuditAction action, Outcome outcome, jp.mamori.audit.Actor who,
                       Map<String, String> detail) {
        if (audit != null) {
            try {
                audit.append(jp.mamori.audit.AuditEvent.by(who, action).outcome(outcome)
                        .purpose(jp.mamori.audit.Purpose.SECURITY).details(new LinkedHashMap<>(detail)).build());
            } catch (RuntimeException e) {
                log.warn("backup: could not record {} in the audit trail: {}", action.code, e.toString());
            }
        }
    }

    static String sha256(byte[] b) {
        return HexFormat.of().formatHex(jp.mamori.kernel.Hashes.sha256(b));
    }

    static String oneLine(String s) {
        String t = String.valueOf(s).lines().findFirst().orElse("");
        return t.length() > 300 ? t.substring(0, 300) : t;
    }

    @Override
    public synchronized void close() {
        if (daily != null) {
            daily.shutdownNow();
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        s3.close();
    }
}
