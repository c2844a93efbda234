package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope.Permission;
import jp.mamori.db.DataAccessException;
import jp.mamori.db.Tx;
import jp.mamori.records.RecordService.Stored;
import jp.mamori.records.RecordService.WriteJournal;
import jp.mamori.records.RecordService.WriteResult;
import jp.mamori.records.RecordService.Written;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import jp.mamori.kernel.FhirError;

/**
 * Writes: a new record, a new version of one, a deletion, each in a transaction that tells the {@link WriteJournal}
 * (the audit) what it wrote before it commits and after. Every version takes its author from the authenticated
 * {@link Caller} and its time from the server clock. {@link RecordService} has passed the type gate of the write (and
 * found the matches of a conditional one) before any of this runs; the change itself is decided here through
 * {@link RecordAuthorization#requireWrite}, on the subject of the current version and of the new one, which are known
 * only once the head is read and the new version indexed; an update that finds no record asks for {@code CREATE}
 * there too.
 */
final class RecordWrites {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    private final DataSource ds;
    private final RecordStore store;
    private final SearchIndexer indexer;
    private final FhirSupport fhir;
    private final RecordAuthorization auth;
    /** The versions written so far in the transaction {@link #inTx} runs on this thread (null outside one). */
    private final ThreadLocal<List<Written>> txWrites = new ThreadLocal<>();
    private volatile WriteJournal journal;
    private volatile RecordService.CommitStep step;
    /** Set while the commit step runs on this thread: what it writes accompanies the transaction's writes. */
    private final ThreadLocal<Boolean> inStep = new ThreadLocal<>();
    private volatile java.util.function.Function<Connection, RecordService.Writer> stepWriter;

    RecordWrites(DataSource ds, RecordStore store, SearchIndexer indexer, FhirSupport fhir, RecordAuthorization auth) {
        this.ds = ds;
        this.store = store;
        this.indexer = indexer;
        this.fhir = fhir;
        this.auth = auth;
    }

    /**
     * The 400s an update of {@code type/id} with {@code res} is refused with before any permission is asked: a body
     * of another type, an invalid id, a body whose id differs from the URL's.
     */
    static void checkUpdate(String type, String id, IBaseResource res) {
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
    }

    /** The current version of the record an If-None-Exist matched, written by nobody now. */
    WriteResult existing(Connection c, String type, String id) throws SQLException {
        return new WriteResult(Stored.of(store.current(c, type, id)), false, true);
    }

