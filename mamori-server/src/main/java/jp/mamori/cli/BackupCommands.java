package jp.mamori.cli;

import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.preservation.BackupKeys;
import jp.mamori.preservation.Backups;
import jp.mamori.preservation.Manifest;
import jp.mamori.preservation.Restore;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code mamori backup now|list|verify|restore|recovery-sheet-done} (issue 16; ADR 0010). {@code now} needs the
 * database: the running server's, or one the command starts itself; the others read the backup folder only. With an
 * external database and a pgBackRest stanza, now, list, verify and drill drive pgBackRest; {@code restore
 * --to-db-url} moves a backup of the embedded database onto an external PostgreSQL.
 */
final class BackupCommands {
    static final String USAGE = """
              backup now       --data DIR [--backup-dir DIR]   take a base backup now (also while the server runs)
              backup list      --data DIR [--backup-dir DIR]   the finished backups, each manifest's signature checked
              backup verify    --data DIR [--backup-dir DIR] [--id ID]   every part against its signed manifest
              backup restore   --data DIR [--backup-dir DIR] --id ID --to NEW-DIR [--at 2026-12-07T09:30:00+09:00]
                               [--force]   into a new data folder, to a moment or to the newest shipped WAL
              backup restore   --from DIR/INSTALLATION --recovery-key MRK1-… --signer MSK1-… --id ID --to NEW-DIR
                               [--at TIME] [--force]   on a new machine, with the printed recovery sheet only
              backup restore   … --to NEW-DIR --to-db-url jdbc:postgresql://HOST:PORT/DB --to-db-user USER
                               [--to-db-password-file FILE] [--force]   move onto an external PostgreSQL (password:
                               MAMORI_DB_PASSWORD or the file; an empty target database unless --force)
              backup drill     --data DIR [--backup-dir DIR] [--from s3]   restore the newest backup (of the backup
                               folder, or downloaded from the Object Lock bucket) into a scratch folder, start a
                               server on it, check records, audit trail, counts and charts; record the result
              backup prune     --data DIR [--backup-dir DIR] [--backup-keep 7,5,12,5]   delete what no generation keeps
              backup offline   --data DIR --backup-offline-dir DIR [--verify]   copy what is new to the marked medium
              backup s3        --data DIR --backup-s3-bucket NAME [--backup-s3-endpoint URL] [--verify]   upload what
                               is new to the bucket, locked in COMPLIANCE mode; expire what is past its date
              backup recovery-sheet-done --data DIR   the recovery sheet was printed or escrowed: delete it here
              backup rotate-recovery-key --data DIR   a new recovery key and sheet (server stopped); keep the old
                               sheet until the backups taken before are gone
              backup destroy   --data DIR --confirm INSTALLATION-ID [--certificate FILE]   at the end of use (server
                               stopped): delete every backup (folder, offline medium, Object Lock copies past their
                               date), destroy the backup keys, write the destruction certificate (廃棄証明)
              with an external database (--db-url URL --db-user U, password in MAMORI_DB_PASSWORD) and
              --backup-pgbackrest-stanza NAME [--backup-pgbackrest-command "sudo -u postgres pgbackrest"]
              [--backup-pgbackrest-config FILE] [--backup-pgbackrest-drill-dir DIR]: now, list, verify and drill
              drive pgBackRest (restore is the DBA's pgbackrest restore; ADR 0010)
            """;
    private static final List<String> SERVE = List.of("--data", "--db-url", "--db-user", "--db-password",
            "--backup-dir", "--backup-offline-dir", "--backup-keep", "--backup-hour", "--backup-wal-seconds",
            "--backup-drill-days", "--backup-s3-endpoint", "--backup-s3-bucket", "--backup-s3-prefix",
            "--backup-s3-region", "--backup-s3-credentials", "--backup-s3-max-hours", "--backup-pgbackrest-stanza",
            "--backup-pgbackrest-command", "--backup-pgbackrest-config", "--backup-pgbackrest-drill-dir");
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss xxx");

