package jp.mamori.identity.web;

import jp.mamori.continuity.KitPatients;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downtime kit page over HTTP (issue 18 §3; BACKUP-12): a ward with patients and no password is a badge on the
 * administrator's home and marked on the page; a short password gets one clear message and keeps the chosen ward;
 * a password set with step-up is never shown back; "今すぐ作成" writes the ward's file and the page shows its time in
 * JST; a physician is refused and a form without its CSRF token does nothing.
 */
class DowntimeConsoleTest {
    private static final Pattern JST_TIME = Pattern.compile("\\d{4}年\\d{1,2}月\\d{1,2}日 \\d{2}:\\d{2} JST");

    @Test
    void anAdministratorSetsAWardsPasswordAndMakesItsKitAPhysicianCannot() throws Exception {
        Path dir = TestData.newFolder("console-kit-");
        try (Hospital h = Hospital.open(List.of("--downtime-dir", dir.toString()))) {
            String ward = "南4病棟-" + UUID.randomUUID().toString().substring(0, 4);
            KitPatients.inpatient(h.server.server().records(), "田中", "美咲", "タナカ", "ミサキ", "KIT-0101", ward,
                    "ヨード造影剤", "メトホルミン錠250mg");
            Browser.Page home = h.admin.browser.get("/console/home");
            assertTrue(home.contains("href=\"/console/admin/downtime\""), "the home links to the page");
            assertTrue(Pattern.compile("<span class=\"badge\">[1-9][0-9]*</span> 更新されていない縮退用資料")
                    .matcher(home.body()).find(), () -> "the badge counts the ward without a kit: " + home);
            // and the health report's line for the kit is red (so the alerts raise it too)
            assertEquals(jp.mamori.ops.HealthCheck.Status.DOWN, h.server.server().health().fresh().line("downtime-kit")
                    .result().status());
            Browser.Page page = h.admin.browser.get("/console/admin/downtime");
            assertEquals(200, page.status(), page::toString);
            assertTrue(page.contains(ward) && page.contains("パスワード未設定のため作成されません"), page::toString);
            assertFalse(page.contains("KIT-0101") || page.contains("田中"), "no patient on the administrator's page");

            // too short: one clear message, the ward still chosen, nothing stored
            Browser.Page shortPw = h.adminSubmit("/console/admin/downtime/password", "place", ward, "password", "short");
            assertEquals(400, shortPw.status(), shortPw::toString);
            assertTrue(shortPw.contains("パスワードは 12 文字以上にしてください / the password needs at least 12"),
                    shortPw::toString);
            assertTrue(shortPw.contains("value=\"" + ward + "\" selected"), "the chosen ward is kept: " + shortPw);
            long stored = Hospital.<Long>one(h.server, "SELECT count(*) FROM downtime_kit WHERE place = ?", ward);
            assertEquals(0L, stored);

            // a physician is refused, and a form without its token does nothing
            Person physician = h.enrolStaff("ishi.k", "内科");
            assertEquals(403, physician.browser.get("/console/admin/downtime").status());
            assertEquals(403, physician.browser.post("/console/admin/downtime/now",
                    Map.of("csrf", physician.browser.last().csrf()), Map.of()).status());
            h.admin.browser.get("/console/admin/downtime");
            Browser.Page noToken = h.admin.browser.post("/console/admin/downtime/password",
                    Map.of("place", ward, "password", "attacker-chosen-pw"), Map.of());
            assertEquals(403, noToken.status(), noToken::toString);
            assertEquals(0L, (long) Hospital.<Long>one(h.server, "SELECT count(*) FROM downtime_kit WHERE place = ?",
                    ward));

            String password = "minami4-leader-" + UUID.randomUUID().toString().substring(0, 6);
            h.admin.browser.get("/console/admin/downtime");
            Browser.Page set = h.adminSubmit("/console/admin/downtime/password", "place", ward, "password", password);
            assertEquals(200, set.status(), set::toString);
            assertTrue(set.contains("パスワードを設定しました"), set::toString);
            assertFalse(set.contains(password), "the password is never shown back");

            Browser.Page made = h.adminSubmit("/console/admin/downtime/now");
            assertEquals(200, made.status(), made::toString);
            assertTrue(made.contains("件のファイルを作成しました"), made::toString);
            assertTrue(JST_TIME.matcher(made.body()).find(), () -> "the time in JST: " + made);
            assertTrue(made.contains(ward + "-") && made.contains(".pdf</span> （1 名）"), made::toString);
            try (var s = Files.list(dir)) {
                assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith(ward + "-")), "the file is there");
            }
            assertFalse(made.contains(password));
            // who set it is in the trail, never the password
            long entries = Hospital.<Long>one(h.server, "SELECT count(*) FROM audit_entry WHERE actor = ? AND"
                    + " purpose = 'continuity'", "account:" + h.admin.loginId);
            assertEquals(1L, entries, "the kit made from the page names the administrator");
        }
    }
}
