package jp.mamori.documents;

import ca.uhn.fhir.util.FhirTerser;
import jp.mamori.access.Caller;
import jp.mamori.documents.DocumentKind.Section;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The JP-CLINS documents from the chart (issue 23; STORE-2, STORE-4): 診療情報提供書 and 退院時サマリー as FHIR Document
 * Bundles (Composition first, then every resource it refers to, all by {@code urn:uuid}), checked, and stored through
 * the record service as a final DocumentReference whose attachment is the Bundle — so it is in the patient's
 * compartment (the access model decides who reads it), versioned, hashed, in the trail, and signed by the project's
 * document signing when the author has a key; and the patient summary (患者サマリー) as a collection Bundle.
 *
 * <p>Everything is read from the chart as the person who writes the document: what they may not see cannot enter it.
 */
public final class ClinicalDocuments {
    /** A free-text section's bound: a letter is read by a person, not a dump. */
    public static final int MAX_TEXT_CHARS = 8000;
    /** The most records of one type a document takes from the chart. */
    public static final int MAX_ITEMS = 100;
    public static final String INSTANCE_ID_SYSTEM = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
    public static final String ACCOUNT_SYSTEM = "urn:mamori:account";
    public static final String VERSION_EXTENSION =
            "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";
    public static final String SUMMARY_PROFILE = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";

    /** What of the chart goes into the document. */
    public enum Include { CONDITIONS, ALLERGIES, MEDICATIONS, RESULTS }

    /** The recipient of a referral letter (紹介先). */
    public record Recipient(String institution, String department, String doctor) {
    }

    /** The signed-in person writing the document and where they work. */
    public record Author(String accountId, String name, String institution, String department) {
    }

    /**
     * @param encounterId the stay (退院時サマリー: required) or visit the document is about; may be null for a referral
     * @param texts       the free-text sections the clinician wrote, by section
     */
    public record Request(DocumentKind kind, String patientId, String encounterId, Recipient to,
                          Map<Section, String> texts, Set<Include> include) {
        public Request {
            texts = texts == null ? Map.of() : Map.copyOf(texts);
            include = include == null ? Set.of() : Set.copyOf(include);
        }
    }

    private final RecordService records;
    private final FhirSupport fhir;
    private final Clock clock;

    public ClinicalDocuments(RecordService records, FhirSupport fhir, Clock clock) {
        this.records = records;
        this.fhir = fhir;
        this.clock = clock;
    }

    // ------------------------------------------------------------------------------------------------ building

