package jp.mamori.audit;

import jp.mamori.kernel.FhirError;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * The entry could not be made durable, so the request it records MUST NOT be answered with its data. Callers
 * answering HTTP turn it into a 503 with {@link #toFhirError()}; retrying later may succeed.
 */
public final class AuditUnavailable extends RuntimeException {
    public static final String MESSAGE = "監査記録を保存できないため応答できません / the audit entry could not be stored";

    public AuditUnavailable(String why, Throwable cause) {
        super(why, cause);
    }

    public FhirError toFhirError() {
        return new FhirError(503, OperationOutcome.IssueType.TRANSIENT, MESSAGE);
    }
}
