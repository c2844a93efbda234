package jp.mamori.bench;

import jp.mamori.DrillChecks;
import jp.mamori.MamoriServer;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Tx;
import jp.mamori.demo.DemoData;
import jp.mamori.demo.DemoGenerator;
import jp.mamori.preservation.Backups;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code mamori bench backup}: what preservation costs on a database of hospital size (issue 16). Starts a Mamori
 * server with its backups on, fills it (unless it was filled before) with synthetic patients through the record
 * store's own write path until it holds {@code --versions} record versions, and appends {@code --audit-entries}
 * audit entries through the trail's one appender; then measures, printing one line each:
 *
 * <ol>
 *   <li>{@code disk}: the disk's own sequential write speed (1 MiB writes, forced), beside which the backup is read;</li>
 *   <li>{@code full}: a whole backup ({@code backup now}): time, database size, sealed size, MB/s of database size;</li>
 *   <li>{@code incremental}: for {@code --load-seconds} of record-store write load, the WAL archived and shipped per
 *       minute and the CPU the backup thread spent on it per minute;</li>
 *   <li>{@code read}/{@code search} at {@code --concurrency} clients over HTTPS, in alternating rounds without and
 *       with a backup running, side by side, and the ratio of their medians;</li>
 *   <li>{@code drill}: the newest backup restored into a scratch folder and checked as the weekly drill does
 *       (verify-records, audit verify, counts against the manifest, a sample of charts): restore time, total.</li>
 * </ol>
 *
 * <p>The data folder is kept: run it again on the same folder to measure again without filling it again.
 */
final class BackupBench {
    static final String USAGE = "usage: mamori bench backup --data DIR [--versions N (1000000)]"
            + " [--audit-entries N (1000000)] [--writers N (1)] [--load-seconds S (60)] [--concurrency N (16)]"
            + " [--seconds S (20)] [--warmup S (5)] [--rounds N (3)] [--search-patients N (10000)] [--skip-drill] [--fill-only] [--phases full,incremental,read,search,drill]";
    private static final double MB = 1024 * 1024;
    private static final String FILLED = "bench-backup-filled";
    private static final Pattern RPS = Pattern.compile("\\brps=([0-9.]+)");

    record BackupOptions(Path data, long versions, long auditEntries, int writers, int loadSeconds, int concurrency,
                         int seconds, int warmup, int rounds, int searchPatients, boolean skipDrill, boolean fillOnly, Set<String> phases) {
        static BackupOptions parse(List<String> args) {
            Map<String, String> v = Options.values(args, Set.of("--data", "--versions", "--audit-entries", "--writers",
                    "--load-seconds", "--concurrency", "--seconds", "--warmup", "--rounds", "--search-patients",
                    "--phases"),
                    Set.of("--skip-drill", "--fill-only"));
            return new BackupOptions(Options.dataOption(v),
                    Options.intOption(v, "--versions", 1_000_000, 0, 100_000_000),
                    Options.intOption(v, "--audit-entries", 1_000_000, 0, 100_000_000),
                    Options.intOption(v, "--writers", 1, 1, 64),
                    Options.intOption(v, "--load-seconds", 60, 1, 3_600),
                    Options.intOption(v, "--concurrency", 16, 1, 1_000),
                    Options.intOption(v, "--seconds", 20, 1, 3_600),
                    Options.intOption(v, "--warmup", 5, 0, 3_600),
                    Options.intOption(v, "--rounds", 3, 1, 20),
                    Options.intOption(v, "--search-patients", 10_000, 1, 1_000_000),
                    v.containsKey("--skip-drill"), v.containsKey("--fill-only"), phases(v.get("--phases")));
        }

        private static Set<String> phases(String list) {
            Set<String> all = Set.of("full", "incremental", "read", "search", "drill");
            if (list == null) {
                return all;
            }
            Set<String> p = Set.of(list.split(","));
            if (!all.containsAll(p)) {
                throw new IllegalArgumentException("--phases takes some of " + String.join(",", all));
            }
            return p;
        }
    }

    private BackupBench() {
    }

