package jp.mamori.edge;

import jp.mamori.testing.TestServer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Test helpers for the server's edges: an SSL context that trusts exactly the server's own certificate, and
 * a raw HTTP/1.1 client over TLS that sends bytes the JDK's HttpClient refuses to send (invalid
 * percent-escapes, unusual methods, missing headers).
 */
final class Edge {
    private Edge() {
    }

    /** The certificate in the server's generated keystore. */
    static X509Certificate storedCertificate(Path dataDir) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        char[] pw = Files.readString(dataDir.resolve("secrets").resolve("tls-keystore-password")).trim()
                .toCharArray();
        try (InputStream in = Files.newInputStream(dataDir.resolve("tls").resolve("server.p12"))) {
            ks.load(in, pw);
        }
        return (X509Certificate) ks.getCertificate(ks.aliases().nextElement());
    }

    /** Trusts only the server's certificate, as TestServer's HTTP client does. */
    static SSLContext trusting(Path dataDir) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("mamori", storedCertificate(dataDir));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** A connected, not yet handshaken TLS socket to the server that checks the host name too. */
    static SSLSocket socket(TestServer s) throws Exception {
        SSLSocket sock = (SSLSocket) trusting(s.dataDir()).getSocketFactory()
                .createSocket("127.0.0.1", s.server().port());
        sock.setSoTimeout(20_000);
        SSLParameters p = sock.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        sock.setSSLParameters(p);
        return sock;
    }

    /** An HTTP answer read off the wire. */
    record Answer(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Sends one request on a new TLS connection, exactly as given: {@code target} is the request target
     * (path and query) as raw text, written as UTF-8 without any escaping. A Host header in {@code headers}
     * replaces the server's own address.
     */
    static Answer raw(TestServer s, String method, String target, Map<String, String> headers, byte[] body)
            throws Exception {
        return raw(s, method, target.getBytes(StandardCharsets.UTF_8), headers, body);
    }

    /** As above, with the request target as bytes, which need not be valid UTF-8. */
    static Answer raw(TestServer s, String method, byte[] target, Map<String, String> headers, byte[] body)
            throws Exception {
        try (SSLSocket sock = socket(s)) {
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.write((method + " ").getBytes(StandardCharsets.US_ASCII));
            req.write(target);
            StringBuilder head = new StringBuilder();
            head.append(" HTTP/1.1\r\n");
            if (headers.keySet().stream().noneMatch(k -> k.equalsIgnoreCase("Host"))) {
                head.append("Host: 127.0.0.1:").append(s.server().port()).append("\r\n");
            }
            head.append("Connection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (body != null) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            req.write(head.toString().getBytes(StandardCharsets.UTF_8));
            if (body != null) {
                req.write(body);
            }
            OutputStream out = sock.getOutputStream();
            try {
                out.write(req.toByteArray());
                out.flush();
            } catch (IOException e) {
                // The server may answer and close before it has read all of a body it refuses: read the answer.
                try {
                    return read(sock.getInputStream());
                } catch (IOException again) {
                    e.addSuppressed(again);
                    throw e;
                }
            }
            return read(sock.getInputStream());
        }
    }

    /** Parses a whole HTTP/1.1 response from a stream that the server closes after it. */
    static Answer read(InputStream in) throws IOException {
        byte[] all = in.readAllBytes();
        int end = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (end < 0) {
            throw new IOException("no complete HTTP response head in " + all.length + " bytes: "
                    + new String(all, StandardCharsets.ISO_8859_1));
        }
        String[] lines = new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] status = lines[0].split(" ", 3);
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            h.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        byte[] rest = java.util.Arrays.copyOfRange(all, end + 4, all.length);
        if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
            rest = dechunk(rest);
        } else if (h.containsKey("content-length")) {
            rest = java.util.Arrays.copyOf(rest, Integer.parseInt(h.get("content-length")));
        }
        return new Answer(Integer.parseInt(status[1]), h, rest);
    }

    private static byte[] dechunk(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < b.length) {
            int eol = indexOf(java.util.Arrays.copyOfRange(b, i, b.length), "\r\n".getBytes(StandardCharsets.US_ASCII));
            String size = new String(b, i, eol, StandardCharsets.US_ASCII).split(";")[0].trim();
            int n = Integer.parseInt(size, 16);
            i += eol + 2;
            if (n == 0) {
                break;
            }
            out.write(b, i, n);
            i += n + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** A plain TCP connection, for speaking HTTP to the TLS port. */
    static Socket plain(TestServer s) throws IOException {
        Socket sock = new Socket();
        sock.connect(new InetSocketAddress("127.0.0.1", s.server().port()), 5_000);
        sock.setSoTimeout(10_000);
        return sock;
    }
}
