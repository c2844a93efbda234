package jp.mamori.records;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SQL for resources and their versions. Package-private: everything outside reaches records through
 * {@link RecordService}, which authorizes first.
 *
 * <p>Versions are only ever inserted. A write is one statement (data-modifying CTEs) that appends the
 * version, moves the head and rebuilds the search index rows, so it costs one round trip and one commit.
 */
final class RecordStore {

    /** The current state of a resource, as kept in {@code resource}. */
    record Head(long pk, String type, String id, int version, boolean deleted, String lifecycle, Instant lastUpdated,
                byte[] chain, Set<String> patients, Set<String> docCodes, Set<String> labels) {
        /** What the access decision needs about the current version. */
        jp.mamori.access.AccessPolicy.Subject subject() {
            return new jp.mamori.access.AccessPolicy.Subject(type, id, patients, docCodes, labels);
        }
    }

    /** One stored version, as kept in {@code resource_version}. */
    record Version(long pk, long seq, String type, String id, int version, Instant recordedAt, String author,
                   String reason, String operation, String lifecycle, byte[] body, byte[] contentSha256,
                   byte[] chainSha256) {
        boolean deleted() {
            return body == null;
        }

        /** Read without its body because the page's byte budget was spent before it: it starts the next page. */
        boolean withheld() {
            return body == null && !"delete".equals(operation);
        }
    }

    /** The index of the first version of {@code rows} whose body was withheld for the page's byte budget, or -1. */
    static int firstWithheld(List<Version> rows) {
        for (int i = 0; i < rows.size(); i++) {
            Version v = rows.get(i);
            if (v != null && v.withheld()) {
                return i;
            }
        }
        return -1;
    }

    private static final String VERSION_COLUMNS = versionColumns("v.body");

    private static String versionColumns(String body) {
        return "v.res_pk, v.seq, v.res_type, v.res_id, v.version, v.recorded_at, v.author, v.reason, v.operation,"
                + " v.lifecycle, " + body + ", v.content_sha256, v.chain_sha256";
    }

    /**
     * The version columns of a page read in {@code order}: a row's body is sent only while the bodies before it on
     * the page are fewer than {@code pageBytes} bytes (the first always is), else it is withheld (null) and the page
     * ends before it. {@code octet_length} of a stored body needs no decompression, so withheld bodies are never
     * read. With {@code Long.MAX_VALUE}, every body.
     */
    private static String pageColumns(long pageBytes, String order) {
        if (pageBytes == Long.MAX_VALUE) {
            return VERSION_COLUMNS;
        }
        return versionColumns("CASE WHEN coalesce(sum(octet_length(v.body)) OVER (ORDER BY " + order
                + " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) < " + pageBytes + " THEN v.body END");
    }

    static Version version(ResultSet rs) throws SQLException {
        return version(rs, 1);
    }

    /** The version whose {@link #VERSION_COLUMNS} start at column {@code at}. */
    private static Version version(ResultSet rs, int at) throws SQLException {
        return new Version(rs.getLong(at), rs.getLong(at + 1), rs.getString(at + 2), rs.getString(at + 3),
                rs.getInt(at + 4), rs.getTimestamp(at + 5).toInstant(), rs.getString(at + 6), rs.getString(at + 7),
                rs.getString(at + 8), rs.getString(at + 9), rs.getBytes(at + 10), rs.getBytes(at + 11),
                rs.getBytes(at + 12)); // a text column's bytes are its UTF-8
    }

