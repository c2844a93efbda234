package jp.mamori.documents.web;

import jp.mamori.access.Caller;
import jp.mamori.access.PersonContexts;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.ResourceRef;
import jp.mamori.documents.ClinicalDocuments;
import jp.mamori.documents.ClinicalDocuments.Include;
import jp.mamori.documents.DocumentKind;
import jp.mamori.documents.DocumentKind.Section;
import jp.mamori.identity.Sessions;
import jp.mamori.kernel.FhirError;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Patient;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * The console's JP-CLINS document pages (issue 23): from a patient's chart, a clinician who may write on the patient
 * writes a 診療情報提供書 or 退院時サマリー (recipient, purpose, the free-text sections, what of the chart to include),
 * previews it as it will be sent, finalizes it (stored through the record service as the person, signed with their key
 * when they have one) and downloads the FHIR Document Bundle. Everything is read and written as the person: the access
 * model decides; the composing and every download are in the trail with the patient.
 */
public final class ClinsPages {
    static final String NEW = "/console/clins/new";
    static final String PREVIEW = "/console/clins/preview";
    static final String FINALIZE = "/console/clins/finalize";
    static final String DOCUMENT = "/console/clins/document";
    static final String DOWNLOAD = "/console/clins/download";
    private static final String ID = "[A-Za-z0-9\\-.]{1,64}";

    private final ClinicalDocuments docs;
    private final Console console;
    private final RecordService records;
    private final PersonContexts contexts;
    private final AuditRecorder recorder;
    private final String institution;
    private final java.time.ZoneId zone;
    private jp.mamori.signatures.PersonSigning signing;

    public ClinsPages(ClinicalDocuments docs, Console console, RecordService records, PersonContexts contexts,
                      AuditRecorder recorder, String institution, java.time.ZoneId zone) {
        this.zone = zone;
        this.docs = docs;
        this.console = console;
        this.records = records;
        this.contexts = contexts;
        this.recorder = recorder;
        this.institution = institution;
    }

    /** Signing with the person's key at finalization (issue 17); none: documents are stored unsigned. */
    public ClinsPages signing(jp.mamori.signatures.PersonSigning signing) {
        this.signing = signing;
        return this;
    }

    public void register() {
        console.route("GET", NEW, USER, false, r -> form(r, 200, null));
        console.route("POST", NEW, USER, false, r -> form(r, 200, null)); // back from the preview to edit
        console.route("POST", PREVIEW, USER, false, this::preview);
        console.route("POST", FINALIZE, USER, false, this::finalizeDocument);
        console.route("GET", DOCUMENT, USER, false, this::stored);
        console.route("GET", DOWNLOAD, USER, false, this::download);
    }

    private Caller me(ConsoleRequest r) {
        Sessions.Session s = r.session();
        return Caller.person(contexts.get(s.accountId(), s.accessVersion()), s.displayName(), r.address());
    }

    private ClinicalDocuments.Author author(ConsoleRequest r) {
        Sessions.Session s = r.session();
        return new ClinicalDocuments.Author(s.accountId().toString(), s.displayName(), institution, null);
    }

    private static DocumentKind kind(ConsoleRequest r) {
        DocumentKind k = DocumentKind.of(r.param("kind"));
        return k == null ? DocumentKind.REFERRAL : k;
    }

    private static String kindLabel(Messages t, DocumentKind k) {
        return t.get("clins.kind." + k.name().toLowerCase(java.util.Locale.ROOT));
    }

    /** Refused the same way whether the patient does not exist or may not be seen. */
    private Reply refused(ConsoleRequest r) {
        return console.error(r, 403, "clins.refused.title", "clins.refused");
    }

    // ---- the form ------------------------------------------------------------------------------------------------

