package jp.mamori.access;

import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * People write records through the one authorization point (issue 4): creating, editing a draft, finalizing,
 * amending and marking entered-in-error are different actions of the access model, decided for the record as it
 * was and as it will be; history is read one record at a time, each version decided on its own.
 */
class PersonWriteTest {
    private static final Caller SYSTEM = Caller.system("person-write-test");

    private static TestServer server;
    private static DataSource ds;
    private static RecordService records;
    private static BreakGlass breakGlass;
    private static UUID doctor;
    private static UUID nurse;
    private static UUID clerk;
    private static String mine;
    private static String other;

    @BeforeAll
    static void data() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        Clock clock = Clock.systemUTC();
        breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { });
        records = AccessFixtures.records(ds, breakGlass);
        Roles roles = new Roles(ds, clock);
        CareRelationships care = new CareRelationships(ds, clock);
        UUID admin = AccessFixtures.account(server, "kanri", true);
        mine = records.create(SYSTEM, new Patient().addName(new org.hl7.fhir.r4.model.HumanName().setFamily("担当")),
                null, null).stored().id();
        other = records.create(SYSTEM, new Patient().addName(new org.hl7.fhir.r4.model.HumanName().setFamily("他科")),
                null, null).stored().id();
        doctor = AccessFixtures.account(server, "ishi", false);
        roles.assign(admin, doctor, "physician", "内科", null);
        care.add(admin, doctor, mine, CareRelationships.Kind.ASSIGNMENT, "内科", null, null);
        nurse = AccessFixtures.account(server, "kango", false);
        roles.assign(admin, nurse, "nurse", "内科", null);
        care.add(admin, nurse, mine, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
        clerk = AccessFixtures.account(server, "jimu", false);
        roles.assign(admin, clerk, "clerk", "医事課", null);
    }

    private static Caller as(UUID account) {
        return Caller.person(PersonContext.load(ds, account, Instant.now(), new jp.mamori.records.EncounterCare()), "試験 太郎", "10.0.0.7");
    }

    private static Composition note(String patient, Composition.CompositionStatus status, String text) {
        Composition c = new Composition();
        c.setStatus(status);
        c.setType(new CodeableConcept());
        c.getType().addCoding().setSystem("http://loinc.org").setCode("11506-3").setDisplay("Progress note");
        c.setSubject(new Reference("Patient/" + patient));
        c.setDate(new Date());
        c.addAuthor().setDisplay("試験 太郎");
        c.setTitle("経過記録");
        Composition.SectionComponent s = c.addSection().setTitle("S");
        s.setText(new Narrative().setStatus(Narrative.NarrativeStatus.GENERATED));
        s.getText().setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + text + "</div>");
        return c;
    }

    private static FhirError refused(org.junit.jupiter.api.function.Executable e) {
        FhirError err = assertThrows(FhirError.class, e);
        assertEquals(403, err.status(), err.getMessage());
        return err;
    }

    @Test
    void aPhysicianWritesFinalizesAndAmendsANoteOfTheirPatient() {
        Caller me = as(doctor);
        RecordService.Stored draft = records.create(me, note(mine, Composition.CompositionStatus.PRELIMINARY, "頭痛"),
                null, null).stored();
        assertEquals("account:" + doctor, draft.author(), "the author is the person, never the body");
        String id = draft.id();
        records.update(me, "Composition", id, note(mine, Composition.CompositionStatus.PRELIMINARY, "頭痛、発熱"),
                1, null);
        records.update(me, "Composition", id, note(mine, Composition.CompositionStatus.FINAL, "頭痛、発熱"), 2, null);
        records.update(me, "Composition", id, note(mine, Composition.CompositionStatus.AMENDED, "頭痛、発熱 38.5℃"),
                3, "体温の追記");
        records.update(me, "Composition", id, note(mine, Composition.CompositionStatus.ENTEREDINERROR,
                "頭痛、発熱 38.5℃"), 4, "別患者の記録");
        // History of their patient's record: every version, each decided.
        assertEquals(5, records.history(me, "Composition", id, null, null, null).versions().size());
        // Not the history of a whole type.
        FhirError e = refused(() -> records.history(me, "Composition", null, null, null, null));
        assertTrue(e.getMessage().contains("one record"), e.getMessage());
    }

    @Test
    void withoutACareRelationshipNothingIsWrittenAndBreakGlassIsOffered() throws SQLException {
        Caller me = as(doctor);
        long before = versions();
        FhirError e = refused(() -> records.create(me, note(other, Composition.CompositionStatus.PRELIMINARY, "x"),
                null, null));
        assertTrue(e.getMessage().contains("break-glass"), e.getMessage());
        // Moving a note of their patient to another patient is refused too: the new version is decided as well.
        String id = records.create(me, note(mine, Composition.CompositionStatus.PRELIMINARY, "y"), null, null)
                .stored().id();
        refused(() -> records.update(me, "Composition", id, note(other, Composition.CompositionStatus.PRELIMINARY, "y"),
                1, null));
        assertEquals(before + 1, versions(), "only the permitted create was stored");
    }

    @Test
    void aNurseReadsButDoesNotFinalizeOrAmendAPhysiciansNote() {
        String id = records.create(as(doctor), note(mine, Composition.CompositionStatus.PRELIMINARY, "所見"), null,
                null).stored().id();
        Caller n = as(nurse);
        assertEquals(id, records.read(n, "Composition", id).id());
        FhirError e = refused(() -> records.update(n, "Composition", id,
                note(mine, Composition.CompositionStatus.FINAL, "所見"), 1, null));
        assertTrue(e.getMessage().contains("確定"), e.getMessage());
        refused(() -> records.delete(n, "Composition", id, "誤り"));
    }

    @Test
    void aClerkUpdatesDemographicsButNeverWritesClinicalNotes() {
        Caller c = as(clerk);
        Patient p = (Patient) FhirSupport.parseStored(records.read(c, "Patient", other).bodyText());
        p.addAddress().setText("東京都千代田区1-1");
        records.update(c, "Patient", other, p, null, null);
        FhirError e = refused(() -> records.create(c, note(other, Composition.CompositionStatus.PRELIMINARY, "x"),
                null, null));
        assertTrue(e.getMessage().contains("Clinical notes") || e.getMessage().contains("clinical content"),
                e.getMessage());
    }

    @Test
    void historyWithAVersionOfAnotherPatientIsRefused() {
        // Written by a system client for the other patient first, then moved to the doctor's patient.
        String id = records.create(SYSTEM, note(other, Composition.CompositionStatus.PRELIMINARY, "a"), null, null)
                .stored().id();
        records.update(SYSTEM, "Composition", id, note(mine, Composition.CompositionStatus.PRELIMINARY, "a"), 1, null);
        Caller me = as(doctor);
        assertEquals(id, records.read(me, "Composition", id).id(), "the current version is readable");
        refused(() -> records.history(me, "Composition", id, null, null, null));
        List<RecordService.Stored> mineOnly = records.history(SYSTEM, "Composition", id, null, null, null).versions();
        assertEquals(2, mineOnly.size());
    }

    private static long versions() throws SQLException {
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM resource_version WHERE res_type = 'Composition'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
