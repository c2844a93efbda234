package jp.mamori.identity.web;

import jp.mamori.audit.Actor;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.config.ServerConfig;
import jp.mamori.directory.DirectorySync;
import jp.mamori.directory.LdapDirectory;
import jp.mamori.testing.TestDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Directory sync (issue 21; ACCT-2) against a real LDAP server over TLS: people linked by their login id, leavers and
 * people disabled in the directory suspended after one sync (sessions ended, the reason in the ledger, an audit
 * entry), a rename keeps the link; a directory that cannot be read, refuses the bind, or answers so that too many would
 * leave suspends nobody and is shown as failing; the page is the administrators' (a clinician 403, CSRF); the command.
 */
class DirectorySyncConsoleTest {
    private static TestDirectory ldap;
    private static Hospital h;

    @BeforeAll
    static void open() {
        ldap = TestDirectory.start();
        h = Hospital.open(ldap.options("--directory-department-attribute", "departmentNumber",
                "--directory-qualification-attribute", "employeeType", "--directory-interval-minutes", "1440"));
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
        ldap.close();
    }

    private static DirectorySync sync() {
        return h.server.server().directorySync();
    }

    private static DirectorySync.Run runNow() {
        return sync().run(DirectorySync.Trigger.CONSOLE, Actor.server("test")).orElseThrow();
    }

    /** The same database and accounts with other directory options (a wrong password, another filter...). */
    private static DirectorySync syncWith(String... replace) {
        List<String> o = new ArrayList<>(List.of("--data", h.server.dataDir().toString()));
        List<String> d = new ArrayList<>(ldap.options());
        for (int i = 0; i < replace.length; i += 2) {
            int at = d.indexOf(replace[i]);
            if (at < 0) {
                d.add(replace[i]);
                d.add(replace[i + 1]);
            } else {
                d.set(at + 1, replace[i + 1]);
            }
        }
        o.addAll(d);
        DirectoryOptions opts = ServerConfig.fromArgs(o, Map.of()).directory();
        return new DirectorySync(h.server.server().database().dataSource(), h.server.server().identity().accounts(),
                h.server.server().audit().recorder(), Clock.systemUTC(), opts, new LdapDirectory(opts));
    }

    private static String status(UUID id) {
        return h.one("SELECT status FROM account WHERE account_id = ?", id);
    }

