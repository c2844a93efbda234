package jp.mamori.bulk;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.identity.Scope;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.QueryString;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * FHIR Bulk Data export (Bulk Data Access IG 2.0; issue 23; STORE-2, PHR-1, AUDIT-1): {@code $export} at the system,
 * {@code Patient} and {@code Group/[id]} level, asynchronous. The kick-off answers 202 with the status URL
 * ({@code [base]/$export-poll/JOB}); polling answers 202 with {@code X-Progress} and {@code Retry-After} (429 when polled
 * faster than the interval), then 200 with the manifest; DELETE there cancels and deletes the files; the files are
 * {@code [base]/$export-file/JOB/N}, streamed. Only the caller that started a job (the same system client, or the same
 * person through the same app) may poll, download or cancel it: anyone else is told it does not exist.
 *
 * <p>The export reads the store through {@link RecordService#search} as the caller, page by page with the search's
 * cursor: a system client needs read and search on every type it exports, a person's app gets exactly the rows the
 * person's searches would give (care relationships, sensitivity, the app's scopes). Files are NDJSON bounded by bytes
 * ({@link NdjsonParts}), in {@code <data>/bulk/JOB/}, owner-only; they are not encrypted beyond the data folder's disk
 * (as the database is not), and expire {@link Settings#lifetime} after the export ended, when a poll, a download or the
 * sweeper removes them. Jobs live in memory: a restart ends them and removes their files (the client kicks off again).
 *
 * <p>In the trail: the kick-off (who, level, types, _since, filters; a Group's patients), the completion (counts per
 * type, files, patients covered), each download (the file, its type and count, every patient in it) and a cancel.
 */
public final class BulkExport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BulkExport.class);
    public static final String KICK_OFF = "$export";
    public static final String POLL = "$export-poll";
    public static final String FILE = "$export-file";
    public static final String DEFINITION = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export";
    static final String NDJSON = "application/fhir+ndjson";
    private static final Set<String> OUTPUT_FORMATS = Set.of("application/fhir+ndjson", "application/ndjson", "ndjson");
    /** Search parameters a _typeFilter may not carry: they shape pages and answers, not which resources match. */
    private static final Set<String> FILTER_REFUSED = Set.of("_include", "_revinclude", "_count", "_cursor", "_sort",
            "_summary", "_elements", "_total", "_format", "_pretty", "_contained", "_containedType");
    static final com.fasterxml.jackson.core.JsonFactory JSON = new com.fasterxml.jackson.core.JsonFactory();
    private static final Pattern JOB_ID = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern FILTER_START = Pattern.compile(",(?=[A-Z][A-Za-z]{1,63}\\?)");
    /** Group members, patient ids per search: the search's OR list. */
    private static final int PATIENTS_PER_SEARCH = 100;
    /** The patients a completion entry names by id; the count is always given. */
    static final int COMPLETION_PATIENTS = 50_000;

    /**
     * @param lifetime        how long files stay after the export ended
     * @param maxFileBytes    the byte bound of one NDJSON file
     * @param maxJobs         exports queued or running server-wide
     * @param maxJobsPerClient exports queued or running for one client (or person and app)
     * @param pollInterval    polls closer together than this are answered 429
     * @param maxTypes        types one kick-off may name in _type
     * @param maxGroupMembers patients a Group export may cover
     * @param workers         exports that run at once (the others wait, queued)
     */
    public record Settings(Duration lifetime, long maxFileBytes, int maxJobs, int maxJobsPerClient,
                           Duration pollInterval, int maxTypes, int maxGroupMembers, int workers) {
        public Settings {
            if (lifetime.isNegative() || lifetime.isZero() || maxFileBytes < 1024 || maxJobs < 1
                    || maxJobsPerClient < 1 || pollInterval.isNegative() || maxTypes < 1 || maxGroupMembers < 1
                    || workers < 1) {
                throw new IllegalArgumentException("bulk export settings out of range");
            }
        }

        public static Settings defaults() {
            return new Settings(Duration.ofHours(24), 64L * 1024 * 1024, 4, 1, Duration.ofSeconds(1), 200, 100_000, 2);
        }

        Settings with(Duration lifetime, Duration pollInterval) {
            return new Settings(lifetime, maxFileBytes, maxJobs, maxJobsPerClient, pollInterval, maxTypes,
                    maxGroupMembers, workers);
        }

        Settings withFileBytes(long bytes) {
            return new Settings(lifetime, bytes, maxJobs, maxJobsPerClient, pollInterval, maxTypes, maxGroupMembers,
                    workers);
        }

        Settings withJobs(int maxJobs, int perClient) {
            return new Settings(lifetime, maxFileBytes, maxJobs, perClient, pollInterval, maxTypes, maxGroupMembers,
                    workers);
        }
    }

    private final RecordService records;
    private final AccessPolicy policy;
    private final AuditRecorder recorder;
    private final Path root;
    private volatile Settings settings;
    private volatile Clock clock;
    private final Map<String, ExportJob> jobs = new ConcurrentHashMap<>();
    /** Jobs cancelled or expired, by id: their owner and why, so that the owner is told what became of them (410). */
    private final Map<String, String[]> gone = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, String[]> eldest) {
                    return size() > 10_000;
                }
            });
    private final ExecutorService workers;
    private final ScheduledExecutorService sweeper;
    private final SecureRandom random = new SecureRandom();

    /**
     * Exports through {@code records} (the server's, with its access policy), into {@code <dataDir>/bulk}, which it
     * empties first (jobs do not outlive the process).
     */
    public BulkExport(RecordService records, AccessPolicy policy, AuditRecorder recorder, Path dataDir,
                      Settings settings, Clock clock) {
        this.records = records;
        this.policy = policy;
        this.recorder = recorder;
        this.root = dataDir.resolve("bulk");
        this.settings = settings;
        this.clock = clock;
        try {
            if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(root);
            }
            Files.createDirectories(root);
            NdjsonParts.ownerOnly(root);
        } catch (IOException e) {
            throw new UncheckedIOException("the bulk export folder " + root + " cannot be prepared", e);
        }
        this.workers = Executors.newFixedThreadPool(settings.workers(), r -> {
            Thread t = new Thread(r, "bulk-export");
            t.setDaemon(true);
            return t;
        });
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulk-export-sweeper");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(() -> {
            try {
                sweep();
            } catch (RuntimeException e) {
                log.warn("bulk export sweep failed: {}", e.toString());
            }
        }, 5, 5, TimeUnit.MINUTES);
    }

    Settings settings() {
        return settings;
    }

    /** For tests: other bounds and a movable clock. */
    void settings(Settings s) {
        this.settings = s;
    }

    void clock(Clock c) {
        this.clock = c;
    }

    /** For tests: exports wait for {@code latch} before they start (null: they start at once). */
    void hold(java.util.concurrent.CountDownLatch latch) {
        this.hold = latch;
    }

    private volatile java.util.concurrent.CountDownLatch hold;

    Path root() {
        return root;
    }

    // ------------------------------------------------------------------------------------------------ kick-off

    /** The level of an export: the whole system, every patient, or the patients of one Group. */
    public enum Level { SYSTEM, PATIENT, GROUP }

    /**
     * Starts an export for {@code caller} at {@code level} (with the Group's id) with the kick-off's parameters, once
     * they are all checked; returns the job's id. {@code request} is the kick-off URL, for the manifest.
     *
     * @throws FhirError 400 for a parameter that is wrong or not supported, 403 for a type the caller may not read,
     *                   404 for a Group it cannot see, 429 when the caller (or the server) has too many exports running
     */
    public String kickOff(Caller caller, Level lvl, String groupId, Map<String, List<String>> p, String request) {
        ExportJob.Level level = ExportJob.Level.valueOf(lvl.name());
        for (String k : p.keySet()) {
            if (!Set.of("_outputFormat", "_type", "_since", "_typeFilter", "_format").contains(k)) {
                throw FhirError.badRequest("パラメータ " + k + " には対応していません / the parameter " + k
                        + " is not supported by $export (use _outputFormat, _type, _since, _typeFilter)");
            }
        }
        String format = one(p, "_outputFormat");
        if (format != null && !OUTPUT_FORMATS.contains(format.trim().toLowerCase(Locale.ROOT))) {
            throw FhirError.badRequest("_outputFormat は application/fhir+ndjson のみです / _outputFormat '" + format
                    + "' is not supported: use application/fhir+ndjson");
        }
        Settings s = settings;
        List<String> types = types(p, s, caller, level);
        Instant since = since(one(p, "_since"));
        Map<String, Map<String, List<String>>> filters = typeFilters(p, caller, types);
        List<String> patients = List.of();
        if (level == ExportJob.Level.GROUP) {
            patients = members(caller, groupId, s.maxGroupMembers());
        }
        String owner = ExportJob.owner(caller);
        ExportJob job;
        synchronized (jobs) {
            long mine = jobs.values().stream().filter(j -> j.active() && j.owner.equals(owner)).count();
            long all = jobs.values().stream().filter(ExportJob::active).count();
            if (mine >= s.maxJobsPerClient() || all >= s.maxJobs()) {
                String why = mine >= s.maxJobsPerClient()
                        ? "実行中の一括出力が終わってから開始してください / an export of yours is still running: wait for"
                        + " it (or cancel it) before starting another"
                        : "一括出力が混み合っています。しばらくしてから開始してください / too many exports are running on"
                        + " this server: start again later";
                throw new FhirError(429, OperationOutcome.IssueType.THROTTLED, why);
            }
            String id = newId();
            job = new ExportJob(id, caller, owner, caller.address(), request, level, types, since, filters, patients,
                    level == ExportJob.Level.GROUP ? groupId : null, clock.instant(), root.resolve(id));
            jobs.put(id, job);
        }
        try {
            audit(job, AuditAction.BULK_EXPORT, Outcome.SUCCESS, patients, kickOffDetail(job));
        } catch (RuntimeException e) {
            jobs.remove(job.id);
            throw e;
        }
        ExportJob started = job;
        job.future = workers.submit(() -> run(started));
        return job.id;
    }

    private static Map<String, String> kickOffDetail(ExportJob job) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("job", job.id);
        d.put("level", job.level.code + (job.group == null ? "" : "/" + job.group));
        d.put("types", String.join(",", job.types));
        if (job.since != null) {
            d.put("since", job.since.toString());
        }
        job.filters.forEach((t, f) -> d.put("typeFilter." + t, f.toString()));
        d.put("request", job.request);
        return d;
    }

    /** The types to export: _type (each known, readable), or every type the caller may read at this level. */
    private List<String> types(Map<String, List<String>> p, Settings s, Caller caller, ExportJob.Level level) {
        List<String> asked = new ArrayList<>();
        List<String> values = p.get("_type");
        if (values != null) {
            long chars = 0;
            for (String v : values) {
                chars += v.length();
                for (String t : v.split(",")) {
                    String type = t.trim();
                    if (!type.isEmpty() && !asked.contains(type)) {
                        asked.add(type);
                    }
                    if (asked.size() > s.maxTypes() || chars > 64 * 1024) {
                        throw FhirError.badRequest("_type に指定できる種別は " + s.maxTypes() + " までです / _type names"
                                + " more than " + s.maxTypes() + " types");
                    }
                }
            }
            for (String t : asked) {
                if (!FhirSupport.isResourceType(t)) {
                    throw FhirError.badRequest("_type の '" + t + "' は FHIR R4 のリソース種別ではありません / _type '"
                            + t + "' is not an R4 resource type");
                }
                if (level != ExportJob.Level.SYSTEM && !inPatientCompartment(t)) {
                    throw FhirError.badRequest(t + " は患者に属するリソースではないため患者単位の出力に含められません / "
                            + t + " is not about a patient: export it at the system level ([base]/$export)");
                }
                policy.require(caller, t, Scope.Permission.READ);
                policy.require(caller, t, Scope.Permission.SEARCH);
            }
            if (!asked.isEmpty()) {
                return asked;
            }
        }
        List<String> all = new ArrayList<>();
        for (String t : FhirSupport.CTX.getResourceTypes().stream().sorted().toList()) {
            if ((level == ExportJob.Level.SYSTEM || inPatientCompartment(t))
                    && policy.allows(caller, t, Scope.Permission.READ)
                    && policy.allows(caller, t, Scope.Permission.SEARCH)) {
                all.add(t);
            }
        }
        if (all.isEmpty()) {
            throw FhirError.forbidden("出力できるリソース種別がありません / the caller may read no resource type"
                    + " (system/*.read or system/Type.rs is needed)");
        }
        return all;
    }

    /** Patient itself, and every type with a patient or subject search parameter. */
    static boolean inPatientCompartment(String type) {
        return type.equals("Patient") || patientParam(type) != null;
    }

    /** The search parameter that names a type's patient: patient, else subject; null when it has none. */
    static String patientParam(String type) {
        RuntimeResourceDefinition def = FhirSupport.CTX.getResourceDefinition(type);
        for (String name : AccessPolicy.PATIENT_PARAMS) {
            if (def.getSearchParam(name) != null) {
                return name;
            }
        }
        return null;
    }

    static Instant since(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.trim().replace(' ', '+'); // an unencoded '+' of the offset arrives as a space
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw FhirError.badRequest("_since は時刻帯付きの日時（例 2026-04-01T00:00:00+09:00）で指定してください /"
                    + " _since must be a FHIR instant with a time zone, e.g. 2026-04-01T00:00:00+09:00; '"
                    + (t.length() > 40 ? t.substring(0, 40) + "…" : t) + "' is not");
        }
    }

    /**
     * The _typeFilter searches, one per type at most, each parsed and tried once (a page of one) through the record
     * store's own search, so that a parameter it does not support is refused now, with its reason.
     */
    private Map<String, Map<String, List<String>>> typeFilters(Map<String, List<String>> p, Caller caller,
                                                               List<String> types) {
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        List<String> values = p.get("_typeFilter");
        if (values == null) {
            return out;
        }
        for (String v : values) {
            for (String one : FILTER_START.split(v)) {
                String f = one.trim();
                int q = f.indexOf('?');
                if (q < 1 || q == f.length() - 1) {
                    throw FhirError.badRequest("_typeFilter は Type?検索条件 の形です / _typeFilter takes Type?search,"
                            + " e.g. MedicationRequest?status=active; '" + clip(f) + "' is not");
                }
                String type = f.substring(0, q);
                if (!types.contains(type)) {
                    throw FhirError.badRequest("_typeFilter の種別 " + type + " は出力対象にありません / the _typeFilter"
                            + " type " + type + " is not among the types exported (_type)");
                }
                if (out.containsKey(type)) {
                    throw FhirError.badRequest("同じ種別への _typeFilter は一つまでです / one _typeFilter per type is"
                            + " supported; " + type + " has more (combine them into one search)");
                }
                Map<String, List<String>> query = new LinkedHashMap<>(QueryString.parse(f.substring(q + 1)));
                for (String k : query.keySet()) {
                    String base = k.contains(":") ? k.substring(0, k.indexOf(':')) : k;
                    if (FILTER_REFUSED.contains(base)) {
                        throw FhirError.badRequest("_typeFilter では " + k + " は使えません / " + k + " shapes an"
                                + " answer, not which resources match: it is not supported in _typeFilter");
                    }
                }
                Map<String, List<String>> probe = new LinkedHashMap<>(query);
                probe.put("_count", List.of("1"));
                try {
                    records.search(caller, type, probe);
                } catch (FhirError e) {
                    String why = e.issues().isEmpty() ? "" : e.issues().get(0).diagnostics();
                    throw new FhirError(e.status() == 403 ? 403 : 400, OperationOutcome.IssueType.NOTSUPPORTED,
                            "_typeFilter '" + clip(f) + "' は使えません / is not supported: " + why);
                }
                out.put(type, query);
            }
        }
        return out;
    }

    /** The Group's patients (its active members that are Patients), read as the caller. */
    private List<String> members(Caller caller, String groupId, int max) {
        RecordService.Stored st = records.read(caller, "Group", groupId);
        Group g = (Group) FhirSupport.parseStored(st.bodyText());
        Set<String> ids = new LinkedHashSet<>();
        for (Group.GroupMemberComponent m : g.getMember()) {
            if (m.getInactive()) {
                continue;
            }
            String ref = m.getEntity().getReference();
            if (ref != null && ref.startsWith("Patient/") && ref.indexOf('/', 8) < 0) {
                ids.add(ref.substring(8));
            }
            if (ids.size() > max) {
                throw FhirError.badRequest("Group の患者が多すぎます（最大 " + max + " 人） / the Group has more than "
                        + max + " patients");
            }
        }
        if (ids.isEmpty()) {
            throw FhirError.unprocessable("Group/" + groupId + " に患者がいません / the Group has no active Patient"
                    + " members");
        }
        return new ArrayList<>(ids);
    }

    // ------------------------------------------------------------------------------------------------ the run

    private void run(ExportJob job) {
        java.util.concurrent.CountDownLatch h = hold;
        if (h != null) {
            try {
                h.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (job.cancelled) {
            return;
        }
        job.state = ExportJob.State.RUNNING;
        Map<String, Long> counts = new LinkedHashMap<>();
        Set<String> covered = new HashSet<>();
        long[] patientsCounted = {0};
        List<String> errors = new ArrayList<>();
        try {
            Files.createDirectories(job.dir);
            NdjsonParts.ownerOnly(job.dir);
            try (NdjsonParts parts = new NdjsonParts(job.dir, settings.maxFileBytes(), true,
                    (type, n) -> n + ".ndjson", c -> {
                        job.parts.add(new ExportJob.Part(c.n(), c.type(), c.count(), c.bytes(), c.path(),
                                c.patients(), false));
                        counts.merge(c.type(), c.count(), Long::sum);
                    })) {
                int done = 0;
                for (String type : job.types) {
                    if (job.cancelled) {
                        break;
                    }
                    job.progress = "種別 " + done + "/" + job.types.size() + "（" + type + "） / type " + done + " of "
                            + job.types.size() + " (" + type + ")";
                    try {
                        exportType(job, type, parts);
                    } catch (FhirError e) {
                        // e.g. a person's app refused one type: an error line, the others go on
                        errors.add(type + ": " + (e.issues().isEmpty() ? "" : e.issues().get(0).diagnostics()));
                    }
                    parts.finish();
                    done++;
                }
            }
            if (!errors.isEmpty() && !job.cancelled) {
                writeErrors(job, errors);
            }
            if (job.cancelled) {
                deleteTree(job.dir);
                return;
            }
            for (ExportJob.Part part : job.parts) {
                if (part.patients() != null) {
                    for (String line : Files.readAllLines(part.patients(), StandardCharsets.UTF_8)) {
                        if (covered.size() < COMPLETION_PATIENTS) {
                            covered.add(line);
                        } else if (!covered.contains(line)) {
                            patientsCounted[0]++;
                        }
                    }
                }
            }
            job.finished = clock.instant();
            Map<String, String> d = new LinkedHashMap<>();
            d.put("job", job.id);
            counts.forEach((t, n) -> d.put("count." + t, Long.toString(n)));
            d.put("files", Integer.toString((int) job.parts.stream().filter(x -> !x.error()).count()));
            d.put("errors", Integer.toString(errors.size()));
            d.put("patients", covered.size() + (patientsCounted[0] > 0 ? " (+ more, not counted exactly)" : ""));
            List<String> named = new ArrayList<>(covered);
            java.util.Collections.sort(named);
            // the completion is in the trail before any poll can see the manifest (and a download can start)
            audit(job, AuditAction.BULK_COMPLETE, errors.isEmpty() ? Outcome.SUCCESS : Outcome.ERROR, named, d);
            if (job.cancelled) { // cancelled between the last check and now: its files go all the same
                deleteTree(job.dir);
                job.state = ExportJob.State.CANCELLED;
                return;
            }
            job.progress = "完了 / complete";
            job.state = ExportJob.State.COMPLETE;
        } catch (Throwable t) {
            log.warn("bulk export {} failed: {}", job.id, t.toString());
            job.failure = t instanceof FhirError f && !f.issues().isEmpty() ? f.issues().get(0).diagnostics()
                    : "出力中にエラーが起きました / the export failed on the server";
            job.parts.clear();
            try {
                deleteTree(job.dir);
            } catch (IOException e) {
                log.warn("bulk export {}: files not removed: {}", job.id, e.toString());
            }
            job.finished = clock.instant();
            job.state = job.cancelled ? ExportJob.State.CANCELLED : ExportJob.State.FAILED;
            job.progress = "失敗 / failed";
            try {
                audit(job, AuditAction.BULK_COMPLETE, Outcome.ERROR, List.of(),
                        Map.of("job", job.id, "failure", String.valueOf(t)));
            } catch (RuntimeException e) {
                log.warn("bulk export {}: failure not recorded: {}", job.id, e.toString());
            }
        }
    }

    /** The resources of one type, page after page, into {@code parts}. */
    private void exportType(ExportJob job, String type, NdjsonParts parts) throws IOException {
        List<List<String>> chunks = new ArrayList<>();
        if (job.level == ExportJob.Level.GROUP) {
            for (int i = 0; i < job.patients.size(); i += PATIENTS_PER_SEARCH) {
                chunks.add(job.patients.subList(i, Math.min(job.patients.size(), i + PATIENTS_PER_SEARCH)));
            }
        } else {
            chunks.add(null);
        }
        for (List<String> chunk : chunks) {
            Map<String, List<String>> params = new LinkedHashMap<>();
            Map<String, List<String>> filter = job.filters.get(type);
            if (filter != null) {
                params.putAll(filter);
            }
            if (job.since != null) {
                params.computeIfAbsent("_lastUpdated", k -> new ArrayList<>()).add("gt" + job.since);
            }
            if (chunk != null) {
                if (type.equals("Patient")) {
                    params.computeIfAbsent("_id", k -> new ArrayList<>()).add(String.join(",", chunk));
                } else {
                    String pp = patientParam(type);
                    List<String> refs = new ArrayList<>(chunk.size());
                    for (String id : chunk) {
                        refs.add("Patient/" + id);
                    }
                    params.computeIfAbsent(pp, k -> new ArrayList<>()).add(String.join(",", refs));
                }
            }
            params.put("_count", List.of("1000"));
            pages(job, type, params, parts);
        }
    }

    private void pages(ExportJob job, String type, Map<String, List<String>> params, NdjsonParts parts)
            throws IOException {
        String cursor = null;
        do {
            if (job.cancelled) {
                return;
            }
            Map<String, List<String>> q = params;
            if (cursor != null) {
                q = new LinkedHashMap<>(params);
                q.put("_cursor", List.of(cursor));
            }
            long t0 = System.nanoTime();
            RecordService.SearchPage page = records.search(job.caller, type, q);
            long t1 = System.nanoTime();
            for (RecordService.Stored st : page.matches()) {
                if (st.body() != null) {
                    parts.write(type, st.id(), st.body());
                }
            }
            job.searchNanos += t1 - t0;
            job.writeNanos += System.nanoTime() - t1;
            job.pages++;
            cursor = page.nextCursor();
        } while (cursor != null);
    }

    private void writeErrors(ExportJob job, List<String> errors) throws IOException {
        int n = job.parts.stream().mapToInt(ExportJob.Part::n).max().orElse(0) + 1;
        Path p = job.dir.resolve(n + ".ndjson");
        StringBuilder sb = new StringBuilder();
        for (String e : errors) {
            OperationOutcome oo = new OperationOutcome();
            oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
                    .setCode(OperationOutcome.IssueType.FORBIDDEN).setDiagnostics(e);
            sb.append(FhirSupport.canonicalJson(oo)).append('\n');
        }
        Files.writeString(p, sb.toString(), StandardCharsets.UTF_8);
        NdjsonParts.ownerOnly(p);
        job.parts.add(new ExportJob.Part(n, "OperationOutcome", errors.size(), Files.size(p), p, null, true));
    }

    // ------------------------------------------------------------------------------------------------ status

    /**
     * What a poll of job {@code id} says: still running ({@code manifest} null; {@code tooSoon} when polled closer than
     * the interval), or done, with the manifest's JSON (file URLs under {@code baseUrl}).
     *
     * @throws FhirError 404 for no such job of the caller's, 410 when it was cancelled or expired, 500 when it failed
     */
    public Poll poll(Caller caller, String id, String baseUrl) {
        ExportJob job = owned(caller, id);
        Instant now = clock.instant();
        Settings s = settings;
        long retry = Math.max(1, s.pollInterval().toSeconds());
        if (job.active()) {
            Instant last = job.lastPoll;
            job.lastPoll = now;
            boolean tooSoon = last != null && Duration.between(last, now).compareTo(s.pollInterval()) < 0;
            return new Poll(tooSoon, job.progress, retry, null, null);
        }
        if (job.state == ExportJob.State.FAILED) {
            throw new FhirError(500, OperationOutcome.IssueType.EXCEPTION, "一括出力は失敗しました。ファイルは削除済みです /"
                    + " the export failed and its files were removed: " + job.failure);
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("transactionTime", job.transactionTime.toString());
            g.writeStringField("request", job.request);
            g.writeBooleanField("requiresAccessToken", true);
            for (boolean errors : new boolean[]{false, true}) {
                g.writeArrayFieldStart(errors ? "error" : "output");
                for (ExportJob.Part part : job.parts) {
                    if (part.error() == errors) {
                        g.writeStartObject();
                        g.writeStringField("type", part.type());
                        g.writeStringField("url", baseUrl + "/" + FILE + "/" + job.id + "/" + part.n());
                        g.writeNumberField("count", part.count());
                        g.writeEndObject();
                    }
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Poll(false, job.progress, retry, bytes.toByteArray(), job.expires(s.lifetime()));
    }

    /** A poll's answer: {@code manifest} is null while the export runs. */
    public record Poll(boolean tooSoon, String progress, long retryAfterSeconds, byte[] manifest, Instant expires) {
    }

    /** Cancels the caller's job {@code id} and deletes its files (a running export stops after its current page). */
    public void cancel(Caller caller, String id) {
        ExportJob job = owned(caller, id);
        job.cancelled = true;
        jobs.remove(job.id);
        gone.put(job.id, new String[]{job.owner, "cancelled"});
        boolean running = job.state == ExportJob.State.RUNNING;
        if (!running) {
            try {
                deleteTree(job.dir);
            } catch (IOException e) {
                log.warn("bulk export {}: files not removed on cancel: {}", job.id, e.toString());
            }
        } // a running export deletes its own files when it sees the cancel
        job.state = ExportJob.State.CANCELLED;
        audit(job, caller, AuditAction.BULK_CANCEL, Outcome.SUCCESS, List.of(), Map.of("job", job.id));
    }

    /** A file to send: where it is and how long. */
    public record Download(Path path, long length, String type, long count) {
    }

    /**
     * File {@code n} of the caller's job {@code id}, its download recorded (with the patients in it) before a byte of
     * it is sent.
     */
    public Download download(Caller caller, String id, String n) {
        ExportJob job = owned(caller, id);
        if (job.state != ExportJob.State.COMPLETE) {
            throw FhirError.notFound("この一括出力はまだ完了していません / the export has not completed: poll its status"
                    + " URL first");
        }
        ExportJob.Part part = null;
        for (ExportJob.Part p : job.parts) {
            if (Integer.toString(p.n()).equals(n)) {
                part = p;
            }
        }
        if (part == null) {
            throw FhirError.notFound("この一括出力にそのファイルはありません / the export has no file " + clip(n));
        }
        List<String> patients;
        long length;
        try {
            patients = part.patients() == null ? List.of() : Files.readAllLines(part.patients(), StandardCharsets.UTF_8);
            length = Files.size(part.path());
        } catch (IOException e) {
            throw FhirError.gone("ファイルはもうありません / the file is no longer there");
        }
        Map<String, String> d = new LinkedHashMap<>();
        d.put("job", job.id);
        d.put("file", Integer.toString(part.n()));
        d.put("type", part.type());
        d.put("count", Long.toString(part.count()));
        d.put("bytes", Long.toString(length));
        audit(job, caller, AuditAction.BULK_DOWNLOAD, Outcome.SUCCESS, patients, d);
        return new Download(part.path(), length, part.type(), part.count());
    }

    // ------------------------------------------------------------------------------------------------ jobs

    /**
     * The caller's job {@code id}: a 404 when there is none, or it is someone else's (which is not said), a 410 when it
     * was the caller's and was cancelled or has expired (its files removed now if the sweeper has not yet).
     */
    private ExportJob owned(Caller caller, String id) {
        String owner = ExportJob.owner(caller);
        if (id == null || !JOB_ID.matcher(id).matches()) {
            throw FhirError.notFound("その一括出力はありません / no such export");
        }
        ExportJob job = jobs.get(id);
        if (job == null || !job.owner.equals(owner)) {
            String[] g = gone.get(id);
            if (job == null && g != null && g[0].equals(owner)) {
                throw FhirError.gone(g[1].equals("cancelled")
                        ? "この一括出力は取り消され、ファイルは削除されました / the export was cancelled and its files deleted"
                        : "この一括出力のファイルは有効期限が切れ、削除されました / the export's files expired and were"
                        + " deleted: start a new export");
            }
            throw FhirError.notFound("その一括出力はありません / no such export");
        }
        Instant expires = job.expires(settings.lifetime());
        if (expires != null && !clock.instant().isBefore(expires)) {
            expire(job);
            throw FhirError.gone("この一括出力のファイルは有効期限が切れ、削除されました / the export's files expired and"
                    + " were deleted: start a new export");
        }
        return job;
    }

    private void expire(ExportJob job) {
        if (jobs.remove(job.id, job)) {
            gone.put(job.id, new String[]{job.owner, "expired"});
            try {
                deleteTree(job.dir);
            } catch (IOException e) {
                log.warn("bulk export {}: expired files not removed: {}", job.id, e.toString());
            }
        }
    }

    /** Removes the jobs whose files have expired, with their files; returns how many. */
    public int sweep() {
        Instant now = clock.instant();
        int n = 0;
        for (ExportJob job : List.copyOf(jobs.values())) {
            Instant expires = job.expires(settings.lifetime());
            if (expires != null && !now.isBefore(expires)) {
                expire(job);
                n++;
            }
        }
        return n;
    }

    /** The job (for tests). */
    ExportJob job(String id) {
        return jobs.get(id);
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        workers.shutdownNow();
        for (ExportJob j : jobs.values()) {
            j.cancelled = true;
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void audit(ExportJob job, AuditAction action, Outcome outcome, List<String> patients,
                       Map<String, String> detail) {
        audit(job, job.caller, action, outcome, patients, detail);
    }

    private void audit(ExportJob job, Caller caller, AuditAction action, Outcome outcome, List<String> patients,
                       Map<String, String> detail) {
        List<PatientRef> refs = new ArrayList<>(patients.size());
        for (String p : patients) {
            refs.add(PatientRef.named(p));
        }
        Purpose purpose = caller.isPerson() ? Purpose.TREATMENT : Purpose.OPERATIONS;
        try {
            recorder.append(AuditEvent.by(Actor.of(caller, job.address, null), action).outcome(outcome)
                    .purpose(purpose).patients(refs).details(detail).build());
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
    }

    private String newId() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String one(Map<String, List<String>> p, String name) {
        List<String> v = p.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw FhirError.badRequest(name + " は一つだけ指定してください / give " + name + " once");
        }
        return v.get(0);
    }

    private static String clip(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path c : ds) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }
}
