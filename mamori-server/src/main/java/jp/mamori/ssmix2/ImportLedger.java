package jp.mamori.ssmix2;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

/** The messages imported (V39 {@code ssmix2_import}), by the SHA-256 of the file's bytes. */
final class ImportLedger {
    private final DataSource ds;

    ImportLedger(DataSource ds) {
        this.ds = ds;
    }

    boolean contains(byte[] sha256) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM ssmix2_import WHERE content_sha256 = ?")) {
                ps.setBytes(1, sha256);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /**
     * Records the message in the caller's transaction (the one that wrote its resources); false when another run
     * recorded the same bytes first, and the caller then rolls its writes back.
     */
    boolean record(Connection c, byte[] sha256, String path, String dataType, String controlId, int resources,
                   UUID run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ssmix2_import (content_sha256, file_path,"
                + " data_type, control_id, resources, run_id, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (content_sha256) DO NOTHING")) {
            ps.setBytes(1, sha256);
            ps.setString(2, path.length() > 1000 ? path.substring(0, 1000) : path);
            ps.setString(3, dataType);
            ps.setString(4, controlId == null ? null : controlId.length() > 200 ? controlId.substring(0, 200)
                    : controlId);
            ps.setInt(5, resources);
            ps.setObject(6, run);
            ps.setTimestamp(7, Timestamp.from(Instant.now()));
            if (ps.executeUpdate() == 0) {
                throw new AlreadyImported();
            }
            return true;
        }
    }

    /** Rolls back a message's writes when another run imported the same bytes meanwhile. */
    static final class AlreadyImported extends RuntimeException {
        AlreadyImported() {
            super("already imported", null, false, false);
        }
    }

    long count() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ssmix2_import");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
