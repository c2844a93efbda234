package jp.mamori.records;

/**
 * A fault point for crash tests: with the JVM system property {@value #PROPERTY}{@code =N}, the process halts
 * ({@link Runtime#halt}, no shutdown hooks, like a power cut of the JVM) right after the N-th transaction that wrote
 * versions committed, before anything else happens for that request (its answer, or formerly its audit entry).
 * Inert without the property, which only whoever starts the JVM can set: no request can reach it.
 */
final class CrashPoint {
    static final String PROPERTY = "mamori.test.halt-after-write-commits";
    /** Exit status of the halt, so that a test can tell it from other deaths. */
    static final int STATUS = 86;
    private static final long AFTER = Long.getLong(PROPERTY, 0);
    private static final java.util.concurrent.atomic.AtomicLong COMMITS = new java.util.concurrent.atomic.AtomicLong();

    private CrashPoint() {
    }

    static void afterWriteCommit() {
        if (AFTER > 0 && COMMITS.incrementAndGet() >= AFTER) {
            Runtime.getRuntime().halt(STATUS);
        }
    }
}
