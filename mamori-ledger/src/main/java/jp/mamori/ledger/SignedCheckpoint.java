package jp.mamori.ledger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A checkpoint as a C2SP signed note: the exact body text, a blank line, then one or more signature
 * lines. Verification always uses the body text as it was signed, so unknown extension lines survive.
 *
 * <p>A file of several checkpoints (the export's {@code checkpoints}) holds the notes one after the other,
 * each followed by one blank line; see {@link #readAll} and {@link #writeAll}.
 */
public record SignedCheckpoint(Checkpoint checkpoint, String body, List<NoteSignature> signatures) {
    /** The result of checking a signed checkpoint with one verifier key. */
    public enum Status {
        /** A signature by the key (same name and key id) verifies. */
        VERIFIED,
        /** A signature line names the key (same name and key id) but the signature does not verify. */
        BAD_SIGNATURE,
        /** No signature line names the key. */
        UNKNOWN_KEY
    }

    public SignedCheckpoint {
        if (signatures.isEmpty()) {
            throw new IllegalArgumentException("a signed note has at least one signature");
        }
        signatures = List.copyOf(signatures);
    }

    /** The note: body, blank line, signature lines, each line ending in a newline. */
    public String encode() {
        StringBuilder b = new StringBuilder(body).append('\n');
        for (NoteSignature s : signatures) {
            b.append(s.line()).append('\n');
        }
        return b.toString();
    }

    /** This note with one more signature (e.g. a witness) over the same body. */
    public SignedCheckpoint cosign(NoteSigner signer) {
        List<NoteSignature> all = new ArrayList<>(signatures);
        all.add(NoteSignature.of(signer.verifierKey(), signer.sign(body.getBytes(StandardCharsets.UTF_8))));
        return new SignedCheckpoint(checkpoint, body, all);
    }

    /**
     * Checks this note with {@code key}: the first signature line with the key's name and key id decides
     * (as C2SP signed-note verifiers do); lines from other keys are ignored.
     */
    public Status verify(VerifierKey key) {
        for (NoteSignature s : signatures) {
            if (s.keyName().equals(key.name()) && s.keyId() == key.keyId()) {
                return key.verify(body.getBytes(StandardCharsets.UTF_8), s.signature())
                        ? Status.VERIFIED : Status.BAD_SIGNATURE;
            }
        }
        return Status.UNKNOWN_KEY;
    }

    /**
     * Parses one signed note.
     *
     * @throws IllegalArgumentException when it is not a signed checkpoint
     */
    public static SignedCheckpoint parse(String note) {
        List<Item> items = readAll(note);
        if (items.size() != 1) {
            throw new IllegalArgumentException("expected one signed checkpoint, found " + items.size());
        }
        Item it = items.get(0);
        if (it.error() != null) {
            throw new IllegalArgumentException(it.error());
        }
        return it.checkpoint();
    }

    /** One note of a checkpoints file: the checkpoint, or why it could not be read, with its first line number. */
    public record Item(int line, SignedCheckpoint checkpoint, String error) {
    }

    /**
     * Reads every note of a checkpoints file (notes separated by blank lines). A note that cannot be read
     * becomes an item with an error; reading continues with the next one.
     */
    public static List<Item> readAll(String text) {
        String[] lines = text.split("\n", -1);
        List<Item> out = new ArrayList<>();
        int i = 0;
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) {
            n--;
        }
        while (i < n) {
            if (lines[i].isEmpty()) {
                i++;
                continue;
            }
            int start = i;
            StringBuilder body = new StringBuilder();
            while (i < n && !lines[i].isEmpty() && !lines[i].startsWith(NoteSignature.PREFIX)) {
                body.append(lines[i++]).append('\n');
            }
            boolean blank = i < n && lines[i].isEmpty();
            if (blank) {
                i++;
            }
            List<NoteSignature> sigs = new ArrayList<>();
            String error = blank || body.isEmpty() ? null : "no blank line between the checkpoint and its signatures";
            while (i < n && lines[i].startsWith(NoteSignature.PREFIX)) {
                try {
                    sigs.add(NoteSignature.parse(lines[i]));
                } catch (IllegalArgumentException e) {
                    if (error == null) {
                        error = "line " + (i + 1) + ": " + e.getMessage();
                    }
                }
                i++;
            }
            if (body.isEmpty()) {
                out.add(new Item(start + 1, null, error != null ? error : "signature lines without a checkpoint"));
                continue;
            }
            if (error == null && sigs.isEmpty()) {
                error = "the checkpoint has no signature";
            }
            if (error == null) {
                try {
                    String b = body.toString();
                    out.add(new Item(start + 1, new SignedCheckpoint(Checkpoint.parseBody(b), b, sigs), null));
                    continue;
                } catch (IllegalArgumentException e) {
                    error = e.getMessage();
                }
            }
            out.add(new Item(start + 1, null, error));
        }
        return out;
    }

    /** The text of a checkpoints file: each note followed by a blank line. */
    public static String writeAll(List<SignedCheckpoint> checkpoints) {
        StringBuilder b = new StringBuilder();
        for (SignedCheckpoint c : checkpoints) {
            b.append(c.encode()).append('\n');
        }
        return b.toString();
    }
}
