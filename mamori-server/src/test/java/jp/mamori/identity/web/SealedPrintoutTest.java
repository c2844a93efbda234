package jp.mamori.identity.web;

import jp.mamori.cli.Main;
import jp.mamori.signatures.Level;
import jp.mamori.signatures.PdfSeal;
import jp.mamori.signatures.Signatures;
import jp.mamori.signatures.Validation;
import jp.mamori.testing.TestData;
import jp.mamori.testing.pki.TestPki;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Printouts through the real server are sealed with the institution's seal when one is configured (issue 17;
 * SIGN-1, STORE-1): a doctor prints a note version and the chart summary from the console, both come back as
 * PDFs that DSS validates as PAdES B-T by the seal, still naming the version and its hash; the print's audit entry
 * says sealed. Without the PIN, or with a wrong one, the server does not start and says why in one line.
 */
class SealedPrintoutTest {
    static final String PIN = "8642";

    /** The trust folder (the test root) and the seal's PKCS#12 file, in a new folder. */
    private static List<String> sealOptions(Path dir) throws Exception {
        TestPki pki = TestPki.get();
        Path trust = pki.trustDir();
        Files.createDirectories(dir);
        Path p12 = pki.signer("まもり病院 組織印", null).writePkcs12(dir.resolve("seal.p12"), PIN.toCharArray());
        return List.of("--signature-trust-dir", trust.toString(), "--signature-tsa-url", pki.tsaUrl().toString(),
                "--seal-pkcs12", p12.toString(), "--institution-name", "まもり病院");
    }

    @Test
    void theConsolesPrintoutsAreSealedAndTheirAuditEntrySaysSo() throws Exception {
        Path dir = TestData.newFolder("seal-");
        Signatures signatures = new Signatures(TestPki.get().settings());
        try (Hospital h = Hospital.open(sealOptions(dir), Map.of("MAMORI_SEAL_PIN", PIN))) {
            assertTrue(h.server.server().config().signatures().seal());
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000031", "高橋", "恵", "タカハシ", "メグミ", "1979-07-07", "female");
            String note = clinic.note(pt, "封印された印刷物の主訴");
            Person doctor = h.enrolStaff("ishi.p", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            String actor = "account:" + doctor.accountId;
            Browser b = doctor.browser;

            Browser.Page page = b.get("/console/documents/" + note);
            Matcher m = Pattern.compile("<code id=\"document-hash\">([0-9a-f]{64})</code>").matcher(page.body());
            assertTrue(m.find(), page::toString);
            String hash = m.group(1);
            Browser.Page pdf = b.get("/console/documents/" + note + "/pdf");
            assertEquals(200, pdf.status(), pdf::toString);
            assertEquals("application/pdf", pdf.response().headers().firstValue("Content-Type").orElse(""));
            Validation v = PdfSeal.validate(signatures, pdf.bytes());
            assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason());
            assertEquals(Level.B_T, v.level().orElseThrow());
            assertEquals("まもり病院 組織印", v.signer().orElseThrow().name());
            assertTrue(v.signingTime().isPresent(), "time-stamped by the TSA");
            try (PDDocument d = Loader.loadPDF(pdf.bytes())) {
                assertEquals(1, d.getSignatureDictionaries().size());
                assertEquals("まもり病院", d.getSignatureDictionaries().get(0).getLocation());
                assertEquals(PdfSeal.REASON, d.getSignatureDictionaries().get(0).getReason());
                String text = new PDFTextStripper().getText(d).replaceAll("\\s+", "");
                assertTrue(text.contains("封印された印刷物の主訴"), text);
                assertTrue(text.contains("まもり病院"), "the configured institution heads the page: " + text);
                assertTrue(text.contains(hash.substring(0, 16)), "the version's hash is still printed: " + text);
            }

            Browser.Page summary = b.get("/console/patients/" + pt + "/summary.pdf");
            assertEquals(200, summary.status(), summary::toString);
            Validation sv = PdfSeal.validate(signatures, summary.bytes());
            assertEquals(Validation.Indication.TOTAL_PASSED, sv.indication(), sv.reason());
            assertEquals(Level.B_T, sv.level().orElseThrow());

            List<String> entries = printEntries(h, actor);
            assertEquals(2, entries.size(), entries::toString);
            for (String e : entries) {
                assertTrue(e.matches("(?s).*\"sealed\"\\s*:\\s*\"true\".*"), e);
                assertTrue(e.contains("PAdES-B-T"), e);
            }

            // The TSA down: the printout is still sealed, at B, and the entry says which level.
            TestPki.get().tsaMode(TestPki.TsaMode.DOWN);
            try {
                Browser.Page atB = b.get("/console/documents/" + note + "/pdf");
                assertEquals(200, atB.status(), atB::toString);
                Validation bv = PdfSeal.validate(signatures, atB.bytes());
                assertTrue(bv.passed(), bv.reason());
                assertEquals(Level.B, bv.level().orElseThrow());
            } finally {
                TestPki.get().tsaMode(TestPki.TsaMode.OK);
            }
            List<String> after = printEntries(h, actor);
            assertTrue(after.get(after.size() - 1).contains("PAdES-B\""), after.get(after.size() - 1));
        }
    }

