package jp.mamori.cli;

import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Checkpointer;
import jp.mamori.audit.RecordTrail;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.TrailLedger;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.ledger.Export;
import jp.mamori.ledger.Finding;
import jp.mamori.ledger.Report;
import jp.mamori.ledger.TrailVerifier;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code audit-export}, {@code audit-proof} and {@code audit-verify} (AUDIT-3): they work on the data folder like
 * {@code verify-records}, also while the server runs. Export and verify first sign a checkpoint over what is stored
 * (with the key in the data folder's secrets), so the export's tail is covered; each run is itself an audit entry.
 */
final class AuditCommands {
    static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password",
            "--audit-anchor-dir");

    private AuditCommands() {
    }

    private static ServerConfig config(Args a, Map<String, String> env) {
        return Main.serveConfig(a, COMMON, env);
    }

    private static Checkpointer checkpointer(Main.Opened o, ServerConfig cfg) throws IOException {
        return Audit.checkpointer(o.db.dataSource(), cfg.audit(), java.net.InetAddress.getLocalHost().getHostName(),
                cfg.dataDir());
    }

    private static void record(Main.Opened o, AuditAction action, Outcome outcome, Map<String, String> detail) {
        try (AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            new AuditRecorder(trail).system("cli", action, outcome, detail);
        }
    }

    private static long number(Args a, String name, long otherwise) {
        Optional<String> v = a.value(name);
        if (v.isEmpty()) {
            return otherwise;
        }
        try {
            long n = Long.parseLong(v.get());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ConfigException(name + " は 0 以上の整数で指定してください / " + name + " must be a whole number ≥ 0");
    }

    /** {@code audit-export --data DIR --out DIR [--from SEQ]}. */
    static int export(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        List<String> names = new ArrayList<>(COMMON);
        names.addAll(List.of("--out", "--from"));
        Args a = Args.parse(args, names, List.of());
        Path dir = Path.of(a.value("--out").orElseThrow(() -> new ConfigException(
                "--out DIR を指定してください / give --out DIR"))).toAbsolutePath();
        if (Files.exists(dir) && (!Files.isDirectory(dir) || !isEmpty(dir))) {
            throw new ConfigException("--out には新しいフォルダか空のフォルダを指定してください / --out must be a new or"
                    + " empty folder: " + dir);
        }
        long from = number(a, "--from", 0);
        ServerConfig cfg = config(a, env);
        try (Main.Opened o = Main.Opened.open(a, env)) {
            Checkpointer cp = checkpointer(o, cfg);
            record(o, AuditAction.AUDIT_EXPORT, Outcome.SUCCESS, new LinkedHashMap<>(Map.of("out", dir.toString(),
                    "from", Long.toString(from))));
            cp.checkpoint();
            TrailLedger.Exported x = exportTo(o, cp, dir, from);
            out.println("audit-export: " + x.entries() + " entries and " + x.checkpoints() + " checkpoints written to "
                    + dir + " / 監査証跡を書き出しました");
            if (x.anchorOnly() > 0) {
                out.println("audit-export: " + x.anchorOnly() + " checkpoint(s) are in the anchor folder but not in the"
                        + " database / アンカーフォルダにだけあるチェックポイントがあります");
            }
            if (cp.status().problem() != null) {
                out.println("audit-export: 監査証跡の整合性に問題があります / INTEGRITY PROBLEM: " + cp.status().problem());
            }
            out.println("verifier key / 検証鍵: " + cp.signer().verifierKey().format());
            return 0;
        }
    }

    private static TrailLedger.Exported exportTo(Main.Opened o, Checkpointer cp, Path dir, long from) throws Exception {
        try (Connection c = o.db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                return TrailLedger.export(c, dir, cp.signer(), from, cp.anchor());
            } finally {
                c.rollback();
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                c.setAutoCommit(true);
            }
        }
    }

    /**
     * {@code audit-proof --data DIR --seq N [--size M] [--out FILE]}: the inclusion proof of entry N in the stored
     * checkpoint of size M (default: the latest); {@code --from-size M --to-size N}: the consistency proof between two
     * stored checkpoints. In the ledger's proof file format.
     */
    static int proof(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        List<String> names = new ArrayList<>(COMMON);
        names.addAll(List.of("--seq", "--size", "--from-size", "--to-size", "--out"));
        Args a = Args.parse(args, names, List.of());
        boolean inclusion = a.value("--seq").isPresent();
        boolean consistency = a.value("--from-size").isPresent() || a.value("--to-size").isPresent();
        if (inclusion == consistency) {
            throw new ConfigException("--seq N [--size M] か --from-size M --to-size N のどちらかを指定してください"
                    + " / give --seq N [--size M] or --from-size M --to-size N");
        }
        try (Main.Opened o = Main.Opened.open(a, env); Connection c = o.db.dataSource().getConnection()) {
            String text;
            Map<String, String> detail = new LinkedHashMap<>();
            if (inclusion) {
                long seq = number(a, "--seq", 0);
                Long size = a.value("--size").isPresent() ? number(a, "--size", 0) : null;
                text = TrailLedger.inclusion(c, seq, size).format();
                detail.put("seq", Long.toString(seq));
            } else {
                long m = number(a, "--from-size", -1);
                long n = number(a, "--to-size", -1);
                text = TrailLedger.consistency(c, m, n).format();
                detail.put("sizes", m + "-" + n);
            }
            record(o, AuditAction.AUDIT_PROOF, Outcome.SUCCESS, detail);
            if (a.value("--out").isPresent()) {
                Path f = Path.of(a.value("--out").get());
                Files.writeString(f, text, StandardCharsets.UTF_8);
                out.println("audit-proof: written to " + f.toAbsolutePath() + " / 証明を書き出しました");
            } else {
                out.print(text);
            }
            return 0;
        }
    }

    /**
     * The second half of {@code verify-records} (issue 17): signs a checkpoint over what is stored, then holds every
     * stored version against the trail and the trail against that checkpoint ({@link RecordTrail#check}); prints each
     * finding as a MISMATCH line.
     */
    static RecordTrail.Result checkRecordsAgainstTrail(Main.Opened o, ServerConfig cfg, PrintStream out)
            throws IOException {
        Checkpointer cp = checkpointer(o, cfg);
        cp.checkpoint();
        String problem = cp.status().problem();
        if (problem != null) {
            out.println("MISMATCH audit trail: 監査証跡の整合性に問題があります / " + problem);
        }
        RecordTrail.Result r = RecordTrail.check(o.db.dataSource(), cp.signer().verifierKey(), f -> {
            String what = f.type() == null ? "audit trail " + f.id() : f.type() + "/" + f.id() + " version "
                    + f.version();
            out.println("MISMATCH " + what + ": " + f.problem() + " (trail " + f.trail() + "; store " + f.stored()
                    + ")");
        });
        return problem == null ? r : new RecordTrail.Result(r.versions(), r.trailVersions(), r.entries(),
                r.checkpointSize(), r.unsigned(), r.findings() + 1);
    }

    /**
     * {@code audit-verify --data DIR}: signs a checkpoint, exports everything to a temporary folder and runs the
     * ledger's verifier on it with the key from the data folder; prints each finding; records the run.
     */
    static int verify(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        Args a = Args.parse(args, COMMON, List.of());
        ServerConfig cfg = config(a, env);
        try (Main.Opened o = Main.Opened.open(a, env)) {
            Checkpointer cp = checkpointer(o, cfg);
            cp.checkpoint();
            Path tmp = Files.createTempDirectory("mamori-audit-verify");
            Report r;
            try {
                exportTo(o, cp, tmp, 0);
                r = new TrailVerifier(cp.signer().verifierKey()).origin(cp.signer().verifierKey().name())
                        .verify(Export.open(tmp));
            } finally {
                deleteTree(tmp);
            }
            for (Finding f : r.findings()) {
                out.println(f.text());
            }
            // a problem the checkpointer found (e.g. an entry no appender stored, which it refused to sign) fails the
            // run even when what is signed verifies: the verifier only sees those entries as not yet covered
            String problem = cp.status().problem();
            if (problem != null) {
                out.println("audit-verify: 監査証跡の整合性に問題があります / INTEGRITY PROBLEM: " + problem);
            }
            out.println("audit-verify: " + r.summary());
            boolean failed = r.failed() || problem != null;
            Map<String, String> detail = new LinkedHashMap<>(Map.of("entries", Long.toString(r.entries()),
                    "failures", Long.toString(r.failures()), "covered", Long.toString(r.coveredSize())));
            if (problem != null) {
                detail.put("problem", problem);
            }
            record(o, AuditAction.VERIFY_AUDIT, Outcome.of(!failed), detail);
            return failed ? 1 : 0;
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
