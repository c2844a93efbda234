package jp.mamori.audit;

import jp.mamori.ledger.Checkpoint;
import jp.mamori.ledger.CompactRange;
import jp.mamori.ledger.Merkle;
import jp.mamori.ledger.NoteSigner;
import jp.mamori.ledger.Proofs;
import jp.mamori.ledger.SignedCheckpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Signs checkpoints of the trail (AUDIT-3): at each tick, if entries were added, it extends the tree from the
 * frontier of the last checkpoint by the new leaf hashes, stores the completed 256-leaf subtree hashes, signs
 * (origin, size, root, time) with the key from the data folder, optionally has the note time-stamped by an RFC 3161
 * TSA, appends it to the anchor folder (fsync) and stores it with its frontier in {@code audit_checkpoint}.
 *
 * <p>Several processes (the server, a CLI export) may checkpoint one database: a transaction-scoped advisory lock
 * serialises them, and each tick continues from the newest stored checkpoint, whoever signed it. A stored checkpoint
 * is used only if its signature verifies with this key and its frontier folds to its root; on (re)load the stored
 * leaf and subtree hashes are also checked against that signed root. A problem found (hashes that no longer match,
 * fewer entries than signed, a checkpoint in the anchor folder that the database lacks) is logged, kept for the
 * console and deviations, and recorded once as an audit entry. The TSA and the anchor never hold up a request: they
 * run on this thread, and a failure is stored with the checkpoint, which is kept.
 *
 * <p>It signs only entries that an appender holding the key stored: before signing it checks that the new entries
 * are tiled by sealed groups ({@code audit_group}, {@link GroupSeal}) whose seals verify over their leaf hashes. An
 * entry in no sealed group (a database superuser appended it, however well chained) is refused: nothing is signed,
 * and the problem is logged, recorded, shown as a deviation and sent as a security notice.
 */
