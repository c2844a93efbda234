package jp.mamori.ledger;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * An append-only Merkle tree kept in O(log n) memory: the roots of the perfect subtrees that cover
 * the leaves [0, size), largest first (the "frontier" or compact range). Enough to append a leaf and
 * to compute the root at the current size; persisting the frontier lets a writer resume, and an
 * archive of entries [0, k) is summarised by the frontier at k.
 *
 * <p>Not thread-safe.
 */
public final class CompactRange {
    private final byte[][] stack = new byte[64][];
    private int count;
    private long size;
    private final Merkle.Hasher hasher = new Merkle.Hasher();

    /** An empty tree. */
    public CompactRange() {
    }

    /**
     * Resumes a tree of {@code size} leaves from its frontier: one hash per set bit of size, the
     * subtree covering the lowest leaves first.
     *
     * @throws IllegalArgumentException when the number of hashes does not match the size
     */
    public static CompactRange of(long size, List<byte[]> frontier) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        if (frontier.size() != Long.bitCount(size)) {
            throw new IllegalArgumentException("a tree of size " + size + " has " + Long.bitCount(size)
                    + " frontier hashes, not " + frontier.size());
        }
        CompactRange r = new CompactRange();
        for (byte[] h : frontier) {
            r.stack[r.count++] = Merkle.copy(Merkle.checkHash(h, "frontier hash"));
        }
        r.size = size;
        return r;
    }

    /** The number of leaves. */
    public long size() {
        return size;
    }

    /** Appends one leaf by its leaf hash (see {@link Merkle#leafHash}). */
    public void append(byte[] leafHash) {
        appendOwned(Merkle.copy(Merkle.checkHash(leafHash, "leaf hash")));
    }

    /** Appends a leaf hash the caller hands over and will not modify afterwards. */
    void appendOwned(byte[] leafHash) {
        byte[] cur = leafHash;
        long s = size;
        while ((s & 1) == 1) {
            cur = hasher.node(stack[--count], cur);
            s >>>= 1;
        }
        stack[count++] = cur;
        size++;
    }

    /** The root hash of the tree at its current size (the empty root when there are no leaves). */
    public byte[] root() {
        if (count == 0) {
            return Merkle.emptyRoot();
        }
        byte[] r = stack[count - 1];
        for (int i = count - 2; i >= 0; i--) {
            r = hasher.node(stack[i], r);
        }
        return r == stack[count - 1] ? Merkle.copy(r) : r;
    }

    /** A copy of the frontier: the perfect subtree roots covering [0, size), lowest leaves first. */
    public List<byte[]> frontier() {
        List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(Merkle.copy(stack[i]));
        }
        return out;
    }

    /** A copy of this range, to be appended to independently. */
    public CompactRange copy() {
        return of(size, frontier());
    }

    @Override
    public String toString() {
        return "CompactRange[size=" + size + ", root=" + Base64.getEncoder().encodeToString(root()) + "]";
    }
}
