package jp.mamori.compliance;

import java.time.Instant;

/**
 * What a {@link Probe} found: a status, one line Japanese first ("日本語 / English") with the figures that decide it,
 * a console path with the detail a reviewer opens next, and when it was computed.
 */
public record Evidence(String probeId, Status status, String summary, String detailPath, Instant at) {
    /** How the item stands: はい, 一部, いいえ, or not known (the probe could not look). */
    public enum Status { PASS, PARTIAL, FAIL, UNKNOWN }

    public Evidence {
        if (probeId == null || status == null || summary == null || at == null) {
            throw new IllegalArgumentException("evidence needs a probe, a status, a summary and a time");
        }
    }

    /** The worse of two statuses: FAIL over UNKNOWN over PARTIAL over PASS. */
    public static Status worse(Status a, Status b) {
        return rank(a) >= rank(b) ? a : b;
    }

    private static int rank(Status s) {
        return switch (s) {
            case PASS -> 0;
            case PARTIAL -> 1;
            case UNKNOWN -> 2;
            case FAIL -> 3;
        };
    }
}
