package jp.mamori.cli;

import jp.mamori.MamoriServer;
import jp.mamori.access.AccessPolicy;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.identity.Emergencies;
import jp.mamori.identity.SystemClients;
import jp.mamori.records.RecordService;

import com.nimbusds.jose.jwk.JWKSet;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code mamori} command. Every failure is one clear line on stderr and a non-zero exit:
 * 2 for a usage or configuration error, 1 for anything else.
 */
public final class Main {
    private static final String USAGE = """
            usage: mamori COMMAND [options]
              serve            start the server (--data DIR, --port N, --bind ADDR, --db-url URL,
                               --db-user U, --db-password P or MAMORI_DB_PASSWORD, --keystore P12, --max-body 128M,
                               --validation structure|full, --access-token-lifetime SECONDS (300),
                               --public-url https://HOST:PORT, --session-idle-minutes 15, --session-max-hours 12,
                               --unused-days 90, --unused-action suspend|report, --min-password-length 12,
                               --enrolment-code-hours 72, --break-glass-hours 2, --break-glass-review-hours 72,
                               --proxy-escalate-hours 24 (unapproved proxy entries escalate),
                               --notify-syslog-tls HOST:PORT | --notify-syslog 127.0.0.1:PORT,
                               --audit-checkpoint-seconds 10, --audit-anchor-dir DIR (WORM; data/audit-anchor),
                               --audit-tsa-url URL (RFC 3161), --header-timeout SECONDS (20),
                               --min-body-rate BYTES_PER_SECOND (1024), --max-connections-per-address N (100),
                               --http for plain HTTP on loopback only); a primary and its standbys:
                               --db-url 'jdbc:postgresql://H1:5432,H2:5432/DB?targetServerType=primary',
                               --degraded-check-seconds 1 (how often a writable primary is looked for; degraded
                               read-only mode when only a read-only copy answers),
                               --read-only: the standalone viewer (縮退運用・参照専用) on a COPY of a data folder
                               (copied or restored): the database refuses writes, nothing is migrated or written
                               at start, every page shows the read-only banner; clinicians sign in and read charts
                               --compliance-dir DIR: checklist files (docs/compliance-frameworks.md) read at
                               start beside the seeds, e.g. the official checklist of a new fiscal year
              client create    --data DIR --name NAME --scopes 'system/Patient.read system/Observation.rs'
                               --owner TEXT --purpose TEXT [--expires-days N (365, at most 1095)]
                               [--cert CLIENT.pem | --jwks PUBLIC-JWKS.json] (without either: a static token)
              client list      --data DIR
              client revoke    --data DIR --id CLIENT_ID --reason TEXT
              emergency declare --data DIR --by NAME --reason TEXT [--hours N (4, at most 24)]
                               lets sealed emergency accounts log in (also when the console cannot be used)
              emergency end    --data DIR --by NAME
              emergency status --data DIR
              verify-records   --data DIR   recompute every version's hashes; check heads, index and the signed trail
              audit-export     --data DIR --out DIR [--from SEQ]   the audit trail in the ledger export format
              audit-proof      --data DIR --seq N [--size M] | --from-size M --to-size N   [--out FILE]
                               inclusion proof of one entry, or consistency proof between two checkpoints
              audit-verify     --data DIR   export and verify the audit trail with the checkpoint key
            """ + NodeCommands.USAGE + BackupCommands.USAGE + RetentionCommands.USAGE + SignatureCommands.USAGE
            + AdvisoryCommands.USAGE + RegisterCommands.USAGE + DirectoryCommand.USAGE + Ssmix2Command.USAGE
            + HandoverCommand.USAGE
            + """
              demo-data        --data DIR [--patients N (20)] [--seed S] [--observations-per-patient N]
                               [--notes-per-patient N]   create synthetic patients, tagged as synthetic
              bench            --base URL --token T --scenario create|read|search|transaction|mixed
                               --concurrency N --seconds S [--insecure]
              bench identity   --data NEW-DIR [--concurrency N] [--seconds S] [--warmup S] [--accounts N]
                               login rate and session-check cost, on a server it starts itself
              version
              COMMAND ... --work-order 2026-0003   run a command for vendor maintenance (保守作業): only inside
                               that work order's approved window; exports (audit-export, registers export) only
                               when it approved taking data out; recorded with the work order
            """;

