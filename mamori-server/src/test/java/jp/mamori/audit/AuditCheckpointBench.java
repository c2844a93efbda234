package jp.mamori.audit;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Figures for docs/performance.md, "Audit trail (server)": sustained appends per second through the one appender,
 * the size of an entry on disk, and the cost of a checkpoint over 1,000,000 new entries. Not part of the test run
 * (the name does not end in Test); run it alone:
 * {@code ./mvnw -o -q -pl mamori-server test -Dtest=AuditCheckpointBench -Dsurefire.failIfNoSpecifiedTests=false}.
 * Prints one line per figure; asserts only what the figures rest on (appends went on, the checkpoint covers the
 * bulk entries, the proof is for that checkpoint), never a speed.
 */
class AuditCheckpointBench {
    static final int THREADS = 16;
    static final int SECONDS = 10;
    static final int BULK = 1_000_000;

    @Test
    void measure() throws Exception {
        try (TestServer s = TestServer.start(List.of())) {
            AuditTrail trail = s.server().audit().trail();
            Checkpointer cp = s.server().audit().checkpointer();

            // 1. Sustained appends: 16 threads, each waiting for its entry to be durable, as requests do.
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong n = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                pool.submit(() -> {
                    while (!stop.get()) {
                        trail.append(new AuditRecord(java.time.Instant.now(), "account:0000" + id, "person",
                                "山田 太郎", List.of("医師"), "内科", List.of("p-" + n.get() % 5000),
                                List.of("Patient/p-" + n.get() % 5000 + "/_history/1"), "read", "success", "treatment",
                                "192.0.2." + id, "abcdefghijklmnopqrstuvwx", false, Map.of()));
                        n.incrementAndGet();
                    }
                    return null;
                });
            }
            Thread.sleep(2000);
            long n0 = n.get();
            AuditTrail.Stats st0 = trail.stats();
            long t0 = System.nanoTime();
            Thread.sleep(SECONDS * 1000L);
            long n1 = n.get();
            AuditTrail.Stats st1 = trail.stats();
            double secs = (System.nanoTime() - t0) / 1e9;
            stop.set(true);
            pool.shutdown();
            pool.awaitTermination(30, TimeUnit.SECONDS);
            assertTrue(n1 > n0 && st1.entries() > st0.entries(), "entries were appended while measuring");
            System.out.printf(Locale.ROOT, "appends: %d threads, %.0f entries/s, %.1f entries per transaction%n",
                    THREADS, (n1 - n0) / secs, (double) (st1.entries() - st0.entries())
                            / Math.max(1, st1.transactions() - st0.transactions()));

            // The server's own checkpointer signs every 10 s; holding its lock (checkpoint() is synchronized) keeps it
            // from signing the entries below before the measured checkpoint does.
            long head;
            TrailLedger.Stored big;
            double cps;
            long peak = 0;
            synchronized (cp) {
                cp.checkpoint(); // what was appended so far is signed now (or was by the last tick)
                try (Connection c = s.superuserConnection(); Statement q = c.createStatement()) {
                    q.execute("VACUUM ANALYZE audit_log");
                    try (ResultSet rs = q.executeQuery("SELECT pg_total_relation_size('audit_log') + pg_total_relation_size('audit_report'), count(*),"
                            + " avg(octet_length(entry)) FROM audit_log")) {
                        rs.next();
                        System.out.printf(Locale.ROOT, "entry size: %d entries, %.0f bytes on disk each with indexes,"
                                        + " canonical entry %.0f bytes%n", rs.getLong(2),
                                rs.getLong(1) / (double) rs.getLong(2), rs.getDouble(3));
                    }

                    // 2. 1,000,000 entries appended behind the checkpointer (as after a long outage of it), then one
                    //    checkpoint over them: read leaf hashes, extend the tree, store subtree hashes, sign. They
                    //    are one group sealed with the trail's key, as an appender seals what it stores (unsealed
                    //    entries are refused by the checkpointer).
                    c.setAutoCommit(false);
                    try (ResultSet rs = q.executeQuery("SELECT next_seq FROM audit_head FOR UPDATE")) {
                        rs.next();
                        head = rs.getLong(1);
                    }
                    q.executeUpdate("INSERT INTO audit_log (seq, entry, leaf_hash)"
                            + " SELECT g, e, sha256('\\x00'::bytea || e) FROM (SELECT g,"
                            + " convert_to('{\"seq\":' || g || ',\"time\":\"2026-01-01T00:00:00.000000Z\","
                            + "\"actor\":\"account:bench\",\"kind\":\"person\",\"action\":\"read\","
                            + "\"outcome\":\"success\",\"purpose\":\"treatment\"}', 'UTF8') AS e FROM generate_series(" + head + ", "
                            + (head + BULK - 1) + ") g) x");
                    List<byte[]> leaves = new ArrayList<>(BULK);
                    try (ResultSet rs = q.executeQuery("SELECT leaf_hash FROM audit_log WHERE seq >= " + head
                            + " ORDER BY seq")) {
                        while (rs.next()) {
                            leaves.add(rs.getBytes(1));
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO audit_group (first_seq, next_seq, seal) VALUES (?, ?, ?)")) {
                        ps.setLong(1, head);
                        ps.setLong(2, head + BULK);
                        ps.setBytes(3, GroupSeal.of(cp.signer()).seal(head, leaves));
                        ps.executeUpdate();
                    }
                    q.executeUpdate("UPDATE audit_head SET next_seq = " + (head + BULK) + ", last_leaf = (SELECT"
                            + " leaf_hash FROM audit_log WHERE seq = " + (head + BULK - 1) + ")");
                    c.commit();
                    c.setAutoCommit(true);
                    q.execute("VACUUM ANALYZE audit_log");
                }
                System.gc();
                long heap0 = used();
                long c0 = System.nanoTime();
                big = cp.checkpoint();
                cps = (System.nanoTime() - c0) / 1e9;
                peak = Math.max(peak, used() - heap0);
            }
            assertTrue(big != null && big.size() >= head + BULK, "the checkpoint signs the bulk entries: " + big);
            System.out.printf(Locale.ROOT, "checkpoint over %d new entries (tree size %d): %.2f s, heap grew %.0f MB%n",
                    big.size() - head, big.size(), cps, peak / 1e6);
            try (Connection c = s.superuserConnection(); Statement q = c.createStatement();
                 ResultSet rs = q.executeQuery("SELECT count(*), pg_total_relation_size('audit_subtree')"
                         + " FROM audit_subtree")) {
                rs.next();
                System.out.printf(Locale.ROOT, "subtree hashes: %d rows, %d bytes%n", rs.getLong(1), rs.getLong(2));
            }
            // 3. A proof at that size, from the stored hashes.
            long p0 = System.nanoTime();
            try (Connection c = s.superuserConnection()) {
                var proof = TrailLedger.inclusion(c, big.size() / 3, null);
                assertEquals(big.size(), proof.checkpoint().checkpoint().size(), "a proof for the newest checkpoint");
            }
            System.out.printf(Locale.ROOT, "inclusion proof at size %d: %.1f ms%n", big.size(),
                    (System.nanoTime() - p0) / 1e6);
        }
    }

    private static long used() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
