package jp.mamori.identity;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.kernel.Hashes;

class BootstrapSecretTest {
    @Test
    void theFirstStartWritesAnOwnerOnlySecretAndKeepsOnlyItsHash() throws Exception {
        TestServer s = TestServer.shared();
        Path file = s.dataDir().resolve("secrets").resolve(Bootstrap.FILE_NAME);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        String secret = Files.readString(file).trim();
        assertTrue(secret.length() >= 43, "256 random bits");
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT secret_sha256, used_at FROM bootstrap_secret")) {
            assertTrue(rs.next());
            assertArrayEquals(Hashes.sha256(secret), rs.getBytes(1));
            assertEquals(null, rs.getTimestamp(2));
        }
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM bootstrap_secret WHERE encode(secret_sha256, 'escape')"
                     + " LIKE '%" + secret.replace("'", "") + "%'")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "the secret itself is never stored");
        }
    }

    @Test
    void aRestartKeepsTheSameUnusedSecret() throws Exception {
        TestServer s = TestServer.shared();
        Path file = s.dataDir().resolve("secrets").resolve(Bootstrap.FILE_NAME);
        String before = Files.readString(file);
        Optional<Path> again = Bootstrap.ensure(s.server().database().dataSource(), s.dataDir());
        assertEquals(Optional.of(file), again);
        assertEquals(before, Files.readString(file));
    }
}
