package jp.mamori.documents.web;

import java.util.List;

/** What the JP-CLINS document pages show: words in the reader's language, no codes where a person reads. */
public final class ClinsViews {
    private ClinsViews() {
    }

    /** A choice in a list (an encounter, a document kind). */
    public record Choice(String value, String label, boolean selected) {
    }

    /** A free-text section of the form: its field name, its title, what was typed. */
    public record TextField(String name, String label, String value, boolean required, boolean big) {
    }

    /** A tick box for what of the chart to include. */
    public record IncludeBox(String value, String label, boolean checked) {
    }

    /** A hidden field carrying the form through the preview. */
    public record Hidden(String name, String value) {
    }

    /** One section of a document as read: title, lines, entries (as lines), sub-sections. */
    public record SectionView(String title, List<String> lines, List<SectionView> children) {
    }

    /**
     * The form.
     *
     * @param recipient null for a discharge summary
     */
    public record Form(String kind, String kindLabel, List<Choice> kinds, String patientId, String patientName,
                       List<Choice> encounters, String[] recipient, List<TextField> texts, List<IncludeBox> include,
                       String error, String csrf) {
    }

    /** The preview of a document not yet stored, with the form carried and the PIN field when the person signs. */
    public record Preview(String kindLabel, String patientId, String patientName, List<SectionView> sections,
                          int entries, String checkedBy, List<Hidden> hidden, String signingKey, String error,
                          String csrf) {
    }

    /** A stored document. */
    public record Stored(String kindLabel, String patientId, String patientName, String documentId, String when,
                         String author, List<SectionView> sections, String signature, boolean signed) {
    }
}
