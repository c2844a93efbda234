package jp.mamori.signatures;

import eu.europa.esig.dss.enumerations.CertificateStatus;
import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.model.x509.revocation.ocsp.OCSP;
import eu.europa.esig.dss.service.ocsp.OnlineOCSPSource;
import eu.europa.esig.dss.spi.x509.revocation.RevocationSource;
import eu.europa.esig.dss.spi.x509.revocation.RevocationToken;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The revocation answers kept for a minute (issue 17, performance): against the test PKI's real OCSP responder on
 * loopback, counting what reaches it. The same certificate is answered again from the first answer within the minute
 * and asked again after it, so a revocation shows at most a minute late in validation; no answer is never kept; and
 * signing never uses a kept answer — a certificate revoked just after a validation found it good cannot sign.
 */
class RecentRevocationsTest {
    static final char[] PIN = "1357".toCharArray();

    @TempDir
    Path dir;

    /** A clock the test moves. */
    static final class Moving extends Clock {
        private Instant now = Instant.now();

        void pass(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Passes every question on to the responder, counting them. */
    record Counting(RevocationSource<OCSP> online, AtomicInteger asked) implements RevocationSource<OCSP> {
        @Override
        public RevocationToken<OCSP> getRevocationToken(CertificateToken certificate, CertificateToken issuer) {
            asked.incrementAndGet();
            return online.getRevocationToken(certificate, issuer);
        }
    }

    private static Counting responder() {
        return new Counting(new OnlineOCSPSource(new BoundedHttp(Duration.ofSeconds(10), 1024 * 1024,
                "application/ocsp-request")), new AtomicInteger());
    }

    @Test
    void theSameCertificateIsAnsweredAgainForAMinuteThenAskedAgainAndARevocationShows() {
        TestPki pki = TestPki.get();
        CertificateToken signer = new CertificateToken(pki.signer("再利 用子", "Nurse").certificate());
        CertificateToken issuer = new CertificateToken(pki.intermediate());
        Counting online = responder();
        Moving clock = new Moving();
        RecentRevocations<OCSP> recent = new RecentRevocations<>(online, clock);

        RevocationToken<OCSP> first = recent.getRevocationToken(signer, issuer);
        assertEquals(CertificateStatus.GOOD, first.getStatus());
        clock.pass(Duration.ofSeconds(59));
        assertSame(first, recent.getRevocationToken(signer, issuer));
        assertEquals(1, online.asked().get(), "answered again from the first answer within the minute");

        pki.revoke(signer.getCertificate());
        clock.pass(Duration.ofSeconds(2));
        RevocationToken<OCSP> later = recent.getRevocationToken(signer, issuer);
        assertEquals(2, online.asked().get(), "asked again after the minute");
        assertEquals(CertificateStatus.REVOKED, later.getStatus());
    }

    @Test
    void noAnswerIsNeverKept() {
        TestPki pki = TestPki.get();
        // the CA's certificate names no OCSP responder: the online source answers nothing
        CertificateToken ca = new CertificateToken(pki.intermediate());
        CertificateToken root = new CertificateToken(pki.root());
        Counting online = responder();
        RecentRevocations<OCSP> recent = new RecentRevocations<>(online, new Moving());
        assertNull(recent.getRevocationToken(ca, root));
        assertNull(recent.getRevocationToken(ca, root));
        assertEquals(2, online.asked().get());
        assertEquals(0, recent.size());
    }

    @Test
    void aCertificateRevokedAfterAValidationFoundItGoodCannotSign() throws Exception {
        TestPki pki = TestPki.get();
        pki.tsaMode(TestPki.TsaMode.OK);
        Signatures signatures = new Signatures(pki.settings());
        TestPki.Issued issued = pki.signer("直後 失効", "Medical Doctor");
        byte[] document = "{\"resourceType\":\"Composition\",\"status\":\"final\"}".getBytes(StandardCharsets.UTF_8);
        Path p12 = issued.writePkcs12(dir.resolve("k.p12"), PIN);
        Signed signed;
        try (SignerKey key = SignerKeys.pkcs12(p12, PIN)) {
            signed = signatures.sign(document, key);
        }
        assertTrue(signatures.validate(signed.signature(), document).passed(), "validated: its status is now kept");
        pki.revoke(issued.certificate());
        try (SignerKey key = SignerKeys.pkcs12(p12, PIN)) {
            SignatureFailure f = assertThrows(SignatureFailure.class, () -> signatures.sign(document, key));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, f.reason(), f.getMessage());
        }
    }
}
