package jp.mamori.config;

/** How deeply FHIR writes are validated ({@code --validation}). */
public enum Validation {
    /** Strict parsing plus cardinality, reference targets and required codes at every depth (default). */
    STRUCTURE,
    /** STRUCTURE plus HAPI's instance validator: FHIRPath invariants and terminology (about 10 ms a resource). */
    FULL
}
