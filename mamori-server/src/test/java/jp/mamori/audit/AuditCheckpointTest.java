package jp.mamori.audit;

import com.sun.net.httpserver.HttpServer;
import jp.mamori.MamoriServer;
import jp.mamori.cli.Main;
import jp.mamori.config.ServerConfig;
import jp.mamori.ledger.ConsistencyProof;
import jp.mamori.ledger.Export;
import jp.mamori.ledger.Finding;
import jp.mamori.ledger.InclusionProof;
import jp.mamori.ledger.Report;
import jp.mamori.ledger.SignedCheckpoint;
import jp.mamori.ledger.TrailVerifier;
import jp.mamori.ledger.VerifierKey;
import jp.mamori.testing.TestServer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.DefaultDigestAlgorithmIdentifierFinder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenGenerator;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AUDIT-3, AUDIT-4: checkpoints are signed with the key in the data folder, copied to the anchor folder and
 * time-stamped by a real RFC 3161 TSA (Bouncy Castle's TSP classes on loopback); a failing TSA costs only the
 * time-stamp; a restart continues the tree from the stored frontier; proofs and a partial export verify.
 */
class AuditCheckpointTest {

    /** A small RFC 3161 TSA on loopback: Bouncy Castle's response generator behind the JDK's HTTP server. */
    static final class LoopbackTsa implements AutoCloseable {
        final HttpServer http;
        final X509CertificateHolder cert;
        final AtomicLong serial = new AtomicLong(1);

        LoopbackTsa() throws Exception {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            KeyPair kp = g.generateKeyPair();
            Instant now = Instant.now();
            X500Name name = new X500Name("CN=Mamori test TSA");
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                    Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(1, ChronoUnit.DAYS)), name,
                    kp.getPublic());
            b.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(KeyPurposeId.id_kp_timeStamping));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            cert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
            TimeStampTokenGenerator tokens = new TimeStampTokenGenerator(new JcaSimpleSignerInfoGeneratorBuilder()
                    .build("SHA256withECDSA", kp.getPrivate(),
                            new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(cert)),
                    new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build().get(
                            new DefaultDigestAlgorithmIdentifierFinder().find("SHA-256")), new ASN1ObjectIdentifier("1.2.392.1"));
            tokens.addCertificates(new org.bouncycastle.cert.jcajce.JcaCertStore(List.of(
                    new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(cert))));
            TimeStampResponseGenerator responses = new TimeStampResponseGenerator(tokens, TSPAlgorithms.ALLOWED);
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/tsa", ex -> {
                try {
                    TimeStampRequest req = new TimeStampRequest(ex.getRequestBody().readAllBytes());
                    TimeStampResponse res = responses.generate(req, BigInteger.valueOf(serial.getAndIncrement()),
                            new Date());
                    byte[] body = res.getEncoded();
                    ex.getResponseHeaders().add("Content-Type", "application/timestamp-reply");
                    ex.sendResponseHeaders(200, body.length);
                    try (OutputStream o = ex.getResponseBody()) {
                        o.write(body);
                    }
                } catch (Exception e) {
                    ex.sendResponseHeaders(500, -1);
                }
                ex.close();
            });
            http.start();
        }

        String url() {
            return "http://127.0.0.1:" + http.getAddress().getPort() + "/tsa";
        }

        @Override
        public void close() {
            http.stop(0);
        }
    }

    private static void traffic(TestServer s, int n) {
        for (int i = 0; i < n; i++) {
            String id = AuditTrailTest.create(s, AuditTrailTest.patientJson("署名" + UUID.randomUUID().toString()
                    .substring(0, 6)));
            assertEquals(200, s.get("/Patient/" + id).statusCode());
        }
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = Main.run(List.of(args), p, p, Map.of());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        return text;
    }

    @Test
    void checkpointsAreSignedAnchoredTimeStampedAndSurviveARestart() throws Exception {
        Path anchorDir = Files.createTempDirectory(Path.of("target"), "anchor");
        TestServer s;
        LoopbackTsa tsa = new LoopbackTsa();
        try {
            // The test signs checkpoints itself; the server's own tick (every 10 s) would race it and sign first.
            s = TestServer.start(List.of("--audit-tsa-url", tsa.url(), "--audit-anchor-dir", anchorDir.toString(),
                    "--audit-checkpoint-seconds", "3600"));
        } catch (RuntimeException e) {
            tsa.close();
            throw e;
        }
        Path data = s.dataDir();
        Checkpointer cp;
        TrailLedger.Stored stamped;
        VerifierKey key;
        try {
            cp = s.server().audit().checkpointer();
            key = cp.signer().verifierKey();

            // Key custody: a file in the secrets folder, owner-only; the public half beside it for auditors.
            Path keyFile = SigningKey.file(data);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            assertEquals(key.format(), Files.readString(data.resolve(SigningKey.VERIFIER_FILE)).strip());
            String privateLine = Files.readAllLines(keyFile).stream().filter(l -> l.startsWith("private "))
                    .findFirst().orElseThrow().substring(8);
            try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_checkpoint WHERE note LIKE '%"
                         + privateLine.substring(0, 20) + "%'")) {
                rs.next();
                assertEquals(0, rs.getLong(1));
            }

            traffic(s, 3);
            stamped = cp.checkpoint();
            assertNotNull(stamped, "entries were added, so a checkpoint is signed");
            assertEquals("ok", stamped.tsaStatus(), stamped.tsaError());
            assertEquals("ok", stamped.anchorStatus());
            SignedCheckpoint note = stamped.signed();
            assertEquals(SignedCheckpoint.Status.VERIFIED, note.verify(key));

            // The stored token is a valid RFC 3161 token from that TSA over this checkpoint's note.
            try (Connection c = s.superuserConnection()) {
                TrailLedger.Stored row = TrailLedger.checkpoint(c, stamped.size());
                TimeStampToken token = new TimeStampToken(new CMSSignedData(row.tsaToken()));
                assertTrue(token.isSignatureValid(new JcaSimpleSignerInfoVerifierBuilder().build(tsa.cert)));
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(row.note().getBytes(StandardCharsets.UTF_8)),
                        token.getTimeStampInfo().getMessageImprintDigest());
                assertEquals(stamped.size(), row.size());
            }

            // The anchor folder holds the same note and the same token.
            String anchored = Files.readString(cp.anchor().checkpointFiles().get(cp.anchor().checkpointFiles().size() - 1));
            assertTrue(anchored.contains(stamped.note()), anchored);
            try (var files = Files.list(anchorDir)) {
                Path ts = files.filter(p -> p.getFileName().toString().startsWith("timestamps-")).findFirst().orElseThrow();
                assertTrue(Files.readString(ts).contains(stamped.size() + " "
                        + Base64.getEncoder().encodeToString(stamped.tsaToken())));
            }

            // The TSA goes away: the checkpoint is still signed and stored; the failure is an entry and a deviation.
            tsa.close();
            traffic(s, 1);
            TrailLedger.Stored unstamped = cp.checkpoint();
            assertNotNull(unstamped);
            assertEquals("failed", unstamped.tsaStatus());
            assertTrue(unstamped.size() > stamped.size());
            assertTrue(s.server().audit().deviations().stream().anyMatch(d -> d.contains("time-stamped")),
                    s.server().audit().deviations().toString());
            try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action = 'audit.timestamp'"
                         + " AND outcome = 'error'")) {
                rs.next();
                assertEquals(1, rs.getLong(1));
            }
            assertNull(cp.status().problem());
        } finally {
            tsa.close();
            s.close();
        }

        // Restart on the same folder: the tree continues from the stored frontier, consistent with before.
        try (MamoriServer again = MamoriServer.start(ServerConfig.fromArgs(List.of("--data", data.toString(), "--port",
                "0", "--bind", "127.0.0.1", "--audit-anchor-dir", anchorDir.toString()), Map.of()))) {
            Checkpointer cp2 = again.audit().checkpointer();
            assertNull(cp2.status().problem(), cp2.status().problem());
            assertEquals(key, cp2.signer().verifierKey(), "the same key after a restart");
            TrailLedger.Stored later = cp2.status().last();
            assertTrue(later.size() > stamped.size(), "the start signed the stop and start entries");
            try (Connection c = superuser(data)) {
                ConsistencyProof cons = TrailLedger.consistency(c, stamped.size(), later.size());
                assertTrue(cons.verify(key, key.name()).ok(), cons.verify(key, key.name()).message());
            }

            // An inclusion proof from the CLI, against the latest checkpoint, checks out.
            String proof = run("audit-proof", "--data", data.toString(), "--seq", Long.toString(stamped.size() - 2));
            InclusionProof ip = InclusionProof.parse(proof);
            assertTrue(ip.verify(key, key.name()).ok(), ip.verify(key, key.name()).message());

            // An export that continues an archive (entries from a checkpoint on) verifies with its start.
            Path exp = Files.createTempDirectory(Path.of("target"), "export").resolve("out");
            run("audit-export", "--data", data.toString(), "--out", exp.toString(), "--from",
                    Long.toString(stamped.size() - 1), "--audit-anchor-dir", anchorDir.toString());
            assertTrue(Files.exists(exp.resolve(Export.START)));
            Report r = new TrailVerifier(key).origin(key.name()).verify(Export.open(exp));
            assertEquals(List.of(), r.findings().stream().filter(Finding::fails).toList(), r.summary());
            assertTrue(r.checkpointsMatched() >= 2, r.summary());
        }
    }

    /** As {@link TestServer#superuserConnection()}, for a server started on an existing folder. */
    private static Connection superuser(Path data) throws Exception {
        String port = Files.readString(data.resolve("runtime").resolve("db-port")).trim();
        String pw = Files.readString(data.resolve("secrets").resolve("db-superuser-password")).trim();
        return java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", pw);
    }

    @Test
    void aKeyFileOthersCanReadIsRefused() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("target"), "key");
        SigningKey.loadOrCreate(dir, "test/audit");
        Files.setPosixFilePermissions(SigningKey.file(dir), PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> SigningKey.loadOrCreate(dir, "test/audit"));
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
        assertTrue(Arrays.asList(Files.readString(dir.resolve(SigningKey.VERIFIER_FILE)).split("\\+")).get(0)
                .equals("test/audit"));
    }
}
