package jp.mamori.signatures;

/** The baseline level of a CAdES signature (ETSI EN 319 122-1): what it carries for long-term validation. */
public enum Level {
    /** Signed, no trusted time yet (time-stamp pending: a deviation until the TSA answers). */
    B("B"),
    /** With a signature time-stamp from an RFC 3161 TSA: the time of signing is proven. */
    B_T("B-T"),
    /** Also the certificates and revocation data (CRL/OCSP) needed to validate it later, embedded. */
    LT("LT"),
    /** Also an archive time-stamp over all of it (renewed before its certificate or algorithm weakens). */
    LTA("LTA");

    private final String label;

    Level(String label) {
        this.label = label;
    }

    /** "B", "B-T", "LT" or "LTA". */
    public String label() {
        return label;
    }
}
