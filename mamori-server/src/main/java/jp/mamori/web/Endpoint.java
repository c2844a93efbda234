package jp.mamori.web;

/**
 * One part of the server's HTTP surface that a capability owns (the FHIR API, the console), mounted by
 * {@link ApiHandler}, which has already applied the request limits and adds the security headers to the answer.
 */
@FunctionalInterface
public interface Endpoint {
    /**
     * Answers one request. An exception becomes a JSON OperationOutcome with the status {@link ErrorMapper}
     * gives it; an endpoint that answers in another format maps its own errors with {@link ErrorMapper#reply}.
     */
    Reply handle(Exchange exchange) throws Exception;
}
