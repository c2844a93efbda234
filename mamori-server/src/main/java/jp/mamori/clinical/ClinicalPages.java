package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.access.Action;
import jp.mamori.chart.ChartPdf;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.TextDiff;
import jp.mamori.chart.TrendChart;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.web.Reply;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.clinical.Clinical.Unit;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Reference;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static jp.mamori.web.console.Html.csrf;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.esc;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/**
 * The clinician's pages: patient search, the chart with its banner, documents with their history and
 * differences, writing SOAP progress notes (draft, 確定保存, amendment, entered-in-error) and printing. Every page
 * gets its patient data through {@link Clinical#run}, which records one audit entry per page before it is
 * rendered. URLs carry only opaque ids (resource ids, version numbers); search terms travel in POST bodies.
 */
public final class ClinicalPages {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final int MAX_TEXT = 20_000;
    /** A chart shows at most this many of each kind of resource (the bench's chart has 5,000 results). */
    private static final int MAX_PER_TYPE = 10_000;
    private static final int TABLE_ROWS = 10;

    private final Clinical clinical;
    private final Console console;
    private final JpDates dates;

    public ClinicalPages(Clinical clinical, Console console, java.time.ZoneId zone) {
        this.dates = new JpDates(zone);
        this.clinical = clinical;
        this.console = console;
    }

    public void register() {
        console.clinicalMounted();
        console.route("GET", "/console/patients", USER, false, r -> search(r, false));
        console.route("POST", "/console/patients", USER, false, r -> search(r, true));
        console.routePrefix("GET", "/console/patients/", USER, false, this::patientPath);
        console.routePrefix("GET", "/console/documents/", USER, false, this::documentPath);
        console.route("POST", "/console/notes/save", USER, false, this::save);
        console.route("POST", "/console/notes/amend", USER, false, this::amend);
        console.route("POST", "/console/notes/error", USER, false, this::enteredInError);
    }

    private JpDates.Lang jl(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.JA ? JpDates.Lang.JA : JpDates.Lang.EN;
    }

    // ---------------------------------------------------------------- search

    private Reply search(ConsoleRequest r, boolean submitted) {
        String identifier = r.param("identifier").strip();
        String name = r.param("name").strip();
        String birth = r.param("birthdate").strip();
        StringBuilder b = new StringBuilder();
        String error = "";
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (submitted) {
            if (!identifier.isEmpty()) {
                if (!identifier.matches("[0-9A-Za-z\\-.]{1,64}")) {
                    error = "患者IDは英数字で入力してください / Enter the patient ID in letters and digits";
                } else {
                    params.put("identifier", List.of(identifier));
                }
            }
            if (!name.isEmpty()) {
                if (name.length() > 100) {
                    error = "氏名が長すぎます / The name is too long";
                } else {
                    params.put("name", List.of(name));
                }
            }
            if (!birth.isEmpty()) {
                try {
                    params.put("birthdate", List.of(LocalDate.parse(birth).toString()));
                } catch (DateTimeParseException e) {
                    error = "生年月日は YYYY-MM-DD で入力してください / Enter the birth date as YYYY-MM-DD";
                }
            }
            if (error.isEmpty() && params.isEmpty()) {
                error = "患者ID・氏名（漢字またはかな）・生年月日のいずれかを入力してください"
                        + " / Enter a patient ID, a name (kanji or kana) or a birth date";
            }
        }
        final boolean run = submitted && error.isEmpty();
        record Found(List<Res> results, List<Res> recent) {
        }
        Found found = clinical.run(r, "search", null, u -> {
            u.detail("view", "patient-search");
            if (run) {
                u.detail("criteria", String.join(",", params.keySet()));
            }
            List<Res> results = run ? u.search("Patient", params, 50) : List.of();
            List<Res> recent = List.of();
            List<String> ids = clinical.recentPatients(r, 20);
            if (!ids.isEmpty() && !run) {
                List<Res> got = u.search("Patient", Map.of("_id", List.of(String.join(",", ids))), 20);
                Map<String, Res> byId = new LinkedHashMap<>();
                got.forEach(x -> byId.put(x.stored().id(), x));
                List<Res> ordered = new ArrayList<>();
                for (String id : ids) {
                    if (byId.containsKey(id)) {
                        ordered.add(byId.get(id));
                    }
                }
                recent = ordered;
            }
            return new Found(results, recent);
        });
        b.append(Html.message("error", error));
        b.append("<section class=\"card\"><h2>").append(esc(r.t("患者検索", "Find a patient"))).append("</h2>")
                .append("<form method=\"post\" action=\"/console/patients\" class=\"inline\" id=\"patient-search\">")
                .append(csrf(r))
                .append("<label>").append(esc(r.t("患者ID", "Patient ID")))
                .append("<input name=\"identifier\" autocomplete=\"off\" inputmode=\"numeric\" value=\"")
                .append(esc(identifier)).append("\"></label>")
                .append("<label>").append(esc(r.t("氏名（漢字・かな、前方一致）", "Name (kanji or kana, starts with)")))
                .append("<input name=\"name\" autocomplete=\"off\" value=\"").append(esc(name)).append("\"></label>")
                .append("<label>").append(esc(r.t("生年月日", "Birth date")))
                .append("<input name=\"birthdate\" type=\"date\" value=\"").append(esc(birth)).append("\"></label>")
                .append("<button type=\"submit\">").append(esc(r.t("検索", "Search"))).append("</button></form>")
                .append("<p class=\"hint\">").append(esc(r.t("姓・名のどちらからでも、ひらがな・カタカナ・漢字で検索できます。",
                        "Search by family or given name, in hiragana, katakana or kanji."))).append("</p></section>");
        if (run) {
            b.append("<section class=\"card\"><h2>").append(esc(r.t("検索結果", "Results"))).append(" (")
                    .append(found.results().size()).append(")</h2>");
            if (found.results().isEmpty()) {
                b.append("<p id=\"no-results\">").append(esc(r.t("該当する患者が見つからないか、閲覧する権限がありません。",
                        "No patient found, or you may not see the patient."))).append("</p>");
                if (!identifier.isEmpty()) {
                    b.append("<p id=\"break-glass-offer\">").append(esc(r.t(
                            "救急などで診療上の関係がない患者の記録を参照する必要がある場合は、緊急時アクセスを使えます（記録・確認されます）。",
                            "In an emergency with a patient you have no care relationship with, you can use break-glass"
                                    + " access (recorded and reviewed)."))).append(" <a href=\"/console/break-glass\">")
                            .append(esc(r.t("緊急時アクセス", "Break-glass access"))).append("</a></p>");
                }
            } else {
                b.append(patientTable(r, found.results(), "results"));
            }
            b.append("</section>");
        } else {
            b.append("<section class=\"card\"><h2>").append(esc(r.t("最近開いた患者", "Recent patients"))).append("</h2>");
            b.append(found.recent().isEmpty() ? "<p>" + esc(r.t("ありません。", "None.")) + "</p>"
                    : patientTable(r, found.recent(), "recent"));
            b.append("</section>");
        }
        return Console.status(console.page(r, r.t("患者検索", "Patients"), b.toString()), error.isEmpty() ? 200 : 400);
    }

