package jp.mamori.web.console;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.access.web.AccessViews;
import jp.mamori.access.web.BreakGlassViews;

/** The break-glass pages escape what people typed (reasons, comments, names) and name codes in either language. */
class BreakGlassTemplatesTest {
    private static final String HOSTILE = "<script>alert(1)</script>";
    private static final String ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;";

    @Test
    void theBannerEscapesTheReasonAndNamesTheReasonCode() {
        BreakGlassViews.Banner v = new BreakGlassViews.Banner(List.of(new BreakGlassViews.Grant("id",
                new AccessViews.PatientLabel("p-1", HOSTILE, "", "P-001", "", "", true),
                "emergency_treatment", HOSTILE, "2025-01-02 03:04", 0)));
        String ja = Templates.page("access/breakGlassBanner.jte", Messages.of(ConsoleRequest.Lang.JA), v);
        assertFalse(ja.contains("<script>"), ja);
        assertFalse(ja.contains("p-1"), "the record's id is not shown: " + ja);
        assertTrue(ja.contains("<li>患者 <strong>" + ESCAPED + "</strong> （患者ID P-001） — 救急対応：" + ESCAPED
                + " — 期限 2025-01-02 03:04</li>"), ja);
        String en = Templates.page("access/breakGlassBanner.jte", Messages.of(ConsoleRequest.Lang.EN), v);
        assertTrue(en.contains("— Emergency treatment：" + ESCAPED + " — until 2025-01-02 03:04</li>"), en);
    }

    @Test
    void theReviewPageEscapesNamesCommentsAndTheFilterAndShowsAnUnknownCodeAsItIs() {
        BreakGlassViews.Review v = new BreakGlassViews.Review(HOSTILE, 1,
                List.of(new BreakGlassViews.Notice("t", HOSTILE, true, "")),
                List.of(new BreakGlassViews.Queued("id", HOSTILE + " (x)",
                        new AccessViews.PatientLabel("p", HOSTILE, "", "", "", "", true), HOSTILE, "no_such_reason", HOSTILE, "t", 3,
                        "pending", 2, HOSTILE, false)), List.of("appropriate"), true,
                new BreakGlassViews.Filter("\"><b>", "", "", "pending", "", ""), List.of("pending", "appropriate"), null,
                List.of(), "csrf-token");
        String html = Templates.page("access/breakGlassReview.jte", Messages.of(ConsoleRequest.Lang.EN), v);
        assertFalse(html.contains("<script>") || html.contains("<b>"), html);
        assertTrue(html.contains("<tr class=\"escalated\"><td>" + ESCAPED + " (x)</td>"), html);
        assertTrue(html.contains("<td>no_such_reason：" + ESCAPED + "</td>"), html);
        assertTrue(html.contains("Not reviewed <strong class=\"flag\">Escalated 2</strong><br>" + ESCAPED + "</td>"), html);
        assertTrue(html.contains("<input name=\"login_id\" type=\"text\" value=\"&quot;&gt;&lt;b&gt;\">"), html);
        assertTrue(html.contains("<option value=\"pending\" selected>Not reviewed</option>"), html);
        assertTrue(html.contains("<div class=\"msg error\" role=\"alert\"><p>日付は YYYY-MM-DD で入力してください"), html);
        assertTrue(html.contains("<tr class=\"unread\"><td>t</td><td>" + ESCAPED + "</td><td></td></tr>"), html);
    }
}
