package jp.mamori.preservation;

import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.testing.TestData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A real embedded database on a new data folder, opened as the server opens it, with a superuser session. */
final class TestDb implements AutoCloseable {
    final Path dataDir;
    final Database db;

    private TestDb(Path dataDir, Database db) {
        this.dataDir = dataDir;
        this.db = db;
    }

    static TestDb start(String prefix) throws Exception {
        Path data = TestData.newDatabaseFolder(prefix);
        return open(data);
    }

    static TestDb open(Path data) {
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", data.toString()), Map.of());
        return new TestDb(data, Database.open(cfg.database(), data, 2));
    }

    Path pgData() {
        return dataDir.resolve("pg");
    }

    Path spool() {
        return Database.walSpool(dataDir);
    }

    Connection superuser() throws Exception {
        return superuser(dataDir);
    }

    static Connection superuser(Path dataDir) throws Exception {
        String port = Files.readString(dataDir.resolve("runtime").resolve("db-port")).trim();
        String pw = Files.readString(dataDir.resolve("secrets").resolve("db-superuser-password")).trim();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", pw);
    }

    /** Closes the current segment and waits until the archiver has put it into the spool. */
    static String switchAndArchive(Connection c) throws Exception {
        String seg;
        try (Statement st = c.createStatement()) {
            // pg_switch_wal does nothing on an empty segment: write something first.
            st.execute("SELECT pg_logical_emit_message(false, 'mamori-test', 'switch')");
            try (ResultSet rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                rs.next();
                seg = rs.getString(1);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) {
                    rs.next();
                    String last = rs.getString(1);
                    if (!last.isEmpty() && last.substring(0, 24).compareTo(seg) >= 0) {
                        return seg;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("segment " + seg + " was not archived in time");
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
