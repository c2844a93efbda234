package jp.mamori.ledger;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Evidence that a later signed checkpoint extends an earlier one (nothing before the earlier size was
 * changed). Text form (UTF-8):
 * <pre>
 * mamori-ledger consistency proof
 * hash &lt;base64&gt;                 one per line, RFC 6962 order (none when the sizes are equal)
 *
 * &lt;the earlier signed checkpoint note&gt;
 *
 * &lt;the later signed checkpoint note&gt;
 * </pre>
 */
public record ConsistencyProof(List<byte[]> proof, SignedCheckpoint older, SignedCheckpoint newer) {
    static final String HEADER = "mamori-ledger consistency proof";

    public ConsistencyProof {
        proof = List.copyOf(proof);
    }

    /** Builds the proof between two signed checkpoints of one log from its subtree hashes. */
    public static ConsistencyProof of(SignedCheckpoint older, SignedCheckpoint newer, SubtreeHashes source) {
        return new ConsistencyProof(Proofs.consistency(older.checkpoint().size(), newer.checkpoint().size(), source),
                older, newer);
    }

    /** Checks both signatures and origins, then the proof. */
    public InclusionProof.Check verify(VerifierKey key, String origin) {
        for (SignedCheckpoint n : List.of(older, newer)) {
            InclusionProof.Check sig = InclusionProof.checkNote(n, key, origin);
            if (sig != null) {
                return sig;
            }
        }
        Checkpoint a = older.checkpoint();
        Checkpoint b = newer.checkpoint();
        if (Proofs.verifyConsistency(a.size(), b.size(), a.root(), b.root(), proof)) {
            return new InclusionProof.Check(true, "一貫性を確認しました / consistency verified: the log of size " + b.size()
                    + " extends the log of size " + a.size() + " without changing it");
        }
        return new InclusionProof.Check(false, "一貫性証明が一致しません / consistency proof FAILED: the log of size " + b.size()
                + " does not extend the signed log of size " + a.size() + " (or the proof is wrong)");
    }

    public String format() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        proof.forEach(h -> b.append("hash ").append(Base64.getEncoder().encodeToString(h)).append('\n'));
        return b.append('\n').append(older.encode()).append('\n').append(newer.encode()).toString();
    }

    /**
     * @throws IllegalArgumentException when the text is not a consistency proof
     */
    public static ConsistencyProof parse(String text) {
        int blank = text.indexOf("\n\n");
        if (!text.startsWith(HEADER + "\n") || blank < 0) {
            throw new IllegalArgumentException("a consistency proof begins with '" + HEADER + "' and ends with two signed checkpoints");
        }
        List<byte[]> hashes = new ArrayList<>();
        String head = blank > HEADER.length() ? text.substring(HEADER.length() + 1, blank) : "";
        for (String line : head.isEmpty() ? new String[0] : head.split("\n")) {
            if (!line.startsWith("hash ")) {
                throw new IllegalArgumentException("unknown line '" + Checkpoint.abbreviate(line) + "'");
            }
            hashes.add(InclusionProof.decode(line.substring(5)));
        }
        List<SignedCheckpoint.Item> notes = SignedCheckpoint.readAll(text.substring(blank + 2));
        if (notes.size() != 2) {
            throw new IllegalArgumentException("a consistency proof ends with two signed checkpoints, not " + notes.size());
        }
        for (SignedCheckpoint.Item it : notes) {
            if (it.error() != null) {
                throw new IllegalArgumentException(it.error());
            }
        }
        return new ConsistencyProof(hashes, notes.get(0).checkpoint(), notes.get(1).checkpoint());
    }
}
