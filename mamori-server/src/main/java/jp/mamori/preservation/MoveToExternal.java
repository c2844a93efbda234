package jp.mamori.preservation;

import jp.mamori.audit.AuditTrail;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.records.RecordCensus;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Moves a restored embedded installation onto an external PostgreSQL (issue 16, EXT-6; ADR 0010 "Moving to an
 * external PostgreSQL"): the usual path when a clinic grows into a hospital's database server.
 *
 * <p>The embedded database is PostgreSQL 17; the external one is whatever the hospital runs (Debian 12: 15). A
 * physical copy restores only onto the same major version, so the move is logical: the restored folder's embedded
 * database is started, the target's schema is created by the same Flyway migrations a server start runs, and every
 * table's rows are streamed with the COPY protocol (PgJDBC {@link CopyManager}: row by row, never a whole table in
 * memory) in one transaction on the target, with the tables' own triggers off for it (the rows are copies: the
 * append-only guards and the audit outbox triggers must not fire again, and the target's seed rows are replaced by
 * the source's), foreign-key checks kept, tables in foreign-key order. Identity columns keep their values (COPY
 * writes them as given, like {@code OVERRIDING SYSTEM VALUE}); every sequence is then set to the source's value; the
 * row count of every table is compared before the transaction commits. Any failure rolls the whole copy back.
 *
 * <p>A target that holds records or audit entries is refused unless forced (then its rows are replaced). The target
 * user must own the schema (it ran the migrations) and may create roles (the runtime role {@code mamori_app}), as for
 * any external database. Its password comes from the environment or a file, never the command line.
 */
public final class MoveToExternal {
    private static final Logger log = LoggerFactory.getLogger(MoveToExternal.class);
    /** The file in a data folder that says its database is external, where, and as whom (no password). */
    public static final String EXTERNAL_MARKER = "database.external";
    /** The history of the migrations is the target's own (written by its Flyway run), never copied. */
    private static final Set<String> NOT_COPIED = Set.of("flyway_schema_history");

    private MoveToExternal() {
    }

    /** Where to: a JDBC URL, a user and its password. {@link #toString()} masks the password. */
    public record Target(String jdbcUrl, String user, String password) {
        public Target {
            if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql://")) {
                throw new ConfigException("--to-db-url must be jdbc:postgresql://HOST:PORT/DB / 移行先の URL が正しくありません");
            }
            if (jdbcUrl.toLowerCase(java.util.Locale.ROOT).contains("password")) {
                throw new ConfigException("--to-db-url must not carry the password (command lines are visible to every"
                        + " user): use MAMORI_DB_PASSWORD or --to-db-password-file / パスワードを URL に含めないでください");
            }
            if (user == null || user.isBlank()) {
                throw new ConfigException("--to-db-user names the target's owner / 移行先のユーザーを指定してください");
            }
            if (password == null || password.isEmpty()) {
                throw new ConfigException("the target's password comes from MAMORI_DB_PASSWORD or --to-db-password-file"
                        + " / 移行先のパスワードを環境変数かファイルで指定してください");
            }
        }

        /** The database settings a server uses for this target. */
        public ServerConfig.Database database() {
            return new ServerConfig.Database(Optional.of(jdbcUrl), Optional.of(user), Optional.of(password),
                    Optional.empty());
        }

