package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Signing, time-stamping, extending and validating against the loopback test PKI (issue 17). */
class SignaturesTest {
    static final char[] PIN = "4321".toCharArray();
    static final byte[] DOCUMENT = "{\"resourceType\":\"Composition\",\"title\":\"退院時要約\",\"status\":\"final\"}"
            .getBytes(StandardCharsets.UTF_8);
    /** id-aa-ets-archiveTimestampV3 (ETSI EN 319 122-1). */
    static final ASN1ObjectIdentifier ARCHIVE_TIMESTAMP_V3 = new ASN1ObjectIdentifier("0.4.0.1733.2.4");

    static TestPki pki;
    static Signatures signatures;

    @TempDir
    Path dir;

    @BeforeAll
    static void pki() {
        pki = TestPki.get();
        signatures = new Signatures(pki.settings());
    }

    @AfterEach
    void tsaBack() {
        pki.tsaMode(TestPki.TsaMode.OK);
    }

    private SignerKey key(TestPki.Issued issued) throws Exception {
        return SignerKeys.pkcs12(issued.writePkcs12(dir.resolve("k" + System.nanoTime() + ".p12"), PIN), PIN);
    }

    private TestPki.Issued doctor() {
        return pki.signer("山田 太郎", "Medical Doctor");
    }

    @Test
    void signsAtBtWithTheTsasTime() throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        Signed signed;
        try (SignerKey key = key(doctor())) {
            signed = signatures.sign(DOCUMENT, key);
        }
        assertEquals(Level.B_T, signed.level());
        assertFalse(signed.timestampPending());
        assertTrue(signed.timestampTime().isPresent());
        assertFalse(signed.timestampTime().get().isBefore(before));

