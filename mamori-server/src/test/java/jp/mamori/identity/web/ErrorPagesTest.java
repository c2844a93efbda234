package jp.mamori.identity.web;

import jp.mamori.web.console.Console;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's error pages (issue 22, DEGRADED-3): a page that does not exist (404), one the person may not use
 * (403) and an internal failure (500) keep the signed-in person's navigation and say in Japanese what happened and
 * where to go; nobody learns more than that (no stack trace, no exception text, no navigation without a session).
 */
class ErrorPagesTest {
    private static void assertKeepsTheNavigation(Browser.Page p) {
        assertTrue(p.contains("<nav id=\"main-nav\" aria-label=\"メインメニュー\">") && p.contains("href=\"/console/me\""),
                "the navigation stays: " + p);
        assertTrue(p.contains("action=\"/console/logout\"") && p.contains("id=\"lock-form\""), p::toString);
        assertTrue(p.contains("<a class=\"button\" href=\"/console/home\">ホームへ戻る</a>"), p::toString);
    }

    @Test
    void errorPagesKeepTheNavigationAndSayWhatHappenedAndWhereToGo() throws Exception {
        try (Hospital h = Hospital.open()) {
            Console console = h.server.server().console();
            console.route("GET", "/console/test/failing-page", Console.Access.USER, false, r -> {
                throw new IllegalStateException("secret detail of the failure at jp.mamori.Internal");
            });
            Browser admin = h.admin.browser;

            Browser.Page missing = admin.get("/console/no-such-page");
            assertEquals(404, missing.status());
            assertKeepsTheNavigation(missing);
            assertTrue(missing.contains("<title>ページが見つかりません — 守り Mamori</title>"), missing::toString);
            assertTrue(missing.contains("お探しのページは見つかりませんでした"), missing::toString);
            assertTrue(missing.contains("メニューかホームから目的のページを開いてください"), missing::toString);
            assertTrue(missing.contains("href=\"/console/admin/accounts\""), "an administrator's own links");

            Browser.Page failed = admin.get("/console/test/failing-page");
            assertEquals(500, failed.status());
            assertKeepsTheNavigation(failed);
            assertTrue(failed.contains("内部エラーが発生しました") && failed.contains("システム管理者に連絡してください"),
                    failed::toString);
            assertFalse(failed.contains("secret detail") || failed.contains("IllegalStateException")
                    || failed.contains("jp.mamori."), "nothing of the failure itself: " + failed);

            Person nurse = h.enrolStaff("kango.e", "外来");
            Browser.Page forbidden = nurse.browser.get("/console/admin/accounts");
            assertEquals(403, forbidden.status());
            assertKeepsTheNavigation(forbidden);
            assertFalse(forbidden.contains("href=\"/console/admin/accounts\""), "no administrator links for a nurse");
            assertTrue(forbidden.contains("このページはアカウント管理者のみが使えます")
                    && forbidden.contains("アカウント管理者に権限の付与を依頼してください"), forbidden::toString);

            // Nobody signed in: no navigation, the way to the login page.
            Browser stranger = new Browser(h.server, "stranger");
            Browser.Page nowhere = stranger.get("/console/no-such-page");
            assertEquals(404, nowhere.status());
            assertFalse(nowhere.contains("<nav") || nowhere.contains("/console/logout"), nowhere::toString);
            assertTrue(nowhere.contains("<a class=\"button\" href=\"/console/login\">ログイン画面へ</a>"), nowhere::toString);
        }
    }
}
