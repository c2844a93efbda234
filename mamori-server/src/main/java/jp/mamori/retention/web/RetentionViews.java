package jp.mamori.retention.web;

import java.util.List;

/**
 * The view models of the retention pages ({@link RetentionPages}; templates {@code retention/*.jte}). Everything is
 * formatted for a person: kinds and statuses in the page's language, patients by name, dates in the server's zone.
 */
public final class RetentionViews {
    private RetentionViews() {
    }

    /**
     * The retention page.
     *
     * @param auditYears the audit trail's retention (a server setting, shown read-only)
     * @param next       the cursor of the next page of candidates, or null
     * @param error      why the last form was refused ("日本語 / English"), or null
     * @param notice     what the last form did, or null
     */
    public record Home(List<Rule> rules, int auditYears, List<Hold> holds, List<Candidate> candidates, String next,
                       boolean more, List<BatchRow> batches, String error, String notice, String csrf) {
    }

    public record Rule(String kind, String name, int years, int lawYears, String basis, String changed) {
    }

    public record Hold(String patientId, String name, String reason, String by, String at) {
    }

    /** @param openBatch the open batch holding this patient, or 0 */
    public record Candidate(String patientId, String name, String lastEntry, String due, int records, long versions,
                            long openBatch) {
    }

    public record BatchRow(long id, String status, boolean open, String proposedBy, String proposedAt,
                           int approvals) {
    }

    /**
     * One batch.
     *
     * @param mayApprove whether the person looking may approve it (open, not yet approved by them)
     */
    public record Batch(long id, String status, boolean open, boolean executed, String reason, String proposedBy,
                        String proposedAt, List<String> approvals, String closed, String closeReason,
                        List<PatientItems> patients, boolean mayApprove, String error, String notice, String csrf) {
    }

    /** A patient's records in a batch. */
    public record PatientItems(String name, List<Item> items) {
    }

    public record Item(String kind, String type, int versions, String lastEntry, String chain) {
    }
}
