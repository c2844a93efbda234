package jp.mamori.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Map;

/**
 * The one way the server records an event (AUDIT-1): the FHIR API, the clinician console, the audit console, the
 * reviews, the checkpointer and the tools all hand their {@link AuditEvent}s here.
 * <ul>
 *   <li>{@link #append}: now, through the trail's appender; returns once the entry is durable and throws
 *       {@link AuditUnavailable} otherwise, so that the caller answers nothing of what it records;</li>
 *   <li>{@link #stage}: in the caller's own transaction, into {@code audit_outbox}, so that the entry commits with
 *       what it records or not at all (a FHIR write and its entry); the appender moves it into the trail, at once
 *       after {@link #drainSoon};</li>
 *   <li>{@link #system}: an event of the server itself.</li>
 * </ul>
 * Either way the entry is encoded by {@link EntryCodec} from its {@link AuditEvent#stored() stored form}.
 */
public final class AuditRecorder {
    private static final ObjectMapper DETAIL_JSON = new ObjectMapper();

    private final AuditTrail trail;

    public AuditRecorder(AuditTrail trail) {
        this.trail = trail;
    }

    /**
     * Appends the entry and returns its sequence number once it is durable.
     *
     * @throws AuditUnavailable when it could not be stored; the caller MUST NOT answer with what it records
     */
    public long append(AuditEvent e) {
        return trail.append(e.stored());
    }

    /** Announces a request that will append its entry soon ({@link AuditTrail#expect}). */
    public void expect() {
        trail.expect();
    }

    /** The announced request ends without an entry of its own ({@link AuditTrail#unexpect}). */
    public void unexpect() {
        trail.unexpect();
    }

    /** As {@link #append(AuditEvent)}; {@code expected}: this append ends the announcement of {@link #expect}. */
    public long append(AuditEvent e, boolean expected) {
        return trail.append(e.stored(), expected);
    }

    /** Appends an event of the server itself ({@link AuditEvent#system}). */
    public long system(String what, AuditAction action, Outcome outcome, Map<String, String> detail) {
        return append(AuditEvent.system(what, action, outcome, detail).build());
    }

    /**
     * Writes the entry into {@code audit_outbox} through {@code c}, in the caller's transaction: it reaches the trail
     * if and only if that transaction commits. Call {@link #drainSoon} once it has.
     */
    public void stage(Connection c, AuditEvent e) throws SQLException {
        AuditRecord r = e.stored();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_outbox (at, actor, actor_kind,"
                + " actor_display, roles, department, patients, action, outcome, purpose, resources, address,"
                + " session_hash, break_glass, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)")) {
            ps.setTimestamp(1, Timestamp.from(r.at()));
            ps.setString(2, r.actor());
            ps.setString(3, r.actorKind());
            ps.setString(4, r.display());
            ps.setArray(5, c.createArrayOf("text", r.roles().toArray()));
            ps.setString(6, r.department());
            ps.setArray(7, c.createArrayOf("text", r.patients().toArray()));
            ps.setString(8, r.action());
            ps.setString(9, r.outcome());
            ps.setString(10, r.purpose());
            ps.setArray(11, c.createArrayOf("text", r.resources().toArray()));
            ps.setString(12, r.address());
            ps.setString(13, r.session());
            ps.setBoolean(14, r.breakGlass());
            ps.setString(15, DETAIL_JSON.writeValueAsString(r.detail()));
            ps.executeUpdate();
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** Asks the appender to move staged entries into the trail now; returns at once. */
    public void drainSoon() {
        trail.drainSoon();
    }

    /** The trail this recorder appends to. */
    public AuditTrail trail() {
        return trail;
    }
}
