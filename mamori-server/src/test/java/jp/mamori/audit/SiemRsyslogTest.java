package jp.mamori.audit;

import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AUDIT-6: entries reach a real SIEM receiver, Debian's rsyslog, over TLS syslog (RFC 5425) on loopback, as
 * RFC 5424 messages, and survive the receiver's restart. rsyslog runs unprivileged-style on its own config in a
 * temporary folder (no system configuration, no system ports). Skipped when rsyslog or its GnuTLS driver is not
 * installed, unless {@code -Dmamori.requireRsyslog=true} (CI), which fails instead.
 */
class SiemRsyslogTest {
    private static final Path RSYSLOGD = Path.of("/usr/sbin/rsyslogd");
    /** {@code <PRI>1 TIMESTAMP HOSTNAME APP PROCID MSGID [SD...] MSG}: facility 13 (log audit), severity notice. */
    private static final Pattern RFC5424 = Pattern.compile(
            "^<109>1 \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2}) \\S+ mamori \\d+ audit"
                    + " \\[mamori-audit@32473 seq=\"(\\d+)\" actor=\"([^\"]*)\" action=\"([^\"]*)\" outcome=\"([^\"]*)\""
                    + " purpose=\"([^\"]*)\"((?: patient=\"[^\"]*\")*) leaf=\"([A-Za-z0-9+/=]+)\"\\] .*$");

    private Path dir;
    private Path received;
    private int port;
    private Process rsyslog;
    private TestServer server;

