package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.Dimension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mamori's サービス仕様適合開示書 (SDS) in a real Chromium (issue 20), as the hospital's security manager reads it before
 * an inspection: from 安全管理 to the disclosure, the settings in force, the coverage counts, one requirement with its
 * implementation opened. Screenshots at 1280x800, 768x1024 and 390x844 (target/screenshots/sds-*.png); no page scrolls
 * sideways.
 */
class SdsBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theSecurityManagerReadsTheDisclosureAndOpensOneRequirement() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.sds");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.driver().manage().window().setSize(new Dimension(1280, 800));
        b.find("#nav-compliance").click();
        b.waitForPath("/console/compliance", java.time.Duration.ofSeconds(10));
        b.find("#vendor-disclosure a").click();
        b.waitForPath("/console/compliance/sds", java.time.Duration.ofSeconds(10));
        assertEquals("サービス仕様適合開示書（SDS）", b.find("h1").getText());
        String text = b.text();
        assertTrue(text.contains("稼働中の設定") && text.contains("通信の暗号化") && text.contains("要件ごとの対応状況"),
                text.substring(0, Math.min(600, text.length())));
        ConsoleSteps.shootAll(b, "sds-top");
        b.js("document.getElementById('AUTH-2').scrollIntoView();");
        b.find("#AUTH-2 details summary").click();
        assertTrue(b.find("#AUTH-2 details").getText().contains("TOTP") || b.find("#AUTH-2 details").getText()
                .contains("second factor"), b.find("#AUTH-2").getText());
        b.js("document.getElementById('AUTH-2').scrollIntoView();");
        ConsoleSteps.shootAll(b, "sds-requirement");
    }
}
