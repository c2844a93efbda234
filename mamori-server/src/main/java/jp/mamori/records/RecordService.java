package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.access.Scope.Permission;
import jp.mamori.db.DataAccessException;
import jp.mamori.db.Tx;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The only way in to stored records. Every operation, whether from the REST API, a bundle entry or an
 * include, passes {@link AccessPolicy} here before the store is touched, and every version written takes
 * its author from the authenticated {@link Caller} and its time from the server clock.
 */
public final class RecordService {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final int MAX_INCLUDES = 1000;
    /**
     * Bytes of stored bodies on one page of search or history answered as stored JSON: a page ends early, with a
     * {@code next} link, once its bodies reach this many bytes, so that a page never loads unbounded bodies. A
     * page always holds at least one entry, so every record stays readable whatever its size.
     */
    public static final long PAGE_BYTES = 8L * 1024 * 1024;
    /** The same for a page that is turned into HAPI's model to be answered (XML, _pretty, _summary, _elements). */
    public static final long PAGE_BYTES_REENCODED = 1024L * 1024;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RecordService.class);

    private final DataSource ds;
    private final AccessPolicy policy;
    private final FhirSupport fhir;
    private final SearchIndexer indexer = new SearchIndexer();
    /** The versions written so far in the transaction {@link #inTx} runs on this thread (null outside one). */
    private final ThreadLocal<List<Stored>> txWrites = new ThreadLocal<>();
    private volatile WriteJournal journal;
    private final RecordStore store = new RecordStore();
    private final int defaultPageSize;
    private final int maxPageSize;

    public RecordService(DataSource ds, AccessPolicy policy, FhirSupport fhir, int defaultPageSize, int maxPageSize) {
        this.ds = ds;
        this.policy = policy;
        this.fhir = fhir;
        this.defaultPageSize = defaultPageSize;
        this.maxPageSize = maxPageSize;
    }

    /** A version as returned to callers. {@code body} is the canonical JSON in UTF-8, null for a deletion. */
    public record Stored(String type, String id, int version, Instant lastUpdated, byte[] body, String author,
                         String reason, String operation, String lifecycle, String contentSha256) {
        public String bodyText() {
            return body == null ? null : new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }

        static Stored of(RecordStore.Version v) {
            return new Stored(v.type(), v.id(), v.version(), v.recordedAt(), v.body(), v.author(), v.reason(),
                    v.operation(), v.lifecycle(), VersionHash.hex(v.contentSha256()));
        }

        public boolean deleted() {
            return body == null;
        }
    }

    /**
     * Told about every transaction of this service that wrote versions (AUDIT-1): {@link #beforeCommit} runs in that
     * transaction, after its last statement and before its commit, so whatever it stores there (the write's audit
     * entry) commits with the versions or not at all; {@link #afterCommit} runs once the transaction committed.
     */
    public interface WriteJournal {
        void beforeCommit(Connection c, List<Stored> written) throws SQLException;

        void afterCommit(List<Stored> written);
    }

    /** The outcome of a write: the version now current, and whether it was newly created (201). */
    public record WriteResult(Stored stored, boolean created, boolean unchanged) {
    }

    /** A page of search results with the resources they include. */
    public record SearchPage(List<Stored> matches, List<Stored> includes, Integer total, String nextCursor) {
    }

    /**
     * A page of history, newest first; {@code total} is the number of versions in the whole history, given only when
     * asked for with {@code _count=0} (which, as for a search, asks for the total alone).
     */
    public record HistoryPage(List<Stored> versions, String nextCursor, Integer total) {
        public HistoryPage(List<Stored> versions, String nextCursor) {
            this(versions, nextCursor, null);
        }
    }

    // ---------------------------------------------------------------- reads

    public Stored read(Caller caller, String type, String id) {
        return Tx.read(ds, c -> read(c, caller, type, id));
    }

    Stored read(Connection c, Caller caller, String type, String id) throws SQLException {
        requireType(type);
        policy.require(caller, type, Permission.READ);
        RecordStore.Current cur = store.current(c, type, id, caller.isPerson());
        if (cur == null) {
            throw FhirError.notFound(type + "/" + id + " is not known / 該当する記録がありません");
        }
        RecordStore.Version v = cur.version();
        if (v.deleted()) {
            throw FhirError.gone(type + "/" + id + " was deleted in version " + v.version());
        }
        policy.requireRecord(caller, cur.subject());
        return Stored.of(v);
    }

    Stored vread(Connection c, Caller caller, String type, String id, String versionText) throws SQLException {
        requireType(type);
        policy.require(caller, type, Permission.READ);
        RecordStore.Version v = store.version(c, type, id, parseVersion(versionText));
        if (v == null) {
            throw FhirError.notFound(type + "/" + id + "/_history/" + versionText + " is not known");
        }
        if (v.deleted()) {
            throw FhirError.gone(type + "/" + id + " version " + versionText + " records its deletion");
        }
        policy.requireRecord(caller, subject(caller, v));
        return Stored.of(v);
    }

    void requireSearch(Caller caller, String type) {
        policy.require(caller, type, Permission.SEARCH);
    }

    public Stored vread(Caller caller, String type, String id, String versionText) {
        return Tx.read(ds, c -> vread(c, caller, type, id, versionText));
    }

    public HistoryPage history(Caller caller, String type, String id, Instant since, Integer count, String cursor) {
        return history(caller, type, id, since, count, cursor, PAGE_BYTES);
    }

    public HistoryPage history(Caller caller, String type, String id, Instant since, Integer count, String cursor,
                               long pageBytes) {
        int limit = pageSize(count);
        Instant from = since == null ? Instant.EPOCH : since;
        policy.requireHistory(caller, type, id);
        if (type != null) {
            requireType(type);
        }
        // The history of one record is a read of its versions; the history of a type, or of every type, lists
        // versions as a search lists resources, and needs what a search needs (SMART v2 's'), for every type it
        // may return: the server's history is not cut down to some types, which would answer with a history that
        // silently has holes (ACCESS-1).
        policy.require(caller, type == null ? "*" : type, id != null ? Permission.READ : Permission.SEARCH);
        return Tx.read(ds, c -> {
            List<RecordStore.Version> rows;
            if (id != null) {
                RecordStore.Head head = store.head(c, type, id, false);
                if (head == null) {
                    throw FhirError.notFound(type + "/" + id + " is not known");
                }
                if (limit == 0) {
                    // The total alone: for a person every version is decided all the same, so that the count
                    // says nothing about a record they may not read; read a page at a time, each within the
                    // page's byte budget, never every body of a long history at once.
                    if (caller.isPerson()) {
                        int before = Integer.MAX_VALUE;
                        while (true) {
                            List<RecordStore.Version> chunk = store.instanceHistory(c, head.pk(), before, from,
                                    maxPageSize, pageBytes);
                            int withheld = firstWithheld(chunk);
                            List<RecordStore.Version> whole = withheld < 0 ? chunk : chunk.subList(0, withheld);
                            requireEachVersion(caller, whole);
                            if (withheld < 0 && chunk.size() < maxPageSize) {
                                break;
                            }
                            before = whole.get(whole.size() - 1).version();
                        }
                    }
                    return new HistoryPage(List.of(), null, store.countHistory(c, type, head.pk(), from));
                }
                int before = cursor == null ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, SearchCursor.number(cursor));
                rows = store.instanceHistory(c, head.pk(), before, from, limit + 1, pageBytes);
            } else {
                if (limit == 0) {
                    return new HistoryPage(List.of(), null, store.countHistory(c, type, from));
                }
                long before = cursor == null ? Long.MAX_VALUE : SearchCursor.number(cursor);
                rows = store.history(c, type, before, from, limit + 1, pageBytes);
            }
            String next = null;
            int cut = firstWithheld(rows);
            if (cut >= 0 && cut < limit) {
                rows = rows.subList(0, cut);
                RecordStore.Version last = rows.get(cut - 1);
                next = Long.toString(id != null ? last.version() : last.seq());
            } else if (rows.size() > limit) {
                rows = rows.subList(0, limit);
                RecordStore.Version last = rows.get(limit - 1);
                next = Long.toString(id != null ? last.version() : last.seq());
            }
            requireEachVersion(caller, rows);
            return new HistoryPage(rows.stream().map(Stored::of).toList(), next);
        });
    }

    /**
     * For a person, each version on its own: one the person may not read refuses the page (a history with holes
     * would misstate who changed what); a deletion version shows no content and is decided by the version before
     * it, which is on this page or was decided on an earlier one. No-op for system clients.
     */
    private void requireEachVersion(Caller caller, List<RecordStore.Version> rows) {
        if (caller.isPerson()) {
            for (RecordStore.Version v : rows) {
                if (!v.deleted()) {
                    policy.requireRecord(caller, subject(caller, v));
                }
            }
        }
    }

    public SearchPage search(Caller caller, String type, Map<String, List<String>> params) {
        return search(caller, type, params, PAGE_BYTES);
    }

    /** A page of matches whose stored bodies stop at about {@code pageBytes} bytes (see {@link #PAGE_BYTES}). */
    public SearchPage search(Caller caller, String type, Map<String, List<String>> params, long pageBytes) {
        requireType(type);
        policy.require(caller, type, Permission.SEARCH);
        if (caller.isPerson()) {
            // A person's search carries the access filter; planning it afresh for every request (PostgreSQL's
            // choice for statements whose custom plans look cheaper) cost more than running it. Its generic plan
            // decides the filter per row with index lookups and serves every person and patient alike.
            return Tx.inTransaction(ds, c -> {
                try (java.sql.Statement st = c.createStatement()) {
                    st.execute("SET LOCAL plan_cache_mode = force_generic_plan");
                }
                return searchIn(c, caller, type, params, pageBytes);
            });
        }
        return Tx.read(ds, c -> searchIn(c, caller, type, params, pageBytes));
    }

    SearchPage searchIn(Connection c, Caller caller, String type, Map<String, List<String>> params)
            throws SQLException {
        return searchIn(c, caller, type, params, PAGE_BYTES);
    }

    /** The index of the first version whose body was withheld for the page's byte budget, or -1. */
    private static int firstWithheld(List<RecordStore.Version> rows) {
        for (int i = 0; i < rows.size(); i++) {
            RecordStore.Version v = rows.get(i);
            if (v != null && v.withheld()) {
                return i;
            }
        }
        return -1;
    }

    SearchPage searchIn(Connection c, Caller caller, String type, Map<String, List<String>> params, long pageBytes)
            throws SQLException {
        SearchQuery q = parseQuery(caller, type, params);
        SearchPlan plan = new SearchPlan(q);
        List<Include> inc = Include.parse(type, params); // refused before anything is read, matches or not
        String summary = first(params, "_summary");
        String totalMode = first(params, "_total");
        if (totalMode != null && !Set.of("none", "estimate", "accurate").contains(totalMode)) {
            throw FhirError.badRequest("_total の値が正しくありません / _total must be none, estimate or accurate");
        }
        int limit = pageSize(params.containsKey("_count") ? parseInt(first(params, "_count"), "_count") : null);
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
        AccessPolicy.SearchDecisions decisions = policy.searchDecisions(caller, c);
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
        int cut = firstWithheld(matches);
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
            List<RecordStore.Version> kept = visible(decisions, matches, subjects);
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
        List<RecordStore.Version> includes = includes(c, caller, type, matches, inc, decisions, pageBytes);
        return new SearchPage(matches.stream().map(Stored::of).toList(),
                includes.stream().map(Stored::of).toList(), total, next);
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
                                    List<Long> pks,
                                    List<List<String>> keys, AccessPolicy.SearchDecisions decisions, long pageBytes)
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

    /** The query, once the caller is known to be allowed to search every type it looks into (chains, _has). */
    private SearchQuery parseQuery(Caller caller, String type, Map<String, List<String>> params) {
        SearchQuery q = SearchParser.parse(type, params, policy.rowFilter(caller));
        for (String joined : q.joinedTypes) {
            policy.require(caller, joined, Permission.SEARCH);
        }
        return q;
    }

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

    /**
     * One {@code _include} ({@code reverse} false: {@code Source:param[:Target]}, Source the searched type, param a
     * reference parameter or {@code *}) or {@code _revinclude} ({@code Source:param[:Target]}, Source any type, param a
     * reference parameter); {@code target} is null when not given. Every segment must be present and known: an empty
     * one, a bare ':' or an extra segment is a 400, never an index error.
     */
    record Include(boolean reverse, String source, String param, String target) {
        static List<Include> parse(String type, Map<String, List<String>> params) {
            List<Include> out = new ArrayList<>();
            for (String spec : params.getOrDefault("_include", List.of())) {
                String[] p = spec.split(":", -1);
                if (p.length < 2 || p.length > 3 || !p[0].equals(type) || p[1].isEmpty()) {
                    throw FhirError.badRequest("_include の形式が正しくありません / _include must be " + type
                            + ":param[:TargetType] or " + type + ":*, not '" + spec + "'");
                }
                if (!p[1].equals("*")) {
                    requireReferenceParam(type, p[1]);
                }
                out.add(new Include(false, type, p[1], target(p, "_include", spec)));
            }
            for (String spec : params.getOrDefault("_revinclude", List.of())) {
                String[] p = spec.split(":", -1);
                if (p.length < 2 || p.length > 3 || !FhirSupport.isResourceType(p[0]) || p[1].isEmpty()) {
                    throw FhirError.badRequest("_revinclude の形式が正しくありません / _revinclude must be"
                            + " SourceType:param[:TargetType], e.g. Observation:subject, not '" + spec + "'");
                }
                requireReferenceParam(p[0], p[1]);
                out.add(new Include(true, p[0], p[1], target(p, "_revinclude", spec)));
            }
            return out;
        }

        private static String target(String[] p, String name, String spec) {
            if (p.length < 3) {
                return null;
            }
            if (!FhirSupport.isResourceType(p[2])) {
                throw FhirError.badRequest(name + " の対象リソース種別が不明です / the target type in " + name + " '"
                        + spec + "' is not an R4 resource type");
            }
            return p[2];
        }
    }

    /**
     * _include and _revinclude of the page; types the caller may not read are left out, and so are reverse includes
     * of a type the caller may not search.
     */
    private List<RecordStore.Version> includes(Connection c, Caller caller, String type,
                                               List<RecordStore.Version> matches, List<Include> specs,
                                               AccessPolicy.SearchDecisions decisions, long pageBytes)
            throws SQLException {
        if (specs.isEmpty() || matches.isEmpty()) {
            return List.of();
        }
        Set<Long> seen = new LinkedHashSet<>();
        matches.forEach(m -> seen.add(m.pk()));
        Long[] pageKeys = matches.stream().map(RecordStore.Version::pk).toArray(Long[]::new);
        String[] pageIds = matches.stream().map(RecordStore.Version::id).toArray(String[]::new);
        List<Long> found = new ArrayList<>();
        for (Include inc : specs) {
            if (!inc.reverse()) {
                boolean any = inc.param().equals("*");
                String sql = "SELECT t.res_pk FROM sp_reference x JOIN resource t ON t.res_type = x.target_type"
                        + " AND t.res_id = x.target_id WHERE x.res_pk = ANY(?) AND NOT t.deleted"
                        + (any ? "" : " AND x.param = ?") + (inc.target() != null ? " AND x.target_type = ?" : "");
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    int i = 1;
                    ps.setArray(i++, c.createArrayOf("bigint", pageKeys));
                    if (!any) {
                        ps.setString(i++, inc.param());
                    }
                    if (inc.target() != null) {
                        ps.setString(i, inc.target());
                    }
                    collect(ps, found);
                }
            } else if ((inc.target() == null || inc.target().equals(type))
                    && policy.allows(caller, inc.source(), Permission.SEARCH)) {
                // a target type other than the searched one names references to resources not on the page; a
                // reverse include is a search of its source type by reference, so it needs that type's search
                // permission (s), as type history does: read (r) alone would list resources never named to the caller
                try (PreparedStatement ps = c.prepareStatement("SELECT x.res_pk FROM sp_reference x JOIN resource s"
                        + " ON s.res_pk = x.res_pk WHERE x.res_type = ? AND x.param = ? AND x.target_type = ?"
                        + " AND x.target_id = ANY(?) AND NOT s.deleted")) {
                    ps.setString(1, inc.source());
                    ps.setString(2, inc.param());
                    ps.setString(3, type);
                    ps.setArray(4, c.createArrayOf("text", pageIds));
                    collect(ps, found);
                }
            }
        }
        List<Long> wanted = new ArrayList<>();
        for (Long pk : found) {
            if (seen.add(pk) && wanted.size() < MAX_INCLUDES) {
                wanted.add(pk);
            }
        }
        List<RecordStore.Version> readable = new ArrayList<>();
        Map<Long, AccessPolicy.Subject> subjects = caller.isPerson() ? new java.util.HashMap<>() : null;
        for (RecordStore.Version v : store.currentByPk(c, wanted, subjects, pageBytes)) {
            if (v.withheld()) {
                throw new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "取り込むリソース (_include,"
                        + " _revinclude) が 1 ページの上限 " + pageBytes + " バイトを超えます。_count を小さくしてください"
                        + " / the included resources exceed the page's limit of " + pageBytes + " bytes; ask for"
                        + " fewer matches per page (_count)");
            }
            if (policy.allows(caller, v.type(), Permission.READ)) {
                readable.add(v);
            }
        }
        return caller.isPerson() ? visible(decisions, readable, subjects) : readable;
    }

    /** The versions of a page a person may read and search, deciding the page at once; marks break-glass use. */
    private static List<RecordStore.Version> visible(AccessPolicy.SearchDecisions decisions,
                                                     List<RecordStore.Version> versions,
                                                     Map<Long, AccessPolicy.Subject> subjects) {
        List<AccessPolicy.Subject> page = new ArrayList<>(versions.size());
        for (RecordStore.Version v : versions) {
            page.add(subjects.get(v.pk()));
        }
        Set<AccessPolicy.Subject> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        kept.addAll(decisions.visible(page));
        List<RecordStore.Version> out = new ArrayList<>(versions.size());
        for (int i = 0; i < versions.size(); i++) {
            if (kept.contains(page.get(i))) {
                out.add(versions.get(i));
            }
        }
        return out;
    }

    private static AccessPolicy.Subject subject(String type, String id, IndexRows rows) {
        return new AccessPolicy.Subject(type, id, rows.patients(type, id), rows.docCodes(), rows.labels());
    }

    /** What the access decision needs about a version: its patient, document type and labels, from its index rows. */
    private AccessPolicy.Subject subject(Caller caller, RecordStore.Version v) {
        if (!caller.isPerson()) {
            return null;
        }
        IndexRows rows = indexer.extract(FhirSupport.parseStored(new String(v.body(),
                java.nio.charset.StandardCharsets.UTF_8)));
        return new AccessPolicy.Subject(v.type(), v.id(), rows.patients(v.type(), v.id()), rows.docCodes(),
                rows.labels());
    }

    private static void requireReferenceParam(String type, String name) {
        var sp = SearchParser.searchParam(type, name);
        if (sp.getParamType() != ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE) {
            throw FhirError.badRequest("'" + name + "' of " + type + " is not a reference parameter");
        }
    }

    private static void collect(PreparedStatement ps, List<Long> out) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
    }

    /** Resolves a conditional URL's query ({@code identifier=x|y}) to the matching ids, within {@code c}. */
    List<String> matchIds(Connection c, Caller caller, String type, Map<String, List<String>> criteria)
            throws SQLException {
        policy.require(caller, type, Permission.SEARCH);
        if (criteria.isEmpty()) {
            throw FhirError.badRequest("a conditional operation needs search criteria");
        }
        SearchQuery q = parseQuery(caller, type, criteria);
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

    // ---------------------------------------------------------------- writes

    /** Creates a resource, or with {@code ifNoneExist}, returns the single existing match instead. */
    public WriteResult create(Caller caller, IBaseResource res, Map<String, List<String>> ifNoneExist, String reason) {
        return inTx(c -> createIn(c, caller, res, ifNoneExist, reason, null));
    }

    WriteResult createIn(Connection c, Caller caller, IBaseResource res, Map<String, List<String>> ifNoneExist,
                         String reason, String assignedId) throws SQLException {
        String type = FhirSupport.CTX.getResourceType(res);
        policy.require(caller, type, Permission.CREATE);
        if (ifNoneExist != null) {
            lockCriteria(c, type, ifNoneExist);
            List<String> ids = matchIds(c, caller, type, ifNoneExist);
            if (ids.size() > 1) {
                throw FhirError.preconditionFailed("If-None-Exist matches more than one " + type);
            }
            if (ids.size() == 1) {
                policy.require(caller, type, Permission.READ);
                return new WriteResult(Stored.of(store.current(c, type, ids.get(0))), false, true);
            }
        }
        String id = assignedId != null ? assignedId : UUID.randomUUID().toString();
        return writeNew(c, caller, (Resource) res, type, id, reason);
    }

    private WriteResult writeNew(Connection c, Caller caller, Resource res, String type, String id, String reason)
            throws SQLException {
        fhir.validate(res);
        String lifecycle = Lifecycle.of(res);
        String op = "create";
        if (Lifecycle.ENTERED_IN_ERROR.equals(lifecycle)) {
            throw FhirError.unprocessable("a new record cannot start as entered-in-error");
        }
        RecordStore.Version v = prepare(res, type, id, 1, caller, reason, op, lifecycle, VersionHash.GENESIS);
        // Indexed after prepare, as stored (id, meta): a finished encounter without a period ends at meta.lastUpdated,
        // and verify-records indexes the stored body again.
        IndexRows rows = indexer.extract(res);
        policy.requireWrite(caller, new AccessPolicy.Write(null, null, subject(type, id, rows), lifecycle));
        try {
            store.write(c, null, v, rows);
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw FhirError.conflict(type + "/" + id + " was created at the same time by another request; retry");
            }
            throw e;
        }
        return new WriteResult(wrote(v), true, false);
    }

    /** Updates (or creates with the client's id) {@code type/id}; {@code ifMatch} is the expected version. */
    public WriteResult update(Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                              String reason) {
        return inTx(c -> updateIn(c, caller, type, id, res, ifMatch, reason));
    }

    WriteResult updateIn(Connection c, Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                         String reason) throws SQLException {
        requireType(type);
        String bodyType = FhirSupport.CTX.getResourceType(res);
        if (!bodyType.equals(type)) {
            throw FhirError.badRequest("the body is a " + bodyType + " but the URL names " + type);
        }
        if (!ID.matcher(id).matches()) {
            throw FhirError.badRequest("'" + id + "' is not a valid id (1-64 of A-Z a-z 0-9 - .)");
        }
        if (res.getIdElement().hasIdPart() && !res.getIdElement().getIdPart().equals(id)) {
            throw FhirError.badRequest("the body's id '" + res.getIdElement().getIdPart()
                    + "' differs from the URL's id '" + id + "'");
        }
        policy.require(caller, type, Permission.UPDATE);
        RecordStore.Head head = store.head(c, type, id, true);
        if (head == null) {
            if (ifMatch != null) {
                throw FhirError.preconditionFailed(type + "/" + id + " does not exist, so If-Match cannot hold");
            }
            policy.require(caller, type, Permission.CREATE);
            return writeNew(c, caller, (Resource) res, type, id, reason);
        }
        if (ifMatch != null && ifMatch != head.version()) {
            throw FhirError.preconditionFailed(type + "/" + id + " is at version " + head.version()
                    + ", not " + ifMatch + ": someone changed it since you read it; reload and reapply your change"
                    + " / 他の利用者が更新しました。最新版を読み直してください");
        }
        Resource r = (Resource) res;
        fhir.validate(r);
        String lifecycle = Lifecycle.of(r);
        String op = "update";
        if (!head.deleted() && Lifecycle.isLocked(head.lifecycle())) {
            if (reason == null) {
                throw FhirError.unprocessable(type + "/" + id + " is finalized (" + head.lifecycle()
                        + "); a change needs a reason (X-Mamori-Reason header) / 確定済みの記録の変更には理由が必要です");
            }
            if (lifecycle == null || Lifecycle.DRAFT.equals(lifecycle)) {
                throw FhirError.unprocessable(type + "/" + id + " is finalized and cannot return to draft;"
                        + " amend it or mark it entered-in-error / 確定済みの記録は下書きに戻せません");
            }
            op = Lifecycle.ENTERED_IN_ERROR.equals(lifecycle) ? "entered-in-error" : "amend";
        } else if (Lifecycle.ENTERED_IN_ERROR.equals(lifecycle)) {
            if (reason == null) {
                throw FhirError.unprocessable("marking " + type + "/" + id
                        + " entered-in-error needs a reason (X-Mamori-Reason header) / 理由が必要です");
            }
            op = "entered-in-error";
        }
        RecordStore.Version v = prepare(r, type, id, head.version() + 1, caller, reason, op, lifecycle, head.chain());
        IndexRows rows = indexer.extract(r); // after prepare, as stored (see writeNew)
        policy.requireWrite(caller, new AccessPolicy.Write(head.deleted() ? null : head.subject(),
                head.deleted() ? null : head.lifecycle(), subject(type, id, rows), lifecycle));
        store.write(c, head, v, rows);
        return new WriteResult(wrote(v), false, false);
    }

    /** PUT Type?criteria: updates the single match, creates when there is none, 412 when several. */
    public WriteResult conditionalUpdate(Caller caller, String type, Map<String, List<String>> criteria,
                                         IBaseResource res, Integer ifMatch, String reason) {
        return inTx(c -> conditionalUpdateIn(c, caller, type, criteria, res, ifMatch, reason));
    }

    WriteResult conditionalUpdateIn(Connection c, Caller caller, String type, Map<String, List<String>> criteria,
                                    IBaseResource res, Integer ifMatch, String reason) throws SQLException {
        requireType(type);
        lockCriteria(c, type, criteria);
        List<String> ids = matchIds(c, caller, type, criteria);
        if (ids.size() > 1) {
            throw FhirError.preconditionFailed("the conditional update matches more than one " + type);
        }
        if (ids.isEmpty()) {
            String id = res.getIdElement().hasIdPart() ? res.getIdElement().getIdPart() : UUID.randomUUID().toString();
            return updateIn(c, caller, type, id, res, ifMatch, reason);
        }
        return updateIn(c, caller, type, ids.get(0), res, ifMatch, reason);
    }

    /** Marks a resource deleted in a new version; every earlier version stays readable. */
    public WriteResult delete(Caller caller, String type, String id, String reason) {
        return inTx(c -> deleteIn(c, caller, type, id, reason));
    }

    WriteResult deleteIn(Connection c, Caller caller, String type, String id, String reason) throws SQLException {
        requireType(type);
        policy.require(caller, type, Permission.DELETE);
        RecordStore.Head head = store.head(c, type, id, true);
        if (head == null) {
            throw FhirError.notFound(type + "/" + id + " is not known");
        }
        if (head.deleted()) {
            return new WriteResult(Stored.of(store.current(c, type, id)), false, true);
        }
        if (reason == null) {
            throw FhirError.unprocessable("deleting " + type + "/" + id + " needs a reason (X-Mamori-Reason header);"
                    + " the record and its history are kept / 削除には理由が必要です");
        }
        policy.requireWrite(caller, new AccessPolicy.Write(head.subject(), head.lifecycle(), null, null));
        Instant now = now();
        RecordStore.Version v = new RecordStore.Version(head.pk(), 0, type, id, head.version() + 1, now,
                caller.principal(), reason, "delete", head.lifecycle(), null, null,
                VersionHash.chain(head.chain(), type, id, head.version() + 1, now, caller.principal(), reason,
                        "delete", head.lifecycle(), null));
        store.write(c, head, v, new IndexRows());
        return new WriteResult(wrote(v), false, false);
    }

    public WriteResult conditionalDelete(Caller caller, String type, Map<String, List<String>> criteria,
                                         String reason) {
        return inTx(c -> {
            requireType(type);
            List<String> ids = matchIds(c, caller, type, criteria);
            if (ids.size() > 1) {
                throw FhirError.preconditionFailed("the conditional delete matches more than one " + type);
            }
            if (ids.isEmpty()) {
                throw FhirError.notFound("no " + type + " matches the criteria");
            }
            return deleteIn(c, caller, type, ids.get(0), reason);
        });
    }

    private RecordStore.Version prepare(Resource res, String type, String id, int version, Caller caller,
                                        String reason, String op, String lifecycle, byte[] previousChain) {
        Instant now = now();
        res.setId(type + "/" + id);
        res.getMeta().setVersionId(Integer.toString(version));
        res.getMeta().setLastUpdated(java.util.Date.from(now));
        byte[] body = FhirSupport.canonicalJson(res).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] content = VersionHash.content(body);
        byte[] chain = VersionHash.chain(previousChain, type, id, version, now, caller.principal(), reason, op,
                lifecycle, content);
        return new RecordStore.Version(0, 0, type, id, version, now, caller.principal(), reason, op, lifecycle,
                body, content, chain);
    }

    /** Serializes conditional operations on the same criteria so two cannot both create. */
    static void lockCriteria(Connection c, String type, Map<String, List<String>> criteria)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
            ps.setString(1, type + "?" + new java.util.TreeMap<>(criteria));
            ps.execute();
        }
    }

    // ---------------------------------------------------------------- transactions

    /** Sets the journal told about every transaction that writes (the audit's, {@code ApiAudit}). */
    public void journal(WriteJournal journal) {
        this.journal = journal;
    }

    /** Notes a version stored in the current transaction, for the journal. */
    private Stored wrote(RecordStore.Version v) {
        Stored s = Stored.of(v);
        List<Stored> w = txWrites.get();
        if (w != null) {
            w.add(s);
        }
        return s;
    }

    /**
     * Runs {@code work} in one database transaction (for a single write or on behalf of a bundle). When it wrote
     * versions, the journal records them in the same transaction before it commits (AUDIT-1).
     */
    <T> T inTx(Tx.Work<T> work) {
        List<Stored> outer = txWrites.get();
        List<Stored> writes = new ArrayList<>(1);
        txWrites.set(writes);
        WriteJournal j = journal;
        T result;
        try {
            result = Tx.inTransaction(ds, c -> {
                T r = work.run(c);
                if (j != null && !writes.isEmpty()) {
                    j.beforeCommit(c, List.copyOf(writes));
                }
                return r;
            });
        } catch (DataAccessException e) {
            if ("40001".equals(e.sqlState()) || "40P01".equals(e.sqlState())) {
                throw FhirError.conflict("a concurrent change conflicted with this request; retry it");
            }
            throw e;
        } finally {
            if (outer == null) {
                txWrites.remove();
            } else {
                txWrites.set(outer);
            }
        }
        if (!writes.isEmpty()) {
            CrashPoint.afterWriteCommit();
            if (j != null) {
                j.afterCommit(List.copyOf(writes));
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- verification

    /** What verification found about one stored version. */
    public record Mismatch(String type, String id, int version, String problem, String expected, String actual) {
    }

    /**
     * Recomputes every version's content hash and hash chain, checks that each head points at its resource's newest
     * version, and that the head's other columns and the search index rows are what that version gives
     * ({@link DerivedCheck}); returns the count of versions checked. All of it reads one snapshot (repeatable read),
     * so that a server writing meanwhile causes no false report.
     */
    public long verifyAll(java.util.function.Consumer<Mismatch> report) {
        long[] n = {0};
        Tx.read(ds, c -> {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                verifyIn(c, report, n);
                c.commit();
            } finally {
                c.rollback();
                c.setReadOnly(false);
                c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                c.setAutoCommit(true);
            }
            return null;
        });
        return n[0];
    }

    private void verifyIn(Connection c, java.util.function.Consumer<Mismatch> report, long[] n) throws SQLException {
        long[] pk = {-1};
        byte[][] chain = {VersionHash.GENESIS};
        int[] expectVersion = {1};
        RecordStore.Version[] newest = {null};
        DerivedCheck derived = new DerivedCheck(indexer, report);
        store.forEachVersion(c, v -> {
            n[0]++;
            if (v.pk() != pk[0]) {
                if (newest[0] != null) {
                    derived.add(c, newest[0]);
                }
                pk[0] = v.pk();
                chain[0] = VersionHash.GENESIS;
                expectVersion[0] = 1;
            }
            newest[0] = v;
            if (v.version() != expectVersion[0]) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "version sequence broken",
                        Integer.toString(expectVersion[0]), Integer.toString(v.version())));
            }
            expectVersion[0] = v.version() + 1;
            byte[] content = VersionHash.content(v.body());
            if (!java.util.Arrays.equals(content, v.contentSha256())) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "content hash mismatch",
                        VersionHash.hex(v.contentSha256()), VersionHash.hex(content)));
            }
            byte[] expected = VersionHash.chain(chain[0], v.type(), v.id(), v.version(), v.recordedAt(),
                    v.author(), v.reason(), v.operation(), v.lifecycle(), v.contentSha256());
            if (!java.util.Arrays.equals(expected, v.chainSha256())) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "chain hash mismatch",
                        VersionHash.hex(v.chainSha256()), VersionHash.hex(expected)));
            }
            chain[0] = v.chainSha256();
        });
        if (newest[0] != null) {
            derived.add(c, newest[0]);
        }
        derived.flush(c);
        try (PreparedStatement ps = c.prepareStatement("SELECT r.res_type, r.res_id, r.version,"
                + " (SELECT max(v.version) FROM resource_version v WHERE v.res_pk = r.res_pk) FROM resource r"
                + " WHERE r.version IS DISTINCT FROM (SELECT max(v.version) FROM resource_version v"
                + " WHERE v.res_pk = r.res_pk)");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                report.accept(new Mismatch(rs.getString(1), rs.getString(2), rs.getInt(3),
                        "head points at a version that is not the latest stored",
                        rs.getString(4), Integer.toString(rs.getInt(3))));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }

    static void requireType(String type) {
        if (!FhirSupport.isResourceType(type)) {
            throw FhirError.notFound("'" + type + "' is not an R4 resource type / 不明なリソース種別です");
        }
    }

    private int pageSize(Integer count) {
        if (count == null) {
            return defaultPageSize;
        }
        if (count < 0) {
            throw FhirError.badRequest("_count must not be negative");
        }
        return Math.min(count, maxPageSize);
    }

    private static int parseVersion(String text) {
        try {
            int v = Integer.parseInt(text);
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw FhirError.notFound("version '" + text + "' is not known");
        }
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
