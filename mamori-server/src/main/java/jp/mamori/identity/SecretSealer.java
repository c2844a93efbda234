package jp.mamori.identity;

import jp.mamori.db.Secrets;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seals small secrets that must be stored in the database but read back by the server, such as TOTP shared
 * secrets, with AES-256-GCM under a key kept in a file outside the database. A copy of the database alone (a
 * backup, a replica, a dump handed to a vendor) then does not reveal them.
 *
 * <p>Key file: one key a line, {@code <id>:<base64url of 32 bytes>}; blank lines and lines starting with {@code #}
 * are ignored. The last key is the current one, used for sealing; every listed key can open. To rotate, append a
 * line ({@link #addKey}), restart, re-seal what is still under older keys ({@link #isCurrent}), and only then remove
 * old lines. The file must be readable by its owner only; {@link #open(Path)} refuses it otherwise. Key ids are
 * 1–32 of {@code A-Z a-z 0-9 _ -}.
 *
 * <p>Sealed form: version byte (1), key id length (1 byte), key id (ASCII), 12-byte random nonce, then ciphertext
 * with its 16-byte tag. The version, key id and the caller's associated data are authenticated, so a sealed value
 * moved to another row (another account id as associated data) or relabelled with another key id does not open.
 * Random nonces are safe for up to about 2^32 seals per key, far more than the secrets this is meant for.
 *
 * <p>Caller duties: pass the same associated data to {@link #open(byte[], byte[])} as to {@link #seal}, naming what
 * the secret belongs to (for example "totp:" and the account id); open the key file from one process at a time when
 * it may still need creating. Thread-safe once opened.
 */
public final class SecretSealer {
    static final byte VERSION = 1;
    static final int KEY_BYTES = 32;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final Pattern LINE = Pattern.compile("([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{43})");
    private static final Pattern NUMBERED = Pattern.compile("k([0-9]{1,9})");
    private static final String CANNOT_OPEN = "保存された秘密情報を復号できません（改ざんまたは鍵の違い）"
            + " / The sealed secret cannot be opened (tampered with, or sealed with another key)";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, SecretKey> keys;
    private final String currentId;

    private SecretSealer(Map<String, SecretKey> keys, String currentId) {
        this.keys = keys;
        this.currentId = currentId;
    }

    /**
     * The sealer for the keys in {@code keyFile}, creating the file (mode 0600) with one new key {@code k1} if it does
     * not exist.
     *
     * @throws IdentityException    if the file is readable by others than its owner, or is not a valid key file
     * @throws UncheckedIOException if it cannot be read or created
     */
    public static SecretSealer open(Path keyFile) {
        keyFile = keyFile.toAbsolutePath();
        try {
            if (!Files.exists(keyFile)) {
                Secrets.writeOwnerOnly(keyFile, "k1:" + Secrets.random256() + "\n");
            }
            requireOwnerOnly(keyFile);
            List<String> lines = Files.readAllLines(keyFile, StandardCharsets.UTF_8);
            Map<String, SecretKey> keys = new LinkedHashMap<>();
            String current = null;
            int number = 0;
            for (String raw : lines) {
                number++;
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                Matcher m = LINE.matcher(line);
                byte[] key = m.matches() ? decode(m.group(2)) : null;
                if (key == null || key.length != KEY_BYTES) {
                    throw new IdentityException("鍵ファイル " + keyFile.getFileName() + " の " + number
                            + " 行目が正しくありません / Line " + number + " of key file " + keyFile.getFileName()
                            + " is not <id>:<base64url of 32 bytes>");
                }
                if (keys.containsKey(m.group(1))) {
                    throw new IdentityException("鍵ファイルで鍵 " + m.group(1) + " が重複しています / Key "
                            + m.group(1) + " appears twice in the key file");
                }
                keys.put(m.group(1), new SecretKeySpec(key, "AES"));
                current = m.group(1);
            }
            if (current == null) {
                throw new IdentityException("鍵ファイル " + keyFile.getFileName() + " に鍵がありません / Key file "
                        + keyFile.getFileName() + " holds no key");
            }
            return new SecretSealer(Collections.unmodifiableMap(keys), current);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or create key file " + keyFile, e);
        }
    }

    /**
     * Appends a new current key to an existing key file, replacing the file atomically (mode 0600), and returns its
     * id: {@code k<n+1>} after the highest {@code k<n>}. Sealers already open keep their keys until reopened.
     */
    public static String addKey(Path keyFile) {
        SecretSealer existing = open(keyFile);
        int highest = 0;
        for (String id : existing.keys.keySet()) {
            Matcher m = NUMBERED.matcher(id);
            if (m.matches()) {
                highest = Math.max(highest, Integer.parseInt(m.group(1)));
            }
        }
        String id = "k" + (highest + 1);
        try {
            String content = Files.readString(keyFile, StandardCharsets.UTF_8);
            if (!content.isEmpty() && !content.endsWith("\n")) {
                content += "\n";
            }
            content += id + ":" + Secrets.random256() + "\n";
            Path tmp = Files.createTempFile(keyFile.toAbsolutePath().getParent(), ".tmp", "");
            try {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException ignored) {
                    // Not a POSIX file system: rely on the folder's ACLs, as Secrets does.
                }
                Files.writeString(tmp, content, StandardCharsets.UTF_8);
                Files.move(tmp, keyFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot add a key to " + keyFile, e);
        }
        return id;
    }

    private static void requireOwnerOnly(Path keyFile) throws IOException {
        if (!jp.mamori.db.Secrets.ownerOnly(keyFile)) {
            throw new IdentityException("鍵ファイル " + keyFile.getFileName() + " は所有者だけが読み書きできるよう"
                    + "にしてください（chmod 600） / Key file " + keyFile.getFileName()
                    + " must be readable and writable by its owner only (chmod 600)");
        }
    }

    private static byte[] decode(String b64url) {
        try {
            return Base64.getUrlDecoder().decode(b64url);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The id of the key that {@link #seal} uses. */
    public String currentKeyId() {
        return currentId;
    }

    /** The ids of all keys that can open, oldest first. */
    public List<String> keyIds() {
        return new ArrayList<>(keys.keySet());
    }

    /**
     * {@code plaintext} encrypted and authenticated under the current key, bound to {@code associatedData} (may be
     * null, meaning none).
     */
    public byte[] seal(byte[] plaintext, byte[] associatedData) {
        if (plaintext == null) {
            throw new IllegalArgumentException("plaintext is required");
        }
        byte[] header = header(currentId);
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, keys.get(currentId), new GCMParameterSpec(TAG_BITS, nonce));
            gcm.updateAAD(header);
            if (associatedData != null) {
                gcm.updateAAD(associatedData);
            }
            byte[] body = gcm.doFinal(plaintext);
            return ByteBuffer.allocate(header.length + NONCE_BYTES + body.length).put(header).put(nonce).put(body)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /**
     * The plaintext of a value made by {@link #seal} with any key in the file and the same {@code associatedData}.
     *
     * @throws IdentityException if it was altered, was sealed for other associated data, is not in this format, or
     *                           names a key that the key file does not hold
     */
    public byte[] open(byte[] sealed, byte[] associatedData) {
        if (sealed == null || sealed.length < 2 + 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
            throw new IdentityException(CANNOT_OPEN);
        }
        int idLength = sealed[1] & 0xff;
        int headerLength = 2 + idLength;
        if (idLength < 1 || sealed.length < headerLength + NONCE_BYTES + TAG_BITS / 8) {
            throw new IdentityException(CANNOT_OPEN);
        }
        String id = new String(sealed, 2, idLength, StandardCharsets.US_ASCII);
        if (!KEY_ID.matcher(id).matches()) {
            throw new IdentityException(CANNOT_OPEN);
        }
        SecretKey key = keys.get(id);
        if (key == null) {
            throw new IdentityException("鍵 " + id + " が鍵ファイルにないため復号できません / The sealed secret needs"
                    + " key " + id + ", which the key file does not hold");
        }
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, headerLength, NONCE_BYTES));
            gcm.updateAAD(sealed, 0, headerLength);
            if (associatedData != null) {
                gcm.updateAAD(associatedData);
            }
            int bodyStart = headerLength + NONCE_BYTES;
            return gcm.doFinal(sealed, bodyStart, sealed.length - bodyStart);
        } catch (AEADBadTagException e) {
            throw new IdentityException(CANNOT_OPEN);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /**
     * A tag over {@code content} that only a holder of this key file can make (AES-GCM over an empty plaintext with
     * {@code content} as associated data): for rows whose decisive columns must not change behind the server's back,
     * e.g. by the database superuser, who does not hold the key file. {@link #attests} checks it.
     */
    public byte[] attest(byte[] content) {
        return seal(new byte[0], content);
    }

    /** Whether {@code tag} was made by {@link #attest} over exactly {@code content} with a key of this file. */
    public boolean attests(byte[] tag, byte[] content) {
        if (tag == null) {
            return false;
        }
        try {
            return open(tag, content).length == 0;
        } catch (IdentityException e) {
            return false;
        }
    }

    /** Whether {@code sealed} was made with the current key; false for anything not in the sealed format. */
    public boolean isCurrent(byte[] sealed) {
        byte[] header = header(currentId);
        if (sealed == null || sealed.length < header.length) {
            return false;
        }
        return Arrays.equals(sealed, 0, header.length, header, 0, header.length);
    }

    private static byte[] header(String id) {
        byte[] idBytes = id.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(2 + idBytes.length).put(VERSION).put((byte) idBytes.length).put(idBytes).array();
    }

    /** Shows the key ids only, never key material. */
    @Override
    public String toString() {
        return "SecretSealer[keys=" + String.join(",", keys.keySet()) + "; current=" + currentId + "]";
    }
}
