package jp.mamori.signatures;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The state of each signed document version ({@code document_signature}): who signed, the level reached, the
 * time-stamp's time or why it is pending, when the last archive time-stamp's certificate expires, and the last
 * validation with its ETSI report. The signature bytes are the Provenance's ({@code provenanceId}); this is what the
 * upkeep works from and the console shows.
 */
public final class SignatureStore {
    private SignatureStore() {
    }

    /** One signed version. */
    public record Row(long id, String type, String resId, int version, byte[] contentSha256, String provenanceId,
                      UUID accountId, long keyId, String signerName, String signerRole, String certificateSerial,
                      String level, Instant timestampAt, String pendingReason, Instant signedAt, Instant archiveUntil,
                      Instant validatedAt, String indication, String subIndication, String reason) {
        public String ref() {
            return type + "/" + resId + "/_history/" + version;
        }
    }

    private static final String COLUMNS = "signature_id, res_type, res_id, version, content_sha256, provenance_id,"
            + " account_id, key_id, signer_name, signer_role, certificate_serial, level, timestamp_at, pending_reason,"
            + " signed_at, archive_until, validated_at, indication, sub_indication, reason";

    static void insert(Connection c, String type, String id, int version, byte[] content, String provenanceId,
                       UUID account, long keyId, String signerName, String signerRole, String serial, Level level,
                       Instant timestampAt, String pendingReason, Instant signedAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO document_signature (res_type, res_id, version,"
                + " content_sha256, provenance_id, account_id, key_id, signer_name, signer_role, certificate_serial,"
                + " level, timestamp_at, pending_reason, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, type);
            ps.setString(2, id);
            ps.setInt(3, version);
            ps.setBytes(4, content);
            ps.setString(5, provenanceId);
            ps.setObject(6, account);
            ps.setLong(7, keyId);
            ps.setString(8, signerName);
            ps.setString(9, signerRole);
            ps.setString(10, serial);
            ps.setString(11, level.label());
            ps.setTimestamp(12, timestampAt == null ? null : Timestamp.from(timestampAt));
            ps.setString(13, pendingReason);
            ps.setTimestamp(14, Timestamp.from(signedAt));
            ps.executeUpdate();
        }
    }

    /** Whether {@code provenanceId} is the Provenance of a signature made here. */
    static boolean isSignatureProvenance(Connection c, String provenanceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM document_signature WHERE provenance_id = ?"
                + " LIMIT 1")) {
            ps.setString(1, provenanceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The signature of one version, if it was signed. */
    public static Optional<Row> of(Connection c, String type, String id, int version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM document_signature"
                + " WHERE res_type = ? AND res_id = ? AND version = ?")) {
            ps.setString(1, type);
            ps.setString(2, id);
            ps.setInt(3, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /** The signatures of a resource's versions, oldest first. */
    public static List<Row> ofResource(Connection c, String type, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM document_signature"
                + " WHERE res_type = ? AND res_id = ? ORDER BY version")) {
            ps.setString(1, type);
            ps.setString(2, id);
            return rows(ps);
        }
    }

    /** A page of signatures after {@code afterId}, in id order (for verification and upkeep). */
    public static List<Row> page(Connection c, long afterId, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM document_signature"
                + " WHERE signature_id > ? ORDER BY signature_id LIMIT ?")) {
            ps.setLong(1, afterId);
            ps.setInt(2, limit);
            return rows(ps);
        }
    }

    /**
     * Signatures the upkeep should work on, at most {@code limit}: time-stamp pending, below LTA, or an LTA whose
     * archive time-stamp's certificate expires before {@code renewBy}.
     */
    static List<Row> due(Connection c, Instant renewBy, long afterId, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM document_signature"
                + " WHERE signature_id > ? AND (level <> 'LTA' OR archive_until IS NULL OR archive_until < ?)"
                + " ORDER BY signature_id LIMIT ?")) {
            ps.setLong(1, afterId);
            ps.setTimestamp(2, Timestamp.from(renewBy));
            ps.setInt(3, limit);
            return rows(ps);
        }
    }

    /** Records a new level reached (with its time-stamp's time and the archive time-stamp's horizon). */
    static void extended(Connection c, long id, Level level, Instant timestampAt, Instant archiveUntil)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE document_signature SET level = ?, timestamp_at ="
                + " coalesce(timestamp_at, ?), pending_reason = CASE WHEN ?::timestamptz IS NULL THEN pending_reason"
                + " END,"
                + " archive_until = ? WHERE signature_id = ?")) {
            ps.setString(1, level.label());
            ps.setTimestamp(2, timestampAt == null ? null : Timestamp.from(timestampAt));
            ps.setTimestamp(3, timestampAt == null ? null : Timestamp.from(timestampAt));
            ps.setTimestamp(4, archiveUntil == null ? null : Timestamp.from(archiveUntil));
            ps.setLong(5, id);
            ps.executeUpdate();
        }
    }

    /** Records a validation: its indication, sub-indication, reason and ETSI report. */
    static void validated(Connection c, long id, Validation v, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE document_signature SET validated_at = ?,"
                + " indication = ?, sub_indication = ?, reason = ?, report = ? WHERE signature_id = ?")) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, v.indication().name());
            ps.setString(3, v.subIndication().orElse(null));
            ps.setString(4, v.reason());
            ps.setString(5, v.etsiReport());
            ps.setLong(6, id);
            ps.executeUpdate();
        }
    }

    /** The stored ETSI validation report of a signature, if validated. */
    public static Optional<String> report(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT report FROM document_signature"
                + " WHERE signature_id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private static List<Row> rows(PreparedStatement ps) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(row(rs));
            }
        }
        return out;
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getBytes(5),
                rs.getString(6), rs.getObject(7, UUID.class), rs.getLong(8), rs.getString(9), rs.getString(10),
                rs.getString(11), rs.getString(12), instant(rs, 13), rs.getString(14), instant(rs, 15),
                instant(rs, 16), instant(rs, 17), rs.getString(18), rs.getString(19), rs.getString(20));
    }

    private static Instant instant(ResultSet rs, int i) throws SQLException {
        Timestamp t = rs.getTimestamp(i);
        return t == null ? null : t.toInstant();
    }
}
