package jp.mamori.ledger;

import java.util.List;

/**
 * The outcome of verifying a trail.
 *
 * @param findings what was found, at most the verifier's limit, in order of position
 * @param omitted findings beyond the limit (counted, not kept)
 * @param entries entry lines read
 * @param treeSize the tree size reached (archived entries plus lines read)
 * @param checkpoints signed checkpoints in the export
 * @param checkpointsMatched checkpoints whose signature verified and whose root the entries reproduce
 * @param coveredSize the largest checkpoint size whose root the entries reproduce (0 when none)
 * @param nanos verification time
 */
public record Report(List<Finding> findings, long omitted, long entries, long treeSize, int checkpoints,
                     int checkpointsMatched, long coveredSize, long nanos) {
    public Report {
        findings = List.copyOf(findings);
    }

    /** True when at least one finding means tampering or an unusable trail. */
    public boolean failed() {
        return omitted > 0 || findings.stream().anyMatch(Finding::fails);
    }

    public long failures() {
        return findings.stream().filter(Finding::fails).count() + omitted;
    }

    /** The one-line summary, Japanese first. */
    public String summary() {
        String counts = String.format("%,d entries, %,d/%,d checkpoints matched", entries, checkpointsMatched, checkpoints);
        if (failed()) {
            return "改ざんの疑いを検出 (" + failures() + " 件) / TAMPERING FOUND: " + failures() + " finding(s); " + counts;
        }
        long warnings = findings.size();
        return "検証成功 / verified " + counts + ", signed up to size " + coveredSize
                + (warnings > 0 ? " (" + warnings + " warning(s) / 警告 " + warnings + " 件)" : "");
    }
}
