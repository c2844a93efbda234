package jp.mamori.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Whether this process may write: normal, or in degraded read-only mode (縮退運用, issue 18 §2, DEGRADED-1,
 * DEGRADED-4, ADR 0013). One object per process, owned by its {@link Database}; the primary monitor drives it, and
 * {@code serve --read-only} starts it {@linkplain #readOnly forced} (it never leaves then).
 *
 * <p>Capabilities do not poll: the choke points (the console's gate, the FHIR API) ask {@link #degraded()} per
 * request, and what must change with the mode (the audit trail's local journal, alerts, metrics) registers a
 * listener. Leaving degraded mode is two-phase: every {@linkplain #beforeLeaving preparer} runs first, in the
 * caller's thread (the audit trail merges its local journal into the main trail there), and only when all of them
 * succeed does the state turn normal; a preparer that throws keeps the process degraded until the next attempt.
 */
public final class Availability {
    private static final Logger log = LoggerFactory.getLogger(Availability.class);

    /** The mode a process is in. */
    public enum Mode { NORMAL, DEGRADED }

    /**
     * The current state: the mode, since when, why (English, for logs and the health report), and whether it was
     * forced at start ({@code serve --read-only}) rather than entered because the primary was lost.
     */
    public record State(Mode mode, Instant since, String reason, boolean forced) {
        public boolean degraded() {
            return mode == Mode.DEGRADED;
        }
    }

    private final Clock clock;
    private final List<Consumer<State>> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> preparers = new CopyOnWriteArrayList<>();
    private volatile State state;

    private Availability(Clock clock, State initial) {
        this.clock = clock;
        this.state = initial;
    }

    /** A process that starts normal (writes allowed). */
    public static Availability normal(Clock clock) {
        return new Availability(clock, new State(Mode.NORMAL, clock.instant(), "started", false));
    }

    /** A process that is read-only for its whole life ({@code serve --read-only}, the standalone viewer). */
    public static Availability readOnly(Clock clock, String reason) {
        return new Availability(clock, new State(Mode.DEGRADED, clock.instant(), reason, true));
    }

    public State state() {
        return state;
    }

    /** Whether writes are refused now. */
    public boolean degraded() {
        return state.degraded();
    }

    /** Called with the new state after every change, in the thread that made it. */
    public void onChange(Consumer<State> listener) {
        listeners.add(listener);
    }

    /** Runs before the state turns normal again; throwing vetoes the change (the process stays degraded). */
    public void beforeLeaving(Runnable preparer) {
        preparers.add(preparer);
    }

    /** Enters degraded mode (no-op when already degraded). */
    public synchronized void enterDegraded(String reason) {
        if (state.degraded()) {
            return;
        }
        State s = new State(Mode.DEGRADED, clock.instant(), reason, false);
        state = s;
        log.warn("DEGRADED read-only mode entered: {}", reason);
        notifyListeners(s);
    }

    /**
     * Leaves degraded mode after every preparer succeeded; returns whether the process is normal afterwards. A forced
     * read-only process never leaves.
     */
    public synchronized boolean leaveDegraded(String reason) {
        State s = state;
        if (!s.degraded()) {
            return true;
        }
        if (s.forced()) {
            return false;
        }
        leaving = true;
        try {
            for (Runnable p : preparers) {
                try {
                    p.run();
                } catch (RuntimeException e) {
                    log.warn("degraded mode not left yet: a preparer failed: {}", e.toString());
                    return false;
                }
            }
        } finally {
            leaving = false;
        }
        State n = new State(Mode.NORMAL, clock.instant(), reason, false);
        state = n;
        log.warn("DEGRADED read-only mode left: {} (degraded since {})", reason, s.since());
        notifyListeners(n);
        return true;
    }

    /** True while the preparers of {@link #leaveDegraded} run. */
    private volatile boolean leaving;

    /**
     * Whether the preparers of {@link #leaveDegraded} are running: the primary answered, so their writes go to the
     * primary although the state is still degraded (the routing data source asks this). Not per thread: the audit
     * trail's merge runs on its writer thread, not in the thread that leaves.
     */
    public boolean leaving() {
        return leaving;
    }

    private void notifyListeners(State s) {
        for (Consumer<State> l : listeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                log.warn("an availability listener failed: {}", e.toString());
            }
        }
    }

    /**
     * Whether {@code e} (or a cause) says the database cannot take a write now but may again soon: a read-only
     * transaction (SQLSTATE 25006, a hot standby or a read-only copy), a standby in recovery, a lost connection
     * (class 08), an administrator's shutdown (57P01–57P03). Such failures become a retryable answer (503 with
     * Retry-After), never a 500.
     */
    public static boolean retryable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String st = sql.getSQLState();
                if (st.equals("25006") || st.startsWith("08") || st.equals("57P01") || st.equals("57P02")
                        || st.equals("57P03")) {
                    return true;
                }
            }
        }
        return false;
    }
}
