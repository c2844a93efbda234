package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.ResourceRef;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.maintenance.WorkReports;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
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

        Actor admin = MaintenanceFixture.ADMIN;
        WorkOrders orders = console.server().server().workOrders();
        WorkReports reports = console.server().server().workReports();
        Vendors vendors = orders.vendors();
        Vendors.Entry v = MaintenanceFixture.vendor(console.server(), "03-1234-5678", "");
        vendors.addRoute(admin, v.entry(), Map.of("name", "保守用IPsec VPN", "sources", "192.0.2.0/24", "reaches",
                "電子カルテサーバ（SSH・管理画面のみ）", "device", "VPN装置 XR-2000"));
        Account a = MaintenanceFixture.engineer(console.server(), "hoshu.tanaka", "田中", "三郎", "タナカ", "サブロウ");
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
