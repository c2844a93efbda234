package jp.mamori.identity.web;

import jp.mamori.ops.Checks;
import jp.mamori.ops.HealthCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health, metrics and alerts (issue 18 §5): {@code /health} tells strangers the status and nothing else; the detailed
 * report and {@code /metrics} need a system client with their own scope; a check turned bad shows red; failed logins
 * above the threshold reach a real syslog receiver on loopback and the administrator's console as a badge.
 * <p>One server for the class, with a disk threshold no disk meets (the data folder's disk is red), alerts checked every
 * second and an alert at 3 failed logins in 5 minutes.
 */
class HealthAndMetricsTest {
    private static ServerSocket collector;
    private static final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private static Hospital h;

    @BeforeAll
    static void start() throws IOException {
        collector = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!collector.isClosed()) {
                try (Socket s = collector.accept(); InputStream in = s.getInputStream()) {
                    received.addAll(octetCounted(in));
                } catch (IOException e) {
                    return;
                }
            }
        });
        h = Hospital.open(List.of("--health-disk-min-free", "100000G", "--health-check-seconds", "1",
                "--alert-failed-logins", "3/5", "--notify-syslog", "127.0.0.1:" + collector.getLocalPort()));
    }

    @AfterAll
    static void stop() throws IOException {
        if (h != null) {
            h.close();
        }
        collector.close();
    }

    private static List<String> octetCounted(InputStream raw) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        List<String> out = new java.util.ArrayList<>();
        while (true) {
            StringBuilder len = new StringBuilder();
            int c;
            while ((c = in.read()) != ' ') {
                if (c < 0) {
                    return out;
                }
                len.append((char) c);
            }
            byte[] msg = new byte[Integer.parseInt(len.toString())];
            in.readFully(msg);
            out.add(new String(msg, StandardCharsets.UTF_8));
        }
    }

    private static HttpResponse<String> get(String path, String token) {
        String origin = h.server.base().substring(0, h.server.base().length() - "/fhir".length());
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin + path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return h.server.send(b.GET().build());
    }

    @Test
    void everyLineOfTheHealthPageIsNamedInWordsInBothLanguages() throws IOException {
        java.util.Properties ja = new java.util.Properties();
        java.util.Properties en = new java.util.Properties();
        try (InputStream a = getClass().getResourceAsStream("/jp/mamori/web/console/messages/health_ja.properties");
             InputStream b = getClass().getResourceAsStream("/jp/mamori/web/console/messages/health_en.properties")) {
            ja.load(new java.io.InputStreamReader(a, java.nio.charset.StandardCharsets.UTF_8));
            en.load(new java.io.InputStreamReader(b, java.nio.charset.StandardCharsets.UTF_8));
        }
        List<String> names = h.server.server().health().fresh().lines().stream().map(jp.mamori.ops.Health.Line::name)
                .toList();
        assertTrue(names.containsAll(List.of("downtime-kit", "degraded-mode", "audit-journal", "leadership")), names::toString);
        for (String n : names) {
            assertNotNull(ja.getProperty("health.check." + n), "no Japanese label for the health line " + n);
            assertNotNull(en.getProperty("health.check." + n), "no English label for the health line " + n);
        }
        Browser.Page page = h.admin.browser.get("/console/admin/health");
        assertTrue(page.contains("縮退用資料") && page.contains("監査記録のローカル保存"), page::toString);
        assertTrue(h.server.server().health().fresh().line("audit-journal").result().summary().contains("統合済み"));
    }

    @Test
    void healthTellsStrangersTheStatusAndNothingElse() {
        HttpResponse<String> r = get("/health", null);
        assertEquals(200, r.statusCode(), r::body);
        // the data folder's disk is red: the server still answers, degraded; no check, path or host is named
        assertEquals("{\"status\":\"DEGRADED\"}", r.body());
    }

    @Test
    void theDetailedReportNeedsAuthenticationAndItsOwnScopeAndShowsEachCheck() {
        assertEquals(401, get("/health/detail", null).statusCode());
        assertEquals(401, get("/health/detail", "mamori_not-a-token").statusCode());
        // a FHIR client holding every resource scope does not hold the operational one
        HttpResponse<String> fhirOnly = get("/health/detail", h.server.adminToken());
        assertEquals(403, fhirOnly.statusCode(), fhirOnly::body);
        assertFalse(fhirOnly.body().contains("disk"), fhirOnly::body);
        assertEquals(403, get("/health/detail", h.server.tokenWithScopes("system/metrics.read")).statusCode());

        HttpResponse<String> r = get("/health/detail", h.server.tokenWithScopes("system/health.read"));
        assertEquals(200, r.statusCode(), r::body);
        for (String check : List.of("database", "audit-appender", "checkpointer", "tsa", "siem", "certificate",
                "disk-data", "backup")) {
            assertTrue(r.body().contains("\"name\" : \"" + check + "\""), () -> check + " missing: " + r.body());
        }
        assertTrue(r.body().contains("connected to the primary"), r::body);
        // the tiny-disk threshold turned the data disk red
        assertTrue(r.body().matches("(?s).*\"name\" : \"disk-data\",\\s*\"status\" : \"DOWN\".*"), r::body);
        assertTrue(r.body().contains("\"status\" : \"DEGRADED\""), r::body);
        assertTrue(r.body().contains("+09:00"), () -> "times in JST as well: " + r.body());
    }

    @Test
    void metricsNeedTheirScopeAndCountRequestsByKind() {
        assertEquals(401, get("/metrics", null).statusCode());
        assertEquals(403, get("/metrics", h.server.adminToken()).statusCode());
        assertEquals(403, get("/metrics", h.server.tokenWithScopes("system/health.read")).statusCode());
        for (int i = 0; i < 3; i++) {
            assertEquals(404, h.server.get("/Patient/does-not-exist").statusCode());
            assertEquals(200, h.server.get("/Patient?_count=1").statusCode());
        }
        HttpResponse<String> r = get("/metrics", h.server.tokenWithScopes("system/metrics.read"));
        assertEquals(200, r.statusCode(), r::body);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers()::toString);
        String body = r.body();
        assertTrue(count(body, "fhir-read", "4xx") >= 3, body);
        assertTrue(count(body, "fhir-search", "2xx") >= 3, body);
        assertTrue(body.contains("mamori_audit_queue"), body);
        assertTrue(body.contains("mamori_audit_commit_seconds_count"), body);
        assertTrue(body.contains("mamori_db_pool_active"), body);
        assertTrue(body.contains("mamori_health_status{check=\"disk-data\"} 2.0"), body);
        assertFalse(body.contains("does-not-exist"), "no path or id becomes a label");
    }

    private static double count(String body, String kind, String status) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("mamori_http_requests_seconds_count\\{kind=\""
                + kind + "\",status=\"" + status + "\"} ([0-9.E]+)").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void failedLoginsAboveTheThresholdReachSyslogAndTheAdministratorsConsole() throws Exception {
        Person victim = new Person(Person.uniqueId("tanaka.h"), Person.newPassword(), new Browser(h.server, "attacker"));
        for (int i = 0; i < 4; i++) {
            Browser.Page p = victim.password(victim.browser, "wrong-password-" + i);
            assertEquals("/console/login", p.path(), p::toString);
        }
        String msg = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (msg == null && System.nanoTime() < deadline) {
            String m = received.poll(1, TimeUnit.SECONDS);
            if (m != null && m.contains("login.failures")) {
                msg = m;
            }
        }
        assertNotNull(msg, "the syslog receiver got the alert");
        assertTrue(msg.contains("failures=\""), msg);
        assertTrue(msg.contains("ログイン失敗が多発しています"), msg);

        Browser.Page home = h.admin.browser.get("/console/home");
        assertTrue(home.contains("href=\"/console/admin/health\""), home::body);
        assertTrue(home.contains("未解決の警報"), home::body);
        Browser.Page page = h.admin.browser.get("/console/admin/health");
        assertEquals(200, page.status(), page::body);
        assertTrue(page.contains("ログイン失敗が多発しています"), page::body);
        // the red disk, in words, with its colour
        assertTrue(page.contains("<h3>ディスク（データフォルダ） <span class=\"state-bad\">異常</span></h3>"), page::body);
    }

    @Test
    void theHealthPageIsForAdministratorsOnly() {
        Browser stranger = new Browser(h.server, "stranger");
        Browser.Page p = stranger.get("/console/admin/health");
        assertEquals("/console/login", p.path(), p::toString);
    }

    @Test
    void aStoppedCheckpointerAndAnExpiringCertificateShowRed() throws Exception {
        var audit = h.server.server().audit();
        HealthCheck running = Checks.checkpointer(audit.checkpointer(), audit.trail(), Duration.ofSeconds(10),
                Clock.systemUTC());
        assertFalse(running.check().status() == HealthCheck.Status.DOWN, () -> running.check().summary());
        audit.checkpointer().close(); // signs a last checkpoint and stops
        assertEquals(200, h.server.get("/Patient?_count=1").statusCode()); // entries after the last checkpoint
        Instant committed = audit.trail().lastCommitAt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((committed == null || !committed.isAfter(audit.checkpointer().status().last().signedAt()))
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
            committed = audit.trail().lastCommitAt();
        }
        HealthCheck later = Checks.checkpointer(audit.checkpointer(), audit.trail(), Duration.ofSeconds(10),
                Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5)));
        HealthCheck.Result r = later.check();
        assertEquals(HealthCheck.Status.DOWN, r.status(), r.summary());
        assertTrue(r.summary().contains("stalled"), r.summary());

        // the test server's generated certificate is valid for years; the same one, 29 days before it expires, is red
        java.security.cert.X509Certificate c = certificate();
        Instant notAfter = c.getNotAfter().toInstant();
        assertEquals(HealthCheck.Status.UP, Checks.certificate(() -> c, Clock.systemUTC()).check().status());
        HealthCheck.Result soon = Checks.certificate(() -> c,
                Clock.fixed(notAfter.minus(Duration.ofDays(29)), ZoneOffset.UTC)).check();
        assertEquals(HealthCheck.Status.DOWN, soon.status(), soon.summary());
        assertTrue(soon.summary().contains("29"), soon.summary());
        assertEquals(HealthCheck.Status.DOWN, Checks.certificate(() -> c,
                Clock.fixed(notAfter.plusSeconds(1), ZoneOffset.UTC)).check().status());
    }

    private static java.security.cert.X509Certificate certificate() throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        char[] pw = java.nio.file.Files.readString(h.server.dataDir().resolve("secrets").resolve("tls-keystore-password"))
                .trim().toCharArray();
        try (InputStream in = java.nio.file.Files.newInputStream(h.server.dataDir().resolve("tls").resolve("server.p12"))) {
            ks.load(in, pw);
        }
        return (java.security.cert.X509Certificate) ks.getCertificate(ks.aliases().nextElement());
    }
}