    /** Reads the chart as {@code caller} and writes the document; not stored. */
    public Bundle build(Caller caller, Author author, Request req) {
        requireInput(req, author);
        Entries e = new Entries();
        Patient patient = (Patient) read(caller, "Patient", req.patientId());
        String patientUrl = e.add(patient, "Patient/" + req.patientId());
        Encounter encounter = null;
        String encounterUrl = null;
        if (req.encounterId() != null) {
            encounter = (Encounter) read(caller, "Encounter", req.encounterId());
            if (!encounter.getSubject().getReference().equals("Patient/" + req.patientId())) {
                throw FhirError.badRequest("受診歴はこの患者のものではありません / the encounter is not this patient's");
            }
            encounterUrl = e.add(encounter, "Encounter/" + req.encounterId());
        }
        Practitioner practitioner = new Practitioner();
        practitioner.addIdentifier(new Identifier().setSystem(ACCOUNT_SYSTEM).setValue(author.accountId()));
        practitioner.addName().setText(author.name());
        String practitionerUrl = e.add(practitioner, null);
        Organization from = new Organization().setName(author.institution());
        String fromUrl = e.add(from, null);
        Map<Include, List<String>> items = new EnumMap<>(Include.class);
        for (Include inc : req.include()) {
            items.put(inc, chart(caller, inc, req.patientId(), e));
        }

        Composition c = new Composition();
        c.getMeta().addProfile(req.kind().compositionProfile());
        c.addExtension(VERSION_EXTENSION, new StringType("1"));
        c.setIdentifier(new Identifier().setSystem(INSTANCE_ID_SYSTEM).setValue(UUID.randomUUID().toString()));
        c.setStatus(Composition.CompositionStatus.FINAL);
        Coding type = new Coding(DocumentKind.DOC_TYPE_SYSTEM, req.kind().code, req.kind().ja);
        c.getType().addCoding(type);
        c.addCategory().addCoding(type.copy());
        c.setSubject(ref(patientUrl, "Patient"));
        if (encounterUrl != null) {
            c.setEncounter(ref(encounterUrl, "Encounter"));
        }
        Date now = Date.from(clock.instant());
        c.setDate(now);
        c.addAuthor(ref(practitionerUrl, "Practitioner").setDisplay(author.name()));
        c.addAuthor(ref(fromUrl, "Organization").setDisplay(author.institution()));
        c.setTitle(req.kind().ja);
        c.setCustodian(ref(fromUrl, "Organization"));
        Composition.CompositionEventComponent ev = c.addEvent();
        if (req.kind() == DocumentKind.DISCHARGE) {
            ev.getCodeFirstRep().setText("退院");
            ev.setPeriod(encounter.getPeriod().copy()); // 入院期間
        } else {
            ev.getCodeFirstRep().setText("診療情報提供書発行");
            ev.getPeriod().setStart(now);
        }

        Composition.SectionComponent structured;
        if (req.kind() == DocumentKind.REFERRAL) {
            Organization to = new Organization().setName(req.to().institution());
            String toUrl = e.add(to, null);
            Composition.SectionComponent s910 = section(c.addSection(), Section.REFERRAL_TO,
                    join(req.to().institution(), req.to().department(), req.to().doctor()));
            s910.addEntry(ref(toUrl, "Organization").setDisplay("紹介先医療機関"));
            if (!blank(req.to().doctor())) {
                Practitioner doctor = new Practitioner();
                doctor.addName().setText(req.to().doctor());
                s910.addEntry(ref(e.add(doctor, null), "Practitioner").setDisplay("紹介先医師"));
            }
            Composition.SectionComponent s920 = section(c.addSection(), Section.REFERRAL_FROM,
                    join(author.institution(), author.department(), author.name()));
            s920.addEntry(ref(fromUrl, "Organization").setDisplay("紹介元医療機関"));
            s920.addEntry(ref(practitionerUrl, "Practitioner").setDisplay("紹介元医師"));
            structured = section(c.addSection(), Section.STRUCTURED, null);
            text(structured, Section.PURPOSE, req);
            entries(structured, Section.PROBLEMS, items.get(Include.CONDITIONS), e, "傷病名の記載なし");
            text(structured, Section.PRESENT_ILLNESS, req);
            text(structured, Section.PAST_ILLNESS, req);
            entries(structured, Section.ALLERGIES, items.get(Include.ALLERGIES), e, null);
            text(structured, Section.CLINICAL_COURSE, req);
            text(structured, Section.INSTRUCTIONS, req);
            entries(structured, Section.MEDICATIONS, items.get(Include.MEDICATIONS), e, null);
            entries(structured, Section.RESULTS, items.get(Include.RESULTS), e, null);
        } else {
            structured = section(c.addSection(), Section.STRUCTURED, null);
            text(structured, Section.REASON_FOR_ADMISSION, req);
            section(structured.addSection(), Section.ADMISSION_DETAILS, period(encounter))
                    .addEntry(ref(encounterUrl, "Encounter"));
            text(structured, Section.ADMISSION_DIAGNOSES, req);
            text(structured, Section.CHIEF_COMPLAINTS, req);
            text(structured, Section.PRESENT_ILLNESS, req);
            entries(structured, Section.ALLERGIES, items.get(Include.ALLERGIES), e, null);
            text(structured, Section.HOSPITAL_COURSE, req);
            section(structured.addSection(), Section.DISCHARGE_DETAILS, period(encounter))
                    .addEntry(ref(encounterUrl, "Encounter"));
            entries(structured, Section.DISCHARGE_DIAGNOSES, items.get(Include.CONDITIONS), e, "退院時診断の記載なし");
            entries(structured, Section.DISCHARGE_MEDICATIONS, items.get(Include.MEDICATIONS), e, "退院時処方なし");
            text(structured, Section.DISCHARGE_INSTRUCTIONS, req);
            entries(structured, Section.HOSPITAL_RESULTS, items.get(Include.RESULTS), e, null);
        }
        if (!blank(req.texts().get(Section.REMARKS))) {
            section(c.addSection(), Section.REMARKS, req.texts().get(Section.REMARKS));
        }

        Bundle b = new Bundle();
        b.getMeta().addProfile(req.kind().bundleProfile());
        b.getMeta().setLastUpdated(now);
        b.setIdentifier(new Identifier().setSystem("urn:ietf:rfc:3986").setValue("urn:uuid:" + UUID.randomUUID()));
        b.setType(Bundle.BundleType.DOCUMENT);
        b.setTimestamp(now);
        String compositionUrl = "urn:uuid:" + UUID.randomUUID();
        c.setId(compositionUrl.substring("urn:uuid:".length()));
        b.addEntry().setFullUrl(compositionUrl).setResource(c);
        e.into(b);
        return b;
    }

