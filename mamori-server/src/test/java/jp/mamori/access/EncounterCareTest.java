package jp.mamori.access;

import jp.mamori.kernel.FhirError;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Care relationships derived from encounters (issue 4): a current or recent encounter in a department or ward
 * relates the people holding a clinical role there to the patient, for reads and for searches alike; an
 * encounter elsewhere, too long ago, cancelled or entered in error does not. And the cache of what the server
 * read about a person follows every change of their roles and care relationships.
 */
class EncounterCareTest {
    private static final Caller SYSTEM = Caller.system("encounter-care-test");

    private static TestServer server;
    private static DataSource ds;
    private static RecordService records;
    private static Roles roles;
    private static CareRelationships care;
    private static UUID admin;
    private static UUID internist;
    private static UUID nurse;
    private static String tag;

    @BeforeAll
    static void data() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        Clock clock = Clock.systemUTC();
        BreakGlass breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { });
        records = AccessFixtures.records(ds, breakGlass);
        roles = new Roles(ds, clock);
        care = new CareRelationships(ds, clock);
        tag = UUID.randomUUID().toString().substring(0, 8);
        admin = AccessFixtures.account(server, "kanri", true);
        internist = AccessFixtures.account(server, "naika", false);
        // Typed with full-width digits: stored NFKC-normalised, so it matches the encounter's "3東病棟".
        roles.assign(admin, internist, "physician", "内科", null);
        nurse = AccessFixtures.account(server, "kango", false);
        roles.assign(admin, nurse, "nurse", "３東病棟", null);
    }

    private static String create(org.hl7.fhir.r4.model.Resource r) {
        return records.create(SYSTEM, r, null, null).stored().id();
    }

    private static String patient() {
        Patient p = new Patient();
        p.addName().setFamily("Encounter" + tag).addGiven("花子");
        return create(p);
    }

    private static String condition(String patient) {
        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + patient));
        c.setCode(new CodeableConcept().setText("糖尿病"));
        c.getCode().addCoding().setSystem("urn:mamori:test:encounter").setCode(tag);
        return create(c);
    }

    private static Encounter encounter(String patient, Encounter.EncounterStatus status, String department,
                                       String ward, Instant start, Instant end) {
        Encounter e = new Encounter();
        e.setStatus(status);
        e.getClass_().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("IMP");
        e.setSubject(new Reference("Patient/" + patient));
        if (department != null) {
            e.setServiceType(new CodeableConcept().setText(department));
        }
        if (ward != null) {
            e.addLocation().setLocation(new Reference().setDisplay(ward));
        }
        Period p = new Period().setStartElement(new DateTimeType(Date.from(start)));
        if (end != null) {
            p.setEndElement(new DateTimeType(Date.from(end)));
        }
        e.setPeriod(p);
        return e;
    }

    private static Caller as(UUID account) {
        return Caller.person(PersonContext.load(ds, account, Instant.now(), new jp.mamori.records.EncounterCare()), "試験 太郎", "10.0.0.8");
    }

    private static boolean canRead(UUID who, String type, String id) {
        try {
            records.read(as(who), type, id);
            return true;
        } catch (FhirError e) {
            assertEquals(403, e.status(), e.getMessage());
            return false;
        }
    }

    /** The patients of the Conditions of a page. */
    private static Set<String> patientsOf(RecordService.SearchPage page) {
        Set<String> out = new HashSet<>();
        page.matches().forEach(s -> {
            Condition c = (Condition) jp.mamori.records.FhirSupport.parseStored(s.bodyText());
            out.add(c.getSubject().getReferenceElement().getIdPart());
        });
        return out;
    }

    private static Set<String> conditionsFound(UUID who, String... patients) {
        Set<String> out = new HashSet<>();
        for (String p : patients) {
            records.search(as(who), "Condition", Map.of("patient", List.of(p))).matches().forEach(s -> out.add(s.id()));
        }
        records.search(as(who), "Condition", Map.of("code", List.of("urn:mamori:test:encounter|" + tag),
                        "_count", List.of("100")))
                .matches().forEach(s -> out.add("text:" + s.id()));
        return out;
    }

    @Test
    void aFilterKeptForOneContextReadsTheTimeOfEachSearch() {
        // The person's filter is built once per context and type; its times must be those of each search. The
        // count comes from the SQL filter alone (the page is re-checked in memory, the count is not).
        String p = patient();
        condition(p);
        Instant now = Instant.now();
        create(encounter(p, Encounter.EncounterStatus.FINISHED, "内科", null, now.minus(Duration.ofDays(35)),
                now.minus(Duration.ofDays(29))));
        java.util.concurrent.atomic.AtomicReference<Instant> time = new java.util.concurrent.atomic.AtomicReference<>(now);
        Clock clock = new Clock() {
            @Override
            public Instant instant() {
                return time.get();
            }

            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }
        };
        jp.mamori.records.RecordService timed = new jp.mamori.records.RecordService(ds, new AccessPolicy(
                Categories.load(ds), PersonAccess.load(ds), null, new EncounterRelations(ds, new jp.mamori.records.EncounterCare()), clock),
                new jp.mamori.records.FhirSupport(), 10, 100);
        Caller who = as(internist);
        Map<String, List<String>> q = Map.of("patient", List.of(p), "_total", List.of("accurate"));
        // Across patients, the rows are decided in memory with the encounters read along with them: the same times.
        Map<String, List<String>> across = Map.of("code", List.of("urn:mamori:test:encounter|" + tag), "_count",
                List.of("100"));
        assertEquals(1, timed.search(who, "Condition", q).total(), "the encounter ended 29 days ago: related");
        assertTrue(patientsOf(timed.search(who, "Condition", across)).contains(p));
        time.set(now.plus(Duration.ofDays(2)));
        assertEquals(0, timed.search(who, "Condition", q).total(), "31 days later, with the same context: not");
        assertFalse(patientsOf(timed.search(who, "Condition", across)).contains(p));
        time.set(now);
        assertEquals(1, timed.search(who, "Condition", q).total());
        assertTrue(patientsOf(timed.search(who, "Condition", across)).contains(p));
    }

    @Test
    void currentAndRecentEncountersInTheDepartmentRelateItsPhysicians() {
        Instant now = Instant.now();
        String current = patient();
        String recent = patient();
        String longAgo = patient();
        String elsewhere = patient();
        String cancelled = patient();
        create(encounter(current, Encounter.EncounterStatus.INPROGRESS, "内科", null, now.minus(Duration.ofDays(2)), null));
        create(encounter(recent, Encounter.EncounterStatus.FINISHED, "内科", null, now.minus(Duration.ofDays(12)),
                now.minus(Duration.ofDays(10))));
        create(encounter(longAgo, Encounter.EncounterStatus.FINISHED, "内科", null, now.minus(Duration.ofDays(45)),
                now.minus(Duration.ofDays(40))));
        create(encounter(elsewhere, Encounter.EncounterStatus.INPROGRESS, "外科", null, now.minus(Duration.ofDays(1)), null));
        create(encounter(cancelled, Encounter.EncounterStatus.CANCELLED, "内科", null, now.minus(Duration.ofDays(1)), null));
        String cCurrent = condition(current);
        String cRecent = condition(recent);
        String cLongAgo = condition(longAgo);
        String cElsewhere = condition(elsewhere);
        String cCancelled = condition(cancelled);

        assertTrue(canRead(internist, "Condition", cCurrent));
        assertTrue(canRead(internist, "Condition", cRecent));
        assertFalse(canRead(internist, "Condition", cLongAgo), "ended 40 days ago: past the role's 30 days");
        assertFalse(canRead(internist, "Condition", cElsewhere));
        assertFalse(canRead(internist, "Condition", cCancelled));
        FhirError refused = assertThrows(FhirError.class, () -> records.read(as(internist), "Condition", cLongAgo));
        assertTrue(refused.getMessage().contains("break-glass"), refused.getMessage());

        // Searches see exactly the same: by patient, and across patients (filtered in SQL before paging).
        Set<String> found = conditionsFound(internist, current, recent, longAgo, elsewhere, cancelled);
        assertEquals(Set.of(cCurrent, cRecent, "text:" + cCurrent, "text:" + cRecent), found);

        // The context read for the internist holds the encounters of 内科; one built without them (as a test build
        // or a bench builds one) has each decision look them up: both decide alike.
        PersonContext loaded = PersonContext.load(ds, internist, Instant.now(), new jp.mamori.records.EncounterCare());
        assertTrue(loaded.holdsEncounters());
        assertEquals(Set.of("内科"), loaded.encounterRelations(current, Instant.now()));
        assertEquals(Set.of(), loaded.encounterRelations(longAgo, Instant.now()));
        PersonContext bare = new PersonContext(internist, loaded.roles(), loaded.privileges(), Map.of(), List.of());
        assertFalse(bare.holdsEncounters());
        Caller lookingUp = Caller.person(bare, "試験 太郎", "10.0.0.8");
        for (String c : List.of(cCurrent, cRecent, cLongAgo, cElsewhere, cCancelled)) {
            boolean read;
            try {
                records.read(lookingUp, "Condition", c);
                read = true;
            } catch (FhirError e) {
                read = false;
            }
            assertEquals(canRead(internist, "Condition", c), read, c);
        }
    }

    @Test
    void aWardNurseRelatesThroughTheEncounterLocationAndLosesItWhenTheEncounterEnds() {
        Instant now = Instant.now();
        String inpatient = patient();
        Encounter stay = encounter(inpatient, Encounter.EncounterStatus.INPROGRESS, "内科", "3東病棟",
                now.minus(Duration.ofDays(3)), null);
        String stayId = create(stay);
        String cond = condition(inpatient);
        assertTrue(canRead(nurse, "Condition", cond));
        assertTrue(canRead(nurse, "Patient", inpatient));
        assertEquals(Set.of(cond, "text:" + cond), conditionsFound(nurse, inpatient));

        // Discharged long ago (a correction of the period): the relationship ends with the write that records it.
        stay.setId(stayId);
        stay.setStatus(Encounter.EncounterStatus.FINISHED);
        stay.getPeriod().setStartElement(new DateTimeType(Date.from(now.minus(Duration.ofDays(90)))));
        stay.getPeriod().setEndElement(new DateTimeType(Date.from(now.minus(Duration.ofDays(60)))));
        records.update(SYSTEM, "Encounter", stayId, stay, null, "退院日の訂正");
        assertFalse(canRead(nurse, "Condition", cond));
        assertEquals(Set.of(), conditionsFound(nurse, inpatient));
        // The physician of 内科 relates for 30 days as well, so not any more either.
        assertFalse(canRead(internist, "Condition", cond));
    }

    @Test
    void encounterPlacesAreStoredForTheCurrentVersionOnly() throws SQLException {
        String p = patient();
        Instant now = Instant.now();
        Encounter e = encounter(p, Encounter.EncounterStatus.INPROGRESS, "ＩＣＵ", null, now, null);
        String id = create(e);
        assertEquals(Set.of("ICU"), places(id), "NFKC: full-width letters are the department ICU");
        e.setId(id);
        e.setStatus(Encounter.EncounterStatus.ENTEREDINERROR);
        records.update(SYSTEM, "Encounter", id, e, null, "誤登録");
        assertEquals(Set.of(), places(id));
    }

    private static Set<String> places(String encounterId) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT ec.place FROM encounter_care ec JOIN resource r"
                     + " ON r.res_pk = ec.res_pk WHERE r.res_type = 'Encounter' AND r.res_id = ?")) {
            ps.setString(1, encounterId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static long accessVersion(UUID account) {
        return AccessFixtures.accessVersion(ds, account);
    }

    @Test
    void theContextCacheFollowsEveryChangeOfRolesCareAndEncounters() throws SQLException {
        UUID doctor = AccessFixtures.account(server, "cache", false);
        PersonContexts contexts = new PersonContexts(ds, new jp.mamori.records.EncounterCare(), Clock.systemUTC(), 100);
        long v0 = accessVersion(doctor);
        PersonContext first = contexts.get(doctor, v0);
        assertSame(first, contexts.get(doctor, v0), "unchanged: not read again");
        assertEquals(1, contexts.loads());

        roles.assign(admin, doctor, "physician", "小児科", null);
        long v1 = accessVersion(doctor);
        assertNotEquals(v0, v1);
        PersonContext withRole = contexts.get(doctor, v1);
        assertEquals(2, contexts.loads());
        assertEquals(Set.of("小児科"), withRole.encounterPlaces().keySet());

        String p = "pt-" + tag + "-c";
        CareRelationships.CareAssignment a = care.add(admin, doctor, p, CareRelationships.Kind.ASSIGNMENT, "小児科",
                null, null);
        long v2 = accessVersion(doctor);
        assertTrue(contexts.get(doctor, v2).caresForAnywhere(p, Instant.now()));
        care.end(admin, a.id(), "担当交代");
        assertFalse(contexts.get(doctor, accessVersion(doctor)).caresForAnywhere(p, Instant.now()));

        // An encounter in one of the person's departments changes their version, and the context read for it holds
        // the encounter; an encounter elsewhere does not change it.
        long beforeEncounters = accessVersion(doctor);
        String other = patient();
        create(encounter(other, Encounter.EncounterStatus.INPROGRESS, "眼科", null, Instant.now(), null));
        assertEquals(beforeEncounters, accessVersion(doctor), "an encounter in 眼科 changes nothing for 小児科");
        String child = patient();
        String stay = create(encounter(child, Encounter.EncounterStatus.INPROGRESS, "小児科", null, Instant.now(),
                null));
        assertTrue(accessVersion(doctor) > beforeEncounters);
        assertEquals(Set.of("小児科"), contexts.get(doctor, accessVersion(doctor)).encounterRelations(child,
                Instant.now()));
        Encounter corrected = encounter(child, Encounter.EncounterStatus.ENTEREDINERROR, "小児科", null, Instant.now(),
                null);
        corrected.setId(stay);
        records.update(SYSTEM, "Encounter", stay, corrected, null, "誤登録");
        assertEquals(Set.of(), contexts.get(doctor, accessVersion(doctor)).encounterRelations(child, Instant.now()),
                "entered in error: the version moved again and the new context no longer holds it");

        // A change of the policy as a whole (a role's permissions) changes everyone's version.
        long before = accessVersion(doctor);
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE role SET recent_encounter_days = recent_encounter_days"
                     + " WHERE code = 'dietitian'")) {
            ps.executeUpdate();
        }
        assertTrue(accessVersion(doctor) > before);
        contexts.get(doctor, accessVersion(doctor));
        assertEquals(7, contexts.loads(), "each change read once more, and nothing else");
    }
}
