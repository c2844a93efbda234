package jp.mamori.web;

import jp.mamori.access.Caller;
import jp.mamori.identity.SystemClients;
import jp.mamori.identity.TokenEndpoint;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jp.mamori.records.api.FhirEndpoint;
import jp.mamori.records.api.FhirRequest;

/**
 * Every HTTP request enters here: one place that authenticates, routes, maps errors and sets the security
 * headers. Only {@code /health} (its status alone: {@code /health/detail} and {@code /metrics} authenticate) and
 * {@code /fhir/metadata} are answered without authentication; the token
 * endpoint {@code /oauth/token} authenticates its callers itself ({@link TokenEndpoint}). A request
 * authenticates with {@code Authorization: Bearer} (a static or access token) or, without that header, with
 * the TLS client certificate pinned for a system client.
 */
public final class ApiHandler extends Handler.Abstract {
    private final Endpoint fhir;
    private final SystemClients clients;
    private final TokenEndpoint tokens;
    private final long maxBody;
    private final boolean tls;
    /** Request bodies are admitted by the heap they need, so that large ones cannot exhaust it. */
    private final MemoryBudget budget = MemoryBudget.forHeap(Runtime.getRuntime().maxMemory());
    /** Set once the listener's port is known (WebAuthn needs the exact origin); until then /console is 503. */
    private volatile Endpoint console;
    /** {@code /health}, {@code /health/detail}, {@code /metrics} (issue 18 §5); until set, /health answers "UP". */
    private volatile Endpoint ops;
    /** Told the kind, status and time of every answer (the metrics); none by default. */
    private volatile Observer observer = (kind, status, nanos) -> { };

    /** Sees every answer: its route kind (a fixed set, see {@link #kind}), status and time taken. Must not block. */
    @FunctionalInterface
    public interface Observer {
        void served(String kind, int status, long nanos);
    }

    /** @param fhir the FHIR API, mounted at {@code /fhir} */
    public ApiHandler(Endpoint fhir, SystemClients clients, long maxBody, boolean tls) {
        this.fhir = fhir;
        this.clients = clients;
        this.tokens = new TokenEndpoint(clients);
        this.maxBody = maxBody;
        this.tls = tls;
    }

    /** Mounts the health report and metrics at {@code /health}, {@code /health/detail} and {@code /metrics}. */
    public void ops(Endpoint ops) {
        this.ops = ops;
    }

    public void observe(Observer observer) {
        this.observer = observer;
    }

    /**
     * The route kind a request is counted under: {@code fhir-read} (GET of one resource, a version or a history),
     * {@code fhir-search} (GET of a type or the system, {@code _search}), {@code fhir-write} (POST, PUT, PATCH,
     * DELETE), {@code fhir-other} (metadata, operations), {@code console}, {@code token}, {@code health},
     * {@code metrics}, {@code other}.
     */
    static String kind(String method, String path) {
        if (path.equals("/fhir") || path.startsWith("/fhir/")) {
            String rest = path.length() > 6 ? path.substring(6) : "";
            String[] p = rest.isEmpty() ? new String[0] : rest.split("/");
            boolean get = method.equals("GET") || method.equals("HEAD");
            if (p.length > 0 && (p[0].equals("metadata") || p[p.length - 1].startsWith("$"))) {
                return "fhir-other";
            }
            if (!get) {
                return p.length > 0 && p[p.length - 1].equals("_search") ? "fhir-search"
                        : method.equals("POST") || method.equals("PUT") || method.equals("PATCH")
                        || method.equals("DELETE") ? "fhir-write" : "fhir-other";
            }
            return p.length >= 2 && !p[1].equals("_search") && !p[1].equals("_history") ? "fhir-read" : "fhir-search";
        }
        if (path.equals("/") || path.equals("/console") || path.startsWith("/console/")) {
            return "console";
        }
        if (path.equals(TokenEndpoint.PATH)) {
            return "token";
        }
        if (path.equals("/health") || path.startsWith("/health/")) {
            return "health";
        }
        return path.equals("/metrics") ? "metrics" : "other";
    }

