package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small measurement for docs/performance.md (issue 17): sealing one console printout (a note version of one page,
 * PAdES B-T with a software key and the loopback TSA), p50/p95 over 50 seals, and DSS's validation of a sealed
 * printout. It prints the figures and asserts only behaviour (every seal B-T, a sample valid), never a time.
 */
class PdfSealMeasurementTest {
    static final int SEALS = 50;

    @TempDir
    Path dir;

    @Test
    void sealingTimePerPrintout() throws Exception {
        TestPki pki = TestPki.get();
        Signatures signatures = new Signatures(pki.settings());
        char[] pin = "1234".toCharArray();
        long[] seal = new long[SEALS];
        byte[] last = null;
        int size = 0;
        try (PdfSeal s = PdfSeal.open(signatures, SignerKeys.pkcs12(pki.signer("測定 組織印", null)
                .writePkcs12(dir.resolve("seal.p12"), pin), pin), "測定病院")) {
            for (int i = 0; i < 10; i++) { // warm-up
                s.seal(PdfSealTest.printout("warm-up " + i));
            }
            for (int i = 0; i < SEALS; i++) {
                byte[] pdf = PdfSealTest.printout("測定 " + i + " 回目の主訴。頭痛なし。");
                size = pdf.length;
                long t0 = System.nanoTime();
                PdfSeal.Sealed sealed = s.seal(pdf);
                seal[i] = System.nanoTime() - t0;
                assertEquals(Level.B_T, sealed.level());
                last = sealed.pdf();
            }
        }
        assertTrue(PdfSeal.validate(signatures, last).passed()); // warm-up: the first loads DSS's PDF validation
        long t0 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            Validation v = PdfSeal.validate(signatures, last);
            assertTrue(v.passed(), v.reason());
        }
        long validate = (System.nanoTime() - t0) / 5;
        Arrays.sort(seal);
        System.out.printf("printout seal (PAdES B-T, %d KiB PDF): p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d;"
                        + " validation %.1f ms per printout over 5 (online CRL/OCSP on loopback)%n", size / 1024,
                seal[SEALS / 2] / 1e6, seal[SEALS * 95 / 100] / 1e6, seal[SEALS - 1] / 1e6, SEALS, validate / 1e6);
    }
}
