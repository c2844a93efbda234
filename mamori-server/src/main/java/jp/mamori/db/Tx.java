package jp.mamori.db;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** Runs work in one database transaction: all of it commits, or none of it does. */
public final class Tx {
    private Tx() {
    }

    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction and commits. Any exception rolls the transaction back and is
     * rethrown; an {@link SQLException} is wrapped in {@link DataAccessException}.
     */
    public static <T> T inTransaction(DataSource ds, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            Throwable failed = null;
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                failed = e;
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException restoring) {
                    // the connection broke with what the work or the commit threw (a lost database, issue 18 §1):
                    // that failure is the one thrown, so that it is known as retryable, not "connection is closed"
                    if (failed == null) {
                        throw restoring;
                    }
                    failed.addSuppressed(restoring);
                }
            }
        } catch (SQLException e) {
            throw new DataAccessException(e);
        }
    }

    /**
     * Runs read-only work in one snapshot: a read-only, repeatable-read transaction, so that what it reads hangs
     * together however others write meanwhile (a verifier's reads). The connection's settings are restored before it
     * goes back to the pool; when restoring fails because the connection broke with what the work threw, that failure
     * is the one thrown, with the restoring one suppressed in it.
     */
    public static <T> T snapshot(DataSource ds, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            Throwable failed = null;
            try {
                return work.run(c);
            } catch (SQLException | RuntimeException | Error e) {
                failed = e;
                throw e;
            } finally {
                try {
                    c.rollback();
                    c.setReadOnly(false);
                    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                    c.setAutoCommit(true);
                } catch (SQLException restoring) {
                    if (failed == null) {
                        throw restoring;
                    }
                    failed.addSuppressed(restoring);
                }
            }
        } catch (SQLException e) {
            throw new DataAccessException(e);
        }
    }

    /** Runs read-only work on a pooled connection in autocommit mode. */
    public static <T> T read(DataSource ds, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new DataAccessException(e);
        }
    }
}
