package jp.mamori.audit;

import jp.mamori.ledger.JournalFile;
import jp.mamori.ledger.NoteSigner;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One local audit journal file being written (issue 18 §2, DEGRADED-1, AUDIT-1, ADR 0013 "Journal"): while the
 * database cannot be written, the trail's writer hands each group here instead. The group's canonical entries
 * (the same bytes {@link EntryCodec} makes for the trail), chained by their leaf hashes from the genesis, then a
 * group line signed with the checkpoint key, written and {@linkplain FileChannel#force forced} before
 * {@link #append} returns, so that no answer leaves before its entry is on disk. Format: {@link JournalFile}.
 *
 * <p>Writer thread only. A write that fails is cut back to the end of the last complete group; when even that
 * fails the journal is {@linkplain #broken() broken} and the writer starts another file (the same head).
 */
final class AuditJournal implements AutoCloseable {
    static final String SUFFIX = ".journal";
    static final String MERGED = ".merged";
    static final String REJECTED = ".rejected";
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path file;
    private final FileChannel ch;
    private final String id;
    private final byte[] genesisHash;
    private final NoteSigner signer;
    private long nextSeq;
    /** Written by the writer thread; read for the health report. */
    private volatile byte[] prev;
    private long groups;
    private volatile long entries;
    private long good;
    private boolean broken;

    private AuditJournal(Path file, FileChannel ch, String id, byte[] genesisHash, NoteSigner signer, long nextSeq,
                         byte[] prev, long good) {
        this.file = file;
        this.ch = ch;
        this.id = id;
        this.genesisHash = genesisHash;
        this.signer = signer;
        this.nextSeq = nextSeq;
        this.prev = prev;
        this.good = good;
    }

    /** The journal folder of a data folder. */
    static Path folder(Path dataDir) {
        return dataDir.resolve("audit-journal");
    }

    /**
     * Creates a new journal in {@code folder} (owner-only), continuing the main trail at {@code trailSize} with
     * {@code trailHead} (the leaf hash of entry trailSize-1; trailSize -1: the head is unknown, numbered from 0).
     */
    static AuditJournal create(Path folder, String host, long trailSize, byte[] trailHead, NoteSigner signer,
                               Instant now) throws IOException {
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        }
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
        String id = UUID.randomUUID().toString();
        Path file = folder.resolve(NAME.format(now) + "-" + id.substring(0, 8) + SUFFIX);
        FileChannel ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
        try {
            byte[] genesis = JournalFile.genesisLine(id, now.toString(), host, trailSize, trailHead)
                    .getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(genesis.length + 1).put(genesis).put((byte) '\n').flip();
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
            forceFolder(folder);
            return new AuditJournal(file, ch, id, sha256(genesis), signer, trailSize < 0 ? 0 : trailSize,
                    trailSize > 0 ? trailHead : null, genesis.length + 1L);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * Writes one group and forces it to disk; returns the entries as numbered in the journal.
     *
     * @throws IOException when the group is not durable (a full disk, an unwritable file): the caller refuses
     */
    List<AuditTrail.Appended> append(List<AuditRecord> records) throws IOException {
        if (broken) {
            throw new IOException("the audit journal " + file.getFileName() + " could not be repaired after a failed write");
        }
        List<AuditTrail.Appended> out = new ArrayList<>(records.size());
        ByteArrayOutputStream lines = new ByteArrayOutputStream(records.size() * 640 + 200);
        long seq = nextSeq;
        byte[] p = prev;
        for (AuditRecord r : records) {
            byte[] entry = EntryCodec.encode(seq, p, r);
            byte[] leaf = EntryCodec.leafHash(entry);
            lines.writeBytes(entry);
            lines.write('\n');
            out.add(new AuditTrail.Appended(seq, entry, leaf, r));
            seq++;
            p = leaf;
        }
        byte[] sig = signer.sign(JournalFile.groupMessage(id, genesisHash, groups, nextSeq, records.size(), p));
        lines.writeBytes(JournalFile.groupLine(groups, nextSeq, records.size(), p, sig)
                .getBytes(StandardCharsets.UTF_8));
        lines.write('\n');
        ByteBuffer b = ByteBuffer.wrap(lines.toByteArray());
        try {
            while (b.hasRemaining()) {
                ch.write(b, good + b.position());
            }
            ch.force(false);
        } catch (IOException | RuntimeException e) {
            try {
                ch.truncate(good);
                ch.force(false);
            } catch (IOException | RuntimeException again) {
                broken = true;
            }
            throw e;
        }
        good += b.limit();
        nextSeq = seq;
        prev = p;
        groups++;
        entries += records.size();
        return out;
    }

    boolean broken() {
        return broken;
    }

    Path file() {
        return file;
    }

    String id() {
        return id;
    }

    /** Entries written to this journal. */
    long entries() {
        return entries;
    }

    /** The next entry's seq and the last leaf hash: where a journal that replaces this one continues. */
    long nextSeq() {
        return nextSeq;
    }

    byte[] head() {
        return prev;
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to keep: every group was forced before it was acknowledged
        }
    }

    static void forceFolder(Path folder) {
        try (FileChannel d = FileChannel.open(folder, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some file systems cannot force a folder; the file itself was forced
        }
    }

    static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
