package jp.mamori.bench;

import jp.mamori.MamoriServer;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Action;
import jp.mamori.access.BreakGlass;
import jp.mamori.access.CareRelationships;
import jp.mamori.access.Categories;
import jp.mamori.access.Category;
import jp.mamori.access.Caller;
import jp.mamori.access.PersonAccess;
import jp.mamori.access.PersonContext;
import jp.mamori.access.Roles;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Bootstrap;
import jp.mamori.identity.Identity;
import jp.mamori.records.EncounterCare;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;

import javax.sql.DataSource;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * {@code mamori bench access}: what the authorization decision for people costs, measured in-process at the
 * {@link RecordService} level (people do not reach the HTTP API yet). Starts a Mamori server on a new data folder,
 * creates {@code --patients} patients with a Condition and two Observations each, a policy of 20 roles (8
 * institution roles added to the seeded ones) and a physician of 内科 with {@code --related} care relationships in
 * that department (spread evenly over the patients in the order they were made; each of those patients has a third
 * Observation, of a code only they have), then runs, with {@code --concurrency} threads:
 * <ul>
 *   <li>{@code read}: a Patient or a Condition of a related patient, in turn;</li>
 *   <li>{@code search-patient}: {@code Condition?patient=} a related patient (the clinician's usual search);</li>
 *   <li>{@code search-code}: {@code Observation?code=...&_count=20} across all patients, where every other match is of
 *       a patient not in the physician's care: the physician examines twice the matches permit-all does;</li>
 *   <li>{@code search-code-in-care}: the same search for a code that only related patients have, so that every match
 *       is decided and visible: the cost of the decision itself;</li>
 * </ul>
 * four ways:
 *
 * <ol>
 *   <li>{@code system}: a system client with {@code system/*.*} (scopes only, no per-resource decision);</li>
 *   <li>{@code person-uncached}: the physician, {@link PersonContext#load} once per operation;</li>
 *   <li>{@code person-per-request}: the physician as a console request: the access version read per operation,
 *       the context from {@link jp.mamori.access.PersonContexts} (read again only when the version changes);</li>
 *   <li>{@code person-cached}: the physician, the context loaded once per thread;</li>
 *   <li>{@code permit-all}: a person-shaped caller whose {@link AccessPolicy} permits everything, built here as a
 *       test build would (one non-clinical category for every type, a hospital-wide role granting it, no guarded
 *       labels): the same code path with nothing to decide and no SQL condition to speak of.</li>
 * </ol>
 * The callers take turns in {@code --rounds} rounds that share the {@code --seconds} of each (the warm-up precedes
 * each caller's first round; later rounds warm up for a second). One line per caller and operation on {@code out},
 * then the ratios of the person runs to permit-all.
 *
 * <p>Exit codes: 0 when every run counted operations, found matches and had no error, 1 otherwise, 2 for a
 * usage error.
 */
final class AccessBench {
    static final String USAGE = "usage: mamori bench access --data NEW-DIR [--concurrency N (16)] [--seconds S (20)]"
            + " [--warmup S (5)] [--rounds N (3)] [--patients N (2000)] [--related N (1000)]"
            + " [--ops read,search-patient,search-code,search-code-in-care] [--callers system,person-uncached,person-per-request,person-cached]"
            + " (permit-all, the reference, always runs)";
    static final List<String> OPS = List.of("read", "search-patient", "search-code", "search-code-in-care");
    static final List<String> CALLERS = List.of("system", "person-uncached", "person-per-request", "person-cached");
    private static final String BY = "bench:access";
    private static final String DEPT = "内科";
    private static final char[] PASSWORD = "Bench-Sakura 4 kawa!".toCharArray();
    private static final String CODE_SYSTEM = "http://loinc.org";
    private static final List<String> CODES = List.of("8480-6", "8462-4", "8867-4", "8310-5", "29463-7", "8302-2",
            "2339-0", "718-7", "2160-0", "1742-6");
    /** Codes of the third Observation that only the physician's patients have. */
    private static final List<String> IN_CARE_CODES = List.of("2093-3", "2571-8", "4548-4", "14647-2", "2085-9");
    /** Institution roles added to the 12 seeded ones: 20 in all. */
    private static final int INSTITUTION_ROLES = 8;

    record AccessOptions(Path data, int concurrency, long millis, int warmup, int rounds, int patients, int related,
                         List<String> ops, List<String> callers) {
        static AccessOptions parse(List<String> args) {
            Map<String, String> values = Options.values(args, Set.of("--data", "--concurrency", "--seconds",
                    "--warmup", "--rounds", "--patients", "--related", "--ops", "--callers"), Set.of());
            AccessOptions o = new AccessOptions(Options.dataOption(values),
                    Options.intOption(values, "--concurrency", 16, 1, 64),
                    Options.millisOption(values, "--seconds", 20_000, 100, 3_600_000),
                    Options.intOption(values, "--warmup", 5, 0, 3_600),
                    Options.intOption(values, "--rounds", 3, 1, 100),
                    Options.intOption(values, "--patients", 2000, 2, 1_000_000),
                    Options.intOption(values, "--related", 1000, 1, 1_000_000),
                    listOption(values, "--ops", OPS), listOption(values, "--callers", CALLERS));
            if (o.related() > o.patients()) {
                throw new Options.UsageException("--related cannot exceed --patients");
            }
            return o;
        }
    }

    private static List<String> listOption(Map<String, String> values, String name, List<String> known) {
        String v = values.get(name);
        if (v == null) {
            return known;
        }
        List<String> out = new ArrayList<>();
        for (String part : v.split(",")) {
            String p = part.trim();
            if (!known.contains(p)) {
                throw new Options.UsageException(name + " takes " + String.join(",", known) + ", not " + p);
            }
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return List.copyOf(out);
    }

    private AccessBench() {
    }

    /** Runs the access benchmark; {@code args} are the words after {@code bench access}. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return InProcessBench.main("access", USAGE, "server and data there", args, AccessOptions::parse, AccessOptions::data,
                AccessBench::run, out, err);
    }

    /** The data a run works on. */
    record Data(List<String> related, Map<String, String> conditionOf, UUID physician) {
    }

    private static int run(AccessOptions o, PrintStream out, PrintStream err) throws Exception {
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", o.data().toString(), "--port", "0", "--bind",
                "127.0.0.1"), Map.of());
        err.println("bench access: starting a server on " + o.data());
        try (MamoriServer server = MamoriServer.start(cfg)) {
            DataSource ds = server.database().dataSource();
            Clock clock = Clock.systemUTC();
            Data data = setUp(server, o, err);

            BreakGlass breakGlass = new BreakGlass(ds, clock, BreakGlass.Settings.DEFAULT, n -> { });
            AccessPolicy policy = new AccessPolicy(Categories.load(ds), PersonAccess.load(ds), breakGlass,
                    new jp.mamori.access.EncounterRelations(ds, new EncounterCare()), clock);
            RecordService records = new RecordService(ds, policy, new FhirSupport(), cfg.defaultPageSize(),
                    cfg.maxPageSize());
            RecordService permitAllRecords = new RecordService(ds, permitAllPolicy(clock), new FhirSupport(),
                    cfg.defaultPageSize(), cfg.maxPageSize());
            Caller system = Caller.system("bench-access");
            Caller permitAll = Caller.person(permitAllContext(data.physician()), "bench permit-all", "127.0.0.1");
            Supplier<Caller> uncached = () -> Caller.person(PersonContext.load(ds, data.physician(), Instant.now(),
                    new EncounterCare()),
                    "bench physician", "127.0.0.1");
            // As a console request: the session check reads the access version (here a query of its own, which
            // the real session check folds into its one query), and the context is read again only if it changed.
            jp.mamori.access.PersonContexts contexts = new jp.mamori.access.PersonContexts(ds, new EncounterCare(),
                    clock, 10_000);
            Supplier<Caller> perRequest = () -> Caller.person(contexts.get(data.physician(),
                    accessVersion(ds, data.physician())), "bench physician", "127.0.0.1");
            Caller loaded = uncached.get();
            err.println(String.format(Locale.ROOT, "bench access: physician holds %d roles and %d care relationships;"
                    + " %d roles defined", loaded.person().roles().size(), data.related().size(), roleCount(ds)));

            boolean ok = true;
            for (String op : o.ops()) {
                ThreadLocal<Caller> perThread = ThreadLocal.withInitial(uncached);
                Map<String, Supplier<Caller>> callers = new LinkedHashMap<>();
                Map<String, RecordService> services = new LinkedHashMap<>();
                for (String who : o.callers()) {
                    callers.put(who, switch (who) {
                        case "system" -> ThreadLocal.withInitial(() -> system)::get;
                        case "person-uncached" -> uncached;
                        case "person-per-request" -> perRequest;
                        default -> perThread::get;
                    });
                    services.put(who, records);
                }
                callers.put("permit-all", () -> permitAll);
                services.put("permit-all", permitAllRecords);
                // The callers take turns, round after round, so that a drift of the machine over the run (other work,
                // the database's caches and plans) weighs on each alike; the first round of each also warms it up.
                Map<String, Run> runs = new LinkedHashMap<>();
                callers.keySet().forEach(who -> runs.put(who, new Run()));
                // Rounds of at least a second each (a run shorter than a second is one round).
                int rounds = (int) Math.max(1, Math.min(o.rounds(), o.millis() / 1000));
                for (int round = 0; round < rounds; round++) {
                    long millis = o.millis() / rounds + (round < o.millis() % rounds ? 1 : 0);
                    for (String who : callers.keySet()) {
                        err.println("bench access: " + op + " as " + who + ", " + o.concurrency() + " threads, round "
                                + (round + 1) + " of " + rounds);
                        measure(op, services.get(who), callers.get(who), data, o.concurrency(),
                                round == 0 ? o.warmup() : 1, millis, runs.get(who));
                    }
                }
                for (Map.Entry<String, Run> e : runs.entrySet()) {
                    Run r = e.getValue();
                    if (r.firstError != null) {
                        err.println("bench access: " + r.timings.errors + " errors; first: " + r.firstError);
                    }
                    out.println(String.format(Locale.ROOT, "bench access op=%s caller=%s threads=%d ops=%d errors=%d"
                                    + " found=%d rate=%.0f/s %s", op, e.getKey(), o.concurrency(), r.timings.count(),
                            r.timings.errors, r.found, r.rate(), r.timings.describe()));
                    ok &= r.timings.count() > 0 && r.timings.errors == 0 && r.found > 0;
                }
                double base = runs.get("permit-all").rate();
                StringBuilder line = new StringBuilder("bench access op=" + op + " ratio");
                for (String who : o.callers()) {
                    line.append(String.format(Locale.ROOT, " %s/permit-all=%.3f", who, runs.get(who).rate() / base));
                }
                out.println(line);
            }
            return ok ? 0 : 1;
        }
    }

    /** What the rounds of one caller measured, added up. */
    private static final class Run {
        final IdentityBench.Timings timings = new IdentityBench.Timings();
        long found;
        double seconds;
        String firstError;

        double rate() {
            return seconds == 0 ? 0 : timings.count() / seconds;
        }
    }

    /** Everything permitted, as a test build would construct it: not reachable through any configuration. */
    static AccessPolicy permitAllPolicy(Clock clock) {
        Category all = new Category("bench_all", "全て（ベンチ）", "Everything (bench)", false);
        return new AccessPolicy(Categories.of(List.of(all), List.of(new Categories.Rule("*", null, null, all.code()))),
                new PersonAccess(Set.of()), null, null, clock);
    }

    static PersonContext permitAllContext(UUID account) {
        return new PersonContext(account, List.of(new PersonContext.HeldRole("bench_all", "bench",
                PersonContext.Scope.HOSPITAL, false, Map.of("bench_all", EnumSet.of(Action.READ, Action.SEARCH)))),
                Set.of(), Map.of());
    }

    private static long accessVersion(DataSource ds, UUID account) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT "
                    + jp.mamori.access.PersonContexts.accessVersionSql("x.id") + " FROM (SELECT ?::uuid AS id) x")) {
                ps.setObject(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private static long roleCount(DataSource ds) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM role"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** One caller's turn: {@code warmup} seconds, then {@code millis} measured and added to {@code run}. */
    private static void measure(String op, RecordService records, Supplier<Caller> caller, Data data, int threads,
                                int warmup, long millis, Run run) throws InterruptedException {
        IdentityBench.Timings[] per = new IdentityBench.Timings[threads];
        long[] matches = new long[threads];
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long measureStart = start + TimeUnit.SECONDS.toNanos(warmup);
        long deadline = measureStart + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int w = i;
            per[w] = new IdentityBench.Timings();
            workers.add(Thread.ofPlatform().name("bench-access-" + i).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (long n = w; ; n++) {
                    long begin = System.nanoTime();
                    if (begin - deadline >= 0) {
                        return;
                    }
                    boolean measured = begin - measureStart >= 0;
                    String patient = data.related().get(random.nextInt(data.related().size()));
                    int found;
                    String failure = null;
                    try {
                        Caller c = caller.get();
                        if (op.equals("read")) {
                            found = n % 2 == 0 ? one(records.read(c, "Patient", patient))
                                    : one(records.read(c, "Condition", data.conditionOf().get(patient)));
                        } else if (op.equals("search-patient")) {
                            found = records.search(c, "Condition", Map.of("patient", List.of(patient))).matches().size();
                            if (found == 0) {
                                failure = "Condition?patient=" + patient + " found nothing";
                            }
                        } else {
                            List<String> codes = op.equals("search-code") ? CODES : IN_CARE_CODES;
                            found = records.search(c, "Observation", Map.of("code",
                                    List.of(CODE_SYSTEM + "|" + codes.get(random.nextInt(codes.size()))),
                                    "_count", List.of("20"))).matches().size();
                        }
                    } catch (RuntimeException e) {
                        found = 0;
                        failure = HttpSupport.describe(e);
                    }
                    long took = System.nanoTime() - begin;
                    if (measured) {
                        per[w].record(took);
                        matches[w] += found;
                        if (failure != null) {
                            per[w].errors++;
                            firstError.compareAndSet(null, failure);
                        }
                    }
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        run.seconds += Math.max(1, System.nanoTime() - measureStart) / 1e9;
        for (int i = 0; i < threads; i++) {
            run.timings.addAll(per[i]);
            run.found += matches[i];
        }
        if (run.firstError == null) {
            run.firstError = firstError.get();
        }
    }

    private static int one(RecordService.Stored s) {
        return s == null ? 0 : 1;
    }

    // ---- setup --------------------------------------------------------------------------------------------

    /**
     * Gathers planner statistics on the new data, as autovacuum does in a database in use (a minute or more after
     * the changes): without them PostgreSQL plans the relationship lookups for empty tables. Done as the database
     * superuser of the embedded server, whose password is in the data folder; an external database is left alone.
     */
    private static void analyze(Path data, PrintStream err) throws Exception {
        Path port = data.resolve("runtime").resolve("db-port");
        Path password = data.resolve("secrets").resolve("db-superuser-password");
        if (!Files.exists(port) || !Files.exists(password)) {
            err.println("bench access: not the embedded database; statistics left to autovacuum");
            return;
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                + Files.readString(port).strip() + "/postgres", "postgres", Files.readString(password).strip());
             java.sql.Statement st = c.createStatement()) {
            st.execute("ANALYZE");
        }
    }

    private static Data setUp(MamoriServer server, AccessOptions o, PrintStream err) throws Exception {
        Identity id = server.identity();
        DataSource ds = server.database().dataSource();
        Clock clock = Clock.systemUTC();
        String secret = Files.readString(o.data().resolve("secrets").resolve(Bootstrap.FILE_NAME)).strip();
        Accounts.Proofing proofing = new Accounts.Proofing("in_person", "staff_id", "bench", BY, Instant.now());
        id.enrolment().setupFirstAdministrator(secret, new Accounts.NewAccount("bench-admin", "試験", "管理者",
                "シケン", "カンリシャ", Account.Type.STAFF, List.of(), List.of(), Set.of(), proofing), PASSWORD, PASSWORD,
                "127.0.0.1", "mamori bench");
        // Activated directly (no second factor is registered): recorded in each account's history.
        UUID admin = activate(id, ds, "bench-admin");
        id.accounts().create(new Accounts.NewAccount("bench-ishi", "試験", "医師", "シケン", "イシ",
                Account.Type.STAFF, List.of(), List.of(DEPT), Set.of(), proofing), BY);
        UUID doctorId = activate(id, ds, "bench-ishi");
        record Doctor(UUID id) {
        }
        Doctor doctor = new Doctor(doctorId);

        // The policy: 8 institution roles, of which the physician holds two (department scope) besides 医師.
        Roles roles = new Roles(ds, clock);
        for (int i = 1; i <= INSTITUTION_ROLES; i++) {
            boolean clinical = i % 2 == 0;
            String code = String.format(Locale.ROOT, "inst_role_%02d", i);
            roles.createRole(admin, code, "施設役割" + i, "Institution role " + i, clinical,
                    PersonContext.Scope.DEPARTMENT);
            Map<String, Set<Action>> perms = new LinkedHashMap<>();
            perms.put("demographics", EnumSet.of(Action.READ, Action.SEARCH));
            perms.put("encounters", EnumSet.of(Action.READ, Action.SEARCH, Action.CREATE));
            if (clinical) {
                perms.put("nursing", EnumSet.of(Action.READ, Action.SEARCH));
                perms.put("results", EnumSet.of(Action.READ, Action.SEARCH));
            } else {
                perms.put("billing", EnumSet.of(Action.READ, Action.SEARCH));
            }
            roles.setPermissions(admin, code, perms);
        }
        roles.assign(admin, doctor.id(), "physician", DEPT, null);
        roles.assign(admin, doctor.id(), "inst_role_01", DEPT, null);
        roles.assign(admin, doctor.id(), "inst_role_02", DEPT, null);

        err.println("bench access: creating " + o.patients() + " patients with a Condition and two Observations each"
                + " (three for the " + o.related() + " in the physician's care)");
        long began = System.nanoTime();
        RecordService records = server.records();
        Caller system = Caller.system("bench-access-setup");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String[]>> made = new ArrayList<>();
            for (int i = 0; i < o.patients(); i++) {
                int n = i;
                // The in-care patients' third Observations take the codes in turn.
                int inCare = inCare(n, o.patients(), o.related())
                        ? (int) ((long) n * o.related() / o.patients()) % IN_CARE_CODES.size() : -1;
                made.add(pool.submit(() -> patient(records, system, n, inCare)));
            }
            List<String> patients = new ArrayList<>();
            Map<String, String> conditionOf = new HashMap<>();
            for (Future<String[]> f : made) {
                String[] pc = f.get();
                patients.add(pc[0]);
                conditionOf.put(pc[0], pc[1]);
            }
            err.println(String.format(Locale.ROOT, "bench access: records created in %.1f s; adding %d care"
                    + " relationships", (System.nanoTime() - began) / 1e9, o.related()));
            CareRelationships care = new CareRelationships(ds, clock);
            List<String> related = new ArrayList<>(o.related());
            for (int i = 0; i < patients.size(); i++) {
                if (inCare(i, o.patients(), o.related())) {
                    related.add(patients.get(i));
                }
            }
            related = List.copyOf(related);
            List<Future<?>> added = new ArrayList<>();
            for (String p : related) {
                added.add(pool.submit(() -> care.add(admin, doctor.id(), p, CareRelationships.Kind.CARE_TEAM, DEPT,
                        null, null)));
            }
            for (Future<?> f : added) {
                f.get();
            }
            analyze(o.data(), err);
            return new Data(related, Map.copyOf(conditionOf), doctor.id());
        } finally {
            pool.shutdownNow();
        }
    }

    private static UUID activate(Identity id, DataSource ds, String loginId) {
        UUID account = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET status = 'active',"
                    + " status_changed_at = ? WHERE login_id = ? RETURNING account_id")) {
                ps.setTimestamp(1, Timestamp.from(Instant.now()));
                ps.setString(2, loginId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no account " + loginId);
                    }
                    return rs.getObject(1, UUID.class);
                }
            }
        });
        id.accounts().note(account, BY, "bench.activated", Map.of("note", "activated by mamori bench"));
        return account;
    }

    /**
     * Whether the {@code n}th patient made is one of the physician's: {@code related} of {@code patients}, spread
     * evenly (every other one for 1,000 of 2,000), so that the matches of a search across patients alternate between
     * patients in care and others, as in a hospital where each department's patients arrive among everyone else's.
     */
    static boolean inCare(int n, int patients, int related) {
        return (long) (n + 1) * related / patients > (long) n * related / patients;
    }

    /** Patient {@code n}; with {@code inCare} ≥ 0, also an Observation of the {@code inCare}th in-care code. */
    private static String[] patient(RecordService records, Caller system, int n, int inCare) {
        Patient p = new Patient();
        p.addName().setFamily("試験" + n).addGiven("太郎");
        String pid = records.create(system, p, null, null).stored().id();
        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + pid));
        c.setCode(new CodeableConcept().setText("高血圧"));
        String cid = records.create(system, c, null, null).stored().id();
        for (int k = 0; k < 2; k++) {
            Observation ob = new Observation();
            ob.setStatus(Observation.ObservationStatus.FINAL);
            ob.setCode(new CodeableConcept());
            ob.getCode().addCoding().setSystem(CODE_SYSTEM).setCode(CODES.get((2 * n + k) % CODES.size()));
            ob.setSubject(new Reference("Patient/" + pid));
            records.create(system, ob, null, null);
        }
        if (inCare >= 0) {
            Observation ob = new Observation();
            ob.setStatus(Observation.ObservationStatus.FINAL);
            ob.setCode(new CodeableConcept());
            ob.getCode().addCoding().setSystem(CODE_SYSTEM).setCode(IN_CARE_CODES.get(inCare));
            ob.setSubject(new Reference("Patient/" + pid));
            records.create(system, ob, null, null);
        }
        return new String[]{pid, cid};
    }
}
