package jp.mamori.clinical;

import gg.jte.Content;
import gg.jte.TemplateOutput;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.TextDiff;
import jp.mamori.chart.TrendChart;

import java.util.List;

/**
 * The view models of the clinician's pages (templates {@code clinical/*.jte}), one per page and the pieces they
 * share (the patient banner, the note form). Public because the compiled templates live in their own package.
 * Everything here is already chosen and formatted (dates in the request's language, names, ages); the templates
 * escape every value. Status codes of notes ({@code preliminary}, {@code final}...) stay codes: the templates name
 * them ({@code clinical.status.CODE}).
 */
public final class ClinicalViews {
    /** The longest SOAP section a note form accepts. */
    public static final int MAX_TEXT = 20_000;

    private ClinicalViews() {
    }

    /**
     * Markup drawn by the {@code chart} package: a trend chart's SVG ({@link TrendChart#svg}) or the table of
     * differences between two texts ({@link TextDiff.Result#toHtml}). That code escapes every text it places
     * ({@code chart.Html.escape}, tested in TrendChartTest and TextDiffTest), so the template writes this as
     * markup. Only those two factories make one: no other string can reach a page unescaped.
     */
    public static final class Drawn implements Content {
        private final String html;

        private Drawn(String html) {
            this.html = html;
        }

        static Drawn trend(TrendChart.Series series, String id, JpDates dates, JpDates.Lang lang) {
            return new Drawn(TrendChart.svg(series, id, dates, lang));
        }

        static Drawn diff(TextDiff.Result diff, String beforeLabel, String afterLabel) {
            return new Drawn(diff.toHtml(beforeLabel, afterLabel));
        }

        @Override
        public void writeTo(TemplateOutput output) {
            output.writeContent(html);
        }
    }

    /**
     * A patient in a list (search results, recent patients).
     *
     * @param birth the birth date and the age, or ""
     */
    public record Patient(String id, String identifier, String name, String kana, String sex, String birth) {
    }

    /**
     * The patient search: the form (filled again) and either the results or the recently opened patients.
     *
     * @param error           why the criteria were refused, or ""
     * @param ran             whether a search ran (then {@code results}, else {@code recent})
     * @param offerBreakGlass whether the empty result offers break-glass (a patient ID was given)
     * @param department      the department an encounter was in, as typed, or ""
     * @param setting         the kind of encounter (outpatient, inpatient, emergency, home, virtual), or ""
     * @param next            the cursor of the next page of results, or null on the last
     * @param page            the number of this page of results, from 1
     * @param offset          how many results the pages before this one held
     */
    public record Search(String error, String identifier, String name, String birthdate, boolean ran,
                         List<Patient> results, boolean offerBreakGlass, List<Patient> recent, String csrf,
                         String department, String setting, String ageFrom, String ageTo, String next, int page,
                         int offset) {
        /** The search without narrowing (the tests' and the first page's shape). */
        public Search(String error, String identifier, String name, String birthdate, boolean ran,
                      List<Patient> results, boolean offerBreakGlass, List<Patient> recent, String csrf) {
            this(error, identifier, name, birthdate, ran, results, offerBreakGlass, recent, csrf, "", "", "", "", null,
                    1, 0);
        }

        /** The kinds of encounter the search narrows to, in the order the form offers them. */
        public List<String> settings() {
            return List.of("outpatient", "inpatient", "emergency", "home", "virtual");
        }

        /** Whether any narrowing criterion is set (the form then shows them open). */
        public boolean narrowed() {
            return !department.isEmpty() || !setting.isEmpty() || !ageFrom.isEmpty() || !ageTo.isEmpty();
        }
    }

    /** An allergy in the banner. @param highRisk whether its criticality is high */
    public record Alert(String text, boolean highRisk) {
    }

    /**
     * The patient banner every chart page shows.
     *
     * @param age        the age with the birth date, or "" when it is unknown or in the future
     * @param allergies  the active allergies
     * @param infections the active infections (ICD-10 A and B)
     * @param labels     the sensitive-information labels of the patient and of what the page shows
     * @param breakGlass whether the person sees the patient under break-glass
     */
    public record Banner(String name, String kana, String sex, String age, String identifier, List<Alert> allergies,
                         List<String> infections, List<String> labels, boolean breakGlass) {
    }

