package jp.mamori.access;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The access model on the real database: seeded catalogue, services, four eyes, history. */
class AccessModelTest {
    private static TestServer server;
    private static DataSource ds;
    private static Roles roles;
    private static CareRelationships care;
    private static SensitivityPrivileges privileges;
    private static Categories categories;
    private static PersonAccess access;
    private static UUID adminA;
    private static UUID adminB;

    @BeforeAll
    static void twoAdministrators() throws Exception {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        Clock clock = Clock.systemUTC();
        roles = new Roles(ds, clock);
        care = new CareRelationships(ds, clock);
        privileges = new SensitivityPrivileges(ds, clock);
        categories = Categories.load(ds);
        access = PersonAccess.load(ds);
        adminA = account("kanri-a", true);
        adminB = account("kanri-b", true);
    }

    static UUID account(String prefix, boolean admin) throws SQLException {
        return AccessFixtures.account(server, prefix, admin);
    }

    static String patient() {
        return "pt-" + UUID.randomUUID().toString().substring(0, 12);
    }

    static Decision decide(UUID who, String patient, String category, Action action, Set<String> labels) {
        Instant now = Instant.now();
        return access.decide(PersonContext.load(ds, who, now, new jp.mamori.records.EncounterCare()), patient, categories.byCode(category).orElseThrow(),
                action, labels, now);
    }

    @Test
    void theCatalogueIsSeededAsData() {
        assertEquals("demographics", categories.resolve("Patient").code());
        assertEquals("results", categories.resolve("Observation").code());
        assertEquals("billing", categories.resolve("Coverage").code());
        assertEquals("nursing", categories.resolve("Composition", "http://loinc.org", "34746-8").code());
        assertEquals("clinical_notes", categories.resolve("DocumentReference").code());
        assertEquals("other", categories.resolve("Basic").code());
        assertEquals(List.of("nurse"), roles.defaultRolesFor("nurse"));
        assertEquals(List.of("physician"), roles.defaultRolesFor("physician"));
        assertTrue(roles.list().size() >= 13);
        assertTrue(access.guardedLabels().containsAll(Set.of("R", "PSY", "HIV", "GDIS", "VIP", "EMP")));
    }

    @Test
    void aClerkReadsDemographicsButNotClinicalNotes() throws Exception {
        UUID clerk = account("jimu-k", false);
        roles.assign(adminA, clerk, "clerk", "医事課", null);
        String p = patient();
        assertTrue(decide(clerk, p, "demographics", Action.READ, Set.of()).permitted());
        assertTrue(decide(clerk, p, "encounters", Action.CREATE, Set.of()).permitted());
        assertFalse(decide(clerk, p, "clinical_notes", Action.READ, Set.of()).permitted());
    }

    @Test
    void aPhysicianReadsNotesOnlyOfPatientsInTheirCare() throws Exception {
        UUID doctor = account("ishi-p", false);
        roles.assign(adminA, doctor, "physician", "内科", null);
        String mine = patient();
        String other = patient();
        care.add(adminA, doctor, mine, CareRelationships.Kind.CARE_TEAM, "内科", null, null);
        assertTrue(decide(doctor, mine, "clinical_notes", Action.FINALIZE, Set.of()).permitted());
        Decision d = decide(doctor, other, "clinical_notes", Action.READ, Set.of());
        assertFalse(d.permitted());
        assertTrue(d.breakGlass());
        // The relationship as the request path reads it: within the department it was recorded for only.
        Instant now = Instant.now();
        PersonContext ctx = PersonContext.load(ds, doctor, now, new jp.mamori.records.EncounterCare());
        assertTrue(ctx.caresFor(mine, Set.of("内科"), now));
        assertFalse(ctx.caresFor(mine, Set.of("外科"), now));
        assertFalse(ctx.caresFor(other, Set.of("内科"), now));
        // A hospital-wide role (薬剤師) needs no relationship at all.
        UUID pharmacist = account("yakuzai-p", false);
        roles.assign(adminA, pharmacist, "pharmacist", "薬剤部", null);
        assertTrue(decide(pharmacist, other, "clinical_notes", Action.READ, Set.of()).permitted());
    }

