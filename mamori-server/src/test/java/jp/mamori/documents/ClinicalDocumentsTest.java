package jp.mamori.documents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.documents.ClinicalDocuments.Include;
import jp.mamori.documents.DocumentKind.Section;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JP-CLINS documents built from a chart written over the FHIR API (issue 23): the referral letter and the discharge
 * summary as Document Bundles (Composition first, the JP-CLINS section codes, every reference resolving inside, the
 * Japanese text intact and typed markup escaped), their validation failures named by element, storage as a final
 * DocumentReference through the record service and the Bundle read back from it, and the patient summary.
 */
class ClinicalDocumentsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer s;
    private static ClinicalDocuments docs;
    private static String patient;
    private static String stay;
    private static final Caller WRITER = Caller.system("documents-test");
    private static final ClinicalDocuments.Author AUTHOR = new ClinicalDocuments.Author(UUID.randomUUID().toString(),
            "守 花子", "まもり総合病院", "内科");

    @BeforeAll
    static void chart() throws Exception {
        s = TestServer.shared();
        docs = new ClinicalDocuments(s.server().records(), new FhirSupport(), Clock.systemUTC());
        patient = create("""
                {"resourceType":"Patient","name":[{"family":"山田","given":["太郎"]},{"family":"ヤマダ","given":["タロウ"]}],
                 "gender":"male","birthDate":"1960-05-01"}""");
        stay = create("""
                {"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
                 "subject":{"reference":"Patient/%s"},"period":{"start":"2026-11-20T10:00:00+09:00","end":"2026-12-01T11:00:00+09:00"}}"""
                .formatted(patient));
        create("""
                {"resourceType":"Condition","subject":{"reference":"Patient/%s"},"encounter":{"reference":"Encounter/%s"},
                 "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
                 "code":{"text":"急性虫垂炎"}}""".formatted(patient, stay));
        create("""
                {"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/%s"},"code":{"text":"ペニシリン"}}"""
                .formatted(patient));
        create("""
                {"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/%s"},
                 "medicationCodeableConcept":{"text":"アセトアミノフェン錠200mg"},"dosageInstruction":[{"text":"1回1錠 頓用"}]}"""
                .formatted(patient));
        create("""
                {"resourceType":"Observation","status":"final","subject":{"reference":"Patient/%s"},
                 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
                 "code":{"text":"白血球数"},"valueQuantity":{"value":12000,"unit":"/µL"}}""".formatted(patient));
    }

    private static String create(String json) throws Exception {
        String type = JSON.readTree(json).get("resourceType").asText();
        HttpResponse<String> r = s.post("/" + type, json);
        assertEquals(201, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("id").asText();
    }

    static ClinicalDocuments.Request referral() {
        return new ClinicalDocuments.Request(DocumentKind.REFERRAL, patient, stay,
                new ClinicalDocuments.Recipient("東京第一テスト病院", "消化器外科", "佐藤 一郎"),
                Map.of(Section.PURPOSE, "腹痛精査をお願いします。\n<script>alert(1)</script>",
                        Section.PRESENT_ILLNESS, "11月中旬から右下腹部痛。"),
                EnumSet.allOf(Include.class));
    }

    static ClinicalDocuments.Request discharge() {
        return new ClinicalDocuments.Request(DocumentKind.DISCHARGE, patient, stay, null,
                Map.of(Section.REASON_FOR_ADMISSION, "急性虫垂炎の手術目的", Section.HOSPITAL_COURSE,
                        "腹腔鏡下虫垂切除術を施行し、経過良好。", Section.DISCHARGE_INSTRUCTIONS, "2週間後に外来受診。"),
                EnumSet.allOf(Include.class));
    }

    private static Composition composition(Bundle b) {
        return assertInstanceOf(Composition.class, b.getEntryFirstRep().getResource(), "Composition first");
    }

    private static Composition.SectionComponent section(List<Composition.SectionComponent> in, Section which) {
        for (Composition.SectionComponent sc : in) {
            if (which.code.equals(sc.getCode().getCodingFirstRep().getCode())
                    && DocumentKind.SECTION_SYSTEM.equals(sc.getCode().getCodingFirstRep().getSystem())) {
                return sc;
            }
        }
        throw new AssertionError("no section " + which.code + " " + which.title);
    }

    @Test
    void theReferralLetterIsADocumentBundleFromTheChart() {
        Bundle b = docs.build(WRITER, AUTHOR, referral());
        assertEquals(Bundle.BundleType.DOCUMENT, b.getType());
        assertTrue(ClinicalDocuments.check(b).isEmpty(), ClinicalDocuments.check(b).toString());
        Composition c = composition(b);
        assertEquals("57133-1", c.getType().getCodingFirstRep().getCode());
        assertEquals(DocumentKind.DOC_TYPE_SYSTEM, c.getType().getCodingFirstRep().getSystem());
        assertEquals(DocumentKind.REFERRAL.compositionProfile(), c.getMeta().getProfile().get(0).getValue());
        assertEquals("診療情報提供書", c.getTitle());
        Composition.SectionComponent to = section(c.getSection(), Section.REFERRAL_TO);
        assertTrue(to.getText().getDivAsString().contains("東京第一テスト病院"), to.getText().getDivAsString());
        section(c.getSection(), Section.REFERRAL_FROM);
        Composition.SectionComponent structured = section(c.getSection(), Section.STRUCTURED);
        String purpose = section(structured.getSection(), Section.PURPOSE).getText().getDivAsString();
        assertTrue(purpose.contains("腹痛精査をお願いします。"), purpose);
        assertTrue(purpose.contains("&lt;script&gt;") && !purpose.contains("<script>"), purpose);
        Composition.SectionComponent problems = section(structured.getSection(), Section.PROBLEMS);
        assertEquals(1, problems.getEntry().size());
        assertTrue(problems.getText().getDivAsString().contains("急性虫垂炎"));
        assertTrue(section(structured.getSection(), Section.MEDICATIONS).getText().getDivAsString()
                .contains("アセトアミノフェン錠200mg 1回1錠 頓用"));
        assertTrue(section(structured.getSection(), Section.RESULTS).getText().getDivAsString().contains("白血球数 12000"));
        // every entry by urn:uuid, every reference inside: nothing of the server's ids is left to resolve
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            assertTrue(e.getFullUrl().startsWith("urn:uuid:"), e.getFullUrl());
        }
        String json = FhirSupport.canonicalJson(b);
        assertFalse(json.contains("\"reference\":\"Patient/"), json);
        assertFalse(json.contains("\"reference\":\"Encounter/"), json);
        // the chart's record each entry came from is named
        assertTrue(json.contains("\"Condition/"), "the source of each entry is kept as its identifier");
        // Japanese intact through the JSON round trip
        Bundle back = (Bundle) FhirSupport.CTX.newJsonParser().parseResource(json);
        assertTrue(FhirSupport.canonicalJson(back).contains("ヤマダ"));
        assertTrue(ClinicalDocuments.check(back).isEmpty());
    }

    @Test
    void theDischargeSummaryHasTheStayAndTheRequiredSections() {
        Bundle b = docs.build(WRITER, AUTHOR, discharge());
        assertTrue(ClinicalDocuments.check(b).isEmpty(), ClinicalDocuments.check(b).toString());
        Composition c = composition(b);
        assertEquals("18842-5", c.getType().getCodingFirstRep().getCode());
        assertEquals("2026-11-20T10:00:00+09:00", c.getEventFirstRep().getPeriod().getStartElement().getValueAsString());
        Composition.SectionComponent structured = section(c.getSection(), Section.STRUCTURED);
        for (Section req : DocumentKind.DISCHARGE.requiredStructured) {
            section(structured.getSection(), req);
        }
        Reference stayRef = section(structured.getSection(), Section.DISCHARGE_DETAILS).getEntryFirstRep();
        assertEquals(c.getEncounter().getReference(), stayRef.getReference());
        assertTrue(section(structured.getSection(), Section.HOSPITAL_COURSE).getText().getDivAsString()
                .contains("腹腔鏡下虫垂切除術"));
        assertEquals(1, section(structured.getSection(), Section.DISCHARGE_DIAGNOSES).getEntry().size());
        docs.validate(b);
    }

    @Test
    void aBrokenDocumentIsRefusedWithTheElementNamed() {
        Bundle notFirst = docs.build(WRITER, AUTHOR, referral());
        Bundle.BundleEntryComponent first = notFirst.getEntry().remove(0);
        notFirst.addEntry(first);
        assertNamed(notFirst, "Bundle.entry[0].resource", "最初のエントリは Composition");

        Bundle dangling = docs.build(WRITER, AUTHOR, referral());
        composition(dangling).setSubject(new Reference("urn:uuid:" + UUID.randomUUID()));
        assertNamed(dangling, "Bundle.entry[0].resource", "文書内にありません");

        Bundle missing = docs.build(WRITER, AUTHOR, discharge());
        section(composition(missing).getSection(), Section.STRUCTURED).getSection()
                .removeIf(x -> Section.DISCHARGE_MEDICATIONS.code.equals(x.getCode().getCodingFirstRep().getCode()));
        assertNamed(missing, "Bundle.entry[0].resource.section.section", "444");

        Bundle noSection = docs.build(WRITER, AUTHOR, referral());
        composition(noSection).getSection().removeIf(x -> "910".equals(x.getCode().getCodingFirstRep().getCode()));
        assertNamed(noSection, "Bundle.entry[0].resource.section", "910");

        Bundle wrongType = docs.build(WRITER, AUTHOR, referral());
        wrongType.setType(Bundle.BundleType.COLLECTION);
        assertNamed(wrongType, "Bundle.type", "document");

        FhirError e = assertThrows(FhirError.class, () -> docs.validate(dangling));
        assertEquals(422, e.status());
    }

    private static void assertNamed(Bundle b, String where, String words) {
        List<FhirError.Issue> issues = ClinicalDocuments.check(b);
        assertTrue(issues.stream().anyMatch(i -> where.equals(i.expression()) && i.diagnostics().contains(words)
                && i.diagnostics().contains(" / ")), where + " " + words + ": " + issues);
    }

    @Test
    void badRequestsAreRefusedClearly() {
        ClinicalDocuments.Request r = referral();
        FhirError noPurpose = assertThrows(FhirError.class, () -> docs.build(WRITER, AUTHOR, new ClinicalDocuments.Request(
                r.kind(), r.patientId(), null, r.to(), Map.of(), r.include())));
        assertTrue(noPurpose.getMessage().contains("紹介目的"), noPurpose.getMessage());
        FhirError noStay = assertThrows(FhirError.class, () -> docs.build(WRITER, AUTHOR, new ClinicalDocuments.Request(
                DocumentKind.DISCHARGE, patient, null, null, discharge().texts(), Set.of())));
        assertEquals(400, noStay.status());
        FhirError long_ = assertThrows(FhirError.class, () -> docs.build(WRITER, AUTHOR, new ClinicalDocuments.Request(
                r.kind(), r.patientId(), null, r.to(), Map.of(Section.PURPOSE, "長".repeat(8001)), r.include())));
        assertTrue(long_.getMessage().contains("8000"), long_.getMessage());
        String other;
        try {
            other = create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"別人\"}]}");
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
        FhirError notTheirs = assertThrows(FhirError.class, () -> docs.build(WRITER, AUTHOR, new ClinicalDocuments.Request(
                DocumentKind.DISCHARGE, other, stay, null, discharge().texts(), Set.of())));
        assertTrue(notTheirs.getMessage().contains("この患者のものではありません"), notTheirs.getMessage());
    }

    @Test
    void aDocumentIsStoredAsAFinalDocumentReferenceAndReadBack() throws Exception {
        Bundle b = docs.build(WRITER, AUTHOR, discharge());
        RecordService.Stored stored = docs.store(WRITER, b, patient);
        DocumentReference d = (DocumentReference) FhirSupport.parseStored(stored.bodyText());
        assertEquals(DocumentReference.ReferredDocumentStatus.FINAL, d.getDocStatus());
        assertEquals("Patient/" + patient, d.getSubject().getReference());
        assertEquals("Encounter/" + stay, d.getContext().getEncounterFirstRep().getReference());
        assertEquals("18842-5", d.getType().getCodingFirstRep().getCode());
        assertEquals(20, d.getContentFirstRep().getAttachment().getHash().length, "SHA-1");
        Bundle back = ClinicalDocuments.bundleOf(stored);
        assertNotNull(back);
        // the attachment holds exactly the document as built; read back it has the same entries and text
        assertEquals(FhirSupport.canonicalJson(b), new String(d.getContentFirstRep().getAttachment().getData(),
                java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(b.getEntry().stream().map(Bundle.BundleEntryComponent::getFullUrl).toList(),
                back.getEntry().stream().map(Bundle.BundleEntryComponent::getFullUrl).toList());
        assertTrue(ClinicalDocuments.check(back).isEmpty(), ClinicalDocuments.check(back).toString());
        // in the patient's compartment: found by the patient's search over the API
        JsonNode found = JSON.readTree(s.get("/DocumentReference?patient=" + patient + "&type=http://loinc.org%7C18842-5")
                .body());
        assertEquals(1, found.get("total").asInt(), found.toString());
        // a structurally broken document is not stored
        Bundle broken = docs.build(WRITER, AUTHOR, discharge());
        broken.getEntry().remove(0);
        assertThrows(FhirError.class, () -> docs.store(WRITER, broken, patient));
        assertEquals(1, JSON.readTree(s.get("/DocumentReference?patient=" + patient).body()).get("total").asInt());
    }

    @Test
    void thePatientSummaryIsACollectionOfTheFiveKindsOfInformation() throws Exception {
        Bundle b = docs.patientSummary(WRITER, patient, "https://mamori.example/fhir");
        assertEquals(Bundle.BundleType.COLLECTION, b.getType());
        assertEquals(ClinicalDocuments.SUMMARY_PROFILE, b.getMeta().getProfile().get(0).getValue());
        List<String> types = new ArrayList<>();
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            types.add(e.getResource().fhirType());
        }
        assertEquals(List.of("Patient", "Condition", "AllergyIntolerance", "MedicationRequest", "Observation"), types);
        assertEquals("https://mamori.example/fhir/Patient/" + patient, b.getEntryFirstRep().getFullUrl());
        assertTrue(FhirSupport.canonicalJson(b.getEntryFirstRep().getResource()).contains("山田"));
        // the operation over the API: the same collection, read as the caller, the patient named in the trail
        HttpResponse<String> r = s.get("/Patient/" + patient + "/$clins-summary");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = JSON.readTree(r.body());
        assertEquals("collection", j.get("type").asText());
        assertEquals(5, j.get("entry").size());
        assertTrue(r.body().contains("ペニシリン"), r.body());
        assertEquals(400, s.get("/Condition/" + patient + "/$clins-summary").statusCode());
        assertEquals(404, s.get("/Patient/" + UUID.randomUUID() + "/$clins-summary").statusCode());
        try (java.sql.Connection c = s.superuserConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry WHERE action = ?"
                     + " AND ? = ANY (patients)")) {
            ps.setString(1, "operation");
            ps.setString(2, patient);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next() && rs.getLong(1) >= 1, "the operation names the patient in the trail");
            }
        }
    }
}
