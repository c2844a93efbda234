package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.compliance.RegisterKind;
import jp.mamori.compliance.Registers;
import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.support.ui.Select;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registers (台帳) in a real Chromium (issue 20): the administrator opens 台帳 from the compliance console, the
 * device register, adds a device under remote maintenance without its vendor (refused, what was typed kept), then
 * with it; the row shows its history. Screenshots at 1280x800, 768x1024 and 390x844
 * (target/screenshots/registers-*.png); no page scrolls sideways (a wide table scrolls inside its box), no internal
 * code shows where a person reads.
 */
class RegisterBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void anAdministratorRecordsADeviceUnderRemoteMaintenance() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.daicho");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        Registers registers = console.server().server().registers();
        Actor seed = Actor.server("test");
        registers.save(seed, RegisterKind.DEVICES, null, null, Map.of("name", "電子カルテサーバ（本番系）", "category",
                "server", "location", "本館3階サーバ室", "users", "情報システム室", "version",
                "Ubuntu 24.04 LTS / PostgreSQL 17.2 / Mamori", "state", "in_use", "end_of_support", "2029-04-30",
                "remote", "yes", "vendor", "株式会社さくら医療システム 保守部", "note", "二重化構成。保守はVPN経由で事前申請制。"), "", null);
        registers.save(seed, RegisterKind.DEVICES, null, null, Map.of("name", "外来受付端末 3番", "category", "terminal",
                "location", "外来受付", "state", "in_use", "remote", "no", "end_of_support", "2025-10-14",
                "eos_exception", "更新は令和9年度予算で実施。インターネットから切り離して運用。"), "2026-01-31", null);

        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.open("/console/compliance");
        b.find("#registers-link a").click();
        b.waitForPath("/console/compliance/registers", Duration.ofSeconds(10));
        assertEquals("台帳", b.find("h1").getText());
        assertTrue(b.text().contains("機器・ソフトウェア台帳") && b.text().contains("見直し期限切れ 1 件"), b.text());
        ConsoleSteps.shootAll(b, "registers-home");

        b.find("a[href='/console/compliance/register?r=devices']").click();
        b.waitForPath("/console/compliance/register", Duration.ofSeconds(10));
        String table = b.text();
        assertTrue(table.contains("電子カルテサーバ（本番系）") && table.contains("サーバ") && table.contains("はい")
                && table.contains("2029年4月30日"), table);
        assertFalse(table.contains("in_use") || table.contains("terminal") || table.contains("devices"),
                "no internal code: " + table);
        ConsoleSteps.shootAll(b, "registers-table");

        b.find("#register-new").click();
        b.waitForPath("/console/compliance/register/new", Duration.ofSeconds(10));
        String form = "/console/compliance/register/save";
        b.fill(form, "f.name", "院内ルータ");
        new Select(b.find("#f-category")).selectByVisibleText("ネットワーク機器");
        b.fill(form, "f.location", "本館1階 配線室");
        new Select(b.find("#f-state")).selectByVisibleText("使用中");
        b.find("input[name='f.remote'][value='yes']").click();
        b.submit("保存する");
        assertTrue(b.text().contains("リモート保守の機器は保守事業者を入力してください"), b.text());
        assertEquals("院内ルータ", b.find("#f-name").getAttribute("value"), "the typed name is kept");
        assertTrue(b.find("input[name='f.remote'][value='yes']").isSelected(), "the choice is kept");
        ConsoleSteps.shootAll(b, "registers-refused");

        // keyboard: the vendor field takes the focus
        b.find("#f-vendor").sendKeys("");
        assertEquals("f.vendor", b.driver().switchTo().activeElement().getAttribute("name"));
        b.fill(form, "f.vendor", "ネットワーク保守 株式会社");
        b.submit("保存する");
        assertTrue(b.text().contains("保存しました"), b.text());
        assertTrue(b.find("#history").getText().contains("第1版"), b.find("#history").getText());
        assertFalse(b.text().contains("network") || b.text().contains("in_use"), "no internal code: " + b.text());
        ConsoleSteps.shootAll(b, "registers-row");
    }
}
