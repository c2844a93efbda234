package jp.mamori.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Which of the jobs that must run once per installation this process runs now (issue 18 §1, ADR 0013, BACKUP-7):
 * several {@code serve} processes share one database, and the audit checkpointer, the report deriver, the downtime
 * kit, the account sweep, signature upkeep, the backup scheduler and the alerts' periodic checks must not all run in
 * each of them. Each job is a PostgreSQL session-level advisory lock ({@code pg_try_advisory_lock(class, job)}) taken
 * on one dedicated connection and held while this process leads it; every {@linkplain #tick tick} tries again for
 * the jobs it does not lead. No election of our own: when the holder dies, PostgreSQL ends its session and the lock
 * with it, and another process takes the job at its next tick (seconds).
 *
 * <p>A process that cannot confirm its connection (a lost network, a database that went away) stops leading at once,
 * before it knows whether PostgreSQL has noticed: two leaders for a moment are possible, none that goes on. The jobs
 * are safe to overlap for that moment (the checkpointer signs under its own transaction lock, ADR 0006); the lock
 * keeps them from doing the work twice and from raising every alert twice, which is what it is for.
 */
public final class Leadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    /** The first key of every Mamori job lock ("MAMO"); the second is the job's own number. */
    static final int LOCK_CLASS = 0x4D414D4F;
    /** How often a process tries for the jobs it does not lead and confirms the ones it does. */
    public static final Duration TICK = Duration.ofSeconds(2);

    /** One job: its name (for logs), its label for people ("日本語 / English") and its lock number. */
    public record Job(String name, String label, int key) {
    }

    /** What this process leads, and since when (for the health report). */
    public record Lead(Job job, boolean leading, Instant since) {
    }

    /** Opens a new connection outside the pool: closing it must end the session, and the locks with it. */
    public interface Connector {
        Connection open() throws SQLException;
    }

    private final Connector connector;
    private final Clock clock;
    /** Registered at start; read by the health report while a tick may be waiting for the database. */
    private final List<Job> jobs = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.Map<String, Instant> leading = new java.util.concurrent.ConcurrentHashMap<>();
    private Connection held;
    private ScheduledExecutorService timer;
    private volatile boolean closed;

    /** @param connector a new connection outside any pool (a pooled one would keep its locks when "closed") */
    public Leadership(Connector connector, Clock clock) {
        this.connector = connector;
        this.clock = clock;
    }

    /**
     * Registers a job and returns the gate its timer asks before each run: true while this process leads it. The gate
     * is false until the first tick took the lock.
     */
    public synchronized BooleanSupplier job(String name, String label) {
        int key = name.hashCode();
        boolean known = false;
        for (Job j : jobs) {
            if (j.key() == key && !j.name().equals(name)) {
                throw new IllegalArgumentException("job " + name + " has the lock number of " + j.name());
            }
            known |= j.name().equals(name);
        }
        if (!known) {
            jobs.add(new Job(name, label, key));
        }
        return () -> leads(name);
    }

    /** Whether this process leads {@code name} now (as of the last tick). */
    public boolean leads(String name) {
        return !closed && leading.containsKey(name);
    }

    /** Every registered job, whether this process leads it and since when (never waits for a tick). */
    public List<Lead> leads() {
        List<Lead> out = new ArrayList<>();
        for (Job j : jobs) {
            Instant since = leading.get(j.name());
            out.add(new Lead(j, since != null && !closed, since));
        }
        return out;
    }

    /** Ticks every {@link #TICK}, the first at once (so that a single process leads everything within moments). */
    public synchronized Leadership start() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mamori-leadership");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(() -> {
                try {
                    tick();
                } catch (RuntimeException e) {
                    log.warn("leadership: tick failed: {}", e.toString());
                }
            }, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /**
     * One round: confirms the connection that holds the locks (or drops every lead with it), then tries for each job
     * not led yet.
     */
    public synchronized void tick() {
        if (closed) {
            return;
        }
        try {
            if (held != null && !held.isValid(2)) {
                lost("the connection holding the job locks is gone");
            }
            if (held == null) {
                held = connector.open();
                held.setAutoCommit(true);
            }
            try (PreparedStatement ps = held.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
                ps.setQueryTimeout(5);
                for (Job j : jobs) {
                    if (leading.containsKey(j.name())) {
                        continue;
                    }
                    ps.setInt(1, LOCK_CLASS);
                    ps.setInt(2, j.key());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && rs.getBoolean(1)) {
                            leading.put(j.name(), clock.instant());
                            log.info("leadership: this process now runs {}", j.name());
                        }
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            lost("the database did not answer: " + e.getMessage());
        }
    }

    private void lost(String why) {
        if (!leading.isEmpty()) {
            log.warn("leadership: this process no longer runs {} ({})", leading.keySet(), why);
        }
        leading.clear();
        Connection c = held;
        held = null;
        if (c != null) {
            try {
                c.close(); // ends the session: PostgreSQL releases what it still holds
            } catch (SQLException | RuntimeException ignored) {
                // gone already
            }
        }
    }

    /** Stops trying and releases every lock (the session ends), so that another process takes over at once. */
    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.shutdownNow();
        }
        if (held != null) {
            try {
                try (PreparedStatement ps = held.prepareStatement("SELECT pg_advisory_unlock_all()")) {
                    ps.setQueryTimeout(2);
                    ps.execute();
                }
            } catch (SQLException | RuntimeException ignored) {
                // the session ends below anyway
            }
            lost("stopping");
        }
    }
}
