package jp.mamori.identity.web;

import jp.mamori.identity.Enrolment;
import jp.mamori.identity.Logins;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The first administrator, and logging in: password and second factor, one answer for every refusal, cookies. */
class FirstAdministratorAndLoginTest {
    private static Hospital h;

    @BeforeAll
    static void open() {
        h = Hospital.open();
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void theFirstAdministratorEnrolsWithTheBootstrapSecretWhichThenStopsWorking() throws Exception {
        // Hospital.open went through /console/setup, the TOTP registration and the recovery codes page.
        assertTrue(h.adminRecoveryPage.contains("Registration complete"));
        Map<String, Object> admin = h.rows("SELECT status, account_type FROM account WHERE account_id = ?",
                h.admin.accountId).get(0);
        assertEquals("active", admin.get("status"));
        assertEquals(List.of("account_admin"), h.rows("SELECT role FROM account_role WHERE account_id = ?",
                h.admin.accountId).stream().map(r -> r.get("role")).toList());
        Timestamp usedAt = h.one("SELECT used_at FROM bootstrap_secret WHERE id = 1");
        assertNotNull(usedAt, "the secret is marked used");

        Browser other = new Browser(h.server, "second-setup");
        Browser.Page setup = other.get("/console/setup");
        assertTrue(setup.contains("Setup is complete"), setup::toString);
        assertFalse(setup.contains("name=\"secret\""), "no setup form any more");

        String secret = Files.readString(h.server.dataDir().resolve("secrets").resolve("bootstrap-secret")).strip();
        String intruder = Person.uniqueId("yoko.s");
        // The completed setup page has no form any more; post as someone replaying the old form would.
        String csrf = other.get("/console/login").csrf();
        Browser.Page again = other.post("/console/setup", Map.of("csrf", csrf, "secret", secret,
                "login_id", intruder, "family_name", "横取", "given_name", "次郎", "family_kana", "ヨコドリ",
                "given_kana", "ジロウ", "password", "Sora-umi-kaze-42x", "password2", "Sora-umi-kaze-42x"), Map.of());
        assertTrue(again.status() >= 400, () -> "a second setup is refused: " + again);
        assertTrue(again.contains("Setup is complete"), again::toString);
        assertEquals(Enrolment.BOOTSTRAP_REFUSED, again.error());
        assertEquals(null, h.accountId(intruder), "no second administrator");
        assertEquals(1L, (Long) h.one("SELECT count(*) FROM account_role WHERE role = 'account_admin'"));
        assertEquals(usedAt, h.one("SELECT used_at FROM bootstrap_secret WHERE id = 1"));
        assertEquals("failure", h.one("SELECT outcome FROM auth_event WHERE event = 'setup.bootstrap' AND login_id = ?",
                intruder));
    }

    @Test
    void loggingInNeedsThePasswordAndASecondFactor() {
        Person admin = h.admin;
        Browser b = new Browser(h.server, "admin-second-browser");
        Browser.Page factor = admin.password(b);
        assertEquals("/console/login/factor", factor.path(), factor::toString);
        assertFalse(factor.contains("name=\"password\""), "the factor page asks for the code only");

        Browser.Page home = b.get("/console/home");
        assertEquals("/console/login", home.path(), "no console before the second factor");
        assertEquals("/console/login", b.get("/console/me").path());
        assertEquals("/console/login", b.get("/console/admin/accounts").path());

        b.get("/console/login/factor");
        Browser.Page wrong = b.submit("/console/login/factor", "code", admin.wrongTotp());
        assertEquals(401, wrong.status());
        assertEquals(Logins.WRONG_CODE, wrong.error());
        assertEquals("/console/login", b.get("/console/home").path(), "a wrong code lets nobody in");

        b.get("/console/login/factor");
        Browser.Page in = b.submit("/console/login/factor", "code", admin.totp());
        assertEquals("/console/home", in.path(), in::toString);
        assertEquals(200, in.status());
        assertEquals("pwd+otp", h.one("SELECT amr FROM web_session WHERE ended_at IS NULL AND account_id = ?"
                + " ORDER BY created_at DESC LIMIT 1", admin.accountId));
        admin.logOut(b);

        // A recovery code works once.
        String recovery = admin.nextRecoveryCode();
        admin.password(b);
        Browser.Page withRecovery = b.submit("/console/login/factor", "recovery_code", recovery);
        assertEquals("/console/home", withRecovery.path(), withRecovery::toString);
        assertEquals("pwd+rec", h.one("SELECT amr FROM web_session WHERE ended_at IS NULL AND account_id = ?"
                + " ORDER BY created_at DESC LIMIT 1", admin.accountId));
        assertEquals(admin.principal(), h.one("SELECT by_principal FROM account_change WHERE account_id = ? AND action ="
                + " 'factor.recovery_code_used' ORDER BY change_id DESC LIMIT 1", admin.accountId),
                "the history names who used the code");
        admin.logOut(b);

        admin.password(b);
        Browser.Page reused = b.submit("/console/login/factor", "recovery_code", recovery);
        assertEquals(401, reused.status(), "a recovery code does not work twice");
        assertEquals(Logins.WRONG_CODE, reused.error());
        assertEquals("/console/login", b.get("/console/home").path());
    }

    @Test
    void anUnknownLoginIdAndAWrongPasswordGetTheSameAnswer() {
        String unknown = Person.uniqueId("dareka.n");
        Browser b = new Browser(h.server, "guesser");
        b.get("/console/login");
        Browser.Page noSuchId = b.submit("/console/login", "login_id", unknown, "password", "Kagi-no-nai-tobira-7");
        b.get("/console/login");
        Browser.Page wrongPassword = b.submit("/console/login", "login_id", h.admin.loginId,
                "password", "Kagi-no-nai-tobira-7");

        assertEquals(401, noSuchId.status());
        assertEquals(noSuchId.status(), wrongPassword.status());
        assertEquals(Logins.REFUSED, noSuchId.error());
        assertEquals(noSuchId.error(), wrongPassword.error(), "byte-identical error text");
        assertEquals("/console/login", noSuchId.path());
        assertEquals(noSuchId.path(), wrongPassword.path());

        List<Map<String, Object>> events = h.rows("SELECT login_id, account_id, outcome, detail FROM auth_event"
                + " WHERE event = 'login.password' AND login_id IN (?, ?) ORDER BY event_id", unknown, h.admin.loginId);
        Map<String, Object> first = events.stream().filter(e -> e.get("login_id").equals(unknown)).findFirst().orElseThrow();
        assertEquals("failure", first.get("outcome"));
        assertEquals("unknown login id", first.get("detail"));
        assertEquals(null, first.get("account_id"));
        Map<String, Object> second = events.stream().filter(e -> e.get("login_id").equals(h.admin.loginId)
                && "wrong password".equals(e.get("detail"))).reduce((x, y) -> y).orElseThrow();
        assertEquals("failure", second.get("outcome"));
        assertEquals(h.admin.accountId, second.get("account_id"));
    }

    @Test
    void theSessionCookieIsHostOnlyHttpOnlyStrictAndSecureAndChangesAtLogin() {
        // Someone other than the administrator, whose TOTP codes the other tests here use up.
        Person p = h.enrolStaff("kukki.h", "総務課");
        p.logOut(p.browser);
        Browser b = new Browser(h.server, "cookie-watcher");
        Browser.Page factor = p.password(b);
        String cookieHeader = factor.setCookies().stream().filter(c -> c.startsWith("__Host-mamori-session="))
                .findFirst().orElseThrow(() -> new AssertionError("no session cookie: " + factor.setCookies()));
        List<String> attributes = List.of(cookieHeader.split(";\\s*"));
        assertTrue(attributes.contains("HttpOnly"), cookieHeader);
        assertTrue(attributes.contains("SameSite=Strict"), cookieHeader);
        assertTrue(attributes.contains("Secure"), cookieHeader);
        assertTrue(attributes.contains("Path=/"), "__Host- cookies need Path=/: " + cookieHeader);
        assertTrue(attributes.stream().noneMatch(a -> a.toLowerCase().startsWith("domain=")), cookieHeader);
        String pre = b.cookie("__Host-mamori-pre").orElseThrow(() -> new AssertionError("no pre-login cookie"));
        assertFalse(pre.isEmpty());

        String beforeFactor = b.cookie("__Host-mamori-session").orElseThrow();
        Browser.Page home = b.submit("/console/login/factor", "code", p.totp());
        assertEquals("/console/home", home.path());
        String afterFactor = b.cookie("__Host-mamori-session").orElseThrow();
        assertNotEquals(beforeFactor, afterFactor, "a new session id at login");
        assertTrue(home.setCookies().stream().anyMatch(c -> c.startsWith("__Host-mamori-session=" + afterFactor + ";")
                && c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure")));

        Browser.Page withOld = b.getWithCookie("/console/home", "__Host-mamori-session=" + beforeFactor);
        assertEquals("/console/login", withOld.path(), "the cookie from before the second factor is dead");
        assertEquals("/console/login", b.getWithCookie("/console/login/factor",
                "__Host-mamori-session=" + beforeFactor).path());
        assertEquals("/console/home", b.getWithCookie("/console/home", "__Host-mamori-session=" + afterFactor).path());
        p.logOut(b);
        assertEquals("/console/login", b.getWithCookie("/console/home", "__Host-mamori-session=" + afterFactor).path(),
                "and the new one ends at logout");
    }
}
