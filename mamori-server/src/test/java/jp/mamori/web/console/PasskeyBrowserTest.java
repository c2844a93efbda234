package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.virtualauthenticator.Credential;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticator;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Passkeys in a real Chromium with its virtual authenticator: passkeys.js, the pages and the server together. */
class PasskeyBrowserTest {
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
    void theFirstAdministratorRegistersAPasskeyAndLogsInWithItWithoutTypingALoginId() {
        VirtualAuthenticator authenticator = browser.addAuthenticator(true);
        ConsoleSteps.setUpFirstAdministrator(browser, server, "yamada.hanako");
        browser.screenshot("enrolment");

        browser.click("パスキーを登録").waitForPath("/console/enrol/passkey", Duration.ofSeconds(20));
        ConsoleSteps.assertRecoveryCodesShown(browser);
        List<Credential> credentials = authenticator.getCredentials();
        assertEquals(1, credentials.size(), "the authenticator holds the new passkey");
        assertTrue(credentials.get(0).isResidentCredential(), "a discoverable passkey, so no login id is needed");
        assertTrue(server.server().identity().passkeys().hasAny(
                server.server().identity().accounts().findByLogin("yamada.hanako").orElseThrow().id()));

        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.logOut(browser);
        ConsoleSteps.assertNotLoggedIn(browser);

        browser.open("/console/login");
        browser.click("パスキーでログイン").waitForPath("/console/home", Duration.ofSeconds(20));
        assertTrue(browser.text().contains("山田 花子"), browser.text());
        assertTrue(browser.text().contains("アカウント管理（台帳）"), "the administrator's tiles:\n" + browser.text());
    }

    @Test
    void aPasskeyWithoutUserVerificationIsRefused() {
        VirtualAuthenticator authenticator = browser.addAuthenticator(true);
        ConsoleSteps.enrolWithCode(browser, server, "sato.ichiro", false);
        browser.click("パスキーを登録").waitForPath("/console/enrol/passkey", Duration.ofSeconds(20));
        ConsoleSteps.assertRecoveryCodesShown(browser);
        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.logOut(browser);

        // The same passkey, but now the authenticator does not verify who holds it (no PIN, no biometrics):
        // the browser cannot meet the page's "user verification required" and passkeys.js says so.
        authenticator.setUserVerified(false);
        browser.open("/console/login");
        browser.click("パスキーでログイン");
        String shown = browser.waitFor(d -> {
            String t = browser.find("form[data-passkey] [data-passkey-error]").getText();
            return t.isBlank() ? null : t;
        }, Duration.ofSeconds(20));
        assertTrue(shown.contains("操作がキャンセルされたか"), shown);
        assertEquals("/console/login", browser.path());
        ConsoleSteps.assertNotLoggedIn(browser);

        // A page tampered with to ask for no user verification gets an assertion without it from the same
        // authenticator; the server still requires it (its own copy of the request) and refuses, visibly.
        browser.open("/console/login");
        browser.js("var f = document.querySelector('form[data-passkey]');"
                + "var o = JSON.parse(f.getAttribute('data-options')); o.userVerification = 'discouraged';"
                + "f.setAttribute('data-options', JSON.stringify(o));");
        browser.click("パスキーでログイン").waitForPath("/console/login/passkey", Duration.ofSeconds(20));
        assertEquals(401, browser.status());
        assertFalse(browser.find(".msg.error").getText().isBlank(), browser.text());
        ConsoleSteps.assertNotLoggedIn(browser);
    }
}
