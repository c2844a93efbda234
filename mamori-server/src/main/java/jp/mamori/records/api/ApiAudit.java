package jp.mamori.records.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import jp.mamori.access.Caller;
import jp.mamori.access.PersonContext;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.Lifecycle;
import jp.mamori.records.RecordService;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jp.mamori.kernel.Hashes;
import jp.mamori.audit.AuditRecord;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.AuditUnavailable;

/**
 * The audit choke point of the FHIR API: every authenticated request is recorded after it was decided and
 * before its answer leaves, from what the answer actually discloses — each resource (with version) in the
 * body, read or search match or include, and every patient those resources are about or refer to. A refused
 * request is recorded as refused; a failed authentication as an anonymous refusal. When the entry cannot be
 * made durable the answer is replaced by a 503 and nothing of the data goes out.
 *
 * <p>A write's entry is not appended after the write: it is written into {@code audit_outbox} by the write's own
 * transaction ({@link RecordService.WriteJournal}), so the version and its entry are durable together or not at all
 * (AUDIT-1), and the appender moves it into the trail. The answer then needs no entry of its own, unless it discloses
 * more than what was written (a bundle's reads, an existing match of a conditional create).
 */
public final class ApiAudit implements RecordService.WriteJournal {
    private static final JsonFactory JSON = new JsonFactory();
    private static final Pattern REF = Pattern.compile(
            "(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\\-.]{1,64})(?:/_history/([0-9]{1,9}))?$");
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

    private final AuditTrail trail;
    private final DataSource ds;

    /** The API request whose work runs on this thread: what its write transactions' entries say who and why. */
    private static final ThreadLocal<Scope> SCOPE = new ThreadLocal<>();

    private static final class Scope {
        final Caller caller;
        final Request rq;
        final String action;
        /** Versions whose entry is in the transaction that is committing now. */
        final Set<String> pending = new LinkedHashSet<>();
        /** Versions whose entry committed with them. */
        final Set<String> recorded = new LinkedHashSet<>();

        Scope(Caller caller, Request rq, String action) {
            this.caller = caller;
            this.rq = rq;
            this.action = action;
        }
    }

    public ApiAudit(AuditTrail trail, DataSource ds) {
        this.trail = trail;
        this.ds = ds;
    }

    /** Runs the authentication; a refused one (401) is recorded before the refusal is answered. */
    public Caller authenticate(Request rq, Supplier<Caller> authentication) {
        try {
            return authentication.get();
        } catch (FhirError e) {
            if (e.status() == 401) {
                append(new AuditRecord(Instant.now(), "anonymous", "anonymous", null, List.of(), null, List.of(),
                        List.of(), "authenticate", "refused", "security", rq.address(), session(rq.credential()), false,
                        Map.of("path", "/fhir/" + String.join("/", rq.segments()))));
            }
            throw e;
        }
    }

