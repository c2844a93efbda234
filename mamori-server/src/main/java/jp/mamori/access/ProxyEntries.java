package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.identity.People;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The queue of proxy entries (代行入力, issue 18 §4): notes entered by one person on behalf of another, who approves
 * them (承認). One row per entry (table {@code proxy_entry}, V21), pending until the responsible person approves it
 * or it is withdrawn; rows are never deleted and are closed once. The note carries the same facts itself (an
 * extension on the Composition); this queue lets the responsible person's list, the home page's count and the
 * administrators' escalation find pending entries without reading clinical content (an administrator learns how
 * many wait and for whom, never what they say).
 *
 * <p>Who may enter for whom is decided by {@link AccessPolicy#mayEnterFor}; this class only lists the people that
 * decision is asked about, and reads their contexts.
 */
public final class ProxyEntries {
    /** One entry as the queue knows it. */
    public record Entry(String compositionId, String patientId, UUID enteredBy, String enteredByName, UUID responsible,
                        String responsibleName, Instant enteredAt, String state) {
        public boolean pending() {
            return "pending".equals(state);
        }
    }

    /** Someone a person may enter for, by name. */
    public record Candidate(UUID accountId, String name) {
    }

    private static final String COLUMNS = "SELECT composition_id, patient_id, entered_by, responsible, entered_at, state"
            + " FROM proxy_entry";

    private final DataSource ds;
    private final Clock clock;
    private final Duration escalateAfter;

    public ProxyEntries(DataSource ds, Clock clock, Duration escalateAfter) {
        this.ds = ds;
        this.clock = clock;
        this.escalateAfter = escalateAfter;
    }

    /** How long an entry may wait for approval before administrators are told ({@code --proxy-escalate-hours}). */
    public Duration escalateAfter() {
        return escalateAfter;
    }

    /** The access context of {@code account} as of now, for {@link AccessPolicy#mayEnterFor}. */
    public PersonContext context(UUID account) {
        return PersonContext.load(ds, account, clock.instant(), null);
    }

    /**
     * The people {@code policy} lets {@code caller} enter for, by name: among those holding a role that may finalize
     * clinical notes in one of the caller's departments (or anywhere, for a hospital-wide role), each decided by
     * {@link AccessPolicy#mayEnterFor}. At most {@code max}.
     */
    public List<Candidate> candidates(AccessPolicy policy, Caller caller, String type, Set<String> docCodings, int max) {
        if (!caller.isPerson()) {
            return List.of();
        }
        List<String> departments = new ArrayList<>();
        boolean hospital = false;
        for (PersonContext.HeldRole r : caller.person().roles()) {
            departments.add(r.department());
            hospital |= r.scope() == PersonContext.Scope.HOSPITAL;
        }
        boolean everywhere = hospital;
        List<UUID> ids = Tx.read(ds, c -> {
            List<UUID> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ra.account_id FROM role_assignment ra"
                    + " JOIN role_permission rp ON rp.role = ra.role AND rp.action = 'finalize'"
                    + " WHERE ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL AND ra.account_id <> ?"
                    + " AND (? OR ra.department = ANY(?) OR ra.scope = 'hospital') LIMIT 500")) {
                ps.setObject(1, caller.accountId());
                ps.setBoolean(2, everywhere);
                ps.setArray(3, c.createArrayOf("text", departments.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getObject(1, UUID.class));
                    }
                }
            }
            return out;
        });
        List<UUID> allowed = new ArrayList<>();
        for (UUID id : ids) {
            if (policy.mayEnterFor(caller, context(id), type, docCodings)) {
                allowed.add(id);
            }
        }
        Map<UUID, String> names = names(allowed);
        List<Candidate> out = new ArrayList<>();
        names.forEach((id, name) -> out.add(new Candidate(id, name)));
        out.sort(java.util.Comparator.comparing(Candidate::name));
        return out.size() > max ? List.copyOf(out.subList(0, max)) : out;
    }

    /** The display names of these accounts (family given), in login order; unknown ids are left out. */
    public Map<UUID, String> names(java.util.Collection<UUID> ids) {
        return Tx.read(ds, c -> {
            Map<UUID, String> out = new LinkedHashMap<>();
            People.of(c, ids).forEach((id, p) -> out.put(id, p.name()));
            return out;
        });
    }

    /** Records a new pending entry; the caller has decided that {@code enteredBy} may enter for {@code responsible}. */
    public void record(String compositionId, String patientId, UUID enteredBy, UUID responsible) {
        Tx.inTransaction(ds, c -> {
            record(c, compositionId, patientId, enteredBy, responsible);
            return null;
        });
    }

    /**
     * As {@link #record(String, String, UUID, UUID)}, on {@code c}: in the transaction that writes the note, so the note
     * and its queue row commit together or not at all.
     */
    public void record(java.sql.Connection c, String compositionId, String patientId, UUID enteredBy, UUID responsible)
            throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO proxy_entry (composition_id, patient_id,"
                + " entered_by, responsible, entered_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, compositionId);
            ps.setString(2, patientId);
            ps.setObject(3, enteredBy);
            ps.setObject(4, responsible);
            ps.setTimestamp(5, Timestamp.from(clock.instant()));
            ps.executeUpdate();
        }
    }

    /** The entry of this note, if it is one. */
    public Optional<Entry> of(String compositionId) {
        return Tx.read(ds, c -> {
            List<Entry> l = query(c, COLUMNS + " WHERE composition_id = ?", ps -> ps.setString(1, compositionId));
            return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
        });
    }

    /** The responsible person of a pending entry for this note, if there is one. */
    public Optional<UUID> pendingResponsible(String compositionId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT responsible FROM proxy_entry WHERE composition_id = ?"
                    + " AND state = 'pending'")) {
                ps.setString(1, compositionId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getObject(1, UUID.class)) : Optional.<UUID>empty();
                }
            }
        });
    }

    /** Pending entries waiting for {@code responsible}'s approval, oldest first, at most {@code max}. */
    public List<Entry> waitingFor(UUID responsible, int max) {
        return Tx.read(ds, c -> query(c, COLUMNS + " WHERE responsible = ? AND state = 'pending' ORDER BY entered_at"
                + " LIMIT ?", ps -> {
            ps.setObject(1, responsible);
            ps.setInt(2, max);
        }));
    }

    /** Pending entries {@code enteredBy} made, oldest first, at most {@code max}. */
    public List<Entry> enteredBy(UUID enteredBy, int max) {
        return Tx.read(ds, c -> query(c, COLUMNS + " WHERE entered_by = ? AND state = 'pending' ORDER BY entered_at"
                + " LIMIT ?", ps -> {
            ps.setObject(1, enteredBy);
            ps.setInt(2, max);
        }));
    }

    /** Pending entries older than the escalation time, oldest first, at most {@code max}. */
    public List<Entry> overdue(int max) {
        Instant before = clock.instant().minus(escalateAfter);
        return Tx.read(ds, c -> query(c, COLUMNS + " WHERE state = 'pending' AND entered_at < ? ORDER BY entered_at"
                + " LIMIT ?", ps -> {
            ps.setTimestamp(1, Timestamp.from(before));
            ps.setInt(2, max);
        }));
    }

    /** How many pending entries are older than the escalation time. */
    public long overdueCount() {
        Instant before = clock.instant().minus(escalateAfter);
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM proxy_entry WHERE state = 'pending'"
                    + " AND entered_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(before));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** Whether the entry is pending and older than the escalation time. */
    public boolean overdue(Entry e) {
        return e.pending() && e.enteredAt().isBefore(clock.instant().minus(escalateAfter));
    }

    /**
     * Closes a pending entry: {@code approved} by the responsible person, or withdrawn (the note was finalized,
     * corrected or replaced another way). False when it was not pending.
     */
    public boolean close(String compositionId, boolean approved, UUID by) {
        Instant now = clock.instant();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE proxy_entry SET state = ?, closed_at = ?, closed_by = ?"
                    + " WHERE composition_id = ? AND state = 'pending'")) {
                ps.setString(1, approved ? "approved" : "withdrawn");
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, by);
                ps.setString(4, compositionId);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private static List<Entry> query(Connection c, String sql, Binder b) throws SQLException {
        List<Entry> rows = new ArrayList<>();
        List<UUID> people = new ArrayList<>();
        record Row(String id, String patient, UUID by, UUID resp, Instant at, String state) {
        }
        List<Row> raw = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            b.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row r = new Row(rs.getString(1), rs.getString(2), rs.getObject(3, UUID.class),
                            rs.getObject(4, UUID.class), rs.getTimestamp(5).toInstant(), rs.getString(6));
                    raw.add(r);
                    people.add(r.by());
                    people.add(r.resp());
                }
            }
        }
        Map<UUID, People.Person> names = People.of(c, people);
        for (Row r : raw) {
            rows.add(new Entry(r.id(), r.patient(), r.by(), name(names, r.by()), r.resp(), name(names, r.resp()), r.at(),
                    r.state()));
        }
        return rows;
    }

    private static String name(Map<UUID, People.Person> names, UUID id) {
        People.Person p = names.get(id);
        return p == null ? "?" : p.name();
    }
}