    /**
     * The patient summary (患者サマリー: conditions, allergies, infections and lab results, prescriptions) as the
     * collection Bundle the national profiles describe ({@code JP_Bundle_CLINS}), read as {@code caller}. Unlike a
     * document, a collection keeps the records as the server holds them: each under its own URL ({@code base/Type/id}),
     * their references as they are, so that whoever receives it (and the trail) sees whose records they are.
     */
    public Bundle patientSummary(Caller caller, String patientId, String base) {
        Bundle b = new Bundle();
        b.getMeta().addProfile(SUMMARY_PROFILE);
        b.getMeta().setLastUpdated(Date.from(clock.instant()));
        b.setIdentifier(new Identifier().setSystem("urn:ietf:rfc:3986").setValue("urn:uuid:" + UUID.randomUUID()));
        b.setType(Bundle.BundleType.COLLECTION);
        b.setTimestamp(Date.from(clock.instant()));
        Resource patient = read(caller, "Patient", patientId);
        patient.setId("Patient/" + patientId);
        b.addEntry().setFullUrl(base + "/Patient/" + patientId).setResource(patient);
        for (Include inc : Include.values()) {
            for (RecordService.Stored s : chartRecords(caller, inc, patientId)) {
                Resource r = FhirSupport.parseStored(s.bodyText());
                r.setId(s.type() + "/" + s.id());
                b.addEntry().setFullUrl(base + "/" + s.type() + "/" + s.id()).setResource(r);
            }
        }
        return b;
    }

    private static void requireInput(Request req, Author author) {
        if (req.kind() == null || blank(req.patientId())) {
            throw FhirError.badRequest("文書の種類と患者を指定してください / give the document kind and the patient");
        }
        if (blank(author.name()) || blank(author.institution()) || blank(author.accountId())) {
            throw FhirError.badRequest("作成者と医療機関が必要です / the author and the institution are required");
        }
        for (Map.Entry<Section, String> t : req.texts().entrySet()) {
            if (t.getValue() != null && t.getValue().length() > MAX_TEXT_CHARS) {
                throw FhirError.badRequest(t.getKey().title + "が長すぎます（" + MAX_TEXT_CHARS + " 字まで） / "
                        + t.getKey().title + " is longer than " + MAX_TEXT_CHARS + " characters");
            }
        }
        if (req.kind() == DocumentKind.REFERRAL) {
            if (req.to() == null || blank(req.to().institution())) {
                throw FhirError.badRequest("紹介先医療機関を入力してください / enter the recipient institution");
            }
            if (tooLong(req.to().institution()) || tooLong(req.to().department()) || tooLong(req.to().doctor())) {
                throw FhirError.badRequest("紹介先が長すぎます / the recipient is too long");
            }
            if (blank(req.texts().get(Section.PURPOSE))) {
                throw FhirError.badRequest("紹介目的を入力してください / enter the purpose of the referral");
            }
        } else {
            if (blank(req.encounterId())) {
                throw FhirError.badRequest("退院時サマリーには入院（受診歴）が必要です / a discharge summary needs the stay");
            }
            for (Section s : List.of(Section.HOSPITAL_COURSE, Section.DISCHARGE_INSTRUCTIONS)) {
                if (blank(req.texts().get(s))) {
                    throw FhirError.badRequest(s.title + "を入力してください / enter " + s.title);
                }
            }
        }
    }

