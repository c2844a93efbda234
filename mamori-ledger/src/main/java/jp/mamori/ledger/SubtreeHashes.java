package jp.mamori.ledger;

import java.util.List;
import java.util.function.LongFunction;

/**
 * Where proof generation gets its hashes: the root of the perfect subtree at {@code level} with
 * {@code index}, i.e. of leaves [index·2^level, (index+1)·2^level). Level 0 is the leaf hashes.
 * Implementations MUST return 32-byte hashes and MUST NOT return null for a subtree inside the tree
 * the proof is made for; a server keeps such hashes (or leaf hashes) in its database.
 */
@FunctionalInterface
public interface SubtreeHashes {
    byte[] hash(int level, long index);

    /**
     * Subtree hashes recomputed from leaf hashes by index. Costs 2^level leaf reads per call, so it suits
     * small trees and tests; a large log should store interior hashes.
     */
    static SubtreeHashes fromLeaves(LongFunction<byte[]> leafHash) {
        return new SubtreeHashes() {
            private final Merkle.Hasher hasher = new Merkle.Hasher();

            @Override
            public byte[] hash(int level, long index) {
                if (level == 0) {
                    return leafHash.apply(index);
                }
                return hasher.node(hash(level - 1, 2 * index), hash(level - 1, 2 * index + 1));
            }
        };
    }

    /** Subtree hashes over a list of leaf hashes held in memory. */
    static SubtreeHashes fromLeaves(List<byte[]> leafHashes) {
        return fromLeaves(i -> leafHashes.get(Math.toIntExact(i)));
    }
}
