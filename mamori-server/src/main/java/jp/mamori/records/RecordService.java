package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope.Permission;
import jp.mamori.db.Tx;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import jp.mamori.kernel.FhirError;

/**
 * The only way in to stored records, and the one place where a call to them is authorized. Every operation, whether
 * from the REST API, a bundle entry or the console, passes {@link RecordAuthorization} here, before its use case
 * touches the store, for everything the request decides: the resource type and the permission the operation needs
 * (and, for a search, the types it looks into and the caller's row filter), in the order the checks have always been
 * made. The work is then done by package-private use cases that check no scope themselves: {@link RecordReads} (read,
 * vread, history), {@link RecordSearch} with {@link SearchIncludes} (search, the matches of conditional operations),
 * {@link RecordWrites} (create, update, delete, the transaction and its {@link WriteJournal}) and
 * {@link RecordVerification} (verify-records). What only stored data decides (the subject of a version read or
 * written, the rows of a person's search, the types a page includes) they ask {@link RecordAuthorization} for
 * mid-operation; its javadoc lists each such call. Every version written takes its author from the authenticated
 * {@link Caller} and its time from the server clock.
 */
public final class RecordService {
    /**
     * Bytes of stored bodies on one page of search or history answered as stored JSON: a page ends early, with a
     * {@code next} link, once its bodies reach this many bytes, so that a page never loads unbounded bodies. A
     * page always holds at least one entry, so every record stays readable whatever its size.
     */
    public static final long PAGE_BYTES = 8L * 1024 * 1024;
    /** The same for a page that is turned into HAPI's model to be answered (XML, _pretty, _summary, _elements). */
    public static final long PAGE_BYTES_REENCODED = 1024L * 1024;

    private final DataSource ds;
    private final RecordAuthorization auth;
    private final PageSize pageSize;
    private final RecordReads reads;
    private final RecordSearch search;
    private final RecordWrites writes;
    private final RecordVerification verification;
    private final RecordStore store;
    /** Someone else's draft as a person is given it, content withheld (issue 22). */
    private final DraftContent drafts;

