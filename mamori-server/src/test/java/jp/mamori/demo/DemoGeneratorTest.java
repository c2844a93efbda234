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
}
