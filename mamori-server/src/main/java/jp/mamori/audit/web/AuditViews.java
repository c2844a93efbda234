package jp.mamori.audit.web;

import java.util.List;

/**
 * The view models of the audit console ({@link AuditPages}; templates under {@code audit/}). Public because the
 * compiled templates live in their own package; they hold what a page shows, already chosen and formatted, and
 * nothing that could reach the database.
 */
public final class AuditViews {
    private AuditViews() {
    }

    /**
     * The audit home page: the trail's status, the report form, the review coverage and the sign-off form.
     *
     * @param clockState  the last clock check's state ({@code synchronized}, {@code unsynchronized},
     *                    {@code unknown}; the template names it), or null when there was none
     * @param checkpoint  the signed checkpoint's status, or null when the server signs none
     * @param kinds       the report kinds, in the order the form lists them
     */
    public record Home(long entries, String clockState, int retentionYears, Checkpoint checkpoint,
                       List<String> kinds, long reviewed, List<CoverageDay> coverage, String csrf) {
    }

    /**
     * @param last    the last signed checkpoint, or null when there is none yet
     * @param problem what is wrong with the trail's integrity, or null
     */
    public record Checkpoint(Signed last, String problem) {
    }

    /**
     * @param signedAt     when it was signed, in the institution's time zone (JST)
     * @param tsaStatus    {@code ok}, {@code failed} or another value (not configured)
     * @param anchorStatus {@code ok} or another value (failed)
     */
    public record Signed(long size, String signedAt, String tsaStatus, String tsaError, String anchorStatus,
                         String anchorDir, String anchorError, String verifierKey) {
    }

    /** @param day the day as people write it @param reviews the sign-offs that cover the day ("#3, #5") */
    public record CoverageDay(String day, long entries, boolean reviewed, String reviews) {
    }

    /**
     * A patient as the reports name them: never by the record's internal id.
     *
     * @param patientId the 患者ID (as the patient banner shows it), or ""
     * @param known     false when the patient's record is not there (disposed, or never stored): then only "unknown"
     */
    public record PatientName(String name, String kana, String patientId, boolean known) {
    }

    /**
     * What every report page shows above its table.
     *
     * @param title   the report kind's name
     * @param from    the first day, as people write it
     * @param to      the last day
     * @param filters the filters besides the period, "name: value", already in words
     * @param patient the patient whose history this is (the disclosure report), or null
     */
    public record Heading(String title, String from, String to, List<String> filters, PatientName patient) {
    }

    /** The accesses per patient in a window. */
    public record Counts(Heading heading, List<PatientCount> rows) {
    }

    public record PatientCount(PatientName patient, long accesses, long people) {
    }

    /** The days a person did more than {@code factor} times their median. */
    public record Volume(Heading heading, String factor, List<UnusualDay> rows) {
    }

    public record UnusualDay(String person, String day, long count, String median) {
    }

    /**
     * A report of entries, with its printout and exports.
     *
     * @param query     the report's query for the print and export links (kind, period, filters), not yet
     *                  HTML-escaped
     * @param focused   whether this is one patient's history (the disclosure report: no patient column, only that
     *                  patient's records, no network address)
     * @param truncated whether only the first {@code limit} entries are shown
     */
    public record Entries(Heading heading, String query, boolean focused, List<Entry> rows, boolean truncated,
                          int limit) {
    }

    /**
     * One audit entry as a report row: every value in words.
     *
     * @param time         when, in the institution's time zone
     * @param who          the person's name (or the system's)
     * @param roles        the person's roles and department in words, or ""
     * @param patients     the patients the entry names (at most a few; see {@code morePatients})
     * @param morePatients how many more patients the entry names
     * @param action       what was done, in words
     * @param records      which records, in words ("経過記録 2026年12月1日"); for one patient's history only theirs
     * @param outcome      how it ended, in words
     * @param refused      whether it did not succeed
     * @param purpose      why, in words
     * @param address      the network address, or "" when the report does not show it
     */
    public record Entry(long seq, String time, String who, String roles, List<PatientName> patients,
                        int morePatients, String action, List<String> records, String outcome, boolean refused,
                        String purpose, String address, boolean breakGlass) {
    }

    /** A report that cannot be made as asked (no such patient, several patients with that ID): the message. */
    public record Problem(String message, List<Choice> choices) {
    }

    /** A patient to choose when a 患者ID names several: the link's query and the patient. */
    public record Choice(String query, PatientName patient, String birth) {
    }
}
