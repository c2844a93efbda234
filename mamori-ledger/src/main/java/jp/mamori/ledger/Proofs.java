package jp.mamori.ledger;

import java.util.ArrayList;
import java.util.List;

/**
 * Root, inclusion proof and consistency proof generation (RFC 6962 §2.1, MTH / PATH / PROOF) and
 * verification (RFC 9162 §2.1.3.2 and §2.1.4.2). Proof hashes are ordered from the leaf level up.
 */
public final class Proofs {
    private Proofs() {
    }

    // ---- generation ----

    /** MTH(D[0:size]) from subtree hashes; the empty root for size 0. */
    public static byte[] root(long size, SubtreeHashes source) {
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        return size == 0 ? Merkle.emptyRoot() : new Gen(source).mth(0, size);
    }

    /** PATH(index, D[0:size]): the audit path of leaf {@code index} in the tree of {@code size} leaves. */
    public static List<byte[]> inclusion(long index, long size, SubtreeHashes source) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("leaf " + index + " is not in a tree of size " + size);
        }
        List<byte[]> out = new ArrayList<>();
        new Gen(source).path(index, 0, size, out);
        return out;
    }

    /** PROOF(size1, D[0:size2]): shows that the tree of size1 leaves is a prefix of the tree of size2. */
    public static List<byte[]> consistency(long size1, long size2, SubtreeHashes source) {
        if (size1 < 0 || size1 > size2) {
            throw new IllegalArgumentException("no consistency proof from size " + size1 + " to " + size2);
        }
        List<byte[]> out = new ArrayList<>();
        if (size1 > 0 && size1 < size2) {
            new Gen(source).subproof(size1, 0, size2, true, out);
        }
        return out;
    }

    private static final class Gen {
        private final SubtreeHashes source;
        private final Merkle.Hasher hasher = new Merkle.Hasher();

        Gen(SubtreeHashes source) {
            this.source = source;
        }

        /** The hash of leaves [lo, hi); lo is a multiple of the largest power of two below hi - lo. */
        byte[] mth(long lo, long hi) {
            long n = hi - lo;
            if (Long.bitCount(n) == 1 && lo % n == 0) {
                int level = Long.numberOfTrailingZeros(n);
                return Merkle.checkHash(source.hash(level, lo >>> level), "subtree hash");
            }
            long k = split(n);
            return hasher.node(mth(lo, lo + k), mth(lo + k, hi));
        }

        void path(long m, long lo, long hi, List<byte[]> out) {
            long n = hi - lo;
            if (n == 1) {
                return;
            }
            long k = split(n);
            if (m < k) {
                path(m, lo, lo + k, out);
                out.add(mth(lo + k, hi));
            } else {
                path(m - k, lo + k, hi, out);
                out.add(mth(lo, lo + k));
            }
        }

        void subproof(long m, long lo, long hi, boolean whole, List<byte[]> out) {
            long n = hi - lo;
            if (m == n) {
                if (!whole) {
                    out.add(mth(lo, hi));
                }
                return;
            }
            long k = split(n);
            if (m <= k) {
                subproof(m, lo, lo + k, whole, out);
                out.add(mth(lo + k, hi));
            } else {
                subproof(m - k, lo + k, hi, false, out);
                out.add(mth(lo, lo + k));
            }
        }
    }

    /** The largest power of two strictly smaller than n (n ≥ 2). */
    static long split(long n) {
        return Long.highestOneBit(n - 1);
    }

    // ---- verification ----

    /**
     * Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2).
     *
     * @throws IllegalArgumentException when the index is outside the tree or the proof has the wrong length
     */
    public static byte[] rootFromInclusion(long index, long size, byte[] leafHash, List<byte[]> proof) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("leaf " + index + " is not in a tree of size " + size);
        }
        Merkle.checkHash(leafHash, "leaf hash");
        Merkle.Hasher hasher = new Merkle.Hasher();
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : proof) {
            Merkle.checkHash(p, "proof hash");
            if (sn == 0) {
                throw new IllegalArgumentException("the proof is longer than the path to the root");
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = hasher.node(p, r);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>>= 1;
                    sn >>>= 1;
                }
            } else {
                r = hasher.node(r, p);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        if (sn != 0) {
            throw new IllegalArgumentException("the proof is shorter than the path to the root");
        }
        return r;
    }

    /** True when {@code proof} shows leaf {@code index} with {@code leafHash} in the tree with {@code root}. */
    public static boolean verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
        try {
            return Merkle.same(rootFromInclusion(index, size, leafHash, proof), root);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * True when {@code proof} shows that the tree of {@code size1} leaves with {@code root1} is a prefix
     * of the tree of {@code size2} leaves with {@code root2} (RFC 9162 §2.1.4.2). Size 0 is a prefix of
     * every tree (with an empty proof); equal sizes need equal roots and an empty proof.
     */
    public static boolean verifyConsistency(long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof) {
        if (size1 < 0 || size2 < size1) {
            return false;
        }
        for (byte[] p : proof) {
            if (!Merkle.isHash(p)) {
                return false;
            }
        }
        if (size1 == size2) {
            return proof.isEmpty() && Merkle.same(root1, root2);
        }
        if (size1 == 0) {
            return proof.isEmpty();
        }
        if (proof.isEmpty() || !Merkle.isHash(root1) || !Merkle.isHash(root2)) {
            return false;
        }
        List<byte[]> path = proof;
        if (Long.bitCount(size1) == 1) {
            path = new ArrayList<>(proof.size() + 1);
            path.add(root1);
            path.addAll(proof);
        }
        Merkle.Hasher hasher = new Merkle.Hasher();
        long fn = size1 - 1;
        long sn = size2 - 1;
        while ((fn & 1) == 1) {
            fn >>>= 1;
            sn >>>= 1;
        }
        byte[] fr = path.get(0);
        byte[] sr = path.get(0);
        for (int i = 1; i < path.size(); i++) {
            byte[] c = path.get(i);
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                fr = hasher.node(c, fr);
                sr = hasher.node(c, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>>= 1;
                    sn >>>= 1;
                }
            } else {
                sr = hasher.node(sr, c);
            }
            fn >>>= 1;
            sn >>>= 1;
        }
        return sn == 0 && Merkle.same(fr, root1) && Merkle.same(sr, root2);
    }
}
