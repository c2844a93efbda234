package jp.mamori.identity;

import jp.mamori.kernel.Hashes;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Time-dependent identity rules, driven by a test clock over the real database: idle lock, absolute session
 * lifetime, last-seen writes, suspension and retirement (also scheduled), unused accounts and login lockout.
 *
 * <p>The server has a database of its own, because sweeps act on every account in it. The test clock starts a
 * day ahead of real time, so that the server's own sweeper (on the system clock) never finds anything of these
 * tests due.
 */
class IdentityClockTest {
    private static final char[] PASSWORD = "Hinode-Kawa 7 sora!".toCharArray();
    private static final AtomicInteger ADDRESSES = new AtomicInteger();
    private static TestServer server;
    private static DataSource ds;

    private MutableClock clock;
    private Identity id;

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /** An active staff account with password and TOTP, and the authenticated session enrolment ended in. */
    record Person(UUID id, String loginId, byte[] totp, String cookie) {
    }

    @BeforeAll
    static void start() {
        server = TestServer.start(List.of());
        ds = server.server().database().dataSource();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void identity() {
        clock = new MutableClock(Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS));
        id = identity(clock, Logins.Settings.DEFAULT);
    }

    private static Identity identity(Clock clock, Logins.Settings logins) {
        return Identity.create(ds, server.dataDir(), new Identity.Settings(Sessions.Settings.DEFAULT
                .withGrantedRoles(jp.mamori.access.PersonContexts::grantedRolesSql), logins, 12,
                Duration.ofHours(72), 90, true, "localhost", Set.of("https://localhost:8443"), "Mamori"), clock);
    }

    private static String address() {
        int n = ADDRESSES.incrementAndGet();
        return "10.9." + (n / 250) + "." + (n % 250 + 1);
    }

    private Person enrol(String prefix) {
        String login = prefix + "-" + UUID.randomUUID().toString().substring(0, 8).replaceAll("[0-9]", "q");
        Account a = id.accounts().create(new Accounts.NewAccount(login, "試験", "花子", "シケン", "ハナコ",
                Account.Type.STAFF, List.of(new Accounts.QualificationGrant("clerk", null)), List.of("医事課"),
                Set.of(), new Accounts.Proofing("in_person", "staff_id", null, "test admin", clock.instant())),
                "test:admin");
        String code = id.accounts().issueEnrolmentCode(a.id(), Duration.ofHours(72), "test:admin");
        String cookie = id.enrolment().redeem(code, PASSWORD, PASSWORD, address(), "test");
        Sessions.Session s = id.sessions().check(cookie).orElseThrow();
        byte[] secret = base32(id.factors().beginTotp(a.id(), login).secretBase32());
        assertTrue(id.factors().confirmTotp(a.id(), Totp.code(secret, Totp.step(clock.instant())), a.principal()));
        Enrolment.Finished f = id.enrolment().finish(cookie, s, "pwd+otp", address());
        return new Person(a.id(), login, secret, f.cookie());
    }

