package jp.mamori.preservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The offline copy (BACKUP-1, BACKUP-3): the backups and shipped WAL of one installation copied to a removable medium
 * (or a folder mounted only while copying), which ransomware on the server cannot reach while it is unplugged. The
 * medium mirrors the main destination's layout:
 * <pre>
 *   OFFLINE/MAMORI-OFFLINE                              the marker an operator creates once on the medium
 *   OFFLINE/INSTALLATION/base/ID/...                    parts, then manifest.sig, then manifest.json (last)
 *   OFFLINE/INSTALLATION/wal/NAME                       shipped WAL (unique, immutable names)
 *   OFFLINE/INSTALLATION/last-refresh                   when it was last refreshed, the newest backup on it
 * </pre>
 * Without the marker the folder is never written (an empty mount point on the server's own disk is not the medium).
 * Every part copied is checked against the backup's signed manifest (size and SHA-256) as it is copied and read back
 * once written; a backup's manifest is copied last, so a backup on the medium without one is unfinished. Nothing on
 * the medium is ever deleted. The time of the last refresh is also kept in a local state folder
 * ({@code offline-last-refresh}), from which {@link #status} reports while the medium is unplugged.
 */
public final class OfflineCopy {
    private static final Logger log = LoggerFactory.getLogger(OfflineCopy.class);
    /** The file that marks a folder as the offline medium; an operator creates it once. */
    public static final String MARKER = "MAMORI-OFFLINE";
    /** The state file on the medium, under {@code OFFLINE/INSTALLATION}. */
    static final String MEDIUM_STATE = "last-refresh";
    /** The state file in the local state folder. */
    public static final String LOCAL_STATE = "offline-last-refresh";
    private static final String STATE_HEADER = "mamori-offline-refresh 1";
    private static final int MAX_STATE_BYTES = 4096;
    private static final long MAX_WAL_BYTES = 1L << 30;
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern BACKUP_ID = CopyManifests.BACKUP_ID;

    private final FolderParts main;
    private final Path offlineRoot;
    private final String installationId;
    private final PublicKey signer;
    private final Path localStateDir;
    private final Function<FolderParts, PartSink> writerOf;

    /**
     * The offline copy of {@code main} ({@code DIR/INSTALLATION}) on {@code offlineRoot}, manifests checked with
     * {@code signer} (the installation's manifest key); the local state is kept in {@code main}'s hidden folder
     * {@code .offline-state} (see {@link #localStateDir()}).
     */
    public OfflineCopy(FolderParts main, Path offlineRoot, String installationId, PublicKey signer) {
        this(main, offlineRoot, installationId, signer, main.root().resolve(".offline-state"));
    }

    /** The same, the local state kept in {@code localStateDir} (e.g. the data folder's {@code backup/state}). */
    public OfflineCopy(FolderParts main, Path offlineRoot, String installationId, PublicKey signer,
                       Path localStateDir) {
        this(main, offlineRoot, installationId, signer, localStateDir, f -> f);
    }

    /** For tests: {@code writerOf} gives what the medium is written through (e.g. one that fails when "full"). */
    OfflineCopy(FolderParts main, Path offlineRoot, String installationId, PublicKey signer, Path localStateDir,
                Function<FolderParts, PartSink> writerOf) {
        if (installationId == null || !INSTALLATION.matcher(installationId).matches()) {
            throw new IllegalArgumentException("installation id is not 16 hex characters");
        }
        this.main = Objects.requireNonNull(main);
        this.offlineRoot = offlineRoot.toAbsolutePath().normalize();
        this.installationId = installationId;
        this.signer = Objects.requireNonNull(signer);
        this.localStateDir = localStateDir.toAbsolutePath().normalize();
        this.writerOf = Objects.requireNonNull(writerOf);
        Path medium = this.offlineRoot.resolve(installationId);
        if (medium.startsWith(main.root()) || main.root().startsWith(medium)) {
            throw new BackupException("オフライン複製の場所 " + this.offlineRoot + " がバックアップ先と重なっています / the"
                    + " offline folder " + this.offlineRoot + " overlaps the backup folder " + main.root());
        }
    }

    /** Where the state {@link #status} reads is written. */
    public Path localStateDir() {
        return localStateDir;
    }

    /** Where this installation's copies are on the medium: {@code OFFLINE/INSTALLATION}. */
    public Path mediumDir() {
        return offlineRoot.resolve(installationId);
    }

    // ------------------------------------------------------------------ refreshing

    /**
     * What one refresh did.
     *
     * @param present      whether the medium was there (with its marker); when not, nothing was written
     * @param notPresent   why not ("日本語 / English"), or null
     * @param backups      the backups that became complete on the medium in this refresh
     * @param walFiles     the WAL files copied
     * @param repaired     parts (and WAL files) that were on the medium but did not match, and were copied again
     * @param bytes        bytes written to the medium
     * @param took         how long the refresh took
     * @param newestBackup the newest backup complete on the medium afterwards
     * @param sameDisk     whether the medium is the backup folder's disk (then it is no separate copy)
     * @param problems     backups or WAL files in the backup folder that could not be copied, one line each
     */
    public record Refresh(boolean present, String notPresent, List<String> backups, List<String> walFiles,
                          List<String> repaired, long bytes, Duration took, Optional<String> newestBackup,
                          boolean sameDisk, List<String> problems) {
        public Refresh {
            backups = List.copyOf(backups);
            walFiles = List.copyOf(walFiles);
            repaired = List.copyOf(repaired);
            problems = List.copyOf(problems);
        }

        static Refresh notPresent(String why) {
            return new Refresh(false, why, List.of(), List.of(), List.of(), 0, Duration.ZERO, Optional.empty(),
                    false, List.of());
        }

        /** One line for the log. */
        public String summary() {
            if (!present) {
                return notPresent;
            }
            return "offline copy refreshed: " + backups.size() + " backup(s), " + walFiles.size() + " WAL file(s), "
                    + repaired.size() + " repaired, " + bytes + " bytes in " + took.toMillis() + " ms; newest "
                    + newestBackup.orElse("(none)") + (problems.isEmpty() ? "" : "; " + problems.size() + " problem(s)");
        }
    }

    /** {@link #refresh(Instant, boolean)} checking the backups already complete on the medium by size only. */
    public Refresh refresh(Instant now) {
        return refresh(now, false);
    }

    /**
     * Copies to the medium, when it is present, every finished backup and shipped WAL file of the backup folder that
     * it does not have whole, then records the refresh on the medium and in the local state folder. A backup already
     * complete on the medium (the same signed manifest) is checked by its parts' sizes, or with {@code full} by their
     * SHA-256 too; a part that does not match is copied again. A backup in the backup folder whose manifest does not
     * verify, or whose part does not match it, is not copied and is named in {@link Refresh#problems}.
     *
     * @throws BackupException when the medium cannot be written (full, removed, read-only): what was being copied is
     *                         left unfinished (no manifest), and no refresh is recorded
     */
    public synchronized Refresh refresh(Instant now, boolean full) {
        long t0 = System.nanoTime();
        String absent = absence();
        if (absent != null) {
            log.info("offline copy: {}", absent);
            return Refresh.notPresent(absent);
        }
        FolderParts medium = new FolderParts(mediumDir());
        PartSink sink = writerOf.apply(medium);
        try {
            Files.createDirectories(localStateDir);
        } catch (IOException e) {
            throw new BackupException("オフライン複製の記録フォルダーを作れません / cannot create the offline copy's state"
                    + " folder " + localStateDir + ": " + Messages.firstLine(e), e);
        }
        try (FileChannel lockFile = FileChannel.open(localStateDir.resolve("offline.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = tryLock(lockFile)) {
            if (lock == null) {
                throw new BackupException("オフライン複製は別の処理が更新中です / another refresh of the offline copy is"
                        + " running");
            }
            Copying c = new Copying(medium, sink, full);
            c.backups();
            c.wal();
            Optional<String> newest = newestOnMedium(medium);
            byte[] state = state(now, newest, c.complete());
            writeMediumPart(sink, MEDIUM_STATE, state);
            writeLocalState(state);
            Refresh r = new Refresh(true, null, c.backups, c.walFiles, c.repaired, c.bytes,
                    Duration.ofNanos(System.nanoTime() - t0), newest, sameDisk(), c.problems);
            log.info("{}", r.summary());
            for (String p : r.problems()) {
                log.warn("offline copy: {}", p);
            }
            return r;
        } catch (IOException e) {
            throw new BackupException("オフライン複製を更新できません / cannot refresh the offline copy: "
                    + Messages.firstLine(e), e);
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return null; // held by another instance in this process
        }
    }

    /** Why the medium is not to be written now, or null when it is. */
    private String absence() {
        if (!Files.isDirectory(offlineRoot)) {
            return "オフライン媒体がありません (" + offlineRoot + " が見つかりません) / the offline medium is not present ("
                    + offlineRoot + " is not there or not a folder)";
        }
        if (!Files.isRegularFile(offlineRoot.resolve(MARKER))) {
            return "オフライン媒体がありません (" + offlineRoot + " に " + MARKER + " がありません) / the offline medium is"
                    + " not present: " + offlineRoot + " has no " + MARKER + " file (create it once on the medium)";
        }
        return null;
    }

    private boolean sameDisk() {
        try {
            return Files.getFileStore(offlineRoot).equals(Files.getFileStore(main.root()));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** A failed copy of a backup folder's part: reported, and the backup skipped, but the refresh goes on. */
    private static final class SourceProblem extends Exception {
        SourceProblem(String message) {
            super(message, null, false, false);
        }
    }

    /** One refresh's work. */
    private final class Copying {
        private final FolderParts medium;
        private final PartSink sink;
        private final boolean full;
        private final byte[] buffer = new byte[1 << 20];
        final List<String> backups = new ArrayList<>();
        final List<String> walFiles = new ArrayList<>();
        final List<String> repaired = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        private int complete;
        long bytes;

        Copying(FolderParts medium, PartSink sink, boolean full) {
            this.medium = medium;
            this.sink = sink;
            this.full = full;
        }

        int complete() {
            return complete;
        }

        void backups() throws IOException {
            for (String id : finishedIds(main)) {
                Manifest.Signed signed;
                Manifest m;
                try {
                    signed = readSigned(main, id);
                    m = checked(signed, id);
                } catch (BackupException e) {
                    problems.add("バックアップ " + id + " は複製できません / backup " + id + " is not copied: "
                            + e.getMessage());
                    continue;
                }
                try {
                    backup(id, signed, m);
                } catch (SourceProblem e) {
                    problems.add(e.getMessage());
                }
            }
        }

        private void backup(String id, Manifest.Signed signed, Manifest m) throws IOException, SourceProblem {
            String prefix = BackupInfo.prefix(id);
            requireNoLink(medium.root(), "base", id);
            boolean sameManifest = sameManifest(id, signed);
            for (Manifest.Part p : m.parts()) {
                Path f = medium.file(p.name());
                Match now = match(f, p.sealedSize(), sameManifest && !full ? null : p.sha256());
                if (now == Match.OK) {
                    continue;
                }
                copy(p.name(), p.sealedSize(), p.sha256());
                if (now != Match.MISSING) {
                    repaired.add(p.name());
                }
            }
            if (!sameManifest) {
                // The signature first, the manifest last: the backup is complete on the medium only then.
                writeMediumPart(sink, prefix + Backups.SIGNATURE, signed.signature());
                writeMediumPart(sink, prefix + Backups.MANIFEST, signed.json());
                bytes += signed.signature().length + signed.json().length;
                backups.add(id);
            }
            complete++;
        }

        private boolean sameManifest(String id, Manifest.Signed signed) {
            try {
                Manifest.Signed there = readSigned(medium, id);
                return Arrays.equals(there.json(), signed.json()) && Arrays.equals(there.signature(), signed.signature());
            } catch (BackupException e) {
                return false;
            }
        }

        void wal() throws IOException {
            requireNoLink(medium.root(), "wal");
            for (String name : main.list(WalShipper.PREFIX)) {
                String file = name.substring(WalShipper.PREFIX.length());
                if (file.contains("/") || !WalNames.isArchived(file)) {
                    continue;
                }
                long size;
                String sha = null;
                try {
                    size = Files.size(main.file(name));
                    if (full) {
                        sha = sha256(main.file(name), buffer);
                    }
                } catch (NoSuchFileException e) {
                    continue; // gone meanwhile
                } catch (IOException e) {
                    problems.add("WAL " + file + " を読めません / cannot read WAL " + file + " in the backup folder: "
                            + Messages.firstLine(e));
                    continue;
                }
                if (size > MAX_WAL_BYTES) {
                    problems.add("WAL " + file + " が大きすぎます / WAL " + file + " in the backup folder is larger than"
                            + " any WAL file (" + size + " bytes): not copied");
                    continue;
                }
                Match now = match(medium.file(name), size, sha);
                if (now == Match.OK) {
                    continue;
                }
                try {
                    copy(name, size, sha);
                } catch (SourceProblem e) {
                    problems.add(e.getMessage());
                    continue;
                }
                walFiles.add(file);
                if (now != Match.MISSING) {
                    repaired.add(name);
                }
            }
        }

        /**
         * Copies {@code name} from the backup folder to the medium, checking its size and SHA-256 ({@code sha} null:
         * any) as it goes (a mismatch aborts the part: nothing committed), then reads the committed part back.
         */
        private void copy(String name, long size, String sha) throws IOException, SourceProblem {
            InputStream in;
            try {
                in = main.open(name);
            } catch (IOException e) {
                throw new SourceProblem("部品 " + name + " がバックアップ先にありません / part " + name + " is missing in"
                        + " the backup folder");
            }
            String written;
            try (in) {
                OutputStream out;
                try {
                    out = sink.create(name);
                } catch (IOException e) {
                    throw mediumFailure(name, e);
                }
                MessageDigest d = DigestingOutputStream.newSha256();
                long n = 0;
                try {
                    for (;;) {
                        int r;
                        try {
                            r = in.read(buffer);
                        } catch (IOException e) {
                            throw new SourceProblem("部品 " + name + " をバックアップ先から読めません / cannot read part "
                                    + name + " in the backup folder: " + Messages.firstLine(e));
                        }
                        if (r < 0) {
                            break;
                        }
                        n += r;
                        if (n > size) {
                            break;
                        }
                        d.update(buffer, 0, r);
                        try {
                            out.write(buffer, 0, r);
                        } catch (IOException e) {
                            throw mediumFailure(name, e);
                        }
                    }
                    written = HexFormat.of().formatHex(d.digest());
                    if (n != size || (sha != null && !written.equals(sha))) {
                        throw new SourceProblem("部品 " + name + " がバックアップ先で署名された目録と一致しません / part "
                                + name + " in the backup folder does not match "
                                + (sha == null ? "its size (it changed while copied)" : "the signed manifest ("
                                + (n < size ? "truncated: " + n + " of " + size + " bytes"
                                : n > size ? "longer than " + size + " bytes" : "altered") + ")")
                                + ": not copied");
                    }
                } catch (SourceProblem | RuntimeException e) {
                    PartSink.abort(out);
                    throw e;
                }
                try {
                    out.close();
                } catch (IOException e) {
                    PartSink.abort(out);
                    throw mediumFailure(name, e);
                }
            }
            bytes += size;
            if (match(medium.file(name), size, written) != Match.OK) {
                throw new BackupException("オフライン媒体に書いた部品 " + name + " を読み戻すと一致しません / part " + name
                        + " reads back from the offline medium " + offlineRoot + " differently than it was written:"
                        + " the medium is failing");
            }
        }
    }

    private BackupException mediumFailure(String name, IOException e) {
        return new BackupException("オフライン媒体に書けません（容量不足か取り外し） / cannot write part " + name + " to the"
                + " offline medium " + offlineRoot + " (full or removed?): " + Messages.firstLine(e), e);
    }

    private void writeMediumPart(PartSink sink, String name, byte[] bytes) {
        OutputStream out;
        try {
            out = sink.create(name);
        } catch (IOException e) {
            throw mediumFailure(name, e);
        }
        try {
            out.write(bytes);
            out.close();
        } catch (IOException e) {
            PartSink.abort(out);
            throw mediumFailure(name, e);
        }
    }

    private void writeLocalState(byte[] state) {
        try (OutputStream out = new FolderParts(localStateDir).create(LOCAL_STATE)) {
            out.write(state);
        } catch (IOException e) {
            throw new BackupException("オフライン複製の記録を書けません / cannot write the offline copy's state in "
                    + localStateDir + ": " + Messages.firstLine(e), e);
        }
    }

    /** Refuses a link where a folder of the medium's layout is expected (it would lead writes off the medium). */
    private static void requireNoLink(Path root, String... segments) {
        Path p = root;
        for (int i = -1; i < segments.length; i++) {
            if (i >= 0) {
                p = p.resolve(segments[i]);
            }
            if (Files.isSymbolicLink(p)) {
                throw new BackupException("オフライン媒体のフォルダー " + p + " がリンクです / the offline medium's folder " + p
                        + " is a link: refused");
            }
        }
    }

    private enum Match { OK, MISSING, DIFFERENT }

    /** Whether {@code f} is a plain file of {@code size} bytes and, unless {@code sha} is null, that SHA-256. */
    private static Match match(Path f, long size, String sha) {
        try {
            if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                return Match.MISSING;
            }
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) != size) {
                return Match.DIFFERENT;
            }
            return sha == null || sha.equals(sha256(f, new byte[1 << 16])) ? Match.OK : Match.DIFFERENT;
        } catch (IOException e) {
            return Match.DIFFERENT;
        }
    }

    private static String sha256(Path f, byte[] buffer) throws IOException {
        MessageDigest d = DigestingOutputStream.newSha256();
        try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
            for (int r; (r = in.read(buffer)) > 0; ) {
                d.update(buffer, 0, r);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** The ids of the backups in {@code folder} whose manifest is there (finished), sorted. */
    private static List<String> finishedIds(FolderParts folder) {
        return CopyManifests.finishedIds(folder.list("base/"), "base/");
    }

    private static Manifest.Signed readSigned(FolderParts folder, String id) {
        return CopyManifests.readSigned(folder, id);
    }

    /** The manifest, its signature checked with the installation's key, naming this backup and installation. */
    private Manifest checked(Manifest.Signed signed, String id) {
        return CopyManifests.checked(signed, id, signer, installationId);
    }

    private static Optional<String> newestOnMedium(FolderParts medium) {
        List<String> ids = finishedIds(medium);
        return ids.isEmpty() ? Optional.empty() : Optional.of(ids.get(ids.size() - 1));
    }

    // ------------------------------------------------------------------ state

    private byte[] state(Instant at, Optional<String> newest, int complete) {
        return (STATE_HEADER + "\n"
                + "installation " + installationId + "\n"
                + "at " + at + "\n"
                + "newest-backup " + newest.orElse("-") + "\n"
                + "backups " + complete + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private record State(Instant at, Optional<String> newest) {
    }

    /** The state in {@code f}, or null when there is none; one line naming the file when it is not one. */
    private State readState(Path f) {
        Optional<Map<String, String>> read = StateFile.read(f, STATE_HEADER, MAX_STATE_BYTES,
                Set.of("installation", "at", "newest-backup", "backups"), "オフライン複製の記録");
        if (read.isEmpty()) {
            return null;
        }
        Map<String, String> v = read.get();
        boolean ok = !v.isEmpty() && v.get("backups").matches("0|[1-9][0-9]{0,8}");
        if (ok && !installationId.equals(v.get("installation"))) {
            throw new BackupException("オフライン複製の記録 " + f + " は別の施設のものです / the offline copy's state " + f
                    + " belongs to another installation");
        }
        try {
            String newest = ok ? v.get("newest-backup") : null;
            if (ok && (newest.equals("-") || BACKUP_ID.matcher(newest).matches())) {
                return new State(Instant.parse(v.get("at")), newest.equals("-") ? Optional.empty()
                        : Optional.of(newest));
            }
        } catch (DateTimeParseException e) {
            // refused below
        }
        throw new BackupException("オフライン複製の記録 " + f + " の形式が正しくありません / the offline copy's state " + f
                + " is malformed");
    }

    // ------------------------------------------------------------------ status

    /**
     * Where the offline copy stands, from the local state (the medium may be unplugged).
     *
     * @param lastRefresh  when it was last refreshed, if ever
     * @param newestBackup the newest backup complete on the medium then
     * @param deviation    one line when it was never refreshed, is older than the policy allows, or its state
     *                     cannot be read
     */
    public record Status(Optional<Instant> lastRefresh, Optional<String> newestBackup, Optional<String> deviation) {
    }

    /** The offline copy's status from the state in {@code localStateDir}, at {@code now}, for a policy of maxDays. */
    public Status status(Path localStateDir, Instant now, int maxDays) {
        State s;
        try {
            s = readState(localStateDir.resolve(LOCAL_STATE));
        } catch (BackupException e) {
            return new Status(Optional.empty(), Optional.empty(), Optional.of(e.getMessage()
                    + " (BACKUP-1, BACKUP-3)"));
        }
        if (s == null) {
            return new Status(Optional.empty(), Optional.empty(), Optional.of("the offline copy has never been"
                    + " refreshed (policy: every " + maxDays + " days; BACKUP-1, BACKUP-3): connect the medium at "
                    + offlineRoot + " / オフラインの複製がまだ一度も作られていません"));
        }
        Duration age = Duration.between(s.at(), now);
        Optional<String> deviation = Optional.empty();
        if (age.compareTo(Duration.ofDays(maxDays)) > 0) {
            long days = age.toDays();
            deviation = Optional.of("the offline copy was last refreshed " + days + " days ago (policy: " + maxDays
                    + "; BACKUP-1, BACKUP-3), on " + s.at() + ": connect the medium at " + offlineRoot
                    + " / オフラインの複製の最終更新は " + days + " 日前です（方針: " + maxDays + " 日）");
        }
        return new Status(Optional.of(s.at()), s.newest(), deviation);
    }

    // ------------------------------------------------------------------ verifying

    /**
     * Checks every backup on the medium against its signed manifest (the signature, then every part's size and
     * SHA-256), and every WAL file still in the backup folder against it: one line per problem, naming the backup
     * and part; empty when all is well (or one line when the medium is not present).
     */
    public synchronized List<String> verify() {
        String absent = absence();
        if (absent != null) {
            return List.of(absent);
        }
        FolderParts medium = new FolderParts(mediumDir());
        List<String> out = new ArrayList<>();
        List<String> names;
        try {
            names = medium.list("");
        } catch (BackupException e) {
            return List.of(e.getMessage());
        }
        TreeSet<String> withParts = new TreeSet<>();
        for (String n : names) {
            String[] p = n.split("/");
            if (p.length == 3 && p[0].equals("base")) {
                withParts.add(p[1]);
            }
        }
        List<String> finished = finishedIds(medium);
        byte[] buffer = new byte[1 << 20];
        for (String id : withParts) {
            if (!finished.contains(id)) {
                out.add("オフライン媒体のバックアップ " + id + " は未完了です（目録がありません） / backup " + id + " on the"
                        + " offline medium is unfinished (no manifest); the next refresh completes it");
                continue;
            }
            Manifest m;
            try {
                m = checked(readSigned(medium, id), id);
            } catch (BackupException e) {
                out.add("オフライン媒体のバックアップ " + id + " / backup " + id + " on the offline medium: "
                        + e.getMessage());
                continue;
            }
            for (Manifest.Part p : m.parts()) {
                String problem = partProblem(medium.file(p.name()), p.sealedSize(), p.sha256(), buffer);
                if (problem != null) {
                    out.add("オフライン媒体のバックアップ " + id + " の部品 " + p.name() + " が正しくありません / backup " + id
                            + " on the offline medium: part " + p.name() + " " + problem);
                }
            }
        }
        for (String n : names) {
            if (!n.startsWith(WalShipper.PREFIX)) {
                continue;
            }
            try {
                Path there = main.file(n);
                if (!Files.isRegularFile(there)) {
                    continue; // only the backup folder's own copy can tell
                }
                String problem = partProblem(medium.file(n), Files.size(there), sha256(there, buffer), buffer);
                if (problem != null) {
                    out.add("オフライン媒体の WAL " + n + " がバックアップ先と一致しません / " + n + " on the offline medium "
                            + problem + " (compared with the backup folder's copy)");
                }
            } catch (IOException | BackupException e) {
                // the backup folder's copy went away or cannot be read: nothing to compare with
            }
        }
        return out;
    }

    /** What is wrong with {@code f} against a size and SHA-256, or null. */
    private static String partProblem(Path f, long size, String sha, byte[] buffer) {
        try {
            if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                return "is missing";
            }
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                return "is not a plain file";
            }
            long n = Files.size(f);
            if (n < size) {
                return "is truncated (" + n + " of " + size + " bytes)";
            }
            if (n > size) {
                return "is longer than the manifest says (" + n + " of " + size + " bytes)";
            }
            return sha.equals(sha256(f, buffer)) ? null : "is altered (SHA-256 does not match)";
        } catch (IOException e) {
            return "cannot be read: " + Messages.firstLine(e);
        }
    }
}
