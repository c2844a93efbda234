package jp.mamori.access;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The stays of patients in departments and wards, as the record store derives them from the current version of
 * every Encounter (ACCESS-1). The record store owns that index ({@code records.EncounterCare}, ADR 0009); access
 * decides with it but does not name its table: it asks through this interface, which the server hands in.
 * Every call runs on the caller's connection, in the caller's transaction.
 */
public interface EncounterStays {
    /** One patient's encounters in one place: open ({@code ends} null) or the latest end. */
    record Stay(String patientId, String place, Instant ends) {
    }

    /**
     * For each of {@code patients}, the places among {@code since}'s keys where the patient has an encounter that
     * is open or ended after the place's instant. Patients without one are absent.
     */
    Map<String, Set<String>> places(Connection c, Map<String, Instant> since, Collection<String> patients)
            throws SQLException;

    /** Per patient and place among {@code places}: the encounters open or ended after {@code since}, folded. */
    List<Stay> stays(Connection c, Collection<String> places, Instant since) throws SQLException;

    /**
     * Every place where some patient has an encounter open or ended after {@code since}, with how many patients: the
     * wards and departments the downtime kit is made for (issue 18 §3, BACKUP-12).
     */
    Map<String, Integer> occupied(Connection c, Instant since) throws SQLException;

    /**
     * An SQL condition: patient id {@code patientExpr} has an encounter in one of {@code groups} groups of places,
     * open or ended after the group's instant. Each group binds two arguments in order: the places
     * ({@code text[]}) and the instant ({@code timestamptz}). Evaluated as a lookup per row.
     */
    String exists(String patientExpr, int groups);
}
