package jp.mamori.clinical;

import jp.mamori.access.ProxyEntries;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.identity.Accounts;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import static jp.mamori.clinical.ClinicalViews.MAX_TEXT;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * Back-entry (後入力) and proxy entry (代行入力), issue 18 §4 (templates {@code clinical/entry.jte},
 * {@code clinical/proxyQueue.jte}).
 * <ul>
 * <li><b>Back-entry</b> ({@code /console/patients/ID/back-entry}): after downtime, a note written on paper is entered
 * with its clinical time ({@code Composition.date}) and its real author ({@code Composition.author}, chosen by name:
 * the person themselves or someone they may enter for), marked with the {@link #BACK_ENTRY} extension (the downtime
 * period, the reason, who entered it and when) and, when the paper used a pre-assigned downtime patient number, that
 * number as the note's identifier ({@link #DOWNTIME_NUMBER}, searchable): the number is reconciled with the real
 * patient, whom the form asks for (DEGRADED-*: what was done during downtime comes back into the record with its true
 * time and author). The version's own time stays the entry time, and its author the person entering (STORE-9).</li>
 * <li><b>Proxy entry</b> ({@code /console/patients/ID/proxy-entry}): a clerk or nurse enters a note for a physician
 * they may enter for ({@link jp.mamori.access.AccessPolicy#mayEnterFor}); it is saved as a draft
 * ({@code preliminary}) with the {@link #PROXY_ENTRY} extension naming both people and waits in the physician's queue
 * ({@code /console/proxy}, the home page's count) until they approve it (承認, on the document page), which finalizes
 * it as theirs. Entries waiting longer than {@code --proxy-escalate-hours} are shown to administrators (a badge on
 * their home page), with names and times only.</li>
 * </ul>
 * Every step runs through {@link Clinical#run} (one audit entry each, refusals included); a refused form comes back
 * with everything typed.
 */
final class ProxyPages {
    /** The extension marking a note entered on behalf of someone, awaiting or after their approval. */
    static final String PROXY_ENTRY = "https://mamori.jp/fhir/StructureDefinition/proxy-entry";
    /** The extension marking a note entered after downtime from paper. */
    static final String BACK_ENTRY = "https://mamori.jp/fhir/StructureDefinition/back-entry";
    /** The identifier system of pre-assigned downtime patient numbers written on paper. */
    static final String DOWNTIME_NUMBER = "https://mamori.jp/fhir/downtime-patient-number";
    private static final String SAVE = "/console/entries/save";
    private static final Pattern NUMBER = Pattern.compile("[A-Za-z0-9\\-]{1,40}");
    private static final int MAX_REASON = 500;

    private final PageSupport pages;

    ProxyPages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths patients) {
        patients.add("/back-entry", (r, id) -> newEntry(r, id, true));
        patients.add("/proxy-entry", (r, id) -> newEntry(r, id, false));
        pages.console.route("POST", SAVE, USER, false, this::save);
        pages.console.route("GET", "/console/proxy", USER, false, this::queue);
        pages.console.route("POST", "/console/proxy/approve", USER, false, this::approve);
        pages.console.waiting(this::waiting);
    }

    private ProxyEntries proxies() {
        return pages.clinical.proxies();
    }

    /** For administrators: proxy entries waiting longer than the escalation time. */
    private List<Console.Waiting> waiting(ConsoleRequest r) {
        if (proxies() == null || !r.session().hasRole(Accounts.ADMIN_ROLE)) {
            return List.of();
        }
        return List.of(new Console.Waiting(r.messages().get("clinical.proxy.waiting",
                proxies().escalateAfter().toHours()), proxies().overdueCount(), "/console/proxy"));
    }

    // ---------------------------------------------------------------- the form

    private record Typed(boolean back, String patientId, String[] soap, String author, String clinical,
                         String downFrom, String downTo, String reason, String number) {
        static Typed of(ConsoleRequest r) {
            return new Typed(r.param("mode").equals("back"), r.param("patient"), NotePages.soapFrom(r),
                    r.param("author"), r.param("clinical").strip(), r.param("downFrom").strip(),
                    r.param("downTo").strip(), r.param("reason").strip(), r.param("number").strip());
        }
    }

    private String now(ConsoleRequest r) {
        return LocalDateTime.ofInstant(pages.clinical.clock().instant(), pages.dates.zone())
                .truncatedTo(ChronoUnit.MINUTES).toString();
    }

    private ProxyViews.EntryForm form(ConsoleRequest r, Typed t, List<ProxyEntries.Candidate> candidates) {
        List<ProxyViews.Option> authors = new ArrayList<>();
        String me = r.session().accountId().toString();
        if (t.back()) {
            authors.add(new ProxyViews.Option(me, r.session().displayName() + r.messages().get("clinical.entry.self"),
                    t.author().isEmpty() || t.author().equals(me)));
        }
        for (ProxyEntries.Candidate c : candidates) {
            authors.add(new ProxyViews.Option(c.accountId().toString(), c.name(),
                    c.accountId().toString().equals(t.author())));
        }
        return new ProxyViews.EntryForm(t.back(), t.patientId(), ClinicalViews.Soap.of(t.soap()), authors,
                t.clinical(), t.downFrom(), t.downTo(), t.reason(), t.number(), r.csrf(), pages.signingKey(r), t.back());
    }

    private Reply entryPage(ConsoleRequest r, int status, Typed t, Res patient, String error,
                            List<ProxyEntries.Candidate> candidates) {
        String title = r.messages().get(t.back() ? "clinical.entry.back" : "clinical.entry.proxy");
        return pages.page(r, status, title, "entry", new ProxyViews.Entry(patient == null ? null
                : pages.banner(r, patient, null, null, FhirText.labels(patient.json())), error, form(r, t, candidates)));
    }

    private Reply newEntry(ConsoleRequest r, String patientId, boolean back) {
        record Opened(Res patient, boolean writes, List<ProxyEntries.Candidate> candidates) {
        }
        Opened o;
        try {
            o = pages.clinical.run(r, "read", patientId, u -> {
                u.detail("view", back ? "back-entry" : "proxy-entry");
                Res p = u.read("Patient", patientId);
                boolean writes = u.mayWriteNote(patientId);
                return new Opened(p, writes, writes ? u.enterFor() : List.of());
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        Messages m = r.messages();
        String title = m.get(back ? "clinical.entry.back" : "clinical.entry.proxy");
        if (!o.writes()) {
            return pages.error(r, 403, title, m.get("clinical.note.mayNotWrite"), null);
        }
        if (!back && o.candidates().isEmpty()) {
            return pages.error(r, 403, title, m.get("clinical.entry.nobody"), null);
        }
        String blank = "";
        return entryPage(r, 200, new Typed(back, patientId, new String[]{blank, blank, blank, blank}, blank,
                back ? now(r) : blank, blank, blank, blank, blank), o.patient(), "", o.candidates());
    }

    /** A date and time as the form's {@code datetime-local} sends it, in the console's zone; null when not one. */
    private Instant instant(String s) {
        if (s.length() < 16 || s.length() > 19) {
            return null;
        }
        try {
            return LocalDateTime.parse(s).atZone(pages.dates.zone()).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** What is wrong with a back-entry's fields, as a message key, or null. */
    private String backProblem(Typed t, Instant clinical, Instant from, Instant to) {
        Instant now = pages.clinical.clock().instant();
        if (clinical == null || from == null || to == null) {
            return "clinical.entry.badTime";
        }
        if (from.isAfter(to) || to.isAfter(now.plus(1, ChronoUnit.MINUTES))) {
            return "clinical.entry.badPeriod";
        }
        if (clinical.isBefore(from) || clinical.isAfter(to)) {
            return "clinical.entry.outsidePeriod";
        }
        if (t.reason().isEmpty() || t.reason().length() > MAX_REASON) {
            return "clinical.entry.needsReason";
        }
        if (!t.number().isEmpty() && !NUMBER.matcher(t.number()).matches()) {
            return "clinical.entry.badNumber";
        }
        return null;
    }

    private static Reference account(UUID id, String name) {
        return new Reference().setDisplay(name).setIdentifier(new Identifier().setSystem(FhirText.ACCOUNT_SYSTEM)
                .setValue(id.toString()));
    }

    private Reply save(ConsoleRequest r) {
        Typed t = Typed.of(r);
        Messages m = r.messages();
        boolean finalize = r.param("op").equals("finalize");
        UUID me = r.session().accountId();
        UUID author;
        try {
            author = t.author().isEmpty() && t.back() ? me : UUID.fromString(t.author());
        } catch (IllegalArgumentException e) {
            author = null;
        }
        if (!PageSupport.ID.matcher(t.patientId()).matches()) {
            return pages.error(r, 400, m.get("clinical.error"), m.get("clinical.note.invalid"), null);
        }
        Instant clinical = t.back() ? instant(t.clinical()) : null;
        Instant from = t.back() ? instant(t.downFrom()) : null;
        Instant to = t.back() ? instant(t.downTo()) : null;
        String problem = author == null || !t.back() && author.equals(me) ? "clinical.entry.chooseAuthor"
                : String.join("", t.soap()).isBlank() ? "clinical.note.empty"
                : NotePages.tooLong(t.soap()) ? "clinical.note.tooLong"
                : t.back() ? backProblem(t, clinical, from, to) : null;
        if (problem != null) {
            List<ProxyEntries.Candidate> candidates = candidates(r, t.patientId());
            return entryPage(r, problem.equals("clinical.note.tooLong") ? 413 : 400, t, null,
                    m.get(problem, MAX_TEXT), candidates);
        }
        boolean self = author.equals(me);
        UUID responsible = author;
        Res saved;
        try {
            saved = pages.clinical.run(r, finalize && self ? "finalize" : "create", t.patientId(), u -> signed(r,
                    finalize && self, () -> {
                u.detail("view", t.back() ? "back-entry" : "proxy-entry");
                if (!self) {
                    u.detail("responsible", "account:" + responsible);
                    if (!u.mayEnterFor(responsible)) {
                        throw FhirError.forbidden("この人の代行入力はできません / You may not enter notes for this person");
                    }
                }
                String authorName = self ? r.session().displayName()
                        : proxies().names(List.of(responsible)).getOrDefault(responsible, "?");
                Composition c = NotePages.newComposition(r, t.patientId());
                c.getAuthor().clear();
                c.addAuthor(account(responsible, authorName));
                Instant entered = pages.clinical.clock().instant().truncatedTo(ChronoUnit.SECONDS);
                c.setDate(Date.from(t.back() ? clinical : entered));
                c.setStatus(finalize && self ? Composition.CompositionStatus.FINAL
                        : Composition.CompositionStatus.PRELIMINARY);
                Reference enterer = account(me, r.session().displayName());
                if (t.back()) {
                    Extension b = c.addExtension().setUrl(BACK_ENTRY);
                    b.addExtension("downtime", new Period().setStart(Date.from(from)).setEnd(Date.from(to)));
                    b.addExtension("reason", new StringType(t.reason()));
                    b.addExtension("enterer", enterer.copy());
                    b.addExtension("entered", new DateTimeType(Date.from(entered)));
                    if (!t.number().isEmpty()) {
                        c.setIdentifier(new Identifier().setSystem(DOWNTIME_NUMBER).setValue(t.number()));
                        u.detail("downtime-number", t.number());
                    }
                }
                if (!self) {
                    Extension p = c.addExtension().setUrl(PROXY_ENTRY);
                    p.addExtension("enterer", enterer.copy());
                    p.addExtension("responsible", account(responsible, authorName));
                    p.addExtension("status", new CodeType("pending"));
                }
                NotePages.setSoap(c, t.soap());
                u.action(finalize && self ? "finalize" : "create");
                if (!self) {
                    // the queue row commits with the note (one transaction), or neither is there
                    u.alongside((conn, written) -> proxies().record(conn, written.get(0).stored().id(), t.patientId(),
                            me, responsible));
                }
                return u.create(c);
            }));
        } catch (FhirError e) {
            int status = e.status() == 404 || e.status() == 410 ? 403 : e.status();
            String msg = status == 403 ? m.get(e.getMessage() != null && e.getMessage().contains("代行入力はできません")
                    ? "clinical.entry.notFor" : "clinical.note.refused") : status == 422 ? e.getMessage()
                    : m.get("clinical.note.invalid");
            if (status == 503) { // the database lost or read-only for a moment (issue 18 §1): the form and its text
                return jp.mamori.web.ErrorMapper.retryLater(entryPage(r, 503, t, null, m.get("clinical.unavailable"),
                        candidates(r, t.patientId())));
            }
            if (status != 403 && status != 422 && status != 400) {
                throw e;
            }
            return entryPage(r, status, t, null, msg, candidates(r, t.patientId()));
        }
        return Console.redirect("/console/documents/" + saved.stored().id());
    }

    /** The people the person may enter for, for a form shown again (an empty list when that cannot be read). */
    private List<ProxyEntries.Candidate> candidates(ConsoleRequest r, String patientId) {
        try {
            return pages.clinical.run(r, "read", null, Clinical.Unit::enterFor);
        } catch (FhirError e) {
            return List.of();
        }
    }

    private <T> T signed(ConsoleRequest r, boolean locks, java.util.function.Supplier<T> work) {
        if (!locks || pages.signing == null) {
            return work.get();
        }
        return pages.signing.signingAs(r.session().accountId(), r.param("pin"), work);
    }

    // ---------------------------------------------------------------- approval and the queue

    /**
     * Approves (承認) a proxy entry: only its responsible person, on the version they read (a newer one is shown
     * first); the note becomes final as theirs, its mark says approved, and the queue closes the entry.
     */
    private Reply approve(ConsoleRequest r) {
        String id = r.param("id");
        Integer base = PageSupport.version(r.param("base"));
        Messages m = r.messages();
        if (!PageSupport.ID.matcher(id).matches() || base == null || proxies() == null) {
            return pages.error(r, 400, m.get("clinical.error"), m.get("clinical.note.invalid"), null);
        }
        UUID me = r.session().accountId();
        try {
            pages.clinical.run(r, "finalize", null, u -> signed(r, true, () -> {
                u.detail("view", "proxy-approve");
                Res current = u.read("Composition", id);
                if (!proxies().pendingResponsible(id).map(me::equals).orElse(false)) {
                    throw FhirError.forbidden("承認できるのは責任者本人のみです / Only the responsible person can approve");
                }
                if (current.stored().version() != base) {
                    throw FhirError.conflict("承認前に更新されています / Changed since you opened it");
                }
                Composition c = (Composition) FhirSupport.parseStored(current.stored().bodyText());
                if (c.getStatus() != Composition.CompositionStatus.PRELIMINARY) {
                    throw FhirError.conflict("既に確定されています / Already final");
                }
                c.setStatus(Composition.CompositionStatus.FINAL);
                Extension p = c.getExtensionByUrl(PROXY_ENTRY);
                if (p != null) {
                    p.removeExtension("status");
                    p.addExtension("status", new CodeType("approved"));
                    p.addExtension("approved", new DateTimeType(Date.from(pages.clinical.clock().instant()
                            .truncatedTo(ChronoUnit.SECONDS))));
                }
                return u.update("Composition", id, c, base, null);
            }));
        } catch (FhirError e) {
            if (e.status() == 403 || e.status() == 404) {
                return pages.error(r, 403, m.get("clinical.document"), m.get("clinical.proxy.notYours"), id);
            }
            if (e.status() == 409 || e.status() == 412) {
                return pages.error(r, 409, m.get("clinical.document"), m.get("clinical.proxy.changed"), id);
            }
            if (e.status() == 422) {
                return pages.error(r, 422, m.get("clinical.document"), e.getMessage(), id);
            }
            throw e;
        }
        proxies().close(id, true, me);
        return Console.redirect("/console/documents/" + id);
    }

    /**
     * Closes the queue's entry of a note finalized or corrected another way: approved when its responsible person
     * did it, withdrawn otherwise. Nothing when the note is no pending proxy entry.
     */
    static void closed(PageSupport pages, ConsoleRequest r, String id) {
        ProxyEntries proxies = pages.clinical.proxies();
        if (proxies == null) {
            return;
        }
        UUID me = r.session().accountId();
        Optional<UUID> responsible = proxies.pendingResponsible(id);
        responsible.ifPresent(x -> proxies.close(id, x.equals(me), me));
    }

    private Reply queue(ConsoleRequest r) {
        Messages t = r.messages();
        if (proxies() == null) {
            return pages.notFound(r);
        }
        UUID me = r.session().accountId();
        boolean admin = r.session().hasRole(Accounts.ADMIN_ROLE);
        List<ProxyEntries.Entry> forMe = proxies().waitingFor(me, Worklist.ROWS);
        List<ProxyEntries.Entry> mine = proxies().enteredBy(me, Worklist.ROWS);
        List<ProxyEntries.Entry> overdue = admin ? proxies().overdue(Worklist.ROWS) : List.of();
        JpDates.Lang lang = PageSupport.jl(r);
        List<ProxyViews.Row> a = new ArrayList<>();
        List<ProxyViews.Row> b = new ArrayList<>();
        if (!forMe.isEmpty() || !mine.isEmpty()) {
            // the patients are read as the person (audited); one they may no longer see is listed without a name
            pages.clinical.run(r, "search", null, u -> {
                u.detail("view", "proxy-queue");
                for (ProxyEntries.Entry e : forMe) {
                    a.add(row(r, u, e, lang));
                }
                for (ProxyEntries.Entry e : mine) {
                    b.add(row(r, u, e, lang));
                }
                return null;
            });
        }
        List<ProxyViews.Row> c = new ArrayList<>();
        for (ProxyEntries.Entry e : overdue) {
            c.add(new ProxyViews.Row("", "", e.enteredByName(), e.responsibleName(),
                    pages.dates.dateTime(e.enteredAt(), lang), true));
        }
        return pages.page(r, 200, t.get("clinical.proxy.title"), "proxyQueue", new ProxyViews.Queue(a, b, c, admin,
                proxies().escalateAfter().toHours()));
    }

    private ProxyViews.Row row(ConsoleRequest r, Clinical.Unit u, ProxyEntries.Entry e, JpDates.Lang lang) {
        String patient = "";
        try {
            Res p = u.read("Patient", e.patientId());
            patient = FhirText.name(p.json()) + "（" + FhirText.identifier(p.json()) + "）";
        } catch (FhirError x) {
            patient = r.messages().get("clinical.proxy.hidden");
        }
        return new ProxyViews.Row(e.compositionId(), patient, e.enteredByName(), e.responsibleName(),
                pages.dates.dateTime(e.enteredAt(), lang), proxies().overdue(e));
    }
}
