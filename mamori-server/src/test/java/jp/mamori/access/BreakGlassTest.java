package jp.mamori.access;

import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Sessions;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Break-glass over the real database with a clock the test moves: who may start it, for how long and for
 * which patient, who is told, who may review it, escalation, and that its history cannot be rewritten.
 */
class BreakGlassTest {
    private static TestServer server;
    private static DataSource ds;

    private Instant now;
    private Clock clock;
    private final List<SecurityNotifier.Notice> sent = new CopyOnWriteArrayList<>();
    private BreakGlass breakGlass;
    private Accounts accounts;

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
    void service() {
        now = Instant.now().plus(Duration.ofDays(2)).truncatedTo(ChronoUnit.SECONDS);
        clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Instant instant() {
                return now;
            }
        };
        accounts = new Accounts(ds, clock);
        breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, sent::add);
    }

    /** A member of staff in a department, and a session of theirs whose second factor was given at {@code factorAt}. */
    private Sessions.Session person(String department, Instant factorAt) {
        // letters only, each hex digit its own letter (mapping all digits to one letter made ids like "kkkkkckk"
        // that repeated across runs on the shared test database)
        StringBuilder login = new StringBuilder("bg-");
        for (char ch : UUID.randomUUID().toString().replace("-", "").substring(0, 12).toCharArray()) {
            login.append(ch <= '9' ? (char) ('g' + (ch - '0')) : ch);
        }
        Account a = accounts.create(new Accounts.NewAccount(login.toString(), "試験", "花子", "シケン", "ハナコ", Account.Type.STAFF,
                List.of(new Accounts.QualificationGrant("nurse", "N" + UUID.randomUUID().toString().substring(0, 8))),
                List.of(department), Set.of(), new Accounts.Proofing("in_person", "staff_id", null, "test admin", now)),
                "test:admin");
        return session(a.id(), login.toString(), factorAt);
    }

    private static Sessions.Session session(UUID account, String login, Instant factorAt) {
        return new Sessions.Session("ref-" + login, account, login, "試験 花子", Account.Type.STAFF, Set.of(),
                Sessions.Stage.AUTHENTICATED, "pwd+otp", factorAt, factorAt, factorAt, false, false, null,
                factorAt.plus(Duration.ofHours(12)), 0);
    }

    private BreakGlass.Grant startNow(Sessions.Session who, String patient) {
        return breakGlass.start(who, patient, "unconscious_patient", "救急搬送、意識なし。既往歴の確認が必要", "10.1.2.3", now);
    }

    @Test
    void startingNeedsAFreshSecondFactor() {
        Sessions.Session stale = person("救急科", now.minus(Duration.ofMinutes(5)).minusSeconds(1));
        BreakGlass.Refused e = assertThrows(BreakGlass.Refused.class, () -> startNow(stale, "p-1"));
        assertTrue(e.getMessage().contains("second factor"), e.getMessage());
        assertTrue(breakGlass.active(stale.accountId(), "p-1", now).isEmpty());
        assertTrue(sent.isEmpty(), "nothing started, nobody notified");

        Sessions.Session fresh = session(stale.accountId(), stale.loginId(), now.minus(Duration.ofMinutes(5)));
        assertEquals("p-1", startNow(fresh, "p-1").patientId(), "a second factor exactly 5 minutes ago is fresh");
    }

    @Test
    void aReasonOfAtLeastTenCharactersIsRequired() {
        Sessions.Session who = person("救急科", now);
        assertThrows(BreakGlass.Refused.class, () -> breakGlass.start(who, "p-2", "emergency_treatment",
                "  救急のため   ", "10.1.2.3", now), "nine characters, however padded");
        assertThrows(BreakGlass.Refused.class, () -> breakGlass.start(who, "p-2", "because", "救急搬送で既往歴の確認が必要",
                "10.1.2.3", now), "a reason outside the list");
        assertThrows(BreakGlass.Refused.class, () -> breakGlass.start(who, "p-2", "other", null, "10.1.2.3", now));
        assertTrue(breakGlass.active(who.accountId(), "p-2", now).isEmpty());
        assertEquals("救急のため確認します。", breakGlass.start(who, "p-2", "other", "救急のため確認します。", "10.1.2.3", now)
                .reasonText(), "ten characters are enough");
        // The database holds the same rule, whatever the application does.
        assertThrows(SQLException.class, () -> superuser("INSERT INTO break_glass (break_glass_id, account_id,"
                + " patient_id, department, reason_code, reason_text, started_at, expires_at, session_ref, address)"
                + " VALUES (gen_random_uuid(), '" + who.accountId() + "', 'p-2', '', 'other', 'short', now(),"
                + " now() + interval '1 hour', 'x', 'x')"));
    }

    private static long accessVersion(UUID account) {
        return AccessFixtures.accessVersion(ds, account);
    }

    @Test
    void aCachedContextSeesABreakGlassUseFromItsStartToItsEnd() {
        Sessions.Session who = person("内科", now);
        PersonContexts contexts = new PersonContexts(ds, new jp.mamori.records.EncounterCare(), clock, 10);
        assertTrue(contexts.get(who.accountId(), accessVersion(who.accountId())).breakGlass("p-7", now).isEmpty());
        BreakGlass.Grant g = startNow(who, "p-7");
        PersonContext during = contexts.get(who.accountId(), accessVersion(who.accountId()));
        assertEquals(g.id(), during.breakGlass("p-7", now).orElseThrow().grantId(), "the start changed the version");
        assertEquals(Set.of("p-7"), during.breakGlassPatients(now));
        assertTrue(during.breakGlass("p-7", g.expiresAt()).isEmpty(), "over when it expires, without a reload");
        assertTrue(breakGlass.end(g.id(), who, now.plusSeconds(10)));
        assertTrue(contexts.get(who.accountId(), accessVersion(who.accountId())).breakGlass("p-7", now.plusSeconds(11))
                .isEmpty(), "ending it early changed the version again");
        assertEquals(3, contexts.loads());
    }

    @Test
    void accessLastsTwoHoursForThatOnePatientOnly() {
        Sessions.Session who = person("内科", now);
        BreakGlass.Grant g = startNow(who, "p-3");
        assertEquals(now.plus(Duration.ofHours(2)), g.expiresAt());
        assertEquals("内科", g.department());
        assertTrue(breakGlass.active(who.accountId(), "p-3", now).isPresent());
        assertTrue(breakGlass.active(who.accountId(), "p-4", now).isEmpty(), "another patient: nothing");
        Sessions.Session other = person("内科", now);
        assertTrue(breakGlass.active(other.accountId(), "p-3", now).isEmpty(), "another person: nothing");

        now = now.plus(Duration.ofMinutes(90));
        Sessions.Session again = session(who.accountId(), who.loginId(), now);
        BreakGlass.Grant second = startNow(again, "p-3");
        assertEquals(g.id(), second.id(), "a second start returns the active use");
        assertEquals(g.expiresAt(), second.expiresAt(), "and extends nothing");

        breakGlass.markAccess(g.id(), "Patient/p-3 read");
        breakGlass.markAccess(g.id(), "Observation?patient=p-3 search");
        assertEquals(List.of("Patient/p-3 read", "Observation?patient=p-3 search"), breakGlass.accesses(g.id()));

        now = g.expiresAt().minusSeconds(1);
        assertTrue(breakGlass.active(who.accountId(), "p-3", now).isPresent(), "1 s before the end");
        now = g.expiresAt();
        assertTrue(breakGlass.active(who.accountId(), "p-3", now).isEmpty(), "over at exactly two hours");
        assertThrows(BreakGlass.Refused.class, () -> breakGlass.markAccess(g.id(), "Patient/p-3 read"),
                "nothing is marked under a use that is over");

        BreakGlass.Grant third = breakGlass.start(session(who.accountId(), who.loginId(), now), "p-3",
                "emergency_treatment", "再度の急変のため再確認します", "10.1.2.3", now);
        assertFalse(third.id().equals(g.id()), "after the end, a new start is a new use");
        assertTrue(breakGlass.end(third.id(), who, now.plusSeconds(60)), "ended early by its holder");
        assertTrue(breakGlass.active(who.accountId(), "p-3", now.plusSeconds(61)).isEmpty());

        BreakGlass.Settings four = new BreakGlass.Settings(Duration.ofHours(4), Duration.ofHours(72));
        BreakGlass.Grant longer = new BreakGlass(ds, clock, four, sent::add).start(session(other.accountId(),
                other.loginId(), now), "p-5", "covering_colleague", "当直の代行で担当患者を確認", "10.1.2.4", now);
        assertEquals(now.plus(Duration.ofHours(4)), longer.expiresAt(), "the duration is configurable");
        assertThrows(IllegalArgumentException.class, () -> new BreakGlass.Settings(Duration.ofHours(13),
                Duration.ofHours(72)), "at most 12 hours");
    }

    @Test
    void theSecurityManagerIsNotifiedAtOnce() throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        try (ServerSocket collector = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread t = Thread.ofVirtual().start(() -> {
                while (!collector.isClosed()) {
                    try (Socket s = collector.accept(); InputStream in = s.getInputStream()) {
                        received.addAll(octetCounted(in));
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            SyslogNotifier syslog = new SyslogNotifier("127.0.0.1", collector.getLocalPort(), "ward-server");
            List<String> logLines = new ArrayList<>();
            SecurityNotifier logged = n -> logLines.add(LogNotifier.line(n));
            breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT,
                    SecurityNotifier.all(List.of(logged, syslog, sent::add)));
            long unread = breakGlass.unreadNotices();

            Sessions.Session who = person("外科", now);
            BreakGlass.Grant g = startNow(who, "p-6");

            assertEquals(1, sent.size(), "notified once, at the start");
            assertEquals("break-glass.start", sent.get(0).event());
            assertEquals(1, logLines.size());
            String line = logLines.get(0);
            assertTrue(line.startsWith("security-notice event=\"break-glass.start\""), line);
            assertTrue(line.contains("principal=\"" + who.principal() + "\"") && line.contains("patient=\"p-6\""), line);

            String msg = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(msg, "the syslog collector received the notice");
            Matcher m = Pattern.compile("^<(\\d+)>1 (\\S+) (\\S+) (\\S+) (\\S+) (\\S+) \\[(mamori@32473[^]]*)] \uFEFF(.*)$",
                    Pattern.DOTALL).matcher(msg);
            assertTrue(m.matches(), msg);
            assertEquals(10 * 8 + 4, Integer.parseInt(m.group(1)), "authpriv.warning");
            assertEquals(now, Instant.parse(m.group(2)));
            assertEquals("ward-server", m.group(3));
            assertEquals("mamori", m.group(4));
            assertEquals("break-glass.start", m.group(6));
            assertTrue(m.group(7).contains("breakGlass=\"" + g.id() + "\""), m.group(7));
            assertTrue(m.group(7).contains("patient=\"p-6\""), m.group(7));
            assertTrue(m.group(8).contains("Patient/p-6"), m.group(8));

            assertEquals(unread + 1, breakGlass.unreadNotices(), "one more unread notice in the console inbox");
            BreakGlass.StoredNotice inbox = breakGlass.notices(1).get(0);
            assertEquals(g.id(), inbox.breakGlassId());
            assertTrue(inbox.subject().contains("Patient/p-6") && inbox.subject().contains(who.loginId()), inbox.subject());

            startNow(session(who.accountId(), who.loginId(), now), "p-6");
            assertEquals(1, sent.size(), "returning the active use notifies nobody again");
            collector.close();
            t.join(2000);
        }
    }

    @Test
    void aReviewerCannotReviewTheirOwnUse() throws Exception {
        Sessions.Session user = person("救急科", now);
        Sessions.Session manager = person("医療安全管理室", now);
        BreakGlass.Grant g = startNow(user, "p-7");
        assertTrue(breakGlass.pendingReviews().stream().anyMatch(u -> u.grant().id().equals(g.id())));

        BreakGlass.Refused e = assertThrows(BreakGlass.Refused.class,
                () -> breakGlass.review(g.id(), user, "appropriate", "自分で確認しました"));
        assertTrue(e.getMessage().contains("own"), e.getMessage());
        assertThrows(SQLException.class, () -> superuser("INSERT INTO break_glass_review (break_glass_id, decision,"
                + " comment, reviewer, reviewer_account, reviewed_at) VALUES ('" + g.id() + "', 'appropriate',"
                + " 'self review', 'x', '" + user.accountId() + "', now())"), "the database refuses it too");

        breakGlass.review(g.id(), manager, "follow_up", "カルテ記載を後日確認する");
        assertTrue(breakGlass.pendingReviews().stream().anyMatch(u -> u.grant().id().equals(g.id())
                && u.outcome().equals("follow_up")), "a follow-up stays in the queue");
        breakGlass.review(g.id(), manager, "appropriate", "救急外来の記録と一致");
        assertFalse(breakGlass.pendingReviews().stream().anyMatch(u -> u.grant().id().equals(g.id())));

        List<BreakGlass.Use> byPerson = breakGlass.report(new BreakGlass.Filter(user.loginId(), null, null, null, null, null));
        assertEquals(1, byPerson.size());
        assertEquals("appropriate", byPerson.get(0).outcome());
        assertEquals(manager.principal(), byPerson.get(0).reviewer());
        assertEquals(1, breakGlass.report(new BreakGlass.Filter(null, "p-7", "救急科", "appropriate", now.minusSeconds(1),
                now.plusSeconds(1))).size());
        assertEquals(0, breakGlass.report(new BreakGlass.Filter(null, "p-7", "外科", null, null, null)).size());
        assertEquals(0, breakGlass.report(new BreakGlass.Filter(null, "p-7", null, "inappropriate", null, null)).size());
    }

    @Test
    void unreviewedUsesPastTheAgeEscalate() {
        Sessions.Session user = person("小児科", now);
        Sessions.Session manager = person("医療安全管理室", now);
        BreakGlass.Grant old = startNow(user, "p-8");
        BreakGlass.Grant reviewed = startNow(user, "p-9");
        breakGlass.review(reviewed.id(), manager, "appropriate", "小児救急の記録と一致");
        sent.clear();

        now = now.plus(Duration.ofHours(72)).minusSeconds(1);
        assertTrue(breakGlass.escalate(now).stream().noneMatch(u -> u.grant().id().equals(old.id())), "not yet 72 h");

        now = now.plusSeconds(1);
        List<BreakGlass.Use> due = breakGlass.escalate(now);
        assertTrue(due.stream().anyMatch(u -> u.grant().id().equals(old.id())), "72 h unreviewed: escalated");
        assertTrue(due.stream().noneMatch(u -> u.grant().id().equals(reviewed.id())), "a reviewed use is not");
        assertTrue(sent.stream().anyMatch(n -> n.event().equals("break-glass.escalated") && old.id().equals(n.breakGlassId())),
                "notified again");
        int notified = sent.size();
        assertTrue(breakGlass.escalate(now).stream().noneMatch(u -> u.grant().id().equals(old.id())),
                "running again changes nothing");
        assertEquals(notified, sent.size());

        BreakGlass.Use first = breakGlass.pendingReviews().get(0);
        assertTrue(first.escalationLevel() >= 1, "escalated uses come first in the queue");

        now = now.plus(Duration.ofHours(72));
        assertTrue(breakGlass.escalate(Duration.ofHours(72), now).stream().anyMatch(u -> u.grant().id().equals(old.id())),
                "escalated again at twice the age");
        assertEquals(2, breakGlass.report(new BreakGlass.Filter(null, "p-8", null, null, null, null)).get(0)
                .escalationLevel());
    }

    @Test
    void theHistoryCannotBeRewritten() throws Exception {
        Sessions.Session user = person("整形外科", now);
        Sessions.Session manager = person("医療安全管理室", now);
        BreakGlass.Grant g = startNow(user, "p-10");
        breakGlass.markAccess(g.id(), "Patient/p-10 read");
        breakGlass.review(g.id(), manager, "inappropriate", "救急の事実が確認できない");
        breakGlass.escalate(Duration.ofHours(1), now.plus(Duration.ofHours(2)));

        for (String sql : List.of(
                "UPDATE break_glass SET reason_text = '書き換えた理由です、十文字以上' WHERE break_glass_id = '" + g.id() + "'",
                "UPDATE break_glass SET expires_at = expires_at + interval '1 hour' WHERE break_glass_id = '" + g.id() + "'",
                "DELETE FROM break_glass WHERE break_glass_id = '" + g.id() + "'",
                "UPDATE break_glass_access SET what = 'nothing' WHERE break_glass_id = '" + g.id() + "'",
                "DELETE FROM break_glass_access WHERE break_glass_id = '" + g.id() + "'",
                "UPDATE break_glass_review SET decision = 'appropriate' WHERE break_glass_id = '" + g.id() + "'",
                "DELETE FROM break_glass_review WHERE break_glass_id = '" + g.id() + "'",
                "TRUNCATE break_glass_review",
                "DELETE FROM access_notice WHERE break_glass_id = '" + g.id() + "'")) {
            assertThrows(SQLException.class, () -> superuser(sql), sql);
        }
        assertTrue(breakGlass.end(g.id(), user, now.plusSeconds(5)), "ending early is the one change");
        assertFalse(breakGlass.end(g.id(), user, now.plusSeconds(6)));
        assertThrows(SQLException.class, () -> superuser("UPDATE break_glass SET ended_at = now()"
                + " WHERE break_glass_id = '" + g.id() + "'"), "and it happens once");
        assertEquals("inappropriate", breakGlass.report(new BreakGlass.Filter(null, "p-10", null, null, null, null))
                .get(0).outcome());
    }

    private static void superuser(String sql) throws SQLException {
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.execute();
        }
    }

    /** Reads RFC 6587 octet-counted frames ({@code LENGTH SP MSG}) until the sender closes. */
    private static List<String> octetCounted(InputStream in) throws Exception {
        List<String> out = new ArrayList<>();
        while (true) {
            StringBuilder len = new StringBuilder();
            int b;
            while ((b = in.read()) != ' ') {
                if (b < 0) {
                    return out;
                }
                if (b < '0' || b > '9') {
                    throw new IllegalStateException("not octet counting: " + (char) b);
                }
                len.append((char) b);
            }
            byte[] msg = in.readNBytes(Integer.parseInt(len.toString()));
            out.add(new String(msg, StandardCharsets.UTF_8));
        }
    }
}