    /**
     * The head of a resource, or null. With {@code lock}, the head row is locked for the rest of the
     * transaction, by {@code mamori_lock_head} (V14): taking the row lock needs the UPDATE privilege, which the
     * runtime role does not hold. The lock is taken on {@code resource} alone: after waiting for a concurrent writer,
     * PostgreSQL re-reads the locked row but not the rows joined to it, so a join to the version would lose the head.
     * The chain value is then read by a second statement, whose fresh snapshot sees the version that the concurrent
     * writer committed (in the function when locking, so that it costs one round trip).
     */
    Head head(Connection c, String type, String id, boolean lock) throws SQLException {
        if (lock) {
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM mamori_lock_head(?, ?)")) {
                ps.setString(1, type);
                ps.setString(2, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long pk = rs.getLong(1);
                    if (rs.wasNull()) {
                        return null;
                    }
                    return new Head(pk, type, id, rs.getInt(2), rs.getBoolean(3), rs.getString(4),
                            rs.getTimestamp(5).toInstant(), rs.getBytes(9), texts(rs, 6), texts(rs, 7), texts(rs, 8));
                }
            }
        }
        long pk;
        int version;
        boolean deleted;
        String lifecycle;
        Instant lastUpdated;
        Set<String>[] subject = newSets();
        try (PreparedStatement ps = c.prepareStatement("SELECT res_pk, version, deleted, lifecycle, last_updated,"
                + " patients, doc_codes, labels FROM resource WHERE res_type = ? AND res_id = ?")) {
            ps.setString(1, type);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                pk = rs.getLong(1);
                version = rs.getInt(2);
                deleted = rs.getBoolean(3);
                lifecycle = rs.getString(4);
                lastUpdated = rs.getTimestamp(5).toInstant();
                for (int i = 0; i < 3; i++) {
                    subject[i] = texts(rs, 6 + i);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT chain_sha256 FROM resource_version WHERE res_pk = ? AND version = ?")) {
            ps.setLong(1, pk);
            ps.setInt(2, version);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("resource " + type + "/" + id + " has no stored version " + version,
                            "XX000");
                }
                return new Head(pk, type, id, version, deleted, lifecycle, lastUpdated, rs.getBytes(1), subject[0],
                        subject[1], subject[2]);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Set<String>[] newSets() {
        return (Set<String>[]) new Set<?>[3];
    }

    /** The current version of a resource (which may be a deletion), or null if it never existed. */
    Version current(Connection c, String type, String id) throws SQLException {
        Current cur = current(c, type, id, false);
        return cur == null ? null : cur.version();
    }

    /** A current version and, when asked for, what the access decision needs about it (else null). */
    record Current(Version version, jp.mamori.access.AccessPolicy.Subject subject) {
    }

    /**
     * As {@link #current(Connection, String, String)}; with {@code withSubject}, also the access columns the head
     * keeps for that version (written by the same statement as the version), in the same query: a person's read
     * is decided without parsing and indexing the body again.
     */
    Current current(Connection c, String type, String id, boolean withSubject) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + VERSION_COLUMNS
                + (withSubject ? ", r.patients, r.doc_codes, r.labels" : "")
                + " FROM resource r JOIN resource_version v ON v.res_pk = r.res_pk AND v.version = r.version"
                + " WHERE r.res_type = ? AND r.res_id = ?")) {
            ps.setString(1, type);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Version v = version(rs);
                return new Current(v, withSubject ? subject(v, rs) : null);
            }
        }
    }

    Version version(Connection c, String type, String id, int version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + VERSION_COLUMNS
                + " FROM resource r JOIN resource_version v ON v.res_pk = r.res_pk"
                + " WHERE r.res_type = ? AND r.res_id = ? AND v.version = ?")) {
            ps.setString(1, type);
            ps.setString(2, id);
            ps.setInt(3, version);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? version(rs) : null;
            }
        }
    }

    /** Current versions of the given resources, in the order of {@code pks}. Deleted ones are skipped. */
    List<Version> currentByPk(Connection c, List<Long> pks) throws SQLException {
        return currentByPk(c, pks, null, Long.MAX_VALUE);
    }

    /**
     * As {@link #currentByPk(Connection, List)}; with {@code subjects}, also what the access decision needs about
     * each version (kept on the head), in the same query.
     */
    List<Version> currentByPk(Connection c, List<Long> pks, Map<Long, jp.mamori.access.AccessPolicy.Subject> subjects,
                              long pageBytes) throws SQLException {
        if (pks.isEmpty()) {
            return List.of();
        }
        List<Version> out = new ArrayList<>(pks.size());
        try (PreparedStatement ps = c.prepareStatement("SELECT " + pageColumns(pageBytes, "k.ord")
                + (subjects == null ? "" : ", r.patients, r.doc_codes, r.labels")
                + " FROM unnest(?::bigint[]) WITH ORDINALITY AS k(pk, ord)"
                + " JOIN resource r ON r.res_pk = k.pk"
                + " JOIN resource_version v ON v.res_pk = r.res_pk AND v.version = r.version"
                + " WHERE NOT r.deleted ORDER BY k.ord")) {
            ps.setArray(1, c.createArrayOf("bigint", pks.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Version v = version(rs);
                    out.add(v);
                    if (subjects != null) {
                        subjects.put(v.pk(), subject(v, rs));
                    }
                }
            }
        }
        return out;
    }

    /** What the access decision needs about {@code v}: the head's access columns, selected after the version's. */
    private static jp.mamori.access.AccessPolicy.Subject subject(Version v, ResultSet rs) throws SQLException {
        return new jp.mamori.access.AccessPolicy.Subject(v.type(), v.id(), texts(rs, 14), texts(rs, 15), texts(rs, 16));
    }

    private static Set<String> texts(ResultSet rs, int column) throws SQLException {
        java.sql.Array a = rs.getArray(column);
        return a == null ? Set.of() : Set.copyOf(java.util.Arrays.asList((String[]) a.getArray()));
    }

    /**
     * A resource head as a search examines it: its key, whether it is deleted, what the access decision needs about
     * its current version, and that version itself when asked for (else null; also null when deleted).
     */
    record Examined(long pk, boolean deleted, jp.mamori.access.AccessPolicy.Subject subject, Version version) {
    }

    /**
     * The heads of the resources that {@code keysSql} selects (a query of {@code res_pk} alone), in ascending key
     * order, one per key, each with its access columns and, with {@code withVersions}, its current version, in one
     * statement; {@code bind} sets the arguments of {@code keysSql}.
     */
    List<Examined> examine(Connection c, String keysSql, SqlConsumer<PreparedStatement> bind, boolean withVersions,
                           long pageBytes) throws SQLException {
        List<Examined> out = new ArrayList<>();
        // Decoding an array costs more than the rest of a row: a row of one patient and no document type or label,
        // nearly every row, sends its patient as text and no arrays.
        try (PreparedStatement ps = c.prepareStatement("SELECT r.res_pk, r.deleted, r.res_type, r.res_id,"
                + " CASE WHEN cardinality(r.patients) = 1 THEN r.patients[1] END,"
                + " CASE WHEN cardinality(r.patients) > 1 THEN r.patients END,"
                + " nullif(r.doc_codes, '{}'), nullif(r.labels, '{}')"
                + (withVersions ? ", " + pageColumns(pageBytes, "k.res_pk") : "")
                + " FROM (" + keysSql
                + ") k JOIN resource r ON r.res_pk = k.res_pk"
                + (withVersions ? " JOIN resource_version v ON v.res_pk = r.res_pk AND v.version = r.version" : "")
                + " ORDER BY k.res_pk")) {
            bind.accept(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    boolean deleted = rs.getBoolean(2);
                    String onePatient = rs.getString(5);
                    out.add(new Examined(rs.getLong(1), deleted, new jp.mamori.access.AccessPolicy.Subject(
                            rs.getString(3), rs.getString(4), onePatient != null ? Set.of(onePatient) : texts(rs, 6),
                            texts(rs, 7), texts(rs, 8)), withVersions && !deleted ? version(rs, 9) : null));
                }
            }
        }
        return out;
    }

    /**
     * Appends {@code v} and makes it current; {@code previous} is null for a new resource. The caller holds
     * the head's row lock (or, for a new resource, the unique key decides who wins). Returns the res_pk.
     *
     * <p>One call of {@code mamori_write_version} (V14), which runs as the owner: the runtime role may not write the
     * head, the versions or the index rows itself. The function appends the version, derives the head from it and
     * replaces the index rows with {@code rows}, which must be those of {@code v}'s body (ADR 0002).
     */
    long write(Connection c, Head previous, Version v, IndexRows rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(WRITE_SQL)) {
            int i = 1;
            if (previous == null) {
                ps.setNull(i++, java.sql.Types.INTEGER);
            } else {
                ps.setInt(i++, previous.version());
            }
            ps.setString(i++, v.type());
            ps.setString(i++, v.id());
            ps.setInt(i++, v.version());
            ps.setTimestamp(i++, Timestamp.from(v.recordedAt()));
            ps.setString(i++, v.author());
            ps.setString(i++, v.reason());
            ps.setString(i++, v.operation());
            ps.setString(i++, v.lifecycle());
            ps.setString(i++, v.body() == null ? null : new String(v.body(), StandardCharsets.UTF_8));
            ps.setBytes(i++, v.contentSha256());
            ps.setBytes(i++, v.chainSha256());
            ps.setArray(i++, c.createArrayOf("text", rows.patients(v.type(), v.id()).toArray()));
            ps.setArray(i++, c.createArrayOf("text", rows.docCodes().toArray()));
            ps.setArray(i++, c.createArrayOf("text", rows.labels().toArray()));
            i = texts(c, ps, i, rows.strings, IndexRows.Str::param, IndexRows.Str::norm, IndexRows.Str::exact);
            i = texts(c, ps, i, rows.tokens, IndexRows.Token::param, IndexRows.Token::system, IndexRows.Token::code,
                    IndexRows.Token::display);
            i = texts(c, ps, i, rows.dates, IndexRows.Date::param);
            ps.setArray(i++, times(c, rows.dates, IndexRows.Date::lo));
            ps.setArray(i++, times(c, rows.dates, IndexRows.Date::hi));
            i = texts(c, ps, i, rows.refs, IndexRows.Ref::param, IndexRows.Ref::targetType, IndexRows.Ref::targetId,
                    IndexRows.Ref::url);
            i = texts(c, ps, i, rows.quantities, IndexRows.Quantity::param);
            ps.setArray(i++, c.createArrayOf("numeric",
                    rows.quantities.stream().map(IndexRows.Quantity::value).toArray(BigDecimal[]::new)));
            i = texts(c, ps, i, rows.quantities, IndexRows.Quantity::system, IndexRows.Quantity::code);
            i = texts(c, ps, i, rows.uris, IndexRows.Uri::param, IndexRows.Uri::uri);
            i = texts(c, ps, i, rows.places, IndexRows.Place::patientId, IndexRows.Place::place);
            ps.setArray(i++, times(c, rows.places, IndexRows.Place::starts));
            ps.setArray(i, times(c, rows.places, IndexRows.Place::ends));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long pk = rs.getLong(1);
                if (rs.wasNull()) {
                    // The head moved between our lock and the write: cannot happen under the row lock.
                    throw new SQLException("version conflict on " + v.type() + "/" + v.id(), "40001");
                }
                return pk;
            }
        }
    }

    private static final String WRITE_SQL = "SELECT mamori_write_version(" + "?, ".repeat(38) + "?)";

    /**
     * Binds one text array per column of {@code rows} from {@code at}, and returns the next index. Empty arrays rather
     * than nulls, so that every execution sends the same parameter types and the driver keeps the statement prepared.
     */
    @SafeVarargs
    private static <T> int texts(Connection c, PreparedStatement ps, int at, Collection<T> rows,
                                 java.util.function.Function<T, String>... columns) throws SQLException {
        for (var f : columns) {
            ps.setArray(at++, texts(c, rows, f));
        }
        return at;
    }

    private static <T> Array times(Connection c, Collection<T> rows, java.util.function.Function<T, OffsetDateTime> f)
            throws SQLException {
        return c.createArrayOf("timestamptz", rows.stream().map(f)
                .map(t -> t == null ? null : ts(t)).toArray());
    }

    private static Timestamp ts(OffsetDateTime t) {
        return Timestamp.from(t.toInstant());
    }

    private static <T> Array texts(Connection c, Collection<T> rows, java.util.function.Function<T, String> f)
            throws SQLException {
        return c.createArrayOf("text", rows.stream().map(f).toArray(String[]::new));
    }

    /** Versions of one resource, newest first, starting below {@code beforeVersion} (exclusive). */
    List<Version> instanceHistory(Connection c, long pk, int beforeVersion, Instant since, int limit, long pageBytes)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + pageColumns(pageBytes, "v.version DESC")
                + " FROM resource_version v"
                + " WHERE v.res_pk = ? AND v.version < ? AND v.recorded_at >= ? ORDER BY v.version DESC LIMIT ?")) {
            ps.setLong(1, pk);
            ps.setInt(2, beforeVersion);
            ps.setTimestamp(3, Timestamp.from(since));
            ps.setInt(4, limit);
            return list(ps);
        }
    }

    /** Versions of a type (or of all types when {@code type} is null), newest first, below {@code beforeSeq}. */
    List<Version> history(Connection c, String type, long beforeSeq, Instant since, int limit, long pageBytes)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + pageColumns(pageBytes, "v.seq DESC")
                + " FROM resource_version v"
                + " WHERE " + (type == null ? "" : "v.res_type = ? AND ")
                + "v.seq < ? AND v.recorded_at >= ? ORDER BY v.seq DESC LIMIT ?")) {
            int i = 1;
            if (type != null) {
                ps.setString(i++, type);
            }
            ps.setLong(i++, beforeSeq);
            ps.setTimestamp(i++, Timestamp.from(since));
            ps.setInt(i, limit);
            return list(ps);
        }
    }

    /** How many versions of a type (or of all types when {@code type} is null) were recorded at or after {@code since}. */
    int countHistory(Connection c, String type, Instant since) throws SQLException {
        return countHistory(c, type, null, since);
    }

    /** The number of versions since {@code since}: of one resource ({@code pk}), of a type, or of every type. */
    int countHistory(Connection c, String type, Long pk, Instant since) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM resource_version v WHERE "
                + (pk != null ? "v.res_pk = ? AND " : type == null ? "" : "v.res_type = ? AND ")
                + "v.recorded_at >= ?")) {
            int i = 1;
            if (pk != null) {
                ps.setLong(i++, pk);
            } else if (type != null) {
                ps.setString(i++, type);
            }
            ps.setTimestamp(i, Timestamp.from(since));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return (int) Math.min(Integer.MAX_VALUE, rs.getLong(1));
            }
        }
    }

    private static List<Version> list(PreparedStatement ps) throws SQLException {
        List<Version> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(version(rs));
            }
        }
        return out;
    }

    /**
     * Every stored version in (resource, version) order, streamed; for verification. A server-side cursor needs a
     * transaction: in autocommit, one is opened for the stream; otherwise the caller's is used.
     */
    void forEachVersion(Connection c, SqlConsumer<Version> consumer) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("SELECT " + VERSION_COLUMNS
                + " FROM resource_version v ORDER BY v.res_pk, v.version")) {
            ps.setFetchSize(1000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    consumer.accept(version(rs));
                }
            }
        } finally {
            if (auto) {
                c.commit();
                c.setAutoCommit(true);
            }
        }
    }

    /** Every version's hashes, resource by resource and version by version, through {@code c}'s transaction. */
    static void forEachVersionHashes(Connection c, SqlConsumer<RecordService.VersionHashes> each)
            throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false); // a cursor, not the whole table in memory
        try (PreparedStatement ps = c.prepareStatement("SELECT v.res_type, v.res_id, v.version, v.content_sha256,"
                + " v.chain_sha256 FROM resource_version v ORDER BY v.res_pk, v.version")) {
            ps.setFetchSize(5000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    each.accept(new RecordService.VersionHashes(rs.getString(1), rs.getString(2), rs.getInt(3),
                            rs.getBytes(4), rs.getBytes(5)));
                }
            }
        } finally {
            if (auto) {
                c.commit();
                c.setAutoCommit(true);
            }
        }
    }

    @FunctionalInterface
    interface SqlConsumer<T> {
        void accept(T t) throws SQLException;
    }
}
