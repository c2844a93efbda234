package jp.mamori.web.console;

import jp.mamori.identity.Logins;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Logging in with a password and an authenticator app's code, in a real Chromium. */
class TotpBrowserTest {
    private static TestServer server;
    private Browser browser;

    @BeforeAll
    static void startServer() {
        if (!Browser.available()) {
            return; // each test is skipped (or fails, in CI) in startBrowser
        }
        server = TestServer.start(List.of("--http"));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void startBrowser() {
        Browser.assumeAvailable();
        browser = Browser.start(server.consoleOrigin());
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.close();
        }
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