    /**
     * Runs {@code work} and records it. Returns its result only once the entry is durable.
     *
     * @throws FhirError 503 when the entry could not be stored (the result is then dropped), or the error of
     *                   {@code work} once its refusal is recorded
     */
    public <T> T around(Caller caller, Request rq, Supplier<T> work, Function<T, Answer> view) {
        String action = action(rq);
        Scope scope = new Scope(caller, rq, action);
        Scope outer = SCOPE.get();
        SCOPE.set(scope);
        T result;
        try {
            result = work.get();
        } catch (FhirError e) {
            append(refused(caller, rq, action, e.status()));
            throw e;
        } catch (RuntimeException e) {
            append(refused(caller, rq, action, 500));
            throw e;
        } finally {
            if (outer == null) {
                SCOPE.remove();
            } else {
                SCOPE.set(outer);
            }
            if (!scope.recorded.isEmpty()) {
                trail.drainSoon();
            }
        }
        Answer a = view.apply(result);
        if (scope.recorded.isEmpty()) {
            append(answered(caller, rq, action, a, Set.of()));
        } else if (!rq.segments().isEmpty()) {
            // a single write answers with (at most) the version it wrote, whose entry committed with it
        } else {
            AuditRecord more = answered(caller, rq, action, a, scope.recorded);
            if (!more.resources().isEmpty()) {
                append(more); // a bundle that also read: the reads are recorded before the answer leaves
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- a write's entry, in its transaction

    /**
     * Writes the entry of the versions a FHIR request's transaction wrote into {@code audit_outbox}, in that
     * transaction (AUDIT-1): who, with which roles, what was written (each version), whose (the patients of those
     * versions), the operation. Outside a FHIR request (the console, tools) it writes nothing: those callers
     * record their own entries.
     */
    @Override
    public void beforeCommit(Connection c, List<RecordService.Stored> written) throws SQLException {
        Scope s = SCOPE.get();
        if (s == null) {
            return;
        }
        s.pending.clear(); // a batch entry's earlier transaction that did not commit
        Set<String> resources = new LinkedHashSet<>();
        for (RecordService.Stored st : written) {
            resources.add(st.type() + "/" + st.id() + "/_history/" + st.version());
        }
        Set<String> patients = new LinkedHashSet<>();
        Map<String, String> detail = new LinkedHashMap<>();
        boolean created = written.size() == 1 && written.get(0).version() == 1 && !written.get(0).deleted();
        detail.put("status", !s.action.equals("transaction") && created ? "201" : "200");
        String action = written(c, s.action, resources, patients, detail);
        AuditRecord r = record(c, s.caller, s.rq, action, "success", new ArrayList<>(patients),
                new ArrayList<>(resources), detail);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_outbox (at, actor, actor_kind,"
                + " actor_display, roles, department, patients, action, outcome, purpose, resources, address,"
                + " session_hash, break_glass, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(r.at()));
            ps.setString(2, r.actor());
            ps.setString(3, r.actorKind());
            ps.setString(4, r.display());
            ps.setArray(5, c.createArrayOf("text", r.roles().toArray()));
            ps.setString(6, r.department());
            ps.setArray(7, c.createArrayOf("text", r.patients().toArray()));
            ps.setString(8, r.action());
            ps.setString(9, r.outcome());
            ps.setString(10, r.purpose());
            ps.setArray(11, c.createArrayOf("text", r.resources().toArray()));
            ps.setString(12, r.address());
            ps.setString(13, r.session());
            ps.setBoolean(14, r.breakGlass());
            ps.setString(15, DETAIL_JSON.writeValueAsString(r.detail()));
            ps.executeUpdate();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        s.pending.addAll(resources);
    }

    @Override
    public void afterCommit(List<RecordService.Stored> written) {
        Scope s = SCOPE.get();
        if (s != null) {
            s.recorded.addAll(s.pending);
            s.pending.clear();
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper DETAIL_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private void append(AuditRecord r) {
        try {
            trail.append(r);
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
    }

    // ---------------------------------------------------------------- building the record

    private AuditRecord refused(Caller caller, Request rq, String action, int status) {
        Set<String> resources = new LinkedHashSet<>();
        Set<String> patients = new LinkedHashSet<>();
        if (!rq.segments().isEmpty() && FhirSupport.isResourceType(rq.segments().get(0))) {
            List<String> s = rq.segments();
            boolean instance = s.size() >= 2 && !s.get(1).startsWith("_") && !s.get(1).startsWith("$");
            String ref = instance ? s.get(0) + "/" + s.get(1) : s.get(0);
            if (s.size() == 4 && s.get(2).equals("_history")) {
                ref += "/_history/" + s.get(3);
            }
            resources.add(ref);
            if (s.get(0).equals("Patient") && instance) {
                patients.add(s.get(1));
            }
        }
        String outcome = status == 401 || status == 403 || status == 404 ? "refused"
                : status >= 500 ? "error" : "invalid";
        return record(caller, rq, action, outcome, new ArrayList<>(patients), new ArrayList<>(resources),
                Map.of("status", Integer.toString(status)));
    }

    /** The entry of an answer; {@code recorded}: versions whose entry committed with them, left out here. */
    private AuditRecord answered(Caller caller, Request rq, String action, Answer a, Set<String> recorded) {
        Set<String> resources = new LinkedHashSet<>();
        Set<String> patients = new LinkedHashSet<>();
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("status", Integer.toString(a.status()));
        byte[] json = jsonOf(a);
        if (json != null) {
            scan(json, resources, patients);
        }
        if (a.location() != null) {
            Matcher m = REF.matcher(a.location());
            if (m.find()) {
                resources.add(m.group(1) + "/" + m.group(2) + (m.group(3) == null ? "" : "/_history/" + m.group(3)));
            }
        }
        boolean write = rq.method().equals("POST") && !action.equals("search") || rq.method().equals("PUT")
                || rq.method().equals("DELETE");
        if (!recorded.isEmpty()) {
            Set<String> unversioned = new java.util.HashSet<>();
            for (String r : recorded) {
                unversioned.add(r.substring(0, r.indexOf("/_history/")));
            }
            resources.removeIf(r -> recorded.contains(r) || unversioned.contains(r));
            // the body's patients include those of the written versions: take them from what is left instead
            // (written() below adds the patients of each remaining version from its stored body)
            patients.clear();
            for (String r : resources) {
                if (r.startsWith("Patient/")) {
                    patients.add(r.split("/")[1]);
                }
            }
        }
        if (write) {
            if (rq.method().equals("DELETE") && a.etag() != null && rq.segments().size() == 2) {
                Matcher m = ETAG.matcher(a.etag());
                if (m.find()) {
                    resources.add(rq.segments().get(0) + "/" + rq.segments().get(1) + "/_history/" + m.group(1));
                }
            }
            try (Connection c = ds.getConnection()) {
                action = written(c, action, resources, patients, detail);
            } catch (SQLException e) {
                throw new AuditUnavailable("the written version could not be read back for its entry", e).toFhirError();
            }
        }
        // a versioned reference names what was written; drop its unversioned twin from the body scan
        resources.removeIf(r -> !r.contains("/_history/") && resources.contains(r + "/_history/"
                + versionOf(resources, r)));
        return record(caller, rq, action, "success", new ArrayList<>(patients), new ArrayList<>(resources), detail);
    }

    private static String versionOf(Set<String> resources, String ref) {
        for (String r : resources) {
            if (r.startsWith(ref + "/_history/")) {
                return r.substring(ref.length() + "/_history/".length());
            }
        }
        return "";
    }

    private AuditRecord record(Caller caller, Request rq, String action, String outcome, List<String> patients,
                               List<String> resources, Map<String, String> detail) {
        try {
            return record(null, caller, rq, action, outcome, patients, resources, detail);
        } catch (SQLException e) {
            throw new AuditUnavailable("break-glass state could not be read", e).toFhirError();
        }
    }

    /** As above, reading the break-glass state through {@code c} (the write's transaction) or, when null, the pool. */
    private AuditRecord record(Connection c, Caller caller, Request rq, String action, String outcome,
                               List<String> patients, List<String> resources, Map<String, String> detail)
            throws SQLException {
        String kind = caller.isPerson() ? "person" : caller.principal().startsWith("system:") ? "system" : "client";
        List<String> roles = List.of();
        String department = null;
        boolean breakGlass = false;
        String purpose = caller.isPerson() ? "treatment" : kind.equals("system") ? "maintenance" : "operations";
        if (caller.isPerson()) {
            PersonContext p = caller.person();
            roles = p.roles().stream().map(PersonContext.HeldRole::role).distinct().toList();
            department = String.join(",", p.roles().stream().map(PersonContext.HeldRole::department).distinct().toList());
            if (!patients.isEmpty() && underBreakGlass(c, p.accountId(), patients)) {
                breakGlass = true;
                purpose = "break-glass";
            }
        }
        Map<String, String> d = new LinkedHashMap<>(detail);
        d.put("request", rq.method() + " /" + String.join("/", rq.segments()));
        return new AuditRecord(Instant.now(), caller.principal(), kind, caller.display(), roles,
                department == null || department.isEmpty() ? null : department, patients, resources, action, outcome,
                purpose, rq.address(), session(rq.credential()), breakGlass, d);
    }

    /** The FHIR interaction a request asks for, from its method and path. */
    static String action(Request rq) {
        List<String> s = rq.segments();
        String m = rq.method().equals("HEAD") ? "GET" : rq.method();
        if (s.isEmpty()) {
            return m.equals("POST") ? "transaction" : "unknown";
        }
        if (s.get(s.size() - 1).startsWith("$") || s.get(0).startsWith("$")) {
            // a bulk export takes data out of the hospital's hands: recorded as export, asked for or refused
            return s.get(s.size() - 1).equals("$export") ? "export" : "operation";
        }
        if (s.get(0).equals("_history")) {
            return "history";
        }
        return switch (m) {
            case "GET" -> switch (s.size()) {
                case 1 -> "search";
                case 2 -> s.get(1).equals("_history") ? "history" : "read";
                case 3 -> "history";
                default -> "vread";
            };
            case "POST" -> s.size() == 2 && s.get(1).equals("_search") ? "search" : "create";
            case "PUT" -> "update";
            case "DELETE" -> "delete";
            default -> "unknown";
        };
    }

    /**
     * The action of a write, from the version it wrote (finalize, amend, entered-in-error are status changes of
     * documents), and the patients of that version (or of the version it deleted).
     */
    private String written(Connection c, String action, Set<String> resources, Set<String> patients,
                           Map<String, String> detail) throws SQLException {
        List<String[]> refs = new ArrayList<>();
        for (String r : resources) {
            Matcher m = REF.matcher(r);
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
                    if (op.equals("update") && Lifecycle.isLocked(rs.getString(5)) && !Lifecycle.isLocked(rs.getString(6))) {
                        op = "finalize";
                    }
                    ops.add(op + " " + rs.getString(1) + "/" + rs.getString(2) + "/_history/" + rs.getInt(3));
                    if (rs.getString(1).equals("Patient")) {
                        patients.add(rs.getString(2));
                    }
                    String body = rs.getString(7);
                    if (body != null) {
                        scan(body.getBytes(StandardCharsets.UTF_8), new LinkedHashSet<>(), patients);
                    }
                }
            }
        }
        if (action.equals("transaction")) {
            detail.put("operations", String.join(", ", ops));
            return action;
        }
        return ops.size() == 1 ? ops.get(0).substring(0, ops.get(0).indexOf(' ')) : action;
    }

    private boolean underBreakGlass(Connection tx, java.util.UUID account, List<String> patients)
            throws SQLException {
        if (tx == null) {
            try (Connection c = ds.getConnection()) {
                return underBreakGlass(c, account, patients);
            }
        }
        try (PreparedStatement ps = tx.prepareStatement("SELECT 1 FROM break_glass WHERE account_id = ?"
                + " AND patient_id = ANY(?) AND ended_at IS NULL AND expires_at > now() LIMIT 1")) {
            ps.setObject(1, account);
            ps.setArray(2, tx.createArrayOf("text", patients.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
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

    /**
     * Collects every resource (type/id/_history/version) in a FHIR JSON document and every patient: Patient
     * resources and every reference to a Patient, anywhere. Contained resources count as part of their container.
     */
    static void scan(byte[] json, Set<String> resources, Set<String> patients) {
        final class Frame {
            final String name;
            String type;
            String id;
            String version;

            Frame(String name) {
                this.name = name;
            }
        }
        Deque<Frame> stack = new ArrayDeque<>();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.START_OBJECT) {
                    JsonStreamContext parent = p.getParsingContext().getParent();
                    String name = parent == null ? null : parent.inArray() && parent.getParent() != null
                            ? parent.getParent().getCurrentName() : parent.getCurrentName();
                    stack.push(new Frame(name));
                } else if (t == JsonToken.END_OBJECT) {
                    Frame f = stack.pop();
                    Frame up = stack.peek();
                    if ("meta".equals(f.name) && up != null && f.version != null) {
                        up.version = f.version;
                    }
                    if (f.type != null && f.id != null && !"contained".equals(f.name)
                            && !f.type.equals("Bundle") && !f.type.equals("OperationOutcome")) {
                        resources.add(f.type + "/" + f.id + (f.version == null ? "" : "/_history/" + f.version));
                        if (f.type.equals("Patient")) {
                            patients.add(f.id);
                        }
                    }
                } else if (t == JsonToken.VALUE_STRING && !stack.isEmpty()) {
                    String field = p.currentName();
                    Frame f = stack.peek();
                    if ("resourceType".equals(field)) {
                        f.type = p.getText();
                    } else if ("id".equals(field)) {
                        f.id = p.getText();
                    } else if ("versionId".equals(field)) {
                        f.version = p.getText();
                    } else if ("reference".equals(field)) {
                        Matcher m = REF.matcher(p.getText());
                        if (m.find() && m.group(1).equals("Patient")) {
                            patients.add(m.group(2));
                        }
                    } else if ("location".equals(field) && "response".equals(f.name)) {
                        Matcher m = REF.matcher(p.getText());
                        if (m.find()) {
                            resources.add(m.group(1) + "/" + m.group(2)
                                    + (m.group(3) == null ? "" : "/_history/" + m.group(3)));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("an answer to be audited is not JSON", e);
        }
    }

    /** A short keyed hash of the credential: the same session is recognisable, the secret is not recorded. */
    static String session(String credential) {
        if (credential == null || credential.isEmpty()) {
            return null;
        }
        byte[] h = Hashes.sha256(("mamori-audit-session:" + credential)
                .getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(h, 0, 12);
    }
}
