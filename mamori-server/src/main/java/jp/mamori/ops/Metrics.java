package jp.mamori.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jp.mamori.audit.AuditTrail;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's metrics in the Prometheus text format through Micrometer (issue 18 §5; NET-13): requests by route kind
 * and status class with their latencies, the audit queue and group commit times, the connection pool, and every
 * health check as a gauge (0 up, 1 degraded, 2 down). No metric names a person, a patient or a path: the route kinds
 * are a fixed set, so a caller cannot grow the series by inventing paths.
 */
public final class Metrics {
    /** The route kinds requests are counted under; anything else counts as {@code other}. */
    public static final Set<String> KINDS = Set.of("fhir-read", "fhir-search", "fhir-write", "fhir-other", "console",
            "token", "health", "metrics", "other");
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Timer> requests = new ConcurrentHashMap<>();
    private final Set<String> healthGauges = ConcurrentHashMap.newKeySet();
    private volatile Health health;

    public Metrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Counts one request of {@code kind} answered with {@code status} after {@code nanos}. Called on every request. */
    public void request(String kind, int status, long nanos) {
        String k = KINDS.contains(kind) ? kind : "other";
        String cls = status >= 100 && status < 600 ? (status / 100) + "xx" : "other";
        requests.computeIfAbsent(k + '|' + cls, key -> Timer.builder("mamori.http.requests")
                .description("HTTP requests by route kind and status class")
                .tag("kind", k).tag("status", cls).serviceLevelObjectives(BUCKETS).register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The audit appender: its queue, the entries it committed and how long each group commit took (AUDIT-1). */
    public Metrics audit(AuditTrail trail) {
        Gauge.builder("mamori.audit.queue", trail, AuditTrail::queued).description("audit entries waiting for the writer")
                .register(registry);
        FunctionCounter.builder("mamori.audit.entries", trail, t -> t.stats().entries())
                .description("audit entries committed by this process").register(registry);
        FunctionCounter.builder("mamori.audit.failed.groups", trail, t -> t.stats().failedBatches())
                .description("audit groups that could not be stored").register(registry);
        Timer commits = Timer.builder("mamori.audit.commit").description("audit group commit time")
                .serviceLevelObjectives(BUCKETS).register(registry);
        trail.onCommitTime(n -> commits.record(n, TimeUnit.NANOSECONDS));
        return this;
    }

    /** The connection pool (HikariCP): connections in use, idle, in all, and requests waiting for one. */
    public Metrics pool(DataSource ds) {
        com.zaxxer.hikari.HikariDataSource found = null;
        try {
            // with several database hosts the data source routes between two pools: the primary's is counted
            found = ds instanceof com.zaxxer.hikari.HikariDataSource d ? d
                    : ds.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)
                    ? ds.unwrap(com.zaxxer.hikari.HikariDataSource.class) : null;
        } catch (java.sql.SQLException e) {
            found = null;
        }
        if (found != null) {
            com.zaxxer.hikari.HikariDataSource h = found;
            gauge("mamori.db.pool.active", "connections in use", h, x -> pool(x) == null ? 0 : pool(x).getActiveConnections());
            gauge("mamori.db.pool.idle", "idle connections", h, x -> pool(x) == null ? 0 : pool(x).getIdleConnections());
            gauge("mamori.db.pool.total", "connections open", h, x -> pool(x) == null ? 0 : pool(x).getTotalConnections());
            gauge("mamori.db.pool.pending", "requests waiting for a connection", h,
                    x -> pool(x) == null ? 0 : pool(x).getThreadsAwaitingConnection());
            gauge("mamori.db.pool.max", "the pool's size", h, x -> x.getMaximumPoolSize());
        }
        return this;
    }

    private static com.zaxxer.hikari.HikariPoolMXBean pool(com.zaxxer.hikari.HikariDataSource h) {
        return h.getHikariPoolMXBean();
    }

    private <T> void gauge(String name, String description, T obj, java.util.function.ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).description(description).register(registry);
    }

    /** The health checks as gauges (0 up, 1 degraded, 2 down) from the last report; {@code overall} for the whole. */
    public Metrics health(Health health) {
        this.health = health;
        return this;
    }

    /** A value to watch besides the built-in ones (e.g. failed logins in the alert's window). */
    public Metrics gauge(String name, String description, java.util.function.DoubleSupplier value) {
        Gauge.builder(name, value::getAsDouble).description(description).register(registry);
        return this;
    }

    private void healthGauges() {
        Health h = health;
        if (h == null) {
            return;
        }
        Health.Report r = h.lastReport();
        if (r == null) {
            r = h.report();
        }
        if (healthGauges.add("overall")) {
            Gauge.builder("mamori.health.status", h, x -> level(x.lastReport() == null ? null : x.lastReport().status()))
                    .description("health: 0 up, 1 degraded, 2 down").tag("check", "overall").register(registry);
        }
        for (Health.Line l : r.lines()) {
            String name = l.name();
            if (healthGauges.add(name)) {
                Gauge.builder("mamori.health.status", h, x -> {
                    Health.Report last = x.lastReport();
                    Health.Line line = last == null ? null : last.line(name);
                    return level(line == null ? null : line.result().status());
                }).description("health: 0 up, 1 degraded, 2 down").tag("check", name).register(registry);
            }
        }
    }

    private static double level(HealthCheck.Status s) {
        return s == null ? Double.NaN : s.ordinal();
    }

    /** The Prometheus text exposition (format 0.0.4). */
    public String scrape() {
        healthGauges();
        return registry.scrape();
    }

    /** The content type of {@link #scrape}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
}
