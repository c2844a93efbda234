package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;
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
 * Vendor maintenance's pages in a real Chromium (issue 19): with a vendor, its route and staff and one work request
 * waiting, the first administrator's home shows the badge; one click opens the overview; the request, the vendor and
 * the request form read in Japanese with times in JST at 1280, 768 and 390 px (screenshots
 * target/screenshots/maintenance-*.png) and never scroll sideways.
 */
class MaintenanceBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theAdministratorFindsTheWaitingRequestFromHomeAndReadsThePagesAtEveryWidth() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.maint");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        Actor admin = MaintenanceFixture.ADMIN;
        WorkOrders orders = console.server().server().workOrders();
        Vendors vendors = orders.vendors();
        Vendors.Entry v = MaintenanceFixture.vendor(console.server(), "代表 03-1234-5678（平日9時〜17時）\n夜間"
                + " 090-0000-0000", "株式会社ネットワーク構築パートナーズ 2026-04-01");
        vendors.addRoute(admin, v.entry(), Map.of("name", "保守用IPsec VPN", "sources",
                "192.0.2.0/24 2001:db8:1234::/48", "reaches", "電子カルテサーバ（SSH・管理画面のみ）", "device",
                "VPN装置 型番 XR-2000"));
        vendors.addComponent(admin, v.entry(), Map.of("component", "電子カルテ サーバ（OS・DB）", "duty",
                "OSとPostgreSQLの更新、障害対応"));
        Account a = MaintenanceFixture.engineer(console.server(), "hoshu.suzuki", "鈴木", "次郎", "スズキ", "ジロウ");
        vendors.addStaff(admin, v.entry(), a.loginId());
        Instant start = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.HOURS);
        WorkOrders.WorkOrder w = orders.file(admin, UUID.randomUUID(), new WorkOrders.NewRequest(v.entry(),
                List.of(a.id()), "電子カルテ サーバ（OS・DB）", "月例のOSセキュリティ更新と再起動の確認", true, false,
                "更新後に患者一覧の表示を確認するため", start, start.plus(Duration.ofHours(3)), "192.0.2.15"));

        b.open("/console/home");
        b.find("a[href='/console/maintenance']").click();
        b.waitForPath("/console/maintenance", Duration.ofSeconds(20));
        assertEquals("保守作業（業者・作業申請・承認）", b.find("h1").getText());
        String waiting = b.find("#requests-waiting").getText();
        assertTrue(waiting.contains(w.number()) && waiting.contains("承認待ち") && waiting.contains("承認 0/2")
                && waiting.contains("患者データを閲覧"), waiting);
        assertFalse(Pattern.compile("\\d{4}-\\d{2}-\\d{2}T").matcher(b.text()).find(), "no ISO times: " + b.text());
        assertFalse(b.text().contains(a.id().toString()), "no raw ids");
        jp.mamori.testing.Screens.check(b, "maintenance-home");

        b.open("/console/maintenance/request?no=" + w.number());
        assertTrue(b.find("#request").getText().contains("株式会社みらい医療システム保守サービス"), b.text());
        assertTrue(b.find("#approve-form").isDisplayed());
        jp.mamori.testing.Screens.check(b, "maintenance-request");

        b.open("/console/maintenance/vendor?n=" + v.entry());
        assertTrue(b.find("#vendor-route").getText().contains("192.0.2.0/24"), b.text());
        jp.mamori.testing.Screens.check(b, "maintenance-vendor");

        b.open("/console/maintenance/request/new?vendor=" + v.entry());
        assertTrue(b.find("#request-form").isDisplayed());
        jp.mamori.testing.Screens.check(b, "maintenance-form");
        jp.mamori.testing.Accessibility.assertNoSeriousViolations(b, "maintenance-form");
    }
}
