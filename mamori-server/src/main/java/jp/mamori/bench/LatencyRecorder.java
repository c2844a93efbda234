package jp.mamori.bench;

import java.util.Arrays;

/**
 * Records latencies in microseconds into a growable array (one recorder per worker, not thread-safe)
 * and computes exact percentiles by sorting.
 *
 * <p>Percentiles use the nearest-rank definition: for n sorted values, the p-th percentile is the
 * value at 1-based rank {@code ceil(p / 100 * n)} (at least 1). For the values 1..100 this gives
 * p50 = 50, p95 = 95 and p99 = 99.
 */
final class LatencyRecorder {

    /** Exact percentiles in microseconds; {@code count == 0} means nothing was recorded. */
    record Summary(int count, long p50, long p95, long p99) {
    }

    private long[] values = new long[1024];
    private int size;

    void record(long micros) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = micros;
    }

    int count() {
        return size;
    }

    /** Appends all values of another recorder to this one. */
    void addAll(LatencyRecorder other) {
        if (size + other.size > values.length) {
            values = Arrays.copyOf(values, Math.max(values.length * 2, size + other.size));
        }
        System.arraycopy(other.values, 0, values, size, other.size);
        size += other.size;
    }

    Summary summary() {
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        if (sorted.length == 0) {
            return new Summary(0, 0, 0, 0);
        }
        return new Summary(sorted.length, percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99));
    }

    /** Nearest-rank percentile of ascending, non-empty {@code sorted}; {@code percent} in (0, 100]. */
    static long percentile(long[] sorted, double percent) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        // percent * n is exact for whole percents, so the division and ceil do not suffer rounding.
        long rank = (long) Math.ceil(percent * sorted.length / 100.0);
        rank = Math.max(1, Math.min(sorted.length, rank));
        return sorted[(int) rank - 1];
    }
}
