package jp.mamori.identity.web;

import jp.mamori.identity.Totp;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A person who uses the console: what they know (login id, password), what they hold (an authenticator app
 * with their TOTP secret, the recovery codes they printed) and their usual browser.
 */
final class Person {
    final String loginId;
    String password;
    final Browser browser;
    UUID accountId;
    private byte[] totpSecret;
    private long lastStep = Long.MIN_VALUE;
    private final Deque<String> recoveryCodes = new ArrayDeque<>();

    Person(String loginId, String password, Browser browser) {
        this.loginId = loginId;
        this.password = password;
        this.browser = browser;
    }

    /** A login id nobody else in this test run has, e.g. {@code sato.k3f2a}. */
    static String uniqueId(String stem) {
        return stem + UUID.randomUUID().toString().substring(0, 5);
    }

    /** A password the policy accepts: long, not common, without the login id or a name in it. */
    static String newPassword() {
        return "Kumo-" + UUID.randomUUID().toString().substring(0, 8) + "-Hoshi";
    }

    String principal() {
        return "account:" + loginId;
    }

    /** Reads the TOTP secret off the enrolment page, as the authenticator app would from the QR code. */
    void scanTotp(Browser.Page enrolFactorPage) {
        totpSecret = base32(enrolFactorPage.code("totp-secret"));
    }

    /** Keeps the recovery codes shown once at the end of enrolment. */
    void keepRecoveryCodes(Browser.Page page) {
        List<String> codes = page.listItems("recovery-codes");
        assertEquals(10, codes.size(), "ten recovery codes are shown");
        recoveryCodes.clear();
        recoveryCodes.addAll(codes);
    }

    String nextRecoveryCode() {
        return recoveryCodes.removeFirst();
    }

    /**
     * The next code the app shows that the server has not seen: codes are single use, and an earlier step
     * than the last used is refused too, so a second code within 30 s is that of the next step. Waits when
     * even the next step is not yet inside the server's ±1 step window.
     */
    synchronized String totp() {
        while (true) {
            long now = Totp.step(Instant.now());
            long step = Math.max(now, lastStep + 1);
            if (step <= now + 1) {
                lastStep = step;
                return Totp.code(totpSecret, step);
            }
            Browser.sleep(500);
        }
    }

    /** Whether {@link #totp()} would answer without waiting for the next time step. */
    synchronized boolean totpReady() {
        return lastStep + 1 <= Totp.step(Instant.now()) + 1;
    }

    /** A well-formed code that is none the server would accept now. */
    String wrongTotp() {
        long now = Totp.step(Instant.now());
        for (long s = now + 50; ; s++) {
            String c = Totp.code(totpSecret, s);
            if (!c.equals(Totp.code(totpSecret, now - 1)) && !c.equals(Totp.code(totpSecret, now))
                    && !c.equals(Totp.code(totpSecret, now + 1)) && !c.equals(Totp.code(totpSecret, now + 2))) {
                return c;
            }
        }
    }

    /** Logs in on {@code b} with password and TOTP; asserts it ends on the home page. */
    Browser.Page logIn(Browser b) {
        Browser.Page factor = password(b);
        assertEquals("/console/login/factor", factor.path(), () -> loginId + " after the password: " + factor);
        Browser.Page home = b.submit("/console/login/factor", "code", totp());
        assertEquals("/console/home", home.path(), () -> loginId + " after the code: " + home);
        return home;
    }

    Browser.Page logIn() {
        return logIn(browser);
    }

    /** Opens the login page and gives login id and password. */
    Browser.Page password(Browser b) {
        return password(b, password);
    }

    Browser.Page password(Browser b, String pw) {
        Browser.Page login = b.get("/console/login");
        assertEquals("/console/login", login.path(), () -> "the login page: " + login);
        return b.submit("/console/login", "login_id", loginId, "password", pw);
    }

    Browser.Page logOut(Browser b) {
        b.get("/console/home");
        Browser.Page p = b.submit("/console/logout");
        assertEquals("/console/login", p.path());
        return p;
    }

    /** Re-authenticates with a TOTP code on the step-up page the browser is on. */
    Browser.Page stepUp(Browser b) {
        assertTrue(b.last().path().equals("/console/step-up"), () -> "not on the step-up page: " + b.last());
        return b.submit("/console/step-up", "code", totp());
    }

    /** Re-authenticates with whatever is at hand: a TOTP code, or a recovery code rather than wait 30 s. */
    Browser.Page stepUpQuickly(Browser b) {
        if (totpReady()) {
            return stepUp(b);
        }
        return b.submit("/console/step-up", "recovery_code", nextRecoveryCode());
    }

    private static byte[] base32(String text) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int buffer = 0;
        int bits = 0;
        for (char ch : text.replace("=", "").replace(" ", "").toUpperCase(Locale.ROOT).toCharArray()) {
            int v = alphabet.indexOf(ch);
            if (v < 0) {
                throw new IllegalArgumentException("not base32: " + text);
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out.write((buffer >> (bits - 8)) & 0xff);
                bits -= 8;
            }
        }
        return out.toByteArray();
    }
}