    /** Whether rsyslogd and its GnuTLS network stream driver are installed. */
    static boolean rsyslogInstalled() {
        if (!Files.isExecutable(RSYSLOGD)) {
            return false;
        }
        try (Stream<Path> s = Files.find(Path.of("/usr/lib"), 3,
                (p, a) -> p.getFileName().toString().equals("lmnsd_gtls.so"))) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    @BeforeEach
    void startRsyslog() throws Exception {
        boolean present = rsyslogInstalled();
        String why = "the SIEM test needs Debian's rsyslog with its TLS driver: apt-get install rsyslog rsyslog-gnutls";
        if (!present && Boolean.getBoolean("mamori.requireRsyslog")) {
            Assertions.fail(why + " (-Dmamori.requireRsyslog=true, so it may not be skipped)");
        }
        Assumptions.assumeTrue(present, why + "; skipped");

        dir = TestData.newFolder("rsyslog-");
        Files.createDirectories(dir.resolve("work"));
        received = dir.resolve("received.log");
        writeCertificate(dir);
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Files.writeString(dir.resolve("rsyslog.conf"), """
                global(workDirectory="%1$s/work" maxMessageSize="64k"
                       defaultNetstreamDriverCAFile="%1$s/siem.pem"
                       defaultNetstreamDriverCertFile="%1$s/siem.pem"
                       defaultNetstreamDriverKeyFile="%1$s/siem-key.pem")
                module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
                input(type="imtcp" address="127.0.0.1" port="%2$d")
                action(type="omfile" file="%3$s" template="RSYSLOG_SyslogProtocol23Format")
                """.formatted(dir, port, received));
        rsyslog = launch();
    }

    @AfterEach
    void stopAll() throws Exception {
        if (server != null) {
            server.close();
        }
        stop();
    }

    private Process launch() throws Exception {
        Process p = new ProcessBuilder(RSYSLOGD.toString(), "-n", "-f", dir.resolve("rsyslog.conf").toString(),
                "-i", dir.resolve("rsyslogd.pid").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("rsyslogd.out").toFile()))
                .start();
        Instant until = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(until)) {
            if (!p.isAlive() || Files.readString(dir.resolve("rsyslogd.out")).contains("Could not create tcp listener")) {
                p.destroyForcibly();
                throw new AssertionError("rsyslogd exited: " + Files.readString(dir.resolve("rsyslogd.out")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return p;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        p.destroyForcibly();
        throw new AssertionError("rsyslogd did not listen on " + port + ": " + Files.readString(dir.resolve("rsyslogd.out")));
    }

    private void stop() throws InterruptedException {
        if (rsyslog != null && rsyslog.isAlive()) {
            rsyslog.destroy(); // SIGTERM: rsyslog closes its connections and exits
            if (!rsyslog.waitFor(20, TimeUnit.SECONDS)) {
                rsyslog.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        rsyslog = null;
    }

    @Test
    void entriesArriveAtRsyslogAsRfc5424OverTlsAndSurviveItsRestart() throws Exception {
        server = TestServer.start(List.of("--audit-syslog-tls", "127.0.0.1:" + port, "--audit-syslog-ca",
                dir.resolve("siem.pem").toString()));
        String patient = AuditTrailTest.create(server, AuditTrailTest.patientJson("転送" + UUID.randomUUID()
                .toString().substring(0, 6)));

        // A read by a system client.
        assertEquals(200, server.get("/Patient/" + patient).statusCode());
        AuditReports.Row read = entry(patient, "read", 0);
        Matcher m = awaitLine(read.seq());
        assertEquals(read.actor(), m.group(4));
        assertTrue(read.actor().startsWith("client:"), read.actor());
        assertEquals("read", m.group(5));
        assertEquals("success", m.group(6));
        assertEquals(" patient=\"" + patient + "\"", m.group(8));
        assertEquals(Base64.getEncoder().encodeToString(leafHash(read.seq())), m.group(9),
                "the receiver holds the entry's leaf hash");

        // A failed console login: the identity capability's event reaches the trail through the outbox.
        String login = "nobody-" + UUID.randomUUID().toString().substring(0, 8);
        assertEquals(401, failedLogin(login));
        long failed = awaitSeq(() -> server.server().audit().reports().actorActivity("login:" + login,
                Instant.EPOCH, Instant.now().plusSeconds(5), 10).stream()
                .filter(r -> r.action().equals("auth.login.password")).map(AuditReports.Row::seq).findFirst());
        Matcher f = awaitLine(failed);
        assertEquals("login:" + login, f.group(4));
        assertEquals("auth.login.password", f.group(5));
        assertEquals("refused", f.group(6));

        // The receiver restarts: what happens while it is away is delivered once it is back.
        stop();
        assertEquals(200, server.get("/Patient/" + patient).statusCode(), "a SIEM outage does not stop the answer");
        AuditReports.Row whileAway = entry(patient, "read", read.seq() + 1);
        rsyslog = launch();
        Matcher later = awaitLine(whileAway.seq());
        assertEquals("read", later.group(5));
        assertEquals(" patient=\"" + patient + "\"", later.group(8));
    }

    private AuditReports.Row entry(String patient, String action, long fromSeq) {
        return AuditTrailTest.entriesAbout(server, patient).stream()
                .filter(r -> r.action().equals(action) && r.seq() >= fromSeq).findFirst()
                .orElseThrow(() -> new AssertionError("no " + action + " entry for Patient/" + patient));
    }

    private byte[] leafHash(long seq) throws Exception {
        try (var c = server.superuserConnection();
             var ps = c.prepareStatement("SELECT leaf_hash FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (var rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getBytes(1);
            }
        }
    }

    /** Waits (polling, up to a minute) for the value to appear. */
    private static long awaitSeq(java.util.function.Supplier<Optional<Long>> find) throws InterruptedException {
        Instant until = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(until)) {
            Optional<Long> v = find.get();
            if (v.isPresent()) {
                return v.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the entry never reached the trail");
    }

    /** Waits (polling, up to a minute: the forwarder backs off while the receiver is away) for entry {@code seq}. */
    private Matcher awaitLine(long seq) throws Exception {
        Instant until = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(until)) {
            if (Files.exists(received)) {
                for (String line : Files.readAllLines(received, StandardCharsets.UTF_8)) {
                    if (line.contains(" seq=\"" + seq + "\" ")) {
                        Matcher m = RFC5424.matcher(line);
                        assertTrue(m.matches(), "not an RFC 5424 line of ours: " + line);
                        assertEquals(Long.toString(seq), m.group(3));
                        return m;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("entry " + seq + " never reached rsyslog; it received:\n"
                + (Files.exists(received) ? Files.readString(received) : "(nothing)") + "\nrsyslogd said:\n"
                + Files.readString(dir.resolve("rsyslogd.out")));
    }

    /** Logs in on the console with a login id that does not exist, as a browser would; returns the status. */
    private int failedLogin(String login) throws Exception {
        String origin = server.consoleOrigin().replace("localhost", "127.0.0.1");
        HttpResponse<String> page = server.httpClient().send(HttpRequest.newBuilder(URI.create(origin
                + "/console/login")).GET().build(), HttpResponse.BodyHandlers.ofString());
        String cookies = String.join("; ", page.headers().allValues("Set-Cookie").stream()
                .map(c -> c.substring(0, c.indexOf(';') < 0 ? c.length() : c.indexOf(';'))).toList());
        if (page.statusCode() == 303) { // no account yet: the console shows the first setup, whose form has a token too
            page = server.httpClient().send(HttpRequest.newBuilder(URI.create(origin + page.headers()
                    .firstValue("Location").orElseThrow())).header("Cookie", cookies).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        }
        assertEquals(200, page.statusCode());
        Matcher csrf = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page.body());
        assertTrue(csrf.find(), "the login form has a CSRF token");
        String form = "csrf=" + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8) + "&login_id="
                + URLEncoder.encode(login, StandardCharsets.UTF_8) + "&password=Machigai-desu-123";
        return server.httpClient().send(HttpRequest.newBuilder(URI.create(origin + "/console/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookies)
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }

    /** The receiver's certificate (RSA, for 127.0.0.1 and localhost) and key, as PEM files rsyslog reads. */
    private static X509Certificate writeCertificate(Path dir) throws Exception {
        // RSA: GnuTLS in Debian 12 does not read the JDK's PKCS#8 encoding of an EC key.
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("RSA");
        kpg.initialize(2048);
        KeyPair kp = kpg.generateKeyPair();
        X500Name name = new X500Name("CN=siem.test");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), name,
                kp.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
        Files.writeString(dir.resolve("siem.pem"), pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(dir.resolve("siem-key.pem"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
        return cert;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
