package jp.mamori.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A real HTTP/1.1 peer on a loopback socket whose answers are scripted byte for byte, to test {@link LoadClient}
 * against what servers (and hostile ones) send: it reads each request (head and Content-Length body) and asks the
 * script what to write back, then keeps the connection, closes it, or leaves it silent.
 */
final class ScriptedPeer implements AutoCloseable {

    /** Writes (part of) an answer. */
    interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** What to do with one request: write something, then keep the connection or close it; or stay silent. */
    record Reply(Writer writer, boolean closeAfter, boolean silent) {
        /** Write these bytes and keep the connection for the next request. */
        static Reply keep(String text) {
            return keep(text.getBytes(StandardCharsets.UTF_8));
        }

        static Reply keep(byte[] bytes) {
            return new Reply(out -> out.write(bytes), false, false);
        }

        /** Write these bytes, then close the connection (without saying so in a header). */
        static Reply thenClose(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            return new Reply(out -> out.write(bytes), true, false);
        }

        /** Write what the writer writes, then close the connection. */
        static Reply thenClose(Writer writer) {
            return new Reply(writer, true, false);
        }

        /** Write the text one byte at a time, pausing between bytes. */
        static Reply trickle(String text, long pauseMillis) {
            return new Reply(out -> {
                for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                    out.write(b);
                    out.flush();
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
            }, false, false);
        }

        /** Close the connection without answering. */
        static Reply closeNow() {
            return new Reply(out -> { }, true, false);
        }

        /** Never answer, keep the connection open. */
        static Reply silence() {
            return new Reply(out -> { }, false, true);
        }
    }

    /** Decides the reply to the {@code request}-th request (from 0) on the {@code connection}-th connection. */
    interface Script {
        Reply reply(int connection, int request, String head) throws IOException;
    }

    private final ServerSocket server;
    private final Script script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    /** Connections accepted so far. */
    final AtomicInteger connections = new AtomicInteger();
    /** Every request head received, in order ("GET /fhir/x HTTP/1.1\r\nHost: ..."). */
    final List<String> heads = new CopyOnWriteArrayList<>();
    /** Bodies of the requests, in order. */
    final List<String> bodies = new CopyOnWriteArrayList<>();

    ScriptedPeer(SSLContext tls, Script script) throws IOException {
        this.server = tls == null ? new ServerSocket(0, 50, InetAddress.getLoopbackAddress())
                : tls.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        Thread.ofPlatform().daemon(true).name("scripted-peer").start(this::accept);
    }

    ScriptedPeer(Script script) throws IOException {
        this(null, script);
    }

    String base(String scheme) {
        return scheme + "://127.0.0.1:" + server.getLocalPort() + "/fhir";
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                int index = connections.getAndIncrement();
                Thread.ofPlatform().daemon(true).name("scripted-peer-" + index).start(() -> serve(socket, index));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, int connection) {
        try (socket; InputStream in = socket.getInputStream();
             OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024)) {
            for (int request = 0; ; request++) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                heads.add(head);
                bodies.add(new String(in.readNBytes(contentLength(head)), StandardCharsets.UTF_8));
                Reply reply = script.reply(connection, request, head);
                if (reply.silent()) {
                    in.read(); // until the client gives up and closes
                    return;
                }
                reply.writer().write(out);
                out.flush();
                if (reply.closeAfter()) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away: this connection is done
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
            if (head.size() > 1 << 20) {
                throw new IOException("request head too long");
            }
        }
        return null;
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring("content-length:".length()).strip());
            }
        }
        return 0;
    }

    /** An answer with a Content-Length body. */
    static String answer(int status, String body, String... fields) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder text = new StringBuilder("HTTP/1.1 " + status + " Whatever\r\n");
        for (String field : fields) {
            text.append(field).append("\r\n");
        }
        return text.append("Content-Length: ").append(bytes.length).append("\r\n\r\n").append(body).toString();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
