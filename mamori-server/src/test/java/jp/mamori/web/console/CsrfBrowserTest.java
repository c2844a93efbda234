package jp.mamori.web.console;

import com.sun.net.httpserver.HttpServer;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-site request forgery in a real Chromium: a page on another origin posts forms into the console while
 * the person is logged in, and a console form loses its CSRF field. Nothing may change.
 */
class CsrfBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private TestServer server;
    /** The other site: a second loopback server whose pages are set per test. */
    private static HttpServer otherSite;
    private static final Map<String, String> PAGES = new ConcurrentHashMap<>();
    private Browser browser;

    @BeforeAll
    static void startServers() throws IOException {
        otherSite = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        otherSite.createContext("/", ex -> {
            String page = PAGES.getOrDefault(ex.getRequestURI().getPath(), "not here");
            byte[] body = page.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/html;charset=UTF-8");
            ex.sendResponseHeaders(page.equals("not here") ? 404 : 200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        otherSite.start();
    }

    @AfterAll
    static void stopServers() {
        if (otherSite != null) {
            otherSite.stop(0);
        }
    }

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    @Test
    void formsPostedFromAnotherSiteWhileLoggedInAreRefusedAndChangeNothing() throws SQLException {
        UUID admin = loggedInAdministrator("ito.admin");
        UUID other = staffAccount("nakamura.ken");
        browser.open("/console/admin/accounts");
        assertTrue(browser.text().contains("nakamura.ken"), browser.text());
        browser.screenshot("ledger");
        String passwordBefore = passwordHash(admin);

        String console = server.consoleOrigin();
        String attacker = "http://127.0.0.1:" + otherSite.getAddress().getPort();
        PAGES.put("/password.html", autoSubmit(console + "/console/me/password", Map.of("csrf", "guess",
                "current", ConsoleSteps.PASSWORD, "password", "Attacker-chose-this-1", "password2", "Attacker-chose-this-1")));
        PAGES.put("/suspend.html", autoSubmit(console + "/console/admin/account/suspend", Map.of("csrf", "guess",
                "id", other.toString(), "reason", "forged")));

        browser.open(attacker + "/password.html").waitForPath("/console/me/password", Duration.ofSeconds(10));
        assertEquals(403, browser.status(), browser.text());
        assertTrue(browser.text().contains("他のサイトからの操作は受け付けません"), browser.text());
        assertEquals(passwordBefore, passwordHash(admin), "the password must not change");

        browser.open(attacker + "/suspend.html").waitForPath("/console/admin/account/suspend", Duration.ofSeconds(10));
        assertEquals(403, browser.status(), browser.text());
        assertEquals(Account.Status.CREATED, status(other), "the account must not be suspended");

        assertTrue(ConsoleSteps.loggedIn(browser), "the person is still logged in, and nothing was done for them");
    }

    @Test
    void aConsoleFormWithoutItsCsrfFieldIsRefused() {
        loggedInAdministrator("kato.admin");
        UUID other = staffAccount("kimura.aya");
        browser.open("/console/admin/account?id=" + other);
        browser.js("document.querySelector(\"form[action='/console/admin/account/suspend'] input[name='csrf']\").remove();");
        browser.fill("/console/admin/account/suspend", "reason", "異動のため").submit("停止");
        assertEquals("/console/admin/account/suspend", browser.path());
        assertEquals(403, browser.status(), browser.text());
        assertTrue(browser.text().contains("この操作は受け付けられません"), browser.text());
        assertEquals(Account.Status.CREATED, status(other), "the account must not be suspended");

        // The same form with its field is accepted: the refusal was the missing token, not the action.
        browser.open("/console/admin/account?id=" + other);
        browser.fill("/console/admin/account/suspend", "reason", "異動のため").submit("停止");
        assertEquals(200, browser.status(), browser.text());
        assertEquals(Account.Status.SUSPENDED, status(other));
    }

    private UUID loggedInAdministrator(String loginId) {
        UUID id = ConsoleSteps.enrolWithCode(browser, server, loginId, true);
        ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        return id;
    }

    private UUID staffAccount(String loginId) {
        return server.server().identity().accounts().create(new Accounts.NewAccount(loginId, "木村", "彩", "キムラ", "アヤ",
                Account.Type.STAFF, List.of(), List.of(), Set.of(), new Accounts.Proofing("in_person", "staff_id",
                        "browser test", "account:test-admin", Instant.now())), "account:test-admin").id();
    }

    private Account.Status status(UUID account) {
        return server.server().identity().accounts().find(account).orElseThrow().status();
    }

    private String passwordHash(UUID account) throws SQLException {
        try (Connection c = server.server().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT phc FROM password_credential WHERE account_id = ?")) {
            ps.setObject(1, account);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getString(1);
            }
        }
    }

    /** A page that posts a form to {@code action} as soon as it loads, as a forging site would. */
    private static String autoSubmit(String action, Map<String, String> fields) {
        StringBuilder b = new StringBuilder("<!DOCTYPE html><html><body onload=\"document.forms[0].submit()\">"
                + "<form method=\"post\" action=\"" + action + "\">");
        fields.forEach((k, v) -> b.append("<input type=\"hidden\" name=\"").append(k).append("\" value=\"")
                .append(v).append("\">"));
        return b.append("</form></body></html>").toString();
    }
}
