package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.ResourceRef;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.maintenance.WorkReports;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live view of a running maintenance job and its work report in a real Chromium (issue 19; MAINT-3, MAINT-4,
 * MAINT-5): the administrator goes from the request to the live view, whose list shows a new action by itself (the
 * page's script fetches its entries in place); once the job is over and the vendor has reported, the report reads in
 * Japanese with times in JST, at 1280, 768 and 390 px and printed (screenshots target/screenshots/maintenance-live-*,
 * maintenance-report-*), never scrolling sideways.
 */
class WorkReportBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theAdministratorWatchesTheJobLiveAndReadsItsReport() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.report");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        Actor admin = Actor.person("account:test", "情報システム 佐藤", List.of("admin"), null, "127.0.0.1", null);
        WorkOrders orders = console.server().server().workOrders();
        WorkReports reports = console.server().server().workReports();
        Vendors vendors = orders.vendors();
        LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));
        Vendors.Entry v = vendors.saveVendor(admin, null, Map.of("name", "株式会社みらい医療システム保守サービス",
                "contract_no", "保守-2026-0042", "contract_from", today.minusMonths(1).toString(), "contract_to",
                today.plusYears(1).toString(), "responsible", "保守部 部長 鈴木一郎", "contacts", "03-1234-5678",
                "subcontractors", ""));
        vendors.addRoute(admin, v.entry(), Map.of("name", "保守用IPsec VPN", "sources", "192.0.2.0/24", "reaches",
                "電子カルテサーバ（SSH・管理画面のみ）", "device", "VPN装置 XR-2000"));
        Account a = console.server().server().identity().accounts().create(new Accounts.NewAccount("hoshu.tanaka",
                "田中", "三郎", "タナカ", "サブロウ", Account.Type.VENDOR, List.of(new Accounts.QualificationGrant(
                "vendor_engineer", null)), List.of("情報システム"), Set.of(), new Accounts.Proofing("in_person",
                "drivers_licence", null, "情報システム 佐藤", Instant.now())), "test:admin");
        vendors.addStaff(admin, v.entry(), a.loginId());
        Instant start = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        WorkOrders.WorkOrder w = orders.file(admin, UUID.randomUUID(), new WorkOrders.NewRequest(v.entry(),
                List.of(a.id()), "電子カルテ サーバ（OS・DB）", "月例のOSセキュリティ更新と再起動の確認", true, true,
                "更新後に患者一覧の表示を確認し、障害調査用に検査結果を1件出力するため", start,
                start.plus(Duration.ofHours(3)), "192.0.2.15"));
        orders.approve(admin, UUID.randomUUID(), w.number());
        orders.approve(Actor.person("account:test2", "医療情報部 高橋", List.of("admin"), null, "127.0.0.1", null),
                UUID.randomUUID(), w.number());
        AuditRecorder audit = console.server().server().audit().recorder();
        Actor vendor = Actor.person("account:" + a.id(), "田中 三郎", List.of("vendor_engineer"), "情報システム",
                "192.0.2.15", null);
        audit.append(AuditEvent.by(vendor, AuditAction.READ).detail("workOrder", w.number())
                .patient(PatientRef.of("pt-1")).resource(ResourceRef.of("Patient", "pt-1")).build());
        audit.append(AuditEvent.by(vendor, AuditAction.UPDATE).outcome(Outcome.REFUSED)
                .detail("workOrder", w.number()).resource(ResourceRef.of("Observation", "ob-1")).build());

        // from the request to the live view; a new action shows up without a reload
        b.open("/console/maintenance/request?no=" + w.number());
        b.find("#live-link").click();
        b.waitForPath("/console/maintenance/live", Duration.ofSeconds(20));
        assertTrue(b.find("#end-form").isDisplayed());
        b.waitFor(d -> b.find("#live-entries").getText().contains("更新"), Duration.ofSeconds(20));
        audit.append(AuditEvent.by(vendor, AuditAction.EXPORT).detail("workOrder", w.number())
                .patient(PatientRef.of("pt-1")).resource(ResourceRef.of("Observation", "ob-2")).build());
        b.waitFor(d -> b.find("#live-entries").getText().contains("出力"), Duration.ofSeconds(30));
        assertEquals("/console/maintenance/live", b.path(), "refreshed in place, not reloaded");
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());
        assertFalse(b.text().contains("pt-1") || b.text().contains(a.id().toString()), "no raw ids");
        jp.mamori.testing.Screens.check(b, "maintenance-live");

        // the job ends, the vendor reports; the administrator reads the report
        orders.endNow(admin, w.number(), "作業完了の連絡を受けたため");
        reports.submit(vendor, a.id(), w.number(), Map.of("results", "正常に完了しました。", "done",
                "OSのセキュリティ更新（12件）を適用し、10:40 に再起動。患者一覧の表示を確認。障害調査のため検査結果を1件出力。",
                "open_issues", "なし"));
        b.open("/console/maintenance/request?no=" + w.number());
        b.find("#report-link").click();
        b.waitForPath("/console/maintenance/report", Duration.ofSeconds(20));
        assertEquals("作業報告 " + w.number(), b.find("h1").getText());
        assertTrue(b.find("#report-state").getText().contains("提出済み・承認待ち"), b.text());
        assertTrue(b.find("#report-exports").getText().contains("出力"), b.text());
        assertTrue(b.find("#report-refused").getText().contains("拒否"), b.text());
        assertTrue(b.find("#report-latest").getText().contains("OSのセキュリティ更新"), b.text());
        assertTrue(b.find("#report-approve-form").isDisplayed());
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());
        jp.mamori.testing.Screens.check(b, "maintenance-report");

        // printed: the console's header and every form and button left out
        b.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", "print"));
        try {
            assertFalse(b.find("#report-approve-form").isDisplayed(), "no forms on paper");
            assertFalse(b.find("#print-report").isDisplayed(), "no buttons on paper");
            b.screenshot("maintenance-report-print");
        } finally {
            b.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", ""));
        }
    }
}
