package jp.mamori.web.console;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.audit.web.AuditViews;

/** The templates escape what they are given, wherever they put it, with the console's one escaper. */
class TemplatesTest {
    private static final String HOSTILE = "<script>alert('x')</script>\"&";
    private static final String ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";

    @Test
    void theLayoutEscapesTheDisplayNameTheLoginIdAndTheTitle() {
        Layout.View v = new Layout.View("ja", HOSTILE, new Layout.SignedIn(900, true, true, HOSTILE, HOSTILE, true,
                "\"><img src=x>", true, true), "en", "%2Fconsole%2Fhome", Templates.trusted(""), Templates.trusted("<p>body</p>"));
        String html = Templates.page("layout/page.jte", Messages.of(ConsoleRequest.Lang.JA), v);
        assertFalse(html.contains("<script>alert"), html);
        assertFalse(html.contains("<img"), html);
        assertTrue(html.contains("<title>" + ESCAPED + " — 守り Mamori</title>"), html);
        assertTrue(html.contains("<div class=\"who\"><span class=\"name\">" + ESCAPED + "<span class=\"login-id\"> ("
                + ESCAPED + ")</span></span> <strong class=\"flag\">非常時用</strong>"), html);
        assertTrue(html.contains("<span class=\"menu-who\">" + ESCAPED + " (" + ESCAPED + ")</span>"), html);
        assertTrue(html.contains("value=\"&quot;&gt;&lt;img src=x&gt;\""), html);
        assertTrue(html.contains("<body data-idle-seconds=\"900\">"), html);
        assertTrue(html.contains("<main id=\"main\" tabindex=\"-1\"><h1>" + ESCAPED + "</h1><p>body</p></main>"), html);
    }

    @Test
    void beforeLoginTheHeaderHasNoNavigationAndNoIdleLock() {
        Layout.View v = new Layout.View("en", "Log in", null, "ja", "%2Fconsole%2Flogin", Templates.trusted(""),
                Templates.trusted(""));
        String html = Templates.page("layout/page.jte", Messages.of(ConsoleRequest.Lang.EN), v);
        assertTrue(html.contains("<body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\">"), html);
        assertFalse(html.contains("<nav") || html.contains("<details"), html);
        assertTrue(html.contains("<a class=\"lang\" href=\"/console/lang?to=ja&amp;next=%2Fconsole%2Flogin\" lang=\"ja\">"
                + "日本語</a>"), html);
        assertTrue(html.contains("built to Japan&#39;s medical information security guideline</footer>"), html);
    }

    @Test
    void anAuditReportEscapesWhatTheTrailHolds() {
        AuditViews.Entry e = new AuditViews.Entry(7, "2025-01-02 03:04", HOSTILE, HOSTILE,
                List.of(new AuditViews.PatientName(HOSTILE, HOSTILE, HOSTILE, true)), 3, HOSTILE, List.of(HOSTILE),
                HOSTILE, true, HOSTILE, HOSTILE, true);
        AuditViews.Entries v = new AuditViews.Entries(new AuditViews.Heading("t", "1 Jan 2025", "31 Jan 2025",
                List.of("actor: " + HOSTILE), null), "kind=actor&actor=%3Cx%3E", false, List.of(e), true, 5000);
        String html = Templates.page("audit/entries.jte", Messages.of(ConsoleRequest.Lang.EN), v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("Period: 1 Jan 2025 – 31 Jan 2025<br>actor: " + ESCAPED + "</p>"), html);
        assertTrue(html.contains("<tr class=\"break-glass\"><td>2025-01-02 03:04</td><td>" + ESCAPED + "<br><small>"
                + ESCAPED + "</small></td>"), html);
        assertTrue(html.contains("<small>Patient ID " + ESCAPED + "</small>") && html.contains("3 more"), html);
        assertTrue(html.contains("href=\"/console/audit/export?format=csv&amp;kind=actor&amp;actor=%3Cx%3E\""), html);
        assertTrue(html.contains("href=\"/console/audit/print?kind=actor&amp;actor=%3Cx%3E\""), html);
        assertTrue(html.contains("<div class=\"msg info\" role=\"status\"><p>先頭の 5000 件のみ表示しています。"), html);
    }

    @Test
    void aMessageIsOneParagraphPerLineAndEscaped() {
        assertEquals("<div class=\"msg error\" role=\"alert\"><p>a &lt;b&gt;</p><p>c</p></div>",
                Html.message("error", "a <b>\nc"));
        assertEquals("", Html.message("error", ""));
        assertEquals("", Html.message("info", null));
    }

    @Test
    void aValueWhereHtmlEscapingIsNotEnoughIsRefused() {
        StringBuilder sb = new StringBuilder();
        ConsoleHtml out = new ConsoleHtml(sb);
        out.setContext("script", null);
        assertThrows(IllegalStateException.class, () -> out.writeUserContent("x"));
        out.setContext("button", "onclick");
        assertThrows(IllegalStateException.class, () -> out.writeUserContent("x"));
        out.setContext("a", "title");
        out.writeUserContent("'");
        assertEquals("&#39;", sb.toString());
    }
}
