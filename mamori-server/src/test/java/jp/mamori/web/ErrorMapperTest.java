package jp.mamori.web;

import jp.mamori.db.DataAccessException;
import jp.mamori.records.FhirSupport;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request that meets a lost connection or a read-only database (a standby before its promotion, issue 18 §1) is
 * answered 503 with Retry-After and a transient OperationOutcome, never a 500 with an incident.
 */
class ErrorMapperTest {
    @Test
    void aReadOnlyDatabaseIsRetryableNotAnInternalError() {
        // before issue 18 §1 only class 08 and 57P01 were: a write on a standby (25006) was a 500
        Reply r = ErrorMapper.reply(new DataAccessException(new SQLException(
                "cannot execute INSERT in a read-only transaction", "25006")), FhirSupport.Format.JSON);
        assertEquals(503, r.status());
        assertEquals("5", r.headers().get("Retry-After"));
        String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(body.contains("\"transient\"") && body.contains("retry shortly"), body);
        assertFalse(body.contains("incident"), body);
    }

    @Test
    void aLostConnectionWrappedInAnotherFailureIsRetryable() {
        RuntimeException wrapped = new IllegalStateException("write failed", new SQLException(
                "An I/O error occurred while sending to the backend.", "08006"));
        assertEquals(503, ErrorMapper.map(wrapped).status());
        assertEquals(503, ErrorMapper.map(new DataAccessException(new SQLException("terminating connection due to"
                + " administrator command", "57P01"))).status());
    }

    @Test
    void otherDatabaseFailuresStayInternalErrors() {
        assertEquals(500, ErrorMapper.map(new DataAccessException(new SQLException("duplicate key", "23505")))
                .status());
    }
}
