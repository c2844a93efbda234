package jp.mamori.testing;

import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Data folders for tests, all under {@code target/test-data} (which the build empties when it starts; see the
 * module's pom).
 */
public final class TestData {
    /** The database files and the secrets that open them: what a first start creates before the server proper. */
    private static final List<String> DATABASE_PARTS = List.of("pg", "secrets/db-superuser-password",
            "secrets/db-app-password");
    private static Path template;

    private TestData() {
    }

    /** The absolute path of a new, not yet existing folder named {@code prefix} plus a random suffix. */
    public static Path newFolder(String prefix) throws IOException {
        return Files.createDirectories(Path.of("target", "test-data"))
                .resolve(prefix + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
    }

    /**
     * A new data folder whose embedded PostgreSQL is already created and migrated: a copy of one made once per test
     * JVM with the server's own {@link Database#open} (initdb, the migrations, then a clean stop). Unpacking the
     * PostgreSQL binaries, initdb and the migrations cost a server start about 3 s of CPU; copying costs a tenth.
     * The server then starts as it does on an existing folder. Tests of the first start itself use
     * {@link #newFolder}. Unpacked binaries in the template are hard links in the copy (read-only in use).
     */
    public static Path newDatabaseFolder(String prefix) throws IOException {
        Path source = template();
        Path target = newFolder(prefix);
        Files.createDirectories(target.resolve("secrets"));
        for (String part : DATABASE_PARTS) {
            copyTree(source.resolve(part), target.resolve(part), false);
        }
        // The embedded PostgreSQL unpacks its binaries once per JVM, into the first data folder that needs them:
        // when that was the template's, link them; else the server finds them where they are.
        Path bin = source.resolve("runtime").resolve("pg-bin");
        if (Files.isDirectory(bin)) {
            copyTree(bin, target.resolve("runtime").resolve("pg-bin"), true);
        }
        return target;
    }

    private static synchronized Path template() throws IOException {
        if (template == null) {
            Path t = newFolder("template-");
            ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", t.toString()), Map.of());
            try (Database db = Database.open(cfg.database(), t, 1)) {
                if (db.dataSource() == null) {
                    throw new IllegalStateException("no database in the template " + t);
                }
            }
            if (Files.exists(t.resolve("pg").resolve("postmaster.pid"))) {
                throw new IllegalStateException("the template's PostgreSQL did not stop cleanly: " + t);
            }
            template = t;
        }
        return template;
    }

    private static void copyTree(Path from, Path to, boolean link) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isSymbolicLink(p)) {
                    Files.createSymbolicLink(q, Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                    copyPermissions(p, q);
                } else if (link) {
                    try {
                        Files.createLink(q, p);
                    } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
                        Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                } else {
                    Files.copy(p, q, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static void copyPermissions(Path from, Path to) throws IOException {
        try {
            Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
    }

    /**
     * A stopped server's data folder copied as an operator copies it (for {@code serve --read-only} on a copy): what a
     * running server leaves (runtime binaries and port, the postmaster's pid) is not needed, and folders keep their
     * permissions (PostgreSQL wants 0700 on its data directory).
     */
    public static Path copyDataFolder(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path rel = from.relativize(p);
                if (rel.startsWith("runtime") || p.getFileName().toString().equals("postmaster.pid")) {
                    continue;
                }
                Path t = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, Files.getPosixFilePermissions(p));
                } else {
                    Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return to;
    }
}
