package jp.mamori.identity.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22 on the identity pages: administrators see and release logins locked after failures (recorded),
 * unlocking returns to the page the person was on, TOTP enrolment keeps its secret across a mistyped code, and
 * the account pages speak in words, not codes.
 */
class LocksUnlockEnrolmentAndWordsTest {
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

    private static void lockOut(String loginId) {
        Browser attacker = new Browser(h.server, "guesser-" + loginId);
        for (int i = 0; i < 5; i++) {
            new Person(loginId, "Chigau-" + i + "-pasuwado", attacker).password(attacker);
        }
    }

    @Test
    void administratorsSeeLockedAccountsAndReleaseOneWithAReasonThatIsRecorded() throws Exception {
        Person p = h.enrolStaff("rokku.e", "外来");
        p.logOut(p.browser);
        lockOut(p.loginId);
        String ghost = Person.uniqueId("dare.");
        lockOut(ghost);
        assertTrue(p.password(p.browser).error().contains("一時的にロックされています"));

        Browser admin = h.admin.browser;
        Browser.Page ledger = admin.get("/console/admin/accounts");
        assertTrue(ledger.body().contains("id=\"locks-link\">一時ロック中のアカウント（1）</a>"), ledger::toString);
        // and the administrator's home counts it among what waits (issue 22)
        assertTrue(admin.get("/console/home").body().contains("<a href=\"/console/admin/locks\"><span class=\"badge\">1</span>"
                + " 一時ロック中のアカウント</a>"), "the home page's badge");
        Browser.Page locks = admin.get("/console/admin/locks");
        assertEquals(200, locks.status(), locks::toString);
        assertTrue(locks.contains(p.loginId) && locks.contains("山田 花子") && locks.contains("5 回"), locks::toString);
        assertTrue(locks.body().matches("(?s).*<td>\\d{2}:\\d{2}（JST）まで</td>.*"), locks::toString);
        assertFalse(locks.contains(ghost), "an id nobody has is not listed (it may be a mistyped password)");

        // Only administrators: neither the list nor the release is there for anyone else.
        Person clerk = h.enrolStaff("jimu.f", "医事課");
        assertEquals(403, clerk.browser.get("/console/admin/locks").status());
        Browser.Page notAdmin = clerk.browser.post("/console/admin/locks/release", Map.of("csrf",
                clerk.browser.get("/console/me").csrf(), "id", p.accountId.toString(), "reason", "x"), Map.of());
        assertEquals(403, notAdmin.status(), notAdmin::toString);
        Browser.Page noCsrf = admin.post("/console/admin/locks/release", Map.of("id", p.accountId.toString(),
                "reason", "電話で本人確認"), Map.of());
        assertEquals(403, noCsrf.status(), noCsrf::toString);

        // No reason: refused with one clear message, nothing released.
        admin.get("/console/admin/locks");
        Browser.Page noReason = h.adminSubmit("/console/admin/locks/release", "id", p.accountId.toString(), "reason", " ");
        assertEquals(400, noReason.status(), noReason::toString);
        assertTrue(noReason.error().contains("解除の理由を入力してください"), noReason.error());
        assertEquals(5, (int) h.<Integer>one("SELECT failures FROM login_throttle WHERE login_id = ?", p.loginId));

        // With a reason, after a fresh second factor.
        h.execute("UPDATE web_session SET second_factor_at = second_factor_at - interval '10 minutes'"
                + " WHERE account_id = ? AND ended_at IS NULL", h.admin.accountId);
        admin.get("/console/admin/locks");
        Browser.Page released = h.adminSubmit("/console/admin/locks/release", "id", p.accountId.toString(),
                "reason", "電話で本人確認済み（内線 1234）");
        assertEquals("/console/admin/locks", released.path(), released::toString);
        assertTrue(released.contains("ロックを解除しました"), released::toString);
        assertFalse(released.contains(p.loginId), "no longer listed: " + released);
        assertFalse(admin.get("/console/home").body().contains("href=\"/console/admin/locks\""), "no badge once released");
        Map<String, Object> change = h.rows("SELECT by_principal, detail->>'reason' AS reason, detail->>'failures' AS n"
                + " FROM account_change WHERE account_id = ? AND action = 'login.lock_released'", p.accountId).get(0);
        assertEquals(h.admin.principal(), change.get("by_principal"));
        assertEquals("電話で本人確認済み（内線 1234）", change.get("reason"));
        assertEquals("5", change.get("n"));
        assertEquals("success", h.one("SELECT outcome FROM auth_event WHERE account_id = ? AND event ="
                + " 'login.lock_released'", p.accountId));
        Browser.Page history = h.openAccount(p.accountId);
        assertTrue(history.contains("ログインの一時ロックを解除しました（失敗 5 回の後）。理由：電話で本人確認済み（内線 1234）"),
                history::toString);

        assertEquals("/console/home", p.logIn().path(), "the person logs in again at once");
    }

