package jp.mamori.identity.web;

import jp.mamori.audit.AuditReports;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.Probe;
import jp.mamori.signatures.Level;
import jp.mamori.signatures.PdfSeal;
import jp.mamori.signatures.Signatures;
import jp.mamori.signatures.Validation;
import jp.mamori.testing.TestData;
import jp.mamori.testing.pki.TestPki;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inspection pack and the executive dashboard over HTTP (issue 20 "Outputs"; GOV-2, GOV-5, GOV-6, GOV-7), on a server
 * with the institution's seal: the administrator's PDF is sealed (PAdES B-T) and reads in Japanese with the answer,
 * the target date and the deviations; CSV and OSCAL come as attachments; each download is an audit entry. The
 * dashboard turns an area red when a probe fails and lists a いいえ past its target; an auditor reads both but cannot
 * record a review; a physician is refused; a review needs the form's token, is stored append-only and audited.
 */
class CompliancePackConsoleTest {
    static final String PIN = "8642";
    private static Hospital h;
    private static final AtomicReference<Evidence.Status> PHYS = new AtomicReference<>(Evidence.Status.PASS);

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createDirectories(TestData.newFolder("pack-"));
        TestPki pki = TestPki.get();
        Path p12 = pki.signer("まもり病院 組織印", null).writePkcs12(dir.resolve("seal.p12"), PIN.toCharArray());
        h = Hospital.open(List.of("--signature-trust-dir", pki.trustDir().toString(), "--signature-tsa-url",
                pki.tsaUrl().toString(), "--seal-pkcs12", p12.toString(), "--institution-name", "まもり病院"),
                Map.of("MAMORI_SEAL_PIN", PIN));
        // a probe of a physical control the test turns on and off (the standard probes have none)
        h.server.server().probes().register(new Probe() {
            public String id() {
                return "test.entry-log";
            }

            public Set<String> requirements() {
                return Set.of("PHYS-1");
            }

            public Evidence evaluate(Instant now) {
                return new Evidence(id(), PHYS.get(), PHYS.get() == Evidence.Status.FAIL
                        ? "入退室の記録が途切れています / the entry log stopped"
                        : "入退室の記録は続いています / the entry log runs", null, now);
            }
        });
        h.server.server().probes().evaluate();
    }

    @AfterAll
    static void stop() {
        if (h != null) {
            h.close();
        }
    }

    private static List<AuditReports.Row> entries(String loginId, String action, int atLeast) {
        List<AuditReports.Row> rows = List.of();
        for (int i = 0; i < 100; i++) {
            rows = h.server.server().audit().reports().actorActivity(loginId, Instant.EPOCH,
                    Instant.now().plusSeconds(5), 1000).stream().filter(r -> r.action().equals(action)).toList();
            if (rows.size() >= atLeast) {
                break;
            }
            Browser.sleep(100);
        }
        return rows;
    }

    private static final String PACK = "/console/compliance/pack?id=onsite-inspection&v=2026";

    @Test
    void theSealedPackReadsInJapaneseAndEveryDownloadIsAudited() throws Exception {
        Browser b = h.admin.browser;
        b.get("/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-4-2");
        Browser.Page saved = b.submit("/console/compliance/answer", "answer", "no", "checked", "2026-04-01",
                "target", "2026-04-02", "note", "退職者の棚卸しが遅れている");
        assertEquals(200, saved.status(), saved::toString);

        // a register row the inspector will ask about: the contact chart
        b.get("/console/compliance/register/new?r=contacts");
        Browser.Page row = b.submit("/console/compliance/register/save", "f.organisation", "岡山県警察本部",
                "f.category", "police", "f.order", "2", "f.phone", "086-000-0000", "f.when", "サイバー攻撃の被害",
                "review", "");
        assertEquals(200, row.status(), row::toString);

        Browser.Page framework = b.get("/console/compliance/framework?id=onsite-inspection&v=2026");
        assertTrue(framework.body().contains("href=\"" + PACK.replace("&", "&amp;") + "&amp;format=pdf\""),
                framework::toString);
        Browser.Page pdf = b.get(PACK + "&format=pdf");
        assertEquals(200, pdf.status(), pdf::toString);
        assertEquals("application/pdf", pdf.response().headers().firstValue("Content-Type").orElse(""));
        assertTrue(pdf.response().headers().firstValue("Content-Disposition").orElse("")
                .startsWith("attachment; filename=\"mamori-pack-onsite-inspection-2026.pdf\""));
        Validation v = PdfSeal.validate(new Signatures(TestPki.get().settings()), pdf.bytes());
        assertEquals(Validation.Indication.TOTAL_PASSED, v.indication(), v.reason());
        assertEquals(Level.B_T, v.level().orElseThrow());
        java.nio.file.Files.createDirectories(java.nio.file.Path.of("target/screenshots"));
        java.nio.file.Files.write(java.nio.file.Path.of("target/screenshots/compliance-pack-sealed.pdf"), pdf.bytes());
        try (PDDocument d = Loader.loadPDF(pdf.bytes())) {
            String text = new PDFTextStripper().getText(d).replaceAll("[\\s\\u3000]+", "");
            assertTrue(text.contains("まもり病院") && text.contains("安全管理の点検資料"), text);
            assertTrue(text.contains("「②退職者や使用していないアカウント等、不要なアカウントを削除しているか。」"), text);
            assertTrue(text.contains("回答：いいえ確認日：2026年4月1日対応予定日：2026年4月2日"), text);
            assertTrue(text.contains("退職者の棚卸しが遅れている"), text);
            assertTrue(text.contains("システムによる確認：・"), "live evidence: " + text);
            assertTrue(text.contains("連絡体制図") && text.contains("岡山県警察本部") && text.contains("086-000-0000"),
                    "the registers as they stand: " + text);
            assertTrue(text.contains("3.安全な既定値からの逸脱") && text.contains("backups"),
                    "the test server's deviations (it runs without backups): " + text);
        }

        Browser.Page csv = b.get(PACK + "&format=csv");
        assertEquals(200, csv.status(), csv::toString);
        assertTrue(csv.response().headers().firstValue("Content-Type").orElse("").startsWith("text/csv"));
        String c = new String(csv.bytes(), StandardCharsets.UTF_8);
        assertTrue(c.startsWith("\uFEFF") && c.contains("\"いいえ\",\"2026年4月1日\",\"2026年4月2日\""), c);
        Browser.Page oscal = b.get(PACK + "&format=oscal");
        assertEquals(200, oscal.status(), oscal::toString);
        assertTrue(oscal.body().contains("\"assessment-results\"") && oscal.body().contains("\"oscal-version\""));
        assertEquals("nosniff", oscal.response().headers().firstValue("X-Content-Type-Options").orElse(""));

        Browser.Page bad = b.get(PACK + "&format=%3Cscript%3E");
        assertEquals(400, bad.status(), bad::toString);
        assertTrue(bad.contains("形式は pdf・csv・oscal のいずれかです") && !bad.body().contains("<script>"), bad::toString);
        assertEquals(404, b.get("/console/compliance/pack?id=nope&v=2026").status());

        List<AuditReports.Row> rows = entries(h.admin.loginId, "compliance.pack", 3);
        assertEquals(3, rows.size(), "one audit entry per download");
        String pdfEntry = h.<String>one("SELECT convert_from(entry, 'UTF8') FROM audit_entry WHERE action ="
                + " 'compliance.pack' AND convert_from(entry, 'UTF8') LIKE '%\"pdf\"%' ORDER BY seq DESC LIMIT 1");
        assertTrue(pdfEntry.contains("PAdES-B-T") && pdfEntry.contains("onsite-inspection"), pdfEntry);
    }

    @Test
    void theDashboardShowsColoursOverdueAndChangesAndOnlyAdministratorsRecordAReview() {
        Person auditor = h.staffWithRole("keiei.a", "経営企画室", "auditor");
        Person physician = h.staffWithRole("ishi.d", "内科", "physician");
        for (String path : List.of("/console/compliance/dashboard", PACK + "&format=csv")) {
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("分野ごとの状況") || refused.contains("いいえ"), path);
        }

        PHYS.set(Evidence.Status.PASS);
        h.server.server().probes().evaluate();
        Browser.Page before = auditor.browser.get("/console/compliance/dashboard");
        assertEquals(200, before.status(), before::toString);
        assertTrue(before.contains("分野ごとの状況") && before.contains("組織的安全管理")
                && before.contains("物理的安全管理"), before::toString);
        assertFalse(areaOf(before, "physical").contains("state-bad-box"), areaOf(before, "physical"));
        assertTrue(before.contains("閲覧のみです") && !before.body().contains("action=\"/console/compliance/review\""),
                "an auditor reads, the review form is not offered");
        // an auditor downloads the pack too (read access)
        assertEquals(200, auditor.browser.get(PACK + "&format=oscal").status());

        PHYS.set(Evidence.Status.FAIL);
        h.server.server().probes().evaluate();
        Browser.Page red = auditor.browser.get("/console/compliance/dashboard");
        assertTrue(areaOf(red, "physical").contains("state-bad-box") && areaOf(red, "physical").contains("要対応"),
                areaOf(red, "physical"));
        assertTrue(red.contains("入退室の記録が途切れています"), "the failing probe is listed: " + red);
        assertTrue(red.contains("システムによる確認が「不適合」になりました"), "and shown among the changes: " + red);

        // an auditor cannot record a review; an administrator cannot without the form's token
        long reviews = h.<Long>one("SELECT count(*) FROM compliance_review");
        Map<String, String> form = new LinkedHashMap<>(Map.of("note", "x", "csrf", red.csrf()));
        assertEquals(403, auditor.browser.post("/console/compliance/review", form, Map.of()).status());
        h.admin.browser.get("/console/compliance/dashboard");
        form.remove("csrf");
        assertEquals(403, h.admin.browser.post("/console/compliance/review", form, Map.of()).status());
        assertEquals(reviews, h.<Long>one("SELECT count(*) FROM compliance_review"));

        h.admin.browser.get("/console/compliance/dashboard");
        Browser.Page tooLong = h.admin.browser.submit("/console/compliance/review", "note", "長".repeat(2100));
        assertEquals(400, tooLong.status(), tooLong::toString);
        assertTrue(tooLong.contains("メモは 2000 文字までです"), tooLong::toString);
        h.admin.browser.get("/console/compliance/dashboard");
        Browser.Page done = h.admin.browser.submit("/console/compliance/review", "note", "12月の経営会議で確認");
        assertEquals(200, done.status(), done::toString);
        assertTrue(done.contains("見直しを記録しました") && done.contains("前回の見直し")
                && done.contains("12月の経営会議で確認") && done.contains("前回の見直しから変化はありません"), done::toString);
        assertEquals(reviews + 1, h.<Long>one("SELECT count(*) FROM compliance_review"));
        assertEquals(1, entries(h.admin.loginId, "compliance.review", 1).size());
        try (var conn = h.server.superuserConnection(); var st = conn.createStatement()) {
            st.executeUpdate("DELETE FROM compliance_review");
            throw new AssertionError("a review mark was deleted");
        } catch (java.sql.SQLException e) {
            assertTrue(e.getMessage().contains("only ever added"), e::getMessage);
        }

        // a いいえ past its target date is listed as overdue
        h.admin.browser.get("/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-5-1");
        h.admin.browser.submit("/console/compliance/answer", "answer", "no", "checked", "2026-04-01", "target",
                "2026-04-03");
        Browser.Page late = auditor.browser.get("/console/compliance/dashboard");
        String overdue = section(late, "overdue");
        assertTrue(overdue.contains("5①") && overdue.contains("対応予定 2026年4月3日"), overdue);
        assertTrue(areaOf(late, "continuity").contains("state-bad-box"), "INC-6 past its target: "
                + areaOf(late, "continuity"));
        assertTrue(section(late, "changes").contains("「いいえ」と回答"), section(late, "changes"));
        PHYS.set(Evidence.Status.PASS);
        h.server.server().probes().evaluate();
    }

    private static String areaOf(Browser.Page p, String id) {
        String body = p.body();
        int from = body.lastIndexOf("<li", body.indexOf("id=\"area-" + id + "\""));
        assertTrue(from > 0, id + ": " + body);
        return body.substring(from, body.indexOf("</li>\n", from));
    }

    private static String section(Browser.Page p, String id) {
        String body = p.body();
        int from = body.indexOf("id=\"" + id + "\"");
        assertTrue(from > 0, id);
        return body.substring(from, body.indexOf("</section>", from));
    }
}