    private Main() {
    }

    public static void main(String[] argv) {
        int code = run(Arrays.asList(argv), System.out, System.err, System.getenv());
        if (code != 0 || !(argv.length > 0 && argv[0].equals("serve"))) {
            System.exit(code);
        }
    }

    public static int run(List<String> argv, PrintStream out, PrintStream err, Map<String, String> env) {
        if (argv.isEmpty()) {
            err.print(USAGE);
            return 2;
        }
        String cmd = argv.get(0);
        List<String> rest = argv.subList(1, argv.size());
        if (cmd.equals("help") && !rest.isEmpty()) {
            return help(rest.get(0), rest.size() > 1 ? rest.get(1) : null, out, err);
        }
        if (!cmd.equals("bench") && (rest.contains("--help") || rest.contains("-h"))) {
            return help(cmd, rest.isEmpty() || rest.get(0).startsWith("-") ? null : rest.get(0), out, err);
        }
        try {
            // a command run for vendor maintenance names its work order, which must allow it now (issue 19)
            Optional<MaintenanceCommand.Split> maintenance = MaintenanceCommand.split(rest);
            if (maintenance.isPresent()) {
                rest = maintenance.get().rest();
                String what = cmd + (rest.isEmpty() || rest.get(0).startsWith("-") ? "" : " " + rest.get(0));
                String number = MaintenanceCommand.admit(what, rest, maintenance.get().workOrder(), operator(), env);
                try (jp.mamori.audit.AuditContext.Scope ignored = jp.mamori.audit.AuditContext.open(number)) {
                    return dispatch(cmd, rest, out, err, env);
                }
            }
            return dispatch(cmd, rest, out, err, env);
        } catch (ConfigException | IllegalArgumentException e) {
            err.println("mamori " + cmd + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("mamori " + cmd + ": failed: " + oneLine(e));
            return 1;
        }
    }

    private static int dispatch(String cmd, List<String> rest, PrintStream out, PrintStream err,
                                Map<String, String> env) throws Exception {
        {
            return switch (cmd) {
                case "serve" -> serve(rest, out, env);
                case "client" -> client(rest, out, err, env);
                case "verify-records" -> verify(rest, out, env);
                case "audit-export" -> AuditCommands.export(rest, out, env);
                case "audit-proof" -> AuditCommands.proof(rest, out, env);
                case "audit-verify" -> AuditCommands.verify(rest, out, env);
                case "node" -> NodeCommands.run(rest, out, err, env);
                case "backup" -> BackupCommands.run(rest, out, err, env);
                case "retention" -> RetentionCommands.run(rest, out, err, env);
                case "signing-key" -> SignatureCommands.signingKey(rest, out, err, env);
                case "verify-signatures" -> SignatureCommands.verify(rest, out, err, env);
                case "advisories" -> AdvisoryCommands.run(rest, out, err, env);
                case "registers" -> RegisterCommands.run(rest, out, err, env);
                case "directory" -> DirectoryCommand.run(rest, out, err, env);
                case "ssmix2" -> Ssmix2Command.run(rest, out, err, env);
                case "handover" -> HandoverCommand.run(rest, out, err, env);
                case "sbom" -> AdvisoryCommands.sbom(rest, out, err);
                case "demo-data" -> demoData(rest, out, env);
                case "emergency" -> emergency(rest, out, err, env);
                case "bench" -> jp.mamori.bench.Bench.run(rest, out, err);
                case "version", "--version" -> {
                    out.println("mamori " + MamoriServer.VERSION);
                    yield 0;
                }
                case "help", "--help", "-h" -> {
                    out.print(USAGE);
                    yield 0;
                }
                default -> {
                    err.println("mamori: unknown command '" + cmd + "'");
                    err.print(USAGE);
                    yield 2;
                }
            };
        }
    }

    /**
     * {@code mamori CMD [SUB] --help} (and {@code mamori help CMD [SUB]}): the usage lines of that command, or of
     * that subcommand when it has its own, on stdout with exit 0; an unknown command is a usage error.
     */
    static int help(String cmd, String sub, PrintStream out, PrintStream err) {
        String text = sub == null ? null : usageOf(cmd + " " + sub);
        if (text == null) {
            text = usageOf(cmd);
        }
        if (text == null) {
            err.println("mamori: unknown command '" + cmd + "' / 不明なコマンドです");
            err.print(USAGE);
            return 2;
        }
        out.print("usage: mamori COMMAND [options] / 使い方\n" + text);
        return 0;
    }

    /**
     * The blocks of {@link #USAGE} whose first line names {@code command} (a command line starts with two
     * spaces, its continuation lines with more), or null when none does.
     */
    static String usageOf(String command) {
        StringBuilder sb = new StringBuilder();
        boolean in = false;
        for (String line : USAGE.split("\n")) {
            boolean head = line.startsWith("  ") && line.length() > 2 && line.charAt(2) != ' ';
            if (head) {
                String rest = line.substring(2);
                in = rest.equals(command) || rest.startsWith(command + " ");
            }
            if (in) {
                sb.append(line).append('\n');
            }
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static String oneLine(Throwable e) {
        Throwable t = e;
        String msg = e.getMessage();
        while ((msg == null || msg.isBlank()) && t.getCause() != null) {
            t = t.getCause();
            msg = t.getMessage();
        }
        if (msg == null) {
            msg = t.getClass().getSimpleName();
        }
        return msg.replace('\n', ' ');
    }

    private static int serve(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        ServerConfig cfg = ServerConfig.fromArgs(args, env);
        MamoriServer server = MamoriServer.start(cfg, env);
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable stop = () -> {
            if (stopping.compareAndSet(false, true)) {
                out.println("Mamori stopping / 停止します");
                server.close();
                stopped.countDown();
            }
        };
        // SIGTERM and SIGINT stop the server before the JVM's shutdown hooks run: the embedded PostgreSQL
        // library stops the database in a hook of its own, which raced ours, so the stop entry and the final
        // checkpoint were sometimes refused by a database already going down (AUDIT-1: the stop is an entry).
        // The hook stays for other ways out (System.exit); by then the server is closed and it does nothing.
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                    stop.run();
                    System.exit(0);
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                System.err.println("mamori: cannot handle SIG" + name + " here (" + e.getMessage()
                        + "); stopping by the shutdown hook alone");
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "mamori-shutdown"));
        server.printStartup(out);
        server.join();
        stopped.await();
        return 0;
    }

    /** The server configuration a tool works with: {@code keys} of its own options, read as {@code serve} reads them. */
    static ServerConfig serveConfig(Args a, List<String> keys, Map<String, String> env) {
        List<String> serveArgs = new ArrayList<>();
        for (String k : keys) {
            a.value(k).ifPresent(v -> {
                serveArgs.add(k);
                serveArgs.add(v);
            });
        }
        return ServerConfig.fromArgs(serveArgs, env);
    }

    /** Opens the database of a data folder, whether or not a server is running on it. */
    static final class Opened implements AutoCloseable {
        final Database db;
        /** The data folder, where the audit signing key is. */
        final java.nio.file.Path dataDir;
        private final MamoriServer.DataFolderLock lock;

        Opened(Database db, java.nio.file.Path dataDir, MamoriServer.DataFolderLock lock) {
            this.db = db;
            this.dataDir = dataDir;
            this.lock = lock;
        }

        static Opened open(Args a, Map<String, String> env) throws Exception {
            ServerConfig cfg = serveConfig(a, List.of("--data", "--db-url", "--db-user", "--db-password"), env);
            if (!cfg.database().embedded()) {
                return new Opened(Database.open(cfg.database(), cfg.dataDir(), 2), cfg.dataDir(), null);
            }
            if (!java.nio.file.Files.isDirectory(cfg.dataDir())) {
                throw new ConfigException("no data folder at " + cfg.dataDir() + "; start the server once with"
                        + " ./mamori serve --data " + cfg.dataDir());
            }
            MamoriServer.refuseUnfinishedRestore(cfg.dataDir());
            Optional<MamoriServer.DataFolderLock> lock = MamoriServer.DataFolderLock.tryAcquire(cfg.dataDir());
            if (lock.isEmpty()) {
                Database running = Database.attachRunning(cfg.dataDir(), 2).orElseThrow(() -> new ConfigException(
                        "a server holds " + cfg.dataDir() + " but its database cannot be reached"));
                return new Opened(running, cfg.dataDir(), null);
            }
            try {
                return new Opened(Database.open(cfg.database(), cfg.dataDir(), 2), cfg.dataDir(), lock.get());
            } catch (Exception | Error e) {
                lock.get().close();
                throw e;
            }
        }

        @Override
        public void close() {
            db.close();
            if (lock != null) {
                lock.close();
            }
        }
    }

    private static int client(List<String> args, PrintStream out, PrintStream err, Map<String, String> env)
            throws Exception {
        if (args.isEmpty()) {
            err.println("mamori client: say create, list or revoke");
            return 2;
        }
        String sub = args.get(0);
        List<String> common = List.of("--data", "--db-url", "--db-user", "--db-password");
        switch (sub) {
            case "create" -> {
                Args a = Args.parse(args.subList(1, args.size()), concat(common, "--name", "--scopes", "--owner",
                        "--purpose", "--expires-days", "--cert", "--jwks"), List.of());
                String name = a.required("--name");
                String scopes = a.required("--scopes");
                jp.mamori.identity.Scope.parseList(scopes); // refuse bad scopes before touching the database
                if (a.value("--owner").isEmpty() || a.value("--purpose").isEmpty()) {
                    throw new ConfigException("--owner と --purpose は必須です / --owner and --purpose are required:"
                            + " who answers for this client, and what it is for");
                }
                if (a.value("--cert").isPresent() && a.value("--jwks").isPresent()) {
                    throw new ConfigException("--cert と --jwks はどちらか一方です / give either --cert or --jwks,"
                            + " not both");
                }
                int days = a.intValue("--expires-days").orElse(SystemClients.DEFAULT_EXPIRY_DAYS);
                X509Certificate cert = a.value("--cert").map(Main::certificate).orElse(null);
                JWKSet jwks = a.value("--jwks").map(Main::jwks).orElse(null);
                SystemClients.NewClient spec = new SystemClients.NewClient(name, scopes, a.required("--owner"),
                        a.required("--purpose"), days, cert, jwks);
                try (Opened o = Opened.open(a, env)) {
                    SystemClients.Created c = new SystemClients(o.db.dataSource()).create(spec, operator());
                    SystemClients.Client cl = c.client();
                    out.println("Created system client " + cl.clientId() + " \"" + cl.name()
                            + "\" with scopes: " + cl.scopes());
                    out.println("owner: " + cl.owner() + ", purpose: " + cl.purpose() + ", expires: "
                            + cl.expiresAt());
                    switch (cl.method()) {
                        case BEARER -> {
                            out.println("The token below is shown only once; store it safely."
                                    + " / トークンはこの一度だけ表示されます。安全に保管してください。");
                            out.println(c.token());
                        }
                        case MTLS -> {
                            out.println("Authenticates with its TLS client certificate, SHA-256 "
                                    + HexFormat.ofDelimiter(":").withUpperCase().formatHex(
                                    SystemClients.certificatePin(cert))
                                    + " / クライアント証明書で認証します. client_id:");
                            out.println(cl.clientId());
                        }
                        case PRIVATE_KEY_JWT -> {
                            out.println("Authenticates with signed JWT assertions (private_key_jwt, iss = sub ="
                                    + " client_id, aud = https://HOST:PORT/oauth/token) / 署名付きJWTで認証します."
                                    + " client_id:");
                            out.println(cl.clientId());
                        }
                    }
                }
                return 0;
            }
            case "list" -> {
                Args a = Args.parse(args.subList(1, args.size()), common, List.of());
                try (Opened o = Opened.open(a, env)) {
                    out.println("client_id\tstatus\tmethod\tname\towner\tpurpose\tscopes\texpires_at\tcreated_at"
                            + "\tcreated_by");
                    Instant now = Instant.now();
                    for (SystemClients.Client c : new SystemClients(o.db.dataSource()).list()) {
                        String status = !c.active() ? "revoked " + c.revokedAt()
                                : c.expired(now) ? "EXPIRED" : "active";
                        String method = c.method() == SystemClients.Method.BEARER
                                ? "bearer (static token: weaker, prefer mtls or private_key_jwt)" : c.method().dbName;
                        out.println(c.clientId() + "\t" + status + "\t" + method + "\t" + c.name() + "\t"
                                + orDash(c.owner()) + "\t" + orDash(c.purpose()) + "\t" + c.scopes() + "\t"
                                + c.expiresAt() + "\t" + c.createdAt() + "\t" + c.createdBy());
                    }
                }
                return 0;
            }
            case "revoke" -> {
                Args a = Args.parse(args.subList(1, args.size()), concat(common, "--id", "--reason"), List.of());
                String id = a.required("--id");
                String reason = a.required("--reason");
                try (Opened o = Opened.open(a, env)) {
                    if (!new SystemClients(o.db.dataSource()).revoke(id, reason, operator())) {
                        err.println("mamori client revoke: no active client with id " + id);
                        return 1;
                    }
                    out.println("Revoked system client " + id + " (takes effect within "
                            + SystemClients.CACHE_TTL.toSeconds() + " s on a running server)");
                }
                return 0;
            }
            default -> {
                err.println("mamori client: unknown subcommand '" + sub + "'; say create, list or revoke");
                return 2;
            }
        }
    }

    /**
     * Declares or ends an emergency from the server's own machine: the path that still works when people
     * cannot log in to the console (DEGRADED-2). The declarer is named and recorded with the OS user.
     */
    private static int emergency(List<String> args, PrintStream out, PrintStream err, Map<String, String> env)
            throws Exception {
        if (args.isEmpty()) {
            err.println("mamori emergency: say declare, end or status");
            return 2;
        }
        List<String> common = List.of("--data", "--db-url", "--db-user", "--db-password");
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "declare" -> {
                Args a = Args.parse(rest, concat(common, "--by", "--reason", "--hours"), List.of());
                String by = a.required("--by");
                String reason = a.required("--reason");
                int hours = a.intValue("--hours").orElse(4);
                try (Opened o = Opened.open(a, env)) {
                    Emergencies e = emergencies(o);
                    if (e.current().isPresent()) {
                        err.println("mamori emergency declare: an emergency is already declared until "
                                + e.current().get().expiresAt() + " / 既に非常時が宣言されています");
                        return 1;
                    }
                    Emergencies.Declaration d = e.declare(by + " (" + operator() + ")", reason, Duration.ofHours(hours));
                    out.println("Emergency declared until " + d.expiresAt() + ": emergency accounts can log in;"
                            + " every use is recorded for review / 非常時を宣言しました。非常時用アカウントが使用できます");
                }
                return 0;
            }
            case "end" -> {
                Args a = Args.parse(rest, concat(common, "--by"), List.of());
                String by = a.required("--by");
                try (Opened o = Opened.open(a, env)) {
                    int n = emergencies(o).end(by + " (" + operator() + ")");
                    out.println(n == 0 ? "No emergency was declared / 宣言中の非常時はありません"
                            : "Emergency ended; emergency sessions ended / 非常時を終了しました");
                }
                return 0;
            }
            case "status" -> {
                Args a = Args.parse(rest, common, List.of());
                try (Opened o = Opened.open(a, env)) {
                    Emergencies e = emergencies(o);
                    Optional<Emergencies.Declaration> d = e.current();
                    out.println(d.map(x -> "declared by " + x.declaredBy() + " at " + x.declaredAt() + " until "
                            + x.expiresAt() + ": " + x.reason()).orElse("no emergency declared / 非常時の宣言はありません"));
                    out.println("uses awaiting review / 未確認の利用: " + e.uses(true).size());
                }
                return 0;
            }
            default -> {
                err.println("mamori emergency: unknown subcommand '" + sub + "'; say declare, end or status");
                return 2;
            }
        }
    }

