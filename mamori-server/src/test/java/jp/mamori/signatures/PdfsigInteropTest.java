package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An outside validator accepts the sealed printout (issue 17, SIGN-1 "verification anywhere"): poppler's
 * {@code pdfsig} (Debian's poppler-utils, NSS underneath) with the test root trusted in an NSS database built by
 * {@code certutil} (libnss3-tools) finds the one signature, our signer, the whole document signed, the signature
 * valid and the certificate trusted (checked online against the test PKI's OCSP responder); a tampered copy is
 * reported invalid. Skipped when pdfsig or certutil is missing, unless {@code -Dmamori.requirePdfsig=true} (CI
 * installs both and passes it).
 */
class PdfsigInteropTest {
    static final Path PDFSIG = Path.of("/usr/bin/pdfsig");
    static final Path CERTUTIL = Path.of("/usr/bin/certutil");
    static final char[] PIN = "9753".toCharArray();

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        String why = !Files.isExecutable(PDFSIG) ? "pdfsig (poppler-utils) is not installed"
                : !Files.isExecutable(CERTUTIL) ? "certutil (libnss3-tools) is not installed" : null;
        if (why != null && Boolean.getBoolean("mamori.requirePdfsig")) {
            Assertions.fail(why + " (-Dmamori.requirePdfsig=true, so it may not be skipped)");
        }
        Assumptions.assumeTrue(why == null, why + "; skipped");
    }

    private record Run(int exit, String output) {
    }

    private Run run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finished in time: " + String.join(" ", command));
        return new Run(p.exitValue(), out);
    }

    /** An NSS database trusting the test root for signatures (and nothing else in it). */
    private String nssDb() throws Exception {
        Path db = Files.createDirectory(dir.resolve("nssdb"));
        Run init = run(CERTUTIL.toString(), "-N", "-d", "sql:" + db, "--empty-password");
        assertEquals(0, init.exit(), init.output());
        Path root = Files.writeString(dir.resolve("root.pem"), TestPki.pem(TestPki.get().root()));
        Run add = run(CERTUTIL.toString(), "-A", "-d", "sql:" + db, "-n", "mamori-test-root", "-t", "C,C,C",
                "-a", "-i", root.toString());
        assertEquals(0, add.exit(), add.output());
        return "sql:" + db;
    }

    /** A printout saying {@code text}, sealed with a seal certificate of the loopback test PKI. */
    private byte[] sealedPrintout(String text) throws Exception {
        TestPki pki = TestPki.get();
        try (PdfSeal seal = PdfSeal.open(new Signatures(pki.settings()), SignerKeys.pkcs12(pki.signer(
                "Mamori Test Hospital Seal", null).writePkcs12(dir.resolve("seal.p12"), PIN), PIN),
                "Mamori Test Hospital")) {
            return seal.seal(PdfSealTest.printout(text)).pdf();
        }
    }

    @Test
    void pdfsigValidatesTheSealedPrintoutAndRejectsATamperedOne() throws Exception {
        byte[] sealed = sealedPrintout("外部検証");
        Path file = Files.write(dir.resolve("sealed.pdf"), sealed);
        String nss = nssDb();

        Run ok = run(PDFSIG.toString(), "-nssdir", nss, file.toString());
        String out = ok.output();
        assertEquals(0, ok.exit(), out);
        assertTrue(out.contains("Signature #1") && !out.contains("Signature #2"), "one signature: " + out);
        assertTrue(out.contains("Signer Certificate Common Name: Mamori Test Hospital Seal"), out);
        assertTrue(out.contains("Signature Type: ETSI.CAdES.detached"), "a PAdES signature: " + out);
        assertTrue(out.contains("Total document signed"), out);
        assertTrue(out.contains("Signature Validation: Signature is Valid."), out);
        assertTrue(out.contains("Certificate Validation: Certificate is Trusted."), out);

        byte[] tampered = sealed.clone();
        String latin = new String(sealed, StandardCharsets.ISO_8859_1);
        int stream = latin.indexOf("stream\n", latin.indexOf("/Contents"));
        tampered[stream + 10] ^= 0x01;
        Path bad = Files.write(dir.resolve("tampered.pdf"), tampered);
        Run no = run(PDFSIG.toString(), "-nssdir", nss, bad.toString());
        assertFalse(no.output().contains("Signature is Valid."), no.output());
        assertTrue(no.output().contains("Signature Validation: Digest Mismatch."), no.output());
    }

    /** Without the root in its database pdfsig still reads the signature but does not trust its certificate. */
    @Test
    void pdfsigWithoutTheRootDoesNotTrustTheSeal() throws Exception {
        Path file = Files.write(dir.resolve("sealed.pdf"), sealedPrintout("信頼なし"));
        Path empty = Files.createDirectory(dir.resolve("empty"));
        List<String> cmd = new ArrayList<>(List.of(CERTUTIL.toString(), "-N", "-d", "sql:" + empty,
                "--empty-password"));
        assertEquals(0, run(cmd.toArray(String[]::new)).exit());
        Run r = run(PDFSIG.toString(), "-nssdir", "sql:" + empty, file.toString());
        assertTrue(r.output().contains("Signature Validation: Signature is Valid."), r.output());
        assertFalse(r.output().contains("Certificate Validation: Certificate is Trusted."), r.output());
    }
}
