package jp.mamori.kernel;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An outside party's answer over a real HTTP connection on loopback: kept up to the ceiling, refused past it. */
class CappedBodyTest {
    private static HttpServer server;
    private static final byte[] ANSWER = new byte[300_000];

    @BeforeAll
    static void start() throws IOException {
        Arrays.fill(ANSWER, (byte) 'x');
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked: the length is not announced
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < ANSWER.length; i += 10_000) {
                    out.write(ANSWER, i, 10_000);
                }
            } catch (IOException e) {
                // the client stopped reading: what a ceiling is for
            }
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static byte[] fetch(int max) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.getAddress().getPort() + "/")).build();
            return http.sendAsync(request, info -> new CappedBody(max)).get(20, TimeUnit.SECONDS).body();
        }
    }

    @Test
    void anAnswerWithinTheCeilingIsKeptWhole() throws Exception {
        assertArrayEquals(ANSWER, fetch(ANSWER.length));
    }

    @Test
    void anAnswerPastTheCeilingFailsNamingIt() {
        ExecutionException e = assertThrows(ExecutionException.class, () -> fetch(256 * 1024));
        assertInstanceOf(IOException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("262144 bytes"), e.getCause().getMessage());
    }

    @Test
    void aCeilingMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new CappedBody(0));
    }
}
