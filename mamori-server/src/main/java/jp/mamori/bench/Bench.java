package jp.mamori.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code mamori bench}: a closed-loop load generator for any FHIR R4 server.
 *
 * <p>Each of {@code --concurrency} workers is a virtual user that repeatedly sends a request, waits
 * for the full response and records its latency. The scenario first runs {@code --warmup} seconds
 * unmeasured, then {@code --seconds} measured; a worker checks the deadline before each request. Each worker keeps
 * one connection of the bench's own {@link LoadClient} (issue 24: the JDK's HTTP client cost the shared machine
 * 30–37 % of its CPU); {@code client_cpu_us} on the result line is what this JVM spent per measured request.
 *
 * <p>Counting: {@code requests} is every measured request (started after the warmup) that got a
 * response or failed; {@code errors} are non-2xx responses plus transport failures. Latency
 * percentiles (nearest rank, see {@link LatencyRecorder}) cover every request that got a response,
 * including non-2xx ones. {@code rps} is requests divided by the time from the end of the warmup
 * until the last worker finished its last request.
 *
 * <p>{@code mamori bench identity} measures logins and session checks instead: see {@link IdentityBench};
 * {@code mamori bench access} the authorization decision for people: see {@link AccessBench}; {@code mamori bench
 * audit} the audit trail's appends, the FHIR API with auditing and the trail's size on disk: see {@link AuditBench};
 * {@code mamori bench backup} backups, WAL shipping, their cost on the FHIR API and a restore drill on a database of
 * hospital size: see {@link BackupBench}.
 *
 * <p>Exit codes: 0 when the run completed and at least one request succeeded, 1 when the server
 * cannot be reached, setup fails or no request succeeded, 2 for a usage error.
 */
public final class Bench {

    /** Pause after a transport failure so a dead server does not turn workers into busy loops. */
    private static final long FAILURE_PAUSE_MILLIS = 10;

    private Bench() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args the arguments after {@code bench}
     * @param out  receives exactly one result line (or the usage text for {@code --help})
     * @param err  receives progress messages and errors, one line each
     * @return the process exit code
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (!args.isEmpty() && args.get(0).equals("identity")) {
            return IdentityBench.run(args.subList(1, args.size()), out, err);
        }
        if (!args.isEmpty() && args.get(0).equals("access")) {
            return AccessBench.run(args.subList(1, args.size()), out, err);
        }
        if (!args.isEmpty() && args.get(0).equals("audit")) {
            return AuditBench.run(args.subList(1, args.size()), out, err);
        }
        if (!args.isEmpty() && args.get(0).equals("backup")) {
            return BackupBench.run(args.subList(1, args.size()), out, err);
        }
        if (args.contains("--help") || args.contains("-h")) {
            out.println(Options.USAGE);
            return 0;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.UsageException e) {
            err.println("bench: " + e.getMessage());
            return 2;
        }
        try {
            return run(options, out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("bench: interrupted");
            return 1;
        } catch (RuntimeException e) {
            err.println("bench: unexpected error: " + HttpSupport.describe(e));
            return 1;
        }
    }

    private static int run(Options options, PrintStream out, PrintStream err) throws InterruptedException {
        if (options.comparing()) {
            return compare(options, out, err);
        }
        LoadClient client = LoadClient.forBase(options.base(), options.insecure(), FhirRequests.TIMEOUT);
        FhirRequests requests = prepared(client, options.base(), options.token(), options, err);
        if (requests == null) {
            return 1;
        }
        Measured m = measure(client, requests, options, err);
        if (m == null) {
            return 1;
        }
        out.println(String.format(Locale.ROOT,
                "bench scenario=%s concurrency=%d seconds=%d requests=%d errors=%d rps=%.1f"
                        + " p50=%s p95=%s p99=%s client_cpu_us=%s base=%s",
                options.scenario().label(), options.concurrency(), options.seconds(), m.total(), m.errors(),
                m.rps(), m.p50(), m.p95(), m.p99(), m.clientCpu(), options.base()));
        return m.total() > m.errors() ? 0 : 1;
    }

