package jp.mamori.continuity;

import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.records.BundleProcessor;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The downtime kit for 500 inpatients (issue 18 "Performance": target ≤ 2 minutes), on a fresh embedded server: 10
 * wards of 50 inpatients, each patient with 2 allergies, an infection and 2 other problems, 4 current medications,
 * 30 results of the last weeks and 5 final notes; every ward has a password. Measures one whole generation (read
 * through the record service, render, encrypt, write, one audit entry). Not a unit test; run it when the machine is
 * quiet:
 * <pre>./mvnw -o -q -pl mamori-server test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp mamori-server/target/test-classes:mamori-server/target/classes:$(cat mamori-server/target/cp.txt) \
 *     jp.mamori.continuity.DowntimeKitBench 500</pre>
 */
public final class DowntimeKitBench {
    private DowntimeKitBench() {
    }

    public static void main(String[] args) throws Exception {
        int patients = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int wards = 10;
        Path dir = TestData.newFolder("kit-bench-");
        try (TestServer server = TestServer.start(List.of("--http", "--downtime-dir", dir.toString()))) {
            BundleProcessor bundles = new BundleProcessor(server.server().records());
            Caller system = Caller.system("bench");
            long t0 = System.nanoTime();
            Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            Instant now = Instant.now();
            for (int i = 0; i < patients; i++) {
                String ward = "病棟" + (i % wards + 1) + "階";
                String p = "urn:uuid:" + UUID.randomUUID();
                Patient pt = new Patient();
                pt.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.11234567890").setValue(
                        String.format("B%06d", i));
                pt.addName().setFamily("試験" + i).addGiven("花子");
                pt.setGender(Enumerations.AdministrativeGender.FEMALE);
                pt.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1948-0" + (1 + i % 9) + "-15"));
                add(b, p, pt);
                Reference s = new Reference(p);
                Encounter e = new Encounter().setStatus(Encounter.EncounterStatus.INPROGRESS)
                        .setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient"))
                        .setSubject(s).setPeriod(new Period().setStartElement(new DateTimeType(
                                Date.from(now.minus(Duration.ofDays(1 + i % 20))))));
                e.setServiceType(new CodeableConcept().setText("内科"));
                e.addLocation().setLocation(new Reference().setDisplay(ward));
                add(b, null, e);
                for (String a : List.of("ペニシリン系抗菌薬", "ヨード造影剤")) {
                    add(b, null, new AllergyIntolerance().setPatient(s).setCode(new CodeableConcept().setText(a))
                            .setClinicalStatus(new CodeableConcept(new Coding(
                                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", null))));
                }
                for (String[] c : List.of(new String[]{"B18.2", "慢性C型肝炎"}, new String[]{"I10", "本態性高血圧症"},
                        new String[]{"E11.9", "2型糖尿病"})) {
                    add(b, null, new Condition().setSubject(s).setCode(new CodeableConcept(new Coding(
                            "http://hl7.org/fhir/sid/icd-10", c[0], c[1])).setText(c[1])));
                }
                for (String m : List.of("アムロジピン錠5mg 1日1回朝", "メトホルミン錠250mg 1日2回", "ランソプラゾールOD錠15mg",
                        "酸化マグネシウム錠330mg 1日3回")) {
                    add(b, null, new MedicationRequest().setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE)
                            .setIntent(MedicationRequest.MedicationRequestIntent.ORDER).setSubject(s)
                            .setMedication(new CodeableConcept().setText(m)));
                }
                for (int k = 0; k < 30; k++) {
                    Observation o = new Observation().setStatus(Observation.ObservationStatus.FINAL)
                            .setCode(new CodeableConcept().setText(List.of("体温", "脈拍", "HbA1c", "Cr", "CRP").get(k % 5)))
                            .setSubject(s).setEffective(new DateTimeType(Date.from(now.minus(Duration.ofHours(6L * k)))));
                    o.setValue(new Quantity().setValue(36.5 + k % 3).setUnit("単位"));
                    add(b, null, o);
                }
                for (int k = 0; k < 5; k++) {
                    Composition c = new Composition().setStatus(Composition.CompositionStatus.FINAL)
                            .setType(new CodeableConcept().setText("経過記録")).setSubject(s)
                            .setDate(Date.from(now.minus(Duration.ofDays(k)))).setTitle("経過記録");
                    c.addAuthor().setDisplay("医師 太郎");
                    Narrative n = new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED);
                    n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + "夜間の発熱なし。食事は全量摂取。"
                            .repeat(10) + "</div>");
                    c.addSection().setTitle("S").setText(n);
                    add(b, null, c);
                }
                if (b.getEntry().size() >= 400 || i == patients - 1) {
                    bundles.process(system, b, "bench");
                    b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
                }
            }
            System.out.printf("data: %d inpatients in %d wards written in %.1f s%n", patients, wards,
                    (System.nanoTime() - t0) / 1e9);
            DowntimeKit kit = server.server().downtimeKit();
            for (int w = 1; w <= wards; w++) {
                kit.setPassword("病棟" + w + "階", "bench-ward-password-" + w, Actor.server("bench"));
            }
            kit.generate(Actor.server("bench")); // warm-up: class loading, the font
            for (int run = 0; run < 3; run++) {
                long t1 = System.nanoTime();
                DowntimeKit.Generation g = kit.generate(Actor.server("bench"));
                long bytes;
                try (Stream<Path> s = Files.list(dir)) {
                    bytes = s.filter(f -> f.toString().endsWith(".pdf")).mapToLong(f -> f.toFile().length()).sum();
                }
                System.out.printf("generation %d: %d files, %d patients in %.1f s (folder %.1f MB)%n", run,
                        g.files().size(), g.patients(), (System.nanoTime() - t1) / 1e9, bytes / 1e6);
                Thread.sleep(61_000); // a new minute, a new file name
            }
        }
    }

    private static void add(Bundle b, String fullUrl, Resource r) {
        b.addEntry().setFullUrl(fullUrl == null ? "urn:uuid:" + UUID.randomUUID() : fullUrl).setResource(r)
                .getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl(r.fhirType());
    }
}
