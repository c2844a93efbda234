package jp.mamori.ledger;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Writes an export directory: entry lines as given, checkpoints signed along the way, the verifier key
 * and, for an export that continues an archive, the start file. Entries MUST already carry their
 * {@code seq} and {@code prev} ({@link #entryPrefix} builds the canonical start of a line). Not thread-safe.
 */
public final class ExportWriter implements Closeable {
    private final Path dir;
    private final NoteSigner signer;
    private final String origin;
    private final OutputStream entries;
    private final OutputStream checkpoints;
    private final CompactRange tree;
    private final Merkle.Hasher hasher = new Merkle.Hasher();
    private final List<SignedCheckpoint> written = new ArrayList<>();
    private byte[] lastLeaf;

    /**
     * Creates (or empties) the export files in {@code dir}; the log's origin is the signer's key name.
     *
     * @param start where the export begins when earlier entries were archived, else null
     */
    public ExportWriter(Path dir, NoteSigner signer, ArchiveStart start) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.signer = signer;
        this.origin = signer.verifierKey().name();
        this.entries = new BufferedOutputStream(Files.newOutputStream(dir.resolve(Export.ENTRIES)), 1 << 20);
        this.checkpoints = new BufferedOutputStream(Files.newOutputStream(dir.resolve(Export.CHECKPOINTS)));
        Files.writeString(dir.resolve(Export.KEY), signer.verifierKey().format() + "\n");
        if (start != null) {
            Files.writeString(dir.resolve(Export.START), start.format());
            tree = CompactRange.of(start.size(), start.frontier());
            lastLeaf = start.lastLeafHash();
        } else {
            Files.deleteIfExists(dir.resolve(Export.START));
            tree = new CompactRange();
        }
    }

    /**
     * The canonical beginning of entry {@code seq}: {@code {"seq":N,"prev":"<base64>",} (no prev for 0).
     * The caller appends the remaining members and the closing brace.
     */
    public static String entryPrefix(long seq, byte[] prevLeafHash) {
        if (seq == 0) {
            return "{\"seq\":0,";
        }
        return "{\"seq\":" + seq + ",\"prev\":\"" + Base64.getEncoder().encodeToString(prevLeafHash) + "\",";
    }

    /** The next entry's seq (the tree size). */
    public long nextSeq() {
        return tree.size();
    }

    /** The leaf hash of the last entry written (the next entry's prev), or null before the first. */
    public byte[] lastLeafHash() {
        return lastLeaf == null ? null : lastLeaf.clone();
    }

    /** Writes one entry line (its exact bytes, without newline) and returns its leaf hash. */
    public byte[] append(byte[] entry) throws IOException {
        for (byte b : entry) {
            if (b == '\n') {
                throw new IllegalArgumentException("an entry is one line");
            }
        }
        byte[] leaf = hasher.leaf(entry, 0, entry.length);
        entries.write(entry);
        entries.write('\n');
        tree.appendOwned(leaf);
        lastLeaf = leaf;
        return leaf.clone();
    }

    /** Writes an entry built from the canonical prefix and {@code rest} (members after prev, then '}'). */
    public byte[] append(String rest) throws IOException {
        return append((entryPrefix(tree.size(), lastLeaf) + rest).getBytes(StandardCharsets.UTF_8));
    }

    /** Signs and writes a checkpoint at the current size. */
    public SignedCheckpoint checkpoint(Instant time) throws IOException {
        SignedCheckpoint cp = new Checkpoint(origin, tree.size(), tree.root(), time).sign(signer);
        writeCheckpoint(cp);
        return cp;
    }

    /** Writes an already signed checkpoint (e.g. one kept by the server) as it is. */
    public void writeCheckpoint(SignedCheckpoint cp) throws IOException {
        checkpoints.write((cp.encode() + "\n").getBytes(StandardCharsets.UTF_8));
        written.add(cp);
    }

    /** The checkpoints written so far. */
    public List<SignedCheckpoint> checkpoints() {
        return List.copyOf(written);
    }

    /** A copy of the tree over everything written (archive included). */
    public CompactRange tree() {
        return tree.copy();
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        try (entries; checkpoints) {
            entries.flush();
            checkpoints.flush();
        }
    }
}
