package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Signs and validates once from the shaded server jar, to show that DSS's service files (the CAdES validator
 * factory, the utilities and CRL parser implementations) survive shading:
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
        System.exit(v.passed() ? 0 : 1);
    }
}
