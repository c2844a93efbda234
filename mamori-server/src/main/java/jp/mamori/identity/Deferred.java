package jp.mamori.identity;

import jp.mamori.db.Tx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What identity cannot write while the database is read-only (degraded mode, issue 18 §2, DEGRADED-2, ADR 0013):
 * authentication events, last-login times, the TOTP replay counter, used recovery codes, emergency account uses and
 * the sessions' changes. While degraded, sign-in keeps working from what it can read, holds its state in this
 * process's memory (the sessions themselves in {@link Sessions}, the throttle in {@link Logins}) and queues the rows
 * here, in order; before the process leaves degraded mode ({@code Availability.beforeLeaving}) they are written in
 * one transaction. A failure keeps the process degraded and the queue as it was, so nothing is silently lost; what is
 * lost with a crash of the process while degraded is logged line by line as it is queued (the log is the record).
 */
public final class Deferred {
    private static final Logger log = LoggerFactory.getLogger(Deferred.class);

    /** A write that waits for the database. */
    @FunctionalInterface
    public interface Write {
        void apply(Connection c) throws SQLException;
    }

    private record Queued(String what, Write write) {
    }

    private volatile BooleanSupplier degraded = () -> false;
    private final List<Queued> queue = new ArrayList<>();
    private final List<Runnable> afterFlush = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Whether writes wait now. */
    public boolean active() {
        return degraded.getAsBoolean();
    }

    void degradedWhile(BooleanSupplier degraded) {
        this.degraded = degraded;
    }

    /** Queues {@code write}; {@code what} is logged now (English, no secrets). */
    public void later(String what, Write write) {
        log.info("degraded mode: kept for the database: {}", what);
        synchronized (queue) {
            queue.add(new Queued(what, write));
        }
    }

    /** How many writes wait. */
    public int waiting() {
        synchronized (queue) {
            return queue.size();
        }
    }

    /** Runs after a successful flush, e.g. to drop what memory held. */
    void afterFlush(Runnable r) {
        afterFlush.add(r);
    }

    /**
     * Writes everything queued, in order, in one transaction (the preparer before leaving degraded mode); throws when
     * the database does not take it, leaving the queue as it was.
     */
    public void flush(DataSource ds, List<Write> more) {
        List<Queued> now;
        synchronized (queue) {
            now = new ArrayList<>(queue);
        }
        Tx.inTransaction(ds, c -> {
            for (Queued q : now) {
                q.write().apply(c);
            }
            for (Write w : more) {
                w.apply(c);
            }
            return null;
        });
        synchronized (queue) {
            queue.subList(0, now.size()).clear();
        }
        if (!now.isEmpty() || !more.isEmpty()) {
            log.warn("degraded mode: {} deferred identity write(s) and {} session(s) written to the database",
                    now.size(), more.size());
        }
        for (Runnable r : afterFlush) {
            r.run();
        }
    }
}
