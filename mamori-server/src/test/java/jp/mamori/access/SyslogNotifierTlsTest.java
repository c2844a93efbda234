package jp.mamori.access;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Security notices to a SIEM over TLS (RFC 5425): only to a collector whose certificate is trusted and names it. */
class SyslogNotifierTlsTest {
    private static SSLServerSocket collector;
    private static SSLSocketFactory trusting;
    private static final BlockingQueue<String> RECEIVED = new LinkedBlockingQueue<>();

    @BeforeAll
    static void startCollector() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = kpg.generateKeyPair();
        X500Name name = new X500Name("CN=siem.example.jp");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), name, kp.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("siem", kp.getPrivate(), "pw".toCharArray(), new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        SSLContext server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);
        collector = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 10,
                InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!collector.isClosed()) {
                try (Socket s = collector.accept(); InputStream in = s.getInputStream()) {
                    RECEIVED.add(frame(in));
                } catch (Exception e) {
                    // a refused handshake: nothing was delivered
                }
            }
        });
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("siem", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);
        trusting = client.getSocketFactory();
    }

    @AfterAll
    static void stop() throws Exception {
        collector.close();
    }

    /** One RFC 6587 octet-counted frame: "LEN SP MSG". */
    private static String frame(InputStream in) throws Exception {
        StringBuilder len = new StringBuilder();
        int c;
        while ((c = in.read()) != ' ') {
            if (c < 0) {
                throw new IllegalStateException("connection closed before a frame");
            }
            len.append((char) c);
        }
        byte[] msg = in.readNBytes(Integer.parseInt(len.toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(msg);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static SecurityNotifier.Notice notice(String patient) {
        return new SecurityNotifier.Notice("break-glass.start", Instant.now(), UUID.randomUUID(),
                java.util.Map.of("principal", "account:yamada", "patient", patient),
                "Patient/" + patient + " break-glass / 緊急時アクセス");
    }

    @Test
    void aTrustedCollectorNamedInItsCertificateReceivesTheNoticeOverTls() throws Exception {
        new SyslogNotifier("localhost", collector.getLocalPort(), "ward-server", trusting).notify(notice("tls-1"));
        String msg = RECEIVED.poll(10, TimeUnit.SECONDS);
        assertNotNull(msg, "the collector received the notice over TLS");
        assertTrue(msg.startsWith("<84>1 ") && msg.contains(" ward-server mamori ") && msg.contains("Patient/tls-1"), msg);
    }

    @Test
    void anUntrustedCollectorOrOneWhoseCertificateNamesAnotherHostGetsNothing() throws Exception {
        RECEIVED.clear();
        // The JDK's default trust store does not know the collector's self-signed certificate.
        new SyslogNotifier("localhost", collector.getLocalPort(), "ward-server",
                (SSLSocketFactory) SSLSocketFactory.getDefault()).notify(notice("tls-2"));
        // Trusted certificate, but it names "localhost", not the address used.
        new SyslogNotifier("127.0.0.1", collector.getLocalPort(), "ward-server", trusting).notify(notice("tls-3"));
        assertNull(RECEIVED.poll(2, TimeUnit.SECONDS), "no notice may reach a collector that was not verified");
        assertEquals(0, RECEIVED.size());
    }
}
