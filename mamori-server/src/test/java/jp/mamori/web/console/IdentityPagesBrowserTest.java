package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The identity pages of issue 22 in a real Chromium, walked as a person would at 1280×800, 768×1024 and 390×844
 * (screenshots in target/screenshots/identity-*): enrolment with a mistyped code, the account page, the lock screen
 * and back, the locked login, the administrator's list of locks and its release through a step-up that keeps the
 * typed reason. No page scrolls sideways.
 */
class IdentityPagesBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();
    private static void lockLogin(TestServer server, String loginId) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO"
                + " login_throttle (login_id, failures, last_failure_at, locked_until) VALUES (?, 5, now(),"
                + " now() + interval '30 minutes')")) {
            ps.setString(1, loginId);
            ps.executeUpdate();
        }
    }

    private static void staleFactor(TestServer server, UUID account) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement("UPDATE web_session"
                + " SET second_factor_at = second_factor_at - interval '10 minutes' WHERE account_id = ?"
                + " AND ended_at IS NULL")) {
            ps.setObject(1, account);
            ps.executeUpdate();
        }
    }

    @Test
    void enrolLockUnlockAndReleaseALockAsPeopleDo() throws Exception {
        TestServer server = console.server();
        Browser b = console.browser();
        UUID admin = ConsoleSteps.enrolWithCode(b, server, "kanri.walk", true);

        // Enrolment: a mistyped code keeps the secret and its QR code (no second scan).
        String secret = b.find("#totp-secret").getText().strip();
        ConsoleSteps.App app = new ConsoleSteps.App(secret);
        b.fill("/console/enrol/totp", "code", app.wrongCode()).submit("認証アプリを登録");
        assertTrue(b.text().contains("確認コードが正しくありません"), b.text());
        assertEquals(secret, b.find("#totp-secret").getText().strip(), "the same secret after a mistyped code");
        jp.mamori.testing.Screens.check(b, "identity-enrol-mistyped");
        b.fill("/console/enrol/totp", "code", app.nextCodeInWindow()).submit("認証アプリを登録");
        ConsoleSteps.assertRecoveryCodesShown(b);
        ConsoleSteps.continueToHome(b);

        // My account: words, not codes.
        b.open("/console/me");
        assertFalse(b.text().contains("TOTP") || b.text().contains("pwd+otp"), b.text());
        assertTrue(b.text().contains("パスワード＋認証アプリ"), b.text());
        jp.mamori.testing.Screens.check(b, "identity-me");

        // Lock by hand, the lock screen, and back to this very page.
        b.submit("ロック");
        assertEquals("/console/lock", b.path());
        assertTrue(b.text().contains("佐藤 一郎 さん本人") && b.text().contains("ロックした時の画面に戻ります"), b.text());
        assertTrue(b.driver().findElements(By.cssSelector("form[action='/console/unlock'] input[name='code']")).size() == 1,
                "the person has an authenticator app: its code is asked for");
        jp.mamori.testing.Screens.check(b, "identity-lock");
        b.fill("/console/unlock", "password", ConsoleSteps.PASSWORD).fill("/console/unlock", "code", app.nextCodeInWindow())
                .submit("確認");
        assertEquals("/console/me", b.path(), b.text());

        // Another person's login locked after failures: the administrator's list, and the account page.
        String locked = "rokku.walk";
        UUID lockedId = server.server().identity().accounts().create(new jp.mamori.identity.Accounts.NewAccount(locked,
                "鈴木", "次郎", "スズキ", "ジロウ", jp.mamori.identity.Account.Type.STAFF, java.util.List.of(),
                java.util.List.of("外来"), java.util.Set.of(), new jp.mamori.identity.Accounts.Proofing("in_person",
                "drivers_licence", "末尾4桁 5678", "人事課 田中", java.time.Instant.now())), "account:kanri.walk").id();
        lockLogin(server, locked);
        b.open("/console/admin/accounts");
        assertTrue(b.find("#locks-link").getText().contains("（1）"), b.text());
        b.find("#locks-link").click();
        assertEquals("/console/admin/locks", b.path());
        assertTrue(b.find("#locks").getText().contains("鈴木 次郎") && b.find("#locks").getText().contains("（JST）まで"),
                b.text());
        jp.mamori.testing.Screens.check(b, "identity-locks");
        b.open("/console/admin/account?id=" + lockedId);
        assertTrue(b.text().contains("ログインは一時ロック中"), b.text());
        String history = b.find("#history").getText();
        assertTrue(history.contains("本人確認を記録しました：対面、運転免許証（確認者 人事課 田中）"), history);
        assertTrue(history.contains("佐藤 一郎（kanri.walk）"), history);
        jp.mamori.testing.Screens.check(b, "identity-account");

        // Releasing needs a fresh second factor: the typed reason is kept over the step-up and the release goes on.
        staleFactor(server, admin);
        b.open("/console/admin/locks");
        b.fill("/console/admin/locks/release", "reason", "電話で本人確認（内線 2345）").submit("ロックを解除");
        assertEquals("/console/step-up", b.path(), b.text());
        assertTrue(b.text().contains("送信した内容は保持されています"), b.text());
        jp.mamori.testing.Screens.check(b, "identity-step-up");
        b.fill("/console/step-up", "code", app.nextCodeInWindow()).submit("確認");
        assertEquals("/console/admin/locks", b.path(), b.text());
        assertTrue(b.text().contains("ロックを解除しました") && b.text().contains("一時ロック中のアカウントはありません"),
                b.text());

        // The locked person at the login page is told so, and until when.
        lockLogin(server, locked);
        ConsoleSteps.logOut(b);
        b.fill("/console/login", "login_id", locked).fill("/console/login", "password", "Nanika-chigau-1234")
                .submit("次へ（二要素認証）");
        assertTrue(b.text().contains("一時的にロックされています") && b.text().contains("（JST）まで"), b.text());
        jp.mamori.testing.Screens.check(b, "identity-login-locked");
    }
}
