package jp.mamori.disclosure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.ResourceRef;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The disclosure package against a real server, database and trail: the Japanese PDF read back with poppler's
 * pdftotext (the patient's name, an allergy, a result, the reason a kind was withheld; nothing of another patient),
 * the Bundle parsed by HAPI with the same resources, the access report naming a person who read the record, the
 * manifest's hashes, the ledger (append-only) and the trail, the download only for its producer, and bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DisclosureTest {
    private static final Caller SYS = Caller.system("test");
    private static final Path PDFTOTEXT = Path.of("/usr/bin/pdftotext");
    private TestServer s;
    private Disclosures disclosures;
    private String pid;
    private String other;
    private final Set<String> mine = new TreeSet<>();
    private String compositionId;
    private final Actor admin = Actor.person("account:" + UUID.randomUUID(), "開示 担当", List.of("account_admin"),
            "医事課", "127.0.0.1", null);
    private final UUID adminAccount = UUID.randomUUID();

    static final Disclosures.Words WORDS = new Disclosures.Words() {
        @Override
        public String action(String code) {
            return Map.of("read", "閲覧", "create", "記載", "disclosure.request", "開示請求の受付").getOrDefault(code, code);
        }

        @Override
        public String purpose(String code) {
            return Map.of("treatment", "診療", "maintenance", "保守", "administration", "管理業務")
                    .getOrDefault(String.valueOf(code), String.valueOf(code));
        }

        @Override
        public String roles(List<String> codes) {
            return String.join("、", codes.stream().map(c -> c.equals("physician") ? "医師" : c).toList());
        }
    };

    private String create(Resource r) {
        return s.server().records().create(SYS, r, null, null).stored().id();
    }

    @BeforeAll
    void data() {
        s = TestServer.shared();
        disclosures = s.server().disclosures();
        Patient p = new Patient();
        String ident = "98" + (System.nanoTime() % 100_000_000L);
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue(ident);
        p.addName().setFamily("開示").addGiven("花子").setText("開示\u3000花子");
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1970-04-01"));
        pid = create(p);
        mine.add("Patient/" + pid);
        AllergyIntolerance a = new AllergyIntolerance();
        a.setPatient(new Reference("Patient/" + pid)).setCode(new CodeableConcept().setText("ペニシリン系抗菌薬"));
        mine.add("AllergyIntolerance/" + create(a));
        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + pid)).setCode(new CodeableConcept().setText("2型糖尿病"));
        mine.add("Condition/" + create(c));
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL).setCode(new CodeableConcept().setText("HbA1c"))
                .setSubject(new Reference("Patient/" + pid)).setEffective(new DateTimeType("2026-10-01T09:00:00+09:00"))
                .setValue(new Quantity().setValue(new BigDecimal("7.3")).setUnit("%"));
        mine.add("Observation/" + create(o));
        Observation old = new Observation();
        old.setStatus(Observation.ObservationStatus.FINAL).setCode(new CodeableConcept().setText("HbA1c"))
                .setSubject(new Reference("Patient/" + pid)).setEffective(new DateTimeType("2019-01-10T09:00:00+09:00"))
                .setValue(new Quantity().setValue(new BigDecimal("9.9")).setUnit("%"));
        mine.add("Observation/" + create(old));
        Composition n = new Composition();
        n.setStatus(Composition.CompositionStatus.FINAL).setType(new CodeableConcept().setText("経過記録"))
                .setSubject(new Reference("Patient/" + pid)).setDate(new java.util.Date()).setTitle("外来経過記録");
        n.addAuthor().setDisplay("医師 鈴木");
        Narrative text = new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED);
        text.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">口渇が続く。</div>");
        n.addSection().setTitle("S").setText(text);
        compositionId = create(n);
        Patient q = new Patient();
        q.addName().setFamily("他人").addGiven("太郎");
        other = create(q);
        AllergyIntolerance oa = new AllergyIntolerance();
        oa.setPatient(new Reference("Patient/" + other)).setCode(new CodeableConcept().setText("そば粉"));
        create(oa);
        // a named person reads the record (and another patient's, in the same entry)
        s.server().audit().recorder().append(AuditEvent.by(Actor.person("account:" + UUID.randomUUID(),
                        "閲覧 一郎", List.of("physician"), "内科", "10.0.0.9", null), AuditAction.READ)
                .purpose(Purpose.TREATMENT).patient(PatientRef.of(pid)).patient(PatientRef.of(other))
                .resource(ResourceRef.of("Patient", pid)).build());
    }

    private Disclosures.Request request(String kind, String relationship) {
        return disclosures.record(new Disclosures.RequestForm(pid, kind, "開示 花子", relationship,
                LocalDate.now(ZoneId.of("Asia/Tokyo")).minusDays(1).toString(), "診療記録一式の写し", null), admin);
    }

    private static Map<String, byte[]> unzip(byte[] zip) throws Exception {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip), StandardCharsets.UTF_8)) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }

    static String pdfText(byte[] pdf) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PDFTOTEXT) || Boolean.getBoolean("mamori.requirePoppler"),
                "pdftotext (poppler-utils) is not installed");
        Path file = Files.createTempFile("disclosure-", ".pdf");
        try {
            Files.write(file, pdf);
            Process p = new ProcessBuilder(PDFTOTEXT.toString(), "-layout", file.toString(), "-")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            return out;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void aPackageHoldsTheReadablePdfTheSameDataAsABundleTheAccessReportAndTheirHashes() throws Exception {
        Disclosures.Request rq = request("representative", "親権者");
        LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));
        Disclosures.Decision d = Disclosures.decision(List.of("allergies", "conditions", "medications", "results"),
                "2020-01-01", null, Map.of("notes", "第三者の情報を含むため"), true, today.minusDays(7).toString(),
                today.plusDays(1).toString());
        Disclosures.Produced produced = disclosures.produce(rq.id(), d, WORDS, admin, adminAccount);
        Map<String, byte[]> files = unzip(disclosures.download(produced.pkg().id(), adminAccount, admin).zip());
        assertEquals(Set.of("disclosure.pdf", "records.json", "access-report.pdf", "manifest.json"), files.keySet());

        // kept for a person to look at (target/screenshots), as the browser tests keep their screenshots
        Path shots = Files.createDirectories(Path.of("target", "screenshots"));
        Files.write(shots.resolve("disclosure-package.pdf"), files.get("disclosure.pdf"));
        Files.write(shots.resolve("disclosure-access-report.pdf"), files.get("access-report.pdf"));
        String text = pdfText(files.get("disclosure.pdf"));
        for (String want : List.of("開示", "花子", "ペニシリン系抗菌薬", "2型糖尿病", "HbA1c", "7.3", "親権者",
                "第三者の情報を含むため", "診療情報の開示")) {
            assertTrue(text.contains(want), () -> want + " in the PDF: " + text);
        }
        assertFalse(text.contains("9.9"), "a result before the period is not disclosed: " + text);
        assertFalse(text.contains("口渇"), "notes were withheld");
        assertFalse(text.contains("そば粉") || text.contains("他人"), "nothing of another patient");

        Bundle b = (Bundle) FhirSupport.parseStored(new String(files.get("records.json"), StandardCharsets.UTF_8));
        assertEquals(Bundle.BundleType.COLLECTION, b.getType());
        Set<String> inBundle = new TreeSet<>();
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            inBundle.add(e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart());
        }
        Set<String> want = new TreeSet<>(mine);
        want.removeIf(x -> x.startsWith("Observation/"));
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            if (e.getResource() instanceof Observation ob) {
                assertEquals("7.3", ob.getValueQuantity().getValue().toPlainString(), "only the result in the period");
            }
        }
        assertEquals(want.size() + 1, inBundle.size(), inBundle::toString);
        assertTrue(inBundle.containsAll(want), inBundle::toString);
        assertFalse(inBundle.contains("Composition/" + compositionId));
        assertEquals(produced.pkg().resources(), b.getEntry().size());
        RecordService.Stored stored = s.server().records().read(SYS, "Patient", pid);
        assertTrue(new String(files.get("records.json"), StandardCharsets.UTF_8).contains(stored.bodyText()),
                "the stored resource as it is");

        String access = pdfText(files.get("access-report.pdf"));
        assertTrue(access.contains("閲覧 一郎") && access.contains("医師") && access.contains("内科")
                && access.contains("閲覧") && access.contains("診療"), access);
        assertTrue(access.contains("開示 担当") && access.contains("開示請求の受付"),
                "the request recorded in the trail is an access too: " + access);
        assertTrue(access.contains("システム（test）"), "a system caller is named as one: " + access);
        assertFalse(access.contains("他人"), access);

        JsonNode manifest = new ObjectMapper().readTree(files.get("manifest.json"));
        assertFalse(manifest.path("sealed").asBoolean(), "no seal in the test server");
        assertTrue(manifest.path("signature").asText().contains("unsigned"));
        for (JsonNode f : manifest.path("files")) {
            assertEquals(PackageBuilder.sha256(files.get(f.path("name").asText())), f.path("sha256").asText());
            assertEquals(f.path("sha256").asText(), produced.pkg().files().get(f.path("name").asText()));
        }

        // the ledger: the package as given, append-only; the trail names the patient
        Disclosures.Package kept = disclosures.pkg(produced.pkg().id()).orElseThrow();
        assertEquals(produced.pkg().zipSha256(), kept.zipSha256());
        assertEquals(List.of("allergies", "conditions", "medications", "results"), kept.kinds());
        assertEquals("第三者の情報を含むため", kept.withheld().get(0).reason());
        try (Connection c = s.superuserConnection()) {
            for (String sql : List.of("UPDATE disclosure_package SET resources = 0 WHERE package_id = ?",
                    "DELETE FROM disclosure_package WHERE package_id = ?")) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setObject(1, kept.id());
                    assertThrows(SQLException.class, ps::executeUpdate, sql);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE disclosure_request SET asked = 'x' WHERE"
                    + " request_id = ?")) {
                ps.setObject(1, rq.id());
                assertThrows(SQLException.class, ps::executeUpdate);
            }
        }
        List<AuditReports.Row> trail = s.server().audit().reports().patientAccess(pid,
                java.time.Instant.now().minusSeconds(600), java.time.Instant.now().plusSeconds(5), 1000);
        assertTrue(trail.stream().anyMatch(r -> r.action().equals("disclosure.package")), "produced, naming the patient");
        assertTrue(trail.stream().anyMatch(r -> r.action().equals("disclosure.download")));
        assertTrue(trail.stream().anyMatch(r -> r.action().equals("disclosure.request")));

        Disclosures.Handover h = disclosures.handOver(kept.id(), "窓口で手渡し", admin);
        assertEquals("窓口で手渡し", disclosures.pkg(kept.id()).orElseThrow().handover().how());
        assertEquals("窓口で手渡し", h.how());
        assertThrows(Disclosures.Refusal.class, () -> disclosures.handOver(kept.id(), "二度目", admin));
    }

    @Test
    void onlyTheProducerDownloadsAndNotesAreGivenInFull() throws Exception {
        Disclosures.Request rq = request("patient", null);
        Disclosures.Produced p = disclosures.produce(rq.id(), Disclosures.decision(List.of("notes", "allergies"),
                null, null, Map.of(), false, null, null), WORDS, admin, adminAccount);
        assertThrows(Disclosures.Refusal.class, () -> disclosures.download(p.pkg().id(), UUID.randomUUID(), admin),
                "another administrator");
        assertThrows(Disclosures.Refusal.class, () -> disclosures.download(UUID.randomUUID(), adminAccount, admin));
        assertFalse(disclosures.downloadable(p.pkg().id(), UUID.randomUUID()));
        Map<String, byte[]> files = unzip(disclosures.download(p.pkg().id(), adminAccount, admin).zip());
        assertEquals(Set.of("disclosure.pdf", "records.json", "manifest.json"), files.keySet(), "no access report asked");
        String text = pdfText(files.get("disclosure.pdf"));
        assertTrue(text.contains("口渇が続く。") && text.contains("外来経過記録") && text.contains("本人"), text);
    }

    @Test
    void badInputIsAClearRefusalAndNothingIsRecorded() {
        long before = disclosures.requestsOf(pid).size();
        assertThrows(Disclosures.Refusal.class, () -> disclosures.record(new Disclosures.RequestForm(
                "no-such-patient", "patient", "誰か", null, "2026-01-01", "写し", null), admin));
        assertThrows(Disclosures.Refusal.class, () -> disclosures.record(new Disclosures.RequestForm(
                "../../etc", "patient", "誰か", null, "2026-01-01", "写し", null), admin));
        assertThrows(Disclosures.Refusal.class, () -> request("representative", null), "a representative's relationship");
        assertThrows(Disclosures.Refusal.class, () -> request("king", null));
        assertThrows(Disclosures.Refusal.class, () -> disclosures.record(new Disclosures.RequestForm(pid, "patient",
                "x".repeat(201), null, "2026-01-01", "写し", null), admin));
        assertThrows(Disclosures.Refusal.class, () -> disclosures.record(new Disclosures.RequestForm(pid, "patient",
                "本人", null, "2999-01-01", "写し", null), admin), "received in the future");
        assertEquals(before, disclosures.requestsOf(pid).size());
        assertThrows(Disclosures.Refusal.class, () -> Disclosures.decision(List.of(), null, null, Map.of(), false,
                null, null));
        assertThrows(Disclosures.Refusal.class, () -> Disclosures.decision(List.of("everything"), null, null,
                Map.of(), false, null, null));
        assertThrows(Disclosures.Refusal.class, () -> Disclosures.decision(List.of("results"), "2026-02-01",
                "2026-01-01", Map.of(), false, null, null));
        assertThrows(Disclosures.Refusal.class, () -> Disclosures.decision(List.of("results"), null, null, Map.of(),
                true, "1900-01-01", "2026-01-01"), "an access report over ten years");
        assertThrows(Disclosures.Refusal.class, () -> Disclosures.decision(List.of("results"), "2026-13-45", null,
                Map.of(), false, null, null));
        assertThrows(Disclosures.Refusal.class, () -> disclosures.produce(UUID.randomUUID(),
                Disclosures.decision(List.of("results"), null, null, Map.of(), false, null, null), WORDS, admin,
                adminAccount));
    }
}
