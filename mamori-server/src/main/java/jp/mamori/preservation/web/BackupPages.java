package jp.mamori.preservation.web;

import jp.mamori.config.ServerConfig;
import jp.mamori.preservation.BackupException;
import jp.mamori.preservation.Backups;
import jp.mamori.preservation.DrillCheck;
import jp.mamori.preservation.DrillLog;
import jp.mamori.preservation.OfflineCopy;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static jp.mamori.web.console.Console.Access.OPERATIONS;

/**
 * The backups page (保存性; BACKUP-5, 004 checklist row 7 "backup exists, scope, frequency, generations, method,
 * location; restore confirmed"): the policy, the finished backups, the last restore drill, the offline copy and
 * what falls short, with buttons that take a backup or run a drill now.
 * <p>For the account administrators (the {@code OPERATIONS} gate: as the access and account pages, and a vendor's
 * maintenance session inside its approved window, issue 19): they run the
 * installation, answer the inspectors for it and are the ones who act on a deviation; the buttons start real work on
 * the server, so they also need a fresh second factor. Auditors see the same runs in the audit trail
 * ({@code backup.run}, {@code backup.drill}), which {@link Backups} writes itself.
 * <p>A backup or drill started here runs in the background, one at a time, and the page says it is running: a
 * drill starts a whole second server on the restored copy and takes from seconds to minutes (a base backup of a
 * hospital's database, minutes), longer than a browser or a proxy in front of the server waits for an answer, and a
 * person who reloads a page that seems stuck must not start a second one. {@link Backups} itself runs one backup or
 * drill at a time, so one started here waits for a scheduled one rather than running beside it.
 */
public final class BackupPages {
    private static final Logger log = LoggerFactory.getLogger(BackupPages.class);
    static final String PATH = "/console/admin/backups";
    private static final DateTimeFormatter BACKUP_ID = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter JA = DateTimeFormatter.ofPattern("uuuu年M月d日 HH:mm", Locale.JAPANESE);
    private static final DateTimeFormatter EN = DateTimeFormatter.ofPattern("d MMM uuuu HH:mm", Locale.ENGLISH);

    private final Backups backups;
    private final ServerConfig.BackupOptions options;
    private final DrillCheck drillCheck;
    private final Console console;
    private final ZoneId zone;
    private final Clock clock;
    private final AtomicReference<Run> running = new AtomicReference<>();
    private volatile Run last;
    private volatile String pgBackRestStanza;
    private ExecutorService worker;

    /** What a backup or drill started here did. */
    private record Run(String kind, String by, Instant started, Instant ended, boolean ok, String key,
                       List<Object> args) {
    }

    /**
     * @param backups    this installation's backups; null when Mamori takes none (an external database)
     * @param options    the backup settings
     * @param drillCheck what a drill checks on the restored copy (the server's own checks)
     * @param zone       the server's time zone, in which the page shows times
     */
    public BackupPages(Backups backups, ServerConfig.BackupOptions options, DrillCheck drillCheck, Console console,
                       ZoneId zone) {
        this.backups = backups;
        this.options = options;
        this.drillCheck = drillCheck;
        this.console = console;
        this.zone = zone;
        this.clock = console.clock();
    }

    /**
     * The external database is backed up through pgBackRest (stanza {@code stanza}): the page says so instead of
     * "not backed up" (its list and drills are on the command line for now: {@code mamori backup list|drill}).
     */
    public BackupPages drivenByPgBackRest(String stanza) {
        this.pgBackRestStanza = stanza;
        return this;
    }

    public void register() {
        console.route("GET", PATH, OPERATIONS, false, this::home);
        console.route("POST", PATH + "/now", OPERATIONS, true, r -> start(r, "backup", () -> {
            Backups.Taken t = backups.backupNow(by(r));
            return new Run("backup", null, null, null, true, "backup.run.backupDone",
                    List.of(size(t.sealedBytes()), t.took()));
        }));
        console.route("POST", PATH + "/drill", OPERATIONS, true, r -> start(r, "drill", () -> {
            Backups.DrillResult d = backups.drill(drillCheck, by(r));
            return new Run("drill", null, null, null, d.passed(), d.passed() ? "backup.run.drillPassed"
                    : "backup.run.drillFailed", List.of(d.findings().size()));
        }));
    }

    /** Who the backups' own audit entries name: the person who pressed the button. */
    private static jp.mamori.audit.Actor by(ConsoleRequest r) {
        return jp.mamori.audit.Actor.of(r.session(), r.address());
    }