    private String patientTable(ConsoleRequest r, List<Res> patients, String id) {
        StringBuilder b = new StringBuilder("<table id=\"").append(id).append("\"><thead><tr><th>")
                .append(esc(r.t("患者ID", "Patient ID"))).append("</th><th>").append(esc(r.t("氏名", "Name")))
                .append("</th><th>").append(esc(r.t("カナ", "Kana"))).append("</th><th>").append(esc(r.t("性別", "Sex")))
                .append("</th><th>").append(esc(r.t("生年月日", "Birth date"))).append("</th></tr></thead><tbody>");
        LocalDate today = dates.localDate(clinical.clock().instant());
        for (Res p : patients) {
            JsonNode j = p.json();
            LocalDate birth = FhirText.birthDate(j);
            b.append("<tr><td>").append(esc(FhirText.identifier(j))).append("</td><td><a href=\"/console/patients/")
                    .append(esc(p.stored().id())).append("\">").append(esc(FhirText.name(j))).append("</a></td><td>")
                    .append(esc(FhirText.kana(j))).append("</td><td>").append(esc(FhirText.sex(j, r.lang())))
                    .append("</td><td>").append(birth == null ? "" : esc(dates.date(birth, jl(r)) + " ("
                            + JpDates.ageText(birth, today, jl(r)) + ")")).append("</td></tr>");
        }
        return b.append("</tbody></table>").toString();
    }

    // ---------------------------------------------------------------- routing under /console/patients/ and /documents/

    private Reply patientPath(ConsoleRequest r) throws Exception {
        String[] p = r.path().substring("/console/patients/".length()).split("/", -1);
        if (!ID.matcher(p[0]).matches()) {
            return notFound(r);
        }
        if (p.length == 1) {
            return chart(r, p[0]);
        }
        if (p.length == 3 && p[1].equals("notes") && p[2].equals("new")) {
            return newNote(r, p[0]);
        }
        if (p.length == 2 && p[1].equals("summary.pdf")) {
            return summaryPdf(r, p[0]);
        }
        return notFound(r);
    }

    private Reply documentPath(ConsoleRequest r) throws Exception {
        String[] p = r.path().substring("/console/documents/".length()).split("/", -1);
        if (!ID.matcher(p[0]).matches()) {
            return notFound(r);
        }
        if (p.length == 1) {
            return document(r, p[0]);
        }
        if (p.length == 2 && p[1].equals("edit")) {
            return edit(r, p[0]);
        }
        if (p.length == 2 && p[1].equals("pdf")) {
            return notePdf(r, p[0]);
        }
        return notFound(r);
    }

    private Reply notFound(ConsoleRequest r) {
        return console.page(r.lang(), 404, r.t("ページが見つかりません", "Page not found"), r,
                Html.message("error", "ページが見つかりません / Page not found"));
    }

    /**
     * The refusal page: the same for a patient that does not exist and one the person may not see, so the answer
     * reveals nothing; break-glass is offered for the id either way (the request form decides who may start it).
     */
    private Reply refused(ConsoleRequest r, FhirError e, String patientId) {
        if (e.status() != 403 && e.status() != 404 && e.status() != 410) {
            throw e;
        }
        StringBuilder b = new StringBuilder(Html.message("error",
                "この記録を表示できません。存在しないか、閲覧する権限がありません / This record cannot be shown: it does not"
                        + " exist or you may not see it"));
        if (patientId != null) {
            b.append("<p id=\"break-glass-offer\">").append(esc(r.t("救急などで必要な場合は、緊急時アクセスを開始できます（理由の記入と二要素目の確認が必要で、記録・確認されます）。",
                            "If you need it in an emergency, you can start break-glass access (with a reason and your"
                                    + " second factor; recorded and reviewed)."))).append(" <a class=\"button secondary\" href=\"/console/break-glass?patient=")
                    .append(esc(patientId)).append("\">").append(esc(r.t("緊急時アクセスを申請", "Request break-glass access")))
                    .append("</a></p>");
        }
        b.append("<p><a href=\"/console/patients\">").append(esc(r.t("患者検索へ", "Back to patient search"))).append("</a></p>");
        return console.page(r.lang(), 403, r.t("表示できません", "Not available"), r, b.toString());
    }

    // ---------------------------------------------------------------- chart

    /** Everything a chart page shows; each list null when the person may not see that kind of record at all. */
    record ChartData(Res patient, List<Res> encounters, List<Res> notes, List<Res> conditions, List<Res> allergies,
                     List<Res> medications, List<Res> observations) {
    }

    private ChartData loadChart(Unit u, String patientId) {
        Res patient = u.read("Patient", patientId);
        u.requireClinical(patientId);
        return new ChartData(patient, u.ofPatient("Encounter", patientId, MAX_PER_TYPE),
                u.ofPatient("Composition", patientId, MAX_PER_TYPE), u.ofPatient("Condition", patientId, MAX_PER_TYPE),
                u.ofPatient("AllergyIntolerance", patientId, MAX_PER_TYPE),
                u.ofPatient("MedicationRequest", patientId, MAX_PER_TYPE),
                u.ofPatient("Observation", patientId, MAX_PER_TYPE));
    }

    private Reply chart(ConsoleRequest r, String patientId) {
        ChartData c;
        try {
            c = clinical.run(r, "read", patientId, u -> {
                u.detail("view", "chart");
                return loadChart(u, patientId);
            });
        } catch (FhirError e) {
            return refused(r, e, patientId);
        }
        return console.page(r, FhirText.name(c.patient().json()), renderChart(r, c));
    }

    /** The chart's HTML; public to the package for the benchmark's server-time measurement. */
    String renderChart(ConsoleRequest r, ChartData c) {
        String pid = c.patient().stored().id();
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append(banner(r, c.patient(), c.allergies(), c.conditions(), labelsOf(c)));
        b.append("<p class=\"actions\">");
        if (c.notes() != null) {
            b.append("<a class=\"button\" href=\"/console/patients/").append(esc(pid)).append("/notes/new\">")
                    .append(esc(r.t("経過記録を書く", "Write a progress note"))).append("</a>");
        }
        b.append("<a class=\"button secondary\" href=\"/console/patients/").append(esc(pid))
                .append("/summary.pdf\" id=\"print-summary\">").append(esc(r.t("診療録要約を印刷（PDF）", "Print chart summary (PDF)")))
                .append("</a></p>");
        b.append("<div class=\"chart-grid\">");
        b.append(timeline(r, c));
        b.append(problems(r, c.conditions()));
        b.append(allergies(r, c.allergies()));
        b.append(medications(r, c.medications()));
        b.append("</div>");
        b.append(results(r, c.observations()));
        return b.toString();
    }

    private static Set<String> labelsOf(ChartData c) {
        Set<String> out = new LinkedHashSet<>(FhirText.labels(c.patient().json()));
        for (List<Res> l : java.util.Arrays.asList(c.encounters(), c.notes(), c.conditions(), c.allergies(),
                c.medications(), c.observations())) {
            if (l != null) {
                l.forEach(x -> out.addAll(FhirText.labels(x.json())));
            }
        }
        return out;
    }

