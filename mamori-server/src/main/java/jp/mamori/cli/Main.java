package jp.mamori.cli;

import jp.mamori.MamoriServer;
import jp.mamori.access.AccessPolicy;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.identity.SystemClients;
import jp.mamori.records.RecordService;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
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
                               --validation structure|full, --http for plain HTTP on loopback only)
              client create    --data DIR --name NAME --scopes 'system/Patient.read system/Observation.rs'
              client list      --data DIR
              client revoke    --data DIR --id CLIENT_ID --reason TEXT
              verify-records   --data DIR   recompute every stored version's hashes
              bench            --base URL --token T --scenario create|read|search|transaction|mixed
                               --concurrency N --seconds S [--insecure]
              version
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
        try {
            return switch (cmd) {
                case "serve" -> serve(rest, out, env);
                case "client" -> client(rest, out, err, env);
                case "verify-records" -> verify(rest, out, env);
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
        } catch (ConfigException | IllegalArgumentException e) {
            err.println("mamori " + cmd + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("mamori " + cmd + ": failed: " + oneLine(e));
            return 1;
        }
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
        MamoriServer server = MamoriServer.start(cfg);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Mamori stopping / 停止します");
            server.close();
            stopped.countDown();
        }, "mamori-shutdown"));
        server.printStartup(out);
        server.join();
        stopped.await();
        return 0;
    }

    /** Opens the database of a data folder, whether or not a server is running on it. */
    static final class Opened implements AutoCloseable {
        final Database db;
        private final MamoriServer.DataFolderLock lock;

        Opened(Database db, MamoriServer.DataFolderLock lock) {
            this.db = db;
            this.lock = lock;
        }

        static Opened open(Args a, Map<String, String> env) throws Exception {
            List<String> serveArgs = new ArrayList<>();
            for (String k : List.of("--data", "--db-url", "--db-user", "--db-password")) {
                a.value(k).ifPresent(v -> {
                    serveArgs.add(k);
                    serveArgs.add(v);
                });
            }
            ServerConfig cfg = ServerConfig.fromArgs(serveArgs, env);
            if (!cfg.database().embedded()) {
                return new Opened(Database.open(cfg.database(), cfg.dataDir(), 2), null);
            }
            if (!java.nio.file.Files.isDirectory(cfg.dataDir())) {
                throw new ConfigException("no data folder at " + cfg.dataDir() + "; start the server once with"
                        + " ./mamori serve --data " + cfg.dataDir());
            }
            Optional<MamoriServer.DataFolderLock> lock = MamoriServer.DataFolderLock.tryAcquire(cfg.dataDir());
            if (lock.isEmpty()) {
                Database running = Database.attachRunning(cfg.dataDir(), 2).orElseThrow(() -> new ConfigException(
                        "a server holds " + cfg.dataDir() + " but its database cannot be reached"));
                return new Opened(running, null);
            }
            try {
                return new Opened(Database.open(cfg.database(), cfg.dataDir(), 2), lock.get());
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
                Args a = Args.parse(args.subList(1, args.size()), concat(common, "--name", "--scopes"), List.of());
                String name = a.required("--name");
                String scopes = a.required("--scopes");
                jp.mamori.access.Scope.parseList(scopes); // refuse bad scopes before touching the database
                try (Opened o = Opened.open(a, env)) {
                    SystemClients.Created c = new SystemClients(o.db.dataSource()).create(name, scopes, operator());
                    out.println("Created system client " + c.client().clientId() + " \"" + c.client().name()
                            + "\" with scopes: " + c.client().scopes());
                    out.println("The token below is shown only once; store it safely."
                            + " / トークンはこの一度だけ表示されます。安全に保管してください。");
                    out.println(c.token());
                }
                return 0;
            }
            case "list" -> {
                Args a = Args.parse(args.subList(1, args.size()), common, List.of());
                try (Opened o = Opened.open(a, env)) {
                    out.println("client_id\tstatus\tname\tscopes\tcreated_at\tcreated_by");
                    for (SystemClients.Client c : new SystemClients(o.db.dataSource()).list()) {
                        out.println(c.clientId() + "\t" + (c.active() ? "active" : "revoked " + c.revokedAt())
                                + "\t" + c.name() + "\t" + c.scopes() + "\t" + c.createdAt() + "\t" + c.createdBy());
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

    private static int verify(List<String> args, PrintStream out, Map<String, String> env) throws Exception {
        Args a = Args.parse(args, List.of("--data", "--db-url", "--db-user", "--db-password"), List.of());
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
            if (bad[0] == 0) {
                out.println("verify-records: " + n + " versions checked, all hashes match / 全版のハッシュが一致しました");
                return 0;
            }
            out.println("verify-records: " + n + " versions checked, " + bad[0] + " mismatches"
                    + " / 不一致があります");
            return 1;
        }
    }

    private static String operator() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

}
