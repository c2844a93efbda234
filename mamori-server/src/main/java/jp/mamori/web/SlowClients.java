package jp.mamori.web;

import jp.mamori.config.ServerConfig;
import jp.mamori.kernel.FhirError;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.SelectableChannelEndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps slow and numerous connections from holding the listener (STORE-8: availability for continuity of care).
 * Jetty's idle timeout restarts with every byte, so a client sending one header byte every few seconds would
 * otherwise keep its connection, and a thread's worth of buffers, for as long as it likes; and Jetty 12.1's
 * {@code HttpConfiguration.setMinRequestDataRate} is stored but not enforced. Three limits, from
 * {@link ServerConfig.ListenerOptions}:
 * <ul>
 * <li>Headers: a request's line and headers must be complete {@code headerSeconds} after the connection opened
 * (so a TLS handshake sent slowly counts too) or, for a later request on a kept-alive connection, after its first
 * byte. Otherwise the connection is closed without an answer. A sweep checks every connection's HTTP parser a few
 * times per deadline, so a connection is closed at most about a quarter of the deadline after it passed.</li>
 * <li>Bodies: once a handler has waited {@code headerSeconds} in all for body bytes, they must have come at
 * {@code minBodyBytesPerSecond} on average over that waiting, else the read fails with 408 and the connection
 * closes. Only time spent waiting for the client counts, so a legitimate large upload at any normal rate, or a
 * request queued behind others before its body is read, is never cut.</li>
 * <li>Connections per remote address: one more than {@code maxConnectionsPerAddress} is closed as it opens.</li>
 * </ul>
 * What was cut is logged at most once a minute, with the count since the last line.
 */
final class SlowClients extends AbstractLifeCycle implements Connection.Listener {
    private static final Logger log = LoggerFactory.getLogger(SlowClients.class);

    private final long headerNanos;
    private final long minBodyRate;
    private final int maxPerAddress;
    /** The HTTP/1.1 connections (the decrypted side under TLS) and when each opened. */
    private final Map<HttpConnection, Track> tracked = new ConcurrentHashMap<>();
    /** Open network connections per remote address, and which connections were counted. */
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    /** The address each counted connection was counted under (a closed channel no longer says). */
    private final Map<Connection, InetAddress> counted = new ConcurrentHashMap<>();
    private final Notes notes = new Notes();
    private ScheduledExecutorService sweeper;

    SlowClients(ServerConfig.ListenerOptions o) {
        this.headerNanos = TimeUnit.SECONDS.toNanos(o.headerSeconds());
        this.minBodyRate = o.minBodyBytesPerSecond();
        this.maxPerAddress = o.maxConnectionsPerAddress();
    }

    private static final class Track {
        final long opened = System.nanoTime();
        long requests;
        /** When a later request's first byte was seen; -1 while none is arriving. */
        long since = -1;
    }

    @Override
    protected void doStart() {
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-slow-clients");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(100, TimeUnit.NANOSECONDS.toMillis(headerNanos) / 4);
        sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        sweeper.shutdownNow();
    }

    @Override
    public void onOpened(Connection c) {
        if (c instanceof HttpConnection h) {
            tracked.put(h, new Track());
        }
        if (maxPerAddress > 0 && c.getEndPoint() instanceof SelectableChannelEndPoint) {
            InetAddress a = address(c.getEndPoint().getRemoteSocketAddress());
            if (a != null) {
                counted.put(c, a);
                int n = perAddress.merge(a, 1, Integer::sum);
                if (n > maxPerAddress) {
                    notes.add("refused", a + " (more than " + maxPerAddress + " connections)");
                    c.getEndPoint().close();
                }
            }
        }
    }

