package jp.mamori.edge;

import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestServer;
import jp.mamori.web.Tls;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** NET-1/NET-3: the TLS profile the server actually offers, checked on the wire with raw TLS sockets. */
class TlsProfileTest {
    private final TestServer s = TestServer.shared();

    private SSLSocket handshake(String protocol, String suite) throws Exception {
        SSLSocket sock = Edge.socket(s);
        sock.setEnabledProtocols(new String[]{protocol});
        if (suite != null) {
            sock.setEnabledCipherSuites(new String[]{suite});
        }
        sock.startHandshake();
        return sock;
    }

    @Test
    void tls13HandshakeSucceedsAndNegotiatesAnAeadSuite() throws Exception {
        try (SSLSocket sock = handshake("TLSv1.3", null)) {
            assertEquals("TLSv1.3", sock.getSession().getProtocol());
            assertTrue(Tls.CIPHER_SUITES.contains(sock.getSession().getCipherSuite()), sock.getSession().getCipherSuite());
        }
    }

    @Test
    void tls13WithChaCha20Poly1305Succeeds() throws Exception {
        try (SSLSocket sock = handshake("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256")) {
            assertEquals("TLS_CHACHA20_POLY1305_SHA256", sock.getSession().getCipherSuite());
        }
    }

    @Test
    void tls12WithEcdheEcdsaAesGcmSucceeds() throws Exception {
        try (SSLSocket sock = handshake("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")) {
            assertEquals("TLSv1.2", sock.getSession().getProtocol());
            assertEquals("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", sock.getSession().getCipherSuite());
        }
    }

    @Test
    void tls12WithEcdheEcdsaChaCha20Succeeds() throws Exception {
        try (SSLSocket sock = handshake("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")) {
            assertEquals("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", sock.getSession().getCipherSuite());
        }
    }

    @Test
    void tls12WithACbcSuiteIsRefused() throws Exception {
        for (String cbc : List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")) {
            SSLSocket sock = Edge.socket(s);
            try (sock) {
                assertTrue(List.of(sock.getSupportedCipherSuites()).contains(cbc), "the client JDK must offer " + cbc);
                sock.setEnabledProtocols(new String[]{"TLSv1.2"});
                sock.setEnabledCipherSuites(new String[]{cbc});
                assertThrows(SSLException.class, sock::startHandshake, "TLS 1.2 with " + cbc + " must be refused");
            }
        }
    }

    @Test
    void tls12WithStaticRsaKeyExchangeIsRefused() throws Exception {
        // Not ECDHE: no forward secrecy. The client may not even support it; then the point is moot.
        try (SSLSocket sock = Edge.socket(s)) {
            String suite = "TLS_RSA_WITH_AES_128_GCM_SHA256";
            if (List.of(sock.getSupportedCipherSuites()).contains(suite)) {
                sock.setEnabledProtocols(new String[]{"TLSv1.2"});
                sock.setEnabledCipherSuites(new String[]{suite});
                assertThrows(SSLException.class, sock::startHandshake);
            }
        }
    }

