package jp.mamori.ops;

import jp.mamori.access.SecurityNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Alerts (issue 18 §5; DEGRADED-*, AUDIT-8): every few seconds the health checks run and the failed logins of the
 * window are counted; a check turning red, and failed logins reaching the threshold, go at once to the security
 * notifier (the log, syslog, the SIEM) and stay on the administrator's console as open alerts until they clear.
 * Each alert is sent once when it opens and once when it clears, not on every tick.
 * <p>Other capabilities raise their own (degraded mode entered, a stale downtime kit) with {@link #raise} and
 * {@link #clear}, or register a {@link HealthCheck}, which is alerted like the server's own.
 */
public final class Alerts implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Alerts.class);
    /** At most this many of the newest authentication events are read per count (auth_event has no index on time). */
    public static final int FAILURE_SCAN = 10_000;

    /** An open alert: what it is about, one line Japanese first, since when. */
    public record Alert(String key, String text, Instant since) {
    }

    /** Something a {@link Source} finds now: an alert under {@code key}, open while the source keeps finding it. */
    public record Finding(String key, String event, Map<String, String> fields, String text) {
    }

    /**
     * A watcher asked on every tick (e.g. {@link AccessWatch}): what it finds is raised once; an open alert under its
     * {@link #prefix} that it no longer finds is cleared.
     */
    public interface Source {
        /** The prefix of every key this source raises. */
        String prefix();

        List<Finding> findings();
    }

    private final List<Source> sources = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final Health health;
    private final SecurityNotifier notifier;
    private final Clock clock;
    private final Function<Instant, Integer> failuresSince;
    private final int threshold;
    private final Duration window;
    private final Map<String, HealthCheck.Status> previous = new HashMap<>();
    private final Map<String, Alert> open = new ConcurrentHashMap<>();
    private volatile int lastFailures;
    private ScheduledExecutorService timer;

    /**
     * @param failuresSince failed logins since a time (identity's {@code Logins.failuresSince}); null: not watched
     * @param threshold     failed logins within {@code window} that open an alert
     */
    public Alerts(Health health, SecurityNotifier notifier, Clock clock, Function<Instant, Integer> failuresSince,
                  int threshold, Duration window) {
        this.health = health;
        this.notifier = notifier;
        this.clock = clock;
        this.failuresSince = failuresSince;
        this.threshold = threshold;
        this.window = window;
    }

    /** Adds a watcher asked on every tick. */
    public Alerts watch(Source source) {
        sources.add(source);
        return this;
    }

    /** Whether this process runs the job now (the leader's lock, issue 18 §1, ADR 0013); always, alone. */
    private volatile java.util.function.BooleanSupplier leads = () -> true;

    /** Runs the scheduled work only while {@code leads} says this process leads it (several processes, one database). */
    public Alerts ledBy(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    /** Runs {@link #tick} every {@code every}, the first at once. */
    public synchronized Alerts start(Duration every) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-health");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            if (!leads.getAsBoolean()) {
                return; // another process checks and alerts for the installation
            }
            try {
                tick();
            } catch (RuntimeException e) {
                log.warn("health: alert check failed: {}", e.toString());
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** One round: the health checks, the watchers and the failed logins. */
    public synchronized void tick() {
        Health.Report r = health.fresh();
        for (Health.Line l : r.lines()) {
            HealthCheck.Status before = previous.getOrDefault(l.name(), HealthCheck.Status.UP);
            HealthCheck.Status now = l.result().status();
            previous.put(l.name(), now);
            String key = "health." + l.name();
            if (now == HealthCheck.Status.DOWN && before != HealthCheck.Status.DOWN) {
                raise(key, "health.down", Map.of("check", l.name()), "稼働状況の異常 / health check red: " + l.name()
                        + ": " + l.result().summary());
            } else if (now != HealthCheck.Status.DOWN && before == HealthCheck.Status.DOWN) {
                clear(key, "health.recovered", Map.of("check", l.name()), "稼働状況が回復しました / health check"
                        + " recovered: " + l.name() + ": " + l.result().summary());
            }
        }
        for (Source source : sources) {
            List<Finding> found;
            try {
                found = source.findings();
            } catch (RuntimeException e) {
                log.warn("health: watcher {} failed: {}", source.prefix(), e.toString());
                continue;
            }
            java.util.Set<String> keys = new java.util.HashSet<>();
            for (Finding f : found) {
                keys.add(f.key());
                raise(f.key(), f.event(), f.fields(), f.text());
            }
            for (Alert a : List.copyOf(open.values())) {
                if (a.key().startsWith(source.prefix()) && !keys.contains(a.key())) {
                    clear(a.key(), "alert.closed", Map.of("alert", a.key()), "警告を閉じました / alert closed: "
                            + a.text());
                }
            }
        }
        if (failuresSince != null) {
            int n;
            try {
                n = failuresSince.apply(clock.instant().minus(window));
            } catch (RuntimeException e) {
                log.warn("health: failed logins could not be counted: {}", e.toString());
                return;
            }
            lastFailures = n;
            String key = "login.failures";
            Map<String, String> f = Map.of("failures", Integer.toString(n), "minutes",
                    Long.toString(window.toMinutes()), "threshold", Integer.toString(threshold));
            if (n >= threshold && !open.containsKey(key)) {
                raise(key, "login.failures", f, "ログイン失敗が多発しています / many failed logins: " + n + " in "
                        + window.toMinutes() + " min (threshold " + threshold + ")");
            } else if (n < threshold && open.containsKey(key)) {
                clear(key, "login.failures.ended", f, "ログイン失敗の多発は収まりました / failed logins back below the"
                        + " threshold: " + n + " in " + window.toMinutes() + " min");
            }
        }
    }

    /**
     * Opens an alert (once: an alert already open under {@code key} is left as it is) and sends its notice.
     *
     * @param event the notice's event name (the syslog MSGID), e.g. {@code degraded.entered}
     */
    public void raise(String key, String event, Map<String, String> fields, String text) {
        Instant now = clock.instant();
        if (open.putIfAbsent(key, new Alert(key, text, now)) == null) {
            send(event, now, fields, text);
        }
    }

    /** Closes an open alert and sends {@code text}; nothing when none is open under {@code key}. */
    public void clear(String key, String event, Map<String, String> fields, String text) {
        if (open.remove(key) != null) {
            send(event, clock.instant(), fields, text);
        }
    }

    private void send(String event, Instant at, Map<String, String> fields, String text) {
        Map<String, String> f = new LinkedHashMap<>(fields);
        log.warn("alert {}: {}", event, text);
        notifier.notify(new SecurityNotifier.Notice(event, at, null, f, text));
    }

    /** The open alerts, oldest first. */
    public List<Alert> open() {
        List<Alert> out = new ArrayList<>(open.values());
        out.sort(Comparator.comparing(Alert::since));
        return out;
    }

    /** Failed logins in the window at the last count. */
    public int lastFailures() {
        return lastFailures;
    }

    public int threshold() {
        return threshold;
    }

    public Duration window() {
        return window;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
