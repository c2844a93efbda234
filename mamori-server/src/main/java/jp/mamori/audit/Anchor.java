package jp.mamori.audit;

import jp.mamori.ledger.SignedCheckpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

/**
 * The anchor folder: a copy of every signed checkpoint outside the database, meant for WORM media (AUDIT-3).
 * One file per UTC day, {@code checkpoints-YYYY-MM-DD}, in the export format's checkpoints layout (each note
 * followed by a blank line), so a day's file can be handed to the verifier as it is
 * ({@code verify EXPORT --checkpoints FILE}). RFC 3161 tokens go to {@code timestamps-YYYY-MM-DD}, one line
 * {@code <size> <base64 DER token>} per checkpoint. Files are only ever appended to (opened with APPEND, never
 * truncated or rewritten) and forced to disk before a checkpoint counts as anchored; a new file's folder entry is
 * forced too. Thread-safe.
 */
public final class Anchor {
    static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withZone(ZoneOffset.UTC);
    private final Path dir;

    public Anchor(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    public Path dir() {
        return dir;
    }

    /** Appends a signed checkpoint to the day's file and forces it to disk. */
    public synchronized void write(SignedCheckpoint cp) throws IOException {
        append("checkpoints-" + DAY.format(cp.checkpoint().time()), cp.encode() + "\n");
    }

    /** Appends the time-stamp token of the checkpoint of {@code size} and forces it to disk. */
    public synchronized void writeTimestamp(long size, Instant time, byte[] token) throws IOException {
        append("timestamps-" + DAY.format(time), size + " " + Base64.getEncoder().encodeToString(token) + "\n");
    }

    private void append(String name, String text) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve(name);
        boolean created = !Files.exists(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        if (created) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException | UnsupportedOperationException ignored) {
                // Some file systems cannot force a folder; the file itself is on disk.
            }
        }
    }

    /** Every checkpoint file's text, oldest day first (the files' own order within a day). */
    public List<Path> checkpointFiles() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("checkpoints-")).sorted().toList();
        }
    }

    /** Every readable checkpoint in the folder, oldest day first; unreadable notes are skipped (the verifier reports them). */
    public List<SignedCheckpoint> readAll() throws IOException {
        List<SignedCheckpoint> out = new ArrayList<>();
        for (Path f : checkpointFiles()) {
            for (SignedCheckpoint.Item i : SignedCheckpoint.readAll(Files.readString(f, StandardCharsets.UTF_8))) {
                if (i.checkpoint() != null) {
                    out.add(i.checkpoint());
                }
            }
        }
        return out;
    }

    /** The largest checkpoint in the newest day's file, or null. */
    public SignedCheckpoint latest() throws IOException {
        List<Path> files = checkpointFiles();
        SignedCheckpoint best = null;
        if (!files.isEmpty()) {
            for (SignedCheckpoint.Item i : SignedCheckpoint.readAll(Files.readString(files.get(files.size() - 1),
                    StandardCharsets.UTF_8))) {
                if (i.checkpoint() != null && (best == null || i.checkpoint().checkpoint().size() > best.checkpoint().size())) {
                    best = i.checkpoint();
                }
            }
        }
        return best;
    }
}