    /** The patient banner every chart page shows. */
    private String banner(ConsoleRequest r, Res patient, List<Res> allergies, List<Res> conditions, Set<String> labels) {
        JsonNode j = patient.json();
        LocalDate birth = FhirText.birthDate(j);
        LocalDate today = dates.localDate(clinical.clock().instant());
        StringBuilder b = new StringBuilder("<section class=\"patient-banner\" id=\"patient-banner\" aria-label=\"")
                .append(esc(r.t("患者情報", "Patient"))).append("\"><div class=\"pt-who\"><span class=\"pname\">")
                .append(esc(FhirText.name(j))).append("</span> <span class=\"kana\">").append(esc(FhirText.kana(j)))
                .append("</span></div><dl class=\"facts\"><dt>").append(esc(r.t("性別", "Sex"))).append("</dt><dd>")
                .append(esc(FhirText.sex(j, r.lang()))).append("</dd><dt>").append(esc(r.t("年齢", "Age"))).append("</dt><dd>");
        if (birth != null && !birth.isAfter(today)) {
            b.append(esc(JpDates.ageText(birth, today, jl(r)))).append("（").append(esc(dates.date(birth, jl(r))))
                    .append(r.lang() == ConsoleRequest.Lang.JA ? " " + esc(dates.wareki(birth, JpDates.Lang.JA)) : "")
                    .append(r.t("生", "")).append("）");
        }
        b.append("</dd><dt>").append(esc(r.t("患者ID", "Patient ID"))).append("</dt><dd id=\"patient-identifier\">")
                .append(esc(FhirText.identifier(j))).append("</dd></dl><ul class=\"alerts\">");
        if (allergies != null) {
            for (Res a : allergies) {
                if (FhirText.active(a.json())) {
                    b.append("<li class=\"alert allergy\">").append(esc(r.t("アレルギー", "Allergy"))).append(": ")
                            .append(esc(FhirText.concept(a.json().path("code"))));
                    String crit = a.json().path("criticality").asText("");
                    if (crit.equals("high")) {
                        b.append(" (").append(esc(r.t("重篤", "high risk"))).append(")");
                    }
                    b.append("</li>");
                }
            }
        }
        if (conditions != null) {
            for (Res c : conditions) {
                String icd = FhirText.firstCode(c.json().path("code"), "http://hl7.org/fhir/sid/icd-10");
                if (FhirText.active(c.json()) && (icd.startsWith("A") || icd.startsWith("B"))) {
                    b.append("<li class=\"alert infection\">").append(esc(r.t("感染症", "Infection"))).append(": ")
                            .append(esc(FhirText.concept(c.json().path("code")))).append("</li>");
                }
            }
        }
        for (String l : labels) {
            b.append("<li class=\"alert label\">").append(esc(r.t("要配慮情報", "Sensitive"))).append(": ")
                    .append(esc(l)).append("</li>");
        }
        if (clinical.underBreakGlass(r, patient.stored().id())) {
            b.append("<li class=\"alert glass\" id=\"banner-break-glass\">").append(esc(r.t("緊急時アクセスで閲覧中",
                    "Viewing under break-glass"))).append("</li>");
        }
        return b.append("</ul></section>").toString();
    }

    private String timeline(ConsoleRequest r, ChartData c) {
        record Item(Instant at, String html) {
        }
        List<Item> items = new ArrayList<>();
        if (c.encounters() != null) {
            for (Res e : c.encounters()) {
                JsonNode j = e.json();
                Instant at = FhirText.instant(j.path("period").path("start"));
                String type = j.path("type").isArray() && !j.path("type").isEmpty()
                        ? FhirText.concept(j.path("type").get(0)) : "";
                items.add(new Item(at, "<td>" + esc(r.t("受診", "Encounter")) + "</td><td>" + esc(type) + " "
                        + esc(FhirText.concept(j.path("serviceType"))) + "</td><td></td>"));
            }
        }
        if (c.notes() != null) {
            for (Res n : c.notes()) {
                JsonNode j = n.json();
                items.add(new Item(FhirText.instant(j.path("date")), "<td>" + esc(r.t("文書", "Document"))
                        + "</td><td><a href=\"/console/documents/" + esc(n.stored().id()) + "\">"
                        + esc(j.path("title").asText("")) + "</a> — " + esc(FhirText.author(j)) + "</td><td>"
                        + status(r, j.path("status").asText("")) + "</td>"));
            }
        }
        items.sort(Comparator.comparing(Item::at, Comparator.nullsLast(Comparator.reverseOrder())));
        StringBuilder b = new StringBuilder("<section class=\"card timeline\"><h2>").append(esc(r.t("経過（受診・文書）",
                "Timeline (encounters and documents)"))).append("</h2>");
        if (c.encounters() == null && c.notes() == null) {
            return b.append(notAllowed(r)).append("</section>").toString();
        }
        b.append("<div class=\"scroll\"><table id=\"timeline\"><thead><tr><th>").append(esc(r.t("日時", "When")))
                .append("</th><th>").append(esc(r.t("種類", "Kind"))).append("</th><th>").append(esc(r.t("内容", "What")))
                .append("</th><th>").append(esc(r.t("状態", "Status"))).append("</th></tr></thead><tbody>");
        for (Item i : items) {
            b.append("<tr><td>").append(i.at() == null ? "" : esc(dates.dateTime(i.at(), jl(r)))).append("</td>")
                    .append(i.html()).append("</tr>");
        }
        return b.append("</tbody></table></div></section>").toString();
    }

    private static String status(ConsoleRequest r, String code) {
        String t = switch (code) {
            case "preliminary" -> r.t("下書き", "Draft");
            case "final" -> r.t("確定", "Final");
            case "amended" -> r.t("修正済", "Amended");
            case "entered-in-error" -> r.t("記載誤り", "Entered in error");
            default -> code;
        };
        return "<span class=\"status status-" + esc(code) + "\">" + esc(t) + "</span>";
    }

    private static String notAllowed(ConsoleRequest r) {
        return "<p class=\"hint\">" + esc(r.t("この情報を閲覧する権限がありません。", "You may not see this information."))
                + "</p>";
    }

    private String problems(ConsoleRequest r, List<Res> conditions) {
        StringBuilder b = new StringBuilder("<section class=\"card\"><h2>").append(esc(r.t("問題リスト", "Problems")))
                .append("</h2>");
        if (conditions == null) {
            return b.append(notAllowed(r)).append("</section>").toString();
        }
        b.append("<table id=\"problems\"><thead><tr><th>").append(esc(r.t("病名", "Problem"))).append("</th><th>")
                .append(esc(r.t("発症", "Onset"))).append("</th><th>").append(esc(r.t("状態", "Status")))
                .append("</th></tr></thead><tbody>");
        List<Res> sorted = new ArrayList<>(conditions);
        sorted.sort(Comparator.comparing((Res x) -> !FhirText.active(x.json())));
        for (Res c : sorted) {
            JsonNode j = c.json();
            Instant onset = FhirText.instant(j.path("onsetDateTime"));
            b.append("<tr><td>").append(esc(FhirText.concept(j.path("code")))).append("</td><td>")
                    .append(onset == null ? "" : esc(dates.date(onset, jl(r)))).append("</td><td>")
                    .append(esc(FhirText.active(j) ? r.t("継続", "Active") : r.t("終了", "Resolved"))).append("</td></tr>");
        }
        return b.append("</tbody></table></section>").toString();
    }

    private String allergies(ConsoleRequest r, List<Res> allergies) {
        StringBuilder b = new StringBuilder("<section class=\"card\"><h2>").append(esc(r.t("アレルギー", "Allergies")))
                .append("</h2>");
        if (allergies == null) {
            return b.append(notAllowed(r)).append("</section>").toString();
        }
        if (allergies.isEmpty()) {
            return b.append("<p id=\"no-allergies\">").append(esc(r.t("登録なし", "None recorded"))).append("</p></section>")
                    .toString();
        }
        b.append("<table id=\"allergies\"><thead><tr><th>").append(esc(r.t("物質", "Substance"))).append("</th><th>")
                .append(esc(r.t("反応", "Reaction"))).append("</th><th>").append(esc(r.t("重篤度", "Criticality")))
                .append("</th></tr></thead><tbody>");
        for (Res a : allergies) {
            JsonNode j = a.json();
            List<String> reactions = new ArrayList<>();
            for (JsonNode x : j.path("reaction")) {
                for (JsonNode m : x.path("manifestation")) {
                    reactions.add(FhirText.concept(m));
                }
            }
            b.append("<tr><td>").append(esc(FhirText.concept(j.path("code")))).append("</td><td>")
                    .append(esc(String.join("、", reactions))).append("</td><td>")
                    .append(esc(j.path("criticality").asText(""))).append("</td></tr>");
        }
        return b.append("</tbody></table></section>").toString();
    }

