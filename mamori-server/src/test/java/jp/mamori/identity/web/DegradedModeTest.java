package jp.mamori.identity.web;

import jp.mamori.db.Availability;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Degraded read-only mode as people and system clients meet it (issue 18 §2): the banner on every console page, writes
 * refused at the two choke points with a message that says what to do (FHIR: 503, Retry-After, OperationOutcome),
 * reads working, and sign-in working on a database that really is read-only.
 */
class DegradedModeTest {
    private static Hospital h;
    private static Availability availability;

    @BeforeAll
    static void open() {
        h = Hospital.open();
        availability = h.server.server().database().availability();
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static final String BANNER = "縮退運用中 — 参照のみ";

    @Test
    void theBannerShowsOnEveryPageAndWritesAreRefusedWithTheTypedTextKeptUntilNormalAgain() {
        Browser b = h.admin.browser;
        Browser leaving = new Browser(h.server, "degraded-sign-out");
        h.admin.password(leaving);
        assertEquals("/console/home", leaving.submit("/console/login/factor", "recovery_code",
                h.admin.nextRecoveryCode()).path());
        b.get("/console/admin/emergency");
        // the monitor would find the writable primary and switch back within seconds: paused while the test holds it
        h.server.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::close);
        availability.enterDegraded("test: the primary is down");
        try {
            for (String page : new String[]{"/console/home", "/console/me", "/console/admin/accounts"}) {
                Browser.Page p = b.get(page);
                assertEquals(200, p.status(), p::toString);
                assertTrue(p.contains(BANNER) && p.contains("id=\"degraded-banner\"") && p.contains(" JST"),
                        () -> "the banner with since-when in JST on " + page + ": " + p);
            }
            // operations see it: the health line, the gauge, an open alert (sent to the notifier when raised)
            jp.mamori.ops.Health.Report report = h.server.server().health().fresh();
            assertEquals(jp.mamori.ops.HealthCheck.Status.DEGRADED, report.line("degraded-mode").result().status());
            assertTrue(report.line("degraded-mode").result().summary().contains("JST"), report.line("degraded-mode")::toString);
            assertEquals(jp.mamori.ops.HealthCheck.Status.DEGRADED, report.status());
            assertTrue(h.server.server().metrics().scrape().contains("mamori_degraded 1.0"));
            assertTrue(h.server.server().alerts().open().stream().anyMatch(a -> a.key().equals("degraded-mode")));
            Browser anonymous = new Browser(h.server, "degraded-anonymous");
            assertTrue(anonymous.get("/console/login").contains(BANNER), "the login page shows it too");

            // a write (a step-up form even): refused before the step-up, saying what to do, the typed text shown back
            b.get("/console/admin/accounts/new");
            String loginId = Person.uniqueId("degraded.new");
            java.util.Map<String, String> f = Hospital.staffFields(loginId, "内科");
            f.put("proof_note", "停電のため電子カルテ停止中<script>x</script>");
            Browser.Page refused = b.submit("/console/admin/accounts/new", Hospital.pairs(f));
            assertEquals(503, refused.status(), refused::toString);
            assertEquals("5", refused.response().headers().firstValue("Retry-After").orElse(null));
            assertTrue(refused.contains("縮退運用中（参照のみ）のため、この操作は保存されていません"), refused::toString);
            assertTrue(refused.contains("紙") && refused.contains("後入力"), "what to do instead: " + refused);
            assertTrue(refused.contains("停電のため電子カルテ停止中&lt;script&gt;x&lt;/script&gt;</textarea>"),
                    () -> "the typed text is kept, escaped: " + refused);
            assertEquals(0L, (long) Hospital.one(h.server, "SELECT count(*) FROM account WHERE login_id = ?", loginId),
                    "nothing was written");

            // a POST that writes nothing of its own (sign-out, held in memory while degraded) is not refused
            leaving.get("/console/home");
            Browser.Page out = leaving.submit("/console/logout");
            assertEquals("/console/login", out.path(), out::toString);
            assertEquals("/console/login", leaving.get("/console/home").path(), "signed out");

            // FHIR: writes refused before anything is attempted, reads answered
            HttpResponse<String> w = h.server.post("/Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
            assertEquals(503, w.statusCode(), w::body);
            assertEquals("5", w.headers().firstValue("Retry-After").orElse(null));
            assertTrue(w.body().contains("\"resourceType\":\"OperationOutcome\"") && w.body().contains("transient")
                    && w.body().contains("縮退運用中のため書き込みできません"), w::body);
            HttpResponse<String> tx = h.server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                    + "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"active\":true},"
                    + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");
            assertEquals(503, tx.statusCode(), tx::body);
            HttpResponse<String> del = h.server.delete("/Patient/nothing-here", "test");
            assertEquals(503, del.statusCode(), del::body);
            HttpResponse<String> read = h.server.get("/Patient?_count=1");
            assertEquals(200, read.statusCode(), read::body);
            HttpResponse<String> batch = h.server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                    + "\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient?_count=1\"}}]}");
            assertEquals(200, batch.statusCode(), batch::body);
        } finally {
            assertTrue(availability.leaveDegraded("test: the primary is back"));
            h.server.server().database().primaryMonitor().ifPresent(jp.mamori.db.PrimaryMonitor::start);
        }
        Browser.Page home = b.get("/console/home");
        assertFalse(home.contains(BANNER), home::toString);
        assertEquals("/console/login", leaving.get("/console/home").path(), "the sign-out made while degraded holds");
        assertEquals(jp.mamori.ops.HealthCheck.Status.UP,
                h.server.server().health().fresh().line("degraded-mode").result().status());
        assertTrue(h.server.server().metrics().scrape().contains("mamori_degraded 0.0"));
        assertTrue(h.server.server().alerts().open().stream().noneMatch(a -> a.key().equals("degraded-mode")));
        HttpResponse<String> w = h.server.post("/Patient", "{\"resourceType\":\"Patient\",\"active\":true}");
        assertEquals(201, w.statusCode(), w::body);
    }

