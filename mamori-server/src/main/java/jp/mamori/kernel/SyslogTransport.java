package jp.mamori.kernel;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Syslog over TCP with octet-counting framing (RFC 6587 3.4.1: {@code LENGTH SP MESSAGE}), inside TLS 1.2/1.3
 * with the collector's host name verified against its certificate (RFC 5425), or plain TCP, which callers MUST
 * restrict to a loopback relay. Shared by the security notices and the audit trail's SIEM forwarding.
 */
public final class SyslogTransport {
    private SyslogTransport() {
    }

    /** A connected socket (TLS handshake done when {@code tls} is given); the caller closes it. */
    public static Socket connect(String host, int port, SSLSocketFactory tls, int timeoutMs) throws IOException {
        Socket raw = new Socket();
        try {
            raw.connect(new InetSocketAddress(host, port), timeoutMs);
            raw.setSoTimeout(timeoutMs);
            if (tls == null) {
                return raw;
            }
            SSLSocket t = (SSLSocket) tls.createSocket(raw, host, port, true);
            SSLParameters params = t.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS"); // the collector's name must match its certificate
            params.setProtocols(new String[]{"TLSv1.3", "TLSv1.2"});
            t.setSSLParameters(params);
            t.startHandshake();
            return t;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** Writes one octet-counted frame. */
    public static void frame(OutputStream out, String message) throws IOException {
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        out.write((msg.length + " ").getBytes(StandardCharsets.US_ASCII));
        out.write(msg);
    }

    /** PRINTUSASCII without space; "-" when nothing is left (the NILVALUE). */
    public static String printable(String s, int max) {
        StringBuilder sb = new StringBuilder();
        if (s != null) {
            for (int i = 0; i < s.length() && sb.length() < max; i++) {
                char c = s.charAt(i);
                if (c > 32 && c < 127) {
                    sb.append(c);
                }
            }
        }
        return sb.isEmpty() ? "-" : sb.toString();
    }

    /** PARAM-VALUE: '"', '\' and ']' escaped with a backslash (RFC 5424 6.3.3). */
    public static String sdValue(String v) {
        if (v == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"' || c == '\\' || c == ']') {
                sb.append('\\');
            }
            sb.append(c == '\n' || c == '\r' ? ' ' : c);
        }
        return sb.toString();
    }
}