    private static long auditEntries(String action, String text) {
        for (int i = 0; i < 100; i++) { // the appender moves staged entries into the trail soon after
            Long n = h.one("SELECT count(*) FROM audit_entry WHERE action = ? AND convert_from(entry, 'UTF8') LIKE ?",
                    action, "%" + text + "%");
            if (n > 0) {
                return n;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return 0;
    }

    @Test
    void aLeaverRemovedFromTheDirectoryIsSuspendedAfterOneSyncWithSessionsEndedReasonAndAuditEntry() {
        Person p = h.enrolStaff("leaver", "内科");
        String dn = ldap.addPerson(p.loginId, "departmentNumber: 内科");
        DirectorySync.Run first = runNow();
        assertTrue(first.success(), first::toString);
        assertTrue(first.linked() >= 1, first::toString);
        assertEquals(p.loginId, h.<String>one("SELECT login FROM directory_link WHERE account_id = ?", p.accountId));
        assertEquals(200, p.browser.get("/console/home").status(), "still working while in the directory");

        ldap.delete(dn);
        DirectorySync.Run second = runNow();
        assertTrue(second.success(), second::toString);
        assertEquals(1, second.suspended(), second::toString);
        assertEquals("suspended", status(p.accountId));
        String reason = h.one("SELECT status_reason FROM account WHERE account_id = ?", p.accountId);
        assertTrue(reason.startsWith("ディレクトリで無効化") && reason.contains(dn), reason);
        assertNotEquals("/console/home", p.browser.get("/console/home").path(), "the session ended");
        assertEquals(0L, h.<Long>one("SELECT count(*) FROM web_session WHERE account_id = ? AND ended_at IS NULL",
                p.accountId));
        assertTrue(auditEntries("directory.suspend", p.loginId) > 0, "an audit entry names the person");
        // enabled again later: not reactivated by the sync; the page lists the person for an administrator
        ldap.addPerson(p.loginId);
        assertTrue(runNow().success());
        assertEquals("suspended", status(p.accountId));
    }

    @Test
    void vendorAndEmergencyAccountsAreNeverLinkedNorSuspended() {
        jp.mamori.identity.Accounts accounts = h.server.server().identity().accounts();
        String vendorLogin = Person.uniqueId("vendor");
        jp.mamori.identity.Account vendor = accounts.create(new jp.mamori.identity.Accounts.NewAccount(vendorLogin,
                "保守", "一郎", "ホシュ", "イチロウ", jp.mamori.identity.Account.Type.VENDOR, List.of(
                new jp.mamori.identity.Accounts.QualificationGrant("vendor_engineer", null)), List.of("情報システム"),
                java.util.Set.of(), new jp.mamori.identity.Accounts.Proofing("in_person", "drivers_licence", null,
                "情報システム 佐藤", java.time.Instant.now())), "test:admin");
        accounts.reactivate(vendor.id(), "保守作業のため", "test:admin");
        ldap.addPerson(vendorLogin, "nsAccountLock: true");
        assertTrue(runNow().success());
        assertEquals(0L, h.<Long>one("SELECT count(*) FROM directory_link WHERE account_id = ?", vendor.id()));
        assertNotEquals("suspended", status(vendor.id()));
    }

    @Test
    void adDisabledFlagSuspendsAndARenameKeepsTheLink() {
        UUID disabled = h.createStaff(Person.uniqueId("adflag"), "外科");
        String login = h.one("SELECT login_id FROM account WHERE account_id = ?", disabled);
        String dn = ldap.addPerson(login, "userAccountControl: 512");
        UUID renamed = h.createStaff(Person.uniqueId("rename"), "外科");
        String login2 = h.one("SELECT login_id FROM account WHERE account_id = ?", renamed);
        String dn2 = ldap.addPerson(login2);
        assertTrue(runNow().success());
        assertFalse(status(disabled).equals("suspended"));

        ldap.replace(dn, "userAccountControl", "514"); // ACCOUNTDISABLE
        String moved = ldap.rename(dn2, "uid=" + login2 + "-married");
        DirectorySync.Run run = runNow();
        assertTrue(run.success(), run::toString);
        assertEquals("suspended", status(disabled));
        assertNotEquals("suspended", status(renamed), "a renamed entry is the same person: not a leaver");
        assertEquals(moved, h.<String>one("SELECT dn FROM directory_link WHERE account_id = ? ORDER BY seq DESC LIMIT 1",
                renamed));
        assertEquals(2L, h.<Long>one("SELECT count(*) FROM directory_link WHERE account_id = ?", renamed));
    }

    @Test
    void aDirectoryThatCannotBeReadOrThatWouldSuspendTooManySuspendsNobody() {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            UUID id = h.createStaff(Person.uniqueId("guard" + i), "放射線科");
            ldap.addPerson(h.one("SELECT login_id FROM account WHERE account_id = ?", id), "departmentNumber: 放射線科");
            ids.add(id);
        }
        assertTrue(runNow().success());
        List<DirectorySync.Run> failed = List.of(
                syncWith("--directory-password-file", ldap.wrongPasswordFile().toString())
                        .run(DirectorySync.Trigger.CONSOLE, Actor.server("test")).orElseThrow(),
                syncWith("--directory-url", "ldaps://localhost:1")
                        .run(DirectorySync.Trigger.CONSOLE, Actor.server("test")).orElseThrow(),
                syncWith("--directory-filter", "(uid=nobody-at-all)")
                        .run(DirectorySync.Trigger.CONSOLE, Actor.server("test")).orElseThrow(),
                syncWith("--directory-filter", "(uid=" + h.one("SELECT login_id FROM account WHERE account_id = ?",
                        ids.get(0)) + ")").run(DirectorySync.Trigger.CONSOLE, Actor.server("test")).orElseThrow());
        for (DirectorySync.Run r : failed) {
            assertFalse(r.success(), r::toString);
            assertEquals(0, r.suspended());
        }
        assertTrue(failed.get(0).reason().contains("バインド"), failed.get(0).reason());
        assertTrue(failed.get(1).reason().contains("接続できません"), failed.get(1).reason());
        assertTrue(failed.get(2).reason().contains("空"), failed.get(2).reason());
        assertTrue(failed.get(3).reason().contains("誰も停止していません") && failed.get(3).refused() >= 6,
                failed.get(3).reason());
        for (UUID id : ids) {
            assertNotEquals("suspended", status(id));
        }
        DirectorySync.State s = sync().state();
        assertTrue(s.failing() && s.lastFailure().isPresent() && s.lastSuccess().isPresent(), s::toString);
        assertTrue(auditEntries("directory.sync", "バインド") > 0, "the failed run is in the trail");
        // the administrator's home says so; the page shows why
        Browser.Page home = h.admin.browser.get("/console/home");
        assertTrue(home.contains("ディレクトリ同期が失敗しています"), home::toString);
        Browser.Page page = h.admin.browser.get("/console/admin/directory");
        assertEquals(200, page.status(), page::toString);
        assertTrue(page.contains("最後の同期は失敗しました"), page::toString);
        assertTrue(runNow().success());
        assertFalse(h.admin.browser.get("/console/home").contains("ディレクトリ同期が失敗しています"));
    }

    @Test
    void thePageIsTheAdministratorsAndSyncNowNeedsCsrfAndAFreshSecondFactor() {
        Person clinician = h.enrolStaff("rinsho", "内科");
        assertEquals(403, clinician.browser.get("/console/admin/directory").status());
        assertEquals(403, clinician.browser.post("/console/admin/directory/sync", Map.of("csrf",
                clinician.browser.get("/console/home").csrf()), Map.of()).status());
        Browser.Page page = h.admin.browser.get("/console/admin/directory");
        assertEquals(200, page.status());
        assertTrue(page.contains("ディレクトリ同期") && page.contains(TestDirectory.BIND_DN), page::toString);
        assertFalse(page.contains(TestDirectory.PASSWORD), "no secret on the page");
        long runs = h.<Long>one("SELECT count(*) FROM directory_run");
        assertEquals(403, h.admin.browser.post("/console/admin/directory/sync", Map.of("csrf", "x" + page.csrf()),
                Map.of()).status());
        assertEquals(runs, (long) h.<Long>one("SELECT count(*) FROM directory_run"), "no run without the token");
        h.admin.browser.get("/console/admin/directory");
        Browser.Page done = h.adminSubmit("/console/admin/directory/sync");
        assertEquals(200, done.status(), done::toString);
        assertTrue(done.contains("同期しました"), done::toString);
        assertEquals(runs + 1, (long) h.<Long>one("SELECT count(*) FROM directory_run"));
        assertTrue(auditEntries("directory.sync", h.admin.loginId) > 0, "the run names who started it");
    }

    @Test
    void departmentsAreProposedAndAcceptedOnlyByAnAdministrator() {
        UUID id = h.createStaff(Person.uniqueId("busho"), "内科");
        String login = h.one("SELECT login_id FROM account WHERE account_id = ?", id);
        ldap.addPerson(login, "departmentNumber: 内科", "departmentNumber: 救急科");
        assertTrue(runNow().success());
        List<DirectorySync.Proposal> open = sync().proposals().stream().filter(p -> p.accountId().equals(id)).toList();
        assertEquals(1, open.size(), open::toString);
        assertEquals("救急科", open.get(0).value());
        assertEquals(0L, h.<Long>one("SELECT count(*) FROM account_department WHERE account_id = ? AND department ="
                + " '救急科'", id), "never applied by itself");
        h.admin.browser.get("/console/admin/directory");
        Browser.Page accepted = h.admin.browser.submit("/console/admin/directory/proposal", "proposal",
                Long.toString(open.get(0).seq()), "decision", "accept");
        assertEquals(200, accepted.status(), accepted::toString);
        assertEquals(1L, h.<Long>one("SELECT count(*) FROM account_department WHERE account_id = ? AND department ="
                + " '救急科'", id));
        Browser.Page again = h.admin.browser.post("/console/admin/directory/proposal", Map.of("proposal",
                Long.toString(open.get(0).seq()), "decision", "accept", "csrf", accepted.csrf()), Map.of());
        assertEquals(409, again.status(), "decided once");
        Browser.Page junk = h.admin.browser.post("/console/admin/directory/proposal", Map.of("proposal", "x'; --",
                "decision", "accept", "csrf", accepted.csrf()), Map.of());
        assertEquals(400, junk.status());
        assertTrue(auditEntries("directory.proposal", "救急科") > 0);
        assertTrue(runNow().success());
        assertTrue(sync().proposals().stream().noneMatch(p -> p.accountId().equals(id)), "not proposed again");
    }

    @Test
    void qualificationsAreProposedFromTheCatalogueAndALicenceIsGrantedOnlyWithItsNumber() {
        UUID id = h.createStaff(Person.uniqueId("shikaku"), "内科");
        String login = h.one("SELECT login_id FROM account WHERE account_id = ?", id);
        // by Japanese name (full-width blanks around it), by English name in other case, one the account holds
        // already (clerk, given at creation), and one no catalogue entry matches
        ldap.addPerson(login, "employeeType: \u3000看護師\u3000", "employeeType: PHARMACIST", "employeeType: clerk",
                "employeeType: 宇宙飛行士");
        assertTrue(runNow().success());
        List<DirectorySync.Proposal> open = sync().proposals().stream().filter(p -> p.accountId().equals(id)
                && p.kind().equals("qualification")).toList();
        assertEquals(List.of("nurse", "pharmacist"), open.stream().map(DirectorySync.Proposal::value).sorted()
                .toList(), open::toString);
        assertTrue(sync().unmappedQualifications().contains("宇宙飛行士"), () -> sync().unmappedQualifications()
                .toString());
        assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM account_qualification WHERE account_id = ?", id),
                "never granted by itself");
        DirectorySync.Proposal nurse = open.stream().filter(p -> p.value().equals("nurse")).findFirst().orElseThrow();
        Browser.Page page = h.admin.browser.get("/console/admin/directory");
        assertTrue(page.contains("看護師") && page.contains("看護師籍登録番号") && page.contains("宇宙飛行士"),
                page::toString);
        // without the licence number: refused with identity's reason, nothing granted, the proposal stays open
        Browser.Page refused = h.admin.browser.submit("/console/admin/directory/proposal", "proposal",
                Long.toString(nurse.seq()), "decision", "accept");
        assertEquals(409, refused.status(), refused::toString);
        assertTrue(refused.contains("看護師籍登録番号が必要です"), refused::toString);
        assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM account_qualification WHERE account_id = ?", id));
        assertTrue(sync().proposals().stream().anyMatch(p -> p.seq() == nurse.seq()), "still open");
        Browser.Page accepted = h.admin.browser.submit("/console/admin/directory/proposal", "proposal",
                Long.toString(nurse.seq()), "decision", "accept", "licence", "ＮＳ１２３４５６");
        assertEquals(200, accepted.status(), accepted::toString);
        assertEquals("NS123456", h.one("SELECT licence_number FROM account_qualification WHERE account_id = ? AND"
                + " qualification = 'nurse'", id), "the number as identity keeps it (NFKC)");
        assertTrue(auditEntries("directory.proposal", "nurse") > 0);
        assertTrue(runNow().success());
        assertTrue(sync().proposals().stream().noneMatch(p -> p.accountId().equals(id) && p.value().equals("nurse")),
                "a held qualification is not proposed again");
    }

    @Test
    void theCommandRunsOneSyncAndSaysSoInOneLine() {
        List<String> args = new ArrayList<>(List.of("directory", "sync", "--data", h.server.dataDir().toString()));
        args.addAll(ldap.options());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = jp.mamori.cli.Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        assertEquals(0, code, () -> err.toString(StandardCharsets.UTF_8));
        String line = out.toString(StandardCharsets.UTF_8).strip();
        assertTrue(line.startsWith("同期しました / synced") && !line.contains("\n"), line);
        List<String> bad = new ArrayList<>(args);
        bad.set(bad.indexOf("--directory-password-file") + 1, ldap.wrongPasswordFile().toString());
        err.reset();
        assertEquals(1, jp.mamori.cli.Main.run(bad, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("誰も停止していません"), err::toString);
        err.reset();
        assertEquals(2, jp.mamori.cli.Main.run(List.of("directory", "sync", "--data", h.server.dataDir().toString()),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of()));
        assertEquals(1L, h.<Long>one("SELECT count(*) FROM directory_run WHERE trigger = 'cli' AND outcome = 'success'"));
    }
}
