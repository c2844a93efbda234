package jp.mamori.access;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decision alone, in memory: roles, labels and care relationships as a request would have loaded them. */
class PersonAccessTest {
    static final Category DEMOGRAPHICS = new Category("demographics", "患者基本情報", "Demographics", false);
    static final Category NOTES = new Category("clinical_notes", "診療記録", "Clinical notes", true);
    static final Category NURSING = new Category("nursing", "看護記録", "Nursing records", true);
    static final Category ADMINISTRATIVE = new Category("administrative", "施設・職員情報", "Administrative", false);
    static final Set<String> LABELS = Set.of("R", "PSY", "HIV", "GDIS", "VIP", "EMP");
    static final Instant NOW = Instant.parse("2026-11-23T03:00:00Z");
    static final PersonAccess ACCESS = new PersonAccess(LABELS);

    static PersonContext.HeldRole role(String code, String department, PersonContext.Scope scope, boolean clinical,
                                       Map<String, Set<Action>> permissions) {
        return new PersonContext.HeldRole(code, department, scope, clinical, permissions);
    }

    static final Map<String, Set<Action>> PHYSICIAN = Map.of(
            "demographics", EnumSet.of(Action.READ, Action.SEARCH),
            "clinical_notes", EnumSet.of(Action.READ, Action.SEARCH, Action.CREATE, Action.FINALIZE),
            "nursing", EnumSet.of(Action.READ));
    static final Map<String, Set<Action>> CLERK = Map.of(
            "demographics", EnumSet.of(Action.READ, Action.SEARCH, Action.CREATE, Action.UPDATE));

    static PersonContext physicianOfInternalMedicine(Map<String, List<PersonContext.Care>> care, Set<String> privileges) {
        return new PersonContext(UUID.randomUUID(), List.of(role("physician", "内科", PersonContext.Scope.DEPARTMENT,
                true, PHYSICIAN)), privileges, care);
    }

    static PersonContext.Care care(String department) {
        return new PersonContext.Care(department, NOW.minus(Duration.ofDays(1)), null);
    }

    @Test
    void aClerkReadsDemographicsButNotClinicalNotes() {
        PersonContext clerk = new PersonContext(UUID.randomUUID(), List.of(role("clerk", "医事課",
                PersonContext.Scope.HOSPITAL, false, CLERK)), Set.of(), Map.of());
        assertTrue(ACCESS.decide(clerk, "p1", DEMOGRAPHICS, Action.READ, Set.of(), NOW).permitted());
        assertTrue(ACCESS.decide(clerk, "p1", DEMOGRAPHICS, Action.UPDATE, Set.of(), NOW).permitted());
        Decision notes = ACCESS.decide(clerk, "p1", NOTES, Action.READ, Set.of(), NOW);
        assertFalse(notes.permitted());
        assertFalse(notes.breakGlass(), "break-glass cannot give a clerk clinical notes");
        assertTrue(notes.reason().contains(" / "), notes.reason());
    }

    @Test
    void aPhysicianReadsNotesOnlyOfPatientsInTheirCare() {
        PersonContext doctor = physicianOfInternalMedicine(Map.of("mine", List.of(care("内科")),
                "surgery", List.of(care("外科"))), Set.of());
        assertTrue(ACCESS.decide(doctor, "mine", NOTES, Action.READ, Set.of(), NOW).permitted());
        assertTrue(ACCESS.decide(doctor, "mine", NOTES, Action.FINALIZE, Set.of(), NOW).permitted());
        Decision other = ACCESS.decide(doctor, "other", NOTES, Action.READ, Set.of(), NOW);
        assertFalse(other.permitted());
        assertTrue(other.breakGlass(), "only the relationship is missing: break-glass would help");
        // A care assignment in a department where the physician does not hold the role does not count.
        assertFalse(ACCESS.decide(doctor, "surgery", NOTES, Action.READ, Set.of(), NOW).permitted());
        // Demographics are not clinical: no relationship needed.
        assertTrue(ACCESS.decide(doctor, "other", DEMOGRAPHICS, Action.READ, Set.of(), NOW).permitted());
        // Permission without relationship is still limited to what the role grants.
        Decision amend = ACCESS.decide(doctor, "mine", NURSING, Action.AMEND, Set.of(), NOW);
        assertFalse(amend.permitted());
        assertFalse(amend.breakGlass());
    }

    @Test
    void aPersonalAssignmentWithoutDepartmentCountsInEveryDepartment() {
        PersonContext doctor = physicianOfInternalMedicine(Map.of("p9", List.of(care(null))), Set.of());
        assertTrue(ACCESS.decide(doctor, "p9", NOTES, Action.READ, Set.of(), NOW).permitted());
    }

    @Test
    void hospitalScopeNeedsNoRelationship() {
        PersonContext pharmacist = new PersonContext(UUID.randomUUID(), List.of(role("pharmacist", "薬剤部",
                PersonContext.Scope.HOSPITAL, true, Map.of("clinical_notes", EnumSet.of(Action.READ)))), Set.of(), Map.of());
        assertTrue(ACCESS.decide(pharmacist, "anyone", NOTES, Action.READ, Set.of(), NOW).permitted());
        assertFalse(ACCESS.decide(pharmacist, null, NOTES, Action.READ, Set.of(), NOW).permitted(),
                "clinical data must name its patient");
    }

