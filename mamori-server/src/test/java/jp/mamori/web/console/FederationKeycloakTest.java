package jp.mamori.web.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.federation.Federation;
import jp.mamori.identity.Sessions;
import jp.mamori.identity.Totp;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TcpProxy;
import jp.mamori.testing.TestKeycloak;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sign-in through a real identity provider (issue 21; AUTH-1, AUTH-2, AUTH-5, AUTH-10): Keycloak's distribution started
 * by the tests ({@link TestKeycloak}), reached through a TCP proxy that can be cut (the provider down), and Mamori on
 * plain HTTP on localhost, driven by Chromium through Keycloak's own login pages. In order: an administrator registers
 * the provider (http and unreachable discovery URLs refused with a clear message); people link their accounts after a
 * local sign-in with two factors (a subject linked elsewhere is refused); sign-in with Keycloak's OTP (amr "otp", the
 * registered rule) gives a complete session, without it Mamori asks its own second factor; an unlinked subject and a
 * suspended account are refused; the provider down is said on the login page and local sign-in still works. The
 * refusals of the callback (state missing, unknown, replayed, from another browser, expired; access_denied; a code
 * with a wrong PKCE verifier) are driven over HTTP with Keycloak's login form. Screenshots in target/screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FederationKeycloakTest {
    static final String REALM = "hospital";
    static final String CLIENT = "mamori";
    static final String CLIENT_SECRET = "kc-client-secret-21-" + UUID.randomUUID();
    /** The OTP secret of sato.otp at Keycloak: Keycloak keys its HMAC with the secret's bytes as stored. */
    static final String KC_OTP_SECRET = "mamori-kc-otp-secret";
    static final String KC_PASSWORD = "Kc-Passw0rd-21!";
    static final ObjectMapper JSON = new ObjectMapper();

    static TestKeycloak kc;
    static TcpProxy proxy;
    static TestServer server;
    static UUID sato;
    static UUID suzuki;
    static ConsoleSteps.App satoApp;
    static ConsoleSteps.App suzukiApp;
    static long kcOtpStep = -1;
    Browser b;

    @BeforeAll
    static void start() throws Exception {
        Browser.assumeAvailable();
        TestKeycloak.assumeAvailable();
        kc = TestKeycloak.shared();
        proxy = TcpProxy.to(kc.port());
        server = TestServer.start(List.of("--http"));
        kc.createRealm(realm(server.consoleOrigin() + Federation.CALLBACK_PATH));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeBrowser() {
        if (b != null) {
            b.close();
            b = null;
        }
    }

    Browser browser() {
        b = Browser.start(server.consoleOrigin(), List.of(kc.chromiumTrust()));
        return b;
    }

    static String kcOrigin() {
        return "https://localhost:" + proxy.port();
    }

    static String discovery() {
        return kcOrigin() + "/realms/" + REALM + "/.well-known/openid-configuration";
    }

    /** The realm: a client for Mamori, a browser flow whose steps give amr "pwd" and "otp", and three people. */
    static JsonNode realm(String redirect) throws Exception {
        String otpCredential = JSON.writeValueAsString(java.util.Map.of("type", "otp", "userLabel", "app",
                "secretData", "{\"value\":\"" + KC_OTP_SECRET + "\"}", "credentialData",
                "{\"subType\":\"totp\",\"digits\":6,\"counter\":0,\"period\":30,\"algorithm\":\"HmacSHA1\"}"));
        String json = """
                {"realm": "%s", "enabled": true, "sslRequired": "external", "browserFlow": "mamori browser",
                 "otpPolicyType": "totp", "otpPolicyAlgorithm": "HmacSHA1", "otpPolicyDigits": 6, "otpPolicyPeriod": 30,
                 "otpPolicyLookAheadWindow": 2,
                 "authenticatorConfig": [
                   {"alias": "pwd-reference", "config": {"default.reference.value": "pwd", "default.reference.maxAge": "300"}},
                   {"alias": "otp-reference", "config": {"default.reference.value": "otp", "default.reference.maxAge": "300"}}],
                 "authenticationFlows": [
                   {"alias": "mamori browser", "providerId": "basic-flow", "topLevel": true, "builtIn": false,
                    "authenticationExecutions": [
                      {"authenticator": "auth-username-password-form", "authenticatorConfig": "pwd-reference",
                       "requirement": "REQUIRED", "priority": 10, "authenticatorFlow": false, "userSetupAllowed": false},
                      {"flowAlias": "mamori otp", "requirement": "CONDITIONAL", "priority": 20, "authenticatorFlow": true,
                       "userSetupAllowed": false}]},
                   {"alias": "mamori otp", "providerId": "basic-flow", "topLevel": false, "builtIn": false,
                    "authenticationExecutions": [
                      {"authenticator": "conditional-user-configured", "requirement": "REQUIRED", "priority": 10,
                       "authenticatorFlow": false, "userSetupAllowed": false},
                      {"authenticator": "auth-otp-form", "authenticatorConfig": "otp-reference", "requirement": "REQUIRED",
                       "priority": 20, "authenticatorFlow": false, "userSetupAllowed": false}]}],
                 "clients": [
                   {"clientId": "%s", "enabled": true, "protocol": "openid-connect", "publicClient": false,
                    "clientAuthenticatorType": "client-secret", "secret": "%s", "redirectUris": ["%s"],
                    "standardFlowEnabled": true, "directAccessGrantsEnabled": false, "implicitFlowEnabled": false,
                    "attributes": {"pkce.code.challenge.method": "S256"},
                    "protocolMappers": [
                      {"name": "amr", "protocol": "openid-connect", "protocolMapper": "oidc-amr-mapper",
                       "consentRequired": false,
                       "config": {"id.token.claim": "true", "access.token.claim": "true", "introspection.token.claim": "true"}}]}],
                 "users": [
                   {"username": "sato.otp", "enabled": true, "firstName": "Ichiro", "lastName": "Sato",
                    "email": "sato@hospital.example.jp", "emailVerified": true,
                    "credentials": [{"type": "password", "value": "%s", "temporary": false}, %s]},
                   {"username": "suzuki.pwd", "enabled": true, "firstName": "Taro", "lastName": "Suzuki",
                    "email": "suzuki@hospital.example.jp", "emailVerified": true,
                    "credentials": [{"type": "password", "value": "%s", "temporary": false}]},
                   {"username": "tanaka.pwd", "enabled": true, "firstName": "Ken", "lastName": "Tanaka",
                    "email": "tanaka@hospital.example.jp", "emailVerified": true,
                    "credentials": [{"type": "password", "value": "%s", "temporary": false}]}]}
                """.formatted(REALM, CLIENT, CLIENT_SECRET, redirect, KC_PASSWORD, otpCredential, KC_PASSWORD,
                KC_PASSWORD);
        return JSON.readTree(json);
    }

    /** The next code of sato.otp's authenticator at Keycloak (never a time step used before: Keycloak refuses it). */
    static String kcOtp() throws InterruptedException {
        while (Totp.step(Instant.now()) <= kcOtpStep) {
            Thread.sleep(500);
        }
        kcOtpStep = Totp.step(Instant.now());
        return Totp.code(KC_OTP_SECRET.getBytes(StandardCharsets.US_ASCII), kcOtpStep);
    }

    Federation federation() {
        return server.server().federation();
    }

    /** In Chromium at Keycloak's login page: the person's name and password, and the OTP when asked. */
    void atKeycloak(String user, boolean otp) throws InterruptedException {
        try {
            b.waitFor(d -> d.getCurrentUrl().startsWith(kcOrigin()) && !d.findElements(By.id("username")).isEmpty(),
                    Duration.ofSeconds(30));
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("not at Keycloak's login page but at " + b.driver().getCurrentUrl() + ":\n"
                    + b.text(), e);
        }
        b.driver().findElement(By.id("username")).sendKeys(user);
        b.driver().findElement(By.id("password")).sendKeys(KC_PASSWORD);
        b.driver().findElement(By.id("kc-login")).click();
        if (otp) {
            b.waitFor(d -> !d.findElements(By.id("otp")).isEmpty(), Duration.ofSeconds(30));
            // Under a loaded CI machine a code can reach Keycloak after its window; Keycloak then shows the OTP form
            // again with "Invalid authenticator code". One more try, always with a fresh time step, is then fair.
            for (int attempt = 1; ; attempt++) {
                b.driver().findElement(By.id("otp")).sendKeys(kcOtp());
                b.driver().findElement(By.id("kc-login")).click();
                try {
                    b.waitFor(d -> !d.getCurrentUrl().startsWith(kcOrigin())
                            || !d.findElements(By.id("input-error-otp-code")).isEmpty()
                            || d.getPageSource().contains("Invalid authenticator code"), Duration.ofSeconds(30));
                } catch (org.openqa.selenium.TimeoutException stillAtKeycloak) {
                    break; // another page of Keycloak's: the test's own assertions say what it should be
                }
                boolean refused = b.driver().getCurrentUrl().startsWith(kcOrigin())
                        && !b.driver().findElements(By.id("otp")).isEmpty();
                if (!refused || attempt == 2) {
                    break;
                }
                b.driver().findElement(By.id("otp")).clear();
            }
        }
    }

    void signInThroughProvider(String user, boolean otp) throws InterruptedException {
        b.open("/console/login");
        b.find("#idp-button").click();
        atKeycloak(user, otp);
    }

    /** The callback's answer once the browser is back at Mamori. */
    String afterCallback(String path) {
        try {
            b.waitFor(d -> d.getCurrentUrl().startsWith(server.consoleOrigin() + path), Duration.ofSeconds(30));
        } catch (org.openqa.selenium.TimeoutException e) {
            throw new AssertionError("expected " + path + " but the browser is at " + b.driver().getCurrentUrl()
                    + ":\n" + b.text(), e);
        }
        b.waitFor(d -> "complete".equals(b.js("return document.readyState;")), Duration.ofSeconds(30));
        return b.text();
    }

    static Optional<String> amrOf(UUID account) {
        return server.server().identity().sessions().open(Optional.of(account)).stream()
                .filter(i -> i.stage() == Sessions.Stage.AUTHENTICATED).map(Sessions.Info::amr)
                .filter(a -> a.startsWith("oidc")).findFirst();
    }

    @Test
    @Order(1)
    void anAdministratorRegistersTheProviderAfterItsChecks() throws Exception {
        browser();
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.oidc");
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        assertTrue(b.find("#federation-link").getText().contains("外部IDプロバイダ"), b.text());
        b.open("/console/admin/federation");
        assertTrue(b.text().contains("IDプロバイダは登録されていません"), b.text());
        assertTrue(b.find("#redirect-uri").getText().endsWith(Federation.CALLBACK_PATH));

        // http is refused before anything is fetched
        fill("http://localhost:" + proxy.port() + "/realms/" + REALM + "/.well-known/openid-configuration", "");
        b.submit("登録する");
        assertTrue(b.text().contains("https:// で始まる必要があります"), b.text());
        // nothing listens there
        fill("https://localhost:1/realms/" + REALM + "/.well-known/openid-configuration", "");
        b.submit("登録する");
        assertTrue(b.text().contains("探索URLに接続できません"), b.text());
        // the provider's certificate is of the test PKI, which the JDK does not trust: refused until its CA is given
        fill(discovery(), "");
        b.submit("登録する");
        assertTrue(b.text().contains("探索URLに接続できません"), b.text());
        // the right one, with the CA that issued Keycloak's certificate
        fill(discovery(), kc.caPem());
        b.submit("登録する");
        assertTrue(b.text().contains("IDプロバイダを登録しました"), b.text());
        String rule = b.find("#rule-text").getText();
        assertTrue(rule.contains("amr に「otp」"), rule);
        assertTrue(b.text().contains("Mamori Test Root CA"), b.text());
        Federation.Provider p = federation().active().orElseThrow();
        assertEquals(kcOrigin() + "/realms/" + REALM, p.issuer());
        assertEquals(List.of("otp"), p.mfaAmr());
        ConsoleSteps.shootAll(b, "federation-admin");
        shootAt("federation-admin-form", "#register");
        shootAt("federation-admin-links", "#links");
    }

    /** Screenshots at the three widths with {@code css} scrolled to the top (the part below the fold). */
    void shootAt(String name, String css) {
        for (int[] size : new int[][]{{1280, 800}, {768, 1024}, {390, 844}}) {
            b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(size[0], size[1]));
            long scrollWidth = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
            long viewport = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
            assertTrue(scrollWidth <= viewport, name + ": the page is " + scrollWidth + " px wide in a " + viewport
                    + " px window");
            b.js("document.querySelector(arguments[0]).scrollIntoView();", css);
            try {
                Thread.sleep(300); // the layout after the resize settles before the picture (no assertion waits on it)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.println("screenshot " + b.screenshot(name + "-" + size[0]).toAbsolutePath());
        }
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));
    }

    private void fill(String discovery, String ca) {
        b.fill("/console/admin/federation", "display_name", "病院ID");
        b.fill("/console/admin/federation", "discovery_url", discovery);
        b.fill("/console/admin/federation", "client_id", CLIENT);
        b.fill("/console/admin/federation", "client_secret", CLIENT_SECRET);
        b.fill("/console/admin/federation", "mfa_amr", "otp");
        b.find("form[action='/console/admin/federation'] [name='ca_pem']").clear();
        if (!ca.isEmpty()) {
            b.find("form[action='/console/admin/federation'] [name='ca_pem']").sendKeys(ca);
        }
    }

    @Test
    @Order(2)
    void peopleLinkTheirAccountsAfterALocalSignInWithTwoFactors() throws Exception {
        browser();
        sato = ConsoleSteps.enrolWithCode(b, server, "sato.i", false);
        satoApp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.open("/console/me");
        assertTrue(b.find("#federation").getText().contains("病院IDと連携する"), b.text());
        shootAt("federation-account", "#federation");
        b.find("#link-button").click();
        atKeycloak("sato.otp", true);
        String page = afterCallback("/console/me");
        assertTrue(page.contains("病院のIDと連携しました"), page);
        shootAt("federation-account-linked", "#federation");
        List<Federation.Link> links = federation().linksOf(sato);
        assertEquals(1, links.size());
        assertEquals(federation().active().orElseThrow().issuer(), links.get(0).issuer());
        assertTrue(auditEntries("federation.link", "sato.i") > 0, "the link is in the audit trail");
        b.close();

        // another person cannot link the same identity at the provider
        browser();
        UUID ito = ConsoleSteps.enrolWithCode(b, server, "ito.k", false);
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.open("/console/me");
        b.find("#link-button").click();
        atKeycloak("sato.otp", true);
        page = afterCallback(Federation.CALLBACK_PATH);
        assertTrue(page.contains("別のアカウントに連携されています"), page);
        assertTrue(federation().linksOf(ito).isEmpty());
        assertTrue(auditEntries("federation.refused", "ito.k") > 0, "the refusal is in the audit trail");
        b.close();

        // suzuki links an identity without OTP at the provider
        browser();
        suzuki = ConsoleSteps.enrolWithCode(b, server, "suzuki.t", false);
        suzukiApp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        b.open("/console/me");
        b.find("#link-button").click();
        atKeycloak("suzuki.pwd", false);
        assertTrue(afterCallback("/console/me").contains("病院のIDと連携しました"));
        assertEquals(1, federation().linksOf(suzuki).size());
    }

    @Test
    @Order(3)
    void theProvidersMfaGivesACompleteSession() throws Exception {
        browser();
        b.open("/console/login");
        assertTrue(b.find("#idp-button").getText().contains("病院IDでサインイン"), b.text());
        ConsoleSteps.shootAll(b, "federation-login");
        signInThroughProvider("sato.otp", true);
        afterCallback("/console/home");
        assertEquals(Optional.of("oidc+mfa"), amrOf(sato));
    }

    @Test
    @Order(4)
    void withoutTheProvidersMfaMamoriAsksItsOwnSecondFactor() throws Exception {
        browser();
        signInThroughProvider("suzuki.pwd", false);
        afterCallback("/console/login/factor");
        b.fill("/console/login/factor", "code", suzukiApp.nextCodeInWindow()).submit("ログイン");
        assertEquals("/console/home", b.path(), b.text());
        assertEquals(Optional.of("oidc+otp"), amrOf(suzuki));
    }

    @Test
    @Order(5)
    void anUnlinkedSubjectAndASuspendedAccountAreRefused() throws Exception {
        browser();
        signInThroughProvider("tanaka.pwd", false);
        String page = afterCallback(Federation.CALLBACK_PATH);
        assertTrue(page.contains("この外部IDはMamoriのアカウントに連携されていません"), page);
        ConsoleSteps.shootAll(b, "federation-refused-unlinked");
        assertTrue(count("SELECT count(*) FROM auth_event WHERE event = 'login.oidc' AND outcome = 'failure'"
                + " AND detail LIKE 'unlinked subject%'") >= 1);
        b.close();

        server.server().identity().accounts().suspend(suzuki, "休職", "account:kanri.oidc");
        browser();
        signInThroughProvider("suzuki.pwd", false);
        page = afterCallback(Federation.CALLBACK_PATH);
        assertTrue(page.contains("ログインIDまたはパスワードが正しくないか、現在ログインできません"), page);
        assertTrue(count("SELECT count(*) FROM auth_event WHERE event = 'login.oidc' AND outcome = 'failure'"
                + " AND detail LIKE '%account suspended%'") >= 1);
        server.server().identity().accounts().reactivate(suzuki, "復職", "account:kanri.oidc");
    }

    @Test
    @Order(6)
    void whenTheProviderIsDownTheLoginPageSaysSoAndLocalSignInWorks() throws Exception {
        browser();
        proxy.cut();
        try {
            b.open("/console/login");
            b.find("#idp-button").click();
            String page = afterCallback("/console/login/oidc");
            assertTrue(page.contains("外部IDプロバイダに接続できません"), page);
            assertTrue(page.contains("パスワードと二要素目"), page);
            b.open("/console/login");
            String notice = b.find("#idp-down").getText();
            assertTrue(notice.contains("現在、IDプロバイダに接続できません"), notice);
            assertTrue(notice.contains("パスワード"), notice);
            ConsoleSteps.shootAll(b, "federation-login-down");
            assertTrue(count("SELECT count(*) FROM auth_event WHERE event = 'login.oidc' AND outcome = 'failure'"
                    + " AND detail LIKE 'provider unreachable%'") >= 1);
            ConsoleSteps.logInWithCode(b, "sato.i", satoApp.nextCodeInWindow());
            assertEquals("/console/home", b.path(), b.text());
        } finally {
            proxy.restore();
        }
    }

    // ---- the callback's refusals, over HTTP with Keycloak's login form -------------------------------------------

    /** A browser without a window: its own cookies for Mamori and Keycloak, no redirects followed. */
    static final class Agent {
        final HttpClient http;

        Agent() throws Exception {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", kc.root());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            http = HttpClient.newBuilder().sslContext(ctx).cookieHandler(new CookieManager())
                    .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10)).build();
        }

        HttpResponse<String> get(String url) throws Exception {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> post(String url, String form, String origin) throws Exception {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form));
            if (origin != null) {
                r.header("Origin", origin);
            }
            return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        }

        /** Starts a sign-in at Mamori; returns the provider's authorization URL. */
        String start() throws Exception {
            HttpResponse<String> login = get(server.consoleOrigin() + "/console/login");
            Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(login.body());
            assertTrue(m.find(), login.body());
            HttpResponse<String> r = post(server.consoleOrigin() + "/console/login/oidc", "csrf="
                    + URLEncoder.encode(m.group(1), StandardCharsets.UTF_8), server.consoleOrigin());
            assertEquals(200, r.statusCode(), r.body());
            Matcher to = Pattern.compile("content=\"0;url=([^\"]+)\"").matcher(r.body());
            assertTrue(to.find(), r.body());
            return to.group(1).replace("&amp;", "&");
        }

        /** At Keycloak's login form with a password-only person: the callback URL Keycloak sends the browser to. */
        String atKeycloak(String authorize, String user) throws Exception {
            HttpResponse<String> form = get(authorize);
            assertEquals(200, form.statusCode(), form.body());
            Matcher m = Pattern.compile("<form[^>]*id=\"kc-form-login\"[^>]*>").matcher(form.body());
            assertTrue(m.find(), form.body());
            Matcher a = Pattern.compile("action=\"([^\"]+)\"").matcher(m.group());
            assertTrue(a.find(), m.group());
            HttpResponse<String> r = post(a.group(1).replace("&amp;", "&"), "username=" + user + "&password="
                    + URLEncoder.encode(KC_PASSWORD, StandardCharsets.UTF_8) + "&credentialId=", null);
            assertEquals(302, r.statusCode(), r.body());
            String to = r.headers().firstValue("Location").orElseThrow();
            assertTrue(to.startsWith(server.consoleOrigin() + Federation.CALLBACK_PATH), to);
            return to;
        }
    }

    static String param(String url, String name) {
        Matcher m = Pattern.compile("[?&]" + name + "=([^&]+)").matcher(url);
        assertTrue(m.find(), url);
        return java.net.URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
    }

    static long count(String sql) throws Exception {
        try (Connection c = server.server().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Audit entries of {@code action} whose entry mentions {@code text} (the appender moves them in soon after). */
    static long auditEntries(String action, String text) throws Exception {
        for (int i = 0; i < 100; i++) {
            try (Connection c = server.server().database().dataSource().getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action = ? AND"
                         + " convert_from(entry, 'UTF8') LIKE ?")) {
                ps.setString(1, action);
                ps.setString(2, "%" + text + "%");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return rs.getLong(1);
                    }
                }
            }
            Thread.sleep(100);
        }
        return 0;
    }

    static void sql(String sql, String stateValue) throws Exception {
        try (Connection c = server.server().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setBytes(1, java.security.MessageDigest.getInstance("SHA-256").digest(
                    stateValue.getBytes(StandardCharsets.UTF_8)));
            ps.executeUpdate();
        }
    }

    static void refused(HttpResponse<String> r, String words) {
        assertEquals(401, r.statusCode(), r.body());
        assertTrue(r.body().contains(words), r.body());
    }

    @Test
    @Order(7)
    void theCallbackRefusesWhatItShould() throws Exception {
        String callback = server.consoleOrigin() + Federation.CALLBACK_PATH;
        Agent agent = new Agent();

        // no state, a state never given
        refused(agent.get(callback + "?code=abc"), "stateがありません");
        refused(agent.get(callback + "?code=abc&state=never-given-" + UUID.randomUUID()), "不明なstate");

        // a real round trip: the first callback signs in (the second factor due), the same one again is a replay
        String back = agent.atKeycloak(agent.start(), "suzuki.pwd");
        HttpResponse<String> first = agent.get(back);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.body().contains("url=/console/login/factor"), first.body());
        refused(agent.get(back), "既に使われています");

        // the callback in another browser (without this one's binding cookie)
        back = agent.atKeycloak(agent.start(), "suzuki.pwd");
        refused(new Agent().get(back), "別のブラウザ");

        // the provider says access_denied
        String authorize = agent.start();
        refused(agent.get(callback + "?error=access_denied&state=" + URLEncoder.encode(param(authorize, "state"),
                StandardCharsets.UTF_8)), "取り消されたか、拒否されました");

        // older than its ten minutes
        authorize = agent.start();
        back = agent.atKeycloak(authorize, "suzuki.pwd");
        sql("UPDATE oidc_flow SET expires_at = now() - interval '1 minute' WHERE state_hash = ?",
                param(authorize, "state"));
        refused(agent.get(back), "有効期限（10分）が切れました");

        // a PKCE verifier that is not the one the challenge was made from: Keycloak refuses the code
        authorize = agent.start();
        back = agent.atKeycloak(authorize, "suzuki.pwd");
        sql("UPDATE oidc_flow SET code_verifier = repeat('x', 64) WHERE state_hash = ?", param(authorize, "state"));
        refused(agent.get(back), "認可コードを受け付けません");

        // every refusal is an authentication event
        for (String why : List.of("state missing", "unknown state", "state replayed", "state of another browser",
                "provider error access_denied", "state expired")) {
            assertTrue(count("SELECT count(*) FROM auth_event WHERE event = 'login.oidc' AND outcome = 'failure'"
                    + " AND detail = '" + why + "'") >= 1, why);
        }
        assertFalse(federation().health().down());
    }
    @Test
    @Order(8)
    void privateKeyJwtWorksWithTheKeyMamoriMakes() throws Exception {
        Federation.Provider before = federation().active().orElseThrow();
        Federation.Provider p = federation().register(new Federation.Registration("病院ID", discovery(), kc.caPem(),
                "mamori-jwt", Federation.ClientAuth.PRIVATE_KEY_JWT, "", List.of(), List.of("otp")),
                jp.mamori.audit.Actor.server("test"));
        String jwks = p.publicJwk().orElseThrow();
        assertFalse(jwks.contains("\"d\""), "the public key only: " + jwks);
        kc.admin("POST", "/" + REALM + "/clients", JSON.writeValueAsString(java.util.Map.of("clientId", "mamori-jwt",
                "enabled", true, "protocol", "openid-connect", "publicClient", false,
                "clientAuthenticatorType", "client-jwt", "redirectUris",
                List.of(server.consoleOrigin() + Federation.CALLBACK_PATH), "standardFlowEnabled", true,
                "attributes", java.util.Map.of("use.jwks.string", "true", "jwks.string", jwks,
                        "token.endpoint.auth.signing.alg", "ES256", "pkce.code.challenge.method", "S256"))));
        Agent agent = new Agent();
        HttpResponse<String> back = agent.get(agent.atKeycloak(agent.start(), "suzuki.pwd"));
        assertEquals(200, back.statusCode(), back.body());
        assertTrue(back.body().contains("url=/console/login/factor"), back.body());
        // the same key again when the registration is saved once more with the same client id
        assertEquals(jwks, federation().register(new Federation.Registration("病院ID", discovery(), kc.caPem(),
                "mamori-jwt", Federation.ClientAuth.PRIVATE_KEY_JWT, "", List.of(), List.of("otp")),
                jp.mamori.audit.Actor.server("test")).publicJwk().orElseThrow());
        assertTrue(before.version() < p.version());
    }

    @Test
    @Order(11) // last: it uses up this minute's starts from this address
    void startsFromOneAddressAreLimited() throws Exception {
        Agent agent = new Agent();
        HttpResponse<String> login = agent.get(server.consoleOrigin() + "/console/login");
        Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(login.body());
        assertTrue(m.find());
        String form = "csrf=" + URLEncoder.encode(m.group(1), StandardCharsets.UTF_8);
        int refused = 0;
        // twice the limit and two: whichever minute they fall in, one minute gets more than the limit
        for (int i = 0; i < 2 * Federation.STARTS_PER_MINUTE + 2; i++) {
            HttpResponse<String> r = agent.post(server.consoleOrigin() + "/console/login/oidc", form,
                    server.consoleOrigin());
            if (r.statusCode() == 401 && r.body().contains("試行回数が多すぎます")) {
                refused++;
            }
        }
        assertTrue(refused >= 1, "the starts over the limit are refused");
    }
    @Test
    @Order(9)
    void anAdministratorRemovesALinkWithAReasonAndTheSubjectIsRefusedAfter() throws Exception {
        Federation.Link link = federation().links().stream().filter(l -> l.accountId().equals(suzuki)).findFirst()
                .orElseThrow();
        assertEquals("suzuki.t", link.loginId(), "the admin page names the person, asked of identity");
        jp.mamori.audit.Actor admin = jp.mamori.audit.Actor.person("account:kanri.oidc", "山田 花子", List.of(), null,
                "127.0.0.1", null);
        jp.mamori.federation.FederationRefusal noReason = org.junit.jupiter.api.Assertions.assertThrows(
                jp.mamori.federation.FederationRefusal.class, () -> federation().removeLink(link.seq(),
                        Optional.empty(), admin, " "));
        assertTrue(noReason.getMessage().contains("理由"), noReason.getMessage());
        // a person may remove only their own
        org.junit.jupiter.api.Assertions.assertThrows(jp.mamori.federation.FederationRefusal.class,
                () -> federation().removeLink(link.seq(), Optional.of(sato), admin, "他人の連携"));
        federation().removeLink(link.seq(), Optional.empty(), admin, "退職のため");
        assertTrue(federation().linksOf(suzuki).isEmpty());
        assertTrue(auditEntries("federation.unlink", "suzuki.t") > 0);
        Agent agent = new Agent();
        refused(agent.get(agent.atKeycloak(agent.start(), "suzuki.pwd")), "連携されていません");
    }
}
