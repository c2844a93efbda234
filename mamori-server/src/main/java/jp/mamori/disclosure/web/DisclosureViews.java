package jp.mamori.disclosure.web;

import java.util.List;

/** What the disclosure pages' templates show: words in the reader's language, no raw codes where a person reads. */
public final class DisclosureViews {
    private DisclosureViews() {
    }

    /** One request in a list: the patient by name and 患者ID, the requester in words, its packages. */
    public record RequestRow(String href, String patient, String patientIdent, String requester, String received,
                             String recorded, int packages, boolean handedOver) {
    }

    /** The fields of the new-request form, as entered. */
    public record RequestForm(String patientIdent, String requesterKind, String requesterName, String relationship,
                              String receivedOn, String asked, String note) {
    }

    /** The list of requests (all patients, or one patient's) and the form for a new one. */
    public record Requests(String notice, String error, List<RequestRow> rows, RequestForm form, String filter,
                           String csrf) {
    }

    /** One kind of record on the decision form: its code, its words, and whether it is ticked. */
    public record KindRow(String code, String label, boolean ticked, String reason) {
    }

    /** One file of a package with its SHA-256. */
    public record FileRow(String name, String sha256) {
    }

    /** A produced package as the ledger keeps it. */
    public record PackageRow(String id, String produced, String producedBy, String kinds, String period,
                             List<String> withheld, String access, int resources, String sealed,
                             List<FileRow> files, String zipSha256, boolean downloadable, String handedOver) {
    }

    /** One request's page: what was asked, its packages, and the form to produce one. */
    public record Request(String notice, String error, String id, String patient, String patientIdent,
                          String requester, String received, String asked, String note, String recorded,
                          List<PackageRow> packages, List<KindRow> kinds, String from, String to,
                          boolean accessReport, String accessFrom, String accessTo, boolean sealed, String csrf) {
    }
}
