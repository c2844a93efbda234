package jp.mamori.records.api;

import jp.mamori.access.BreakGlass;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.audit.FhirReferences;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.ResourceRef;
import jp.mamori.audit.WriteEntries;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The audit choke point of the FHIR API: every authenticated request is recorded after it was decided and
 * before its answer leaves, from what the answer actually discloses — each resource (with version) in the
 * body, read or search match or include, and every patient those resources are about or refer to. A refused
 * request is recorded as refused; a failed authentication as an anonymous refusal. When the entry cannot be
 * made durable the answer is replaced by a 503 and nothing of the data goes out. Entries go through the
 * {@link AuditRecorder}.
 *
 * <p>A write's entry is not appended after the write: it is staged ({@link AuditRecorder#stage}) by the write's own
 * transaction ({@link WriteEntries}, this being its context), so the version and its entry are durable together or
 * not at all (AUDIT-1), and the appender moves it into the trail. Its facts come from the record service: the versions written,
 * their operations and lifecycles and the lifecycle before (a finalization), and their bodies for the patients; only
 * a deletion's patients are read back (from the version it deleted). The answer then needs no entry of its own, unless
 * it discloses more than what was written (a bundle's reads, an existing match of a conditional create).
 */
public final class ApiAudit implements WriteEntries.Context {
    private static final Pattern REF = FhirReferences.REF;
    private static final Pattern ETAG = Pattern.compile("W/\"([0-9]{1,9})\"");

    /** What the audit needs of an answer. */
    public record Answer(int status, byte[] body, String contentType, String location, String etag) {
    }

    /**
     * One request: method, path segments under {@code /fhir}, client address, and the credential it came with
     * (token or certificate fingerprint), of which only a short keyed hash is recorded.
     */
    public record Request(String method, List<String> segments, String address, String credential) {
    }

    private final AuditRecorder recorder;
    private final DataSource ds;

    /** The API request whose work runs on this thread: what its write transactions' entries say who and why. */
    private static final ThreadLocal<Scope> SCOPE = new ThreadLocal<>();

    private static final class Scope {
        final Caller caller;
        final Request rq;
        final AuditAction action;
        /** Versions whose entry is in the transaction that is committing now. */
        final Set<ResourceRef> pending = new LinkedHashSet<>();
        /** Versions whose entry committed with them. */
        final Set<ResourceRef> recorded = new LinkedHashSet<>();
        /** Announced to the trail ({@link AuditRecorder#expect}) and not yet appended. */
        boolean announced;

        Scope(Caller caller, Request rq, AuditAction action) {
            this.caller = caller;
            this.rq = rq;
            this.action = action;
        }
    }

    public ApiAudit(AuditRecorder recorder, DataSource ds) {
        this.recorder = recorder;
        this.ds = ds;
    }

    /** Runs the authentication; a refused one (401) is recorded before the refusal is answered. */
    public Caller authenticate(Request rq, Supplier<Caller> authentication) {
        try {
            return authentication.get();
        } catch (FhirError e) {
            if (e.status() == 401) {
                append(anonymous(rq));
            }
            throw e;
        }
    }

    /** The entry of a refused credential: nobody, from where, with which (hashed) credential, asking for what. */
    static AuditEvent.Builder anonymous(Request rq) {
        return AuditEvent.by(Actor.anonymous(rq.address(), Actor.credentialHash(rq.credential())),
                        AuditAction.AUTHENTICATE).outcome(Outcome.REFUSED).purpose(Purpose.SECURITY)
                .detail("path", "/fhir/" + String.join("/", rq.segments()));
    }

    /**
     * Runs {@code work} and records it. Returns its result only once the entry is durable.
     *
     * @throws FhirError 503 when the entry could not be stored (the result is then dropped), or the error of
     *                   {@code work} once its refusal is recorded
     */
    public <T> T around(Caller caller, Request rq, Supplier<T> work, Function<T, Answer> view) {
        AuditAction action = action(rq);
        Scope scope = new Scope(caller, rq, action);
        // a read's entry: the writer may wait a moment for it rather than commit a group without it (issue 24); a
        // write's entry is staged in its own transaction instead
        if (rq.method().equals("GET") || rq.method().equals("HEAD") || action == AuditAction.SEARCH) {
            recorder.expect();
            scope.announced = true;
        }
        try {
            return around(scope, work, view);
        } finally {
            if (scope.announced) {
                recorder.unexpect();
            }
        }
    }

    private <T> T around(Scope scope, Supplier<T> work, Function<T, Answer> view) {
        Caller caller = scope.caller;
        Request rq = scope.rq;
        AuditAction action = scope.action;
        Scope outer = SCOPE.get();
        SCOPE.set(scope);
        T result;
        try {
            result = WriteEntries.within(this, work);
        } catch (FhirError e) {
            append(scope, refused(caller, rq, action, e.status()));
            throw e;
        } catch (RuntimeException e) {
            append(scope, refused(caller, rq, action, 500));
            throw e;
        } finally {
            if (outer == null) {
                SCOPE.remove();
            } else {
                SCOPE.set(outer);
            }
        }
        Answer a = view.apply(result);
        if (scope.recorded.isEmpty()) {
            append(scope, answered(caller, rq, action, a, Set.of()));
        } else if (!rq.segments().isEmpty()) {
            // a single write answers with (at most) the version it wrote, whose entry committed with it
        } else {
            AuditEvent.Builder more = answered(caller, rq, action, a, scope.recorded);
            if (more.hasResources()) {
                append(scope, more); // a bundle that also read: the reads are recorded before the answer leaves
            }
        }
        return result;
    }

    /** Appends the request's own entry, ending its announcement. */
    private void append(Scope scope, AuditEvent.Builder e) {
        boolean announced = scope.announced;
        scope.announced = false;
        append(e, announced);
    }

    // ---------------------------------------------------------------- a write's entry, in its transaction

    /**
     * The entry of the versions a FHIR request's transaction wrote, staged in that transaction (AUDIT-1): who, with
     * which roles, what was written (each version), whose (the patients of those versions, from their bodies, or for
     * a deletion from the version it deleted), the operation; {@link WriteEntries} adds each version's hashes and
     * stages it.
     */
    @Override
    public AuditEvent.Builder entry(Connection c, List<RecordService.Written> written) throws SQLException {
        Scope s = SCOPE.get();
        if (s == null) {
            throw new IllegalStateException("a FHIR write outside its request's audit scope");
        }
        s.pending.clear(); // a batch entry's earlier transaction that did not commit
        Set<ResourceRef> resources = new LinkedHashSet<>(WriteEntries.versionsOf(written));
        Set<String> patients = WriteEntries.patientsOf(written);
        List<RecordService.Stored> deletions = new ArrayList<>(0);
        for (RecordService.Written w : written) {
            if (w.stored().body() == null) {
                deletions.add(w.stored());
            }
        }
        if (!deletions.isEmpty()) {
            patientsOfDeleted(c, deletions, patients);
        }
        Map<String, String> detail = new LinkedHashMap<>();
        RecordService.Stored first = written.get(0).stored();
        boolean created = written.size() == 1 && first.version() == 1 && !first.deleted();
        detail.put("status", s.action != AuditAction.TRANSACTION && created ? "201" : "200");
        AuditAction action = s.action;
        AuditAction one = WriteEntries.actionOf(written);
        if (action == AuditAction.TRANSACTION) {
            detail.put("operations", String.join(", ", WriteEntries.operationsOf(written)));
        } else if (one != AuditAction.TRANSACTION) { // the request wrote one version (besides what accompanied it)
            action = one;
        }
        s.pending.addAll(resources);
        return entry(c, s.caller, s.rq, action, Outcome.SUCCESS, named(patients), resources, detail);
    }

    @Override
    public void committed(List<RecordService.Written> written) {
        Scope s = SCOPE.get();
        if (s != null) {
            s.recorded.addAll(s.pending);
            s.pending.clear();
        }
    }

    /** Adds the patients of the versions that {@code deletions} deleted (read through the write's connection). */
    private static void patientsOfDeleted(Connection c, List<RecordService.Stored> deletions, Set<String> patients)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT v.body FROM unnest(?::text[], ?::text[], ?::int[])"
                + " AS t(typ, rid, ver) JOIN resource r ON r.res_type = t.typ AND r.res_id = t.rid"
                + " JOIN resource_version v ON v.res_pk = r.res_pk AND v.version = t.ver")) {
            ps.setArray(1, c.createArrayOf("text", deletions.stream().map(RecordService.Stored::type).toArray()));
            ps.setArray(2, c.createArrayOf("text", deletions.stream().map(RecordService.Stored::id).toArray()));
            ps.setArray(3, c.createArrayOf("integer", deletions.stream().map(d -> d.version() - 1).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String body = rs.getString(1);
                    if (body != null) {
                        FhirReferences.scan(body.getBytes(StandardCharsets.UTF_8), new LinkedHashSet<>(), patients);
                    }
                }
            }
        }
    }

    private void append(AuditEvent.Builder e) {
        append(e, false);
    }

    private void append(AuditEvent.Builder e, boolean announced) {
        try {
            recorder.append(e.build(), announced);
        } catch (AuditUnavailable ex) {
            throw ex.toFhirError();
        }
    }

    // ---------------------------------------------------------------- building the entry

    /** The entry of a refused or failed request: what it asked for, as it named it. */
    AuditEvent.Builder refused(Caller caller, Request rq, AuditAction action, int status) {
        List<ResourceRef> resources = new ArrayList<>(1);
        List<PatientRef> patients = new ArrayList<>(1);
        if (!rq.segments().isEmpty() && FhirSupport.isResourceType(rq.segments().get(0))) {
            List<String> s = rq.segments();
            boolean instance = s.size() >= 2 && !s.get(1).startsWith("_") && !s.get(1).startsWith("$");
            String version = s.size() == 4 && s.get(2).equals("_history") ? s.get(3) : null;
            if (instance) {
                resources.add(ResourceRef.named(s.get(0), s.get(1), version));
            } else if (version != null) {
                // e.g. Patient/$x/_history/2: recorded as it has always been, the type and the version asked for
                resources.add(ResourceRef.named(s.get(0), "_history/" + version, null));
            } else {
                resources.add(ResourceRef.type(s.get(0)));
            }
            if (s.get(0).equals("Patient") && instance) {
                patients.add(PatientRef.named(s.get(1)));
            }
        }
        Outcome outcome = status == 401 || status == 403 || status == 404 ? Outcome.REFUSED
                : status >= 500 ? Outcome.ERROR : Outcome.INVALID;
        return entry(caller, rq, action, outcome, patients, resources, Map.of("status", Integer.toString(status)));
    }

    /** The entry of an answer; {@code recorded}: versions whose entry committed with them, left out here. */
    AuditEvent.Builder answered(Caller caller, Request rq, AuditAction action, Answer a, Set<ResourceRef> recorded) {
        Set<ResourceRef> resources = new LinkedHashSet<>();
        Set<String> patients = new LinkedHashSet<>();
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("status", Integer.toString(a.status()));
        byte[] json = jsonOf(a);
        if (json != null) {
            FhirReferences.scan(json, resources, patients);
        }
        if (a.location() != null) {
            Matcher m = REF.matcher(a.location());
            if (m.find()) {
                resources.add(FhirReferences.ref(m));
            }
        }
        boolean write = rq.method().equals("POST") && action != AuditAction.SEARCH || rq.method().equals("PUT")
                || rq.method().equals("DELETE");
        if (!recorded.isEmpty()) {
            Set<ResourceRef> unversioned = new HashSet<>();
            for (ResourceRef r : recorded) {
                unversioned.add(r.unversioned());
            }
            resources.removeIf(r -> recorded.contains(r) || unversioned.contains(r));
            // the body's patients include those of the written versions: take them from what is left instead
            // (readBack() below adds the patients of each remaining version from its stored body)
            patients.clear();
            for (ResourceRef r : resources) {
                if (r.type().equals("Patient") && r.id() != null) {
                    patients.add(r.id());
                }
            }
        }
        if (write) {
            if (rq.method().equals("DELETE") && a.etag() != null && rq.segments().size() == 2) {
                Matcher m = ETAG.matcher(a.etag());
                if (m.find()) {
                    resources.add(ResourceRef.named(rq.segments().get(0), rq.segments().get(1), m.group(1)));
                }
            }
            try (Connection c = ds.getConnection()) {
                action = readBack(c, action, resources, patients, detail);
            } catch (SQLException e) {
                throw new AuditUnavailable("the written version could not be read back for its entry", e).toFhirError();
            }
        }
        // a versioned reference names what was written; drop its unversioned twin from the body scan
        dropUnversionedTwins(resources);
        return entry(caller, rq, action, Outcome.SUCCESS, named(patients), resources, detail);
    }

    private static void dropUnversionedTwins(Set<ResourceRef> resources) {
        boolean unversioned = false;
        for (ResourceRef r : resources) {
            if (!r.versioned()) {
                unversioned = true;
                break;
            }
        }
        if (!unversioned) {
            return; // the usual answer: every resource with its version
        }
        Set<ResourceRef> versioned = new HashSet<>();
        for (ResourceRef r : resources) {
            if (r.versioned()) {
                versioned.add(r.unversioned());
            }
        }
        resources.removeIf(r -> !r.versioned() && versioned.contains(r));
    }

    /** Patients as bodies name them (a Patient's id, a reference), recorded verbatim. */
    private static List<PatientRef> named(Set<String> patients) {
        List<PatientRef> out = new ArrayList<>(patients.size());
        for (String p : patients) {
            out.add(PatientRef.named(p));
        }
        return out;
    }

    private AuditEvent.Builder entry(Caller caller, Request rq, AuditAction action, Outcome outcome,
                                     Collection<PatientRef> patients, Collection<ResourceRef> resources,
                                     Map<String, String> detail) {
        try {
            return entry(null, caller, rq, action, outcome, patients, resources, detail);
        } catch (SQLException e) {
            throw new AuditUnavailable("break-glass state could not be read", e).toFhirError();
        }
    }

    /**
     * The entry of {@code caller}'s request: a person's purpose is treatment, or break-glass while they hold an active
     * use for one of the patients (asked of access through {@code c}, the write's transaction, or, when null, the
     * pool); a system client's is operations, the server's own maintenance.
     */
    private AuditEvent.Builder entry(Connection c, Caller caller, Request rq, AuditAction action, Outcome outcome,
                                     Collection<PatientRef> patients, Collection<ResourceRef> resources,
                                     Map<String, String> detail) throws SQLException {
        Purpose purpose = caller.isPerson() ? Purpose.TREATMENT
                : caller.principal().startsWith("system:") ? Purpose.MAINTENANCE : Purpose.OPERATIONS;
        if (caller.isPerson() && !patients.isEmpty() && underBreakGlass(c, caller, patients)) {
            purpose = Purpose.BREAK_GLASS;
        }
        return AuditEvent.by(Actor.of(caller, rq.address(), Actor.credentialHash(rq.credential())), action)
                .outcome(outcome).purpose(purpose).patients(patients).resources(resources).details(detail)
                .detail("request", rq.method() + " /" + String.join("/", rq.segments()));
    }

    private boolean underBreakGlass(Connection tx, Caller caller, Collection<PatientRef> patients)
            throws SQLException {
        List<String> ids = new ArrayList<>(patients.size());
        for (PatientRef p : patients) {
            ids.add(p.id());
        }
        if (tx != null) {
            return BreakGlass.anyActive(tx, caller.accountId(), ids);
        }
        try (Connection c = ds.getConnection()) {
            return BreakGlass.anyActive(c, caller.accountId(), ids);
        }
    }

    /** The FHIR interaction a request asks for, from its method and path. */
    static AuditAction action(Request rq) {
        List<String> s = rq.segments();
        String m = rq.method().equals("HEAD") ? "GET" : rq.method();
        if (s.isEmpty()) {
            return m.equals("POST") ? AuditAction.TRANSACTION : AuditAction.UNKNOWN;
        }
        if (s.get(s.size() - 1).startsWith("$") || s.get(0).startsWith("$")) {
            // a bulk export takes data out of the hospital's hands: recorded as export, asked for or refused;
            // Patient/[id]/$everything reads that patient's record: recorded as a read naming the patient
            String op = s.get(s.size() - 1);
            return op.equals("$export") ? AuditAction.EXPORT : op.equals("$everything") && s.size() == 3
                    && s.get(0).equals("Patient") ? AuditAction.READ : AuditAction.OPERATION;
        }
        if (s.get(0).equals("_history")) {
            return AuditAction.HISTORY;
        }
        return switch (m) {
            case "GET" -> switch (s.size()) {
                case 1 -> AuditAction.SEARCH;
                case 2 -> s.get(1).equals("_history") ? AuditAction.HISTORY : AuditAction.READ;
                case 3 -> AuditAction.HISTORY;
                default -> AuditAction.VREAD;
            };
            case "POST" -> s.size() == 2 && s.get(1).equals("_search") ? AuditAction.SEARCH : AuditAction.CREATE;
            case "PUT" -> AuditAction.UPDATE;
            case "DELETE" -> AuditAction.DELETE;
            default -> AuditAction.UNKNOWN;
        };
    }

    /**
     * For an answer that wrote without an entry of its own (an existing match, a deletion of a deleted record, a
     * bundle's reads): the action from the version each versioned resource names, read back (finalize, amend,
     * entered-in-error are status changes of documents), and the patients of that version (or of the version it
     * deleted).
     */
    private static AuditAction readBack(Connection c, AuditAction action, Set<ResourceRef> resources,
                                        Set<String> patients, Map<String, String> detail) throws SQLException {
        List<String[]> refs = new ArrayList<>();
        for (ResourceRef r : resources) {
            Matcher m = REF.matcher(r.code());
            if (m.find() && m.group(3) != null) {
                refs.add(new String[]{m.group(1), m.group(2), m.group(3)});
            }
        }
        if (refs.isEmpty()) {
            return action;
        }
        List<String> ops = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT t.typ, t.rid, t.ver, v.operation, v.lifecycle,"
                     + " p.lifecycle, coalesce(v.body, p.body) FROM unnest(?::text[], ?::text[], ?::int[])"
                     + " AS t(typ, rid, ver) JOIN resource r ON r.res_type = t.typ AND r.res_id = t.rid"
                     + " JOIN resource_version v ON v.res_pk = r.res_pk AND v.version = t.ver"
                     + " LEFT JOIN resource_version p ON p.res_pk = v.res_pk AND p.version = v.version - 1")) {
            ps.setArray(1, c.createArrayOf("text", refs.stream().map(x -> x[0]).toArray()));
            ps.setArray(2, c.createArrayOf("text", refs.stream().map(x -> x[1]).toArray()));
            ps.setArray(3, c.createArrayOf("integer", refs.stream().map(x -> Integer.valueOf(x[2])).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String op = rs.getString(4);
                    if (op.equals("update") && jp.mamori.records.Lifecycle.isLocked(rs.getString(5))
                            && !jp.mamori.records.Lifecycle.isLocked(rs.getString(6))) {
                        op = AuditAction.FINALIZE.code;
                    }
                    ops.add(op + " " + rs.getString(1) + "/" + rs.getString(2) + "/_history/" + rs.getInt(3));
                    if (rs.getString(1).equals("Patient")) {
                        patients.add(rs.getString(2));
                    }
                    String body = rs.getString(7);
                    if (body != null) {
                        FhirReferences.scan(body.getBytes(StandardCharsets.UTF_8), new LinkedHashSet<>(), patients);
                    }
                }
            }
        }
        if (action == AuditAction.TRANSACTION) {
            detail.put("operations", String.join(", ", ops));
            return action;
        }
        return ops.size() == 1 ? AuditAction.of(ops.get(0).substring(0, ops.get(0).indexOf(' '))) : action;
    }

    /** The body as JSON bytes (an XML answer is converted), or null when it has none. */
    private static byte[] jsonOf(Answer a) {
        if (a.body() == null || a.body().length == 0 || a.contentType() == null) {
            return null;
        }
        String ct = a.contentType().toLowerCase(java.util.Locale.ROOT);
        if (ct.contains("json")) {
            return a.body();
        }
        if (ct.contains("xml")) {
            return FhirSupport.canonicalJson(FhirSupport.parse(FhirSupport.Format.XML, a.body()))
                    .getBytes(StandardCharsets.UTF_8);
        }
        return null;
    }
}
