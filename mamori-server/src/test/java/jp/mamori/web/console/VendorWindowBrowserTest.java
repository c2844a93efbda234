package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A vendor's engineer in a real Chromium (issue 19): enrolled, they land on the vendor desk, which says in Japanese that
 * they are outside an approved window and what is open to them; once a work order for this line is approved, the home
 * page names the work order and its end and links to the operations pages, which open, and to the chart of the one
 * patient the work order approved, which opens; the audit console stays closed and says why. Screenshots at 1280, 768 and 390 px (target/screenshots/vendor-*.png).
 */
class VendorWindowBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static String patient() {
        org.hl7.fhir.r4.model.Patient p = new org.hl7.fhir.r4.model.Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000301");
        for (String[] n : new String[][] {{"IDE", "保守", "確認"}, {"SYL", "ホシュ", "カクニン"}}) {
            org.hl7.fhir.r4.model.HumanName name = new org.hl7.fhir.r4.model.HumanName().setText(n[1] + "\u3000" + n[2])
                    .setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                    new org.hl7.fhir.r4.model.CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(org.hl7.fhir.r4.model.Enumerations.AdministrativeGender.MALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1950-01-01"));
        return console.server().server().records().create(jp.mamori.access.Caller.system("browser-test"), p, null,
                null).stored().id();
    }

    @Test
    void theEngineerSeesTheDeskThenTheWindowAndOnlyItsPages() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.window");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        ConsoleSteps.logOut(b);

        Actor admin = MaintenanceFixture.ADMIN;
        WorkOrders orders = console.server().server().workOrders();
        Vendors vendors = orders.vendors();
        Vendors.Entry v = MaintenanceFixture.vendor(console.server(), "03-1234-5678", "");
        vendors.addRoute(admin, v.entry(), Map.of("name", "保守用回線", "sources", "127.0.0.1/32", "reaches",
                "電子カルテサーバ（管理画面のみ）", "device", "保守端末"));
        Accounts accounts = console.server().server().identity().accounts();
        Account a = MaintenanceFixture.engineer(console.server(), "hoshu.tanaka", "田中", "三郎", "タナカ", "サブロウ");
        accounts.reactivate(a.id(), "保守作業のため", "test:admin");
        vendors.addStaff(admin, v.entry(), a.loginId());
        String code = accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1), "test:admin");
        b.open("/console/enrol?code=" + java.net.URLEncoder.encode(code, java.nio.charset.StandardCharsets.UTF_8));
        b.fill("/console/enrol", "password", ConsoleSteps.PASSWORD).fill("/console/enrol", "password2",
                ConsoleSteps.PASSWORD).submit("次へ（二要素認証の設定）");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        String desk = b.find("#vendor-desk").getText();
        assertTrue(desk.contains("承認された保守作業の時間外です") && desk.contains("作業申請・作業報告・通知"), desk);
        assertTrue(b.driver().findElements(org.openqa.selenium.By.cssSelector("a[href='/console/break-glass']"))
                .isEmpty(), "no break-glass link for a vendor's account");
        ConsoleSteps.shootAll(b, "vendor-desk-outside");

        Instant now = Instant.now();
        String patient = patient();
        WorkOrders.WorkOrder w = orders.file(admin, UUID.randomUUID(), new WorkOrders.NewRequest(v.entry(),
                List.of(a.id()), "電子カルテ サーバ（OS・DB）", "更新後に患者画面の表示を確認", true, false,
                "更新後の表示確認のため", now, now.plus(Duration.ofHours(2)), "127.0.0.1", List.of("9000000301")));
        orders.approve(admin, UUID.randomUUID(), w.number());
        orders.approve(admin, UUID.randomUUID(), w.number()); // patient data: two approvers
        b.open("/console/home");
        String inWindow = b.find("#vendor-desk").getText();
        assertTrue(inWindow.contains("保守作業中：作業番号 " + w.number()) && inWindow.contains("稼働状況"), inWindow);
        ConsoleSteps.shootAll(b, "vendor-desk-window");
        b.find("#vendor-desk a[href='/console/admin/backups']").click();
        b.waitForPath("/console/admin/backups", Duration.ofSeconds(20));
        assertEquals("/console/admin/backups", b.path());

        // the approved patient's chart, a click away on the home page, read-only
        b.open("/console/home");
        b.find("#vendor-desk a[href='/console/patients/" + patient + "']").click();
        b.waitForPath("/console/patients/" + patient, Duration.ofSeconds(20));
        assertTrue(b.find("#patient-banner").getText().contains("9000000301"), b.text());
        ConsoleSteps.shootAll(b, "vendor-chart");

        b.open("/console/audit");
        assertTrue(b.text().contains("保守作業では、この画面は使えません"), b.text());
        ConsoleSteps.shootAll(b, "vendor-refused");
    }
}
