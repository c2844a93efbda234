package jp.mamori.ledger;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A checkpoint (C2SP tlog-checkpoint): the log's origin, its tree size and root hash, and the time it
 * was made. Its note body is
 * <pre>
 * &lt;origin&gt;
 * &lt;tree size, decimal&gt;
 * &lt;base64 root hash&gt;
 * time &lt;ISO-8601 UTC instant&gt;     (extension line, optional)
 * </pre>
 * each line ending in a newline. {@link #sign} turns it into a {@link SignedCheckpoint}.
 *
 * @param time may be null (no time line)
 */
public record Checkpoint(String origin, long size, byte[] root, Instant time) {
    public Checkpoint {
        if (origin == null || origin.isEmpty() || origin.indexOf('\n') >= 0 || origin.startsWith(NoteSignature.PREFIX)) {
            throw new IllegalArgumentException("the origin must be one non-empty line");
        }
        if (size < 0) {
            throw new IllegalArgumentException("the tree size must not be negative");
        }
        root = Merkle.copy(Merkle.checkHash(root, "root hash"));
    }

    /** The note text that is signed: the lines above, the last one ending in a newline. */
    public String body() {
        StringBuilder b = new StringBuilder(origin.length() + 80);
        b.append(origin).append('\n').append(size).append('\n')
                .append(Base64.getEncoder().encodeToString(root)).append('\n');
        if (time != null) {
            b.append("time ").append(time).append('\n');
        }
        return b.toString();
    }

    /** Signs the body with {@code signer}; more signers (witnesses) may be added with {@link SignedCheckpoint#cosign}. */
    public SignedCheckpoint sign(NoteSigner signer) {
        String body = body();
        return new SignedCheckpoint(this, body, List.of(NoteSignature.of(signer.verifierKey(),
                signer.sign(body.getBytes(StandardCharsets.UTF_8)))));
    }

    /**
     * Parses a note body (ending in a newline, no blank line). Unknown extension lines are allowed and
     * stay part of the signed text.
     *
     * @throws IllegalArgumentException when the body is not a checkpoint
     */
    public static Checkpoint parseBody(String body) {
        if (!body.endsWith("\n")) {
            throw new IllegalArgumentException("a checkpoint body ends with a newline");
        }
        String[] lines = body.substring(0, body.length() - 1).split("\n", -1);
        if (lines.length < 3) {
            throw new IllegalArgumentException("a checkpoint has an origin, a tree size and a root hash line");
        }
        if (!lines[1].matches("0|[1-9][0-9]{0,18}")) {
            throw new IllegalArgumentException("the tree size is not a decimal number: " + abbreviate(lines[1]));
        }
        long size;
        try {
            size = Long.parseLong(lines[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the tree size is out of range");
        }
        byte[] root;
        try {
            root = Base64.getDecoder().decode(lines[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the root hash is not base64");
        }
        if (root.length != Merkle.HASH_SIZE || !Base64.getEncoder().encodeToString(root).equals(lines[2])) {
            throw new IllegalArgumentException("the root hash is not a canonical base64 SHA-256 hash");
        }
        Instant time = null;
        for (int i = 3; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                throw new IllegalArgumentException("a checkpoint body has no blank line");
            }
            if (lines[i].startsWith("time ")) {
                if (time != null) {
                    throw new IllegalArgumentException("two time lines");
                }
                try {
                    time = Instant.parse(lines[i].substring(5));
                } catch (DateTimeParseException e) {
                    throw new IllegalArgumentException("the time line is not an ISO-8601 UTC instant");
                }
            }
        }
        return new Checkpoint(lines[0], size, root, time);
    }

    static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    @Override
    public byte[] root() {
        return Merkle.copy(root);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checkpoint c && c.origin.equals(origin) && c.size == size && Arrays.equals(c.root, root)
                && java.util.Objects.equals(c.time, time);
    }

    @Override
    public int hashCode() {
        return origin.hashCode() * 31 + Long.hashCode(size) * 17 + Arrays.hashCode(root);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + origin + ", size " + size + ", root " + Base64.getEncoder().encodeToString(root)
                + (time == null ? "" : ", " + time) + "]";
    }
}