    /** Mounts the console at {@code /} and {@code /console}. */
    public void console(Endpoint console) {
        this.console = console;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        jp.mamori.kernel.Activity.served(); // a running backup yields the disk while people are served
        long began = System.nanoTime();
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        Reply reply;
        MemoryBudget.Lease lease = budget.lease();
        try {
            if (path.equals("/health") || path.equals("/health/detail") || path.equals("/metrics")) {
                Endpoint o = ops;
                if (o != null) {
                    reply = o.handle(exchange(request, path, lease)); // /health alone is anonymous: a status, no more
                } else if (path.equals("/health")) {
                    reply = Reply.of(200, "application/json", "{\"status\":\"UP\"}");
                } else {
                    authenticate(request);
                    throw FhirError.notFound("nothing at " + path);
                }
            } else if (path.equals("/") || path.equals("/console") || path.startsWith("/console/")) {
                Endpoint c = console;
                reply = c == null ? Reply.of(503, "text/plain;charset=UTF-8", "starting / 起動中")
                        : c.handle(exchange(request, path, lease));
            } else if (path.equals(TokenEndpoint.PATH)) {
                TokenEndpoint.Answer a = tokens.handle(method, request.getHeaders().get(HttpHeader.CONTENT_TYPE),
                        () -> body(request, lease), Tls.clientCertificate(request),
                        baseUrl().replaceFirst("/fhir$", TokenEndpoint.PATH), Request.getRemoteAddr(request));
                reply = Reply.of(a.status(), "application/json;charset=UTF-8", a.json()).header("Pragma", "no-cache");
            } else if (path.equals("/fhir") || path.startsWith("/fhir/")) {
                reply = fhir.handle(exchange(request, path, lease));
            } else {
                authenticate(request); // anonymous callers learn nothing, not even which paths exist
                throw FhirError.notFound("nothing at " + path + "; the FHIR API is at /fhir");
            }
        } catch (Throwable t) {
            reply = ErrorMapper.reply(t, FhirSupport.Format.JSON);
        }
        try {
            write(request, response, callback, reply);
        } finally {
            lease.close(); // the answer's bytes are with Jetty now
            try {
                observer.served(kind(method, path), reply.status(), System.nanoTime() - began);
            } catch (RuntimeException e) {
                // metrics never cost an answer
            }
        }
        return true;
    }

    private Exchange exchange(Request request, String path, MemoryBudget.Lease lease) {
        return new Exchange(request, path, lease, () -> body(request, lease), this::baseUrl,
                () -> authenticate(request));
    }

    private static Caller caller(SystemClients.Authenticated c) {
        return new Caller(c.principal(), c.display(), c.scopes(), c.address());
    }

