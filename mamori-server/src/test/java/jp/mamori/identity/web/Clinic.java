package jp.mamori.identity.web;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.UUID;

/** Patients, clinicians and care relationships for the clinician console tests, written behind the pages' back. */
final class Clinic {
    static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    private final Hospital h;
    private final RecordService records;
    private final Caller system = Caller.system("test-fixture");

    Clinic(Hospital h) {
        this.h = h;
        this.records = h.server.server().records();
    }

    /** A patient with kanji and kana names; returns the resource id. */
    String patient(String identifier, String family, String given, String familyKana, String givenKana, String birth,
                   String gender) {
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue(identifier);
        p.addName(name("IDE", family, given));
        p.addName(name("SYL", familyKana, givenKana));
        p.setGender(Enumerations.AdministrativeGender.fromCode(gender));
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(birth));
        return records.create(system, p, null, null).stored().id();
    }

    private static HumanName name(String rep, String family, String given) {
        HumanName n = new HumanName();
        n.addExtension(REPRESENTATION, new CodeType(rep));
        return n.setUse(HumanName.NameUse.OFFICIAL).setText(family + "\u3000" + given).setFamily(family).addGiven(given);
    }

    void allergy(String patientId, String substance) {
        AllergyIntolerance a = new AllergyIntolerance();
        a.setClinicalStatus(new CodeableConcept().addCoding(new Coding(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", null)));
        a.setCode(new CodeableConcept().setText(substance));
        a.setCriticality(AllergyIntolerance.AllergyIntoleranceCriticality.HIGH);
        a.setPatient(new Reference("Patient/" + patientId));
        a.addReaction().addManifestation(new CodeableConcept().setText("蕁麻疹"));
        records.create(system, a, null, null);
    }

    void hba1c(String patientId, double value, int daysAgo) {
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", "4548-4", "HbA1c")).setText("HbA1c"));
        o.setSubject(new Reference("Patient/" + patientId));
        o.setEffective(new DateTimeType(Date.from(Instant.now().minus(daysAgo, ChronoUnit.DAYS))));
        o.setValue(new Quantity().setValue(value).setUnit("%").setSystem("http://unitsofmeasure.org").setCode("%"));
        o.addReferenceRange().setLow(new Quantity().setValue(4.6)).setHigh(new Quantity().setValue(6.2));
        records.create(system, o, null, null);
    }

    /** A final progress note written elsewhere; returns its id. */
    String note(String patientId, String subjective) {
        Composition c = new Composition();
        c.setStatus(Composition.CompositionStatus.FINAL);
        c.setType(new CodeableConcept().addCoding(new Coding("http://loinc.org", "11506-3", "Progress note")));
        c.setSubject(new Reference("Patient/" + patientId));
        c.setDate(new Date());
        c.setTitle("内科 経過記録");
        c.addAuthor().setDisplay("医師 田中 一郎");
        String[][] sections = {{"61150-9", subjective}, {"61149-1", "BP 128/76"}, {"51848-0", "安定"}, {"18776-5", "継続"}};
        for (String[] s : sections) {
            Narrative n = new Narrative();
            n.setStatus(Narrative.NarrativeStatus.GENERATED);
            n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + s[1] + "</div>");
            c.addSection().setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", s[0], null)))
                    .setText(n);
        }
        return records.create(system, c, null, null).stored().id();
    }

    /**
     * Gives the account a role of the access model, approved by the first administrator (nothing when the account's
     * qualification already gave it).
     */
    void role(UUID account, String role, String department) throws Exception {
        try (Connection c = h.server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO role_assignment (assignment_id, account_id, role, department, scope, four_eyes, granted_by,"
                        + " granted_at, approved_by, approved_at) SELECT ?, ?, ?, ?, default_scope, false, ?, now(), ?, now()"
                        + " FROM role WHERE code = ? ON CONFLICT DO NOTHING")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, account);
            ps.setString(3, role);
            ps.setString(4, department);
            ps.setObject(5, h.admin.accountId);
            ps.setObject(6, h.admin.accountId);
            ps.setString(7, role);
            ps.executeUpdate();
        }
    }

    /** A care assignment of the account for the patient. */
    void cares(UUID account, String patientId) throws Exception {
        try (Connection c = h.server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO care_assignment (care_id, account_id, patient_id, kind, department, valid_from, added_by,"
                        + " added_at) VALUES (?, ?, ?, 'assignment', NULL, now() - interval '1 day', ?, now())")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, account);
            ps.setString(3, patientId);
            ps.setObject(4, h.admin.accountId);
            ps.executeUpdate();
        }
    }
}
