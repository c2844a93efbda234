package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A destination seen through the envelope: parts written here leave sealed (encrypted and authenticated for this
 * installation and its recovery key), parts read here come back opened, each chunk only after its tag is checked.
 * Names are the same on both sides. What was sealed through one instance is listed by {@link #sealed} (name, sizes,
 * SHA-256 of the sealed bytes) for the manifest.
 */
final class SealedParts implements PartSink, PartSource {
    private final FolderParts folder;
    private final Envelope envelope;
    private final Envelope.Opener opener;
    private final List<Manifest.Part> sealed = new ArrayList<>();

    /** For writing and reading (a backup, a verification, a drill): {@code envelope} may be null to read only. */
    SealedParts(FolderParts folder, Envelope envelope, Envelope.Opener opener) {
        this.folder = Objects.requireNonNull(folder);
        this.envelope = envelope;
        this.opener = Objects.requireNonNull(opener);
    }

    FolderParts folder() {
        return folder;
    }

    /** The parts sealed and committed through this instance, in the order they were committed. */
    synchronized List<Manifest.Part> sealed() {
        return List.copyOf(sealed);
    }

    @Override
    public OutputStream create(String partName) throws IOException {
        if (envelope == null) {
            throw new IllegalStateException("opened for reading only");
        }
        OutputStream raw = folder.create(PartSink.checkName(partName));
        Envelope.SealingStream seal;
        try {
            seal = envelope.seal(raw, partName);
        } catch (IOException | RuntimeException e) {
            PartSink.abort(raw);
            throw e;
        }
        return new Sealing(partName, raw, seal);
    }

    @Override
    public InputStream open(String partName) throws IOException {
        InputStream raw = folder.open(partName);
        try {
            return Envelope.open(raw, partName, opener);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    @Override
    public List<String> list(String prefix) {
        return folder.list(prefix);
    }

    /** A part being sealed: committed on close (the last chunk first), thrown away on abort. */
    private final class Sealing extends OutputStream implements PartSink.Abortable {
        private final String name;
        private final OutputStream raw;
        private final Envelope.SealingStream seal;
        private boolean done;

        Sealing(String name, OutputStream raw, Envelope.SealingStream seal) {
            this.name = name;
            this.raw = raw;
            this.seal = seal;
        }

        @Override
        public void write(int b) throws IOException {
            seal.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            seal.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            seal.flush();
        }

        @Override
        public void close() throws IOException {
            if (done) {
                return;
            }
            done = true;
            Manifest.Part part;
            try {
                part = seal.finish();
            } catch (IOException | RuntimeException e) {
                PartSink.abort(raw);
                throw e;
            }
            seal.close(); // closes the folder's part: commits
            synchronized (SealedParts.this) {
                sealed.add(part);
            }
        }

        @Override
        public void abort() {
            if (!done) {
                done = true;
                PartSink.abort(raw);
            }
        }

        @Override
        public String toString() {
            return "sealing " + name;
        }
    }
}
