package jp.mamori.kernel;

/**
 * Whether this jar is the measurement build without auditing (issue 24): built only by the Maven profile
 * {@code bench-unaudited}, which adds the marker resource {@code META-INF/mamori/bench-unaudited} in a build folder of
 * its own, so that no product jar can carry it. Such a server answers without an audit entry of what it answers
 * ({@code AuditTrail.append} stores nothing; a write still stages its entry in its transaction), binds only to
 * loopback, and names the deviation in its log and its start entry. There is no option or setting that does this:
 * "no audit, no answer" (AUDIT-1) holds for every other build.
 */
public final class BenchBuild {
    /** True only in the jar of the {@code bench-unaudited} profile. */
    public static final boolean UNAUDITED =
            BenchBuild.class.getResource("/META-INF/mamori/bench-unaudited") != null;

    /** The deviation line of such a build. */
    public static final String DEVIATION = "BENCH BUILD WITHOUT AUDITING: answers are not recorded in the audit trail"
            + " (AUDIT-1); a measurement build (issue 24) that must never hold real data";

    private BenchBuild() {
    }
}
