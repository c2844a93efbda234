package jp.mamori.signatures;

import java.time.Instant;
import java.util.Optional;

/**
 * A signature just made: the detached CAdES (DER), its level, and whether the time-stamp is still pending (the TSA
 * did not answer, or answered badly: the signature is complete at level B and {@link Signatures#addTimestamp} is to
 * be called as soon as the TSA answers; docs/adr/0012).
 *
 * @param signature        the CMS SignedData, DER, without the document (detached)
 * @param level            B (pending) or B-T
 * @param timestampTime    the TSA's time of the signature time-stamp, when there is one
 * @param pendingReason    why the time-stamp is pending ("日本語 / English"), when it is
 */
public record Signed(byte[] signature, Level level, Optional<Instant> timestampTime, Optional<String> pendingReason) {
    /** True when the signature is at level B only, waiting for a time-stamp. */
    public boolean timestampPending() {
        return level == Level.B;
    }
}