    @Test
    void theServerIsConfiguredWithOnlyTls13And12AndOnlyEcdheAeadSuites() throws Exception {
        // The wire checks above cover what a client can try; this covers everything the JDK would allow.
        Tls.Material m = Tls.material(ServerConfig.fromArgs(List.of("--data", s.dataDir().toString()), Map.of()));
        var f = Tls.contextFactory(m);
        f.start();
        try {
            assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(f.getSelectedProtocols()));
            assertFalse(f.getSelectedCipherSuites().length == 0);
            for (String suite : f.getSelectedCipherSuites()) {
                boolean tls13 = suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_");
                boolean ecdheAead = suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_")
                        || suite.contains("CHACHA20_POLY1305"));
                assertTrue(tls13 || ecdheAead, "suite not in the profile: " + suite);
            }
        } finally {
            f.stop();
        }
    }

    /**
     * The JDK disables TLSv1 and TLSv1.1 for clients too, and reads jdk.tls.disabledAlgorithms once per JVM
     * (this one has already used TLS), so the old protocols are tried from a forked JVM whose security
     * properties re-enable them. The probe tells a server refusal from a client that could not offer them.
     */
    @Test
    void tls11AndTls10AreRefusedByTheServer() throws Exception {
        Path props = Files.createTempFile("legacy-tls", ".security");
        Files.writeString(props, "jdk.tls.disabledAlgorithms=\njdk.certpath.disabledAlgorithms=\n");
        String classes = Path.of(LegacyTlsProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try {
            for (String protocol : List.of("TLSv1.1", "TLSv1")) {
                Process p = new ProcessBuilder(java, "-Djava.security.properties=" + props, "-cp", classes,
                        LegacyTlsProbe.class.getName(), "127.0.0.1", Integer.toString(s.server().port()), protocol)
                        .redirectErrorStream(true).start();
                String out;
                try (InputStream in = p.getInputStream()) {
                    out = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
                }
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "probe did not finish");
                System.out.println("legacy TLS probe " + protocol + ": exit " + p.exitValue() + ", " + out);
                switch (p.exitValue()) {
                    case 3 -> assertTrue(out.startsWith("REFUSED"), out);
                    case 0 -> fail("the server accepted " + protocol + ": " + out);
                    case 4 -> fail("the probe JVM could not offer " + protocol + " (fix the probe): " + out);
                    default -> fail("probe failed (" + p.exitValue() + "): " + out);
                }
            }
        } finally {
            Files.deleteIfExists(props);
        }
    }

    @Test
    void plainHttpToTheTlsPortGetsNoHttpAnswer() throws Exception {
        try (Socket sock = Edge.plain(s)) {
            OutputStream out = sock.getOutputStream();
            out.write(("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] answer;
            try {
                answer = sock.getInputStream().readAllBytes();
            } catch (java.io.IOException e) {
                answer = new byte[0]; // reset by the server: also no answer
            }
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            assertFalse(text.startsWith("HTTP/"), "plain HTTP was answered: " + text);
            assertFalse(text.contains("\"status\""), text);
        }
        String httpUrl = "http://127.0.0.1:" + s.server().port() + "/health";
        assertThrows(java.io.IOException.class, () -> java.net.http.HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(httpUrl)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void theGeneratedCertificateIsEcdsaP256ForLocalhostAnd127001() throws Exception {
        X509Certificate cert;
        try (SSLSocket sock = handshake("TLSv1.3", null)) {
            cert = (X509Certificate) sock.getSession().getPeerCertificates()[0];
        }
        assertEquals("EC", cert.getPublicKey().getAlgorithm());
        assertTrue(cert.getSigAlgName().toUpperCase().contains("ECDSA"), cert.getSigAlgName());
        ECParameterSpec served = ((ECPublicKey) cert.getPublicKey()).getParams();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        ECParameterSpec p256 = ((ECPublicKey) g.generateKeyPair().getPublic()).getParams();
        assertEquals(p256.getCurve(), served.getCurve());
        assertEquals(p256.getOrder(), served.getOrder());
        assertEquals(p256.getGenerator(), served.getGenerator());

        List<String> dns = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        for (List<?> san : sans) {
            int type = (Integer) san.get(0);
            if (type == 2) {
                dns.add((String) san.get(1));
            } else if (type == 7) {
                ips.add((String) san.get(1));
            }
        }
        assertTrue(dns.contains("localhost"), "SAN DNS names: " + dns);
        assertTrue(ips.contains("127.0.0.1"), "SAN IP addresses: " + ips);
    }

    @Test
    void thePrintedFingerprintIsThatOfTheCertificateServed() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        s.server().printStartup(new PrintStream(buf, true, StandardCharsets.UTF_8));
        String printed = buf.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("SHA-256 fingerprint: ([0-9A-F]{2}(?::[0-9A-F]{2}){31})").matcher(printed);
        assertTrue(m.find(), printed);
        byte[] printedBytes = HexFormat.ofDelimiter(":").parseHex(m.group(1));

        byte[] served;
        try (SSLSocket sock = handshake("TLSv1.3", null)) {
            served = MessageDigest.getInstance("SHA-256").digest(sock.getSession().getPeerCertificates()[0]
                    .getEncoded());
        }
        assertArrayEquals(served, printedBytes, "printed " + m.group(1));
        assertTrue(printed.contains("Mamori ready at https://"), printed);
    }
}