    /**
     * A line of the timeline: an encounter ({@code what}) or a document ({@code documentId}, {@code title},
     * {@code author}, {@code status}).
     *
     * @param when the date and time, or ""
     */
    public record Event(String when, boolean document, String what, String documentId, String title, String author,
                        String status) {
    }

    /** A problem. @param onset the onset date, or "" @param status its clinical status in words */
    public record Problem(String name, String onset, boolean active, String status) {
    }

    /**
     * An allergy, in words.
     *
     * @param reactions   the manifestations, each with its severity (軽度・中等度・重度) when recorded, joined with "、"
     * @param criticality the criticality in words (高・低・評価不能), or ""
     * @param highRisk    whether its criticality is high
     */
    public record Allergy(String substance, String reactions, String criticality, boolean highRisk) {
    }

    /** A prescription. @param since the date it was written, or "" @param status its status in words */
    public record Medication(String name, String dosage, String since, String status) {
    }

    /** The current prescriptions (active, on hold, draft) and the past ones. */
    public record Medications(List<Medication> current, List<Medication> past) {
    }

    /**
     * One test's latest value on the chart.
     *
     * @param key   the test's code as the results page takes it ({@code ?trend=}), percent-encoded
     * @param flag  H or L (or HH, LL, A from the laboratory) when out of range, else ""
     * @param range the reference range ("low–high", either side possibly empty), or ""
     * @param total how many values there are
     */
    public record Latest(String key, String name, String unit, String value, String flag, String when, String range,
                         int total) {
    }

    /** A value in the cumulative table. @param flag H or L (HH, LL, A) when out of range, else "" */
    public record Cell(String value, String flag) {
    }

    /**
     * A test in the cumulative table: its values per date column (an empty cell when none that day).
     *
     * @param key   the test's code for {@code ?trend=}, percent-encoded
     * @param range the reference range, or ""
     */
    public record ResultRow(String key, String name, String unit, String range, List<Cell> cells) {
    }

    /**
     * The cumulative results (検査結果 時系列): tests as rows, dates as columns (newest first), within a date range;
     * one test's trend chart when asked for.
     *
     * @param from      the range's first date as typed (YYYY-MM-DD), or ""
     * @param to        its last date, or ""
     * @param error     why the range was refused, or ""
     * @param dates     the column headings
     * @param rows      the tests; null when the person may not see results
     * @param olderTo   the {@code to} of the page of older dates, or null when there are none
     * @param trendName the charted test's name, or null
     * @param trend     its chart, or null
     */
    public record Results(Banner banner, String patientId, String from, String to, String error, List<String> dates,
                          List<ResultRow> rows, String olderTo, String trendKey, String trendName, Drawn trend) {
        /** The charted test's code for a link's query, or "". */
        public String trendParam() {
            return param(trendKey);
        }
    }

