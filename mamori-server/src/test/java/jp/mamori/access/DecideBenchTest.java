package jp.mamori.access;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keeps the decide() measurement runnable; prints the figure, asserts no timing. */
class DecideBenchTest {
    @Test
    void theDecideMeasurementRunsAndPrintsItsFigure() {
        DecideBench.Result r = DecideBench.run(200_000);
        System.out.printf("decide(): %.1f ns (short, cold run; see DecideBench.main for the figure)%n", r.nsPerDecide());
        assertTrue(r.permitted() > 0 && r.permitted() < r.total(), "the mix has both outcomes");
    }
}
