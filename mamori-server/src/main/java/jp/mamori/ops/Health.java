package jp.mamori.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The health report (issue 18 §5; DEGRADED-*, NET-13): every registered {@link HealthCheck}, run together, with an
 * overall status. The anonymous {@code /health} shows only that overall status; the detailed report is for system
 * clients holding {@code system/health.read} and for administrators.
 * <p>A report is reused for {@link #MAX_AGE}: {@code /health} needs no authentication, so a stranger calling it in a
 * loop must not make the server query its database and disks on every call.
 */
public final class Health {
    private static final Logger log = LoggerFactory.getLogger(Health.class);
    /** How long a report is reused. */
    public static final Duration MAX_AGE = Duration.ofSeconds(5);

    /** One check's line in a report. */
    public record Line(String name, boolean critical, HealthCheck.Result result) {
    }

    /** A report: the overall status, each check's line in the order registered, and when it was made. */
    public record Report(HealthCheck.Status status, List<Line> lines, Instant at) {
        public Report {
            lines = List.copyOf(lines);
        }

        /** The line of check {@code name}, or null. */
        public Line line(String name) {
            return lines.stream().filter(l -> l.name().equals(name)).findFirst().orElse(null);
        }
    }

    private final List<HealthCheck> checks = new CopyOnWriteArrayList<>();
    private final Clock clock;
    private volatile Report last;

    public Health(Clock clock) {
        this.clock = clock;
    }

    /** Adds a check, shown after those added before. */
    public Health register(HealthCheck check) {
        if (checks.stream().anyMatch(c -> c.name().equals(check.name()))) {
            throw new IllegalArgumentException("a health check named " + check.name() + " is registered already");
        }
        checks.add(check);
        last = null;
        return this;
    }

    /** The last report if it is younger than {@link #MAX_AGE}, else a new one. */
    public Report report() {
        Report r = last;
        if (r != null && !r.at().plus(MAX_AGE).isBefore(clock.instant())) {
            return r;
        }
        return fresh();
    }

    /** Runs every check now. */
    public synchronized Report fresh() {
        List<Line> lines = new ArrayList<>();
        HealthCheck.Status overall = HealthCheck.Status.UP;
        for (HealthCheck c : checks) {
            HealthCheck.Result res;
            try {
                res = c.check();
                if (res == null) {
                    res = HealthCheck.Result.down("結果がありません / the check gave no result");
                }
            } catch (RuntimeException e) {
                log.warn("health check {} failed: {}", c.name(), e.toString());
                res = HealthCheck.Result.down("確認できません / cannot be checked: " + e.getClass().getSimpleName());
            }
            lines.add(new Line(c.name(), c.critical(), res));
            HealthCheck.Status s = res.status();
            // a critical check sets the status as it is; another only when red (then DEGRADED): an amber line (a link
            // not configured, a standby) is shown in the detail and on the page but does not make a fresh install
            // report DEGRADED to load balancers and monitors
            overall = overall.worst(c.critical() ? s : s == HealthCheck.Status.DOWN ? HealthCheck.Status.DEGRADED
                    : HealthCheck.Status.UP);
        }
        Report r = new Report(overall, lines, clock.instant());
        last = r;
        return r;
    }

    /** The last report made, without running the checks (null before the first). */
    public Report lastReport() {
        return last;
    }
}
