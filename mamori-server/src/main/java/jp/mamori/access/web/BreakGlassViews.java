package jp.mamori.access.web;

import java.util.List;

/**
 * The view models of the break-glass pages ({@link BreakGlassPages}; templates {@code access/breakGlass*.jte}).
 * Public because the compiled templates live in their own package. Reasons and outcomes are codes; the templates
 * name them ({@code access.reason.CODE}, {@code access.outcome.CODE}).
 */
public final class BreakGlassViews {
    private BreakGlassViews() {
    }

    /** One active use as the banner and the person's page list it: the patient by name and 患者ID. */
    public record Grant(String id, AccessViews.PatientLabel patient, String reasonCode, String reasonText,
                        String until, long minutesLeft) {
    }

    /** The red banner on every page while the person holds active uses (not shown when there are none). */
    public record Banner(List<Grant> grants) {
    }

    /**
     * The person's page: the start form (filled again after a refusal) and their active uses.
     *
     * @param error      why the last form was refused, or ""
     * @param grantHours how long one use lasts
     */
    public record Mine(String error, long grantHours, String patient, String reason, String reasonText,
                       List<String> reasons, List<Grant> active, String csrf) {
    }

    /** A notice to the security manager. @param read who read it and when, or "" */
    public record Notice(String at, String subject, boolean unread, String read) {
    }

    /**
     * A use waiting for review.
     *
     * @param own whether it is the reviewer's own use (someone else reviews it)
     */
    public record Queued(String id, String person, AccessViews.PatientLabel patient, String department,
                         String reasonCode,
                         String reasonText, String started, long accesses, String outcome, int escalationLevel,
                         String comment, boolean own) {
    }

    /** The report's filter as the form shows it again. */
    public record Filter(String loginId, String patient, String department, String outcome, String from, String to) {
    }

    /**
     * A use in the report.
     *
     * @param person   the person's name and login id
     * @param reviewed the reviewer and the time, "reviewer time"
     */
    public record Reported(String person, AccessViews.PatientLabel patient, String department, String reasonCode,
                           String period, long accesses, String outcome, String reviewed) {
    }

    /**
     * The security manager's page: notices, the review queue (escalated first) and the report.
     *
     * @param error       why the last review was refused, or ""
     * @param badDates    whether the report's dates were not YYYY-MM-DD (the report then has no filter)
     * @param reportError why the report could not be made, or null
     */
    public record Review(String error, long unread, List<Notice> notices, List<Queued> queue, List<String> decisions,
                         boolean badDates, Filter filter, List<String> outcomes, String reportError,
                         List<Reported> report, String csrf) {
    }
}
