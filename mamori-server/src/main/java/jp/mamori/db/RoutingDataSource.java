package jp.mamori.db;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;

/**
 * The data source behind {@link Database#dataSource()} when the database URL names several hosts (issue 18 §2,
 * ADR 0013): normally the pool that finds the primary ({@code targetServerType=primary}); while degraded, a second
 * pool that accepts a standby, whose connections are also marked read-only. With the primary down the first pool
 * finds no host at all, so without this the reads that degraded mode promises would fail too.
 *
 * <p>With one host (the embedded server, a single external server) there is no second pool: the one pool's
 * connections go to the only server there is, and it refuses writes by itself while read-only.
 */
public final class RoutingDataSource implements DataSource {
    private final DataSource write;
    private final DataSource read;
    private final java.util.function.BooleanSupplier degraded;

    public RoutingDataSource(DataSource write, DataSource read, java.util.function.BooleanSupplier degraded) {
        this.write = write;
        this.read = read;
        this.degraded = degraded;
    }

    /** The pool for now; {@code degraded} is false while degraded mode is being left (its preparers write). */
    private DataSource current() {
        return degraded.getAsBoolean() ? read : write;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (!degraded.getAsBoolean()) {
            return write.getConnection(); // normal, or writing what degraded mode held before leaving it
        }
        Connection c = read.getConnection();
        c.setReadOnly(true);
        return c;
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("the pools log in with their own credentials");
    }

    /** The primary's pool (the metrics read its state); the standby's pool is reached only through routing. */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return write.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || write.isWrapperFor(iface);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return current().getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        write.setLogWriter(out);
        read.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        write.setLoginTimeout(seconds);
        read.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return current().getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }
}
