package jp.mamori.web;

import jp.mamori.kernel.FhirError;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The heap that requests may claim at once for their bodies: {@value #SHARE_PERCENT}% of the server's maximum heap
 * ({@code -Xmx}), the rest staying free for everything else (searches, sessions, the audit trail). A request claims
 * its estimated need while it reads its body (twice the bytes read) and again, in full, once the body has been
 * checked ({@link jp.mamori.records.BodyLimits}): a request that alone needs more than the whole budget is a 413
 * naming the budget; one that must wait for others waits at most {@value #WAIT_SECONDS} s, then is a 503. What it
 * claimed is returned when its answer has been made.
 */
public final class MemoryBudget {
    static final int SHARE_PERCENT = 40;
    static final int WAIT_SECONDS = 30;
    private static final long UNIT = 1024;

    private final long capacityUnits;
    private final Semaphore units;

    MemoryBudget(long capacityBytes) {
        this.capacityUnits = Math.max(1, Math.min(Integer.MAX_VALUE, capacityBytes / UNIT));
        this.units = new Semaphore((int) capacityUnits);
    }

    static MemoryBudget forHeap(long maxHeapBytes) {
        return new MemoryBudget(Math.max(32L * 1024 * 1024, maxHeapBytes / 100 * SHARE_PERCENT));
    }

    long capacityBytes() {
        return capacityUnits * UNIT;
    }

    Lease lease() {
        return new Lease();
    }

    /** What one request holds of the budget. Not shared between threads. */
    public final class Lease implements AutoCloseable {
        private long held;

        private Lease() {
        }

        /**
         * Makes what this request holds at least {@code bytes} of heap. A need beyond the whole budget is a 413
         * unless {@code capped}: then the request waits for the whole budget (so that the largest records stored
         * stay readable, one at a time).
         */
        public void reserve(long bytes, boolean capped) {
            long want = (bytes + UNIT - 1) / UNIT;
            if (want > capacityUnits) {
                if (!capped) {
                    throw tooLarge(bytes);
                }
                want = capacityUnits;
            }
            if (want <= held) {
                return;
            }
            int more = (int) (want - held);
            try {
                if (!units.tryAcquire(more, WAIT_SECONDS, TimeUnit.SECONDS)) {
                    throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "大きな要求が同時に処理中です。"
                            + "しばらくしてから再試行してください / too many large requests at once; retry shortly");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "interrupted; retry");
            }
            held = want;
        }

        private FhirError tooLarge(long bytes) {
            long mb = 1024 * 1024;
            return new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "要求が大きすぎます: 処理に約 "
                    + (bytes + mb - 1) / mb + " MB のメモリが必要で、同時に受け付ける上限 " + capacityBytes() / mb
                    + " MB (最大ヒープの " + SHARE_PERCENT + "%) を超えます / the request needs about "
                    + (bytes + mb - 1) / mb + " MB of heap to process, more than the " + capacityBytes() / mb
                    + " MB the server admits at once (" + SHARE_PERCENT + "% of its maximum heap, -Xmx); split the"
                    + " bundle or give the server more heap");
        }

        @Override
        public void close() {
            if (held > 0) {
                units.release((int) held);
                held = 0;
            }
        }
    }
}
