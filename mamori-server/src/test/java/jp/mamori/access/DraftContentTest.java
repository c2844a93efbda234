package jp.mamori.access;

import jp.mamori.kernel.FhirError;
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
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A draft is its author's until it is finalized (issue 22), decided where reads are decided so that every way into
 * the record service agrees (the console and any person's read, search or history): another person learns that the
 * draft exists (type, status, author, date), not what it says, and may not change it; once final, everyone who may
 * read the note reads it. System clients are decided by their scopes and read every version whole.
 */
class DraftContentTest {
    private static final Caller SYSTEM = Caller.system("draft-content-test");

    private static DataSource ds;
    private static RecordService records;
    private static UUID doctor;
    private static UUID colleague;
    private static UUID nurse;
    private static String patient;

    @BeforeAll
    static void data() throws Exception {
        TestServer server = TestServer.shared();
        ds = server.server().database().dataSource();
        Clock clock = Clock.systemUTC();
        BreakGlass breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { });
        records = AccessFixtures.records(ds, breakGlass);
        Roles roles = new Roles(ds, clock);
        CareRelationships care = new CareRelationships(ds, clock);
        UUID admin = AccessFixtures.account(server, "kanri", true);
        patient = records.create(SYSTEM, new Patient().addName(new org.hl7.fhir.r4.model.HumanName().setFamily("下書")),
                null, null).stored().id();
        doctor = AccessFixtures.account(server, "ishi", false);
        colleague = AccessFixtures.account(server, "ishi", false);
        nurse = AccessFixtures.account(server, "kango", false);
        roles.assign(admin, doctor, "physician", "内科", null);
        roles.assign(admin, colleague, "physician", "内科", null);
        roles.assign(admin, nurse, "nurse", "内科", null);
        for (UUID who : List.of(doctor, colleague, nurse)) {
            care.add(admin, who, patient, CareRelationships.Kind.ASSIGNMENT, "内科", null, null);
        }
    }

    private static Caller as(UUID account) {
        return Caller.person(PersonContext.load(ds, account, Instant.now(), new jp.mamori.records.EncounterCare()),
                "試験 太郎", "10.0.0.8");
    }

    private static Composition note(Composition.CompositionStatus status, String text) {
        Composition c = new Composition();
        c.setStatus(status);
        c.setType(new CodeableConcept());
        c.getType().addCoding().setSystem("http://loinc.org").setCode("11506-3").setDisplay("Progress note");
        c.setSubject(new Reference("Patient/" + patient));
        c.setDate(new Date());
        c.setTitle("経過記録");
        c.addAuthor().setDisplay("医師 下書 一郎");
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.GENERATED);
        n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">" + text + "</div>");
        c.addSection().setTitle("S").setText(n);
        return c;
    }

    @Test
    void othersSeeThatADraftExistsButNotItsTextUntilItIsFinalized() {
        String id = records.create(as(doctor), note(Composition.CompositionStatus.PRELIMINARY, "秘密の下書き"), null,
                null).stored().id();
        assertTrue(records.read(as(doctor), "Composition", id).bodyText().contains("秘密の下書き"), "the author's own");
        assertTrue(records.read(SYSTEM, "Composition", id).bodyText().contains("秘密の下書き"), "a system client's scopes");
        for (UUID other : List.of(colleague, nurse)) {
            Caller c = as(other);
            RecordService.Stored read = records.read(c, "Composition", id);
            assertFalse(read.bodyText().contains("秘密の下書き"), read.bodyText());
            assertTrue(read.bodyText().contains("SUBSETTED") && read.bodyText().contains("医師 下書 一郎")
                    && read.bodyText().contains("preliminary"), "that it exists, whose, not what: " + read.bodyText());
            assertFalse(records.vread(c, "Composition", id, "1").bodyText().contains("秘密の下書き"));
            List<RecordService.Stored> found = records.search(c, "Composition",
                    Map.of("patient", List.of("Patient/" + patient))).matches();
            assertTrue(found.stream().anyMatch(s -> s.id().equals(id)), "listed among the patient's notes");
            assertTrue(found.stream().noneMatch(s -> s.bodyText().contains("秘密の下書き")), "without its text");
            assertFalse(records.history(c, "Composition", id, null, null, null).versions().get(0).bodyText()
                    .contains("秘密の下書き"));
            FhirError e = assertThrows(FhirError.class, () -> records.update(c, "Composition", id,
                    note(Composition.CompositionStatus.PRELIMINARY, "上書き"), 1, null));
            assertEquals(403, e.status(), e.getMessage());
            assertTrue(e.getMessage().contains("記載者本人"), e.getMessage());
        }
        records.update(as(doctor), "Composition", id, note(Composition.CompositionStatus.FINAL, "確定した記載"), 1, null);
        assertTrue(records.read(as(colleague), "Composition", id).bodyText().contains("確定した記載"),
                "once final, the note is for everyone who may read it");
        assertFalse(records.vread(as(colleague), "Composition", id, "1").bodyText().contains("秘密の下書き"),
                "its earlier draft version stays the author's");
    }

    @Test
    void aDraftFromASystemIsNoPersonsDraft() {
        String id = records.create(SYSTEM, note(Composition.CompositionStatus.PRELIMINARY, "検査部門の暫定報告"), null,
                null).stored().id();
        assertTrue(records.read(as(nurse), "Composition", id).bodyText().contains("検査部門の暫定報告"));
    }
}
