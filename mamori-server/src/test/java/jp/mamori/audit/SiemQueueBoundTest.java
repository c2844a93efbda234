package jp.mamori.audit;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocketFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * While the SIEM is away, the entries waiting for it are bounded in bytes as well as in number: a write's entry names
 * every version it wrote with its hashes (issue 17), so a run of large transactions cannot fill the heap; the oldest
 * are dropped and counted instead.
 */
class SiemQueueBoundTest {
    @Test
    void largeEntriesWaitingForAnAbsentReceiverStayWithinTheByteBound() {
        // port 1 on loopback: nobody listens, every connection attempt is refused and retried later
        try (SiemForwarder f = new SiemForwarder("127.0.0.1", 1, "test", (SSLSocketFactory) SSLSocketFactory.getDefault())) {
            byte[] entry = new byte[1024 * 1024];
            int n = 100;
            for (int i = 0; i < n; i++) {
                f.offer(new AuditTrail.Appended(i, entry, new byte[32], null));
            }
            assertTrue(f.waitingBytes() <= SiemForwarder.MAX_WAITING_BYTES, "waiting " + f.waitingBytes());
            long kept = f.waitingBytes() / entry.length;
            assertTrue(f.dropped() >= n - 64 - 1, "dropped " + f.dropped());
            assertEquals(0, f.sent());
            assertTrue(kept >= 60, "the newest are kept: " + kept);
        }
    }
}
