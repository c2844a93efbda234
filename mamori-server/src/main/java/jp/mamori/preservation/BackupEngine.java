package jp.mamori.preservation;

import jp.mamori.audit.Actor;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What takes this installation's backups (ADR 0010): Mamori's own engine for the embedded database ({@link Backups})
 * or pgBackRest for an external PostgreSQL ({@link PgBackRestBackups}). Both answer the same calls, so that the server,
 * {@code mamori backup now|list|verify|drill} and the deviations treat them alike (BACKUP-1/2/4/5).
 */
public interface BackupEngine extends AutoCloseable {
    /** Where the copies are, for people: a folder, or a pgBackRest stanza. */
    String describe();

    /** Starts the scheduled backups (and {@code scheduledDrill} when a drill is due) while the server runs. */
    void start(Runnable scheduledDrill);

    /** Takes a backup now, recorded in the audit trail as done by {@code who}. */
    Backups.Taken backupNow(Actor who);

    /** The backups there are, oldest first; one that cannot be used carries its problem. */
    List<Backups.Listed> list();

    /** Checks every copy without restoring it: one line per backup or problem, and whether all were sound. */
    Verified verifyAll(String by);

    /** A verification's lines and outcome. */
    record Verified(List<String> lines, boolean ok) {
    }

    /** Restores the newest backup into a scratch place, runs {@code check} on it, records the result. */
    Backups.DrillResult drill(DrillCheck check, Actor who);

    /** When the last drill ran (this process or an earlier one). */
    Optional<Instant> lastDrillAt();

    /** What falls short of the guideline now, one line each. */
    List<String> deviations();

    @Override
    void close();
}
