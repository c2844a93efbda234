package jp.mamori.signatures;

import jp.mamori.chart.ChartPdf;
import jp.mamori.chart.JpDates;
import jp.mamori.testing.pki.TestPki;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The institution seal on printouts: PAdES B-T with the loopback test PKI, validated by DSS (issue 17). */
class PdfSealTest {
    static final char[] PIN = "2468".toCharArray();
    static final String HASH = HexFormat.of().formatHex(sha256("version 3".getBytes(StandardCharsets.UTF_8)));

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

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A real printout of the console: a note version, naming the version and its hash on the page. */
    static byte[] printout(String subjective) {
        return ChartPdf.note(new ChartPdf.Patient("試験 花子", "シケン ハナコ", "0001234567", "女",
                        java.time.LocalDate.of(1958, 4, 1)),
                new ChartPdf.NoteVersion(new ChartPdf.Trace("Composition/note-1", "3", HASH), "内科 経過記録",
                        "final", "医師 鈴木健太", Instant.parse("2026-11-20T01:30:00Z"),
                        Instant.parse("2026-11-21T02:00:00Z"), "医師 鈴木健太", "内科", null, subjective,
                        "血圧 128/76 mmHg", "2型糖尿病", "メトホルミン継続"),
                new ChartPdf.Printing("医師 山田一郎", Instant.now(), JpDates.tokyo()));
    }

    PdfSeal seal() throws Exception {
        TestPki.Issued issued = pki.signer("Mamori Test Hospital 組織印", null);
        return PdfSeal.open(signatures, SignerKeys.pkcs12(issued.writePkcs12(dir.resolve("seal" + System.nanoTime()
                + ".p12"), PIN), PIN), "まもり病院");
    }

    /** The format DSS's own simple report gives the one signature of the PDF. */
    static eu.europa.esig.dss.enumerations.SignatureLevel dssFormat(byte[] pdf) {
        eu.europa.esig.dss.pades.validation.PDFDocumentValidator validator =
                new eu.europa.esig.dss.pades.validation.PDFDocumentValidator(
                        new eu.europa.esig.dss.model.InMemoryDocument(pdf));
        validator.setCertificateVerifier(signatures.verifier(List.of()));
        var simple = validator.validateDocument().getSimpleReport();
        return simple.getSignatureFormat(simple.getFirstSignatureId());
    }

