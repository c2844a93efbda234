package jp.mamori.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * The offline verifier: reads an exported trail once, in O(log n) memory plus the checkpoints, and
 * reports every edited, deleted, inserted, reordered or truncated entry with its line and seq.
 *
 * <p>Per entry it checks that {@code seq} is the next index and that {@code prev} is the previous entry's
 * leaf hash; at every signed checkpoint's size it checks that the tree over the entries read so far has
 * the signed root. Checkpoints must carry a valid signature by the verifier key and name the expected
 * origin. An entry edited without rewriting its successor is pinpointed by the chain; changes that also
 * rewrote the chain are caught by the first checkpoint after them and reported as the range since the
 * last checkpoint that matched. Instances are immutable; each {@link #verify} call is independent.
 */
public final class TrailVerifier {
    private final VerifierKey key;
    private final String origin;
    private final int maxFindings;
    private final boolean keyFromExport;
    private final int threads;
    private final int chunkSize;

    /** Verifies with {@code key}; checkpoints must have the key's name as origin. */
    public TrailVerifier(VerifierKey key) {
        this(key, key.name(), 1000, false, Math.min(4, Runtime.getRuntime().availableProcessors()), 4 << 20);
    }

    private TrailVerifier(VerifierKey key, String origin, int maxFindings, boolean keyFromExport, int threads,
                          int chunkSize) {
        this.key = Objects.requireNonNull(key, "key");
        this.origin = Objects.requireNonNull(origin, "origin");
        this.maxFindings = maxFindings;
        this.keyFromExport = keyFromExport;
        this.threads = threads;
        this.chunkSize = chunkSize;
    }

    /** Expects checkpoints of this origin instead of the key name. */
    public TrailVerifier origin(String expectedOrigin) {
        return new TrailVerifier(key, expectedOrigin, maxFindings, keyFromExport, threads, chunkSize);
    }

    /** Keeps at most this many findings (the rest are counted). */
    public TrailVerifier maxFindings(int max) {
        return new TrailVerifier(key, origin, Math.max(1, max), keyFromExport, threads, chunkSize);
    }

    /** Marks the key as taken from the export itself, which adds a warning. */
    public TrailVerifier keyFromExport(boolean fromExport) {
        return new TrailVerifier(key, origin, maxFindings, fromExport, threads, chunkSize);
    }

    /**
     * Hashes entry lines on this many threads when verifying a file (default: the processors, at most 4);
     * the checks themselves stay in order on the calling thread. 1 reads the file as one stream.
     */
    public TrailVerifier threads(int n) {
        return new TrailVerifier(key, origin, maxFindings, keyFromExport, Math.max(1, n), chunkSize);
    }

    /** The bytes of the file each hashing task takes (tests use tiny chunks to cut lines at every place). */
    TrailVerifier chunkSize(int bytes) {
        return new TrailVerifier(key, origin, maxFindings, keyFromExport, threads, Math.max(1, bytes));
    }

    /** Verifies an export read from disk. */
    public Report verify(Export export) throws IOException {
        if (threads <= 1) {
            try (InputStream in = Files.newInputStream(export.entries())) {
                return verify(in, export.checkpoints(), export.start());
            }
        }
        long t0 = System.nanoTime();
        Run run = new Run(export.checkpoints(), export.start());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "ledger-hash");
            t.setDaemon(true);
            return t;
        });
        try (FileChannel ch = FileChannel.open(export.entries(), StandardOpenOption.READ)) {
            long size = ch.size();
            long chunks = (size + chunkSize - 1) / chunkSize;
            ArrayDeque<Future<LineBatch>> window = new ArrayDeque<>();
            long submitted = 0;
            while (submitted < chunks || !window.isEmpty()) {
                while (submitted < chunks && window.size() < threads * 2) {
                    long begin = submitted * chunkSize;
                    long end = Math.min(size, begin + chunkSize);
                    window.add(pool.submit(() -> LineBatch.read(ch, size, begin, end)));
                    submitted++;
                }
                run.batch(take(window.poll()));
            }
        } finally {
            pool.shutdownNow();
        }
        run.finish();
        return run.report(System.nanoTime() - t0);
    }

    private static LineBatch take(Future<LineBatch> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
    }

    /**
     * Verifies a trail.
     *
     * @param entries the entry lines, each ending in a newline (the last one may lack it)
     * @param checkpoints the notes of the checkpoints file, as {@link SignedCheckpoint#readAll} returns them
     * @param start the archive start when entries before it were archived away, else null
     */
    public Report verify(InputStream entries, List<SignedCheckpoint.Item> checkpoints, ArchiveStart start)
            throws IOException {
        long t0 = System.nanoTime();
        Run run = new Run(checkpoints, start);
        run.stream(entries);
        run.finish();
        return run.report(System.nanoTime() - t0);
    }

    /** One entry line as the chain sees it. Three of them rotate as the window. */
    private static final class Rec {
        long line;
        long seq;
        final byte[] hash = new byte[Merkle.HASH_SIZE];
        int prevState;
        final byte[] prev = new byte[Merkle.HASH_SIZE];
        long expectedBefore;
        boolean createdGap;
        boolean filledGap;
        /** The predecessor of the first line: nothing (genesis) or the archive's last entry. */
        boolean virtual;
        boolean genesis;
        Finding pending;
    }

    /** Numbers missing from the sequence so far, as ranges [from, to], with the line where the jump was seen. */
    private record Gap(long from, long to, long line) {
    }

    private record Cp(int ordinal, int fileLine, SignedCheckpoint note) {
        long size() {
            return note.checkpoint().size();
        }

        String label() {
            Checkpoint c = note.checkpoint();
            return "#" + ordinal + " (size " + c.size() + (c.time() == null ? "" : ", " + c.time())
                    + ", checkpoints line " + fileLine + ")";
        }
    }

    private final class Run {
        private final List<Finding> early = new ArrayList<>();
        private final List<Finding> found = new ArrayList<>();
        private long omitted;
        private final Merkle.Hasher hasher = new Merkle.Hasher();
        private final EntryScanner scanner = new EntryScanner();
        private final CompactRange tree;
        private final long startSize;
        private final List<Cp> cps = new ArrayList<>();
        private final int totalCheckpoints;
        private int next;
        private int matched;
        private long lastGood;
        private long covered;
        /** The largest checkpoint size checked against the entries, matched or not. */
        private long reached;
        private int failStreak;
        private Cp streakLast;
        private long expected;
        private long lineNo;
        private final ArrayDeque<Gap> gaps = new ArrayDeque<>();
        private Rec pp;
        private Rec p;
        private Rec spare = new Rec();
        private Rec spare2 = new Rec();

        Run(List<SignedCheckpoint.Item> items, ArchiveStart start) {
            totalCheckpoints = items.size();
            if (keyFromExport) {
                early.add(new Finding(Finding.Kind.KEY_FROM_EXPORT, -1, -1,
                        "検証鍵をエクスポート自体から読みました。別経路で入手した鍵を --key で指定してください / the verifier key was taken "
                                + "from the export itself, which proves nothing about who signed; pass the key you obtained "
                                + "separately with --key (" + key.format() + ")"));
            }
            checkCheckpoints(items);
            startSize = start == null ? 0 : start.size();
            tree = start == null ? new CompactRange() : CompactRange.of(start.size(), start.frontier());
            expected = startSize;
            lastGood = startSize;
            p = new Rec();
            p.virtual = true;
            if (start == null) {
                p.genesis = true;
                p.seq = -1;
            } else {
                p.seq = start.size() - 1;
                System.arraycopy(start.lastLeafHash(), 0, p.hash, 0, Merkle.HASH_SIZE);
            }
            // Checkpoints at or before the start: only the one at the start itself can be checked here.
            boolean anchored = start == null;
            while (next < cps.size() && cps.get(next).size() <= startSize) {
                Cp cp = cps.get(next++);
                if (cp.size() < startSize) {
                    continue;
                }
                if (start == null) {
                    checkRoot(cp, Merkle.emptyRoot());
                } else if (start.matches(cp.note().checkpoint().root())) {
                    anchored = true;
                    matched++;
                    covered = startSize;
                } else {
                    early.add(new Finding(Finding.Kind.START_MISMATCH, -1, -1,
                            "アーカイブ開始点がチェックポイント " + cp.label() + " と一致しません / the archive start (size "
                                    + startSize + ") does not lead to the root of signed checkpoint " + cp.label()
                                    + ": its frontier or last-entry hash was altered"));
                    anchored = true;
                }
            }
            if (!anchored) {
                early.add(new Finding(Finding.Kind.START_MISMATCH, -1, -1,
                        "アーカイブ開始点 (size " + startSize + ") に対応する署名付きチェックポイントがありません / no signed checkpoint "
                                + "of size " + startSize + " anchors the archive start; the entries before it cannot be vouched for"));
            }
        }

        private void checkCheckpoints(List<SignedCheckpoint.Item> items) {
            List<Cp> valid = new ArrayList<>();
            int ordinal = 0;
            for (SignedCheckpoint.Item it : items) {
                ordinal++;
                String where = "#" + ordinal + " (checkpoints line " + it.line() + ")";
                if (it.error() != null) {
                    early.add(new Finding(Finding.Kind.MALFORMED, -1, -1,
                            "チェックポイント " + where + " を読めません / checkpoint " + where + " cannot be read: " + it.error()));
                    continue;
                }
                Cp cp = new Cp(ordinal, it.line(), it.checkpoint());
                switch (it.checkpoint().verify(key)) {
                    case BAD_SIGNATURE -> {
                        early.add(new Finding(Finding.Kind.BAD_SIGNATURE, -1, -1,
                                "チェックポイント " + cp.label() + " の署名が不正です / the signature of checkpoint " + cp.label()
                                        + " does not verify with key " + key.name() + "+" + key.keyIdHex()
                                        + ": the checkpoint was altered or forged"));
                        continue;
                    }
                    case UNKNOWN_KEY -> {
                        early.add(new Finding(Finding.Kind.UNKNOWN_KEY, -1, -1,
                                "チェックポイント " + cp.label() + " に検証鍵の署名がありません / checkpoint " + cp.label()
                                        + " is not signed by key " + key.name() + "+" + key.keyIdHex() + " (signed by: "
                                        + signers(it.checkpoint()) + ")"));
                        continue;
                    }
                    case VERIFIED -> {
                    }
                }
                if (!cp.note().checkpoint().origin().equals(origin)) {
                    early.add(new Finding(Finding.Kind.WRONG_ORIGIN, -1, -1,
                            "チェックポイント " + cp.label() + " は別のログのものです / checkpoint " + cp.label() + " is for log '"
                                    + cp.note().checkpoint().origin() + "', not '" + origin + "'"));
                    continue;
                }
                if (!valid.isEmpty() && cp.size() < valid.get(valid.size() - 1).size()) {
                    early.add(new Finding(Finding.Kind.CHECKPOINT_ORDER, -1, -1,
                            "チェックポイント " + cp.label() + " は前のものより小さいサイズです / checkpoint " + cp.label()
                                    + " is smaller than the one before it in the file; it is checked against the entries like the others"));
                }
                valid.add(cp);
            }
            valid.sort(Comparator.comparingLong(Cp::size));
            for (int i = 1; i < valid.size(); i++) {
                Cp a = valid.get(i - 1);
                Cp b = valid.get(i);
                if (a.size() == b.size() && !Merkle.same(a.note().checkpoint().root(), b.note().checkpoint().root())) {
                    early.add(new Finding(Finding.Kind.INCONSISTENT_CHECKPOINTS, -1, -1,
                            "同じサイズで異なるルートの署名付きチェックポイント " + a.label() + " と " + b.label()
                                    + " / signed checkpoints " + a.label() + " and " + b.label()
                                    + " have the same size but different roots: the log was forked"));
                }
            }
            if (valid.isEmpty()) {
                early.add(new Finding(Finding.Kind.NO_CHECKPOINT, -1, -1,
                        "有効な署名付きチェックポイントがないため何も証明できません / no valid signed checkpoint: nothing in this trail can be proven"));
            }
            cps.addAll(valid);
        }

        private String signers(SignedCheckpoint note) {
            StringBuilder b = new StringBuilder();
            for (NoteSignature s : note.signatures()) {
                if (!b.isEmpty()) {
                    b.append(", ");
                }
                b.append(s.keyName()).append('+').append(String.format("%08x", s.keyId()));
            }
            return b.toString();
        }

        void stream(InputStream in) throws IOException {
            byte[] buf = new byte[1 << 22];
            LineBatch batch = new LineBatch(8192);
            int start = 0;
            int end = 0;
            while (true) {
                if (end == buf.length) {
                    if (start == 0) {
                        if (buf.length >= 1 << 28) {
                            throw new IOException("an entry line is longer than 256 MiB (line " + (lineNo + batch.count + 1) + ")");
                        }
                        buf = Arrays.copyOf(buf, buf.length * 2);
                    } else {
                        System.arraycopy(buf, start, buf, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                }
                int r = in.read(buf, end, buf.length - end);
                if (r < 0) {
                    break;
                }
                int i = end;
                end += r;
                int nl;
                while ((nl = LineBatch.indexOfNewline(buf, i, end)) >= 0) {
                    batch.add(buf, start, nl - start, hasher, scanner);
                    if (batch.full()) {
                        batch(batch);
                        batch.count = 0;
                    }
                    start = nl + 1;
                    i = start;
                }
            }
            if (start < end) {
                batch.add(buf, start, end - start, hasher, scanner);
            }
            batch(batch);
        }

        void batch(LineBatch b) {
            for (int i = 0; i < b.count; i++) {
                line(b, i);
            }
        }

        private void line(LineBatch b, int i) {
            Rec c = spare;
            c.line = ++lineNo;
            c.virtual = false;
            c.genesis = false;
            c.createdGap = false;
            c.filledGap = false;
            c.pending = null;
            System.arraycopy(b.hash, i * Merkle.HASH_SIZE, c.hash, 0, Merkle.HASH_SIZE);
            c.seq = b.seq[i];
            c.prevState = b.prevState[i];
            if (c.prevState == EntryScanner.PRESENT) {
                System.arraycopy(b.prev, i * Merkle.HASH_SIZE, c.prev, 0, Merkle.HASH_SIZE);
            }
            chain(c);
            if (p.pending != null) {
                add(p.pending);
                p.pending = null;
            }
            sequence(c);
            tree.append(c.hash);
            while (next < cps.size() && cps.get(next).size() == tree.size()) {
                checkRoot(cps.get(next++), tree.root());
            }
            spare = pp == null ? spare2 : pp;
            pp = p;
            p = c;
        }

        private boolean links(Rec c, Rec to) {
            if (to.genesis) {
                return c.prevState == EntryScanner.ABSENT || c.prevState == EntryScanner.EMPTY;
            }
            return c.prevState == EntryScanner.PRESENT && Arrays.equals(c.prev, to.hash);
        }

        /** Checks c's prev against the line before it; may conclude that the line before was inserted. */
        private void chain(Rec c) {
            if (links(c, p)) {
                return;
            }
            if (pp != null && !p.virtual && c.seq >= 0 && c.seq == pp.seq + 1 && p.seq <= c.seq && !p.filledGap
                    && links(c, pp)) {
                p.pending = null;
                expected = p.expectedBefore;
                if (p.createdGap) {
                    gaps.pollLast();
                }
                add(new Finding(Finding.Kind.INSERTED, p.line, p.seq,
                        "行 " + p.line + " のエントリは挿入されたものです / the entry at line " + p.line
                                + " was inserted: the next entry (seq " + c.seq + ", line " + c.line
                                + ") links to the entry before it"));
                return;
            }
            boolean contiguous = c.seq >= 0 && c.seq == p.seq + 1 && (p.seq >= 0 || p.genesis);
            if (!contiguous) {
                return; // the sequence check reports the jump
            }
            if (p.genesis) {
                add(new Finding(Finding.Kind.MALFORMED, c.line, c.seq,
                        "最初のエントリに prev があります / the first entry (seq 0) must not have a prev"));
            } else if (c.prevState != EntryScanner.PRESENT) {
                add(new Finding(Finding.Kind.MALFORMED, c.line, c.seq,
                        "prev がないか不正です / the entry has no valid prev (a base64 SHA-256 leaf hash of the entry before it)"));
            } else if (p.virtual) {
                add(new Finding(Finding.Kind.START_MISMATCH, c.line, c.seq,
                        "最初のエントリがアーカイブの最後のエントリにつながりません / the first entry does not link to the "
                                + "archive's last entry (seq " + p.seq + "): the start file or this entry was altered"));
            } else {
                add(new Finding(Finding.Kind.EDITED, p.line, p.seq,
                        "seq " + p.seq + " (行 " + p.line + ") は改ざんされています / entry seq " + p.seq + " at line " + p.line
                                + " was altered: its hash does not match the prev recorded by the next entry (seq "
                                + c.seq + ", line " + c.line + ")"));
            }
        }

        private void sequence(Rec c) {
            c.expectedBefore = expected;
            if (c.seq < 0) {
                add(new Finding(Finding.Kind.MALFORMED, c.line, -1,
                        "エントリを読めません / the line is not an entry: it must begin with {\"seq\":N,"));
                expected++;
            } else if (c.seq == expected) {
                expected++;
            } else if (c.seq > expected) {
                gaps.addLast(new Gap(expected, c.seq - 1, c.line));
                c.createdGap = true;
                expected = c.seq + 1;
                if (gaps.size() > 10_000) {
                    deleted(gaps.pollFirst());
                }
            } else if (fillGap(c.seq)) {
                c.filledGap = true;
                c.pending = new Finding(Finding.Kind.REORDERED, c.line, c.seq,
                        "seq " + c.seq + " が本来の位置より後にあります / entry seq " + c.seq + " at line " + c.line
                                + " is out of order: it belongs before the entries read before it");
            } else {
                c.pending = new Finding(Finding.Kind.DUPLICATE, c.line, c.seq,
                        "seq " + c.seq + " が重複しています / seq " + c.seq + " at line " + c.line
                                + " was already used by an earlier entry (a duplicated or inserted entry)");
            }
        }

        private boolean fillGap(long seq) {
            for (Iterator<Gap> it = gaps.descendingIterator(); it.hasNext(); ) {
                Gap g = it.next();
                if (seq >= g.from() && seq <= g.to()) {
                    List<Gap> rest = new ArrayList<>(2);
                    if (g.from() < seq) {
                        rest.add(new Gap(g.from(), seq - 1, g.line()));
                    }
                    if (seq < g.to()) {
                        rest.add(new Gap(seq + 1, g.to(), g.line()));
                    }
                    // Rebuild keeping order; gaps are few.
                    List<Gap> all = new ArrayList<>(gaps);
                    int at = all.indexOf(g);
                    all.remove(at);
                    all.addAll(at, rest);
                    gaps.clear();
                    gaps.addAll(all);
                    return true;
                }
            }
            return false;
        }

        private void deleted(Gap g) {
            String range = g.from() == g.to() ? "seq " + g.from() : "seq " + g.from() + "–" + g.to();
            long n = g.to() - g.from() + 1;
            add(new Finding(Finding.Kind.DELETED, g.line(), g.from(),
                    range + " が欠落しています (" + n + " 件) / " + n + " entr" + (n == 1 ? "y" : "ies") + " (" + range
                            + ") missing before line " + g.line() + ": deleted"));
        }

        private void checkRoot(Cp cp, byte[] root) {
            reached = Math.max(reached, cp.size());
            if (Merkle.same(root, cp.note().checkpoint().root())) {
                if (failStreak > 1) {
                    streakSummary();
                }
                failStreak = 0;
                matched++;
                lastGood = cp.size();
                covered = Math.max(covered, cp.size());
                return;
            }
            if (failStreak++ == 0) {
                long from = lastGood;
                long to = cp.size();
                add(new Finding(Finding.Kind.ROOT_MISMATCH, lineOf(from), from,
                        "チェックポイント " + cp.label() + " のルートと一致しません。seq " + from + "–" + (to - 1)
                                + " の範囲が改変されています / the entries do not lead to the root of signed checkpoint "
                                + cp.label() + ": entries seq " + from + "–" + (to - 1) + " (lines " + lineOf(from) + "–"
                                + lineOf(to - 1) + ") were edited, inserted, deleted or reordered since the last checkpoint that matched"));
            }
            streakLast = cp;
        }

        private void streakSummary() {
            add(new Finding(Finding.Kind.ROOT_MISMATCH, -1, -1,
                    "以降のチェックポイント " + (failStreak - 1) + " 件 (" + streakLast.label() + " まで) も一致しません / "
                            + (failStreak - 1) + " later checkpoint(s) up to " + streakLast.label()
                            + " do not match either, as a consequence of the change above"));
        }

        private long lineOf(long treeIndex) {
            return treeIndex - startSize + 1;
        }

        void finish() {
            if (p.pending != null) {
                add(p.pending);
                p.pending = null;
            }
            while (!gaps.isEmpty()) {
                deleted(gaps.pollFirst());
            }
            if (failStreak > 1) {
                streakSummary();
            }
            long size = tree.size();
            // Checkpoints beyond the last entry: missing entries at the end, unless the sequence already
            // reached their size (then entries went missing inside, reported above, and the tree is short).
            int unreachable = 0;
            Cp truncatedBy = null;
            for (int i = next; i < cps.size(); i++) {
                if (cps.get(i).size() <= expected) {
                    unreachable++;
                    reached = Math.max(reached, cps.get(i).size());
                } else {
                    truncatedBy = cps.get(i);
                    reached = Math.max(reached, truncatedBy.size());
                }
            }
            if (unreachable > 0) {
                add(new Finding(Finding.Kind.ROOT_MISMATCH, -1, -1,
                        "チェックポイント " + unreachable + " 件はエントリ欠落のため確認できません / " + unreachable
                                + " checkpoint(s) cannot be reproduced because entries are missing (see above)"));
            }
            if (truncatedBy != null) {
                long from = Math.max(expected, size);
                add(new Finding(Finding.Kind.TRUNCATED, -1, from,
                        "署名付きチェックポイント " + truncatedBy.label() + " は " + truncatedBy.size() + " 件を示しますが、エクスポートは seq "
                                + (from - 1) + " で終わっています / signed checkpoint " + truncatedBy.label() + " covers "
                                + truncatedBy.size() + " entries but the export ends before seq " + from + ": entries seq " + from
                                + "–" + (truncatedBy.size() - 1) + " are missing (truncated)"));
            }
            long signedUpTo = Math.max(reached, Math.max(covered, startSize));
            if (size > signedUpTo && !cps.isEmpty()) {
                add(new Finding(Finding.Kind.NOT_COVERED, lineOf(signedUpTo), signedUpTo,
                        "seq " + signedUpTo + "–" + (size - 1) + " はまだ署名付きチェックポイントに含まれていません / entries seq "
                                + signedUpTo + "–" + (size - 1) + " are not yet covered by a signed checkpoint"));
            }
        }

        private void add(Finding f) {
            if (found.size() < maxFindings) {
                found.add(f);
            } else {
                omitted++;
            }
        }

        Report report(long nanos) {
            List<Finding> all = new ArrayList<>(early);
            List<Finding> stream = new ArrayList<>(found);
            stream.sort(Comparator.comparingLong((Finding f) -> f.line() < 0 ? Long.MAX_VALUE : f.line()));
            all.addAll(stream);
            return new Report(all, omitted, lineNo, tree.size(), totalCheckpoints, matched, covered, nanos);
        }
    }
}
