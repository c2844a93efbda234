package jp.mamori.web;

import jp.mamori.db.DataAccessException;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.UUID;

/**
 * Turns every failure into an HTTP status and an OperationOutcome. Known errors say what was wrong and
 * what to do; anything unexpected is logged with an incident id and answered with that id only, never
 * with a stack trace or internal detail.
 */
public final class ErrorMapper {
    private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

    private ErrorMapper() {
    }

    public static FhirError map(Throwable t) {
        if (t instanceof FhirError e) {
            return e;
        }
        if (databaseUnavailable(t)) {
            log.error("database unavailable: {}", t.getMessage());
            return new FhirError(503, OperationOutcome.IssueType.TRANSIENT,
                    "データベースに一時的に接続できないか、書き込みできません（切り替え中など）。しばらくしてから再送してください"
                    + " / the database is not available for this request right now (for example during a failover);"
                    + " retry shortly");
        }
        if (t instanceof DataAccessException d && d.sqlState() != null && d.sqlState().startsWith("22")) {
            // Class 22 "data exception": a value that came with the request cannot be stored or compared
            // (e.g. U+0000 in a string, a malformed cursor). The client's input, not the server, is at fault.
            String incident = UUID.randomUUID().toString();
            log.warn("request value refused by the database ({}), incident {}: {}", d.sqlState(), incident,
                    t.getMessage());
            return new FhirError(400, OperationOutcome.IssueType.INVALID, "a value in the request cannot be"
                    + " stored or searched (for example the character U+0000); incident " + incident
                    + " / リクエストに使用できない値が含まれています");
        }
        if (poolExhausted(t)) {
            return new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "the server is busy; retry shortly");
        }
        String incident = UUID.randomUUID().toString();
        log.error("unexpected failure, incident {}", incident, t);
        return new FhirError(500, List.of(new FhirError.Issue(OperationOutcome.IssueSeverity.FATAL,
                OperationOutcome.IssueType.EXCEPTION, "internal error; incident " + incident
                + " has been logged / 内部エラーが発生しました (" + incident + ")", null)));
    }

    /**
     * Whether {@code t} says the database cannot serve this request now but may soon (issue 18 §1, BACKUP-8): a lost
     * connection, a read-only database (a standby before its promotion), an administrator's shutdown
     * ({@link jp.mamori.db.Availability#retryable}). Such a
     * request gets 503 with {@code Retry-After}, never a 500: the record store's writes are single transactions,
     * so nothing is half-written; a write whose commit was cut off may or may not have been stored, which a
     * conditional create (If-None-Exist) settles when it is sent again.
     */
    public static boolean databaseUnavailable(Throwable t) {
        return jp.mamori.db.Availability.retryable(t);
    }

    /** Whether {@code t} is the pool's "no connection in time" (busy, or the database slow to answer): 503 too. */
    public static boolean poolExhausted(Throwable t) {
        return t instanceof java.sql.SQLTransientConnectionException
                || t.getCause() instanceof java.sql.SQLTransientConnectionException;
    }

    public static OperationOutcome outcome(FhirError err) {
        OperationOutcome oo = new OperationOutcome();
        for (FhirError.Issue i : err.issues()) {
            var issue = oo.addIssue().setSeverity(i.severity()).setCode(i.type()).setDiagnostics(withoutJavaNames(
                    i.diagnostics()));
            if (i.expression() != null && !i.expression().isBlank()) {
                issue.addExpression(i.expression());
            }
        }
        return oo;
    }

    /** Java exception names such as {@code java.lang.NumberFormatException: } that libraries put in messages. */
    private static final java.util.regex.Pattern JAVA_EXCEPTION = java.util.regex.Pattern.compile(
            "\\b(?:[a-z][a-z0-9_]*\\.)*[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    /** Diagnostics say what was wrong with the request, never which Java class noticed it. */
    static String withoutJavaNames(String diagnostics) {
        if (diagnostics == null) {
            return null;
        }
        String s = JAVA_EXCEPTION.matcher(diagnostics).replaceAll("").strip();
        return s.isEmpty() ? "invalid request" : s;
    }

    /**
     * The answer for an error: an OperationOutcome in {@code format}, with {@code WWW-Authenticate} on a 401 and
     * {@code Retry-After} on a 503 (audit or database unavailable, or too many large bodies at once).
     */
    public static Reply reply(Throwable t, FhirSupport.Format format) {
        FhirError err = map(t);
        Reply reply = Reply.of(err.status(), format.mediaType + ";charset=UTF-8",
                FhirSupport.encode(outcome(err), format, false));
        if (err.status() == 401) {
            reply.header("WWW-Authenticate", "Bearer realm=\"mamori\"");
        } else if (err.status() == 503) {
            retryLater(reply);
        }
        return reply;
    }

    /**
     * Tells the client when to try again after a 503 (audit or database unavailable, too many large bodies): the
     * same advice from the FHIR API and the console.
     */
    public static Reply retryLater(Reply reply) {
        return reply.header("Retry-After", "5");
    }
}
