package jp.mamori.identity.web;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backups page over HTTP (BACKUP-5; 004 checklist row 7): an administrator takes a backup and runs a restore
 * drill with its buttons, then sees the backup listed with its time in Japan time and the drill's measured
 * restore time and data age; a physician is refused; a form without its CSRF token starts nothing; both runs are in
 * the audit trail under the person who started them.
 */
class BackupConsoleTest {
    private static final Pattern JAPANESE_TIME = Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2}");
    private static final Pattern BACKUP_ID = Pattern.compile("\\d{8}T\\d{9}Z");

    /** Opens the page until nothing started on it runs any more (a drill starts a whole server: up to minutes). */
    private static Browser.Page whenFinished(Hospital h) throws InterruptedException {
        long until = System.nanoTime() + 240_000_000_000L;
        Browser.Page p = h.admin.browser.get("/console/admin/backups");
        while (p.contains("id=\"running\"") && System.nanoTime() < until) {
            Thread.sleep(500);
            p = h.admin.browser.get("/console/admin/backups");
        }
        assertFalse(p.contains("id=\"running\""), "the run ended: " + p);
        return p;
    }

    /** The outcomes of the trail's entries of {@code action} naming the administrator who pressed the button. */
    private static List<String> backupEntries(Hospital h, String action) {
        return h.rows("SELECT outcome FROM audit_entry WHERE action = ? AND actor_kind = 'person' AND actor = ?"
                + " ORDER BY seq", action, "account:" + h.admin.loginId).stream()
                .map(r -> (String) r.get("outcome")).toList();
    }

    @Test
    void anAdministratorBacksUpAndDrillsFromThePageAPhysicianIsRefusedAndAFormWithoutItsTokenDoesNothing()
            throws Exception {
        Path backups = TestData.newFolder("console-backups-");
        try (Hospital h = Hospital.open(List.of("--backup-dir", backups.toString()))) {
            Browser.Page home = h.admin.browser.get("/console/home");
            assertTrue(home.contains("href=\"/console/admin/backups\""), "the administrator's home links to it");
            Browser.Page page = h.admin.browser.get("/console/admin/backups");
            assertEquals(200, page.status(), page::toString);
            assertTrue(page.contains("<h1>バックアップ</h1>") && page.contains("毎日 02:00")
                    && page.contains("日次 7・週次 5・月次 12・年次 5") && page.contains("定期的な訓練なし")
                    && page.contains("書き込みから最大 60 秒以内"), page::toString);
            assertTrue(page.contains("オフラインの複製は設定されていません"), "no offline medium: " + page);
            assertTrue(page.contains("オフラインの複製がありません / no offline or write-protected backup copy"),
                    "the deviation, Japanese first: " + page);

            // a physician sees nothing of it and cannot start anything
            Person physician = h.enrolStaff("ishi.b", "内科");
            h.admin.browser.get("/console/admin/account/roles?id=" + physician.accountId);
            Browser.Page assigned = h.adminSubmit("/console/admin/account/roles/assign", "role", "physician",
                    "department", "内科", "scope", "");
            assertEquals("/console/admin/account/roles", assigned.path(), assigned::toString);
            Browser.Page refused = physician.browser.get("/console/admin/backups");
            assertEquals(403, refused.status(), refused::toString);
            assertFalse(refused.contains(backups.toString()), "nothing of the page shows");
            Browser.Page refusedPost = physician.browser.post("/console/admin/backups/now",
                    Map.of("csrf", physician.browser.last().csrf()), Map.of());
            assertEquals(403, refusedPost.status(), refusedPost::toString);

            // the administrator's form without its CSRF token is refused before anything runs
            Browser.Page noToken = h.admin.browser.post("/console/admin/backups/now", Map.of(), Map.of());
            assertEquals(403, noToken.status(), noToken::toString);
            assertTrue(noToken.contains("CSRF"), noToken::toString);
            Browser.Page wrongToken = h.admin.browser.post("/console/admin/backups/drill", Map.of("csrf", "x"), Map.of());
            assertEquals(403, wrongToken.status(), wrongToken::toString);
            h.admin.browser.get("/console/admin/backups");
            assertTrue(backupEntries(h, "backup.run").isEmpty() && backupEntries(h, "backup.drill").isEmpty(),
                    "nothing was started by the refused forms");

            // back up now: started in the background, then listed
            h.admin.browser.get("/console/admin/backups");
            Browser.Page started = h.adminSubmit("/console/admin/backups/now");
            assertEquals("/console/admin/backups", started.path(), started::toString);
            assertTrue(started.contains("バックアップを開始しました") || started.contains("バックアップを取得しました"),
                    started::toString);
            Browser.Page backedUp = whenFinished(h);
            assertTrue(backedUp.contains("バックアップを取得しました"), backedUp::toString);
            assertTrue(backedUp.contains("検証済み"), "the backup is listed with its signature checked: " + backedUp);
            assertTrue(JAPANESE_TIME.matcher(backedUp.body()).find(), backedUp::toString);
            assertEquals(List.of("success"), backupEntries(h, "backup.run"),
                    "the backup is in the trail under the person who started it");

            // a drill now: restores the newest copy and checks it with a whole server
            Browser.Page drillStarted = h.adminSubmit("/console/admin/backups/drill");
            assertEquals("/console/admin/backups", drillStarted.path(), drillStarted::toString);
            Browser.Page drilled = whenFinished(h);
            assertTrue(drilled.contains("復元訓練に合格しました"), drilled::toString);
            assertTrue(drilled.contains("合格（復元を確認済み）") && drilled.contains("復元にかかった時間（RTO）")
                    && drilled.contains("復元データの古さ（RPO）"), drilled::toString);
            assertTrue(Pattern.compile("<dt>復元にかかった時間（RTO）</dt><dd>(?:[0-9.]+ 秒|[0-9]+ 分 [0-9]+ 秒)</dd>")
                    .matcher(drilled.body()).find(), drilled::toString);
            assertTrue(Pattern.compile("<dt>復元したバックアップ</dt><dd>" + JAPANESE_TIME.pattern() + "</dd>")
                    .matcher(drilled.body()).find(), "the backup is named by its time: " + drilled);
            assertFalse(drilled.contains("復元訓練が実施されていません"), "no drill deviation any more: " + drilled);
            assertFalse(BACKUP_ID.matcher(drilled.body()).find(), "no raw backup id where a person reads: " + drilled);
            assertEquals(List.of("success"), backupEntries(h, "backup.drill"),
                    "the drill is in the trail under the person who started it");
        }
    }
}