        @Override
        public String toString() {
            return jdbcUrl + " user=" + user + " password=****";
        }
    }

    /** What was moved: rows per table (equal on both sides), sequences set, and how long the copy took. */
    public record Moved(Path dataDir, Map<String, Long> rows, int sequences, Duration took) {
        public long totalRows() {
            return rows.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Copies the database of the restored data folder {@code restored} (an embedded one, stopped) into
     * {@code target}, then makes {@code restored} a data folder for the external database: its embedded database
     * and that database's passwords removed, {@value #EXTERNAL_MARKER} written. The folder keeps everything else the
     * restore put back (signing keys, sealing keys, certificates, the audit anchor). While this runs the folder holds
     * {@link Restore#INCOMPLETE}, so that no server starts on a half-moved folder.
     */
    public static Moved copy(Path restored, Target target, boolean force) {
        long t0 = System.nanoTime();
        Path dir = restored.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("pg"))) {
            throw new BackupException("復元されたデータベースがありません / " + dir + " holds no restored embedded database");
        }
        try {
            Files.writeString(dir.resolve(Restore.INCOMPLETE), "move to " + target.jdbcUrl() + " started\n");
            checkTarget(target, force);
            // The target's schema, as a server start creates it (Flyway, the runtime role, its grants).
            Database.open(target.database(), dir, 1).close();
            Map<String, Long> rows;
            int sequences;
            // The source: the restored embedded database, brought to this version's schema as a start would.
            try (Database source = Database.open(new ServerConfig.Database(Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty()), dir, 1);
                 Connection from = embeddedSuperuser(dir);
                 Connection to = connect(target)) {
                log.info("move: copying {} into {}", source.description(), target);
                from.setAutoCommit(false);
                from.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                from.setReadOnly(true);
                to.setAutoCommit(false);
                try {
                    List<String> tables = tablesInOrder(from);
                    Set<String> targetTables = new TreeSet<>(tablesInOrder(to));
                    if (!targetTables.equals(new TreeSet<>(tables))) {
                        Set<String> missing = new TreeSet<>(tables);
                        missing.removeAll(targetTables);
                        Set<String> extra = new TreeSet<>(targetTables);
                        extra.removeAll(tables);
                        throw new BackupException("移行元と移行先の表が一致しません / the tables differ between the backup"
                                + " and the target: missing on the target " + missing + ", only on the target " + extra);
                    }
                    rows = copyTables(from, to, tables, force);
                    sequences = copySequences(from, to);
                    to.commit();
                } catch (SQLException | IOException | RuntimeException e) {
                    rollback(to);
                    throw e;
                } finally {
                    from.rollback();
                }
            }
            // Now a data folder for the external database: no embedded database or its passwords left behind.
            Restore.deleteTree(dir.resolve("pg"));
            Restore.deleteTree(Database.walSpool(dir));
            for (String f : BaseBackup.SECRET_FILES) {
                Files.deleteIfExists(dir.resolve("secrets").resolve(f));
            }
            Files.writeString(dir.resolve(EXTERNAL_MARKER), "# Mamori: this data folder's database is external"
                    + " (moved by mamori backup restore --to-db-url)\nurl=" + target.jdbcUrl() + "\nuser="
                    + target.user() + "\n", StandardCharsets.UTF_8);
            Files.delete(dir.resolve(Restore.INCOMPLETE));
            FolderParts.forceDirectory(dir);
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            log.info("move: {} rows in {} tables and {} sequences copied into {} in {} ms",
                    rows.values().stream().mapToLong(Long::longValue).sum(), rows.size(), sequences, target,
                    took.toMillis());
            return new Moved(dir, rows, sequences, took);
        } catch (BackupException | ConfigException e) {
            throw e;
        } catch (SQLException e) {
            throw new BackupException("移行先へ書き込めません / cannot move onto " + target.jdbcUrl() + ": "
                    + Messages.firstLine(e), e);
        } catch (IOException | RuntimeException e) {
            throw new BackupException("移行に失敗しました / the move failed: " + Messages.firstLine(e), e);
        }
    }

    /** The external database a data folder was moved onto (from {@value #EXTERNAL_MARKER}), if it was. */
    public static Optional<String> externalUrl(Path dataDir) {
        Path p = dataDir.resolve(EXTERNAL_MARKER);
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(p).stream().filter(l -> l.startsWith("url=")).map(l -> l.substring(4))
                    .findFirst().or(() -> Optional.of("(unknown)"));
        } catch (IOException e) {
            return Optional.of("(unreadable " + p + ")");
        }
    }

    /**
     * Refuses a target that cannot be reached, or that holds records or audit entries unless forced: called before a
     * restore starts (a wrong password is found in a second, not after the restore) and again before the copy.
     */
    public static void preflight(Target target, boolean force) {
        try {
            checkTarget(target, force);
        } catch (SQLException e) {
            throw new BackupException("移行先を確認できません / cannot check the target " + target.jdbcUrl() + ": "
                    + Messages.firstLine(e), e);
        }
    }

    private static void checkTarget(Target target, boolean force) throws SQLException {
        try (Connection c = connect(target)) {
            boolean migrated;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                         + " AND tablename = 'flyway_schema_history'")) {
                rs.next();
                migrated = rs.getLong(1) > 0;
            }
            if (!migrated || force) {
                return;
            }
            long versions;
            long audit;
            try {
                versions = RecordCensus.of(c).versions();
                audit = AuditTrail.nextSeq(c);
            } catch (SQLException e) {
                throw new BackupException("移行先に別のデータベースがあります / the target " + target.jdbcUrl()
                        + " holds another schema (" + Messages.firstLine(e) + "): use an empty database");
            }
            if (versions > 0 || audit > 0) {
                throw new BackupException("移行先が空ではありません / the target " + target.jdbcUrl() + " is not empty ("
                        + versions + " record versions, " + audit + " audit entries): use an empty database, or"
                        + " --force to replace them");
            }
        }
    }

    private static Connection connect(Target target) {
        try {
            return DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password());
        } catch (SQLException e) {
            throw new BackupException("移行先に接続できません / cannot connect to " + target.jdbcUrl() + " as "
                    + target.user() + ": " + Messages.firstLine(e));
        }
    }

    private static Connection embeddedSuperuser(Path dir) throws IOException, SQLException {
        String port = Files.readString(dir.resolve("runtime").resolve("db-port")).strip();
        String password = Files.readString(dir.resolve("secrets").resolve(Database.SUPERUSER_PASSWORD_FILE)).strip();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", password);
    }

    /** The schema's tables (not the migration history), parents before the tables that reference them. */
    static List<String> tablesInOrder(Connection c) throws SQLException {
        Set<String> tables = new TreeSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition")) {
            while (rs.next()) {
                if (!NOT_COPIED.contains(rs.getString(1))) {
                    tables.add(rs.getString(1));
                }
            }
        }
        Map<String, Set<String>> parents = new TreeMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT c.relname, p.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
                        + " JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE k.contype = 'f' AND n.nspname = current_schema()")) {
            while (rs.next()) {
                if (!rs.getString(1).equals(rs.getString(2))) {
                    parents.computeIfAbsent(rs.getString(1), k -> new TreeSet<>()).add(rs.getString(2));
                }
            }
        }
        LinkedHashSet<String> ordered = new LinkedHashSet<>();
        while (ordered.size() < tables.size()) {
            boolean progress = false;
            for (String t : tables) {
                if (!ordered.contains(t) && parents.getOrDefault(t, Set.of()).stream()
                        .allMatch(p -> ordered.contains(p) || !tables.contains(p))) {
                    ordered.add(t);
                    progress = true;
                }
            }
            if (!progress) {
                throw new BackupException("外部キーが循環しています / the foreign keys between the tables form a cycle;"
                        + " this version cannot order them for a copy");
            }
        }
        return List.copyOf(ordered);
    }

    /** The columns a COPY writes: all but generated ones, in the table's order. */
    private static List<String> columns(Connection c, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_attribute a JOIN pg_class c ON"
                + " c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
                + " AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
                + " ORDER BY a.attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static Map<String, Long> copyTables(Connection from, Connection to, List<String> tables, boolean force)
            throws SQLException, IOException {
        CopyManager out = from.unwrap(PGConnection.class).getCopyAPI();
        CopyManager in = to.unwrap(PGConnection.class).getCopyAPI();
        try (Statement st = to.createStatement()) {
            for (String t : tables) {
                st.execute("ALTER TABLE " + ident(t) + " DISABLE TRIGGER USER");
            }
            // The migrations' seed rows (roles, categories, the empty audit head), or a forced target's rows: the
            // source's replace them. Its own triggers (append-only guards) are off for this transaction only.
            st.execute("TRUNCATE " + String.join(", ", tables.stream().map(MoveToExternal::ident).toList()));
        }
        Map<String, Long> rows = new LinkedHashMap<>();
        for (String t : tables) {
            List<String> cols = columns(from, t);
            if (!new TreeSet<>(cols).equals(new TreeSet<>(columns(to, t)))) {
                throw new BackupException("表 " + t + " の列が一致しません / table " + t + " has other columns on the"
                        + " target: " + cols + " against " + columns(to, t));
            }
            String list = String.join(", ", cols.stream().map(MoveToExternal::ident).toList());
            CopyOut reader = out.copyOut("COPY " + ident(t) + " (" + list + ") TO STDOUT");
            CopyIn writer;
            try {
                writer = in.copyIn("COPY " + ident(t) + " (" + list + ") FROM STDIN");
            } catch (SQLException e) {
                reader.cancelCopy();
                throw e;
            }
            long n;
            try {
                for (byte[] row; (row = reader.readFromCopy()) != null; ) {
                    writer.writeToCopy(row, 0, row.length);
                }
                n = writer.endCopy();
            } catch (SQLException e) {
                if (writer.isActive()) {
                    writer.cancelCopy();
                }
                if (reader.isActive()) {
                    reader.cancelCopy();
                }
                throw new BackupException("表 " + t + " を写せません / cannot copy table " + t + ": "
                        + Messages.firstLine(e), e);
            }
            long sourceCount = count(from, t);
            long targetCount = count(to, t);
            if (n != sourceCount || targetCount != sourceCount) {
                throw new BackupException("表 " + t + " の行数が一致しません / table " + t + ": " + sourceCount
                        + " rows in the backup, " + targetCount + " on the target");
            }
            rows.put(t, n);
        }
        try (Statement st = to.createStatement()) {
            for (String t : tables) {
                st.execute("ALTER TABLE " + ident(t) + " ENABLE TRIGGER USER");
            }
        }
        return rows;
    }

    /** Sets every sequence of the target to the source's value (identity columns' and serial ones alike). */
    private static int copySequences(Connection from, Connection to) throws SQLException {
        int n = 0;
        try (Statement st = from.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT sequencename, last_value, start_value FROM pg_sequences WHERE schemaname = current_schema()");
             PreparedStatement set = to.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
            while (rs.next()) {
                long last = rs.getLong(2);
                boolean called = !rs.wasNull();
                set.setString(1, ident(rs.getString(1)));
                set.setLong(2, called ? last : rs.getLong(3));
                set.setBoolean(3, called);
                set.execute();
                n++;
            }
        }
        return n;
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + ident(table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A quoted identifier; the names come from the catalog, quoted all the same. */
    private static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static void rollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            log.warn("move: rollback failed: {}", e.toString());
        }
    }
}
