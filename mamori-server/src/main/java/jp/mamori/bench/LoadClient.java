package jp.mamori.bench;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The load generator's own small blocking HTTP/1.1 client (issue 24: the JDK HTTP client took 30–37 % of the
 * machine, CPU the server under test then lacked).
 *
 * <p>One {@link Connection} per worker thread: one persistent keep-alive socket with {@code TCP_NODELAY}, its
 * buffers reused for every request; a request is its bytes, prepared once ({@link Request}). The answer is parsed
 * strictly and every part of it is bounded: a header section over {@link #MAX_HEADER_BYTES}, a body over
 * {@link #MAX_BODY_BYTES}, a line not ending in CRLF, a malformed length or chunk each end the request with one
 * clear line ({@link Failure}); a server that does not answer within the timeout does too. The body is always read
 * to its end (its transfer is part of the latency) but kept only when asked for.
 *
 * <p>TLS as the bench always had it: by default the JDK's trust store and the host name checked against the
 * certificate; {@code insecure} trusts any certificate and skips the host name.
 *
 * <p>A connection the server closed while it was kept alive is reopened once, transparently, only where that cannot
 * repeat an action: for a GET whose answer had not begun, or for any request when the close was seen before
 * anything of it was sent (a connection idle longer than {@link #IDLE_PROBE_NANOS} is probed first).
 */
final class LoadClient {

    /** Upper bound of an answer's status line and header section (and of a chunked body's trailer section). */
    static final int MAX_HEADER_BYTES = 64 * 1024;
    /** Upper bound of an answer's body. */
    static final long MAX_BODY_BYTES = 64L * 1024 * 1024;
    /** Bytes of an error answer's body kept for its one-line description. */
    static final int SNIPPET_BYTES = HttpSupport.SNIPPET_CHARS * 4;
    /** A kept-alive connection idle longer than this is checked for a close by the server before it is reused. */
    static final long IDLE_PROBE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final int MAX_INTERIM_ANSWERS = 8;
    private static final int BUFFER_BYTES = 16 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final String host;
    private final int port;
    private final SSLSocketFactory tls;
    private final boolean checkHostName;
    private final long timeoutNanos;

    private LoadClient(String host, int port, SSLSocketFactory tls, boolean checkHostName,
                       Duration timeout) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.checkHostName = checkHostName;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * A client for the server of an {@code http://} or {@code https://} base URL.
     *
     * @param insecure trust any certificate and do not check the host name (a self-signed test server)
     * @param timeout  how long one request may take from sending to the end of its answer
     */
    static LoadClient forBase(String base, boolean insecure, Duration timeout) {
        URI uri = URI.create(base);
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        boolean https = scheme.equals("https");
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        SSLSocketFactory factory = null;
        if (https) {
            try {
                factory = insecure ? HttpSupport.trustAllContext().getSocketFactory()
                        : SSLContext.getDefault().getSocketFactory();
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
            }
        }
        return new LoadClient(host, port, factory, https && !insecure, timeout);
    }

    /** A new connection for one thread; it connects on its first request. */
    Connection connection() {
        return new Connection();
    }

    /** The {@code Host} header's value for a base URL: its authority without user information. */
    static String hostHeader(URI base) {
        String host = base.getHost();
        return base.getPort() < 0 ? host : host + ":" + base.getPort();
    }

    /**
     * A request prepared once as bytes: {@code head} is the request line and header fields up to and including the
     * empty line, {@code body} what follows (empty for none). Immutable by convention: nobody writes to the arrays.
     */
    static final class Request {
        private final String method;
        private final String target;
        private final byte[] head;
        private final byte[] body;

        Request(String method, String target, byte[] head, byte[] body) {
            this.method = method;
            this.target = target;
            this.head = head;
            this.body = body;
        }

        /**
         * Builds a request's bytes. {@code target} is the origin-form path and query, already percent-encoded;
         * {@code fields} are complete header lines, each ending in CRLF (Host included), from trusted values.
         */
        static Request of(String method, String target, String fields, byte[] body) {
            for (int i = 0; i < target.length(); i++) {
                char c = target.charAt(i);
                if (c <= ' ' || c > '~' || i == 0 && c != '/') {
                    throw new IllegalArgumentException("a request target must be printable ASCII from '/': " + target);
                }
            }
            StringBuilder head = new StringBuilder(64 + target.length() + fields.length());
            head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n").append(fields);
            if (body.length > 0 || !method.equals("GET")) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            return new Request(method, target, head.toString().getBytes(StandardCharsets.US_ASCII), body);
        }

        String method() {
            return method;
        }

        /** The origin-form target as sent, e.g. {@code /fhir/Patient?family=%E5%B1%B1%E7%94%B0}. */
        String target() {
            return target;
        }

        /** Only a GET may be sent twice: it changes nothing on the server. */
        boolean idempotent() {
            return method.equals("GET");
        }

        /** "GET /fhir/Patient?family=山田" style: the path and decoded query, for one-line messages. */
        String describe() {
            try {
                URI uri = URI.create("http://h" + target);
                return method + " " + uri.getPath() + (uri.getQuery() == null ? "" : "?" + uri.getQuery());
            } catch (IllegalArgumentException e) {
                return method + " " + target;
            }
        }

        byte[] head() {
            return head;
        }

        byte[] body() {
            return body;
        }
    }

    /**
     * An answer: its status, its body when it was kept (all of it), or for a non-2xx answer that was not kept its
     * first {@link #SNIPPET_BYTES}, else empty; its header fields only when the body was kept.
     */
    static final class Response {
        private final int status;
        private final byte[] body;
        private final Map<String, String> headers;

        Response(int status, byte[] body, Map<String, String> headers) {
            this.status = status;
            this.body = body;
            this.headers = headers;
        }

        int status() {
            return status;
        }

        byte[] body() {
            return body;
        }

        /** The first value of a header field (name case-insensitive), or null; null when headers were not kept. */
        String header(String name) {
            return headers == null ? null : headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** A request that failed; the message is one line, Japanese then English, and names what was wrong. */
    static final class Failure extends IOException {
        /** Whether the server closed a kept-alive connection before anything of the answer arrived. */
        private final boolean closedBeforeAnswer;

        Failure(String message) {
            this(message, false);
        }

        private Failure(String message, boolean closedBeforeAnswer) {
            super(message);
            this.closedBeforeAnswer = closedBeforeAnswer;
        }
    }

    /** One persistent connection, for one thread at a time. */
    final class Connection implements Closeable {
        private final byte[] buf = new byte[BUFFER_BYTES];
        private int pos;
        private int lim;
        private byte[] line = new byte[256];
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private long idleSince;
        /** Bytes received of the current answer (0: nothing yet, so a closed connection may be retried). */
        private long received;
        private int opened;

        private Connection() {
        }

        /** How many sockets this connection has opened so far (1 when every request reused the first). */
        int opened() {
            return opened;
        }

        /**
         * Sends a request and reads its answer to the end.
         *
         * @param keep keep the whole body and the header fields (setup reads ids from them); otherwise the body is
         *             read and dropped, except the start of a non-2xx answer's body for its error message
         * @throws IOException on a transport failure or a malformed, oversized or late answer (then a {@link
         *                     Failure} with one line); the connection is then closed and reopens on the next request
         */
        Response send(Request request, boolean keep) throws IOException {
            long deadline = System.nanoTime() + timeoutNanos;
            if (socket != null && System.nanoTime() - idleSince > IDLE_PROBE_NANOS && closedByServer()) {
                close();
            }
            boolean reused = socket != null;
            try {
                return exchange(request, keep, deadline);
            } catch (IOException e) {
                close();
                boolean closedBeforeAnswer = e instanceof Failure f ? f.closedBeforeAnswer
                        : received == 0 && !(e instanceof SocketTimeoutException);
                if (!(reused && closedBeforeAnswer && request.idempotent())) {
                    throw e;
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            try {
                return exchange(request, keep, deadline);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private Response exchange(Request request, boolean keep, long deadline) throws IOException {
            if (socket == null) {
                open(deadline);
            }
            received = 0;
            out.write(request.head());
            if (request.body().length > 0) {
                out.write(request.body());
            }
            out.flush();
            Response response = read(keep, deadline);
            idleSince = System.nanoTime();
            return response;
        }

        private void open(long deadline) throws IOException {
            Socket plain = new Socket();
            try {
                plain.setTcpNoDelay(true);
                plain.connect(new InetSocketAddress(host, port),
                        (int) Math.min(CONNECT_TIMEOUT_MILLIS, remainingMillis(deadline)));
                Socket s = plain;
                if (tls != null) {
                    SSLSocket ssl = (SSLSocket) tls.createSocket(plain, host, port, true);
                    if (checkHostName) {
                        SSLParameters parameters = ssl.getSSLParameters();
                        parameters.setEndpointIdentificationAlgorithm("HTTPS");
                        ssl.setSSLParameters(parameters);
                    }
                    ssl.setSoTimeout(remainingMillis(deadline));
                    ssl.startHandshake();
                    s = ssl;
                }
                socket = s;
                in = s.getInputStream();
                out = new BufferedOutputStream(s.getOutputStream(), BUFFER_BYTES);
                pos = 0;
                lim = 0;
                opened++;
            } catch (SocketTimeoutException e) {
                plain.close();
                throw new Failure(timeoutMessage());
            } catch (IOException | RuntimeException e) {
                plain.close();
                throw e;
            }
        }

        /**
         * Whether the server has closed this idle connection (or sent something unasked, which makes it unusable):
         * a read that waits one millisecond. Only after an idle spell, so a busy loop never pays for it.
         */
        private boolean closedByServer() {
            if (pos < lim) {
                return true;
            }
            try {
                socket.setSoTimeout(1);
                return in.read(buf, 0, buf.length) != 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing: nothing to do
                }
            }
            socket = null;
            in = null;
            out = null;
            pos = 0;
            lim = 0;
        }

        private Response read(boolean keep, long deadline) throws IOException {
            int headerBytes = 0;
            for (int interim = 0; ; interim++) {
                int length = readLine(deadline, MAX_HEADER_BYTES - headerBytes, true);
                headerBytes += length + 2;
                int status = statusOf(line, length);
                boolean http10 = line[7] == '0';
                Map<String, String> headers = keep ? new HashMap<>() : null;
                long contentLength = -1;
                boolean chunked = false;
                boolean untilClose = false;
                boolean close = http10; // HTTP/1.0 closes unless it says keep-alive
                while (true) {
                    length = readLine(deadline, MAX_HEADER_BYTES - headerBytes, true);
                    headerBytes += length + 2;
                    if (length == 0) {
                        break;
                    }
                    int colon = indexOf(line, length, (byte) ':');
                    if (colon <= 0) {
                        throw new Failure("応答のヘッダー行が不正です / a header line of the answer has no name:"
                                + " '" + printable(line, length) + "'");
                    }
                    if (nameIs(colon, "content-length")) {
                        long value = contentLength(line, colon + 1, length);
                        if (contentLength >= 0 && value != contentLength) {
                            throw new Failure("応答の Content-Length が食い違っています / the answer has two different"
                                    + " Content-Length fields");
                        }
                        contentLength = value;
                    } else if (nameIs(colon, "transfer-encoding")) {
                        String codings = value(colon, length).toLowerCase(Locale.ROOT);
                        String last = codings.substring(codings.lastIndexOf(',') + 1).strip();
                        chunked = last.equals("chunked");
                        untilClose = !chunked;
                    } else if (nameIs(colon, "connection")) {
                        for (String token : value(colon, length).toLowerCase(Locale.ROOT).split(",")) {
                            String t = token.strip();
                            if (t.equals("close")) {
                                close = true;
                            } else if (t.equals("keep-alive") && http10) {
                                close = false;
                            }
                        }
                    }
                    if (headers != null) {
                        headers.putIfAbsent(new String(line, 0, colon, StandardCharsets.ISO_8859_1)
                                .strip().toLowerCase(Locale.ROOT), value(colon, length));
                    }
                }
                if (status < 200) {
                    if (status == 101 || interim >= MAX_INTERIM_ANSWERS) {
                        throw new Failure("想定外の中間応答です / an unexpected interim answer: HTTP " + status);
                    }
                    continue;
                }
                if (chunked || untilClose) {
                    // Transfer-Encoding overrides Content-Length; a message with both is suspect: do not reuse.
                    close |= contentLength >= 0 || untilClose;
                    contentLength = -1;
                } else if (contentLength < 0 && status != 204 && status != 304) {
                    untilClose = true;
                    close = true;
                }
                Sink sink = keep ? new Sink(Integer.MAX_VALUE)
                        : HttpSupport.isSuccess(status) ? null : new Sink(SNIPPET_BYTES);
                if (status == 204 || status == 304) {
                    contentLength = 0;
                } else if (chunked) {
                    readChunked(sink, deadline);
                } else if (untilClose) {
                    readUntilClose(sink, deadline);
                } else {
                    readBody(contentLength, sink, deadline, false);
                }
                if (close || pos < lim) {
                    close();
                }
                return new Response(status, sink == null ? EMPTY : sink.bytes(), headers);
            }
        }

        private boolean nameIs(int colon, String lowerName) {
            if (colon != lowerName.length()) {
                return false;
            }
            for (int i = 0; i < colon; i++) {
                if ((line[i] | 0x20) != lowerName.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private String value(int colon, int length) {
            return new String(line, colon + 1, length - colon - 1, StandardCharsets.ISO_8859_1).strip();
        }

        private void readChunked(Sink sink, long deadline) throws IOException {
            long total = 0;
            while (true) {
                int length = readLine(deadline, 1024, false);
                long size = chunkSize(line, length);
                if (size > MAX_BODY_BYTES - total) {
                    throw tooLarge();
                }
                if (size == 0) {
                    break;
                }
                readBody(size, sink, deadline, true);
                total += size;
                expectCrlf(deadline);
            }
            int trailerBytes = 0;
            int length;
            while ((length = readLine(deadline, MAX_HEADER_BYTES - trailerBytes, true)) != 0) {
                trailerBytes += length + 2;
            }
        }

        /** The CRLF that ends a chunk's data. */
        private void expectCrlf(long deadline) throws IOException {
            for (byte expected : new byte[] {'\r', '\n'}) {
                if (pos == lim) {
                    fill(deadline, false);
                }
                if (buf[pos++] != expected) {
                    throw new Failure("応答のチャンクが不正です / a chunk of the answer does not end where its size says");
                }
            }
        }

        private void readUntilClose(Sink sink, long deadline) throws IOException {
            long total = 0;
            while (true) {
                if (pos == lim && fill(deadline, true) < 0) {
                    return;
                }
                int n = lim - pos;
                total += n;
                if (total > MAX_BODY_BYTES) {
                    throw tooLarge();
                }
                if (sink != null) {
                    sink.write(buf, pos, n);
                }
                pos = lim;
            }
        }

        private void readBody(long length, Sink sink, long deadline, boolean chunk) throws IOException {
            if (length > MAX_BODY_BYTES) {
                throw tooLarge();
            }
            long left = length;
            while (left > 0) {
                if (pos == lim) {
                    fill(deadline, false);
                }
                int n = (int) Math.min(left, lim - pos);
                if (sink != null) {
                    sink.write(buf, pos, n);
                }
                pos += n;
                left -= n;
            }
        }

        /**
         * Reads one line ending in CRLF into {@link #line} and returns its length without the CRLF.
         *
         * @param max    the most bytes the line may have, CRLF included
         * @param header whether the line belongs to a header (or trailer) section, for the message when too long
         */
        private int readLine(long deadline, int max, boolean header) throws IOException {
            int length = 0;
            while (true) {
                if (pos == lim) {
                    fill(deadline, false);
                }
                byte b = buf[pos++];
                if (b == '\n') {
                    if (length == 0 || line[length - 1] != '\r') {
                        throw new Failure("応答の行が CRLF で終わっていません / a line of the answer ends in a bare LF");
                    }
                    return length - 1;
                }
                if (length > 0 && line[length - 1] == '\r') {
                    throw new Failure("応答の行に CR だけがあります / a line of the answer has a CR without LF");
                }
                if (length + 2 > max) {
                    throw header ? new Failure("応答ヘッダーが 64 KiB を超えています / the answer's header section"
                            + " is over 64 KiB") : new Failure("応答のチャンクの長さの行が長すぎます / a chunk size line of"
                            + " the answer has no CRLF within " + max + " bytes");
                }
                if (length == line.length) {
                    line = Arrays.copyOf(line, Math.min(length * 2, MAX_HEADER_BYTES));
                }
                line[length++] = b;
            }
        }

        /**
         * Reads more bytes into the empty buffer; -1 at the end of the stream only when {@code endAllowed}, else a
         * {@link Failure} saying the connection closed (before the answer: retryable on a reused connection).
         */
        private int fill(long deadline, boolean endAllowed) throws IOException {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                throw new Failure(timeoutMessage());
            }
            int n;
            try {
                socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        TimeUnit.NANOSECONDS.toMillis(remaining))));
                n = in.read(buf, 0, buf.length);
            } catch (SocketTimeoutException e) {
                throw new Failure(timeoutMessage());
            }
            if (n < 0) {
                if (endAllowed) {
                    return -1;
                }
                throw received == 0
                        ? new Failure("応答の前にサーバーが接続を閉じました / the server closed the connection"
                        + " without an answer", true)
                        : new Failure("応答の途中でサーバーが接続を閉じました / the server closed the connection in the"
                        + " middle of an answer");
            }
            pos = 0;
            lim = n;
            received += n;
            return n;
        }

        private int remainingMillis(long deadline) throws Failure {
            long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remaining <= 0) {
                throw new Failure(timeoutMessage());
            }
            return (int) Math.min(Integer.MAX_VALUE, remaining);
        }
    }

    private String timeoutMessage() {
        long seconds = TimeUnit.NANOSECONDS.toSeconds(timeoutNanos);
        String limit = seconds > 0 ? seconds + "s" : TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + "ms";
        return limit + " 以内に応答がありません / no answer within " + limit;
    }

    private static Failure tooLarge() {
        return new Failure("応答本文が 64 MiB を超えています / the answer's body is over 64 MiB");
    }

    /** The status code of a status line {@code HTTP/1.x NNN reason}. */
    private static int statusOf(byte[] line, int length) throws Failure {
        boolean ok = length >= 12 && line[0] == 'H' && line[1] == 'T' && line[2] == 'T' && line[3] == 'P'
                && line[4] == '/' && line[5] == '1' && line[6] == '.' && (line[7] == '0' || line[7] == '1')
                && line[8] == ' ' && digit(line[9]) && digit(line[10]) && digit(line[11])
                && (length == 12 || line[12] == ' ') && line[9] != '0';
        if (!ok) {
            throw new Failure("HTTP/1.1 の応答ではありません / not an HTTP/1.1 answer: '" + printable(line, length)
                    + "'");
        }
        return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    }

    private static long contentLength(byte[] line, int from, int to) throws Failure {
        while (from < to && (line[from] == ' ' || line[from] == '\t')) {
            from++;
        }
        while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t')) {
            to--;
        }
        if (from == to) {
            throw badLength(line, from, to);
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            if (!digit(line[i])) {
                throw badLength(line, from, to);
            }
            value = value * 10 + (line[i] - '0');
            if (value > MAX_BODY_BYTES) {
                throw tooLarge();
            }
        }
        return value;
    }

    private static Failure badLength(byte[] line, int from, int to) {
        return new Failure("応答の Content-Length が不正です / the answer's Content-Length is not a number: '"
                + printable(Arrays.copyOfRange(line, from, to), to - from) + "'");
    }

    /** The size of a chunk from its size line (hex digits, then optional extensions after ';'). */
    private static long chunkSize(byte[] line, int length) throws Failure {
        long size = 0;
        int i = 0;
        for (; i < length; i++) {
            int d = Character.digit(line[i], 16);
            if (d < 0) {
                break;
            }
            size = size * 16 + d;
            if (size > MAX_BODY_BYTES) {
                throw tooLarge();
            }
        }
        int digits = i;
        while (i < length && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (digits == 0 || i < length && line[i] != ';') {
            throw new Failure("応答のチャンクの長さが不正です / a chunk size of the answer is not hexadecimal: '"
                    + printable(line, length) + "'");
        }
        return size;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static int indexOf(byte[] line, int length, byte b) {
        for (int i = 0; i < length; i++) {
            if (line[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** At most 60 bytes of a line, non-printable ones as '?', for a message. */
    private static String printable(byte[] line, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(length, 60); i++) {
            byte b = line[i];
            text.append(b >= ' ' && b <= '~' ? (char) b : '?');
        }
        return length > 60 ? text + "…" : text.toString();
    }

    /** Keeps up to {@code limit} bytes of a body, growing as they arrive (never by what the server announced). */
    private static final class Sink {
        private final int limit;
        private byte[] bytes = new byte[512];
        private int size;

        Sink(int limit) {
            this.limit = limit;
        }

        void write(byte[] from, int offset, int length) {
            int n = Math.min(length, limit - size);
            if (n <= 0) {
                return;
            }
            if (size + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(Math.max((long) bytes.length * 2, size + n),
                        Math.min(limit, MAX_BODY_BYTES)));
            }
            System.arraycopy(from, offset, bytes, size, n);
            size += n;
        }

        byte[] bytes() {
            return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
        }
    }
}
