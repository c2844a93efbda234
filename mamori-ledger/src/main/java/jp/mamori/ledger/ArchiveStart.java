package jp.mamori.ledger;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Where an export starts when entries [0, size) were archived away: the frontier of the tree at
 * {@code size} (perfect subtree roots, lowest leaves first), the leaf hash of entry size-1 (which the
 * next entry's {@code prev} names) and its inclusion proof in the tree of {@code size}. Both must lead
 * to the root of a signed checkpoint of that size. Text form (the export's {@code start} file):
 * <pre>
 * mamori-ledger start
 * size &lt;k&gt;
 * last &lt;base64 leaf hash of entry k-1&gt;
 * frontier &lt;base64&gt;      one line per hash, lowest leaves first
 * proof &lt;base64&gt;         inclusion proof of entry k-1 in the tree of size k, leaf level first
 * </pre>
 */
public record ArchiveStart(long size, byte[] lastLeafHash, List<byte[]> frontier, List<byte[]> lastLeafProof) {
    static final String HEADER = "mamori-ledger start";

    public ArchiveStart {
        if (size < 1) {
            throw new IllegalArgumentException("an archive holds at least one entry");
        }
        lastLeafHash = Merkle.copy(Merkle.checkHash(lastLeafHash, "last leaf hash"));
        frontier = List.copyOf(frontier);
        lastLeafProof = List.copyOf(lastLeafProof);
        frontier.forEach(h -> Merkle.checkHash(h, "frontier hash"));
        lastLeafProof.forEach(h -> Merkle.checkHash(h, "proof hash"));
        if (frontier.size() != Long.bitCount(size)) {
            throw new IllegalArgumentException("a tree of size " + size + " has " + Long.bitCount(size) + " frontier hashes");
        }
    }

    /**
     * The start for an export that leaves out entries [0, size) of a log.
     *
     * @param source subtree hashes of the log (at least up to size)
     */
    public static ArchiveStart of(long size, SubtreeHashes source) {
        List<byte[]> frontier = new ArrayList<>();
        long lo = 0;
        for (int level = 63; level >= 0; level--) {
            if ((size >>> level & 1) == 1) {
                frontier.add(source.hash(level, lo >>> level));
                lo += 1L << level;
            }
        }
        return new ArchiveStart(size, source.hash(0, size - 1), frontier, Proofs.inclusion(size - 1, size, source));
    }

    /** The root of the tree of {@code size} that the frontier folds to. */
    public byte[] root() {
        return CompactRange.of(size, frontier).root();
    }

    /** True when frontier and last leaf (with its proof) both lead to {@code root}. */
    public boolean matches(byte[] root) {
        return Merkle.same(root(), root) && Proofs.verifyInclusion(size - 1, size, lastLeafHash, lastLeafProof, root);
    }

    public String format() {
        Base64.Encoder e = Base64.getEncoder();
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        b.append("size ").append(size).append('\n');
        b.append("last ").append(e.encodeToString(lastLeafHash)).append('\n');
        frontier.forEach(h -> b.append("frontier ").append(e.encodeToString(h)).append('\n'));
        lastLeafProof.forEach(h -> b.append("proof ").append(e.encodeToString(h)).append('\n'));
        return b.toString();
    }

    /**
     * @throws IllegalArgumentException when the text is not a start file
     */
    public static ArchiveStart parse(String text) {
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].strip().equals(HEADER)) {
            throw new IllegalArgumentException("a start file begins with the line '" + HEADER + "'");
        }
        long size = -1;
        byte[] last = null;
        List<byte[]> frontier = new ArrayList<>();
        List<byte[]> proof = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) {
                continue;
            }
            int sp = l.indexOf(' ');
            if (sp < 0) {
                throw new IllegalArgumentException("line " + (i + 1) + " has no value");
            }
            String k = l.substring(0, sp);
            String v = l.substring(sp + 1).strip();
            try {
                switch (k) {
                    case "size" -> size = Long.parseLong(v);
                    case "last" -> last = Base64.getDecoder().decode(v);
                    case "frontier" -> frontier.add(Base64.getDecoder().decode(v));
                    case "proof" -> proof.add(Base64.getDecoder().decode(v));
                    default -> throw new IllegalArgumentException("unknown line '" + k + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        if (size < 0 || last == null) {
            throw new IllegalArgumentException("a start file names size and last");
        }
        return new ArchiveStart(size, last, frontier, proof);
    }
}
