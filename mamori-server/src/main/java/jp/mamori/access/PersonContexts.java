package jp.mamori.access;

import javax.sql.DataSource;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this server has read about people ({@link PersonContext}), kept while it is current. Reading a person's
 * roles, privileges and 1,000 care assignments costs milliseconds; doing it for every page would dominate the
 * cost of authorization. The key is the person's access version ({@link #accessVersionSql}), which the
 * database changes with every change of their role assignments, care assignments, privileges and break-glass uses,
 * of roles and permissions as a whole (triggers of V9), and of the encounters of their departments and wards
 * (triggers of V13), and which the session check reads in its one query: a change made by any server process is
 * seen by the next request everywhere. Validity in time (an assignment that starts or ends) is decided in memory at each
 * request, so it needs no invalidation.
 */
public final class PersonContexts {
    private record Entry(long version, PersonContext context) {
    }

    /**
     * SQL of the person's access version, for the account id {@code accountExpr}: the one definition, read by the
     * session check with every request. It changes with every change of the person's roles, care assignments,
     * privileges and break-glass uses and of the policy as a whole (V9), and of the encounters of every department or
     * ward where the person holds a role (V13). The first part only grows, and changes whenever the set of places
     * does; with it unchanged, the second only grows: packed as first × 2³² + second, the pair never repeats (while
     * the second stays below 2³² changes). Inline rather than a database function: a PL/pgSQL function cost the
     * session check 0.14 ms more per call (pgbench, one client: 0.219 against 0.084 ms).
     */
    public static String accessVersionSql(String accountExpr) {
        return "((SELECT coalesce(sum(v.version), 0) FROM access_version v WHERE v.account_id IN (" + accountExpr
                + ", '00000000-0000-0000-0000-000000000000')) * 4294967296 + (SELECT coalesce(sum(pv.version), 0)"
                + " FROM place_version pv WHERE pv.place IN (SELECT ra.department FROM role_assignment ra"
                + " WHERE ra.account_id = " + accountExpr + " AND ra.revoked_at IS NULL)))";
    }

    /**
     * SQL of the roles in force that the access model grants the account {@code accountExpr} (one text column):
     * assignments not revoked and, where four eyes apply, approved. The session check reads them with identity's own
     * roles in its one query, so that an administrator approved here opens the admin pages too.
     */
    public static String grantedRolesSql(String accountExpr) {
        return "SELECT ra.role FROM role_assignment ra WHERE ra.account_id = " + accountExpr
                + " AND ra.revoked_at IS NULL AND (NOT ra.four_eyes OR ra.approved_at IS NOT NULL)";
    }

    private final DataSource ds;
    private final Clock clock;
    private final EncounterStays encounters;
    private final int maxEntries;
    private final Map<UUID, Entry> cache = new ConcurrentHashMap<>();
    private final AtomicLong loads = new AtomicLong();

    public PersonContexts(DataSource ds, EncounterStays encounters, Clock clock, int maxEntries) {
        this.ds = ds;
        this.encounters = encounters;
        this.clock = clock;
        this.maxEntries = maxEntries;
    }

    /** The person's context as of {@code accessVersion} (from {@code Sessions.Session#accessVersion}). */
    public PersonContext get(UUID accountId, long accessVersion) {
        Entry e = cache.get(accountId);
        if (e != null && e.version() == accessVersion) {
            return e.context();
        }
        PersonContext loaded = PersonContext.load(ds, accountId, clock.instant(), encounters);
        loads.incrementAndGet();
        if (cache.size() >= maxEntries) {
            // Far more people than fit: drop some; they are read again on their next request.
            Iterator<UUID> it = cache.keySet().iterator();
            for (int i = 0; i < maxEntries / 10 && it.hasNext(); i++) {
                it.next();
                it.remove();
            }
        }
        // A concurrent request may have read a newer version meanwhile; keep the newer one.
        cache.merge(accountId, new Entry(accessVersion, loaded), (old, neu) -> old.version() > neu.version() ? old : neu);
        return loaded;
    }

    /**
     * The stays of the person's departments and wards ({@link PersonContext#encounterPlaces}) that are open or
     * ended after {@code since}, from the same index of encounters the care relationships read (ACCESS-1): the
     * candidates of the clinician's worklist. Open stays first, at most {@code max}.
     */
    public java.util.List<EncounterStays.Stay> stays(PersonContext who, java.time.Instant since, int max) {
        if (who.encounterPlaces().isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<EncounterStays.Stay> all = new java.util.ArrayList<>(jp.mamori.db.Tx.read(ds,
                c -> encounters.stays(c, who.encounterPlaces().keySet(), since)));
        all.sort(java.util.Comparator.comparing((EncounterStays.Stay st) -> st.ends() != null)
                .thenComparing(EncounterStays.Stay::patientId));
        return all.size() > max ? java.util.List.copyOf(all.subList(0, max)) : all;
    }

    /** How many times a context was read from the database (for tests and the benchmark). */
    public long loads() {
        return loads.get();
    }
}
