package jp.mamori.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Percentiles use the nearest-rank definition: the value at 1-based rank ceil(p/100 * n). */
class LatencyRecorderTest {

    @Test
    void nearestRankOnOneToHundred() {
        LatencyRecorder recorder = shuffled(100);
        assertEquals(new LatencyRecorder.Summary(100, 50, 95, 99), recorder.summary());
    }

    @Test
    void nearestRankOnSmallAndLargeSets() {
        assertEquals(new LatencyRecorder.Summary(1, 7, 7, 7), of(7).summary());
        // n = 10: ranks ceil(5) = 5, ceil(9.5) = 10, ceil(9.9) = 10
        assertEquals(new LatencyRecorder.Summary(10, 5, 10, 10), shuffled(10).summary());
        // n = 10000 grows the array past its initial capacity
        assertEquals(new LatencyRecorder.Summary(10_000, 5_000, 9_500, 9_900), shuffled(10_000).summary());
        // n = 3: ranks ceil(1.5) = 2, ceil(2.85) = 3, ceil(2.97) = 3
        assertEquals(new LatencyRecorder.Summary(3, 20, 30, 30), of(30, 10, 20).summary());
    }

    @Test
    void mergesWorkers() {
        LatencyRecorder a = new LatencyRecorder();
        LatencyRecorder b = new LatencyRecorder();
        for (int i = 1; i <= 2_000; i++) {
            (i % 2 == 0 ? a : b).record(i);
        }
        LatencyRecorder all = new LatencyRecorder();
        all.addAll(a);
        all.addAll(b);
        assertEquals(new LatencyRecorder.Summary(2_000, 1_000, 1_900, 1_980), all.summary());
    }

    @Test
    void emptyRecorderHasNoPercentiles() {
        assertEquals(0, new LatencyRecorder().summary().count());
    }

    private static LatencyRecorder shuffled(int n) {
        List<Long> values = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            values.add(i);
        }
        Collections.shuffle(values, new Random(42));
        LatencyRecorder recorder = new LatencyRecorder();
        values.forEach(recorder::record);
        return recorder;
    }

    private static LatencyRecorder of(long... values) {
        LatencyRecorder recorder = new LatencyRecorder();
        for (long value : values) {
            recorder.record(value);
        }
        return recorder;
    }
}