    private String medications(ConsoleRequest r, List<Res> meds) {
        StringBuilder b = new StringBuilder("<section class=\"card\"><h2>").append(esc(r.t("処方", "Medications")))
                .append("</h2>");
        if (meds == null) {
            return b.append(notAllowed(r)).append("</section>").toString();
        }
        for (boolean current : new boolean[]{true, false}) {
            b.append("<h3>").append(esc(current ? r.t("現在の処方", "Current") : r.t("過去の処方", "Past"))).append("</h3>")
                    .append("<table id=\"").append(current ? "meds-current" : "meds-past").append("\"><thead><tr><th>")
                    .append(esc(r.t("薬剤", "Medicine"))).append("</th><th>").append(esc(r.t("用法・用量", "Dosage")))
                    .append("</th><th>").append(esc(r.t("開始", "Since"))).append("</th></tr></thead><tbody>");
            for (Res m : meds) {
                JsonNode j = m.json();
                String st = j.path("status").asText("");
                boolean active = st.equals("active") || st.equals("on-hold") || st.equals("draft");
                if (active != current) {
                    continue;
                }
                List<String> dosage = new ArrayList<>();
                for (JsonNode d : j.path("dosageInstruction")) {
                    dosage.add(d.path("text").asText(""));
                }
                Instant since = FhirText.instant(j.path("authoredOn"));
                b.append("<tr><td>").append(esc(FhirText.concept(j.path("medicationCodeableConcept")))).append("</td><td>")
                        .append(esc(String.join("、", dosage))).append("</td><td>")
                        .append(since == null ? "" : esc(dates.date(since, jl(r)))).append("</td></tr>");
            }
            b.append("</tbody></table>");
        }
        return b.append("</section>").toString();
    }

    /** One test's numeric results, grouped by code (a panel's components count as tests of their own). */
    private record Series(String name, String unit, Double low, Double high, List<Object[]> points) {
    }

    private static Map<String, Series> series(List<Res> observations) {
        Map<String, Series> out = new LinkedHashMap<>();
        for (Res o : observations) {
            JsonNode j = o.json();
            Instant at = FhirText.instant(j.has("effectiveDateTime") ? j.get("effectiveDateTime")
                    : j.path("effectivePeriod").path("start"));
            if (at == null) {
                continue;
            }
            add(out, j.path("code"), j, at, o);
            for (JsonNode comp : j.path("component")) {
                add(out, comp.path("code"), comp, at, o);
            }
        }
        return out;
    }

    private static void add(Map<String, Series> out, JsonNode code, JsonNode valued, Instant at, Res from) {
        JsonNode q = valued.path("valueQuantity");
        if (!q.has("value")) {
            return;
        }
        JsonNode range = valued.path("referenceRange").path(0);
        Series s = out.computeIfAbsent(FhirText.code(code), k -> new Series(FhirText.concept(code),
                q.path("unit").asText(q.path("code").asText("")),
                range.path("low").has("value") ? range.path("low").path("value").asDouble() : null,
                range.path("high").has("value") ? range.path("high").path("value").asDouble() : null, new ArrayList<>()));
        String flag = "";
        for (JsonNode i : valued.path("interpretation")) {
            flag = FhirText.firstCode(i, null);
        }
        s.points().add(new Object[]{at, q.path("value").asDouble(), q.path("value").asText(), flag, from});
    }

    private String results(ConsoleRequest r, List<Res> observations) {
        StringBuilder b = new StringBuilder("<section class=\"card\" id=\"results\"><h2>")
                .append(esc(r.t("検査結果", "Results"))).append("</h2>");
        if (observations == null) {
            return b.append(notAllowed(r)).append("</section>").toString();
        }
        int n = 0;
        for (Series s : series(observations).values()) {
            n++;
            s.points().sort(Comparator.comparing((Object[] p) -> (Instant) p[0]).reversed());
            b.append("<div class=\"result\"><h3>").append(esc(s.name())).append(s.unit().isEmpty() ? "" : " (" + esc(s.unit())
                    + ")").append("</h3>");
            if (s.points().size() >= 2) {
                List<TrendChart.Point> pts = new ArrayList<>(s.points().size());
                for (Object[] p : s.points()) {
                    pts.add(new TrendChart.Point((Instant) p[0], (Double) p[1]));
                }
                b.append("<div class=\"trend\">").append(TrendChart.svg(new TrendChart.Series(s.name(), s.unit(), pts,
                        s.low(), s.high()), "trend-" + n, dates, jl(r))).append("</div>");
            }
            b.append("<table class=\"values\"><caption>").append(esc(r.t("最新 " + Math.min(TABLE_ROWS, s.points().size())
                    + " 件（全 " + s.points().size() + " 件）", "Latest " + Math.min(TABLE_ROWS, s.points().size()) + " of "
                    + s.points().size()))).append("</caption><thead><tr><th>").append(esc(r.t("日時", "When")))
                    .append("</th><th>").append(esc(r.t("値", "Value"))).append("</th><th>").append(esc(r.t("判定", "Flag")))
                    .append("</th></tr></thead><tbody>");
            for (Object[] p : s.points().subList(0, Math.min(TABLE_ROWS, s.points().size()))) {
                b.append("<tr><td>").append(esc(dates.dateTime((Instant) p[0], jl(r)))).append("</td><td>")
                        .append(esc(p[2])).append("</td><td>").append(esc(p[3])).append("</td></tr>");
            }
            b.append("</tbody></table>");
            if (s.low() != null || s.high() != null) {
                b.append("<p class=\"hint\">").append(esc(r.t("基準範囲", "Reference range"))).append(": ")
                        .append(s.low() == null ? "" : esc(TrendChartText.num(s.low()))).append("–")
                        .append(s.high() == null ? "" : esc(TrendChartText.num(s.high()))).append("</p>");
            }
            b.append("</div>");
        }
        if (n == 0) {
            b.append("<p>").append(esc(r.t("ありません。", "None."))).append("</p>");
        }
        return b.append("</section>").toString();
    }

    /** Numbers as written: no exponent, no trailing zeros. */
    static final class TrendChartText {
        static String num(double v) {
            return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
        }
    }

    // ---------------------------------------------------------------- documents

    private record DocView(Res patient, Res current, List<Res> history, Res left, Res right) {
    }

