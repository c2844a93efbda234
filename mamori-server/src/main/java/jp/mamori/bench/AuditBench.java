package jp.mamori.bench;

import jp.mamori.MamoriServer;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.ResourceRef;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code mamori bench audit}: what the audit trail costs. Starts a Mamori server (auditing on, as always) on a new
 * data folder, then
 *
 * <ol>
 *   <li>{@code append}: {@code --threads} threads append realistic entries (a physician's read of one patient)
 *       through the server's one {@link AuditTrail} appender, each waiting until its entry is durable, for
 *       {@code --seconds}: entries per second, entries per transaction (the group size), append latency;</li>
 *   <li>{@code read} and {@code search} over HTTPS with 16 clients against the same server, by the
 *       {@code mamori bench} FHIR scenarios (their result lines as they print them), with the entries each
 *       request added and the group size meanwhile, to compare with the record store's figures;</li>
 *   <li>{@code size}: the audit tables on disk ({@code pg_total_relation_size}: heap, TOAST and indexes) per
 *       entry, and the canonical entry's own length.</li>
 * </ol>
 *
 * <p>Exit codes: 0 when every part ran without error, 1 otherwise, 2 for a usage error.
 */
final class AuditBench {
    static final String USAGE = "usage: mamori bench audit --data NEW-DIR [--threads N (16)] [--seconds S (20)]"
            + " [--warmup S (5)] [--concurrency N (16)] [--read-patients N (1000)] [--search-patients N (10000)]"
            + " [--skip-http]";

    record AuditOptions(Path data, int threads, int seconds, int warmup, int concurrency, int readPatients,
                        int searchPatients, boolean skipHttp) {
        static AuditOptions parse(List<String> args) {
            Map<String, String> values = Options.values(args, Set.of("--data", "--threads", "--seconds", "--warmup",
                    "--concurrency", "--read-patients", "--search-patients"), Set.of("--skip-http"));
            return new AuditOptions(Options.dataOption(values),
                    Options.intOption(values, "--threads", 16, 1, 256),
                    Options.intOption(values, "--seconds", 20, 1, 3_600),
                    Options.intOption(values, "--warmup", 5, 0, 3_600),
                    Options.intOption(values, "--concurrency", 16, 1, 1_000),
                    Options.intOption(values, "--read-patients", 1000, 1, 1_000_000),
                    Options.intOption(values, "--search-patients", 10_000, 1, 1_000_000),
                    values.containsKey("--skip-http"));
        }
    }

    private AuditBench() {
    }

    /** Runs the audit benchmark; {@code args} are the words after {@code bench audit}. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return InProcessBench.main("audit", USAGE, "server and data there", args, AuditOptions::parse,
                AuditOptions::data, AuditBench::run, out, err);
    }

    private static int run(AuditOptions o, PrintStream out, PrintStream err) throws Exception {
        List<String> serve = new java.util.ArrayList<>(List.of("--data", o.data().toString(), "--port", "0",
                "--bind", "127.0.0.1"));
        int connections = o.concurrency() + 8; // every virtual user's connection comes from this one address
        if (connections > ServerConfig.ListenerOptions.DEFAULT.maxConnectionsPerAddress()) {
            serve.addAll(List.of("--max-connections-per-address", Integer.toString(connections)));
        }
        ServerConfig cfg = ServerConfig.fromArgs(serve, Map.of());
        err.println("bench audit: starting a server on " + o.data());
        try (MamoriServer server = MamoriServer.start(cfg)) {
            AuditTrail trail = server.audit().trail();
            boolean ok = appends(trail, o, out, err);
            if (!o.skipHttp()) {
                String token = server.clients().create("bench-audit", "system/*.*", "mamori bench audit").token();
                ok &= http(server, trail, token, "read", o.readPatients(), o, out, err);
                ok &= http(server, trail, token, "search", o.searchPatients(), o, out, err);
            }
            size(server.database().dataSource(), out);
            return ok ? 0 : 1;
        }
    }

    // ---------------------------------------------------------------- appends

    /** A physician's read of one patient, as the API records it. */
    static AuditEvent entry(String actor, String session, ThreadLocalRandom random) {
        String patient = new UUID(random.nextLong(), random.nextLong()).toString();
        return AuditEvent.by(Actor.person(actor, "試験 医師", List.of("physician"), "内科",
                        "10.20.30." + random.nextInt(1, 255), session), AuditAction.READ)
                .purpose(Purpose.TREATMENT).patient(PatientRef.of(patient))
                .resource(ResourceRef.version("Patient", patient, 1))
                .detail("status", "200").detail("request", "GET /Patient/" + patient).build();
    }

    private static boolean appends(AuditTrail trail, AuditOptions o, PrintStream out, PrintStream err)
            throws InterruptedException {
        AuditRecorder recorder = new AuditRecorder(trail);
        err.println(String.format(Locale.ROOT, "bench audit: appending with %d threads: warmup %ds, measuring %ds",
                o.threads(), o.warmup(), o.seconds()));
        long start = System.nanoTime();
        long measureStart = start + TimeUnit.SECONDS.toNanos(o.warmup());
        long deadline = measureStart + TimeUnit.SECONDS.toNanos(o.seconds());
        AtomicReference<AuditTrail.Stats> atStart = new AtomicReference<>();
        AtomicReference<String> firstError = new AtomicReference<>();
        List<LatencyRecorder> recorders = new ArrayList<>();
        long[] counts = new long[o.threads()];
        long[] errors = new long[o.threads()];
        List<Thread> threads = new ArrayList<>();
        Thread marker = Thread.ofPlatform().daemon(true).start(() -> {
            try {
                TimeUnit.NANOSECONDS.sleep(measureStart - System.nanoTime());
            } catch (InterruptedException e) {
                return;
            }
            atStart.set(trail.stats());
        });
        for (int i = 0; i < o.threads(); i++) {
            int n = i;
            LatencyRecorder rec = new LatencyRecorder();
            recorders.add(rec);
            String actor = "account:" + UUID.randomUUID();
            String session = UUID.randomUUID().toString().replace("-", "").substring(0, 24);
            threads.add(Thread.ofPlatform().name("bench-audit-" + i).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (true) {
                    long begin = System.nanoTime();
                    if (begin - deadline >= 0) {
                        return;
                    }
                    boolean measured = begin - measureStart >= 0;
                    try {
                        recorder.append(entry(actor, session, random));
                        if (measured) {
                            rec.record((System.nanoTime() - begin) / 1_000);
                            counts[n]++;
                        }
                    } catch (RuntimeException e) {
                        if (measured) {
                            counts[n]++;
                            errors[n]++;
                        }
                        firstError.compareAndSet(null, e.toString());
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        marker.join();
        double seconds = Math.max(1, System.nanoTime() - measureStart) / 1e9;
        AuditTrail.Stats end = trail.stats();
        AuditTrail.Stats begin = atStart.get() == null ? end : atStart.get();
        LatencyRecorder all = new LatencyRecorder();
        recorders.forEach(all::addAll);
        long total = 0;
        long failed = 0;
        for (int i = 0; i < counts.length; i++) {
            total += counts[i];
            failed += errors[i];
        }
        long tx = end.transactions() - begin.transactions();
        long entries = end.entries() - begin.entries();
        LatencyRecorder.Summary s = all.summary();
        out.println(String.format(Locale.ROOT, "bench audit op=append threads=%d seconds=%d appends=%d errors=%d"
                        + " rate=%.0f/s transactions=%d entries/tx=%.1f p50=%s p95=%s p99=%s", o.threads(), o.seconds(),
                total, failed, total / seconds, tx, tx == 0 ? 0.0 : (double) entries / tx, ms(s, s.p50()),
                ms(s, s.p95()), ms(s, s.p99())));
        if (failed > 0) {
            err.println("bench audit: " + failed + " appends failed; first: " + firstError.get());
        }
        return total > 0 && failed == 0;
    }

    private static String ms(LatencyRecorder.Summary s, long micros) {
        return s.count() == 0 ? "n/a" : String.format(Locale.ROOT, "%.3fms", micros / 1000.0);
    }

    // ---------------------------------------------------------------- the FHIR API with auditing

    /** One {@code mamori bench} FHIR scenario over HTTPS, its line as it prints it, then what the trail did. */
    private static boolean http(MamoriServer server, AuditTrail trail, String token, String scenario, int patients,
                                AuditOptions o, PrintStream out, PrintStream err) {
        List<String> args = List.of("--base", server.baseUrl(), "--token", token, "--insecure", "--scenario",
                scenario, "--concurrency", Integer.toString(o.concurrency()), "--seconds",
                Integer.toString(o.seconds()), "--warmup", Integer.toString(o.warmup()), "--patients",
                Integer.toString(patients));
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        AuditTrail.Stats before = trail.stats();
        int code = Bench.run(args, new PrintStream(line, true, java.nio.charset.StandardCharsets.UTF_8), err);
        AuditTrail.Stats after = trail.stats();
        String result = line.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
        out.println(result.replace(" base=" + server.baseUrl(), " base=(this server, auditing on)"));
        long tx = after.transactions() - before.transactions();
        long entries = after.entries() - before.entries();
        out.println(String.format(Locale.ROOT, "bench audit op=http-%s entries=%d transactions=%d entries/tx=%.1f",
                scenario, entries, tx, tx == 0 ? 0.0 : (double) entries / tx));
        return code == 0;
    }

    // ---------------------------------------------------------------- size on disk

    private static void size(DataSource ds, PrintStream out) {
        Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT count(*) FROM audit_log),"
                    + " pg_total_relation_size('audit_log') + pg_total_relation_size('audit_report'),"
                    + " pg_relation_size('audit_log') + pg_relation_size('audit_report'),"
                    + " pg_indexes_size('audit_log') + pg_indexes_size('audit_report'),"
                    + " (SELECT coalesce(avg(octet_length(entry)), 0) FROM audit_log),"
                    + " (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
                    + " AND c.relname LIKE 'audit%' AND n.nspname = current_schema())");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                long n = rs.getLong(1);
                long total = rs.getLong(2);
                out.println(String.format(Locale.ROOT, "bench audit op=size entries=%d audit_log+audit_report=%d bytes"
                                + " (heap %d, indexes %d) per-entry=%.0f bytes canonical-entry=%.0f bytes"
                                + " all-audit-tables=%d bytes", n, total, rs.getLong(3), rs.getLong(4),
                        n == 0 ? 0.0 : (double) total / n, rs.getDouble(5), rs.getLong(6)));
            }
            return null;
        });
    }
}
