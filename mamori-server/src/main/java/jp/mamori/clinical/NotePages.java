package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.TextDiff;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.clinical.Clinical.Unit;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Reference;

import static jp.mamori.clinical.ClinicalViews.MAX_TEXT;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * Writing SOAP progress notes (templates {@code clinical/editor.jte}, {@code clinical/conflict.jte}): a new note,
 * a draft saved or finalized (確定保存, by its author only), an amendment of a final note with a reason, and
 * entered-in-error with a reason. A write based on a version someone else has replaced meanwhile shows both texts
 * and keeps what was typed.
 */
final class NotePages {
    private static final String SAVE = "/console/notes/save";
    private static final String AMEND = "/console/notes/amend";

    private final PageSupport pages;

    NotePages(PageSupport pages) {
        this.pages = pages;
    }

    void register(IdPaths patients, IdPaths documents) {
        patients.add("/notes/new", this::newNote);
        documents.add("/edit", this::edit);
        pages.console.route("POST", SAVE, USER, false, this::save);
        pages.console.route("POST", AMEND, USER, false, this::amend);
        pages.console.route("POST", "/console/notes/error", USER, false, this::enteredInError);
    }

    private ClinicalViews.NoteForm form(ConsoleRequest r, String action, String patientId, String id, int base,
                                        String[] soap, boolean amend, String reason) {
        return new ClinicalViews.NoteForm(action, patientId, id, base, ClinicalViews.Soap.of(soap), amend, reason,
                r.csrf(), pages.signingKey(r));
    }

    /**
     * Runs a write that locks the note (確定保存, amendment, entered-in-error) with the person's key opened by the PIN
     * they typed, so that the version is signed in its own transaction (issue 17); without a key, as it is.
     */
    private <T> T signed(ConsoleRequest r, boolean locks, java.util.function.Supplier<T> work) {
        if (!locks || pages.signing == null) {
            return work.get();
        }
        return pages.signing.signingAs(r.session().accountId(), r.param("pin"), work);
    }

    private Reply editor(ConsoleRequest r, int status, String title, Res patient, String error,
                         ClinicalViews.NoteForm form) {
        return pages.page(r, status, title, "editor", new ClinicalViews.Editor(patient == null ? null
                : pages.banner(r, patient, null, null, FhirText.labels(patient.json())), error, form));
    }

    private Reply newNote(ConsoleRequest r, String patientId) {
        record Opened(Res patient, boolean writes) {
        }
        Opened o;
        try {
            o = pages.clinical.run(r, "read", patientId, u -> {
                u.detail("view", "new-note");
                Res p = u.read("Patient", patientId);
                return new Opened(p, u.mayWriteNote(patientId));
            });
        } catch (FhirError e) {
            return pages.refused(r, e, patientId);
        }
        if (!o.writes()) {
            return pages.error(r, 403, r.messages().get("clinical.note.new"), r.messages().get("clinical.note.mayNotWrite"),
                    null);
        }
        Res patient = o.patient();
        return editor(r, 200, r.messages().get("clinical.note.new"), patient, "",
                form(r, SAVE, patientId, "", 0, new String[]{"", "", "", ""}, false, ""));
    }

    private Reply edit(ConsoleRequest r, String id) {
        record Editing(Res patient, Res doc) {
        }
        Editing e;
        try {
            e = pages.clinical.run(r, "read", null, u -> {
                u.detail("view", "edit-note");
                Res doc = u.read("Composition", id);
                String st = doc.json().path("status").asText("");
                // the form is offered only to those the access model lets change the note (issue 22)
                if (FhirText.withheld(doc.json()) || !st.equals("entered-in-error") && !u.may(doc,
                        st.equals("preliminary") ? jp.mamori.access.Action.UPDATE : jp.mamori.access.Action.AMEND)) {
                    return new Editing(null, doc);
                }
                return new Editing(PageSupport.patientOf(u, doc), doc);
            });
        } catch (FhirError x) {
            return pages.refused(r, x, null);
        }
        Messages t = r.messages();
        JsonNode j = e.doc().json();
        String status = j.path("status").asText("");
        boolean amend = !status.equals("preliminary");
        if (status.equals("entered-in-error")) {
            return pages.error(r, 409, t.get("clinical.document"), t.get("clinical.note.errorNotEditable"), id);
        }
        if (e.patient() == null && j.path("subject").path("reference").asText("").startsWith("Patient/")) {
            return pages.error(r, 403, t.get("clinical.document"), t.get(FhirText.withheld(j)
                    ? "clinical.note.notYourDraft" : "clinical.note.mayNotChange"), id);
        }
        String pid = e.patient() == null ? "" : e.patient().stored().id();
        return editor(r, 200, amend ? t.get("clinical.note.amend") : t.get("clinical.note.edit"), e.patient(), "",
                form(r, amend ? AMEND : SAVE, pid, id, e.doc().stored().version(), FhirText.soap(j), amend, ""));
    }

