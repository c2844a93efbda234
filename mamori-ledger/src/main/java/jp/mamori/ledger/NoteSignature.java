package jp.mamori.ledger;

import java.util.Arrays;
import java.util.Base64;

/**
 * One signature line of a signed note: {@code — <key name> <base64(4-byte key id ‖ signature)>}
 * (an em dash U+2014 and a space first).
 */
public record NoteSignature(String keyName, int keyId, byte[] signature) {
    /** The prefix of every signature line: U+2014 EM DASH and a space. */
    public static final String PREFIX = "\u2014 ";

    public NoteSignature {
        VerifierKey.checkName(keyName);
        signature = signature.clone();
    }

    static NoteSignature of(VerifierKey key, byte[] signature) {
        return new NoteSignature(key.name(), key.keyId(), signature);
    }

    /**
     * Parses one signature line (without its newline).
     *
     * @throws IllegalArgumentException when the line is not a signature line
     */
    public static NoteSignature parse(String line) {
        if (!line.startsWith(PREFIX)) {
            throw new IllegalArgumentException("a signature line starts with an em dash and a space");
        }
        String rest = line.substring(PREFIX.length());
        int sp = rest.indexOf(' ');
        if (sp <= 0 || rest.indexOf(' ', sp + 1) >= 0) {
            throw new IllegalArgumentException("a signature line has a key name and one base64 signature");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(rest.substring(sp + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the signature is not valid base64");
        }
        if (blob.length < 5) {
            throw new IllegalArgumentException("the signature is too short");
        }
        int id = ((blob[0] & 0xff) << 24) | ((blob[1] & 0xff) << 16) | ((blob[2] & 0xff) << 8) | (blob[3] & 0xff);
        return new NoteSignature(rest.substring(0, sp), id, Arrays.copyOfRange(blob, 4, blob.length));
    }

    /** The line, without its newline. */
    public String line() {
        byte[] blob = new byte[4 + signature.length];
        blob[0] = (byte) (keyId >>> 24);
        blob[1] = (byte) (keyId >>> 16);
        blob[2] = (byte) (keyId >>> 8);
        blob[3] = (byte) keyId;
        System.arraycopy(signature, 0, blob, 4, signature.length);
        return PREFIX + keyName + " " + Base64.getEncoder().encodeToString(blob);
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoteSignature s && s.keyName.equals(keyName) && s.keyId == keyId
                && Arrays.equals(s.signature, signature);
    }

    @Override
    public int hashCode() {
        return keyName.hashCode() * 31 + keyId;
    }

    @Override
    public String toString() {
        return line();
    }
}
