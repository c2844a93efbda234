package jp.mamori.ledger;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The RFC 6962 hashing of the audit trail: leaf hash = SHA-256(0x00 ‖ entry), node hash =
 * SHA-256(0x01 ‖ left ‖ right), the empty tree's root = SHA-256 of nothing.
 *
 * <p>The static methods are thread-safe and allocate a digest per call; hot loops use a {@link Hasher}.
 */
public final class Merkle {
    /** Every hash in the tree is a SHA-256 digest of this many bytes. */
    public static final int HASH_SIZE = 32;

    private static final byte[] EMPTY_ROOT = sha256().digest();

    private Merkle() {
    }

    /** SHA-256(0x00 ‖ entry): the leaf hash of one audit entry (its exact canonical bytes). */
    public static byte[] leafHash(byte[] entry) {
        return new Hasher().leaf(entry, 0, entry.length);
    }

    /** SHA-256(0x01 ‖ left ‖ right). */
    public static byte[] nodeHash(byte[] left, byte[] right) {
        return new Hasher().node(left, right);
    }

    /** The root of the empty tree, SHA-256(""). */
    public static byte[] emptyRoot() {
        return EMPTY_ROOT.clone();
    }

    /** Constant-length comparison of two hashes; false when either is null. */
    public static boolean same(byte[] a, byte[] b) {
        return a != null && b != null && MessageDigest.isEqual(a, b);
    }

    static boolean isHash(byte[] h) {
        return h != null && h.length == HASH_SIZE;
    }

    static byte[] checkHash(byte[] h, String what) {
        if (!isHash(h)) {
            throw new IllegalArgumentException(what + " must be a " + HASH_SIZE + "-byte SHA-256 hash");
        }
        return h;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** A reusable hasher: one digest, no allocation beyond the result. Not thread-safe. */
    public static final class Hasher {
        private final MessageDigest md = sha256();

        /** SHA-256(0x00 ‖ bytes[off, off+len)). */
        public byte[] leaf(byte[] bytes, int off, int len) {
            md.update((byte) 0);
            md.update(bytes, off, len);
            return md.digest();
        }

        /** Writes SHA-256(0x00 ‖ bytes[off, off+len)) into out[outOff, outOff+32). */
        public void leaf(byte[] bytes, int off, int len, byte[] out, int outOff) {
            md.update((byte) 0);
            md.update(bytes, off, len);
            try {
                md.digest(out, outOff, HASH_SIZE);
            } catch (java.security.DigestException e) {
                throw new IllegalArgumentException(e);
            }
        }

        /** SHA-256(0x01 ‖ left ‖ right). */
        public byte[] node(byte[] left, byte[] right) {
            md.update((byte) 1);
            md.update(left);
            md.update(right);
            return md.digest();
        }
    }

    static byte[] copy(byte[] b) {
        return Arrays.copyOf(b, b.length);
    }
}
