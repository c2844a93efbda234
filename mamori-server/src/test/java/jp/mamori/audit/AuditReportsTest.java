package jp.mamori.audit;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reports over the trail (AUDIT-2, AUDIT-8, AUDIT-10) on controlled data: one week of March 2021 (Monday 1
 * to Sunday 7, Japan time) in a fresh server's trail, nothing else in that week.
 */
class AuditReportsTest {
    private static final LocalDate MONDAY = LocalDate.of(2021, 3, 1);
    private static final Instant FROM = MONDAY.atStartOfDay(AuditReports.JST).toInstant();
    private static final Instant TO = MONDAY.plusDays(7).atStartOfDay(AuditReports.JST).toInstant();

    private static TestServer server;
    private static AuditReports reports;
    private static AuditTrail trail;
    /** 佐藤 (a staff member named 佐藤), 鈴木, 高橋 (a busy person's patient). */
    private static String sato;
    private static String suzuki;
    private static String takahashi;
    private static Account satoStaff;
    private static String staffA;
    private static final String STAFF_B = "account:" + UUID.randomUUID();
    private static final String STAFF_C = "account:" + UUID.randomUUID();
    private static final String CLIENT = "client:lab-system";
    /** The sequence numbers of the week's entries, by name. */
    private static final Map<String, Long> SEQ = new java.util.LinkedHashMap<>();

