package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.TextDiff;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A document (template {@code clinical/document.jte}): the note with its banner, what may be done with it (edit,
 * amend, print, mark entered-in-error), its version history and the difference between two versions
 * ({@code ?a=1&b=2}).
 */
final class DocumentPages {
    private final PageSupport pages;

    DocumentPages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths documents) {
        documents.add("", this::document);
        documents.add("/signature-report", this::signatureReport);
    }

    /**
     * The stored ETSI validation report (XML, ETSI TS 119 102-2) of one signed version, to download: for whoever may
     * read that version (asked as a read of it, and audited so), 404 when that version has no validated signature.
     */
    private Reply signatureReport(ConsoleRequest r, String id) {
        Integer v = PageSupport.version(r.param("v"));
        if (v == null || pages.signing == null) {
            return pages.notFound(r);
        }
        java.util.Optional<String> report;
        try {
            report = pages.clinical.run(r, "read", null, u -> {
                u.vread("Composition", id, v);
                u.detail("view", "signature-report");
                return pages.signing.report("Composition", id, v);
            });
        } catch (FhirError e) {
            return pages.refused(r, e, null);
        }
        if (report.isEmpty()) {
            return pages.notFound(r);
        }
        return jp.mamori.web.Reply.of(200, "application/xml; charset=utf-8",
                        report.get().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .header("Content-Disposition", "attachment; filename=\"signature-report-" + id + "-" + v + ".xml\"");
    }

    private record Loaded(Res patient, Res current, List<Res> history, Res left, Res right) {
    }

    private Reply document(ConsoleRequest r, String id) {
        Integer a = PageSupport.version(r.param("a"));
        Integer bv = PageSupport.version(r.param("b"));
        Loaded v;
        try {
            v = pages.clinical.run(r, "read", null, u -> {
                u.detail("view", "document");
                Res current = u.read("Composition", id);
                Res patient = PageSupport.patientOf(u, current);
                List<Res> history = u.history("Composition", id);
                Res left = null;
                Res right = null;
                if (a != null && bv != null) {
                    u.detail("diff", a + ".." + bv);
                    left = find(history, a);
                    right = find(history, bv);
                }
                return new Loaded(patient, current, history, left, right);
            });
        } catch (FhirError e) {
            return pages.refused(r, e, null);
        }
        return pages.page(r, 200, r.messages().get("clinical.document"), "document", view(r, id, v));
    }

    private ClinicalViews.Document view(ConsoleRequest r, String id, Loaded v) {
        Messages t = r.messages();
        JpDates.Lang lang = PageSupport.jl(r);
        JsonNode j = v.current().json();
        String status = j.path("status").asText("");
        var stored = v.current().stored();
        Instant date = FhirText.instant(j.path("date"));
        List<ClinicalViews.Version> history = new ArrayList<>(v.history().size());
        for (Res h : v.history()) {
            var s = h.stored();
            history.add(new ClinicalViews.Version(s.version(), pages.dates.dateTime(s.lastUpdated(), lang),
                    h.json() == null ? s.author() : FhirText.author(h.json()), s.author(), s.operation(),
                    h.json() == null ? null : h.json().path("status").asText(""), s.reason(), s.contentSha256()));
        }
        int from = 0;
        int to = 0;
        if (v.history().size() >= 2) {
            int newest = v.history().get(0).stored().version();
            from = v.left() != null ? v.left().stored().version() : newest - 1;
            to = v.right() != null ? v.right().stored().version() : newest;
        }
        ClinicalViews.Drawn diff = null;
        if (v.left() != null && v.right() != null && v.left().json() != null && v.right().json() != null) {
            diff = ClinicalViews.Drawn.diff(TextDiff.compare(FhirText.noteText(v.left().json(), r.lang()),
                    FhirText.noteText(v.right().json(), r.lang())),
                    t.get("clinical.diff.version", v.left().stored().version()),
                    t.get("clinical.diff.version", v.right().stored().version()));
        }
        boolean notAuthor = status.equals("preliminary")
                && !r.session().accountId().toString().equals(FhirText.authorAccount(j));
        return new ClinicalViews.Document(v.patient() == null ? null : pages.banner(r, v.patient(), null, null,
                FhirText.labels(v.patient().json())), v.patient() == null ? null : v.patient().stored().id(), id,
                j.path("title").asText(""), status, FhirText.author(j),
                date == null ? "" : pages.dates.dateTime(date, lang), stored.version(),
                pages.dates.dateTime(stored.lastUpdated(), lang), stored.contentSha256(),
                ClinicalViews.Soap.of(FhirText.soap(j)), notAuthor, history, from, to, diff, r.csrf(),
                signatures(r, id), pages.signingKey(r));
    }

    /** The signatures of the document's versions, in words (issue 17): who, when by the time-stamp, level, validity. */
    private List<ClinicalViews.SignatureLine> signatures(ConsoleRequest r, String id) {
        if (pages.signing == null) {
            return List.of();
        }
        Messages t = r.messages();
        JpDates.Lang lang = PageSupport.jl(r);
        List<ClinicalViews.SignatureLine> out = new ArrayList<>();
        for (jp.mamori.signatures.SignatureStore.Row s : pages.signing.signatures("Composition", id)) {
            String when = s.timestampAt() != null ? pages.dates.dateTime(s.timestampAt(), lang)
                    : t.get("clinical.sign.pending", pages.dates.dateTime(s.signedAt(), lang));
            String status = s.indication() == null ? t.get("clinical.sign.notValidated")
                    : switch (s.indication()) {
                        case "TOTAL_PASSED" -> t.get("clinical.sign.valid");
                        case "TOTAL_FAILED" -> t.get("clinical.sign.invalid") + (s.reason() == null ? ""
                                : "（" + s.reason() + "）");
                        default -> t.get("clinical.sign.indeterminate") + (s.reason() == null ? ""
                                : "（" + s.reason() + "）");
                    };
            boolean problem = s.timestampAt() == null || s.indication() != null
                    && !s.indication().equals("TOTAL_PASSED");
            out.add(new ClinicalViews.SignatureLine(s.version(), s.signerName() + (s.signerRole() == null ? ""
                    : "（" + s.signerRole() + "）"), when, s.level(), status, problem, s.indication() != null));
        }
        return out;
    }

    private static Res find(List<Res> history, int version) {
        for (Res h : history) {
            if (h.stored().version() == version) {
                return h;
            }
        }
        return null;
    }
}
