package jp.mamori.preservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Ships the WAL that PostgreSQL's archiver left in the spool to each destination, as parts named
 * {@code wal/<file name>}, and deletes from the spool what every destination has. What a destination has is
 * remembered in a small state file per destination, written (forced, renamed) after each part is committed: a
 * crash between the commit and the state write ships that file again, which is harmless (same name, same
 * content). A running base backup holds the spool ({@link SpoolHold}): nothing is deleted meanwhile. One
 * shipper runs at a time per state folder (a file lock); running it again is always safe.
 */
public final class WalShipper {
    private static final Logger log = LoggerFactory.getLogger(WalShipper.class);
    private static final Pattern DESTINATION = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    static final String PREFIX = "wal/";

    private final Path spool;
    private final Path stateDir;
    private final Map<String, PartSink> destinations;

    /** What one run did: the files committed to each destination, and the files deleted from the spool. */
    public record Result(Map<String, List<String>> shipped, List<String> deleted, boolean held) {
    }

    /** A shipper to one destination, named {@code default}. */
    public WalShipper(Path walSpool, Path stateDir, PartSink sink) {
        this(walSpool, stateDir, Map.of("default", sink));
    }

    /** A shipper to each named destination ({@code [a-z0-9-]}, e.g. {@code offline}, {@code s3}). */
    public WalShipper(Path walSpool, Path stateDir, Map<String, PartSink> destinations) {
        if (destinations.isEmpty()) {
            throw new IllegalArgumentException("no destination");
        }
        destinations.keySet().forEach(n -> {
            if (!DESTINATION.matcher(n).matches()) {
                throw new IllegalArgumentException("bad destination name: " + n);
            }
        });
        this.spool = walSpool;
        this.stateDir = stateDir;
        this.destinations = new LinkedHashMap<>(destinations);
    }

    /** Ships what is new in the spool, then deletes what every destination has; throws one line on failure. */
    public Result shipOnce() {
        try {
            Files.createDirectories(stateDir);
            try (FileChannel lockFile = FileChannel.open(stateDir.resolve("shipper.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock lock = lockFile.tryLock()) {
                if (lock == null) {
                    return new Result(Map.of(), List.of(), false); // another shipper is at work
                }
                return ship();
            }
        } catch (BackupException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new BackupException("WAL を送れません / WAL shipping failed: " + Messages.firstLine(e), e);
        }
    }

    private Result ship() throws IOException {
        TreeSet<String> inSpool = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (WalNames.isArchived(n) && Files.isRegularFile(p)) {
                    inSpool.add(n);
                }
            }
        }
        Map<String, List<String>> shipped = new LinkedHashMap<>();
        Map<String, Set<String>> states = new LinkedHashMap<>();
        for (Map.Entry<String, PartSink> d : destinations.entrySet()) {
            Set<String> state = readState(d.getKey());
            List<String> sent = new ArrayList<>();
            for (String name : inSpool) {
                if (state.contains(name)) {
                    continue;
                }
                if (!copy(spool.resolve(name), d.getValue(), PREFIX + name)) {
                    continue; // gone from the spool meanwhile
                }
                state.add(name);
                writeState(d.getKey(), state);
                sent.add(name);
            }
            shipped.put(d.getKey(), sent);
            states.put(d.getKey(), state);
        }
        boolean held = SpoolHold.held(spool);
        List<String> deleted = new ArrayList<>();
        if (!held) {
            for (String name : inSpool) {
                if (states.values().stream().allMatch(s -> s.contains(name))) {
                    Files.deleteIfExists(spool.resolve(name));
                    deleted.add(name);
                }
            }
        }
        // Forget what is no longer in the spool (deleted now or before): the state stays small.
        for (Map.Entry<String, Set<String>> s : states.entrySet()) {
            if (s.getValue().retainAll(present(s.getValue()))) {
                writeState(s.getKey(), s.getValue());
            }
        }
        if (shipped.values().stream().anyMatch(l -> !l.isEmpty()) || !deleted.isEmpty()) {
            log.info("WAL shipped {}, deleted from the spool {}{}", shipped, deleted.size(),
                    held ? " (spool held by a running base backup)" : "");
        }
        return new Result(shipped, deleted, held);
    }

    private Set<String> present(Set<String> names) {
        Set<String> p = new TreeSet<>();
        for (String n : names) {
            if (Files.exists(spool.resolve(n))) {
                p.add(n);
            }
        }
        return p;
    }

    private static boolean copy(Path file, PartSink sink, String part) throws IOException {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            return false;
        }
        try (in) {
            OutputStream out = sink.create(part);
            try {
                in.transferTo(out);
            } catch (IOException | RuntimeException e) {
                PartSink.abort(out);
                throw e;
            }
            out.close();
            return true;
        }
    }

    private Path stateFile(String destination) {
        return stateDir.resolve(destination + ".shipped");
    }

    private Set<String> readState(String destination) throws IOException {
        Path f = stateFile(destination);
        Set<String> s = new TreeSet<>();
        if (!Files.exists(f)) {
            return s;
        }
        if (Files.size(f) > 16 * 1024 * 1024) {
            throw new BackupException("WAL 送信の記録が大きすぎます / the WAL shipping state " + f + " is too large");
        }
        for (String line : Files.readAllLines(f, StandardCharsets.US_ASCII)) {
            // An unknown line is ignored: at worst that file is shipped again.
            if (WalNames.isArchived(line)) {
                s.add(line);
            }
        }
        return s;
    }

    private void writeState(String destination, Set<String> state) throws IOException {
        Path f = stateFile(destination);
        Path tmp = stateDir.resolve("." + destination + ".shipped.tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap((String.join("\n", state) + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        FolderParts.forceDirectory(stateDir);
    }
}