    /** Runs the backup benchmark; {@code args} are the words after {@code bench backup}. */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.contains("--help") || args.contains("-h")) {
            out.println(USAGE);
            return 0;
        }
        BackupOptions o;
        try {
            o = BackupOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("bench backup: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            return run(o, out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("bench backup: interrupted");
            return 1;
        } catch (Exception e) {
            err.println("bench backup: failed: " + HttpSupport.describe(e));
            return 1;
        }
    }

    private static int run(BackupOptions o, PrintStream out, PrintStream err) throws Exception {
        List<String> serve = new ArrayList<>(List.of("--data", o.data().toString(), "--port", "0", "--bind",
                "127.0.0.1", "--backup-drill-days", "0"));
        int connections = o.concurrency() + 8;
        if (connections > ServerConfig.ListenerOptions.DEFAULT.maxConnectionsPerAddress()) {
            serve.addAll(List.of("--max-connections-per-address", Integer.toString(connections)));
        }
        ServerConfig cfg = ServerConfig.fromArgs(serve, Map.of());
        err.println("bench backup: starting a server on " + o.data() + " (backups to " + cfg.backup().dir() + ")");
        try (MamoriServer server = MamoriServer.start(cfg)) {
            Backups backups = server.backups();
            DataSource ds = server.database().dataSource();
            if (!Files.exists(o.data().resolve(FILLED))) {
                fill(server, o, out, err);
                Files.writeString(o.data().resolve(FILLED), "filled\n");
            }
            census(ds, out);
            if (o.fillOnly()) {
                return 0;
            }
            boolean ok = true;
            if (o.phases().contains("full")) {
                disk(cfg.backup().dir(), out);
                full(backups, ds, out, err);
            }
            if (o.phases().contains("incremental")) {
                incremental(server, backups, o, out, err);
            }
            ok &= readSearchCost(server, backups, o, out, err);
            if (!o.skipDrill() && o.phases().contains("drill")) {
                ok &= drill(backups, out, err);
            }
            return ok ? 0 : 1;
        }
    }

    // ---------------------------------------------------------------- filling

    private static void fill(MamoriServer server, BackupOptions o, PrintStream out, PrintStream err)
            throws Exception {
        DataSource ds = server.database().dataSource();
        long t0 = System.nanoTime();
        AtomicLong written = new AtomicLong(versions(ds));
        AtomicLong conflicts = new AtomicLong();
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        err.println("bench backup: writing synthetic patients until " + o.versions() + " record versions");
        for (int w = 0; w < o.writers(); w++) {
            long seed = 1_000 + w;
            writers.add(Thread.ofPlatform().name("bench-fill-" + w).start(() -> {
                DemoData demo = new DemoData(ds, server.audit().recorder());
                LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));
                long round = 0;
                try {
                    while (written.get() < o.versions() && failed.get() == null) {
                        DemoData.Summary s;
                        try {
                            s = demo.create(100, seed * 1_000_003 + round++, new DemoGenerator.Options(40, 2), today);
                        } catch (jp.mamori.kernel.FhirError e) { // two writers' large transactions met: next chunk
                            if (conflicts.incrementAndGet() <= 3) {
                                err.println("bench backup: a chunk was refused: " + e.getMessage());
                            }
                            continue;
                        }
                        long n = written.addAndGet(s.resources() + s.amended());
                        if (n / 100_000 != (n - s.resources() - s.amended()) / 100_000) {
                            err.println(String.format(Locale.ROOT, "bench backup: %d versions (%.0f s)", n,
                                    (System.nanoTime() - t0) / 1e9));
                        }
                    }
                } catch (Exception e) {
                    failed.compareAndSet(null, e);
                }
            }));
        }
        AuditRecorder recorder = new AuditRecorder(server.audit().trail());
        long auditStart = server.audit().trail().stats().entries();
        AtomicLong appended = new AtomicLong(auditStart);
        List<Thread> appenders = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String actor = "account:" + java.util.UUID.randomUUID();
            String session = Long.toHexString(ThreadLocalRandom.current().nextLong());
            appenders.add(Thread.ofPlatform().name("bench-audit-" + i).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                try {
                    while (appended.getAndIncrement() < o.auditEntries() && failed.get() == null) {
                        recorder.append(AuditBench.entry(actor, session, random));
                    }
                } catch (RuntimeException e) {
                    failed.compareAndSet(null, e);
                }
            }));
        }
        for (Thread t : appenders) {
            t.join();
        }
        double auditS = (System.nanoTime() - t0) / 1e9;
        for (Thread t : writers) {
            t.join();
        }
        if (failed.get() != null) {
            throw failed.get();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        out.println(String.format(Locale.ROOT, "bench backup op=fill versions=%d audit-entries=%d seconds=%.0f"
                + " (audit appends done after %.0f s, beside the writers; %d chunks lost to write conflicts)",
                versions(ds), server.audit().trail().stats().entries(), s, auditS, conflicts.get()));
    }

    private static long versions(DataSource ds) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM resource_version");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static void census(DataSource ds, PrintStream out) {
        Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT count(*) FROM resource_version),"
                    + " (SELECT count(*) FROM resource), (SELECT count(*) FROM audit_entry),"
                    + " pg_database_size(current_database())");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                out.println(String.format(Locale.ROOT, "bench backup op=database versions=%d resources=%d"
                        + " audit-entries=%d size=%.0f MB", rs.getLong(1), rs.getLong(2), rs.getLong(3),
                        rs.getLong(4) / MB));
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- the disk, a full backup

    /** The disk's own sequential write speed where the backups go: 1 GiB in 1 MiB writes, forced. */
    private static void disk(Path backupDir, PrintStream out) throws IOException {
        Files.createDirectories(backupDir);
        Path f = backupDir.resolve("bench-disk-speed.bin");
        ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (block.hasRemaining()) {
            block.putLong(r.nextLong());
        }
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (int i = 0; i < 1024; i++) {
                block.rewind();
                while (block.hasRemaining()) {
                    ch.write(block);
                }
            }
            ch.force(true);
        } finally {
            double s = (System.nanoTime() - t0) / 1e9;
            Files.deleteIfExists(f);
            out.println(String.format(Locale.ROOT, "bench backup op=disk sequential-write=%.0f MB/s (1 GiB, 1 MiB"
                    + " writes, forced)", 1024 / s));
        }
    }

    private static long databaseBytes(DataSource ds) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_database_size(current_database())");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static void full(Backups backups, DataSource ds, PrintStream out, PrintStream err) {
        err.println("bench backup: a full backup");
        long db = databaseBytes(ds);
        Backups.Taken t = backups.backupNow("bench");
        double s = t.took().toNanos() / 1e9;
        out.println(String.format(Locale.ROOT, "bench backup op=full id=%s database=%.0f MB sealed=%.0f MB"
                + " seconds=%.1f throughput=%.0f MB/s of database size (%.0f MB/s sealed)", t.id(), db / MB,
                t.sealedBytes() / MB, s, db / MB / s, t.sealedBytes() / MB / s));
    }

    // ---------------------------------------------------------------- incremental cost

    private static void incremental(MamoriServer server, Backups backups, BackupOptions o, PrintStream out,
                                    PrintStream err) throws Exception {
        err.println("bench backup: " + o.loadSeconds() + " s of record-store write load, WAL archived and shipped");
        DataSource ds = server.database().dataSource();
        backups.shipWal();
        long walBefore = folderBytes(backups.destination().resolve("wal"));
        long archivedBefore = archived(ds);
        long versionsBefore = versions(ds);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> cpuBefore = backupThreadCpu(mx);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < o.writers(); w++) {
            long seed = 9_000 + w;
            writers.add(Thread.ofPlatform().name("bench-load-" + w).start(() -> {
                DemoData demo = new DemoData(ds, server.audit().recorder());
                long round = 0;
                try {
                    while (!stop.get()) {
                        try {
                            demo.create(10, seed * 1_000_003 + round++, new DemoGenerator.Options(40, 2),
                                    LocalDate.now(ZoneId.of("Asia/Tokyo")));
                        } catch (jp.mamori.kernel.FhirError e) {
                            // a conflict between the writers' transactions: the next chunk goes on
                        }
                    }
                } catch (Exception e) {
                    failed.compareAndSet(null, e);
                }
            }));
        }
        Thread.sleep(o.loadSeconds() * 1000L);
        stop.set(true);
        for (Thread t : writers) {
            t.join();
        }
        double minutes = (System.nanoTime() - t0) / 60e9;
        if (failed.get() != null) {
            throw failed.get();
        }
        backups.shipWal(); // what is archived but not yet shipped, as the next scheduled run would

        long cpu = backupThreadCpuSince(mx, cpuBefore);
        long shipped = folderBytes(backups.destination().resolve("wal")) - walBefore;
        long segments = archived(ds) - archivedBefore;
        long versions = versions(ds) - versionsBefore;
        out.println(String.format(Locale.ROOT, "bench backup op=incremental minutes=%.2f versions=%d (%.0f/min)"
                        + " wal-archived=%d segments (%.0f MB/min) wal-shipped-sealed=%.0f MB/min"
                        + " backup-thread-cpu=%.2f s/min", minutes, versions, versions / minutes, segments,
                segments * 16 / minutes, shipped / MB / minutes, cpu / 1e9 / minutes));
    }

    private static long archived(DataSource ds) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT archived_count FROM pg_stat_archiver");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** CPU time of the server's backup threads (WAL shipping, scheduled backups, uploads) by thread, nanoseconds. */
    private static Map<Long, Long> backupThreadCpu(ThreadMXBean mx) {
        Map<Long, Long> cpu = new java.util.HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("mamori-backup")) {
                cpu.put(t.threadId(), Math.max(0, mx.getThreadCpuTime(t.threadId())));
            }
        }
        return cpu;
    }

    /** What the backup threads spent since {@code before}: threads that ended meanwhile are not counted. */
    private static long backupThreadCpuSince(ThreadMXBean mx, Map<Long, Long> before) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : backupThreadCpu(mx).entrySet()) {
            sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
        }
        return sum;
    }

    private static long folderBytes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    // ---------------------------------------------------------------- read/search cost of a running backup

    private static boolean readSearchCost(MamoriServer server, Backups backups, BackupOptions o, PrintStream out,
                                          PrintStream err) throws Exception {
        String token = server.clients().create("bench-backup", "system/*.*", "mamori bench backup").token();
        boolean ok = true;
        for (String scenario : List.of("read", "search")) {
            if (!o.phases().contains(scenario)) {
                continue;
            }
            List<Double> without = new ArrayList<>();
            List<Double> with = new ArrayList<>();
            int patients = scenario.equals("read") ? 1000 : o.searchPatients(); // created anew each round
            for (int round = 0; round < o.rounds(); round++) {
                Double a = scenario(server, token, scenario, patients, o, out, err, "without-backup");
                Double b = duringBackup(backups, () -> scenario(server, token, scenario, patients, o, out, err,
                        "with-backup"), err);
                ok &= a != null && b != null;
                if (a != null) {
                    without.add(a);
                }
                if (b != null) {
                    with.add(b);
                }
            }
            double m0 = Bench.median(without);
            double m1 = Bench.median(with);
            out.println(String.format(Locale.ROOT, "bench backup op=%s-cost rounds=%d rps-without=%s rps-with=%s"
                            + " median-without=%.1f median-with=%.1f ratio=%.3f cost=%.1f%%", scenario, o.rounds(),
                    without, with, m0, m1, m1 / m0, 100 * (1 - m1 / m0)));
        }
        return ok;
    }

    @FunctionalInterface
    private interface Measured {
        Double run() throws Exception;
    }

    /** Runs {@code body} while whole backups run back to back; their copies are deleted afterwards. */
    private static Double duringBackup(Backups backups, Measured body, PrintStream err) throws Exception {
        List<String> existing;
        try (Stream<Path> dirs = Files.list(backups.destination().resolve("base"))) {
            existing = dirs.map(d -> d.getFileName().toString()).toList();
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong taken = new AtomicLong();
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread t = Thread.ofPlatform().name("bench-backup-running").start(() -> {
            while (!stop.get()) {
                try {
                    ids.add(backups.backupNow("bench").id());
                    taken.incrementAndGet();
                } catch (RuntimeException e) {
                    err.println("bench backup: backup during the scenario failed: " + e.getMessage());
                    return;
                }
            }
        });
        Thread.sleep(1000); // the backup is streaming the data folder when the clients start
        try {
            return body.run();
        } finally {
            stop.set(true);
            t.join();
            // the copies made only to load the server go again (their manifest first), or rounds of whole copies
            // would fill the disk; an unfinished one is deleted too
            java.util.Set<String> before = java.util.Set.copyOf(existing);
            try (Stream<Path> dirs = Files.list(backups.destination().resolve("base"))) {
                for (Path d : dirs.toList()) {
                    if (!before.contains(d.getFileName().toString())) {
                        Files.deleteIfExists(d.resolve("manifest.json"));
                        deleteTree(d);
                    }
                }
            }
            err.println("bench backup: " + taken.get() + " backup(s) ran during the scenario, deleted again: " + ids);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Double scenario(MamoriServer server, String token, String scenario, int patients,
                                   BackupOptions o, PrintStream out, PrintStream err, String label) {
        List<String> args = new ArrayList<>(List.of("--base", server.baseUrl(), "--token", token, "--insecure",
                "--scenario", scenario, "--concurrency", Integer.toString(o.concurrency()), "--seconds",
                Integer.toString(o.seconds()), "--warmup", Integer.toString(o.warmup())));
        args.addAll(List.of("--patients", Integer.toString(patients)));
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int code = Bench.run(args, new PrintStream(line, true, StandardCharsets.UTF_8), err);
        String result = line.toString(StandardCharsets.UTF_8).strip();
        out.println("bench backup " + label + ": " + result.replace(" base=" + server.baseUrl(), ""));
        Matcher m = RPS.matcher(result);
        return code == 0 && m.find() ? Double.parseDouble(m.group(1)) : null;
    }

    // ---------------------------------------------------------------- restore drill

    private static boolean drill(Backups backups, PrintStream out, PrintStream err) {
        err.println("bench backup: a restore drill of the newest backup");
        long t0 = System.nanoTime();
        Backups.DrillResult r = backups.drill(new DrillChecks(), "bench");
        double s = (System.nanoTime() - t0) / 1e9;
        out.println(String.format(Locale.ROOT, "bench backup op=drill backup=%s restore=%.1f s drill-total=%.1f s"
                        + " (call %.1f s) data-age=%.1f s passed=%s%s", r.backupId(), r.restore().toMillis() / 1e3,
                r.total().toMillis() / 1e3, s, r.dataAge().toMillis() / 1e3, r.passed(),
                r.passed() ? "" : " findings=" + r.findings()));
        return r.passed();
    }
}
