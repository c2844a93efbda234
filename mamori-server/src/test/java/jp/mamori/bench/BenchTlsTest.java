package jp.mamori.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * HTTPS with a self-signed certificate issued to another host name: refused by default,
 * accepted with --insecure (which must skip both trust and host name checks).
 */
class BenchTlsTest {

    @Test
    void selfSignedCertificateNeedsInsecure() throws Exception {
        try (FakeFhirServer server = new FakeFhirServer(selfSignedContext("not-this-host.invalid"), true, 200)) {
            BenchEndToEndTest.Run refused = BenchEndToEndTest.bench(server.base(), "create");
            assertEquals(1, refused.exitCode());
            assertEquals("", refused.out());
            assertEquals(1, refused.err().lines().count(), refused.err());
            assertTrue(refused.err().startsWith("bench: cannot connect to " + server.base() + ": TLS handshake failed"),
                    refused.err());
            assertTrue(refused.err().contains("--insecure"), refused.err());

            BenchEndToEndTest.Run accepted = BenchEndToEndTest.bench(server.base(), "create", "--insecure");
            assertEquals(0, accepted.exitCode(), accepted.err());
            assertEquals("0", accepted.result().group(3));
            assertTrue(Long.parseLong(accepted.result().group(2)) > 0);
        }
    }

    /** A server TLS context with a self-signed EC certificate issued to {@code host}. */
    static SSLContext selfSignedContext(String host) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair keys = generator.generateKeyPair();
        X500Name name = new X500Name("CN=" + host);
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
                BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.dNSName, host)));
        X509Certificate certificate = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));

        char[] password = "changeit".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", keys.getPrivate(), password, new Certificate[] {certificate});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(store, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), null, null);
        return context;
    }
}
