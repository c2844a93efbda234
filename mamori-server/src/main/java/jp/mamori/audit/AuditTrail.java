package jp.mamori.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The one appender of the audit trail, committing entries in groups.
 *
 * <p>Request threads call {@link #append}, which returns only once the entry is durable (committed with
 * {@code synchronous_commit = on}) and throws {@link AuditUnavailable} otherwise: a caller MUST NOT answer the
 * request it records with any data in that case. One writer thread takes everything queued, gives each entry the
 * next sequence number and its predecessor's leaf hash, and stores the group in one transaction that locks the one
 * {@code audit_head} row, inserts the entries, moves the head and commits, then releases the waiters. Usually that
 * transaction is one call of {@code mamori_audit_append} (one round trip): the writer numbers the group from the
 * head it wrote last, and the function writes nothing when the head has moved since (another server process on
 * the same database), in which case the writer reads the head and numbers the group again. Events written by
 * other capabilities land in {@code audit_outbox} in their own transactions (database triggers) and are moved into
 * the trail by the writer's other transaction, ahead of the queued entries of its group, as soon as the function
 * reports that some wait (or, when nothing is queued, every {@link Settings#outboxPoll}, or at once after
 * {@link #drainSoon}). A FHIR write's entry arrives that way too: {@link AuditRecorder#stage} writes it into the outbox in
 * the write's transaction (AUDIT-1, ADR 0006). Each group is stored with its {@link GroupSeal seal} in
 * {@code audit_group}, so that the checkpointer signs only what an appender holding the key stored.
 *
 * <p>The queue is bounded: when it is full, {@link #append} waits a little and then gives up (back-pressure),
 * so an overloaded or unreachable database turns into 503 answers instead of unbounded memory. There is no
 * switch that turns auditing off.
 */
public final class AuditTrail implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param queueCapacity entries waiting for the writer at most
     * @param maxBatch      entries per transaction at most (queued plus outbox)
     * @param enqueueWait   how long {@link #append} waits for room in a full queue
     * @param durableWait   how long {@link #append} waits for its entry to commit
     * @param outboxPoll    how often the writer looks at the outbox when nothing is queued
     * @param gatherWait    how long the writer waits, at most, for the entries of requests that are already being
     *                      answered ({@link #expect}) before it stores a group without them (issue 24)
     */
    public record Settings(int queueCapacity, int maxBatch, Duration enqueueWait, Duration durableWait,
                           Duration outboxPoll, Duration gatherWait) {
        public static final Settings DEFAULT = new Settings(20_000, 1000, Duration.ofSeconds(2),
                Duration.ofSeconds(15), Duration.ofMillis(250), Duration.ofMillis(1));
    }

    /** An entry as stored: its leaf index, canonical bytes and leaf hash. */
    public record Appended(long seq, byte[] entry, byte[] leafHash, AuditRecord record) {
    }

    /**
     * Counters for tests and the benchmark: committed transactions and the entries they held; {@code coming}: requests
     * announced ({@link #expect}) whose entry is not queued yet.
     */
    public record Stats(long transactions, long entries, long failedBatches, int coming) {
    }

    private static final class Pending {
        /** Not an entry: wakes the writer to move outbox rows now ({@link #drainSoon}). */
        static final Pending NUDGE = new Pending(null);
        final AuditRecord record;
        final CountDownLatch done = new CountDownLatch(1);
        volatile long seq = -1;
        volatile Throwable failure;

        Pending(AuditRecord record) {
            this.record = record;
        }
    }

    private final DataSource ds;
    private final Settings settings;
    /** Seals each stored group (null: groups are stored unsealed, which a checkpointer refuses to sign). */
    private final GroupSeal seal;
    private final java.util.concurrent.atomic.AtomicBoolean nudged = new java.util.concurrent.atomic.AtomicBoolean();
    private final BlockingQueue<Pending> queue;
    private final Thread writer;
    private final List<Consumer<Appended>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong entries = new AtomicLong();
    private final AtomicLong failedBatches = new AtomicLong();
    /** When the writer last committed a group (null: not yet in this process), for the health report. */
    private volatile java.time.Instant lastCommitAt;
    /** Told how long each group commit took, in nanoseconds (metrics); none by default. */
    private volatile java.util.function.LongConsumer commitTimes = n -> { };
    /** Requests being answered whose entry is not queued yet ({@link #expect}). */
    private final AtomicInteger coming = new AtomicInteger();
    private volatile boolean closed;
    /** Writer: waiting for announced entries ({@link #gather}). */
    private volatile boolean gathering;
    /** The local journals for degraded mode (issue 18 §2); null: none, appends fail while the database cannot be written. */
    private volatile JournalKeeper journal;
    /** Whether the writer puts groups into the local journal instead of the database. */
    private volatile boolean journaling;
    /** Told when the database refused a group in a way that may pass (read-only, connection lost): enters degraded mode. */
    private volatile Consumer<Throwable> databaseRefused = t -> { };
    /** Work that must run on the writer thread, between groups (a journal's merge). */
    private final java.util.concurrent.ConcurrentLinkedQueue<java.util.concurrent.FutureTask<?>> chores =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Entries written to local journals by this writer. */
    private final AtomicLong journaled = new AtomicLong();

    /**
     * The trail's size as {@code c} sees it: the next entry's seq (a backup's manifest records it; a drill compares a
     * restored trail with it).
     */
    public static long nextSeq(java.sql.Connection c) throws java.sql.SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT next_seq FROM audit_head");
             java.sql.ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0L;
        }
    }

    /** A trail whose groups are not sealed: for tests and tools that never checkpoint. */
    public AuditTrail(DataSource ds, Settings settings) {
        this(ds, settings, null);
    }

    /** @param seal seals every group stored (see {@link GroupSeal}); null stores them unsealed */
    public AuditTrail(DataSource ds, Settings settings, GroupSeal seal) {
        this.ds = ds;
        this.settings = settings;
        this.seal = seal;
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.writer = new Thread(this::run, "mamori-audit-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /**
     * Appends one entry and returns its sequence number once it is durable. The server appends through its
     * {@link AuditRecorder}; tests may append a stored form directly.
     *
     * @throws AuditUnavailable when it could not be stored in time; the caller MUST then refuse to answer
     */
    public long append(AuditRecord r) {
        return append(r, false);
    }

    /**
     * Says that a request is being answered and will {@link #append(AuditRecord, boolean) append} its entry (or call
     * {@link #unexpect}) soon. Every durable commit costs the machine about as much CPU as several reads (the flush
     * and its wake-ups, in the kernel of a virtual machine more than in PostgreSQL), so the writer stores a group
     * only once the entries of the requests already in the server have joined it, or after
     * {@link Settings#gatherWait} at most: fewer, larger groups instead of one commit per handful of entries.
     */
    public void expect() {
        coming.incrementAndGet();
    }

    /** The request announced by {@link #expect} ends without an entry of its own (its write's entry is staged). */
    public void unexpect() {
        coming.decrementAndGet();
    }

    /**
     * As {@link #append(AuditRecord)}; {@code expected}: the request announced itself with {@link #expect}, which this
     * append ends.
     */
    public long append(AuditRecord r, boolean expected) {
        boolean announced = expected;
        try {
            if (closed) {
                throw new AuditUnavailable("the audit trail is closed", null);
            }
            if (jp.mamori.kernel.BenchBuild.UNAUDITED) {
                return -1; // the measurement build only (issue 24); see BenchBuild
            }
            Pending p = new Pending(r);
            try {
                if (!queue.offer(p, settings.enqueueWait().toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AuditUnavailable("the audit queue is full", null);
                }
                if (announced) {
                    announced = false;
                    if (coming.decrementAndGet() <= 0 && gathering) {
                        LockSupport.unpark(writer); // the last one the writer waits for is here
                    }
                }
                if (!p.done.await(settings.durableWait().toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AuditUnavailable("the audit entry was not stored in time", null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AuditUnavailable("interrupted", e);
            }
            if (p.failure != null) {
                throw new AuditUnavailable("the audit entry could not be stored", p.failure);
            }
            return p.seq;
        } finally {
            if (announced) {
                coming.decrementAndGet();
            }
        }
    }

    /**
     * Asks the writer to move outbox rows into the trail now rather than at its next poll: called after a transaction
     * that wrote an entry into the outbox (a FHIR write, {@link AuditRecorder#stage}) commits. Returns at once.
     */
    public void drainSoon() {
        if (!closed && nudged.compareAndSet(false, true) && !queue.offer(Pending.NUDGE)) {
            nudged.set(false); // the queue is full: the writer is busy and sees the outbox anyway
        }
    }

    /** Called on the writer thread after each commit, in sequence order; it MUST return quickly. */
    public void onAppended(Consumer<Appended> listener) {
        listeners.add(listener);
    }

    public Stats stats() {
        return new Stats(transactions.get(), entries.get(), failedBatches.get(), coming.get());
    }

    /** Entries waiting for the writer now (issue 18: health and metrics). */
    public int queued() {
        return queue.size();
    }

    /** How many entries may wait for the writer before {@link #append} refuses. */
    public int capacity() {
        return settings.queueCapacity();
    }

    /** When this process's writer last committed a group; null before its first. */
    public java.time.Instant lastCommitAt() {
        return lastCommitAt;
    }

    /** Tells {@code nanos} how long each group commit took (the metrics' timer); it MUST return at once. */
    public void onCommitTime(java.util.function.LongConsumer nanos) {
        this.commitTimes = nanos;
    }

    // ---------------------------------------------------------------- degraded mode: the local journal (issue 18 §2)

    /** Gives the trail its local journals (ADR 0013 "Journal"); without them appends fail while degraded. */
    void journalTo(JournalKeeper keeper) {
        this.journal = keeper;
    }

    /**
     * From the next group on, entries go to the local journal (degraded mode was entered). Without a journal this does
     * nothing: the database is tried, and an append it refuses fails ({@link AuditUnavailable}).
     */
    void startJournaling() {
        if (journal != null && !journaling) {
            journaling = true;
            log.warn("audit: degraded mode: entries are journaled locally in {} until the database can be written",
                    journal.folder());
        }
    }

    /** Called (on a thread of its own) when the database refused a group with a retryable failure. */
    void onDatabaseRefused(Consumer<Throwable> listener) {
        this.databaseRefused = listener;
    }

    /** The local journals, or null. */
    JournalKeeper journalKeeper() {
        return journal;
    }

    /** Whether entries go to the local journal now. */
    public boolean journaling() {
        return journaling;
    }

    /** Entries this process wrote to local journals. */
    public long journaled() {
        return journaled.get();
    }

    /** The journals' state, for {@link Audit#journal()}; null without journals. */
    JournalKeeper.State journalState() {
        JournalKeeper k = journal;
        return k == null ? null : k.state(journaling);
    }

    /**
     * Merges every local journal into the main trail, on the writer thread between groups (so that what was journaled
     * comes before what is appended afterwards), and turns journaling off; returns the entries stored (the journals'
     * and one {@code journal.merged} or {@code audit.integrity} entry per file).
     *
     * @throws IllegalStateException when a merge failed (the database cannot be written yet): journaling goes on
     */
    public int mergeJournals() {
        JournalKeeper k = journal;
        if (k == null) {
            return 0;
        }
        return onWriter(() -> {
            List<Appended> merged;
            try {
                merged = k.mergeAll(ds, this::storeLocked);
            } catch (Exception e) {
                head = null;
                throw e;
            }
            journaling = false;
            for (Appended a : merged) {
                for (Consumer<Appended> l : listeners) {
                    try {
                        l.accept(a);
                    } catch (RuntimeException e) {
                        log.warn("audit listener failed on entry {}: {}", a.seq(), e.toString());
                    }
                }
            }
            return merged.size();
        }, Duration.ofMinutes(5));
    }

    private <T> T onWriter(java.util.concurrent.Callable<T> work, Duration timeout) {
        if (closed) {
            throw new IllegalStateException("the audit trail is closed");
        }
        java.util.concurrent.FutureTask<T> f = new java.util.concurrent.FutureTask<>(work);
        if (Thread.currentThread() == writer) {
            f.run();
        } else {
            chores.add(f);
            if (nudged.compareAndSet(false, true) && !queue.offer(Pending.NUDGE)) {
                nudged.set(false);
            }
        }
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            throw new IllegalStateException("audit: " + c, c);
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(false);
            throw new IllegalStateException("audit: the writer did not run the merge in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void runChores() {
        java.util.concurrent.FutureTask<?> f;
        while ((f = chores.poll()) != null) {
            f.run();
        }
    }

    /** Stores records under the head lock that the connection's transaction holds (a journal's merge). */
    private List<Appended> storeLocked(Connection c, List<AuditRecord> records) throws SQLException {
        Head from;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head FOR UPDATE")) {
            if (!rs.next()) {
                throw new SQLException("audit_head has no row");
            }
            from = new Head(rs.getLong(1), rs.getBytes(2));
        }
        List<Appended> out = store(c, from, records, new long[0]);
        if (out == null) {
            throw new SQLException("audit: the head moved while it was locked");
        }
        committed(out.size());
        return out;
    }

    /** Writer thread: stores a group in the local journal, durable (forced) before its waiters are released. */
    private void journalBatch(List<Pending> batch) {
        List<AuditRecord> records = new ArrayList<>(batch.size());
        batch.forEach(p -> records.add(p.record));
        try {
            List<Appended> out = journal.append(records, this::trailHeadForJournal);
            for (int i = 0; i < out.size(); i++) {
                batch.get(i).seq = out.get(i).seq();
            }
            journaled.addAndGet(out.size());
            lastCommitAt = java.time.Instant.now();
        } catch (java.io.IOException | RuntimeException e) {
            failedBatches.incrementAndGet();
            log.error("audit: a group of {} entries could not be journaled (answers are refused): {}", batch.size(),
                    e.toString());
            for (Pending p : batch) {
                p.failure = e;
            }
        }
        for (Pending p : batch) {
            p.done.countDown();
        }
    }

    /** Where a new journal continues the main trail: the head this writer last knew, else the database's, else unknown. */
    private byte[] trailHeadForJournal(long[] size) {
        Head h = known;
        if (h == null) {
            try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head")) {
                if (rs.next()) {
                    h = new Head(rs.getLong(1), rs.getBytes(2));
                }
            } catch (SQLException | RuntimeException e) {
                log.warn("audit: the trail's head is unknown; the journal numbers its entries from 0: {}", e.toString());
            }
        }
        size[0] = h == null ? -1 : h.nextSeq();
        return h == null ? null : h.lastLeaf();
    }

    // ---------------------------------------------------------------- the writer

    /** The head as this writer last committed it. */
    private record Head(long nextSeq, byte[] lastLeaf) {
    }

    /** Writer thread only: the head it last wrote or read, null when it must read it again (start, failure). */
    private Head head;
    /** Writer thread only: the last head it wrote or read, kept across failures (where a journal continues). */
    private Head known;
    /** Writer thread only: whether events wait in the outbox (as the last transaction saw it). */
    private boolean outboxWaiting = true;

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            batch.clear();
            try {
                Pending first = queue.poll(settings.outboxPoll().toMillis(), TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, settings.maxBatch() - 1);
                    gather(batch);
                }
                if (batch.remove(Pending.NUDGE)) {
                    nudged.set(false);
                    outboxWaiting = true;
                }
            } catch (InterruptedException e) {
                if (!closed) {
                    continue;
                }
            }
            runChores();
            if (journaling && journal != null) {
                if (!batch.isEmpty()) {
                    journalBatch(batch);
                }
                continue;
            }
            List<Appended> written;
            try {
                // one round trip when this writer knows the head (two when outbox rows wait: they are read first and
                // moved by the same call); otherwise (and when another server process moved the head or took an
                // outbox row meanwhile) the transaction that reads the head and the outbox
                boolean quick = head != null && (!batch.isEmpty() || outboxWaiting);
                long began = System.nanoTime();
                written = quick ? appendGroup(batch) : null;
                if (written == null) {
                    written = write(batch);
                }
                if (!written.isEmpty()) {
                    lastCommitAt = java.time.Instant.now();
                    commitTimes.accept(System.nanoTime() - began);
                }
            } catch (Throwable t) {
                head = null;
                if (journal != null && !batch.isEmpty() && jp.mamori.db.Availability.retryable(t)) {
                    // The database turned read-only (or went away) before the monitor noticed: these requests are
                    // waiting, and a durable place exists. Degraded mode is entered here (the monitor would within
                    // seconds) and this group is journaled, rather than refusing answers the journal can cover.
                    log.warn("audit: the database refused a group ({}); journaling locally", t.toString());
                    journaling = true;
                    // on another thread: the mode's listeners may record entries, which need this writer
                    Consumer<Throwable> refused = databaseRefused;
                    Thread.ofPlatform().daemon().name("mamori-audit-degraded").start(() -> {
                        try {
                            refused.accept(t);
                        } catch (RuntimeException e) {
                            log.warn("audit: entering degraded mode failed: {}", e.toString());
                        }
                    });
                    journalBatch(batch);
                    continue;
                }
                failedBatches.incrementAndGet();
                log.error("audit: a batch of {} entries could not be stored: {}", batch.size(), t.toString());
                for (Pending p : batch) {
                    p.failure = t;
                    p.done.countDown();
                }
                continue;
            }
            for (Pending p : batch) {
                p.done.countDown();
            }
            for (Appended a : written) {
                for (Consumer<Appended> l : listeners) {
                    try {
                        l.accept(a);
                    } catch (RuntimeException e) {
                        log.warn("audit listener failed on entry {}: {}", a.seq(), e.toString());
                    }
                }
            }
        }
    }

    /**
     * Waits, at most {@link Settings#gatherWait}, for the entries of requests already being answered ({@link #expect})
     * to join the group: an appending thread wakes the writer when it is the last one (issue 24). A fifth of that
     * passing without any arrival ends the wait early, so that one slow request delays a group by 0.2 ms, not 1 ms.
     */
    private void gather(List<Pending> batch) {
        long waitNanos = settings.gatherWait().toNanos();
        if (waitNanos <= 0 || coming.get() <= 0) {
            return;
        }
        long deadline = System.nanoTime() + waitNanos;
        // a request that is slow to answer (a large search) must not hold up every group: stop as soon as a quiet
        // slice passes in which no announced entry arrived
        long slice = Math.max(1, waitNanos / 5);
        gathering = true;
        try {
            while (coming.get() > 0 && batch.size() < settings.maxBatch() && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                LockSupport.parkNanos(this, Math.min(left, slice));
                if (queue.drainTo(batch, settings.maxBatch() - batch.size()) == 0
                        && System.nanoTime() - (deadline - left) >= slice) {
                    break; // a whole slice without an arrival: the rest are not about to come
                }
            }
        } finally {
            gathering = false;
        }
        queue.drainTo(batch, settings.maxBatch() - batch.size());
    }

    /**
     * The usual case, one round trip: number and chain the group from the head this writer last wrote and hand it
     * to {@code mamori_audit_append} (V12), which stores and commits it durably. Null when the head had moved.
     */
    private List<Appended> appendGroup(List<Pending> batch) throws SQLException {
        List<Appended> out;
        int fromOutbox;
        int limit = Math.max(1, settings.maxBatch() - batch.size());
        try (Connection c = ds.getConnection()) {
            List<OutboxRow> rows = outboxWaiting ? outbox(c, limit, false) : List.of();
            fromOutbox = rows.size();
            List<AuditRecord> records = new ArrayList<>(rows.size() + batch.size());
            rows.forEach(r -> records.add(r.record()));
            batch.forEach(p -> records.add(p.record));
            if (records.isEmpty()) {
                outboxWaiting = false;
                return List.of();
            }
            out = store(c, head, records, rows.stream().mapToLong(OutboxRow::id).toArray());
        }
        if (out != null) {
            committed(out.size());
            outboxWaiting |= fromOutbox >= limit;
            assignSeqs(batch, out, fromOutbox);
        }
        return out;
    }

    /**
     * Numbers and chains {@code records} from {@code from} and stores them with {@code mamori_audit_append}, in the
     * connection's transaction or (autocommit) its own. Null, with nothing written, when the head is not {@code from}.
     */
    private List<Appended> store(Connection c, Head from, List<AuditRecord> records, long[] outboxIds)
            throws SQLException {
        int n = records.size();
        List<Appended> out = new ArrayList<>(n);
        ByteArrayOutputStream lines = new ByteArrayOutputStream(n * 640);
        long seq = from.nextSeq();
        byte[] prev = from.lastLeaf();
        for (int i = 0; i < n; i++) {
            AuditRecord r = records.get(i);
            byte[] entry = EntryCodec.encode(seq, prev, r);
            byte[] leaf = EntryCodec.leafHash(entry);
            if (i > 0) {
                lines.write('\n'); // a canonical entry is one line: JSON escapes every control character
            }
            lines.writeBytes(entry);
            out.add(new Appended(seq, entry, leaf, r));
            seq++;
            prev = leaf;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT appended, outbox_waiting, last_leaf FROM mamori_audit_append(?, ?, ?, ?, ?)")) {
            ps.setLong(1, from.nextSeq());
            ps.setBytes(2, from.lastLeaf());
            ps.setBytes(3, lines.toByteArray());
            ps.setBytes(4, seal == null ? null : seal.seal(from.nextSeq(), out.stream().map(Appended::leafHash).toList()));
            Long[] ids = new Long[outboxIds.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = outboxIds[i];
            }
            ps.setArray(5, c.createArrayOf("bigint", ids));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                outboxWaiting = rs.getBoolean(2);
                if (!rs.getBoolean(1)) {
                    head = null;
                    return null;
                }
                if (!java.util.Arrays.equals(prev, rs.getBytes(3))) {
                    throw new SQLException("audit: the database computed another last leaf hash than the writer");
                }
            }
        }
        head = new Head(seq, prev);
        known = head;
        return out;
    }

    private void committed(int n) {
        transactions.incrementAndGet();
        entries.addAndGet(n);
    }

    private static void assignSeqs(List<Pending> batch, List<Appended> out, int fromOutbox) {
        Iterator<Pending> it = batch.iterator();
        for (int i = fromOutbox; i < out.size(); i++) {
            it.next().seq = out.get(i).seq();
        }
    }

    /**
     * The transaction that reads the head (and so works after another process appended) and moves waiting outbox
     * events into the trail ahead of the queued group.
     */
    private List<Appended> write(List<Pending> batch) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                Head from;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head FOR UPDATE")) {
                    if (!rs.next()) {
                        throw new SQLException("audit_head has no row");
                    }
                    from = new Head(rs.getLong(1), rs.getBytes(2));
                }
                int limit = Math.max(1, settings.maxBatch() - batch.size());
                List<AuditRecord> records = new ArrayList<>(outbox(c, limit, true).stream().map(OutboxRow::record)
                        .toList());
                int fromOutbox = records.size();
                batch.forEach(p -> records.add(p.record));
                if (records.isEmpty()) {
                    c.rollback();
                    head = from;
                    known = from;
                    outboxWaiting = false;
                    return List.of();
                }
                List<Appended> out = store(c, from, records, new long[0]);
                if (out == null) {
                    throw new SQLException("audit: the head moved while it was locked");
                }
                c.commit();
                committed(out.size());
                outboxWaiting |= fromOutbox >= limit;
                assignSeqs(batch, out, fromOutbox);
                return out;
            } catch (SQLException | RuntimeException e) {
                head = null;
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** An outbox row and the entry it becomes. */
    private record OutboxRow(long id, AuditRecord record) {
    }

    /**
     * Up to {@code limit} outbox rows, oldest first: with {@code take}, moved into this transaction (deleted; the
     * head lock serialises such drains); without, only read, for {@code mamori_audit_append} to delete with the
     * group that holds them (or to refuse the group when another process took one meanwhile).
     */
    private static List<OutboxRow> outbox(Connection c, int limit, boolean take) throws SQLException {
        String columns = "outbox_id, at, actor, actor_kind, actor_display, patients, action, outcome, purpose,"
                + " resources, address, session_hash, break_glass, detail::text, roles, department";
        List<OutboxRow> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(take ? "DELETE FROM audit_outbox WHERE outbox_id IN (SELECT"
                + " outbox_id FROM audit_outbox ORDER BY outbox_id LIMIT ?) RETURNING " + columns
                : "SELECT " + columns + " FROM audit_outbox ORDER BY outbox_id LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String kind = AuditRecord.KINDS.contains(rs.getString(4)) ? rs.getString(4) : "system";
                    String outcome = AuditRecord.OUTCOMES.contains(rs.getString(8)) ? rs.getString(8) : "error";
                    rows.add(new OutboxRow(rs.getLong(1), new AuditRecord(rs.getTimestamp(2).toInstant(),
                            rs.getString(3), kind, rs.getString(5), strings(rs.getArray(15)), rs.getString(16),
                            strings(rs.getArray(6)),
                            strings(rs.getArray(10)), rs.getString(7), outcome, rs.getString(9), rs.getString(11),
                            rs.getString(12), rs.getBoolean(13), detail(rs.getString(14)))));
                }
            }
        }
        rows.sort(Comparator.comparingLong(OutboxRow::id));
        return rows;
    }

    static List<String> strings(Array a) throws SQLException {
        if (a == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Object o : (Object[]) a.getArray()) {
            if (o != null) {
                out.add(o.toString());
            }
        }
        return out;
    }

    private static Map<String, String> detail(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        if (json == null) {
            return out;
        }
        try {
            JsonNode n = JSON.readTree(json);
            n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
                    : e.getValue().toString()));
        } catch (java.io.IOException e) {
            out.put("raw", json);
        }
        return out;
    }

    /** Stores what is queued, then stops the writer (a journal being written stays for the next start to merge). */
    @Override
    public void close() {
        closed = true;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        JournalKeeper k = journal;
        if (k != null && !writer.isAlive()) {
            k.closeCurrent();
        }
    }
}