public final class Checkpointer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);
    /** pg advisory lock key for checkpointing ("mamoriCP"). */
    static final long LOCK = 0x6d616d6f72694350L;
    static final int CHUNK = 1 << 16;

    /** What the console shows: the last checkpoint and any integrity problem seen. */
    public record Status(TrailLedger.Stored last, String problem) {
    }

    private final DataSource ds;
    private final NoteSigner signer;
    private final Anchor anchor;
    private final TimeStamper tsa;
    private final GroupSeal seal;
    private AuditTrail trail;
    private jp.mamori.access.SecurityNotifier notifier = new jp.mamori.access.LogNotifier();
    private ScheduledExecutorService timer;
    private CompactRange tree;
    private volatile TrailLedger.Stored last;
    private volatile String problem;
    private String recordedProblem;
    private boolean tsaFailing;
    private boolean anchorFailing;
    private boolean anchorChecked;
    private boolean halted;
    /** Whether this process signs at the timer's ticks (the leader's lock, issue 18 §1); always, alone. */
    private volatile java.util.function.BooleanSupplier leads = () -> true;

    /** @param tsa the time-stamp authority, or null */
    public Checkpointer(DataSource ds, NoteSigner signer, Anchor anchor, TimeStamper tsa) {
        this.ds = ds;
        this.signer = signer;
        this.anchor = anchor;
        this.tsa = tsa;
        this.seal = GroupSeal.of(signer);
    }

    public NoteSigner signer() {
        return signer;
    }

    public Anchor anchor() {
        return anchor;
    }

    /** Where problems and TSA or anchor failures are recorded (not set: only logged). */
    public Checkpointer recordingTo(AuditTrail trail) {
        this.trail = trail;
        return this;
    }

    /** Where integrity problems are sent as security notices (default: the log only). */
    public Checkpointer notifying(jp.mamori.access.SecurityNotifier notifier) {
        this.notifier = notifier;
        return this;
    }

    /** Checkpoints every {@code interval} when entries were added. */
    public synchronized void start(Duration interval) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-audit-checkpoint");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                // the leader signs; another process only follows the stored checkpoints (issue 18 §1)
                checkpoint(leads.getAsBoolean());
            } catch (RuntimeException e) {
                log.warn("audit: checkpoint failed: {}", e.toString());
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    public Status status() {
        return new Status(last, problem);
    }

    /** The deviation lines for the console and the start log (TSA or anchor failing, integrity problems). */
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        String p = problem;
        if (p != null) {
            out.add("監査証跡の整合性に問題があります / audit trail integrity: " + p);
        }
        TrailLedger.Stored s = last;
        if (s != null && s.tsaStatus().equals("failed")) {
            out.add("最新のチェックポイントにタイムスタンプを付与できませんでした / the last checkpoint could not be"
                    + " time-stamped: " + s.tsaError());
        }
        if (s != null && s.anchorStatus().equals("failed")) {
            out.add("最新のチェックポイントをアンカーフォルダに書けませんでした / the last checkpoint could not be written to"
                    + " the anchor folder: " + s.anchorError());
        }
        return out;
    }

    /**
     * One tick: signs a checkpoint when entries were added since the last one.
     *
     * @return the new checkpoint, or null when there was nothing new (or a problem prevented signing)
     */
    public synchronized TrailLedger.Stored checkpoint() {
        return checkpoint(true);
    }

    /**
     * Runs the timer's ticks only while {@code leads} says this process leads the checkpointer (ADR 0013: several
     * processes on one database, one of them signs); at the other ticks it reads and checks the newest stored
     * checkpoint, so that its status and health line follow the leader's.
     */
    public Checkpointer ledBy(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    private synchronized TrailLedger.Stored checkpoint(boolean sign) {
        String found = null;
        TrailLedger.Stored made = null;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (Statement st = c.createStatement()) {
                    st.execute("SET LOCAL synchronous_commit = on");
                    st.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
                }
                found = load(c);
                if (sign && tree != null && !halted) {
                    long head = TrailLedger.head(c);
                    if (head < tree.size()) {
                        found = "the trail holds " + head + " entries but checkpoint " + tree.size()
                                + " was signed: entries were removed";
                    } else if (head > tree.size()) {
                        String refused = unsealed(c, tree.size(), head);
                        if (refused == null) {
                            made = extendAndSign(c, head);
                        } else {
                            found = refused;
                        }
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("audit checkpoint: " + e.getMessage(), e);
        }
        if (made != null) {
            tree = CompactRange.of(made.size(), made.frontier());
            last = made;
            noteFailures(made);
        }
        problem(found);
        return made;
    }

    /**
     * Makes sure {@link #tree} is the tree of the newest stored checkpoint (reloading when another process signed
     * one); returns a problem found, or null. With no checkpoint at all the tree starts empty.
     */
    private String load(Connection c) throws SQLException {
        TrailLedger.Stored s = TrailLedger.latest(c);
        if (tree != null && tree.size() > 0 && (s == null || s.size() < tree.size())) {
            // This process signed a larger checkpoint than the database now holds: sign nothing more until someone
            // looks (a restart resumes from the database, with the anchor folder's copy showing what was lost).
            halted = true;
            return "checkpoint " + tree.size() + " signed by this server is missing from the database: checkpoints"
                    + " or entries were removed";
        }
        if (s == null) {
            tree = new CompactRange();
            return anchorAhead(0, null);
        }
        if (tree != null && tree.size() == s.size() && Merkle.same(tree.root(), s.root())) {
            last = s;
            return problem;
        }
        SignedCheckpoint sc;
        try {
            sc = s.signed();
        } catch (IllegalArgumentException e) {
            tree = null;
            return "stored checkpoint " + s.size() + " cannot be read: " + e.getMessage();
        }
        if (sc.verify(signer.verifierKey()) != SignedCheckpoint.Status.VERIFIED || sc.checkpoint().size() != s.size()
                || !Merkle.same(sc.checkpoint().root(), s.root())) {
            tree = null;
            return "stored checkpoint " + s.size() + " is not signed by this server's key or does not match its row";
        }
        CompactRange r;
        try {
            r = CompactRange.of(s.size(), s.frontier());
        } catch (IllegalArgumentException e) {
            tree = null;
            return "stored checkpoint " + s.size() + " has no usable frontier: " + e.getMessage();
        }
        if (!Merkle.same(r.root(), s.root())) {
            tree = null;
            return "the frontier stored with checkpoint " + s.size() + " does not fold to its signed root";
        }
        tree = r;
        last = s;
        String p = null;
        try {
            if (!Merkle.same(Proofs.root(s.size(), TrailLedger.subtrees(c)), s.root())) {
                p = "the stored entries do not reproduce the root of signed checkpoint " + s.size();
            }
        } catch (IllegalStateException e) {
            p = "the stored entries up to signed checkpoint " + s.size() + " are incomplete: " + e.getMessage();
        }
        String a = anchorAhead(s.size(), s);
        return p != null ? p : a;
    }

    /** On the first load: does the anchor folder hold a checkpoint the database lacks? */
    private String anchorAhead(long size, TrailLedger.Stored s) {
        if (anchorChecked || anchor == null) {
            return null;
        }
        anchorChecked = true;
        try {
            SignedCheckpoint a = anchor.latest();
            if (a == null || a.verify(signer.verifierKey()) != SignedCheckpoint.Status.VERIFIED) {
                return null;
            }
            if (a.checkpoint().size() > size) {
                return "the anchor folder holds signed checkpoint " + a.checkpoint().size()
                        + " but the database only " + size + ": checkpoints or entries were removed";
            }
            if (s != null && a.checkpoint().size() == size && !Merkle.same(a.checkpoint().root(), s.root())) {
                return "the anchor folder's checkpoint " + size + " has another root than the database's";
            }
        } catch (IOException | RuntimeException e) {
            log.warn("audit: cannot read the anchor folder: {}", e.toString());
        }
        return null;
    }

    /** One row of {@code audit_group}: entries [first, next) and their seal (null: stored before V15). */
    private record Group(long first, long next, byte[] seal) {
    }

    /**
     * Checks that entries [from, head) are what appenders holding the key stored (ADR 0006, "Only what an appender
     * stored is signed"): sealed groups tile the range and each seal verifies over the stored leaf hashes. The one
     * unsealed group V15 writes for the entries stored before it is accepted only by the process that applied V15.
     * Returns the problem, or null. The message names the first entry at fault, so it stays the same at later ticks.
     */
    private String unsealed(Connection c, long from, long head) throws SQLException {
        List<Group> groups = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT first_seq, next_seq, seal FROM audit_group"
                + " WHERE next_seq > ? AND first_seq < ? ORDER BY next_seq")) {
            ps.setFetchSize(10_000);
            ps.setLong(1, from);
            ps.setLong(2, head);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    groups.add(new Group(rs.getLong(1), rs.getLong(2), rs.getBytes(3)));
                }
            }
        }
        long expect = from;
        for (Group g : groups) {
            if (g.first() != expect || g.next() > head) {
                long at = Math.min(expect, g.first());
                return "audit entry " + at + " lies in no group sealed by a Mamori appender: it was not stored by"
                        + " this server's appender (database superuser?); checkpoints are refused from there on";
            }
            if (g.seal() == null && !(g.first() == from && jp.mamori.db.Database.migratedHere("15"))) {
                return "audit entries " + g.first() + " to " + (g.next() - 1) + " are unsealed (stored before the"
                        + " upgrade to V15) and this process did not apply V15; checkpoints are refused from there on";
            }
            expect = g.next();
        }
        if (expect < head) {
            return "audit entry " + expect + " lies in no group sealed by a Mamori appender: it was not stored by"
                    + " this server's appender (database superuser?); checkpoints are refused from there on";
        }
        int gi = 0;
        javax.crypto.Mac mac = null;
        for (long f = from; f < head; ) {
            long to = Math.min(head, (f / CHUNK + 1) * CHUNK);
            List<byte[]> leaves = TrailLedger.leaves(c, f, to);
            for (int i = 0; i < leaves.size(); i++) {
                long seq = f + i;
                Group g = groups.get(gi);
                if (seq == g.first()) {
                    mac = g.seal() == null ? null : seal.start(g.first(), g.next() - g.first());
                }
                if (mac != null) {
                    mac.update(leaves.get(i));
                }
                if (seq == g.next() - 1) {
                    if (mac != null && !java.security.MessageDigest.isEqual(mac.doFinal(), g.seal())) {
                        return "audit entries " + g.first() + " to " + (g.next() - 1) + " do not match the seal their"
                                + " appender stored (changed or replaced in the database); checkpoints are refused"
                                + " from there on";
                    }
                    gi++;
                }
            }
            f = to;
        }
        return null;
    }

    private TrailLedger.Stored extendAndSign(Connection c, long head) throws SQLException {
        CompactRange next = tree.copy();
        for (long from = next.size(); from < head; ) {
            long to = Math.min(head, (from / CHUNK + 1) * CHUNK);
            List<byte[]> leaves = TrailLedger.leaves(c, from, to);
            for (byte[] l : leaves) {
                next.append(l);
            }
            TrailLedger.insertRows(c, TrailLedger.completed(c, from, leaves));
            from = to;
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        SignedCheckpoint cp = new Checkpoint(signer.verifierKey().name(), head, next.root(), now).sign(signer);
        String note = cp.encode();
        String tsaStatus = "none";
        byte[] token = null;
        String tsaError = null;
        if (tsa != null) {
            try {
                token = tsa.stamp(note.getBytes(StandardCharsets.UTF_8));
                tsaStatus = "ok";
            } catch (IOException | RuntimeException e) {
                tsaStatus = "failed";
                tsaError = oneLine(e);
            }
        }
        String anchorStatus = "ok";
        String anchorError = null;
        try {
            anchor.write(cp);
            if (token != null) {
                anchor.writeTimestamp(head, now, token);
            }
        } catch (IOException | RuntimeException e) {
            anchorStatus = "failed";
            anchorError = oneLine(e);
        }
        List<byte[]> frontier = next.frontier();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_checkpoint (size, root, signed_at, note,"
                + " frontier, tsa_status, tsa_token, tsa_error, anchor_status, anchor_error)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, head);
            ps.setBytes(2, next.root());
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setString(4, note);
            ps.setBytes(5, TrailLedger.join(frontier));
            ps.setString(6, tsaStatus);
            ps.setBytes(7, token);
            ps.setString(8, tsaError);
            ps.setString(9, anchorStatus);
            ps.setString(10, anchorError);
            ps.executeUpdate();
        }
        return new TrailLedger.Stored(head, next.root(), now, note, frontier, tsaStatus, token, tsaError,
                anchorStatus, anchorError);
    }

    /** Records a TSA or anchor failure when it starts and when it ends, not at every checkpoint. */
    private void noteFailures(TrailLedger.Stored s) {
        boolean tsaFailed = s.tsaStatus().equals("failed");
        if (tsaFailed != tsaFailing) {
            tsaFailing = tsaFailed;
            record(AuditAction.AUDIT_TIMESTAMP, Outcome.of(!tsaFailed), Map.of("checkpoint", Long.toString(s.size()),
                    "tsa", tsa == null ? "" : tsa.url().toString(), "error", tsaFailed ? s.tsaError() : ""));
            if (tsaFailed) {
                log.warn("audit: checkpoint {} could not be time-stamped: {}", s.size(), s.tsaError());
            }
        }
        boolean anchorFailed = s.anchorStatus().equals("failed");
        if (anchorFailed != anchorFailing) {
            anchorFailing = anchorFailed;
            record(AuditAction.AUDIT_ANCHOR, Outcome.of(!anchorFailed), Map.of("checkpoint", Long.toString(s.size()),
                    "folder", anchor.dir().toString(), "error", anchorFailed ? s.anchorError() : ""));
            if (anchorFailed) {
                log.warn("audit: checkpoint {} could not be anchored: {}", s.size(), s.anchorError());
            }
        }
    }

    private void problem(String found) {
        problem = found;
        if (found != null && !found.equals(recordedProblem)) {
            recordedProblem = found;
            log.error("audit: INTEGRITY PROBLEM: {}", found);
            record(AuditAction.AUDIT_INTEGRITY, Outcome.ERROR, Map.of("problem", found));
            try {
                notifier.notify(new jp.mamori.access.SecurityNotifier.Notice("audit.integrity", Instant.now(), null,
                        Map.of("problem", found), "監査証跡の整合性に問題があります。チェックポイントへの署名を止めました"
                        + " / audit trail integrity problem; checkpoints are not signed: " + found));
            } catch (RuntimeException e) {
                log.warn("audit: the integrity notice could not be sent: {}", e.toString());
            }
        }
    }

    private void record(AuditAction action, Outcome outcome, Map<String, String> detail) {
        if (trail == null) {
            return;
        }
        try {
            new AuditRecorder(trail).system("checkpoint", action, outcome, new LinkedHashMap<>(detail));
        } catch (RuntimeException e) {
            log.warn("audit: could not record {}: {}", action.code, e.toString());
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }

    /** Stops the timer and signs a last checkpoint over what is stored. */
    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        try {
            checkpoint();
        } catch (RuntimeException e) {
            log.warn("audit: the final checkpoint failed: {}", e.toString());
        }
    }
}
