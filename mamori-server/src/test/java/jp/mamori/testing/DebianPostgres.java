package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Debian PostgreSQL 15 cluster (the {@code postgresql-15} package's binaries in {@link #BIN}) in a temporary folder
 * of its own, as an external database for Mamori and as pgBackRest's database in tests. PostgreSQL refuses to run as
 * root, so when the tests run as root the cluster (and {@link #runAsServerUser}) runs as the {@code postgres} OS user
 * through {@code runuser}; otherwise as the current user. The superuser is {@code postgres} with a random password
 * (scram-sha-256) on 127.0.0.1 and a free port; the Unix socket is in the cluster's folder.
 *
 * <p>{@link #assumeAvailable()} skips a test with the reason when the binaries or pgBackRest are missing, but fails
 * it under {@code -Dmamori.requireDebianPostgres=true} (CI installs {@code postgresql-15 pgbackrest}).
 */
public final class DebianPostgres implements AutoCloseable {
    public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    public static final Path PGBACKREST = Path.of("/usr/bin/pgbackrest");
    private static final String RUN_AS = "postgres";

    private final Path home;
    private final Path data;
    private final int port;
    private final String superuserPassword;
    private boolean running;

    private DebianPostgres(Path home, int port, String superuserPassword) {
        this.home = home;
        this.data = home.resolve("data");
        this.port = port;
        this.superuserPassword = superuserPassword;
    }

    /** Null when a cluster (and pgBackRest) can run here; otherwise why not. */
    public static String unavailableReason() {
        if (!Files.isExecutable(BIN.resolve("pg_ctl")) || !Files.isExecutable(BIN.resolve("initdb"))) {
            return "Debian's PostgreSQL 15 is not installed (" + BIN + "): apt-get install postgresql-15";
        }
        if (!Files.isExecutable(PGBACKREST)) {
            return "pgBackRest is not installed (" + PGBACKREST + "): apt-get install pgbackrest";
        }
        if (isRoot()) {
            try {
                Process p = new ProcessBuilder("runuser", "-u", RUN_AS, "--", "/bin/true").redirectErrorStream(true)
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return "running as root and cannot run commands as '" + RUN_AS + "': " + out.strip();
                }
            } catch (IOException | InterruptedException e) {
                return "running as root and runuser is not usable: " + e.getMessage();
            }
        }
        return null;
    }

    /** Skips the test when no cluster can run here, or fails it when {@code -Dmamori.requireDebianPostgres=true}. */
    public static void assumeAvailable() {
        String why = unavailableReason();
        if (why != null && Boolean.getBoolean("mamori.requireDebianPostgres")) {
            Assertions.fail(why + " (-Dmamori.requireDebianPostgres=true, so it may not be skipped)");
        }
        Assumptions.assumeTrue(why == null, why + "; skipped");
    }

    /** initdb and start, with {@code settings} added to postgresql.conf (e.g. archive_command). */
    public static DebianPostgres start(Map<String, String> settings) throws Exception {
        Path home = Files.createTempDirectory("mamori-debian-pg-");
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        String password = UUID.randomUUID().toString();
        DebianPostgres pg = new DebianPostgres(home, freePort(), password);
        Path pwfile = home.resolve("pwfile");
        Files.writeString(pwfile, password + "\n");
        giveToServerUser(home);
        // Local (socket) logins as Debian has them: peer for the postgres OS user (pgBackRest connects so); when not
        // root, trust, the socket being in a folder only this user can reach. TCP logins need the password.
        pg.runAsServerUser(120, BIN.resolve("initdb").toString(), "--auth-host=scram-sha-256",
                "--auth-local=" + (isRoot() ? "peer" : "trust"), "-U", "postgres",
                "--pwfile=" + pwfile, "-E", "UTF-8", "--locale=C", "-D", pg.data.toString());
        Files.delete(pwfile);
        StringBuilder conf = new StringBuilder("\n# tests\nlisten_addresses = '127.0.0.1'\nport = " + pg.port
                + "\nunix_socket_directories = '" + home + "'\n");
        settings.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(pg.data.resolve("postgresql.conf"), conf.toString(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        pg.start();
        return pg;
    }

    /**
     * A hot standby of {@code primary} (issue 18 §1; {@link ReplicatedPostgres}): {@code pg_basebackup -R} as the
     * server user over the primary's socket into a folder of its own, then started on a port of its own, streaming.
     * The primary's settings come with the copy; {@code settings} are added after them (they win), and a standby never
     * waits for a synchronous standby of its own once promoted ({@code synchronous_standby_names} empty).
     */
    public static DebianPostgres standbyOf(DebianPostgres primary, Map<String, String> settings) throws Exception {
        Path home = Files.createTempDirectory("mamori-debian-pg-standby-");
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        DebianPostgres s = new DebianPostgres(home, freePort(), primary.superuserPassword);
        giveToServerUser(home);
        s.runAsServerUser(300, BIN.resolve("pg_basebackup").toString(), "-h", primary.home.toString(), "-p",
                Integer.toString(primary.port), "-U", "postgres", "-D", s.data.toString(), "-R", "-X", "stream",
                "-c", "fast");
        StringBuilder conf = new StringBuilder("\n# standby\nport = " + s.port + "\nunix_socket_directories = '" + home
                + "'\nsynchronous_standby_names = ''\nhot_standby = on\n");
        settings.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(s.data.resolve("postgresql.conf"), conf.toString(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        s.start();
        return s;
    }

    /** {@code pg_ctl promote}: a standby becomes a primary (waits until it accepts writes). */
    public void promote() throws IOException, InterruptedException {
        runAsServerUser(120, BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "90", "promote");
    }

    /** SIGKILL to the postmaster and every process under it, as a crash of the database machine. */
    public void kill9() throws Exception {
        List<String> pid = Files.readAllLines(data.resolve("postmaster.pid"));
        ProcessHandle pm = ProcessHandle.of(Long.parseLong(pid.get(0).trim())).orElseThrow();
        List<ProcessHandle> all = new ArrayList<>(pm.descendants().toList());
        all.add(0, pm);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            h.onExit().get(30, TimeUnit.SECONDS);
        }
        running = false;
    }

    /** Whether the server is a standby in recovery now. */
    public boolean inRecovery() throws SQLException {
        try (Connection c = superuser("postgres"); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** pg_ctl start (after {@link #stop}, or the first time). */
    public void start() throws IOException, InterruptedException {
        runAsServerUser(120, BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                home.resolve("server.log").toString(), "-w", "-t", "90", "start");
        running = true;
    }

    /** pg_ctl stop -m fast. */
    public void stop() throws IOException, InterruptedException {
        if (running) {
            running = false;
            runAsServerUser(120, BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t",
                    "90", "stop");
        }
    }

    /** The cluster's folder (owned by the server user); the data directory is {@code home/data}. */
    public Path home() {
        return home;
    }

    public Path dataDirectory() {
        return data;
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    public Connection superuser(String db) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(db), "postgres", superuserPassword);
    }

    /** A login role that may create roles (not a superuser), and a database it owns. */
    public void createOwner(String user, String password, String db) throws SQLException {
        try (Connection c = superuser("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + user + " LOGIN CREATEROLE NOSUPERUSER NOCREATEDB PASSWORD '"
                    + password.replace("'", "''") + "'");
            st.execute("CREATE DATABASE " + db + " OWNER " + user);
        }
    }

    /** Writes {@code text} into the cluster's folder as a file the server user owns (mode 0600). */
    public Path writeFile(String name, String text) throws IOException {
        Path p = home.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        giveToServerUser(p);
        return p;
    }

    /** Creates a folder in the cluster's folder, owned by the server user. */
    public Path folder(String name) throws IOException {
        Path p = Files.createDirectories(home.resolve(name));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        giveToServerUser(p);
        return p;
    }

    /** A new temporary folder (mode 0700) owned by the clusters' OS user, e.g. for pgBackRest's repository. */
    public static Path serverUserFolder(String prefix) throws IOException {
        Path p = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        giveToServerUser(p);
        return p;
    }

    /** Removes a folder made by {@link #serverUserFolder}. */
    public static void removeFolder(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        }
    }

    /** The prefix that runs a command as the cluster's OS user: {@code runuser -u postgres --} as root, else none. */
    public static List<String> serverUserPrefix() {
        return isRoot() ? List.of("runuser", "-u", RUN_AS, "--") : List.of();
    }

    public String serverLog() {
        try {
            return Files.readString(home.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log: " + e.getMessage() + ")";
        }
    }

    /** Runs {@code command} as the cluster's OS user, in its folder; fails with the output when it fails. */
    public String runAsServerUser(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(serverUserPrefix());
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("failed (" + p.exitValue() + "): " + cmd + "\n" + text + "\nserver log:\n"
                    + serverLog());
        }
        return text;
    }

    /** Stops the cluster and removes its folder. */
    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            if (Files.exists(home)) {
                try (Stream<Path> s = Files.walk(home)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Gives {@code p} (and what is in it) to the clusters' OS user when the tests run as root. */
    public static void giveToServerUser(Path p) throws IOException {
        if (isRoot()) {
            UserPrincipal u = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(RUN_AS);
            Files.setOwner(p, u);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> s = Files.list(p)) {
                    for (Path q : s.toList()) {
                        giveToServerUser(q);
                    }
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