    private Reply document(ConsoleRequest r, String id) {
        Integer a = version(r.param("a"));
        Integer bv = version(r.param("b"));
        DocView v;
        try {
            v = clinical.run(r, "read", null, u -> {
                u.detail("view", "document");
                Res current = u.read("Composition", id);
                Res patient = patientOf(u, current);
                List<Res> history = u.history("Composition", id);
                Res left = null;
                Res right = null;
                if (a != null && bv != null) {
                    u.detail("diff", a + ".." + bv);
                    left = find(history, a);
                    right = find(history, bv);
                }
                return new DocView(patient, current, history, left, right);
            });
        } catch (FhirError e) {
            return refused(r, e, null);
        }
        JsonNode j = v.current().json();
        String status = j.path("status").asText("");
        String me = r.session().accountId().toString();
        StringBuilder b = new StringBuilder();
        if (v.patient() != null) {
            b.append(banner(r, v.patient(), null, null, FhirText.labels(v.patient().json())));
            b.append("<p><a href=\"/console/patients/").append(esc(v.patient().stored().id())).append("\">")
                    .append(esc(r.t("カルテへ戻る", "Back to the chart"))).append("</a></p>");
        }
        b.append("<section class=\"card\" id=\"document\"><h2>").append(esc(j.path("title").asText("")))
                .append(" ").append(status(r, status)).append("</h2><dl id=\"document-meta\"><dt>")
                .append(esc(r.t("記載者", "Author"))).append("</dt><dd>").append(esc(FhirText.author(j))).append("</dd><dt>")
                .append(esc(r.t("記載日時", "Date"))).append("</dt><dd>");
        Instant date = FhirText.instant(j.path("date"));
        b.append(date == null ? "" : esc(dates.dateTime(date, jl(r)))).append("</dd><dt>").append(esc(r.t("版", "Version")))
                .append("</dt><dd id=\"document-version\">").append(v.current().stored().version()).append("</dd><dt>")
                .append(esc(r.t("この版の保存", "Stored"))).append("</dt><dd>")
                .append(esc(dates.dateTime(v.current().stored().lastUpdated(), jl(r)))).append("</dd><dt>SHA-256</dt><dd><code id=\"document-hash\">")
                .append(esc(v.current().stored().contentSha256())).append("</code></dd></dl>");
        b.append(soapView(r, j));
        b.append("<p class=\"actions\">");
        boolean draft = status.equals("preliminary");
        if (draft) {
            b.append("<a class=\"button\" href=\"/console/documents/").append(esc(id)).append("/edit\">")
                    .append(esc(r.t("編集・確定", "Edit or finalize"))).append("</a>");
        } else if (!status.equals("entered-in-error")) {
            b.append("<a class=\"button\" href=\"/console/documents/").append(esc(id)).append("/edit\">")
                    .append(esc(r.t("修正（理由が必要）", "Amend (with a reason)"))).append("</a>");
        }
        b.append("<a class=\"button secondary\" id=\"print-document\" href=\"/console/documents/").append(esc(id))
                .append("/pdf?v=").append(v.current().stored().version()).append("\">")
                .append(esc(r.t("印刷（PDF）", "Print (PDF)"))).append("</a></p>");
        if (draft && !me.equals(FhirText.authorAccount(j))) {
            b.append("<p class=\"hint\">").append(esc(r.t("確定保存は記載者本人のみが行えます。",
                    "Only the author can finalize this note."))).append("</p>");
        }
        if (!status.equals("entered-in-error")) {
            b.append("<details><summary>").append(esc(r.t("記載誤りとして取り消す", "Mark as entered in error")))
                    .append("</summary><form method=\"post\" action=\"/console/notes/error\" class=\"stack\">").append(csrf(r))
                    .append("<input type=\"hidden\" name=\"id\" value=\"").append(esc(id)).append("\">")
                    .append("<input type=\"hidden\" name=\"base\" value=\"").append(v.current().stored().version()).append("\">")
                    .append("<label>").append(esc(r.t("理由（必須）", "Reason (required)")))
                    .append("<input name=\"reason\" required maxlength=\"500\"></label><button type=\"submit\" class=\"danger\">")
                    .append(esc(r.t("記載誤りとして記録", "Record as entered in error"))).append("</button></form></details>");
        }
        b.append("</section>");

        b.append("<section class=\"card\"><h2>").append(esc(r.t("版の履歴", "Version history"))).append("</h2>")
                .append("<table id=\"history\"><thead><tr><th>").append(esc(r.t("版", "Version"))).append("</th><th>")
                .append(esc(r.t("日時", "When"))).append("</th><th>").append(esc(r.t("記録者", "By"))).append("</th><th>")
                .append(esc(r.t("操作", "Operation"))).append("</th><th>").append(esc(r.t("状態", "Status"))).append("</th><th>")
                .append(esc(r.t("理由", "Reason"))).append("</th><th>SHA-256</th><th></th></tr></thead><tbody>");
        for (Res h : v.history()) {
            var s = h.stored();
            b.append("<tr><td>").append(s.version()).append("</td><td>").append(esc(dates.dateTime(s.lastUpdated(), jl(r))))
                    .append("</td><td>").append(esc(h.json() == null ? s.author() : FhirText.author(h.json())))
                    .append("<br><span class=\"hint\">").append(esc(s.author())).append("</span></td><td>")
                    .append(esc(s.operation())).append("</td><td>")
                    .append(h.json() == null ? "" : status(r, h.json().path("status").asText(""))).append("</td><td>")
                    .append(esc(s.reason())).append("</td><td><code class=\"hash\">").append(esc(s.contentSha256()))
                    .append("</code></td><td><a href=\"/console/documents/").append(esc(id)).append("/pdf?v=").append(s.version())
                    .append("\">PDF</a></td></tr>");
        }
        b.append("</tbody></table>");
        if (v.history().size() >= 2) {
            int newest = v.history().get(0).stored().version();
            int a0 = v.left() != null ? v.left().stored().version() : newest - 1;
            int b0 = v.right() != null ? v.right().stored().version() : newest;
            b.append("<form method=\"get\" action=\"/console/documents/").append(esc(id))
                    .append("\" class=\"inline\" id=\"diff-form\"><label>").append(esc(r.t("比較元", "From version")))
                    .append(versionSelect("a", v.history(), a0)).append("</label><label>")
                    .append(esc(r.t("比較先", "To version"))).append(versionSelect("b", v.history(), b0))
                    .append("</label><button type=\"submit\">").append(esc(r.t("差分を表示", "Show differences")))
                    .append("</button></form>");
        }
        if (v.left() != null && v.right() != null && v.left().json() != null && v.right().json() != null) {
            TextDiff.Result d = TextDiff.compare(FhirText.noteText(v.left().json(), r.lang()),
                    FhirText.noteText(v.right().json(), r.lang()));
            b.append("<div class=\"diff\" id=\"diff\">").append(d.toHtml(r.t("版 ", "Version ") + v.left().stored().version(),
                    r.t("版 ", "Version ") + v.right().stored().version())).append("</div>");
        }
        b.append("</section>");
        return console.page(r, r.t("文書", "Document"), b.toString());
    }

    private static String versionSelect(String name, List<Res> history, int selected) {
        StringBuilder b = new StringBuilder("<select name=\"").append(name).append("\">");
        for (Res h : history) {
            int v = h.stored().version();
            b.append("<option value=\"").append(v).append("\"").append(v == selected ? " selected" : "").append(">")
                    .append(v).append("</option>");
        }
        return b.append("</select>").toString();
    }

    private static Res find(List<Res> history, int version) {
        for (Res h : history) {
            if (h.stored().version() == version) {
                return h;
            }
        }
        return null;
    }

    private static Integer version(String s) {
        if (s == null || !s.matches("[0-9]{1,9}")) {
            return null;
        }
        return Integer.valueOf(s);
    }

    /** The Patient a note is about, read for the banner (null when the note names none). */
    private static Res patientOf(Unit u, Res doc) {
        String ref = doc.json().path("subject").path("reference").asText("");
        return ref.startsWith("Patient/") ? u.read("Patient", ref.substring("Patient/".length())) : null;
    }

    private String soapView(ConsoleRequest r, JsonNode composition) {
        String[] s = FhirText.soap(composition);
        StringBuilder b = new StringBuilder("<div class=\"soap\" id=\"soap\">");
        for (int i = 0; i < 4; i++) {
            b.append("<h3>").append(esc(r.t(FhirText.SOAP[i][1], FhirText.SOAP[i][2]))).append("</h3><p class=\"note-text\">")
                    .append(esc(s[i]).replace("\n", "<br>")).append("</p>");
        }
        return b.append("</div>").toString();
    }

