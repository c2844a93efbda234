package jp.mamori.audit;

import jp.mamori.kernel.SyslogTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forwards every stored entry in real time to a SIEM (AUDIT-6) as an RFC 5424 message over TLS syslog
 * (RFC 5425), over one kept-open connection: MSGID {@code audit}, the entry's key facts as structured data
 * under {@code mamori-audit@32473}, and the canonical entry line itself as the message, so the receiver holds
 * bytes it can verify against the trail.
 *
 * <p>The trail in the database stays the record: forwarding never delays an append. Entries wait in a bounded
 * queue while the receiver is away and are retried in order; when even that overflows, the oldest waiting are
 * dropped and counted, and the gap shows at the receiver as missing sequence numbers.
 */
public final class SiemForwarder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SiemForwarder.class);
    /** facility log audit (13) * 8 + notice (5). */
    static final int PRI = 13 * 8 + 5;
    static final String SD_ID = "mamori-audit@32473";

    private final String host;
    private final int port;
    private final String hostname;
    private final SSLSocketFactory tls;
    private final BlockingQueue<AuditTrail.Appended> queue = new ArrayBlockingQueue<>(100_000);
    private final Thread sender;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /** When an entry last reached the collector; null before the first (health report). */
    private volatile java.time.Instant lastSentAt;
    /** The last failure to reach the collector since the last success; null when the link works. */
    private volatile String lastError;
    /** At most this many bytes of entries wait for the receiver (64 MiB). */
    static final long MAX_WAITING_BYTES = 64L * 1024 * 1024;
    private final AtomicLong waitingBytes = new AtomicLong();
    private volatile boolean closed;

    public SiemForwarder(String host, int port, String hostname, SSLSocketFactory tls) {
        this.host = host;
        this.port = port;
        this.hostname = SyslogTransport.printable(hostname, 255);
        this.tls = tls;
        this.sender = new Thread(this::run, "mamori-audit-siem");
        this.sender.setDaemon(true);
        this.sender.start();
    }

    /** A TLS socket factory trusting exactly the CA certificates in {@code caPem}, or the JDK's when absent. */
    public static SSLSocketFactory trusting(java.util.Optional<Path> caPem) {
        if (caPem.isEmpty()) {
            return (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
        try (InputStream in = Files.newInputStream(caPem.get())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new jp.mamori.config.ConfigException("--audit-syslog-ca " + caPem.get() + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new jp.mamori.config.ConfigException("--audit-syslog-ca " + caPem.get() + " を読めません / cannot be"
                    + " read: " + e.getMessage());
        }
    }

    /**
     * Takes an entry for forwarding; never blocks. The entries waiting are bounded by count and by bytes
     * ({@link #MAX_WAITING_BYTES}: a write's entry names each of its versions with their hashes, so one large
     * transaction's entry can be hundreds of KB); past either bound the oldest waiting are dropped and counted.
     */
    public synchronized void offer(AuditTrail.Appended a) {
        long size = a.entry().length;
        while (!queue.isEmpty() && waitingBytes.get() + size > MAX_WAITING_BYTES) {
            AuditTrail.Appended old = queue.poll();
            if (old != null) {
                waitingBytes.addAndGet(-old.entry().length);
                dropped.incrementAndGet();
            }
        }
        while (!queue.offer(a)) {
            AuditTrail.Appended old = queue.poll();
            if (old != null) {
                waitingBytes.addAndGet(-old.entry().length);
                dropped.incrementAndGet();
            }
        }
        waitingBytes.addAndGet(size);
    }

    /** The bytes of the entries waiting to be sent. */
    long waitingBytes() {
        return waitingBytes.get();
    }

    public long sent() {
        return sent.get();
    }

    public long dropped() {
        return dropped.get();
    }

    /** When an entry last reached the collector; null before the first. */
    public java.time.Instant lastSentAt() {
        return lastSentAt;
    }

    /** What kept the last entry from the collector (an exception's name), or null when the last send worked. */
    public String lastError() {
        return lastError;
    }

    /** Entries waiting to be sent. */
    public int waiting() {
        return queue.size();
    }

    /** The collector, as {@code host:port}. */
    public String target() {
        return host + ":" + port;
    }

    private void run() {
        Socket s = null;
        AuditTrail.Appended next = null;
        long backoff = 500;
        while (!closed || next != null || !queue.isEmpty()) {
            try {
                if (next == null) {
                    next = queue.poll(500, TimeUnit.MILLISECONDS);
                    if (next == null) {
                        continue;
                    }
                    waitingBytes.addAndGet(-next.entry().length);
                }
                if (s == null) {
                    s = SyslogTransport.connect(host, port, tls, 5000);
                    backoff = 500;
                }
                OutputStream out = s.getOutputStream();
                SyslogTransport.frame(out, message(next));
                out.flush();
                sent.incrementAndGet();
                lastSentAt = java.time.Instant.now();
                lastError = null;
                next = null;
            } catch (InterruptedException e) {
                if (closed) {
                    break;
                }
            } catch (IOException | RuntimeException e) {
                lastError = e.getClass().getSimpleName();
                log.warn("audit SIEM {}:{} unreachable ({}); entry {} will be retried", host, port, e.toString(),
                        next == null ? "-" : next.seq());
                closeQuietly(s);
                s = null;
                if (closed) {
                    break;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
        closeQuietly(s);
    }

    /** {@code <PRI>1 TIMESTAMP HOSTNAME mamori PROCID audit [mamori-audit@32473 ...] BOM ENTRY}. */
    String message(AuditTrail.Appended a) {
        AuditRecord r = a.record();
        StringBuilder sb = new StringBuilder(512).append('<').append(PRI).append(">1 ")
                .append(jp.mamori.db.Timestamps.utcMicros(r.at())).append(' ').append(hostname).append(" mamori ")
                .append(ProcessHandle.current().pid()).append(" audit [").append(SD_ID)
                .append(" seq=\"").append(a.seq()).append('"')
                .append(" actor=\"").append(SyslogTransport.sdValue(r.actor())).append('"')
                .append(" action=\"").append(SyslogTransport.sdValue(r.action())).append('"')
                .append(" outcome=\"").append(r.outcome()).append('"')
                .append(" purpose=\"").append(SyslogTransport.sdValue(r.purpose())).append('"');
        for (String p : r.patients()) {
            sb.append(" patient=\"").append(SyslogTransport.sdValue(p)).append('"');
        }
        sb.append(" leaf=\"").append(java.util.Base64.getEncoder().encodeToString(a.leafHash())).append("\"] \uFEFF")
                .append(new String(a.entry(), StandardCharsets.UTF_8));
        return sb.toString();
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing more to send on it
            }
        }
    }

    /** Sends what is waiting (for a few seconds at most), then stops. */
    @Override
    public void close() {
        closed = true;
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
    }
}
