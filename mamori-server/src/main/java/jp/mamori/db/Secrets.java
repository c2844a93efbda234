package jp.mamori.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/** Small secrets kept in files that only the owner can read. */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {
    }

    /** 256 random bits, URL-safe base64 without padding. */
    public static String random256() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Reads the secret in {@code file}, creating it with a fresh random value (mode 0600) if absent. */
    public static String readOrCreate(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file).trim();
        }
        String secret = random256();
        writeOwnerOnly(file, secret + "\n");
        return secret;
    }

    /**
     * Whether a key file is readable and writable by its owner alone (no group or other permission, no execute); true
     * where the file system has no POSIX permissions (its ACLs decide). Key loaders refuse a file for which it is false.
     */
    public static boolean ownerOnly(Path file) throws IOException {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return true;
        }
        for (java.nio.file.attribute.PosixFilePermission p : perms) {
            if (p != java.nio.file.attribute.PosixFilePermission.OWNER_READ
                    && p != java.nio.file.attribute.PosixFilePermission.OWNER_WRITE) {
                return false;
            }
        }
        return true;
    }

    /** Writes a new file readable and writable by the owner only; fails if it exists. */
    public static void writeOwnerOnly(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        try {
            Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: rely on the folder's ACLs.
        }
        Path tmp = Files.createTempFile(file.getParent(), ".tmp", "");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // As above.
            }
            Files.writeString(tmp, content);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
