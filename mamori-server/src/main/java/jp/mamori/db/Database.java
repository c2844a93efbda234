package jp.mamori.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The PostgreSQL database behind Mamori: the embedded server under the data folder, or an external one.
 *
 * <p>Migrations run as the configured (owner) user; request handling logs in as {@code mamori_app}, a role
 * without UPDATE or DELETE on version history and without any way back to the owner's privileges.
 * The embedded server runs with durable commits: an acknowledged write survives a crash of either process.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    /** Settings that make every acknowledged commit durable, whatever the embedded defaults are. */
    static final Map<String, String> DURABLE = Map.of(
            "fsync", "on",
            "synchronous_commit", "on",
            "full_page_writes", "on");

    private final EmbeddedPostgres embedded;
    private final HikariDataSource pool;
    private final String description;
    /** How to log in as the owner (migration) user: url, user, password; null when not known. */
    private final String[] owner;
    /** Whether this process may write now (issue 18 §2): normal until the primary monitor or --read-only says not. */
    private Availability availability = Availability.normal(java.time.Clock.systemUTC());
    /** With several hosts: a second pool that accepts a standby, used while degraded (see {@link RoutingDataSource}). */
    private final HikariDataSource readPool;
    /** What {@link #dataSource()} hands out: the pool, or the routing between the two pools. */
    private final DataSource routed;
    private PrimaryMonitor monitor;

    private Database(EmbeddedPostgres embedded, HikariDataSource pool, String description, String... owner) {
        this.embedded = embedded;
        this.pool = pool;
        this.description = description;
        this.owner = owner.length == 3 ? owner.clone() : null;
        if (PrimaryMonitor.multiHost(pool.getJdbcUrl())) {
            // DEGRADED-1: with the primary gone, targetServerType=primary finds no host; reads go to any that answers
            this.readPool = pool(PrimaryMonitor.withParams(pool.getJdbcUrl(), Map.of("targetServerType",
                    "preferPrimary", "hostRecheckSeconds", "1")), pool.getUsername(), pool.getPassword(),
                    pool.getMaximumPoolSize(), pool.getConnectionInitSql() != null);
            this.routed = new RoutingDataSource(pool, readPool,
                    () -> this.availability.degraded() && !this.availability.leaving());
        } else {
            this.readPool = null;
            this.routed = pool;
        }
    }

    /**
     * Starts the primary monitor (issue 18 §2): every {@code every} it asks the database whether a writable primary
     * answers, and switches {@link #availability()} to degraded read-only mode and back. Not for a forced read-only
     * process, which never leaves that mode.
     */
    public synchronized PrimaryMonitor monitor(java.time.Duration every) {
        if (monitor == null) {
            monitor = new PrimaryMonitor(availability, PrimaryMonitor.jdbc(pool.getJdbcUrl(), pool.getUsername(),
                    pool.getPassword()), every).start();
        }
        return monitor;
    }

    /** The running primary monitor, if any. */
    public synchronized Optional<PrimaryMonitor> primaryMonitor() {
        return Optional.ofNullable(monitor);
    }

    /**
     * A new connection that logs in as the owner (migration) user, outside the runtime pool: only for the one
     * operation the runtime role must never be able to do, physical disposal of records past retention (records'
     * {@code mamori_dispose}, ADR 0011). The caller closes it.
     *
     * @throws SQLException when the owner's credentials are not known here (an external database without them)
     */
    public Connection ownerConnection() throws SQLException {
        if (owner == null) {
            throw new SQLException("the database owner's login is not known to this process");
        }
        return java.sql.DriverManager.getConnection(owner[0], owner[1], owner[2]);
    }

    /** Opens (and, for the embedded server, starts) the database, then brings its schema up to date. */
    public static Database open(ServerConfig.Database cfg, Path dataDir, int poolSize) {
        if (cfg.embedded()) {
            return openEmbedded(dataDir, poolSize);
        }
        String url = cfg.jdbcUrl().orElseThrow();
        String user = cfg.user().orElse(null);
        String password = cfg.password().orElse(null);
        migrate(url, user, password);
        if (cfg.appPassword().isPresent()) {
            enableAppLogin(url, user, password, cfg.appPassword().get());
            return new Database(null, pool(url, APP_ROLE, cfg.appPassword().get(), poolSize, false), url, url, user,
                    password);
        }
        return new Database(null, pool(url, user, password, poolSize, true), url, url, user, password);
    }

    /**
     * Opens the database of a copied or restored data folder for the standalone viewer ({@code serve --read-only},
     * issue 18 §2, DEGRADED-4): the embedded server starts with {@code default_transaction_read_only = on} and without
     * WAL archiving, nothing is migrated (a copy whose schema is behind or ahead of this build is refused with one
     * line), the runtime role logs in with the password the folder holds, every connection is read-only once more
     * ({@code SET default_transaction_read_only}), and {@link #availability()} is degraded for the whole run.
     * With an external database ({@code --db-url}) the same, without starting anything.
     */
    public static Database openReadOnly(ServerConfig.Database cfg, Path dataDir, int poolSize) {
        String reason = "serve --read-only: standalone viewer on a copy of " + dataDir;
        if (!cfg.embedded()) {
            String url = cfg.jdbcUrl().orElseThrow();
            String user = cfg.appPassword().isPresent() ? APP_ROLE : cfg.user().orElse(null);
            String password = cfg.appPassword().orElseGet(() -> cfg.password().orElse(null));
            requireCurrentSchema(url, cfg.user().orElse(user), cfg.password().orElse(password));
            Database d = new Database(null, readOnlyPool(url, user, password, poolSize,
                    cfg.appPassword().isEmpty()), url + " (read-only)");
            d.availability = Availability.readOnly(java.time.Clock.systemUTC(), reason);
            return d;
        }
        Path pgData = dataDir.resolve("pg");
        if (!Files.isDirectory(pgData)) {
            throw new ConfigException(pgData + " がありません。コピーまたは復元したデータフォルダを --data で指定してください"
                    + " / no database in " + pgData + ": give a copied or restored data folder with --data");
        }
        try {
            EmbeddedPostgres pg = startEmbedded(dataDir, java.time.Duration.ofSeconds(60), true);
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            try {
                Path appFile = dataDir.resolve("secrets").resolve(APP_PASSWORD_FILE);
                if (!Files.exists(appFile)) {
                    throw new ConfigException(appFile + " がありません / the copy has no " + appFile);
                }
                String appPassword = Files.readString(appFile).trim();
                // the owner reads the schema history (the runtime role may not); the server refuses writes anyway
                requireCurrentSchema(url, "postgres", Secrets.readOrCreate(dataDir.resolve("secrets")
                        .resolve(SUPERUSER_PASSWORD_FILE)));
                Database d = new Database(pg, readOnlyPool(url, APP_ROLE, appPassword, poolSize, false),
                        "embedded PostgreSQL in " + pgData + " (read-only)");
                d.availability = Availability.readOnly(java.time.Clock.systemUTC(), reason);
                return d;
            } catch (RuntimeException | IOException e) {
                pg.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL in " + pgData
                    + "; see " + dataDir.resolve("runtime").resolve(POSTGRES_LOG), e);
        }
    }

    /**
     * Refuses a database whose schema this build would migrate (behind) or does not know (ahead): the standalone
     * viewer never migrates a copy, and a schema it does not know it cannot read safely.
     */
    static void requireCurrentSchema(String url, String user, String password) {
        org.flywaydb.core.api.MigrationInfoService info;
        try {
            info = Flyway.configure().dataSource(url, user, password).locations("classpath:db/migration")
                    .javaMigrations(javaMigrations()).load().info();
        } catch (org.flywaydb.core.api.FlywayException e) {
            throw new ConfigException("コピーのデータベースを確認できません / cannot read the copy's schema: "
                    + e.getMessage().lines().filter(l -> l.startsWith("Message")).findFirst()
                    .orElseGet(() -> e.getMessage().lines().findFirst().orElse("")).strip());
        }
        String have = info.current() == null ? "none" : String.valueOf(info.current().getVersion());
        if (info.pending().length > 0) {
            throw new ConfigException("コピーのデータベースはこの版より古い形式です（" + have + "）。読み取り専用では更新しません。"
                    + "同じ版の Mamori で開くか、通常起動で更新したコピーを使ってください / the copy's schema (" + have
                    + ") is behind this build; --read-only never migrates: use the Mamori version that wrote it");
        }
        for (org.flywaydb.core.api.MigrationInfo m : info.applied()) {
            if (m.getState() == org.flywaydb.core.api.MigrationState.FUTURE_SUCCESS) {
                throw new ConfigException("コピーのデータベースはこの版より新しい形式です（" + have + "）/ the copy's schema ("
                        + have + ") is newer than this build: use the Mamori version that wrote it");
            }
        }
    }

    /** A pool whose every connection defaults to read-only transactions (the viewer's second lock). */
    private static HikariDataSource readOnlyPool(String url, String user, String password, int size, boolean setRole) {
        HikariConfig hc = poolConfig(url, user, password, size, "mamori-read-only");
        hc.setReadOnly(true);
        hc.setConnectionInitSql((setRole ? "SET ROLE " + APP_ROLE + "; " : "")
                + "SET default_transaction_read_only = on");
        return new HikariDataSource(hc);
    }

    private static Database openEmbedded(Path dataDir, int poolSize) {
        Path pgData = dataDir.resolve("pg");
        try {
            EmbeddedPostgres pg = startEmbedded(dataDir, java.time.Duration.ofSeconds(60));
            String password = Secrets.readOrCreate(dataDir.resolve("secrets").resolve(SUPERUSER_PASSWORD_FILE));
            String url = "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
            try {
                migrate(url, "postgres", password);
                String appPassword = Secrets.readOrCreate(dataDir.resolve("secrets").resolve(APP_PASSWORD_FILE));
                enableAppLogin(url, "postgres", password, appPassword);
                return new Database(pg, pool(url, APP_ROLE, appPassword, poolSize, false),
                        "embedded PostgreSQL in " + pgData, url, "postgres", password);
            } catch (RuntimeException e) {
                pg.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the embedded PostgreSQL in " + pgData
                    + "; see " + dataDir.resolve("runtime").resolve(POSTGRES_LOG), e);
        }
    }

    /** The superuser's password file under {@code <data>/secrets}. */
    public static final String SUPERUSER_PASSWORD_FILE = "db-superuser-password";

    /** Where the embedded server's archiver leaves each finished WAL segment for the backups to ship on. */
    public static Path walSpool(Path dataDir) {
        return dataDir.resolve("backup").resolve("wal-spool");
    }

    /**
     * Continuous WAL archiving, on for the embedded server: PostgreSQL's own basic_archive module copies each
     * finished WAL segment into {@link #walSpool}, and archive_timeout closes a segment at least once a minute
     * when anything was written, so that archived WAL is never more than a minute or so behind.
     */
    static Map<String, String> archiving(Path dataDir) throws IOException {
        Path spool = walSpool(dataDir).toAbsolutePath();
        String s = spool.toString();
        // zonky hands the settings to pg_ctl as one option string, which a shell splits: quote the path.
        if (s.contains("'") || s.contains("\\")) {
            throw new ConfigException("データフォルダのパスに ' または \\ は使えません / the data folder's path must not"
                    + " contain ' or \\: " + s);
        }
        Files.createDirectories(spool);
        try {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> owner =
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
            Files.setPosixFilePermissions(spool.getParent(), owner);
            Files.setPosixFilePermissions(spool, owner);
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: rely on the folder's ACLs.
        }
        return Map.of(
                "archive_mode", "on",
                "archive_library", "basic_archive",
                "basic_archive.archive_directory", "'" + s + "'",
                "archive_timeout", "60s");
    }

    /**
     * Starts the embedded PostgreSQL on {@code <dataDir>/pg} (creating it with initdb if absent) with Mamori's
     * settings (durable commits, WAL archiving), without migrating: {@link #open} uses it, and so does a restore,
     * which starts the server on a restored folder to let it recover. The superuser password is read from (or
     * created in) {@code <dataDir>/secrets/db-superuser-password}. Close the result to stop the server (fast
     * shutdown; pg_ctl waits only seconds for it, so wait for {@code postmaster.pid} to go when that matters).
     */
    public static EmbeddedPostgres startEmbedded(Path dataDir, java.time.Duration startupWait) throws IOException {
        return startEmbedded(dataDir, startupWait, false);
    }

    /**
     * As above; with {@code readOnly}, the server itself refuses writes ({@code default_transaction_read_only = on})
     * and archives no WAL into the folder's backup spool (the standalone viewer, {@code serve --read-only}).
     */
    static EmbeddedPostgres startEmbedded(Path dataDir, java.time.Duration startupWait, boolean readOnly)
            throws IOException {
        Path pgData = dataDir.resolve("pg");
        Files.createDirectories(dataDir);
        Path pwfile = dataDir.resolve("secrets").resolve(SUPERUSER_PASSWORD_FILE);
        String password = Secrets.readOrCreate(pwfile);
        // The caller holds the data folder lock, so a postmaster still running on pgData was left behind by a
        // Mamori process that was killed: stop it, or the new one cannot start.
        Path pgLogFile = postgresLog(dataDir);
        stopOrphanedPostmaster(pgData, pgLogFile);
        ProcessBuilder.Redirect pgLog = ProcessBuilder.Redirect.appendTo(pgLogFile.toFile());
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(pgData)
                .setCleanDataDirectory(false)
                .setOverrideWorkingDirectory(dataDir.resolve("runtime").resolve("pg-bin").toFile())
                .setPGStartupWait(startupWait)
                // initdb, pg_ctl and the server log to a file, not to a pipe into this JVM (whose logs would
                // drop them, and which a crash of this JVM would leave without a reader).
                .setOutputRedirector(pgLog)
                .setErrorRedirector(pgLog)
                // initdb options: password authentication instead of the embedded default of trust.
                .setLocaleConfig("auth", "scram-sha-256")
                .setLocaleConfig("pwfile", pwfile.toString())
                .setLocaleConfig("locale", "C")
                .setConnectConfig("password", password)
                .setServerConfig("listen_addresses", "127.0.0.1")
                // No Unix-domain socket: Mamori connects over loopback TCP only, and a socket's lock file in /tmp
                // that a killed server left behind (kill -9, power loss) made a later server on the same port number
                // refuse to start whenever its old process id had been reused.
                .setServerConfig("unix_socket_directories", "''")
                .setServerConfig("max_connections", "100")
                .setServerConfig("timezone", "UTC");
        DURABLE.forEach(b::setServerConfig);
        if (readOnly) {
            b.setServerConfig("default_transaction_read_only", "on");
            b.setServerConfig("archive_mode", "off");
        } else {
            archiving(dataDir).forEach(b::setServerConfig);
        }
        EmbeddedPostgres pg = b.start();
        Files.createDirectories(dataDir.resolve("runtime"));
        Files.writeString(dataDir.resolve("runtime").resolve("db-port"), Integer.toString(pg.getPort()));
        return pg;
    }

    /** The embedded server's log, under {@code <data>/runtime}. */
    public static final String POSTGRES_LOG = "postgres.log";

    /** The embedded server's log file, created readable by its owner only (failed statements may be logged). */
    private static Path postgresLog(Path dataDir) throws IOException {
        Path log = dataDir.resolve("runtime").resolve(POSTGRES_LOG);
        Files.createDirectories(log.getParent());
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        try {
            Files.setPosixFilePermissions(log, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: rely on the folder's ACLs.
        }
        return log;
    }

    /**
     * Stops a PostgreSQL server that still runs on {@code pgData} although no Mamori process holds the data
     * folder (its JVM was killed; the postmaster survives it). Fast shutdown, or immediate if that does not
     * finish in a minute: either way every committed transaction is in the WAL, and the next start recovers
     * from it. The postmaster exits only after its children, so when it is gone the shared memory is free.
     * A stale {@code postmaster.pid} whose process is gone needs nothing: PostgreSQL removes it itself.
     */
    public static void stopOrphanedPostmaster(Path pgData, Path logFile) throws IOException {
        Path pidFile = pgData.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(pidFile);
        } catch (IOException e) {
            return;
        }
        if (lines.size() < 2) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> pm = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        Optional<String> command = pm.flatMap(h -> h.info().command());
        boolean ours = command.map(c -> c.endsWith("/postgres") || c.endsWith("\\postgres.exe")).orElse(false)
                && samePath(Path.of(lines.get(1).trim()), pgData);
        if (!ours) {
            return; // not running, or the pid now belongs to some other process
        }
        log.warn("a PostgreSQL server (pid {}) is still running on {} from a Mamori process that ended without"
                + " stopping it; stopping it before starting a new one", pid, pgData);
        // SIGINT is PostgreSQL's fast shutdown, SIGQUIT its immediate one. Not pg_ctl: it refuses to run as root.
        for (String signal : List.of("INT", "QUIT")) {
            try {
                Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
                p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
                pm.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while stopping the leftover PostgreSQL server", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // try the next signal
            }
        }
        throw new IOException("a leftover PostgreSQL server (pid " + pid + ") on " + pgData + " did not stop");
    }

    private static boolean samePath(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        }
    }

    /** The runtime role: SELECT and INSERT on history, never UPDATE or DELETE (see V1 migration). */
    public static final String APP_ROLE = "mamori_app";
    static final String APP_PASSWORD_FILE = "db-app-password";

    /**
     * Lets the runtime role log in with {@code appPassword}, so request handling connects as that role
     * itself. Reaching it by SET ROLE from a more privileged login would leave RESET ROLE one injected
     * statement away. The password travels as a SCRAM verifier computed here, never in clear.
     */
    static void enableAppLogin(String url, String user, String password, String appPassword) {
        try (Connection c = java.sql.DriverManager.getConnection(url, user, password);
             Statement st = c.createStatement()) {
            // Created with every attribute off (V1); only LOGIN is added. A CREATEROLE owner may do that much.
            st.execute("ALTER ROLE " + APP_ROLE + " LOGIN");
            c.unwrap(org.postgresql.PGConnection.class).alterUserPassword(APP_ROLE, appPassword.toCharArray(),
                    "scram-sha-256");
        } catch (SQLException e) {
            throw new ConfigException("cannot enable the runtime role " + APP_ROLE + " on " + url
                    + " (the migration user needs CREATEROLE): " + e.getMessage());
        }
    }

    /** Connects to the embedded database of a server that is running on this data folder, if any. */
    public static Optional<Database> attachRunning(Path dataDir, int poolSize) {
        Path portFile = dataDir.resolve("runtime").resolve("db-port");
        Path pwFile = dataDir.resolve("secrets").resolve(APP_PASSWORD_FILE);
        if (!Files.exists(portFile) || !Files.exists(pwFile)) {
            return Optional.empty();
        }
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + Files.readString(portFile).trim() + "/postgres";
            String password = Files.readString(pwFile).trim();
            try (Connection c = java.sql.DriverManager.getConnection(url, APP_ROLE, password)) {
                c.isValid(2);
            }
            Path superFile = dataDir.resolve("secrets").resolve(SUPERUSER_PASSWORD_FILE);
            String[] owner = Files.exists(superFile)
                    ? new String[]{url, "postgres", Files.readString(superFile).trim()} : new String[0];
            return Optional.of(new Database(null, pool(url, APP_ROLE, password, poolSize, false),
                    "running server's database", owner));
        } catch (IOException | SQLException e) {
            return Optional.empty();
        }
    }

    /** Migration versions this process applied (see {@link #migratedHere}). */
    private static final java.util.Set<String> MIGRATED_HERE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Whether this process applied migration {@code version} to its database: known only in memory, so that a
     * one-time step of an upgrade (the audit checkpointer accepting the entries stored before V15 unsealed) cannot
     * be asked for again through the database.
     */
    public static boolean migratedHere(String version) {
        return MIGRATED_HERE.contains(version);
    }

    static void migrate(String url, String user, String password) {
        try {
            org.flywaydb.core.api.output.MigrateResult r = Flyway.configure()
                    .dataSource(url, user, password)
                    .locations("classpath:db/migration")
                    // The capabilities' Java migrations (e.g. records' repeatable re-normalisation of the search
                    // index), registered as services so that this package depends on none of them.
                    .javaMigrations(javaMigrations())
                    .load()
                    .migrate();
            r.migrations.forEach(m -> MIGRATED_HERE.add(m.version));
        } catch (org.flywaydb.core.api.FlywayException e) {
            throw new ConfigException("database migration failed on " + url + ": " + e.getMessage());
        }
    }

    private static org.flywaydb.core.api.migration.JavaMigration[] javaMigrations() {
        return java.util.ServiceLoader.load(org.flywaydb.core.api.migration.JavaMigration.class,
                        Database.class.getClassLoader()).stream()
                .map(java.util.ServiceLoader.Provider::get)
                .toArray(org.flywaydb.core.api.migration.JavaMigration[]::new);
    }

    private static HikariDataSource pool(String url, String user, String password, int size, boolean setRole) {
        HikariConfig hc = poolConfig(url, user, password, size, "mamori");
        if (setRole) {
            // Fallback for an external database without an app password (reported as a deviation).
            hc.setConnectionInitSql("SET ROLE " + APP_ROLE);
        }
        hc.addDataSourceProperty("reWriteBatchedInserts", "true");
        return new HikariDataSource(hc);
    }

    /** What every pool of this process shares: login, size, timeouts, the connection properties and its name. */
    private static HikariConfig poolConfig(String url, String user, String password, int size, String name) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        if (user != null) {
            hc.setUsername(user);
        }
        if (password != null) {
            hc.setPassword(password);
        }
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(Math.min(4, size));
        hc.setPoolName(name);
        // A request that waits 10 s for a connection has failed already; and when the JVM stops, the embedded
        // database's own shutdown hook may stop PostgreSQL while the server still records its stop: waiting the
        // default 30 s there only delays the exit.
        hc.setConnectionTimeout(10_000);
        hc.setAutoCommit(true);
        CONNECTION_PROPERTIES.forEach(hc::addDataSourceProperty);
        hc.addDataSourceProperty("ApplicationName", name);
        return hc;
    }

    /**
     * How every connection meets a lost host (issue 18 §1, BACKUP-8): a connection attempt gives up after 5 s (so a
     * multi-host URL moves on to the next host, and a request meets a retryable error, not a hang), and TCP
     * keep-alive notices a silently dropped connection. A value in {@code --db-url} wins over these (pgjdbc reads
     * the URL's parameters last). Hikari tests a connection that was idle before lending it, so connections to a
     * host that died are dropped, and new ones go where pgjdbc finds the primary after a promotion.
     */
    static final Map<String, String> CONNECTION_PROPERTIES = Map.of(
            "connectTimeout", "5",
            "tcpKeepAlive", "true");

    /**
     * A new connection outside the pool, as the runtime role: a session of its own whose end releases what it holds
     * (the job locks of {@link Leadership}); a pooled connection, "closed", would keep them. The caller closes it.
     */
    public Connection sessionConnection(String applicationName) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        CONNECTION_PROPERTIES.forEach(p::setProperty);
        p.setProperty("ApplicationName", applicationName);
        if (pool.getUsername() != null) {
            p.setProperty("user", pool.getUsername());
        }
        if (pool.getPassword() != null) {
            p.setProperty("password", pool.getPassword());
        }
        Connection c = java.sql.DriverManager.getConnection(pool.getJdbcUrl(), p);
        if (pool.getConnectionInitSql() != null) {
            try (Statement st = c.createStatement()) {
                st.execute(pool.getConnectionInitSql());
            } catch (SQLException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    public DataSource dataSource() {
        return routed;
    }

    /** This process's write availability (normal or degraded read-only), shared by every capability. */
    public Availability availability() {
        return availability;
    }

    public String description() {
        return description;
    }

    /** The current value of a server setting, e.g. {@code fsync}. */
    public String setting(String name) {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('" + name.replace("'", "") + "')")) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read setting " + name, e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (monitor != null) {
                monitor.close();
            }
        }
        if (readPool != null) {
            readPool.close();
        }
        pool.close();
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                log.warn("embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
            }
        }
    }
}
