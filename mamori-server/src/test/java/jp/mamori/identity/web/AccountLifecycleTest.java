package jp.mamori.identity.web;

import jp.mamori.identity.Enrolment;
import jp.mamori.identity.Logins;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An account from creation to retirement, through the admin pages and the person's own pages. */
class AccountLifecycleTest {
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

    private static Browser.Page createAccount(Map<String, String> fields) {
        h.admin.browser.get("/console/admin/accounts/new");
        return h.adminSubmit("/console/admin/accounts/new", Hospital.pairs(fields));
    }

    @Test
    void aQualificationAddedLaterNeedsItsLicenceNumberAndIsRecorded() {
        String nurse = Person.uniqueId("sato.h");
        UUID id = h.createStaff(nurse, "病棟");
        h.admin.browser.get("/console/admin/account?id=" + id);
        Browser.Page noLicence = h.adminSubmit("/console/admin/account/qualification", "qualification", "nurse",
                "licence", "");
        assertEquals(400, noLicence.status(), noLicence::toString);
        assertTrue(noLicence.error().contains("licence number"), noLicence::toString);
        h.admin.browser.get("/console/admin/account?id=" + id);
        Browser.Page added = h.adminSubmit("/console/admin/account/qualification", "qualification", "nurse",
                "licence", "ＡＢ１２３４５");
        assertEquals(200, added.status(), added::toString);
        assertEquals("AB12345", h.one("SELECT licence_number FROM account_qualification WHERE account_id = ?"
                + " AND qualification = 'nurse'", id));
        assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM account_change WHERE account_id = ?"
                + " AND action = 'qualification.added' AND detail->>'qualification' = 'nurse' AND by_principal = ?", id,
                h.admin.principal()));
    }

    @Test
    void accountsAreForOneIdentifiedPersonAndTheirEnrolmentCodeWorksOnce() {
        for (String generic : List.of("nurse01", "admin")) {
            Browser.Page refused = createAccount(Hospital.staffFields(generic, "内科"));
            assertEquals(400, refused.status(), refused::toString);
            assertTrue(refused.error().contains("looks like a shared or generic account"), refused::toString);
            assertEquals(null, h.accountId(generic));
        }
        String unproofed = Person.uniqueId("mikakunin.");
        Map<String, String> noProofing = new java.util.LinkedHashMap<>(Hospital.staffFields(unproofed, "内科"));
        noProofing.keySet().removeIf(k -> k.startsWith("proof_") && !k.equals("proof_date"));
        Browser.Page refused = createAccount(noProofing);
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.error().contains("Choose how identity was verified"), refused::toString);
        Map<String, String> noVerifier = new java.util.LinkedHashMap<>(Hospital.staffFields(unproofed, "内科"));
        noVerifier.put("proof_by", " ");
        Browser.Page refused2 = createAccount(noVerifier);
        assertEquals(400, refused2.status());
        assertTrue(refused2.error().contains("Enter who verified the identity"), refused2::toString);
        assertEquals(null, h.accountId(unproofed));

        String loginId = Person.uniqueId("tanaka.y");
        UUID id = h.createStaff(loginId, "内科");
        assertEquals("created", h.status(id));
        String code = h.issueCode(id);
        assertEquals("enrolment_pending", h.status(id));

        Person p = new Person(loginId, Person.newPassword(), new Browser(h.server, loginId));
        Browser.Page enrol = p.browser.get("/console/enrol?code=" + Browser.enc(code));
        assertTrue(enrol.contains("value=\"" + code + "\""), "the link fills in the code");
        Browser.Page common = p.browser.submit("/console/enrol", "code", code, "password", "password1234",
                "password2", "password1234");
        assertEquals(400, common.status());
        assertTrue(common.error().contains("too common"), common::toString);
        Browser.Page tooShort = p.browser.submit("/console/enrol", "code", code, "password", "Ume-7-kaze",
                "password2", "Ume-7-kaze");
        assertEquals(400, tooShort.status());
        assertTrue(tooShort.error().contains("at least 12 characters"), tooShort::toString);
        assertEquals(0L, (Long) h.one("SELECT count(*) FROM password_credential WHERE account_id = ?", id));

        Browser.Page factor = p.browser.submit("/console/enrol", "code", code, "password", p.password,
                "password2", p.password);
        assertEquals("/console/enrol/factor", factor.path(), factor::toString);
        assertEquals("/console/login", p.browser.get("/console/home").path(), "not in before a second factor");
        factor = p.browser.get("/console/enrol/factor");
        p.scanTotp(factor);
        Browser.Page done = p.browser.submit("/console/enrol/totp", "code", p.totp());
        p.keepRecoveryCodes(done);
        assertEquals("active", h.status(id));
        assertEquals("/console/home", p.browser.get("/console/home").path());
        assertEquals("127.0.0.1", h.one("SELECT address FROM auth_event WHERE account_id = ?"
                + " AND event = 'enrolment.finished'", id), "the event records where the person enrolled from");
        p.logOut(p.browser);
        p.logIn();

        Browser thief = new Browser(h.server, "code-reuser");
        thief.get("/console/enrol?code=" + Browser.enc(code));
        Browser.Page reused = thief.submit("/console/enrol", "code", code, "password", "Nusumi-Kaze-9-Yoru",
                "password2", "Nusumi-Kaze-9-Yoru");
        assertEquals(400, reused.status());
        assertEquals(Enrolment.CODE_REFUSED, reused.error());
        assertNotNull(h.one("SELECT used_at FROM enrolment_code WHERE account_id = ?", id));
        assertEquals("/console/home", p.browser.get("/console/home").path(), "the person is unaffected");
    }

    @Test
    void retiringAPersonEndsTheirSessionAtOnceOrAtTheScheduledTimeWithoutASweep() throws Exception {
        Person p = h.enrolStaff("taishoku.a", "薬剤部");
        assertEquals("/console/home", p.browser.get("/console/home").path());
        Browser.Page retired = h.accountAction(p.accountId, "/console/admin/account/retire", "reason", "退職", "at", "");
        assertTrue(retired.contains("Retired; its sessions ended"), retired::toString);
        assertEquals("/console/login", p.browser.get("/console/me").path(), "the next request is sent to log in");
        Browser.Page login = p.password(p.browser);
        assertEquals(401, login.status());
        assertEquals(Logins.REFUSED, login.error(), "the generic message");
        assertEquals("retired", h.status(p.accountId));

        Person q = h.enrolStaff("yotei.b", "検査部");
        assertEquals("/console/home", q.browser.get("/console/home").path());
        LocalDateTime at = LocalDateTime.now(Hospital.JST).plusSeconds(2);
        Instant retireAt = at.atZone(Hospital.JST).toInstant();
        Browser.Page scheduled = h.accountAction(q.accountId, "/console/admin/account/retire", "reason", "契約満了",
                "at", at.format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS")));
        assertTrue(scheduled.contains("Retirement scheduled"), scheduled::toString);
        if (Instant.now().isBefore(retireAt.minusMillis(300))) {
            assertEquals("/console/home", q.browser.get("/console/home").path(), "still in before the time");
        }
        Instant deadline = Instant.now().plusSeconds(10);
        String path;
        do {
            Browser.sleep(200);
            path = q.browser.get("/console/home").path();
        } while (!path.equals("/console/login") && Instant.now().isBefore(deadline));
        assertEquals("/console/login", path, "the session ended when the time came");
        Map<String, Object> session = h.rows("SELECT ended_at, end_reason FROM web_session WHERE account_id = ?"
                + " AND stage = 'authenticated'", q.accountId).get(0);
        Instant endedAt = ((Timestamp) session.get("ended_at")).toInstant();
        assertFalse(endedAt.isBefore(retireAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)), "not before the time");
        assertEquals("account retired", session.get("end_reason"));
        assertEquals(0L, (Long) h.one("SELECT count(*) FROM account_change WHERE account_id = ? AND action ="
                + " 'account.retired' AND at <= ?", q.accountId, Timestamp.from(endedAt)), "no sweep had retired it");
        Browser.Page refused = q.password(q.browser);
        assertEquals(401, refused.status());
        assertEquals(Logins.REFUSED, refused.error());
    }

    @Test
    void exportingTheLedgerNeedsAFreshSecondFactorAndTheCsvIsSafeForSpreadsheets() throws Exception {
        String odd = Person.uniqueId("keisan.c");
        h.createStaff(odd, "=HYPERLINK(1)");
        Person admin = h.admin;
        assertTrue(h.execute("UPDATE web_session SET second_factor_at = now() - interval '6 minutes'"
                + " WHERE account_id = ? AND ended_at IS NULL", admin.accountId) >= 1);

        // A state change on a step-up route does nothing and sends the person to confirm, then back to the form.
        String late = Person.uniqueId("osoi.c");
        admin.browser.get("/console/admin/accounts/new");
        Browser.Page stale = admin.browser.submit("/console/admin/accounts/new", Hospital.pairs(Hospital.staffFields(late, "内科")));
        assertEquals(Hospital.STEP_UP_PATH, stale.path(), stale::toString);
        assertTrue(stale.body().contains("value=\"/console/admin/accounts/new\""), stale::toString);
        assertEquals(null, h.accountId(late));

        Browser.Page stepUp = admin.browser.get("/console/admin/accounts.csv");
        assertEquals("/console/step-up", stepUp.path(), stepUp::toString);
        assertFalse(stepUp.response().headers().firstValue("Content-Type").orElse("").startsWith("text/csv"));
        Browser.Page csv = admin.stepUp(admin.browser);
        assertEquals("/console/admin/accounts.csv", csv.path(), csv::toString);
        assertEquals(null, h.accountId(late), "a form left on an earlier step-up page does not run after another one");
        assertTrue(csv.response().headers().firstValue("Content-Type").orElseThrow().startsWith("text/csv"));
        assertArrayEquals(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, Arrays.copyOf(csv.bytes(), 3), "UTF-8 BOM");

        String text = new String(csv.bytes(), 3, csv.bytes().length - 3, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(text.split("\r\n")));
        assertTrue(lines.get(0).startsWith("ログインID,"), lines.get(0));
        lines.remove(0);
        long accounts = h.one("SELECT count(*) FROM account");
        assertEquals(accounts, lines.size(), "one row per account");
        String row = lines.stream().filter(l -> l.startsWith("\"" + odd + "\"")).findFirst().orElseThrow();
        assertTrue(row.contains("\"'=HYPERLINK(1)\""), row);
        assertTrue(lines.stream().noneMatch(l -> l.contains(",\"=") || l.contains(",\"+") || l.contains(",\"@")), text);
        assertEquals("success", h.one("SELECT outcome FROM auth_event WHERE account_id = ? AND event ="
                + " 'export.account_ledger' ORDER BY event_id DESC LIMIT 1", admin.accountId));
        assertEquals("success", h.one("SELECT outcome FROM auth_event WHERE account_id = ? AND event = 'step_up'"
                + " ORDER BY event_id DESC LIMIT 1", admin.accountId));

        // Aged again, the same form goes through after the step-up page, as a person would do it.
        h.execute("UPDATE web_session SET second_factor_at = now() - interval '6 minutes' WHERE account_id = ?"
                + " AND ended_at IS NULL", admin.accountId);
        h.createStaff(late, "内科");
        assertNotNull(h.accountId(late));
    }

    @Test
    void aPasswordMarkedCompromisedMustBeChangedAtTheNextLogin() {
        Person p = h.enrolStaff("rouei.d", "放射線部");
        Browser.Page marked = h.accountAction(p.accountId, "/console/admin/account/compromised",
                "reason", "フィッシングサイトに入力した");
        assertTrue(marked.contains("A password change is now required"), marked::toString);
        assertEquals("/console/login", p.browser.get("/console/home").path(), "its sessions ended");

        p.password(p.browser);
        Browser.Page in = p.browser.submit("/console/login/factor", "code", p.totp());
        assertEquals("/console/me/password", in.path(), in::toString);
        assertTrue(in.contains("Your password may have been exposed"));
        for (String page : List.of("/console/home", "/console/me", "/console/admin/accounts", "/console/me/passkeys/add")) {
            assertEquals("/console/me/password", p.browser.get(page).path(), page);
        }
        String fresh = Person.newPassword();
        Browser.Page changed = p.browser.submit("/console/me/password", "current", p.password, "password", fresh,
                "password2", fresh);
        assertEquals(200, changed.status(), changed::toString);
        assertTrue(changed.contains("Password changed"));
        p.password = fresh;
        assertEquals("/console/home", p.browser.get("/console/home").path());
        Map<String, Object> row = h.rows("SELECT a.must_change_password, c.compromised_at FROM account a"
                + " JOIN password_credential c USING (account_id) WHERE account_id = ?", p.accountId).get(0);
        assertEquals(false, row.get("must_change_password"));
        assertEquals(null, row.get("compromised_at"));
    }

    @Test
    void aPersonEndsTheirOtherSessionFromMyAccount() throws Exception {
        Person p = h.enrolStaff("futatsu.e", "栄養部");
        Browser ward = new Browser(h.server, p.loginId + "-ward");
        p.logIn(ward);
        String wardRef = ref(ward.cookie("__Host-mamori-session").orElseThrow());
        String adminRef = ref(h.admin.browser.cookie("__Host-mamori-session").orElseThrow());

        Browser.Page me = p.browser.get("/console/me");
        assertTrue(me.contains("value=\"" + wardRef + "\""), "the other session is listed");
        assertFalse(me.contains("value=\"" + adminRef + "\""), "only their own sessions are listed");

        Browser.Page notMine = p.browser.submit("/console/me/sessions/end", "session", adminRef);
        assertFalse(notMine.contains("Session ended"), "someone else's session cannot be ended from here");
        assertEquals("/console/home", h.admin.browser.get("/console/home").path());

        p.browser.get("/console/me");
        Browser.Page ended = p.browser.submit("/console/me/sessions/end", "session", wardRef);
        assertTrue(ended.contains("Session ended"), ended::toString);
        assertEquals("/console/login", ward.get("/console/home").path(), "the other browser is logged out");
        assertEquals("/console/home", p.browser.get("/console/home").path(), "this one is not");
    }

    @Test
    void theChangeHistoryNamesWhoDidEachStepAndTheDatabaseRefusesToRewriteIt() {
        Person p = h.enrolStaff("rireki.f", "医事課");
        h.accountAction(p.accountId, "/console/admin/account/retire", "reason", "異動に伴う廃止", "at", "");
        List<Map<String, Object>> rows = h.rows("SELECT change_id, action, by_principal FROM account_change"
                + " WHERE account_id = ? ORDER BY change_id", p.accountId);
        String a = h.admin.principal();
        String self = p.principal();
        List<List<String>> expected = List.of(List.of("account.created", a), List.of("identity.proofed", a),
                List.of("enrolment.code_issued", a), List.of("password.set", self), List.of("factor.totp_registered", self),
                List.of("account.activated", self), List.of("account.retired", a));
        int at = 0;
        for (Map<String, Object> r : rows) {
            assertFalse(((String) r.get("by_principal")).isBlank());
            if (at < expected.size() && expected.get(at).equals(List.of(r.get("action"), r.get("by_principal")))) {
                at++;
            }
        }
        assertEquals(expected.size(), at, () -> "history in order with its actors; got " + rows);
        Browser.Page page = h.openAccount(p.accountId);
        assertTrue(page.contains("退職・廃止しました。理由：異動に伴う廃止") && page.contains("認証アプリを登録しました"),
                page::toString);

        long changeId = (Long) rows.get(rows.size() - 1).get("change_id");
        assertThrows(SQLException.class, () -> h.execute("UPDATE account_change SET by_principal = 'account:nobody'"
                + " WHERE change_id = ?", changeId));
        assertThrows(SQLException.class, () -> h.execute("DELETE FROM account_change WHERE change_id = ?", changeId));
        assertThrows(SQLException.class, () -> h.execute("TRUNCATE account_change CASCADE"));
        long eventId = h.one("SELECT max(event_id) FROM auth_event WHERE account_id = ?", p.accountId);
        assertThrows(SQLException.class, () -> h.execute("UPDATE auth_event SET outcome = 'failure' WHERE event_id = ?",
                eventId));
        assertThrows(SQLException.class, () -> h.execute("DELETE FROM auth_event WHERE event_id = ?", eventId));
        assertEquals(a, h.one("SELECT by_principal FROM account_change WHERE change_id = ?", changeId));
        assertEquals(1L, (Long) h.one("SELECT count(*) FROM auth_event WHERE event_id = ?", eventId));
    }

    /** How the console names a session in lists: the first 8 bytes of the SHA-256 of its cookie, in hex. */
    private static String ref(String cookie) throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(cookie.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hash, 0, 8);
    }
}
