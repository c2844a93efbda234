package jp.mamori.records;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What another capability may read of patients' names from the record store (ADR 0009: records owns
 * {@code resource} and the search index; the audit reports ask here). On the caller's connection.
 */
public final class PatientNames {
    private PatientNames() {
    }

    /**
     * The family names of the current versions of these Patients, in the search index's normal form (as name search
     * compares them: {@code TextNormalizer.normalize}), kanji and kana alike; patients without one are left out. One
     * statement.
     */
    public static Map<String, Set<String>> familyNameForms(Connection c, Collection<String> patientIds)
            throws SQLException {
        Map<String, Set<String>> out = new HashMap<>();
        Set<String> distinct = new LinkedHashSet<>(patientIds);
        distinct.remove(null);
        if (distinct.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT r.res_id, s.norm FROM resource r"
                + " JOIN sp_string s ON s.res_pk = r.res_pk AND s.param = 'family'"
                + " WHERE r.res_type = 'Patient' AND r.res_id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", distinct.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        return out;
    }

    /**
     * The Patients (their ids) that carry one of these identifiers (the 患者ID a person types), as the search index
     * holds them for current, undeleted versions; an identifier that matches nobody is left out. One statement.
     */
    public static Map<String, Set<String>> idsByIdentifier(Connection c, Collection<String> identifiers)
            throws SQLException {
        Map<String, Set<String>> out = new HashMap<>();
        Set<String> distinct = new LinkedHashSet<>(identifiers);
        distinct.remove(null);
        if (distinct.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT t.code, r.res_id FROM sp_token t"
                + " JOIN resource r ON r.res_pk = t.res_pk WHERE t.res_type = 'Patient' AND t.param = 'identifier'"
                + " AND t.code = ANY(?) AND NOT r.deleted")) {
            ps.setArray(1, c.createArrayOf("text", distinct.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        return out;
    }
}