    private static boolean tooLong(String s) {
        return s != null && s.length() > 200;
    }

    private Resource read(Caller caller, String type, String id) {
        return FhirSupport.parseStored(records.read(caller, type, id).bodyText());
    }

    /** The chart's records of one kind, added to the entries; their fullUrls. */
    private List<String> chart(Caller caller, Include inc, String patientId, Entries e) {
        List<String> urls = new ArrayList<>();
        for (RecordService.Stored s : chartRecords(caller, inc, patientId)) {
            urls.add(e.add(FhirSupport.parseStored(s.bodyText()), s.type() + "/" + s.id()));
        }
        return urls;
    }

    /** The patient's records of one kind as the caller may see them, at most {@link #MAX_ITEMS}, none in error. */
    private List<RecordService.Stored> chartRecords(Caller caller, Include inc, String patientId) {
        String type = switch (inc) {
            case CONDITIONS -> "Condition";
            case ALLERGIES -> "AllergyIntolerance";
            case MEDICATIONS -> "MedicationRequest";
            case RESULTS -> "Observation";
        };
        Map<String, List<String>> params = new LinkedHashMap<>();
        params.put("patient", List.of(patientId));
        params.put("_count", List.of(Integer.toString(MAX_ITEMS)));
        if (inc == Include.MEDICATIONS) {
            params.put("status", List.of("active"));
        }
        List<RecordService.Stored> out = new ArrayList<>();
        for (RecordService.Stored s : records.search(caller, type, params).matches()) {
            if (out.size() >= MAX_ITEMS) {
                break;
            }
            if (s.deleted()) {
                continue;
            }
            Resource r = FhirSupport.parseStored(s.bodyText());
            if (r instanceof Condition cnd && cnd.hasVerificationStatus() && "entered-in-error".equals(
                    cnd.getVerificationStatus().getCodingFirstRep().getCode())
                    || r instanceof AllergyIntolerance a && a.hasVerificationStatus() && "entered-in-error".equals(
                    a.getVerificationStatus().getCodingFirstRep().getCode())
                    || r instanceof Observation o && o.getStatus() == Observation.ObservationStatus.ENTEREDINERROR
                    || r instanceof MedicationRequest m
                    && m.getStatus() == MedicationRequest.MedicationRequestStatus.ENTEREDINERROR) {
                continue;
            }
            out.add(s);
        }
        return out;
    }

    private static Reference ref(String url, String type) {
        return new Reference(url).setType(type);
    }

    private static Composition.SectionComponent section(Composition.SectionComponent s, Section which, String text) {
        s.setTitle(which.title);
        s.getCode().addCoding(new Coding(DocumentKind.SECTION_SYSTEM, which.code, which.display()));
        if (text != null) {
            s.setText(narrative(text));
        }
        return s;
    }

    private static void text(Composition.SectionComponent parent, Section which, Request req) {
        String t = req.texts().get(which);
        if (!blank(t)) {
            section(parent.addSection(), which, t);
        } else if (req.kind().requiredStructured.contains(which)) {
            section(parent.addSection(), which, "記載なし");
        }
    }

