package jp.mamori.preservation;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    /** When reading against a signed manifest: its parts by name; null otherwise. */
    private final Map<String, Manifest.Part> expected;
    /** When reading against a manifest: the folder its parts are in ({@code base/ID/}); other names (shipped WAL) are
     *  read as before, each chunk's tag checked, since no manifest of a base backup lists them. */
    private final String expectedPrefix;

    /** For writing and reading (a backup, a verification, a drill): {@code envelope} may be null to read only. */
    SealedParts(FolderParts folder, Envelope envelope, Envelope.Opener opener) {
        this.folder = Objects.requireNonNull(folder);
        this.envelope = envelope;
        this.opener = Objects.requireNonNull(opener);
        this.expected = null;
        this.expectedPrefix = null;
    }

    /**
     * For reading only, each part checked against the signed manifest {@code m} as it is read: a part the manifest
     * does not list is refused when opened, and one read to its end is compared with the manifest (sealed size,
     * SHA-256 of the sealed bytes) before its end is reported. So a restore that reads every part to its end before
     * writing anything checks the manifest in the same pass (no separate verification pass).
     */
    SealedParts(FolderParts folder, Envelope.Opener opener, Manifest m) {
        this.folder = Objects.requireNonNull(folder);
        this.envelope = null;
        this.opener = Objects.requireNonNull(opener);
        Map<String, Manifest.Part> byName = new HashMap<>();
        String prefix = null;
        for (Manifest.Part p : m.parts()) {
            byName.put(p.name(), p);
            String folderOf = p.name().substring(0, p.name().lastIndexOf('/') + 1);
            if (prefix != null && !prefix.equals(folderOf)) {
                throw new BackupException("目録の部品が複数のフォルダにあります / the manifest lists parts in more than one"
                        + " folder: " + prefix + " and " + folderOf);
            }
            prefix = folderOf;
        }
        this.expected = Map.copyOf(byName);
        this.expectedPrefix = prefix == null ? "" : prefix;
    }

    /** Whether {@code got}, a part read to its end, is the one {@code want} describes; one clear line if not. */
    static void requireSame(Manifest.Part want, Manifest.Part got) {
        if (got.sealedSize() != want.sealedSize() || !got.sha256().equals(want.sha256())) {
            throw new BackupException("部品 " + want.name() + " が署名された目録と一致しません (改ざんまたは差し替え) / part "
                    + want.name() + " does not match the signed manifest (altered or replaced: " + got.sealedSize()
                    + " sealed bytes against " + want.sealedSize() + ")");
        }
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
        Manifest.Part want = null;
        if (expected != null) {
            want = expected.get(partName);
            if (want == null && partName.startsWith(expectedPrefix)) {
                throw new BackupException("部品 " + partName + " は署名された目録にありません / part " + partName
                        + " is not listed in the signed manifest");
            }
        }
        InputStream raw = folder.open(partName);
        Envelope.OpeningStream opened;
        try {
            opened = Envelope.open(raw, partName, opener);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
        return want == null ? opened : new Checked(opened, want);
    }

    /** A part's plaintext whose end is reported only after the sealed bytes matched the manifest. */
    private static final class Checked extends FilterInputStream {
        private final Envelope.OpeningStream opened;
        private final Manifest.Part want;
        private boolean checked;

        Checked(Envelope.OpeningStream opened, Manifest.Part want) {
            super(opened);
            this.opened = opened;
            this.want = want;
        }

        @Override
        public int read() throws IOException {
            int b = opened.read();
            if (b < 0) {
                atEnd();
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = opened.read(b, off, len);
            if (n < 0) {
                atEnd();
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(8192, Math.max(1, n))];
            long left = n;
            while (left > 0) { // through read, so that the end is still checked
                int r = read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    break;
                }
                left -= r;
            }
            return n - left;
        }

        private void atEnd() {
            if (!checked) {
                requireSame(want, opened.part());
                checked = true;
            }
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
