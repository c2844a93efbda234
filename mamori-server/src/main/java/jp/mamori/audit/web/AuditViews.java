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
     * @param clock      the last clock check, "state (source)", or "—"
     * @param checkpoint the signed checkpoint's status, or null when the server signs none
     * @param kinds      the report kinds, in the order the form lists them
     */
    public record Home(long entries, String clock, int retentionYears, Checkpoint checkpoint, List<String> kinds,
                       long reviewed, List<CoverageDay> coverage, String csrf) {
    }

    /**
     * @param last    the last signed checkpoint, or null when there is none yet
     * @param problem what is wrong with the trail's integrity, or null
     */
    public record Checkpoint(Signed last, String problem) {
    }

    /**
     * @param tsaStatus    {@code ok}, {@code failed} or another value (not configured)
     * @param anchorStatus {@code ok} or another value (failed)
     */
    public record Signed(long size, String signedAt, String tsaStatus, String tsaError, String anchorStatus,
                         String anchorDir, String anchorError, String verifierKey) {
    }

    /** @param reviews the sign-offs that cover the day, as the page lists them ("[3, 5]") */
    public record CoverageDay(String day, long entries, boolean reviewed, String reviews) {
    }

    /**
     * What every report page shows above its table.
     *
     * @param title   the report kind's name
     * @param filters the filters besides the period, "name: value"
     */
    public record Heading(String title, String from, String to, List<String> filters) {
    }

    /** The accesses per patient in a window. */
    public record Counts(Heading heading, List<PatientCount> rows) {
    }

    public record PatientCount(String patient, long accesses, long people) {
    }

    /** The days a person did more than {@code factor} times their median. */
    public record Volume(Heading heading, String factor, List<UnusualDay> rows) {
    }

    public record UnusualDay(String person, String day, long count, String median) {
    }

    /**
     * A report of entries, with its exports.
     *
     * @param query     the report's query for the export links (kind, period, filters), not yet HTML-escaped
     * @param truncated whether only the first {@code limit} entries are shown
     */
    public record Entries(Heading heading, String query, List<Entry> rows, boolean truncated, int limit) {
    }

    /**
     * One audit entry as a report row.
     *
     * @param who   the display name and the actor ("name (actor)"), or the actor
     * @param roles the roles, and " / department" when there is one
     */
    public record Entry(long seq, String time, String who, String roles, String patients, String action,
                        String resources, String outcome, String purpose, String address, boolean breakGlass) {
    }
}
