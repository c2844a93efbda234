package jp.mamori.identity.web;

import jp.mamori.identity.Sessions;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The identity pages escape what people and other systems typed (names, reasons, notes, addresses, a browser's
 * session data), keep their forms' fields and CSRF field, and decide what a row shows before any HTML is written.
 */
class IdentityTemplatesTest {
    private static final String HOSTILE = "<script>alert('x')</script>\"&";
    private static final String ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";
    private static final Messages JA = Messages.of(ConsoleRequest.Lang.JA);
    private static final Messages EN = Messages.of(ConsoleRequest.Lang.EN);

    @Test
    void theHomePageEscapesTheNameAndTheDeviations() {
        AuthViews.Home v = new AuthViews.Home(HOSTILE, true, false, true, true, List.of(HOSTILE), 2,
                List.of(new jp.mamori.web.console.Console.Waiting(HOSTILE, 3, "/console/admin/break-glass")),
                List.of(out -> out.writeContent("<section id=\"part\"></section>")));
        String ja = Templates.page("identity/home.jte", JA, v);
        assertFalse(ja.contains("<script>"), ja);
        assertTrue(ja.contains("<p>" + ESCAPED + " さん、ようこそ。</p>"), ja);
        assertTrue(ja.contains("<ul><li>" + ESCAPED + "</li></ul>"), ja);
        assertTrue(ja.contains("<li><a href=\"/console/patients\" id=\"patients-link\">患者検索・カルテ</a></li>"), ja);
        assertTrue(ja.contains("<p>未確認の非常時用アカウント利用が 2 件あります / 2 emergency account use(s) await review</p>"), ja);
        // what waits for the person, as a badge with its count and link; the capabilities' parts placed as rendered
        assertTrue(ja.contains("<li><a href=\"/console/admin/break-glass\"><span class=\"badge\">3</span> " + ESCAPED
                + "</a></li>"), ja);
        assertTrue(ja.contains("<section id=\"part\"></section>"), ja);
        String en = Templates.page("identity/home.jte", EN, new AuthViews.Home("Sato", false, false, false, false,
                List.of(), 0, List.of(), List.of()));
        assertTrue(en.contains("<p>Sato, welcome.</p>"), en);
        assertFalse(en.contains("id=\"waiting\""), en);
        assertFalse(en.contains("patients-link") || en.contains("id=\"deviations\"") || en.contains("msg error"), en);
    }