    @Test
    void withoutASealPrintoutsAreUnsealedAndTheEntrySaysSo() throws Exception {
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000032", "伊藤", "誠", "イトウ", "マコト", "1965-01-15", "male");
            String note = clinic.note(pt, "封印なし");
            Person doctor = h.enrolStaff("ishi.q", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            Browser.Page pdf = doctor.browser.get("/console/documents/" + note + "/pdf");
            assertEquals(200, pdf.status(), pdf::toString);
            try (PDDocument d = Loader.loadPDF(pdf.bytes())) {
                assertTrue(d.getSignatureDictionaries().isEmpty());
                // no --institution-name: the host's name, as the seal would name the place
                String text = new PDFTextStripper().getText(d).replaceAll("\\s+", "");
                assertTrue(text.contains(jp.mamori.web.Tls.hostName()), text);
            }
            // The summary prints codes as words and a note by its title and version, never by its id.
            clinic.allergy(pt, "ペニシリン系薬剤");
            Browser.Page summary = doctor.browser.get("/console/patients/" + pt + "/summary.pdf");
            assertEquals(200, summary.status(), summary::toString);
            try (PDDocument d = Loader.loadPDF(summary.bytes())) {
                String text = new PDFTextStripper().getText(d).replaceAll("\\s+", "");
                assertTrue(text.contains("ペニシリン系薬剤蕁麻疹高"), text);
                assertTrue(text.contains("処方(Medications)登録なし"), text);
                assertFalse(text.contains("high") || text.contains("Composition/" + note + "版"), text);
            }
            List<String> entries = printEntries(h, "account:" + doctor.accountId);
            assertEquals(2, entries.size());
            assertTrue(entries.get(0).matches("(?s).*\"sealed\"\\s*:\\s*\"false\".*"), entries.get(0));
            // and the start's entry names the deviation among the configuration's
            try (var c = h.server.superuserConnection(); var st = c.createStatement();
                 var rs = st.executeQuery("SELECT convert_from(entry, 'UTF8') FROM audit_entry"
                         + " WHERE action = 'server.start' ORDER BY seq DESC LIMIT 1")) {
                assertTrue(rs.next());
                assertTrue(rs.getString(1).contains("no institution seal"), rs.getString(1));
            }
        }
    }

    /** The print entries of the actor, as the trail stores them (UTF-8 JSON), oldest first. */
    private static List<String> printEntries(Hospital h, String actor) throws Exception {
        List<String> out = new ArrayList<>();
        try (var c = h.server.superuserConnection();
             var ps = c.prepareStatement("SELECT convert_from(entry, 'UTF8') FROM audit_entry WHERE actor = ?"
                     + " AND action = 'print' ORDER BY seq")) {
            ps.setString(1, actor);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    @Test
    void theInstitutionNameIsBounded() {
        java.util.function.Function<String, jp.mamori.config.ServerConfig> parse = name ->
                jp.mamori.config.ServerConfig.fromArgs(List.of("--institution-name", name), Map.of());
        assertEquals(java.util.Optional.of("まもり病院"), parse.apply("  まもり病院 ").signatures().institutionName());
        assertEquals(java.util.Optional.empty(), parse.apply("   ").signatures().institutionName());
        for (String bad : List.of("まもり\n病院", "x".repeat(201), "a\u0000b")) {
            jp.mamori.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                    jp.mamori.config.ConfigException.class, () -> parse.apply(bad));
            assertTrue(e.getMessage().contains("--institution-name"), e.getMessage());
        }
    }

    private record Run(int exit, String err) {
    }

    private static Run serve(Path data, List<String> options, Map<String, String> env) {
        List<String> args = new ArrayList<>(List.of("serve", "--data", data.toString(), "--port", "0", "--bind",
                "127.0.0.1", "--no-backup"));
        args.addAll(options);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Run(exit, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aTrustFolderHoldingSomethingElseThanCertificatesStopsTheStartWithOneLine() throws Exception {
        Path trust = Files.createDirectories(TestData.newFolder("bad-trust-"));
        Files.writeString(trust.resolve("root.pem"), "not a certificate");
        Run run = serve(TestData.newFolder("bad-trust-data-"), List.of("--signature-trust-dir", trust.toString()),
                Map.of());
        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("証明書として読めません / not a certificate (PEM or DER): root.pem"), run.err());
        assertFalse(run.err().contains("Exception"), run.err());
    }

    @Test
    void aWrongOrMissingPinStopsTheStartWithOneLine() throws Exception {
        Path dir = TestData.newFolder("seal-pin-");
        List<String> options = sealOptions(dir);

        Run wrong = serve(TestData.newFolder("seal-wrong-"), options, Map.of("MAMORI_SEAL_PIN", "0000"));
        assertEquals(2, wrong.exit(), wrong.err());
        assertEquals(1, wrong.err().strip().lines().count(), "one line: " + wrong.err());
        assertTrue(wrong.err().contains("--seal-pkcs12") && wrong.err().contains("PIN が正しくありません / the PIN is"
                + " wrong"), wrong.err());

        Run none = serve(TestData.newFolder("seal-none-"), options, Map.of());
        assertEquals(2, none.exit(), none.err());
        assertEquals(1, none.err().strip().lines().count(), "one line: " + none.err());
        assertTrue(none.err().contains("PIN が入力されていません"), none.err());

        // The PIN in the data folder's secrets is read when the environment has none (here a wrong one).
        Path data = TestData.newFolder("seal-file-");
        Files.writeString(Files.createDirectories(data.resolve("secrets")).resolve("seal-pin"), "1111\n");
        Run file = serve(data, options, Map.of());
        assertEquals(2, file.exit(), file.err());
        assertTrue(file.err().contains("the PIN is wrong"), file.err());

        // A seal without the trust folder: its certificate cannot be checked, so it is refused.
        List<String> noTrust = new ArrayList<>(options);
        noTrust.set(1, dir.resolve("no-such-folder").toString());
        Run untrusted = serve(TestData.newFolder("seal-trust-"), noTrust, Map.of("MAMORI_SEAL_PIN", PIN));
        assertEquals(2, untrusted.exit(), untrusted.err());
        assertTrue(untrusted.err().contains("--signature-trust-dir"), untrusted.err());
        assertFalse(untrusted.err().contains("Exception"), untrusted.err());
    }
}
