package jp.mamori.identity;

import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Optional;
import jp.mamori.kernel.Hashes;

/**
 * The one-time secret with which the first administrator enrols. Made at the first start, written to a
 * file only the owner can read; only its hash is kept in the database. Once used, it stops working.
 */
public final class Bootstrap {
    public static final String FILE_NAME = "bootstrap-secret";

    private Bootstrap() {
    }

    /**
     * Makes the secret if none was ever made. Returns the file to tell the operator about while the
     * secret is still unused, or empty once it has been used.
     */
    public static Optional<Path> ensure(DataSource ds, Path dataDir) {
        Path file = dataDir.resolve("secrets").resolve(FILE_NAME);
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT used_at FROM bootstrap_secret WHERE id = 1 FOR UPDATE");
                 ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return rs.getTimestamp(1) == null && Files.exists(file) ? Optional.of(file) : Optional.<Path>empty();
                }
            }
            String secret = Secrets.random256();
            try {
                Files.deleteIfExists(file);
                Secrets.writeOwnerOnly(file, secret + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the bootstrap secret to " + file, e);
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO bootstrap_secret (id, secret_sha256, created_at) VALUES (1, ?, ?)")) {
                ps.setBytes(1, Hashes.sha256(secret));
                ps.setTimestamp(2, Timestamp.from(Instant.now()));
                ps.executeUpdate();
            }
            return Optional.of(file);
        });
    }
}
