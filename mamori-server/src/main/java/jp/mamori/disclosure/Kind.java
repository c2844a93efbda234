package jp.mamori.disclosure;

import java.util.List;

/**
 * What a disclosure can give, as a records manager chooses it: each kind is a few FHIR types found by the patient's
 * search parameter, and, for the kinds that are events in time, the date parameter the period applies to (allergies
 * and problems are the current lists, given whatever the period).
 */
public enum Kind {
    ALLERGIES("allergies", "アレルギー", "Allergies", List.of(new Source("AllergyIntolerance", "patient", null))),
    CONDITIONS("conditions", "病名・問題リスト", "Problems", List.of(new Source("Condition", "subject", null))),
    MEDICATIONS("medications", "処方", "Medications",
            List.of(new Source("MedicationRequest", "subject", "authoredon"))),
    RESULTS("results", "検査結果", "Results", List.of(new Source("Observation", "subject", "date"))),
    NOTES("notes", "経過記録・文書", "Notes and documents", List.of(new Source("Composition", "subject", "date"),
            new Source("DocumentReference", "subject", "date")));

    /** One FHIR type of a kind: the parameter naming the patient, and the date parameter (null: not by period). */
    record Source(String type, String patientParam, String dateParam) {
    }

    public final String code;
    public final String ja;
    public final String en;
    final List<Source> sources;

    Kind(String code, String ja, String en, List<Source> sources) {
        this.code = code;
        this.ja = ja;
        this.en = en;
        this.sources = sources;
    }

    public static Kind of(String code) {
        for (Kind k : values()) {
            if (k.code.equals(code)) {
                return k;
            }
        }
        return null;
    }

    /** The FHIR types of this kind. */
    public List<String> types() {
        return sources.stream().map(Source::type).toList();
    }
}
