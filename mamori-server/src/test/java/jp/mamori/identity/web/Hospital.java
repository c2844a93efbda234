package jp.mamori.identity.web;

import jp.mamori.testing.TestServer;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fresh server whose first administrator has just enrolled through /console/setup, plus what an
 * administrator does on the admin pages, and reads of the database behind the server's back.
 */
final class Hospital implements AutoCloseable {
    static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    /** The step-up page, where a POST on a step-up route lands when the second factor is not fresh. */
    static final String STEP_UP_PATH = "/console/step-up";

    final TestServer server;
    final Person admin;
    /** The page the first administrator saw after registering a second factor. */
    final Browser.Page adminRecoveryPage;

    private Hospital(TestServer server, Person admin, Browser.Page adminRecoveryPage) {
        this.server = server;
        this.admin = admin;
        this.adminRecoveryPage = adminRecoveryPage;
    }

    static Hospital open() {
        return open(List.of());
    }

    /** The same with extra {@code serve} options (e.g. {@code --backup-dir DIR}: backups on). */
    static Hospital open(List<String> serveOptions) {
        return open(serveOptions, Map.of());
    }

    /** The same with an environment for the server's secrets (e.g. {@code MAMORI_SEAL_PIN}). */
    static Hospital open(List<String> serveOptions, Map<String, String> env) {
        TestServer server = TestServer.start(serveOptions, env);
        try {
            Browser b = new Browser(server, "first-admin");
            Person admin = new Person(Person.uniqueId("kanri.t"), Person.newPassword(), b);
            Browser.Page setup = b.get("/console/setup");
            assertEquals(200, setup.status(), setup::toString);
            String secret = Files.readString(server.dataDir().resolve("secrets").resolve("bootstrap-secret")).strip();
            Browser.Page factor = b.submit("/console/setup", "secret", secret, "login_id", admin.loginId,
                    "family_name", "管理", "given_name", "太郎", "family_kana", "カンリ", "given_kana", "タロウ",
                    "password", admin.password, "password2", admin.password);
            assertEquals("/console/enrol/factor", factor.path(), factor::toString);
            admin.scanTotp(factor);
            Browser.Page codes = b.submit("/console/enrol/totp", "code", admin.totp());
            admin.keepRecoveryCodes(codes);
            admin.accountId = accountId(server, admin.loginId);
            assertEquals("/console/home", b.get("/console/home").path(), "the first administrator is logged in");
            return new Hospital(server, admin, codes);
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        } catch (Exception e) {
            server.close();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }

    // ---- as the administrator ------------------------------------------------------------------------------

    /**
     * Submits an administrator's form on the page the admin's browser is on; when the action needs a fresh
     * second factor, gives one on the step-up page, after which the form that was sent continues by itself (the
     * gate held it), as a person sees it: the answer is the form's.
     */
    Browser.Page adminSubmit(String action, String... fields) {
        Browser b = admin.browser;
        Browser.Page p = b.submit(action, fields);
        if (p.path().equals(STEP_UP_PATH)) {
            Browser.Page asked = p;
            assertTrue(asked.contains("送信した内容は保持されています"), () -> "the step-up page says the form is kept: " + asked);
            p = admin.stepUpQuickly(b);
        }
        return p;
    }

    /** The fields of the new-account form for a person with proper identity proofing. */
    static Map<String, String> staffFields(String loginId, String department) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("login_id", loginId);
        f.put("family_name", "山田");
        f.put("given_name", "花子");
        f.put("family_kana", "ヤマダ");
        f.put("given_kana", "ハナコ");
        f.put("type", "staff");
        f.put("qualification", "clerk");
        f.put("departments", department);
        f.put("proof_method", "in_person");
        f.put("proof_document", "my_number_card");
        f.put("proof_note", "末尾4桁 1234");
        f.put("proof_by", "人事課 佐藤");
        f.put("proof_date", LocalDate.now(JST).toString());
        return f;
    }

    static String[] pairs(Map<String, String> m) {
        List<String> out = new ArrayList<>();
        m.forEach((k, v) -> {
            out.add(k);
            out.add(v);
        });
        return out.toArray(String[]::new);
    }

    /** Creates a staff account on the admin pages; returns its id (the admin's browser is on its page). */
    UUID createStaff(String loginId, String department, String... extraFields) {
        admin.browser.get("/console/admin/accounts/new");
        Map<String, String> f = staffFields(loginId, department);
        for (int i = 0; i < extraFields.length; i += 2) {
            f.put(extraFields[i], extraFields[i + 1]);
        }
        Browser.Page p = adminSubmit("/console/admin/accounts/new", pairs(f));
        assertEquals("/console/admin/account", p.path(), p::toString);
        return UUID.fromString(p.uri().getQuery().replaceFirst("^id=", ""));
    }

