package jp.mamori.preservation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A note in the WAL spool that a base backup is running and will copy segments out of the spool, so that the
 * {@link WalShipper} deletes nothing meanwhile. It names the process holding it; a note whose process is gone
 * (killed during a backup) no longer holds anything and is removed.
 */
final class SpoolHold implements AutoCloseable {
    private static final String PREFIX = ".hold-";
    private final Path file;

    private SpoolHold(Path file) {
        this.file = file;
    }

    static SpoolHold take(Path spool, String label) throws IOException {
        ProcessHandle me = ProcessHandle.current();
        Path f = spool.resolve(PREFIX + me.pid() + "-" + label);
        String start = me.info().startInstant().map(Instant::toString).orElse("-");
        // Written whole under another name first: a shipper never sees a note half-written.
        Path tmp = spool.resolve(".tmp" + f.getFileName());
        Files.writeString(tmp, me.pid() + " " + start + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return new SpoolHold(f);
    }

    /** Whether a live process holds the spool; removes the notes of processes that are gone. */
    static boolean held(Path spool) throws IOException {
        boolean held = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool, PREFIX + "*")) {
            for (Path f : ds) {
                if (live(f)) {
                    held = true;
                } else {
                    Files.deleteIfExists(f);
                }
            }
        }
        return held;
    }

    private static boolean live(Path f) {
        try {
            String[] w = new String(Files.readAllBytes(f), StandardCharsets.US_ASCII).trim().split(" ");
            if (w.length != 2) {
                return false;
            }
            Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(w[0])).filter(ProcessHandle::isAlive);
            if (p.isEmpty()) {
                return false;
            }
            // A pid can be reused by another process after a crash: compare when the process started.
            Optional<Instant> started = p.get().info().startInstant();
            return w[1].equals("-") || started.isEmpty() || started.get().toString().equals(w[1]);
        } catch (IOException | NumberFormatException e) {
            // Unreadable: keep the spool held rather than delete WAL a backup may need. A note just being
            // written is read again on the next run.
            return Files.exists(f);
        }
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a note whose process ends no longer holds anything
        }
    }
}
