package jp.mamori.db;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Drives {@link Availability} from what the database says (issue 18 §2, DEGRADED-1, ADR 0013): every
 * {@code interval} (one second by default, {@code --degraded-check-seconds}) it opens a fresh connection — never one of
 * the pool's, which may point at a host that is gone — to any host of the configured list, preferring a primary, and
 * asks {@code pg_is_in_recovery()} and {@code current_setting('transaction_read_only')}.
 *
 * <ul>
 *   <li>A read-only copy answers (a hot standby while the primary is down, a copy started read-only) on
 *       {@link #CONFIRMATIONS} observations in a row: degraded mode is entered (target ≤ 5 s from the loss).</li>
 *   <li>A writable primary answers on {@link #CONFIRMATIONS} observations in a row: degraded mode is left (target
 *       ≤ 10 s after a promotion or return). The audit journal's merge runs before (Availability's preparers).</li>
 *   <li>Nothing answers: the mode does not change. That is "down", not degraded: requests fail as retryable (503),
 *       and health says DOWN.</li>
 * </ul>
 * Two observations in a row, not one, so that a single lost probe (a restart of the standby's walreceiver, a
 * dropped packet) does not flap the whole console; at one second per probe that still leaves the 5 s target.
 */
public final class PrimaryMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PrimaryMonitor.class);

    /** Consecutive equal observations needed before the mode changes. */
    public static final int CONFIRMATIONS = 2;

    /** What one probe saw. */
    public enum Seen { PRIMARY, READ_ONLY, UNREACHABLE }

    /** One probe's result: what answered, and a line for logs and the health report. */
    public record Observation(Seen seen, String detail) {
    }

    /** Asks the database once; must not throw. */
    @FunctionalInterface
    public interface Probe {
        Observation observe();
    }

    private final Availability availability;
    private final Probe probe;
    private final Duration interval;
    private ScheduledExecutorService timer;
    private Seen last;
    private int run;
    private volatile Observation lastObservation = new Observation(Seen.PRIMARY, "not checked yet");

    public PrimaryMonitor(Availability availability, Probe probe, Duration interval) {
        this.availability = availability;
        this.probe = probe;
        this.interval = interval;
    }

    /** What the last probe saw (the health report shows it). */
    public Observation lastObservation() {
        return lastObservation;
    }

    /** Starts probing in a daemon thread. */
    public synchronized PrimaryMonitor start() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mamori-primary-monitor");
                t.setDaemon(true);
                return t;
            });
            long ms = Math.max(100, interval.toMillis());
            timer.scheduleWithFixedDelay(this::checkOnce, ms, ms, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** One probe and its consequence; public for tests and for a caller that wants an answer now. */
    public synchronized void checkOnce() {
        Observation o;
        try {
            o = probe.observe();
        } catch (RuntimeException e) {
            o = new Observation(Seen.UNREACHABLE, e.toString());
        }
        lastObservation = o;
        if (o.seen() == last) {
            run++;
        } else {
            last = o.seen();
            run = 1;
        }
        if (run < CONFIRMATIONS) {
            return;
        }
        try {
            if (o.seen() == Seen.READ_ONLY && !availability.degraded()) {
                availability.enterDegraded("only a read-only database answers: " + o.detail());
            } else if (o.seen() == Seen.PRIMARY && availability.degraded() && !availability.state().forced()) {
                availability.leaveDegraded("a writable primary answers again: " + o.detail());
            }
        } catch (RuntimeException e) {
            log.warn("primary monitor: switching the mode failed: {}", e.toString());
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    /**
     * The probe of a JDBC URL (one host or a list): a fresh connection with short timeouts to any host of the list,
     * a primary first ({@code targetServerType=preferPrimary}, host states re-checked every second).
     */
    public static Probe jdbc(String url, String user, String password) {
        String probeUrl = withParams(url, Map.of("targetServerType", "preferPrimary", "hostRecheckSeconds", "1",
                "connectTimeout", "2", "socketTimeout", "3", "loginTimeout", "3", "ApplicationName", "mamori-monitor"));
        return () -> {
            Properties p = new Properties();
            if (user != null) {
                p.setProperty("user", user);
            }
            if (password != null) {
                p.setProperty("password", password);
            }
            try (Connection c = DriverManager.getConnection(probeUrl, p); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), current_setting('transaction_read_only'),"
                         + " inet_server_addr()::text, inet_server_port()")) {
                rs.next();
                boolean recovery = rs.getBoolean(1);
                boolean readOnly = "on".equals(rs.getString(2));
                String host = rs.getString(3) + ":" + rs.getInt(4);
                if (recovery) {
                    return new Observation(Seen.READ_ONLY, host + " is a standby in recovery");
                }
                if (readOnly) {
                    return new Observation(Seen.READ_ONLY, host + " accepts read-only transactions only");
                }
                return new Observation(Seen.PRIMARY, host + " is a writable primary");
            } catch (SQLException e) {
                return new Observation(Seen.UNREACHABLE, "no database answers (" + e.getSQLState() + ")");
            }
        };
    }

    /**
     * {@code url} with the given query parameters set, replacing any of the same names (pgjdbc lets the URL's own
     * parameters win over the connection properties, so they are rewritten here).
     */
    public static String withParams(String url, Map<String, String> params) {
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        Map<String, String> all = new LinkedHashMap<>();
        if (q >= 0) {
            for (String kv : url.substring(q + 1).split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                all.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
            }
        }
        all.putAll(params);
        StringBuilder sb = new StringBuilder(base);
        char sep = '?';
        for (Map.Entry<String, String> e : all.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = '&';
        }
        return sb.toString();
    }

    /** Whether a JDBC URL names several hosts ({@code jdbc:postgresql://a:5432,b:5432/db}). */
    public static boolean multiHost(String url) {
        String rest = url.startsWith("jdbc:postgresql://") ? url.substring("jdbc:postgresql://".length()) : "";
        int slash = rest.indexOf('/');
        int q = rest.indexOf('?');
        int end = slash >= 0 ? slash : q >= 0 ? q : rest.length();
        return rest.substring(0, end).contains(",");
    }
}
