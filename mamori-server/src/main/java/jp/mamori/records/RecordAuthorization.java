package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope.Permission;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.access.RowFilter;

/**
 * Every access decision about stored records, the only class of this package that holds the {@link AccessPolicy}.
 * <p>
 * {@link RecordService} asks it, when a call comes in and before the call's use case runs, for everything the request
 * alone decides: the resource type with the permission asked for (a system client's scope letters, a person's type
 * gate), the extent of a history, the types a search looks into through chains and {@code _has}, and the row filter
 * of a search. The use cases ({@link RecordReads}, {@link RecordSearch}, {@link SearchIncludes}, {@link RecordWrites})
 * check no scope themselves; they call back here only for what is known once stored data has been read, which
 * RecordService cannot know before the call runs:
 * <ul>
 * <li>{@link #requireRecord}: each version a read, a vread or a history returns, decided on its subject (patient,
 * document type, labels), which is in the version read ({@link RecordReads});</li>
 * <li>{@link #searchDecisions} and {@link #visible}: the rows of a person's search, decided a page or a chunk at a
 * time as they are read ({@link RecordSearch});</li>
 * <li>{@link #allows}: the types of the resources a page's {@code _include} and {@code _revinclude} bring, known once
 * the page's references are read ({@link SearchIncludes});</li>
 * <li>{@link #requireWrite}: a change, decided on the subject of the current version and of the new one, known from
 * the head and from the new version's index rows; and {@link #require} with {@code CREATE} when an update finds no
 * record and so creates one ({@link RecordWrites}).</li>
 * </ul>
 * Break-glass use is marked by the policy as these decisions are made, in the order they are made.
 */
final class RecordAuthorization {
    private final AccessPolicy policy;

    RecordAuthorization(AccessPolicy policy) {
        this.policy = policy;
    }

    /** A 403 unless {@code caller} may do {@code p} on resources of {@code type} (for a person: the type gate). */
    void require(Caller caller, String type, Permission p) {
        policy.require(caller, type, p);
    }

    /** Whether a person reads their own Practitioner, which passes the type gate whatever their roles. */
    boolean ownPractitioner(Caller caller, String type, String id) {
        return policy.ownPractitioner(caller, type, id);
    }

    /** Whether {@code caller} may do {@code p} on resources of {@code type} (for a person: the type gate). */
    boolean allows(Caller caller, String type, Permission p) {
        return policy.allows(caller, type, p);
    }

    /** A 403 unless the caller may ask for this extent of history (a person: one record's only). */
    void requireHistory(Caller caller, String type, String id) {
        policy.requireHistory(caller, type, id);
    }

    /** The rows of a search the caller may see, as SQL (null: all rows). */
    RowFilter rowFilter(Caller caller) {
        return policy.rowFilter(caller);
    }

    /** A 403 unless the caller may search every type the query looks into (chains, _has). */
    void requireJoined(Caller caller, SearchQuery q) {
        for (String joined : q.joinedTypes) {
            policy.require(caller, joined, Permission.SEARCH);
        }
    }

    /** A 403 unless the person may read this version; marks a read under break-glass. No-op for system clients. */
    void requireRecord(Caller caller, AccessPolicy.Subject s) {
        policy.requireRecord(caller, s);
    }

    /** A 403 unless the person may make this change; marks it under break-glass. No-op for system clients. */
    void requireWrite(Caller caller, AccessPolicy.Write w) {
        policy.requireWrite(caller, w);
    }

    /** Whether the caller may see the content of a version of {@code type/id} in this stage stored by
     * {@code versionAuthor} (a proxy entry's draft is its responsible person's too). */
    boolean draftContentVisible(Caller caller, String lifecycle, String versionAuthor, String type, String id,
                                byte[] body) {
        return policy.draftContentVisible(caller, lifecycle, versionAuthor, type, id, body);
    }

    /** The decisions of one search by {@code caller}, which reads on {@code c}. */
    AccessPolicy.SearchDecisions searchDecisions(Caller caller, Connection c) {
        return policy.searchDecisions(caller, c);
    }

    /** The versions of a page a person may read and search, deciding the page at once; marks break-glass use. */
    static List<RecordStore.Version> visible(AccessPolicy.SearchDecisions decisions, List<RecordStore.Version> versions,
                                             Map<Long, AccessPolicy.Subject> subjects) {
        List<AccessPolicy.Subject> page = new ArrayList<>(versions.size());
        for (RecordStore.Version v : versions) {
            page.add(subjects.get(v.pk()));
        }
        Set<AccessPolicy.Subject> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(decisions.visible(page));
        List<RecordStore.Version> out = new ArrayList<>(versions.size());
        for (int i = 0; i < versions.size(); i++) {
            if (kept.contains(page.get(i))) {
                out.add(versions.get(i));
            }
        }
        return out;
    }
}
