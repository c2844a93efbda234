package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.db.Tx;
import jp.mamori.records.RecordService.SearchPage;
import jp.mamori.records.RecordService.Stored;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.kernel.FhirError;

/**
 * Searches: a page of the matches of a {@link SearchQuery} (its statements from a {@link SearchPlan}, paged by
 * {@link SearchCursor}), with the resources it includes ({@link SearchIncludes}), and the matches of a conditional
 * operation. {@link RecordService} has passed the type gate of the searched type and of every type the query looks
 * into before any of this runs, and gave the query the caller's row filter; the rows of a person's search are decided
 * here as they are read, through {@link RecordAuthorization#searchDecisions}, since they are known only then.
 */
final class RecordSearch {
    /** Logged under the name of the entry type, as before the use cases were split out of it. */
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RecordService.class);

    private final DataSource ds;
    private final RecordStore store;
    private final RecordAuthorization auth;
    private final SearchIncludes includes;
    private final PageSize pageSize;

    RecordSearch(DataSource ds, RecordStore store, RecordAuthorization auth, SearchIncludes includes,
                 PageSize pageSize) {
        this.ds = ds;
        this.store = store;
        this.auth = auth;
        this.includes = includes;
        this.pageSize = pageSize;
    }

    /** A page of matches whose stored bodies stop at about {@code pageBytes} bytes, in a transaction of its own. */
    SearchPage search(Caller caller, SearchQuery q, Map<String, List<String>> params, long pageBytes) {
        if (caller.isPerson()) {
            // A person's search carries the access filter; planning it afresh for every request (PostgreSQL's
            // choice for statements whose custom plans look cheaper) cost more than running it. Its generic plan
            // decides the filter per row with index lookups and serves every person and patient alike.
            return Tx.inTransaction(ds, c -> {
                try (java.sql.Statement st = c.createStatement()) {
                    st.execute("SET LOCAL plan_cache_mode = force_generic_plan");
                }
                return searchIn(c, caller, q, params, pageBytes);
            });
        }
        return Tx.read(ds, c -> searchIn(c, caller, q, params, pageBytes));
    }

    /**
     * A page of the matches of {@code q} on {@code c}, with what it includes; {@code params} are the search's
     * parameters, of which this reads those that shape the page (_include, _revinclude, _summary, _total, _count,
     * _cursor).
     */
    SearchPage searchIn(Connection c, Caller caller, SearchQuery q, Map<String, List<String>> params, long pageBytes)
            throws SQLException {
        String type = q.type;
        SearchPlan plan = new SearchPlan(q);
        // refused before anything is read, matches or not
        List<SearchIncludes.Include> inc = SearchIncludes.Include.parse(type, params);
        String summary = first(params, "_summary");
        String totalMode = first(params, "_total");
        if (totalMode != null && !Set.of("none", "estimate", "accurate").contains(totalMode)) {
            throw FhirError.badRequest("_total の値が正しくありません / _total must be none, estimate or accurate");
        }
        int limit = pageSize.limit(params.containsKey("_count") ? parseInt(first(params, "_count"), "_count") : null);
        boolean countOnly = "count".equals(summary) || limit == 0;
        Integer total = null;
        if (countOnly || "accurate".equals(totalMode) || "estimate".equals(totalMode)) {
            total = count(c, plan);
        }
        if (countOnly) {
            return new SearchPage(List.of(), List.of(), total, null);
        }
        String cursor = first(params, "_cursor");
        List<Long> pks = new ArrayList<>();
        List<List<String>> keys = new ArrayList<>();
        Decided decided = null;
        AccessPolicy.SearchDecisions decisions = auth.searchDecisions(caller, c);
        if (q.acrossPatients(params)) {
            decided = visibleInOrder(c, caller, q, plan, cursor, limit + 1, decisions, pageBytes);
            for (Long pk : decided.keys()) {
                pks.add(pk);
                keys.add(List.of(Long.toString(pk)));
            }
        } else {
            if (q.pageDecidableInMemory(params)) {
                decided = decidedInMemory(c, q, plan, cursor, limit, pks, keys, decisions, pageBytes);
            }
            if (decided == null) {
                page(c, q, plan, cursor, limit, true, pks, keys);
            }
        }
        String next = null;
        if (pks.size() > limit) {
            pks = pks.subList(0, limit);
            next = SearchCursor.encode(keys.get(limit - 1));
        } else if (total == null && cursor == null) {
            total = pks.size(); // the whole result is on this page
        }
        Map<Long, AccessPolicy.Subject> subjects = caller.isPerson() ? new java.util.HashMap<>() : null;
        List<RecordStore.Version> matches;
        if (decided != null) {
            matches = new ArrayList<>(pks.size());
            for (RecordStore.Version v : decided.rows().subList(0, pks.size())) {
                if (v != null) {
                    matches.add(v);
                }
            }
            subjects = decided.subjects();
        } else {
            matches = store.currentByPk(c, pks, subjects, pageBytes);
        }
        int cut = RecordStore.firstWithheld(matches);
        if (cut >= 0) {
            // The page's byte budget is spent: it ends after the last row read whole, which the next page follows.
            long lastKept = matches.get(cut - 1).pk();
            next = SearchCursor.encode(keys.get(pks.indexOf(lastKept)));
            matches = new ArrayList<>(matches.subList(0, cut));
            if (cursor == null && total != null && !"accurate".equals(totalMode) && !"estimate".equals(totalMode)) {
                total = null; // not the whole result after all
            }
        }
        if (caller.isPerson()) {
            // The query kept only rows the person may see; deciding each again in memory also marks what
            // is seen under break-glass, and drops (and reports) anything the two disagree on.
            List<RecordStore.Version> kept = RecordAuthorization.visible(decisions, matches, subjects);
            if (kept.size() != matches.size()) {
                for (RecordStore.Version v : matches) {
                    if (!kept.contains(v)) {
                        log.error("search filter let through {}/{} for {}; dropped", v.type(), v.id(),
                                caller.principal());
                    }
                }
            }
            matches = kept;
        }
        List<RecordStore.Version> included = includes.read(c, caller, type, matches, inc, decisions, pageBytes);
        return new SearchPage(matches.stream().map(Stored::of).toList(),
                included.stream().map(Stored::of).toList(), total, next);
    }

    /**
     * A page (and the row after it) decided in memory: the rows' keys in order, their current versions (null for
     * one deleted while the page was read) and their access columns.
     */
    private record Decided(List<Long> keys, List<RecordStore.Version> rows, Map<Long, AccessPolicy.Subject> subjects) {
    }

    /**
     * A person's search that names its patient(s) nearly always matches only rows they may see: the page (and the
     * row after it, which tells whether there is a next page) is read as the index gives it and kept only if every
     * row of it is visible, decided in memory as for a read. Otherwise null, with {@code pks} and {@code keys}
     * emptied: the page is then read again with the row filter, so that a page, its next link and its total never
     * show that rows the person may not see exist. Nothing is marked here; the rows returned are marked later.
     */
    private Decided decidedInMemory(Connection c, SearchQuery q, SearchPlan plan, String cursor, int limit,
                                    List<Long> pks, List<List<String>> keys, AccessPolicy.SearchDecisions decisions,
                                    long pageBytes)
            throws SQLException {
        page(c, q, plan, cursor, limit, false, pks, keys);
        Map<Long, AccessPolicy.Subject> seen = new java.util.HashMap<>();
        List<RecordStore.Version> rows = store.currentByPk(c, pks, seen, pageBytes);
        List<AccessPolicy.Subject> subjects = new ArrayList<>(rows.size());
        rows.forEach(v -> subjects.add(seen.get(v.pk())));
        if (rows.size() == pks.size() && decisions.allSeen(subjects)) {
            return new Decided(List.copyOf(pks), rows, seen);
        }
        pks.clear();
        keys.clear();
        return null;
    }

    /** Reads a page of matches (and one more) into {@code pks} and their sort keys into {@code keys}. */
    private static void page(Connection c, SearchQuery q, SearchPlan plan, String cursor, int limit, boolean filtered,
                             List<Long> pks, List<List<String>> keys) throws SQLException {
        SearchPlan.Statement st = plan.page(cursor, limit + 1, filtered);
        try (PreparedStatement ps = c.prepareStatement(st.sql())) {
            st.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pks.add(rs.getLong(1));
                    List<String> k = new ArrayList<>();
                    for (int i = 0; i < q.sort.size(); i++) {
                        k.add(rs.getString(2 + i));
                    }
                    k.add(Long.toString(rs.getLong(1)));
                    keys.add(k);
                }
            }
        }
    }

    /**
     * Up to {@code wanted} rows a person may see, in key order after the cursor, for a search across patients, with
     * their access columns. The matches are read in key order a chunk at a time without the row filter, each with
     * its head's access columns, and decided in memory as a read is decided (the decision the SQL filter mirrors), until enough are kept or the matches run out:
     * deciding the filter in SQL for every row cost a person's search a quarter of its throughput against a caller
     * with nothing to decide. The first chunk comes with the rows' current versions and is sized by the share of
     * matches this person saw in their last searches of the type, so that one statement usually fills the page;
     * later chunks bring only the access columns, and the rows kept from them are read at the end, so that a person
     * who sees few of many matches never has many hidden bodies read. The rows, their order and the cursor are
     * those of the filtered statement.
     */
    private Decided visibleInOrder(Connection c, Caller caller, SearchQuery q, SearchPlan plan, String cursor,
                                   int wanted, AccessPolicy.SearchDecisions decisions, long pageBytes)
            throws SQLException {
        long after = cursor == null ? Long.MIN_VALUE : SearchCursor.rowKey(cursor);
        String shareKey = caller.principal() + "\u0000" + q.type;
        Double share = seenShare.get(shareKey);
        List<RecordStore.Examined> kept = new ArrayList<>();
        int examined = 0;
        int visible = 0;
        int chunk = firstChunk(wanted, share == null ? 1.0 : share);
        boolean withVersions = true;
        while (kept.size() < wanted) {
            SearchPlan.Statement st = plan.chunk(after, chunk);
            List<RecordStore.Examined> rows = store.examine(c, st.sql(), st::bind, withVersions, pageBytes);
            List<RecordStore.Examined> live = new ArrayList<>(rows.size());
            List<AccessPolicy.Subject> subjects = new ArrayList<>(rows.size());
            for (RecordStore.Examined e : rows) {
                if (!e.deleted()) { // index rows may outlive a head deleted since this statement's snapshot
                    live.add(e);
                    subjects.add(e.subject());
                }
            }
            boolean[] seen = decisions.seen(subjects);
            for (int i = 0; i < seen.length; i++) {
                if (seen[i]) {
                    visible++;
                    if (kept.size() < wanted) {
                        kept.add(live.get(i));
                    }
                }
            }
            examined += rows.size();
            if (rows.size() < chunk) {
                break;
            }
            after = rows.get(rows.size() - 1).pk();
            chunk = nextChunk(wanted - kept.size(), visible, examined);
            withVersions = false;
        }
        if (examined > 0) {
            double now = (double) visible / examined;
            if (seenShare.size() >= MAX_SHARES) {
                seenShare.clear();
            }
            seenShare.put(shareKey, share == null ? now : 0.7 * share + 0.3 * now);
        }
        List<Long> unread = new ArrayList<>();
        for (RecordStore.Examined e : kept) {
            if (e.version() == null) {
                unread.add(e.pk());
            }
        }
        Map<Long, AccessPolicy.Subject> subjects = new java.util.HashMap<>();
        Map<Long, RecordStore.Version> read = new java.util.HashMap<>();
        long readBytes = 0;
        for (RecordStore.Examined e : kept) {
            if (e.version() != null && e.version().body() != null) {
                readBytes += e.version().body().length;
            }
        }
        // The rows kept from later chunks share what is left of the page's budget (at least one of them is read).
        for (RecordStore.Version v : store.currentByPk(c, unread, subjects, Math.max(1, pageBytes - readBytes))) {
            read.put(v.pk(), v);
        }
        List<Long> keys = new ArrayList<>(kept.size());
        List<RecordStore.Version> rows = new ArrayList<>(kept.size());
        for (RecordStore.Examined e : kept) {
            keys.add(e.pk());
            // Null when deleted between the two statements: left out of the page, but still its key for paging.
            RecordStore.Version v = e.version() != null ? e.version() : read.get(e.pk());
            rows.add(v);
            if (v != null) {
                // A version read at the end comes with its own columns, on which the page is decided again.
                subjects.putIfAbsent(v.pk(), e.subject());
            }
        }
        return new Decided(keys, rows, subjects);
    }

    /**
     * Of the matches a person's searches across patients examined lately, the share they could see, per person and
     * type (a moving average). It sizes the first chunk only: never what a search returns.
     */
    private final Map<String, Double> seenShare = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_SHARES = 10_000;

    /**
     * The first chunk of a search across patients: the page and the row after it ({@code wanted}) when the person
     * saw nearly all matches lately, else enough for the page at the share seen lately with a fifth to spare, as a
     * whole number of pages and at most four (later chunks bring no bodies and so cost less per row).
     */
    static int firstChunk(int wanted, double share) {
        if (share >= 0.95) {
            return wanted;
        }
        int pages = (int) Math.ceil(1.2 / Math.max(share, 0.25));
        return Math.min(pages, 4) * wanted;
    }

    /**
     * The size of the next chunk when {@code missing} rows are still wanted and {@code visible} of {@code examined}
     * were visible so far: enough for the rest at the rate seen so far with a quarter to spare (four times as many
     * as examined when none was visible), rounded up to a power of two so that few statement texts are prepared.
     */
    static int nextChunk(int missing, int visible, int examined) {
        double want = visible == 0 ? 4.0 * examined : Math.ceil(missing * 1.25 * examined / visible);
        int n = Math.max(missing, (int) Math.min(want, MAX_CHUNK));
        int power = Integer.highestOneBit(n);
        return power < n ? Math.min(power << 1, MAX_CHUNK) : power;
    }

    /** The most matches one chunk examines. */
    private static final int MAX_CHUNK = 2_048;

    private int count(Connection c, SearchPlan plan) throws SQLException {
        SearchPlan.Statement st = plan.count();
        try (PreparedStatement ps = c.prepareStatement(st.sql())) {
            st.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The ids of at most two matches of {@code q}: what a conditional operation needs to know. */
    List<String> matchIds(Connection c, SearchQuery q) throws SQLException {
        List<String> ids = new ArrayList<>();
        SearchPlan.Statement st = new SearchPlan(q).ids();
        try (PreparedStatement ps = c.prepareStatement(st.sql())) {
            st.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
        }
        return ids;
    }

    static int parseInt(String s, String name) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw FhirError.badRequest(name + " must be a whole number, got '" + s + "'");
        }
    }

    static String first(Map<String, List<String>> params, String key) {
        List<String> v = params.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }
}
