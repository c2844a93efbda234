package jp.mamori.preservation.web;

import java.util.List;

/**
 * The view models of the backups page ({@link BackupPages}; template {@code backup/home.jte}). Public because the
 * compiled templates live in their own package; everything is already formatted for a person (times in the
 * server's time zone, sizes, durations), and nothing here reaches the backups themselves.
 */
public final class BackupViews {
    private BackupViews() {
    }

    /**
     * The page.
     *
     * @param enabled    whether the server takes backups at all (not with {@code --no-backup} or an external database)
     * @param offReason  why not ("日本語 / English"), when not enabled
     * @param policy     the settings, or null when there are no backups
     * @param backups    the finished backups, newest first
     * @param drill      the last restore drill, or null when none has run
     * @param offline    the offline copy, or null when none is configured
     * @param objectLock the Object Lock copy in S3-compatible storage, or null when none is configured
     * @param deviations what falls short now, Japanese first
     * @param running    the run started from this page that is still going, or null
     * @param last       the last run started from this page that has ended, or null
     * @param notice     what the person's last button did ("日本語 / English"), or null
     * @param zone       the time zone the times are in (e.g. Asia/Tokyo)
     */
    public record Home(boolean enabled, String offReason, Policy policy, List<Backup> backups, Drill drill,
                       Offline offline, List<String> deviations, Run running, Run last, String notice, String zone,
                       String csrf, ObjectLock objectLock) {
    }

    /**
     * The settings (README "Backups").
     *
     * @param folder     the backup folder
     * @param offline    the offline medium's folder, or null when none is configured
     * @param hour       the daily backup's hour, "02:00"
     * @param walSeconds a closed WAL segment is shipped at most this long after a write: the recovery point
     */
    public record Policy(String folder, String offline, int offlineMaxDays, String hour, int daily, int weekly,
                         int monthly, int yearly, int walSeconds, int drillDays) {
    }

    /**
     * One finished backup.
     *
     * @param when          when it was taken, e.g. "2026年12月7日 02:00"
     * @param size          its sealed size, e.g. "12.4 MB"
     * @param newestVersion the newest record version it holds
     * @param auditLastSeq  the last audit entry it holds, or -1 for none
     * @param problem       why its signed manifest is refused ("日本語 / English"), or null when it is sound
     */
    public record Backup(String when, String size, long newestVersion, long auditLastSeq, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    /**
     * The last restore drill.
     *
     * @param backup   when the backup it restored was taken, or null when there was none
     * @param restore  the measured restore time (RTO), e.g. "12.3 秒"
     * @param dataAge  the age of the newest data it brought back (RPO)
     * @param findings the findings it recorded (only the first, for a drill read back from the log)
     */
    public record Drill(String when, String backup, String restore, String total, String dataAge, boolean passed,
                        int findingCount, List<String> findings) {
    }

    /**
     * The offline copy.
     *
     * @param lastRefresh  when it was last refreshed, or null when never
     * @param newestBackup when the newest backup on it was taken, or null
     * @param deviation    what is wrong with it, or null
     */
    public record Offline(String folder, String lastRefresh, String newestBackup, String deviation) {
    }

    /**
     * The Object Lock copy (BACKUP-3).
     *
     * @param bucket       the bucket (and key prefix)
     * @param lastRefresh  when it was last refreshed, or null when never
     * @param newestBackup when the newest backup in the bucket was taken, or null
     * @param deviation    what is wrong with it, or null
     */
    public record ObjectLock(String bucket, String lastRefresh, String newestBackup, String deviation) {
    }

    /**
     * A backup or drill started from this page.
     *
     * @param kind    {@code backup} or {@code drill}, named by the text {@code backup.run.KIND}
     * @param by      who started it (login id)
     * @param ended   when it ended, or null while it runs
     * @param outcome what came of it ("日本語 / English"), or null while it runs
     */
    public record Run(String kind, String by, String started, String ended, boolean ok, String outcome) {
    }
}
