package jp.mamori.access;

import jp.mamori.identity.Account;
import jp.mamori.identity.Sessions;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * People reach records through the same choke point as system clients (issue 4): every read is decided by
 * {@link PersonAccess}, and a search is filtered in SQL so that totals, pages, includes, chains and _has
 * reveal nothing the person may not read. Real database; data written by a system client.
 */
class PersonAccessPathTest {
    private static final String TAG_SYSTEM = "urn:mamori:test:person-path";
    private static final String SECRET_SYSTEM = "urn:mamori:test:secret";

    private static TestServer server;
    private static DataSource ds;
    private static RecordService records;
    private static BreakGlass breakGlass;
    private static Roles roles;
    private static CareRelationships care;
    private static SensitivityPrivileges privileges;
    private static final Caller SYSTEM = Caller.system("person-path-test");

    private static String tag;
    private static String family;
    private static String hiddenFamily;
    private static String pA;
    private static String pB;
    private static String cA;
    private static String cB;
    private static String oA1;
    private static Set<String> obsA;
    private static Set<String> obsB;
    private static String oPsy;
    private static UUID admin;
    private static UUID clerk;
    private static UUID doctor;
    private static UUID psychiatrist;

    @BeforeAll
    static void data() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        Clock clock = Clock.systemUTC();
        breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { });
        records = AccessFixtures.records(ds, breakGlass);
        roles = new Roles(ds, clock);
        care = new CareRelationships(ds, clock);
        privileges = new SensitivityPrivileges(ds, clock);

        tag = UUID.randomUUID().toString().substring(0, 8);
        family = "Mamoru" + tag;
        hiddenFamily = "Kakushi" + tag;
        pA = patient(family);
        pB = patient(hiddenFamily);
        cA = condition(pA);
        cB = condition(pB);
        obsB = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            Observation o = observation(pB);
            if (i == 0) {
                o.getCode().addCoding().setSystem(SECRET_SYSTEM).setCode("x" + tag);
            }
            obsB.add(create(o));
        }
        String oB1 = obsB.stream().filter(id -> codes(id).contains("x" + tag)).findFirst().orElseThrow();
        obsA = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            Observation o = observation(pA);
            if (i == 0) {
                o.addDerivedFrom(new Reference("Observation/" + oB1));
            }
            String id = create(o);
            obsA.add(id);
            if (i == 0) {
                oA1 = id;
            }
        }
        Observation psy = observation(pA);
        psy.getMeta().addSecurity().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("PSY");
        oPsy = create(psy);

        admin = account("kanri", true);
        clerk = account("jimu", false);
        roles.assign(admin, clerk, "clerk", "医事課", null);
        doctor = account("ishi", false);
        roles.assign(admin, doctor, "physician", "内科", null);
        care.add(admin, doctor, pA, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
        psychiatrist = account("seishin", false);
        roles.assign(admin, psychiatrist, "physician", "精神科", null);
        care.add(admin, psychiatrist, pA, CareRelationships.Kind.CARE_TEAM, "精神科", null, null);
        privileges.grant(admin, psychiatrist, "PSY");
    }

    // ---------------------------------------------------------------- helpers

    private static Set<String> codes(String obsId) {
        Observation o = (Observation) FhirSupport.parseStored(records.read(SYSTEM, "Observation", obsId).bodyText());
        Set<String> out = new HashSet<>();
        o.getCode().getCoding().forEach(c -> out.add(c.getCode()));
        return out;
    }

    private static String create(org.hl7.fhir.r4.model.Resource r) {
        return records.create(SYSTEM, r, null, null).stored().id();
    }

    private static String patient(String familyName) {
        Patient p = new Patient();
        p.addName().setFamily(familyName).addGiven("太郎");
        return create(p);
    }

    private static String condition(String patient) {
        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + patient));
        c.setCode(new CodeableConcept().setText("高血圧"));
        return create(c);
    }

    private static Observation observation(String patient) {
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.setCode(new CodeableConcept());
        o.getCode().addCoding().setSystem(TAG_SYSTEM).setCode(tag);
        o.setSubject(new Reference("Patient/" + patient));
        return o;
    }

    private static UUID account(String prefix, boolean admin) throws SQLException {
        return AccessFixtures.account(server, prefix, admin);
    }

    private static Caller as(UUID account) {
        return Caller.person(PersonContext.load(ds, account, Instant.now(), new jp.mamori.records.EncounterCare()), "試験 太郎", "10.0.0.9");
    }

    private static Map<String, List<String>> q(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.computeIfAbsent(kv[i], k -> new ArrayList<>()).add(kv[i + 1]);
        }
        return m;
    }

    private static Set<String> ids(List<RecordService.Stored> list) {
        Set<String> out = new HashSet<>();
        list.forEach(s -> out.add(s.id()));
        return out;
    }

    private static FhirError forbidden(Runnable r) {
        FhirError e = assertThrows(FhirError.class, r::run);
        assertEquals(403, e.status(), e.getMessage());
        return e;
    }

    /** Every match of a search, page by page, and the number of pages. */
    private static List<String> allPages(Caller who, Map<String, List<String>> params) {
        List<String> out = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Map<String, List<String>> p = new LinkedHashMap<>(params);
            if (cursor != null) {
                p.put("_cursor", List.of(cursor));
            }
            RecordService.SearchPage page = records.search(who, "Observation", p);
            page.matches().forEach(s -> out.add(s.id()));
            cursor = page.nextCursor();
            assertTrue(++pages < 20);
        } while (cursor != null);
        return out;
    }

    // ---------------------------------------------------------------- reads

    @Test
    void aClerkReadsAPatientButNotACondition() {
        Caller c = as(clerk);
        assertEquals(pA, records.read(c, "Patient", pA).id());
        FhirError e = forbidden(() -> records.read(c, "Condition", cA));
        assertTrue(e.getMessage().contains("clinical content") || e.getMessage().contains("No role grants"),
                e.getMessage());
        forbidden(() -> records.search(c, "Condition", q("subject", "Patient/" + pA)));
        // Demographics are theirs to read, with their history, one record at a time.
        assertEquals(pA, records.history(c, "Patient", pA, null, null, null).versions().get(0).id());
        forbidden(() -> records.history(c, "Patient", null, null, null, null));
        forbidden(() -> records.history(c, "Condition", cA, null, null, null));
    }

    @Test
    void aPhysicianReadsOnlyPatientsInCareAndOthersAfterBreakGlass() throws Exception {
        UUID er = account("kyukyu", false);
        UUID admin = account("kanri2", true);
        roles.assign(admin, er, "physician", "救急科", null);
        care.add(admin, er, pA, CareRelationships.Kind.CARE_TEAM, "救急科", null, null);
        Caller who = as(er);
        assertEquals(cA, records.read(who, "Condition", cA).id());
        FhirError e = forbidden(() -> records.read(who, "Condition", cB));
        assertTrue(e.getMessage().contains("break-glass is available"), e.getMessage());
        assertTrue(e.getMessage().contains("緊急時アクセス"), e.getMessage());
        assertTrue(e.getMessage().contains("No care relationship"), e.getMessage());
        // One record's history is a read: the total alone (_count=0) decides every version as a page would, so
        // it says nothing about a record the person may not read (issue 15). Type and server history stay refused.
        RecordService.HistoryPage total = records.history(who, "Condition", cA, null, 0, null);
        assertEquals(List.of(), total.versions());
        assertEquals(records.history(SYSTEM, "Condition", cA, null, null, null).versions().size(), total.total());
        forbidden(() -> records.history(who, "Condition", cB, null, 0, null));
        // decided a page at a time: with a budget of one byte each page holds one version
        String three = condition(pA);
        for (int v = 1; v <= 2; v++) {
            Condition c = new Condition();
            c.setId(three);
            c.setSubject(new Reference("Patient/" + pA));
            c.setCode(new CodeableConcept().setText("高血圧 " + v));
            records.update(SYSTEM, "Condition", three, c, v, null);
        }
        assertEquals(3, records.history(who, "Condition", three, null, 0, null, 1).total());
        assertEquals(total.total(), records.history(who, "Condition", cA, null, 0, null, 1).total());
        forbidden(() -> records.history(who, "Condition", cB, null, 0, null, 1));
        forbidden(() -> records.history(who, "Condition", null, null, 0, null));
        forbidden(() -> records.history(who, null, null, null, null, null));
        assertEquals(0, records.search(who, "Observation", q("code", TAG_SYSTEM + "|" + tag, "patient", pB,
                "_total", "accurate")).total());

        Instant now = Instant.now();
        Sessions.Session s = new Sessions.Session("ref-" + er, er, "kyukyu", "試験 太郎", Account.Type.STAFF, Set.of(),
                Sessions.Stage.AUTHENTICATED, "pwd+otp", now, now, now, false, false, null, now.plus(Duration.ofHours(12)), 0);
        BreakGlass.Grant g = breakGlass.start(s, pB, "unconscious_patient", "救急搬送、意識なし。既往歴の確認が必要",
                "10.0.0.9", now);
        Caller after = as(er);
        assertEquals(cB, records.read(after, "Condition", cB).id());
        assertEquals(cA, records.read(after, "Condition", cA).id());
        assertEquals(List.of("Condition/" + cB + " read"), breakGlass.accesses(g.id()),
                "only the access that needed break-glass is marked");
        RecordService.SearchPage page = records.search(after, "Observation", q("code", TAG_SYSTEM + "|" + tag,
                "_total", "accurate", "_count", "100"));
        Set<String> expect = new HashSet<>(obsA);
        expect.addAll(obsB);
        assertEquals(expect, ids(page.matches()), "pB under break-glass, pA in care, never the PSY note");
        assertEquals(6, page.total());
        assertTrue(breakGlass.accesses(g.id()).containsAll(obsB.stream().map(id -> "Observation/" + id + " search")
                .toList()), "each result seen under break-glass is marked");
        assertEquals(1 + obsB.size(), breakGlass.accesses(g.id()).size());

        // A search that names the patient marks only what it returns, not the row it reads to know of a next page.
        RecordService.SearchPage one = records.search(after, "Observation", q("patient", pB, "_count", "1"));
        assertEquals(1, one.matches().size());
        assertNotNull(one.nextCursor());
        List<String> marked = breakGlass.accesses(g.id());
        assertEquals(2 + obsB.size(), marked.size(), marked.toString());
        assertEquals("Observation/" + one.matches().get(0).id() + " search", marked.get(marked.size() - 1));
    }

    @Test
    void aPsychiatricLabelNeedsThePrivilege() {
        FhirError e = forbidden(() -> records.read(as(doctor), "Observation", oPsy));
        assertTrue(e.getMessage().contains("PSY"), e.getMessage());
        assertFalse(e.getMessage().contains("break-glass"), "break-glass does not replace a privilege");
        assertEquals(oPsy, records.read(as(psychiatrist), "Observation", oPsy).id());
        assertTrue(ids(records.search(as(psychiatrist), "Observation", q("code", TAG_SYSTEM + "|" + tag,
                "_count", "100")).matches()).contains(oPsy));
    }

    // ---------------------------------------------------------------- search

    @Test
    void countsAndPagesHoldOnlyVisibleRows() {
        Caller who = as(doctor);
        String code = TAG_SYSTEM + "|" + tag;
        assertEquals(3, records.search(who, "Observation", q("code", code, "_summary", "count")).total());
        assertEquals(3, records.search(who, "Observation", q("code", code, "_count", "0")).total());
        RecordService.SearchPage first = records.search(who, "Observation", q("code", code, "_total", "accurate",
                "_count", "2"));
        assertEquals(3, first.total());
        assertEquals(2, first.matches().size(), "the first page is full: filtered before paging, not after");
        List<String> all = allPages(who, q("code", code, "_count", "2"));
        assertEquals(obsA, new HashSet<>(all));
        assertEquals(3, all.size());
        List<String> sorted = allPages(who, q("code", code, "_count", "1", "_sort", "-_lastUpdated"));
        assertEquals(obsA, new HashSet<>(sorted));
        // Asking for the hidden patient's rows directly finds nothing either.
        assertEquals(0, records.search(who, "Observation", q("subject", "Patient/" + pB, "_total", "accurate")).total());
        assertEquals(0, records.search(who, "Condition", q("_id", cB, "_total", "accurate")).total());
        assertEquals(1, records.search(who, "Condition", q("_id", cA + "," + cB, "_total", "accurate")).total());
        // A system client sees everything, exactly as before.
        assertEquals(7, records.search(SYSTEM, "Observation", q("code", code, "_summary", "count")).total());
        assertEquals(7, allPagesAsSystem(code).size());
    }

    @Test
    void aSearchAcrossPatientsPagesThroughLongRunsOfHiddenMatches() {
        // Runs of 3 and 33 hidden matches (of a patient not in care) between five of a patient in the physician's care, and 40 after them: longer than
        // any first chunk, so later chunks must be read; repeated so that the first chunk's size, which follows the
        // share of matches this person saw lately, has changed. Every page but the last is full, the matches come in
        // key order, each once, and nothing after the last says there is more.
        String code = "run" + tag;
        String inCare = patient("Tanto" + tag);
        String notInCare = patient("Betsu" + tag);
        care.add(admin, doctor, inCare, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            for (int h = 0; h < (i % 2 == 0 ? 3 : 33); h++) {
                create(coded(observation(notInCare), code));
            }
            mine.add(create(coded(observation(inCare), code)));
        }
        for (int h = 0; h < 40; h++) {
            create(coded(observation(notInCare), code));
        }
        Caller who = as(doctor);
        for (int round = 0; round < 3; round++) {
            for (int count : new int[]{1, 2, 4, 5}) {
                List<String> seen = new ArrayList<>();
                String cursor = null;
                do {
                    Map<String, List<String>> params = q("code", TAG_SYSTEM + "|" + code, "_count", Integer.toString(count));
                    if (cursor != null) {
                        params.put("_cursor", List.of(cursor));
                    }
                    RecordService.SearchPage page = records.search(who, "Observation", params);
                    cursor = page.nextCursor();
                    if (cursor != null) {
                        assertEquals(count, page.matches().size(), "a page followed by another is full");
                    }
                    page.matches().forEach(m -> seen.add(m.id()));
                    assertTrue(seen.size() <= mine.size(), "round " + round + ", _count " + count + ": " + seen);
                } while (cursor != null);
                assertEquals(mine, seen, "round " + round + ", _count " + count);
            }
        }
        RecordService.SearchPage all = records.search(who, "Observation", q("code", TAG_SYSTEM + "|" + code, "_count",
                "5"));
        assertNull(all.nextCursor(), "the 40 hidden matches after the last visible one announce no next page");
        assertEquals(5, all.total(), "the whole visible result is on the page");
        assertEquals(5 + 3 * 3 + 33 * 2 + 40, records.search(SYSTEM, "Observation", q("code", TAG_SYSTEM + "|" + code,
                "_summary", "count")).total());
    }

    private static Observation coded(Observation o, String code) {
        o.getCode().getCodingFirstRep().setCode(code);
        return o;
    }

    @Test
    void aSearchThatNamesThePatientShowsNoTraceOfItsHiddenRows() {
        Caller who = as(doctor);
        // pA has the three results in obsA and, created last, the PSY note the physician may not see: with a page
        // of three, the hidden note is the row that would announce a next page.
        RecordService.SearchPage page = records.search(who, "Observation", q("patient", pA, "_count", "3"));
        assertEquals(obsA, ids(page.matches()));
        assertNull(page.nextCursor(), "no next page: what follows is hidden");
        assertEquals(3, page.total(), "the whole visible result is on the page");
        assertEquals(obsA, new HashSet<>(allPages(who, q("patient", pA, "_count", "2"))));
        assertEquals(obsA, new HashSet<>(allPages(who, q("subject", "Patient/" + pA, "_count", "1"))));
        RecordService.SearchPage psy = records.search(as(psychiatrist), "Observation", q("patient", pA, "_count", "3"));
        assertEquals(3, psy.matches().size());
        assertNotNull(psy.nextCursor(), "the psychiatrist sees the note, so there is a next page");
        // Conditions that look into other resources keep the filter there too, with the patient named.
        String secret = SECRET_SYSTEM + "|x" + tag;
        assertTrue(records.search(who, "Observation", q("patient", pA, "derived-from:Observation.code", secret))
                .matches().isEmpty(), "oA1 is visible, but its hidden source must not be matched");
        assertEquals(Set.of(oA1), ids(records.search(SYSTEM, "Observation", q("patient", pA,
                "derived-from:Observation.code", secret)).matches()));
        assertTrue(records.search(who, "Patient", q("_id", pA, "_has:Observation:subject:_security", "PSY"))
                .matches().isEmpty(), "pA is visible, but not through its hidden note");
        assertEquals(Set.of(pA), ids(records.search(as(psychiatrist), "Patient", q("_id", pA,
                "_has:Observation:subject:_security", "PSY")).matches()));
    }

    private static List<String> allPagesAsSystem(String code) {
        return allPages(SYSTEM, q("code", code, "_count", "3"));
    }

    @Test
    void includesOfHiddenTargetsAreDropped() {
        Map<String, List<String>> params = q("_id", oA1, "_include", "Observation:derived-from");
        RecordService.SearchPage mine = records.search(as(doctor), "Observation", params);
        assertEquals(Set.of(oA1), ids(mine.matches()));
        assertTrue(mine.includes().isEmpty(), "the derived-from target belongs to a patient not in care");
        assertEquals(1, records.search(SYSTEM, "Observation", params).includes().size());

        RecordService.SearchPage subj = records.search(as(doctor), "Observation", q("_id", oA1, "_include",
                "Observation:subject"));
        assertEquals(Set.of(pA), ids(subj.includes()), "the patient's demographics are readable");
    }

    @Test
    void revincludeBringsNoHiddenResources() {
        Map<String, List<String>> params = q("_id", pA + "," + pB, "_revinclude", "Observation:subject",
                "_revinclude", "Condition:subject");
        RecordService.SearchPage page = records.search(as(doctor), "Patient", params);
        assertEquals(Set.of(pA, pB), ids(page.matches()), "demographics of both");
        Set<String> expect = new HashSet<>(obsA);
        expect.add(cA);
        assertEquals(expect, ids(page.includes()), "nothing of pB, and not the PSY note");
        assertEquals(obsA.size() + obsB.size() + 3, records.search(SYSTEM, "Patient", params).includes().size());
        // A clerk may not search Observation at all: the revinclude is simply empty.
        assertTrue(records.search(as(clerk), "Patient", params).includes().isEmpty());
    }

    @Test
    void chainsAndHasCannotProbeHiddenRecords() {
        Caller who = as(doctor);
        String secret = SECRET_SYSTEM + "|x" + tag;
        Map<String, List<String>> chain = q("derived-from:Observation.code", secret, "_total", "accurate");
        assertEquals(0, records.search(who, "Observation", chain).total(),
                "oA1 is visible, but its hidden target must not be matched by the chain");
        assertEquals(Set.of(oA1), ids(records.search(SYSTEM, "Observation", chain).matches()));

        Map<String, List<String>> byName = q("patient.family", hiddenFamily, "_total", "accurate");
        assertEquals(0, records.search(who, "Observation", byName).total());
        assertEquals(3, records.search(SYSTEM, "Observation", byName).total());
        assertEquals(3, records.search(who, "Observation", q("patient.family", family, "_total", "accurate")).total());

        Map<String, List<String>> has = q("_id", pA + "," + pB, "_has:Observation:subject:code", secret,
                "_total", "accurate");
        assertEquals(0, records.search(who, "Patient", has).total(), "pB's demographics are visible, its results not");
        assertEquals(Set.of(pB), ids(records.search(SYSTEM, "Patient", has).matches()));
        FhirError e = forbidden(() -> records.search(as(clerk), "Patient", has));
        assertNotNull(e.getMessage());
    }
}
