package jp.mamori.testing.pki;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jp.mamori.signatures.HpkiCertificate;
import jp.mamori.signatures.SignatureSettings;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.Attribute;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectDirectoryAttributes;
import org.bouncycastle.asn1.x509.X509ObjectIdentifiers;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampTokenGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Vector;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A complete test PKI on loopback, built with Bouncy Castle, one per JVM (keys generated once): a root CA, an
 * HPKI-like intermediate CA issuing signer certificates (hcRole in subjectDirectoryAttributes, keyUsage
 * nonRepudiation, a CRL distribution point and an OCSP responder on loopback), an RFC 3161 TSA (its own certificate,
 * extendedKeyUsage timeStamping critical), the CRLs and OCSP answers served over HTTP, and another root with its
 * own signer and TSA that nobody trusts. Switches make the TSA down, slow, answer for another imprint or answer
 * with the untrusted TSA; {@link #revoke} revokes a certificate in the CRL and the OCSP answers.
 */
public final class TestPki {
    /** How the TSA answers. */
    public enum TsaMode { OK, DOWN, SLOW, WRONG_IMPRINT, UNTRUSTED }

    /** A key pair and the certificate issued for it, with the chain up to (not including) the root. */
    public record Issued(PrivateKey key, X509Certificate certificate, List<X509Certificate> chain) {
        /** Writes key and chain as a PKCS#12 file protected by the PIN. */
        public Path writePkcs12(Path file, char[] pin) throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("signer", key, pin, chain.toArray(new X509Certificate[0]));
            try (OutputStream out = Files.newOutputStream(file)) {
                ks.store(out, pin);
            }
            return file;
        }
    }

    private static TestPki instance;

    private final HttpServer server;
    private final String base;
    private final KeyPair rootKeys;
    private final X509Certificate root;
    private final KeyPair intermediateKeys;
    private final X509Certificate intermediate;
    private final KeyPair tsaKeys;
    private final X509Certificate tsa;
    private final KeyPair otherRootKeys;
    private final X509Certificate otherRoot;
    private final X509Certificate otherTsa;
    private final KeyPair signerKeys;
    private final Map<BigInteger, Date> revoked = new ConcurrentHashMap<>();
    private final AtomicLong serials = new AtomicLong(System.currentTimeMillis());
    private volatile TsaMode tsaMode = TsaMode.OK;
    private volatile Duration tsaDelay = Duration.ofSeconds(5);

    /** The test PKI of this JVM, started on first use. */
    public static synchronized TestPki get() {
        if (instance == null) {
            try {
                instance = new TestPki();
            } catch (Exception e) {
                throw new IllegalStateException("cannot build the test PKI", e);
            }
        }
        return instance;
    }

    private TestPki() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(6, r -> {
            Thread t = new Thread(r, "test-pki-http");
            t.setDaemon(true);
            return t;
        }));
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        rootKeys = rsa();
        intermediateKeys = rsa();
        tsaKeys = rsa();
        otherRootKeys = rsa();
        signerKeys = rsa();
        Instant now = Instant.now();
        root = ca(name("Mamori Test Root CA"), rootKeys, name("Mamori Test Root CA"), rootKeys.getPrivate(),
                now.minus(Duration.ofDays(365)), now.plus(Duration.ofDays(365 * 20)), null, -1);
        intermediate = ca(name("Mamori Test HPKI Signing CA"), intermediateKeys, name("Mamori Test Root CA"),
                rootKeys.getPrivate(), now.minus(Duration.ofDays(365)), now.plus(Duration.ofDays(365 * 10)),
                base + "/crl/root.crl", 0);
        tsa = tsaCertificate(name("Mamori Test TSA"), tsaKeys, name("Mamori Test Root CA"), rootKeys.getPrivate(),
                base + "/crl/root.crl");
        otherRoot = ca(name("Other Root CA"), otherRootKeys, name("Other Root CA"), otherRootKeys.getPrivate(),
                now.minus(Duration.ofDays(365)), now.plus(Duration.ofDays(365 * 20)), null, -1);
        otherTsa = tsaCertificate(name("Other TSA"), tsaKeys, name("Other Root CA"), otherRootKeys.getPrivate(), null);
        server.createContext("/crl/root.crl", ex -> serve(ex, () -> crl(root, rootKeys.getPrivate()), "application/pkix-crl"));
        server.createContext("/crl/intermediate.crl", ex -> serve(ex, () -> crl(intermediate,
                intermediateKeys.getPrivate()), "application/pkix-crl"));
        server.createContext("/ocsp", ex -> serve(ex, () -> ocsp(ex.getRequestBody().readNBytes(64 * 1024)),
                "application/ocsp-response"));
        server.createContext("/tsa", this::tsa);
        server.start();
    }

    public X509Certificate root() {
        return root;
    }

    public X509Certificate intermediate() {
        return intermediate;
    }

    public X509Certificate tsaCertificate() {
        return tsa;
    }

    public X509Certificate otherRoot() {
        return otherRoot;
    }

    public URI tsaUrl() {
        return URI.create(base + "/tsa");
    }

    /** A certificate as PEM. */
    public static String pem(X509Certificate c) {
        try {
            return "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64,
                    "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(c.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path trustDir;

    /**
     * A folder holding the test root as {@code root.pem}: what {@code --signature-trust-dir} and {@code openssl
     * -CAfile} take (made once per JVM).
     */
    public synchronized Path trustDir() {
        if (trustDir == null) {
            try {
                Path dir = Files.createDirectories(jp.mamori.testing.TestData.newFolder("trust-"));
                Files.writeString(dir.resolve("root.pem"), pem(root));
                trustDir = dir;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return trustDir;
    }

    /** Trust the test root, use the test TSA, fetch revocation online, 3 s per call. */
    public SignatureSettings settings() {
        return SignatureSettings.of(List.of(root), List.of(tsaUrl())).withNetworkTimeout(Duration.ofSeconds(3));
    }

    public void tsaMode(TsaMode mode) {
        this.tsaMode = mode;
    }

    /** How long the TSA waits in SLOW mode before answering. */
    public void tsaDelay(Duration delay) {
        this.tsaDelay = delay;
    }

    /** A new signer certificate of the HPKI-like CA, with the hcRole (e.g. "Medical Doctor"), valid for a year. */
    public Issued signer(String commonName, String hcRole) {
        Instant now = Instant.now();
        return signer(commonName, hcRole, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)));
    }

    /** A signer certificate valid in the given window (an expired one: a window in the past). */
    public Issued signer(String commonName, String hcRole, Instant notBefore, Instant notAfter) {
        try {
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.C, "JP")
                    .addRDN(BCStyle.O, "Mamori Test Hospital").addRDN(BCStyle.CN, commonName).build();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(intermediate.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, signerKeys.getPublic());
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.nonRepudiation));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(signerKeys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(intermediate));
            b.addExtension(Extension.cRLDistributionPoints, false, distributionPoint(base + "/crl/intermediate.crl"));
            b.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(
                    new AccessDescription(X509ObjectIdentifiers.id_ad_ocsp, uri(base + "/ocsp"))));
            if (hcRole != null) {
                b.addExtension(Extension.subjectDirectoryAttributes, false, hcRole(hcRole));
            }
            X509Certificate c = certificate(b, intermediateKeys.getPrivate());
            return new Issued(signerKeys.getPrivate(), c, List.of(c, intermediate));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A TLS server certificate for {@code localhost} and 127.0.0.1 issued by the test root (issue 21: the identity
     * provider the federation tests start serves HTTPS with it; Mamori trusts {@link #root()} for it), valid a day.
     */
    public Issued tlsServer() {
        try {
            KeyPair keys = rsa();
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(root.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
                    name("localhost"), keys.getPublic());
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress,
                    "127.0.0.1")}));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(keys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(root));
            X509Certificate c = certificate(b, rootKeys.getPrivate());
            return new Issued(keys.getPrivate(), c, List.of(c));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A signer certificate of the other root, which the settings do not trust. */
    public Issued foreignSigner(String commonName) {
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(otherRoot.getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(365))),
                    name(commonName), signerKeys.getPublic());
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.nonRepudiation));
            b.addExtension(Extension.subjectDirectoryAttributes, false, hcRole("Medical Doctor"));
            X509Certificate c = certificate(b, otherRootKeys.getPrivate());
            return new Issued(signerKeys.getPrivate(), c, List.of(c));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Revokes the certificate (key compromise) as of now: the CRLs and OCSP answers say so from now on. */
    public void revoke(X509Certificate certificate) {
        revoked.put(certificate.getSerialNumber(), new Date());
    }

    /** The hcRole attribute as ISO/TS 17090-3 and the MHLW HPKI policy lay it out. */
    static SubjectDirectoryAttributes hcRole(String role) {
        ASN1EncodableVector coded = new ASN1EncodableVector();
        coded.add(new DERTaggedObject(true, 0, new ASN1ObjectIdentifier(HpkiCertificate.JP_HC_ROLE_SCHEME)));
        coded.add(new DERTaggedObject(true, 1, new DERUTF8String(role)));
        DERSequence actor = new DERSequence(new DERTaggedObject(true, 0, new DERSequence(coded)));
        Vector<Attribute> attributes = new Vector<>();
        attributes.add(new Attribute(new ASN1ObjectIdentifier(HpkiCertificate.HC_ROLE_ATTRIBUTE),
                new DERSet(new DERSet(actor))));
        return new SubjectDirectoryAttributes(attributes);
    }

    private void tsa(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readNBytes(64 * 1024);
            TsaMode mode = tsaMode;
            if (mode == TsaMode.DOWN) {
                ex.sendResponseHeaders(503, -1);
                return;
            }
            if (mode == TsaMode.SLOW) {
                Thread.sleep(tsaDelay.toMillis());
            }
            TimeStampRequest request = new TimeStampRequest(body);
            TimeStampRequest answered = request;
            if (mode == TsaMode.WRONG_IMPRINT) {
                byte[] other = MessageDigest.getInstance("SHA-256").digest("another document".getBytes());
                TimeStampRequestGenerator g = new TimeStampRequestGenerator();
                g.setCertReq(true);
                answered = g.generate(TSPAlgorithms.SHA256, other, request.getNonce());
            }
            X509Certificate tsaCert = mode == TsaMode.UNTRUSTED ? otherTsa : tsa;
            DigestCalculator sha256 = new JcaDigestCalculatorProviderBuilder().build().get(
                    new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                            org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256));
            TimeStampTokenGenerator tokens = new TimeStampTokenGenerator(
                    new JcaSimpleSignerInfoGeneratorBuilder().build("SHA256withRSA", tsaKeys.getPrivate(), tsaCert),
                    sha256, new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.17.1"));
            tokens.addCertificates(new JcaCertStore(List.of(tsaCert)));
            byte[] response = new TimeStampResponseGenerator(tokens, TSPAlgorithms.ALLOWED)
                    .generate(answered, BigInteger.valueOf(serials.incrementAndGet()), new Date()).getEncoded();
            ex.getResponseHeaders().add("Content-Type", "application/timestamp-reply");
            ex.sendResponseHeaders(200, response.length);
            ex.getResponseBody().write(response);
        } catch (Exception e) {
            ex.sendResponseHeaders(500, -1);
        }
    }

    private interface Body {
        byte[] get() throws Exception;
    }

    private static void serve(HttpExchange ex, Body body, String type) throws IOException {
        try (ex) {
            byte[] b;
            try {
                b = body.get();
            } catch (Exception e) {
                System.err.println("test PKI: " + ex.getRequestURI() + " failed: " + e);
                ex.sendResponseHeaders(500, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Type", type);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
        }
    }

    private byte[] crl(X509Certificate issuer, PrivateKey key) throws Exception {
        Date now = new Date();
        X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()),
                new Date(now.getTime() - 60_000));
        b.setNextUpdate(new Date(now.getTime() + 86_400_000L));
        b.addExtension(Extension.authorityKeyIdentifier, false,
                new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer));
        b.addExtension(Extension.cRLNumber, false, new org.bouncycastle.asn1.x509.CRLNumber(
                BigInteger.valueOf(serials.incrementAndGet())));
        for (Map.Entry<BigInteger, Date> r : revoked.entrySet()) {
            b.addCRLEntry(r.getKey(), r.getValue(), CRLReason.keyCompromise);
        }
        X509CRLHolder crl = b.build(new JcaContentSignerBuilder("SHA256withRSA").build(key));
        return crl.getEncoded();
    }

    private byte[] ocsp(byte[] body) throws Exception {
        OCSPReq request = new OCSPReq(body);
        // The responder is the CA itself, named by its key hash (RFC 6960 ResponderID byKey).
        DigestCalculator sha1 = new JcaDigestCalculatorProviderBuilder().build().get(
                new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                        org.bouncycastle.asn1.oiw.OIWObjectIdentifiers.idSHA1, org.bouncycastle.asn1.DERNull.INSTANCE));
        BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(
                new JcaX509CertificateHolder(intermediate).getSubjectPublicKeyInfo(), sha1);
        Date now = new Date();
        for (Req r : request.getRequestList()) {
            Date when = revoked.get(r.getCertID().getSerialNumber());
            CertificateStatus status = when == null ? CertificateStatus.GOOD
                    : new RevokedStatus(when, CRLReason.keyCompromise);
            b.addResponse(r.getCertID(), status, new Date(now.getTime() - 1000), new Date(now.getTime() + 3_600_000L),
                    null);
        }
        Extension nonce = request.getExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
        if (nonce != null) {
            b.setResponseExtensions(new org.bouncycastle.asn1.x509.Extensions(nonce));
        }
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withRSA").build(intermediateKeys.getPrivate());
        return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL,
                b.build(signer, new X509CertificateHolder[]{new JcaX509CertificateHolder(intermediate)}, now))
                .getEncoded();
    }

    private X509Certificate ca(X500Name subject, KeyPair keys, X500Name issuer, PrivateKey issuerKey, Instant from,
                               Instant to, String crl, int pathLength) throws Exception {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(), Date.from(from), Date.from(to),
                subject, keys.getPublic());
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, pathLength < 0 ? new BasicConstraints(true)
                : new BasicConstraints(pathLength));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(keys.getPublic()));
        if (crl != null) {
            b.addExtension(Extension.cRLDistributionPoints, false, distributionPoint(crl));
        }
        return certificate(b, issuerKey);
    }

    private X509Certificate tsaCertificate(X500Name subject, KeyPair keys, X500Name issuer, PrivateKey issuerKey,
                                           String crl) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(),
                Date.from(now.minus(Duration.ofDays(30))), Date.from(now.plus(Duration.ofDays(365 * 5))), subject,
                keys.getPublic());
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
        b.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
        b.addExtension(Extension.subjectKeyIdentifier, false,
                new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        if (crl != null) {
            b.addExtension(Extension.cRLDistributionPoints, false, distributionPoint(crl));
        }
        return certificate(b, issuerKey);
    }

    private static CRLDistPoint distributionPoint(String url) {
        return new CRLDistPoint(new DistributionPoint[]{new DistributionPoint(
                new DistributionPointName(new GeneralNames(uri(url))), null, null)});
    }

    private static GeneralName uri(String url) {
        return new GeneralName(GeneralName.uniformResourceIdentifier, url);
    }

    private static X509Certificate certificate(JcaX509v3CertificateBuilder b, PrivateKey issuerKey) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKey)));
    }

    private BigInteger serial() {
        return BigInteger.valueOf(serials.incrementAndGet());
    }

    private static X500Name name(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.C, "JP").addRDN(BCStyle.O, "Mamori Test")
                .addRDN(BCStyle.CN, cn).build();
    }

    private static KeyPair rsa() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }
}