    private static Emergencies emergencies(Opened o) {
        java.time.Clock clock = java.time.Clock.systemUTC();
        return new Emergencies(o.db.dataSource(), clock, new jp.mamori.identity.Accounts(o.db.dataSource(), clock),
                new jp.mamori.identity.PasswordHasher(jp.mamori.identity.PasswordHasher.DEFAULT, 1));
    }

    private static int verify(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        Args a = Args.parse(args, AuditCommands.COMMON, List.of());
        try (Opened o = Opened.open(a, env)) {
            RecordService rs = new RecordService(o.db.dataSource(), new AccessPolicy(), null, 1, 1);
            int[] bad = {0};
            long n = rs.verifyAll(m -> {
                bad[0]++;
                // Hash problems carry (stored, recomputed); sequence and head problems carry (expected, found).
                boolean hash = m.problem().contains("hash");
                out.println("MISMATCH " + m.type() + "/" + m.id() + " version " + m.version() + ": " + m.problem()
                        + (hash ? " (stored " + m.expected() + ", computed " + m.actual() + ")"
                                : " (expected " + m.expected() + ", found " + m.actual() + ")"));
            });
            // apps, grants and partner shares: their decisive columns against the seals made with identity's key file
            jp.mamori.identity.SecretSealer keys = jp.mamori.identity.SecretSealer.open(o.dataDir.resolve("secrets")
                    .resolve("identity-keys"));
            jp.mamori.smart.Smart.SealCheck apps = jp.mamori.smart.Smart.verifySeals(o.db.dataSource(), keys);
            jp.mamori.access.PartnerShares.SealCheck shares = jp.mamori.access.PartnerShares.verifySeals(
                    o.db.dataSource(), keys);
            for (String f : apps.findings()) {
                bad[0]++;
                out.println("MISMATCH " + f);
            }
            for (String f : shares.findings()) {
                bad[0]++;
                out.println("MISMATCH " + f);
            }
            out.println("verify-records: " + (apps.checked() + shares.checked()) + " apps, grants and partner shares held"
                    + " against their seals / 連携アプリ・同意・連携先共有を封印と照合しました");
            jp.mamori.audit.RecordTrail.Result t = AuditCommands.checkRecordsAgainstTrail(o,
                    serveConfig(a, AuditCommands.COMMON, env), out);
            try (jp.mamori.audit.AuditTrail trail = jp.mamori.audit.Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
                new jp.mamori.audit.AuditRecorder(trail).system("verify-records",
                        jp.mamori.audit.AuditAction.VERIFY_RECORDS, jp.mamori.audit.Outcome.of(bad[0] == 0
                                && t.findings() == 0),
                        Map.of("versions", Long.toString(n), "mismatches", Integer.toString(bad[0]),
                                "trailMismatches", Long.toString(t.findings()),
                                "checkpoint", Long.toString(t.checkpointSize())));
            }
            String trailSummary = t.versions() + " versions held against the audit trail (" + t.trailVersions()
                    + " named in " + t.entries() + " entries, checked up to the signed checkpoint of "
                    + t.checkpointSize() + " entries; " + t.unsigned() + " entries not yet signed)"
                    + " / 全版を監査証跡と照合しました";
            if (bad[0] == 0 && t.findings() == 0) {
                out.println("verify-records: " + n + " versions checked, all hashes match, and every head and its search"
                        + " index rows match the newest version / 全版のハッシュ、現在版と検索索引が一致しました");
                out.println("verify-records: " + trailSummary);
                return 0;
            }
            out.println("verify-records: " + trailSummary);
            out.println("verify-records: " + n + " versions checked, " + (bad[0] + t.findings()) + " mismatches"
                    + " / 不一致があります");
            return 1;
        }
    }

