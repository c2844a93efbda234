package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Signs and validates once from the shaded server jar, to show that DSS's service files (the CAdES validator
 * factory, the utilities and CRL parser implementations) survive shading, and seals and validates a printout (PAdES):
 * {@code java --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED
 * -cp mamori-server/target/mamori-server-*-all.jar:mamori-server/target/test-classes jp.mamori.signatures.SignFromJar}
 * (test classes for the test PKI only). Prints the level and the indication; exits 1 unless TOTAL_PASSED.
 */
public final class SignFromJar {
    private SignFromJar() {
    }

    public static void main(String[] args) throws Exception {
        TestPki pki = TestPki.get();
        Signatures signatures = new Signatures(pki.settings());
        Path dir = Files.createTempDirectory("sign-from-jar");
        char[] pin = "1111".toCharArray();
        byte[] document = "shaded jar check / 確認".getBytes(StandardCharsets.UTF_8);
        Signed signed;
        try (SignerKey key = SignerKeys.pkcs12(pki.signer("確認 太郎", "Medical Doctor")
                .writePkcs12(dir.resolve("k.p12"), pin), pin)) {
            signed = signatures.sign(document, key);
        }
        byte[] lta = signatures.extendToLta(signed.signature(), document);
        Validation v = signatures.validate(lta, document);
        System.out.println("level " + v.level().map(Level::label).orElse("?") + ", " + v.indication() + ", "
                + v.reason());
        // The PAdES side too (the PDF validator factory and PDFBox from the jar): a sealed printout.
        Validation p;
        try (PdfSeal seal = PdfSeal.open(signatures, SignerKeys.pkcs12(pki.signer("確認 組織印", null)
                .writePkcs12(dir.resolve("seal.p12"), pin), pin), "確認病院")) {
            p = PdfSeal.validate(signatures, seal.seal(PdfSealTest.printout("確認")).pdf());
        }
        System.out.println("sealed printout: level " + p.level().map(Level::label).orElse("?") + ", "
                + p.indication() + ", " + p.reason());
        System.exit(v.passed() && p.passed() ? 0 : 1);
    }
}