    private Reply home(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("backup.title"), "backup/home.jte", view(r));
    }

    /** What the page shows. */
    BackupViews.Home view(ConsoleRequest r) {
        Messages t = r.messages();
        String notice = switch (r.param("started")) {
            case "backup" -> t.get("backup.notice.backupStarted");
            case "drill" -> t.get("backup.notice.drillStarted");
            case "busy" -> t.get("backup.notice.busy");
            default -> null;
        };
        BackupViews.Run now = run(t, running.get());
        BackupViews.Run done = run(t, last);
        if (backups == null || !options.enabled()) {
            return new BackupViews.Home(false, backups == null && pgBackRestStanza != null && options.enabled()
                    ? t.get("backup.off.pgbackrest", pgBackRestStanza)
                    : t.get(backups == null ? "backup.off.external" : "backup.off.disabled"),
                    null, List.of(), null, null, List.of(), now, done, notice, zone.getId(), r.csrf(), null);
        }
        BackupViews.Policy policy = new BackupViews.Policy(options.dir().toString(),
                options.offlineDir().map(Object::toString).orElse(null), options.offlineMaxDays(),
                String.format(Locale.ROOT, "%02d:00", options.hour()), options.keep().daily(), options.keep().weekly(),
                options.keep().monthly(), options.keep().yearly(), options.walSeconds(), options.drillDays());
        List<BackupViews.Backup> list = new ArrayList<>();
        List<Backups.Listed> listed = new ArrayList<>(backups.list());
        listed.sort(Comparator.comparing(Backups.Listed::id).reversed());
        for (Backups.Listed b : listed) {
            Instant at = b.createdAt() != null ? b.createdAt() : idTime(b.id()).orElse(null);
            list.add(new BackupViews.Backup(at == null ? t.get("backup.list.unknownTime") : time(t, at),
                    b.ok() ? size(b.sealedBytes()) : "—", b.newestVersion(), b.auditNextSeq() - 1,
                    b.ok() ? null : japaneseFirst(b.problem())));
        }
        BackupViews.Drill drill = DrillLog.last(backups).map(d -> new BackupViews.Drill(time(t, d.at()),
                d.backupId().map(id -> idTime(id).map(i -> time(t, i)).orElse(id)).orElse(null),
                duration(t, d.restore()), duration(t, d.total()), duration(t, d.dataAge()), d.passed(),
                d.findingCount(), d.findings().stream().map(BackupPages::japaneseFirst).toList())).orElse(null);
        BackupViews.Offline offline = null;
        Optional<OfflineCopy.Status> o = DrillLog.offline(backups, clock.instant(), options.offlineMaxDays());
        if (o.isPresent()) {
            OfflineCopy.Status s = o.get();
            offline = new BackupViews.Offline(options.offlineDir().map(Object::toString).orElse(""),
                    s.lastRefresh().map(i -> time(t, i)).orElse(null),
                    s.newestBackup().map(id -> idTime(id).map(i -> time(t, i)).orElse(id)).orElse(null),
                    s.deviation().map(BackupPages::japaneseFirst).orElse(null));
        }
        List<String> deviations = backups.deviations().stream().map(BackupPages::japaneseFirst).toList();
        return new BackupViews.Home(true, null, policy, list, drill, offline, deviations, now, done, notice,
                zone.getId(), r.csrf(), objectLock(t));
    }

    /** The Object Lock copy's row, or null when none is configured. */
    private BackupViews.ObjectLock objectLock(Messages t) {
        if (options.s3().isEmpty()) {
            return null;
        }
        String bucket = options.s3().get().bucket() + "/" + options.s3().get().prefix();
        try {
            jp.mamori.preservation.ObjectLockCopy.Status s = backups.objectLockCopy().orElseThrow()
                    .status(clock.instant());
            return new BackupViews.ObjectLock(bucket, s.lastRefresh().map(i -> time(t, i)).orElse(null),
                    s.newestAt().map(i -> time(t, i)).orElse(null),
                    s.deviation().map(BackupPages::japaneseFirst).orElse(null));
        } catch (jp.mamori.preservation.BackupException e) {
            return new BackupViews.ObjectLock(bucket, null, null, japaneseFirst(e.getMessage()));
        }
    }

    private BackupViews.Run run(Messages t, Run run) {
        if (run == null) {
            return null;
        }
        return new BackupViews.Run(run.kind(), run.by(), time(t, run.started()),
                run.ended() == null ? null : time(t, run.ended()), run.ok(),
                run.key() == null ? null : t.get(run.key(), run.args().stream()
                        .map(a -> a instanceof Duration d ? duration(t, d) : String.valueOf(a)).toArray()));
    }

    /** Starts {@code job} in the background unless one is running, then back to the page (POST, redirect, GET). */
    private Reply start(ConsoleRequest r, String kind, Supplier<Run> job) {
        if (backups == null || !options.enabled()) {
            return Console.redirect(PATH);
        }
        Run started = new Run(kind, r.session().loginId(), clock.instant(), null, false, null, List.of());
        if (!running.compareAndSet(null, started)) {
            return Console.redirect(PATH + "?started=busy");
        }
        // a backup or drill started inside a vendor's maintenance window carries its work order, on the worker too
        String workOrder = jp.mamori.audit.AuditContext.workOrder();
        try {
            worker().submit(() -> {
                Run end;
                try (jp.mamori.audit.AuditContext.Scope ignored = jp.mamori.audit.AuditContext.open(workOrder)) {
                    Run done = job.get();
                    end = new Run(kind, started.by(), started.started(), clock.instant(), done.ok(), done.key(),
                            done.args());
                } catch (BackupException e) {
                    end = new Run(kind, started.by(), started.started(), clock.instant(), false, "backup.run.failed",
                            List.of(japaneseFirst(e.getMessage())));
                } catch (RuntimeException | Error e) {
                    log.error("backups page: the {} started by {} failed", kind, started.by(), e);
                    end = new Run(kind, started.by(), started.started(), clock.instant(), false,
                            "backup.run.internalError", List.of());
                }
                last = end;
                running.set(null);
            });
        } catch (RuntimeException e) {
            running.set(null);
            throw e;
        }
        log.info("backups page: {} started by {}", kind, started.by());
        return Console.redirect(PATH + "?started=" + kind);
    }

    private synchronized ExecutorService worker() {
        if (worker == null) {
            worker = Executors.newSingleThreadExecutor(r -> {
                Thread th = new Thread(r, "mamori-backup-console");
                th.setDaemon(true);
                return th;
            });
        }
        return worker;
    }

    // ------------------------------------------------------------------ formatting

    /** A time in the server's zone, as a person reads it: 2026年12月7日 02:00, 7 Dec 2026 02:00. */
    private String time(Messages t, Instant at) {
        return (t.lang() == ConsoleRequest.Lang.EN ? EN : JA).format(at.atZone(zone));
    }

    /** When a backup named by its id (its start, in UTC: 20261206T170000123Z) was started. */
    static Optional<Instant> idTime(String id) {
        try {
            return Optional.of(Instant.from(BACKUP_ID.parse(id)));
        } catch (DateTimeParseException | NullPointerException e) {
            return Optional.empty();
        }
    }

    static String size(long bytes) {
        if (bytes < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
        }
        if (bytes < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    static String duration(Messages t, Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 60_000) {
            return t.get("backup.duration.seconds", String.format(Locale.ROOT, "%.1f", ms / 1000.0));
        }
        long s = ms / 1000;
        if (s < 3600) {
            return t.get("backup.duration.minutes", s / 60, s % 60);
        }
        if (s < 86_400) {
            return t.get("backup.duration.hours", s / 3600, s % 3600 / 60);
        }
        return t.get("backup.duration.days", s / 86_400, s % 86_400 / 3600);
    }

    /**
     * A line of the backups' own ("English … / 日本語" or "日本語 / English") with its Japanese part first: the part
     * after the last " / " goes first when it is Japanese.
     */
    static String japaneseFirst(String line) {
        if (line == null) {
            return null;
        }
        int i = line.lastIndexOf(" / ");
        if (i < 0) {
            return line;
        }
        String tail = line.substring(i + 3);
        boolean japanese = tail.codePoints().anyMatch(c -> {
            Character.UnicodeScript s = Character.UnicodeScript.of(c);
            return s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA
                    || s == Character.UnicodeScript.KATAKANA;
        });
        boolean headJapanese = line.substring(0, i).codePoints().limit(12).anyMatch(c ->
                Character.UnicodeScript.of(c) == Character.UnicodeScript.HIRAGANA
                        || Character.UnicodeScript.of(c) == Character.UnicodeScript.KATAKANA
                        || Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN);
        return japanese && !headJapanese ? tail + " / " + line.substring(0, i) : line;
    }
}
