package jp.mamori.db;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AvailabilityTest {
    @Test
    void entersAndLeavesOnceAndTellsListeners() {
        Availability a = Availability.normal(Clock.systemUTC());
        List<Availability.Mode> seen = new ArrayList<>();
        a.onChange(s -> seen.add(s.mode()));
        assertFalse(a.degraded());
        a.enterDegraded("primary lost");
        a.enterDegraded("again");
        assertTrue(a.degraded());
        assertEquals("primary lost", a.state().reason());
        assertTrue(a.leaveDegraded("primary back"));
        assertFalse(a.degraded());
        assertEquals(List.of(Availability.Mode.DEGRADED, Availability.Mode.NORMAL), seen);
    }

    @Test
    void aFailingPreparerKeepsTheProcessDegraded() {
        Availability a = Availability.normal(Clock.systemUTC());
        int[] tries = {0};
        a.beforeLeaving(() -> {
            if (tries[0]++ == 0) {
                throw new IllegalStateException("journal not merged");
            }
        });
        a.enterDegraded("primary lost");
        assertFalse(a.leaveDegraded("primary back"));
        assertTrue(a.degraded());
        assertTrue(a.leaveDegraded("primary back"));
        assertFalse(a.degraded());
    }

    @Test
    void aForcedReadOnlyProcessNeverLeaves() {
        Availability a = Availability.readOnly(Clock.systemUTC(), "--read-only");
        assertTrue(a.degraded());
        assertTrue(a.state().forced());
        assertFalse(a.leaveDegraded("primary back"));
        assertTrue(a.degraded());
    }

    @Test
    void readOnlyAndLostConnectionsAreRetryableOthersAreNot() {
        assertTrue(Availability.retryable(new DataAccessException(new SQLException("ro", "25006"))));
        assertTrue(Availability.retryable(new RuntimeException(new SQLException("gone", "08006"))));
        assertTrue(Availability.retryable(new SQLException("shutdown", "57P01")));
        assertFalse(Availability.retryable(new SQLException("dup", "23505")));
        assertFalse(Availability.retryable(new IllegalStateException("x")));
    }
}