    private Reply form(ConsoleRequest r, int status, String error) {
        Messages t = r.messages();
        String patientId = r.param("patient");
        if (!patientId.matches(ID) || MaintenanceGate.applies(r.session())) {
            return refused(r);
        }
        Caller me = me(r);
        Patient patient;
        List<Encounter> encounters = new ArrayList<>();
        try {
            patient = (Patient) FhirSupport.parseStored(records.read(me, "Patient", patientId).bodyText());
            for (RecordService.Stored s : records.search(me, "Encounter", Map.of("patient", List.of(patientId),
                    "_count", List.of("50"))).matches()) {
                encounters.add((Encounter) FhirSupport.parseStored(s.bodyText()).setId(s.id()));
            }
        } catch (FhirError e) {
            return refused(r);
        }
        DocumentKind kind = kind(r);
        List<ClinsViews.Choice> kinds = new ArrayList<>();
        for (DocumentKind k : DocumentKind.values()) {
            kinds.add(new ClinsViews.Choice(k.name().toLowerCase(java.util.Locale.ROOT), kindLabel(t, k), k == kind));
        }
        List<ClinsViews.Choice> encs = new ArrayList<>();
        String chosen = r.param("encounter");
        for (Encounter e : encounters) {
            String id = e.getIdElement().getIdPart();
            encs.add(new ClinsViews.Choice(id, encounterLabel(t, e), id.equals(chosen)));
        }
        List<ClinsViews.TextField> texts = new ArrayList<>();
        for (Section s : textSections(kind)) {
            boolean required = kind == DocumentKind.REFERRAL ? s == Section.PURPOSE
                    : s == Section.HOSPITAL_COURSE || s == Section.DISCHARGE_INSTRUCTIONS;
            texts.add(new ClinsViews.TextField("t_" + s.code, t.get("clins.section." + s.code), r.param("t_" + s.code),
                    required, s != Section.PURPOSE && s != Section.REASON_FOR_ADMISSION));
        }
        boolean fresh = r.method().equals("GET");
        List<ClinsViews.IncludeBox> include = new ArrayList<>();
        for (Include inc : Include.values()) {
            include.add(new ClinsViews.IncludeBox(inc.name(), t.get("clins.include." + inc.name().toLowerCase(
                    java.util.Locale.ROOT)), fresh || r.params("inc").contains(inc.name())));
        }
        String[] recipient = kind == DocumentKind.REFERRAL ? new String[]{r.param("to_institution"),
                r.param("to_department"), r.param("to_doctor")} : null;
        return console.page(r, status, t.get("clins.form.title", kindLabel(t, kind)), "clins/form.jte",
                new ClinsViews.Form(kind.name().toLowerCase(java.util.Locale.ROOT), kindLabel(t, kind), kinds,
                        patientId, name(patient), encs, recipient, texts, include, error, r.csrf()));
    }

    static List<Section> textSections(DocumentKind kind) {
        return kind == DocumentKind.REFERRAL
                ? List.of(Section.PURPOSE, Section.PRESENT_ILLNESS, Section.PAST_ILLNESS, Section.CLINICAL_COURSE,
                Section.INSTRUCTIONS, Section.REMARKS)
                : List.of(Section.REASON_FOR_ADMISSION, Section.ADMISSION_DIAGNOSES, Section.CHIEF_COMPLAINTS,
                Section.PRESENT_ILLNESS, Section.HOSPITAL_COURSE, Section.DISCHARGE_INSTRUCTIONS, Section.REMARKS);
    }

    private ClinicalDocuments.Request request(ConsoleRequest r) {
        DocumentKind kind = kind(r);
        Map<Section, String> texts = new EnumMap<>(Section.class);
        for (Section s : textSections(kind)) {
            String v = r.param("t_" + s.code);
            if (!v.isBlank()) {
                texts.put(s, v);
            }
        }
        Set<Include> include = EnumSet.noneOf(Include.class);
        for (String v : r.params("inc")) {
            for (Include inc : Include.values()) {
                if (inc.name().equals(v)) {
                    include.add(inc);
                }
            }
        }
        String enc = r.param("encounter");
        return new ClinicalDocuments.Request(kind, r.param("patient"), enc.matches(ID) ? enc : null,
                kind == DocumentKind.REFERRAL ? new ClinicalDocuments.Recipient(r.param("to_institution").strip(),
                        r.param("to_department").strip(), r.param("to_doctor").strip()) : null, texts, include);
    }

    /** The document built and checked, or the form again with the reason. */
    private Object buildOrForm(ConsoleRequest r) {
        if (!r.param("patient").matches(ID) || MaintenanceGate.applies(r.session())) {
            return refused(r);
        }
        try {
            Bundle b = docs.build(me(r), author(r), request(r));
            docs.validate(b);
            return b;
        } catch (FhirError e) {
            if (e.status() == 403 || e.status() == 404 || e.status() == 410) {
                return refused(r);
            }
            return form(r, e.status() >= 500 ? 500 : 400, issues(e));
        }
    }

