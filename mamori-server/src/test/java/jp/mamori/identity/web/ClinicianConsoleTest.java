package jp.mamori.identity.web;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The clinician console over HTTP: who sees which chart, what is audited, and the writing of notes (draft,
 * finalization by the author, amendment with a reason, entered-in-error, conflicts that keep the text), printing.
 */
class ClinicianConsoleTest {

    private static long entries(Hospital h, String actor, String action, String outcome, String patient) {
        Long n = h.one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = ? AND outcome = ?"
                + " AND ? = ANY(patients)", actor, action, outcome, patient);
        return n == null ? 0 : n;
    }

    @Test
    void whoSeesWhichChartAndEveryViewIsAudited() throws Exception {
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            String hanako = clinic.patient("9000000001", "山田", "花子", "ヤマダ", "ハナコ", "1970-04-01", "female");
            String ichiro = clinic.patient("9000000002", "鈴木", "一郎", "スズキ", "イチロウ", "1955-12-24", "male");
            clinic.allergy(hanako, "ペニシリン系薬剤");
            clinic.hba1c(hanako, 7.1, 60);
            clinic.hba1c(hanako, 6.8, 30);
            clinic.hba1c(hanako, 6.5, 1);
            String note = clinic.note(hanako, "口渇なし。食事療法継続。");
            clinic.note(ichiro, "鈴木さんの秘密の主訴");

            Person doctor = h.enrolStaff("ishi.t", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, hanako);
            Person clerk = h.enrolStaff("jimu.s", "医事課");
            clinic.role(clerk.accountId, "clerk", "医事課");
            String doctorActor = "account:" + doctor.accountId;

            Browser b = doctor.browser;
            Browser.Page home = b.get("/console/home");
            assertTrue(home.contains("href=\"/console/patients\""), "the home page links to the patient search");

            Browser.Page search = b.get("/console/patients");
            assertEquals(200, search.status(), search::toString);
            var headers = search.response().headers();
            assertEquals("no-store", headers.firstValue("Cache-Control").orElse(""));
            assertTrue(headers.firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
            assertFalse(headers.firstValue("Content-Security-Policy").orElse("").contains("unsafe-inline"));
            assertEquals("DENY", headers.firstValue("X-Frame-Options").orElse(""));
            assertTrue(headers.firstValue("Referrer-Policy").isPresent());

            Browser.Page byKana = b.submit("/console/patients", "name", "やまだ");
            assertEquals(200, byKana.status(), byKana::toString);
            assertEquals("/console/patients", byKana.path(), "the name travels in the body, not the URL");
            assertTrue(byKana.contains("山田") && byKana.contains("ハナコ"), byKana::toString);
            Browser.Page byKanji = b.submit("/console/patients", "name", "花子");
            assertTrue(byKanji.contains("/console/patients/" + hanako), "the given name finds her too");
            assertFalse(byKana.contains("鈴木") || byKana.contains(ichiro), "no unrelated patient in the results");
            // Demographics are hospital-wide for a physician (the access model); the chart is not.
            Browser.Page other = b.submit("/console/patients", "name", "すずき");
            assertTrue(other.contains("/console/patients/" + ichiro), other::toString);
            assertFalse(other.contains("秘密"), "a search shows demographics only");
            Browser.Page unknownId = b.submit("/console/patients", "identifier", "9999999999");
            assertTrue(unknownId.contains("id=\"no-results\"") && unknownId.contains("id=\"break-glass-offer\""),
                    "break-glass is offered for an id that shows nothing: " + unknownId);
            assertEquals(3L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'search'"
                    + " AND ? = ANY(patients)", doctorActor, hanako),
                    "both searches that showed her, and the home page's worklist (his patients), are audited with her");

            Browser.Page chart = b.get("/console/patients/" + hanako);
            assertEquals(200, chart.status(), chart::toString);
            assertTrue(chart.contains("id=\"patient-banner\"") && chart.contains("ヤマダ") && chart.contains("9000000001"));
            assertTrue(chart.contains("ペニシリン系薬剤"), "the allergy alert is in the banner");
            assertTrue(chart.contains("HbA1c") && chart.contains("/console/patients/" + hanako + "/results"),
                    "each test's latest value, the cumulative table a link away");
            assertTrue(chart.contains("/console/documents/" + note), "the note is on the timeline");
            assertEquals("no-store", chart.response().headers().firstValue("Cache-Control").orElse(""));
            assertEquals(1L, entries(h, doctorActor, "read", "success", hanako), "the chart view is audited");
            String resources = h.one("SELECT array_to_string(resources, ' ') FROM audit_entry WHERE actor = ?"
                    + " AND action = 'read' AND ? = ANY(patients)", doctorActor, hanako);
            assertTrue(resources.contains("Patient/" + hanako + "/_history/1") && resources.contains("Composition/" + note
                    + "/_history/1"), "with the versions shown: " + resources);

            Browser.Page refused = b.get("/console/patients/" + ichiro);
            assertEquals(403, refused.status());
            assertTrue(refused.contains("id=\"break-glass-offer\"") && refused.contains("/console/break-glass?patient=" + ichiro));
            assertFalse(refused.contains("鈴木") || refused.contains("秘密"), "nothing of the chart");
            assertEquals(1L, entries(h, doctorActor, "read", "refused", ichiro), "the refusal is audited");
            Browser.Page unknown = b.get("/console/patients/no-such-patient");
            assertEquals(403, unknown.status(), "an unknown patient looks the same as a refused one");

            // Break-glass from the refusal page: the chart opens, marked, and the entry says so.
            Browser.Page form = b.get("/console/break-glass?patient=" + ichiro);
            assertTrue(form.contains("value=\"9000000002\""), "the refusal page's link fills in the patient's 患者ID");
            Browser.Page started = b.submit("/console/break-glass", "patient", ichiro, "reason", "emergency_treatment",
                    "reason_text", "救急外来で意識障害、既往歴の確認が必要");
            assertEquals("/console/break-glass", started.path(), started::toString);
            Browser.Page glass = b.get("/console/patients/" + ichiro);
            assertEquals(200, glass.status(), glass::toString);
            assertTrue(glass.contains("id=\"banner-break-glass\"") && glass.contains("/console/documents/"), "opened under break-glass");
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'read'"
                    + " AND outcome = 'success' AND purpose = 'break-glass' AND break_glass AND ? = ANY(patients)",
                    doctorActor, ichiro), "the view is recorded as break-glass");

            Browser.Page asClerk = clerk.browser.get("/console/patients/" + hanako);
            assertEquals(200, asClerk.status(), asClerk::toString);
            assertTrue(asClerk.contains("ヤマダ") && asClerk.contains("9000000001"), "demographics");
            assertFalse(asClerk.contains("口渇なし") || asClerk.contains("ペニシリン") || asClerk.contains("HbA1c"),
                    "no notes, allergies or results for a clerk");
            assertFalse(asClerk.contains("/notes/new"), "and no note writing");

            // CSRF: the gate refuses a note without the token; nothing is written.
            Browser.Page forged = b.post("/console/notes/save", Map.of("patient", hanako, "id", "", "base", "0",
                    "s", "偽の記載", "o", "", "a", "", "p", "", "op", "draft"), Map.of());
            assertEquals(403, forged.status());
            assertEquals(0L, (long) h.<Long>one("SELECT count(*) FROM resource_version WHERE body::text"
                    + " LIKE '%偽の記載%'"));
        }
    }

    @Test
    void aNoteIsDraftedFinalizedAmendedPrintedAndAConflictKeepsTheText() throws Exception {
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            String pt = clinic.patient("9000000011", "佐藤", "美咲", "サトウ", "ミサキ", "1988-02-29", "female");
            Person doctor = h.enrolStaff("ishi.k", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, pt);
            Person colleague = h.enrolStaff("ishi.m", "内科", "qualification", "physician", "licence_physician", "123456");
            clinic.role(colleague.accountId, "physician", "内科");
            clinic.cares(colleague.accountId, pt);
            String actor = "account:" + doctor.accountId;
            Browser b = doctor.browser;

            b.get("/console/patients/" + pt + "/notes/new");
            Browser.Page draft = b.submit("/console/notes/save", "s", "頭痛が3日続く。", "o", "BT 36.8℃", "a", "緊張型頭痛疑い",
                    "p", "経過観察", "op", "draft");
            assertTrue(draft.path().startsWith("/console/documents/"), draft::toString);
            String doc = draft.path().substring("/console/documents/".length());
            assertTrue(draft.contains("status-preliminary") && draft.contains("頭痛が3日続く。"), draft::toString);
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'create'"
                    + " AND ? = ANY(resources)", actor, "Composition/" + doc + "/_history/1"));

            // The draft is the author's until finalized (issue 22): the colleague may neither edit nor finalize it.
            Browser.Page notMine = colleague.browser.post("/console/notes/save", Map.of("csrf",
                    colleague.browser.get("/console/documents/" + doc).csrf(), "id", doc, "base", "1", "patient", "",
                    "s", "頭痛が3日続く。", "o", "BT 36.8℃", "a", "緊張型頭痛疑い", "p", "経過観察", "op", "finalize"),
                    Map.of());
            assertEquals(403, notMine.status(), notMine::toString);

            // Two edits from the same version (the author in two tabs): the second meets the first and keeps its text.
            Browser.Page editA = b.get("/console/documents/" + doc + "/edit");
            assertEquals(200, editA.status(), editA::toString);
            b.get("/console/documents/" + doc + "/edit");
            b.submit("/console/notes/save", "s", "頭痛が3日続く。嘔気なし。", "o", "BT 36.8℃",
                    "a", "緊張型頭痛疑い", "p", "経過観察", "op", "draft");
            b.get("/console/documents/" + doc + "/edit"); // reload the form, then pretend it was the old one
            Map<String, String> stale = new java.util.LinkedHashMap<>(editA.hiddenFields("/console/notes/save"));
            stale.putAll(Map.of("s", "頭痛が3日続く。鎮痛薬で軽快。", "o", "BT 36.8℃", "a", "緊張型頭痛", "p", "2週後再診",
                    "op", "draft"));
            Browser.Page conflict = b.post("/console/notes/save", stale, Map.of());
            assertEquals(409, conflict.status(), conflict::toString);
            assertTrue(conflict.contains("嘔気なし") && conflict.contains("鎮痛薬で軽快"), "both texts side by side");
            assertTrue(conflict.contains("name=\"base\" value=\"2\""), "the form is on the newer version now");
            Browser.Page resolved = b.submit("/console/notes/save", "s", "頭痛が3日続く。嘔気なし。鎮痛薬で軽快。",
                    "o", "BT 36.8℃", "a", "緊張型頭痛", "p", "2週後再診", "op", "finalize");
            assertTrue(resolved.contains("status-final"), resolved::toString);
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'finalize'",
                    actor));

            b.get("/console/documents/" + doc + "/edit");
            Browser.Page noReason = b.submit("/console/notes/amend", "s", "x", "o", "x", "a", "x", "p", "x", "reason", "");
            assertEquals(400, noReason.status(), "an amendment needs a reason");
            b.get("/console/documents/" + doc + "/edit");
            Browser.Page amended = b.submit("/console/notes/amend", "s", "頭痛が3日続く。嘔気なし。鎮痛薬で軽快。",
                    "o", "BT 36.8℃、項部硬直なし", "a", "緊張型頭痛", "p", "2週後再診", "reason", "所見の追記漏れ");
            assertTrue(amended.contains("status-amended") && amended.contains("所見の追記漏れ"), amended::toString);
            Browser.Page diff = b.get("/console/documents/" + doc + "?a=3&b=4");
            assertTrue(diff.contains("id=\"diff\"") && diff.contains("項部硬直なし"), diff::toString);

            Browser.Page page = b.get("/console/documents/" + doc);
            Matcher m = Pattern.compile("<code id=\"document-hash\">([0-9a-f]{64})</code>").matcher(page.body());
            assertTrue(m.find(), page::toString);
            String hash = m.group(1);
            Browser.Page pdf = b.get("/console/documents/" + doc + "/pdf?v=4");
            assertEquals(200, pdf.status());
            assertEquals("application/pdf", pdf.response().headers().firstValue("Content-Type").orElse(""));
            assertTrue(pdf.response().headers().firstValue("Content-Disposition").orElse("").startsWith("inline"));
            try (PDDocument d = Loader.loadPDF(pdf.bytes())) {
                String text = new PDFTextStripper().getText(d).replaceAll("\\s+", "");
                assertTrue(text.contains("項部硬直なし") && text.contains("佐藤"), text);
                assertTrue(text.contains(hash.substring(0, 16)), "the version's hash is printed: " + text);
            }
            assertEquals(1L, (long) h.<Long>one("SELECT count(*) FROM audit_entry WHERE actor = ? AND action = 'print'"
                    + " AND ? = ANY(resources)", actor, "Composition/" + doc + "/_history/4"));
            Browser.Page summary = b.get("/console/patients/" + pt + "/summary.pdf");
            assertEquals(200, summary.status(), summary::toString);
            try (PDDocument d = Loader.loadPDF(summary.bytes())) {
                assertTrue(new PDFTextStripper().getText(d).contains("診療録要約"));
            }

            b.get("/console/documents/" + doc);
            Browser.Page eie = b.submit("/console/notes/error", "reason", "別患者の記録と取り違え");
            assertTrue(eie.contains("status-entered-in-error"), eie::toString);
            List<Map<String, Object>> versions = h.rows("SELECT v.version, v.operation, v.reason FROM resource_version v"
                    + " JOIN resource r ON r.res_pk = v.res_pk WHERE r.res_id = ? ORDER BY v.version", doc);
            assertEquals(List.of("create", "update", "update", "amend", "entered-in-error"),
                    versions.stream().map(x -> x.get("operation")).toList());
            assertEquals("所見の追記漏れ", versions.get(3).get("reason"));
        }
    }
}