    /** Synthetic patients written through the record service, for trying the console (issue 6). */
    private static int demoData(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        Args a = Args.parse(args, List.of("--data", "--db-url", "--db-user", "--db-password", "--patients", "--seed",
                "--observations-per-patient", "--notes-per-patient"), List.of());
        int patients = bounded(a, "--patients", 20, 1, 1_000_000);
        int observations = bounded(a, "--observations-per-patient", 0, 0, 100_000);
        int notes = bounded(a, "--notes-per-patient", 0, 0, 10_000);
        long seed;
        try {
            seed = a.value("--seed").map(Long::parseLong).orElse(1L);
        } catch (NumberFormatException e) {
            throw new ConfigException("--seed は整数で指定してください / --seed must be a whole number");
        }
        try (Opened o = Opened.open(a, env);
             jp.mamori.audit.AuditTrail trail = jp.mamori.audit.Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            jp.mamori.demo.DemoData.Summary s = new jp.mamori.demo.DemoData(o.db.dataSource(),
                    new jp.mamori.audit.AuditRecorder(trail)).create(patients, seed,
                    new jp.mamori.demo.DemoGenerator.Options(observations, notes),
                    java.time.LocalDate.now(java.time.ZoneId.of("Asia/Tokyo")));
            out.println("demo-data: " + s.patients() + " synthetic patients, " + s.resources() + " resources ("
                    + s.amended() + " notes amended) in " + String.format(java.util.Locale.ROOT, "%.1f",
                    s.millis() / 1000.0) + " s, seed " + seed + " / 合成患者を" + s.patients() + "人作成しました");
            out.println("試せる患者 / patients to try (患者ID, 氏名, カナ, 生年月日, 診療科, 本日):");
            for (jp.mamori.demo.DemoData.Sample p : s.samples()) {
                jp.mamori.demo.DemoGenerator.Profile f = p.profile();
                out.println("  " + p.patientId() + "  " + f.name() + "  " + f.kana() + "  " + f.birthDate() + "  "
                        + f.department() + (f.today() == null ? "" : "  " + f.today()));
            }
            StringBuilder today = new StringBuilder();
            s.todayByDepartment().forEach((d, n) -> today.append(today.isEmpty() ? "" : ", ").append(d).append(' ')
                    .append(n).append('人'));
            out.println("本日の外来・入院 / in hospital today: " + (today.isEmpty() ? "なし / none" : today));
            out.println("診療科に医師・看護師の役割を持つ人は、その科の本日の患者をホーム画面の一覧から開けます"
                    + " / people with a clinical role in a department find its patients of today on their home page");
        }
        return 0;
    }

