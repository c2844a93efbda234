package jp.mamori.records;

import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.kernel.FhirError;

class StructureValidatorTest {
    @Test
    void aCompletePatientHasNoIssues() {
        Patient p = new Patient();
        p.addName().setFamily("山田").addGiven("太郎");
        p.addGeneralPractitioner(new Reference("Practitioner/1"));
        assertTrue(StructureValidator.check(p).isEmpty());
    }

    @Test
    void aMissingRequiredElementIsNamedByItsPath() {
        Observation o = new Observation().setCode(new CodeableConcept().setText("体温"));
        List<FhirError.Issue> issues = StructureValidator.check(o);
        assertEquals(1, issues.size());
        assertEquals("Observation.status", issues.get(0).expression());
    }

    @Test
    void requiredElementsInsideBackboneElementsAreChecked() {
        Patient p = new Patient();
        p.addLink().setType(Patient.LinkType.SEEALSO); // link.other is required
        List<FhirError.Issue> issues = StructureValidator.check(p);
        assertEquals("Patient.link[0].other", issues.get(0).expression());
    }

    @Test
    void aReferenceToATypeTheElementDoesNotAllowIsRefused() {
        Patient p = new Patient();
        p.addGeneralPractitioner(new Reference("Observation/1"));
        List<FhirError.Issue> issues = StructureValidator.check(p);
        assertEquals(1, issues.size());
        assertTrue(issues.get(0).diagnostics().contains("Observation"));
    }

    @Test
    void aBundleWithoutTypeIsRefused() {
        assertEquals("Bundle.type", StructureValidator.check(new Bundle()).get(0).expression());
    }

    @Test
    void controlCharactersInStringsAreRefusedButTabsAndNewlinesAreNot() {
        Patient bad = new Patient();
        bad.addName().setFamily("山田\u0007");
        assertEquals("Patient.name[0].family", StructureValidator.check(bad).get(0).expression());
        Patient ok = new Patient();
        ok.addName().setText("山田\t太郎\r\n");
        assertTrue(StructureValidator.check(ok).isEmpty());
    }
}