    @Test
    void anEndedAssignmentNoLongerGivesAccess() throws Exception {
        UUID doctor = account("ishi-e", false);
        Roles.Assignment role = roles.assign(adminA, doctor, "physician", "外科", null);
        String p = patient();
        // A physician of the department records their own care-team membership.
        CareRelationships.CareAssignment a = care.add(doctor, doctor, p, CareRelationships.Kind.ASSIGNMENT, "外科",
                null, null);
        assertTrue(decide(doctor, p, "clinical_notes", Action.READ, Set.of()).permitted());
        care.end(adminB, a.id(), "転科 / transferred");
        Decision ended = decide(doctor, p, "clinical_notes", Action.READ, Set.of());
        assertFalse(ended.permitted());
        assertTrue(ended.breakGlass());
        care.add(adminA, doctor, p, CareRelationships.Kind.CARE_TEAM, "外科", null, null);
        assertTrue(decide(doctor, p, "clinical_notes", Action.READ, Set.of()).permitted());
        roles.revoke(adminA, role.id(), "異動 / moved");
        Decision revoked = decide(doctor, p, "clinical_notes", Action.READ, Set.of());
        assertFalse(revoked.permitted());
        assertFalse(revoked.breakGlass(), "without a role, break-glass does not apply");
        assertThrows(AccessException.class, () -> care.add(doctor, doctor, patient(),
                CareRelationships.Kind.ASSIGNMENT, "外科", null, null), "no clinical role in the department any more");
    }