    private static void readOnly(boolean on) throws Exception {
        try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET default_transaction_read_only = off");
            st.execute(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                    : "ALTER SYSTEM RESET default_transaction_read_only");
            st.execute("SELECT pg_reload_conf()");
        }
    }

    private static void await(BooleanSupplier what, String description) {
        long until = System.nanoTime() + 30_000_000_000L;
        while (!what.getAsBoolean()) {
            if (System.nanoTime() > until) {
                throw new AssertionError("not within 30 s: " + description);
            }
            Browser.sleep(200);
        }
    }

    @Test
    void signInWorksOnAReadOnlyDatabaseAndNothingOfItIsLostWhenThePrimaryReturns() throws Exception {
        Browser other = new Browser(h.server, "degraded-sign-in");
        long eventsBefore = Hospital.one(h.server, "SELECT count(*) FROM auth_event WHERE login_id = ? AND event = 'login'",
                h.admin.loginId);
        readOnly(true);
        try {
            await(availability::degraded, "the primary monitor switches to degraded mode");
            assertTrue(availability.state().reason().contains("read-only"), availability.state().reason());
            // an open session keeps working
            Browser.Page home = h.admin.browser.get("/console/me");
            assertEquals(200, home.status(), home::toString);
            assertTrue(home.contains(BANNER), home::toString);
            // a new sign-in with password and TOTP works
            Browser.Page in = h.admin.logIn(other);
            assertTrue(in.contains(BANNER), in::toString);
            assertEquals(200, other.get("/console/me").status());
            // lock and unlock work too (they are kept in memory)
            other.get("/console/me");
            Browser.Page locked = other.submit("/console/lock");
            assertEquals("/console/lock", locked.path(), locked::toString);
            Browser.Page unlocked = other.submit("/console/unlock", "password", h.admin.password,
                    "recovery_code", h.admin.nextRecoveryCode());
            assertEquals(200, unlocked.status(), unlocked::toString);
            assertFalse(unlocked.path().equals("/console/lock"), unlocked::toString);
        } finally {
            readOnly(false);
        }
        await(() -> !availability.degraded(), "the primary monitor leaves degraded mode");
        // the sign-in made while degraded is in the database now, and its session goes on
        long eventsAfter = Hospital.one(h.server, "SELECT count(*) FROM auth_event WHERE login_id = ? AND event = 'login'"
                + " AND detail LIKE '%degraded mode%'", h.admin.loginId);
        assertTrue(eventsAfter >= 1, "the degraded sign-in's event was written: " + eventsAfter + " (before " + eventsBefore + ")");
        Browser.Page after = other.get("/console/me");
        assertEquals("/console/me", after.path(), after::toString);
        assertFalse(after.contains(BANNER), after::toString);
        String cookie = other.cookie("__Host-mamori-session").orElseThrow();
        try (Connection c = h.server.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM web_session WHERE ended_at IS NULL AND"
                     + " session_sha256 = sha256(convert_to('" + cookie.replace("'", "") + "', 'UTF8'))")) {
            rs.next();
            assertEquals(1, rs.getInt(1), "the session started while degraded was written to web_session");
        }
    }

    @Test
    void anEmergencyDeclaredWhileDegradedLetsAnEmergencyAccountSignInAndIsRecordedAfterwards() throws Exception {
        String label = "er-" + java.util.UUID.randomUUID().toString().substring(0, 4);
        h.admin.browser.get("/console/admin/emergency");
        Browser.Page created = h.adminSubmit("/console/admin/emergency/accounts", "label", label);
        String password = created.code("sealed-password");
        Person er = new Person("emergency-" + label, password, new Browser(h.server, "er-degraded"));
        er.accountId = Hospital.accountId(h.server, er.loginId);
        readOnly(true);
        try {
            await(availability::degraded, "the primary monitor switches to degraded mode");
            h.admin.browser.get("/console/admin/emergency");
            Browser.Page declared = h.adminSubmit("/console/admin/emergency/declare", "declared_by", "救急部長 鈴木一郎",
                    "reason", "主データベース停止のため紙運用 " + label, "hours", "4");
            assertEquals("/console/admin/emergency", declared.path(), declared::toString);
            assertTrue(declared.contains("主データベース停止のため紙運用 " + label), declared::toString);
            Browser.Page home = er.password(er.browser);
            assertEquals("/console/home", home.path(), () -> "an emergency account signs in while degraded: " + home);
            assertTrue(home.contains(BANNER), home::toString);
        } finally {
            readOnly(false);
        }
        await(() -> !availability.degraded(), "the primary monitor leaves degraded mode");
        assertEquals(1L, (long) Hospital.one(h.server, "SELECT count(*) FROM emergency_declaration WHERE reason = ?",
                "主データベース停止のため紙運用 " + label), "the declaration is in the database");
        assertEquals(1L, (long) Hospital.one(h.server, "SELECT count(*) FROM emergency_use WHERE account_id = ?",
                er.accountId), "the use is there to review");
        assertEquals("pwd+emergency", Hospital.one(h.server, "SELECT amr FROM web_session WHERE account_id = ? AND"
                + " ended_at IS NULL", er.accountId));
        assertEquals("/console/home", er.browser.get("/console/home").path(), "the session goes on");
        // ending it in normal mode ends the session as always
        h.admin.browser.get("/console/admin/emergency");
        h.adminSubmit("/console/admin/emergency/end");
        assertEquals("/console/login", er.browser.get("/console/home").path());
    }
}
