package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-HTTP console server on loopback for a test class, and a fresh Chromium for each test. Without the
 * browser, each test is skipped (or fails, when {@code mamori.requireBrowser=true}). Register it as a static
 * field with {@code @RegisterExtension}; it runs before the class's own {@code @BeforeEach} methods.
 */
final class ConsoleInBrowser implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private final List<String> serverArgs;
    private TestServer server;
    private Browser browser;

    /** @param extraServeArgs options added to {@code serve --http} */
    ConsoleInBrowser(String... extraServeArgs) {
        serverArgs = new ArrayList<>(List.of("--http"));
        serverArgs.addAll(List.of(extraServeArgs));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (Browser.available()) {
            server = TestServer.start(serverArgs);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Browser.assumeAvailable();
        browser = Browser.start(server.consoleOrigin());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (browser != null) {
            browser.close();
            browser = null;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
        }
    }

    TestServer server() {
        return server;
    }

    Browser browser() {
        return browser;
    }
}