    @Test
    void theSystemAdministratorNeverReachesClinicalContent() throws Exception {
        UUID sys = account("sysadm", false);
        Roles.Assignment a = roles.assign(adminA, sys, "system_admin", "情報システム課", null);
        assertTrue(a.pending(), "administrator rights need four eyes");
        roles.approve(adminB, a.id());
        String p = patient();
        care.add(adminA, sys, p, CareRelationships.Kind.ASSIGNMENT, null, null, null);
        assertTrue(decide(sys, null, "administrative", Action.UPDATE, Set.of()).permitted());
        for (String cat : List.of("clinical_notes", "nursing", "orders", "medication", "results", "other")) {
            assertFalse(decide(sys, p, cat, Action.READ, Set.of()).permitted(), cat);
        }
        assertThrows(AccessException.class, () -> roles.setPermissions(adminA, "system_admin",
                Map.of("clinical_notes", EnumSet.of(Action.READ))));
        assertThrows(AccessException.class, () -> roles.setPermissions(adminA, "auditor",
                Map.of("audit", EnumSet.of(Action.READ), "results", EnumSet.of(Action.READ))));
        // The database refuses the row too, whoever writes it.
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute(
                    "INSERT INTO role_permission (role, category, action) VALUES ('system_admin', 'clinical_notes', 'read')"));
            assertEquals("23514", e.getSQLState(), e.getMessage());
        }
    }

    @Test
    void aPsychiatricNoteNeedsThePrivilegeOnTopOfTheRelationship() throws Exception {
        UUID doctor = account("ishi-s", false);
        roles.assign(adminA, doctor, "physician", "精神科", null);
        String p = patient();
        care.add(adminA, doctor, p, CareRelationships.Kind.CARE_TEAM, "精神科", null, null);
        assertFalse(decide(doctor, p, "clinical_notes", Action.READ, Set.of("PSY")).permitted());
        privileges.grant(adminA, doctor, "PSY");
        assertTrue(decide(doctor, p, "clinical_notes", Action.READ, Set.of("PSY")).permitted());
        assertFalse(decide(doctor, p, "clinical_notes", Action.READ, Set.of("PSY", "HIV")).permitted());
        // An administrator's privilege for themselves waits for another administrator.
        SensitivityPrivileges.Privilege own = privileges.grant(adminB, adminB, "VIP");
        assertFalse(own.inForce());
        assertThrows(AccessException.class, () -> privileges.approve(adminB, own.id()));
        assertTrue(privileges.approve(adminA, own.id()).inForce());
    }

    @Test
    void grantingOneselfAClinicalRoleWaitsForASecondAdministrator() throws Exception {
        UUID admin = account("kanri-c", true);
        Roles.Assignment own = roles.assign(admin, admin, "physician", "内科", null);
        assertTrue(own.pending());
        assertTrue(roles.pending().stream().anyMatch(a -> a.id().equals(own.id())));
        String p = patient();
        care.add(adminA, admin, p, CareRelationships.Kind.ASSIGNMENT, "内科", null, null);
        assertFalse(decide(admin, p, "clinical_notes", Action.READ, Set.of()).permitted(), "pending gives nothing");
        AccessException self = assertThrows(AccessException.class, () -> roles.approve(admin, own.id()));
        assertTrue(self.getMessage().contains("different administrator"), self.getMessage());
        assertTrue(roles.approve(adminA, own.id()).inForce());
        assertTrue(decide(admin, p, "clinical_notes", Action.READ, Set.of()).permitted());
        // A non-clinical role for oneself needs no second approval.
        assertFalse(roles.assign(admin, admin, "auditor", "監査室", null).pending());
        // Administrator rights for someone else: the grantee cannot approve them either.
        UUID next = account("kanri-d", true);
        Roles.Assignment adm = roles.assign(adminA, next, "account_admin", "総務課", null);
        assertTrue(adm.pending());
        assertThrows(AccessException.class, () -> roles.approve(adminA, adm.id()));
        assertThrows(AccessException.class, () -> roles.approve(next, adm.id()));
        assertTrue(roles.approve(adminB, adm.id()).inForce());
        // The database holds the rule as well.
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO role_assignment (assignment_id, account_id, role, department, scope, four_eyes, granted_by,"
                        + " granted_at, approved_by, approved_at) VALUES (?, ?, 'physician', '眼科', 'department', true, ?, now(), ?, now())")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, admin);
            ps.setObject(3, admin);
            ps.setObject(4, admin);
            assertEquals("23514", assertThrows(SQLException.class, ps::executeUpdate).getSQLState());
        }
    }

    @Test
    void onlyAnAdministratorChangesRolesAndPermissions() throws Exception {
        UUID nurse = account("kango-n", false);
        roles.assign(adminA, nurse, "nurse", "5東病棟", null);
        assertThrows(AccessException.class, () -> roles.assign(nurse, nurse, "physician", "5東病棟", null));
        assertThrows(AccessException.class, () -> roles.createRole(nurse, "ward_lead", "病棟リーダー", "Ward lead",
                true, PersonContext.Scope.WARD));
        String code = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        roles.createRole(adminA, code, "感染対策チーム", "Infection control team", true, PersonContext.Scope.HOSPITAL);
        roles.setPermissions(adminA, code, Map.of("results", EnumSet.of(Action.READ, Action.SEARCH)));
        assertEquals(Map.of("results", EnumSet.of(Action.READ, Action.SEARCH)), roles.get(code).permissions());
        roles.assign(adminA, nurse, code, "感染対策室", null);
        assertTrue(decide(nurse, patient(), "results", Action.SEARCH, Set.of()).permitted(), "hospital-wide role");
    }

    @Test
    void anAdministratorCannotWidenAClinicalRoleTheyHold() throws Exception {
        UUID admin = account("kanri-w", true);
        String code = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        roles.createRole(admin, code, "褥瘡対策チーム", "Pressure ulcer team", true, PersonContext.Scope.DEPARTMENT);
        roles.setPermissions(admin, code, Map.of("nursing", EnumSet.of(Action.READ)));
        roles.approve(adminA, roles.assign(admin, admin, code, "皮膚科", null).id());
        AccessException e = assertThrows(AccessException.class, () -> roles.setPermissions(admin, code,
                Map.of("nursing", EnumSet.of(Action.READ), "clinical_notes", EnumSet.allOf(Action.class))));
        assertTrue(e.getMessage().contains("different administrator"), e.getMessage());
        roles.setPermissions(adminB, code, Map.of("nursing", EnumSet.of(Action.READ, Action.SEARCH)));
        assertEquals(Map.of("nursing", EnumSet.of(Action.READ, Action.SEARCH)), roles.get(code).permissions());
    }

    @Test
    void everyChangeIsRecordedWithWhoMadeIt() throws Exception {
        UUID person = account("rireki", false);
        Roles.Assignment a = roles.assign(adminA, person, "nurse", "3西病棟", null);
        String p = patient();
        CareRelationships.CareAssignment ca = care.add(adminA, person, p, CareRelationships.Kind.CARE_TEAM, "3西病棟",
                null, null);
        care.end(adminB, ca.id(), "退院 / discharged");
        SensitivityPrivileges.Privilege pr = privileges.grant(adminB, person, "HIV");
        privileges.revoke(adminA, pr.id(), "不要 / no longer needed");
        roles.revoke(adminB, a.id(), "退職 / leaving");
        String loginA = login(adminA);
        String loginB = login(adminB);
        List<String> rows = new ArrayList<>();
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT action, by_principal FROM access_change WHERE subject = ? ORDER BY change_id")) {
            ps.setString(1, "account:" + person);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + " " + rs.getString(2));
                }
            }
        }
        assertEquals(List.of("role.assigned account:" + loginA, "care.added account:" + loginA,
                "care.ended account:" + loginB, "privilege.granted account:" + loginB,
                "privilege.revoked account:" + loginA, "role.revoked account:" + loginB), rows);
    }

    @Test
    void theDatabaseRefusesToRewriteTheAccessHistory() throws Exception {
        UUID person = account("kaizan", false);
        Roles.Assignment a = roles.assign(adminA, person, "clerk", "医事課", null);
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            // The owner is stopped by triggers.
            for (String sql : List.of("UPDATE access_change SET by_principal = 'account:mallory'",
                    "DELETE FROM access_change", "TRUNCATE access_change")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
            st.execute("SET ROLE mamori_app");
            for (String sql : List.of("UPDATE access_change SET by_principal = 'account:mallory'",
                    "DELETE FROM access_change",
                    "DELETE FROM role_assignment WHERE assignment_id = '" + a.id() + "'",
                    "UPDATE role_assignment SET role = 'physician' WHERE assignment_id = '" + a.id() + "'",
                    "UPDATE role_assignment SET granted_by = account_id WHERE assignment_id = '" + a.id() + "'",
                    "DELETE FROM care_assignment", "UPDATE care_assignment SET patient_id = 'x'",
                    "UPDATE role SET clinical_content = true WHERE code = 'system_admin'",
                    "INSERT INTO information_category (code, name_ja, name_en, clinical) VALUES ('x1', 'x', 'x', false)",
                    "DELETE FROM sensitivity_privilege")) {
                SQLException e = assertThrows(SQLException.class, () -> st.execute(sql), sql);
                assertEquals("42501", e.getSQLState(), sql + ": " + e.getMessage());
            }
            st.execute("RESET ROLE");
        }
    }

    @Test
    void aPersonContextWithAThousandRelationshipsIsReadInOneRequestsWorth() throws Exception {
        UUID nurse = account("kango-m", false);
        for (int i = 0; i < 20; i++) {
            roles.assign(adminA, nurse, i % 2 == 0 ? "nurse" : "therapist", "病棟" + i, null);
        }
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO care_assignment (care_id, account_id, patient_id, kind, department, valid_from, added_by,"
                        + " added_at) SELECT gen_random_uuid(), ?, 'bulk-' || g, 'care_team', '病棟' || (g % 20),"
                        + " now() - interval '1 day', ?, now() FROM generate_series(1, 1000) g")) {
            ps.setObject(1, nurse);
            ps.setObject(2, adminA);
            assertEquals(1000, ps.executeUpdate());
        }
        PersonContext ctx = null;
        int n = 30;
        long start = 0;
        for (int i = 0; i < n + 10; i++) {
            if (i == 10) {
                start = System.nanoTime();
            }
            ctx = PersonContext.load(ds, nurse, Instant.now(), new jp.mamori.records.EncounterCare());
        }
        double us = (System.nanoTime() - start) / 1000.0 / n;
        System.out.printf("PersonContext.load: %.0f µs for 20 roles and 1,000 care relationships%n", us);
        assertEquals(20, ctx.roles().size());
        assertTrue(access.decide(ctx, "bulk-8", categories.byCode("nursing").orElseThrow(), Action.READ, Set.of(),
                Instant.now()).permitted(), "bulk-8 is in 病棟8, where the person is a nurse");
        assertFalse(access.decide(ctx, "bulk-7", categories.byCode("nursing").orElseThrow(), Action.READ, Set.of(),
                Instant.now()).permitted(), "bulk-7 is in 病棟7, where the person is a therapist without nursing records");
    }

    static String login(UUID id) throws SQLException {
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT login_id FROM account WHERE account_id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getString(1);
            }
        }
    }
}
