package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verification anywhere (issue 17): our CAdES output, at B-T and after LTA extension, verifies with an outside
 * tool, OpenSSL: {@code openssl cms -verify} over the document, and {@code openssl ts -verify} of the signature
 * time-stamp token over the signature value it time-stamps. Skipped when /usr/bin/openssl is missing.
 */
class OpensslInteropTest {
    static final Path OPENSSL = Path.of("/usr/bin/openssl");
    static final char[] PIN = "1357".toCharArray();
    static final byte[] DOCUMENT = "{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"description\":\"紹介状\"}"
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @BeforeAll
    static void openssl() {
        Assumptions.assumeTrue(Files.isExecutable(OPENSSL), "openssl is not installed; skipped");
    }

    private record Run(int exit, String output) {
    }

    private Run openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(OPENSSL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), out);
    }

    @Test
    void opensslVerifiesTheSignatureAndItsTimestamp() throws Exception {
        TestPki pki = TestPki.get();
        Signatures signatures = new Signatures(pki.settings());
        Signed signed;
        try (SignerKey key = SignerKeys.pkcs12(pki.signer("佐藤 一郎", "Medical Doctor")
                .writePkcs12(dir.resolve("k.p12"), PIN), PIN)) {
            signed = signatures.sign(DOCUMENT, key);
        }
        byte[] lta = signatures.extendToLta(signed.signature(), DOCUMENT);
        Files.write(dir.resolve("doc"), DOCUMENT);
        Files.write(dir.resolve("bt.p7s"), signed.signature());
        Files.write(dir.resolve("lta.p7s"), lta);
        Files.writeString(dir.resolve("root.pem"), TestPki.pem(pki.root()));

        for (String sig : List.of("bt.p7s", "lta.p7s")) {
            Run cms = openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", "doc",
                    "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null");
            assertEquals(0, cms.exit(), sig + ": " + cms.output());
            assertTrue(cms.output().contains("Verification successful"), cms.output());
        }
        Files.write(dir.resolve("other"), "{\"changed\":true}".getBytes(StandardCharsets.UTF_8));
        Run changed = openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", "bt.p7s", "-content", "other",
                "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null");
        assertNotEquals(0, changed.exit(), "a changed document must not verify: " + changed.output());

        SignerInformation signer = new CMSSignedData(signed.signature()).getSignerInfos().getSigners().iterator()
                .next();
        Attribute ts = signer.getUnsignedAttributes().get(PKCSObjectIdentifiers.id_aa_signatureTimeStampToken);
        Files.write(dir.resolve("token.tst"), ts.getAttrValues().getObjectAt(0).toASN1Primitive().getEncoded("DER"));
        Files.write(dir.resolve("sigvalue.bin"), signer.getSignature());
        Run tsVerify = openssl("ts", "-verify", "-in", "token.tst", "-token_in", "-data", "sigvalue.bin", "-CAfile",
                "root.pem");
        assertEquals(0, tsVerify.exit(), tsVerify.output());
        assertTrue(tsVerify.output().contains("Verification: OK"), tsVerify.output());
        Files.write(dir.resolve("wrong.bin"), new byte[]{1, 2, 3});
        Run tsWrong = openssl("ts", "-verify", "-in", "token.tst", "-token_in", "-data", "wrong.bin", "-CAfile",
                "root.pem");
        assertNotEquals(0, tsWrong.exit(), "the token is over the signature value only: " + tsWrong.output());
    }
}
