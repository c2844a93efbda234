package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Parts kept as plain files under one folder, without encryption (tests, and the layer an encrypting sink writes
 * through). A part is written to a hidden temporary name beside its final one, forced to disk, then renamed into
 * place and the folder forced too: after a crash a part is either whole under its name or absent.
 */
public final class FolderParts implements PartSink, PartSource {
    private static final String TEMP_PREFIX = ".partial-";
    private final Path root;

    public FolderParts(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** The file that holds committed part {@code partName}. */
    Path file(String partName) {
        Path p = root.resolve(PartSink.checkName(partName)).normalize();
        if (!p.startsWith(root)) {
            throw new BackupException("部品名が不正です / bad part name: " + Messages.quote(partName));
        }
        return p;
    }

    @Override
    public OutputStream create(String partName) throws IOException {
        Path target = file(partName);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        ownerOnly(root, true);
        Path tmp = dir.resolve(TEMP_PREFIX + target.getFileName() + "-" + UUID.randomUUID());
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        ownerOnly(tmp, false);
        return new PartStream(ch, tmp, target);
    }

    @Override
    public InputStream open(String partName) throws IOException {
        Path f = file(partName);
        try {
            return Files.newInputStream(f);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException("part " + partName + " is not in " + root);
        }
    }

    @Override
    public List<String> list(String prefix) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        try {
            // A writer (the server's own backup beside a `backup list`) renames its hidden temporary files while this
            // walks: an entry that is gone by the time it is visited was never a committed part, so it is skipped.
            Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes a) {
                    if (a.isRegularFile()) {
                        String name = root.relativize(p).toString().replace('\\', '/');
                        boolean hidden = false;
                        for (String seg : name.split("/")) {
                            hidden |= seg.startsWith(".");
                        }
                        if (!hidden && name.startsWith(prefix)) {
                            names.add(name);
                        }
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new BackupException("部品の一覧を読めません / cannot list the parts in " + root + ": "
                    + Messages.firstLine(e), e);
        }
        names.sort(null);
        return names;
    }

    /**
     * Deletes committed part {@code partName} and forces its folder; a part that is not there is not an error. Refuses
     * a bad name, a name that is a folder, and a part whose folder leads out of {@link #root} through a link.
     */
    public void delete(String partName) {
        Path f = file(partName);
        Path dir = f.getParent();
        try {
            if (!Files.exists(dir)) {
                return;
            }
            if (!dir.toRealPath().startsWith(root.toRealPath())) {
                throw new BackupException("部品 " + partName + " は保存先の外にあります / part " + partName
                        + " leads out of " + root);
            }
            if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new BackupException("部品 " + partName + " はフォルダです / part " + partName + " is a folder");
            }
            if (Files.deleteIfExists(f)) {
                forceDirectory(dir);
            }
        } catch (IOException e) {
            throw new BackupException("部品 " + partName + " を削除できません / cannot delete part " + partName + ": "
                    + Messages.firstLine(e), e);
        }
    }

    private static void ownerOnly(Path p, boolean dir) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(dir ? "rwx------" : "rw-------"));
        } catch (UnsupportedOperationException | IOException ignored) {
            // Not a POSIX file system, or not ours to change: rely on the folder's ACLs.
        }
    }

    static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Some platforms cannot open a directory; the rename is still atomic there.
        }
    }

    /** Buffers writes into the temporary file; close forces and renames it, abort deletes it. */
    private static final class PartStream extends OutputStream implements PartSink.Abortable {
        private final FileChannel ch;
        private final Path tmp;
        private final Path target;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        private long unsynced;
        private boolean done;

        PartStream(FileChannel ch, Path tmp, Path target) {
            this.ch = ch;
            this.tmp = tmp;
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            open();
            if (!buf.hasRemaining()) {
                drain();
            }
            buf.put((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            open();
            while (len > 0) {
                if (!buf.hasRemaining()) {
                    drain();
                }
                int n = Math.min(len, buf.remaining());
                buf.put(b, off, n);
                off += n;
                len -= n;
            }
        }

        private void open() throws IOException {
            if (done) {
                throw new IOException("part " + target.getFileName() + " is already closed");
            }
        }

        private void drain() throws IOException {
            buf.flip();
            unsynced += buf.remaining();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
            // While people are served, no large burst of dirty pages builds up to stall the database's own flushes
            // (every audited read waits for one): the part is flushed every few MiB on the way (BusyThrottle).
            if (unsynced >= BusyThrottle.FLUSH_EVERY && jp.mamori.kernel.Activity.busy(1_000_000_000L)) {
                ch.force(false);
                unsynced = 0;
            }
        }

        @Override
        public void close() throws IOException {
            if (done) {
                return;
            }
            done = true;
            try {
                drain();
                ch.force(true);
                ch.close();
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                forceDirectory(target.getParent());
            } finally {
                ch.close();
                Files.deleteIfExists(tmp);
            }
        }

        @Override
        public void abort() {
            if (done) {
                return;
            }
            done = true;
            try {
                ch.close();
            } catch (IOException ignored) {
                // deleting it is what matters
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a hidden temporary file is never taken for a part
            }
        }
    }
}
