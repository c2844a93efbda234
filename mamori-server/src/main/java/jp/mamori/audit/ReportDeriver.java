package jp.mamori.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Derives the report columns of stored entries after their durable point (issue 24; ADR 0006, "The report columns
 * after the durable point"). An entry is durable once its canonical bytes are in {@code audit_log}; the columns that
 * reports filter on (who, whose records, what, when) are derived from those bytes by the database
 * ({@code mamori_audit_report}, V20), in bulk, every {@link #PERIOD_MILLIS} ms by every server process (one at a time).
 * Reports never wait for it: the view {@code audit_entry} parses the entries not yet derived.
 */
public final class ReportDeriver implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ReportDeriver.class);
    /** How often the deriver runs. */
    public static final long PERIOD_MILLIS = 200;
    /** Entries per statement at most. */
    static final int BATCH = 5000;

    private final DataSource ds;
    private volatile long lastWarning;

    public ReportDeriver(DataSource ds) {
        this.ds = ds;
    }

    /** Derives everything stored so far (in statements of {@link #BATCH}); returns how many entries. */
    public static long catchUp(DataSource ds) throws SQLException {
        long total = 0;
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT mamori_audit_report(?)")) {
            ps.setInt(1, BATCH);
            while (true) {
                int n;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n = rs.getInt(1);
                }
                total += n;
                if (n < BATCH) {
                    return total;
                }
            }
        }
    }

    @Override
    public void run() {
        try {
            catchUp(ds);
        } catch (SQLException | RuntimeException e) {
            long now = System.currentTimeMillis();
            if (now - lastWarning > 60_000) { // the database may be down for a while: once a minute is enough
                lastWarning = now;
                log.warn("audit: report columns could not be derived (reports still see every entry): {}",
                        e.toString());
            }
        }
    }
}
