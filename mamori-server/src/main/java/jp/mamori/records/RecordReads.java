package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.db.Tx;
import jp.mamori.records.RecordService.HistoryPage;
import jp.mamori.records.RecordService.Stored;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import jp.mamori.kernel.FhirError;

/**
 * Reads of stored versions: the current version (read), one version (vread) and the history of a record, a type or
 * the server. {@link RecordService} has passed the type gate before any of these runs; each version is then decided
 * on its own subject through {@link RecordAuthorization#requireRecord}, since the subject is in the version read.
 */
final class RecordReads {
    private final DataSource ds;
    private final RecordStore store;
    private final SearchIndexer indexer;
    private final RecordAuthorization auth;
    private final int maxPageSize;

    RecordReads(DataSource ds, RecordStore store, SearchIndexer indexer, RecordAuthorization auth, int maxPageSize) {
        this.ds = ds;
        this.store = store;
        this.indexer = indexer;
        this.auth = auth;
        this.maxPageSize = maxPageSize;
    }

    Stored read(Connection c, Caller caller, String type, String id) throws SQLException {
        RecordStore.Current cur = store.current(c, type, id, caller.isPerson());
        if (cur == null) {
            throw disposedOr(c, type, id, FhirError.notFound(type + "/" + id + " is not known / 該当する記録がありません"));
        }
        RecordStore.Version v = cur.version();
        if (v.deleted()) {
            throw FhirError.gone(type + "/" + id + " was deleted in version " + v.version());
        }
        auth.requireRecord(caller, cur.subject());
        return Stored.of(v);
    }

    Stored vread(Connection c, Caller caller, String type, String id, String versionText) throws SQLException {
        RecordStore.Version v = store.version(c, type, id, parseVersion(versionText));
        if (v == null) {
            throw disposedOr(c, type, id, FhirError.notFound(type + "/" + id + "/_history/" + versionText
                    + " is not known"));
        }
        if (v.deleted()) {
            throw FhirError.gone(type + "/" + id + " version " + versionText + " records its deletion");
        }
        auth.requireRecord(caller, subject(caller, v));
        return Stored.of(v);
    }

    /**
     * A page of the history of {@code type/id} ({@code id} null: of the type; {@code type} null: of the server) since
     * {@code from}, {@code limit} versions (0: the total alone) after {@code cursor}, whose bodies stop at about
     * {@code pageBytes} bytes.
     */
    HistoryPage history(Caller caller, String type, String id, Instant from, int limit, String cursor,
                        long pageBytes) {
        return Tx.read(ds, c -> {
            List<RecordStore.Version> rows;
            if (id != null) {
                RecordStore.Head head = store.head(c, type, id, false);
                if (head == null) {
                    throw disposedOr(c, type, id, FhirError.notFound(type + "/" + id + " is not known"));
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
                            int withheld = RecordStore.firstWithheld(chunk);
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
                int before = cursor == null ? Integer.MAX_VALUE
                        : (int) Math.min(Integer.MAX_VALUE, SearchCursor.number(cursor));
                rows = store.instanceHistory(c, head.pk(), before, from, limit + 1, pageBytes);
            } else {
                if (limit == 0) {
                    return new HistoryPage(List.of(), null, store.countHistory(c, type, from));
                }
                long before = cursor == null ? Long.MAX_VALUE : SearchCursor.number(cursor);
                rows = store.history(c, type, before, from, limit + 1, pageBytes);
            }
            String next = null;
            int cut = RecordStore.firstWithheld(rows);
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
                    auth.requireRecord(caller, subject(caller, v));
                }
            }
        }
    }

    /** What the access decision needs about a version: its patient, document type and labels, from its index rows. */
    private AccessPolicy.Subject subject(Caller caller, RecordStore.Version v) {
        if (!caller.isPerson()) {
            return null;
        }
        IndexRows rows = indexer.extract(FhirSupport.parseStored(new String(v.body(), StandardCharsets.UTF_8)));
        return new AccessPolicy.Subject(v.type(), v.id(), rows.patients(v.type(), v.id()), rows.docCodes(),
                rows.labels());
    }

    /**
     * 410 Gone for a resource disposed of past its retention (ADR 0011): its tombstone says when and under which
     * batch, so that a reader learns it existed and was removed on purpose; else {@code otherwise}.
     */
    static FhirError disposedOr(Connection c, String type, String id, FhirError otherwise) throws SQLException {
        java.util.Optional<RecordDisposal.Tombstone> t = RecordDisposal.tombstone(c, type, id);
        if (t.isEmpty()) {
            return otherwise;
        }
        String day = java.time.format.DateTimeFormatter.ISO_LOCAL_DATE.format(
                t.get().disposedAt().atZone(java.time.ZoneId.of("Asia/Tokyo")));
        return FhirError.gone(type + "/" + id + " は保存期間の満了により " + day + " に廃棄されました（廃棄バッチ "
                + t.get().batch() + "） / " + type + "/" + id + " was disposed of on " + day
                + " (retention period over) under disposal batch " + t.get().batch());
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
}
