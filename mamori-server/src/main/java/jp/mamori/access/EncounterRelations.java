package jp.mamori.access;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Care relationships derived from encounters (ACCESS-1): a patient with a current encounter in a department or
 * ward, or one that ended there within the role's {@code recent_encounter_days}, relates to the people holding a
 * clinical role in that department or ward. Read from {@code encounter_care}, which the record store keeps for the
 * current version of every Encounter, so an admission or a transfer takes effect with the write that records it.
 */
public final class EncounterRelations {
    private final DataSource ds;

    public EncounterRelations(DataSource ds) {
        this.ds = ds;
    }

    /**
     * For each of {@code patients}, the places among the person's {@link PersonContext#encounterPlaces} where the
     * patient has a current or recent encounter at {@code now}. Patients without one are absent. One query, on
     * {@code c} when given (a search's connection), else on a connection of its own. Used for contexts that do not
     * hold their places' encounters ({@link PersonContext#holdsEncounters}).
     */
    public Map<String, Set<String>> places(PersonContext who, Collection<String> patients, Instant now,
                                           java.sql.Connection c) {
        Map<String, Duration> mine = who.encounterPlaces();
        if (mine.isEmpty() || patients.isEmpty()) {
            return Map.of();
        }
        List<String> places = new ArrayList<>(mine.keySet());
        Timestamp[] since = new Timestamp[places.size()];
        for (int i = 0; i < since.length; i++) {
            since[i] = Timestamp.from(now.minus(mine.get(places.get(i))));
        }
        if (c == null) {
            return Tx.read(ds, own -> places(own, places, since, patients));
        }
        try {
            return places(c, places, since, patients);
        } catch (java.sql.SQLException e) {
            throw new jp.mamori.db.DataAccessException(e);
        }
    }

    private static Map<String, Set<String>> places(java.sql.Connection c, List<String> places, Timestamp[] since,
                                                   Collection<String> patients) throws java.sql.SQLException {
        Map<String, Set<String>> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ec.patient_id, ec.place FROM encounter_care ec"
                + " JOIN unnest(?::text[], ?::timestamptz[]) u(place, since) ON u.place = ec.place"
                + " WHERE ec.patient_id = ANY(?) AND (ec.ends IS NULL OR ec.ends > u.since)")) {
            ps.setArray(1, c.createArrayOf("text", places.toArray()));
            ps.setArray(2, c.createArrayOf("timestamptz", since));
            ps.setArray(3, c.createArrayOf("text", new HashSet<>(patients).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        return out;
    }

    /**
     * The SQL condition (for {@link AccessPolicy#rowFilter}) that patient id {@code patientExpr} has a current or
     * recent encounter in one of {@code departments}, with the person's time limits; adds its arguments. One index
     * probe of {@code encounter_care (patient_id, place, ends)} per group of places with the same time limit
     * (usually one group).
     */
    static String sql(String patientExpr, PersonContext who, Set<String> departments, List<Object> args) {
        Map<Duration, List<String>> groups = new java.util.TreeMap<>();
        for (String d : departments) {
            Duration keep = who.encounterPlaces().get(d);
            if (keep != null) {
                groups.computeIfAbsent(keep, k -> new ArrayList<>()).add(d);
            }
        }
        if (groups.isEmpty()) {
            return "false";
        }
        List<String> or = new ArrayList<>();
        groups.forEach((keep, places) -> {
            or.add("(ec.place = ANY(?::text[]) AND (ec.ends IS NULL OR ec.ends > ?::timestamptz))");
            args.add(places.toArray(String[]::new));
            args.add(new AccessPolicy.Ago(keep)); // the request's time minus keep, filled in per use
        });
        return "EXISTS (SELECT 1 FROM encounter_care ec WHERE ec.patient_id = " + patientExpr + " AND ("
                + String.join(" OR ", or) + ") OFFSET 0)"; // a lookup per row, not a hash of the department's encounters
    }
}