    /** A full login (password, then TOTP) at the clock's time; returns the authenticated session's cookie. */
    private String login(Person p) {
        Logins.PasswordOutcome o = id.logins().password(p.loginId(), PASSWORD, address(), "test");
        String pre = assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class, o).cookie();
        Sessions.Session s = id.sessions().check(pre).orElseThrow();
        return id.logins().secondFactorCode(pre, s, Totp.code(p.totp(), Totp.step(clock.instant())), false, address());
    }

    private static byte[] base32(String s) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        byte[] out = new byte[s.length() * 5 / 8];
        long buffer = 0;
        int bits = 0;
        int i = 0;
        for (char ch : s.toCharArray()) {
            buffer = buffer << 5 | alphabet.indexOf(ch);
            bits += 5;
            if (bits >= 8) {
                out[i++] = (byte) (buffer >> (bits - 8));
                bits -= 8;
            }
        }
        return out;
    }

    /** The stored row of a session: last_seen_at, locked_at, ended_at, end_reason. */
    record Row(Instant lastSeen, Instant locked, Instant ended, String endReason) {
    }

    private static Row row(String cookie) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT last_seen_at, locked_at, ended_at, end_reason FROM web_session WHERE session_sha256 = ?")) {
            ps.setBytes(1, Hashes.sha256(cookie));
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "session row");
                return new Row(instant(rs.getTimestamp(1)), instant(rs.getTimestamp(2)), instant(rs.getTimestamp(3)),
                        rs.getString(4));
            }
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private Sessions.Session open(String cookie) {
        Optional<Sessions.Session> s = id.sessions().check(cookie);
        assertTrue(s.isPresent(), "session still open at " + clock.instant());
        return s.get();
    }

    // ---- sessions -----------------------------------------------------------------------------------------

    @Test
    void aSessionLocksAfterExactlyTheIdleTimeAndStaysLockedUntilUnlocked() throws Exception {
        Person p = enrol("idle");
        clock.advance(Duration.ofMinutes(14).plusSeconds(59));
        assertFalse(open(p.cookie()).locked(), "14 min 59 s idle: still open");
        Instant seen = clock.instant();
        assertEquals(seen, row(p.cookie()).lastSeen());

        clock.advance(Duration.ofMinutes(15));
        assertFalse(open(p.cookie()).locked(), "exactly 15 min idle: not yet locked");
        seen = clock.instant();

        clock.advance(Duration.ofMinutes(15).plusSeconds(1));
        assertTrue(open(p.cookie()).locked(), "15 min 01 s idle: locked");
        assertEquals(clock.instant(), row(p.cookie()).locked());
        assertEquals(seen, row(p.cookie()).lastSeen(), "a locked session's requests do not count as activity");

        Instant lockedAt = clock.instant();
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(20));
            assertTrue(open(p.cookie()).locked(), "stays locked");
        }
        clock.advance(Duration.ofHours(2));
        assertTrue(open(p.cookie()).locked(), "a locked session is locked, not ended, by more idle time");
        assertEquals(lockedAt, row(p.cookie()).locked(), "the lock time is not rewritten");

        id.sessions().reauthenticated(p.cookie());
        assertFalse(open(p.cookie()).locked());
        clock.advance(Duration.ofMinutes(15));
        assertFalse(open(p.cookie()).locked(), "unlocking restarts the idle time");
    }

    @Test
    void aSessionWaitingForItsSecondFactorEndsWhenIdleInsteadOfLocking() throws Exception {
        Person p = enrol("prefa");
        clock.advance(Duration.ofMinutes(1));
        Logins.PasswordOutcome o = id.logins().password(p.loginId(), PASSWORD, address(), "test");
        String pre = assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class, o).cookie();
        assertEquals(Sessions.Stage.SECOND_FACTOR, open(pre).stage());

        clock.advance(Duration.ofMinutes(15).plusSeconds(1));
        assertTrue(id.sessions().check(pre).isEmpty());
        Row r = row(pre);
        assertEquals(clock.instant(), r.ended());
        assertEquals("idle before authentication finished", r.endReason());
        assertNull(r.locked(), "ended, not locked");
        clock.advance(Duration.ofSeconds(1));
        assertTrue(id.sessions().check(pre).isEmpty(), "and stays ended");
    }

    @Test
    void theAbsoluteLifetimeEndsEvenASessionInConstantUse() throws Exception {
        Person p = enrol("life");
        Instant created = clock.instant();
        while (clock.instant().isBefore(created.plus(Duration.ofHours(12)).minusSeconds(300))) {
            clock.advance(Duration.ofMinutes(5));
            Sessions.Session s = open(p.cookie());
            assertFalse(s.locked());
            assertEquals(created.plus(Duration.ofHours(12)), s.endsAt());
        }
        clock.advance(Duration.ofSeconds(299));
        assertFalse(open(p.cookie()).locked(), "11 h 59 min 59 s: still open");
        clock.advance(Duration.ofSeconds(1));
        assertTrue(id.sessions().check(p.cookie()).isEmpty(), "12 h: ended");
        Row r = row(p.cookie());
        assertEquals(clock.instant(), r.ended());
        assertEquals("maximum session lifetime reached", r.endReason());
    }

    @Test
    void lastSeenIsWrittenAtMostOncePerFifteenSeconds() throws Exception {
        Person p = enrol("seen");
        Instant written = clock.instant();
        assertEquals(written, row(p.cookie()).lastSeen());
        int writes = 0;
        for (int second = 1; second <= 60; second++) {
            clock.advance(Duration.ofSeconds(1));
            open(p.cookie());
            Instant now = row(p.cookie()).lastSeen();
            if (!now.equals(written)) {
                assertTrue(Duration.between(written, now).compareTo(Duration.ofSeconds(15)) > 0,
                        "written again only after more than 15 s, at +" + second + " s");
                assertEquals(clock.instant(), now);
                written = now;
                writes++;
            }
        }
        assertEquals(3, writes, "a request a second for 60 s writes last_seen_at at 16, 32 and 48 s");
    }

    @Test
    void suspendingOrRetiringAnAccountEndsItsSessionsAtOnceInEveryProcess() throws Exception {
        Identity other = identity(clock, Logins.Settings.DEFAULT); // a second server process on the same database
        Person s = enrol("susp");
        clock.advance(Duration.ofMinutes(1));
        String second = login(s);
        Person r = enrol("reti");
        open(s.cookie());
        open(second);
        open(r.cookie());

        other.accounts().suspend(s.id(), "長期休職 / leave", "account:admin");
        assertTrue(id.sessions().check(s.cookie()).isEmpty());
        assertTrue(id.sessions().check(second).isEmpty());
        assertEquals("account suspended", row(s.cookie()).endReason());
        assertEquals(clock.instant(), row(second).ended());

        other.accounts().retire(r.id(), null, "退職 / left", "account:admin");
        assertTrue(id.sessions().check(r.cookie()).isEmpty());
        assertEquals("account retired", row(r.cookie()).endReason());
        assertEquals(Account.Status.RETIRED, id.accounts().find(r.id()).orElseThrow().status());
    }

    @Test
    void aScheduledRetirementEndsTheSessionTheMomentItComesAndTheSweepRecordsIt() throws Exception {
        Person p = enrol("sched");
        Instant at = clock.instant().plus(Duration.ofHours(1));
        id.accounts().retire(p.id(), at, "年度末退職 / end of contract", "account:admin");
        while (clock.instant().isBefore(at.minusSeconds(600))) {
            clock.advance(Duration.ofMinutes(10));
            assertFalse(open(p.cookie()).locked());
        }
        clock.advance(Duration.between(clock.instant(), at).minusSeconds(1));
        open(p.cookie());
        assertEquals(Account.Status.ACTIVE, id.accounts().find(p.id()).orElseThrow().status());

        clock.advance(Duration.ofSeconds(1));
        assertTrue(id.sessions().check(p.cookie()).isEmpty(), "ended the moment the retirement time came");
        assertEquals("account retired", row(p.cookie()).endReason());
        assertThrows(IdentityException.class, () -> id.logins().password(p.loginId(), PASSWORD, address(), "test"),
                "no new login either");

        clock.advance(Duration.ofSeconds(30));
        List<String> done = id.accounts().sweep(90, true);
        assertTrue(done.contains("retired " + p.loginId()), done.toString());
        Account a = id.accounts().find(p.id()).orElseThrow();
        assertEquals(Account.Status.RETIRED, a.status());
        Accounts.Change last = id.accounts().history(p.id()).getLast();
        assertEquals("account.retired", last.action());
        assertEquals("system:retirement", last.by());
        assertFalse(id.accounts().sweep(90, true).contains("retired " + p.loginId()), "retired once");
    }

    // ---- unused accounts ----------------------------------------------------------------------------------

    @Test
    void anAccountUnusedForNinetyOneDaysIsReportedAndSuspendedButNotAnEmergencyAccount() throws Exception {
        Person idle = enrol("unused");
        Person used = enrol("used");
        Emergencies.Sealed sealed = id.emergencies().create("clk-" + UUID.randomUUID().toString().substring(0, 6),
                "イチ", "account:admin");
        clock.advance(Duration.ofDays(2));
        login(used); // last login two days after activation

        clock.advance(Duration.ofDays(89).plusSeconds(1)); // 91 days after activation, 89 after the login
        List<UUID> listed = id.accounts().unused(90).stream().map(u -> u.account().id()).toList();
        assertTrue(listed.contains(idle.id()), "unused since activation 91 days ago");
        assertTrue(listed.contains(sealed.account().id()), "emergency accounts are reported");
        assertFalse(listed.contains(used.id()), "last login 89 days ago");
        assertEquals(91, id.accounts().unused(90).stream().filter(u -> u.account().id().equals(idle.id()))
                .findFirst().orElseThrow().idleDays());

        List<String> report = id.accounts().sweep(90, false);
        assertFalse(report.contains("suspended unused " + idle.loginId()), "report only");
        assertEquals(Account.Status.ACTIVE, id.accounts().find(idle.id()).orElseThrow().status());

        List<String> done = id.accounts().sweep(90, true);
        assertTrue(done.contains("suspended unused " + idle.loginId()), done.toString());
        assertEquals(Account.Status.SUSPENDED, id.accounts().find(idle.id()).orElseThrow().status());
        assertEquals("system:unused-accounts", id.accounts().history(idle.id()).getLast().by());
        assertTrue(id.sessions().check(idle.cookie()).isEmpty(), "its sessions ended");
        assertEquals(Account.Status.ACTIVE, id.accounts().find(sealed.account().id()).orElseThrow().status(),
                "emergency accounts are sealed for emergencies: never suspended for being unused");
        assertEquals(Account.Status.ACTIVE, id.accounts().find(used.id()).orElseThrow().status());

        clock.advance(Duration.ofDays(2)); // the login of "used" is now 91 days ago
        assertTrue(id.accounts().sweep(90, true).contains("suspended unused " + used.loginId()));
    }

    @Test
    void reactivationRestartsTheUnusedClock() {
        Person p = enrol("react");
        clock.advance(Duration.ofDays(91));
        assertTrue(id.accounts().sweep(90, true).contains("suspended unused " + p.loginId()));
        clock.advance(Duration.ofDays(3));
        id.accounts().reactivate(p.id(), "復職 / back from leave", "account:admin");
        assertEquals(Account.Status.ACTIVE, id.accounts().find(p.id()).orElseThrow().status());

        clock.advance(Duration.ofMinutes(1));
        assertFalse(id.accounts().sweep(90, true).contains("suspended unused " + p.loginId()),
                "not suspended again by the next sweep");
        clock.advance(Duration.ofDays(89));
        assertFalse(id.accounts().sweep(90, true).contains("suspended unused " + p.loginId()));
        assertEquals(Account.Status.ACTIVE, id.accounts().find(p.id()).orElseThrow().status());
        clock.advance(Duration.ofDays(1).plusMinutes(1)); // 90 days and 2 minutes after reactivation
        assertTrue(id.accounts().sweep(90, true).contains("suspended unused " + p.loginId()));
    }

    // ---- login lockout ------------------------------------------------------------------------------------

    @Test
    void theLockoutDoublesWithEachFailureBeyondTheThresholdAndIsCapped() throws Exception {
        id = identity(clock, new Logins.Settings(3, Duration.ofSeconds(10), Duration.ofSeconds(60), 1000));
        Person p = enrol("lockout");
        char[] wrong = "not the password at all".toCharArray();
        for (int i = 1; i <= 2; i++) {
            clock.advance(Duration.ofSeconds(1));
            refused(p, wrong);
            assertNull(lockedFor(p), "below the threshold: no lock after " + i + " failures");
        }
        Duration[] expected = {Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(40),
                Duration.ofSeconds(60), Duration.ofSeconds(60)};
        for (int i = 0; i < expected.length; i++) {
            clock.advance(Duration.ofSeconds(1));
            refused(p, wrong);
            assertEquals(expected[i], lockedFor(p), "failure " + (3 + i));
            assertEquals(3 + i, failures(p));

            clock.advance(expected[i].minusSeconds(1));
            refused(p, PASSWORD); // even the right password, while locked; not counted as a failure
            assertEquals(3 + i, failures(p));
            clock.advance(Duration.ofSeconds(1)); // the lock has just run out
        }
        Logins.PasswordOutcome o = id.logins().password(p.loginId(), PASSWORD, address(), "test");
        assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class, o, "the right password once the lock ran out");
        assertEquals(0, failures(p), "a success clears the failures");
    }

    @Test
    void anAddressIsLimitedByItsFailuresNotByItsSuccessfulLogins() throws Exception {
        id = identity(clock, new Logins.Settings(100, Duration.ofSeconds(10), Duration.ofSeconds(60), 3));
        Person p = enrol("peraddress");
        clock.advance(Duration.ofMinutes(1).minusMillis(clock.millis() % 60_000)); // the start of a minute
        for (int i = 0; i < 6; i++) {
            assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class,
                    id.logins().password(p.loginId(), PASSWORD, "10.0.0.5", "test"), "success " + i + " is not limited");
        }
        char[] wrong = "not the password at all".toCharArray();
        for (int i = 0; i < 3; i++) {
            IdentityException e = assertThrows(IdentityException.class,
                    () -> id.logins().password(p.loginId(), wrong, "10.0.0.6", "test"));
            assertEquals(Logins.REFUSED, e.getMessage());
        }
        IdentityException limited = assertThrows(IdentityException.class,
                () -> id.logins().password(p.loginId(), PASSWORD, "10.0.0.6", "test"));
        assertEquals(Logins.TOO_MANY, limited.getMessage(), "the fourth attempt after three failures, even a right one");
        assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class,
                id.logins().password(p.loginId(), PASSWORD, "10.0.0.5", "test"), "another address is not affected");
        clock.advance(Duration.ofMinutes(1));
        assertInstanceOf(Logins.PasswordOutcome.SecondFactorDue.class,
                id.logins().password(p.loginId(), PASSWORD, "10.0.0.6", "test"), "the next minute");
    }

    @Test
    void anAdministratorApprovedInTheAccessModelHoldsTheRoleInTheSessionFromTheNextRequest() {
        java.util.function.Function<String, UUID> admin = login -> id.accounts().create(new Accounts.NewAccount(
                login + UUID.randomUUID().toString().substring(0, 6).replaceAll("[0-9]", "q"), "管理", "太郎", "カンリ",
                "タロウ", Account.Type.STAFF, List.of(), List.of("情報システム部"), Set.of(Accounts.ADMIN_ROLE),
                new Accounts.Proofing("in_person", "staff_id", null, "test admin", clock.instant())), "test:admin").id();
        UUID first = admin.apply("kanri-a");
        UUID second = admin.apply("kanri-b");
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE account SET status = 'active' WHERE account_id IN (?, ?)")) {
            ps.setObject(1, first);
            ps.setObject(2, second);
            assertEquals(2, ps.executeUpdate()); // as if both had enrolled
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        Person p = enrol("shinnin");
        jp.mamori.access.Roles roles = new jp.mamori.access.Roles(ds, clock);
        jp.mamori.access.Roles.Assignment pending = roles.assign(first, p.id(), Accounts.ADMIN_ROLE, "情報システム部",
                jp.mamori.access.PersonContext.Scope.HOSPITAL);
        assertTrue(pending.pending(), "administrator rights wait for a second administrator");
        assertFalse(id.sessions().check(p.cookie()).orElseThrow().hasRole(Accounts.ADMIN_ROLE));
        roles.approve(second, pending.id());
        assertTrue(id.sessions().check(p.cookie()).orElseThrow().hasRole(Accounts.ADMIN_ROLE));
        roles.revoke(first, pending.id(), "異動 / transferred");
        assertFalse(id.sessions().check(p.cookie()).orElseThrow().hasRole(Accounts.ADMIN_ROLE), "revoked at once");
    }

    @Test
    void anAccountWhoseRolesCannotBeGivenIsNotCreatedAtAll() {
        UUID notAnAdministrator = enrol("hiraishoku").id();
        String login = "hanbun-" + UUID.randomUUID().toString().substring(0, 6).replaceAll("[0-9]", "q");
        jp.mamori.access.Roles roles = new jp.mamori.access.Roles(ds, clock);
        assertThrows(jp.mamori.access.AccessException.class, () -> id.accounts().create(new Accounts.NewAccount(login,
                "看護", "花子", "カンゴ", "ハナコ", Account.Type.STAFF, List.of(new Accounts.QualificationGrant("nurse",
                "N-" + login)), List.of("5階東病棟"), Set.of(), new Accounts.Proofing("in_person", "staff_id", null,
                "test admin", clock.instant())), "test:admin", (c, created) -> roles.assignAtCreation(c,
                notAnAdministrator, created.id(), List.of("nurse"), created.departments(), false)));
        assertTrue(id.accounts().findByLogin(login).isEmpty(), "no account without the roles it was created with");
    }

    /** Refused: with the lock's end when the id is locked (then), the plain refusal otherwise. */
    private void refused(Person p, char[] password) throws Exception {
        IdentityException e = assertThrows(IdentityException.class,
                () -> id.logins().password(p.loginId(), password, address(), "test"));
        Duration locked = lockedFor(p);
        assertEquals(locked == null || locked.isNegative() || locked.isZero() ? Logins.REFUSED
                : Logins.lockedMessage(clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS).plus(locked)),
                e.getMessage());
    }

    /** How long the id is locked from now, or null. */
    private Duration lockedFor(Person p) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT locked_until FROM login_throttle WHERE login_id = ?")) {
            ps.setString(1, p.loginId());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                Timestamp t = rs.getTimestamp(1);
                return t == null ? null : Duration.between(clock.instant(), t.toInstant());
            }
        }
    }

    private int failures(Person p) throws Exception {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT failures FROM login_throttle WHERE login_id = ?")) {
            ps.setString(1, p.loginId());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }
}
