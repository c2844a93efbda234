package jp.mamori.web;

import jp.mamori.config.ServerConfig;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The HTTPS (or, only when asked for on loopback, plain HTTP) listener in front of {@link ApiHandler}. */
public final class HttpServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final boolean tls;

    public HttpServer(ServerConfig cfg, Handler handler, Tls.Material material) {
        QueuedThreadPool pool = new QueuedThreadPool(200, 8);
        pool.setName("mamori-http");
        server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(16 * 1024);
        tls = material != null;
        ConnectionFactory[] factories;
        if (tls) {
            SecureRequestCustomizer src = new SecureRequestCustomizer();
            src.setSniHostCheck(false);
            src.setStsMaxAge(31_536_000);
            http.addCustomizer(src);
            factories = new ConnectionFactory[]{
                    new SslConnectionFactory(Tls.contextFactory(material), "http/1.1"),
                    new HttpConnectionFactory(http)};
        } else {
            factories = new ConnectionFactory[]{new HttpConnectionFactory(http)};
        }
        connector = new ServerConnector(server, 1, -1, factories);
        connector.setHost(cfg.bindAddress());
        connector.setPort(cfg.port());
        connector.setIdleTimeout(30_000);
        SlowClients slow = new SlowClients(cfg.listener());
        connector.addEventListener(slow);
        server.addBean(slow);
        server.addConnector(connector);
        ErrorHandler errors = new OutcomeErrorHandler(tls);
        errors.setShowStacks(false);
        errors.setShowMessageInTitle(false);
        server.setErrorHandler(errors);
        server.setHandler(slow.bodyRate(handler));
        server.setStopAtShutdown(false);
        server.setStopTimeout(10_000);
    }

    /** Binds the port, so that {@link #port()} is known before any request is accepted. */
    public void open() throws java.io.IOException {
        connector.open();
    }

    public void start() throws Exception {
        server.start();
    }

    public int port() {
        return connector.getLocalPort();
    }

    public String scheme() {
        return tls ? "https" : "http";
    }

    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /**
     * Requests Jetty refuses before they reach {@link ApiHandler} (a malformed URI or percent-escape, an
     * ambiguous path, a URL or headers that are too long) are answered like every other error: an
     * OperationOutcome in JSON, with the security headers, and no HTML.
     */
    static final class OutcomeErrorHandler extends ErrorHandler {
        private final boolean tls;

        OutcomeErrorHandler(boolean tls) {
            this.tls = tls;
        }

        @Override
        public boolean errorPageForMethod(String method) {
            return true; // every method gets the OperationOutcome, not only GET, POST and HEAD
        }

        @Override
        protected void generateResponse(Request request, Response response, int code, String message,
                                        Throwable cause, Callback callback) {
            byte[] body = outcome(code, message, response.getHeaders());
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
        }

        @Override
        public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
            return ByteBuffer.wrap(outcome(status, reason, fields));
        }

        private byte[] outcome(int status, String jettyMessage, HttpFields.Mutable h) {
            ApiHandler.securityHeaders(h, tls);
            h.put(HttpHeader.CONTENT_TYPE, FhirSupport.Format.JSON.mediaType + ";charset=UTF-8");
            String what = switch (status) {
                case 400 -> "the request is malformed (URL, percent-encoding or headers)"
                        + " / リクエストの形式が正しくありません";
                case 414 -> "the URL is too long; send long searches as POST _search / URLが長すぎます";
                case 431 -> "the request headers are too large / リクエストヘッダーが大きすぎます";
                default -> "the request cannot be handled (HTTP " + status + ")";
            };
            String detail = jettyMessage == null ? "" : ErrorMapper.withoutJavaNames(jettyMessage);
            if (!detail.isBlank() && detail.length() <= 200) {
                what = what + ": " + detail;
            }
            OperationOutcome.IssueType type = status == 414 || status == 431 ? OperationOutcome.IssueType.TOOCOSTLY
                    : status >= 500 ? OperationOutcome.IssueType.EXCEPTION : OperationOutcome.IssueType.INVALID;
            return FhirSupport.encode(ErrorMapper.outcome(new FhirError(status, type, what)), FhirSupport.Format.JSON,
                    false).getBytes(StandardCharsets.UTF_8);
        }
    }
}
