package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.access.Action;
import jp.mamori.chart.ChartPdf;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.signatures.PdfSeal;
import jp.mamori.signatures.SignatureFailure;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Printing (PDF from the {@code chart} package): a note's version, and the chart summary of a patient with only
 * what the person may print (印刷 is its own action), each copy traceable by its fingerprint. With an institution
 * seal configured every PDF is sealed (PAdES B-T, issue 17; SIGN-1, STORE-1 真正性 of the paper-derived copy) before
 * it leaves, and the print's audit entry says so ({@code sealed}, {@code sealLevel}).
 */
final class PrintPages {
    private static final Logger log = LoggerFactory.getLogger(PrintPages.class);
    private final PageSupport pages;

    PrintPages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths patients, IdPaths documents) {
        patients.add("/summary.pdf", this::summaryPdf);
        documents.add("/pdf", this::notePdf);
    }

    private ChartPdf.Printing printing(ConsoleRequest r) {
        return new ChartPdf.Printing(r.session().displayName() + " (" + r.session().loginId() + ")",
                pages.clinical.clock().instant(), pages.dates, pages.institution);
    }

    private static ChartPdf.Patient pdfPatient(Res p) {
        JsonNode j = p.json();
        return new ChartPdf.Patient(FhirText.name(j), FhirText.kana(j), FhirText.identifier(j),
                FhirText.sex(j, ConsoleRequest.Lang.JA), FhirText.birthDate(j));
    }

    private static Reply pdf(byte[] body, String filename) {
        return Reply.of(200, "application/pdf", body)
                .header("Content-Disposition", "inline; filename=\"" + filename + "\"")
                .header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; object-src 'self'; plugin-types application/pdf");
    }

    /**
     * The printout sealed with the institution's seal when one is configured, the audit detail {@code sealed} saying
     * whether it is. When the TSA does not answer the seal is made at level B (logged; {@code sealLevel} says B).
     * When sealing fails otherwise (the seal's certificate expired or revoked, its token gone) nothing is served:
     * a configured seal promises that every printout carries it, so a 503 says why instead of an unsealed copy.
     */
    private byte[] sealed(Clinical.Unit u, byte[] pdf) {
        if (pages.seal == null) {
            u.detail("sealed", "false");
            return pdf;
        }
        try {
            PdfSeal.Sealed s = pages.seal.seal(pdf);
            u.detail("sealed", "true");
            u.detail("sealLevel", "PAdES-" + s.level().label());
            s.pending().ifPresent(why -> log.warn("printout sealed without a time-stamp (level B): {}", why));
            return s.pdf();
        } catch (SignatureFailure f) {
            u.detail("sealed", "false");
            u.detail("sealError", f.reason().name());
            log.error("printout not served: the institution seal failed: {}", f.getMessage());
            throw new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "印刷物に組織の署名ができないため、印刷できません"
                    + "。システム管理者に連絡してください / the printout cannot be sealed with the institution's seal, so it"
                    + " is not printed; tell the system administrator: " + f.getMessage());
        }
    }

    private Reply notePdf(ConsoleRequest r, String id) {
        Integer v = PageSupport.version(r.param("v"));
        byte[] out;
        try {
            out = pages.clinical.run(r, "print", null, u -> {
                Res doc = v == null ? u.read("Composition", id) : u.vread("Composition", id, v);
                Res patient = PageSupport.patientOf(u, doc);
                u.require(doc, Action.PRINT);
                JsonNode j = doc.json();
                String[] s = FhirText.soap(j);
                var st = doc.stored();
                ChartPdf.NoteVersion note = new ChartPdf.NoteVersion(new ChartPdf.Trace("Composition/" + id,
                        Integer.toString(st.version()), st.contentSha256()), j.path("title").asText("経過記録"),
                        j.path("status").asText(""), FhirText.author(j), FhirText.instant(j.path("date")), st.lastUpdated(),
                        st.author(), null, st.reason(), s[0], s[1], s[2], s[3]);
                u.detail("document", "Composition/" + id + "/_history/" + st.version());
                return sealed(u, ChartPdf.note(patient == null ? new ChartPdf.Patient(null, null, null, null, null)
                        : pdfPatient(patient), note, printing(r)));
            });
        } catch (FhirError e) {
            return pages.refused(r, e, null);
        }
        return pdf(out, "note-" + id + ".pdf");
    }

    private Reply summaryPdf(ConsoleRequest r, String patientId) {
        JpDates dates = pages.dates;
        byte[] out;
        try {
            out = pages.clinical.run(r, "print", patientId, u -> {
                ChartData c = ChartData.load(u, patientId);
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
                            ChartPdf.criticalityLabel(x.json().path("criticality").asText(null))));
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
                            ChartPdf.medicationStatusLabel(j.path("status").asText(null))));
                }
                List<ChartPdf.ResultTable> tables = new ArrayList<>();
                // Results: the latest values of each test, each printed only when it may be.
                for (ChartData.Series s : ChartData.series(c.observations() == null ? List.of() : c.observations()).values()) {
                    List<ChartData.Point> points = s.newestFirst();
                    List<ChartPdf.Result> rows = new ArrayList<>();
                    for (ChartData.Point p : points.subList(0, Math.min(ChartPages.TABLE_ROWS, points.size()))) {
                        if (printable.apply(List.of(p.from())).isEmpty()) {
                            continue;
                        }
                        rows.add(new ChartPdf.Result(p.at(), p.text(), p.flag(), ChartPages.range(s)));
                    }
                    if (!rows.isEmpty()) {
                        tables.add(new ChartPdf.ResultTable(s.name(), s.unit(), rows));
                    }
                }
                List<ChartPdf.NoteEntry> notes = new ArrayList<>();
                for (Res x : printable.apply(c.notes())) {
                    JsonNode j = x.json();
                    notes.add(new ChartPdf.NoteEntry(FhirText.instant(j.path("date")), j.path("title").asText(""),
                            FhirText.author(j), j.path("status").asText(""), Integer.toString(x.stored().version())));
                }
                notes.sort(Comparator.comparing(ChartPdf.NoteEntry::date, Comparator.nullsLast(Comparator.reverseOrder())));
                if (!skipped.isEmpty()) {
                    u.detail("notPrinted", String.join(",", skipped));
                }
                String fp = ChartPdf.fingerprint(keys);
                u.detail("fingerprint", fp);
                return sealed(u, ChartPdf.summary(pdfPatient(c.patient()), new ChartPdf.ChartSummary(
                        new ChartPdf.Trace("Patient/" + patientId + " 要約", Integer.toString(keys.size()), fp), alerts,
                        problems, allergies, meds, tables, notes), printing(r)));
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        return pdf(out, "summary-" + patientId + ".pdf");
    }
}
