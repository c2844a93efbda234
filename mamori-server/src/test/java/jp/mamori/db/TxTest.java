package jp.mamori.db;

import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A transaction whose connection breaks (the database lost mid-write, issue 18 §1) fails with the work's own failure,
 * so that it is known as retryable (503), not with the pool's "connection is closed" from restoring the connection
 * afterwards (which FailoverTest met as a 500).
 */
class TxTest {
    /** A connection that breaks: after the first failure every call fails as the pool's closed connection does. */
    private static DataSource breaking() {
        boolean[] broken = {false};
        Connection c = (Connection) Proxy.newProxyInstance(TxTest.class.getClassLoader(), new Class<?>[]{Connection.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "close" -> {
                            return null;
                        }
                        case "setAutoCommit", "rollback", "commit" -> {
                            if (broken[0]) {
                                throw new SQLException("Connection is closed");
                            }
                            if (method.getName().equals("commit")) {
                                broken[0] = true;
                                throw new SQLException("An I/O error occurred while sending to the backend.", "08006");
                            }
                            return null;
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    }
                });
        return (DataSource) Proxy.newProxyInstance(TxTest.class.getClassLoader(), new Class<?>[]{DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        return c;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void aCommitCutOffByALostConnectionFailsAsRetryable() {
        DataAccessException e = assertThrows(DataAccessException.class, () -> Tx.inTransaction(breaking(), c -> 1));
        assertEquals("08006", e.sqlState());
        assertTrue(Availability.retryable(e));
        assertTrue(e.getCause().getSuppressed().length >= 1, "the restoring failure is kept, suppressed");
    }
}
