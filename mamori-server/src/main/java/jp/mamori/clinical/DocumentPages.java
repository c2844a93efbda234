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

    private record Loaded(Res patient, Res current, List<Res> history, Res left, Res right,
                          ClinicalViews.Offers offers, boolean approve) {
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
                ClinicalViews.Offers offers = offers(r, u, current);
                // approval is offered to the responsible person of a pending proxy entry who may finalize it
                boolean approve = pages.clinical.proxies() != null && !offers.withheld()
                        && current.json().path("status").asText("").equals("preliminary")
                        && pages.clinical.proxies().pendingResponsible(id).map(r.session().accountId()::equals)
                        .orElse(false) && u.may(current, jp.mamori.access.Action.FINALIZE);
                return new Loaded(patient, current, history, left, right, offers, approve);
            });
        } catch (FhirError e) {
            return pages.refused(r, e, null);
        }
        return pages.page(r, 200, r.messages().get("clinical.document"), "document", view(r, id, v));
    }

    /**
     * What the page offers, each asked of the access model for this person and this version (issue 22): a draft is
     * edited by those who may update it and finalized by its author; a final note is amended or marked entered-in-error
     * by those who may; printing is its own permission. Someone else's draft offers nothing: its content is theirs.
     */
    private static ClinicalViews.Offers offers(ConsoleRequest r, Clinical.Unit u, Res doc) {
        JsonNode j = doc.json();
        String status = j.path("status").asText("");
        boolean withheld = FhirText.withheld(j);
        if (withheld) {
            return new ClinicalViews.Offers(false, false, false, false, false, true);
        }
        boolean draft = status.equals("preliminary");
        boolean eie = status.equals("entered-in-error");
        boolean author = r.session().accountId().toString().equals(FhirText.authorAccount(j));
        return new ClinicalViews.Offers(draft && u.may(doc, jp.mamori.access.Action.UPDATE),
                draft && author && u.may(doc, jp.mamori.access.Action.FINALIZE),
                !draft && !eie && u.may(doc, jp.mamori.access.Action.AMEND),
                !eie && u.may(doc, jp.mamori.access.Action.ENTER_IN_ERROR),
                u.may(doc, jp.mamori.access.Action.PRINT), false);
    }

    /**
     * What a version did, in words: 作成 (作成・確定 when created final), 更新, 確定 (the update that locked a draft),
     * 修正, 記載誤り, 削除. {@code older} is the version before it, or null.
     */
    static String operation(Messages t, Res version, Res older) {
        var s = version.stored();
        String op = s.operation();
        boolean locked = jp.mamori.records.Lifecycle.isLocked(s.lifecycle());
        if (op.equals("create") && locked) {
            op = "create-final";
        } else if (op.equals("update") && locked && (older == null
                || !jp.mamori.records.Lifecycle.isLocked(older.stored().lifecycle()))) {
            op = "finalize";
        }
        return t.code("clinical.operation", op);
    }

    /**
     * Who stored a version, by name: the note's author (or co-author) the console recorded for that account, the
     * person reading, or the kind of system; never the internal account id.
     */
    String storedBy(ConsoleRequest r, Res version) {
        String principal = version.stored().author();
        Messages t = r.messages();
        if (principal == null) {
            return "";
        }
        if (principal.startsWith("account:")) {
            String id = principal.substring("account:".length());
            String name = version.json() == null ? null : FhirText.authorName(version.json(), id);
            if (name != null) {
                return name;
            }
            if (id.equals(r.session().accountId().toString())) {
                return r.session().displayName();
            }
            String known = pages.accountName(id);
            return known != null ? known : t.get("clinical.history.staff");
        }
        if (principal.startsWith("client:")) {
            return t.get("clinical.history.client");
        }
        return t.get("clinical.history.system");
    }

    private ClinicalViews.Document view(ConsoleRequest r, String id, Loaded v) {
        Messages t = r.messages();
        JpDates.Lang lang = PageSupport.jl(r);
        JsonNode j = v.current().json();
        String status = j.path("status").asText("");
        var stored = v.current().stored();
        Instant date = FhirText.instant(j.path("date"));
        List<ClinicalViews.Version> history = new ArrayList<>(v.history().size());
        for (int i = 0; i < v.history().size(); i++) {
            Res h = v.history().get(i);
            Res older = i + 1 < v.history().size() ? v.history().get(i + 1) : null;
            var s = h.stored();
            String when = pages.dates.dateTime(s.lastUpdated(), lang);
            if (h.json() != null && backEntered(h.json())) { // a back-entry: its clinical time beside the entry time
                when = t.get("clinical.history.backEntered", when, when(h.json().path("date"), lang));
            }
            history.add(new ClinicalViews.Version(s.version(), when,
                    h.json() == null ? storedBy(r, h) : FhirText.author(h.json()), storedBy(r, h), operation(t, h, older),
                    h.json() == null ? null : h.json().path("status").asText(""), s.reason(), s.contentSha256(),
                    h.json() != null && FhirText.withheld(h.json())));
        }
        int from = 0;
        int to = 0;
        if (v.history().size() >= 2) {
            int newest = v.history().get(0).stored().version();
            from = v.left() != null ? v.left().stored().version() : newest - 1;
            to = v.right() != null ? v.right().stored().version() : newest;
        }
        ClinicalViews.Drawn diff = null;
        if (v.left() != null && v.right() != null && v.left().json() != null && v.right().json() != null
                && !FhirText.withheld(v.left().json()) && !FhirText.withheld(v.right().json())) {
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
                signatures(r, id), pages.signingKey(r), v.offers(), marks(r, j), v.approve());
    }

    /**
     * What the note says about how it was entered (issue 18 §4), in words: a back-entry's clinical time, entry time,
     * who entered it, the downtime period and reason and the paper's downtime number; a proxy entry's entering and
     * responsible person and whether it was approved. Times are shown in the console's zone.
     */
    private List<String> marks(ConsoleRequest r, JsonNode j) {
        Messages t = r.messages();
        JpDates.Lang lang = PageSupport.jl(r);
        List<String> out = new ArrayList<>();
        for (JsonNode e : j.path("extension")) {
            String url = e.path("url").asText("");
            if (url.equals(ProxyPages.BACK_ENTRY)) {
                JsonNode period = sub(e, "downtime").path("valuePeriod");
                out.add(t.get("clinical.mark.back", when(j.path("date"), lang),
                        when(sub(e, "entered").path("valueDateTime"), lang),
                        sub(e, "enterer").path("valueReference").path("display").asText(""),
                        when(period.path("start"), lang), when(period.path("end"), lang),
                        sub(e, "reason").path("valueString").asText("")));
                if (ProxyPages.DOWNTIME_NUMBER.equals(j.path("identifier").path("system").asText(""))) {
                    out.add(t.get("clinical.mark.number", j.path("identifier").path("value").asText("")));
                }
            } else if (url.equals(ProxyPages.PROXY_ENTRY)) {
                String state = sub(e, "status").path("valueCode").asText("");
                out.add(t.get("clinical.mark.proxy", sub(e, "enterer").path("valueReference").path("display").asText(""),
                        sub(e, "responsible").path("valueReference").path("display").asText(""))
                        + (state.equals("approved") ? t.get("clinical.mark.approved",
                        when(sub(e, "approved").path("valueDateTime"), lang))
                        : j.path("status").asText("").equals("preliminary") ? t.get("clinical.mark.pending") : ""));
            }
        }
        return out;
    }

    private static boolean backEntered(JsonNode j) {
        for (JsonNode e : j.path("extension")) {
            if (ProxyPages.BACK_ENTRY.equals(e.path("url").asText(""))) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode sub(JsonNode ext, String url) {
        for (JsonNode x : ext.path("extension")) {
            if (url.equals(x.path("url").asText(""))) {
                return x;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private String when(JsonNode v, JpDates.Lang lang) {
        Instant i = FhirText.instant(v);
        return i == null ? "" : pages.dates.dateTime(i, lang);
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
