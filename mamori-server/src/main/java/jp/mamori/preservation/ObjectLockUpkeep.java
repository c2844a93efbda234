package jp.mamori.preservation;

import jp.mamori.audit.AuditAction;
import jp.mamori.audit.Outcome;
import jp.mamori.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The Object Lock copy's upkeep for {@link Backups} (BACKUP-3): the copy created on first use (its credentials file
 * read then), refreshed on a worker of its own so that an unreachable store never delays the local backup or WAL
 * shipping; each refresh and expiry recorded in the audit trail; a failure recorded, sent as a security notice when
 * it starts, and reported as a deviation until an upload succeeds.
 */
final class ObjectLockUpkeep implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ObjectLockUpkeep.class);

    /** Where the upkeep records (the audit trail) and whom it tells (security notices). */
    interface Recorder {
        void record(AuditAction action, Outcome outcome, String by, Map<String, String> detail);
    }

    interface Notifier {
        void notice(String event, Map<String, String> fields, String text);
    }

    private final Optional<ServerConfig.BackupOptions.S3> options;
    private final Supplier<ObjectLockCopy> opening;
    private final Clock clock;
    private final Recorder recorder;
    private final Notifier notifier;
    private ObjectLockCopy copy;
    private volatile String failing;
    private ExecutorService worker;
    private final AtomicBoolean pending = new AtomicBoolean();

    ObjectLockUpkeep(Optional<ServerConfig.BackupOptions.S3> options, Supplier<ObjectLockCopy> opening, Clock clock,
                     Recorder recorder, Notifier notifier) {
        this.options = options;
        this.opening = opening;
        this.clock = clock;
        this.recorder = recorder;
        this.notifier = notifier;
    }

    /** The copy, when one is configured; a bad credentials file is a {@link BackupException} (one line). */
    synchronized Optional<ObjectLockCopy> copy() {
        if (options.isEmpty()) {
            return Optional.empty();
        }
        if (copy == null) {
            copy = opening.get();
        }
        return Optional.of(copy);
    }

    /** Uploads what is new; recorded; a failure is recorded, noticed when it starts, and thrown. */
    Optional<ObjectLockCopy.Refresh> refresh(String by) {
        if (options.isEmpty()) {
            return Optional.empty();
        }
        String bucket = options.get().bucket();
        try {
            ObjectLockCopy.Refresh r = copy().orElseThrow().refresh(clock.instant());
            failing = null;
            if (!r.backups().isEmpty() || !r.repaired().isEmpty() || !r.problems().isEmpty()) {
                recorder.record(AuditAction.BACKUP_RUN, r.problems().isEmpty() ? Outcome.SUCCESS : Outcome.ERROR, by,
                        Map.of("s3_bucket", bucket, "backups", String.join(",", r.backups()), "wal_files",
                                Integer.toString(r.walFiles().size()), "repaired",
                                Integer.toString(r.repaired().size()), "problems",
                                Integer.toString(r.problems().size())));
            }
            return Optional.of(r);
        } catch (BackupException e) {
            boolean starts = failing == null;
            failing = e.getMessage();
            if (starts) {
                recorder.record(AuditAction.BACKUP_RUN, Outcome.ERROR, by, Map.of("s3_bucket", bucket,
                        "error", oneLine(e.getMessage())));
                notifier.notice("backup.s3-failed", Map.of("bucket", bucket),
                        "オブジェクトロック複製に失敗しました / the Object Lock copy failed: " + oneLine(e.getMessage()));
            }
            throw e;
        }
    }

    /** Deletes what is past its date and no generation keeps; the deletions are recorded as {@code backup.delete}. */
    List<ObjectLockCopy.Expired> expire(String by) {
        Optional<ObjectLockCopy> c = copy();
        if (c.isEmpty()) {
            return List.of();
        }
        List<ObjectLockCopy.Expired> gone = c.get().expire(clock.instant());
        if (!gone.isEmpty()) {
            List<String> keys = gone.stream().map(ObjectLockCopy.Expired::key).toList();
            recorder.record(AuditAction.BACKUP_DELETE, Outcome.SUCCESS, by, Map.of("s3_bucket", c.get().bucket(),
                    "objects", Integer.toString(gone.size()), "keys", oneLine(String.join(",", keys))));
        }
        return gone;
    }

    /** Asks for a refresh (and, after a base backup, an expiry) on the worker; one at a time, coalesced. */
    void soon(boolean afterBaseBackup) {
        if (options.isEmpty()) {
            return;
        }
        synchronized (this) {
            if (worker == null) {
                // uploads at idle priority, like the backups
                worker = Executors.newSingleThreadExecutor(LowPriority.threads("mamori-backup-s3"));
            }
            if (!pending.compareAndSet(false, true) && !afterBaseBackup) {
                return;
            }
            worker.execute(() -> {
                pending.set(false);
                try {
                    refresh("schedule");
                    if (afterBaseBackup) {
                        expire("schedule");
                    }
                } catch (RuntimeException e) {
                    log.warn("backup: Object Lock copy: {}", oneLine(e.getMessage()));
                }
            });
        }
    }

    /** Waits up to {@code seconds} for the refreshes asked for so far (tests). */
    boolean idle(long seconds) throws Exception {
        ExecutorService w;
        synchronized (this) {
            w = worker;
        }
        return w == null || w.submit(() -> { }).get(seconds, TimeUnit.SECONDS) == null;
    }

    /** What is wrong now, one line, or empty (also when no copy is configured). */
    Optional<String> deviation() {
        if (options.isEmpty()) {
            return Optional.empty();
        }
        try {
            Optional<String> d = copy().orElseThrow().status(clock.instant()).deviation();
            if (failing != null && d.isEmpty()) {
                return Optional.of(failing + " (BACKUP-3)");
            }
            return d;
        } catch (BackupException e) {
            return Optional.of(e.getMessage() + " (BACKUP-3)");
        }
    }

    @Override
    public synchronized void close() {
        if (worker != null) {
            worker.shutdownNow();
        }
        if (copy != null) {
            copy.close();
        }
    }

    private static String oneLine(String s) {
        String t = String.valueOf(s).lines().findFirst().orElse("");
        return t.length() > 300 ? t.substring(0, 300) : t;
    }
}
