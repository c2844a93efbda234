package jp.mamori.access;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.PartnerInstitutions;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Partner clinicians of other institutions (issue 21, AUTH-11) over the real database, through the record service the
 * server builds, with a clock the test moves: a partner reads and searches only the patient shared with it and only
 * the shared categories, no sensitive label unless shared, never writes and is never offered break-glass; the share's
 * end and its revocation count at once; and what a hostile or mistaken person asks for is refused.
 */
class PartnerAccessTest {
    private static final Caller SYSTEM = Caller.system("partner-test");
    private static final String TAG_SYSTEM = "urn:mamori:test:partner";

    private static TestServer server;
    private static DataSource ds;
    private static Roles roles;
    private static CareRelationships care;
    private static UUID admin;

    private Instant now;
    private Clock clock;
    private RecordService records;
    private PartnerShares shares;
    private Accounts accounts;
    private String tag;
    private String shared;
    private String other;
    private UUID doctor;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        roles = new Roles(ds, Clock.systemUTC());
        care = new CareRelationships(ds, Clock.systemUTC());
        admin = AccessFixtures.account(server, "kanri-pt", true);
    }

    @BeforeEach
    void data() throws Exception {
        // a little ahead of the real time the care assignments below start at
        now = Instant.now().plusSeconds(5).truncatedTo(ChronoUnit.SECONDS);
        clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return now;
            }
        };
        records = new RecordService(ds, new AccessPolicy(Categories.load(ds), PersonAccess.load(ds),
                new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { }),
                new EncounterRelations(ds, new jp.mamori.records.EncounterCare()), clock), new FhirSupport(), 10, 100);
        // sealed as the server seals them, so that verify-records on the shared server's folder stays clean
        shares = new PartnerShares(ds, clock, Categories.load(ds), PersonAccess.load(ds)).sealedWith(
                jp.mamori.identity.SecretSealer.open(server.dataDir().resolve("secrets").resolve("identity-keys")));
        accounts = new Accounts(ds, clock);
        tag = UUID.randomUUID().toString().substring(0, 8);
        shared = patient("Kyoyu" + tag);
        other = patient("Tanin" + tag);
        for (String p : List.of(shared, other)) {
            create(condition(p));
            create(observation(p, null));
            create(observation(p, null));
        }
        create(observation(shared, "PSY"));
        doctor = AccessFixtures.account(server, "ishi-pt", false);
        roles.assign(admin, doctor, "physician", "内科", null);
        care.add(admin, doctor, shared, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
        care.add(admin, doctor, other, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
    }

    // ---------------------------------------------------------------- helpers

    private static String create(org.hl7.fhir.r4.model.Resource r) {
        return server.server().records().create(SYSTEM, r, null, null).stored().id();
    }

    private static String patient(String family) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven("花子");
        return create(p);
    }

    private static Condition condition(String patient) {
        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + patient));
        c.setCode(new CodeableConcept().setText("糖尿病"));
        return c;
    }

    private Observation observation(String patient, String label) {
        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.setCode(new CodeableConcept());
        o.getCode().addCoding().setSystem(TAG_SYSTEM).setCode(tag);
        o.setSubject(new Reference("Patient/" + patient));
        if (label != null) {
            o.getMeta().addSecurity().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode(label);
        }
        return o;
    }

    /** A partner clinician's account made as the administrator's page makes it, then enrolled (active). */
    private UUID partner(String institution, String code) throws SQLException {
        String login = "renkei-" + UUID.randomUUID().toString().substring(0, 8);
        Account a = accounts.createPartner(new Accounts.NewAccount(login, "連携", "一郎", "レンケイ", "イチロウ",
                Account.Type.PARTNER, List.of(new Accounts.QualificationGrant("physician", "P" + login.substring(7))),
                List.of(), Set.of(), new Accounts.Proofing("in_person", "professional_licence", "医籍 末尾1234",
                "地域連携室 田中", now)), new PartnerInstitutions.Institution(institution, code), "account:test-admin");
        assertEquals(Account.Type.PARTNER, a.type());
        assertTrue(a.roles().isEmpty(), "a partner holds no role, whatever its qualifications");
        superuser("UPDATE account SET status = 'active' WHERE account_id = '" + a.id() + "'");
        return a.id();
    }

    private static void superuser(String sql) throws SQLException {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.executeUpdate();
        }
    }

    private PersonContext context(UUID account) {
        return PersonContext.load(ds, account, now, new jp.mamori.records.EncounterCare());
    }

    private Caller as(UUID account) {
        return as(context(account));
    }

    private Caller as(PersonContext ctx) {
        return Caller.person(ctx, "連携 一郎", "10.9.8.7");
    }

    private LocalDate today() {
        return LocalDate.ofInstant(now, ZoneId.of("Asia/Tokyo"));
    }

    private PartnerShares.Share share(UUID partner, String patient, LocalDate end, Set<String> categories,
                                      Set<String> labels) {
        return shares.create(context(doctor), "account:ishi", new PartnerShares.NewShare(partner, patient, "referral",
                "診療情報提供書 第" + tag + "号", end, categories, labels));
    }

    private int total(Caller who, String type, String... kv) {
        Map<String, List<String>> p = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            p.computeIfAbsent(kv[i], k -> new ArrayList<>()).add(kv[i + 1]);
        }
        p.put("_total", List.of("accurate"));
        return records.search(who, type, p).total();
    }

    private static FhirError forbidden(Runnable r) {
        FhirError e = assertThrows(FhirError.class, r::run);
        assertEquals(403, e.status(), e.getMessage());
        return e;
    }

    private List<String> ids(String type, String patient) {
        List<String> out = new ArrayList<>();
        records.search(SYSTEM, type, Map.of("subject", List.of("Patient/" + patient), "_count", List.of("50")))
                .matches().forEach(s -> out.add(s.id()));
        return out;
    }

    // ---------------------------------------------------------------- tests

    @Test
    void aPartnerReadsTheSharedPatientOnlyAndNeverWrites() throws Exception {
        UUID p = partner("みどり在宅クリニック", "1312345678");
        Caller before = as(p);
        assertTrue(before.person().partner());
        forbidden(() -> records.read(before, "Patient", shared));
        forbidden(() -> total(before, "Observation", "code", TAG_SYSTEM + "|" + tag)); // no access by default

        long version = AccessFixtures.accessVersion(ds, p);
        PartnerShares.Share s = share(p, shared, today().plusDays(30), Set.of(), Set.of());
        assertNotEquals(version, AccessFixtures.accessVersion(ds, p), "a new share moves the partner's access version");
        assertTrue(s.categories().containsAll(List.of("demographics", "clinical_notes", "results")), "the defaults");
        assertFalse(s.categories().contains("billing"));

        Caller who = as(p);
        assertEquals("partner", who.person().roles().get(0).role());
        assertEquals("みどり在宅クリニック（1312345678）", who.person().partnerInstitution());
        assertEquals(shared, records.read(who, "Patient", shared).id());
        for (String c : ids("Condition", shared)) {
            assertEquals(c, records.read(who, "Condition", c).id());
        }
        // the other patient: refused outright, with no offer of break-glass; not even their demographics
        FhirError e = forbidden(() -> records.read(who, "Patient", other));
        assertFalse(e.getMessage().contains("break-glass"), e.getMessage());
        for (String c : ids("Condition", other)) {
            FhirError ce = forbidden(() -> records.read(who, "Condition", c));
            assertFalse(ce.getMessage().contains("break-glass"), ce.getMessage());
        }
        // searches are filtered in SQL: totals count the shared patient's rows only, and not the PSY-labelled one
        assertEquals(2, total(who, "Observation", "code", TAG_SYSTEM + "|" + tag));
        assertEquals(1, total(who, "Patient", "family", "Kyoyu" + tag));
        assertEquals(0, total(who, "Patient", "family", "Tanin" + tag));
        assertEquals(1, total(who, "Condition", "subject", "Patient/" + shared));
        assertEquals(0, total(who, "Condition", "subject", "Patient/" + other));
        String psy = records.search(SYSTEM, "Observation", Map.of("code", List.of(TAG_SYSTEM + "|" + tag),
                "_security", List.of("PSY"), "subject", List.of("Patient/" + shared))).matches().get(0).id();
        forbidden(() -> records.read(who, "Observation", psy));
        // read-only: no create, no update
        forbidden(() -> records.create(who, condition(shared), null, null));
        String c = ids("Condition", shared).get(0);
        Condition changed = condition(shared);
        changed.setId(c);
        forbidden(() -> records.update(who, "Condition", c, changed, null, null));
        // the doctor still reads both: the share took nothing from anyone
        assertEquals(other, records.read(as(doctor), "Patient", other).id());
    }

    @Test
    void onlyTheSharedCategoriesAndLabelsAreSeen() throws Exception {
        UUID p = partner("さくら訪問看護ステーション", null);
        share(p, shared, today().plusDays(7), Set.of("clinical_notes"), Set.of());
        Caller who = as(p);
        assertEquals(shared, records.read(who, "Patient", shared).id(), "demographics are always shared");
        assertEquals(1, total(who, "Condition", "subject", "Patient/" + shared));
        forbidden(() -> total(who, "Observation", "code", TAG_SYSTEM + "|" + tag)); // results were not shared
        forbidden(() -> records.read(who, "Observation", ids("Observation", shared).get(0)));

        // a sensitive label only when shared explicitly, and only by someone who holds its privilege
        AccessException refused = assertThrows(AccessException.class, () -> share(p, shared, today().plusDays(7),
                Set.of("results"), Set.of("PSY")));
        assertTrue(refused.getMessage().contains("ご自身が閲覧できない"), refused.getMessage());
        new SensitivityPrivileges(ds, Clock.systemUTC()).grant(admin, doctor, "PSY");
        share(p, shared, today().plusDays(7), Set.of("results"), Set.of("PSY"));
        Caller after = as(p);
        assertEquals(3, total(after, "Observation", "code", TAG_SYSTEM + "|" + tag), "with PSY shared");
    }

    @Test
    void theEndDateAndARevocationCountAtOnce() throws Exception {
        UUID p = partner("あおば病院", "1413456789");
        PartnerShares.Share s = share(p, shared, today().plusDays(1), Set.of(), Set.of());
        assertEquals(today().plusDays(2).atStartOfDay(ZoneId.of("Asia/Tokyo")).toInstant(), s.endsAt(),
                "readable through the end date, until midnight JST");
        PersonContext kept = context(p); // the context a server keeps while the version stays the same
        Caller who = as(kept);
        assertEquals(2, total(who, "Observation", "code", TAG_SYSTEM + "|" + tag));

        Instant start = now;
        now = s.endsAt().minusSeconds(1);
        assertEquals(shared, records.read(who, "Patient", shared).id(), "a second before the end");
        now = s.endsAt();
        forbidden(() -> records.read(who, "Patient", shared));
        assertEquals(0, total(who, "Observation", "code", TAG_SYSTEM + "|" + tag), "the filter reads the end too");
        assertTrue(context(p).partnerShares(now).isEmpty());

        now = start;
        shares.revoke(context(doctor), "account:ishi", s.id(), "紹介先の変更のため");
        PartnerShares.Share again = share(p, shared, today().plusDays(10), Set.of(), Set.of());
        Caller renewed = as(p);
        assertEquals(shared, records.read(renewed, "Patient", shared).id());
        long version = AccessFixtures.accessVersion(ds, p);
        assertThrows(AccessException.class, () -> shares.revoke(context(doctor), "account:ishi", again.id(), " "),
                "a revocation needs its reason");
        PartnerShares.Share revoked = shares.revoke(context(doctor), "account:ishi", again.id(), "転院のため連携終了");
        assertEquals(PartnerShares.State.REVOKED, revoked.state(now));
        assertEquals(2, revoked.version());
        assertNotEquals(version, AccessFixtures.accessVersion(ds, p), "a revocation moves the access version");
        assertEquals(0, total(renewed, "Observation", "code", TAG_SYSTEM + "|" + tag),
                "even a context read before the revocation finds nothing in searches");
        forbidden(() -> records.read(as(p), "Patient", shared));
        assertThrows(AccessException.class, () -> shares.revoke(context(doctor), "account:ishi", again.id(), "二度目"));
        // the history: created and revoked, in the access ledger (and so in the trail)
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT action FROM access_change WHERE subject = ? ORDER BY change_id")) {
            ps.setString(1, "PartnerShare/" + again.id());
            List<String> actions = new ArrayList<>();
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    actions.add(rs.getString(1));
                }
            }
            assertEquals(List.of("partner_share.created", "partner_share.revoked"), actions);
        }
    }

    @Test
    void hostileAndMistakenSharesAreRefused() throws Exception {
        UUID p = partner("ひかり医院", null);
        UUID otherPartner = partner("つばさ総合病院", "2718765432");
        String reason;
        reason = assertThrows(AccessException.class, () -> share(p, shared, today().minusDays(1), Set.of(),
                Set.of())).getMessage();
        assertTrue(reason.contains("過去"), reason);
        reason = assertThrows(AccessException.class, () -> share(p, shared, today().plusDays(366), Set.of(),
                Set.of())).getMessage();
        assertTrue(reason.contains("最長1年"), reason);
        share(p, shared, today().plusDays(365), Set.of(), Set.of()); // exactly a year is allowed
        reason = assertThrows(AccessException.class, () -> share(p, shared, today().plusDays(5), Set.of("billing"),
                Set.of())).getMessage();
        assertTrue(reason.contains("共有できない情報区分"), reason);
        reason = assertThrows(AccessException.class, () -> share(doctor, shared, today().plusDays(5), Set.of(),
                Set.of())).getMessage();
        assertTrue(reason.contains("連携先医療者のアカウントではありません"), reason);
        assertThrows(AccessException.class, () -> shares.create(context(doctor), "account:ishi",
                new PartnerShares.NewShare(p, shared, "gossip", "x", today().plusDays(5), Set.of(), Set.of())));
        assertThrows(AccessException.class, () -> shares.create(context(doctor), "account:ishi",
                new PartnerShares.NewShare(p, "../../etc", "consent", "同意書", today().plusDays(5), Set.of(), Set.of())));
        // someone without a care relationship (a clerk, an administrator) cannot share; nor can a partner
        UUID clerk = AccessFixtures.account(server, "jimu-pt", false);
        roles.assign(admin, clerk, "clerk", "医事課", null);
        for (UUID who : List.of(clerk, admin, p)) {
            reason = assertThrows(AccessException.class, () -> shares.create(context(who), "account:x",
                    new PartnerShares.NewShare(otherPartner, shared, "consent", "同意書 2026-12-07", today().plusDays(5),
                            Set.of(), Set.of()))).getMessage();
            assertTrue(reason.contains("担当関係") || reason.contains("職員だけ"), reason);
        }
        // another institution's partner sees nothing of this share
        forbidden(() -> total(as(otherPartner), "Patient", "family", "Kyoyu" + tag));
        forbidden(() -> records.read(as(otherPartner), "Patient", shared));
        // ... even once a patient of its own is shared with it: its searches and reads stay on that patient
        share(otherPartner, other, today().plusDays(5), Set.of(), Set.of());
        Caller theirs = as(otherPartner);
        assertEquals(0, total(theirs, "Patient", "family", "Kyoyu" + tag));
        assertEquals(1, total(theirs, "Patient", "family", "Tanin" + tag));
        assertEquals(2, total(theirs, "Observation", "code", TAG_SYSTEM + "|" + tag));
        forbidden(() -> records.read(theirs, "Patient", shared));
        // a partner's account holds no role
        reason = assertThrows(AccessException.class, () -> roles.assign(admin, p, "physician", "内科", null))
                .getMessage();
        assertTrue(reason.contains("役割を付けられません"), reason);
        // and the database itself refuses a share longer than a year, or one to the person who shares
        SQLException tooLong = assertThrows(SQLException.class, () -> superuser("INSERT INTO partner_share (share_id,"
                + " account_id, patient_id, basis, basis_ref, categories, starts_at, ends_at, created_at, created_by)"
                + " VALUES (gen_random_uuid(), '" + p + "', '" + shared + "', 'consent', 'x', '{results}', now(),"
                + " now() + interval '400 days', now(), '" + doctor + "')"));
        assertTrue(tooLong.getMessage().contains("check constraint"), tooLong.getMessage());
    }

    @Test
    void anInstitutionCodeHasTheFormOfAMedicalInstitutionCode() {
        assertEquals("1312345678", PartnerInstitutions.check("みどり在宅クリニック", "１３１２３４５６７８").code());
        assertEquals("1312345678", PartnerInstitutions.check(" みどり ", "13-1-2345678").code());
        assertEquals(null, PartnerInstitutions.check("みどり", "").code());
        for (String bad : List.of("4812345678", "0012345678", "1322345678", "131234567", "13123456789", "abc")) {
            assertThrows(IdentityException.class, () -> PartnerInstitutions.check("みどり", bad), bad);
        }
        assertThrows(IdentityException.class, () -> PartnerInstitutions.check(" ", null));
        assertThrows(IdentityException.class, () -> PartnerInstitutions.check("x".repeat(201), null));
    }

    /** The seal findings that name this share (the shared database holds other tests' shares too). */
    private static List<String> sealFindings(jp.mamori.identity.SecretSealer keys, PartnerShares.Share s) {
        return PartnerShares.verifySeals(ds, keys).findings().stream().filter(f -> f.contains(s.id().toString()))
                .toList();
    }

    @Test
    void anEndDateExtendedOrACategoryAddedBySqlIsCaughtByTheShareSeal() throws Exception {
        jp.mamori.identity.SecretSealer keys = jp.mamori.identity.SecretSealer.open(server.dataDir().resolve("secrets")
                .resolve("identity-keys"));
        shares.sealedWith(keys);
        UUID p = partner("みどり病院", "1413456780");
        PartnerShares.Share s = share(p, shared, today().plusDays(5), Set.of(), Set.of());
        assertEquals(List.of(), sealFindings(keys, s), "as made");
        String original;
        try (Connection c = server.superuserConnection(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT encode(seal, 'hex') FROM partner_share WHERE share_id = '"
                     + s.id() + "'")) {
            rs.next();
            original = rs.getString(1);
        }

        // the database superuser extends the end date, behind the server's back
        superuser("UPDATE partner_share SET ends_at = ends_at + interval '200 days' WHERE share_id = '" + s.id() + "'");
        List<String> found = sealFindings(keys, s);
        assertEquals(1, found.size(), found::toString);
        assertTrue(found.get(0).contains("differ from what Mamori sealed"), found::toString);
        superuser("UPDATE partner_share SET ends_at = ends_at - interval '200 days' WHERE share_id = '" + s.id() + "'");
        assertEquals(List.of(), sealFindings(keys, s), "put back as it was: matches again");

        // ... adds a category, or copies another share's seal onto it
        superuser("UPDATE partner_share SET categories = categories || '{billing}'::text[] WHERE share_id = '"
                + s.id() + "'");
        assertEquals(1, sealFindings(keys, s).size());
        superuser("UPDATE partner_share SET categories = array_remove(categories, 'billing') WHERE share_id = '"
                + s.id() + "'");
        PartnerShares.Share other = share(p, this.other, today().plusDays(5), Set.of(), Set.of());
        superuser("UPDATE partner_share SET seal = (SELECT seal FROM partner_share WHERE share_id = '" + other.id()
                + "') WHERE share_id = '" + s.id() + "'");
        assertEquals(1, sealFindings(keys, s).size(), "a seal is bound to its own share");
        superuser("UPDATE partner_share SET seal = NULL WHERE share_id = '" + s.id() + "'");
        assertTrue(sealFindings(keys, s).get(0).contains("no seal"));
        assertEquals(List.of(), sealFindings(keys, other));
        // and a key file the server does not hold cannot make a seal that passes
        java.nio.file.Path foreign = java.nio.file.Files.createTempDirectory("foreign-keys").resolve("identity-keys");
        assertEquals(1, sealFindings(jp.mamori.identity.SecretSealer.open(foreign), other).size());
        superuser("UPDATE partner_share SET seal = decode('" + original + "', 'hex') WHERE share_id = '" + s.id() + "'");
        assertEquals(List.of(), sealFindings(keys, s), "its own seal back: the shared database is left clean");
    }

}