    @Test
    void theLoginFormKeepsItsFieldsAndEscapesTheLoginIdAndThePasskeyOptions() {
        AuthViews.Passkey p = new AuthViews.Passkey("/console/login/passkey", "login", "{\"challenge\":\"a&b\"}", "r-1",
                null, null, "tok\"en");
        String html = Templates.page("identity/login.jte", EN, new AuthViews.Login(HOSTILE, HOSTILE, p, "tok\"en", java.util.List.of()));
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<div class=\"msg error\" role=\"alert\"><p>" + ESCAPED + "</p></div>"), html);
        assertTrue(html.contains("<form method=\"post\" action=\"/console/login\" class=\"stack\" id=\"login-form\">"
                + "<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en\"><label>Login id<input name=\"login_id\""
                + " type=\"text\" autocomplete=\"username\" required value=\"" + ESCAPED + "\"></label><label>Password"
                + "<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required value=\"\">"
                + "</label><button type=\"submit\">Next (second factor)</button></form>"), html);
        assertTrue(html.contains("<form method=\"post\" action=\"/console/login/passkey\" class=\"passkey\""
                + " data-passkey=\"login\" data-options=\"{&quot;challenge&quot;:&quot;a&amp;b&quot;}\">"
                + "<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en\"><input type=\"hidden\" name=\"request\""
                + " value=\"r-1\"><input type=\"hidden\" name=\"response\" value=\"\"><button type=\"button\""
                + " data-passkey-start>Log in with a passkey</button><p class=\"error\" data-passkey-error role=\"alert\">"
                + "</p></form>"), html);
    }

    @Test
    void theStepUpFormsCarryWhereToGoNextAndTheHeldFormsTicket() {
        AuthViews.Passkey p = new AuthViews.Passkey("/console/step-up/passkey", "login", "{}", "r", HOSTILE, HOSTILE,
                "c");
        String html = Templates.page("identity/stepUp.jte", EN, new AuthViews.StepUp("",
                new AuthViews.Reauth("/console/step-up", false, p, false, true, HOSTILE, HOSTILE, "c"), true, "/console/x"));
        assertFalse(html.contains("<script>") || html.contains("name=\"password\""), html);
        assertEquals(2, html.split(Pattern.quote("<input type=\"hidden\" name=\"next\" value=\"" + ESCAPED + "\">"
                + "<input type=\"hidden\" name=\"resume\" value=\"" + ESCAPED + "\"></form>"), -1).length - 1, html);
        assertTrue(html.contains("What you sent is kept") && html.contains("<a href=\"/console/x\" id=\"step-up-cancel\">"
                + "Cancel and go back (what you sent is not carried out)</a>"), html);
        String plain = Templates.page("identity/stepUp.jte", EN, new AuthViews.StepUp("",
                new AuthViews.Reauth("/console/step-up", false, null, false, true, "/console/x", null, "c"), false,
                "/console/x"));
        assertFalse(plain.contains("name=\"resume\"") || plain.contains("What you sent is kept"), plain);
        String lock = Templates.page("identity/lock.jte", EN, new AuthViews.Lock("", HOSTILE,
                new AuthViews.Reauth("/console/unlock", true, null, true, false, null, null, "c"), "c"));
        assertTrue(lock.contains("<p>The screen is locked. " + ESCAPED + " returns to the page they were on after"
                + " authenticating again.</p>"), lock);
        assertTrue(lock.contains("<form method=\"post\" action=\"/console/unlock\" class=\"stack\"><input type=\"hidden\""
                + " name=\"csrf\" value=\"c\"><label>Password<input name=\"password\" type=\"password\""
                + " autocomplete=\"current-password\" required value=\"\"></label><button type=\"submit\">Confirm</button>"
                + "</form>"), lock);
        assertFalse(lock.contains("name=\"next\"") || lock.contains("name=\"code\""), lock);
    }

    @Test
    void theRecoveryCodeIsOpenWhenThereIsNoAuthenticatorApp() {
        String none = Templates.page("identity/factor.jte", JA, new AuthViews.Factor("", null, false, "c"));
        assertTrue(none.contains("<details open><summary>回復コードを使う</summary>"), none);
        assertFalse(none.contains("name=\"code\""), none);
        String app = Templates.page("identity/factor.jte", JA, new AuthViews.Factor("", null, true, "c"));
        assertTrue(app.contains("<details><summary>"), app);
        assertTrue(app.contains("<input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus>"), app);
    }

    @Test
    void theAccountPageEscapesWhatTheLedgerHolds() {
        AccountViews.SessionTable sessions = new AccountViews.SessionTable("/console/admin/sessions/end", List.of(
                new AccountViews.SessionRow(HOSTILE, HOSTILE, true, "t1", "t2", "locked", HOSTILE, HOSTILE)), "c");
        AccountViews.Detail v = new AccountViews.Detail(HOSTILE, new AccountViews.Issued(HOSTILE, HOSTILE, "t"), "id-1",
                HOSTILE, HOSTILE, "Staff", HOSTILE, HOSTILE, HOSTILE, HOSTILE, "t " + HOSTILE, "—", "—", false, true,
                true, false, true, List.of(new AccountViews.Option("doctor", HOSTILE)),
                List.of(new AccountViews.ProofingRow(HOSTILE, HOSTILE, HOSTILE, HOSTILE, "t")),
                new AccountViews.ProofingForm(HOSTILE, HOSTILE, "2025-01-02"), sessions,
                List.of(new AccountViews.Change("t", HOSTILE, HOSTILE)), "c");
        String html = Templates.page("identity/account.jte", EN, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<p><code id=\"enrolment-code\">" + ESCAPED + "</code></p>"), html);
        assertTrue(html.contains("<dt>Name</dt><dd>" + ESCAPED + "</dd>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + " (this one)</td><td>t1</td><td>t2</td><td>locked " + ESCAPED
                + "</td><td>" + ESCAPED + "</td>"), html);
        assertTrue(html.contains("<input type=\"hidden\" name=\"session\" value=\"" + ESCAPED + "\">"), html);
        assertTrue(html.contains("<tr><td>t</td><td>" + ESCAPED + "</td><td>" + ESCAPED + "</td></tr>"), html);
        assertTrue(html.contains("<form method=\"post\" action=\"/console/admin/account/suspend\" class=\"inline\">"
                + "<input type=\"hidden\" name=\"csrf\" value=\"c\"><input type=\"hidden\" name=\"id\" value=\"id-1\">"
                + "<label>Reason<input name=\"reason\" required maxlength=\"500\"></label><button type=\"submit\">Suspend"
                + "</button></form>"), html);
        assertTrue(html.contains("<input name=\"proof_note\" type=\"text\" autocomplete=\"off\" value=\"" + ESCAPED
                + "\">"), html);
        assertTrue(html.contains("<option value=\"drivers_licence\">Driver&#39;s licence</option>"), html);
        assertFalse(html.contains("action=\"/console/admin/account/reactivate\"")
                || html.contains("<button type=\"submit\">Issue an enrolment code</button>"), html);
    }

    @Test
    void theEmergencyAndExceptionPagesEscapeNotesReasonsAndControls() {
        AccountViews.Emergency v = new AccountViews.Emergency(HOSTILE, new AccountViews.Sealed(HOSTILE, HOSTILE),
                new AccountViews.Declaration(HOSTILE, "t1", "t2", HOSTILE), HOSTILE, HOSTILE, HOSTILE, List.of(
                new AccountViews.Use(7, HOSTILE, "t", HOSTILE, true, HOSTILE, "t3", HOSTILE),
                new AccountViews.Use(8, "er-1", "t", "10.0.0.1", false, null, "—", null)), "c");
        String html = Templates.page("identity/emergency.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<code id=\"sealed-password\">" + ESCAPED + "</code>"), html);
        assertTrue(html.contains("<p>非常時を宣言中：" + ESCAPED + "（t1〜t2）" + ESCAPED + " / Emergency declared</p>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + " t3 " + ESCAPED + "</td>"), html);
        assertTrue(html.contains("<input type=\"hidden\" name=\"use\" value=\"8\">"), html);
        assertFalse(html.contains("action=\"/console/admin/emergency/declare\""), "no second declaration while one is in force");
        AccountViews.Exceptions x = new AccountViews.Exceptions("", List.of(new AccountViews.ExceptionRow("e-1", HOSTILE,
                HOSTILE, HOSTILE, "t", false)), HOSTILE, HOSTILE, HOSTILE, "c");
        String ex = Templates.page("identity/exceptions.jte", EN, x);
        assertFalse(ex.contains("<script>"), ex);
        assertTrue(ex.contains("<td>ended</td><td></td></tr>"), "an ended exception cannot be revoked: " + ex);
        assertTrue(ex.contains("<textarea name=\"control\" required minlength=\"10\">" + ESCAPED + "</textarea>"), ex);
    }

    @Test
    void aSessionRowSaysWhetherItIsThisOneAndWhatStateItIsIn() {
        Instant t = Instant.parse("2025-04-01T00:30:00Z");
        Sessions.Session mine = new Sessions.Session("ref-1", UUID.randomUUID(), "sato", "佐藤", null, java.util.Set.of(),
                Sessions.Stage.AUTHENTICATED, "pwd+otp", t, t, t, false, false, null, null, 0);
        ConsoleRequest r = new ConsoleRequest("GET", "/console/me", Map.of(), Map.of(), h -> null, "127.0.0.1",
                ConsoleRequest.Lang.JA, "cookie", mine, "csrf-1");
        AccountViews.SessionTable table = AccountPages.sessionTable(r, List.of(
                new Sessions.Info("ref-1", mine.accountId(), "sato", Sessions.Stage.AUTHENTICATED, "pwd+otp", t, t, false,
                        "10.0.0.1", "ua"),
                new Sessions.Info("ref-2", mine.accountId(), "sato", Sessions.Stage.AUTHENTICATED, "pwd", t, null, true,
                        "10.0.0.2", "ua"),
                new Sessions.Info("ref-3", mine.accountId(), "sato", Sessions.Stage.SECOND_FACTOR, "pwd", t, t, false,
                        "10.0.0.3", "ua")), "/console/me/sessions/end");
        // Times in JST as the console shows them, how the session signed in in words (not pwd+otp).
        assertEquals(new AccountViews.SessionRow("ref-1", "sato", true, "2025年4月1日 09:30", "2025年4月1日 09:30", "active",
                "パスワード＋認証アプリ", "10.0.0.1"), table.rows().get(0));
        assertEquals(new AccountViews.SessionRow("ref-2", "sato", false, "2025年4月1日 09:30", "—", "locked", "パスワード",
                "10.0.0.2"), table.rows().get(1));
        assertEquals("signingIn", table.rows().get(2).state());
        assertEquals("csrf-1", table.csrf());
        String html = Templates.page("identity/sessions.jte", JA, table);
        assertTrue(html.contains("<td>sato（この画面）</td>") && html.contains("<td>ロック中 パスワード</td>")
                && html.contains("<td>認証途中 パスワード</td>"), html);
    }
}
