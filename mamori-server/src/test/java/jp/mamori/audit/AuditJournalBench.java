package jp.mamori.audit;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18 §2: the cost of an fsync'ed journal append (degraded mode) against a normal trail append (the database's
 * durable commit), in one run, alternating, at 1 and 16 threads. Not part of the test run (the name does not end in
 * Test); run it alone: {@code ./mvnw -o -q -pl mamori-server test -Dtest=AuditJournalBench
 * -Dsurefire.failIfNoSpecifiedTests=false}. Prints one line per figure; asserts only that appends went on.
 */
class AuditJournalBench {
    static final int SECONDS = 5;

    @Test
    void measure() throws Exception {
        try (TestServer s = TestServer.start(List.of("--audit-checkpoint-seconds", "3600"))) {
            AuditTrail trail = s.server().audit().trail();
            var availability = s.server().database().availability();
            for (int round = 0; round < 2; round++) {
                for (int threads : new int[]{1, 16}) {
                    double normal = rate(trail, threads);
                    availability.enterDegraded("bench"); // the database stays writable: only the sink differs
                    double journal = rate(trail, threads);
                    assertTrue(availability.leaveDegraded("bench"));
                    System.out.printf("BENCH round %d, %d thread(s): trail %.0f appends/s, journal %.0f appends/s,"
                            + " journal/trail %.2f%n", round, threads, normal, journal, journal / normal);
                }
            }
        }
    }

    private static double rate(AuditTrail trail, int threads) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong n = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            int id = t;
            pool.submit(() -> {
                while (!stop.get()) {
                    trail.append(new AuditRecord(java.time.Instant.now(), "account:0000" + id, "person", "山田 太郎",
                            List.of("医師"), "内科", List.of("p-" + n.get() % 5000),
                            List.of("Patient/p-" + n.get() % 5000 + "/_history/1"), "read", "success", "treatment",
                            "192.0.2." + id, "abcdefghijklmnopqrstuvwx", false, Map.of()));
                    n.incrementAndGet();
                }
                return null;
            });
        }
        Thread.sleep(1000);
        long n0 = n.get();
        long t0 = System.nanoTime();
        Thread.sleep(SECONDS * 1000L);
        long n1 = n.get();
        long t1 = System.nanoTime();
        stop.set(true);
        pool.shutdown();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        assertTrue(n1 > n0);
        return (n1 - n0) / ((t1 - t0) / 1e9);
    }
}
