package jp.mamori.compliance.web;

import java.util.List;

/**
 * The view models of the documents pages ({@link DocumentPages}; templates {@code compliance/documents*.jte}): kinds
 * and standings in words, dates in Japan time, sizes for people.
 */
public final class DocumentViews {
    private DocumentViews() {
    }

    /** A choice of a select. */
    public record Option(String value, String label, boolean selected) {
    }

    /**
     * What the upload or change form shows: the values in force, or what was typed when it was refused.
     *
     * @param itemLabel the checklist item the document answers, in words, or null
     */
    public record Form(String kind, String title, String requirements, String reviewer, String reviewedOn,
                       String expiresOn, String framework, String frameworkVersion, String item, String itemLabel) {
    }

    /**
     * One document in the list.
     *
     * @param standing      the standing in words (有効, 期限切れ, …)
     * @param standingClass state-ok, state-warn or state-bad
     */
    public record Row(String kind, String title, String reviewed, String expires, String standing,
                      String standingClass, String href, String requirements, boolean withdrawn) {
    }

    /** The documents page: the list and, for administrators, the upload form. */
    public record Listing(List<Row> rows, List<Row> withdrawn, boolean mayUpload, List<Option> kinds, Form form,
                        String maxSize, String error, String notice, String csrf) {
    }

    /** One version of a document, on its page. */
    public record VersionRow(int version, String status, String title, String fileName, String type, String size,
                             String sha256, String reviewed, String expires, String reason, String by, String at,
                             String downloadHref) {
    }

    /** A document's page: where it stands, its versions, and for administrators the change and withdraw forms. */
    public record Document(String id, String kind, String title, String standing, String standingClass,
                           String requirements, String itemLabel, String itemHref, List<VersionRow> versions,
                           boolean mayChange, boolean withdrawn, List<Option> kinds, Form form, String reason,
                           String maxSize, String error, String notice, String csrf) {
    }

    /** The documents an item page lists. */
    public record ItemPart(List<Row> rows, String uploadHref) {
    }
}
