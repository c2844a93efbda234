package jp.mamori.records;

import jp.mamori.access.EncounterStays;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The record store's index of where patients stay ({@code encounter_care}): one row per place of the current
 * version of every Encounter, written with the version by the write function and checked by
 * {@code verify-records} ({@link DerivedCheck}). Access reads it only through {@link EncounterStays}, which this
 * answers (ADR 0009). Stateless: one instance serves every connection.
 */
public final class EncounterCare implements EncounterStays {
    @Override
    public Map<String, Set<String>> places(Connection c, Map<String, Instant> since, Collection<String> patients)
            throws SQLException {
        if (since.isEmpty() || patients.isEmpty()) {
            return Map.of();
        }
        List<String> places = new ArrayList<>(since.keySet());
        Timestamp[] from = new Timestamp[places.size()];
        for (int i = 0; i < from.length; i++) {
            from[i] = Timestamp.from(since.get(places.get(i)));
        }
        Map<String, Set<String>> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ec.patient_id, ec.place FROM encounter_care ec"
                + " JOIN unnest(?::text[], ?::timestamptz[]) u(place, since) ON u.place = ec.place"
                + " WHERE ec.patient_id = ANY(?) AND (ec.ends IS NULL OR ec.ends > u.since)")) {
            ps.setArray(1, c.createArrayOf("text", places.toArray()));
            ps.setArray(2, c.createArrayOf("timestamptz", from));
            ps.setArray(3, c.createArrayOf("text", new HashSet<>(patients).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        return out;
    }

    @Override
    public List<Stay> stays(Connection c, Collection<String> places, Instant since) throws SQLException {
        if (places.isEmpty()) {
            return List.of();
        }
        List<Stay> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT patient_id, place, CASE WHEN bool_or(ends IS NULL)"
                + " THEN NULL ELSE max(ends) END FROM encounter_care WHERE place = ANY(?)"
                + " AND (ends IS NULL OR ends > ?) GROUP BY patient_id, place")) {
            ps.setArray(1, c.createArrayOf("text", places.toArray()));
            ps.setTimestamp(2, Timestamp.from(since));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp ends = rs.getTimestamp(3);
                    out.add(new Stay(rs.getString(1), rs.getString(2), ends == null ? null : ends.toInstant()));
                }
            }
        }
        return out;
    }

    @Override
    public Map<String, Integer> occupied(Connection c, Instant since) throws SQLException {
        Map<String, Integer> out = new java.util.TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT place, count(DISTINCT patient_id) FROM encounter_care"
                + " WHERE ends IS NULL OR ends > ? GROUP BY place")) {
            ps.setTimestamp(1, Timestamp.from(since));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return out;
    }

    @Override
    public String exists(String patientExpr, int groups) {
        if (groups <= 0) {
            return "false";
        }
        String group = "(ec.place = ANY(?::text[]) AND (ec.ends IS NULL OR ec.ends > ?::timestamptz))";
        // OFFSET 0: a lookup per row, not a hash of the department's encounters
        return "EXISTS (SELECT 1 FROM encounter_care ec WHERE ec.patient_id = " + patientExpr + " AND ("
                + String.join(" OR ", Collections.nCopies(groups, group)) + ") OFFSET 0)";
    }
}
