package jp.mamori.records;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What the retention capability may ask of the record store about records past retention, and the one Java caller of
 * the physical removal ({@code mamori_dispose}, V17; ADR 0011). Records owns its tables, so every statement naming
 * them is here; retention owns the rules, holds and batches and passes what it decided as parameters. On the caller's
 * connection.
 *
 * <p>The unit of disposal is a patient's compartment: every resource whose head names the patient (the head's
 * {@code patients}, from the same index rows as the access decision; the Patient names itself). A patient is a
 * candidate when (STORE-6, DISPOSAL-5):
 * <ul>
 *   <li>the newest entry of anything in the compartment ({@code last_updated}, the newest version's recorded_at) plus
 *       the longest period among the kinds present is before {@code now} ("after the last entry", conservatively for
 *       the whole patient: a patient still being treated keeps everything);</li>
 *   <li>no resource of the compartment also names another patient (a shared record stays);</li>
 *   <li>no resource outside the compartment references one inside it, by the search index of current versions
 *       ({@code sp_reference}); older versions' references are not followed (ADR 0011 says why).</li>
 * </ul>
 */
public final class RecordDisposal {
    private RecordDisposal() {
    }

    /** The period of each FHIR type (by kind), and the one for every other type. */
    public record Periods(Map<String, Integer> yearsByType, int otherYears) {
        public Periods {
            yearsByType = Map.copyOf(yearsByType);
        }
    }

    /**
     * A patient past retention.
     *
     * @param name      the family and given names of the current Patient, or null
     * @param lastEntry the newest recorded_at in the compartment
     * @param years     the longest period among the kinds present
     * @param due       lastEntry plus years: the day from which disposal is allowed
     */
    public record Candidate(String patientId, String name, Instant lastEntry, int resources, long versions, int years,
                            Instant due) {
    }

    /** One resource of a compartment, as a batch freezes it. */
    public record Item(String type, String id, int versions, byte[] lastChain, Instant lastEntry) {
    }

    /** One version removed, as the removal function returned it. */
    public record Removed(String type, String id, int version, Instant recordedAt, byte[] content, byte[] chain) {
    }

    /** A disposed resource's tombstone. */
    public record Tombstone(String type, String id, int versions, byte[] lastChain, long batch, Instant disposedAt) {
    }

    private static final String CANDIDATES = "SELECT p.res_id, (SELECT min(s.exact) FROM sp_string s"
            + " WHERE s.res_pk = p.res_pk AND s.param = 'family') || ' ' || coalesce((SELECT min(s.exact)"
            + " FROM sp_string s WHERE s.res_pk = p.res_pk AND s.param = 'given'), ''), a.last_entry, a.n, a.versions,"
            + " a.years, a.last_entry + make_interval(years => a.years)"
            + " FROM resource p CROSS JOIN LATERAL (SELECT max(c.last_updated) AS last_entry, count(*)::int AS n,"
            + "   sum(c.version)::bigint AS versions,"
            + "   max(coalesce((SELECT y.years FROM unnest(?::text[], ?::int[]) AS y(t, years) WHERE y.t = c.res_type),"
            + "       ?)) AS years,"
            + "   bool_or(cardinality(c.patients) > 1) AS shared,"
            + "   bool_or(EXISTS (SELECT 1 FROM sp_reference s JOIN resource src ON src.res_pk = s.res_pk"
            + "       WHERE s.target_type = c.res_type AND s.target_id = c.res_id"
            + "         AND NOT (p.res_id = ANY(src.patients)))) AS referenced"
            + "   FROM resource c WHERE c.patients @> ARRAY[p.res_id]) a"
            + " WHERE p.res_type = 'Patient' AND NOT p.deleted AND NOT (p.res_id = ANY(?::text[]))"
            + "   AND NOT a.shared AND NOT a.referenced"
            + "   AND a.last_entry + make_interval(years => a.years) <= ?";

    /**
     * The candidates after {@code afterPatient} (null: from the first) in patient id order, at most {@code limit}:
     * PostgreSQL walks the patients in order and stops at {@code limit} matches, so nothing unbounded is held.
     *
     * @param excluded patients never to list (legal holds), at most a few thousand
     */
    public static List<Candidate> candidates(Connection c, Periods periods, Collection<String> excluded, Instant now,
                                             String afterPatient, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CANDIDATES + " AND p.res_id > ? ORDER BY p.res_id LIMIT ?")) {
            int i = bind(c, ps, periods, excluded, now);
            ps.setString(i++, afterPatient == null ? "" : afterPatient);
            ps.setInt(i, Math.max(1, Math.min(limit, 500)));
            return read(ps);
        }
    }

    /** The patient if it is a candidate now (checked again when a batch is proposed). */
    public static Optional<Candidate> candidate(Connection c, Periods periods, Collection<String> excluded, Instant now,
                                                String patientId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CANDIDATES + " AND p.res_id = ?")) {
            int i = bind(c, ps, periods, excluded, now);
            ps.setString(i, patientId);
            List<Candidate> l = read(ps);
            return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
        }
    }

    private static int bind(Connection c, PreparedStatement ps, Periods periods, Collection<String> excluded,
                            Instant now) throws SQLException {
        List<String> types = new ArrayList<>(periods.yearsByType().keySet());
        Integer[] years = types.stream().map(periods.yearsByType()::get).toArray(Integer[]::new);
        ps.setArray(1, c.createArrayOf("text", types.toArray()));
        ps.setArray(2, c.createArrayOf("integer", years));
        ps.setInt(3, periods.otherYears());
        ps.setArray(4, c.createArrayOf("text", excluded.toArray()));
        ps.setTimestamp(5, Timestamp.from(now));
        return 6;
    }

    private static List<Candidate> read(PreparedStatement ps) throws SQLException {
        List<Candidate> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(2);
                out.add(new Candidate(rs.getString(1), name == null || name.isBlank() ? null : name.strip(),
                        rs.getTimestamp(3).toInstant(), rs.getInt(4), rs.getLong(5), rs.getInt(6),
                        rs.getTimestamp(7).toInstant()));
            }
        }
        return out;
    }

    /**
     * Every resource of the patient's compartment with its version count and newest chain hash, at most {@code max}
     * (more: empty, so that the caller refuses the patient rather than freeze part of it).
     */
    public static Optional<List<Item>> compartment(Connection c, String patientId, int max) throws SQLException {
        List<Item> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT r.res_type, r.res_id, r.version, v.chain_sha256,"
                + " r.last_updated FROM resource r JOIN resource_version v ON v.res_pk = r.res_pk"
                + " AND v.version = r.version WHERE r.patients @> ARRAY[?::text] ORDER BY r.res_type, r.res_id LIMIT ?")) {
            ps.setString(1, patientId);
            ps.setInt(2, max + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Item(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getBytes(4),
                            rs.getTimestamp(5).toInstant()));
                }
            }
        }
        return out.size() > max ? Optional.empty() : Optional.of(out);
    }

    /**
     * Calls the removal function on {@code owner}, a connection logged in as the database owner (the runtime role may
     * not execute it), in the caller's transaction: the caller commits it together with the audit entry it stages.
     *
     * @throws SQLException state MD001 (batch not open, not approved twice, empty) or MD002 (stale: a resource changed,
     *                      is gone or is still referenced)
     */
    public static List<Removed> dispose(Connection owner, long batch, String by, String byName) throws SQLException {
        List<Removed> out = new ArrayList<>();
        try (PreparedStatement ps = owner.prepareStatement("SELECT o_type, o_id, o_version, o_recorded_at, o_content,"
                + " o_chain FROM mamori_dispose(?, ?, ?)")) {
            ps.setLong(1, batch);
            ps.setString(2, by);
            ps.setString(3, byName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Removed(rs.getString(1), rs.getString(2), rs.getInt(3),
                            rs.getTimestamp(4).toInstant(), rs.getBytes(5), rs.getBytes(6)));
                }
            }
        }
        return out;
    }

    /** The names (family given) of these current Patients, for a page a person reads; at most 1000. */
    public static Map<String, String> names(Connection c, Collection<String> patientIds) throws SQLException {
        Map<String, String> out = new java.util.HashMap<>();
        if (patientIds.isEmpty() || patientIds.size() > 1000) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT p.res_id, (SELECT min(s.exact) FROM sp_string s"
                + " WHERE s.res_pk = p.res_pk AND s.param = 'family') || ' ' || coalesce((SELECT min(s.exact)"
                + " FROM sp_string s WHERE s.res_pk = p.res_pk AND s.param = 'given'), '') FROM resource p"
                + " WHERE p.res_type = 'Patient' AND p.res_id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", patientIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getString(2) != null && !rs.getString(2).isBlank()) {
                        out.put(rs.getString(1), rs.getString(2).strip());
                    }
                }
            }
        }
        return out;
    }

    /** The tombstone of {@code type/id}, if it was disposed of. */
    public static Optional<Tombstone> tombstone(Connection c, String type, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT res_type, res_id, versions, last_chain, batch_id,"
                + " disposed_at FROM resource_tombstone WHERE res_type = ? AND res_id = ?")) {
            ps.setString(1, type);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(tombstone(rs)) : Optional.empty();
            }
        }
    }

    /** Every tombstone, in batch order, streamed. */
    public static void forEachTombstone(Connection c, Consumer<Tombstone> each) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false); // a cursor: the driver fetches in chunks only inside a transaction
        try (PreparedStatement ps = c.prepareStatement("SELECT res_type, res_id, versions, last_chain, batch_id,"
                + " disposed_at FROM resource_tombstone ORDER BY batch_id, res_type, res_id")) {
            ps.setFetchSize(1000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    each.accept(tombstone(rs));
                }
            }
        } finally {
            c.rollback();
            c.setAutoCommit(auto);
        }
    }

    private static Tombstone tombstone(ResultSet rs) throws SQLException {
        return new Tombstone(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getBytes(4), rs.getLong(5),
                rs.getTimestamp(6).toInstant());
    }

    /**
     * Of these resources ({@code Type/id}), the ones that neither exist nor have a tombstone: a record that vanished
     * outside the disposal path. At most 1000 at a time.
     */
    public static Set<String> vanished(Connection c, Collection<String> typeSlashIds) throws SQLException {
        if (typeSlashIds.size() > 1000) {
            throw new IllegalArgumentException("at most 1000 resources at a time");
        }
        Set<String> out = new LinkedHashSet<>();
        if (typeSlashIds.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT x FROM unnest(?::text[]) x"
                + " WHERE NOT EXISTS (SELECT 1 FROM resource r WHERE r.res_type = split_part(x, '/', 1)"
                + "   AND r.res_id = split_part(x, '/', 2))"
                + " AND NOT EXISTS (SELECT 1 FROM resource_tombstone t WHERE t.res_type = split_part(x, '/', 1)"
                + "   AND t.res_id = split_part(x, '/', 2))")) {
            Array a = c.createArrayOf("text", typeSlashIds.toArray());
            ps.setArray(1, a);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