    private Caller authenticate(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            Optional<SystemClients.Authenticated> c = clients.authenticate(auth.substring(7).trim(), Request.getRemoteAddr(request));
            if (c.isPresent()) {
                return caller(c.get());
            }
        } else if (auth == null && Tls.clientCertificate(request) != null) {
            Optional<SystemClients.Authenticated> c = clients.authenticateCertificate(Tls.clientCertificate(request),
                    Request.getRemoteAddr(request));
            if (c.isPresent()) {
                return caller(c.get());
            }
        }
        throw new FhirError(401, OperationOutcome.IssueType.LOGIN,
                "authentication required: send Authorization: Bearer <token> / 認証が必要です");
    }

    private InputStream body(Request request, MemoryBudget.Lease lease) {
        long declared = request.getLength();
        if (declared > maxBody) {
            throw LimitedInputStream.tooLarge(maxBody);
        }
        if (declared > 0) {
            lease.reserve(2 * declared, false); // read into memory, where it may be copied once more
        }
        InputStream in = new LimitedInputStream(Content.Source.asInputStream(request), maxBody, lease);
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String t = type == null ? "" : type.toLowerCase(java.util.Locale.ROOT);
        return t.contains("json") ? new ExponentGuard(in, true) : t.contains("xml") ? new ExponentGuard(in, false) : in;
    }

    /**
     * Refuses numbers with huge exponents before a parser sees them: HAPI turns every JSON decimal into its
     * plain digits, so {@code 1e-999999999} in a tiny body would need gigabytes of heap, and a stored one
     * would do so again on every later parse. Checked are JSON numbers outside strings, and XML attribute
     * values that are a bare number; an exponent beyond ±{@value #MAX_EXPONENT} is a 400.
     */
    static final class ExponentGuard extends java.io.FilterInputStream {
        static final int MAX_EXPONENT = 1000;
        private final boolean json;
        private boolean inString;
        private boolean escaped;
        private int quote;
        private boolean number;
        private boolean bare;
        private boolean seenE;
        private int exponent;

        ExponentGuard(InputStream in, boolean json) {
            super(in);
            this.json = json;
        }

        @Override
        public int read() throws java.io.IOException {
            int b = super.read();
            scan(b);
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws java.io.IOException {
            int n = super.read(buf, off, len);
            if (n < 0) {
                scan(-1);
            }
            for (int i = 0; i < n; i++) {
                scan(buf[off + i] & 0xff);
            }
            return n;
        }

        private void scan(int b) {
            if (json) {
                if (inString) {
                    if (escaped) {
                        escaped = false;
                    } else if (b == '\\') {
                        escaped = true;
                    } else if (b == '"') {
                        inString = false;
                    }
                } else if (isNumberChar(b)) {
                    numberChar(b);
                } else {
                    endNumber();
                    inString = b == '"';
                }
            } else if (quote != 0) {
                if (b == quote || b < 0) {
                    if (bare) {
                        endNumber();
                    }
                    number = false;
                    quote = 0;
                } else if (isNumberChar(b)) {
                    numberChar(b);
                } else {
                    bare = false;
                }
            } else if (b == '"' || b == '\'') {
                quote = b;
                bare = true;
                number = false;
            }
        }

        private static boolean isNumberChar(int b) {
            return (b >= '0' && b <= '9') || b == '.' || b == '-' || b == '+' || b == 'e' || b == 'E';
        }

        private void numberChar(int b) {
            if (!number) {
                number = true;
                seenE = false;
                exponent = 0;
            }
            if (b == 'e' || b == 'E') {
                seenE = true;
                exponent = 0;
            } else if (seenE && b >= '0' && b <= '9') {
                exponent = Math.min(exponent * 10 + (b - '0'), 1_000_000);
            }
        }

        private void endNumber() {
            if (number && seenE && exponent > MAX_EXPONENT) {
                number = false;
                throw FhirError.badRequest("a number's exponent is beyond ±" + MAX_EXPONENT
                        + " / 数値の指数が大きすぎます");
            }
            number = false;
        }
    }

    /**
     * The origin links, Location headers and the token endpoint's expected audience use: --public-url, else the
     * listener's own address. Never the request's Host header, which the client chooses: with it, an assertion
     * made for another server would be accepted by sending that server's name (NET-6, AUTH-1).
     */
    private volatile String publicUrl;

    public void publicUrl(String url) {
        this.publicUrl = url;
    }

    private String baseUrl() {
        String fixed = publicUrl;
        if (fixed == null) { // set before the listener accepts anything; kept as a guard
            throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "starting / 起動中です");
        }
        return fixed + "/fhir";
    }

    /** The headers every answer carries, including the ones Jetty makes itself for malformed requests. */
    static void securityHeaders(org.eclipse.jetty.http.HttpFields.Mutable h, boolean tls) {
        h.put("Cache-Control", "no-store");
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        h.put("X-Frame-Options", "DENY");
        h.put("Referrer-Policy", "no-referrer");
        if (tls) {
            h.put("Strict-Transport-Security", "max-age=31536000");
        }
    }

    private void write(Request request, Response response, Callback callback, Reply reply) {
        response.setStatus(reply.status());
        var h = response.getHeaders();
        securityHeaders(h, tls);
        reply.headers().forEach(h::put);
        // A body left unread (e.g. a request refused before it was read) would make Jetty drop the
        // connection after this answer without saying so, and the client's next request on it would fail.
        // Skip what has already arrived; if more is still coming, say that this connection closes.
        if (!request.consumeAvailable()) {
            h.put(HttpHeader.CONNECTION, "close");
        }
        if (reply.contentType() != null) {
            h.put(HttpHeader.CONTENT_TYPE, reply.contentType());
        }
        boolean head = request.getMethod().equals("HEAD");
        h.put(HttpHeader.CONTENT_LENGTH, reply.body().length);
        if (head || reply.body().length == 0) {
            response.write(true, null, callback);
        } else {
            response.write(true, ByteBuffer.wrap(reply.body()), callback);
        }
    }
}
