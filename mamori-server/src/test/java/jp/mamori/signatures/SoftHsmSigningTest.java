package jp.mamori.signatures;

import jp.mamori.testing.SoftHsm;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Signing with a key on a real PKCS#11 token, Debian's SoftHSM2 (AUTH-7, SIGN-6): the tests' token in the build folder
 * ({@link SoftHsm}: made once, SOFTHSM2_CONF set by the build for the test JVMs), the key and its chain stored on it
 * through the JDK's PKCS#11 key store, then used through {@link SignerKeys#pkcs11} with and without the right PIN.
 * Skipped without SoftHSM2 unless {@code -Dmamori.requireSoftHsm=true} (CI installs softhsm2).
 */
class SoftHsmSigningTest {
    static final Path LIBRARY = SoftHsm.LIBRARY;
    static final String TOKEN = SoftHsm.TOKEN;
    static final char[] PIN = SoftHsm.PIN.toCharArray();
    static final byte[] DOCUMENT = "確定保存された診療録 / a finalized record".getBytes(StandardCharsets.UTF_8);

    static TestPki pki;
    static TestPki.Issued doctor;

    @BeforeAll
    static void token() throws Exception {
        SoftHsm.assumeAvailable();
        SoftHsm.token();
        pki = TestPki.get();
        doctor = pki.signer("鈴木 花子", "Medical Doctor");
        // Store key and chain on the token as a card issuer would.
        SoftHsm.store("doctor", doctor.key(), doctor.chain());
        assertTrue(SignerKeys.slotListIndex(LIBRARY, TOKEN) >= 0);
    }

    @Test
    void signsWithThePinAndTheSignatureValidates() {
        Signatures signatures = new Signatures(pki.settings());
        Signed signed;
        try (SignerKey key = SignerKeys.pkcs11(LIBRARY, TOKEN, "doctor", PIN)) {
            assertEquals(doctor.certificate(), key.certificate());
            signed = signatures.sign(DOCUMENT, key);
        }
        assertEquals(Level.B_T, signed.level());
        Validation v = signatures.validate(signed.signature(), DOCUMENT);
        assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason());
        assertEquals("医師", v.signer().orElseThrow().roleLabel().orElseThrow());
    }

    /** The institution seal on a token, opened once and held, seals printouts from several threads (issue 17). */
    @Test
    void aTokenHeldAsTheSealSealsPrintoutsFromSeveralThreads() throws Exception {
        Signatures signatures = new Signatures(pki.settings());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try (PdfSeal seal = PdfSeal.open(signatures, SignerKeys.pkcs11(LIBRARY, TOKEN, "doctor", PIN), "まもり病院")) {
            java.util.List<java.util.concurrent.Future<PdfSeal.Sealed>> sealed = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String text = "トークンの組織印 " + i;
                sealed.add(pool.submit(() -> seal.seal(PdfSealTest.printout(text))));
            }
            for (var f : sealed) {
                PdfSeal.Sealed s = f.get();
                assertEquals(Level.B_T, s.level());
                Validation v = PdfSeal.validate(signatures, s.pdf());
                assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason());
                assertEquals("鈴木 花子", v.signer().orElseThrow().name());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWrongPinIsRefusedClearly() {
        SignatureFailure f = assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(LIBRARY, TOKEN, "doctor", "000000".toCharArray()));
        assertEquals(SignatureFailure.Reason.WRONG_PIN, f.reason());
        assertEquals("PIN が正しくありません / the PIN is wrong", f.getMessage());
    }

    @Test
    void noPinIsRefusedBeforeTheTokenIsTouched() {
        assertEquals(SignatureFailure.Reason.NO_PIN, assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(LIBRARY, TOKEN, "doctor", new char[0])).reason());
        assertEquals(SignatureFailure.Reason.NO_PIN, assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(LIBRARY, TOKEN, "doctor", null)).reason());
    }

    @Test
    void anUnknownTokenOrKeyIsNamed() {
        SignatureFailure token = assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(LIBRARY, "no-such-card", "doctor", PIN));
        assertEquals(SignatureFailure.Reason.TOKEN_NOT_FOUND, token.reason());
        assertTrue(token.getMessage().contains("no-such-card"));
        SignatureFailure key = assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(LIBRARY, TOKEN, "nurse", PIN));
        assertEquals(SignatureFailure.Reason.KEY_NOT_FOUND, key.reason());
    }
}
