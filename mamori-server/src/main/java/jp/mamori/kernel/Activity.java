package jp.mamori.kernel;

/**
 * Whether the server is serving people right now: the web layer marks each request it handles; background work that
 * competes for the disk (a running backup) asks {@link #busy} and yields while it is. One volatile write per request.
 */
public final class Activity {
    private static volatile long lastRequest = Long.MIN_VALUE / 2;

    private Activity() {
    }

    /** A request is being handled now. */
    public static void served() {
        lastRequest = System.nanoTime();
    }

    /** Whether a request was handled within the last {@code windowNanos}. */
    public static boolean busy(long windowNanos) {
        return System.nanoTime() - lastRequest < windowNanos;
    }
}
