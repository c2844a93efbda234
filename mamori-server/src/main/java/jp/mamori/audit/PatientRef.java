package jp.mamori.audit;

/**
 * A patient an entry is about, by the id of their Patient resource. {@link #of} takes an id read from stored data and
 * checks it is a FHIR id; {@link #named} takes what a request named (a URL segment, a form field, a reference's text)
 * and records it verbatim, so that a probe for an odd id is in the trail as it was asked.
 */
public record PatientRef(String id) {
    public PatientRef {
        if (id == null) {
            throw new IllegalArgumentException("a patient reference needs an id");
        }
    }

    /** A stored patient's id: 1 to 64 of {@code A-Z a-z 0-9 - .}. */
    public static PatientRef of(String id) {
        if (!ResourceRef.isId(id)) {
            throw new IllegalArgumentException("not a patient id: " + id);
        }
        return new PatientRef(id);
    }

    /** A patient as a request or a reference named them, whatever the text. */
    public static PatientRef named(String text) {
        return new PatientRef(text);
    }
}