    @Test
    void aSealedPrintoutValidatesAtBtWithTheSealAsSignerAndTheTsasTime() throws Exception {
        byte[] pdf = printout("頭痛あり。");
        Instant before = Instant.now().minusSeconds(1);
        PdfSeal.Sealed sealed;
        try (PdfSeal seal = seal()) {
            sealed = seal.seal(pdf);
            assertEquals(Level.B_T, sealed.level());
            assertTrue(sealed.pending().isEmpty());
            assertFalse(sealed.time().orElseThrow().isBefore(before));

            Validation v = PdfSeal.validate(signatures, sealed.pdf());
            assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason() + " " + v.subIndication());
            assertEquals(Level.B_T, v.level().orElseThrow());
            assertEquals(eu.europa.esig.dss.enumerations.SignatureLevel.PAdES_BASELINE_T, dssFormat(sealed.pdf()),
                    "DSS names the format PAdES-BASELINE-T");
            assertEquals(sealed.time(), v.signingTime(), "the time is the time-stamp's");
            assertEquals("Mamori Test Hospital 組織印", v.signer().orElseThrow().name());
            assertTrue(v.etsiReport().contains(java.util.Base64.getEncoder().encodeToString(
                    seal.certificate().getEncoded())), "the report's signing certificate is the seal's");
        }
        // What the file says about itself, read with PDFBox: one signature over the whole file, our reason and place,
        // and the page still names the version and its hash.
        try (PDDocument d = Loader.loadPDF(sealed.pdf())) {
            List<PDSignature> sigs = d.getSignatureDictionaries();
            assertEquals(1, sigs.size());
            PDSignature s = sigs.get(0);
            assertEquals(PdfSeal.REASON, s.getReason());
            assertEquals("まもり病院", s.getLocation());
            assertEquals("ETSI.CAdES.detached", s.getSubFilter());
            int[] range = s.getByteRange();
            assertEquals(0, range[0]);
            assertEquals(sealed.pdf().length, range[2] + range[3], "the seal covers the whole file");
            String text = new PDFTextStripper().getText(d).replaceAll("\\s+", "");
            assertTrue(text.contains(HASH) && text.contains("版3") && text.contains("頭痛あり。"), text);
        }
        assertTrue(sealed.pdf().length > pdf.length);
    }

    @Test
    void aTamperedPrintoutFailsValidation() throws Exception {
        byte[] sealed;
        try (PdfSeal seal = seal()) {
            sealed = seal.seal(printout("改ざん試験")).pdf();
        }
        // One byte of the page content changed: the first byte of the first content stream's data.
        String latin = new String(sealed, StandardCharsets.ISO_8859_1);
        int stream = latin.indexOf("stream\n", latin.indexOf("/Contents"));
        assertTrue(stream > 0);
        byte[] tampered = sealed.clone();
        tampered[stream + 10] ^= 0x01;
        Validation v = PdfSeal.validate(signatures, tampered);
        assertEquals(Validation.Indication.TOTAL_FAILED, v.indication(), v.reason());
        assertEquals("HASH_FAILURE", v.subIndication().orElseThrow());
        assertTrue(v.reason().contains("変更") && v.reason().contains("changed"), v.reason());

        // Bytes appended after the seal (an incremental update would go there) are not covered by it.
        byte[] appended = Arrays.copyOf(sealed, sealed.length + 40);
        System.arraycopy("\n% added after the seal\n".getBytes(StandardCharsets.ISO_8859_1), 0, appended,
                sealed.length, 24);
        Validation a = PdfSeal.validate(signatures, appended);
        assertNotEquals(Validation.Indication.TOTAL_PASSED, a.indication(), a.reason());
    }

    @Test
    void whenTheTsaIsDownThePrintoutIsStillSealedAtB() throws Exception {
        pki.tsaMode(TestPki.TsaMode.DOWN);
        try (PdfSeal seal = seal()) {
            PdfSeal.Sealed sealed = seal.seal(printout("時刻印なし"));
            assertEquals(Level.B, sealed.level());
            assertTrue(sealed.time().isEmpty());
            assertTrue(sealed.pending().orElseThrow().contains("タイムスタンプ局"), sealed.pending().get());
            Validation v = PdfSeal.validate(signatures, sealed.pdf());
            assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason() + " " + v.subIndication());
            assertEquals(Level.B, v.level().orElseThrow());
            assertTrue(v.signingTime().isEmpty(), "no proven time at B");
        }
    }

    @Test
    void aTsaAnsweringForAnotherImprintIsNoAnswer() throws Exception {
        pki.tsaMode(TestPki.TsaMode.WRONG_IMPRINT);
        try (PdfSeal seal = seal()) {
            PdfSeal.Sealed sealed = seal.seal(printout("別の刻印"));
            assertEquals(Level.B, sealed.level(), "a time-stamp over another imprint is not embedded");
            assertTrue(PdfSeal.validate(signatures, sealed.pdf()).passed());
        }
    }

    @Test
    void badInputIsRefusedWithOneMessage() throws Exception {
        try (PdfSeal seal = seal()) {
            SignatureFailure notPdf = assertThrows(SignatureFailure.class,
                    () -> seal.seal("not a pdf".getBytes(StandardCharsets.UTF_8)));
            assertTrue(notPdf.getMessage().contains("PDF ではありません / not a PDF"), notPdf.getMessage());
            byte[] huge = new byte[PdfSeal.MAX_PDF_BYTES + 1];
            System.arraycopy("%PDF-1.7\n".getBytes(StandardCharsets.ISO_8859_1), 0, huge, 0, 9);
            SignatureFailure big = assertThrows(SignatureFailure.class, () -> seal.seal(huge));
            assertTrue(big.getMessage().contains("64 MiB"), big.getMessage());
            // A PDF header with garbage after it: refused as unreadable, with our message, not DSS's text alone.
            byte[] garbage = "%PDF-1.7\n%garbage with no objects and no trailer\n".getBytes(StandardCharsets.UTF_8);
            SignatureFailure bad = assertThrows(SignatureFailure.class, () -> seal.seal(garbage));
            assertTrue(bad.getMessage().startsWith(SignatureFailure.Reason.FAILED.message()), bad.getMessage());
        }
        assertEquals(Validation.Indication.TOTAL_FAILED, PdfSeal.validate(signatures, new byte[0]).indication());
        assertEquals(Validation.Indication.TOTAL_FAILED, PdfSeal.validate(signatures, printout("未封印")).indication(),
                "an unsealed PDF has no signature to pass");
        assertEquals(Validation.Indication.TOTAL_FAILED,
                PdfSeal.validate(signatures, "%PDF-1.4\n garbage".getBytes(StandardCharsets.UTF_8)).indication());
    }

    @Test
    void aSealWhoseCertificateIsNotUsableDoesNotOpen() throws Exception {
        TestPki.Issued expired = pki.signer("Expired Seal", null, Instant.now().minus(Duration.ofDays(400)),
                Instant.now().minus(Duration.ofDays(30)));
        SignerKey expiredKey = SignerKeys.pkcs12(expired.writePkcs12(dir.resolve("e.p12"), PIN), PIN);
        SignatureFailure e = assertThrows(SignatureFailure.class, () -> PdfSeal.open(signatures, expiredKey, "x"));
        assertEquals(SignatureFailure.Reason.CERTIFICATE_EXPIRED, e.reason());

        TestPki.Issued foreign = pki.foreignSigner("Foreign Seal");
        SignerKey foreignKey = SignerKeys.pkcs12(foreign.writePkcs12(dir.resolve("f.p12"), PIN), PIN);
        SignatureFailure f = assertThrows(SignatureFailure.class, () -> PdfSeal.open(signatures, foreignKey, "x"));
        assertEquals(SignatureFailure.Reason.CERTIFICATE_NOT_TRUSTED, f.reason());

        TestPki.Issued revoked = pki.signer("Revoked Seal", null);
        pki.revoke(revoked.certificate());
        SignerKey revokedKey = SignerKeys.pkcs12(revoked.writePkcs12(dir.resolve("r.p12"), PIN), PIN);
        SignatureFailure r = assertThrows(SignatureFailure.class, () -> PdfSeal.open(signatures, revokedKey, "x"));
        assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, r.reason());
    }

    /** A clock the test moves. */
    static final class MovableClock extends java.time.Clock {
        volatile Instant now = Instant.now();

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aSealRevokedWhileRunningStopsSealingAtTheNextCheck() throws Exception {
        TestPki.Issued issued = pki.signer("Seal Revoked Later", null);
        MovableClock clock = new MovableClock();
        try (PdfSeal seal = PdfSeal.open(signatures, SignerKeys.pkcs12(issued.writePkcs12(dir.resolve("later.p12"),
                PIN), PIN), "まもり病院", clock)) {
            assertEquals(Level.B_T, seal.seal(printout("失効前")).level());
            pki.revoke(issued.certificate());
            // Within the hour the seal is not checked again (no OCSP call per printout) ...
            assertEquals(Level.B_T, seal.seal(printout("失効直後")).level());
            // ... after it, the revocation is found and nothing is sealed any more.
            clock.now = clock.now.plus(PdfSeal.RECHECK).plusSeconds(1);
            SignatureFailure f = assertThrows(SignatureFailure.class, () -> seal.seal(printout("失効後")));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, f.reason());
            SignatureFailure again = assertThrows(SignatureFailure.class, () -> seal.seal(printout("失効後 2")));
            assertEquals(SignatureFailure.Reason.CERTIFICATE_REVOKED, again.reason(), "a failed check is not kept as"
                    + " passed");
        }
    }

    @Test
    void oneSealServesManyThreads() throws Exception {
        byte[] pdf = printout("並行");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (PdfSeal seal = seal()) {
            List<Future<PdfSeal.Sealed>> f = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                f.add(pool.submit(() -> seal.seal(pdf)));
            }
            for (Future<PdfSeal.Sealed> x : f) {
                PdfSeal.Sealed s = x.get();
                assertEquals(Level.B_T, s.level());
                assertTrue(PdfSeal.validate(signatures, s.pdf()).passed());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
