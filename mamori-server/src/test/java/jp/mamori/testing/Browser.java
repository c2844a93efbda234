package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.openqa.selenium.virtualauthenticator.HasVirtualAuthenticator;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticator;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real, headless Chromium driven through chromedriver, for console tests. Uses Debian's {@code chromium} and
 * {@code chromium-driver} at fixed paths (so Selenium Manager never looks for, or downloads, anything), a fresh
 * profile each time, and no background networking (the test machines have no internet).
 * <p>Tests call {@link #assumeAvailable()} first: without the browser they are skipped, unless the system
 * property {@code mamori.requireBrowser=true} is set (CI), in which case they fail.
 */
public final class Browser implements AutoCloseable {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * Selenium looks for a DevTools (CDP) binding matching the browser's version and warns when it has none;
     * these tests use only WebDriver commands (the virtual authenticator included), so the warning is noise.
     * Held here so the loggers keep their level.
     */
    private static final List<java.util.logging.Logger> QUIET = Stream.of("org.openqa.selenium.devtools",
                    "org.openqa.selenium.chromium")
            .map(java.util.logging.Logger::getLogger).peek(l -> l.setLevel(java.util.logging.Level.SEVERE)).toList();

    private final ChromeDriver driver;
    private final Path profile;
    private final String origin;

    private Browser(ChromeDriver driver, Path profile, String origin) {
        this.driver = driver;
        this.profile = profile;
        this.origin = origin;
    }

    /** Whether chromium and chromedriver are installed (tests start their server only then). */
    public static boolean available() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    /**
     * Skips the calling test when the browser is not installed, or fails it when the build requires one.
     * Call it before each test (not in {@code @BeforeAll}, where a skip would not be reported per test).
     */
    public static void assumeAvailable() {
        boolean present = available();
        String why = "browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                + "): apt-get install chromium chromium-driver";
        if (!present && Boolean.getBoolean("mamori.requireBrowser")) {
            Assertions.fail(why + " (-Dmamori.requireBrowser=true, so they may not be skipped)");
        }
        Assumptions.assumeTrue(present, why + "; skipped");
    }

    /** Starts a browser whose relative addresses ({@link #open}) go to {@code origin}, e.g. http://localhost:8080. */
    public static Browser start(String origin) {
        return start(origin, java.util.List.of());
    }

    /**
     * The same with further Chromium arguments, e.g. one that trusts exactly the key of a test server on another
     * origin ({@code --ignore-certificate-errors-spki-list=...}, the identity provider of the federation tests).
     */
    public static Browser start(String origin, java.util.List<String> extraArguments) {
        assumeAvailable();
        try {
            Path logs = Files.createDirectories(Path.of("target", "browser"));
            Path profile = Files.createTempDirectory(logs, "profile-").toAbsolutePath();
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort()
                    .withLogFile(logs.resolve("chromedriver-" + profile.getFileName() + ".log").toFile())
                    .build();
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,1000", "--lang=ja");
            options.addArguments(extraArguments);
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
            return new Browser(driver, profile, origin);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Adds a platform authenticator (passkeys): CTAP2, internal, resident keys, user verification. */
    public VirtualAuthenticator addAuthenticator(boolean userVerified) {
        return ((HasVirtualAuthenticator) driver).addVirtualAuthenticator(new VirtualAuthenticatorOptions()
                .setProtocol(VirtualAuthenticatorOptions.Protocol.CTAP2)
                .setTransport(VirtualAuthenticatorOptions.Transport.INTERNAL)
                .setHasResidentKey(true)
                .setHasUserVerification(true)
                .setIsUserVerified(userVerified)
                .setIsUserConsenting(true));
    }

    /** Opens a path on the origin (or a full URL). */
    public Browser open(String pathOrUrl) {
        driver.get(pathOrUrl.startsWith("http") ? pathOrUrl : origin + pathOrUrl);
        return this;
    }

    /** The path of the current page, e.g. /console/home. */
    public String path() {
        return URI.create(driver.getCurrentUrl()).getPath();
    }

    /** What the page shows (rendered text, as a person reads it). */
    public String text() {
        return driver.findElement(By.tagName("body")).getText();
    }

    /** The page's current DOM as HTML. */
    public String dom() {
        return (String) js("return document.documentElement.outerHTML;");
    }

    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    /** Types into the field named {@code name} in the form that posts to {@code action}. */
    public Browser fill(String action, String name, String value) {
        WebElement e = find("form[action='" + action + "'] [name='" + name + "']");
        e.clear();
        e.sendKeys(value);
        return this;
    }

    /** Clicks the button labelled {@code label} (the first visible one) and waits for the next page. */
    public Browser submit(String label) {
        WebElement button = button(label);
        js("window.mamoriEarlierPage = true;");
        button.click();
        // A new document has no such variable. (Waiting for the old <html> element to go stale races with the
        // navigation: chromedriver may answer "node does not belong to the document" instead of "stale".)
        waitFor(d -> {
            try {
                return Boolean.TRUE.equals(js("return !window.mamoriEarlierPage && document.readyState === 'complete';"));
            } catch (org.openqa.selenium.WebDriverException e) {
                return false; // between documents
            }
        }, WAIT);
        return this;
    }

    /** Clicks the button labelled {@code label} without waiting for anything. */
    public Browser click(String label) {
        button(label).click();
        return this;
    }

    public WebElement button(String label) {
        return driver.findElements(By.xpath("//button[normalize-space()=" + xpathString(label) + "]")).stream()
                .filter(WebElement::isDisplayed).findFirst()
                .orElseThrow(() -> new AssertionError("no button \"" + label + "\" on " + path() + ":\n" + text()));
    }

    /** Waits until the page is at {@code path} (e.g. after a passkey ceremony posts its form). */
    public Browser waitForPath(String path, Duration timeout) {
        try {
            waitFor(d -> path.equals(path()), timeout);
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("expected " + path + " within " + timeout + " but the browser is at " + path()
                    + ":\n" + text(), e);
        }
        return this;
    }

    public <T> T waitFor(java.util.function.Function<? super org.openqa.selenium.WebDriver, T> condition,
                         Duration timeout) {
        return new WebDriverWait(driver, timeout, Duration.ofMillis(100)).until(condition);
    }

    /** The HTTP status of the page now shown (Navigation Timing). */
    public int status() {
        return ((Number) js("return performance.getEntriesByType('navigation')[0].responseStatus;")).intValue();
    }

    /** Saves a PNG of the viewport to target/screenshots/NAME.png and returns its path. */
    public Path screenshot(String name) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            Path out = dir.resolve(name + ".png");
            Files.write(out, driver.getScreenshotAs(OutputType.BYTES));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String xpathString(String s) {
        return s.contains("'") ? "\"" + s + "\"" : "'" + s + "'";
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException ignored) {
                // a profile left in target/ is harmless
            }
        }
    }
}
