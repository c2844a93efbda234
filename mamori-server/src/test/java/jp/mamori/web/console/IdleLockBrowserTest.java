package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The clear screen after idle time (AUTH-9) in a real Chromium: console.js locks, the server agrees. */
class IdleLockBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser("--session-idle-minutes", "1");
    private TestServer server;
    private Browser browser;

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    @Test
    void aPageLeftAloneForTheIdleTimeIsClearedAndLockedUntilPasswordAndCode() {
        ConsoleSteps.enrolWithCode(browser, server, "kobayashi.mei", false);
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        browser.open("/console/me");
        assertTrue(browser.dom().contains("kobayashi.mei") && browser.text().contains("認証手段"), browser.text());

        long start = System.nanoTime();
        browser.waitForPath("/console/lock", Duration.ofSeconds(90)); // nobody touches the page meanwhile
        long waited = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        assertTrue(waited >= 55, "locked after " + waited + " s, before the idle time of 60 s");
        assertTrue(browser.text().contains("画面はロックされています"), browser.text());
        String dom = browser.dom();
        assertFalse(dom.contains("kobayashi.mei") || dom.contains("認証手段") || dom.contains("ログイン中のセッション"),
                "the locked screen still holds the earlier page:\n" + dom);

        // Going back does not bring the page back: the server answers with the lock screen.
        browser.driver().navigate().back();
        assertFalse(browser.dom().contains("認証手段"), browser.dom());
        browser.open("/console/me");
        assertEquals("/console/lock", browser.path(), "a locked session opens nothing but the lock screen");

        browser.fill("/console/unlock", "password", ConsoleSteps.PASSWORD)
                .fill("/console/unlock", "code", app.nextCode()).submit("確認");
        // Back where the person was when the screen locked (issue 22), not on the home page.
        assertEquals("/console/me", browser.path(), browser.text());
        assertTrue(browser.text().contains("kobayashi.mei"), browser.text());
    }

    /**
     * A person writing for longer than the idle time without a request between (a long note) is not locked out
     * when they finally send it (issue 22: forms never lose text): while they type, the page tells the server at most
     * once a minute that its person is there. Without input the page still locks (the test above).
     */
    @Test
    void typingWithoutARequestForLongerThanTheIdleTimeKeepsTheSessionOpen() throws Exception {
        ConsoleSteps.enrolWithCode(browser, server, "kobayashi.ren", false);
        ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        browser.open("/console/me");
        org.openqa.selenium.WebElement body = browser.find("body");
        for (int i = 0; i < 6; i++) { // 75 s of typing, no request of the page's own
            Thread.sleep(12_500);
            new org.openqa.selenium.interactions.Actions(browser.driver()).sendKeys(body, "a").perform();
        }
        assertEquals("/console/me", browser.path(), "the page did not lock itself while the person typed");
        browser.open("/console/home");
        assertEquals("/console/home", browser.path(), "the server did not lock the session: " + browser.text());
    }
}
