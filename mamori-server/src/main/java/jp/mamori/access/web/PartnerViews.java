package jp.mamori.access.web;

import java.util.List;

/** What the partner pages show (issue 21, AUTH-11): sharing a patient, a partner's home, the reviewers' report. */
public final class PartnerViews {
    private PartnerViews() {
    }

    /** A choice of a form: value, words, whether it is chosen. */
    public record Choice(String value, String label, boolean checked) {
    }

    /** One share as a row: number, partner and institution, basis, categories, period, state, and whether revocable. */
    public record ShareRow(String id, long number, String partner, String institution, String basis, String basisRef,
                           String categories, String labels, String period, String state, String stateClass,
                           String created, String revoked, boolean revocable, String patientHref, String patient) {
    }

    /**
     * 「連携先と共有」for one patient: the patient, the form (partners, basis, end date within its bounds, categories
     * and labels) and the patient's shares.
     */
    public record SharePage(String notice, String error, AccessViews.PatientLabel patient, List<Choice> partners,
                            List<Choice> bases, String basisRef, String endDate, String minDate, String maxDate,
                            List<Choice> categories, List<Choice> labels, List<ShareRow> shares, boolean noPartners,
                            String csrf) {
    }

    /** A partner's home: the patients shared with them and until when. */
    public record PartnerHome(String institution, List<ShareRow> shares) {
    }

    /** One access by a partner: when, who, institution, patient, what, outcome and the share it relied on. */
    public record AccessRow(String at, String partner, String institution, String patient, String action,
                            String outcome, boolean refused, String share) {
    }

    /** The reviewers' report: shares in force, ending soon or ended, and the partners' accesses in the period. */
    /** The reviewers' report; {@code from}/{@code to} are ISO for the date inputs, the texts Japanese dates to read. */
    public record Report(String from, String to, String fromText, String toText, List<ShareRow> shares, int endingSoon,
                         List<AccessRow> accesses, boolean truncated, String printed, String csrf) {
    }
}
