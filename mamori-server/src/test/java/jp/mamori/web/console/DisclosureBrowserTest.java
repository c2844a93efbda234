package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records manager's disclosure (開示請求, issue 23) in a real Chromium: an administrator opens the disclosure page
 * from home, records a request from a legal representative (with the step-up), decides (notes withheld with a
 * reason, the access report added), produces the package, downloads the ZIP through the page's form (its PDF read
 * with pdftotext), and records the hand-over. Refused: a person without the administrator role, a form without the
 * CSRF token, a change whose step-up is stale, and another administrator's download. Screenshots of the list and the
 * request page at 1280, 820 and 390 px (target/screenshots/disclosure-*.png), checked by {@link Screens}.
 */
class DisclosureBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static Object one(String sql, Object... args) throws Exception {
        try (java.sql.Connection c = console.server().superuserConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1) : null;
            }
        }
    }

    private static String create(Resource r) {
        return console.server().server().records().create(Caller.system("test"), r, null, null).stored().id();
    }

    private static void stepUpIfAsked(Browser b, ConsoleSteps.App totp) {
        if (b.path().equals("/console/step-up")) {
            b.fill("/console/step-up", "code", totp.nextCode()).submit("確認");
        }
    }

    private static void shots(Browser b, String name) {
        Screens.check(b, name);
        ConsoleSteps.shoot(b, 820, 1180, name + "-820");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));
    }

    /** POSTs a form from the page's own origin with the browser's cookies; answers "status base64-body". */
    private static String[] post(Browser b, String path, String body) {
        Object r = b.driver().executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},"
                + " body: arguments[1], redirect: 'manual', credentials: 'same-origin'})"
                + ".then(r => r.arrayBuffer().then(buf => { let s = ''; const a = new Uint8Array(buf);"
                + " for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);"
                + " done([String(r.status), r.headers.get('Content-Type') || '', btoa(s)]); }))"
                + ".catch(e => done(['error', '', btoa(String(e))]));", path, body);
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) r;
        return new String[]{(String) l.get(0), (String) l.get(1), (String) l.get(2)};
    }

    private static String csrf(Browser b) {
        return b.find("form#package-form input[name='csrf']").getAttribute("value");
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void anAdministratorRecordsARequestProducesThePackageAndHandsItOver() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.kaiji");
        ConsoleSteps.App totp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        UUID me = (UUID) one("SELECT account_id FROM account WHERE login_id = 'kanri.kaiji'");

        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9300000001");
        p.addName().setFamily("開示").addGiven("桜子").setText("開示\u3000桜子");
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1985-06-15"));
        String pid = create(p);
        AllergyIntolerance a = new AllergyIntolerance();
        a.setPatient(new Reference("Patient/" + pid)).setCode(new CodeableConcept().setText("卵"));
        create(a);
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL).setCode(new CodeableConcept().setText("血糖"))
                .setSubject(new Reference("Patient/" + pid)).setEffective(new DateTimeType("2026-11-01T09:00:00+09:00"))
                .setValue(new Quantity().setValue(new BigDecimal("142")).setUnit("mg/dL"));
        create(o);

        // from home to the list, a request from a legal representative
        b.open("/console/home");
        b.find("#disclosures-link").click();
        assertEquals("/console/admin/disclosures", b.path());
        assertTrue(b.text().contains("開示請求の受付"), b.text());
        shots(b, "disclosure-list-empty");
        // a patient ID that does not exist: said on the page, nothing recorded
        b.fill("/console/admin/disclosures", "patient_ident", "9399999999")
                .fill("/console/admin/disclosures", "requester_name", "誰か")
                .fill("/console/admin/disclosures", "asked", "写し");
        b.submit("受け付ける");
        stepUpIfAsked(b, totp);
        assertEquals(404, b.status());
        assertTrue(b.text().contains("この患者IDの患者が見つかりません"), b.text());
        assertEquals(0L, one("SELECT count(*) FROM disclosure_request"));
        b.fill("/console/admin/disclosures", "patient_ident", "9300000001");
        b.find("form#new-request-form input[name='requester_kind'][value='representative']").click();
        b.fill("/console/admin/disclosures", "requester_name", "開示 太郎")
                .fill("/console/admin/disclosures", "relationship", "親権者（父）")
                .fill("/console/admin/disclosures", "asked", "2026年の診療記録と検査結果の写し");
        b.submit("受け付ける");
        stepUpIfAsked(b, totp);
        assertEquals("/console/admin/disclosure", b.path(), b.text());
        assertTrue(b.text().contains("開示請求を受け付けました"), b.text());
        assertTrue(b.text().contains("開示\u3000桜子") && b.text().contains("親権者（父）"), b.text());
        assertTrue(b.text().contains("未署名"), "no seal: the page says the PDFs are unsigned: " + b.text());
        String requestId = b.driver().getCurrentUrl().replaceAll(".*[?&]id=([0-9a-f-]{36}).*", "$1");

        // the decision: notes withheld with a reason, the access report added
        b.find("form#package-form input[name='kind'][value='notes']").click();
        b.fill("/console/admin/disclosure/package", "reason_notes", "第三者の情報を含むため");
        b.submit("開示資料を作成する");
        stepUpIfAsked(b, totp);
        assertTrue(b.text().contains("開示資料を作成しました"), b.text());
        assertTrue(b.text().contains("第三者の情報を含むため") && b.text().contains("なし（未署名）"), b.text());
        shots(b, "disclosure-request");
        String packageId = (String) one("SELECT package_id::text FROM disclosure_package WHERE request_id = ?::uuid",
                requestId);

        // the download, through the page's form: the ZIP with the Japanese PDF
        String[] zip = post(b, "/console/admin/disclosure/download", "csrf=" + enc(csrf(b)) + "&package=" + packageId);
        assertEquals("200", zip[0], () -> new String(Base64.getDecoder().decode(zip[2]), StandardCharsets.ISO_8859_1));
        assertEquals("application/zip", zip[1]);
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(zip[2])))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                files.put(e.getName(), in.readAllBytes());
            }
        }
        assertEquals(List.of("disclosure.pdf", "records.json", "access-report.pdf", "manifest.json"),
                List.copyOf(files.keySet()));
        Path pdf = Files.createTempFile("disclosure-", ".pdf");
        try {
            Files.write(pdf, files.get("disclosure.pdf"));
            Process proc = new ProcessBuilder("/usr/bin/pdftotext", "-layout", pdf.toString(), "-")
                    .redirectErrorStream(true).start();
            String text = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, proc.waitFor(), text);
            assertTrue(text.contains("桜子") && text.contains("卵") && text.contains("142"), text);
        } finally {
            Files.deleteIfExists(pdf);
        }

        // CSRF: the download and the hand-over without the form's token give and change nothing
        String[] noToken = post(b, "/console/admin/disclosure/download", "package=" + packageId);
        assertEquals("403", noToken[0]);
        assertFalse(noToken[1].contains("zip"));
        String[] forged = post(b, "/console/admin/disclosure/handover", "id=" + requestId + "&package=" + packageId
                + "&how=" + enc("偽造"));
        assertEquals("403", forged[0]);
        assertEquals(0L, one("SELECT count(*) FROM disclosure_handover"));

        // the hand-over
        b.open("/console/admin/disclosure?id=" + requestId);
        b.fill("/console/admin/disclosure/handover", "how", "窓口で法定代理人に手渡し");
        b.submit("交付を記録する");
        stepUpIfAsked(b, totp);
        assertTrue(b.text().contains("交付を記録しました") && b.text().contains("窓口で法定代理人に手渡し"), b.text());
        assertEquals(1L, one("SELECT count(*) FROM disclosure_handover"));

        // a stale step-up: the change waits for the second factor, nothing is produced before it
        try (java.sql.Connection c = console.server().superuserConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("UPDATE web_session SET second_factor_at = now()"
                     + " - interval '6 minutes' WHERE account_id = ? AND ended_at IS NULL")) {
            ps.setObject(1, me);
            assertTrue(ps.executeUpdate() > 0);
        }
        b.open("/console/admin/disclosure?id=" + requestId);
        long before = (Long) one("SELECT count(*) FROM disclosure_package");
        b.submit("開示資料を作成する");
        assertEquals("/console/step-up", b.path(), b.text());
        assertEquals(before, one("SELECT count(*) FROM disclosure_package"));
        b.fill("/console/step-up", "code", totp.nextCode()).submit("確認");
        assertEquals(before + 1, one("SELECT count(*) FROM disclosure_package"), "the held form ran after the step-up");

        // the list names the patient and the hand-over
        b.open("/console/admin/disclosures");
        assertTrue(b.text().contains("開示\u3000桜子") && b.text().contains("交付済み"), b.text());
        shots(b, "disclosure-list");

        // the trail names the patient for each step
        for (String action : List.of("disclosure.request", "disclosure.package", "disclosure.download",
                "disclosure.handover")) {
            assertTrue(((Long) one("SELECT count(*) FROM audit_entry WHERE action = ? AND ? = ANY(patients)", action,
                    pid)) > 0, action);
        }
        ConsoleSteps.logOut(b);

        // a person without the administrator role: refused, nothing shown
        Browser other = Browser.start(console.server().consoleOrigin());
        try {
            ConsoleSteps.enrolWithCode(other, console.server(), "ishi.kaiji", false);
            ConsoleSteps.enrolTotp(other);
            ConsoleSteps.continueToHome(other);
            assertFalse(other.dom().contains("disclosures-link"), "no tile for a non-administrator");
            other.open("/console/admin/disclosures");
            assertEquals(403, other.status());
            assertFalse(other.text().contains("桜子"), other.text());
            other.open("/console/admin/disclosure?id=" + requestId);
            assertEquals(403, other.status());
            ConsoleSteps.logOut(other);

            // another administrator cannot download this package
            ConsoleSteps.enrolWithCode(other, console.server(), "kanri.hoka", true);
            ConsoleSteps.enrolTotp(other);
            ConsoleSteps.continueToHome(other);
            other.open("/console/admin/disclosure?id=" + requestId);
            assertEquals(200, other.status(), other.text());
            assertFalse(other.dom().contains("download-form"), "no download button for another administrator");
            String token = other.find("form#package-form input[name='csrf']").getAttribute("value");
            String[] foreign = post(other, "/console/admin/disclosure/download", "csrf=" + enc(token) + "&package="
                    + packageId);
            assertEquals("403", foreign[0]);
            assertFalse(foreign[1].contains("zip"));
        } finally {
            other.close();
        }
    }
}
