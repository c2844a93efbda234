package jp.mamori.web.console;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.MfaExceptions;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.Select;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partner clinicians of another institution in a real Chromium (issue 21, AUTH-11): the administrator creates the
 * partner's account with its institution on the new-account page; the attending physician shares one patient from the
 * chart (「連携先と共有」), and a year-and-a-day end date or a form without its CSRF token is refused; the partner enrols
 * with two factors, lands on a home that lists the shared patient and until when, reads that chart, and is refused the
 * other patient (without a break-glass offer), the note form and the audit console; with a terminal's MFA exception
 * covering its address the partner still gets no session without its second factor; the reviewers' report lists the
 * partner's accesses with the institution and the share. Screenshots at 1280, 768 and 390 px
 * (target/screenshots/partner-*.png).
 */
class PartnerBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static String patient(String identifier, String family, String given, String familyKana, String givenKana) {
        org.hl7.fhir.r4.model.Patient p = new org.hl7.fhir.r4.model.Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue(identifier);
        for (String[] n : new String[][] {{"IDE", family, given}, {"SYL", familyKana, givenKana}}) {
            org.hl7.fhir.r4.model.HumanName name = new org.hl7.fhir.r4.model.HumanName().setText(n[1] + "\u3000" + n[2])
                    .setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                    new org.hl7.fhir.r4.model.CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1948-04-02"));
        return console.server().server().records().create(jp.mamori.access.Caller.system("browser-test"), p, null,
                null).stored().id();
    }

    private static long shares(String patient) {
        return console.server().server().partnerShares().ofPatient(patient).size();
    }

