package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.config.ServerConfig;
import jp.mamori.directory.DirectorySync;
import jp.mamori.directory.LdapDirectory;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The directory sync page in a real Chromium (issue 21): the administrator's home says when the sync is failing and
 * links to the page, which says why in Japanese; "今すぐ同期" asks for the second factor, then a leaver and a person
 * disabled in the directory are listed as suspended, with a department proposal to accept and a qualification proposal
 * that is accepted with the licence number read from the licence. Screenshots at 1280, 768
 * and 390 px (target/screenshots/directory-*.png).
 */
class DirectoryBrowserTest {
    static final TestDirectory ldap = TestDirectory.start();

    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser(ldap.options("--directory-department-attribute",
            "departmentNumber", "--directory-qualification-attribute", "employeeType", "--directory-interval-minutes",
            "1440").toArray(String[]::new));

    @AfterAll
    static void stop() {
        ldap.close();
    }

    private static Account staff(String login, String family, String given) {
        Accounts accounts = console.server().server().identity().accounts();
        return accounts.create(new Accounts.NewAccount(login, family, given, "ヤマダ", "ハナコ", Account.Type.STAFF,
                List.of(new Accounts.QualificationGrant("clerk", null)), List.of("内科"), Set.of(),
                new Accounts.Proofing("in_person", "my_number_card", null, "人事課 佐藤", Instant.now())), "test:admin");
    }

    @Test
    void theAdministratorSeesAFailingSyncRunsItAndSeesWhoWasSuspended() {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.dir");
        ConsoleSteps.App app = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);

        staff("takahashi.k", "高橋", "健");
        staff("suzuki.t", "鈴木", "太郎");
        staff("kato.m", "加藤", "美咲");
        String leaver = ldap.addPerson("takahashi.k", "departmentNumber: 内科");
        String flagged = ldap.addPerson("suzuki.t", "userAccountControl: 512");
        ldap.addPerson("kato.m", "departmentNumber: 内科", "departmentNumber: 救急科", "employeeType: 看護師");
        DirectorySync sync = console.server().server().directorySync();
        assertTrue(sync.run(DirectorySync.Trigger.SCHEDULE, Actor.server(DirectorySync.BY)).orElseThrow().success());

        // a run that could not bind: nobody suspended, the home page says so
        List<String> o = new ArrayList<>(List.of("--data", console.server().dataDir().toString()));
        o.addAll(ldap.options("--directory-password-file", ldap.wrongPasswordFile().toString()));
        o.subList(o.indexOf("--directory-password-file"), o.indexOf("--directory-password-file") + 2).clear();
        DirectoryOptions wrong = ServerConfig.fromArgs(o, Map.of()).directory();
        assertFalse(new DirectorySync(console.server().server().database().dataSource(),
                console.server().server().identity().accounts(), console.server().server().audit().recorder(),
                Clock.systemUTC(), wrong, new LdapDirectory(wrong)).run(DirectorySync.Trigger.SCHEDULE,
                Actor.server(DirectorySync.BY)).orElseThrow().success());
        b.open("/console/home");
        String line = b.find("#directory-failing").getText();
        assertTrue(line.contains("ディレクトリ同期が失敗しています"), line);
        ConsoleSteps.shootAll(b, "directory-home-failing");
        b.find("#directory-link").click();
        b.waitForPath("/console/admin/directory", java.time.Duration.ofSeconds(20));
        assertTrue(b.find("#status-reason").getText().contains("バインドが拒否されました"), b.text());
        ConsoleSteps.shootAll(b, "directory-failing");

        ldap.delete(leaver);
        ldap.replace(flagged, "userAccountControl", "514");
        b.submit("今すぐ同期");
        if (b.path().equals("/console/step-up")) {
            b.fill("/console/step-up", "code", app.nextCode()).submit("確認");
        }
        assertEquals("/console/admin/directory/sync", b.path(), b.text());
        assertTrue(b.text().contains("同期しました") && b.text().contains("停止 2 人"), b.text());
        String suspended = b.find("#suspended").getText();
        assertTrue(suspended.contains("高橋 健") && suspended.contains("ディレクトリから削除")
                && suspended.contains("鈴木 太郎") && suspended.contains("ディレクトリで無効化"), suspended);
        String proposals = b.find("#proposals").getText();
        assertTrue(proposals.contains("加藤 美咲") && proposals.contains("救急科")
                && proposals.contains("資格に「看護師」を追加") && proposals.contains("看護師籍登録番号"), proposals);
        assertFalse(proposals.contains("nurse"), "the qualification in words, not its code: " + proposals);
        assertFalse(b.text().contains(TestDirectory.PASSWORD));
        String runs = b.find("#runs").getText();
        assertTrue(runs.contains("画面から") && runs.contains("サーバー") && !runs.contains("system:")
                && !runs.contains("account:"), "who started each run, in words: " + runs);
        ConsoleSteps.shootAll(b, "directory-after-sync");
        jp.mamori.testing.Accessibility.assertNoSeriousViolations(b, "directory");
        b.js("document.getElementById('runs').scrollIntoView();");
        ConsoleSteps.shoot(b, 1280, 800, "directory-runs-1280");
        b.js("document.getElementById('runs').scrollIntoView();");
        ConsoleSteps.shoot(b, 390, 844, "directory-runs-390");
        b.driver().manage().window().setSize(new org.openqa.selenium.Dimension(1280, 800));

        b.submit("採用する"); // the department: first in the list
        assertTrue(b.text().contains("提案を採用しました"), b.text());
        b.find("input[name=licence]").sendKeys("123456");
        ConsoleSteps.shootAll(b, "directory-qualification-proposal");
        b.submit("採用する");
        assertTrue(b.text().contains("提案を採用しました"), b.text());
        assertTrue(b.find("#proposals").getText().contains("処理を待つ提案はありません"), b.text());
        b.open("/console/home");
        assertTrue(b.driver().findElements(org.openqa.selenium.By.id("directory-failing")).isEmpty(),
                "the home page's line goes once a run succeeds");
    }
}