    @Test
    void unlockingReturnsToThePageThePersonWasOn() throws Exception {
        Person p = h.enrolStaff("hanare.g", "病棟");
        Browser b = p.browser;
        Browser.Page me = b.get("/console/me");
        Browser.Page locked = b.submit("/console/lock");
        assertEquals("/console/lock", locked.path(), locked::toString);
        assertEquals(null, locked.uri().getQuery(), "where the person was is not in the locked screen's address");
        assertTrue(locked.contains("ロックした時の画面に戻ります"), locked::toString);
        assertFalse(locked.contains("認証手段") || locked.contains(p.loginId), "nothing of the page before");
        Browser.Page back = b.submit("/console/unlock", "password", p.password, "code", p.totp());
        assertEquals("/console/me", back.path(), back::toString);
        assertEquals(me.body().contains("認証手段"), back.body().contains("認証手段"));

        // Locked by the server while away (idle): the next page asked for is where unlocking leads.
        h.execute("UPDATE web_session SET locked_at = now() WHERE account_id = ? AND ended_at IS NULL", p.accountId);
        Browser.Page asked = b.get("/console/break-glass");
        assertEquals("/console/lock", asked.path(), asked::toString);
        Browser.Page there = b.submit("/console/unlock", "password", p.password, "recovery_code", p.nextRecoveryCode());
        assertEquals("/console/break-glass", there.path(), there::toString);
    }

    @Test
    void theLockAndStepUpPagesAskOnlyForTheFactorsThePersonHas() throws Exception {
        Person p = h.enrolStaff("kaifuku.j", "放射線部");
        // No authenticator app any more (say it was removed): recovery codes are what this person holds.
        assertEquals(1, h.execute("DELETE FROM totp_credential WHERE account_id = ?", p.accountId));
        Browser b = p.browser;
        b.get("/console/me");
        Browser.Page locked = b.submit("/console/lock");
        assertEquals("/console/lock", locked.path(), locked::toString);
        assertFalse(locked.contains("認証アプリの確認コード") || locked.body().contains("name=\"code\""),
                "no field for an app the person does not have: " + locked);
        assertTrue(locked.body().contains("<details open><summary>回復コードを使う</summary>"),
                "the recovery code is open instead: " + locked);
        Browser.Page back = b.submit("/console/unlock", "password", p.password, "recovery_code", p.nextRecoveryCode());
        assertEquals("/console/me", back.path(), back::toString);

        h.execute("UPDATE web_session SET second_factor_at = second_factor_at - interval '10 minutes'"
                + " WHERE account_id = ? AND ended_at IS NULL", p.accountId);
        Browser.Page stepUp = b.get("/console/me/passkeys/add");
        assertEquals(Hospital.STEP_UP_PATH, stepUp.path(), stepUp::toString);
        assertFalse(stepUp.body().contains("name=\"code\""), stepUp::toString);
        assertTrue(stepUp.body().contains("<details open><summary>回復コードを使う</summary>"), stepUp::toString);
    }

