package jp.mamori.ledger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Evidence that one entry is in the signed log: its index, the entry itself (or only its leaf hash),
 * the audit path, and the signed checkpoint the path leads to. Text form (UTF-8):
 * <pre>
 * mamori-ledger inclusion proof
 * index &lt;leaf index = seq&gt;
 * entry &lt;the entry line, exactly as hashed&gt;      (or: leaf &lt;base64 leaf hash&gt;)
 * hash &lt;base64&gt;                                 one per line, leaf level first
 *
 * &lt;the signed checkpoint note&gt;
 * </pre>
 *
 * @param entry the entry bytes, or null when only the leaf hash is disclosed
 */
public record InclusionProof(long index, byte[] entry, byte[] leafHash, List<byte[]> proof, SignedCheckpoint checkpoint) {
    static final String HEADER = "mamori-ledger inclusion proof";

    public InclusionProof {
        if (entry != null) {
            entry = entry.clone();
            byte[] computed = Merkle.leafHash(entry);
            if (leafHash != null && !Merkle.same(leafHash, computed)) {
                throw new IllegalArgumentException("the leaf hash is not the hash of the entry");
            }
            leafHash = computed;
        }
        leafHash = Merkle.copy(Merkle.checkHash(leafHash, "leaf hash"));
        proof = List.copyOf(proof);
    }

    /** Builds the proof of entry {@code index} against a signed checkpoint, from the log's subtree hashes. */
    public static InclusionProof of(long index, byte[] entry, SignedCheckpoint checkpoint, SubtreeHashes source) {
        long size = checkpoint.checkpoint().size();
        return new InclusionProof(index, entry, entry == null ? source.hash(0, index) : null,
                Proofs.inclusion(index, size, source), checkpoint);
    }

    /** The outcome of checking a proof: true when it holds, and one line saying why, Japanese first. */
    public record Check(boolean ok, String message) {
    }

    /** Checks the checkpoint's signature and origin, then the path from the leaf to its root. */
    public Check verify(VerifierKey key, String origin) {
        Check sig = checkNote(checkpoint, key, origin);
        if (sig != null) {
            return sig;
        }
        Checkpoint c = checkpoint.checkpoint();
        if (entry != null) {
            EntryScanner s = new EntryScanner();
            s.scan(entry, 0, entry.length);
            if (s.seq != index) {
                return new Check(false, "エントリの seq が index と異なります / the entry's seq (" + s.seq
                        + ") is not the proof's index " + index);
            }
        }
        if (Proofs.verifyInclusion(index, c.size(), leafHash, proof, c.root())) {
            return new Check(true, "包含証明は有効です / inclusion verified: entry " + index + " is in the signed log of size "
                    + c.size() + (c.time() == null ? "" : " (checkpoint " + c.time() + ")"));
        }
        return new Check(false, "包含証明が一致しません / inclusion proof FAILED: entry " + index
                + " with this content is not in the signed log of size " + c.size());
    }

    static Check checkNote(SignedCheckpoint note, VerifierKey key, String origin) {
        Checkpoint c = note.checkpoint();
        return switch (note.verify(key)) {
            case BAD_SIGNATURE -> new Check(false, "チェックポイントの署名が不正です / the checkpoint's signature (size "
                    + c.size() + ") does not verify with key " + key.name());
            case UNKNOWN_KEY -> new Check(false, "チェックポイントに検証鍵の署名がありません / the checkpoint (size "
                    + c.size() + ") is not signed by key " + key.name());
            case VERIFIED -> c.origin().equals(origin) ? null
                    : new Check(false, "別のログのチェックポイントです / the checkpoint is for log '" + c.origin() + "', not '" + origin + "'");
        };
    }

    public String format() {
        Base64.Encoder e = Base64.getEncoder();
        StringBuilder b = new StringBuilder(HEADER).append('\n').append("index ").append(index).append('\n');
        if (entry != null) {
            b.append("entry ").append(new String(entry, StandardCharsets.UTF_8)).append('\n');
        } else {
            b.append("leaf ").append(e.encodeToString(leafHash)).append('\n');
        }
        proof.forEach(h -> b.append("hash ").append(e.encodeToString(h)).append('\n'));
        return b.append('\n').append(checkpoint.encode()).toString();
    }

    /**
     * @throws IllegalArgumentException when the text is not an inclusion proof
     */
    public static InclusionProof parse(String text) {
        int blank = text.indexOf("\n\n");
        if (!text.startsWith(HEADER + "\n") || blank < 0) {
            throw new IllegalArgumentException("an inclusion proof begins with '" + HEADER + "' and ends with a signed checkpoint");
        }
        long index = -1;
        byte[] entry = null;
        byte[] leaf = null;
        List<byte[]> hashes = new ArrayList<>();
        String head = blank > HEADER.length() ? text.substring(HEADER.length() + 1, blank) : "";
        for (String line : head.isEmpty() ? new String[0] : head.split("\n")) {
            int sp = line.indexOf(' ');
            String k = sp < 0 ? line : line.substring(0, sp);
            String v = sp < 0 ? "" : line.substring(sp + 1);
            switch (k) {
                case "index" -> index = parseLong(v);
                case "entry" -> entry = v.getBytes(StandardCharsets.UTF_8);
                case "leaf" -> leaf = decode(v);
                case "hash" -> hashes.add(decode(v));
                default -> throw new IllegalArgumentException("unknown line '" + Checkpoint.abbreviate(line) + "'");
            }
        }
        if (index < 0 || (entry == null && leaf == null)) {
            throw new IllegalArgumentException("an inclusion proof names index and entry (or leaf)");
        }
        return new InclusionProof(index, entry, leaf, hashes, SignedCheckpoint.parse(text.substring(blank + 2)));
    }

    static long parseLong(String v) {
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: " + Checkpoint.abbreviate(v));
        }
    }

    static byte[] decode(String v) {
        try {
            return Base64.getDecoder().decode(v.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not base64: " + Checkpoint.abbreviate(v));
        }
    }
}
