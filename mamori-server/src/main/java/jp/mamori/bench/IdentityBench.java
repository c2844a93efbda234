package jp.mamori.bench;

import jp.mamori.kernel.Hashes;
import jp.mamori.MamoriServer;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Bootstrap;
import jp.mamori.identity.Identity;
import jp.mamori.identity.Logins;
import jp.mamori.identity.PasswordHasher;
import jp.mamori.identity.Sessions;
import jp.mamori.identity.Totp;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code mamori bench identity}: what logging in and being logged in cost. Starts a Mamori server in-process on a
 * new data folder (embedded PostgreSQL, HTTPS on a free loopback port), creates bench accounts with a password and
 * TOTP, then measures, printing one line per measurement on {@code out}:
 *
 * <ol>
 *   <li>{@code session-check}: {@link Sessions#check} called directly on valid sessions, by 1 and by
 *       {@code --concurrency} threads: calls per second and latency percentiles. The console calls it exactly
 *       once per request, so this is what a session adds to a request.</li>
 *   <li>{@code session-check-touching}: the same on sessions last seen more than 15 s before, so that each check
 *       also writes {@code last_seen_at}, as a person's click usually does.</li>
 *   <li>{@code db-round-trip}: a pooled connection and {@code SELECT 1}, the floor under any query.</li>
 *   <li>{@code http-session}: the same console page, {@code GET /console/home}, over HTTPS with 1 and with
 *       {@code --concurrency} clients, in three forms sent in turn by each client: without a session cookie (no check: 303 to the login page), with the cookie of an
 *       ended session (the check runs its query and finds nothing: the same 303) and with a valid session (the
 *       check succeeds and the page is rendered). The difference between the first two is the check over HTTP
 *       with everything else equal.</li>
 *   <li>{@code login}: full logins over HTTPS as a browser makes them (login page, password, second-factor page,
 *       TOTP code), with 1 and with {@code --concurrency} clients.</li>
 *   <li>{@code argon2id-verify}: {@link PasswordHasher#verify} alone with the server's parameters, timed by the
 *       single login client between its logins (so under the same conditions). From it, each login line gives
 *       {@code argon2id_share}, the verify time over the mean login time (one client: the share of a login's
 *       time; several: of the clients' waiting), and {@code argon2id_cpu}, logins per second times the verify
 *       time over the cores: the part of the machine spent in Argon2id.</li>
 * </ol>
 *
 * <p>All clients share one address, so the server is started with the per-address login limit raised (the
 * per-account lockout stays as it is); everything else is the server as {@code serve} runs it. A TOTP code is
 * accepted once per account and time step, so logins take turns over {@code --accounts} accounts.
 *
 * <p>Exit codes: 0 when every measurement counted at least one success, 1 otherwise, 2 for a usage error.
 */
final class IdentityBench {
    static final String USAGE = "usage: mamori bench identity --data NEW-DIR [--concurrency N (4)] [--seconds S (20)]"
            + " [--warmup S (5)] [--accounts N (600)]";
    static final String SESSION_COOKIE = "__Host-mamori-session";
    static final String PRE_COOKIE = "__Host-mamori-pre";
    private static final char[] PASSWORD = "Bench-Sakura 4 kawa!".toCharArray();
    private static final String BY = "bench:identity";
    private static final int TOUCH_SESSIONS = 500;
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([A-Za-z0-9_-]+)\"");

    record IdentityOptions(Path data, int concurrency, long millis, int warmup, int accounts) {
        static IdentityOptions parse(List<String> args) {
            Map<String, String> values = Options.values(args,
                    Set.of("--data", "--concurrency", "--seconds", "--warmup", "--accounts"), Set.of());
            IdentityOptions o = new IdentityOptions(Options.dataOption(values),
                    Options.intOption(values, "--concurrency", 4, 1, 64),
                    Options.millisOption(values, "--seconds", 20_000, 100, 3_600_000),
                    Options.intOption(values, "--warmup", 5, 0, 3_600),
                    Options.intOption(values, "--accounts", 600, 4, 100_000));
            if (o.accounts() < 2 * o.concurrency()) {
                throw new Options.UsageException("--accounts must be at least twice --concurrency");
            }
            return o;
        }
    }

    private IdentityBench() {
    }

    /** Runs the identity benchmark; {@code args} are the words after {@code bench identity}. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return InProcessBench.main("identity", USAGE, "server and accounts there", args, IdentityOptions::parse, IdentityOptions::data,
                IdentityBench::run, out, err);
    }

    private static int run(IdentityOptions o, PrintStream out, PrintStream err) throws Exception {
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", o.data().toString(), "--port", "0", "--bind",
                "127.0.0.1"), Map.of());
        Logins.Settings d = Logins.Settings.DEFAULT;
        Logins.Settings benchLogins = new Logins.Settings(d.lockoutThreshold(), d.firstLockout(), d.maxLockout(),
                Integer.MAX_VALUE);
        err.println("bench identity: starting a server on " + o.data());
        try (MamoriServer server = MamoriServer.start(cfg, benchLogins)) {
            Identity id = server.identity();
            DataSource ds = server.database().dataSource();
            List<BenchAccount> accounts = setUp(server, o, err);
            String base = "https://127.0.0.1:" + server.port();
            boolean ok = true;

            ok &= sessionCheck(id, accounts, 1, o, out, err);
            if (o.concurrency() > 1) {
                ok &= sessionCheck(id, accounts, o.concurrency(), o, out, err);
            }
            ok &= sessionCheckTouching(id, ds, accounts, o, out, err);
            ok &= roundTrip(ds, o, out);
            ExecutorService executor = Executors.newFixedThreadPool(Math.max(2, o.concurrency()),
                    Thread.ofPlatform().name("bench-identity-http-", 0).daemon(true).factory());
            try (HttpClient client = client(o.data(), executor)) {
                ok &= httpSession(client, base, id, accounts, 1, o, out, err);
                if (o.concurrency() > 1) {
                    ok &= httpSession(client, base, id, accounts, o.concurrency(), o, out, err);
                }
                AccountPool pool = new AccountPool(accounts);
                Timings verify = new Timings();
                ok &= logins(client, base, pool, 1, verify, o, out, err);
                out.println(String.format(Locale.ROOT, "bench identity part=argon2id-verify threads=1 calls=%d %s"
                        + " (m=%d KiB, t=%d, p=%d)", verify.count(), verify.describe(),
                        PasswordHasher.DEFAULT.memoryKiB(), PasswordHasher.DEFAULT.iterations(),
                        PasswordHasher.DEFAULT.parallelism()));
                if (o.concurrency() > 1) {
                    ok &= logins(client, base, pool, o.concurrency(), verify, o, out, err);
                }
            } finally {
                executor.shutdownNow();
            }
            return ok ? 0 : 1;
        }
    }

    // ---- setup --------------------------------------------------------------------------------------------

    /** A bench account: login id, TOTP secret and the last time step whose code was used. */
    static final class BenchAccount {
        final UUID id;
        final String loginId;
        final byte[] totp;
        long lastStep;

        BenchAccount(UUID id, String loginId, byte[] totp, long lastStep) {
            this.id = id;
            this.loginId = loginId;
            this.totp = totp;
            this.lastStep = lastStep;
        }
    }

    /**
     * Uses the bootstrap secret for a first administrator (so the server is past first setup, as in use), then
     * creates the bench accounts through the account ledger. To keep setup short, they share one password hash
     * and are activated directly in the database instead of each going through enrolment; both are recorded in
     * their change history. Each gets its own TOTP secret through the factor API.
     */
    private static List<BenchAccount> setUp(MamoriServer server, IdentityOptions o, PrintStream err) throws Exception {
        Identity id = server.identity();
        DataSource ds = server.database().dataSource();
        String secret = Files.readString(o.data().resolve("secrets").resolve(Bootstrap.FILE_NAME)).strip();
        Accounts.Proofing proofing = new Accounts.Proofing("in_person", "staff_id", "bench", BY, Instant.now());
        id.enrolment().setupFirstAdministrator(secret, new Accounts.NewAccount("bench-admin", "試験", "管理者",
                "シケン", "カンリシャ", Account.Type.STAFF, List.of(), List.of(), Set.of(), proofing),
                PASSWORD, PASSWORD, "127.0.0.1", "mamori bench");
        String phc = new PasswordHasher(PasswordHasher.DEFAULT, 1).hash(PASSWORD);
        err.println("bench identity: creating " + o.accounts() + " accounts with password and TOTP");
        long began = System.nanoTime();
        ExecutorService setup = Executors.newFixedThreadPool(4);
        try {
            List<Future<BenchAccount>> made = new ArrayList<>();
            for (int i = 1; i <= o.accounts(); i++) {
                String login = String.format(Locale.ROOT, "bench-u%05d", i);
                made.add(setup.submit(() -> account(id, ds, login, phc, proofing)));
            }
            List<BenchAccount> out = new ArrayList<>();
            for (Future<BenchAccount> f : made) {
                out.add(f.get());
            }
            err.println(String.format(Locale.ROOT, "bench identity: accounts created in %.1f s",
                    (System.nanoTime() - began) / 1e9));
            return out;
        } finally {
            setup.shutdownNow();
        }
    }

    private static BenchAccount account(Identity id, DataSource ds, String login, String phc,
                                        Accounts.Proofing proofing) {
        Account a = id.accounts().create(new Accounts.NewAccount(login, "試験", "利用者", "シケン", "リヨウシャ",
                Account.Type.STAFF, List.of(new Accounts.QualificationGrant("clerk", null)), List.of("医事課"),
                Set.of(), proofing), BY);
        Instant now = Instant.now();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO password_credential (account_id, phc, set_at)"
                    + " VALUES (?, ?, ?)")) {
                ps.setObject(1, a.id());
                ps.setString(2, phc);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET status = 'active',"
                    + " status_changed_at = ? WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, a.id());
                ps.executeUpdate();
            }
            return null;
        });
        id.accounts().note(a.id(), BY, "bench.activated", Map.of("note", "password and activation set by mamori bench"));
        byte[] totp = base32(id.factors().beginTotp(a.id(), login).secretBase32());
        long step = Totp.step(Instant.now());
        if (!id.factors().confirmTotp(a.id(), Totp.code(totp, step), BY)) {
            throw new IllegalStateException("TOTP setup of " + login + " was refused");
        }
        return new BenchAccount(a.id(), login, totp, step);
    }

    static byte[] base32(String s) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        byte[] out = new byte[s.length() * 5 / 8];
        long buffer = 0;
        int bits = 0;
        int n = 0;
        for (char ch : s.toCharArray()) {
            int v = alphabet.indexOf(ch);
            if (v < 0) {
                throw new IllegalArgumentException("not base32");
            }
            buffer = buffer << 5 | v;
            bits += 5;
            if (bits >= 8) {
                out[n++] = (byte) (buffer >> (bits - 8));
                bits -= 8;
            }
        }
        return out;
    }

    private static HttpClient client(Path data, ExecutorService executor) throws Exception {
        // Trust exactly the bench server's own certificate, as TestServer does.
        char[] pw = Files.readString(data.resolve("secrets").resolve("tls-keystore-password")).strip().toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(data.resolve("tls").resolve("server.p12"))) {
            ks.load(in, pw);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("mamori", ks.getCertificate(ks.aliases().nextElement()));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor).sslContext(ctx)
                .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    // ---- measurements -------------------------------------------------------------------------------------

    /** Latencies in nanoseconds with their sum, per worker; merged after the workers stopped. */
    static final class Timings {
        final LatencyRecorder recorder = new LatencyRecorder();
        long sumNanos;
        long errors;

        void record(long nanos) {
            recorder.record(nanos);
            sumNanos += nanos;
        }

        void addAll(Timings other) {
            recorder.addAll(other.recorder);
            sumNanos += other.sumNanos;
            errors += other.errors;
        }

        int count() {
            return recorder.count();
        }

        double meanMillis() {
            return count() == 0 ? 0 : sumNanos / 1e6 / count();
        }

        String describe() {
            LatencyRecorder.Summary s = recorder.summary();
            if (s.count() == 0) {
                return "mean=n/a p50=n/a p95=n/a p99=n/a";
            }
            return String.format(Locale.ROOT, "mean=%.3fms p50=%.3fms p95=%.3fms p99=%.3fms", meanMillis(),
                    s.p50() / 1e6, s.p95() / 1e6, s.p99() / 1e6);
        }
    }

    @FunctionalInterface
    interface Loop {
        /** Runs one worker until {@code deadline}, recording only what starts after {@code measureStart}. */
        void run(int worker, long measureStart, long deadline) throws Exception;
    }

    /** Runs {@code threads} workers for warm-up plus measurement; returns the measured seconds. */
    private static double runWorkers(int threads, IdentityOptions o, Loop loop) throws InterruptedException {
        long start = System.nanoTime();
        long measureStart = start + TimeUnit.SECONDS.toNanos(o.warmup());
        long deadline = measureStart + TimeUnit.MILLISECONDS.toNanos(o.millis());
        AtomicReference<Throwable> crash = new AtomicReference<>();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int worker = i;
            all.add(Thread.ofPlatform().name("bench-identity-" + i).start(() -> {
                try {
                    loop.run(worker, measureStart, deadline);
                } catch (Throwable t) {
                    crash.compareAndSet(null, t);
                }
            }));
        }
        for (Thread t : all) {
            t.join();
        }
        if (crash.get() != null) {
            throw new IllegalStateException("a bench worker failed: " + HttpSupport.describe(crash.get()), crash.get());
        }
        return Math.max(1, System.nanoTime() - measureStart) / 1e9;
    }

    private static boolean sessionCheck(Identity id, List<BenchAccount> accounts, int threads, IdentityOptions o,
                                        PrintStream out, PrintStream err) throws InterruptedException {
        err.println("bench identity: Sessions.check() in-process, " + threads + " threads");
        String[] cookies = new String[threads];
        for (int i = 0; i < threads; i++) {
            cookies[i] = id.sessions().create(accounts.get(i).id, Sessions.Stage.AUTHENTICATED, "pwd+otp", true,
                    "127.0.0.1", "mamori bench", null, null);
        }
        Timings[] per = new Timings[threads];
        double seconds = runWorkers(threads, o, (w, measureStart, deadline) -> {
            Timings t = new Timings();
            per[w] = t;
            while (true) {
                long begin = System.nanoTime();
                if (begin - deadline >= 0) {
                    return;
                }
                boolean good = id.sessions().check(cookies[w]).map(s -> !s.locked()).orElse(false);
                long took = System.nanoTime() - begin;
                if (begin - measureStart >= 0) {
                    t.record(took);
                    if (!good) {
                        t.errors++;
                    }
                }
            }
        });
        Timings all = merge(per);
        out.println(String.format(Locale.ROOT, "bench identity part=session-check threads=%d calls=%d errors=%d"
                + " rate=%.0f/s %s", threads, all.count(), all.errors, all.count() / seconds, all.describe()));
        return all.count() > all.errors;
    }

    /**
     * {@link Sessions#check} on sessions last seen more than 15 s ago, so that each check also writes
     * {@code last_seen_at}: the common case for a person, who clicks less often than that. The bench checks
     * {@value #TOUCH_SESSIONS} sessions in turn, through a {@link Sessions} on the same database whose clock runs
     * 16 s further ahead on each round, so each check finds its session last seen 16 s before.
     */
    private static boolean sessionCheckTouching(Identity id, DataSource ds, List<BenchAccount> accounts,
                                                IdentityOptions o, PrintStream out, PrintStream err)
            throws InterruptedException {
        err.println("bench identity: Sessions.check() in-process on sessions last seen 16 s before, 1 thread");
        String[] cookies = new String[TOUCH_SESSIONS];
        for (int i = 0; i < cookies.length; i++) {
            cookies[i] = id.sessions().create(accounts.get(i % accounts.size()).id, Sessions.Stage.AUTHENTICATED,
                    "pwd+otp", true, "127.0.0.1", "mamori bench", null, null);
        }
        Timings[] per = new Timings[1];
        double seconds = runWorkers(1, o, (w, measureStart, deadline) -> {
            Timings t = new Timings();
            per[0] = t;
            for (int round = 1; ; round++) {
                Sessions later = new Sessions(ds, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(16L * round)),
                        id.sessions().settings());
                for (String cookie : cookies) {
                    long begin = System.nanoTime();
                    if (begin - deadline >= 0) {
                        return;
                    }
                    Optional<Sessions.Session> s = later.check(cookie);
                    long took = System.nanoTime() - begin;
                    if (begin - measureStart >= 0) {
                        t.record(took);
                        if (s.isEmpty() || s.get().locked()) {
                            t.errors++;
                        }
                    }
                }
            }
        });
        Timings all = per[0];
        // The checks must have written last_seen_at, or this measured the wrong path.
        Instant seen = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT last_seen_at FROM web_session"
                    + " WHERE session_sha256 = ?")) {
                ps.setBytes(1, Hashes.sha256(cookies[0]));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getTimestamp(1).toInstant() : Instant.EPOCH;
                }
            }
        });
        boolean wrote = seen.isAfter(Instant.now().plusSeconds(15));
        if (!wrote) {
            err.println("bench identity: the touching checks did not write last_seen_at");
        }
        out.println(String.format(Locale.ROOT, "bench identity part=session-check-touching threads=1 calls=%d"
                + " errors=%d rate=%.0f/s %s", all.count(), all.errors, all.count() / seconds, all.describe()));
        return wrote && all.count() > all.errors;
    }

    private static boolean roundTrip(DataSource ds, IdentityOptions o, PrintStream out) throws InterruptedException {
        Timings[] per = new Timings[1];
        double seconds = runWorkers(1, new IdentityOptions(o.data(), 1, Math.min(o.millis(), 5_000), Math.min(o.warmup(), 2),
                o.accounts()), (w, measureStart, deadline) -> {
            Timings t = new Timings();
            per[0] = t;
            while (true) {
                long begin = System.nanoTime();
                if (begin - deadline >= 0) {
                    return;
                }
                Tx.read(ds, c -> {
                    try (PreparedStatement ps = c.prepareStatement("SELECT 1"); ResultSet rs = ps.executeQuery()) {
                        return rs.next();
                    }
                });
                if (begin - measureStart >= 0) {
                    t.record(System.nanoTime() - begin);
                }
            }
        });
        out.println(String.format(Locale.ROOT, "bench identity part=db-round-trip threads=1 calls=%d rate=%.0f/s %s"
                + " (pooled connection + SELECT 1)", per[0].count(), per[0].count() / seconds, per[0].describe()));
        return per[0].count() > 0;
    }

    private static boolean httpSession(HttpClient client, String base, Identity id, List<BenchAccount> accounts,
                                       int threads, IdentityOptions o, PrintStream out, PrintStream err)
            throws InterruptedException {
        err.println("bench identity: GET /console/home over HTTPS without, with an ended and with a valid session, "
                + threads + " clients");
        String[][] cookies = new String[threads][];
        for (int i = 0; i < threads; i++) {
            UUID account = accounts.get(accounts.size() - 1 - i).id;
            String valid = id.sessions().create(account, Sessions.Stage.AUTHENTICATED, "pwd+otp", true, "127.0.0.1",
                    "mamori bench", null, null);
            String ended = id.sessions().create(account, Sessions.Stage.AUTHENTICATED, "pwd+otp", true, "127.0.0.1",
                    "mamori bench", null, null);
            id.sessions().end(ended, "ended by mamori bench");
            String pre = PRE_COOKIE + "=" + Secrets.random256();
            cookies[i] = new String[]{pre, pre + "; " + SESSION_COOKIE + "=" + ended,
                    pre + "; " + SESSION_COOKIE + "=" + valid};
        }
        int[] expected = {303, 303, 200};
        Timings[][] per = new Timings[threads][3];
        AtomicReference<String> firstError = new AtomicReference<>();
        URI home = URI.create(base + "/console/home");
        double seconds = runWorkers(threads, o, (w, measureStart, deadline) -> {
            for (int k = 0; k < 3; k++) {
                per[w][k] = new Timings();
            }
            for (long round = 0; ; round++) {
                for (int j = 0; j < 3; j++) {
                    int k = (int) ((round + j) % 3); // rotate the order, so no kind always follows another
                    long begin = System.nanoTime();
                    if (begin - deadline >= 0) {
                        return;
                    }
                    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(home).GET()
                            .header("Cookie", cookies[w][k]).build(), HttpResponse.BodyHandlers.ofByteArray());
                    long took = System.nanoTime() - begin;
                    if (begin - measureStart >= 0) {
                        per[w][k].record(took);
                        if (r.statusCode() != expected[k]) {
                            per[w][k].errors++;
                            firstError.compareAndSet(null, "GET /console/home (" + k + "): " + r.statusCode());
                        }
                    }
                }
            }
        });
        Timings[] kinds = new Timings[3];
        for (int k = 0; k < 3; k++) {
            Timings t = new Timings();
            for (int w = 0; w < threads; w++) {
                t.addAll(per[w][k]);
            }
            kinds[k] = t;
        }
        if (firstError.get() != null) {
            err.println("bench identity: unexpected answer: " + firstError.get());
        }
        long requests = kinds[0].count() + kinds[1].count() + kinds[2].count();
        long errors = kinds[0].errors + kinds[1].errors + kinds[2].errors;
        long[] p50 = new long[3];
        for (int k = 0; k < 3; k++) {
            p50[k] = kinds[k].recorder.summary().p50();
        }
        out.println(String.format(Locale.ROOT, "bench identity part=http-session clients=%d requests=%d errors=%d"
                        + " rate=%.0f/s no_session_p50=%.3fms ended_session_p50=%.3fms valid_session_p50=%.3fms"
                        + " no_session_mean=%.3fms ended_session_mean=%.3fms valid_session_mean=%.3fms"
                        + " check_added_p50=%.3fms check_added_mean=%.3fms session_and_page_added_p50=%.3fms",
                threads, requests, errors, requests / seconds, p50[0] / 1e6, p50[1] / 1e6, p50[2] / 1e6,
                kinds[0].meanMillis(), kinds[1].meanMillis(), kinds[2].meanMillis(), (p50[1] - p50[0]) / 1e6,
                kinds[1].meanMillis() - kinds[0].meanMillis(), (p50[2] - p50[0]) / 1e6));
        return requests > errors && kinds[2].count() > kinds[2].errors;
    }

    /**
     * Accounts taking turns for logins. The server accepts a TOTP code for the current time step or the next
     * one, once per step and account; an account is lent out with the code step it may use.
     */
    static final class AccountPool {
        private final List<BenchAccount> accounts;
        private int next;

        AccountPool(List<BenchAccount> accounts) {
            this.accounts = accounts;
        }

        /** An account and the TOTP step to use, waiting while every account has used its codes. */
        synchronized Map.Entry<BenchAccount, Long> take() throws InterruptedException {
            while (true) {
                long current = Totp.step(Instant.now());
                for (int i = 0; i < accounts.size(); i++) {
                    BenchAccount a = accounts.get(next);
                    next = (next + 1) % accounts.size();
                    long step = Math.max(current, a.lastStep + 1);
                    if (step <= current + 1) {
                        a.lastStep = step;
                        return Map.entry(a, step);
                    }
                }
                wait(100);
            }
        }
    }

    /**
     * Logins by {@code clients} clients. With one client, it also times an Argon2id verify after each login into
     * {@code verify}, which must then be empty; with more, {@code verify} gives the Argon2id time per login.
     */
    private static boolean logins(HttpClient client, String base, AccountPool pool, int clients, Timings verify,
                                  IdentityOptions o, PrintStream out, PrintStream err) throws InterruptedException {
        err.println("bench identity: password + TOTP logins over HTTPS, " + clients + " clients");
        Timings[] per = new Timings[clients];
        AtomicReference<String> firstError = new AtomicReference<>();
        PasswordHasher hasher = new PasswordHasher(PasswordHasher.DEFAULT, 1);
        String phc = hasher.hash(PASSWORD);
        double seconds = runWorkers(clients, o, (w, measureStart, deadline) -> {
            Timings t = new Timings();
            per[w] = t;
            while (true) {
                if (clients == 1) {
                    long begin = System.nanoTime();
                    if (!hasher.verify(phc, PASSWORD)) {
                        throw new IllegalStateException("Argon2id verify failed");
                    }
                    if (begin - measureStart >= 0) {
                        verify.record(System.nanoTime() - begin);
                    }
                }
                long begin = System.nanoTime();
                if (begin - deadline >= 0) {
                    return;
                }
                Map.Entry<BenchAccount, Long> turn = pool.take();
                String failure;
                try {
                    failure = login(client, base, turn.getKey(), turn.getValue());
                } catch (IOException e) {
                    failure = HttpSupport.describe(e);
                }
                long took = System.nanoTime() - begin;
                if (begin - measureStart >= 0) {
                    t.record(took);
                    if (failure != null) {
                        t.errors++;
                        firstError.compareAndSet(null, turn.getKey().loginId + ": " + failure);
                    }
                }
            }
        });
        Timings all = merge(per);
        if (firstError.get() != null) {
            err.println("bench identity: " + all.errors + " failed logins; first: " + firstError.get());
        }
        // The single client also spent time in the verifies between its logins: not login time.
        double loginSeconds = clients == 1 ? Math.max(1e-3, seconds - verify.sumNanos / 1e9) : seconds;
        double rate = (all.count() - all.errors) / loginSeconds;
        int cores = Runtime.getRuntime().availableProcessors();
        // Argon2id time per login divided by the login time a client sees, in parallel over at most all cores.
        double verifyMillis = verify.meanMillis();
        out.println(String.format(Locale.ROOT, "bench identity part=login clients=%d logins=%d errors=%d rate=%.1f/s"
                        + " %s argon2id_share=%.0f%% argon2id_cpu=%.0f%% (argon2id verify %.1f ms, %d cores)", clients,
                all.count(), all.errors, rate, all.describe(), 100 * verifyMillis / all.meanMillis(),
                100 * rate * verifyMillis / 1000.0 / cores, verifyMillis, cores));
        return all.count() > all.errors;
    }

    /** One browser login; null on success, else what went wrong. */
    static String login(HttpClient client, String base, BenchAccount a, long step)
            throws IOException, InterruptedException {
        HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(base + "/console/login")).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        String pre = cookie(page, PRE_COOKIE);
        String csrf = csrf(page.body());
        if (page.statusCode() != 200 || pre == null || csrf == null) {
            return "login page: " + page.statusCode();
        }
        String jar = PRE_COOKIE + "=" + pre;
        HttpResponse<String> pw = post(client, base + "/console/login", jar, Map.of("csrf", csrf,
                "login_id", a.loginId, "password", new String(PASSWORD)));
        String session = cookie(pw, SESSION_COOKIE);
        if (pw.statusCode() != 303 || session == null) {
            return "password: " + pw.statusCode();
        }
        jar += "; " + SESSION_COOKIE + "=" + session;
        HttpResponse<String> factor = client.send(HttpRequest.newBuilder(URI.create(base + "/console/login/factor"))
                .header("Cookie", jar).GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        csrf = csrf(factor.body());
        if (factor.statusCode() != 200 || csrf == null) {
            return "second-factor page: " + factor.statusCode();
        }
        HttpResponse<String> done = post(client, base + "/console/login/factor", jar, Map.of("csrf", csrf,
                "code", Totp.code(a.totp, step)));
        if (done.statusCode() != 303 || !"/console/home".equals(done.headers().firstValue("Location").orElse(""))
                || cookie(done, SESSION_COOKIE) == null) {
            return "TOTP: " + done.statusCode();
        }
        return null;
    }

    private static HttpResponse<String> post(HttpClient client, String url, String cookies, Map<String, String> form)
            throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return client.send(HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookies)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    static String cookie(HttpResponse<?> r, String name) {
        for (String h : r.headers().allValues("Set-Cookie")) {
            if (h.startsWith(name + "=")) {
                int end = h.indexOf(';');
                String v = h.substring(name.length() + 1, end < 0 ? h.length() : end);
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    static String csrf(String html) {
        Matcher m = CSRF.matcher(html == null ? "" : html);
        return m.find() ? m.group(1) : null;
    }

    private static Timings merge(Timings[] per) {
        Timings all = new Timings();
        for (Timings t : per) {
            if (t != null) {
                all.addAll(t);
            }
        }
        return all;
    }
}
