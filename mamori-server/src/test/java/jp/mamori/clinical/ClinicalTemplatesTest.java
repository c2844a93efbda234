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
        assertTrue(html.contains("<h2>Results (1–1)</h2>"), html);
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
    void theChartEscapesEveryRecord() {
        ClinicalViews.Chart v = new ClinicalViews.Chart(banner(HOSTILE), "p-1", true,
                List.of(new ClinicalViews.Event("2025-01-01 09:00", true, null, "d-1", HOSTILE, HOSTILE, "no-such-status"),
                        new ClinicalViews.Event("", false, HOSTILE, null, null, null, null)),
                List.of(new ClinicalViews.Problem(HOSTILE, "", false, "治癒・終了")),
                List.of(new ClinicalViews.Allergy(HOSTILE, HOSTILE, "高", true)),
                new ClinicalViews.Medications(List.of(new ClinicalViews.Medication(HOSTILE, HOSTILE, "", "有効")), List.of()),
                List.of(new ClinicalViews.Latest("http%3A%2F%2Floinc.org%7C4548-4", HOSTILE, HOSTILE, HOSTILE, "H", "t",
                        "4.6–6.2", 12)));
        String html = Templates.page("clinical/chart.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<span class=\"pname\">" + ESCAPED + "</span>"), html);
        assertTrue(html.contains("<li class=\"alert allergy\">アレルギー: " + ESCAPED + " (重篤)</li>"), html);
        assertTrue(html.contains("<li class=\"alert glass\" id=\"banner-break-glass\">"), html);
        assertTrue(html.contains("<a href=\"/console/documents/d-1\">" + ESCAPED + "</a> — " + ESCAPED
                + "</td><td><span class=\"status status-no-such-status\">no-such-status</span>"), "an unknown status"
                + " is shown as it is: " + html);
        assertTrue(html.contains("<td>受診</td><td>" + ESCAPED + "</td>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + "</td><td></td><td>治癒・終了</td>"), html);
        assertTrue(html.contains("<td class=\"high-risk\">高</td>"), html);
        assertTrue(html.contains("<table id=\"meds-current\">"), html);
        assertTrue(html.contains("<p id=\"meds-past-none\">登録なし</p>"), "an empty list says so: " + html);
        assertTrue(html.contains("<td>有効</td>"), html);
        assertFalse(html.contains("<svg"), "no chart per test on the chart page: " + html);
        assertTrue(html.contains("<a href=\"/console/patients/p-1/results?trend=http%3A%2F%2Floinc.org%7C4548-4#trend\">"
                + ESCAPED + "</a>"), html);
        assertTrue(html.contains("<span class=\"out-of-range flag-H\">" + ESCAPED + " <abbr class=\"flag\" title=\""
                + "基準値より高い\">H</abbr></span>"), html);
        assertTrue(html.contains("<td>4.6–6.2</td>"), html);
    }

    @Test
    void theCumulativeTableMarksValuesOutOfRangeAndDrawsOneTrendOnDemand() {
        JpDates dates = JpDates.tokyo();
        ClinicalViews.Drawn trend = ClinicalViews.Drawn.trend(new TrendChart.Series(HOSTILE, "%", List.of(
                new TrendChart.Point(Instant.parse("2025-01-01T00:00:00Z"), 7.1),
                new TrendChart.Point(Instant.parse("2025-02-01T00:00:00Z"), 6.5)), 4.6, 6.2), "trend", dates,
                JpDates.Lang.JA);
        ClinicalViews.Results v = new ClinicalViews.Results(banner(HOSTILE), "p-1", "2025-01-01", "", "",
                List.of("2025年2月1日", "2025年1月1日"), List.of(new ClinicalViews.ResultRow("k%7C1", HOSTILE, "%",
                "4.6–6.2", List.of(new ClinicalViews.Cell("6.5", "H"), new ClinicalViews.Cell("", "")))), "2024-12-31",
                "k|1", HOSTILE, trend);
        String html = Templates.page("clinical/results.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<th scope=\"col\" class=\"num\">2025年2月1日</th><th scope=\"col\" class=\"num\">"
                + "2025年1月1日</th>"), "dates as columns: " + html);
        assertTrue(html.contains("<td class=\"range\">4.6–6.2</td><td class=\"num\"><span class=\"out-of-range flag-H\">"
                + "6.5 <abbr class=\"flag\" title=\"基準値より高い\">H</abbr></span></td><td class=\"num\"></td>"), html);
        assertTrue(html.contains("<figure class=\"trend\" id=\"trend\""), "one trend chart, asked for: " + html);
        assertEquals(1, html.split("<svg", -1).length - 1, html);
        assertTrue(html.contains("<title id=\"trend-title\">" + ESCAPED + " (%)</title>"), "its texts escaped by"
                + " the chart package: " + html);
        assertTrue(html.contains("<input type=\"hidden\" name=\"trend\" value=\"k|1\">"), html);
        assertTrue(html.contains("href=\"/console/patients/p-1/results?from=2025-01-01&amp;to=2024-12-31&amp;trend=k%7C1\""),
                "older dates a link away: " + html);
    }

    @Test
    void partsThePersonMayNotSeeSaySo() {
        ClinicalViews.Chart v = new ClinicalViews.Chart(banner("x"), "p-1", false, null, null, null, null, null);
        String html = Templates.page("clinical/chart.jte", EN, v);
        assertFalse(html.contains("Write a progress note"), html);
        assertEquals(5, html.split("You may not see this information.", -1).length - 1, html);
        assertFalse(html.contains("/notes/new"), html);
        assertTrue(html.contains("href=\"/console/patients/p-1/summary.pdf\" id=\"print-summary\""), html);
    }

    @Test
    void aDocumentEscapesItsTextKeepsItsLinesAndDrawsTheDifference() {
        ClinicalViews.Drawn diff = ClinicalViews.Drawn.diff(TextDiff.compare("a\n" + HOSTILE, "a\nb"), HOSTILE, "版 2");
        ClinicalViews.Document v = new ClinicalViews.Document(null, null, "d-1", HOSTILE, "preliminary", HOSTILE, "",
                2, "t", "abc", new ClinicalViews.Soap(HOSTILE + "\n2行目", "", "", ""), true,
                List.of(new ClinicalViews.Version(2, "t", HOSTILE, "他の職員", "更新", "preliminary", HOSTILE, "abc", false),
                        new ClinicalViews.Version(1, "t", "a", "a", "作成", null, null, "abd", false)), 1, 2, diff, "c",
                List.of(new ClinicalViews.SignatureLine(1, HOSTILE, "令和8年12月7日", "B-T", HOSTILE, true, true)), HOSTILE,
                new ClinicalViews.Offers(true, false, false, true, true, false));
        String html = Templates.page("clinical/document.jte", JA, v);
        assertFalse(html.contains("<script>"), html);
        assertTrue(html.contains("<tr class=\"signature-problem\"><td>1</td><td>" + ESCAPED + "</td><td>令和8年12月7日</td>"
                + "<td>B-T</td><td>" + ESCAPED + " <a href=\"/console/documents/d-1/signature-report?v=1\">検証レポート (XML)"
                + "</a></td></tr>"), "the signature lines are escaped: " + html);
        assertTrue(html.contains("<input type=\"password\" name=\"pin\" autocomplete=\"off\" maxlength=\"64\">"),
                "marking entered-in-error asks for the signing PIN: " + html);
        assertTrue(html.contains("<h3>S 主観的情報（主訴）</h3><p class=\"note-text\">" + ESCAPED + "<br>2行目</p>"), html);
        assertTrue(html.contains("<a class=\"button\" id=\"edit-note\" href=\"/console/documents/d-1/edit\">編集</a>"),
                "someone else's draft is edited, not finalized: " + html);
        assertTrue(html.contains("<p class=\"hint\">確定保存は記載者本人のみが行えます。</p>"), html);
        assertTrue(html.contains("<td>" + ESCAPED + "<br><span class=\"hint\">記録: 他の職員</span></td><td>更新</td>"), html);
        assertTrue(html.contains("<td>作成</td><td></td><td></td>"), "a version without a body has no status: " + html);
        assertTrue(html.contains("<select name=\"a\"><option value=\"2\">2</option><option value=\"1\" selected>1</option>"),
                html);
        assertTrue(html.contains("<div class=\"diff\" id=\"diff\"><table class=\"diff\">"), html);
        assertTrue(html.contains("<th scope=\"col\">" + ESCAPED + "</th>"), "the drawing escapes its labels: " + html);
    }

    @Test
    void aDocumentOffersOnlyWhatThePersonMayDoAndSomeoneElsesDraftShowsNoText() {
        ClinicalViews.Document read = new ClinicalViews.Document(null, null, "d-1", "経過記録", "final", "医師 田中", "",
                1, "t", "abc", new ClinicalViews.Soap("主訴", "", "", ""), false,
                List.of(new ClinicalViews.Version(1, "t", "医師 田中", "医師 田中", "作成・確定", "final", null, "abc", false)),
                0, 0, null, "c", List.of(), null, new ClinicalViews.Offers(false, false, false, false, false, false));
        String html = Templates.page("clinical/document.jte", JA, read);
        assertFalse(html.contains("修正（理由が必要）") || html.contains("記載誤りとして取り消す")
                || html.contains("print-document") || html.contains("/pdf?v="), "nothing the person may not do: " + html);
        assertTrue(html.contains("<td>作成・確定</td>") && html.contains("主訴"), html);

        ClinicalViews.Document draft = new ClinicalViews.Document(null, null, "d-2", "経過記録", "preliminary",
                "医師 田中", "", 1, "t", "abc", new ClinicalViews.Soap("", "", "", ""), true,
                List.of(new ClinicalViews.Version(1, "t", "医師 田中", "医師 田中", "作成", "preliminary", null, "abc", true)),
                0, 0, null, "c", List.of(), null, new ClinicalViews.Offers(false, false, false, false, false, true));
        String withheld = Templates.page("clinical/document.jte", JA, draft);
        assertTrue(withheld.contains("<p class=\"withheld\" id=\"draft-withheld\">この下書きは 医師 田中 が記載中です。"),
                withheld);
        assertFalse(withheld.contains("id=\"soap\"") || withheld.contains("/edit"), withheld);
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
        // issue 22: every code a clinician reads on the chart pages has words
        String[][] codes = {{"clinical.operation", "create", "create-final", "update", "finalize", "amend",
                "entered-in-error", "delete"}, {"clinical.criticality", "high", "low", "unable-to-assess"},
                {"clinical.severity", "mild", "moderate", "severe"}, {"clinical.medicationStatus", "active", "on-hold",
                "draft", "completed", "stopped", "cancelled", "entered-in-error", "unknown"},
                {"clinical.encounterClass", "AMB", "IMP", "EMER", "HH", "VR"}, {"clinical.conditionStatus", "active",
                "recurrence", "relapse", "inactive", "remission", "resolved"}, {"clinical.label", "R", "PSY", "HIV",
                "GDIS", "VIP", "EMP"}};
        for (String[] c : codes) {
            for (int i = 1; i < c.length; i++) {
                assertFalse(JA.code(c[0], c[i]).equals(c[i]) && !c[i].equals("VIP"), c[0] + "." + c[i]);
                assertFalse(EN.code(c[0], c[i]).equals(c[i]) && !c[i].equals("VIP"), c[0] + "." + c[i]);
            }
        }
        assertEquals("修正", JA.code("clinical.operation", "amend"));
        assertEquals("中止", JA.code("clinical.medicationStatus", "stopped"));
        assertEquals("54歳（1970年4月1日 昭和45年4月1日生）",
                JA.get("clinical.banner.born", "54歳", "1970年4月1日", "昭和45年4月1日"));
        assertEquals("54 y（1 Apr 1970）", EN.get("clinical.banner.born", "54 y", "1 Apr 1970", "昭和45年4月1日"));
    }
}
