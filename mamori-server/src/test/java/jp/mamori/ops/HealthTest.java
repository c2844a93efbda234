package jp.mamori.ops;

import org.junit.jupiter.api.Test;

import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How the checks make the overall status that load balancers and monitors read at {@code /health}. */
class HealthTest {
    private static HealthCheck check(String name, boolean critical, HealthCheck.Status s) {
        return HealthCheck.of(name, critical, () -> new HealthCheck.Result(s, name, null));
    }

    @Test
    void amberLinksLeaveItUpARedOneDegradesItAndARedCriticalOneTakesItDown() {
        Health amber = new Health(Clock.systemUTC()).register(check("database", true, HealthCheck.Status.UP))
                .register(check("tsa", false, HealthCheck.Status.DEGRADED));
        assertEquals(HealthCheck.Status.UP, amber.fresh().status(), "a link not configured is no outage");
        assertEquals(HealthCheck.Status.DEGRADED, amber.fresh().line("tsa").result().status(), "but it is shown");

        Health red = new Health(Clock.systemUTC()).register(check("database", true, HealthCheck.Status.UP))
                .register(check("disk-data", false, HealthCheck.Status.DOWN));
        assertEquals(HealthCheck.Status.DEGRADED, red.fresh().status());

        Health standby = new Health(Clock.systemUTC()).register(check("database", true, HealthCheck.Status.DEGRADED));
        assertEquals(HealthCheck.Status.DEGRADED, standby.fresh().status());

        Health down = new Health(Clock.systemUTC()).register(check("database", true, HealthCheck.Status.DOWN))
                .register(check("tsa", false, HealthCheck.Status.UP));
        assertEquals(HealthCheck.Status.DOWN, down.fresh().status());

        Health failing = new Health(Clock.systemUTC()).register(HealthCheck.of("audit-appender", true, () -> {
            throw new IllegalStateException("boom");
        }));
        assertEquals(HealthCheck.Status.DOWN, failing.fresh().status(), "a check that throws counts as down");
        assertThrows(IllegalArgumentException.class, () -> failing.register(check("audit-appender", false,
                HealthCheck.Status.UP)));
    }
}