        Validation v = signatures.validate(signed.signature(), DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason() + " " + v.subIndication());
        assertEquals(Level.B_T, v.level().orElseThrow());
        assertEquals(signed.timestampTime(), v.signingTime(), "the signing time is the time-stamp's");
        assertEquals("山田 太郎", v.signer().orElseThrow().name());
        assertEquals("医師", v.signer().orElseThrow().roleLabel().orElseThrow());
        assertFalse(v.revoked());
        assertTrue(v.reason().contains("有効") && v.reason().contains("valid"), v.reason());
        assertTrue(v.etsiReport().contains("ValidationReport") && v.etsiReport().contains("total-passed"),
                v.etsiReport().substring(0, Math.min(800, v.etsiReport().length())));
    }

    @Test
    void extendsToLtAndLtaAndReTimestamps() throws Exception {
        Signed signed;
        try (SignerKey key = key(doctor())) {
            signed = signatures.sign(DOCUMENT, key);
        }
        byte[] lt = signatures.extendToLt(signed.signature(), DOCUMENT);
        Signatures offline = new Signatures(pki.settings().withOnlineRevocation(false));
        Validation ltValid = offline.validate(lt, DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, ltValid.indication(),
                "the LT carries its revocation data: " + ltValid.reason() + " " + ltValid.subIndication());
        assertEquals(Level.LT, ltValid.level().orElseThrow());
        // The same B-T without the embedded revocation data cannot be validated offline.
        assertNotEquals(Validation.Indication.TOTAL_PASSED, offline.validate(signed.signature(), DOCUMENT).indication());

        byte[] lta = signatures.extendToLta(lt, DOCUMENT);
        Validation ltaValid = offline.validate(lta, DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, ltaValid.indication(), ltaValid.reason());
        assertEquals(Level.LTA, ltaValid.level().orElseThrow());
        Instant firstArchive = ltaValid.lastArchiveTimestamp().orElseThrow();
        assertEquals(pki.tsaCertificate().getNotAfter().toInstant(),
                ltaValid.lastArchiveTimestampCertExpiry().orElseThrow());
        assertEquals(1, archiveTimestamps(lta));

        byte[] again = signatures.extendToLta(lta, DOCUMENT);
        assertEquals(2, archiveTimestamps(again), "re-time-stamping adds a further archive time-stamp");
        Validation againValid = signatures.validate(again, DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, againValid.indication(), againValid.reason());
        assertEquals(Level.LTA, againValid.level().orElseThrow());
        assertFalse(againValid.lastArchiveTimestamp().orElseThrow().isBefore(firstArchive));
        assertEquals(signed.timestampTime(), againValid.signingTime(), "the signing time stays the first time-stamp's");
    }

    static int archiveTimestamps(byte[] signature) throws Exception {
        SignerInformation si = new CMSSignedData(signature).getSignerInfos().getSigners().iterator().next();
        return si.getUnsignedAttributes().getAll(ARCHIVE_TIMESTAMP_V3).size();
    }

    @Test
    void aTamperedDocumentOrSignatureFails() throws Exception {
        Signed signed;
        try (SignerKey key = key(doctor())) {
            signed = signatures.sign(DOCUMENT, key);
        }
        byte[] otherDocument = DOCUMENT.clone();
        otherDocument[otherDocument.length - 3] ^= 1;
        Validation changed = signatures.validate(signed.signature(), otherDocument);
        assertEquals(Validation.Indication.TOTAL_FAILED, changed.indication());
        assertEquals("HASH_FAILURE", changed.subIndication().orElseThrow());
        assertTrue(changed.reason().contains("変更") && changed.reason().contains("changed"), changed.reason());

        byte[] tampered = signed.signature().clone();
        byte[] value = new CMSSignedData(tampered).getSignerInfos().getSigners().iterator().next().getSignature();
        int at = indexOf(tampered, value);
        assertTrue(at > 0);
        tampered[at + value.length / 2] ^= 0x10;
        Validation altered = signatures.validate(tampered, DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_FAILED, altered.indication());
        assertEquals("SIG_CRYPTO_FAILURE", altered.subIndication().orElseThrow());

        Validation garbage = signatures.validate("not a signature".getBytes(StandardCharsets.UTF_8), DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_FAILED, garbage.indication());
        assertEquals(SignatureFailure.Reason.NOT_A_SIGNATURE.message(), garbage.reason());
        Validation truncated = signatures.validate(Arrays.copyOf(signed.signature(), 200), DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_FAILED, truncated.indication());

        SignatureFailure extendWrong = assertThrows(SignatureFailure.class,
                () -> signatures.extendToLt(signed.signature(), otherDocument));
        assertNotEquals(SignatureFailure.Reason.TSA_UNAVAILABLE, extendWrong.reason(), extendWrong.getMessage());
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void aRevokedSignerIsRefusedAndItsSignatureReportedRevoked() throws Exception {
        TestPki.Issued issued = doctor();
        pki.tsaMode(TestPki.TsaMode.DOWN);
        Signed early;
        try (SignerKey key = key(issued)) {
            early = signatures.sign(DOCUMENT, key);
        }
        assertEquals(Level.B, early.level());
        pki.tsaMode(TestPki.TsaMode.OK);
        pki.revoke(issued.certificate());

        try (SignerKey key = key(issued)) {
            SignatureFailure f = assertThrows(SignatureFailure.class, () -> signatures.sign(DOCUMENT, key));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, f.reason());
            assertTrue(f.getMessage().contains("失効") && f.getMessage().contains("revoked"), f.getMessage());
        }
        Validation v = signatures.validate(early.signature(), DOCUMENT);
        assertNotEquals(Validation.Indication.TOTAL_PASSED, v.indication());
        assertTrue(v.revoked());
        assertTrue(v.reason().contains("revoked"), v.reason());
        SignatureFailure extend = assertThrows(SignatureFailure.class,
                () -> signatures.extendToLt(early.signature(), DOCUMENT));
        assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, extend.reason(), extend.getMessage());
    }

    @Test
    void anExpiredSignerCertificateIsRefused() throws Exception {
        Instant now = Instant.now();
        TestPki.Issued expired = pki.signer("期限 切子", "Nurse", now.minus(Duration.ofDays(400)),
                now.minus(Duration.ofDays(1)));
        try (SignerKey key = key(expired)) {
            SignatureFailure f = assertThrows(SignatureFailure.class, () -> signatures.sign(DOCUMENT, key));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_EXPIRED, f.reason());
            assertTrue(f.getMessage().contains("有効期間") && f.getMessage().contains("expired"), f.getMessage());
        }
    }

    @Test
    void aCertificateOfAnotherRootIsNotTrusted() throws Exception {
        TestPki.Issued foreign = pki.foreignSigner("Someone Else");
        try (SignerKey key = key(foreign)) {
            SignatureFailure f = assertThrows(SignatureFailure.class, () -> signatures.sign(DOCUMENT, key));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_NOT_TRUSTED, f.reason());
            // Signed where that root is trusted, and shown to us: not trusted here.
            Signatures elsewhere = new Signatures(new SignatureSettings(List.of(pki.root(), pki.otherRoot()),
                    List.of(pki.tsaUrl()), false, eu.europa.esig.dss.enumerations.DigestAlgorithm.SHA256,
                    Duration.ofSeconds(3), 1 << 20));
            Signed signed = elsewhere.sign(DOCUMENT, key);
            Validation v = signatures.validate(signed.signature(), DOCUMENT);
            assertNotEquals(Validation.Indication.TOTAL_PASSED, v.indication());
            assertTrue(v.reason().contains("信頼") && v.reason().contains("trusted"), v.reason());
        }
    }

    @Test
    void whenTheTsaIsDownTheSignatureIsPendingThenTimestamped() throws Exception {
        pki.tsaMode(TestPki.TsaMode.DOWN);
        Signed signed;
        try (SignerKey key = key(doctor())) {
            signed = signatures.sign(DOCUMENT, key);
        }
        assertTrue(signed.timestampPending());
        assertEquals(Level.B, signed.level());
        assertTrue(signed.pendingReason().orElseThrow().contains("タイムスタンプ"));
        assertTrue(Signatures.timestampTime(signed.signature()).isEmpty());
        SignatureFailure stillDown = assertThrows(SignatureFailure.class,
                () -> signatures.addTimestamp(signed.signature(), DOCUMENT));
        assertEquals(SignatureFailure.Reason.TSA_UNAVAILABLE, stillDown.reason());

        pki.tsaMode(TestPki.TsaMode.OK);
        byte[] bt = signatures.addTimestamp(signed.signature(), DOCUMENT);
        Validation v = signatures.validate(bt, DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason());
        assertEquals(Level.B_T, v.level().orElseThrow());
        assertArrayEquals(bt, signatures.addTimestamp(bt, DOCUMENT), "a second call changes nothing");
    }

    @Test
    void aTsaAnsweringWronglyLeavesItPending() throws Exception {
        for (TestPki.TsaMode mode : List.of(TestPki.TsaMode.WRONG_IMPRINT, TestPki.TsaMode.UNTRUSTED,
                TestPki.TsaMode.SLOW)) {
            pki.tsaMode(mode);
            pki.tsaDelay(Duration.ofSeconds(5)); // beyond the settings' 3 s
            try (SignerKey key = key(doctor())) {
                Signed signed = signatures.sign(DOCUMENT, key);
                assertTrue(signed.timestampPending(), mode + " must not be accepted");
                assertTrue(Signatures.timestampTime(signed.signature()).isEmpty(), mode.toString());
            }
        }
    }

    @Test
    void theHpkiRoleIsReadFromTheCertificate() {
        HpkiCertificate doctor = HpkiCertificate.of(doctor().certificate());
        assertEquals("山田 太郎", doctor.name());
        assertEquals("Medical Doctor", doctor.roleCode().orElseThrow());
        assertEquals("医師", doctor.roleLabel().orElseThrow());
        assertTrue(doctor.hasRole("medical doctor"));
        assertFalse(doctor.hasRole("Pharmacist"));
        assertEquals("薬剤師", HpkiCertificate.of(pki.signer("薬 師子", "Pharmacist").certificate()).roleLabel()
                .orElseThrow());
        HpkiCertificate none = HpkiCertificate.of(pki.signer("事務 員", null).certificate());
        assertTrue(none.roleCode().isEmpty());
        assertFalse(none.hasRole("Medical Doctor"));
    }

    @Test
    void aPkcs12KeyNeedsItsPin() throws Exception {
        Path file = doctor().writePkcs12(dir.resolve("doctor.p12"), PIN);
        assertEquals(SignatureFailure.Reason.NO_PIN,
                assertThrows(SignatureFailure.class, () -> SignerKeys.pkcs12(file, new char[0])).reason());
        assertEquals(SignatureFailure.Reason.NO_PIN,
                assertThrows(SignatureFailure.class, () -> SignerKeys.pkcs12(file, null)).reason());
        SignatureFailure wrong = assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs12(file, "0000".toCharArray()));
        assertEquals(SignatureFailure.Reason.WRONG_PIN, wrong.reason());
        assertEquals("PIN が正しくありません / the PIN is wrong", wrong.getMessage());
        assertEquals(SignatureFailure.Reason.KEY_FILE_UNREADABLE, assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs12(dir.resolve("missing.p12"), PIN)).reason());
    }
}
