package jp.mamori.audit;

import jp.mamori.records.RecordService;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The journal of every transaction that writes record versions (AUDIT-1, STORE-1): it stages ONE audit entry in that
 * transaction, so the versions and their entry are durable together or not at all, whoever wrote them — a FHIR
 * request, the console, a tool or the demo data.
 *
 * <p>Who, why and whose come from the {@link Context} the writer runs in ({@link #within}): the FHIR API's request,
 * the console's page. A write outside any context (a tool, demo data) is recorded from the versions alone: their
 * author, the patients their bodies name, the operations.
 *
 * <p>Whatever the context, the entry names every version it wrote with its hashes, under {@link #HASHES}: one line
 * {@code Type/id/_history/n sha256=<content> chain=<chain> prev=<chain of the version before>} each (content {@code -}
 * for a deletion, prev all zeros for a new record). The chain hash binds the content to its author, time, reason,
 * operation and lifecycle and to the version before, so the trail's signed Merkle checkpoints cover every stored
 * version: a body, author or time rewritten behind the server's back with every hash recomputed no longer matches
 * the trail ({@link RecordTrailCheck}, run by {@code verify-records}).
 */
public final class WriteEntries implements RecordService.WriteJournal {
    /** The detail key of the versions' hash lines. */
    public static final String HASHES = "hashes";

    /** Says who wrote, why and whose, for the transactions that run inside it on this thread. */
    public interface Context {
        /**
         * The entry of the versions one transaction wrote, built in that transaction through {@code c}, without their
         * hashes (added here).
         */
        AuditEvent.Builder entry(Connection c, List<RecordService.Written> written) throws SQLException;

        /** Told once that transaction committed. */
        default void committed(List<RecordService.Written> written) {
        }
    }

    private static final ThreadLocal<Context> CONTEXT = new ThreadLocal<>();

    private final AuditRecorder recorder;

    public WriteEntries(AuditRecorder recorder) {
        this.recorder = recorder;
    }

    /** Runs {@code work} with {@code context} saying who writes; the context before is restored after. */
    public static <T> T within(Context context, Supplier<T> work) {
        Context outer = CONTEXT.get();
        CONTEXT.set(context);
        try {
            return work.get();
        } finally {
            if (outer == null) {
                CONTEXT.remove();
            } else {
                CONTEXT.set(outer);
            }
        }
    }

    @Override
    public void beforeCommit(Connection c, List<RecordService.Written> written) throws SQLException {
        Context context = CONTEXT.get();
        AuditEvent.Builder e = context != null ? context.entry(c, written) : standalone(written);
        recorder.stage(c, e.detail(HASHES, versionLines(written)).build());
    }

    @Override
    public void afterCommit(List<RecordService.Written> written) {
        Context context = CONTEXT.get();
        if (context != null) {
            context.committed(written);
        }
        recorder.drainSoon();
    }

    /** The hash lines of {@code written}, one per version, in the order written. */
    public static String versionLines(List<RecordService.Written> written) {
        StringBuilder b = new StringBuilder(written.size() * 230);
        for (RecordService.Written w : written) {
            RecordService.Stored s = w.stored();
            if (!b.isEmpty()) {
                b.append('\n');
            }
            b.append(VersionLine.line(ResourceRef.version(s.type(), s.id(), s.version()),
                    s.deleted() ? null : s.contentSha256(), w.chainHex(), w.previousChainHex()));
        }
        return b.toString();
    }

    /** Each written version, as the entry names it, in the order written. */
    public static List<ResourceRef> versionsOf(List<RecordService.Written> written) {
        List<ResourceRef> out = new ArrayList<>(written.size());
        for (RecordService.Written w : written) {
            RecordService.Stored s = w.stored();
            out.add(ResourceRef.version(s.type(), s.id(), s.version()));
        }
        return out;
    }

    /**
     * {@code action Type/id/_history/n} of each version the transaction wrote itself (what accompanied them, a
     * signature's Provenance, aside): a transaction entry's {@code operations}.
     */
    public static List<String> operationsOf(List<RecordService.Written> written) {
        List<String> ops = new ArrayList<>(written.size());
        for (RecordService.Written w : written) {
            if (!w.accompanying()) {
                RecordService.Stored s = w.stored();
                ops.add(actionOf(w).code + " " + ResourceRef.version(s.type(), s.id(), s.version()).code());
            }
        }
        return ops;
    }

    /** The patients the written versions are about: Patient versions and every patient their bodies name. */
    public static Set<String> patientsOf(List<RecordService.Written> written) {
        Set<String> patients = new LinkedHashSet<>();
        for (RecordService.Written w : written) {
            RecordService.Stored s = w.stored();
            if (s.type().equals("Patient")) {
                patients.add(s.id());
            }
            if (s.body() != null) {
                FhirReferences.scan(s.body(), new LinkedHashSet<>(), patients);
            }
        }
        return patients;
    }

    /** The action of one written version: its operation, or finalize for a draft made final. */
    public static AuditAction actionOf(RecordService.Written w) {
        return w.finalizes() ? AuditAction.FINALIZE : AuditAction.of(w.stored().operation());
    }

    /**
     * The action of a transaction: that of its one version (what accompanied it, a signature's Provenance, aside), or
     * a transaction.
     */
    public static AuditAction actionOf(List<RecordService.Written> written) {
        RecordService.Written one = null;
        for (RecordService.Written w : written) {
            if (!w.accompanying()) {
                if (one != null) {
                    return AuditAction.TRANSACTION;
                }
                one = w;
            }
        }
        return one == null ? AuditAction.TRANSACTION : actionOf(one);
    }

    /**
     * The entry of a write no context claimed (a tool, demo data): by the versions' author, for maintenance when the
     * server itself wrote them and for operations otherwise; a deletion's patients are not read back.
     */
    private static AuditEvent.Builder standalone(List<RecordService.Written> written) {
        String author = written.get(0).stored().author();
        ActorKind kind = author.startsWith("account:") ? ActorKind.PERSON
                : author.startsWith("system:") ? ActorKind.SYSTEM : ActorKind.CLIENT;
        AuditEvent.Builder e = AuditEvent.by(new Actor(author, kind, null, List.of(), null, "local", null),
                        actionOf(written))
                .purpose(kind == ActorKind.SYSTEM ? Purpose.MAINTENANCE : Purpose.OPERATIONS)
                .resources(versionsOf(written)).detail("via", "server");
        for (String p : patientsOf(written)) {
            e.patient(PatientRef.named(p));
        }
        if (written.size() > 1) {
            e.detail("operations", String.join(", ", operationsOf(written)));
        }
        return e;
    }
}
