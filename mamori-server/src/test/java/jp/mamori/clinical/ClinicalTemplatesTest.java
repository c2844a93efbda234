package jp.mamori.clinical;

import jp.mamori.chart.JpDates;
import jp.mamori.chart.TextDiff;
import jp.mamori.chart.TrendChart;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The clinician's templates escape what records and people wrote (names, problems, notes, reasons) wherever they
 * put it; only the chart package's drawings (trend charts, differences) are written as markup, and those escape
 * their own texts.
 */
class ClinicalTemplatesTest {
    private static final String HOSTILE = "<script>alert('x')</script>\"&";
    private static final String ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;";
    private static final Messages JA = Messages.of(ConsoleRequest.Lang.JA);
    private static final Messages EN = Messages.of(ConsoleRequest.Lang.EN);

    private static ClinicalViews.Banner banner(String s) {
        return new ClinicalViews.Banner(s, s, "女", "54歳（1970年4月1日 昭和45年4月1日生）", s,
                List.of(new ClinicalViews.Alert(s, true)), List.of(s), List.of(s), true);
    }

    @Test
    void theSearchEscapesTheTermsAndThePatients() {
        ClinicalViews.Patient p = new ClinicalViews.Patient("p-1", HOSTILE, HOSTILE, HOSTILE, "男", "1970-04-01 (54)");
        ClinicalViews.Search v = new ClinicalViews.Search("", HOSTILE, HOSTILE, "", true, List.of(p), true, List.of(),
                "\"><b>");
        String html = Templates.page("clinical/search.jte", EN, v);
        assertFalse(html.contains("<script>") || html.contains("<b>"), html);
        assertTrue(html.contains("<input name=\"identifier\" autocomplete=\"off\" inputmode=\"numeric\" value=\""
                + ESCAPED + "\">"), html);
        assertTrue(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"&quot;&gt;&lt;b&gt;\">"), html);
        assertTrue(html.contains("<h2>Results (1)</h2>"), html);
        assertTrue(html.contains("<tr><td>" + ESCAPED + "</td><td><a href=\"/console/patients/p-1\">" + ESCAPED
                + "</a></td><td>" + ESCAPED + "</td><td>男</td><td>1970-04-01 (54)</td></tr>"), html);
    }

    @Test
    void anEmptyResultForAnIdOffersBreakGlassAndNoSearchShowsTheRecentPatients() {
        String none = Templates.page("clinical/search.jte", JA, new ClinicalViews.Search("", "1", "", "", true,
                List.of(), true, List.of(), "c"));
        assertTrue(none.contains("<p id=\"no-results\">") && none.contains("<p id=\"break-glass-offer\">"), none);
        String recent = Templates.page("clinical/search.jte", JA, new ClinicalViews.Search("", "", "", "", false,
                List.of(), false, List.of(), "c"));
        assertTrue(recent.contains("<h2>最近開いた患者</h2>") && recent.contains("<p>ありません。</p>"), recent);
        assertFalse(recent.contains("no-results"), recent);
    }

    @Test
    void theChartEscapesEveryRecordAndWritesTheTrendChartAsDrawn() {
        JpDates dates = JpDates.tokyo();
        ClinicalViews.Drawn trend = ClinicalViews.Drawn.trend(new TrendChart.Series(HOSTILE, "%", List.of(
                new TrendChart.Point(Instant.parse("2025-01-01T00:00:00Z"), 7.1),
                new TrendChart.Point(Instant.parse("2025-02-01T00:00:00Z"), 6.5)), 4.6, 6.2), "trend-1", dates,
                JpDates.Lang.JA);
        ClinicalViews.Chart v = new ClinicalViews.Chart(banner(HOSTILE), "p-1", true,
                List.of(new ClinicalViews.Event("2025-01-01 09:00", true, null, "d-1", HOSTILE, HOSTILE, "no-such-status"),
                        new ClinicalViews.Event("", false, HOSTILE, null, null, null, null)),
                List.of(new ClinicalViews.Problem(HOSTILE, "", false)), List.of(new ClinicalViews.Allergy(HOSTILE, HOSTILE, "high")),
                new ClinicalViews.Medications(List.of(new ClinicalViews.Medication(HOSTILE, HOSTILE, "")), List.of()),
                List.of(new ClinicalViews.Result(HOSTILE, HOSTILE, trend, 12, List.of(new ClinicalViews.Value("t", HOSTILE,
                        "H")), "4.6–6.2")));
        String html = Templates.page("clinical/chart.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<span class=\"pname\">" + ESCAPED + "</span>"), html);
        assertTrue(html.contains("<li class=\"alert allergy\">アレルギー: " + ESCAPED + " (重篤)</li>"), html);
        assertTrue(html.contains("<li class=\"alert glass\" id=\"banner-break-glass\">"), html);
        assertTrue(html.contains("<a href=\"/console/documents/d-1\">" + ESCAPED + "</a> — " + ESCAPED
                + "</td><td><span class=\"status status-no-such-status\">no-such-status</span>"), "an unknown status"
                + " is shown as it is: " + html);
        assertTrue(html.contains("<td>受診</td><td>" + ESCAPED + "</td>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + "</td><td></td><td>終了</td>"), html);
        assertTrue(html.contains("<table id=\"meds-current\">") && html.contains("<table id=\"meds-past\">"), html);
        assertTrue(html.contains("<h3>" + ESCAPED + " (" + ESCAPED + ")</h3>"), html);
        assertTrue(html.contains("<div class=\"trend\"><svg xmlns=\"http://www.w3.org/2000/svg\""), "the chart is"
                + " markup: " + html);
        assertTrue(html.contains("<title id=\"trend-1-title\">" + ESCAPED + " (%)</title>"), "its texts escaped by"
                + " the chart package: " + html);
        assertTrue(html.contains("<caption>最新 1 件（全 12 件）</caption>"), html);
        assertTrue(html.contains("<p class=\"hint\">基準範囲: 4.6–6.2</p>"), html);
    }

    @Test
    void partsThePersonMayNotSeeSaySo() {
        ClinicalViews.Chart v = new ClinicalViews.Chart(banner("x"), "p-1", false, null, null, null, null, null);
        String html = Templates.page("clinical/chart.jte", EN, v);
        assertEquals(5, html.split("You may not see this information.", -1).length - 1, html);
        assertFalse(html.contains("/notes/new"), html);
        assertTrue(html.contains("href=\"/console/patients/p-1/summary.pdf\" id=\"print-summary\""), html);
    }

    @Test
    void aDocumentEscapesItsTextKeepsItsLinesAndDrawsTheDifference() {
        ClinicalViews.Drawn diff = ClinicalViews.Drawn.diff(TextDiff.compare("a\n" + HOSTILE, "a\nb"), HOSTILE, "版 2");
        ClinicalViews.Document v = new ClinicalViews.Document(null, null, "d-1", HOSTILE, "preliminary", HOSTILE, "",
                2, "t", "abc", new ClinicalViews.Soap(HOSTILE + "\n2行目", "", "", ""), true,
                List.of(new ClinicalViews.Version(2, "t", HOSTILE, HOSTILE, "update", "preliminary", HOSTILE, "abc"),
                        new ClinicalViews.Version(1, "t", "a", "a", "create", null, null, "abd")), 1, 2, diff, "c",
                List.of(new ClinicalViews.SignatureLine(1, HOSTILE, "令和8年12月7日", "B-T", HOSTILE, true, true)), HOSTILE);
        String html = Templates.page("clinical/document.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<tr class=\"signature-problem\"><td>1</td><td>" + ESCAPED + "</td><td>令和8年12月7日</td>"
                + "<td>B-T</td><td>" + ESCAPED + " <a href=\"/console/documents/d-1/signature-report?v=1\">検証レポート (XML)"
                + "</a></td></tr>"), "the signature lines are escaped: " + html);
        assertTrue(html.contains("<input type=\"password\" name=\"pin\" autocomplete=\"off\" maxlength=\"64\">"),
                "marking entered-in-error asks for the signing PIN: " + html);
        assertTrue(html.contains("<h3>S 主観的情報（主訴）</h3><p class=\"note-text\">" + ESCAPED + "<br>2行目</p>"), html);
        assertTrue(html.contains("<a class=\"button\" href=\"/console/documents/d-1/edit\">編集・確定</a>"), html);
        assertTrue(html.contains("<p class=\"hint\">確定保存は記載者本人のみが行えます。</p>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + "<br><span class=\"hint\">" + ESCAPED + "</span></td>"), html);
        assertTrue(html.contains("<td>create</td><td></td><td></td>"), "a version without a body has no status: " + html);
        assertTrue(html.contains("<select name=\"a\"><option value=\"2\">2</option><option value=\"1\" selected>1</option>"),
                html);
        assertTrue(html.contains("<div class=\"diff\" id=\"diff\"><table class=\"diff\">"), html);
        assertTrue(html.contains("<th scope=\"col\">" + ESCAPED + "</th>"), "the drawing escapes its labels: " + html);
    }

    @Test
    void theNoteFormAndAConflictEscapeWhatWasTyped() {
        ClinicalViews.NoteForm form = new ClinicalViews.NoteForm("/console/notes/amend", HOSTILE, "d-1", 3,
                new ClinicalViews.Soap(HOSTILE, "o", "a", "p"), true, HOSTILE, "c", HOSTILE);
        String editor = Templates.page("clinical/editor.jte", EN, new ClinicalViews.Editor(null, HOSTILE, form));
        assertFalse(editor.contains("<script>"), editor);
        assertTrue(editor.contains("<div class=\"msg error\" role=\"alert\"><p>" + ESCAPED + "</p></div>"), editor);
        assertTrue(editor.contains("<input type=\"hidden\" name=\"patient\" value=\"" + ESCAPED + "\">"), editor);
        assertTrue(editor.contains("<label>S Subjective<textarea name=\"s\" id=\"soap-s\" maxlength=\"20000\" rows=\"4\">"
                + ESCAPED + "</textarea></label>"), editor);
        assertTrue(editor.contains("<input name=\"reason\" id=\"amend-reason\" required maxlength=\"500\" value=\""
                + ESCAPED + "\">"), editor);
        assertFalse(editor.contains("id=\"finalize\""), "an amendment is not finalized: " + editor);
        assertTrue(editor.contains("<input type=\"password\" name=\"pin\" id=\"signing-pin\" autocomplete=\"off\""
                + " maxlength=\"64\">") && editor.contains("<p class=\"hint\" id=\"signing-key\">Signing key: "
                + ESCAPED + "</p>"), "a person with a key is asked for its PIN: " + editor);

        String conflict = Templates.page("clinical/conflict.jte", JA, new ClinicalViews.Conflict(
                JA.get("clinical.conflict.message", 2, HOSTILE), ClinicalViews.Drawn.diff(TextDiff.compare("a", HOSTILE),
                "x", "y"), false, null, HOSTILE + "\n"));
        assertFalse(conflict.contains("<script>"), conflict);
        assertTrue(conflict.contains("（版 2、" + ESCAPED + "）"), conflict);
        assertTrue(conflict.contains("<pre class=\"note-text\">" + ESCAPED + "\n</pre>"), conflict);
    }

    @Test
    void theRefusalOffersBreakGlassForThePatientOnly() {
        String with = Templates.page("clinical/refused.jte", EN, new ClinicalViews.Refused("p-1"));
        assertTrue(with.contains("href=\"/console/break-glass?patient=p-1\""), with);
        String without = Templates.page("clinical/refused.jte", EN, new ClinicalViews.Refused(null));
        assertFalse(without.contains("break-glass"), without);
        assertTrue(without.contains("<p><a href=\"/console/patients\">Back to patient search</a></p>"), without);
    }

    @Test
    void everyStatusOfANoteHasATextInBothLanguages() {
        for (String code : List.of("preliminary", "final", "amended", "entered-in-error")) {
            assertFalse(JA.code("clinical.noteStatus", code).equals(code), code);
            assertFalse(EN.code("clinical.noteStatus", code).equals(code), code);
        }
        assertEquals("54歳（1970年4月1日 昭和45年4月1日生）",
                JA.get("clinical.banner.born", "54歳", "1970年4月1日", "昭和45年4月1日"));
        assertEquals("54 y（1 Apr 1970）", EN.get("clinical.banner.born", "54 y", "1 Apr 1970", "昭和45年4月1日"));
    }
}