    /**
     * Two servers measured alternately in one run ({@code --compare-base}): each round measures both, the order
     * swapped every round so that a drift of the machine falls on both alike; one line per measurement on err and
     * one result line with the medians and the ratio (first base over second) on out. The machine is shared and
     * noisy: compare ratios from one run, never figures from different runs.
     */
    private static int compare(Options options, PrintStream out, PrintStream err) throws InterruptedException {
        LoadClient aClient = LoadClient.forBase(options.base(), options.insecure(), FhirRequests.TIMEOUT);
        LoadClient bClient = LoadClient.forBase(options.compareBase(), options.insecure(), FhirRequests.TIMEOUT);
        FhirRequests a = prepared(aClient, options.base(), options.token(), options, err);
        FhirRequests b = a == null ? null : prepared(bClient, options.compareBase(), options.compareToken(), options,
                err);
        if (a == null || b == null) {
            return 1;
        }
        List<Double> aRps = new ArrayList<>();
        List<Double> bRps = new ArrayList<>();
        long errors = 0;
        for (int round = 1; round <= options.rounds(); round++) {
            boolean aFirst = round % 2 == 1;
            for (int side = 0; side < 2; side++) {
                boolean isA = (side == 0) == aFirst;
                Measured m = measure(isA ? aClient : bClient, isA ? a : b, options, err);
                if (m == null) {
                    return 1;
                }
                errors += m.errors();
                (isA ? aRps : bRps).add(m.rps());
                err.println(String.format(Locale.ROOT,
                        "bench: round %d %s rps=%.1f p50=%s p95=%s client_cpu_us=%s errors=%d", round,
                        isA ? "a" : "b", m.rps(), m.p50(), m.p95(), m.clientCpu(), m.errors()));
            }
        }
        double am = median(aRps);
        double bm = median(bRps);
        out.println(String.format(Locale.ROOT, "bench compare scenario=%s concurrency=%d seconds=%d rounds=%d"
                        + " a_rps=%.1f b_rps=%.1f ratio=%.2f errors=%d a=%s b=%s", options.scenario().label(),
                options.concurrency(), options.seconds(), options.rounds(), am, bm, bm == 0 ? 0.0 : am / bm, errors,
                options.base(), options.compareBase()));
        return errors == 0 ? 0 : 1;
    }

    /** The median of measurements; NaN for none. */
    static double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** The requests for one base, its patients set up when the scenario needs them; null (said on err) if not. */
    private static FhirRequests prepared(LoadClient client, String base, String token, Options options,
                                         PrintStream err) throws InterruptedException {
        FhirRequests requests = new FhirRequests(base, token, List.of());

        // Fail early with one clear line if the server cannot be reached at all.
        LoadClient.Request metadata = requests.metadata();
        try (LoadClient.Connection connection = client.connection()) {
            LoadClient.Response response = connection.send(metadata, false);
            if (!HttpSupport.isSuccess(response.status())) {
                err.println("bench: warning: " + HttpSupport.httpError(metadata, response.status(), response.body()));
            }
        } catch (IOException e) {
            err.println("bench: cannot connect to " + base + ": " + HttpSupport.describe(e));
            return null;
        }

        if (options.scenario().needsSetup()) {
            List<String> ids;
            try {
                ids = PatientSetup.createPatients(client, requests, options.patients(),
                        options.concurrency(), err);
            } catch (PatientSetup.SetupException e) {
                err.println("bench: setup failed: " + e.getMessage());
                return null;
            }
            if (options.scenario().needsIds() && ids.isEmpty()) {
                err.println("bench: setup failed: the server's answers did not name the created patients' ids");
                return null;
            }
            requests = requests.withIds(ids);
        }
        return requests;
    }

    /**
     * One measurement's figures; latencies as text ("n/a" when nothing was measured); {@code clientCpu} the bench
     * JVM's own CPU time per measured request in microseconds, as text ("n/a" when unknown).
     */
    record Measured(long total, long errors, double rps, String p50, String p95, String p99, String clientCpu) {
    }

