package jp.mamori.testing;

import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A real Mamori server for tests: embedded PostgreSQL, HTTPS with the generated certificate, port 0.
 * {@link #shared()} starts one per test JVM; tests keep their data apart with unique identifiers.
 * The HTTP client trusts exactly the server's own certificate, as a careful client would.
 */
public final class TestServer implements AutoCloseable {
    private static TestServer shared;

    private final Path dataDir;
    private final MamoriServer server;
    private final HttpClient client;
    private final String adminToken;

    private TestServer(Path dataDir, MamoriServer server, HttpClient client, String adminToken) {
        this.dataDir = dataDir;
        this.server = server;
        this.client = client;
        this.adminToken = adminToken;
    }

    public static synchronized TestServer shared() {
        if (shared == null) {
            // Not closed at exit: the embedded PostgreSQL's own shutdown hook stops the database, and a second hook
            // closing the server would run at the same time, find the database gone and wait out its timeouts
            // (10 s each, past the 30 s surefire gives a test JVM to exit, after which it kills the JVM).
            shared = start(List.of());
        }
        return shared;
    }

    /** A new server on a new data folder; extra {@code serve} options may be given. Close it when done. */
    public static TestServer start(List<String> extraArgs) {
        return start(extraArgs, Map.of());
    }

    /** The same with an environment for the server's secrets (e.g. {@code MAMORI_SEAL_PIN}). */
    public static TestServer start(List<String> extraArgs, Map<String, String> env) {
        try {
            Path data = TestData.newDatabaseFolder("srv-");
            List<String> args = new java.util.ArrayList<>(List.of("--data", data.toString(), "--port", "0",
                    "--bind", "127.0.0.1"));
            args.addAll(extraArgs);
            if (extraArgs.stream().noneMatch(x -> x.startsWith("--backup"))) {
                // Backups are tested where asked for (preservation tests): a base backup and shipped WAL for each of
                // the suite's servers would cost a minute and gigabytes.
                args.add("--no-backup");
            } else if (!extraArgs.contains("--backup-drill-days")) {
                // and drills where a test runs them: a scheduled one would start a whole second server beside it
                args.addAll(List.of("--backup-drill-days", "0"));
            }
            MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(args, env), env);
            HttpClient c = httpClient(data);
            String token = s.clients().create("test-admin", "system/*.*", "test").token();
            return new TestServer(data, s, c, token);
        } catch (Exception e) {
            throw new IllegalStateException("test server did not start", e);
        }
    }

    /**
     * A server on an existing data folder (e.g. {@code serve --read-only} on a copy of another test server's folder),
     * using a token created there before: nothing is created at start.
     */
    public static TestServer onFolder(Path data, List<String> extraArgs, String adminToken) {
        try {
            List<String> args = new java.util.ArrayList<>(List.of("--data", data.toString(), "--port", "0",
                    "--bind", "127.0.0.1", "--no-backup"));
            args.addAll(extraArgs);
            MamoriServer s = MamoriServer.start(ServerConfig.fromArgs(args, Map.of()), Map.of());
            return new TestServer(data, s, httpClient(data), adminToken);
        } catch (Exception e) {
            throw new IllegalStateException("test server did not start on " + data, e);
        }
    }

    static HttpClient httpClient(Path data) throws Exception {
        if (!Files.exists(data.resolve("tls").resolve("server.p12"))) { // --http: no certificate to trust
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        char[] pw = Files.readString(data.resolve("secrets").resolve("tls-keystore-password")).trim().toCharArray();
        try (InputStream in = Files.newInputStream(data.resolve("tls").resolve("server.p12"))) {
            ks.load(in, pw);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        Certificate cert = ks.getCertificate(ks.aliases().nextElement());
        trust.setCertificateEntry("mamori", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    public MamoriServer server() {
        return server;
    }

    public Path dataDir() {
        return dataDir;
    }

    /**
     * The console as a browser opens it: {@code http(s)://localhost:PORT}, the origin passkeys are bound to
     * (not 127.0.0.1, which WebAuthn would refuse as another origin).
     */
    public String consoleOrigin() {
        return server.consoleUrl().substring(0, server.consoleUrl().length() - "/console".length());
    }

    /** e.g. https://127.0.0.1:43123/fhir */
    public String base() {
        return server.baseUrl();
    }

    public String adminToken() {
        return adminToken;
    }

    /** A token for a new system client holding only {@code scopes}. */
    public String tokenWithScopes(String scopes) {
        return server.clients().create("test-" + UUID.randomUUID().toString().substring(0, 6), scopes, "test")
                .token();
    }

    public HttpClient httpClient() {
        return client;
    }

    /** A request to {@code base() + path} carrying the admin token. */
    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + adminToken);
    }

    public HttpResponse<String> send(HttpRequest req) {
        try {
            return client.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    public HttpResponse<String> post(String path, String json) {
        return send(request(path).header("Content-Type", "application/fhir+json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build());
    }

    public HttpResponse<String> put(String path, String json) {
        return send(request(path).header("Content-Type", "application/fhir+json")
                .PUT(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build());
    }

    public HttpResponse<String> delete(String path, String reason) {
        HttpRequest.Builder b = request(path).DELETE();
        if (reason != null) {
            b.header("X-Mamori-Reason", java.net.URLEncoder.encode(reason, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return send(b.build());
    }

    /**
     * A connection to the embedded database as its superuser, bypassing the server: for tests that check
     * what the database itself refuses, or that tamper with it behind the server's back.
     */
    public Connection superuserConnection() throws SQLException {
        try {
            String port = Files.readString(dataDir.resolve("runtime").resolve("db-port")).trim();
            String pw = Files.readString(dataDir.resolve("secrets").resolve("db-superuser-password")).trim();
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", pw);
        } catch (java.io.IOException e) {
            throw new SQLException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