    private BackupCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.isEmpty()) {
            err.println("mamori backup: say now, list, verify, restore, drill, prune, offline, recovery-sheet-done or"
                    + " rotate-recovery-key");
            err.print(USAGE);
            return 2;
        }
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        return switch (sub) {
            case "now" -> now(Args.parse(rest, SERVE, List.of()), out, env);
            case "list" -> list(Args.parse(rest, SERVE, List.of()), out, env);
            case "verify" -> verify(Args.parse(rest, with("--id"), List.of()), out, err, env);
            case "restore" -> restore(Args.parse(rest, with("--id", "--to", "--at", "--from", "--recovery-key",
                    "--signer", "--to-db-url", "--to-db-user", "--to-db-password-file"), List.of("--force")), out, env);
            case "prune" -> prune(Args.parse(rest, SERVE, List.of()), out, env);
            case "offline" -> offline(Args.parse(rest, SERVE, List.of("--verify")), out, env);
            case "s3" -> s3(Args.parse(rest, SERVE, List.of("--verify")), out, env);
            case "drill" -> drill(Args.parse(rest, with("--from"), List.of()), out, env);
            case "recovery-sheet-done" -> sheetDone(Args.parse(rest, List.of("--data"), List.of()), out, env);
            case "rotate-recovery-key" -> rotate(Args.parse(rest, SERVE, List.of()), out, env);
            case "destroy" -> destroy(Args.parse(rest, with("--confirm", "--certificate"), List.of()), out, env);
            default -> {
                err.println("mamori backup: unknown command '" + sub + "'");
                err.print(USAGE);
                yield 2;
            }
        };
    }

    private static List<String> with(String... more) {
        List<String> l = new ArrayList<>(SERVE);
        l.addAll(List.of(more));
        return l;
    }

    private static ServerConfig config(Args a, Map<String, String> env) {
        ServerConfig cfg = Main.serveConfig(a, SERVE, env);
        if (!cfg.database().embedded() && !cfg.pgbackrest().configured()) {
            throw new ConfigException("backups of an external database are taken by pgBackRest: give"
                    + " --backup-pgbackrest-stanza (ADR 0010) / 外部データベースは pgBackRest のスタンザを指定してください");
        }
        return cfg;
    }

    /** Mamori's own engine (embedded database) or pgBackRest (external database). */
    private static jp.mamori.preservation.BackupEngine engine(ServerConfig cfg, AuditRecorder audit) {
        if (cfg.database().embedded()) {
            return backups(cfg, audit);
        }
        if (!java.nio.file.Files.isDirectory(cfg.dataDir())) {
            throw new ConfigException("no data folder at " + cfg.dataDir() + " / データフォルダがありません");
        }
        return jp.mamori.preservation.PgBackRestBackups.open(cfg.dataDir(), cfg, audit, Clock.systemUTC());
    }

    /** The embedded engine only (prune, offline copies): pgBackRest keeps its own retention and copies. */
    private static ServerConfig embeddedOnly(Args a, Map<String, String> env, String what) {
        ServerConfig cfg = config(a, env);
        if (!cfg.database().embedded()) {
            throw new ConfigException(what + " is for the embedded database; with pgBackRest its own settings"
                    + " (repo1-retention-full, further repositories) do it / pgBackRest の設定で行います");
        }
        return cfg;
    }

    private static Backups backups(ServerConfig cfg, AuditRecorder audit) {
        if (!java.nio.file.Files.isDirectory(cfg.dataDir())) {
            throw new ConfigException("no data folder at " + cfg.dataDir() + " / データフォルダがありません");
        }
        return Backups.open(cfg.dataDir(), cfg.backup(), audit, Clock.systemUTC(), cfg.timeZone());
    }

    /** What a command does with the backups while the database is open and its trail records them. */
    @FunctionalInterface
    private interface Recorded<T> {
        T apply(jp.mamori.preservation.BackupEngine b) throws Exception;
    }

    /**
     * Runs {@code work} on the data folder's backups with the database open (the running server's, or one this
     * command starts) and the audit trail recording what it does.
     */
    private static <T> T recorded(Args a, Map<String, String> env, Recorded<T> work) throws Exception {
        ServerConfig cfg = config(a, env);
        try (Main.Opened o = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            return work.apply(engine(cfg, new AuditRecorder(trail)));
        }
    }

    /** The embedded database's engine, for what only it does (copies, keys); one line for an external database. */
    private static Backups embedded(jp.mamori.preservation.BackupEngine b) {
        if (b instanceof Backups backups) {
            return backups;
        }
        throw new ConfigException("this command is for the embedded database; an external database is backed up by"
                + " pgBackRest (ADR 0010) / このコマンドは組み込みデータベース用です");
    }

    private static int now(Args a, PrintStream out, Map<String, String> env) throws Exception {
        return recorded(a, env, b -> {
            Backups.Taken t = b.backupNow(jp.mamori.audit.Actor.server("backup now"));
            out.println(t.manifest() == null ? "backup " + t.id() + ": " + mb(t.sealedBytes()) + " in the repository, "
                    + t.took().toMillis() + " ms -> " + b.describe() : "backup " + t.id() + ": "
                    + t.manifest().parts().size() + " parts, " + mb(t.sealedBytes()) + " sealed, newest record version "
                    + t.manifest().newestVersion() + ", audit seq " + t.manifest().auditNextSeq() + ", "
                    + t.took().toMillis() + " ms -> " + b.describe());
            out.println("バックアップを取得しました / backup taken: " + t.id());
            return 0;
        });
    }

    private static int drill(Args a, PrintStream out, Map<String, String> env) throws Exception {
        String from = a.value("--from").orElse("folder");
        if (!from.equals("folder") && !from.equals("s3")) {
            throw new ConfigException("--from takes s3 (the Object Lock bucket) / --from には s3 を指定します");
        }
        Backups.DrillResult r = recorded(a, env, b -> from.equals("s3")
                ? embedded(b).drillFromS3(new jp.mamori.DrillChecks(), "backup drill")
                : b.drill(new jp.mamori.DrillChecks(), jp.mamori.audit.Actor.server("backup drill")));
        out.println("drill of backup " + r.backupId() + ": restore " + r.restore().toMillis() + " ms (RTO), whole drill "
                + r.total().toMillis() + " ms, data age " + r.dataAge().toSeconds() + " s (RPO)");
        for (String f : r.findings()) {
            out.println("  FINDING: " + f);
        }
        out.println(r.passed() ? "復元訓練は合格です / the drill passed" : "復元訓練は不合格です / the drill FAILED");
        return r.passed() ? 0 : 1;
    }

    private static int prune(Args a, PrintStream out, Map<String, String> env) throws Exception {
        embeddedOnly(a, env, "backup prune");
        Backups.Pruned p = recorded(a, env, b -> ((Backups) b).prune("backup prune"));
        out.println("pruned " + p.backups().size() + " backups " + p.backups() + " and " + p.walFiles()
                + " WAL files (" + mb(p.bytes()) + "); " + p.kept() + " backups kept / 世代管理を実行しました");
        return 0;
    }

    private static int offline(Args a, PrintStream out, Map<String, String> env) {
        ServerConfig cfg = embeddedOnly(a, env, "backup offline");
        if (cfg.backup().offlineDir().isEmpty()) {
            throw new ConfigException("--backup-offline-dir names the offline medium");
        }
        Backups b = backups(cfg, null);
        jp.mamori.preservation.OfflineCopy.Refresh r = b.refreshOffline("backup offline").orElseThrow();
        if (!r.present()) {
            out.println("offline medium not present: " + r.notPresent());
            return 1;
        }
        out.println(r.summary());
        r.problems().forEach(p -> out.println("  PROBLEM: " + p));
        if (a.flag("--verify")) {
            List<String> found = b.verifyOffline();
            found.forEach(p -> out.println("  VERIFY: " + p));
            return found.isEmpty() && r.problems().isEmpty() ? 0 : 1;
        }
        return r.problems().isEmpty() ? 0 : 1;
    }

    /** {@code backup s3}: upload what is new to the Object Lock bucket, expire what is past its date, verify. */
    private static int s3(Args a, PrintStream out, Map<String, String> env) throws Exception {
        ServerConfig cfg = config(a, env);
        if (cfg.backup().s3().isEmpty()) {
            throw new ConfigException("--backup-s3-bucket names the Object Lock bucket / バケットを指定してください");
        }
        return recorded(a, env, engine -> {
            Backups b = embedded(engine);
            b.objectLockCopy().orElseThrow().checkBucket().ifPresent(d -> out.println("  DEVIATION: " + d));
            jp.mamori.preservation.ObjectLockCopy.Refresh r = b.refreshS3("backup s3").orElseThrow();
            out.println(r.summary());
            r.problems().forEach(p -> out.println("  PROBLEM: " + p));
            List<jp.mamori.preservation.ObjectLockCopy.Expired> gone = b.expireS3("backup s3");
            gone.forEach(e -> out.println("  EXPIRED: " + e.key() + " (retained until " + e.retainedUntil() + ")"));
            boolean ok = r.problems().isEmpty();
            if (a.flag("--verify")) {
                List<String> found = b.verifyS3();
                found.forEach(p -> out.println("  VERIFY: " + p));
                ok &= found.isEmpty();
            }
            out.println(ok ? "オブジェクトロック複製を更新しました / the Object Lock copy is up to date"
                    : "オブジェクトロック複製に問題があります / the Object Lock copy has problems");
            return ok ? 0 : 1;
        });
    }

    private static int list(Args a, PrintStream out, Map<String, String> env) {
        ServerConfig cfg = config(a, env);
        jp.mamori.preservation.BackupEngine b = engine(cfg, null);
        List<Backups.Listed> all = b.list();
        out.println("backups in " + b.describe() + ": " + all.size());
        for (Backups.Listed l : all) {
            if (!cfg.database().embedded()) {
                out.println(l.ok() ? l.id() + "  " + SHOWN.format(l.createdAt().atZone(cfg.timeZone())) + "  "
                        + mb(l.sealedBytes()) + " in the repository  ok" : l.id() + "  REFUSED: " + l.problem());
                continue;
            }
            out.println(l.ok() ? String.format(Locale.ROOT, "%s  %s  %s  version %d  audit seq %d  ok", l.id(),
                    SHOWN.format(l.createdAt().atZone(cfg.timeZone())), mb(l.sealedBytes()), l.newestVersion(),
                    l.auditNextSeq()) : l.id() + "  REFUSED: " + l.problem());
        }
        return 0;
    }

    private static int verify(Args a, PrintStream out, PrintStream err, Map<String, String> env) {
        ServerConfig cfg = config(a, env);
        if (!cfg.database().embedded()) {
            if (a.value("--id").isPresent()) {
                throw new ConfigException("pgBackRest verifies its whole repository: leave out --id");
            }
            jp.mamori.preservation.BackupEngine.Verified v = engine(cfg, null).verifyAll("backup verify");
            v.lines().forEach(out::println);
            return v.ok() ? 0 : 1;
        }
        Backups b = backups(cfg, null);
        List<String> ids = a.value("--id").map(List::of).orElseGet(() -> b.list().stream().map(Backups.Listed::id)
                .toList());
        int bad = 0;
        for (String id : ids) {
            try {
                Manifest m = b.verify(id, "backup verify");
                out.println(id + ": ok, " + m.parts().size() + " parts match the signed manifest / 検証しました");
            } catch (jp.mamori.preservation.BackupException e) {
                bad++;
                out.println(id + ": REFUSED: " + e.getMessage());
            }
        }
        if (ids.isEmpty()) {
            err.println("mamori backup verify: no backup in " + b.destination() + " / バックアップがありません");
            return 1;
        }
        return bad == 0 ? 0 : 1;
    }

    private static int restore(Args a, PrintStream out, Map<String, String> env) throws Exception {
        String id = a.value("--id").orElseThrow(() -> new ConfigException("--id names the backup to restore"));
        Path to = Path.of(a.value("--to").orElseThrow(() -> new ConfigException("--to names the new data folder")))
                .toAbsolutePath().normalize();
        Optional<Instant> at = a.value("--at").map(BackupCommands::instant);
        if (a.value("--from").isEmpty()) {
            Path data = config(a, env).dataDir();
            if (to.startsWith(data) || data.startsWith(to)) {
                throw new ConfigException("--to must be a new folder, not the data folder " + data
                        + " / 復元先は新しいフォルダにしてください");
            }
        }
        Optional<jp.mamori.preservation.MoveToExternal.Target> target = a.value("--to-db-url").isEmpty()
                ? Optional.empty() : Optional.of(new jp.mamori.preservation.MoveToExternal.Target(
                a.value("--to-db-url").get(), a.value("--to-db-user").orElse(null), targetPassword(a, env)));
        // a wrong password or a non-empty target is found before anything is restored
        target.ifPresent(t -> jp.mamori.preservation.MoveToExternal.preflight(t, a.flag("--force")));
        // The new folder is this command's while it restores: no server may start on it meanwhile, and an interrupted
        // restore's database may be stopped (with --force).
        Optional<jp.mamori.MamoriServer.DataFolderLock> lock = jp.mamori.MamoriServer.DataFolderLock.tryAcquire(to);
        if (lock.isEmpty()) {
            throw new ConfigException("another Mamori process is using " + to + " / このフォルダは使用中です");
        }
        Manifest m;
        jp.mamori.preservation.MoveToExternal.Moved moved;
        try (jp.mamori.MamoriServer.DataFolderLock held = lock.get()) {
            m = restore(a, id, to, at, out, env);
            if (target.isEmpty()) {
                return 0;
            }
            moved = jp.mamori.preservation.MoveToExternal.copy(to, target.get(), a.flag("--force"));
        }
        out.println("moved onto " + target.get().jdbcUrl() + ": " + moved.totalRows() + " rows in " + moved.rows()
                .size() + " tables (counts equal), " + moved.sequences() + " sequences, " + moved.took().toMillis()
                + " ms");
        // Verified as a drill verifies: a server on the new folder and the target checks records, trail, charts.
        Map<String, String> serverEnv = new java.util.HashMap<>(env);
        serverEnv.put("MAMORI_DB_PASSWORD", target.get().password());
        ServerConfig check = ServerConfig.fromArgs(List.of("--data", to.toString(), "--port", "0", "--bind",
                "127.0.0.1", "--http", "--no-backup", "--db-url", target.get().jdbcUrl(), "--db-user",
                target.get().user()), serverEnv);
        List<String> findings = jp.mamori.DrillChecks.check(check, m);
        findings.forEach(f -> out.println("  FINDING: " + f));
        if (!findings.isEmpty()) {
            out.println("移行後の検証が不合格です / the moved database FAILED its checks");
            return 1;
        }
        out.println("移行しました (記録・監査証跡を検証済み) / moved and verified (records, audit trail, charts)");
        out.println("起動するには / to start it: MAMORI_DB_PASSWORD=… ./mamori serve --data " + to + " --db-url "
                + target.get().jdbcUrl() + " --db-user " + target.get().user());
        return 0;
    }

    /** The target's password: from a file (first line) or MAMORI_DB_PASSWORD, never from the command line. */
    private static String targetPassword(Args a, Map<String, String> env) {
        if (a.value("--to-db-password-file").isPresent()) {
            Path f = Path.of(a.value("--to-db-password-file").get());
            try {
                if (java.nio.file.Files.size(f) > 4096) {
                    throw new ConfigException("--to-db-password-file " + f + " is larger than 4 KiB / パスワードファイルが大きすぎます");
                }
                return java.nio.file.Files.readAllLines(f).stream().findFirst().orElse("").strip();
            } catch (java.io.IOException e) {
                throw new ConfigException("cannot read --to-db-password-file " + f + ": " + e.getMessage()
                        + " / パスワードファイルを読めません");
            }
        }
        return env.get("MAMORI_DB_PASSWORD");
    }

    private static Manifest restore(Args a, String id, Path to, Optional<Instant> at, PrintStream out,
                                    Map<String, String> env) {
        Restore.Result r;
        Manifest m;
        if (a.value("--from").isPresent()) {
            String key = a.value("--recovery-key").orElseThrow(() -> new ConfigException(
                    "--from needs --recovery-key (from the printed recovery sheet)"));
            String signer = a.value("--signer").orElseThrow(() -> new ConfigException(
                    "--from needs --signer (the signing key's fingerprint from the recovery sheet)"));
            r = Backups.restoreWithRecoveryKey(Path.of(a.value("--from").get()), id, to, at, a.flag("--force"),
                    BackupKeys.parseRecoveryKey(key), signer);
            m = Backups.manifest(Path.of(a.value("--from").get()), id, signer);
        } else {
            Backups b = backups(config(a, env), null);
            r = b.restore(id, to, at, a.flag("--force"), "backup restore");
            m = b.manifest(id);
        }
        out.println("restored backup " + r.backupId() + " into " + r.dataDir() + ": recovered to "
                + r.lastTransaction().map(Instant::toString).orElse("the backup itself") + " (timeline " + r.timeline()
                + "), " + r.took().toMillis() + " ms");
        if (a.value("--to-db-url").isEmpty()) {
            out.println("復元しました。起動するには / to start it: ./mamori serve --data " + r.dataDir());
        }
        return m;
    }

    private static int sheetDone(Args a, PrintStream out, Map<String, String> env) {
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", a.value("--data").orElse("mamori-data")), env);
        BackupKeys keys = BackupKeys.loadOrCreate(cfg.dataDir());
        if (!keys.recoverySheetPending()) {
            out.println("the recovery sheet was already taken offline / 復旧鍵の用紙は処理済みです");
            return 0;
        }
        keys.confirmRecoverySheetTakenOffline();
        out.println("the recovery sheet was deleted from this server; keep the printed copy safe"
                + " / 復旧鍵の用紙をサーバーから削除しました。印刷したものを安全に保管してください");
        return 0;
    }

    /** One line unless the server is stopped: a running one keeps sealing backups with the keys it loaded. */
    private static void requireStopped(ServerConfig cfg) throws java.io.IOException {
        Optional<jp.mamori.MamoriServer.DataFolderLock> free =
                jp.mamori.MamoriServer.DataFolderLock.tryAcquire(cfg.dataDir());
        if (free.isEmpty()) {
            throw new ConfigException("サーバーを止めてから実行してください（動作中のサーバーは読み込んだ鍵で封をし続けます） / stop"
                    + " the server first: a running server keeps sealing backups for the key it loaded");
        }
        free.get().close();
    }

    private static int destroy(Args a, PrintStream out, Map<String, String> env) throws Exception {
        ServerConfig cfg = config(a, env);
        String confirm = a.value("--confirm").orElseThrow(() -> new ConfigException("--confirm takes this"
                + " installation's id (the folder under the backup folder; also on the recovery sheet) / --confirm"
                + " にインストールIDを指定してください"));
        requireStopped(cfg);
        java.nio.file.Path cert = a.value("--certificate").map(java.nio.file.Path::of)
                .orElse(cfg.dataDir().resolve("backup-destruction-certificate.txt"));
        Backups.Destroyed d = recorded(a, env, b -> embedded(b).destroyAll(confirm, cert, "backup destroy"));
        out.println("destroyed " + d.backups().size() + " backups (" + d.files() + " files, " + mb(d.bytes()) + ")");
        out.println("  " + d.offline());
        out.println("  " + d.objectLock());
        out.println("バックアップ鍵を破棄しました。復旧鍵の用紙 " + String.join(", ", d.recoveryKeyIds()) + " をシュレッダーで破棄して"
                + "ください / the backup keys were destroyed; shred the recovery sheet(s) " + String.join(", ",
                d.recoveryKeyIds()));
        out.println("廃棄証明書 / destruction certificate: " + d.certificate());
        return 0;
    }

    private static int rotate(Args a, PrintStream out, Map<String, String> env) throws Exception {
        ServerConfig cfg = config(a, env);
        requireStopped(cfg);
        BackupKeys.Rotation r = recorded(a, env,
                b -> embedded(b).rotateRecoveryKey("backup rotate-recovery-key"));
        out.println("new recovery key " + r.keyId() + " (replaces " + r.previousKeyId() + "): its sheet is "
                + BackupKeys.recoverySheet(cfg.dataDir()));
        out.println("新しい復旧鍵の用紙を印刷・保管し、backup recovery-sheet-done を実行してください。以前の用紙は " + r.at()
                + " より前のバックアップがなくなるまで保管してください / print or escrow the new sheet, then run backup"
                + " recovery-sheet-done; keep the previous sheet until the backups taken before " + r.at() + " are gone");
        return 0;
    }

    private static Instant instant(String s) {
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new ConfigException("--at takes a time with its offset, e.g. 2026-12-07T09:30:00+09:00"
                    + " / 時刻はオフセット付きで指定してください");
        }
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
