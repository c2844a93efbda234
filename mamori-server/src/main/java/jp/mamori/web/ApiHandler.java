package jp.mamori.web;

import jp.mamori.access.Caller;
import jp.mamori.identity.SystemClients;
import jp.mamori.records.FhirError;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Every HTTP request enters here: one place that authenticates, routes, maps errors and sets the security
 * headers. Only {@code /health} and {@code /fhir/metadata} are answered without authentication.
 */
public final class ApiHandler extends Handler.Abstract {
    /** Bodies larger than this are parsed a few at a time, so large bundles cannot exhaust the heap. */
    static final long LARGE_BODY = 1024 * 1024;

    private final FhirEndpoint fhir;
    private final SystemClients clients;
    private final long maxBody;
    private final boolean tls;
    private final Semaphore largeBodies = new Semaphore(2);

    public ApiHandler(FhirEndpoint fhir, SystemClients clients, long maxBody, boolean tls) {
        this.fhir = fhir;
        this.clients = clients;
        this.maxBody = maxBody;
        this.tls = tls;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        String query = request.getHttpURI().getQuery();
        Reply reply;
        FhirSupport.Format errorFormat = FhirSupport.Format.JSON;
        boolean[] holdsLargePermit = {false};
        try {
            if (path.equals("/health")) {
                reply = Reply.of(200, "application/json", "{\"status\":\"ok\"}");
            } else if (path.equals("/fhir") || path.startsWith("/fhir/")) {
                List<String> segments = new ArrayList<>();
                for (String s : path.substring(5).split("/")) {
                    if (!s.isEmpty()) {
                        segments.add(FhirRequest.decode(s));
                    }
                }
                Map<String, List<String>> params = FhirRequest.parseQuery(query);
                String base = baseUrl(request);
                boolean metadata = segments.size() == 1 && segments.get(0).equals("metadata")
                        && (method.equals("GET") || method.equals("HEAD"));
                Caller caller = metadata ? null : authenticate(request);
                FhirRequest rq = new FhirRequest(method, segments, query, params,
                        name -> request.getHeaders().get(name), () -> body(request, holdsLargePermit), caller, base);
                errorFormat = safeFormat(rq);
                reply = metadata ? fhir.metadata(rq) : fhir.handle(rq);
            } else {
                throw FhirError.notFound("nothing at " + path + "; the FHIR API is at /fhir");
            }
        } catch (Throwable t) {
            FhirError err = ErrorMapper.map(t);
            reply = Reply.of(err.status(), errorFormat.mediaType + ";charset=UTF-8",
                    FhirSupport.encode(ErrorMapper.outcome(err), errorFormat, false));
            if (err.status() == 401) {
                reply.header("WWW-Authenticate", "Bearer realm=\"mamori\"");
            }
        } finally {
            if (holdsLargePermit[0]) {
                largeBodies.release();
            }
        }
        write(request, response, callback, reply);
        return true;
    }

    private Caller authenticate(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            Optional<Caller> c = clients.authenticate(auth.substring(7).trim(), Request.getRemoteAddr(request));
            if (c.isPresent()) {
                return c.get();
            }
        }
        throw new FhirError(401, OperationOutcome.IssueType.LOGIN,
                "authentication required: send Authorization: Bearer <token> / 認証が必要です");
    }

    private InputStream body(Request request, boolean[] holdsLargePermit) {
        long declared = request.getLength();
        if (declared > maxBody) {
            throw LimitedInputStream.tooLarge(maxBody);
        }
        if ((declared < 0 || declared > LARGE_BODY) && !holdsLargePermit[0]) {
            try {
                if (!largeBodies.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT,
                            "too many large requests at once; retry shortly");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "interrupted; retry");
            }
            holdsLargePermit[0] = true;
        }
        return new LimitedInputStream(Content.Source.asInputStream(request), maxBody);
    }

    private static FhirSupport.Format safeFormat(FhirRequest rq) {
        try {
            return rq.responseFormat();
        } catch (FhirError e) {
            return FhirSupport.Format.JSON;
        }
    }

    private String baseUrl(Request request) {
        var uri = request.getHttpURI();
        String scheme = tls ? "https" : "http";
        return scheme + "://" + uri.getAuthority() + "/fhir";
    }

    private void write(Request request, Response response, Callback callback, Reply reply) {
        response.setStatus(reply.status());
        var h = response.getHeaders();
        h.put("Cache-Control", "no-store");
        h.put("X-Content-Type-Options", "nosniff");
        h.put("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        h.put("X-Frame-Options", "DENY");
        h.put("Referrer-Policy", "no-referrer");
        if (tls) {
            h.put("Strict-Transport-Security", "max-age=31536000");
        }
        reply.headers().forEach(h::put);
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