    /** A value for a link's query string, percent-encoded. */
    static String param(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The chart. Each part is null when the person may not see that kind of record at all.
     *
     * @param writesNotes whether the person may write notes (sees the notes)
     * @param timeline    encounters and documents, newest first; null when the person sees neither
     * @param printout    whether the chart offers its printout (not to a vendor whose work order did not approve it)
     */
    public record Chart(Banner banner, String patientId, boolean writesNotes, List<Event> timeline,
                        List<Problem> problems, List<Allergy> allergies, Medications medications,
                        List<Latest> results, boolean entersForOthers, boolean printout, boolean apps) {
        /** Without the 代行入力 link. */
        public Chart(Banner banner, String patientId, boolean writesNotes, List<Event> timeline, List<Problem> problems,
                     List<Allergy> allergies, Medications medications, List<Latest> results) {
            this(banner, patientId, writesNotes, timeline, problems, allergies, medications, results, false, true, true);
        }
    }

    /** The four texts of a progress note. */
    public record Soap(String s, String o, String a, String p) {
        static Soap of(String[] soap) {
            return new Soap(soap[0], soap[1], soap[2], soap[3]);
        }
    }

    /**
     * A version in a document's history.
     *
     * @param storedBy  who stored it, by name (or the kind of system)
     * @param operation what the version did, in words (作成, 更新, 確定, 修正, 記載誤り...)
     * @param status    its status code, or null when it has no body
     * @param withheld  whether it is someone else's draft, whose content the person does not see
     */
    public record Version(int version, String when, String author, String storedBy, String operation, String status,
                          String reason, String hash, boolean withheld) {
    }

    /**
     * A document with its history.
     *
     * @param banner    the patient's banner, or null when the note names no patient
     * @param date      when it was written, or ""
     * @param notAuthor whether a draft is someone else's (only its author finalizes it)
     * @param from      the version the difference form starts from
     * @param to        the version it goes to
     * @param diff      the difference between two versions, or null
     */
    public record Document(Banner banner, String patientId, String id, String title, String status, String author,
                           String date, int version, String stored, String hash, Soap soap, boolean notAuthor,
                           List<Version> history, int from, int to, Drawn diff, String csrf,
                           List<SignatureLine> signatures, String signingKey, Offers offers, List<String> marks,
                           boolean approve) {
        /** Without marks (back-entry, proxy entry) and without approval. */
        public Document(Banner banner, String patientId, String id, String title, String status, String author,
                        String date, int version, String stored, String hash, Soap soap, boolean notAuthor,
                        List<Version> history, int from, int to, Drawn diff, String csrf,
                        List<SignatureLine> signatures, String signingKey, Offers offers) {
            this(banner, patientId, id, title, status, author, date, version, stored, hash, soap, notAuthor, history,
                    from, to, diff, csrf, signatures, signingKey, offers, List.of(), false);
        }

        public boolean draft() {
            return status.equals("preliminary");
        }

        public boolean enteredInError() {
            return status.equals("entered-in-error");
        }
    }

    /**
     * What the document page offers, each only when the access model lets the person do it (issue 22).
     *
     * @param withheld whether the note is someone else's draft, whose content the person does not see
     */
    public record Offers(boolean edit, boolean finalizes, boolean amend, boolean enterInError, boolean print,
                         boolean withheld) {
    }

    /**
     * The note form: a new note or a draft ({@code /console/notes/save}), or an amendment with a reason
     * ({@code /console/notes/amend}).
     *
     * @param id   the note, or "" for a new one
     * @param base the version the form was opened on (0 for a new note)
     */
    /**
     * The note form. {@code signingKey}: the person's registered signing key as they read it, when they have one —
     * the form then asks for its PIN, which 確定保存 and an amendment need (issue 17; SIGN-6); else null.
     */
    public record NoteForm(String action, String patientId, String id, int base, Soap soap, boolean amend,
                           String reason, String csrf, String signingKey) {
    }

    /**
     * One version's signature as the document page shows it: signed by whom (name and qualification from the
     * certificate), when (the time-stamp's time; pending while there is none), the level (B, B-T, LT, LTA) and the
     * last validation ("valid", "invalid", "indeterminate", not yet validated), in words.
     */
    public record SignatureLine(int version, String signer, String when, String level, String status,
                                boolean problem, boolean validated) {
    }

    /** The note editor. @param banner the patient's banner, or null @param error why the form was refused, or "" */
    public record Editor(Banner banner, String error, NoteForm form) {
    }

    /**
     * Someone else saved the note meanwhile: their version beside this person's text, and the form again on
     * their version (or, for a note now entered-in-error, this person's text to copy).
     *
     * @param message what happened
     * @param nowFinal whether the note became final, so the form is an amendment now
     * @param form    the form again, or null
     * @param unsaved this person's text when there is no form to put it in, or null
     */
    public record Conflict(String message, Drawn diff, boolean nowFinal, NoteForm form, String unsaved) {
    }

    /** A page that refuses a record: it does not exist or the person may not see it. @param patientId or null */
    public record Refused(String patientId) {
    }

    /**
     * An error message.
     *
     * @param documentId the document to go back to, or null
     * @param kept       what the person typed, shown again so that nothing is lost, or null
     */
    public record Message(String text, String documentId, String kept) {
        public Message(String text, String documentId) {
            this(text, documentId, null);
        }
    }
}
