package jp.mamori.web;

import jp.mamori.config.ServerConfig;
import jp.mamori.db.Secrets;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CRL;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The server's TLS settings: TLS 1.3 and 1.2 only, ECDHE key exchange with AEAD ciphers only, in the
 * spirit of CRYPTREC's high-security profile (NET-1, NET-3). On a first start without a configured
 * keystore, a self-signed ECDSA P-256 certificate is generated into the data folder.
 */
public final class Tls {
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    private static final String ALIAS = "mamori";

    /** A loaded keystore and what to tell the operator about it. */
    public record Material(KeyStore keyStore, String password, X509Certificate certificate, boolean generated,
                           Path location) {
        public String sha256Fingerprint() {
            try {
                byte[] d = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
                StringBuilder sb = new StringBuilder();
                for (byte b : d) {
                    if (!sb.isEmpty()) {
                        sb.append(':');
                    }
                    sb.append(HexFormat.of().withUpperCase().toHexDigits(b));
                }
                return sb.toString();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private Tls() {
    }

    /** Loads the configured keystore, or the generated one in the data folder (creating it on first use). */
    public static Material material(ServerConfig cfg) throws IOException, GeneralSecurityException {
        if (cfg.keystore().isPresent()) {
            Path p = cfg.keystore().get();
            return load(p, cfg.keystorePassword().orElseThrow(), false);
        }
        Path dir = cfg.dataDir().resolve("tls");
        Path ks = dir.resolve("server.p12");
        Path pw = cfg.dataDir().resolve("secrets").resolve("tls-keystore-password");
        if (Files.exists(ks)) {
            return load(ks, Files.readString(pw).trim(), false);
        }
        String password = Secrets.readOrCreate(pw);
        KeyStore store = selfSigned(password);
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".server", ".p12");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            store.store(out, password.toCharArray());
        }
        Files.move(tmp, ks, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return new Material(store, password, (X509Certificate) store.getCertificate(ALIAS), true, ks);
    }

    private static Material load(Path p, String password, boolean generated)
            throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p)) {
            store.load(in, password.toCharArray());
        }
        String alias = store.aliases().nextElement();
        for (var e = store.aliases(); e.hasMoreElements(); ) {
            String a = e.nextElement();
            if (store.isKeyEntry(a)) {
                alias = a;
                break;
            }
        }
        return new Material(store, password, (X509Certificate) store.getCertificate(alias), generated, p);
    }

    static KeyStore selfSigned(String password) throws GeneralSecurityException, IOException {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        KeyPair kp = kpg.generateKeyPair();
        String host = hostName();
        X500Name subject = new X500Name("CN=" + host + ",O=Mamori (self-signed)");
        Instant now = Instant.now();
        byte[] serial = new byte[16];
        new SecureRandom().nextBytes(serial);
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(1, serial),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(397))), subject,
                kp.getPublic());
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.dNSName, "localhost"));
        if (!"localhost".equals(host)) {
            names.add(new GeneralName(GeneralName.dNSName, host));
        }
        names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        names.add(new GeneralName(GeneralName.iPAddress, "::1"));
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(names.toArray(GeneralName[]::new)));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        try {
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate());
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, kp.getPrivate(), password.toCharArray(), new Certificate[]{cert});
            return store;
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** This machine's name in lower case, as the generated certificate names it; "localhost" if unusable. */
    public static String hostName() {
        try {
            String h = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
            return h.matches("[a-z0-9.-]{1,253}") ? h : "localhost";
        } catch (IOException e) {
            return "localhost";
        }
    }

    /**
     * Jetty's server-side TLS with only the allowed protocols and suites. A client certificate is asked for
     * but not required ({@code wantClientAuth}): browsers and bearer-token clients connect without one, and
     * system clients registered with a certificate present theirs (NET-6). Any certificate is accepted at
     * this layer, see {@link PinnedByApplication}.
     */
    public static SslContextFactory.Server contextFactory(Material m) {
        SslContextFactory.Server f = new SslContextFactory.Server() {
            @Override
            protected TrustManager[] getTrustManagers(KeyStore trustStore, Collection<? extends CRL> crls) {
                return new TrustManager[]{new PinnedByApplication()};
            }
        };
        f.setWantClientAuth(true);
        f.setNeedClientAuth(false);
        f.setKeyStore(m.keyStore());
        f.setKeyStorePassword(m.password());
        f.setIncludeProtocols(PROTOCOLS.toArray(String[]::new));
        f.setExcludeProtocols();
        f.setIncludeCipherSuites(CIPHER_SUITES.toArray(String[]::new));
        f.setExcludeCipherSuites();
        f.setUseCipherSuitesOrder(true);
        f.setRenegotiationAllowed(false);
        f.setSniRequired(false);
        return f;
    }

    /**
     * The client certificate the TLS connection of {@code request} presented, or null. Read from the session
     * data that Jetty's {@code SecureRequestCustomizer} attaches to each request on a TLS connection.
     */
    public static X509Certificate clientCertificate(Request request) {
        if (request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE) instanceof EndPoint.SslSessionData ssl) {
            X509Certificate[] chain = ssl.peerCertificates();
            if (chain != null && chain.length > 0) {
                return chain[0];
            }
        }
        return null;
    }

    /**
     * Accepts whatever client certificate a TLS client presents, self-signed or not, and names no acceptable
     * issuers. This is safe because a certificate authenticates nobody by being accepted here: the
     * application recognises a system client only when the certificate is exactly the one registered for it
     * (the SHA-256 of its DER encoding, see {@code SystemClients.authenticateCertificate}) and within its
     * validity dates, so no chain to a CA is needed and no CA can mint a certificate that passes. The TLS
     * handshake itself still proves that the client holds the certificate's private key (CertificateVerify),
     * which a trust manager cannot switch off. Connections without a certificate are accepted too; they
     * authenticate with a token or not at all.
     *
     * <p>Server certificates are never checked with this class: it refuses them.
     */
    static final class PinnedByApplication extends X509ExtendedTrustManager {
        private static final X509Certificate[] NONE = new X509Certificate[0];

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("empty client certificate chain");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("server certificates are not checked by the client-certificate pin");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return NONE;
        }
    }
}
