package jp.mamori.web;

import jp.mamori.records.FhirError;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A request body that refuses to grow past the configured limit (413). */
final class LimitedInputStream extends FilterInputStream {
    private final long limit;
    private long count;

    LimitedInputStream(InputStream in, long limit) {
        super(in);
        this.limit = limit;
    }

    static FhirError tooLarge(long limit) {
        return new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "the request body exceeds the limit of "
                + limit + " bytes (--max-body) / 本文が大きすぎます");
    }

    private void add(long n) {
        if (n > 0) {
            count += n;
            if (count > limit) {
                throw tooLarge(limit);
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
