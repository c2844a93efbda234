package jp.mamori.web.console;

import jp.mamori.identity.Logins;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Logging in with a password and an authenticator app's code, in a real Chromium. */
class TotpBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private TestServer server;
    private Browser browser;

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    @Test
    void anAccountEnrolledWithTheAuthenticatorAppLogsInWithPasswordAndCode() {
        ConsoleSteps.enrolWithCode(browser, server, "tanaka.kenji", false);
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.logOut(browser);
        browser.screenshot("login");

        ConsoleSteps.logInWithCode(browser, "tanaka.kenji", app.nextCode());
        assertEquals("/console/home", browser.path(), browser.text());
        assertTrue(browser.text().contains("佐藤 一郎"), browser.text());
        assertTrue(ConsoleSteps.loggedIn(browser));
    }

    @Test
    void aWrongCodeShowsTheErrorAndDoesNotLogIn() {
        ConsoleSteps.enrolWithCode(browser, server, "suzuki.yumi", false);
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.logOut(browser);

        ConsoleSteps.logInWithCode(browser, "suzuki.yumi", app.wrongCode());
        assertEquals("/console/login/factor", browser.path(), browser.text());
        assertEquals(401, browser.status());
        assertTrue(browser.find(".msg.error").getText().contains(Logins.WRONG_CODE.split(" / ")[0]), browser.text());
        ConsoleSteps.assertNotLoggedIn(browser);
    }
}
