package jp.mamori.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

class SyntheticPatientsTest {

    private static final String REPRESENTATION =
            "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

    private static IParser strictParser() {
        return FhirContext.forR4Cached().newJsonParser().setParserErrorHandler(new StrictErrorHandler());
    }

    @Test
    void patientsParseAndHaveKanjiAndKatakanaNames() {
        Random random = new Random(1);
        IParser parser = strictParser();
        for (int i = 0; i < 200; i++) {
            Patient patient = parser.parseResource(Patient.class, SyntheticPatients.patient(random));

            assertEquals(2, patient.getName().size());
            HumanName kanji = patient.getName().get(0);
            HumanName kana = patient.getName().get(1);
            assertEquals("IDE", kanji.getExtensionByUrl(REPRESENTATION).getValue().primitiveValue());
            assertEquals("SYL", kana.getExtensionByUrl(REPRESENTATION).getValue().primitiveValue());
            assertTrue(isAll(kanji.getFamily(), Character.UnicodeScript.HAN), kanji.getFamily());
            assertTrue(isAll(kanji.getGivenAsSingleString(), Character.UnicodeScript.HAN), kanji.getGivenAsSingleString());
            assertTrue(isAll(kana.getFamily(), Character.UnicodeScript.KATAKANA), kana.getFamily());
            assertTrue(isAll(kana.getGivenAsSingleString(), Character.UnicodeScript.KATAKANA), kana.getGivenAsSingleString());

            assertEquals(SyntheticPatients.IDENTIFIER_SYSTEM, patient.getIdentifierFirstRep().getSystem());
            assertTrue(patient.getIdentifierFirstRep().getValue().matches("\\d{10}"));
            assertEquals(ContactPoint.ContactPointSystem.PHONE, patient.getTelecomFirstRep().getSystem());
            assertTrue(patient.getTelecomFirstRep().getValue().matches("0[789]0-\\d{4}-\\d{4}"));
            assertNotNull(patient.getGender());
            assertNotNull(patient.getBirthDate());
            assertEquals("JP", patient.getAddressFirstRep().getCountry());
            assertTrue(patient.getAddressFirstRep().getState().matches(".+[都道府県]"));
            assertTrue(patient.getAddressFirstRep().getText().startsWith(patient.getAddressFirstRep().getState()));
        }
    }

    @Test
    void transactionBundleHasHundredPatientPosts() {
        Bundle bundle = strictParser().parseResource(Bundle.class, SyntheticPatients.transaction(100, new Random(2)));
        assertEquals(Bundle.BundleType.TRANSACTION, bundle.getType());
        assertEquals(100, bundle.getEntry().size());
        Set<String> fullUrls = new HashSet<>();
        for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
            assertTrue(entry.getFullUrl().startsWith("urn:uuid:"));
            assertEquals(4, UUID.fromString(entry.getFullUrl().substring(9)).version());
            fullUrls.add(entry.getFullUrl());
            assertEquals(Bundle.HTTPVerb.POST, entry.getRequest().getMethod());
            assertEquals("Patient", entry.getRequest().getUrl());
            assertTrue(entry.getResource() instanceof Patient);
        }
        assertEquals(100, fullUrls.size());
    }

    @Test
    void familyNamesAreDistinctKanji() {
        List<String> families = SyntheticPatients.familyNames();
        assertTrue(families.size() >= 24);
        assertEquals(families.size(), Set.copyOf(families).size());
        families.forEach(f -> assertTrue(isAll(f, Character.UnicodeScript.HAN), f));
        assertTrue(families.contains(SyntheticPatients.randomFamilyName(new Random(3))));
    }

    private static boolean isAll(String text, Character.UnicodeScript script) {
        assertFalse(text == null || text.isEmpty());
        return text.codePoints().allMatch(c -> Character.UnicodeScript.of(c) == script);
    }
}
