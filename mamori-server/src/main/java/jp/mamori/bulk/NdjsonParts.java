package jp.mamori.bulk;

import jp.mamori.audit.FhirReferences;
import jp.mamori.audit.ResourceRef;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * NDJSON files of one resource type at a time, each closed before it would pass {@code maxBytes} (a file holds at least
 * one resource, so a single resource larger than the bound still has a file of its own): one stored body a line, as
 * stored (canonical JSON, which has no line breaks). Each file's SHA-256 is computed as it is written, and, when asked,
 * the patients its resources are about, written beside it when it closes (one id a line). Memory: the current file's
 * buffer and its patients only.
 */
final class NdjsonParts implements AutoCloseable {
    /** A closed file. */
    record Closed(int n, String type, Path path, long count, long bytes, String sha256, Path patients) {
    }

    private final Path dir;
    private final long maxBytes;
    private final boolean trackPatients;
    private final java.util.function.BiFunction<String, Integer, String> naming;
    private final Consumer<Closed> closed;
    private int next = 1;

    private String type;
    private Path path;
    private OutputStream out;
    private MessageDigest digest;
    private long count;
    private long bytes;
    private Set<String> patients;
    private final Set<ResourceRef> scratch = new HashSet<>();

    /**
     * @param naming the file name of the n-th file, of a type
     * @param closed told of every file once it is closed and complete
     */
    NdjsonParts(Path dir, long maxBytes, boolean trackPatients, java.util.function.BiFunction<String, Integer, String> naming,
                Consumer<Closed> closed) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.trackPatients = trackPatients;
        this.naming = naming;
        this.closed = closed;
    }

    /** Appends one resource of {@code type} (its stored JSON) as a line, starting a new file when the bound says so. */
    void write(String type, String id, byte[] json) throws IOException {
        long line = json.length + 1L;
        if (out != null && (!type.equals(this.type) || (count > 0 && bytes + line > maxBytes))) {
            finish();
        }
        if (out == null) {
            start(type);
        }
        out.write(json);
        out.write('\n');
        count++;
        bytes += line;
        if (trackPatients) {
            if (type.equals("Patient")) {
                patients.add(id);
            } else {
                scratch.clear();
                FhirReferences.scan(json, scratch, patients);
            }
        }
    }

    /** Ends the current file (of whatever type): the next write starts a new one. */
    void finish() throws IOException {
        if (out == null) {
            return;
        }
        out.close();
        out = null;
        Path patientFile = null;
        if (trackPatients) {
            patientFile = dir.resolve(path.getFileName().toString() + ".patients");
            StringBuilder sb = new StringBuilder();
            for (String p : patients) {
                sb.append(p).append('\n');
            }
            Files.writeString(patientFile, sb.toString(), StandardCharsets.UTF_8);
        }
        closed.accept(new Closed(next - 1, type, path, count, bytes, HexFormat.of().formatHex(digest.digest()),
                patientFile));
    }

    private void start(String type) throws IOException {
        this.type = type;
        this.path = dir.resolve(naming.apply(type, next++));
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        OutputStream raw = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        ownerOnly(path);
        out = new BufferedOutputStream(new DigestOutputStream(raw, digest), 1 << 16);
        count = 0;
        bytes = 0;
        patients = trackPatients ? new LinkedHashSet<>() : null;
    }

    static void ownerOnly(Path p) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------"
                    : "rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: the data folder's own permissions protect it
        }
    }

    @Override
    public void close() throws IOException {
        finish();
    }
}
