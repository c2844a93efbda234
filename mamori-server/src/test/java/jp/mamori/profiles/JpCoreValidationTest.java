package jp.mamori.profiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.config.Validation;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestFhirPackage;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static jp.mamori.testing.TestFhirPackage.JP_PATIENT;
import static jp.mamori.testing.TestFhirPackage.PATIENT_ID_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JP Core validation on write (issue 23; STORE-3): the package loaded from a file or a folder, a resource that claims a
 * JP Core profile checked against it with each violation named by element in Japanese and English, a broken package
 * refused at start with the file and the reason, and over HTTP nothing written when a resource does not conform.
 */
class JpCoreValidationTest {
    private static Path dir;
    private static Path tgz;
    private static FhirPackages packages;
    private static FhirSupport fhir;

    @BeforeAll
    static void loadPackage() throws Exception {
        dir = TestData.newFolder("jpcore-");
        tgz = TestFhirPackage.write(dir.resolve("pkgs"));
        packages = FhirPackages.load(FhirSupport.CTX, List.of(tgz));
        fhir = new FhirSupport(Validation.JP_CORE, packages, List.of());
    }

    static Patient jpPatient(String id) {
        Patient p = new Patient();
        p.getMeta().addProfile(JP_PATIENT);
        p.addIdentifier().setSystem(PATIENT_ID_SYSTEM).setValue(id);
        p.addName().setFamily("山田").addGiven("太郎").addExtension(TestFhirPackage.REPRESENTATION, new CodeType("IDE"));
        p.addName().setFamily("ヤマダ").addGiven("タロウ").addExtension(TestFhirPackage.REPRESENTATION, new CodeType("SYL"));
        p.setGender(Enumerations.AdministrativeGender.MALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1970-04-01"));
        return p;
    }

    @Test
    void packageLoadsFromAFileAndFromAFolderWithItsProfiles() throws Exception {
        FhirPackages.Loaded l = packages.loaded().get(0);
        assertEquals("jp-core.r4#1.1.2-test", l.label());
        assertEquals(2, l.profiles());
        assertEquals("Patient", packages.profile("JP_Patient").orElseThrow().getType());
        assertEquals("JP_Patient", packages.profile(JP_PATIENT + "|1.1.2-test").orElseThrow().getName());
        // a folder of packages (as <data>/fhir-packages/ is): the package folder form inside it
        Path folder = dir.resolve("folder-form");
        TestFhirPackage.writeFolder(folder.resolve("jp-core.r4"), TestFhirPackage.files());
        FhirPackages fromFolder = FhirPackages.load(FhirSupport.CTX, List.of(folder));
        assertEquals("jp-core.r4#1.1.2-test", fromFolder.loaded().get(0).label());
        assertTrue(fromFolder.profile(TestFhirPackage.JP_PRACTITIONER).isPresent());
    }

    @Test
    void aConformingResourcePasses() {
        fhir.validate(jpPatient("12345"));
        // a resource that claims no profile is checked against the base R4 definitions only
        fhir.validate(new Patient().addName(new HumanName().setFamily("鈴木")));
    }

    @Test
    void aMissingPatientIdIsNamedByElementInJapaneseAndEnglish() {
        Patient p = jpPatient("1");
        p.getIdentifierFirstRep().setSystem("urn:oid:1.2.392.100495.20.3.51.19999999999");
        FhirError e = assertThrows(FhirError.class, () -> fhir.validate(p));
        assertEquals(422, e.status());
        FhirError.Issue slice = e.issues().stream().filter(i -> i.diagnostics().contains("patientId")).findFirst()
                .orElseThrow(() -> new AssertionError("no issue about the patientId slice: " + e.issues()));
        assertTrue(slice.expression().startsWith("Patient"), slice.expression());
        assertTrue(slice.diagnostics().contains("プロファイルに適合しません")
                && slice.diagnostics().contains("does not conform to the profile"), slice.diagnostics());
    }

    @Test
    void aMissingKanaNameBreaksTheInvariantAndAMissingBirthDateIsNamed() {
        Patient p = jpPatient("2");
        p.getName().remove(1);
        p.setBirthDate(null);
        FhirError e = assertThrows(FhirError.class, () -> fhir.validate(p));
        assertTrue(e.issues().stream().anyMatch(i -> i.diagnostics().contains("jp-pat-1")), e.issues().toString());
        assertTrue(e.issues().stream().anyMatch(i -> String.valueOf(i.expression()).equals("Patient")
                && i.diagnostics().contains("birthDate")), e.issues().toString());
    }

    @Test
    void aClaimOfAJpCoreProfileThePackageDoesNotDefineIsRefused() {
        Patient p = jpPatient("3");
        p.getMeta().getProfile().clear();
        p.getMeta().addProfile("http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patinet");
        FhirError e = assertThrows(FhirError.class, () -> fhir.validate(p));
        assertEquals("Patient.meta.profile[0]", e.issues().get(0).expression());
        assertTrue(e.issues().get(0).diagnostics().contains("JP_Patinet"), e.issues().get(0).diagnostics());
    }

    @Test
    void aRequiredProfileChecksEveryResourceOfItsTypeWhetherOrNotItClaimsIt() {
        FhirSupport strict = new FhirSupport(Validation.JP_CORE, packages, List.of("JP_Practitioner"));
        assertEquals(Map.of("Practitioner", TestFhirPackage.JP_PRACTITIONER), strict.requiredProfiles());
        FhirError e = assertThrows(FhirError.class, () -> strict.validate(new Practitioner().setActive(true)));
        assertTrue(e.issues().stream().anyMatch(i -> i.diagnostics().contains("Practitioner.name")),
                e.issues().toString());
        strict.validate(new Practitioner().addName(new HumanName().setFamily("佐藤")));
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> new FhirSupport(Validation.JP_CORE, packages, List.of("JP_Nothing")));
        assertTrue(unknown.getMessage().contains("JP_Nothing"), unknown.getMessage());
    }

