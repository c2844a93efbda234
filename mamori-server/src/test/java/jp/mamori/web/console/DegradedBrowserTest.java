package jp.mamori.web.console;

import jp.mamori.db.Availability;
import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Degraded read-only mode in a real Chromium (issue 18 §2): the banner at the top of every page with since-when in JST,
 * a refused form's page saying what to do instead and keeping what was typed, the banner gone when normal again.
 * Screenshots at 1280x800, 768x1024 and 390x844 (target/screenshots/degraded-*.png); nothing sticks out sideways.
 */
class DegradedBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    @Test
    void theBannerAndARefusedFormAsAPersonSeesThem() {
        TestServer server = console.server();
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.degraded");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        Availability availability = server.server().database().availability();
        // the monitor would find the writable primary and switch back within seconds: paused while the test holds it
        server.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::close);
        availability.enterDegraded("test: only the standby answers");
        try {
            b.open("/console/home");
            String banner = b.find("#degraded-banner").getText();
            assertTrue(banner.contains("縮退運用中 — 参照のみ") && banner.contains("JST") && banner.contains("後入力"), banner);
            Screens.check(b, "degraded-home");

            b.open("/console/admin/mfa-exceptions");
            b.fill("/console/admin/mfa-exceptions", "name", "救急外来 処置室端末");
            b.fill("/console/admin/mfa-exceptions", "range", "10.1.2.3");
            b.fill("/console/admin/mfa-exceptions", "control", "ICカードと静脈認証で入室を管理している処置室");
            b.js("document.querySelector(\"form[action='/console/admin/mfa-exceptions'] [name='expires']\").value ="
                    + " '2027-03-31';");
            b.submit("例外を登録");
            assertEquals("縮退運用中のため保存できません", b.find("h1").getText(), b.path() + " " + b.text());
            assertTrue(b.find("#read-only-steps").getText().contains("紙"), b.text());
            String typed = b.find("#read-only-typed").getText() + " " + b.find("#typed-0").getAttribute("value") + " "
                    + b.find("#typed-2").getAttribute("value");
            assertTrue(typed.contains("救急外来 処置室端末") && typed.contains("ICカードと静脈認証で入室を管理している処置室"),
                    typed);
            assertEquals("入力 1", b.find("label[for='typed-0']").getText());
            Screens.check(b, "degraded-refused");
        } finally {
            availability.leaveDegraded("test: the primary is back");
            server.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::start);
        }
        b.open("/console/home");
        assertFalse(b.dom().contains("degraded-banner"), "the banner is gone");
    }
}
