package jp.mamori.web;

import jp.mamori.config.ServerConfig;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

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
        server.addConnector(connector);
        ErrorHandler errors = new ErrorHandler();
        errors.setShowStacks(false);
        errors.setShowMessageInTitle(false);
        server.setErrorHandler(errors);
        server.setHandler(handler);
        server.setStopAtShutdown(false);
        server.setStopTimeout(10_000);
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
}