    @Test
    void aBrokenPackageIsRefusedWithItsFileAndTheReason() throws Exception {
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("not-gzip.tgz"), "this is not a package");
        assertRefused(bad.resolve("not-gzip.tgz"), "not-gzip.tgz", "not a FHIR package");

        Map<String, String> noManifest = new LinkedHashMap<>(TestFhirPackage.files());
        noManifest.remove("package/package.json");
        assertRefused(TestFhirPackage.write(bad.resolve("no-manifest.tgz"), noManifest), "no-manifest.tgz", "");

        Map<String, String> badJson = new LinkedHashMap<>(TestFhirPackage.files());
        badJson.put("package/StructureDefinition-jp-patient.json", TestFhirPackage.JP_PATIENT_SD.replace("\"kind\"",
                "\"kind\" \"kind\""));
        assertRefused(TestFhirPackage.write(bad.resolve("bad-json.tgz"), badJson), "bad-json.tgz", "JSON");

        Map<String, String> noBase = new LinkedHashMap<>(TestFhirPackage.files());
        noBase.put("package/StructureDefinition-jp-patient.json", TestFhirPackage.JP_PATIENT_SD.replace(
                "http://hl7.org/fhir/StructureDefinition/Patient", "http://jpfhir.jp/fhir/core/StructureDefinition/Gone"));
        assertRefused(TestFhirPackage.write(bad.resolve("no-base.tgz"), noBase), "no-base.tgz", "StructureDefinition/Gone");

        assertRefused(bad.resolve("missing.tgz"), "missing.tgz", "does not exist");
        Path empty = Files.createDirectories(bad.resolve("empty"));
        assertRefused(empty, "no FHIR package found", "");
        // the settings: packages only with jp-core; jp-core alone looks in <data>/fhir-packages/
        ConfigException e = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(
                List.of("--fhir-package", tgz.toString()), Map.of()));
        assertTrue(e.getMessage().contains("--validation jp-core"), e.getMessage());
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", dir.toString(), "--validation", "jp-core"), Map.of());
        assertEquals(List.of(dir.toAbsolutePath().normalize().resolve("fhir-packages")), cfg.profiles().packages());
    }

    private static void assertRefused(Path source, String named, String reason) {
        ConfigException e = assertThrows(ConfigException.class, () -> FhirPackages.load(FhirSupport.CTX,
                List.of(source)));
        assertTrue(e.getMessage().contains(named) && e.getMessage().contains(reason)
                && e.getMessage().contains("読み込めません") || e.getMessage().contains(named)
                && e.getMessage().contains("見つかりません"), e.getMessage());
    }

    /** Over the FHIR API: a non-conforming resource is refused with the element named and nothing is written. */
    @Test
    void overHttpNothingIsWrittenWhenAResourceDoesNotConform() throws Exception {
        try (TestServer s = TestServer.start(List.of("--validation", "jp-core", "--fhir-package", tgz.toString()))) {
            String id = "JP" + UUID.randomUUID().toString().substring(0, 8);
            Patient bad = jpPatient(id);
            bad.getName().remove(1);
            HttpResponse<String> r = s.post("/Patient", FhirSupport.canonicalJson(bad));
            assertEquals(422, r.statusCode(), r.body());
            JsonNode oo = new ObjectMapper().readTree(r.body());
            assertEquals("OperationOutcome", oo.get("resourceType").asText());
            assertTrue(r.body().contains("jp-pat-1") && r.body().contains("プロファイルに適合しません"), r.body());
            assertTrue(oo.get("issue").get(0).has("expression"), r.body());
            String search = "/Patient?identifier=" + URLEncoder.encode(PATIENT_ID_SYSTEM + "|" + id, StandardCharsets.UTF_8);
            assertEquals(0, new ObjectMapper().readTree(s.get(search).body()).get("total").asInt());

            HttpResponse<String> ok = s.post("/Patient", FhirSupport.canonicalJson(jpPatient(id)));
            assertEquals(201, ok.statusCode(), ok.body());
            assertEquals(1, new ObjectMapper().readTree(s.get(search).body()).get("total").asInt());
        }
    }
}