    /** The four texts as typed (line breaks as {@code \n}). */
    static String[] soapFrom(ConsoleRequest r) {
        String[] out = {r.param("s"), r.param("o"), r.param("a"), r.param("p")};
        for (int i = 0; i < 4; i++) {
            out[i] = out[i].replace("\r\n", "\n");
        }
        return out;
    }

    /** Whether a part is longer than a note form takes: refused with the text kept, never cut. */
    static boolean tooLong(String[] soap) {
        for (String x : soap) {
            if (x.length() > MAX_TEXT) {
                return true;
            }
        }
        return false;
    }

    /**
     * A refused write (no permission, someone else's draft): the form again with everything typed and why, in plain
     * words; nothing was written (issue 22: forms never lose text). The refusal itself is in the audit trail.
     */
    private Reply refusedWrite(ConsoleRequest r, FhirError e, String title, ClinicalViews.NoteForm form) {
        String msg = e.getMessage() != null && e.getMessage().contains("下書きは確定されるまで")
                ? r.messages().get("clinical.note.notYourDraft") : r.messages().get("clinical.note.refused");
        return editor(r, 403, title, null, msg, form);
    }

    private static Narrative narrative(String text) {
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.GENERATED);
        n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + jp.mamori.chart.Html.escape(text)
                .replace("\n", "<br/>") + "</div>");
        return n;
    }

    /** A new progress note for the patient, written by this person. */
    static Composition newComposition(ConsoleRequest r, String patientId) {
        Composition c = new Composition();
        c.setType(new CodeableConcept().addCoding(new Coding(FhirText.LOINC, FhirText.PROGRESS_NOTE, "Progress note"))
                .setText("経過記録"));
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

    /**
     * The person changing a note they did not write becomes one of its authors (after the original), so that the
     * history names who amended or corrected it, by name.
     */
    private static void coAuthor(ConsoleRequest r, Composition c) {
        String me = r.session().accountId().toString();
        for (Reference a : c.getAuthor()) {
            if (a.hasIdentifier() && FhirText.ACCOUNT_SYSTEM.equals(a.getIdentifier().getSystem())
                    && me.equals(a.getIdentifier().getValue())) {
                return;
            }
        }
        c.addAuthor().setDisplay(r.session().displayName())
                .setIdentifier(new Identifier().setSystem(FhirText.ACCOUNT_SYSTEM).setValue(me));
    }

    static void setSoap(Composition c, String[] soap) {
        for (int i = 0; i < 4; i++) {
            Composition.SectionComponent target = null;
            for (Composition.SectionComponent s : c.getSection()) {
                for (Coding cd : s.getCode().getCoding()) {
                    if (FhirText.SOAP[i][0].equals(cd.getCode())) {
                        target = s;
                    }
                }
            }
            if (soap[i].isBlank()) {
                // an empty part has no section: FHIR's narrative may not be empty (a blank O used to be refused)
                if (target != null) {
                    c.getSection().remove(target);
                }
                continue;
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
    private record Written(Res saved, Res theirs) {
    }

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

    private Reply save(ConsoleRequest r) {
        String[] soap = soapFrom(r);
        String id = r.param("id");
        String patientId = r.param("patient");
        boolean finalize = r.param("op").equals("finalize");
        Integer base = PageSupport.version(r.param("base"));
        if (id.isEmpty() && !PageSupport.ID.matcher(patientId).matches()
                || !id.isEmpty() && (!PageSupport.ID.matcher(id).matches() || base == null)) {
            return invalidForm(r);
        }
        if (String.join("", soap).isBlank()) {
            return editor(r, 400, r.messages().get("clinical.note.title"), null, r.messages().get("clinical.note.empty"),
                    form(r, SAVE, patientId, id, base == null ? 0 : base, soap, false, ""));
        }
        if (tooLong(soap)) {
            return editor(r, 413, r.messages().get("clinical.note.title"), null,
                    r.messages().get("clinical.note.tooLong", MAX_TEXT),
                    form(r, SAVE, patientId, id, base == null ? 0 : base, soap, false, ""));
        }
        Clinical clinical = pages.clinical;
        Written w;
        try {
            w = clinical.run(r, id.isEmpty() ? "create" : "update", id.isEmpty() ? patientId : null, u -> signed(r,
                    finalize, () -> {
                if (id.isEmpty()) {
                    Composition c = newComposition(r, patientId);
                    c.setStatus(finalize ? Composition.CompositionStatus.FINAL : Composition.CompositionStatus.PRELIMINARY);
                    // to the second, as the stored JSON has it: the search index then equals that of the stored body
                    c.setDate(java.util.Date.from(clinical.clock().instant().truncatedTo(
                            java.time.temporal.ChronoUnit.SECONDS)));
                    setSoap(c, soap);
                    u.action(finalize ? "finalize" : "create");
                    return new Written(u.create(c), null);
                }
                Res current = u.read("Composition", id);
                if (FhirText.withheld(current.json())) {
                    throw FhirError.forbidden("下書きは確定されるまで記載者本人のものです / A draft is its author's until it is"
                            + " finalized");
                }
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
            }));
        } catch (FhirError e) {
            if (e.status() == 403) {
                return refusedWrite(r, e, r.messages().get("clinical.note.title"),
                        form(r, SAVE, patientId, id, base == null ? 0 : base, soap, false, ""));
            }
            if (e.status() == 404) {
                return pages.refused(r, e, id.isEmpty() ? patientId : null);
            }
            if (e.status() == 409) { // final meanwhile, by another way: the text stays, as an amendment
                return editor(r, 409, r.messages().get("clinical.note.amend"), null,
                        r.messages().get("clinical.conflict.nowFinal"),
                        form(r, AMEND, patientId, id, base == null ? 0 : base, soap, true, ""));
            }
            if (e.status() == 422) { // the signature could not be made (PIN, key, certificate): nothing was written
                return editor(r, 422, r.messages().get("clinical.note.title"), null, e.getMessage(),
                        form(r, SAVE, patientId, id, base == null ? 0 : base, soap, false, ""));
            }
            if (e.status() == 503) { // the database lost or read-only for a moment (issue 18 §1): the text stays
                return jp.mamori.web.ErrorMapper.retryLater(editor(r, 503, r.messages().get("clinical.note.title"),
                        null, r.messages().get("clinical.unavailable"),
                        form(r, SAVE, patientId, id, base == null ? 0 : base, soap, false, "")));
            }
            throw e;
        }
        if (w.theirs() != null) {
            return conflict(r, w.theirs(), soap, SAVE, patientId, false, "");
        }
        if (finalize && !id.isEmpty()) {
            ProxyPages.closed(pages, r, id); // a proxy entry finalized in the editor is approved (or withdrawn)
        }
        return Console.redirect("/console/documents/" + w.saved().stored().id());
    }

    /** A note form that was tampered with or is stale beyond repair (ids, base version): 400, nothing written. */
    private Reply invalidForm(ConsoleRequest r) {
        return pages.error(r, 400, r.messages().get("clinical.error"), r.messages().get("clinical.note.invalid"), null);
    }

    /** An amendment or a correction states why, in at most 500 characters. */
    private static boolean validReason(String reason) {
        return !reason.isEmpty() && reason.length() <= 500;
    }

    private Reply amend(ConsoleRequest r) {
        String[] soap = soapFrom(r);
        String id = r.param("id");
        String reason = r.param("reason").strip();
        Integer base = PageSupport.version(r.param("base"));
        if (!PageSupport.ID.matcher(id).matches() || base == null) {
            return invalidForm(r);
        }
        if (!validReason(reason)) {
            return editor(r, 400, r.messages().get("clinical.note.amend"), null,
                    r.messages().get("clinical.note.needsReason"),
                    form(r, AMEND, r.param("patient"), id, base, soap, true, reason));
        }
        if (tooLong(soap)) {
            return editor(r, 413, r.messages().get("clinical.note.amend"), null,
                    r.messages().get("clinical.note.tooLong", MAX_TEXT),
                    form(r, AMEND, r.param("patient"), id, base, soap, true, reason));
        }
        return changeFinal(r, id, base, reason, soap, Composition.CompositionStatus.AMENDED, "amend");
    }

    private Reply enteredInError(ConsoleRequest r) {
        String id = r.param("id");
        String reason = r.param("reason").strip();
        Integer base = PageSupport.version(r.param("base"));
        if (!PageSupport.ID.matcher(id).matches() || base == null) {
            return invalidForm(r);
        }
        if (!validReason(reason)) {
            return pages.page(r, 400, r.messages().get("clinical.document"), "message", new ClinicalViews.Message(
                    r.messages().get("clinical.note.errorNeedsReason"), id, reason));
        }
        return changeFinal(r, id, base, reason, null, Composition.CompositionStatus.ENTEREDINERROR, "entered-in-error");
    }

    private Reply changeFinal(ConsoleRequest r, String id, int base, String reason, String[] soap,
                              Composition.CompositionStatus to, String action) {
        Written w;
        try {
            w = pages.clinical.run(r, action, null, u -> signed(r, true, () -> {
                Res current = u.read("Composition", id);
                if (current.stored().version() != base) {
                    u.action("conflict");
                    return new Written(null, current);
                }
                if (FhirText.withheld(current.json())) {
                    throw FhirError.forbidden("下書きは確定されるまで記載者本人のものです / A draft is its author's until it is"
                            + " finalized");
                }
                Composition c = (Composition) FhirSupport.parseStored(current.stored().bodyText());
                c.setStatus(to);
                if (soap != null) {
                    setSoap(c, soap);
                }
                coAuthor(r, c);
                u.detail("reason", reason);
                return saveOrConflict(u, id, c, base, reason);
            }));
        } catch (FhirError e) {
            if (e.status() == 403 && soap != null) {
                return refusedWrite(r, e, r.messages().get("clinical.note.amend"),
                        form(r, AMEND, r.param("patient"), id, base, soap, true, reason));
            }
            if (e.status() == 403) {
                return pages.page(r, 403, r.messages().get("clinical.document"), "message", new ClinicalViews.Message(
                        r.messages().get("clinical.note.refusedChange"), id, reason));
            }
            if (e.status() == 404) {
                return pages.refused(r, e, null);
            }
            if (e.status() == 422 && soap != null) { // an amendment not signed: the form again, nothing lost
                return editor(r, 422, r.messages().get("clinical.note.amend"), null, e.getMessage(),
                        form(r, AMEND, r.param("patient"), id, base, soap, true, reason));
            }
            if (e.status() == 503 && soap != null) { // the database lost for a moment: the amendment stays
                return jp.mamori.web.ErrorMapper.retryLater(editor(r, 503, r.messages().get("clinical.note.amend"),
                        null, r.messages().get("clinical.unavailable"),
                        form(r, AMEND, r.param("patient"), id, base, soap, true, reason)));
            }
            if (e.status() == 422 || e.status() == 409) {
                return pages.error(r, 409, r.messages().get("clinical.document"), e.getMessage(), id);
            }
            throw e;
        }
        if (w.theirs() != null) {
            String[] mine = soap != null ? soap : FhirText.soap(w.theirs().json());
            String pid = w.theirs().json().path("subject").path("reference").asText("").replaceFirst("^Patient/", "");
            return conflict(r, w.theirs(), mine, AMEND, pid, true, reason);
        }
        ProxyPages.closed(pages, r, id); // a proxy entry marked entered-in-error no longer waits
        return Console.redirect("/console/documents/" + w.saved().stored().id());
    }

    /**
     * Someone else saved the note since this person opened it: their version and this person's text side by
     * side, and the form again with this person's text on the newer version, so nothing typed is lost.
     */
    private Reply conflict(ConsoleRequest r, Res theirs, String[] mine, String action, String patientId,
                           boolean amend, String reason) {
        Messages t = r.messages();
        JsonNode j = theirs.json();
        String status = j.path("status").asText("");
        boolean nowFinal = !status.equals("preliminary");
        boolean enteredInError = status.equals("entered-in-error");
        String mineText = FhirText.noteText(mine, r.lang());
        int version = theirs.stored().version();
        ClinicalViews.Drawn diff = ClinicalViews.Drawn.diff(TextDiff.compare(FhirText.noteText(j, r.lang()), mineText),
                t.get("clinical.conflict.stored", version), t.get("clinical.conflict.yours"));
        boolean mustAmend = nowFinal && !amend && !enteredInError;
        ClinicalViews.NoteForm form = enteredInError ? null : mustAmend
                ? form(r, AMEND, patientId, theirs.stored().id(), version, mine, true, reason)
                : form(r, action, patientId, theirs.stored().id(), version, mine, amend, reason);
        return pages.page(r, 409, t.get("clinical.conflict.title"), "conflict", new ClinicalViews.Conflict(
                t.get("clinical.conflict.message", version, FhirText.author(j)), diff, mustAmend, form,
                enteredInError ? mineText : null));
    }
}
