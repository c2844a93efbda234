package jp.mamori.clinical;

import java.util.List;

/**
 * The view models of back-entry (後入力) and proxy entry (代行入力) (issue 18 §4; templates {@code clinical/entry.jte},
 * {@code clinical/proxyQueue.jte}). Everything is chosen and formatted; the templates escape every value.
 */
public final class ProxyViews {
    private ProxyViews() {
    }

    /** One choice of a select: the value sent, the words shown. */
    public record Option(String value, String label, boolean selected) {
    }

    /**
     * The entry form, as typed (nothing typed is ever lost on a refusal).
     *
     * @param back       whether this is a back-entry (clinical time, downtime period, reason and paper number)
     * @param authors    who the note is by: the person themselves (back-entry) and those they may enter for
     * @param clinical   when the note was written on paper ({@code yyyy-MM-ddTHH:mm}, JST), back-entry only
     * @param selfAuthor whether the person may name themselves (back-entry); a proxy entry is for someone else
     */
    public record EntryForm(boolean back, String patientId, ClinicalViews.Soap soap, List<Option> authors,
                            String clinical, String downFrom, String downTo, String reason, String downtimeNumber,
                            String csrf, String signingKey, boolean selfAuthor) {
    }

    /** The entry page: banner, one message when something was refused, the form. */
    public record Entry(ClinicalViews.Banner banner, String error, EntryForm form) {
    }

    /**
     * One proxy entry in a list.
     *
     * @param documentId the note's id, for the link only (never shown); "" when the reader may not open it
     * @param patient    the patient's name and 患者ID, or "" when the reader may not see them (an administrator)
     */
    public record Row(String documentId, String patient, String enteredBy, String responsible, String enteredAt,
                      boolean overdue) {
    }

    /**
     * The queue page ({@code /console/proxy}).
     *
     * @param forMe    entries waiting for the reader's approval
     * @param mine     entries the reader entered that wait for someone's approval
     * @param overdue  entries waiting longer than the escalation time, for administrators (names and times only)
     */
    public record Queue(List<Row> forMe, List<Row> mine, List<Row> overdue, boolean admin, long escalateHours) {
    }
}
