package jp.mamori.db;

import java.sql.SQLException;

/** A database failure. Never shown to a client: the error mapper turns it into a plain 500/503. */
public final class DataAccessException extends RuntimeException {
    public DataAccessException(SQLException cause) {
        super(cause.getMessage(), cause);
    }

    public String sqlState() {
        return ((SQLException) getCause()).getSQLState();
    }
}