    /** Creates {@code type/id} from {@code res}. */
    WriteResult create(Connection c, Caller caller, Resource res, String type, String id, String reason)
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
        auth.requireWrite(caller, new AccessPolicy.Write(null, null, subject(type, id, rows), lifecycle));
        try {
            store.write(c, null, v, rows);
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw FhirError.conflict(type + "/" + id + " was created at the same time by another request; retry");
            }
            throw e;
        }
        return new WriteResult(wrote(v, null, VersionHash.GENESIS), true, false);
    }

    /** Updates {@code type/id} (checked by {@link #checkUpdate}), or creates it with the client's id. */
    WriteResult update(Connection c, Caller caller, String type, String id, IBaseResource res, Integer ifMatch,
                       String reason) throws SQLException {
        RecordStore.Head head = store.head(c, type, id, true);
        if (head == null) {
            if (ifMatch != null) {
                throw FhirError.preconditionFailed(type + "/" + id + " does not exist, so If-Match cannot hold");
            }
            auth.require(caller, type, Permission.CREATE);
            return create(c, caller, (Resource) res, type, id, reason);
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
        IndexRows rows = indexer.extract(r); // after prepare, as stored (see create)
        auth.requireWrite(caller, new AccessPolicy.Write(head.deleted() ? null : head.subject(),
                head.deleted() ? null : head.lifecycle(), subject(type, id, rows), lifecycle));
        store.write(c, head, v, rows);
        return new WriteResult(wrote(v, head.lifecycle(), head.chain()), false, false);
    }

    /** Marks {@code type/id} deleted in a new version; every earlier version stays readable. */
    WriteResult delete(Connection c, Caller caller, String type, String id, String reason) throws SQLException {
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
        auth.requireWrite(caller, new AccessPolicy.Write(head.subject(), head.lifecycle(), null, null));
        Instant now = now();
        RecordStore.Version v = new RecordStore.Version(head.pk(), 0, type, id, head.version() + 1, now,
                caller.principal(), reason, "delete", head.lifecycle(), null, null,
                VersionHash.chain(head.chain(), type, id, head.version() + 1, now, caller.principal(), reason,
                        "delete", head.lifecycle(), null));
        store.write(c, head, v, new IndexRows());
        return new WriteResult(wrote(v, head.lifecycle(), head.chain()), false, false);
    }

    private RecordStore.Version prepare(Resource res, String type, String id, int version, Caller caller,
                                        String reason, String op, String lifecycle, byte[] previousChain) {
        Instant now = now();
        res.setId(type + "/" + id);
        res.getMeta().setVersionId(Integer.toString(version));
        res.getMeta().setLastUpdated(java.util.Date.from(now));
        byte[] body = FhirSupport.canonicalJson(res).getBytes(StandardCharsets.UTF_8);
        byte[] content = VersionHash.content(body);
        byte[] chain = VersionHash.chain(previousChain, type, id, version, now, caller.principal(), reason, op,
                lifecycle, content);
        return new RecordStore.Version(0, 0, type, id, version, now, caller.principal(), reason, op, lifecycle,
                body, content, chain);
    }

    private static AccessPolicy.Subject subject(String type, String id, IndexRows rows) {
        return new AccessPolicy.Subject(type, id, rows.patients(type, id), rows.docCodes(), rows.labels());
    }

    /** Serializes conditional operations on the same criteria so two cannot both create. */
    static void lockCriteria(Connection c, String type, Map<String, List<String>> criteria) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
            ps.setString(1, type + "?" + new TreeMap<>(criteria));
            ps.execute();
        }
    }

    // ---------------------------------------------------------------- transactions

    /** Sets the journal told about every transaction that writes (the audit's {@code WriteEntries}). */
    void journal(WriteJournal journal) {
        this.journal = journal;
    }

    /** Sets the step run before the journal, and how it writes in the committing transaction. */
    void commitStep(RecordService.CommitStep step, java.util.function.Function<Connection, RecordService.Writer> writer) {
        this.stepWriter = writer;
        this.step = step;
    }

    /**
     * Notes a version stored in the current transaction, for the journal, with the lifecycle of the version before it
     * (the head's, as the write read it under its lock; null for a new record) and its chain hash.
     */
    private Stored wrote(RecordStore.Version v, String previousLifecycle, byte[] previousChain) {
        Stored s = Stored.of(v);
        List<Written> w = txWrites.get();
        if (w != null) {
            w.add(new Written(s, previousLifecycle, v.chainSha256(), previousChain, inStep.get() != null));
        }
        return s;
    }

    /**
     * Runs {@code work} in one database transaction (for a single write or on behalf of a bundle). When it wrote
     * versions, the journal records them in the same transaction before it commits (AUDIT-1).
     */
    <T> T inTx(Tx.Work<T> work) {
        List<Written> outer = txWrites.get();
        List<Written> writes = new ArrayList<>(1);
        txWrites.set(writes);
        WriteJournal j = journal;
        RecordService.CommitStep s = step;
        T result;
        try {
            result = Tx.inTransaction(ds, c -> {
                T r = work.run(c);
                if (s != null && !writes.isEmpty()) {
                    inStep.set(Boolean.TRUE);
                    try {
                        s.beforeCommit(c, List.copyOf(writes), stepWriter.apply(c));
                    } finally {
                        inStep.remove();
                    }
                }
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

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }
}
