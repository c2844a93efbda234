package jp.mamori.audit;

/**
 * Why the data was used. {@link #BREAK_GLASS} is the one purpose that also marks the entry {@code breakGlass}: an
 * entry is under break-glass exactly when its purpose is.
 */
public enum Purpose {
    /** A person's use of their patients' records. */
    TREATMENT("treatment"),
    /** A person's use of a patient's records under an active break-glass use (ACCESS-6). */
    BREAK_GLASS("break-glass"),
    /** A system client's use through the FHIR API. */
    OPERATIONS("operations"),
    /**
     * The server's own work on behalf of a {@code system:} caller (verification), and everything done under a vendor's
     * work order (issue 19): a vendor's session in its window, a command run with {@code --work-order}.
     */
    MAINTENANCE("maintenance"),
    /** Authentication and the server's security events (start, stop, clock, checkpoints, tools). */
    SECURITY("security"),
    /** Looking at, exporting or signing off the audit trail itself. */
    AUDIT("audit"),
    /**
     * An administrator's look at patients' demographics to administer access (picking the patient of a care
     * relationship, reviewing break-glass uses): never clinical content (ACCESS-7).
     */
    ADMINISTRATION("administration"),
    /**
     * The server's preparation for downtime: the downtime kit's encrypted PDFs of the minimum information for care
     * (issue 18 §3, BACKUP-12), one entry per generation naming which patients went into which file.
     */
    CONTINUITY("continuity");

    /** As stored in the entry's {@code purpose}. */
    public final String code;

    Purpose(String code) {
        this.code = code;
    }
}
