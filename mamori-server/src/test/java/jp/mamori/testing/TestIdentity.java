package jp.mamori.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;

/** A system client's TLS identity for tests: a self-signed EC P-256 certificate and its private key. */
public record TestIdentity(X509Certificate cert, PrivateKey key) {

    /** Valid from {@code from} to {@code to}. */
    public static TestIdentity selfSigned(Instant from, Instant to) {
        try {
            KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
            kpg.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = kpg.generateKeyPair();
            X500Name name = new X500Name("CN=dept-system-" + UUID.randomUUID().toString().substring(0, 8));
            var builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                    Date.from(from), Date.from(to), name, kp.getPublic());
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate());
            return new TestIdentity(new JcaX509CertificateConverter().getCertificate(builder.build(signer)),
                    kp.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Valid from five minutes ago for 30 days. */
    public static TestIdentity selfSigned() {
        Instant now = Instant.now();
        return selfSigned(now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(30)));
    }

    /** The certificate in PEM. */
    public String pem() {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An HTTP client that trusts exactly the server's certificate and presents {@code id}, or no certificate
     * when {@code id} is null. It presents the certificate even after it has expired.
     */
    public static HttpClient httpClient(TestServer s, TestIdentity id) {
        try {
            KeyStore server = KeyStore.getInstance("PKCS12");
            Path data = s.dataDir();
            char[] pw = Files.readString(data.resolve("secrets").resolve("tls-keystore-password")).trim()
                    .toCharArray();
            try (InputStream in = Files.newInputStream(data.resolve("tls").resolve("server.p12"))) {
                server.load(in, pw);
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("mamori", server.getCertificate(server.aliases().nextElement()));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (id != null) {
                KeyStore mine = KeyStore.getInstance("PKCS12");
                mine.load(null, null);
                mine.setKeyEntry("me", id.key(), "pw".toCharArray(), new Certificate[]{id.cert()});
                kmf = KeyManagerFactory.getInstance("SunX509"); // does not filter out expired certificates
                kmf.init(mine, "pw".toCharArray());
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
