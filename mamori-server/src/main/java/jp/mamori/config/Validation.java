package jp.mamori.config;

/** How deeply FHIR writes are validated ({@code --validation}). */
public enum Validation {
    /** Strict parsing plus cardinality, reference targets and required codes at every depth (default). */
    STRUCTURE,
    /** STRUCTURE plus HAPI's instance validator: FHIRPath invariants and terminology (about 10 ms a resource). */
    FULL,
    /**
     * FULL plus the profiles of the loaded FHIR packages (JP Core, issue 23): a resource that claims a loaded profile in
     * {@code meta.profile}, or whose type has a required profile ({@code --jp-core-require}), must conform to it.
     */
    JP_CORE
}