    // ---------------------------------------------------------------- writing

    private Reply newNote(ConsoleRequest r, String patientId) {
        Res patient;
        try {
            patient = clinical.run(r, "read", patientId, u -> {
                u.detail("view", "new-note");
                return u.read("Patient", patientId);
            });
        } catch (FhirError e) {
            return refused(r, e, patientId);
        }
        return console.page(r, r.t("経過記録の作成", "New progress note"),
                banner(r, patient, null, null, FhirText.labels(patient.json()))
                        + noteForm(r, "/console/notes/save", patientId, "", 0, new String[]{"", "", "", ""}, false, ""));
    }

    private Reply edit(ConsoleRequest r, String id) {
        record Editing(Res patient, Res doc) {
        }
        Editing e;
        try {
            e = clinical.run(r, "read", null, u -> {
                u.detail("view", "edit-note");
                Res doc = u.read("Composition", id);
                return new Editing(patientOf(u, doc), doc);
            });
        } catch (FhirError x) {
            return refused(r, x, null);
        }
        JsonNode j = e.doc().json();
        String status = j.path("status").asText("");
        boolean amend = !status.equals("preliminary");
        if (status.equals("entered-in-error")) {
            return Console.status(console.page(r, r.t("文書", "Document"), Html.message("error",
                    "記載誤りとされた記録は編集できません / A record marked entered-in-error cannot be edited")), 409);
        }
        String pid = e.patient() == null ? "" : e.patient().stored().id();
        return console.page(r, amend ? r.t("経過記録の修正", "Amend a progress note") : r.t("経過記録の編集", "Edit a progress note"),
                (e.patient() == null ? "" : banner(r, e.patient(), null, null, FhirText.labels(e.patient().json())))
                        + noteForm(r, amend ? "/console/notes/amend" : "/console/notes/save", pid, id,
                        e.doc().stored().version(), FhirText.soap(j), amend, ""));
    }

    private String noteForm(ConsoleRequest r, String action, String patientId, String id, int base, String[] soap,
                            boolean amend, String reason) {
        StringBuilder b = new StringBuilder("<form method=\"post\" action=\"").append(action)
                .append("\" class=\"stack note-form\" id=\"note-form\">").append(csrf(r))
                .append("<input type=\"hidden\" name=\"patient\" value=\"").append(esc(patientId)).append("\">")
                .append("<input type=\"hidden\" name=\"id\" value=\"").append(esc(id)).append("\">")
                .append("<input type=\"hidden\" name=\"base\" value=\"").append(base).append("\">");
        String[] names = {"s", "o", "a", "p"};
        for (int i = 0; i < 4; i++) {
            b.append("<label>").append(esc(r.t(FhirText.SOAP[i][1], FhirText.SOAP[i][2]))).append("<textarea name=\"")
                    .append(names[i]).append("\" id=\"soap-").append(names[i]).append("\" maxlength=\"").append(MAX_TEXT)
                    .append("\" rows=\"4\">").append(esc(soap[i])).append("</textarea></label>");
        }
        if (amend) {
            b.append("<label>").append(esc(r.t("修正の理由（必須）", "Reason for the amendment (required)")))
                    .append("<input name=\"reason\" id=\"amend-reason\" required maxlength=\"500\" value=\"").append(esc(reason))
                    .append("\"></label><button type=\"submit\">").append(esc(r.t("修正を保存", "Save the amendment")))
                    .append("</button>");
        } else {
            b.append("<p class=\"actions\"><button type=\"submit\" name=\"op\" value=\"draft\" class=\"secondary\" id=\"save-draft\">")
                    .append(esc(r.t("下書き保存", "Save draft"))).append("</button><button type=\"submit\" name=\"op\" value=\"finalize\" id=\"finalize\">")
                    .append(esc(r.t("確定保存", "Finalize"))).append("</button></p><p class=\"hint\">")
                    .append(esc(r.t("確定保存すると、以後の変更には理由が必要になり、すべての版が保存されます。",
                            "Once finalized, changes need a reason and every version is kept."))).append("</p>");
        }
        return b.append("</form>").toString();
    }

    private static String[] soapFrom(ConsoleRequest r) {
        String[] out = {r.param("s"), r.param("o"), r.param("a"), r.param("p")};
        for (int i = 0; i < 4; i++) {
            out[i] = out[i].replace("\r\n", "\n");
            if (out[i].length() > MAX_TEXT) {
                throw new FhirError(413, org.hl7.fhir.r4.model.OperationOutcome.IssueType.TOOLONG,
                        "記載が長すぎます / The text is too long");
            }
        }
        return out;
    }

