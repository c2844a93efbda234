package jp.mamori.identity.web;

import jp.mamori.identity.Logins;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Brute force, cross-site requests, and emergency accounts. */
class LockoutCsrfAndEmergencyTest {
    private static final String CSRF_REFUSED = "CSRF token missing or wrong";
    private static final String CROSS_SITE_REFUSED = "Requests from other sites are refused";
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

    private static Map<String, Object> throttle(String loginId) {
        List<Map<String, Object>> rows = h.rows("SELECT failures, locked_until FROM login_throttle WHERE login_id = ?",
                loginId);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    /** The lock message with its time (HH:MM) taken out, to compare two answers given at different minutes. */
    private static String withoutTime(String message) {
        return message.replaceAll("\\d{2}:\\d{2}", "HH:MM");
    }

    @Test
    void fiveWrongPasswordsLockAnIdUntilTheLockExpiresWhetherOrNotTheIdExists() throws Exception {
        Person p = h.enrolStaff("kagi.m", "外来");
        p.logOut(p.browser);
        Browser attacker = new Browser(h.server, "attacker");
        Browser.Page fifth = null;
        for (int i = 0; i < 5; i++) {
            Browser.Page r = new Person(p.loginId, "Machigai-" + i + "-desu", attacker).password(attacker);
            assertEquals(401, r.status());
            if (i < 4) {
                assertEquals(Logins.REFUSED, r.error());
            }
            fifth = r;
        }
        Map<String, Object> known = throttle(p.loginId);
        assertEquals(5, known.get("failures"));
        assertNotNull(known.get("locked_until"), "locked after five failures");
        Instant until = ((Timestamp) known.get("locked_until")).toInstant();
        assertTrue(until.isAfter(Instant.now()));
        // The fifth failure says that the id is now locked, and until when (JST), in Japanese first.
        String hhmm = java.time.format.DateTimeFormatter.ofPattern("HH:mm").format(until.atZone(Hospital.JST));
        assertTrue(fifth.error().startsWith("このログインIDは、続けて失敗したため一時的にロックされています。" + hhmm + "（JST）まで"),
                fifth.error());

        Browser.Page right = p.password(p.browser);
        assertEquals(401, right.status(), "the right password is refused while locked");
        assertEquals(fifth.error(), right.error(), "with the same message as a wrong one: the lock tells nothing"
                + " about the password");
        assertEquals("/console/login", p.browser.get("/console/home").path());
        assertEquals("locked after repeated failures", h.one("SELECT detail FROM auth_event WHERE login_id = ?"
                + " AND event = 'login.password' ORDER BY event_id DESC LIMIT 1", p.loginId));

        String ghost = Person.uniqueId("maboroshi.");
        Person nobody = new Person(ghost, "Machigai-desu-yo", attacker);
        Browser.Page ghostFifth = null;
        for (int i = 0; i < 5; i++) {
            Browser.Page r = nobody.password(attacker);
            assertEquals(401, r.status());
            if (i < 4) {
                assertEquals(Logins.REFUSED, r.error(), "an unknown id is refused like a wrong password");
            }
            ghostFifth = r;
        }
        Map<String, Object> unknown = throttle(ghost);
        assertEquals(5, unknown.get("failures"), "unknown ids are counted like known ones");
        assertNotNull(unknown.get("locked_until"));
        // Account enumeration: an id nobody has is locked and told so exactly like a real one.
        assertEquals(withoutTime(fifth.error()), withoutTime(ghostFifth.error()));
        Browser.Page ghostLocked = nobody.password(attacker);
        assertEquals(right.status(), ghostLocked.status(), "no difference visible between a locked known id and an unknown one");
        assertEquals(withoutTime(right.error()), withoutTime(ghostLocked.error()));
        assertEquals(right.path(), ghostLocked.path());

        // The lock expires (moved into the past rather than waited for); the right password works again.
        assertEquals(1, h.execute("UPDATE login_throttle SET locked_until = now() - interval '1 second'"
                + " WHERE login_id = ?", p.loginId));
        Browser.Page unlocked = p.password(p.browser);
        assertEquals("/console/login/factor", unlocked.path(), unlocked::toString);
        assertEquals("/console/home", p.browser.submit("/console/login/factor", "code", p.totp()).path());
        assertEquals(Map.of(), throttle(p.loginId), "a successful login clears the failures");
    }

    @Test
    void stateChangingRequestsWithoutTheSessionsCsrfTokenOrFromAnotherSiteAreRefused() {
        UUID target = h.createStaff(Person.uniqueId("taisho.k"), "病棟");
        String before = h.status(target);
        Person other = h.enrolStaff("hoka.s", "病棟");
        String othersToken = other.browser.get("/console/me").csrf();
        String anonymousToken = new Browser(h.server, "anonymous").get("/console/login").csrf();

        Browser admin = h.admin.browser;
        Map<String, String> form = new LinkedHashMap<>(h.openAccount(target).hiddenFields("/console/admin/account/suspend"));
        form.put("reason", "CSRF の試験");
        String adminToken = form.get("csrf");
        assertNotNull(adminToken);

        Map<String, String> without = new LinkedHashMap<>(form);
        without.remove("csrf");
        Browser.Page noToken = admin.post("/console/admin/account/suspend", without, Map.of());
        assertEquals(403, noToken.status());
        assertTrue(noToken.error().contains(CSRF_REFUSED), noToken::toString);

        for (String wrong : List.of(othersToken, anonymousToken, "", adminToken.substring(1) + "A")) {
            Map<String, String> f = new LinkedHashMap<>(form);
            f.put("csrf", wrong);
            Browser.Page r = admin.post("/console/admin/account/suspend", f, Map.of());
            assertEquals(403, r.status(), () -> "token " + wrong + ": " + r);
            assertTrue(r.error().contains(CSRF_REFUSED));
        }

        for (Map<String, String> headers : List.of(Map.of("Origin", "https://evil.example"),
                Map.of("Sec-Fetch-Site", "cross-site"), Map.of("Sec-Fetch-Site", "same-site"),
                Map.of("Origin", admin.origin().replace("https://", "http://")))) {
            Browser.Page r = admin.post("/console/admin/account/suspend", form, headers);
            assertEquals(403, r.status(), () -> headers + ": " + r);
            assertTrue(r.error().contains(CROSS_SITE_REFUSED), r::toString);
        }

        assertEquals(before, h.status(target), "nothing changed");
        assertEquals(0L, (Long) h.one("SELECT count(*) FROM account_change WHERE account_id = ?"
                + " AND action = 'account.suspended'", target));

        // The same form, sent as the page has it, works: the refusals above were the checks, not the form.
        h.openAccount(target);
        Browser.Page ok = h.adminSubmit("/console/admin/account/suspend", "reason", "CSRF の試験");
        assertEquals(200, ok.status(), ok::toString);
        assertEquals("suspended", h.status(target));
    }

    @Test
    void anEmergencyAccountWorksOnlyDuringADeclaredEmergencyAndEachUseIsReviewed() {
        String label = "er-" + UUID.randomUUID().toString().substring(0, 4);
        h.admin.browser.get("/console/admin/emergency");
        Browser.Page created = h.adminSubmit("/console/admin/emergency/accounts", "label", label);
        assertEquals(200, created.status(), created::toString);
        String password = created.code("sealed-password");
        assertEquals(20, password.length());
        assertTrue(h.admin.browser.get("/console/admin/emergency").body().indexOf(password) < 0,
                "the password is shown once");

        Person er = new Person("emergency-" + label, password, new Browser(h.server, "er-terminal"));
        er.accountId = h.accountId(er.loginId);
        Browser.Page outside = er.password(er.browser);
        assertEquals(401, outside.status());
        assertTrue(outside.error().contains("only while an emergency is declared"), outside::toString);
        assertEquals("/console/login", er.browser.get("/console/home").path());

        h.admin.browser.get("/console/admin/emergency");
        Browser.Page declared = h.adminSubmit("/console/admin/emergency/declare", "declared_by", "救急部長 鈴木一郎",
                "reason", "電子カルテ端末の認証基盤が停止", "hours", "2");
        assertEquals("/console/admin/emergency", declared.path());
        assertTrue(declared.contains("Emergency declared"), declared::toString);

        Browser.Page home = er.password(er.browser);
        assertEquals("/console/home", home.path(), () -> "the password alone is enough during an emergency: " + home);
        assertTrue(home.contains("You are using an emergency account"), "the home page flags it");
        assertTrue(home.contains("<strong class=\"flag\">"), "and so does the header");
        assertEquals("pwd+emergency", h.one("SELECT amr FROM web_session WHERE account_id = ? AND ended_at IS NULL",
                er.accountId));
        List<Map<String, Object>> uses = h.rows("SELECT use_id, reviewed_at FROM emergency_use WHERE account_id = ?",
                er.accountId);
        assertEquals(1, uses.size());
        assertEquals(null, uses.get(0).get("reviewed_at"), "awaits review");
        long use = (Long) uses.get(0).get("use_id");

        h.admin.browser.get("/console/admin/emergency");
        Browser.Page ended = h.adminSubmit("/console/admin/emergency/end");
        assertEquals("/console/admin/emergency", ended.path());
        assertEquals("/console/login", er.browser.get("/console/home").path(), "ending the emergency ends the session");
        assertEquals("emergency ended", h.one("SELECT end_reason FROM web_session WHERE account_id = ?", er.accountId));
        assertEquals(401, er.password(er.browser).status(), "and the account stops working");

        h.admin.browser.get("/console/admin/emergency");
        Browser.Page reviewed = h.adminSubmit("/console/admin/emergency/review", "use", Long.toString(use),
                "note", "救急外来での処方入力のみ。問題なし");
        assertEquals("/console/admin/emergency", reviewed.path(), reviewed::toString);
        Map<String, Object> row = h.rows("SELECT reviewed_at, reviewed_by, review_note FROM emergency_use WHERE use_id = ?",
                use).get(0);
        assertNotNull(row.get("reviewed_at"));
        assertEquals(h.admin.principal(), row.get("reviewed_by"));
        assertEquals("救急外来での処方入力のみ。問題なし", row.get("review_note"));
        assertTrue(reviewed.contains("救急外来での処方入力のみ。問題なし"));
        assertEquals(h.admin.principal(), h.one("SELECT by_principal FROM account_change WHERE account_id = ?"
                + " AND action = 'emergency.use_reviewed'", er.accountId));
    }
}
