package jp.mamori.compliance;

import java.util.List;

/**
 * Where the compliance console asks for live evidence by requirement ID (issue 20, "Evidence that maintains itself"):
 * the probes' registry answers it; the checklists do not know which probes exist.
 */
@FunctionalInterface
public interface EvidenceSource {
    /** The current evidence for requirement {@code id} (e.g. {@code ACCT-2}); empty when no probe gives any. */
    List<Evidence> forRequirement(String id);

    /** No probes: every item shows only its people's answer. */
    EvidenceSource NONE = id -> List.of();
}