    private static String issues(FhirError e) {
        List<String> out = new ArrayList<>();
        for (FhirError.Issue i : e.issues()) {
            out.add(i.diagnostics());
        }
        String s = String.join(" ・ ", out);
        return s.length() > 600 ? s.substring(0, 600) + "…" : s;
    }

    // ---- preview and finalization --------------------------------------------------------------------------------

    private Reply preview(ConsoleRequest r) {
        Object built = buildOrForm(r);
        if (built instanceof Reply reply) {
            return reply;
        }
        Bundle b = (Bundle) built;
        Messages t = r.messages();
        DocumentKind kind = kind(r);
        recorder.append(AuditEvent.by(Actor.of(r.session(), r.address()), AuditAction.CLINS_COMPOSE)
                .purpose(Purpose.TREATMENT).patient(PatientRef.of(r.param("patient")))
                .detail("kind", kind.code).detail("entries", Integer.toString(b.getEntry().size())).build());
        List<ClinsViews.Hidden> hidden = new ArrayList<>();
        for (Map.Entry<String, List<String>> f : r.form().entrySet()) {
            if (f.getKey().equals("csrf") || f.getKey().equals("pin")) {
                continue;
            }
            for (String v : f.getValue()) {
                hidden.add(new ClinsViews.Hidden(f.getKey(), v));
            }
        }
        String key = signing == null ? null : signing.key(r.session().accountId())
                .map(jp.mamori.signatures.SigningKeyRegistry.Registered::describe).orElse(null);
        return console.page(r, 200, t.get("clins.preview.title", kindLabel(t, kind)), "clins/preview.jte",
                new ClinsViews.Preview(kindLabel(t, kind), r.param("patient"), patientName(b), sections(b),
                        b.getEntry().size(), t.get(docs.againstProfiles(kind) ? "clins.checked.profiles"
                        : "clins.checked.structure"), hidden, key, null, r.csrf()));
    }

    private Reply finalizeDocument(ConsoleRequest r) {
        Object built = buildOrForm(r);
        if (built instanceof Reply reply) {
            return reply;
        }
        Bundle b = (Bundle) built;
        Caller me = me(r);
        String patient = r.param("patient");
        RecordService.Stored stored;
        try {
            stored = signing == null ? docs.store(me, b, patient)
                    : signing.signingAs(r.session().accountId(), r.param("pin"), () -> docs.store(me, b, patient));
        } catch (FhirError e) {
            if (e.status() == 403 || e.status() == 404) {
                return refused(r);
            }
            return form(r, 400, issues(e));
        }
        return Console.redirect(DOCUMENT + "?id=" + stored.id());
    }

    // ---- a stored document and its download ----------------------------------------------------------------------

    /** A stored JP-CLINS document the person may read: its version, its Bundle, its Composition and its patient. */
    private record Opened(RecordService.Stored stored, Bundle bundle, Composition composition, DocumentKind kind,
                          String patient) {
    }

    /** The document named by {@code id}, read as the person; empty (answered as refused) for anything else. */
    private java.util.Optional<Opened> open(ConsoleRequest r) {
        String id = r.param("id");
        if (!id.matches(ID)) {
            return java.util.Optional.empty();
        }
        RecordService.Stored s;
        try {
            s = records.read(me(r), "DocumentReference", id);
        } catch (FhirError e) {
            return java.util.Optional.empty();
        }
        Bundle b = ClinicalDocuments.bundleOf(s);
        if (b == null) {
            return java.util.Optional.empty();
        }
        Composition c = (Composition) b.getEntryFirstRep().getResource();
        String patient = ((org.hl7.fhir.r4.model.DocumentReference) FhirSupport.parseStored(s.bodyText()))
                .getSubject().getReferenceElement().getIdPart();
        return java.util.Optional.of(new Opened(s, b, c, DocumentKind.ofCode(c.getType().getCodingFirstRep().getCode()),
                patient));
    }

