package jp.mamori.testing;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A primary and a hot standby of Debian's PostgreSQL 15 joined by streaming replication, synchronous so that a commit
 * the primary acknowledged is on the standby too (issue 18 §1, BACKUP-8; docs/continuity.md's reference deployment):
 * for failover tests, which kill the primary ({@link DebianPostgres#kill9}) and promote the standby
 * ({@link DebianPostgres#promote}). Skip without the packages with {@link DebianPostgres#assumeAvailable}.
 */
public final class ReplicatedPostgres implements AutoCloseable {
    private final DebianPostgres primary;
    private final DebianPostgres standby;

    private ReplicatedPostgres(DebianPostgres primary, DebianPostgres standby) {
        this.primary = primary;
        this.standby = standby;
    }

    /**
     * Starts the primary, copies it into the standby, and only then makes the primary wait for its standby at every
     * commit ({@code synchronous_standby_names = '*'}, {@code synchronous_commit = on}); returns once the standby
     * streams synchronously.
     */
    public static ReplicatedPostgres start() throws Exception {
        DebianPostgres p = DebianPostgres.start(Map.of("wal_level", "replica", "max_wal_senders", "5"));
        DebianPostgres s = null;
        try {
            s = DebianPostgres.standbyOf(p, Map.of());
            try (Connection c = p.superuser("postgres"); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET synchronous_standby_names = '*'");
                st.execute("SELECT pg_reload_conf()");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (true) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_replication"
                            + " WHERE sync_state = 'sync' AND state = 'streaming'")) {
                        rs.next();
                        if (rs.getInt(1) == 1) {
                            break;
                        }
                    }
                    assertTrue(System.nanoTime() < deadline, "the standby does not stream synchronously:\n"
                            + s.serverLog());
                    Thread.sleep(100);
                }
            }
            return new ReplicatedPostgres(p, s);
        } catch (Exception | Error e) {
            if (s != null) {
                s.close();
            }
            p.close();
            throw e;
        }
    }

    public DebianPostgres primary() {
        return primary;
    }

    public DebianPostgres standby() {
        return standby;
    }

    /** {@code jdbc:postgresql://127.0.0.1:P,127.0.0.1:S/DB?targetServerType=primary}: pgjdbc finds the primary. */
    public String jdbcUrl(String db) {
        return "jdbc:postgresql://127.0.0.1:" + primary.port() + ",127.0.0.1:" + standby.port() + "/" + db
                + "?targetServerType=primary";
    }

    @Override
    public void close() throws Exception {
        try {
            standby.close();
        } finally {
            primary.close();
        }
    }
}
