package jp.mamori.preservation;

import jp.mamori.kernel.Activity;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A backup that yields the disk while people are served (issue 16: a running backup may cost the FHIR reads and
 * searches at most 10 %). Idle priority alone does not do it: the cost is mostly the disk, whose flushes the audit
 * trail's durable commits wait behind (every read writes an audit entry), and an idle I/O class has no effect under
 * the multi-queue schedulers of virtual disks. So while a request was served within the last second, what a backup
 * writes is paced to {@code busyBytesPerSecond}, and the folder flushes its parts every {@link #FLUSH_EVERY} bytes
 * (so that no large burst of dirty pages stalls the database's own flushes); on an idle server (the nightly backup)
 * it runs unpaced.
 */
final class BusyThrottle implements PartSink {
    /** How fast a backup writes while the server is serving: 24 MiB/s unless {@code -Dmamori.backup.busyMiBps}. */
    static final long DEFAULT_BUSY_BYTES_PER_SECOND = 24L << 20;
    static final long FLUSH_EVERY = 8L << 20;
    private static final long WINDOW = TimeUnit.SECONDS.toNanos(1);

    /** Waits; in tests a clock that moves only when waited on. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    private final PartSink next;
    private final long busyBytesPerSecond;
    private final BooleanSupplier busy;
    private final LongSupplier nanos;
    private final Sleeper sleeper;

    BusyThrottle(PartSink next) {
        this(next, Long.getLong("mamori.backup.busyMiBps", DEFAULT_BUSY_BYTES_PER_SECOND >> 20) << 20,
                () -> Activity.busy(WINDOW), System::nanoTime, TimeUnit.NANOSECONDS::sleep);
    }

    BusyThrottle(PartSink next, long busyBytesPerSecond, BooleanSupplier busy, LongSupplier nanos, Sleeper sleeper) {
        this.next = next;
        this.busyBytesPerSecond = Math.max(1L << 20, busyBytesPerSecond);
        this.busy = busy;
        this.nanos = nanos;
        this.sleeper = sleeper;
    }

    @Override
    public OutputStream create(String partName) throws IOException {
        return new Paced(next.create(partName));
    }

    /** Paces what goes to the sink's part; the part is flushed and committed by the sink itself. */
    private final class Paced extends FilterOutputStream implements PartSink.Abortable {
        private long windowStart = nanos.getAsLong();
        private long inWindow;

        Paced(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            long now = nanos.getAsLong();
            boolean serving = busy.getAsBoolean();
            if (!serving || now - windowStart > WINDOW * 4) {
                windowStart = now; // idle, or a fresh window now and then: no debt carried over
                inWindow = 0;
                if (!serving) {
                    return;
                }
            }
            inWindow += len;
            long wait = windowStart + inWindow * 1_000_000_000L / busyBytesPerSecond - now;
            if (wait > 0) {
                try {
                    sleeper.sleep(Math.min(wait, TimeUnit.SECONDS.toNanos(2)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("the backup was interrupted");
                }
            }
        }

        @Override
        public void abort() {
            PartSink.abort(out);
        }
    }
}