    public RecordService(DataSource ds, AccessPolicy policy, FhirSupport fhir, int defaultPageSize, int maxPageSize) {
        this.ds = ds;
        this.auth = new RecordAuthorization(policy);
        this.pageSize = new PageSize(defaultPageSize, maxPageSize);
        SearchIndexer indexer = new SearchIndexer();
        RecordStore store = new RecordStore();
        this.store = store;
        this.drafts = new DraftContent(auth);
        this.reads = new RecordReads(ds, store, indexer, auth, maxPageSize);
        this.search = new RecordSearch(ds, store, auth, new SearchIncludes(store, auth), pageSize);
        this.writes = new RecordWrites(ds, store, indexer, fhir, auth);
        this.verification = new RecordVerification(ds, store, indexer);
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
     * entry) commits with the versions or not at all; {@link #afterCommit} runs once the transaction committed. Each
     * version comes with what the write knew of the one before it, so the journal need not read it back.
     */
    public interface WriteJournal {
        void beforeCommit(Connection c, List<Written> written) throws SQLException;

        void afterCommit(List<Written> written);
    }

    /**
     * A version written in the journal's transaction: as stored (its operation, lifecycle and body; no body for a
     * deletion), the lifecycle of the version before it (null for a new record), and the version's chain hash and
     * the one before it ({@link VersionHash#GENESIS} for a new record), which the audit entry names (STORE-1);
     * {@code accompanying} when a {@link CommitStep} wrote it along with the others (a signature's Provenance): the
     * entry names it, but the action is that of the others.
     */
    public record Written(Stored stored, String previousLifecycle, byte[] chain, byte[] previousChain,
                          boolean accompanying) {
        public String chainHex() {
            return VersionHash.hex(chain);
        }

        public String previousChainHex() {
            return VersionHash.hex(previousChain);
        }

        /** An update that locked a record that was not locked: a draft finalized. */
        public boolean finalizes() {
            return stored.operation().equals("update") && Lifecycle.isLocked(stored.lifecycle())
                    && !Lifecycle.isLocked(previousLifecycle);
        }
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
        if (!auth.ownPractitioner(caller, type, id)) { // a person's own Practitioner (SMART fhirUser) is theirs
            auth.require(caller, type, Permission.READ);
        }
        return drafts.shown(caller, reads.read(c, caller, type, id));
    }

    public Stored vread(Caller caller, String type, String id, String versionText) {
        return Tx.read(ds, c -> vread(c, caller, type, id, versionText));
    }

    Stored vread(Connection c, Caller caller, String type, String id, String versionText) throws SQLException {
        requireType(type);
        auth.require(caller, type, Permission.READ);
        return drafts.shown(caller, reads.vread(c, caller, type, id, versionText));
    }

    public HistoryPage history(Caller caller, String type, String id, Instant since, Integer count, String cursor) {
        return history(caller, type, id, since, count, cursor, PAGE_BYTES);
    }

    public HistoryPage history(Caller caller, String type, String id, Instant since, Integer count, String cursor,
                               long pageBytes) {
        int limit = pageSize.limit(count);
        Instant from = since == null ? Instant.EPOCH : since;
        auth.requireHistory(caller, type, id);
        if (type != null) {
            requireType(type);
        }
        // The history of one record is a read of its versions; the history of a type, or of every type, lists
        // versions as a search lists resources, and needs what a search needs (SMART v2 's'), for every type it
        // may return: the server's history is not cut down to some types, which would answer with a history that
        // silently has holes (ACCESS-1).
        auth.require(caller, type == null ? "*" : type, id != null ? Permission.READ : Permission.SEARCH);
        HistoryPage page = reads.history(caller, type, id, from, limit, cursor, pageBytes);
        return new HistoryPage(drafts.shown(caller, page.versions()), page.nextCursor(), page.total());
    }

    /**
     * Whether {@code caller} may do {@code p} on resources of {@code type} (a system client's scopes, a person's type
     * gate), without refusing: for an operation that gathers several types and leaves out, and says so, those the
     * caller may not read ({@code Patient/$everything}). Rows are still decided by each read and search.
     */
    public boolean permits(Caller caller, String type, Permission p) {
        requireType(type);
        return auth.allows(caller, type, p);
    }

    /** The entries on a page for {@code count} (null: the server's default), at most the server's maximum. */
    public int pageLimit(Integer count) {
        return pageSize.limit(count);
    }

    // ---------------------------------------------------------------- search

    public SearchPage search(Caller caller, String type, Map<String, List<String>> params) {
        return search(caller, type, params, PAGE_BYTES);
    }

    /** A page of matches whose stored bodies stop at about {@code pageBytes} bytes (see {@link #PAGE_BYTES}). */
    public SearchPage search(Caller caller, String type, Map<String, List<String>> params, long pageBytes) {
        requireType(type);
        auth.require(caller, type, Permission.SEARCH);
        return shown(caller, search.search(caller, query(caller, type, params), params, pageBytes));
    }

    /** A search within {@code c} (a bundle's GET entry). */
    SearchPage searchIn(Connection c, Caller caller, String type, Map<String, List<String>> params)
            throws SQLException {
        requireType(type);
        auth.require(caller, type, Permission.SEARCH);
        return shown(caller, search.searchIn(c, caller, query(caller, type, params), params, PAGE_BYTES));
    }

    /** A page as the caller may see it: a draft that is someone else's with its content withheld. */
    private SearchPage shown(Caller caller, SearchPage p) {
        if (!caller.isPerson()) {
            return p;
        }
        return new SearchPage(drafts.shown(caller, p.matches()), drafts.shown(caller, p.includes()), p.total(),
                p.nextCursor());
    }

    /** The query, once the caller is known to be allowed to search every type it looks into (chains, _has). */
    private SearchQuery query(Caller caller, String type, Map<String, List<String>> params) {
        SearchQuery q = SearchParser.parse(type, params, auth.rowFilter(caller));
        auth.requireJoined(caller, q);
        return q;
    }

    /** The query of a conditional operation's criteria ({@code identifier=x|y}), which needs search permission. */
    private SearchQuery conditional(Caller caller, String type, Map<String, List<String>> criteria) {
        auth.require(caller, type, Permission.SEARCH);
        if (criteria.isEmpty()) {
            throw FhirError.badRequest("a conditional operation needs search criteria");
        }
        return query(caller, type, criteria);
    }

    /** Resolves a conditional URL's query ({@code identifier=x|y}) to the matching ids, within {@code c}. */
    List<String> matchIds(Connection c, Caller caller, String type, Map<String, List<String>> criteria)
            throws SQLException {
        return search.matchIds(c, conditional(caller, type, criteria));
    }

    /**
     * As {@link #matchIds}, holding until the transaction ends a lock on the criteria, so that two conditional
     * operations with the same criteria cannot both create.
     */
    private List<String> lockedMatchIds(Connection c, Caller caller, String type, Map<String, List<String>> criteria)
            throws SQLException {
        SearchQuery q = conditional(caller, type, criteria);
        lockCriteria(c, type, criteria);
        return search.matchIds(c, q);
    }

    // ---------------------------------------------------------------- writes

    /** Creates a resource, or with {@code ifNoneExist}, returns the single existing match instead. */
    public WriteResult create(Caller caller, IBaseResource res, Map<String, List<String>> ifNoneExist, String reason) {
        return inTx(c -> createIn(c, caller, res, ifNoneExist, reason, null));
    }

    WriteResult createIn(Connection c, Caller caller, IBaseResource res, Map<String, List<String>> ifNoneExist,
                         String reason, String assignedId) throws SQLException {
        String type = FhirSupport.CTX.getResourceType(res);
        auth.require(caller, type, Permission.CREATE);
        if (ifNoneExist != null) {
            List<String> ids = lockedMatchIds(c, caller, type, ifNoneExist);
            if (ids.size() > 1) {
                throw FhirError.preconditionFailed("If-None-Exist matches more than one " + type);
            }
            if (ids.size() == 1) {
                auth.require(caller, type, Permission.READ);
                return writes.existing(c, type, ids.get(0));
            }
        }
        String id = assignedId != null ? assignedId : UUID.randomUUID().toString();
        return writes.create(c, caller, (Resource) res, type, id, reason);
    }

    /** Updates (or creates with the client's id) {@code type/id}; {@code ifMatch} is the expected version. */
    public WriteResult update(Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                              String reason) {
        return inTx(c -> updateIn(c, caller, type, id, res, ifMatch, reason));
    }

    WriteResult updateIn(Connection c, Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                         String reason) throws SQLException {
        requireType(type);
        RecordWrites.checkUpdate(type, id, res);
        auth.require(caller, type, Permission.UPDATE);
        if (caller.isPerson()) {
            drafts.requireChange(caller, store.current(c, type, id));
        }
        return writes.update(c, caller, type, id, res, ifMatch, reason);
    }

    /** PUT Type?criteria: updates the single match, creates when there is none, 412 when several. */
    public WriteResult conditionalUpdate(Caller caller, String type, Map<String, List<String>> criteria,
                                         IBaseResource res, Integer ifMatch, String reason) {
        return inTx(c -> conditionalUpdateIn(c, caller, type, criteria, res, ifMatch, reason));
    }

    WriteResult conditionalUpdateIn(Connection c, Caller caller, String type, Map<String, List<String>> criteria,
                                    IBaseResource res, Integer ifMatch, String reason) throws SQLException {
        requireType(type);
        List<String> ids = lockedMatchIds(c, caller, type, criteria);
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
        auth.require(caller, type, Permission.DELETE);
        if (caller.isPerson()) {
            drafts.requireChange(caller, store.current(c, type, id));
        }
        return writes.delete(c, caller, type, id, reason);
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

    /** Serializes conditional operations on the same criteria so two cannot both create. */
    static void lockCriteria(Connection c, String type, Map<String, List<String>> criteria) throws SQLException {
        RecordWrites.lockCriteria(c, type, criteria);
    }

    // ---------------------------------------------------------------- transactions

    /** A stored version's hashes, as the audit trail's cross-check compares them (STORE-1). */
    public record VersionHashes(String type, String id, int version, byte[] content, byte[] chain) {
    }

    /**
     * Streams the hashes of every stored version through {@code c} (in the caller's transaction, so in its snapshot),
     * resource by resource, each resource's versions in order.
     */
    public static void forEachVersionHashes(Connection c, HashesSink each) throws SQLException {
        RecordStore.forEachVersionHashes(c, each::accept);
    }

    /** Takes each version's hashes; may write through the same connection, and throw what that throws. */
    @FunctionalInterface
    public interface HashesSink {
        void accept(VersionHashes v) throws SQLException;
    }

    /**
     * A step that runs in every transaction that wrote versions, after its writes and before the journal (issue 17):
     * it may write versions of its own through {@code writer}, in the same transaction (a signature's Provenance),
     * which the journal then records with the rest; throwing rolls the whole transaction back.
     */
    public interface CommitStep {
        void beforeCommit(Connection c, List<Written> written, Writer writer) throws SQLException;
    }

    /** Writes in the transaction that is committing, as {@code caller}, decided like any write. */
    public interface Writer {
        Stored create(Caller caller, IBaseResource res, String reason) throws SQLException;

        Stored update(Caller caller, String type, String id, IBaseResource res, Integer ifMatch, String reason)
                throws SQLException;
    }

    /** Sets the step run before every writing transaction's journal (the signatures', {@code DocumentSigning}). */
    public void commitStep(CommitStep step) {
        writes.commitStep(step, this::writerFor);
    }

    /** Work in one writing transaction: its writes through the {@link Writer}, its own rows through {@code c}. */
    public interface WriteWork<T> {
        T run(Connection c, Writer writer) throws SQLException;
    }

    /**
     * Runs {@code work} in ONE transaction, journaled like every write: the versions it writes and whatever else it
     * stores through {@code c} commit together or not at all.
     */
    public <T> T writeWith(WriteWork<T> work) {
        return inTx(c -> work.run(c, writerFor(c)));
    }

    private Writer writerFor(Connection c) {
        return new Writer() {
            @Override
            public Stored create(Caller caller, IBaseResource res, String reason) throws SQLException {
                return createIn(c, caller, res, null, reason, null).stored();
            }

            @Override
            public Stored update(Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                                 String reason) throws SQLException {
                return updateIn(c, caller, type, id, res, ifMatch, reason).stored();
            }
        };
    }

    /** Sets the journal told about every transaction that writes (the audit's {@code WriteEntries}). */
    public void journal(WriteJournal journal) {
        writes.journal(journal);
    }

    /**
     * Runs {@code work} in one database transaction (for a single write or on behalf of a bundle). When it wrote
     * versions, the journal records them in the same transaction before it commits (AUDIT-1).
     */
    <T> T inTx(Tx.Work<T> work) {
        return writes.inTx(work);
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
    public long verifyAll(Consumer<Mismatch> report) {
        return verification.verifyAll(report);
    }

    // ---------------------------------------------------------------- helpers

    static void requireType(String type) {
        if (!FhirSupport.isResourceType(type)) {
            throw FhirError.notFound("'" + type + "' is not an R4 resource type / 不明なリソース種別です");
        }
    }
}
