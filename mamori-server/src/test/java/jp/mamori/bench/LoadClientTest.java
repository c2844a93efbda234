package jp.mamori.bench;

import static jp.mamori.bench.ScriptedPeer.Reply;
import static jp.mamori.bench.ScriptedPeer.answer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** {@link LoadClient} against a real HTTP/1.1 peer on a loopback socket ({@link ScriptedPeer}), plain and TLS. */
class LoadClientTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static LoadClient client(ScriptedPeer peer) {
        return LoadClient.forBase(peer.base("http"), false, TIMEOUT);
    }

    private static FhirRequests requests(ScriptedPeer peer) {
        return new FhirRequests(peer.base("http"), "t0ken", List.of("42"));
    }

    private static String text(LoadClient.Response response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    @Test
    void contentLengthAnswersReuseOneConnectionAndTheRequestIsWhatFhirRequestsPrepared() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.keep(answer(200, "{\"n\":" + r + ",\"名\":\"山田\"}",
                "content-TYPE: application/fhir+json", "Location: Patient/7")));
             LoadClient.Connection connection = client(peer).connection()) {
            FhirRequests requests = requests(peer);
            LoadClient.Response first = connection.send(requests.read(ThreadLocalRandom.current()), true);
            LoadClient.Response second = connection.send(requests.search(ThreadLocalRandom.current()), true);
            LoadClient.Response third = connection.send(requests.create(ThreadLocalRandom.current()), false);

            assertEquals(200, first.status());
            assertEquals("{\"n\":0,\"名\":\"山田\"}", text(first));
            assertEquals("{\"n\":1,\"名\":\"山田\"}", text(second));
            assertEquals("application/fhir+json", first.header("Content-Type"), "header names are case-insensitive");
            assertEquals("Patient/7", first.header("location"));
            assertEquals(0, third.body().length, "a 2xx body not asked for is read and dropped");
            assertNull(third.header("Location"), "headers are kept only with the body");
            assertEquals(1, peer.connections.get(), "three requests on one kept-alive connection");
            assertEquals(1, connection.opened());

            String read = peer.heads.get(0);
            assertTrue(read.startsWith("GET /fhir/Patient/42 HTTP/1.1\r\n"), read);
            assertTrue(read.contains("\r\nHost: 127.0.0.1:"), read);
            assertTrue(read.contains("\r\nAuthorization: Bearer t0ken\r\n"), read);
            assertTrue(read.contains("\r\nAccept: application/fhir+json\r\n"), read);
            assertFalse(read.contains("Content-Length"), "a GET has no body: " + read);
            assertTrue(peer.heads.get(1).startsWith("GET /fhir/Patient?family=%E"), peer.heads.get(1));
            String post = peer.heads.get(2);
            assertTrue(post.startsWith("POST /fhir/Patient HTTP/1.1\r\n"), post);
            assertTrue(post.contains("\r\nContent-Type: application/fhir+json\r\n"), post);
            assertTrue(post.contains("\r\nPrefer: return=minimal\r\n"), post);
            assertTrue(post.contains("\r\nContent-Length: " + peer.bodies.get(2).getBytes(StandardCharsets.UTF_8).length
                    + "\r\n"), post);
            assertTrue(peer.bodies.get(2).startsWith("{\"resourceType\":\"Patient\""), peer.bodies.get(2));
        }
    }

    @Test
    void chunkedAnswersWithExtensionsAndTrailersAreReadToTheirEnd() throws IOException {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"
                + "5;ext=1\r\nHello\r\n" + "0000000007 \r\n, world\r\n" + "0\r\nX-Trailer: yes\r\n\r\n";
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.keep(chunked));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request metadata = requests(peer).metadata();
            assertEquals("Hello, world", text(connection.send(metadata, true)));
            assertEquals(0, connection.send(metadata, false).body().length);
            assertEquals("Hello, world", text(connection.send(metadata, true)), "the connection stays in step");
            assertEquals(1, peer.connections.get());
        }
    }

    @Test
    void aLargeChunkedBodyIsKeptWholeAndAnErrorKeepsOnlyItsStart() throws IOException {
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        Arrays.fill(big, (byte) 'x');
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> r == 0
                ? Reply.keep(chunked(big, 100_000)) : Reply.keep(answer(500, "boom " + "y".repeat(5_000))));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request metadata = requests(peer).metadata();
            assertArrayEquals(big, connection.send(metadata, true).body());
            LoadClient.Response error = connection.send(metadata, false);
            assertEquals(500, error.status());
            assertEquals(LoadClient.SNIPPET_BYTES, error.body().length, "only the start of an error is kept");
            assertTrue(text(error).startsWith("boom yyy"));
            assertEquals(1, peer.connections.get());
        }
    }

    @Test
    void connectionCloseIsHonouredAndTheNextRequestOpensANewConnection() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.thenClose(answer(200, "a", "Connection: Close")));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request create = requests(peer).create(ThreadLocalRandom.current());
            assertEquals(200, connection.send(create, false).status());
            assertEquals(200, connection.send(create, false).status());
            assertEquals(2, peer.connections.get());
            assertEquals(2, peer.heads.size(), "each POST sent once");
        }
    }

    @Test
    void anAnswerWithoutLengthRunsUntilTheServerCloses() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.thenClose("HTTP/1.0 200 OK\r\n\r\nall of it"));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request metadata = requests(peer).metadata();
            assertEquals("all of it", text(connection.send(metadata, true)));
            assertEquals("all of it", text(connection.send(metadata, true)));
            assertEquals(2, peer.connections.get());
        }
    }

    @Test
    void aGetIsResentOnceWhenTheServerClosedTheKeptAliveConnection() throws IOException {
        // The server answers once per connection, then closes it without saying so (an idle timeout, a restart).
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> r == 0 ? Reply.keep(answer(200, "c" + c))
                : Reply.closeNow());
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request read = requests(peer).read(ThreadLocalRandom.current());
            assertEquals("c0", text(connection.send(read, true)));
            assertEquals("c1", text(connection.send(read, true)), "reconnected transparently");
            assertEquals(2, connection.opened());
        }
    }

    @Test
    void aGetIsResentOnlyOnceAndNeverOnAFreshConnection() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> c == 0 && r == 0 ? Reply.keep(answer(200, "ok"))
                : Reply.closeNow());
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request read = requests(peer).read(ThreadLocalRandom.current());
            assertEquals("ok", text(connection.send(read, true)));
            IOException failure = assertThrows(IOException.class, () -> connection.send(read, true));
            assertTrue(failure.getMessage().contains("the server closed the connection without an answer"),
                    failure.getMessage());
            assertEquals(2, peer.connections.get(), "one retry, not a loop");

            IOException fresh = assertThrows(IOException.class, () -> connection.send(read, true));
            assertEquals(failure.getMessage(), fresh.getMessage());
            assertEquals(3, peer.connections.get(), "a fresh connection that fails is not retried");
        }
    }

    @Test
    void aPostIsNotResentWhenItMayHaveReachedTheServer() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> r == 0 ? Reply.keep(answer(201, ""))
                : Reply.closeNow());
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request create = requests(peer).create(ThreadLocalRandom.current());
            assertEquals(201, connection.send(create, false).status());
            IOException failure = assertThrows(IOException.class, () -> connection.send(create, false));
            assertTrue(failure.getMessage().startsWith("応答の前にサーバーが接続を閉じました / the server closed the"
                    + " connection without an answer"), failure.getMessage());
            assertEquals(1, peer.connections.get(), "not sent a second time");
        }
    }

    @Test
    void anIdleConnectionClosedByTheServerIsNoticedBeforeAPostIsSent() throws Exception {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.thenClose(answer(201, "")));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request create = requests(peer).create(ThreadLocalRandom.current());
            assertEquals(201, connection.send(create, false).status());
            Thread.sleep(Duration.ofNanos(LoadClient.IDLE_PROBE_NANOS).plusMillis(200));
            assertEquals(201, connection.send(create, false).status(), "nothing was sent on the closed connection");
            assertEquals(2, peer.connections.get());
            assertEquals(2, peer.heads.size());
        }
    }

    @Test
    void aServerThatNeverAnswersRunsIntoTheTimeout() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.silence());
             LoadClient.Connection connection = LoadClient.forBase(peer.base("http"), false, Duration.ofMillis(300))
                     .connection()) {
            IOException failure = assertThrows(IOException.class,
                    () -> connection.send(requests(peer).read(ThreadLocalRandom.current()), false));
            assertEquals("300ms 以内に応答がありません / no answer within 300ms", failure.getMessage());
            assertEquals(failure.getMessage(), HttpSupport.describe(failure), "one line, as it is");
            assertEquals(1, peer.connections.get(), "a timeout is not retried");
        }
    }

    @Test
    void aServerThatTricklesIsCutOffAtTheTimeoutToo() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.trickle(answer(200, "x".repeat(1000)), 20));
             LoadClient.Connection connection = LoadClient.forBase(peer.base("http"), false, Duration.ofMillis(400))
                     .connection()) {
            IOException failure = assertThrows(IOException.class,
                    () -> connection.send(requests(peer).metadata(), false));
            assertEquals("400ms 以内に応答がありません / no answer within 400ms", failure.getMessage());
        }
    }

    @Test
    void oversizedHeadersAreRefusedWithOneLine() throws IOException {
        String huge = "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(LoadClient.MAX_HEADER_BYTES) + "\r\n\r\n";
        String endless = "HTTP/1.1 200 OK\r\n" + "b".repeat(LoadClient.MAX_HEADER_BYTES + 10);
        String many = "HTTP/1.1 200 OK\r\n" + "X-Many: 1\r\n".repeat(LoadClient.MAX_HEADER_BYTES / 10) + "\r\n";
        for (String answer : List.of(huge, endless, many)) {
            assertEquals("応答ヘッダーが 64 KiB を超えています / the answer's header section is over 64 KiB",
                    failureFor(answer));
        }
    }

    @Test
    void oversizedBodiesAreRefusedWithOneLineWithoutAllocatingWhatTheServerAnnounced() throws IOException {
        String message = "応答本文が 64 MiB を超えています / the answer's body is over 64 MiB";
        assertEquals(message, failureFor("HTTP/1.1 200 OK\r\nContent-Length: " + (LoadClient.MAX_BODY_BYTES + 1)
                + "\r\n\r\n"));
        assertEquals(message, failureFor("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"));
        assertEquals(message, failureFor("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Long.toHexString(LoadClient.MAX_BODY_BYTES + 1) + "\r\n"));
        assertEquals(message, failureFor("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"));
        // Chunks that add up to more than the bound, and a body that runs until the close: refused as they arrive.
        byte[] mebibyte = new byte[1024 * 1024];
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.thenClose(out -> {
            out.write((c == 0 ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" : "HTTP/1.1 200 OK\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i <= LoadClient.MAX_BODY_BYTES / mebibyte.length; i++) {
                out.write(c == 0 ? "100000\r\n".getBytes(StandardCharsets.US_ASCII) : new byte[0]);
                out.write(mebibyte);
                out.write(c == 0 ? "\r\n".getBytes(StandardCharsets.US_ASCII) : new byte[0]);
            }
        }));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request metadata = requests(peer).metadata();
            assertEquals(message, assertThrows(IOException.class, () -> connection.send(metadata, true)).getMessage());
            assertEquals(message, assertThrows(IOException.class, () -> connection.send(metadata, false)).getMessage());
        }
    }

    @Test
    void malformedAnswersAreRefusedWithOneLineNamingWhatIsWrong() throws IOException {
        assertEquals("応答の行が CRLF で終わっていません / a line of the answer ends in a bare LF",
                failureFor("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
        assertEquals("応答の行に CR だけがあります / a line of the answer has a CR without LF",
                failureFor("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"));
        assertEquals("HTTP/1.1 の応答ではありません / not an HTTP/1.1 answer: 'HTTP/2 200 OK'",
                failureFor("HTTP/2 200 OK\r\n\r\n"));
        assertEquals("HTTP/1.1 の応答ではありません / not an HTTP/1.1 answer: 'SSH-2.0-OpenSSH_9.6?'",
                failureFor("SSH-2.0-OpenSSH_9.6\u0007\r\n"));
        assertEquals("応答の Content-Length が不正です / the answer's Content-Length is not a number: '12abc'",
                failureFor("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"));
        assertEquals("応答の Content-Length が食い違っています / the answer has two different Content-Length fields",
                failureFor("HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nab"));
        assertEquals("応答のチャンクの長さが不正です / a chunk size of the answer is not hexadecimal: 'zz'",
                failureFor("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
        assertEquals("応答のチャンクが不正です / a chunk of the answer does not end where its size says",
                failureFor("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"));
        assertEquals("応答のヘッダー行が不正です / a header line of the answer has no name: ': x'",
                failureFor("HTTP/1.1 200 OK\r\n: x\r\n\r\n"));
        assertEquals("想定外の中間応答です / an unexpected interim answer: HTTP 101",
                failureFor("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"));
        assertEquals("応答の途中でサーバーが接続を閉じました / the server closed the connection in the middle of an answer",
                failureFor("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    }

    @Test
    void interimAnswersAreSkippedAndNoContentHasNoBody() throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.keep(r == 0
                ? "HTTP/1.1 100 Continue\r\n\r\n" + answer(201, "made")
                : "HTTP/1.1 204 No Content\r\n\r\n"));
             LoadClient.Connection connection = client(peer).connection()) {
            LoadClient.Request metadata = requests(peer).metadata();
            LoadClient.Response made = connection.send(metadata, true);
            assertEquals(201, made.status());
            assertEquals("made", text(made));
            assertEquals(204, connection.send(metadata, true).status());
            assertEquals(204, connection.send(metadata, true).status());
            assertEquals(1, peer.connections.get());
        }
    }

    @Test
    void aRequestTargetThatIsNotPrintableAsciiIsNeverSent() {
        assertThrows(IllegalArgumentException.class,
                () -> new FhirRequests("http://127.0.0.1:1/fhir", null, List.of("1 HTTP/1.1\r\nX: y")));
        assertThrows(IllegalArgumentException.class,
                () -> LoadClient.Request.of("GET", "/a\r\nX: y", "", new byte[0]));
        assertTrue(FhirRequests.isFhirId("a-b.C9"));
        assertFalse(FhirRequests.isFhirId("a/b"));
        assertFalse(FhirRequests.isFhirId("x".repeat(65)));
    }

    @Test
    void tlsWithInsecureTrustsASelfSignedCertificateAndKeepsTheConnection() throws Exception {
        try (ScriptedPeer peer = new ScriptedPeer(BenchTlsTest.selfSignedContext("not-this-host.invalid"),
                (c, r, head) -> Reply.keep(answer(200, "secret " + r)))) {
            FhirRequests requests = new FhirRequests(peer.base("https"), null, List.of("1"));

            try (LoadClient.Connection strict = LoadClient.forBase(peer.base("https"), false, TIMEOUT).connection()) {
                IOException refused = assertThrows(IOException.class, () -> strict.send(requests.metadata(), false));
                assertTrue(HttpSupport.describe(refused).startsWith("TLS handshake failed ("),
                        HttpSupport.describe(refused));
            }

            try (LoadClient.Connection insecure = LoadClient.forBase(peer.base("https"), true, TIMEOUT).connection()) {
                assertEquals("secret 0", text(insecure.send(requests.metadata(), true)));
                assertEquals("secret 1", text(insecure.send(requests.read(ThreadLocalRandom.current()), true)));
                // After an idle spell the connection is probed (a read that waits a millisecond) and still usable.
                Thread.sleep(Duration.ofNanos(LoadClient.IDLE_PROBE_NANOS).plusMillis(200));
                assertEquals("secret 2", text(insecure.send(requests.metadata(), true)));
                assertEquals(1, insecure.opened());
            }
        }
    }

    /** The failure message when a peer gives this answer to a first request. */
    private static String failureFor(String answer) throws IOException {
        try (ScriptedPeer peer = new ScriptedPeer((c, r, head) -> Reply.thenClose(answer));
             LoadClient.Connection connection = client(peer).connection()) {
            IOException failure = assertThrows(IOException.class,
                    () -> connection.send(requests(peer).metadata(), false));
            assertEquals(failure.getMessage(), HttpSupport.describe(failure), "shown as it is, on one line");
            assertFalse(failure.getMessage().contains("\n"));
            return failure.getMessage();
        }
    }

    /** {@code body} as chunks of {@code chunkSize}, then the last chunk. */
    private static byte[] chunked(byte[] body, int chunkSize) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < body.length; i += chunkSize) {
            int n = Math.min(chunkSize, body.length - i);
            out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, i, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

}
