package jp.mamori.edge;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Slow clients cannot hold connections: headers (and the TLS handshake before them) have a deadline, bodies a
 * minimum rate, and one address a limit on open connections. The deadline here is 2 s (--header-timeout 2) and each
 * slow connection must be closed within 10 s: a bound on behaviour, not a speed measurement. Without the limits,
 * each byte restarts Jetty's 30 s idle timeout and these connections stay open.
 */
class SlowClientTest {
    private static final int CLOSED_WITHIN_MS = 10_000;
    private static final int DRIP_MS = 400;
    private static TestServer s;

    @BeforeAll
    static void start() {
        s = TestServer.start(List.of("--header-timeout", "2"));
    }

    @AfterAll
    static void stop() {
        s.close();
    }

    private static SSLSocket tls(TestServer server) throws Exception {
        SSLSocket sock = Edge.socket(server);
        sock.setSoTimeout(CLOSED_WITHIN_MS);
        sock.startHandshake();
        return sock;
    }

    /** Writes {@code bytes} one at a time, {@code DRIP_MS} apart, until done or the server closes. */
    private static Thread drip(Socket sock, byte[] bytes) {
        Thread t = new Thread(() -> {
            try {
                OutputStream out = sock.getOutputStream();
                for (byte b : bytes) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(DRIP_MS);
                }
            } catch (IOException | InterruptedException e) {
                // closed by the server (or by the test): what is being waited for
            }
        }, "drip");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Reads until the server closes; fails if it is still open after CLOSED_WITHIN_MS. Returns what came. */
    private static byte[] untilClosed(Socket sock) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            InputStream in = sock.getInputStream();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) >= 0; ) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            fail("the server still held the slow connection after " + CLOSED_WITHIN_MS + " ms");
        } catch (IOException e) {
            // reset or TLS failure: closed as well
        }
        return got.toByteArray();
    }

    private static String head(String method, String target, String... headers) {
        StringBuilder b = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:"
                + s.server().port() + "\r\n");
        for (String h : headers) {
            b.append(h).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    /** Reads one answer with a Content-Length off a kept-alive connection; returns its status. */
    private static int readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        while (!h.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the answer's head");
            }
            h.write(b);
        }
        String text = h.toString(StandardCharsets.ISO_8859_1);
        long length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        assertEquals(length, in.readNBytes((int) length).length);
        return Integer.parseInt(text.split(" ", 3)[1]);
    }

    @Test
    void headersDrippedSlowerThanTheDeadlineAreCutOff() throws Exception {
        byte[] request = head("GET", "/fhir/metadata").getBytes(StandardCharsets.US_ASCII);
        List<SSLSocket> socks = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                SSLSocket sock = tls(s);
                socks.add(sock);
                drip(sock, request);
            }
            for (SSLSocket sock : socks) {
                assertEquals(0, untilClosed(sock).length, "no answer to an unfinished request");
            }
        } finally {
            for (SSLSocket sock : socks) {
                sock.close();
            }
        }
    }

    @Test
    void aTlsHandshakeDrippedSlowerThanTheDeadlineIsCutOff() throws Exception {
        try (Socket sock = Edge.plain(s)) {
            sock.setSoTimeout(CLOSED_WITHIN_MS);
            // A TLS handshake record header announcing 512 bytes, then the bytes one by one.
            byte[] hello = new byte[5 + 512];
            hello[0] = 0x16;
            hello[1] = 0x03;
            hello[2] = 0x01;
            hello[3] = 0x02;
            drip(sock, hello);
            untilClosed(sock);
        }
    }

    @Test
    void aLaterRequestOnAKeptAliveConnectionHasTheDeadlineToo() throws Exception {
        try (SSLSocket sock = tls(s)) {
            OutputStream out = sock.getOutputStream();
            out.write(head("GET", "/fhir/metadata").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(200, readAnswer(sock.getInputStream()));
            Thread.sleep(3_000); // idle longer than the header deadline: idleness is the idle timeout's business
            out.write(head("GET", "/fhir/metadata").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(200, readAnswer(sock.getInputStream()), "an idle kept-alive connection stays usable");
            drip(sock, head("GET", "/fhir/metadata").getBytes(StandardCharsets.US_ASCII));
            assertEquals(0, untilClosed(sock).length);
        }
    }

    @Test
    void aBodyDrippedBelowTheMinimumRateIsAnswered408AndClosed() throws Exception {
        try (SSLSocket sock = tls(s)) {
            OutputStream out = sock.getOutputStream();
            out.write(head("POST", "/fhir/Patient", "Authorization: Bearer " + s.adminToken(),
                    "Content-Type: application/fhir+json", "Content-Length: 1000").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            drip(sock, ("{\"resourceType\":\"Patient\"," + " ".repeat(1000)).substring(0, 1000)
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] answer = untilClosed(sock);
            Edge.Answer a = Edge.read(new java.io.ByteArrayInputStream(answer));
            assertEquals(408, a.status(), a.text());
            assertTrue(a.text().contains("本文の受信が遅すぎる") && a.text().contains("bytes per second"), a.text());
            assertEquals("close", a.header("Connection"));
        }
    }

    @Test
    void aBodySentAtANormalRateMayTakeLongerThanTheDeadline() throws Exception {
        // About 10 kB/s for about 3 s: longer in all than the 2 s deadline, far above the 1 kB/s minimum.
        byte[] body = ("{\"resourceType\":\"Patient\",\"active\":true}" + " ".repeat(30_000))
                .getBytes(StandardCharsets.US_ASCII);
        try (SSLSocket sock = tls(s)) {
            OutputStream out = sock.getOutputStream();
            out.write(head("POST", "/fhir/Patient", "Authorization: Bearer " + s.adminToken(),
                    "Content-Type: application/fhir+json", "Content-Length: " + body.length)
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < body.length; i += 3_000) {
                out.write(body, i, Math.min(3_000, body.length - i));
                out.flush();
                Thread.sleep(300);
            }
            assertEquals(201, readAnswer(sock.getInputStream()));
        }
        // And a large body at full speed, as a bundle upload would come: a photo's 2 MB of base64 data (binary data
        // is exempt from the limit on one string's length).
        String big = "{\"resourceType\":\"Patient\",\"active\":true,\"photo\":[{\"contentType\":\"image/png\","
                + "\"data\":\"" + "QUFB".repeat(500_000) + "\"}]}";
        HttpResponse<String> r = s.send(s.request("/Patient").header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(big)).build());
        assertEquals(201, r.statusCode(), r.body());
    }

    @Test
    void connectionsOverThePerAddressLimitAreClosedAndAClientWorksAgainAfterwards() throws Exception {
        try (TestServer limited = TestServer.start(List.of("--max-connections-per-address", "4"))) {
            List<SSLSocket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SSLSocket sock = tls(limited);
                    held.add(sock);
                    // A whole request, answered: the connection is open and idle, within every deadline.
                    sock.getOutputStream().write(("GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    sock.getOutputStream().flush();
                    assertEquals(200, readAnswer(sock.getInputStream()));
                }
                for (int i = 0; i < 3; i++) {
                    try (Socket extra = Edge.plain(limited)) {
                        extra.setSoTimeout(CLOSED_WITHIN_MS);
                        untilClosed(extra);
                    }
                }
                try (SSLSocket extra = Edge.socket(limited)) {
                    extra.setSoTimeout(CLOSED_WITHIN_MS);
                    extra.startHandshake();
                    fail("a fifth connection from the same address completed its TLS handshake");
                } catch (IOException expected) {
                    // closed as it opened
                }
            } finally {
                for (SSLSocket sock : held) {
                    sock.close();
                }
            }
            // The closes reach the server asynchronously: a normal client gets through once they have.
            int status = 0;
            for (long end = System.nanoTime() + 10_000_000_000L; status != 200 && System.nanoTime() < end; ) {
                try {
                    status = limited.get("/Patient?_count=1").statusCode();
                } catch (IllegalStateException e) {
                    Thread.sleep(200);
                }
            }
            assertEquals(200, status);
        }
    }
}