    /** Opens the account's page in the admin's browser. */
    Browser.Page openAccount(UUID id) {
        Browser.Page p = admin.browser.get("/console/admin/account?id=" + id);
        assertEquals(200, p.status(), p::toString);
        return p;
    }

    /** Issues an enrolment code for the account; returns the code shown once. */
    String issueCode(UUID id) {
        openAccount(id);
        Browser.Page p = adminSubmit("/console/admin/account/enrolment-code");
        return p.code("enrolment-code");
    }

    /**
     * A new member of staff of {@code department} given {@code role} there by the first administrator (e.g. the
     * auditor role for the audit and compliance consoles, a physician to be refused), in force at once.
     */
    Person staffWithRole(String stem, String department, String role) {
        Person p = enrolStaff(stem, department);
        admin.browser.get("/console/admin/account/roles?id=" + p.accountId);
        Browser.Page done = adminSubmit("/console/admin/account/roles/assign", "role", role,
                "department", department, "scope", "");
        assertEquals("/console/admin/account/roles", done.path(), done::toString);
        return p;
    }

    /** The whole way in for a new member of staff: account, code, enrolment with TOTP. Logged in afterwards. */
    Person enrolStaff(String stem, String department, String... extraFields) {
        String loginId = Person.uniqueId(stem);
        UUID id = createStaff(loginId, department, extraFields);
        return enrolWithCode(loginId, id, issueCode(id));
    }

    /**
     * The person's own way in with an enrolment code already issued to account {@code id}: password, then TOTP, the
     * recovery codes kept. Logged in afterwards.
     */
    Person enrolWithCode(String loginId, UUID id, String code) {
        Person p = new Person(loginId, Person.newPassword(), new Browser(server, loginId));
        p.accountId = id;
        Browser.Page codePage = p.browser.get("/console/enrol?code=" + Browser.enc(code));
        assertEquals(200, codePage.status(), codePage::toString);
        Browser.Page factor = p.browser.submit("/console/enrol", "code", code, "password", p.password,
                "password2", p.password);
        assertEquals("/console/enrol/factor", factor.path(), factor::toString);
        p.scanTotp(factor);
        Browser.Page done = p.browser.submit("/console/enrol/totp", "code", p.totp());
        p.keepRecoveryCodes(done);
        return p;
    }

    /**
     * A second (or further) administrator: the new-account form's administrator box asks for an account_admin
     * assignment, which the first administrator then approves on the approvals page (as the sole administrator
     * when nobody else is one yet: flagged and listed as a deviation). Logged in afterwards, with the rights.
     */
    Person enrolAdministrator(String stem, String department) {
        Person p = enrolStaff(stem, department, "admin", "1");
        UUID pending = one("SELECT assignment_id FROM role_assignment WHERE account_id = ? AND role = 'account_admin'"
                + " AND approved_at IS NULL AND revoked_at IS NULL", p.accountId);
        assertTrue(pending != null, "the administrator box asks for an account_admin assignment");
        admin.browser.get("/console/admin/approvals");
        Browser.Page done = adminSubmit("/console/admin/approvals/approve", "kind", "role", "item", pending.toString());
        assertEquals("/console/admin/approvals", done.path(), done::toString);
        assertTrue(one("SELECT approved_at FROM role_assignment WHERE assignment_id = ?", pending) != null,
                "approved by the first administrator");
        return p;
    }

    /** Submits one of the reason forms (suspend, retire, compromised...) on the account's page. */
    Browser.Page accountAction(UUID id, String action, String... fields) {
        openAccount(id);
        return adminSubmit(action, fields);
    }

    // ---- the database, behind the server's back ------------------------------------------------------------

    static UUID accountId(TestServer server, String loginId) {
        return Hospital.<UUID>one(server, "SELECT account_id FROM account WHERE login_id = ?", loginId);
    }

    UUID accountId(String loginId) {
        return accountId(server, loginId);
    }

    @SuppressWarnings("unchecked")
    static <T> T one(TestServer server, String sql, Object... params) {
        List<Map<String, Object>> rows = rows(server, sql, params);
        assertTrue(rows.size() <= 1, () -> "more than one row: " + sql);
        return rows.isEmpty() ? null : (T) rows.get(0).values().iterator().next();
    }

    <T> T one(String sql, Object... params) {
        return one(server, sql, params);
    }

    static List<Map<String, Object>> rows(TestServer server, String sql, Object... params) {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<Map<String, Object>> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
                    }
                    out.add(row);
                }
            }
            return out;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    List<Map<String, Object>> rows(String sql, Object... params) {
        return rows(server, sql, params);
    }

    /** Runs an UPDATE or DELETE as the database superuser; returns the rows changed. */
    int execute(String sql, Object... params) throws java.sql.SQLException {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps.executeUpdate();
        }
    }

    String status(UUID account) {
        return one("SELECT status FROM account WHERE account_id = ?", account);
    }
}
