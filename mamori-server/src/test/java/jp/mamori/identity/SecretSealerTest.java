package jp.mamori.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretSealerTest {
    private static final byte[] SECRET = "totp shared secret!!".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACCOUNT_7 = "totp:account-7".getBytes(StandardCharsets.UTF_8);
    private static final byte[] ACCOUNT_8 = "totp:account-8".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @Test
    void aSealedSecretOpensWithTheSameAssociatedData() {
        SecretSealer s = SecretSealer.open(dir.resolve("secrets/sealing.keys"));
        byte[] sealed = s.seal(SECRET, ACCOUNT_7);
        assertArrayEquals(SECRET, s.open(sealed, ACCOUNT_7));
        assertArrayEquals(new byte[0], s.open(s.seal(new byte[0], null), null));
    }

    @Test
    void theSealedFormIsVersionKeyIdNonceAndCiphertextWithTag() {
        SecretSealer s = SecretSealer.open(dir.resolve("k"));
        byte[] sealed = s.seal(SECRET, ACCOUNT_7);
        assertEquals(1, sealed[0]);
        assertEquals(2, sealed[1]);
        assertEquals("k1", new String(sealed, 2, 2, StandardCharsets.US_ASCII));
        assertEquals(1 + 1 + 2 + 12 + SECRET.length + 16, sealed.length);
        assertFalse(new String(sealed, StandardCharsets.ISO_8859_1).contains("totp shared"), "encrypted");
        byte[] again = s.seal(SECRET, ACCOUNT_7);
        assertFalse(java.util.Arrays.equals(sealed, again), "a fresh nonce each time");
    }

    @Test
    void anyTamperedByteIsRefused() {
        SecretSealer s = SecretSealer.open(dir.resolve("k"));
        byte[] sealed = s.seal(SECRET, ACCOUNT_7);
        for (int i = 0; i < sealed.length; i++) {
            byte[] t = sealed.clone();
            t[i] ^= 0x01;
            IdentityException e = assertThrows(IdentityException.class, () -> s.open(t, ACCOUNT_7), "byte " + i);
            assertTrue(e.getMessage().contains(" / "), e.getMessage());
        }
        assertThrows(IdentityException.class, () -> s.open(java.util.Arrays.copyOf(sealed, sealed.length - 1),
                ACCOUNT_7));
        assertThrows(IdentityException.class, () -> s.open(new byte[3], ACCOUNT_7));
        assertThrows(IdentityException.class, () -> s.open(null, ACCOUNT_7));
    }

    @Test
    void aSecretSealedForOneAccountDoesNotOpenForAnother() {
        SecretSealer s = SecretSealer.open(dir.resolve("k"));
        byte[] sealed = s.seal(SECRET, ACCOUNT_7);
        assertThrows(IdentityException.class, () -> s.open(sealed, ACCOUNT_8));
        assertThrows(IdentityException.class, () -> s.open(sealed, null));
    }

    @Test
    void theKeyFileIsCreatedReadableByItsOwnerOnly() throws Exception {
        Path file = dir.resolve("secrets/sealing.keys");
        SecretSealer.open(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        List<String> lines = Files.readAllLines(file);
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).matches("k1:[A-Za-z0-9_-]{43}"), "one key line");
        assertEquals(32, Base64.getUrlDecoder().decode(lines.get(0).substring(3)).length);
    }

    @Test
    void aKeyFileThatOthersCanReadIsRefused() throws Exception {
        Path file = dir.resolve("k");
        SecretSealer.open(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        IdentityException e = assertThrows(IdentityException.class, () -> SecretSealer.open(file));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    }

    @Test
    void reopeningTheSameFileOpensWhatWasSealedBefore() {
        Path file = dir.resolve("k");
        byte[] sealed = SecretSealer.open(file).seal(SECRET, ACCOUNT_7);
        assertArrayEquals(SECRET, SecretSealer.open(file).open(sealed, ACCOUNT_7));
    }

    @Test
    void anotherKeyFileCannotOpenIt() {
        byte[] sealed = SecretSealer.open(dir.resolve("a")).seal(SECRET, ACCOUNT_7);
        assertThrows(IdentityException.class, () -> SecretSealer.open(dir.resolve("b")).open(sealed, ACCOUNT_7),
                "same key id k1, different key");
    }

    @Test
    void aKeyLineAddedLaterOpensOldSecretsAndSealsNewOnes() throws Exception {
        Path file = dir.resolve("k");
        SecretSealer first = SecretSealer.open(file);
        byte[] old = first.seal(SECRET, ACCOUNT_7);
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Files.writeString(file, "\n# rotated\nk2:" + Base64.getUrlEncoder().withoutPadding().encodeToString(key)
                + "\n", StandardOpenOption.APPEND);
        SecretSealer second = SecretSealer.open(file);
        assertEquals("k2", second.currentKeyId());
        assertEquals(List.of("k1", "k2"), second.keyIds());
        assertArrayEquals(SECRET, second.open(old, ACCOUNT_7));
        assertFalse(second.isCurrent(old));
        byte[] fresh = second.seal(SECRET, ACCOUNT_7);
        assertTrue(second.isCurrent(fresh));
        assertEquals("k2", new String(fresh, 2, 2, StandardCharsets.US_ASCII));
        IdentityException e = assertThrows(IdentityException.class, () -> first.open(fresh, ACCOUNT_7));
        assertTrue(e.getMessage().contains("k2"), "names the missing key: " + e.getMessage());
    }

    @Test
    void addKeyAppendsTheNextNumberedKeyAndKeepsTheFileOwnerOnly() throws Exception {
        Path file = dir.resolve("k");
        byte[] old = SecretSealer.open(file).seal(SECRET, ACCOUNT_7);
        assertEquals("k2", SecretSealer.addKey(file));
        assertEquals("k3", SecretSealer.addKey(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        SecretSealer s = SecretSealer.open(file);
        assertEquals(List.of("k1", "k2", "k3"), s.keyIds());
        assertArrayEquals(SECRET, s.open(old, ACCOUNT_7));
    }

    @Test
    void aMalformedKeyFileIsRefusedWithoutShowingItsContent() throws Exception {
        Path file = dir.resolve("k");
        SecretSealer.open(file);
        String line = Files.readString(file).strip();
        Files.writeString(file, line + "\n" + line + "\n");
        assertThrows(IdentityException.class, () -> SecretSealer.open(file), "duplicate id");
        Files.writeString(file, "k1:" + line.substring(3, 30) + "\n");
        IdentityException e = assertThrows(IdentityException.class, () -> SecretSealer.open(file), "short key");
        assertFalse(e.getMessage().contains(line.substring(3, 30)));
        Files.writeString(file, "# nothing\n\n");
        assertThrows(IdentityException.class, () -> SecretSealer.open(file), "no key");
    }

    @Test
    void toStringShowsKeyIdsButNoKey() throws Exception {
        Path file = dir.resolve("k");
        SecretSealer s = SecretSealer.open(file);
        String key = Files.readString(file).strip().substring(3);
        assertEquals("SecretSealer[keys=k1; current=k1]", s.toString());
        assertFalse(s.toString().contains(key));
        assertNotEquals(-1, s.toString().indexOf("k1"));
    }
}