    private static void entries(Composition.SectionComponent parent, Section which, List<String> urls, Entries e,
                                String whenNone) {
        if ((urls == null || urls.isEmpty()) && whenNone == null) {
            return;
        }
        List<String> list = urls == null ? List.of() : urls;
        List<String> lines = new ArrayList<>();
        for (String u : list) {
            lines.add(e.label(u));
        }
        Composition.SectionComponent s = section(parent.addSection(), which,
                list.isEmpty() ? whenNone : String.join("\n", lines));
        for (String u : list) {
            s.addEntry(ref(u, e.type(u)));
        }
    }

    /** Narrative of typed text: escaped, line breaks kept; never markup from the person. */
    static Narrative narrative(String text) {
        StringBuilder sb = new StringBuilder("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        String[] lines = text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                sb.append("<br/>");
            }
            sb.append(escape(lines[i]));
        }
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.ADDITIONAL);
        n.setDivAsString(sb.append("</div>").toString());
        return n;
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> {
                    if (ch >= 0x20 || ch == '\t') {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.toString();
    }

    private static String period(Encounter enc) {
        if (enc == null || !enc.hasPeriod()) {
            return "期間の記載なし";
        }
        String from = enc.getPeriod().hasStart() ? enc.getPeriod().getStartElement().getValueAsString() : "";
        String to = enc.getPeriod().hasEnd() ? enc.getPeriod().getEndElement().getValueAsString() : "";
        return "入院 " + (from.length() >= 10 ? from.substring(0, 10) : from) + " 〜 退院 "
                + (to.length() >= 10 ? to.substring(0, 10) : to);
    }

    private static String join(String... parts) {
        List<String> out = new ArrayList<>();
        for (String p : parts) {
            if (!blank(p)) {
                out.add(p.strip());
            }
        }
        return String.join(" ", out);
    }

    static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /**
     * The resources of a document, each under a new {@code urn:uuid}: copied from the chart with their references to
     * one another rewritten to those uuids; a reference to anything left out keeps only its display, so that every
     * reference in the document resolves inside it.
     */
    private static final class Entries {
        private final Map<String, Resource> byUrl = new LinkedHashMap<>();
        private final Map<String, String> urlOfChartRef = new LinkedHashMap<>();

        String add(Resource r, String chartRef) {
            if (chartRef != null && urlOfChartRef.containsKey(chartRef)) {
                return urlOfChartRef.get(chartRef);
            }
            Resource copy = r.copy();
            String uuid = UUID.randomUUID().toString();
            copy.setId(uuid);
            copy.getMeta().setVersionId(null);
            copy.getMeta().setLastUpdated(null);
            if (chartRef != null) {
                Identifier id = new Identifier().setSystem(INSTANCE_ID_SYSTEM).setValue(chartRef);
                switch (copy) {
                    case Patient p -> p.addIdentifier(id);
                    case Encounter en -> en.addIdentifier(id);
                    case Condition cn -> cn.addIdentifier(id);
                    case AllergyIntolerance a -> a.addIdentifier(id);
                    case MedicationRequest m -> m.addIdentifier(id);
                    case Observation o -> o.addIdentifier(id);
                    default -> {
                    }
                }
                urlOfChartRef.put(chartRef, "urn:uuid:" + uuid);
            }
            byUrl.put("urn:uuid:" + uuid, copy);
            return "urn:uuid:" + uuid;
        }

        String type(String url) {
            return byUrl.get(url).fhirType();
        }

        /** A line a person reads for an entry in the section's narrative. */
        String label(String url) {
            Resource r = byUrl.get(url);
            CodeableConcept code = switch (r) {
                case Condition c -> c.getCode();
                case AllergyIntolerance a -> a.getCode();
                case MedicationRequest m -> m.hasMedicationCodeableConcept() ? m.getMedicationCodeableConcept() : null;
                case Observation o -> o.getCode();
                default -> null;
            };
            String name = code == null ? "" : code.hasText() ? code.getText()
                    : code.getCodingFirstRep().hasDisplay() ? code.getCodingFirstRep().getDisplay()
                    : code.getCodingFirstRep().getCode();
            if (r instanceof Observation o && o.hasValueQuantity()) {
                name += " " + o.getValueQuantity().getValue().toPlainString() + " "
                        + (o.getValueQuantity().hasUnit() ? o.getValueQuantity().getUnit() : "");
            } else if (r instanceof Observation o && o.hasValueStringType()) {
                name += " " + o.getValueStringType().getValue();
            } else if (r instanceof MedicationRequest m && m.hasDosageInstruction()
                    && m.getDosageInstructionFirstRep().hasText()) {
                name += " " + m.getDosageInstructionFirstRep().getText();
            }
            return name == null || name.isBlank() ? "（名称なし）" : name.strip();
        }

        void into(Bundle b) {
            FhirTerser terser = FhirSupport.CTX.newTerser();
            for (Map.Entry<String, Resource> en : byUrl.entrySet()) {
                for (Reference ref : terser.getAllPopulatedChildElementsOfType(en.getValue(), Reference.class)) {
                    String target = ref.getReference();
                    if (target == null || target.startsWith("#") || target.startsWith("urn:uuid:")) {
                        continue;
                    }
                    String url = urlOfChartRef.get(target.replaceFirst("/_history/.*$", ""));
                    if (url != null) {
                        ref.setReference(url);
                    } else {
                        ref.setReference(null); // left out of the document: its display is what remains
                        if (!ref.hasDisplay() && !ref.hasIdentifier()) {
                            ref.setDisplay("（文書外の記録）");
                        }
                    }
                }
                b.addEntry().setFullUrl(en.getKey()).setResource(en.getValue());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ checking

    /**
     * The structure rules of a JP-CLINS document checked without the JP-CLINS package: a document Bundle with an
     * identifier and a timestamp; the Composition first with a known document type, a subject and an author; every
     * entry under a unique fullUrl; every reference resolving inside the Bundle; the kind's required sections. Each
     * problem names its element (FHIRPath) in Japanese and English.
     */
    public static List<FhirError.Issue> check(Bundle b) {
        List<FhirError.Issue> out = new ArrayList<>();
        if (b.getType() != Bundle.BundleType.DOCUMENT) {
            out.add(issue("Bundle.type", "Bundle.type は document です / Bundle.type must be document"));
        }
        if (!b.hasIdentifier() || !b.getIdentifier().hasSystem() || !b.getIdentifier().hasValue()) {
            out.add(issue("Bundle.identifier", "文書の識別子がありません / the document has no identifier"));
        }
        if (!b.hasTimestamp()) {
            out.add(issue("Bundle.timestamp", "作成日時がありません / the document has no timestamp"));
        }
        if (b.getEntry().isEmpty() || !(b.getEntryFirstRep().getResource() instanceof Composition)) {
            out.add(issue("Bundle.entry[0].resource", "最初のエントリは Composition です / the first entry must be the"
                    + " Composition"));
            return out;
        }
        Map<String, Resource> byUrl = new LinkedHashMap<>();
        for (int i = 0; i < b.getEntry().size(); i++) {
            Bundle.BundleEntryComponent en = b.getEntry().get(i);
            if (!en.hasFullUrl() || !en.hasResource()) {
                out.add(issue("Bundle.entry[" + i + "]", "fullUrl とリソースが必要です / an entry needs a fullUrl and a"
                        + " resource"));
            } else if (byUrl.put(en.getFullUrl(), en.getResource()) != null) {
                out.add(issue("Bundle.entry[" + i + "].fullUrl", "fullUrl が重複しています / duplicate fullUrl "
                        + en.getFullUrl()));
            }
        }
        FhirTerser terser = FhirSupport.CTX.newTerser();
        for (int i = 0; i < b.getEntry().size(); i++) {
            Resource r = b.getEntry().get(i).getResource();
            if (r == null) {
                continue;
            }
            for (Reference ref : terser.getAllPopulatedChildElementsOfType(r, Reference.class)) {
                String target = ref.getReference();
                if (target != null && !target.startsWith("#") && !byUrl.containsKey(target)) {
                    out.add(issue("Bundle.entry[" + i + "].resource", "参照 " + target + " が文書内にありません /"
                            + " the reference " + target + " does not resolve inside the document"));
                }
            }
        }
        Composition c = (Composition) b.getEntryFirstRep().getResource();
        DocumentKind kind = DocumentKind.ofCode(c.getType().getCodingFirstRep().getCode());
        if (kind == null || !DocumentKind.DOC_TYPE_SYSTEM.equals(c.getType().getCodingFirstRep().getSystem())) {
            out.add(issue("Bundle.entry[0].resource.type", "文書の種類が診療情報提供書・退院時サマリーではありません /"
                    + " the document type is neither 57133-1 nor 18842-5"));
            return out;
        }
        if (!c.hasSubject() || !(byUrl.get(c.getSubject().getReference()) instanceof Patient)) {
            out.add(issue("Bundle.entry[0].resource.subject", "患者がありません / the subject must be the Patient"));
        }
        if (c.getAuthor().isEmpty()) {
            out.add(issue("Bundle.entry[0].resource.author", "作成者がありません / the document has no author"));
        }
        if (kind == DocumentKind.DISCHARGE && (!c.hasEncounter() || c.getEventFirstRep().getPeriod().isEmpty())) {
            out.add(issue("Bundle.entry[0].resource.event.period", "入院期間がありません / a discharge summary needs"
                    + " the stay and its period"));
        }
        Set<String> top = codes(c.getSection());
        for (Section s : kind.requiredTop) {
            if (!top.contains(s.code)) {
                out.add(issue("Bundle.entry[0].resource.section", s.display() + "（" + s.code + "）がありません /"
                        + " the section " + s.code + " is missing"));
            }
        }
        Set<String> inner = new HashSet<>();
        for (Composition.SectionComponent s : c.getSection()) {
            if (Section.STRUCTURED.code.equals(s.getCode().getCodingFirstRep().getCode())) {
                inner.addAll(codes(s.getSection()));
            }
        }
        for (Section s : kind.requiredStructured) {
            if (!inner.contains(s.code)) {
                out.add(issue("Bundle.entry[0].resource.section.section", s.display() + "（" + s.code + "）がありません /"
                        + " the section " + s.code + " is missing"));
            }
        }
        return out;
    }

    private static Set<String> codes(List<Composition.SectionComponent> sections) {
        Set<String> out = new HashSet<>();
        for (Composition.SectionComponent s : sections) {
            for (Coding cd : s.getCode().getCoding()) {
                if (DocumentKind.SECTION_SYSTEM.equals(cd.getSystem())) {
                    out.add(cd.getCode());
                }
            }
        }
        return out;
    }

    private static FhirError.Issue issue(String where, String message) {
        return new FhirError.Issue(org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity.ERROR,
                org.hl7.fhir.r4.model.OperationOutcome.IssueType.STRUCTURE, message, where);
    }

    /**
     * Checks a document: the structure rules, then the R4 definitions; against the JP-CLINS profiles too when the
     * server's validation has them loaded ({@code --validation jp-core} with the JP-CLINS package).
     *
     * @throws FhirError 422 naming each problem
     */
    public void validate(Bundle b) {
        List<FhirError.Issue> issues = check(b);
        if (!issues.isEmpty()) {
            throw new FhirError(422, issues);
        }
        boolean profiles = fhir.packages().map(p -> p.profile(b.getMeta().getProfile().isEmpty() ? null
                : b.getMeta().getProfile().get(0).getValue()).isPresent()).orElse(false);
        if (profiles) {
            fhir.validate(b);
        } else {
            // the claimed JP-CLINS profiles are not loaded: the R4 definitions, without the claims
            Bundle plain = b.copy();
            plain.getMeta().getProfile().clear();
            for (Bundle.BundleEntryComponent en : plain.getEntry()) {
                en.getResource().getMeta().getProfile().clear();
            }
            new FhirSupport().validate(plain);
        }
    }

    /** Whether the server checks documents against the JP-CLINS profiles (loaded), for the page and the docs. */
    public boolean againstProfiles(DocumentKind kind) {
        return fhir.packages().map(p -> p.profile(kind.bundleProfile()).isPresent()).orElse(false);
    }

    // ------------------------------------------------------------------------------------------------ storing

    /**
     * Stores a checked document as a final DocumentReference of the patient through the record service, as
     * {@code caller} (the author): versioned, hashed, in the trail, and signed in the same transaction when the author
     * writes within their signing key (the project's document signing signs every version that is locked).
     */
    public RecordService.Stored store(Caller caller, Bundle b, String patientId) {
        validate(b);
        Composition c = (Composition) b.getEntryFirstRep().getResource();
        DocumentKind kind = DocumentKind.ofCode(c.getType().getCodingFirstRep().getCode());
        byte[] json = FhirSupport.canonicalJson(b).getBytes(StandardCharsets.UTF_8);
        DocumentReference d = new DocumentReference();
        d.getMasterIdentifier().setSystem(b.getIdentifier().getSystem()).setValue(b.getIdentifier().getValue());
        d.setStatus(Enumerations.DocumentReferenceStatus.CURRENT);
        d.setDocStatus(DocumentReference.ReferredDocumentStatus.FINAL);
        d.getType().addCoding(new Coding("http://loinc.org", kind.code, kind.ja));
        d.getType().addCoding(new Coding(DocumentKind.DOC_TYPE_SYSTEM, kind.code, kind.ja));
        d.setSubject(new Reference("Patient/" + patientId));
        d.setDate(b.getTimestamp());
        for (Reference a : c.getAuthor()) {
            if ("Practitioner".equals(a.getType())) {
                d.addAuthor(new Reference().setDisplay(a.getDisplay()));
            }
        }
        d.setDescription(c.getTitle());
        Attachment att = d.addContent().getAttachment();
        att.setContentType("application/fhir+json");
        att.setLanguage("ja");
        att.setData(json);
        att.setSize(json.length);
        att.setHash(sha1(json));
        att.setTitle(c.getTitle());
        att.setCreationElement(new org.hl7.fhir.r4.model.DateTimeType(b.getTimestamp()));
        d.getContentFirstRep().setFormat(new Coding("urn:mamori:format", "fhir-document", "FHIR Document Bundle"));
        if (c.hasEncounter()) {
            String encUrl = c.getEncounter().getReference();
            for (Bundle.BundleEntryComponent en : b.getEntry()) {
                if (en.getFullUrl().equals(encUrl) && en.getResource() instanceof Encounter enc) {
                    for (Identifier id : enc.getIdentifier()) {
                        if (INSTANCE_ID_SYSTEM.equals(id.getSystem())) {
                            d.getContext().addEncounter(new Reference(id.getValue()));
                        }
                    }
                }
            }
        }
        return records.create(caller, d, null, kind.ja + "の作成 / " + kind.en).stored();
    }

    /** The Document Bundle a stored document holds, for download; null when the DocumentReference is not one. */
    public static Bundle bundleOf(RecordService.Stored stored) {
        if (!"DocumentReference".equals(stored.type())) {
            return null;
        }
        DocumentReference d = (DocumentReference) FhirSupport.parseStored(stored.bodyText());
        if (d.getContent().isEmpty() || !"application/fhir+json".equals(d.getContentFirstRep().getAttachment()
                .getContentType()) || !d.getContentFirstRep().getAttachment().hasData()) {
            return null;
        }
        try {
            return (Bundle) FhirSupport.CTX.newJsonParser().parseResource(new String(
                    d.getContentFirstRep().getAttachment().getData(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static byte[] sha1(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(b); // Attachment.hash is SHA-1 by FHIR's definition
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String base64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
