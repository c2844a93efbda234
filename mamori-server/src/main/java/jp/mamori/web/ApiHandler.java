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
 * headers. Only {@code /health} (its status alone: {@code /health/detail} and {@code /metrics} authenticate),
 * {@code /fhir/metadata} and the SMART configuration document are answered without authentication; the token
 * endpoint {@code /oauth/token} authenticates its callers itself ({@link TokenEndpoint} for client_credentials, SMART
 * for authorization_code and refresh_token), as do {@code /oauth/revoke} and {@code /oauth/introspect};
 * {@code /oauth/authorize} only leads the browser to the console's consent page, which needs a signed-in person. A request
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
    /** The authorization server for apps acting for a person (SMART on FHIR, issue 21); none until set. */
    private volatile jp.mamori.smart.Smart smart;
    /** The people's access contexts, for a SMART token's person; set with {@link #smart}. */
    private volatile jp.mamori.access.PersonContexts contexts;
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

    /**
     * Mounts SMART on FHIR: {@code /.well-known/smart-configuration} (also under {@code /fhir}), {@code /oauth/authorize}
     * (which sends the person to the console's consent page), the authorization_code and refresh_token grants of
     * {@code /oauth/token}, {@code /oauth/revoke} and {@code /oauth/introspect}; and a SMART access token on the FHIR
     * API becomes the person acting through the app ({@link Caller#personThroughApp}).
     */
    public void smart(jp.mamori.smart.Smart smart, jp.mamori.access.PersonContexts contexts,
                      java.util.function.Function<String, String> returnAfterLogin) {
        this.contexts = contexts;
        this.returnAfterLogin = returnAfterLogin;
        this.smart = smart;
    }

    /** The console's Set-Cookie value that brings a person back to a console path after signing in. */
    private volatile java.util.function.Function<String, String> returnAfterLogin = path -> null;

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
        if (path.equals(TokenEndpoint.PATH) || path.startsWith("/oauth/")) {
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
                reply = token(request, method, lease);
            } else if (smart != null && (path.equals(jp.mamori.smart.Smart.CONFIGURATION_PATH)
                    || path.equals("/fhir" + jp.mamori.smart.Smart.CONFIGURATION_PATH))) {
                reply = method.equals("GET") || method.equals("HEAD")
                        ? Reply.of(200, "application/json;charset=UTF-8", smart.configuration(origin()))
                        : Reply.of(405, "application/json;charset=UTF-8", "{\"error\":\"use GET\"}");
            } else if (smart != null && (path.equals(jp.mamori.smart.Smart.JWKS_PATH) || smart.issuesIdTokens()
                    && path.equals("/fhir" + jp.mamori.smart.Smart.OPENID_CONFIGURATION_PATH))) {
                // the ID tokens' public keys and the OpenID Provider configuration: public, read-only documents
                reply = !(method.equals("GET") || method.equals("HEAD"))
                        ? Reply.of(405, "application/json;charset=UTF-8", "{\"error\":\"use GET\"}")
                        : Reply.of(200, "application/json;charset=UTF-8", path.equals(jp.mamori.smart.Smart.JWKS_PATH)
                        ? smart.jwks() : smart.openIdConfiguration(origin()).orElseThrow());
            } else if (smart != null && path.equals(jp.mamori.smart.Smart.AUTHORIZE_PATH)) {
                reply = authorize(request, method);
            } else if (smart != null && (path.equals(jp.mamori.smart.Smart.REVOKE_PATH)
                    || path.equals(jp.mamori.smart.Smart.INTROSPECT_PATH))) {
                reply = oauth(request, method, lease, path);
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

    private String origin() {
        return baseUrl().replaceFirst("/fhir$", "");
    }

    /**
     * {@code /oauth/token}: the authorization_code and refresh_token grants go to SMART, everything else (the system
     * clients' client_credentials) to {@link TokenEndpoint} as before. The form is read once, at most
     * {@link #MAX_OAUTH_FORM} bytes.
     */
    private Reply token(Request request, String method, MemoryBudget.Lease lease) {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        byte[] bytes = null;
        if (smart != null && method.equals("POST") && type != null
                && type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            bytes = formBytes(request, lease);
            if (bytes == null) {
                return oauthError(400, "invalid_request", "the form is longer than " + MAX_OAUTH_FORM + " bytes");
            }
            Map<String, String> form = form(bytes);
            if (form != null && jp.mamori.smart.Smart.handles(form.get("grant_type"))) {
                TokenEndpoint.Answer a = smart.token(form, request.getHeaders().get(HttpHeader.AUTHORIZATION),
                        Request.getRemoteAddr(request));
                return oauthReply(a);
            }
        }
        byte[] read = bytes;
        TokenEndpoint.Answer a = tokens.handle(method, type, read != null
                ? () -> new java.io.ByteArrayInputStream(read) : () -> body(request, lease),
                Tls.clientCertificate(request), origin() + TokenEndpoint.PATH, Request.getRemoteAddr(request));
        return oauthReply(a);
    }

    /** {@code /oauth/revoke} and {@code /oauth/introspect}: POST of a form, answered by SMART. */
    private Reply oauth(Request request, String method, MemoryBudget.Lease lease, String path) {
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (!method.equals("POST") || type == null
                || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            return oauthError(method.equals("POST") ? 400 : 405, "invalid_request",
                    "use POST with an application/x-www-form-urlencoded body");
        }
        byte[] bytes = formBytes(request, lease);
        Map<String, String> form = bytes == null ? null : form(bytes);
        if (form == null) {
            return oauthError(400, "invalid_request", "the form is malformed, repeats a parameter or is longer than "
                    + MAX_OAUTH_FORM + " bytes");
        }
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String address = Request.getRemoteAddr(request);
        return oauthReply(path.equals(jp.mamori.smart.Smart.REVOKE_PATH) ? smart.revoke(form, auth, address)
                : smart.introspect(form, auth, address));
    }

    /**
     * {@code GET /oauth/authorize}: a page that takes the person to the console's consent page with the request as it
     * came (checked there, once the person is signed in), and remembers it across the sign-in. A page rather than a
     * redirect, so that the console is reached by a navigation of its own origin, which carries its SameSite=Strict
     * session cookie.
     */
    private Reply authorize(Request request, String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return Reply.of(405, "text/plain;charset=UTF-8", "use GET / GET で要求してください");
        }
        String query = request.getHttpURI().getQuery();
        if (query != null && query.length() > 8192) {
            return Reply.of(400, "text/plain;charset=UTF-8", "認可要求が長すぎます / The authorization request is too long");
        }
        String target = "/console/smart/authorize" + (query == null ? "" : "?" + query);
        String cookie = returnAfterLogin.apply(target);
        String href = target.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
        String html = "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\""
                + " content=\"0;url=" + href + "\"><title>アプリの認可 / App authorization</title></head><body><p><a href=\""
                + href + "\">Mamori でアプリの利用を確認する / Continue to Mamori to review the app's request</a></p>"
                + "</body></html>";
        Reply r = Reply.of(200, "text/html;charset=UTF-8", html).header("Referrer-Policy", "no-referrer");
        return cookie == null ? r : r.header("Set-Cookie", cookie);
    }

    static final int MAX_OAUTH_FORM = 16 * 1024;

    /** The body of a form, or null when it is longer than {@link #MAX_OAUTH_FORM}. */
    private byte[] formBytes(Request request, MemoryBudget.Lease lease) {
        if (request.getLength() > MAX_OAUTH_FORM) {
            return null;
        }
        try (InputStream in = body(request, lease)) {
            byte[] b = in.readNBytes(MAX_OAUTH_FORM + 1);
            return b.length > MAX_OAUTH_FORM ? null : b;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A form's parameters, or null when one is named twice (RFC 6749 §3.2) or there are more than 30. */
    private static Map<String, String> form(byte[] bytes) {
        Map<String, List<String>> parsed = jp.mamori.kernel.QueryString.parse(
                new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        if (parsed.size() > 30) {
            return null;
        }
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : parsed.entrySet()) {
            if (e.getValue().size() != 1) {
                return null;
            }
            out.put(e.getKey(), e.getValue().get(0));
        }
        return out;
    }

    private static Reply oauthReply(TokenEndpoint.Answer a) {
        return Reply.of(a.status(), "application/json;charset=UTF-8", a.json()).header("Pragma", "no-cache");
    }

    private static Reply oauthError(int status, String error, String description) {
        return Reply.of(status, "application/json;charset=UTF-8", "{\"error\":\"" + error
                + "\",\"error_description\":\"" + description + "\"}").header("Pragma", "no-cache");
    }

    private static Caller caller(SystemClients.Authenticated c) {
        return new Caller(c.principal(), c.display(), c.scopes(), c.address());
    }

    private Caller authenticate(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                && auth.startsWith(jp.mamori.smart.Smart.ACCESS_PREFIX, 7) && smart != null) {
            Optional<jp.mamori.smart.Smart.Bearer> b = smart.authenticate(auth.substring(7).trim());
            if (b.isPresent()) {
                jp.mamori.smart.Smart.Bearer x = b.get();
                // the person as the console loads them (roles, care relationships, sensitivity, break-glass), the
                // scopes they granted the app restricting them (AccessPolicy intersects both)
                return Caller.personThroughApp(contexts.get(x.accountId(), x.accessVersion()), x.display(),
                        Request.getRemoteAddr(request), x.scopes(), new Caller.App(x.clientId(), x.appName(),
                                x.patient(), x.grant(), x.fhirUser()));
            }
        } else if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
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
        if (reply.stream() != null) {
            writeStreamed(response, callback, reply.stream(), head);
            return;
        }
        h.put(HttpHeader.CONTENT_LENGTH, reply.body().length);
        if (head || reply.body().length == 0) {
            response.write(true, null, callback);
        } else {
            response.write(true, ByteBuffer.wrap(reply.body()), callback);
        }
    }

    /**
     * A streamed body (a bulk export's file): copied to the client through Jetty's blocking output stream, a chunk at a
     * time, on this request's thread; the heap it takes is the stream's small buffer whatever the file's size. A client
     * that goes away ends the copy with an error, which fails the callback (the connection is then closed).
     */
    private static void writeStreamed(Response response, Callback callback, Reply.Streamed stream, boolean head) {
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, stream.length());
        if (head) {
            response.write(true, null, callback);
            return;
        }
        try (java.io.OutputStream out = org.eclipse.jetty.io.Content.Sink.asOutputStream(response)) {
            stream.writeTo(out);
        } catch (Throwable t) {
            callback.failed(t);
            return;
        }
        callback.succeeded();
    }
}
