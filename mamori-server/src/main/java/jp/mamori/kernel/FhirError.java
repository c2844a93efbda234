package jp.mamori.kernel;

import org.hl7.fhir.r4.model.OperationOutcome;

import java.util.List;

/**
 * A request that cannot be carried out, with the HTTP status and the issues to report. One mapper turns
 * it into an OperationOutcome; nothing else about the server's inside reaches the client.
 */
public final class FhirError extends RuntimeException {
    /** One issue of an OperationOutcome. {@code expression} points at the element, when known. */
    public record Issue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType type, String diagnostics,
                        String expression) {
    }

    private final int status;
    private final transient List<Issue> issues;

    public FhirError(int status, List<Issue> issues) {
        super(issues.isEmpty() ? "HTTP " + status : issues.get(0).diagnostics());
        this.status = status;
        this.issues = List.copyOf(issues);
    }

    public FhirError(int status, OperationOutcome.IssueType type, String message) {
        this(status, List.of(new Issue(OperationOutcome.IssueSeverity.ERROR, type, message, null)));
    }

    public int status() {
        return status;
    }

    public List<Issue> issues() {
        return issues;
    }

    public static FhirError badRequest(String message) {
        return new FhirError(400, OperationOutcome.IssueType.INVALID, message);
    }

    public static FhirError notFound(String message) {
        return new FhirError(404, OperationOutcome.IssueType.NOTFOUND, message);
    }

    public static FhirError gone(String message) {
        return new FhirError(410, OperationOutcome.IssueType.DELETED, message);
    }

    public static FhirError forbidden(String message) {
        return new FhirError(403, OperationOutcome.IssueType.FORBIDDEN, message);
    }

    public static FhirError conflict(String message) {
        return new FhirError(409, OperationOutcome.IssueType.CONFLICT, message);
    }

    public static FhirError preconditionFailed(String message) {
        return new FhirError(412, OperationOutcome.IssueType.CONFLICT, message);
    }

    public static FhirError unprocessable(String message) {
        return new FhirError(422, OperationOutcome.IssueType.BUSINESSRULE, message);
    }

    public static FhirError unprocessable(OperationOutcome.IssueType type, String message, String expression) {
        return new FhirError(422, List.of(new Issue(OperationOutcome.IssueSeverity.ERROR, type, message, expression)));
    }
}
