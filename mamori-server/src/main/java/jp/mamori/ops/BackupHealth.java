package jp.mamori.ops;

import jp.mamori.chart.JpDates;
import jp.mamori.preservation.Backups;
import jp.mamori.preservation.PgBackRestBackups;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static jp.mamori.ops.HealthCheck.Result;

/**
 * Backup freshness from the preservation capability (issue 18 §5; BACKUP-5, BACKUP-7): the last base backup, WAL
 * shipping and the last restore drill. Red when the newest finished backup is older than a day and a half or WAL
 * shipping fails; amber for what {@link Backups#deviations} reports (a drill overdue, no offline copy), for no finished
 * backup yet, and for backups that are off or not Mamori's (deviations the start already names).
 * Reading the manifests costs disk reads, so a result is reused for a minute.
 */
public final class BackupHealth implements HealthCheck {
    static final Duration MAX_BACKUP_AGE = Duration.ofHours(36);
    private static final Duration REUSE = Duration.ofMinutes(1);
    private static final JpDates JST = JpDates.tokyo();

    private final Backups backups;
    private final PgBackRestBackups pgBackRest;
    private final boolean enabled;
    private final Clock clock;
    private volatile Result cached;
    private volatile Instant cachedAt;

    /**
     * @param backups    the embedded database's backups, or null
     * @param pgBackRest an external database's pgBackRest backups, or null
     * @param enabled    whether backups are on at all ({@code --no-backup} is a deviation)
     */
    public BackupHealth(Backups backups, PgBackRestBackups pgBackRest, boolean enabled, Clock clock) {
        this.backups = backups;
        this.pgBackRest = pgBackRest;
        this.enabled = enabled;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "backup";
    }

    @Override
    public Result check() {
        Instant now = clock.instant();
        Result r = cached;
        if (r != null && cachedAt.plus(REUSE).isAfter(now)) {
            return r;
        }
        r = compute(now);
        cached = r;
        cachedAt = now;
        return r;
    }

    private Result compute(Instant now) {
        if (backups == null && pgBackRest == null) {
            return Result.degraded(enabled ? "外部データベースのバックアップは Mamori の管理外です / the external database's"
                    + " backups are not watched by Mamori (--backup-pgbackrest-stanza)"
                    : "バックアップが無効です / backups are off (--no-backup)");
        }
        if (pgBackRest != null) {
            Optional<Instant> newest = pgBackRest.list().stream().filter(Backups.Listed::ok)
                    .map(Backups.Listed::createdAt).filter(java.util.Objects::nonNull).max(Instant::compareTo);
            return fresh(newest, now, "pgBackRest; " + drill(pgBackRest.lastDrillAt()), List.of());
        }
        if (!backups.options().enabled()) {
            return Result.degraded("バックアップが無効です / backups are off (--no-backup)");
        }
        Optional<String> wal = backups.walProblem();
        if (wal.isPresent()) {
            return Result.down("WAL の送付に失敗しています / WAL shipping fails: " + wal.get())
                    .at(backups.lastWalShipAt().orElse(null));
        }
        String line = backups.lastWalShipAt().map(t -> "WAL 送付 " + JST.dateTimeWithZone(t, JpDates.Lang.JA)
                + " / WAL shipped").orElse("WAL 未送付 / WAL not shipped yet") + "; " + drill(backups.lastDrillAt());
        return fresh(backups.newestBackupAt(), now, line, backups.deviations());
    }

    private static String drill(Optional<Instant> at) {
        return at.map(i -> "復元訓練 " + JST.dateTimeWithZone(i, JpDates.Lang.JA) + " / last restore drill")
                .orElse("復元訓練は未実施 / no restore drill yet");
    }

    private static Result fresh(Optional<Instant> newest, Instant now, String line, List<String> deviations) {
        if (newest.isEmpty()) {
            return Result.degraded("完了したバックアップはまだありません / no finished backup yet: " + line);
        }
        if (newest.get().plus(MAX_BACKUP_AGE).isBefore(now)) {
            return Result.down("直近のバックアップが古すぎます / the newest backup is older than "
                    + MAX_BACKUP_AGE.toHours() + " hours: " + line).at(newest.get());
        }
        if (!deviations.isEmpty()) {
            return Result.degraded(deviations.get(0) + (deviations.size() > 1 ? " (+" + (deviations.size() - 1) + ")"
                    : "")).at(newest.get());
        }
        return Result.up("直近のバックアップ / newest backup; " + line).at(newest.get());
    }
}