    @Test
    void anAssignmentOutsideItsValidityGivesNoAccess() {
        PersonContext doctor = physicianOfInternalMedicine(Map.of("p1", List.of(new PersonContext.Care("内科",
                NOW.minus(Duration.ofDays(3)), NOW.minus(Duration.ofDays(1))), new PersonContext.Care("内科",
                NOW.plus(Duration.ofDays(1)), null))), Set.of());
        assertFalse(ACCESS.decide(doctor, "p1", NOTES, Action.READ, Set.of(), NOW).permitted());
    }

    @Test
    void theSystemAdministratorNeverReachesClinicalContent() {
        // Even if a permission row for a clinical category were present, a role without clinical content and
        // with hospital scope does not reach it, with or without a relationship or privileges.
        PersonContext admin = new PersonContext(UUID.randomUUID(), List.of(
                role("system_admin", "情報システム課", PersonContext.Scope.HOSPITAL, false, Map.of(
                        "administrative", EnumSet.allOf(Action.class), "clinical_notes", EnumSet.allOf(Action.class))),
                role("auditor", "監査室", PersonContext.Scope.HOSPITAL, false, Map.of(
                        "nursing", EnumSet.of(Action.READ)))),
                LABELS, Map.of("p1", List.of(care(null))));
        for (Action a : Action.values()) {
            Decision d = ACCESS.decide(admin, "p1", NOTES, a, Set.of(), NOW);
            assertFalse(d.permitted(), a.name());
            assertFalse(d.breakGlass(), a.name());
        }
        assertFalse(ACCESS.decide(admin, "p1", NURSING, Action.READ, Set.of(), NOW).permitted());
        assertTrue(ACCESS.decide(admin, null, ADMINISTRATIVE, Action.UPDATE, Set.of(), NOW).permitted());
    }

    @Test
    void aPsychiatricNoteNeedsThePrivilegeOnTopOfTheRelationship() {
        Map<String, List<PersonContext.Care>> care = Map.of("p1", List.of(care("内科")));
        PersonContext without = physicianOfInternalMedicine(care, Set.of());
        Decision d = ACCESS.decide(without, "p1", NOTES, Action.READ, Set.of("PSY"), NOW);
        assertFalse(d.permitted());
        assertFalse(d.breakGlass(), "break-glass does not stand in for a sensitivity privilege");
        assertTrue(d.reason().contains("PSY"), d.reason());
        PersonContext with = physicianOfInternalMedicine(care, Set.of("PSY"));
        assertTrue(ACCESS.decide(with, "p1", NOTES, Action.READ, Set.of("PSY"), NOW).permitted());
        // The privilege alone does not replace the relationship.
        Decision stranger = ACCESS.decide(with, "p2", NOTES, Action.READ, Set.of("PSY"), NOW);
        assertFalse(stranger.permitted());
        assertTrue(stranger.breakGlass());
        // Labels outside the guarded set (e.g. a normal confidentiality code) need no privilege.
        assertTrue(ACCESS.decide(without, "p1", NOTES, Action.READ, Set.of("N"), NOW).permitted());
        // A VIP patient's demographics need the VIP privilege too.
        assertFalse(ACCESS.decide(without, "p1", DEMOGRAPHICS, Action.READ, Set.of("VIP"), NOW).permitted());
    }

    @Test
    void rolesInSeveralDepartmentsEachReachTheirOwnPatients() {
        Map<String, List<PersonContext.Care>> care = new HashMap<>();
        care.put("a", List.of(care("内科")));
        care.put("b", List.of(care("救急科")));
        care.put("c", List.of(care("外科")));
        PersonContext doctor = new PersonContext(UUID.randomUUID(), List.of(
                role("physician", "内科", PersonContext.Scope.DEPARTMENT, true, PHYSICIAN),
                role("physician", "救急科", PersonContext.Scope.DEPARTMENT, true, PHYSICIAN)), Set.of(), care);
        assertTrue(ACCESS.decide(doctor, "a", NOTES, Action.READ, Set.of(), NOW).permitted());
        assertTrue(ACCESS.decide(doctor, "b", NOTES, Action.READ, Set.of(), NOW).permitted());
        assertFalse(ACCESS.decide(doctor, "c", NOTES, Action.READ, Set.of(), NOW).permitted());
    }

    @Test
    void categoriesFollowTheMostSpecificRule() {
        Categories cats = Categories.of(List.of(DEMOGRAPHICS, NOTES, NURSING,
                new Category("other", "その他", "Other", true)), List.of(
                new Categories.Rule("*", null, null, "other"),
                new Categories.Rule("Patient", null, null, "demographics"),
                new Categories.Rule("Composition", null, null, "clinical_notes"),
                new Categories.Rule("Composition", "http://loinc.org", "34746-8", "nursing")));
        assertEquals("demographics", cats.resolve("Patient").code());
        assertEquals("nursing", cats.resolve("Composition", "http://loinc.org", "34746-8").code());
        assertEquals("clinical_notes", cats.resolve("Composition", "http://loinc.org", "11488-4").code());
        assertEquals("other", cats.resolve("Basic").code());
        assertTrue(cats.resolve("Basic").clinical(), "unclassified data is treated as clinical");
    }
}