    @Test
    void aMistypedCodeAtEnrolmentKeepsTheSecretAndQrCodeButANewEnrolmentGetsItsOwn() throws Exception {
        String loginId = Person.uniqueId("shinki.h");
        UUID id = h.createStaff(loginId, "薬剤部");
        String code = h.issueCode(id);
        Person p = new Person(loginId, Person.newPassword(), new Browser(h.server, loginId));
        p.accountId = id;
        p.browser.get("/console/enrol?code=" + Browser.enc(code));
        Browser.Page factor = p.browser.submit("/console/enrol", "code", code, "password", p.password,
                "password2", p.password);
        String secret = factor.code("totp-secret");
        String qr = factor.body().replaceAll("(?s).*(<svg.*?</svg>).*", "$1");
        p.scanTotp(factor);

        Browser.Page again = p.browser.submit("/console/enrol/totp", "code", p.wrongTotp());
        assertEquals(400, again.status(), again::toString);
        assertTrue(again.error().contains("確認コードが正しくありません"), again.error());
        assertEquals(secret, again.code("totp-secret"), "the same secret: no second scan");
        assertEquals(qr, again.body().replaceAll("(?s).*(<svg.*?</svg>).*", "$1"), "the same QR code");
        assertEquals(secret, p.browser.get("/console/enrol/factor").code("totp-secret"), "also when the page is reloaded");

        // The administrator issues a new code and someone enrols with it elsewhere: a secret of its own, and the
        // earlier enrolment session ends (it never sees the new secret, nor the new one the old).
        String second = h.issueCode(id);
        Browser elsewhere = new Browser(h.server, loginId + "-elsewhere");
        elsewhere.get("/console/enrol?code=" + Browser.enc(second));
        Browser.Page theirs = elsewhere.submit("/console/enrol", "code", second, "password", p.password,
                "password2", p.password);
        assertNotEquals(secret, theirs.code("totp-secret"));
        assertEquals("/console/login", p.browser.get("/console/enrol/factor").path(), "the earlier enrolment ended");
    }

    @Test
    void theAccountPagesSayInWordsWhatTheLedgerStoresAsCodes() {
        Person p = h.enrolStaff("kotoba.i", "検査部");
        Browser.Page account = h.openAccount(p.accountId);
        String body = account.body();
        String history = body.substring(body.indexOf("id=\"history\""));
        String shown = Browser.Page.text(body); // what a person reads (form values are not shown)
        for (String code : new String[]{"account.created", "identity.proofed", "password.set", "factor.totp_registered",
                "account:", "{\"", "in_person", "my_number_card", "pwd+otp"}) {
            assertFalse(shown.contains(code), () -> code + " on the account page: " + shown);
        }
        assertTrue(history.contains("アカウントを作成しました（職員）") && history.contains("パスワードを設定しました")
                && history.contains("認証アプリを登録しました") && history.contains("登録が完了し、使えるようになりました"
                + "（パスワード＋認証アプリ）"), history);
        assertTrue(history.contains("本人確認を記録しました：対面、マイナンバーカード（確認者 人事課 佐藤）"), history);
        assertTrue(history.contains("<td>管理 太郎（" + h.admin.loginId + "）</td>"), "the actor by name: " + history);
        assertTrue(history.matches("(?s).*<td>\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}</td>.*"), "times in JST: " + history);
        assertTrue(body.contains("<td>対面</td><td>マイナンバーカード</td>"), "the proofing record in words: " + body);

        Browser.Page me = p.browser.get("/console/me");
        assertFalse(me.body().contains("TOTP") || me.body().contains("pwd+otp"), me::toString);
        assertTrue(me.contains("パスワード＋認証アプリ"), me::toString);
    }
}
