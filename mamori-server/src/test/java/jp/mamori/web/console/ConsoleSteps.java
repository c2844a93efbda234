package jp.mamori.web.console;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Totp;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.openqa.selenium.By;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a person does in the console, step by step in the browser, shared by the browser tests. */
final class ConsoleSteps {
    static final String PASSWORD = "Kaede-no-mori-7319";
    static final String RECOVERY_CODES_TITLE = "登録が完了しました";

    private ConsoleSteps() {
    }

    /** The first administrator at /console/setup, up to the second-factor page. */
    static void setUpFirstAdministrator(Browser b, TestServer server, String loginId) {
        String secret;
        try {
            secret = Files.readString(server.dataDir().resolve("secrets").resolve("bootstrap-secret")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        b.open("/console/setup");
        b.fill("/console/setup", "secret", secret).fill("/console/setup", "login_id", loginId)
                .fill("/console/setup", "family_name", "山田").fill("/console/setup", "given_name", "花子")
                .fill("/console/setup", "family_kana", "ヤマダ").fill("/console/setup", "given_kana", "ハナコ")
                .fill("/console/setup", "password", PASSWORD).fill("/console/setup", "password2", PASSWORD)
                .submit("登録して二要素認証の設定へ");
        assertEquals("/console/enrol/factor", b.path(), b.text());
    }

    /**
     * A staff account an administrator created and gave an enrolment code to (made here through the account
     * service, as the administration pages would), redeemed in the browser up to the second-factor page.
     */
    static UUID enrolWithCode(Browser b, TestServer server, String loginId, boolean admin) {
        Accounts accounts = server.server().identity().accounts();
        Account a = accounts.create(new Accounts.NewAccount(loginId, "佐藤", "一郎", "サトウ", "イチロウ", Account.Type.STAFF,
                List.of(), List.of("医療情報部"), admin ? Set.of(Accounts.ADMIN_ROLE) : Set.of(),
                new Accounts.Proofing("in_person", "staff_id", "browser test", "account:test-admin", Instant.now())),
                "account:test-admin");
        String code = accounts.issueEnrolmentCode(a.id(), Duration.ofHours(1), "account:test-admin");
        b.open("/console/enrol?code=" + java.net.URLEncoder.encode(code, java.nio.charset.StandardCharsets.UTF_8));
        b.fill("/console/enrol", "password", PASSWORD).fill("/console/enrol", "password2", PASSWORD)
                .submit("次へ（二要素認証の設定）");
        assertEquals("/console/enrol/factor", b.path(), b.text());
        return a.id();
    }

    /** On the second-factor page: registers the authenticator app with the secret the page shows. */
    static App enrolTotp(Browser b) {
        App app = new App(b.find("#totp-secret").getText().strip());
        b.fill("/console/enrol/totp", "code", app.nextCode()).submit("認証アプリを登録");
        assertRecoveryCodesShown(b);
        return app;
    }

    static void assertRecoveryCodesShown(Browser b) {
        assertTrue(b.text().contains(RECOVERY_CODES_TITLE), b.text());
        assertEquals(10, b.driver().findElements(By.cssSelector("#recovery-codes li")).size(), b.text());
    }

    /** From the recovery codes page into the console. */
    static void continueToHome(Browser b) {
        b.driver().findElement(By.linkText("保管しました。ホームへ")).click();
        assertEquals("/console/home", b.path(), b.text());
    }

    /**
     * Follows the header's language switch; on a narrow window it is in the メニュー, which is opened first (as a
     * person on a phone does).
     */
    static void otherLanguage(Browser b) {
        if (b.driver().findElements(By.cssSelector("header.top summary")).stream().anyMatch(
                org.openqa.selenium.WebElement::isDisplayed) && !b.find("header.top .lang").isDisplayed()) {
            b.find("header.top summary").click();
        }
        b.find("header.top .lang").click();
    }

    static void logOut(Browser b) {
        b.submit("ログアウト");
        assertEquals("/console/login", b.path(), b.text());
    }

    /** Password, then the app's code; ends on whatever page the server answers with. */
    static void logInWithCode(Browser b, String loginId, String code) {
        b.open("/console/login");
        b.fill("/console/login", "login_id", loginId).fill("/console/login", "password", PASSWORD)
                .submit("次へ（二要素認証）");
        assertEquals("/console/login/factor", b.path(), b.text());
        b.fill("/console/login/factor", "code", code).submit("ログイン");
    }

    /** Whether the browser's session may open the console: a logged-out browser is sent to the login page. */
    static boolean loggedIn(Browser b) {
        b.open("/console/home");
        return b.path().equals("/console/home");
    }

    static void assertNotLoggedIn(Browser b) {
        assertFalse(loggedIn(b), "the browser must not be logged in, but /console/home showed:\n" + b.text());
    }

    /**
     * An authenticator app holding a TOTP secret. The server refuses a time step it has seen (or an earlier
     * one), so each code is for the current step or, when that was used, the next one (within the window).
     */
    static final class App {
        private final byte[] secret;
        private long lastStep = -1;

        App(String base32) {
            this.secret = base32Decode(base32);
        }

        String nextCode() {
            long step = Math.max(Totp.step(Instant.now()), lastStep + 1);
            lastStep = step;
            return Totp.code(secret, step);
        }

        /**
         * As {@link #nextCode()}, waiting (at most one time step) when the next unused step is not yet inside the
         * server's window of one step either side: for a third code within the same half minute.
         */
        String nextCodeInWindow() {
            while (lastStep + 1 > Totp.step(Instant.now()) + 1) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return nextCode();
        }

        /** A code that is wrong now: none of the codes the server would accept in its window. */
        String wrongCode() {
            long now = Totp.step(Instant.now());
            java.util.Set<String> valid = new java.util.HashSet<>();
            for (long step = now - 2; step <= now + 2; step++) {
                valid.add(Totp.code(secret, step));
            }
            int c = Integer.parseInt(Totp.code(secret, now)) + 1;
            while (valid.contains(String.format("%06d", c % 1_000_000))) {
                c++;
            }
            return String.format("%06d", c % 1_000_000);
        }
    }

    /** RFC 4648 base32, as authenticator apps read the key (no padding, case-insensitive). */
    static byte[] base32Decode(String s) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        String in = s.replace(" ", "").replace("=", "").toUpperCase();
        byte[] out = new byte[in.length() * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int n = 0;
        for (char c : in.toCharArray()) {
            int v = alphabet.indexOf(c);
            if (v < 0) {
                throw new IllegalArgumentException("not base32: " + s);
            }
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[n++] = (byte) (buffer >> (bits - 8));
                bits -= 8;
            }
        }
        return out;
    }

    /** Makes {@code account} a physician of 内科 who cares for {@code patientId}, as the database owner would. */
    static void physicianFor(TestServer server, UUID account, String patientId) throws Exception {
        try (java.sql.Connection c = server.superuserConnection()) {
            try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO role_assignment (assignment_id, account_id, role,"
                    + " department, scope, four_eyes, granted_by, granted_at, approved_by, approved_at)"
                    + " VALUES (?, ?, 'physician', '内科', 'department', false, ?, now(), ?, now())")) {
                ps.setObject(1, UUID.randomUUID());
                ps.setObject(2, account);
                ps.setObject(3, account);
                ps.setObject(4, account);
                ps.executeUpdate();
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO care_assignment (care_id, account_id, patient_id,"
                    + " kind, department, valid_from, added_by, added_at) VALUES (?, ?, ?, 'assignment', '内科',"
                    + " now() - interval '1 day', ?, now())")) {
                ps.setObject(1, UUID.randomUUID());
                ps.setObject(2, account);
                ps.setString(3, patientId);
                ps.setObject(4, account);
                ps.executeUpdate();
            }
        }
    }

    /**
     * A screenshot at {@code width} x {@code height} (target/screenshots/NAME.png), asserting first that the page does
     * not scroll sideways at that width.
     */
    static void shoot(Browser b, int width, int height, String name) {
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(width, height));
        long scrollWidth = ((Number) b.js("return document.documentElement.scrollWidth;")).longValue();
        long viewport = ((Number) b.js("return document.documentElement.clientWidth;")).longValue();
        assertTrue(scrollWidth <= viewport, name + ": the page is " + scrollWidth + " px wide in a " + viewport
                + " px window");
        System.out.println("screenshot " + b.screenshot(name).toAbsolutePath());
    }

    /** Screenshots at a desktop, a tablet and a phone width (NAME-1280, -768, -390); the window is 1280 x 800 after. */
    static void shootAll(Browser b, String name) {
        shoot(b, 1280, 800, name + "-1280");
        shoot(b, 768, 1024, name + "-768");
        shoot(b, 390, 844, name + "-390");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));
    }
}
