package jp.mamori.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Assumptions;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A real identity provider for the federation tests (issue 21): Keycloak's distribution (unpacked into target/keycloak
 * by the build, {@code keycloak-quarkus-dist}), started once per test JVM with {@code kc.sh start-dev} on the JDK the
 * tests run on, on free loopback ports, serving HTTPS with a certificate of the test PKI ({@link TestPki#tlsServer()};
 * trust {@link #caPem()}). The HTTP listener dev mode insists on is bound to a free port too and never used. The
 * bootstrap administrator creates realms through the admin REST API. Stopped by a shutdown hook; its log is kept in
 * target/keycloak-logs and printed when it does not start.
 */
public final class TestKeycloak {
    public static final Path HOME = Path.of("target", "keycloak", "keycloak-26.7.3");
    private static final String ADMIN = "admin";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestKeycloak shared;

    private final Process process;
    private final int port;
    private final String adminPassword;
    private final String caPem;
    private final String spki;
    private final HttpClient http;
    private final Path log;

    private TestKeycloak(Process process, int port, String adminPassword, String caPem, String spki, HttpClient http,
                         Path log) {
        this.process = process;
        this.port = port;
        this.adminPassword = adminPassword;
        this.caPem = caPem;
        this.spki = spki;
        this.http = http;
        this.log = log;
    }

    /** Whether the distribution is there (not with {@code -Dmamori.skipKeycloak=true}). */
    public static boolean available() {
        return Files.isExecutable(HOME.resolve("bin").resolve("kc.sh"));
    }

    /** Skips the test when the distribution is not there, or fails it under {@code -Dmamori.requireKeycloak=true}. */
    public static void assumeAvailable() {
        String why = "Keycloak's distribution is not unpacked in " + HOME + " (built with -Dmamori.skipKeycloak=true?)";
        if (!available() && Boolean.getBoolean("mamori.requireKeycloak")) {
            org.junit.jupiter.api.Assertions.fail(why + " (-Dmamori.requireKeycloak=true, so it may not be skipped)");
        }
        Assumptions.assumeTrue(available(), why);
    }

    /** The provider of this JVM, started on first use (about half a minute). */
    public static synchronized TestKeycloak shared() {
        assumeAvailable();
        if (shared == null) {
            shared = start();
        }
        return shared;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static TestKeycloak start() {
        Path dir;
        try {
            Path logs = Files.createDirectories(Path.of("target", "keycloak-logs"));
            dir = Files.createTempDirectory(logs, "kc-").toAbsolutePath();
            TestPki.Issued tls = TestPki.get().tlsServer();
            Files.writeString(dir.resolve("tls.crt"), TestPki.pem(tls.certificate()));
            Files.writeString(dir.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(
                    tls.key().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
            String caPem = TestPki.pem(TestPki.get().root());
            String spki = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(
                    tls.certificate().getPublicKey().getEncoded()));
            int port = freePort();
            String adminPassword = "kc-admin-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
            List<String> cmd = new ArrayList<>(List.of(HOME.resolve("bin").resolve("kc.sh").toAbsolutePath().toString(),
                    "start-dev", "--https-port=" + port, "--http-port=" + freePort(), "--http-host=127.0.0.1",
                    "--http-management-port=" + freePort(),
                    "--https-certificate-file=" + dir.resolve("tls.crt"),
                    "--https-certificate-key-file=" + dir.resolve("tls.key"),
                    "--db-url=jdbc:h2:file:" + dir.resolve("db").resolve("keycloakdb") + ";NON_KEYWORDS=VALUE"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("keycloak.log").toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN);
            pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
            Process p = pb.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(p)));
            TestKeycloak kc = new TestKeycloak(p, port, adminPassword, caPem, spki, client(caPem),
                    dir.resolve("keycloak.log"));
            kc.awaitReady(Duration.ofMinutes(3));
            return kc;
        } catch (Exception e) {
            throw new IllegalStateException("Keycloak did not start: " + e.getMessage(), e);
        }
    }

    private static void stop(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
    }

    private static HttpClient client(String caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", TestPki.get().root());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private void awaitReady(Duration timeout) throws Exception {
        Instant until = Instant.now().plus(timeout);
        while (Instant.now().isBefore(until)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Keycloak exited (" + process.exitValue() + "):\n" + logTail());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(origin()
                        + "/realms/master/.well-known/openid-configuration")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(1000);
        }
        stop(process);
        throw new IllegalStateException("Keycloak did not answer within " + timeout.toSeconds() + " s:\n" + logTail());
    }

    /** The last lines of Keycloak's log, for a failure message. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The HTTPS port (on every interface, loopback included). */
    public int port() {
        return port;
    }

    /** {@code https://localhost:PORT} */
    public String origin() {
        return "https://localhost:" + port;
    }

    /** The realm's discovery URL. */
    public String discoveryUrl(String realm) {
        return origin() + "/realms/" + realm + "/.well-known/openid-configuration";
    }

    public String issuer(String realm) {
        return origin() + "/realms/" + realm;
    }

    /** The CA that issued Keycloak's certificate (the test PKI's root), PEM. */
    public String caPem() {
        return caPem;
    }

    /** Chromium's argument that trusts exactly Keycloak's key (its certificate comes from the test root). */
    public String chromiumTrust() {
        return "--ignore-certificate-errors-spki-list=" + spki;
    }

    /** The certificate Keycloak serves is issued by this root. */
    public X509Certificate root() {
        return TestPki.get().root();
    }

    private String adminToken() throws Exception {
        String form = "grant_type=password&client_id=admin-cli&username=" + ADMIN + "&password="
                + URLEncoder.encode(adminPassword, StandardCharsets.UTF_8);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(origin()
                        + "/realms/master/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("admin token: HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).path("access_token").asText();
    }

    /** Sends {@code body} (JSON) to the admin REST API ({@code /admin/realms...}); returns the answer's body. */
    public String admin(String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin() + "/admin/realms" + path))
                    .header("Authorization", "Bearer " + adminToken()).timeout(Duration.ofSeconds(60));
            b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                    : b.header("Content-Type", "application/json").method(method,
                    HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException(method + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates a realm from its representation (JSON): users, clients, flows. */
    public void createRealm(JsonNode realm) {
        admin("POST", "", realm.toString());
    }
}