    @Test
    void aPartnerReadsOnlyWhatWasSharedAndTheReviewersSeeIt() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.renkei");
        ConsoleSteps.App adminApp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        Accounts accounts = console.server().server().identity().accounts();
        UUID adminId = accounts.list().stream().filter(a -> a.loginId().equals("kanri.renkei")).findFirst()
                .orElseThrow().id();
        String shared = patient("9000000501", "連携", "花子", "レンケイ", "ハナコ");
        String other = patient("9000000502", "非共有", "次郎", "ヒキョウユウ", "ジロウ");
        // the administrator is also the attending physician of both patients here (as the database owner would set it)
        ConsoleSteps.physicianFor(console.server(), adminId, shared);
        try (java.sql.Connection c = console.server().superuserConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO care_assignment (care_id, account_id,"
                     + " patient_id, kind, department, valid_from, added_by, added_at) VALUES (?, ?, ?, 'assignment',"
                     + " '内科', now() - interval '1 day', ?, now())")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, adminId);
            ps.setString(3, other);
            ps.setObject(4, adminId);
            ps.executeUpdate();
        }

        // the partner's account, with its institution, on the administrator's page
        b.open("/console/admin/accounts/new");
        String form = "/console/admin/accounts/new";
        b.fill(form, "login_id", "tanaka.midori").fill(form, "family_name", "田中").fill(form, "given_name", "みどり")
                .fill(form, "family_kana", "タナカ").fill(form, "given_kana", "ミドリ");
        new Select(b.find("form[action='" + form + "'] select[name='type']")).selectByValue("partner");
        b.fill(form, "institution_name", "みどり在宅クリニック").fill(form, "institution_code", "1312345678");
        new Select(b.find("form[action='" + form + "'] select[name='proof_document']"))
                .selectByValue("professional_licence");
        b.fill(form, "proof_by", "地域医療連携室 佐藤").fill(form, "proof_note", "医師免許証 末尾 4321");
        b.js("document.activeElement.blur(); document.getElementById('partner-fields').scrollIntoView();");
        ConsoleSteps.shootAll(b, "partner-account-new");
        b.submit("作成");
        assertEquals("/console/admin/account", b.path(), b.text());
        assertTrue(b.text().contains("連携先医療者（みどり在宅クリニック（1312345678））"), b.text());
        ConsoleSteps.shootAll(b, "partner-account");
        Account partner = accounts.list().stream().filter(a -> a.loginId().equals("tanaka.midori")).findFirst()
                .orElseThrow();
        assertEquals(Account.Type.PARTNER, partner.type());
        assertTrue(partner.roles().isEmpty());

        // 「連携先と共有」 from the chart
        b.open("/console/patients/" + shared);
        b.find("#share-partner").click();
        b.waitForPath("/console/partner-shares", Duration.ofSeconds(20));
        assertTrue(b.find("#share-patient-label").getText().contains("連携\u3000花子"), b.text());
        String share = "/console/partner-shares/new";
        new Select(b.find("form[action='" + share + "'] select[name='partner']")).selectByValue(partner.id().toString());
        b.find("form[action='" + share + "'] input[name='basis'][value='referral']").click();
        b.fill(share, "basis_ref", "診療情報提供書 2026-12-07 第123号");
        b.js("document.getElementById('share-form').scrollIntoView();");
        ConsoleSteps.shootAll(b, "partner-share-form");
        // an end date beyond a year, past the browser's own limit: refused by the server, nothing shared
        b.js("var e = document.querySelector(\"input[name='end_date']\"); e.removeAttribute('max');"
                + " e.value = arguments[0];", java.time.LocalDate.now(java.time.ZoneId.of("Asia/Tokyo")).plusDays(400)
                .toString());
        b.submit("共有する");
        assertEquals(400, b.status());
        assertTrue(b.text().contains("共有の期間は最長1年です"), b.text());
        assertEquals(0, shares(shared));
        b.find("input[name='end_date']").clear();
        b.js("document.querySelector(\"input[name='end_date']\").value = arguments[0];",
                java.time.LocalDate.now(java.time.ZoneId.of("Asia/Tokyo")).plusDays(90).toString());
        b.submit("共有する");
        assertTrue(b.text().contains("共有しました（共有番号"), b.text());
        assertEquals(1, shares(shared));
        ConsoleSteps.shootAll(b, "partner-share");
        // a form posted without the console's CSRF token (as another site would) does nothing
        Object forged = ((org.openqa.selenium.JavascriptExecutor) b.driver()).executeAsyncScript(
                "var done = arguments[arguments.length - 1]; fetch('/console/partner-shares/new', {method: 'POST',"
                + " headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'patient=" + other
                + "&partner=" + partner.id() + "&basis=consent&basis_ref=x&end_date=2026-12-31&category=results'})"
                + ".then(r => done(r.status));");
        assertEquals(403L, ((Number) forged).longValue());
        assertEquals(0, shares(other));
        ConsoleSteps.logOut(b);

        // the partner enrols with two factors and lands on the patients shared with them
        String code = accounts.issueEnrolmentCode(partner.id(), Duration.ofHours(1), "test:admin");
        b.open("/console/enrol?code=" + java.net.URLEncoder.encode(code, java.nio.charset.StandardCharsets.UTF_8));
        b.fill("/console/enrol", "password", ConsoleSteps.PASSWORD).fill("/console/enrol", "password2",
                ConsoleSteps.PASSWORD).submit("次へ（二要素認証の設定）");
        ConsoleSteps.App partnerApp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        String home = b.find("#partner-home").getText();
        assertTrue(home.contains("みどり在宅クリニック") && home.contains("連携\u3000花子") && home.contains("まで"), home);
        assertFalse(home.contains("非共有"), home);
        assertTrue(b.driver().findElements(By.cssSelector("a[href='/console/break-glass']")).isEmpty(),
                "no break-glass link for a partner");
        ConsoleSteps.shootAll(b, "partner-home");
        b.find("#partner-home a[href='/console/patients/" + shared + "']").click();
        b.waitForPath("/console/patients/" + shared, Duration.ofSeconds(20));
        assertTrue(b.find("#patient-banner").getText().contains("9000000501"), b.text());
        assertTrue(b.driver().findElements(By.cssSelector("#share-partner")).isEmpty(), "a partner shares nothing");
        assertTrue(b.driver().findElements(By.cssSelector("a[href$='/notes/new']")).isEmpty(), "nor writes");
        ConsoleSteps.shootAll(b, "partner-chart");

        b.open("/console/patients/" + other);
        assertFalse(b.text().contains("非共有"), b.text());
        assertTrue(b.driver().findElements(By.cssSelector("#break-glass-offer")).isEmpty(), "no break-glass offer");
        b.open("/console/break-glass?patient=" + other);
        assertEquals(403, b.status());
        b.open("/console/patients/" + shared + "/notes/new");
        assertEquals(403, b.status());
        assertTrue(b.text().contains("閲覧のみ"), b.text());
        b.open("/console/audit");
        assertEquals(403, b.status());
        assertTrue(b.text().contains("連携先医療者は、この画面は使えません"), b.text());
        b.open("/console/patients/" + shared + "/summary.pdf");
        assertEquals(403, b.status());
        b.open("/console/partner-shares?patient=" + shared);
        assertEquals(403, b.status());
        ConsoleSteps.logOut(b);

        // a terminal's MFA exception never spares a partner its second factor
        MfaExceptions exceptions = console.server().server().identity().mfaExceptions();
        MfaExceptions.Exception ex = exceptions.grant("ナースステーション端末", "127.0.0.1/32", "施錠された部屋で、入退室をICカードで記録している",
                Instant.now().plus(Duration.ofDays(30)), "test:admin");
        try {
            b.open("/console/login");
            b.fill("/console/login", "login_id", "tanaka.midori").fill("/console/login", "password",
                    ConsoleSteps.PASSWORD).submit("次へ（二要素認証）");
            assertEquals("/console/login/factor", b.path(), b.text());
            ConsoleSteps.assertNotLoggedIn(b);
        } finally {
            exceptions.revoke(ex.id(), "test:admin");
        }

        // the reviewers' report
        ConsoleSteps.logInWithCode(b, "kanri.renkei", adminApp.nextCode());
        assertEquals("/console/home", b.path(), b.text());
        b.open("/console/admin/partners");
        String shares = b.find("#report-shares").getText();
        assertTrue(shares.contains("田中 みどり") && shares.contains("連携\u3000花子") && shares.contains("有効"), shares);
        String accesses = b.find("#report-accesses").getText();
        assertTrue(accesses.contains("田中 みどり") && accesses.contains("みどり在宅クリニック（1312345678）")
                && accesses.contains("連携\u3000花子（9000000501）") && accesses.contains("共有番号"), accesses);
        assertTrue(accesses.contains("拒否"), "the refused read of the other patient is listed too: " + accesses);
        ConsoleSteps.shootAll(b, "partner-report");
        partnerApp.nextCode(); // (the partner's app stays enrolled)
    }
}