    private Reply stored(ConsoleRequest r) {
        java.util.Optional<Opened> opened = open(r);
        if (opened.isEmpty()) {
            return refused(r);
        }
        Opened o = opened.get();
        Messages t = r.messages();
        String id = o.stored().id();
        boolean signed = signing != null && !signing.signatures("DocumentReference", id).isEmpty();
        String author = o.composition().getAuthorFirstRep().getDisplay();
        jp.mamori.chart.JpDates dates = new jp.mamori.chart.JpDates(zone);
        String written = dates.dateTime(o.composition().getDate().toInstant(),
                r.lang() == ConsoleRequest.Lang.EN ? jp.mamori.chart.JpDates.Lang.EN : jp.mamori.chart.JpDates.Lang.JA);
        return console.page(r, 200, kindLabel(t, o.kind()), "clins/document.jte", new ClinsViews.Stored(
                kindLabel(t, o.kind()), o.patient(), patientName(o.bundle()), id, written, author, sections(o.bundle()),
                t.get(signed ? "clins.signed" : "clins.unsigned"), signed));
    }

    private Reply download(ConsoleRequest r) {
        java.util.Optional<Opened> opened = open(r);
        if (opened.isEmpty()) {
            return refused(r);
        }
        Opened o = opened.get();
        String id = o.stored().id();
        // what leaves is in the trail with whose record it is
        recorder.append(AuditEvent.by(Actor.of(r.session(), r.address()), AuditAction.CLINS_EXPORT)
                .purpose(Purpose.TREATMENT).patient(PatientRef.of(o.patient()))
                .resource(new ResourceRef("DocumentReference", id, Integer.toString(o.stored().version())))
                .detail("kind", o.kind() == null ? "" : o.kind().code).build());
        byte[] body = FhirSupport.encode(o.bundle(), FhirSupport.Format.JSON, true).getBytes(StandardCharsets.UTF_8);
        String file = (o.kind() == DocumentKind.DISCHARGE ? "discharge-summary-" : "referral-") + id + ".json";
        return Reply.of(200, "application/fhir+json;charset=UTF-8", body)
                .header("Content-Disposition", "attachment; filename=\"" + file + "\"")
                .header("X-Content-Type-Options", "nosniff").header("Cache-Control", "no-store");
    }

    // ---- reading a document as a person -------------------------------------------------------------------------

    private static String patientName(Bundle b) {
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            if (e.getResource() instanceof Patient p) {
                return name(p);
            }
        }
        return "";
    }

    private static String name(Patient p) {
        if (p.getName().isEmpty()) {
            return "";
        }
        var n = p.getNameFirstRep();
        if (n.hasText()) {
            return n.getText();
        }
        return (n.getFamily() == null ? "" : n.getFamily()) + (n.hasGiven() ? "\u3000" + n.getGivenAsSingleString()
                : "");
    }

    private static String encounterLabel(Messages t, Encounter e) {
        String cls = e.hasClass_() ? e.getClass_().getCode() : "";
        String what = switch (cls == null ? "" : cls) {
            case "IMP", "ACUTE", "NONAC" -> t.get("clins.encounter.inpatient");
            case "EMER" -> t.get("clins.encounter.emergency");
            default -> t.get("clins.encounter.outpatient");
        };
        String from = e.getPeriod().hasStart() ? e.getPeriod().getStartElement().getValueAsString() : "";
        String to = e.getPeriod().hasEnd() ? e.getPeriod().getEndElement().getValueAsString() : "";
        return what + " " + (from.length() >= 10 ? from.substring(0, 10) : from)
                + (to.isEmpty() ? "" : "〜" + (to.length() >= 10 ? to.substring(0, 10) : to));
    }

    static List<ClinsViews.SectionView> sections(Bundle b) {
        Composition c = (Composition) b.getEntryFirstRep().getResource();
        return sections(c.getSection());
    }

    private static List<ClinsViews.SectionView> sections(List<Composition.SectionComponent> in) {
        List<ClinsViews.SectionView> out = new ArrayList<>();
        for (Composition.SectionComponent s : in) {
            List<String> lines = s.hasText() ? lines(s.getText().getDivAsString()) : List.of();
            out.add(new ClinsViews.SectionView(s.getTitle(), lines, sections(s.getSection())));
        }
        return out;
    }

    /** The lines of a narrative we wrote (escaped text and {@code <br/>}), as text again. */
    static List<String> lines(String div) {
        String inner = div.replaceFirst("^<div[^>]*>", "").replaceFirst("</div>$", "");
        List<String> out = new ArrayList<>();
        for (String l : inner.split("<br\\s*/?>", -1)) {
            out.add(l.replaceAll("<[^>]*>", "").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
                    .replace("&#39;", "'").replace("&amp;", "&"));
        }
        return out;
    }
}
