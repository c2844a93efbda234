package jp.mamori.web;

import jp.mamori.kernel.FhirError;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body that refuses to grow past the configured limit (413), and claims heap from its request's
 * {@link MemoryBudget} as it arrives (a body of unknown length, a megabyte at a time), so that too many large bodies
 * are refused or kept waiting while they stream in rather than after they fill the heap.
 */
final class LimitedInputStream extends FilterInputStream {
    private static final long STEP = 1024 * 1024;
    private final long limit;
    private final MemoryBudget.Lease lease;
    private long count;
    private long claimed;

    LimitedInputStream(InputStream in, long limit, MemoryBudget.Lease lease) {
        super(in);
        this.limit = limit;
        this.lease = lease;
    }

    static FhirError tooLarge(long limit) {
        return new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "本文が大きすぎます: 上限は " + limit
                + " バイトです / the request body exceeds the limit of " + limit + " bytes (--max-body)");
    }

    private void add(long n) {
        if (n > 0) {
            count += n;
            if (count > limit) {
                throw tooLarge(limit);
            }
            if (count > claimed && lease != null) {
                claimed = Math.min(limit, (count / STEP + 1) * STEP);
                lease.reserve(2 * claimed, false);
            }
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            add(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        add(n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long s = super.skip(n);
        add(s);
        return s;
    }
}
