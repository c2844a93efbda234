package jp.mamori;

import jp.mamori.access.Caller;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Checkpointer;
import jp.mamori.audit.TrailLedger;
import jp.mamori.config.ServerConfig;
import jp.mamori.ledger.Export;
import jp.mamori.ledger.Finding;
import jp.mamori.ledger.Report;
import jp.mamori.ledger.TrailVerifier;
import jp.mamori.preservation.DrillCheck;
import jp.mamori.preservation.Manifest;
import jp.mamori.records.RecordCensus;
import jp.mamori.records.RecordService;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The checks of a restore drill (ADR 0010 §5), on a whole server started on the restored copy: every record
 * version's hashes, head and index ({@code verify-records}); the audit trail exported and verified against its signed
 * checkpoints ({@code audit-verify}); the counts of versions, resources per type and audit entries at least what the
 * manifest says the backup held; and a sample of patients' charts read. The copy's server runs on loopback with
 * backups off and its own anchor folder, so that nothing it signs reaches the real anchor (WORM) folder.
 */
public final class DrillChecks implements DrillCheck {
    /** How many patients' charts are read. */
    static final int SAMPLE = 20;

    @Override
    public List<String> check(Path restored, Manifest m) throws Exception {
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", restored.toString(), "--port", "0", "--bind",
                "127.0.0.1", "--http", "--no-backup", "--audit-anchor-dir", restored.resolve("drill-anchor")
                        .toString(), "--audit-checkpoint-seconds", "3600"), Map.of());
        return check(cfg, m);
    }

    /** The checks on a scratch copy of an external database: a server on {@code folder} and the scratch cluster. */
    @Override
    public List<String> checkExternal(Path folder, ServerConfig.Database database) throws Exception {
        List<String> args = new ArrayList<>(List.of("--data", folder.toString(), "--port", "0", "--bind", "127.0.0.1",
                "--http", "--no-backup", "--audit-anchor-dir", folder.resolve("drill-anchor").toString(),
                "--audit-checkpoint-seconds", "3600", "--db-url", database.jdbcUrl().orElseThrow()));
        database.user().ifPresent(u -> {
            args.add("--db-user");
            args.add(u);
        });
        Map<String, String> env = new java.util.HashMap<>();
        database.password().ifPresent(p -> env.put("MAMORI_DB_PASSWORD", p));
        database.appPassword().ifPresent(p -> env.put("MAMORI_DB_APP_PASSWORD", p));
        return check(ServerConfig.fromArgs(args, env), null);
    }

    /**
     * The same checks on the server {@code cfg} describes: a restored embedded copy, a scratch cluster restored by
     * pgBackRest, or an external database an installation was just moved onto (its own data folder and anchor).
     */
    public static List<String> check(ServerConfig cfg, Manifest m) throws Exception {
        List<String> findings = new ArrayList<>();
        Path restored = cfg.dataDir();
        try (MamoriServer s = MamoriServer.startScratch(cfg)) {
            List<RecordService.Mismatch> bad = new ArrayList<>();
            long versions = s.records().verifyAll(bad::add);
            for (RecordService.Mismatch x : bad.subList(0, Math.min(bad.size(), 10))) {
                findings.add("verify-records: " + x);
            }
            if (bad.size() > 10) {
                findings.add("verify-records: " + (bad.size() - 10) + " more mismatches");
            }
            try (Connection c = s.database().dataSource().getConnection()) {
                RecordCensus census = RecordCensus.of(c);
                if (m != null && (census.versions() < m.versionCount() || census.newestVersion() < m.newestVersion()
                        || versions < m.versionCount())) {
                    findings.add("記録の版数が目録より少ない / fewer record versions than the manifest: " + census.versions()
                            + " (newest " + census.newestVersion() + ") against " + m.versionCount() + " (newest "
                            + m.newestVersion() + ")");
                }
                (m == null ? Map.<String, Long>of() : m.resourceCounts()).forEach((type, n) -> {
                    long got = census.resources().getOrDefault(type, 0L);
                    if (got < n) {
                        findings.add("リソース数が目録より少ない / fewer " + type + " than the manifest: " + got + " against " + n);
                    }
                });
                long next = AuditTrail.nextSeq(c);
                if (m != null && next < m.auditNextSeq()) {
                    findings.add("監査証跡が目録より短い / the audit trail is shorter than the manifest: " + next
                            + " entries against " + m.auditNextSeq());
                }
            }
            findings.addAll(auditTrail(s, restored));
            Caller drill = Caller.system("restore-drill");
            RecordService.SearchPage page = s.records().search(drill, "Patient", Map.of("_count",
                    List.of(Integer.toString(SAMPLE))));
            for (var match : page.matches()) {
                try {
                    s.records().read(drill, match.type(), match.id());
                    s.records().search(drill, "Observation", Map.of("patient", List.of(match.id()), "_count",
                            List.of("20")));
                } catch (RuntimeException e) {
                    findings.add("カルテを読めません / cannot read the chart of Patient/" + match.id() + ": "
                            + e.getMessage());
                }
            }
            if (m != null && m.resourceCounts().getOrDefault("Patient", 0L) > 0 && page.matches().isEmpty()) {
                findings.add("患者を検索できません / no patient found although the backup holds "
                        + m.resourceCounts().get("Patient"));
            }
        }
        return findings;
    }

    /**
     * A scheduled drill, as {@code mamori backup drill} in a process of its own (the serving JVM's memory is not
     * shared with the copy's server; the child records the drill in the trail and the drill log). A drill that fails
     * or cannot run is a security notice; one still running after two hours is stopped.
     */
    public static void runAsProcess(ServerConfig cfg, jp.mamori.access.SecurityNotifier notifier) {
        String javaCommand = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(javaCommand, "-cp", System.getProperty("java.class.path"),
                "jp.mamori.cli.Main", "backup", "drill", "--data", cfg.dataDir().toString(), "--backup-dir",
                cfg.backup().dir().toString()));
        if (Files.isExecutable(Path.of("/usr/bin/nice")) && Files.isExecutable(Path.of("/usr/bin/ionice"))) {
            // the weekly drill at idle priority, like the backups: the serving process keeps the CPU and the disk
            cmd.addAll(0, List.of("/usr/bin/nice", "-n", "19", "/usr/bin/ionice", "-c", "3"));
        }
        ServerConfig.PgBackRestOptions pb = cfg.pgbackrest();
        if (!cfg.database().embedded()) {
            // the external database and its pgBackRest; the passwords go through the environment, never argv
            cmd.addAll(List.of("--db-url", cfg.database().jdbcUrl().orElseThrow()));
            cfg.database().user().ifPresent(u -> cmd.addAll(List.of("--db-user", u)));
            pb.stanza().ifPresent(st -> cmd.addAll(List.of("--backup-pgbackrest-stanza", st,
                    "--backup-pgbackrest-command", String.join(" ", pb.command()))));
            pb.config().ifPresent(c -> cmd.addAll(List.of("--backup-pgbackrest-config", c.toString())));
            pb.drillDir().ifPresent(d -> cmd.addAll(List.of("--backup-pgbackrest-drill-dir", d.toString())));
        }
        Path out = cfg.dataDir().resolve("runtime").resolve("drill.out");
        String problem = null;
        Process p = null;
        try {
            ProcessBuilder pbuilder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            cfg.database().password().ifPresent(pw -> pbuilder.environment().put("MAMORI_DB_PASSWORD", pw));
            cfg.database().appPassword().ifPresent(pw -> pbuilder.environment().put("MAMORI_DB_APP_PASSWORD", pw));
            p = pbuilder.start();
            if (!p.waitFor(2, java.util.concurrent.TimeUnit.HOURS)) {
                p.destroy();
                problem = "the drill did not finish within two hours and was stopped";
            } else if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(out);
                problem = lines.stream().filter(l -> l.contains("FINDING") || l.contains("failed")).findFirst()
                        .orElse("exit " + p.exitValue() + "; see " + out);
            }
        } catch (InterruptedException e) {
            p.destroy(); // the server stops: so does its drill (its shutdown stops the copy's database)
            Thread.currentThread().interrupt();
            return;
        } catch (java.io.IOException e) {
            problem = "the drill could not be started: " + e.getMessage();
        }
        if (problem != null) {
            org.slf4j.LoggerFactory.getLogger(DrillChecks.class).warn("backup drill: {}", problem);
            notifier.notify(new jp.mamori.access.SecurityNotifier.Notice("backup.drill-failed", java.time.Instant.now(),
                    null, Map.of("data", cfg.dataDir().toString()), "復元訓練が不合格です / a restore drill failed: "
                    + problem.strip()));
        }
    }

    private static List<String> auditTrail(MamoriServer s, Path restored) throws Exception {
        List<String> findings = new ArrayList<>();
        Checkpointer cp = s.audit().checkpointer();
        cp.checkpoint();
        Path tmp = Files.createTempDirectory(restored, "audit-export");
        try (Connection c = s.database().dataSource().getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                TrailLedger.export(c, tmp.resolve("x"), cp.signer(), 0, cp.anchor());
            } finally {
                c.rollback();
            }
            Report r = new TrailVerifier(cp.signer().verifierKey()).origin(cp.signer().verifierKey().name())
                    .verify(Export.open(tmp.resolve("x")));
            if (r.failed()) {
                for (Finding f : r.findings()) {
                    findings.add("audit-verify: " + f.text());
                    if (findings.size() >= 10) {
                        break;
                    }
                }
            }
            if (cp.status().problem() != null) {
                findings.add("audit-verify: " + cp.status().problem());
            }
        }
        return findings;
    }
}
