package jp.mamori.ops;

import java.time.Instant;

/**
 * One thing the health report looks at (issue 18 §5): the database, a disk, the audit appender, the checkpointer, a
 * link. Capabilities built later (degraded mode, the downtime kit) register their own through
 * {@link Health#register}. A check must answer within a few seconds and must not throw: what it cannot find out is a
 * {@link Status#DOWN} result that says so.
 */
public interface HealthCheck {

    /** Green, amber, red. */
    enum Status {
        /** Working as designed. */
        UP,
        /** Working, with something to look at (a standby database, a link not yet used, space running short). */
        DEGRADED,
        /** Not working, or failing the guideline (no space, checkpoints stalled, a certificate about to expire). */
        DOWN;

        public Status worst(Status other) {
            return compareTo(other) >= 0 ? this : other;
        }
    }

    /**
     * What one check found.
     *
     * @param status  its colour
     * @param summary one line for people, Japanese first ("日本語 / English"); never patient data
     * @param at      the time the line is about (the last checkpoint, the last backup), shown in JST; null for none
     */
    record Result(Status status, String summary, Instant at) {
        public static Result up(String summary) {
            return new Result(Status.UP, summary, null);
        }

        public static Result degraded(String summary) {
            return new Result(Status.DEGRADED, summary, null);
        }

        public static Result down(String summary) {
            return new Result(Status.DOWN, summary, null);
        }

        public Result at(Instant when) {
            return new Result(status, summary, when);
        }
    }

    /** A stable short name, lower case with dashes ({@code database}, {@code disk-data}); also the metrics' tag. */
    String name();

    /**
     * Whether this check going red means the server cannot serve (the database, the audit trail: no audit, no answer):
     * then the whole report is DOWN (DEGRADED when it is amber); any other red check makes it DEGRADED, and another
     * amber one leaves it UP.
     */
    default boolean critical() {
        return false;
    }

    Result check();

    /** A check from a name and a function. */
    static HealthCheck of(String name, boolean critical, java.util.function.Supplier<Result> check) {
        return new HealthCheck() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean critical() {
                return critical;
            }

            @Override
            public Result check() {
                return check.get();
            }
        };
    }
}
