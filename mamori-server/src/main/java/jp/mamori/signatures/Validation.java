package jp.mamori.signatures;

import java.time.Instant;
import java.util.Optional;

/**
 * The outcome of validating a signature over a document (ETSI EN 319 102-1 indications), with what a person needs
 * to see and what is to be stored: who signed (name and HPKI role from the certificate, SIGN-5), when (the time of
 * the signature time-stamp, never the signer's own claim), the level reached, whether the signer's certificate is
 * revoked, the last archive time-stamp and when its certificate expires (for re-time-stamping in time), and DSS's
 * ETSI validation report (ETSI TS 119 102-2 XML).
 *
 * @param indication      TOTAL_PASSED, INDETERMINATE or TOTAL_FAILED
 * @param subIndication   the ETSI sub-indication (e.g. HASH_FAILURE, REVOKED_NO_POE), when there is one
 * @param reason          "日本語 / English" for a person
 * @param signer          the signer's name and role, when the certificate could be read
 * @param signingTime     the production time of the earliest valid signature time-stamp
 * @param level           the level the signature has (B, B-T, LT, LTA), when it is a signature at all
 * @param revoked         whether the signer's certificate is known revoked
 * @param lastArchiveTimestamp           the newest archive time-stamp's time (LTA only)
 * @param lastArchiveTimestampCertExpiry when that time-stamp's TSA certificate expires
 * @param etsiReport      the ETSI validation report (XML), to be stored with the signature
 */
public record Validation(Indication indication, Optional<String> subIndication, String reason,
                         Optional<HpkiCertificate> signer, Optional<Instant> signingTime, Optional<Level> level,
                         boolean revoked, Optional<Instant> lastArchiveTimestamp,
                         Optional<Instant> lastArchiveTimestampCertExpiry, String etsiReport) {
    /** The main status indication of ETSI EN 319 102-1. */
    public enum Indication {
        TOTAL_PASSED, INDETERMINATE, TOTAL_FAILED
    }

    public boolean passed() {
        return indication == Indication.TOTAL_PASSED;
    }
}
