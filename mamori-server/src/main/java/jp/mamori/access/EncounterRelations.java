package jp.mamori.access;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Care relationships derived from encounters (ACCESS-1): a patient with a current encounter in a department or
 * ward, or one that ended there within the role's {@code recent_encounter_days}, relates to the people holding a
 * clinical role in that department or ward. Read from the record store's index of stays ({@link EncounterStays}),
 * which it keeps for the current version of every Encounter, so an admission or a transfer takes effect with the
 * write that records it.
 */
public final class EncounterRelations {
    private final DataSource ds;
    private final EncounterStays stays;

    public EncounterRelations(DataSource ds, EncounterStays stays) {
        this.ds = ds;
        this.stays = java.util.Objects.requireNonNull(stays, "stays");
    }

    /** Where the record store's encounters are read (for contexts that hold them, {@link PersonContext#load}). */
    EncounterStays stays() {
        return stays;
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
        Map<String, Instant> since = new HashMap<>();
        mine.forEach((place, keep) -> since.put(place, now.minus(keep)));
        if (c == null) {
            return Tx.read(ds, own -> stays.places(own, since, patients));
        }
        try {
            return stays.places(c, since, patients);
        } catch (java.sql.SQLException e) {
            throw new jp.mamori.db.DataAccessException(e);
        }
    }

    /**
     * The SQL condition (for {@link AccessPolicy#rowFilter}) that patient id {@code patientExpr} has a current or
     * recent encounter in one of {@code departments}, with the person's time limits; adds its arguments. One index
     * probe per group of places with the same time limit (usually one group).
     */
    String sql(String patientExpr, PersonContext who, Set<String> departments, List<Object> args) {
        Map<Duration, List<String>> groups = new java.util.TreeMap<>();
        for (String d : departments) {
            Duration keep = who.encounterPlaces().get(d);
            if (keep != null) {
                groups.computeIfAbsent(keep, k -> new ArrayList<>()).add(d);
            }
        }
        groups.forEach((keep, places) -> {
            args.add(places.toArray(String[]::new));
            args.add(new AccessPolicy.Ago(keep)); // the request's time minus keep, filled in per use
        });
        return stays.exists(patientExpr, groups.size());
    }
}
