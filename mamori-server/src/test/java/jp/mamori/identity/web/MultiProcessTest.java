package jp.mamori.identity.web;

import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.ExternalPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import jp.mamori.testing.WriteLoad;
import org.junit.jupiter.api.Test;

import java.net.CookieManager;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two {@code serve} processes, each with its own data folder sharing the installation's keys ({@code node add}), on
 * one Debian PostgreSQL are one system (issue 18 §1, ADR 0013, BACKUP-7): a console session started on A continues
 * on B with the same cookie; an account retired on A is refused on B's next request; FHIR creates go to both,
 * interleaved, and A is killed with SIGKILL while they do: every acknowledged create is there afterwards, once, the
 * record store verifies and the one audit chain verifies; exactly one process leads the checkpointer, and B takes it
 * over within seconds of A's death.
 */
class MultiProcessTest {
    private static final String OWNER = "mamori_owner";
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();
    private static final Map<String, String> ENV = Map.of("MAMORI_DB_APP_PASSWORD", "app-" + UUID.randomUUID());
    /** The lock numbers of {@code db/Leadership}: class "MAMO", the job's name's hash. */
    private static final long LOCK_CLASS = 0x4D414D4FL;

    @Test
    void twoProcessesOnOneDatabaseShareSessionsAccessChangesOneTrailAndTheJobs() throws Exception {
        DebianPostgres.assumeAvailable();
        PackagedJar pj = new PackagedJar("multi");
        Path d1 = pj.data;
        Path d2 = d1.resolveSibling(d1.getFileName() + "-b");
        try (DebianPostgres pg = DebianPostgres.start(Map.of())) {
            pg.createOwner(OWNER, OWNER_PASSWORD, "mamori");
            List<String> db = List.of("--db-url", pg.jdbcUrl("mamori"), "--db-user", OWNER, "--db-password",
                    OWNER_PASSWORD);
            ServeProcess a = ServeProcess.start(pj, "a", d1, db, ENV);
            ServeProcess b = null;
            try {
                PackagedJar.Result added = pj.run("node", "add", "--from", d1.toString(), "--data", d2.toString());
                assertEquals(0, added.code(), added.out() + added.err());
                // one certificate for the installation's name, as behind a load balancer (each node may have its own)
                Files.createDirectories(d2.resolve("tls"));
                Files.copy(d1.resolve("tls").resolve("server.p12"), d2.resolve("tls").resolve("server.p12"));
                Files.copy(d1.resolve("secrets").resolve("tls-keystore-password"),
                        d2.resolve("secrets").resolve("tls-keystore-password"), StandardCopyOption.COPY_ATTRIBUTES);
                b = ServeProcess.start(pj, "b", d2, db, ENV);
                assertEquals(List.of(a.pid()), leadersOf(pg, "audit-checkpointer"),
                        "the first process leads the checkpointer, the second does not");

                // ---- the console: one session, two processes; an access change on A applies on B
                Browser adminA = new Browser(a.origin(), d1, new CookieManager(), "admin-a");
                Person admin = firstAdministrator(adminA, d1);
                Person clerk = enrol(admin, a, d1, "tabun.k");
                Browser clerkOnB = new Browser(b.origin(), d1, clerk.browser.jar(), "clerk-on-b");
                Browser.Page home = clerkOnB.get("/console/home");
                assertEquals(200, home.status(), home::toString);
                assertEquals("/console/home", home.path(), "the session started on A continues on B");
                UUID clerkId = accountId(pg, clerk.loginId);
                admin.browser.get("/console/admin/account?id=" + clerkId);
                Browser.Page retired = adminSubmit(admin, "/console/admin/account/retire", "reason", "退職", "at", "");
                assertTrue(retired.contains("Retired; its sessions ended"), retired::toString);
                assertEquals("/console/login", clerkOnB.get("/console/home").path(),
                        "retired on A: B sends the next request to log in");

                // ---- FHIR creates on both, interleaved; A killed while they write
                PackagedJar.Result created = pj.run(concat(List.of("client", "create", "--data", d1.toString()), db,
                        List.of("--name", "multi", "--scopes", "system/*.* system/health.read", "--owner",
                                "試験 担当", "--purpose", "two processes")));
                assertEquals(0, created.code(), created.out() + created.err());
                String token = created.out().lines().filter(l -> !l.isBlank()).reduce((x, y) -> y).orElseThrow().trim();
                HttpClient http = ExternalPostgres.httpClientFor(d1);
                ServeProcess pa = a;
                ServeProcess pb = b;
                try (WriteLoad load = new WriteLoad(http, token)) {
                    load.writer("a1", pa::fhir).writer("b1", pb::fhir).writer("a2", pa::fhir).writer("b2", pb::fhir);
                    load.awaitAcks(40);
                    a.kill9();
                    load.awaitAcks(20); // B goes on
                    load.close();
                    int extra = load.checkAcknowledged(b.fhir());
                    assertTrue(load.acked.values().stream().anyMatch(k -> k.via().equals(pa.fhir()))
                                    && load.acked.values().stream().anyMatch(k -> k.via().equals(pb.fhir())),
                            "creates were acknowledged by both processes");
                    assertEquals(0, load.count(500), "no 500: " + load.examples.get(500));
                    System.out.println("multi-process: " + load.acked.size() + " acknowledged, " + extra
                            + " stored without an answer; answers " + load.statuses);
                }

                // ---- B takes the jobs over
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!leadersOf(pg, "audit-checkpointer").equals(List.of(b.pid()))) {
                    assertTrue(System.nanoTime() < deadline, "B did not take the checkpointer over: "
                            + leadersOf(pg, "audit-checkpointer"));
                    Thread.sleep(200);
                }
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                HttpResponse<String> health;
                do {
                    assertTrue(System.nanoTime() < deadline, "B's health report does not name its jobs");
                    Thread.sleep(200);
                    health = b.get(http, "/health/detail", token);
                } while (!health.body().contains("このプロセスが担当"));
                assertTrue(health.body().contains("audit checkpoints"), health.body());
            } finally {
                if (b != null) {
                    b.close();
                }
                a.kill9();
            }

            // ---- nothing half-written, and the one trail verifies with the installation's key
            PackagedJar.Result records = pj.run(concat(List.of("verify-records", "--data", d2.toString()), db,
                    List.of()));
            assertEquals(0, records.code(), records.out() + records.err());
            assertTrue(records.out().contains("all hashes match"), records.out());
            PackagedJar.Result trail = pj.run(concat(List.of("audit-verify", "--data", d2.toString()), db, List.of()));
            assertEquals(0, trail.code(), trail.out() + trail.err());
        }
    }

    /** The Mamori processes (their pids) holding the job lock {@code job} now. */
    static List<Long> leadersOf(DebianPostgres pg, String job) throws Exception {
        List<Long> out = new ArrayList<>();
        try (Connection c = pg.superuser("mamori");
             PreparedStatement ps = c.prepareStatement("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                     + " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ?"
                     + " AND l.objid::bigint = ? AND l.objsubid = 2")) {
            ps.setLong(1, LOCK_CLASS);
            ps.setLong(2, job.hashCode() & 0xFFFFFFFFL);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Long.parseLong(rs.getString(1).replaceFirst("^mamori-leader-", "")));
                }
            }
        }
        return out;
    }

    static UUID accountId(DebianPostgres pg, String loginId) throws Exception {
        try (Connection c = pg.superuser("mamori");
             PreparedStatement ps = c.prepareStatement("SELECT account_id FROM account WHERE login_id = ?")) {
            ps.setString(1, loginId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), loginId);
                return rs.getObject(1, UUID.class);
            }
        }
    }

    /** The first administrator enrols through /console/setup on the process that data folder {@code d1} serves. */
    static Person firstAdministrator(Browser b, Path d1) throws Exception {
        Person admin = new Person(Person.uniqueId("kanri.t"), Person.newPassword(), b);
        assertEquals(200, b.get("/console/setup").status());
        String secret = Files.readString(d1.resolve("secrets").resolve("bootstrap-secret")).strip();
        Browser.Page factor = b.submit("/console/setup", "secret", secret, "login_id", admin.loginId,
                "family_name", "管理", "given_name", "太郎", "family_kana", "カンリ", "given_kana", "タロウ",
                "password", admin.password, "password2", admin.password);
        assertEquals("/console/enrol/factor", factor.path(), factor::toString);
        admin.scanTotp(factor);
        admin.keepRecoveryCodes(b.submit("/console/enrol/totp", "code", admin.totp()));
        assertEquals("/console/home", b.get("/console/home").path());
        return admin;
    }

    /** A member of staff created by the administrator and enrolled, on process {@code on}; logged in there. */
    static Person enrol(Person admin, ServeProcess on, Path trust, String stem) {
        String loginId = Person.uniqueId(stem);
        admin.browser.get("/console/admin/accounts/new");
        Map<String, String> f = Hospital.staffFields(loginId, "医事課");
        Browser.Page account = adminSubmit(admin, "/console/admin/accounts/new", Hospital.pairs(f));
        assertEquals("/console/admin/account", account.path(), account::toString);
        String code = adminSubmit(admin, "/console/admin/account/enrolment-code").code("enrolment-code");
        Person p = new Person(loginId, Person.newPassword(), new Browser(on.origin(), trust, new CookieManager(),
                loginId));
        assertEquals(200, p.browser.get("/console/enrol?code=" + Browser.enc(code)).status());
        Browser.Page factor = p.browser.submit("/console/enrol", "code", code, "password", p.password,
                "password2", p.password);
        assertEquals("/console/enrol/factor", factor.path(), factor::toString);
        p.scanTotp(factor);
        p.keepRecoveryCodes(p.browser.submit("/console/enrol/totp", "code", p.totp()));
        return p;
    }

    /** As {@link Hospital#adminSubmit}: the step-up, when asked, with whatever factor is at hand. */
    static Browser.Page adminSubmit(Person admin, String action, String... fields) {
        Browser.Page p = admin.browser.submit(action, fields);
        if (p.path().equals(Hospital.STEP_UP_PATH)) {
            p = admin.stepUpQuickly(admin.browser);
        }
        return p;
    }

    static String[] concat(List<String> a, List<String> b, List<String> c) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        all.addAll(c);
        return all.toArray(String[]::new);
    }
}