    private static Narrative narrative(String text) {
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.GENERATED);
        n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + jp.mamori.chart.Html.escape(text)
                .replace("\n", "<br/>") + "</div>");
        return n;
    }

    /** A new progress note for the patient, written by this person. */
    private Composition newComposition(ConsoleRequest r, String patientId) {
        Composition c = new Composition();
        c.setType(new CodeableConcept().addCoding(new Coding(FhirText.LOINC, "11506-3", "Progress note")).setText("経過記録"));
        c.setSubject(new Reference("Patient/" + patientId));
        c.setTitle("経過記録");
        c.addAuthor().setDisplay(r.session().displayName())
                .setIdentifier(new Identifier().setSystem(FhirText.ACCOUNT_SYSTEM).setValue(r.session().accountId().toString()));
        for (int i = 0; i < 4; i++) {
            Composition.SectionComponent s = c.addSection();
            s.setTitle(FhirText.SOAP[i][1]);
            s.setCode(new CodeableConcept().addCoding(new Coding(FhirText.LOINC, FhirText.SOAP[i][0], FhirText.SOAP[i][1])));
        }
        return c;
    }

    private static void setSoap(Composition c, String[] soap) {
        for (int i = 0; i < 4; i++) {
            Composition.SectionComponent target = null;
            for (Composition.SectionComponent s : c.getSection()) {
                for (Coding cd : s.getCode().getCoding()) {
                    if (FhirText.SOAP[i][0].equals(cd.getCode())) {
                        target = s;
                    }
                }
            }
            if (target == null) {
                target = c.addSection().setTitle(FhirText.SOAP[i][1]);
                target.setCode(new CodeableConcept().addCoding(new Coding(FhirText.LOINC, FhirText.SOAP[i][0],
                        FhirText.SOAP[i][1])));
            }
            target.setText(narrative(soap[i]));
        }
    }

    /** What a write left: the version now stored, or the conflict it met. */
    /**
     * Saves the note on the version the form was based on; when someone saved another version meanwhile (412), the
     * result carries theirs instead, so that the page can show both texts and nothing typed is lost.
     */
    private static Written saveOrConflict(Unit u, String id, Composition c, int base, String reason) {
        try {
            return new Written(u.update("Composition", id, c, base, reason), null);
        } catch (FhirError e) {
            if (e.status() != 412) {
                throw e;
            }
            u.action("conflict");
            return new Written(null, u.read("Composition", id));
        }
    }

    private record Written(Res saved, Res theirs) {
    }

    private Reply save(ConsoleRequest r) {
        String[] soap = soapFrom(r);
        String id = r.param("id");
        String patientId = r.param("patient");
        boolean finalize = r.param("op").equals("finalize");
        Integer base = version(r.param("base"));
        if (id.isEmpty() && !ID.matcher(patientId).matches() || !id.isEmpty() && (!ID.matcher(id).matches() || base == null)) {
            return invalidForm(r);
        }
        if (String.join("", soap).isBlank()) {
            return Console.status(console.page(r, r.t("経過記録", "Progress note"), Html.message("error",
                    "記載がありません / The note is empty") + noteForm(r, "/console/notes/save", patientId, id,
                    base == null ? 0 : base, soap, false, "")), 400);
        }
        Written w;
        try {
            w = clinical.run(r, id.isEmpty() ? "create" : "update", id.isEmpty() ? patientId : null, u -> {
                if (id.isEmpty()) {
                    Composition c = newComposition(r, patientId);
                    c.setStatus(finalize ? Composition.CompositionStatus.FINAL : Composition.CompositionStatus.PRELIMINARY);
                    c.setDate(java.util.Date.from(clinical.clock().instant()));
                    setSoap(c, soap);
                    u.action(finalize ? "finalize" : "create");
                    return new Written(u.create(c), null);
                }
                Res current = u.read("Composition", id);
                if (current.stored().version() != base) {
                    u.action("conflict");
                    return new Written(null, current);
                }
                Composition c = (Composition) FhirSupport.parseStored(current.stored().bodyText());
                if (c.getStatus() != Composition.CompositionStatus.PRELIMINARY) {
                    throw FhirError.conflict("確定済みの記録は修正として保存してください / The note is final: amend it with a reason");
                }
                if (finalize && !r.session().accountId().toString().equals(FhirText.authorAccount(current.json()))) {
                    throw FhirError.forbidden("確定保存は記載者本人のみが行えます / Only the author can finalize this note");
                }
                c.setStatus(finalize ? Composition.CompositionStatus.FINAL : Composition.CompositionStatus.PRELIMINARY);
                setSoap(c, soap);
                u.action(finalize ? "finalize" : "update");
                return saveOrConflict(u, id, c, base, null);
            });
        } catch (FhirError e) {
            if (e.status() == 403 || e.status() == 404) {
                return refused(r, e, id.isEmpty() ? patientId : null);
            }
            throw e;
        }
        if (w.theirs() != null) {
            return conflict(r, w.theirs(), soap, "/console/notes/save", patientId, false, "");
        }
        return Console.redirect("/console/documents/" + w.saved().stored().id());
    }

    /** A note form that was tampered with or is stale beyond repair (ids, base version): 400, nothing written. */
    private Reply invalidForm(ConsoleRequest r) {
        return Console.status(console.page(r, r.t("エラー", "Error"), Html.message("error",
                "入力が正しくありません / The form is not valid")), 400);
    }

    /** An amendment or a correction states why, in at most 500 characters. */
    private static boolean validReason(String reason) {
        return !reason.isEmpty() && reason.length() <= 500;
    }

    private Reply amend(ConsoleRequest r) {
        String[] soap = soapFrom(r);
        String id = r.param("id");
        String reason = r.param("reason").strip();
        Integer base = version(r.param("base"));
        if (!ID.matcher(id).matches() || base == null) {
            return invalidForm(r);
        }
        if (!validReason(reason)) {
            return Console.status(console.page(r, r.t("経過記録の修正", "Amend a progress note"), Html.message("error",
                    "修正には理由が必要です / An amendment needs a reason") + noteForm(r, "/console/notes/amend",
                    r.param("patient"), id, base, soap, true, reason)), 400);
        }
        return changeFinal(r, id, base, reason, soap, Composition.CompositionStatus.AMENDED, "amend");
    }

    private Reply enteredInError(ConsoleRequest r) {
        String id = r.param("id");
        String reason = r.param("reason").strip();
        Integer base = version(r.param("base"));
        if (!ID.matcher(id).matches() || base == null) {
            return invalidForm(r);
        }
        if (!validReason(reason)) {
            return Console.status(console.page(r, r.t("文書", "Document"), Html.message("error",
                    "記載誤りとするには理由が必要です / Marking entered-in-error needs a reason")
                    + "<p><a href=\"/console/documents/" + esc(id) + "\">" + esc(r.t("戻る", "Back")) + "</a></p>"), 400);
        }
        return changeFinal(r, id, base, reason, null, Composition.CompositionStatus.ENTEREDINERROR, "entered-in-error");
    }

    private Reply changeFinal(ConsoleRequest r, String id, int base, String reason, String[] soap,
                              Composition.CompositionStatus to, String action) {
        Written w;
        try {
            w = clinical.run(r, action, null, u -> {
                Res current = u.read("Composition", id);
                if (current.stored().version() != base) {
                    u.action("conflict");
                    return new Written(null, current);
                }
                Composition c = (Composition) FhirSupport.parseStored(current.stored().bodyText());
                c.setStatus(to);
                if (soap != null) {
                    setSoap(c, soap);
                }
                u.detail("reason", reason);
                return saveOrConflict(u, id, c, base, reason);
            });
        } catch (FhirError e) {
            if (e.status() == 403 || e.status() == 404) {
                return refused(r, e, null);
            }
            if (e.status() == 422 || e.status() == 409) {
                return Console.status(console.page(r, r.t("文書", "Document"), Html.message("error", e.getMessage())
                        + "<p><a href=\"/console/documents/" + esc(id) + "\">" + esc(r.t("戻る", "Back")) + "</a></p>"), 409);
            }
            throw e;
        }
        if (w.theirs() != null) {
            String[] mine = soap != null ? soap : FhirText.soap(w.theirs().json());
            String pid = w.theirs().json().path("subject").path("reference").asText("").replaceFirst("^Patient/", "");
            return conflict(r, w.theirs(), mine, "/console/notes/amend", pid, true, reason);
        }
        return Console.redirect("/console/documents/" + w.saved().stored().id());
    }

    /**
     * Someone else saved the note since this person opened it: their version and this person's text side by
     * side, and the form again with this person's text on the newer version, so nothing typed is lost.
     */
    private Reply conflict(ConsoleRequest r, Res theirs, String[] mine, String action, String patientId,
                           boolean amend, String reason) {
        JsonNode j = theirs.json();
        String status = j.path("status").asText("");
        boolean nowFinal = !status.equals("preliminary");
        StringBuilder mineText = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            mineText.append("【").append(r.t(FhirText.SOAP[i][1], FhirText.SOAP[i][2])).append("】\n").append(mine[i]).append("\n");
        }
        TextDiff.Result d = TextDiff.compare(FhirText.noteText(j, r.lang()), mineText.toString());
        StringBuilder b = new StringBuilder(Html.message("error",
                "この記録は、あなたが開いた後に他の利用者が更新しました（版 " + theirs.stored().version() + "、"
                        + FhirText.author(j) + "）。入力した内容は下に残っています。確認して保存し直してください / Someone else"
                        + " saved this note after you opened it (version " + theirs.stored().version() + "). Your text is"
                        + " kept below: compare, then save again"));
        b.append("<section class=\"card\" id=\"conflict\"><h2>").append(esc(r.t("他の利用者の版とあなたの入力", "Their version and your text")))
                .append("</h2><div class=\"diff\">").append(d.toHtml(r.t("保存済みの版 ", "Stored version ")
                        + theirs.stored().version(), r.t("あなたの入力", "Your text"))).append("</div></section>");
        if (nowFinal && !amend && !status.equals("entered-in-error")) {
            b.append(Html.message("info", "この記録は確定済みになりました。変更するには理由を添えて修正してください"
                    + " / The note is now final: save your text as an amendment with a reason"));
            b.append(noteForm(r, "/console/notes/amend", patientId, theirs.stored().id(), theirs.stored().version(), mine,
                    true, reason));
        } else if (!status.equals("entered-in-error")) {
            b.append(noteForm(r, action, patientId, theirs.stored().id(), theirs.stored().version(), mine, amend, reason));
        } else {
            b.append("<h2>").append(esc(r.t("あなたの入力（保存されていません）", "Your text (not saved)"))).append("</h2><pre class=\"note-text\">")
                    .append(esc(mineText)).append("</pre>");
        }
        return Console.status(console.page(r, r.t("同時編集の衝突", "Edit conflict"), b.toString()), 409);
    }

    // ---------------------------------------------------------------- printing

    private ChartPdf.Printing printing(ConsoleRequest r) {
        return new ChartPdf.Printing(r.session().displayName() + " (" + r.session().loginId() + ")",
                clinical.clock().instant(), dates);
    }

    private static ChartPdf.Patient pdfPatient(ConsoleRequest r, Res p) {
        JsonNode j = p.json();
        return new ChartPdf.Patient(FhirText.name(j), FhirText.kana(j), FhirText.identifier(j),
                FhirText.sex(j, ConsoleRequest.Lang.JA), FhirText.birthDate(j));
    }

    private static Reply pdf(byte[] body, String filename) {
        return Reply.of(200, "application/pdf", body)
                .header("Content-Disposition", "inline; filename=\"" + filename + "\"")
                .header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; object-src 'self'; plugin-types application/pdf");
    }

    private Reply notePdf(ConsoleRequest r, String id) {
        Integer v = version(r.param("v"));
        byte[] out;
        try {
            out = clinical.run(r, "print", null, u -> {
                Res doc = v == null ? u.read("Composition", id) : u.vread("Composition", id, v);
                Res patient = patientOf(u, doc);
                u.require(doc, Action.PRINT);
                JsonNode j = doc.json();
                String[] s = FhirText.soap(j);
                var st = doc.stored();
                ChartPdf.NoteVersion note = new ChartPdf.NoteVersion(new ChartPdf.Trace("Composition/" + id,
                        Integer.toString(st.version()), st.contentSha256()), j.path("title").asText("経過記録"),
                        j.path("status").asText(""), FhirText.author(j), FhirText.instant(j.path("date")), st.lastUpdated(),
                        st.author(), null, st.reason(), s[0], s[1], s[2], s[3]);
                u.detail("document", "Composition/" + id + "/_history/" + st.version());
                return ChartPdf.note(patient == null ? new ChartPdf.Patient(null, null, null, null, null)
                        : pdfPatient(r, patient), note, printing(r));
            });
        } catch (FhirError e) {
            return refused(r, e, null);
        }
        return pdf(out, "note-" + id + ".pdf");
    }

    private Reply summaryPdf(ConsoleRequest r, String patientId) {
        byte[] out;
        try {
            out = clinical.run(r, "print", patientId, u -> {
                ChartData c = loadChart(u, patientId);
                // What is printed is what the person may print: the patient identifies the copy; each other record is
                // printed only when its category allows printing for this person (ACCESS-1: 印刷 is its own action).
                Set<String> keys = new LinkedHashSet<>();
                keys.add(c.patient().versionRef() + " " + c.patient().stored().contentSha256());
                List<String> skipped = new ArrayList<>();
                java.util.function.Function<List<Res>, List<Res>> printable = l -> {
                    if (l == null) {
                        return List.of();
                    }
                    List<Res> ok = new ArrayList<>();
                    for (Res x : l) {
                        if (u.permits(x, Action.PRINT)) {
                            ok.add(x);
                            keys.add(x.versionRef() + " " + x.stored().contentSha256());
                        } else if (!skipped.contains(x.stored().type())) {
                            skipped.add(x.stored().type());
                        }
                    }
                    return ok;
                };
                List<ChartPdf.Problem> problems = new ArrayList<>();
                for (Res x : printable.apply(c.conditions())) {
                    Instant onset = FhirText.instant(x.json().path("onsetDateTime"));
                    problems.add(new ChartPdf.Problem(FhirText.concept(x.json().path("code")),
                            onset == null ? "" : dates.date(onset, JpDates.Lang.JA), FhirText.active(x.json()) ? "継続" : "終了"));
                }
                List<ChartPdf.Allergy> allergies = new ArrayList<>();
                List<String> alerts = new ArrayList<>();
                for (Res x : printable.apply(c.allergies())) {
                    List<String> re = new ArrayList<>();
                    x.json().path("reaction").forEach(rr -> rr.path("manifestation").forEach(m -> re.add(FhirText.concept(m))));
                    allergies.add(new ChartPdf.Allergy(FhirText.concept(x.json().path("code")), String.join("、", re),
                            x.json().path("criticality").asText("")));
                    alerts.add("アレルギー: " + FhirText.concept(x.json().path("code")));
                }
                alerts.addAll(FhirText.labels(c.patient().json()).stream().map(l -> "要配慮: " + l).toList());
                List<ChartPdf.Medication> meds = new ArrayList<>();
                for (Res x : printable.apply(c.medications())) {
                    JsonNode j = x.json();
                    List<String> dos = new ArrayList<>();
                    j.path("dosageInstruction").forEach(dd -> dos.add(dd.path("text").asText("")));
                    Instant since = FhirText.instant(j.path("authoredOn"));
                    meds.add(new ChartPdf.Medication(FhirText.concept(j.path("medicationCodeableConcept")),
                            String.join("、", dos), since == null ? "" : dates.date(since, JpDates.Lang.JA) + "〜",
                            j.path("status").asText("")));
                }
                List<ChartPdf.ResultTable> tables = new ArrayList<>();
                // Results: the latest values of each test, each printed only when it may be.
                for (Series s : series(c.observations() == null ? List.of() : c.observations()).values()) {
                    s.points().sort(Comparator.comparing((Object[] p) -> (Instant) p[0]).reversed());
                    List<ChartPdf.Result> rows = new ArrayList<>();
                    for (Object[] p : s.points().subList(0, Math.min(TABLE_ROWS, s.points().size()))) {
                        if (printable.apply(List.of((Res) p[4])).isEmpty()) {
                            continue;
                        }
                        rows.add(new ChartPdf.Result((Instant) p[0], (String) p[2], (String) p[3],
                                (s.low() == null ? "" : TrendChartText.num(s.low())) + "–"
                                        + (s.high() == null ? "" : TrendChartText.num(s.high()))));
                    }
                    if (!rows.isEmpty()) {
                        tables.add(new ChartPdf.ResultTable(s.name(), s.unit(), rows));
                    }
                }
                List<ChartPdf.NoteEntry> notes = new ArrayList<>();
                for (Res x : printable.apply(c.notes())) {
                    JsonNode j = x.json();
                    notes.add(new ChartPdf.NoteEntry(FhirText.instant(j.path("date")), j.path("title").asText(""),
                            FhirText.author(j), j.path("status").asText(""), x.ref() + " 版" + x.stored().version()));
                }
                notes.sort(Comparator.comparing(ChartPdf.NoteEntry::date, Comparator.nullsLast(Comparator.reverseOrder())));
                if (!skipped.isEmpty()) {
                    u.detail("notPrinted", String.join(",", skipped));
                }
                String fp = ChartPdf.fingerprint(keys);
                u.detail("fingerprint", fp);
                return ChartPdf.summary(pdfPatient(r, c.patient()), new ChartPdf.ChartSummary(new ChartPdf.Trace(
                        "Patient/" + patientId + " 要約", Integer.toString(keys.size()), fp), alerts, problems, allergies,
                        meds, tables, notes), printing(r));
            });
        } catch (FhirError e) {
            return refused(r, e, patientId);
        }
        return pdf(out, "summary-" + patientId + ".pdf");
    }
}
