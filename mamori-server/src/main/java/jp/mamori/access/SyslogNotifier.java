package jp.mamori.access;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import jp.mamori.kernel.SyslogTransport;

/**
 * Security notices as RFC 5424 syslog messages over TCP with octet-counting framing (RFC 6587 3.4.1:
 * {@code LENGTH SP MESSAGE}). Facility authpriv, severity warning; APP-NAME {@code mamori}; MSGID the event;
 * the fields as structured data under {@code mamori@32473} (32473 is the enterprise number RFC 5612 sets
 * aside for examples: a hospital with its own may change it in its collector's mapping).
 *
 * <p>One short connection per notice, with short timeouts, so a collector that is down delays a
 * break-glass by at most a few seconds and never stops it.
 */
public final class SyslogNotifier implements SecurityNotifier {
    private static final Logger log = LoggerFactory.getLogger(SyslogNotifier.class);
    /** authpriv (10) * 8 + warning (4). */
    static final int PRI = 10 * 8 + 4;
    static final String SD_ID = "mamori@32473";
    private static final DateTimeFormatter TS = DateTimeFormatter.ISO_INSTANT;
    private static final int TIMEOUT_MS = 2000;

    private final String host;
    private final int port;
    private final String hostname;
    /** TLS (RFC 5425: the same octet-counted frames inside TLS), or null for plain TCP. */
    private final javax.net.ssl.SSLSocketFactory tls;

    public SyslogNotifier(String host, int port) {
        this(host, port, localHostname(), null);
    }

    public SyslogNotifier(String host, int port, String hostname) {
        this(host, port, hostname, null);
    }

    /**
     * @param tls the TLS socket factory (its trust store decides which collectors are trusted; the collector's
     *            host name is verified), or null for plain TCP, which callers MUST restrict to loopback: the
     *            notices name patients.
     */
    public SyslogNotifier(String host, int port, String hostname, javax.net.ssl.SSLSocketFactory tls) {
        if (host == null || host.isBlank() || port < 1 || port > 65535) {
            throw new IllegalArgumentException("syslog needs host:port");
        }
        this.host = host;
        this.port = port;
        this.hostname = printable(hostname, 255);
        this.tls = tls;
    }

    private static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "-";
        }
    }

    @Override
    public synchronized void notify(Notice n) {
        try (Socket s = SyslogTransport.connect(host, port, tls, TIMEOUT_MS)) {
            OutputStream out = s.getOutputStream();
            SyslogTransport.frame(out, message(n));
            out.flush();
        } catch (IOException e) {
            log.warn("security notice {} not delivered to syslog {}:{}: {}", n.event(), host, port, e.toString());
        }
    }

    /** The RFC 5424 message: {@code <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG}. */
    String message(Notice n) {
        StringBuilder sb = new StringBuilder(256).append('<').append(PRI).append(">1 ")
                .append(TS.format(n.at().truncatedTo(ChronoUnit.MICROS))).append(' ')
                .append(hostname).append(" mamori ").append(ProcessHandle.current().pid()).append(' ')
                .append(printable(n.event(), 32)).append(" [").append(SD_ID);
        if (n.breakGlassId() != null) {
            sb.append(" breakGlass=\"").append(n.breakGlassId()).append('"');
        }
        n.fields().forEach((k, v) -> sb.append(' ').append(paramName(k)).append("=\"").append(sdValue(v)).append('"'));
        sb.append("] \uFEFF").append(n.text().replace('\n', ' ').replace('\r', ' '));
        return sb.toString();
    }

    static String printable(String s, int max) {
        return SyslogTransport.printable(s, max);
    }

    private static String paramName(String k) {
        String p = printable(k, 32).replace("=", "").replace("]", "").replace("\"", "");
        return p.isEmpty() ? "-" : p;
    }

    static String sdValue(String v) {
        return SyslogTransport.sdValue(v);
    }
}
