package jp.mamori.compliance;

/** A refused answer, with one line for the person ("日本語 / English"). */
public final class ComplianceException extends RuntimeException {
    public ComplianceException(String message) {
        super(message, null, false, false);
    }
}