    private static Measured measure(LoadClient client, FhirRequests requests, Options options, PrintStream err)
            throws InterruptedException {
        err.println(String.format(Locale.ROOT, "bench: %s with %d workers: warmup %ds, measuring %ds",
                options.scenario().label(), options.concurrency(), options.warmup(), options.seconds()));
        long start = System.nanoTime();
        long measureStart = start + TimeUnit.SECONDS.toNanos(options.warmup());
        long deadline = measureStart + TimeUnit.SECONDS.toNanos(options.seconds());
        AtomicReference<String> firstError = new AtomicReference<>();

        List<Worker> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < options.concurrency(); i++) {
            Worker worker = new Worker(client, requests, options.scenario(), measureStart, deadline, firstError);
            workers.add(worker);
            threads.add(Thread.ofPlatform().name("bench-worker-" + i).start(worker));
        }
        // The load client's own cost: this JVM's CPU time over the measured window, per measured request.
        long untilMeasured = measureStart - System.nanoTime();
        if (untilMeasured > 0) {
            TimeUnit.NANOSECONDS.sleep(untilMeasured);
        }
        long cpuAtStart = processCpuNanos();
        for (Thread thread : threads) {
            thread.join();
        }
        long cpuAtEnd = processCpuNanos();
        double elapsedSeconds = Math.max(1, System.nanoTime() - measureStart) / 1e9;

        LatencyRecorder latencies = new LatencyRecorder();
        long total = 0;
        long errors = 0;
        for (Worker worker : workers) {
            if (worker.crash != null) {
                err.println("bench: unexpected error: " + HttpSupport.describe(worker.crash));
                return null;
            }
            latencies.addAll(worker.latencies);
            total += worker.count;
            errors += worker.errors;
        }
        if (errors > 0) {
            err.println("bench: " + errors + " errors; first: " + firstError.get());
        }
        LatencyRecorder.Summary summary = latencies.summary();
        String clientCpu = cpuAtStart < 0 || cpuAtEnd < 0 || total == 0 ? "n/a"
                : String.format(Locale.ROOT, "%.1f", (cpuAtEnd - cpuAtStart) / 1000.0 / total);
        return new Measured(total, errors, total / elapsedSeconds, millis(summary, summary.p50()),
                millis(summary, summary.p95()), millis(summary, summary.p99()), clientCpu);
    }

    /**
     * CPU time used by this JVM so far (all threads: workers, GC, compiler), in nanoseconds; -1 where the platform
     * does not say. The difference over the measured window, divided by the measured requests, is the load client's
     * own cost per request: on a machine shared with the server it is what the client takes away from it.
     */
    static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static String millis(LatencyRecorder.Summary summary, long micros) {
        return summary.count() == 0 ? "n/a" : String.format(Locale.ROOT, "%.2fms", micros / 1000.0);
    }

    /** One virtual user: its own recorder and counters, merged after all workers have stopped. */
    private static final class Worker implements Runnable {
        private final LoadClient client;
        private final FhirRequests requests;
        private final Scenario scenario;
        private final long measureStart;
        private final long deadline;
        private final AtomicReference<String> firstError;

        final LatencyRecorder latencies = new LatencyRecorder();
        long count;
        long errors;
        RuntimeException crash;

        Worker(LoadClient client, FhirRequests requests, Scenario scenario, long measureStart, long deadline,
               AtomicReference<String> firstError) {
            this.client = client;
            this.requests = requests;
            this.scenario = scenario;
            this.measureStart = measureStart;
            this.deadline = deadline;
            this.firstError = firstError;
        }

        @Override
        public void run() {
            try (LoadClient.Connection connection = client.connection()) {
                loop(connection);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                crash = e;
            }
        }

        private void loop(LoadClient.Connection connection) throws InterruptedException {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (true) {
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    return;
                }
                boolean measured = now - measureStart >= 0;
                LoadClient.Request request = scenario.next(requests, random);
                long sent = System.nanoTime();
                try {
                    LoadClient.Response response = connection.send(request, false);
                    long micros = (System.nanoTime() - sent) / 1_000;
                    if (measured) {
                        count++;
                        latencies.record(micros);
                        if (!HttpSupport.isSuccess(response.status())) {
                            errors++;
                            firstError.compareAndSet(null,
                                    HttpSupport.httpError(request, response.status(), response.body()));
                        }
                    }
                } catch (IOException e) {
                    if (measured) {
                        count++;
                        errors++;
                        firstError.compareAndSet(null, HttpSupport.target(request) + ": " + HttpSupport.describe(e));
                    }
                    Thread.sleep(FAILURE_PAUSE_MILLIS);
                }
            }
        }
    }
}