    private static int bounded(Args a, String name, int otherwise, int min, int max) {
        Optional<String> v = a.value(name);
        if (v.isEmpty()) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(v.get());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(name + " は " + min + "〜" + max + " の整数で指定してください / " + name
                + " must be a whole number from " + min + " to " + max);
    }

    private static String orDash(String s) {
        return s == null ? "-" : s.replace('\t', ' ').replace('\n', ' ');
    }

    /** The one X.509 certificate (PEM or DER) in {@code file}. */
    private static X509Certificate certificate(String file) {
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            var all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (all.size() != 1) {
                throw new ConfigException("--cert " + file + " には証明書を1つだけ入れてください / must hold exactly"
                        + " one certificate, found " + all.size());
            }
            return (X509Certificate) all.iterator().next();
        } catch (IOException | CertificateException e) {
            throw new ConfigException("--cert " + file + " を読めません / cannot read the certificate: "
                    + oneLine(e));
        }
    }

    /** The public JWK set in {@code file}, checked for registration. */
    private static JWKSet jwks(String file) {
        try {
            return SystemClients.parseJwks(Files.readString(Path.of(file)));
        } catch (IOException e) {
            throw new ConfigException("--jwks " + file + " を読めません / cannot read the JWK set: " + oneLine(e));
        }
    }

    private static String operator() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    /**
     * The actor a command-line tool's changes are recorded under: {@code system:WHAT}, named with the command and the
     * operating-system user who ran it.
     */
    static jp.mamori.audit.Actor tool(String what, String command) {
        return new jp.mamori.audit.Actor("system:" + what, jp.mamori.audit.ActorKind.SYSTEM, "mamori " + command
                + "（OS ユーザー " + System.getProperty("user.name", "unknown") + "）", List.of(), null, "local", null);
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

}
