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
 * cost of authorization. The key is the person's access version ({@code mamori_access_version}, V13), which the
 * database changes with every change of their role assignments, care assignments, privileges and break-glass uses,
 * of roles and permissions as a whole (triggers of V9), and of the encounters of their departments and wards
 * (triggers of V13), and which the session check reads in its one query: a change made by any server process is
 * seen by the next request everywhere. Validity in time (an assignment that starts or ends) is decided in memory at each
 * request, so it needs no invalidation.
 */
public final class PersonContexts {
    private record Entry(long version, PersonContext context) {
    }

    private final DataSource ds;
    private final Clock clock;
    private final int maxEntries;
    private final Map<UUID, Entry> cache = new ConcurrentHashMap<>();
    private final AtomicLong loads = new AtomicLong();

    public PersonContexts(DataSource ds, Clock clock, int maxEntries) {
        this.ds = ds;
        this.clock = clock;
        this.maxEntries = maxEntries;
    }

    /** The person's context as of {@code accessVersion} (from {@code Sessions.Session#accessVersion}). */
    public PersonContext get(UUID accountId, long accessVersion) {
        Entry e = cache.get(accountId);
        if (e != null && e.version() == accessVersion) {
            return e.context();
        }
        PersonContext loaded = PersonContext.load(ds, accountId, clock.instant());
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

    /** How many times a context was read from the database (for tests and the benchmark). */
    public long loads() {
        return loads.get();
    }
}