    @BeforeAll
    static void week() {
        server = TestServer.start(List.of());
        reports = server.server().audit().reports();
        trail = server.server().audit().trail();
        sato = AuditTrailTest.create(server, AuditTrailTest.patientJson("佐藤"));
        suzuki = AuditTrailTest.create(server, AuditTrailTest.patientJson("鈴木"));
        takahashi = AuditTrailTest.create(server, AuditTrailTest.patientJson("高橋"));
        satoStaff = server.server().identity().accounts().create(new Accounts.NewAccount("sato.h", "佐藤", "花子",
                "サトウ", "ハナコ", Account.Type.STAFF, List.of(), List.of("内科"), Set.of(),
                new Accounts.Proofing("in_person", "my_number_card", "末尾4桁 1234", "人事課 田中", Instant.now())),
                "test");
        staffA = "account:" + satoStaff.id();

        // In time order, as the trail is. Working hours are 8:00-19:00 Japan time on weekdays.
        add("c-day1", at(1, 9, 0), STAFF_C, "person", List.of(takahashi), "search", false);
        add("a-reads-sato", at(1, 10, 0), staffA, "person", List.of(sato), "read", false);
        add("a-reads-suzuki", at(1, 10, 5), staffA, "person", List.of(suzuki), "read", false);
        add("login-failure", at(1, 12, 0), "login:nobody", "anonymous", List.of(), "auth.login.password", false);
        add("b-late-suzuki", at(1, 22, 30), STAFF_B, "person", List.of(suzuki), "read", false);
        add("client-night", at(1, 23, 0), CLIENT, "client", List.of(sato), "read", false);
        add("c-day2", at(2, 9, 0), STAFF_C, "person", List.of(takahashi), "search", false);
        add("b-break-glass", at(2, 14, 0), STAFF_B, "person", List.of(sato), "read", true);
        add("c-day3", at(3, 9, 0), STAFF_C, "person", List.of(takahashi), "search", false);
        for (int i = 0; i < 10; i++) {
            add("c-busy" + i, at(4, 9, i), STAFF_C, "person", List.of(takahashi), "read", false);
        }
        add("b-saturday", at(6, 11, 0), STAFF_B, "person", List.of(sato), "read", false);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Instant at(int dayOfMarch, int hour, int minute) {
        return LocalDateTime.of(2021, 3, dayOfMarch, hour, minute).atZone(AuditReports.JST).toInstant();
    }

    private static void add(String name, Instant at, String actor, String kind, List<String> patients, String action,
                            boolean breakGlass) {
        List<String> resources = patients.stream().map(p -> "Patient/" + p + "/_history/1").toList();
        SEQ.put(name, trail.append(new AuditRecord(at, actor, kind, null, List.of(), null, patients, resources, action,
                kind.equals("anonymous") ? "refused" : "success", breakGlass ? "break-glass" : "treatment",
                "10.0.0.5", null, breakGlass, Map.of())));
    }

    private static List<String> names(List<AuditReports.Row> rows) {
        List<String> out = new ArrayList<>();
        for (AuditReports.Row r : rows) {
            SEQ.forEach((name, seq) -> {
                if (seq == r.seq()) {
                    out.add(name);
                }
            });
        }
        return out;
    }

    @Test
    void aPatientsAccessHistoryListsEveryoneWhoOpenedTheRecordOldestFirst() {
        List<AuditReports.Row> rows = reports.patientAccess(sato, FROM, TO, 100);
        assertEquals(List.of("a-reads-sato", "client-night", "b-break-glass", "b-saturday"), names(rows));
        AuditReports.Row first = rows.get(0);
        assertEquals(staffA, first.actor());
        assertEquals(List.of("Patient/" + sato + "/_history/1"), first.resources());
        assertEquals("10.0.0.5", first.address());
        assertEquals(List.of("a-reads-sato"), names(reports.patientAccess(sato, FROM, at(1, 12, 0), 100)),
                "the window bounds the report");
        assertEquals(List.of("a-reads-sato", "client-night"), names(reports.patientAccess(sato, FROM, TO, 2)),
                "and the limit");
    }

    @Test
    void aPersonsActivityIsFoundByAccountIdOrLoginId() {
        List<String> expected = List.of("a-reads-sato", "a-reads-suzuki");
        assertEquals(expected, names(reports.actorActivity(staffA, FROM, TO, 100)));
        assertEquals(expected, names(reports.actorActivity("sato.h", FROM, TO, 100)), "by login id");
        assertEquals(List.of("client-night"), names(reports.actorActivity(CLIENT, FROM, TO, 100)));
    }

    @Test
    void theWindowListsPatientAccessesInTimeOrderAndCountsThemPerPatient() {
        List<AuditReports.Row> rows = reports.window(FROM, TO, 100);
        List<String> expected = new ArrayList<>(SEQ.keySet());
        expected.remove("login-failure"); // no patient: not a record access
        assertEquals(expected, names(rows));
        for (int i = 1; i < rows.size(); i++) {
            assertTrue(!rows.get(i).at().isBefore(rows.get(i - 1).at()), "time order at " + rows.get(i).seq());
        }
        assertEquals(List.of(new AuditReports.PatientCount(takahashi, 13, 1), new AuditReports.PatientCount(sato, 4, 3),
                new AuditReports.PatientCount(suzuki, 2, 2)), reports.countsPerPatient(FROM, TO));
        assertEquals(Set.of(new AuditReports.PatientCount(sato, 1, 1), new AuditReports.PatientCount(suzuki, 1, 1),
                        new AuditReports.PatientCount(takahashi, 1, 1)),
                Set.copyOf(reports.countsPerPatient(FROM, at(1, 12, 0))));
    }

    @Test
    void breakGlassUsesAndAfterHoursAccessesAreListed() {
        assertEquals(List.of("b-break-glass"), names(reports.breakGlass(FROM, TO, 100)));
        AuditReports.Row bg = reports.breakGlass(FROM, TO, 100).get(0);
        assertEquals("break-glass", bg.purpose());
        assertTrue(bg.breakGlass());
        // 22:30 on a weekday and Saturday morning; the lab system's night-time read is not a person's.
        assertEquals(List.of("b-late-suzuki", "b-saturday"), names(reports.afterHours(FROM, TO, 100)));
    }

    @Test
    void aDayWellAboveThePersonsOwnMedianIsUnusual() {
        List<AuditReports.UnusualDay> days = reports.unusualVolume(FROM, TO);
        assertEquals(1, days.size(), days::toString);
        AuditReports.UnusualDay d = days.get(0);
        assertEquals(STAFF_C, d.actor());
        assertEquals(MONDAY.plusDays(3), d.day());
        assertEquals(10, d.count());
        assertEquals(1.0, d.median());
    }

    @Test
    void afterHoursAndUnusualVolumeRaiseOneAlertPerPersonAndDay() {
        // Monday 23:45: B's 22:30 read is after hours; C's day is usual.
        MovingClock clock = new MovingClock(at(1, 23, 45));
        jp.mamori.ops.AccessWatch watch = new jp.mamori.ops.AccessWatch(reports, clock, AuditReports.JST, 1,
                java.time.Duration.ZERO);
        List<jp.mamori.ops.Alerts.Finding> monday = watch.findings();
        assertEquals(List.of("access.after-hours:" + STAFF_B + ":2021-03-01"),
                monday.stream().map(jp.mamori.ops.Alerts.Finding::key).toList());
        assertEquals("1", monday.get(0).fields().get("count"));
        assertTrue(monday.get(0).text().startsWith("時間外アクセス: "), monday.get(0).text());
        assertEquals(List.of(), new jp.mamori.ops.AccessWatch(reports, clock, AuditReports.JST, 2,
                java.time.Duration.ZERO).findings(), "below the threshold of two a day");
        assertEquals(List.of(), new jp.mamori.ops.AccessWatch(reports, clock, AuditReports.JST, 0,
                java.time.Duration.ZERO).findings(), "0 turns the after-hours alert off");

        // Thursday evening: C's ten reads against a usual one a day, as the unusual-volume report says.
        List<jp.mamori.access.SecurityNotifier.Notice> sent = new ArrayList<>();
        jp.mamori.ops.Alerts alerts = new jp.mamori.ops.Alerts(new jp.mamori.ops.Health(clock), sent::add, clock, null, 20,
                java.time.Duration.ofMinutes(5)).watch(watch);
        clock.now = at(4, 18, 0);
        alerts.tick();
        alerts.tick();
        assertEquals(List.of("access.unusual-volume"), sent.stream().map(jp.mamori.access.SecurityNotifier.Notice::event).toList(),
                "sent once, not on every tick");
        assertTrue(sent.get(0).text().contains("10 件") && sent.get(0).text().contains("普段は1日 1 件"), sent::toString);
        assertEquals(List.of("access.volume:" + STAFF_C + ":2021-03-04"),
                alerts.open().stream().map(jp.mamori.ops.Alerts.Alert::key).toList());
        // The day is over: the alert closes; the report keeps the accesses.
        clock.now = at(5, 9, 0);
        alerts.tick();
        assertEquals(List.of(), alerts.open());
        assertEquals(List.of("access.unusual-volume", "alert.closed"),
                sent.stream().map(jp.mamori.access.SecurityNotifier.Notice::event).toList());
        assertEquals(1, reports.unusualVolume(FROM, TO).size());
    }

    /** A clock the test moves. */
    static final class MovingClock extends java.time.Clock {
        volatile Instant now;

        MovingClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void accessToAPatientWithTheStaffMembersFamilyNameIsListed() {
        List<AuditReports.SameName> hits = reports.sameFamilyName(FROM, TO, 100);
        assertEquals(1, hits.size(), hits::toString);
        assertEquals(SEQ.get("a-reads-sato"), hits.get(0).entry().seq());
        assertEquals(sato, hits.get(0).patient());
        assertEquals("佐藤", hits.get(0).familyName());
    }

    @Test
    void aReviewSignOffIsItselfAnEntryAndShowsInTheCoverage() throws Exception {
        String reviewer = "account:" + UUID.randomUUID();
        LocalDate wed = MONDAY.plusDays(2);
        long reviewsBefore = count("SELECT count(*) FROM audit_review");
        assertThrows(IllegalArgumentException.class, () -> reports.signOff(trail, wed, MONDAY, null, "所見なし",
                reviewer, "監査 次郎", "10.0.0.9"), "a period that ends before it starts");
        assertThrows(IllegalArgumentException.class, () -> reports.signOff(trail, MONDAY, wed, null, " ",
                reviewer, "監査 次郎", "10.0.0.9"), "no findings");
        assertEquals(reviewsBefore, count("SELECT count(*) FROM audit_review"), "a refused sign-off writes nothing");

        AuditReports.Review r = reports.signOff(trail, MONDAY, wed, "", "時間外の閲覧1件を確認、問題なし", reviewer,
                "監査 次郎", "10.0.0.9");
        List<AuditReports.Row> mine = reports.actorActivity(reviewer, Instant.EPOCH, Instant.now().plusSeconds(5), 10);
        assertEquals(1, mine.size());
        AuditReports.Row e = mine.get(0);
        assertEquals("audit.review", e.action());
        assertEquals(List.of("AuditReview/" + r.id()), e.resources());
        assertEquals("audit", e.purpose());
        assertEquals("10.0.0.9", e.address());

        List<AuditReports.CoverageDay> week = reports.coverage(MONDAY, MONDAY.plusDays(6));
        assertEquals(7, week.size());
        assertEquals(List.of(true, true, true, false, false, false, false),
                week.stream().map(AuditReports.CoverageDay::reviewed).toList());
        assertEquals(List.of(r.id()), week.get(0).reviews());
        // Entries per day (Japan time): Monday 5 + C's search, Tuesday 2, Wednesday 1, Thursday 10, Saturday 1.
        assertEquals(List.of(6L, 2L, 1L, 10L, 0L, 1L, 0L), week.stream().map(AuditReports.CoverageDay::entries).toList());

        reports.signOff(trail, MONDAY.plusDays(3), MONDAY.plusDays(3), "内科", "内科のみ", reviewer, "監査 次郎", null);
        assertTrue(!reports.coverage(MONDAY, MONDAY.plusDays(6)).get(3).reviewed(),
                "a department's review does not cover the whole hospital's day");
    }

    private static long count(String sql) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
