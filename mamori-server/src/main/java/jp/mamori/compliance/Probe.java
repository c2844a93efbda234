package jp.mamori.compliance;

import java.time.Instant;
import java.util.Set;

/**
 * One control the running system can judge by itself (issue 20, "Evidence that maintains itself"): it computes its
 * current evidence from the capability it looks at (accounts and their factors, the audit trail's checkpoints, the
 * backups and drills, …). A checklist item whose requirements a probe answers shows the probe's evidence, live.
 */
public interface Probe {
    /** A stable id, e.g. {@code identity.mfa-coverage}; the detail link and the history use it. */
    String id();

    /** The requirement IDs (../shared/docs/requirements.md, e.g. {@code AUTH-2}) this probe gives evidence for. */
    Set<String> requirements();

    /** Computes the evidence now; must not throw (a probe that cannot look says {@link Evidence.Status#UNKNOWN}). */
    Evidence evaluate(Instant now);
}
