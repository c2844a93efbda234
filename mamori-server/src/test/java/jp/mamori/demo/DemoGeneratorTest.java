package jp.mamori.demo;

import jp.mamori.records.FhirSupport;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoGeneratorTest {
    private static final LocalDate TODAY = LocalDate.of(2026, 11, 23);

    private static String json(DemoGenerator.PatientData p) {
        StringBuilder sb = new StringBuilder();
        for (DemoGenerator.Entry e : p.entries()) {
            sb.append(e.fullUrl()).append(FhirSupport.canonicalJson(e.resource())).append('\n');
        }
        return sb.toString();
    }

    @Test
    void theSameSeedGivesTheSamePatientsAndAnotherSeedOthers() {
        DemoGenerator.Options o = new DemoGenerator.Options(0, 0);
        for (int i = 0; i < 5; i++) {
            assertEquals(json(new DemoGenerator(42, o, TODAY).patient(i)), json(new DemoGenerator(42, o, TODAY).patient(i)));
        }
        assertNotEquals(json(new DemoGenerator(42, o, TODAY).patient(0)), json(new DemoGenerator(43, o, TODAY).patient(0)));
        assertEquals("9042000007", new DemoGenerator(42, o, TODAY).patient(7).patientId());
    }

    @Test
    void everyResourceIsMarkedSyntheticAndPassesStructuralValidation() {
        FhirSupport fhir = new FhirSupport();
        for (int i = 0; i < 20; i++) {
            for (DemoGenerator.Entry e : new DemoGenerator(1, new DemoGenerator.Options(0, 0), TODAY).patient(i).entries()) {
                Resource r = e.resource();
                List<String> tags = r.getMeta().getTag().stream().map(c -> c.getSystem() + "|" + c.getCode()).toList();
                assertTrue(tags.contains(DemoGenerator.ORIGIN_SYSTEM + "|synthetic"), r.fhirType() + " " + tags);
                assertTrue(tags.contains(DemoGenerator.ACT_REASON + "|HTEST"), r.fhirType() + " " + tags);
                fhir.validate(r.copy()); // throws on a structural problem
                if (e.amended() != null) {
                    fhir.validate(e.amended().copy());
                }
            }
        }
    }

    @Test
    void patientsHaveKanjiAndKatakanaNamesAndAJapaneseAddress() {
        for (int i = 0; i < 50; i++) {
            Patient p = (Patient) new DemoGenerator(9, new DemoGenerator.Options(0, 0), TODAY).patient(i).entries().get(0)
                    .resource();
            assertEquals(2, p.getName().size());
            HumanName kanji = p.getName().get(0);
            HumanName kana = p.getName().get(1);
            assertEquals("IDE", kanji.getExtensionByUrl(DemoGenerator.REPRESENTATION).getValue().primitiveValue());
            assertEquals("SYL", kana.getExtensionByUrl(DemoGenerator.REPRESENTATION).getValue().primitiveValue());
            assertTrue(kana.getText().matches("[\\p{InKatakana}ー]+\u3000[\\p{InKatakana}ー]+"), kana.getText());
            assertTrue(kanji.getFamily().codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN));
            assertTrue(p.getAddressFirstRep().getText().matches("〒\\d{3}-\\d{4} .+[都道府県].+丁目\\d+番\\d+号"),
                    p.getAddressFirstRep().getText());
            assertTrue(p.getBirthDate() != null && p.hasGender());
        }
    }

    @Test
    void notesAreSoapCompositionsMostlyFinalWithSomeAmendedAndPsychiatryIsLabelled() {
        int fin = 0;
        int amended = 0;
        int drafts = 0;
        int psy = 0;
        for (int i = 0; i < 60; i++) {
            for (DemoGenerator.Entry e : new DemoGenerator(5, new DemoGenerator.Options(0, 0), TODAY).patient(i).entries()) {
                if (e.resource() instanceof Composition c) {
                    assertEquals("11506-3", c.getType().getCodingFirstRep().getCode());
                    assertEquals(List.of("61150-9", "61149-1", "51848-0", "18776-5"),
                            c.getSection().stream().map(s -> s.getCode().getCodingFirstRep().getCode()).toList());
                    assertTrue(c.getSection().get(0).getText().getDivAsString().contains("xhtml"));
                    switch (c.getStatus()) {
                        case FINAL -> fin++;
                        case PRELIMINARY -> drafts++;
                        default -> throw new AssertionError(c.getStatus());
                    }
                    if (e.amended() != null) {
                        amended++;
                        assertEquals(Composition.CompositionStatus.AMENDED, e.amended().getStatus());
                        assertTrue(e.amendReason() != null && !e.amendReason().isBlank());
                    }
                    if (c.getTitle().startsWith("精神科")) {
                        psy++;
                        List<Coding> sec = c.getMeta().getSecurity();
                        assertEquals("PSY", sec.get(0).getCode());
                    }
                }
            }
        }
        assertTrue(fin > amended && amended > 0 && drafts > 0 && psy > 0, fin + " " + amended + " " + drafts + " " + psy);
    }

    @Test
    void countsPerPatientFollowTheOptions() {
        DemoGenerator.PatientData p = new DemoGenerator(3, new DemoGenerator.Options(500, 30), TODAY).patient(0);
        long labs = p.entries().stream().filter(e -> e.resource() instanceof Observation o
                && !o.getCode().getCodingFirstRep().getCode().equals("85354-9")).count();
        long notes = p.entries().stream().filter(e -> e.resource() instanceof Composition).count();
        assertEquals(500, labs);
        assertEquals(30, notes);
        Observation o = (Observation) p.entries().stream().filter(e -> e.resource() instanceof Observation).findFirst()
                .orElseThrow().resource();
        assertTrue(o.getValueQuantity().hasValue() && o.hasReferenceRange());
    }

    private static LocalDate day(java.util.Date d) {
        return d.toInstant().atZone(java.time.ZoneId.of("Asia/Tokyo")).toLocalDate();
    }

    /**
     * Demo data a clinician would believe (issue 22): nothing before birth, children seen in paediatrics only and
     * adults never there, a child's results a child's (no HbA1c or kidney panel, blood pressure from three with a
     * child's values), no active drug the patient is recorded as allergic to, and patients in hospital today.
     */
    @Test
    void agesFitDepartmentsTestsAndDatesAndNoActiveDrugIsOneThePatientIsAllergicTo() {
        DemoGenerator gen = new DemoGenerator(5, new DemoGenerator.Options(0, 0), TODAY);
        int children = 0;
        int today = 0;
        int allergicToNsaids = 0;
        for (int i = 0; i < 400; i++) {
            DemoGenerator.PatientData p = gen.patient(i);
            Patient pt = (Patient) p.entries().get(0).resource();
            LocalDate birth = LocalDate.parse(pt.getBirthDateElement().getValueAsString());
            boolean child = java.time.Period.between(birth, TODAY).getYears() < 16;
            children += child ? 1 : 0;
            boolean nsaidAllergy = false;
            List<String> activeDrugs = new java.util.ArrayList<>();
            boolean inHospitalToday = false;
            for (DemoGenerator.Entry e : p.entries()) {
                Resource r = e.resource();
                if (r instanceof org.hl7.fhir.r4.model.Encounter enc) {
                    LocalDate start = day(enc.getPeriod().getStart());
                    assertTrue(start.isAfter(birth), p.patientId() + " encounter " + start + " before birth " + birth);
                    assertEquals(child, enc.getServiceType().getText().equals("小児科"),
                            p.patientId() + " aged " + birth + " in " + enc.getServiceType().getText());
                    if (enc.getStatus() != org.hl7.fhir.r4.model.Encounter.EncounterStatus.FINISHED) {
                        inHospitalToday = true;
                        assertTrue(!start.isAfter(TODAY), p.patientId() + " " + start);
                    }
                } else if (r instanceof org.hl7.fhir.r4.model.Condition c) {
                    assertTrue(!LocalDate.parse(c.getOnsetDateTimeType().getValueAsString()).isBefore(birth),
                            p.patientId() + " onset before birth");
                } else if (r instanceof Observation o) {
                    String code = o.getCode().getCodingFirstRep().getCode();
                    if (child) {
                        assertTrue(List.of("718-7", "6690-2", "1988-5", "8310-5", "85354-9").contains(code),
                                p.patientId() + " child with " + o.getCode().getText());
                        if (code.equals("85354-9")) {
                            assertTrue(java.time.Period.between(birth, day(o.getEffectiveDateTimeType().getValue()))
                                    .getYears() >= 3, p.patientId() + " blood pressure under three");
                            assertTrue(o.getComponentFirstRep().getValueQuantity().getValue().intValue() <= 115,
                                    p.patientId() + " adult blood pressure for a child");
                        }
                    }
                } else if (r instanceof org.hl7.fhir.r4.model.AllergyIntolerance a) {
                    nsaidAllergy |= a.getCode().getText().equals("NSAIDs");
                } else if (r instanceof org.hl7.fhir.r4.model.MedicationRequest m
                        && m.getStatus() == org.hl7.fhir.r4.model.MedicationRequest.MedicationRequestStatus.ACTIVE) {
                    activeDrugs.add(m.getMedicationCodeableConcept().getText());
                }
            }
            if (nsaidAllergy) {
                allergicToNsaids++;
                assertTrue(activeDrugs.stream().noneMatch(d -> d.startsWith("ロキソプロフェン") || d.startsWith("セレコキシブ")),
                        p.patientId() + " allergic to NSAIDs and on " + activeDrugs);
            }
            assertEquals(inHospitalToday, p.profile().today() != null, p.patientId());
            today += inHospitalToday ? 1 : 0;
        }
        assertTrue(children > 40 && children < 160, "children " + children);
        assertTrue(today > 100 && today < 300, "in hospital today " + today);
        assertTrue(allergicToNsaids > 0, "no NSAID allergy to check");
    }
}
