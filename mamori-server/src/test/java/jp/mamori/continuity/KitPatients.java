package jp.mamori.continuity;

import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.config.ServerConfig;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test patients for the downtime kit: inpatients of a ward with an allergy and a current medication. */
public final class KitPatients {
    private static final Caller WRITER = Caller.system("test-kit");

    private KitPatients() {
    }

    /** A patient in {@code ward} since yesterday, with one allergy and one active medication order. */
    public static String inpatient(RecordService records, String family, String given, String familyKana, String givenKana, String pid,
                                    String ward, String allergen, String drug) {
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.11234567890").setValue(pid);
        p.addName().setFamily(family).addGiven(given).setUse(HumanName.NameUse.OFFICIAL);
        p.addName().setFamily(familyKana).addGiven(givenKana).addExtension(
                "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                new org.hl7.fhir.r4.model.CodeType("SYL"));
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1950-04-01"));
        String id = records.create(WRITER, p, null, "test").stored().id();
        Reference subject = new Reference("Patient/" + id);
        Encounter e = new Encounter();
        e.setStatus(Encounter.EncounterStatus.INPROGRESS);
        e.setClass_(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter"));
        e.setSubject(subject);
        e.setPeriod(new Period().setStartElement(new DateTimeType(Date.from(Instant.now().minus(Duration.ofDays(1))))));
        e.setServiceType(new CodeableConcept().setText("内科"));
        e.addLocation().setLocation(new Reference().setDisplay(ward));
        records.create(WRITER, e, null, "test");
        AllergyIntolerance a = new AllergyIntolerance();
        a.setPatient(subject);
        a.setCode(new CodeableConcept().setText(allergen));
        a.setClinicalStatus(new CodeableConcept(new Coding(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", null)));
        records.create(WRITER, a, null, "test");
        MedicationRequest m = new MedicationRequest();
        m.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
        m.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        m.setSubject(subject);
        m.setMedication(new CodeableConcept().setText(drug));
        records.create(WRITER, m, null, "test");
        return id;
    }
}
