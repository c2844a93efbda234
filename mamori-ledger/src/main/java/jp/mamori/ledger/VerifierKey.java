package jp.mamori.ledger;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A checkpoint verifier key in the C2SP signed-note form {@code <name>+<hex key id>+<base64(0x01 ‖ key)>}:
 * a key name and a raw 32-byte Ed25519 public key. The key id is the first four bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key). Immutable and thread-safe.
 */
public final class VerifierKey {
    /** The signed-note signature type of Ed25519. */
    static final byte ED25519 = 0x01;
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 key bytes. */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final String name;
    private final int keyId;
    private final byte[] raw;
    private final PublicKey publicKey;

    private VerifierKey(String name, byte[] raw) {
        this.name = checkName(name);
        if (raw.length != 32) {
            throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, not " + raw.length);
        }
        this.raw = raw.clone();
        this.keyId = keyId(name, raw);
        try {
            this.publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki(raw)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a usable Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** The key with this name and JDK Ed25519 public key. */
    public static VerifierKey of(String name, PublicKey publicKey) {
        return new VerifierKey(name, rawPublicKey(publicKey));
    }

    /** The key with this name and raw 32-byte Ed25519 public key. */
    public static VerifierKey ofRaw(String name, byte[] rawPublicKey) {
        return new VerifierKey(name, rawPublicKey);
    }

    /**
     * Parses {@code <name>+<hex key id>+<base64(0x01 ‖ key)>}.
     *
     * @throws IllegalArgumentException when malformed, not Ed25519, or the key id does not match
     */
    public static VerifierKey parse(String vkey) {
        String s = vkey.strip();
        int a = s.indexOf('+');
        int b = a < 0 ? -1 : s.indexOf('+', a + 1);
        if (a <= 0 || b < 0) {
            throw new IllegalArgumentException("a verifier key has the form name+keyid+base64key");
        }
        // The base64 key may itself contain '+'; the name may not.
        String[] parts = {s.substring(0, a), s.substring(a + 1, b), s.substring(b + 1)};
        if (!parts[1].matches("[0-9a-f]{8}")) {
            throw new IllegalArgumentException("the key id must be 8 lowercase hex digits");
        }
        byte[] typed;
        try {
            typed = Base64.getDecoder().decode(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the key is not valid base64");
        }
        if (typed.length != 33 || typed[0] != ED25519) {
            throw new IllegalArgumentException("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported");
        }
        VerifierKey k = new VerifierKey(parts[0], Arrays.copyOfRange(typed, 1, 33));
        if (k.keyId != Integer.parseUnsignedInt(parts[1], 16)) {
            throw new IllegalArgumentException("the key id does not match the key name and key");
        }
        return k;
    }

    /** First four bytes (big-endian) of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key). */
    public static int keyId(String name, byte[] rawPublicKey) {
        var md = Merkle.sha256();
        md.update(name.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0x0A);
        md.update(ED25519);
        md.update(rawPublicKey);
        byte[] h = md.digest();
        return ((h[0] & 0xff) << 24) | ((h[1] & 0xff) << 16) | ((h[2] & 0xff) << 8) | (h[3] & 0xff);
    }

    /** The raw 32 bytes of a JDK Ed25519 public key. */
    public static byte[] rawPublicKey(PublicKey key) {
        byte[] der = key.getEncoded();
        if (!"Ed25519".equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())
                || der == null || der.length != 44
                || !Arrays.equals(der, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
            throw new IllegalArgumentException("not an Ed25519 public key");
        }
        return Arrays.copyOfRange(der, SPKI_PREFIX.length, der.length);
    }

    static byte[] spki(byte[] raw) {
        byte[] der = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + raw.length);
        System.arraycopy(raw, 0, der, SPKI_PREFIX.length, raw.length);
        return der;
    }

    /** A key name is non-empty UTF-8 without spaces (any Unicode white space) and without '+'. */
    static String checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("the key name must not be empty");
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (cp == '+' || Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)) {
                throw new IllegalArgumentException("the key name must contain no spaces and no '+'");
            }
            i += Character.charCount(cp);
        }
        return name;
    }

    public String name() {
        return name;
    }

    public int keyId() {
        return keyId;
    }

    /** The key id as 8 lowercase hex digits. */
    public String keyIdHex() {
        return String.format("%08x", keyId);
    }

    /** A copy of the raw 32-byte public key. */
    public byte[] rawKey() {
        return raw.clone();
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** The vkey text {@code name+keyid+base64(0x01 ‖ key)}. */
    public String format() {
        byte[] typed = new byte[33];
        typed[0] = ED25519;
        System.arraycopy(raw, 0, typed, 1, 32);
        return name + "+" + keyIdHex() + "+" + Base64.getEncoder().encodeToString(typed);
    }

    /** True when {@code signature} is this key's valid Ed25519 signature of {@code message}. */
    public boolean verify(byte[] message, byte[] signature) {
        if (signature == null || signature.length != 64) {
            return false;
        }
        try {
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(publicKey);
            v.update(message);
            return v.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VerifierKey k && k.name.equals(name) && Arrays.equals(k.raw, raw);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return format();
    }
}
