package jp.mamori.signatures;

import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small measurement for docs/performance.md (issue 17): sign + time-stamp with a software key and the loopback
 * TSA (p50/p95 over 200 signatures), validation per signature, LTA extension per signature. It prints the figures
 * and asserts only behaviour (every signature B-T and valid), never a time.
 */
class SignatureMeasurementTest {
    static final int SIGNATURES = 200;
    static final int SAMPLE = 25;

    @TempDir
    Path dir;

    @Test
    void signTimestampValidateAndExtend() throws Exception {
        TestPki pki = TestPki.get();
        Signatures signatures = new Signatures(pki.settings());
        char[] pin = "8642".toCharArray();
        List<byte[]> documents = new ArrayList<>();
        List<byte[]> signed = new ArrayList<>();
        long[] sign = new long[SIGNATURES];
        try (SignerKey key = SignerKeys.pkcs12(pki.signer("測定 用", "Medical Doctor")
                .writePkcs12(dir.resolve("k.p12"), pin), pin)) {
            for (int i = 0; i < 20; i++) { // warm-up
                signatures.sign(("warm-up " + i).getBytes(StandardCharsets.UTF_8), key);
            }
            for (int i = 0; i < SIGNATURES; i++) {
                byte[] doc = ("{\"resourceType\":\"Composition\",\"id\":\"c" + i + "\",\"title\":\"経過記録\"}")
                        .getBytes(StandardCharsets.UTF_8);
                long t0 = System.nanoTime();
                Signed s = signatures.sign(doc, key);
                sign[i] = System.nanoTime() - t0;
                assertEquals(Level.B_T, s.level());
                documents.add(doc);
                signed.add(s.signature());
            }
        }
        long validateTotal = 0;
        long extendTotal = 0;
        for (int i = 0; i < SAMPLE; i++) {
            long t0 = System.nanoTime();
            Validation v = signatures.validate(signed.get(i), documents.get(i));
            validateTotal += System.nanoTime() - t0;
            assertTrue(v.passed(), v.reason());
            t0 = System.nanoTime();
            byte[] lta = signatures.extendToLta(signed.get(i), documents.get(i));
            extendTotal += System.nanoTime() - t0;
            assertTrue(lta.length > signed.get(i).length);
        }
        Arrays.sort(sign);
        System.out.printf("signatures: sign+time-stamp p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d; validate %.1f ms "
                        + "and extend to LTA %.1f ms per signature over %d (online CRL/OCSP on loopback)%n",
                sign[SIGNATURES / 2] / 1e6, sign[SIGNATURES * 95 / 100] / 1e6, sign[SIGNATURES - 1] / 1e6, SIGNATURES,
                validateTotal / 1e6 / SAMPLE, extendTotal / 1e6 / SAMPLE, SAMPLE);
    }
}