    @Override
    public void onClosed(Connection c) {
        if (c instanceof HttpConnection h) {
            tracked.remove(h);
        }
        InetAddress a = counted.remove(c);
        if (a != null) {
            perAddress.computeIfPresent(a, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    private static InetAddress address(SocketAddress s) {
        return s instanceof InetSocketAddress i ? i.getAddress() : null;
    }

    /** Closes connections whose current request's headers are overdue. Reads the parser's state unlocked: a
     * stale read only delays a close to the next sweep. */
    private void sweep() {
        try {
            long now = System.nanoTime();
            for (Map.Entry<HttpConnection, Track> e : tracked.entrySet()) {
                HttpConnection h = e.getKey();
                Track t = e.getValue();
                if (!h.getEndPoint().isOpen()) {
                    continue;
                }
                long requests = h.getMessagesIn(); // counts requests whose headers were complete
                HttpParser p = h.getParser();
                if (requests != t.requests) {
                    t.requests = requests;
                    t.since = -1;
                }
                long from;
                if (requests == 0) {
                    from = t.opened;
                } else if (p.inHeaderState() && !p.isStart()) {
                    if (t.since < 0) {
                        t.since = now;
                    }
                    from = t.since;
                } else {
                    t.since = -1;
                    continue;
                }
                if (now - from > headerNanos) {
                    tracked.remove(h);
                    notes.add("closed", address(h.getEndPoint().getRemoteSocketAddress())
                            + " (request headers not complete within " + TimeUnit.NANOSECONDS.toSeconds(headerNanos)
                            + " s)");
                    h.getEndPoint().close();
                }
            }
            notes.flush();
        } catch (RuntimeException e) {
            log.warn("slow-client sweep failed: {}", e.toString());
        }
    }

    /** The handler with body reads held to the minimum rate. */
    Handler bodyRate(Handler next) {
        if (minBodyRate == 0) {
            return next;
        }
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return super.handle(new MinRate(request, response), response, callback);
            }
        };
    }

    /** A request whose body reads fail with 408 once the client has been waited for too long for too little. */
    private final class MinRate extends Request.Wrapper {
        private final Response response;
        private final AtomicLong waited = new AtomicLong();
        private long bytes;

        MinRate(Request request, Response response) {
            super(request);
            this.response = response;
        }

        @Override
        public void demand(Runnable then) {
            long start = System.nanoTime();
            super.demand(() -> {
                waited.addAndGet(System.nanoTime() - start);
                then.run();
            });
        }

        @Override
        public Content.Chunk read() {
            Content.Chunk c = super.read();
            if (c != null) {
                if (c.isLast() || Content.Chunk.isFailure(c)) {
                    return c; // all of it is here, or the read failed anyway
                }
                bytes += c.remaining();
            }
            long w = waited.get();
            if (w >= headerNanos && bytes * 1_000_000_000.0 < (double) minBodyRate * w) {
                if (c != null) {
                    c.release();
                }
                notes.add("cut", Request.getRemoteAddr(this) + " (request body at " + Math.round(bytes
                        * 1e9 / w) + " bytes/s)");
                if (!response.isCommitted()) {
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                }
                throw new FhirError(408, OperationOutcome.IssueType.TIMEOUT, "本文の受信が遅すぎるため打ち切りました"
                        + " / the request body arrived slower than " + minBodyRate + " bytes per second and was cut off");
            }
            return c;
        }
    }

    /** What was cut, logged at most once a minute. */
    private static final class Notes {
        private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
        private final Map<String, String> examples = new ConcurrentHashMap<>();
        private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));

        void add(String what, String example) {
            counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
            examples.put(what, example);
            flush();
        }

        void flush() {
            long last = lastLog.get();
            long now = System.nanoTime();
            if (counts.values().stream().allMatch(n -> n.get() == 0) || now - last < TimeUnit.MINUTES.toNanos(1) || !lastLog.compareAndSet(last, now)) {
                return;
            }
            for (Map.Entry<String, AtomicLong> e : counts.entrySet()) {
                long n = e.getValue().getAndSet(0);
                if (n > 0) {
                    log.warn("slow or excess connections: {} {} since the last report, e.g. {}", e.getKey(), n,
                            examples.get(e.getKey()));
                }
            }
        }
    }
}
