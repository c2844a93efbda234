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

    /**
     * The live evidence of a checklist item: the newest result of each probe that answers one of its requirements,
     * once each (an item may map to several requirements one probe answers), in the order of the requirements. A
     * source that fails gives nothing rather than breaking the page or the pack.
     */
    default List<Evidence> forItem(Framework.Item it) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<Evidence> out = new java.util.ArrayList<>();
        for (String req : it.requirements()) {
            List<Evidence> found;
            try {
                found = forRequirement(req);
            } catch (RuntimeException e) {
                found = List.of();
            }
            for (Evidence e : found == null ? List.<Evidence>of() : found) {
                if (e != null && seen.add(e.probeId())) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    /** No probes: every item shows only its people's answer. */
    EvidenceSource NONE = id -> List.of();
}
