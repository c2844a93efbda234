package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Action;
import jp.mamori.access.BreakGlass;
import jp.mamori.access.Caller;
import jp.mamori.access.PersonContext;
import jp.mamori.access.PersonContexts;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.ResourceRef;
import jp.mamori.audit.WriteEntries;
import jp.mamori.identity.Sessions;
import jp.mamori.kernel.FhirError;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.IndexRows;
import jp.mamori.records.RecordService;
import jp.mamori.records.RecordService.Stored;
import jp.mamori.records.SearchIndexer;
import org.hl7.fhir.r4.model.Resource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import jp.mamori.web.console.ConsoleRequest;

/**
 * The one way console pages reach patient data. For each page view, search, write and print it builds the
 * person's {@link Caller} (their access context from {@link PersonContexts}, keyed by the session's access
 * version), asks the {@link RecordService} (so {@link AccessPolicy} decides everything), and appends ONE audit
 * entry naming the patients and the resource versions actually shown or written, the action, the purpose
 * ({@code treatment}, or {@code break-glass} under an active break-glass use) and the outcome, refusals
 * included, before the page is rendered. When the entry cannot be stored the page is not shown (503).
 */
public final class Clinical {
    static final ObjectMapper JSON = new ObjectMapper();
    /** What a reader of a person's own FHIR answer can see as text of a refusal that break-glass would lift. */
    static final String BREAK_GLASS_HINT = "break-glass is available";
    private static final int PAGE = 1000;

    private final RecordService records;
    private final AccessPolicy policy;
    private final PersonContexts contexts;
    private final AuditRecorder recorder;
    private final BreakGlass breakGlass;
    private final AuditReports reports;
    private final Clock clock;
    private final SearchIndexer indexer = new SearchIndexer();

    public Clinical(RecordService records, AccessPolicy policy, PersonContexts contexts, AuditRecorder recorder,
                    BreakGlass breakGlass, AuditReports reports, Clock clock) {
        this.records = records;
        this.policy = policy;
        this.contexts = contexts;
        this.recorder = recorder;
        this.breakGlass = breakGlass;
        this.reports = reports;
        this.clock = clock;
    }

    /** The queue of proxy entries (代行入力, issue 18 §4), or null when the server has none. */
    private jp.mamori.access.ProxyEntries proxies;

    /** Lets the pages enter notes on behalf of others and approve them (issue 18 §4); call before the pages register. */
    public Clinical proxies(jp.mamori.access.ProxyEntries proxies) {
        this.proxies = proxies;
        return this;
    }

    /** The queue of proxy entries, or null. */
    jp.mamori.access.ProxyEntries proxies() {
        return proxies;
    }

    /** A stored version with its JSON, as pages read it. */
    record Res(Stored stored, JsonNode json) {
        String ref() {
            return stored.type() + "/" + stored.id();
        }

        String versionRef() {
            return ref() + "/_history/" + stored.version();
        }
    }

    /** A page of search results and the cursor of the next page (null on the last). */
    record Page(List<Res> matches, String next) {
    }

    /**
     * One audited operation: every resource read, searched or written through it is recorded as shown (with its
     * version and patients); the entry is appended once, when the operation ends. Pages reach patient data only
     * inside {@link #run}, through this object.
     */
    final class Unit {
        final Caller caller;
        private AuditAction action;
        final Set<String> patients = new LinkedHashSet<>();
        final Set<ResourceRef> resources = new LinkedHashSet<>();
        final Map<String, String> detail = new LinkedHashMap<>();
        /** Versions this unit wrote whose entry committed with them. */
        final Set<ResourceRef> recorded = new LinkedHashSet<>();

        Unit(Caller caller, String action) {
            this.caller = caller;
            this.action = AuditAction.of(action);
        }

        /** Rows written in the same transaction as this unit's record writes (commit together or not at all). */
        @FunctionalInterface
        interface Alongside {
            void write(java.sql.Connection c, List<RecordService.Written> written) throws java.sql.SQLException;
        }

        private Alongside alongside;

        /**
         * Writes {@code rows} in the transaction of this unit's next record write, so that a record and the rows
         * that go with it (a proxy entry's queue row) commit together or not at all.
         */
        void alongside(Alongside rows) {
            this.alongside = rows;
        }

        /** The action recorded (e.g. an update that turned out to be a finalization), by its stored code. */
        void action(String a) {
            this.action = AuditAction.of(a);
        }

        void detail(String key, String value) {
            detail.put(key, value);
        }

        /**
         * The context of this unit's writes: each transaction's entry is staged in it (AUDIT-1) as this person's, from
         * this page, naming the versions written (with their hashes, {@link WriteEntries}) and their patients; the
         * entry of the unit then leaves them out.
         */
        WriteEntries.Context writes(ConsoleRequest r) {
            Unit u = this;
            return new WriteEntries.Context() {
                private final Set<ResourceRef> pending = new LinkedHashSet<>();

                @Override
                public AuditEvent.Builder entry(java.sql.Connection c, List<RecordService.Written> written)
                        throws java.sql.SQLException {
                    pending.clear();
                    if (alongside != null) {
                        alongside.write(c, written);
                    }
                    Unit w = new Unit(caller, action.code);
                    w.detail.putAll(detail);
                    w.patients.addAll(WriteEntries.patientsOf(written));
                    w.resources.addAll(WriteEntries.versionsOf(written));
                    pending.addAll(w.resources);
                    w.action = WriteEntries.actionOf(written);
                    return w.entry(Outcome.SUCCESS, r.method() + " " + r.path(), r.address(), r.session().ref(),
                            glassPatients(w));
                }

                @Override
                public void committed(List<RecordService.Written> written) {
                    u.recorded.addAll(pending);
                    pending.clear();
                }
            };
        }

        private Res shown(Res r) {
            resources.add(ResourceRef.version(r.stored().type(), r.stored().id(), r.stored().version()));
            patients.addAll(patientsOf(r));
            return r;
        }

        Res read(String type, String id) {
            return shown(res(records.read(caller, type, id)));
        }

        Res vread(String type, String id, int version) {
            return shown(res(records.vread(caller, type, id, Integer.toString(version))));
        }

        /** Every match of a search, page after page (the store filters each page for the person), up to {@code max}. */
        List<Res> search(String type, Map<String, List<String>> params, int max) {
            List<Res> out = new ArrayList<>();
            Map<String, List<String>> p = new LinkedHashMap<>(params);
            p.put("_count", List.of(Integer.toString(Math.min(PAGE, max))));
            while (true) {
                RecordService.SearchPage page = records.search(caller, type, p);
                for (Stored s : page.matches()) {
                    out.add(shown(res(s)));
                }
                if (page.nextCursor() == null || out.size() >= max) {
                    return out;
                }
                p.put("_cursor", List.of(page.nextCursor()));
            }
        }

        /**
         * As {@link #search}, keeping (and recording as shown) only the matches {@code keep} accepts: for a page
         * that reads more than it shows (the worklist's encounters of other days), so its entry names what it showed.
         */
        List<Res> search(String type, Map<String, List<String>> params, int max, java.util.function.Predicate<Res> keep) {
            List<Res> out = new ArrayList<>();
            Map<String, List<String>> p = new LinkedHashMap<>(params);
            p.put("_count", List.of(Integer.toString(Math.min(PAGE, max))));
            int read = 0;
            while (true) {
                RecordService.SearchPage page = records.search(caller, type, p);
                for (Stored s : page.matches()) {
                    read++;
                    Res r = res(s);
                    if (keep.test(r)) {
                        out.add(shown(r));
                    }
                }
                if (page.nextCursor() == null || read >= max) {
                    return out;
                }
                p.put("_cursor", List.of(page.nextCursor()));
            }
        }

        /** Whether the person may search {@code type} at all (the type gate), so a page can leave out what they may not. */
        boolean maySearch(String type) {
            return policy.allows(caller, type, jp.mamori.identity.Scope.Permission.SEARCH);
        }

        /** One page of a search ({@code _count} and {@code _cursor} in {@code params}), and the cursor of the next. */
        Page page(String type, Map<String, List<String>> params) {
            RecordService.SearchPage page = records.search(caller, type, params);
            List<Res> out = new ArrayList<>(page.matches().size());
            for (Stored s : page.matches()) {
                out.add(shown(res(s)));
            }
            return new Page(out, page.nextCursor());
        }

        /** A patient's resources of one type; null when the person may not search that type at all (the type gate). */
        List<Res> ofPatient(String type, String patientId, int max) {
            if (!policy.allows(caller, type, jp.mamori.identity.Scope.Permission.SEARCH)) {
                return null;
            }
            return search(type, Map.of("patient", List.of("Patient/" + patientId)), max);
        }

        /** Every version of a resource, newest first; each decided for the person on its own. */
        List<Res> history(String type, String id) {
            List<Res> out = new ArrayList<>();
            String cursor = null;
            do {
                RecordService.HistoryPage page = records.history(caller, type, id, null, PAGE, cursor);
                for (Stored s : page.versions()) {
                    Res r = new Res(s, s.deleted() ? null : json(s));
                    resources.add(ResourceRef.version(s.type(), s.id(), s.version()));
                    out.add(r);
                }
                cursor = page.nextCursor();
            } while (cursor != null);
            return out;
        }

        Res create(Resource res) {
            return shown(res(records.create(caller, res, null, null).stored()));
        }

        Res update(String type, String id, Resource res, int ifMatch, String reason) {
            return shown(res(records.update(caller, type, id, res, ifMatch, reason).stored()));
        }

        /** Throws a 403 unless the person may do {@code action} (print) on this version. */
        void require(Res r, Action a) {
            policy.requireAction(caller, subject(r), a);
        }

        /**
         * Throws a 403 unless the person may read this patient's clinical notes, when they hold any role that reads
         * clinical notes at all: the chart's gate. Demographics are hospital-wide for most roles, so a Patient that
         * can be read says nothing about the care relationship; this asks the access model about the relationship
         * (an active break-glass use stands in for it, as for every read).
         */
        void requireClinical(String patientId) {
            if (policy.allows(caller, "Composition", jp.mamori.identity.Scope.Permission.READ)) {
                policy.requireAction(caller, new AccessPolicy.Subject("Composition", "*", Set.of(patientId), Set.of(),
                        Set.of()), Action.READ);
            }
        }

        /**
         * Whether the person may do {@code a} on this version, asked of the access model without marking anything:
         * what a page offers (issue 22; the action itself is decided again, and marked, when it is done).
         */
        boolean may(Res r, Action a) {
            return policy.permits(caller, subject(r), a);
        }

        /** Whether the person may write a progress note for this patient (the note form's "create"). */
        boolean mayWriteNote(String patientId) {
            return policy.allows(caller, "Composition", jp.mamori.identity.Scope.Permission.CREATE)
                    && policy.permits(caller, new AccessPolicy.Subject("Composition", "*", Set.of(patientId),
                    Set.of(FhirText.LOINC + "|" + FhirText.PROGRESS_NOTE), Set.of()), Action.CREATE);
        }

        /**
         * Whether the person may enter a progress note on behalf of {@code responsible} (代行入力): asked of the
         * access model ({@link AccessPolicy#mayEnterFor}), the one rule of who may enter for whom.
         */
        boolean mayEnterFor(java.util.UUID responsible) {
            return proxies != null && policy.mayEnterFor(caller, proxies.context(responsible), "Composition",
                    Set.of(FhirText.LOINC + "|" + FhirText.PROGRESS_NOTE));
        }

        /** Whether the person may enter progress notes for anyone at all (the chart's 代行入力 link). */
        boolean entersForOthers() {
            return proxies != null && policy.mayEnterForSomeone(caller, "Composition",
                    Set.of(FhirText.LOINC + "|" + FhirText.PROGRESS_NOTE));
        }

        /** The people the person may enter progress notes for, by name (each decided by {@link #mayEnterFor}). */
        List<jp.mamori.access.ProxyEntries.Candidate> enterFor() {
            return proxies == null ? List.of() : proxies.candidates(policy, caller, "Composition",
                    Set.of(FhirText.LOINC + "|" + FhirText.PROGRESS_NOTE), 200);
        }

        boolean permits(Res r, Action a) {
            try {
                require(r, a);
                return true;
            } catch (FhirError e) {
                return false;
            }
        }

        String principal() {
            return caller.principal();
        }

        /**
         * The entry of this operation: the person (roles and departments from their access context), what was shown
         * or written, and the purpose: treatment, or break-glass when one of the patients is among
         * {@code glassPatients} (those of the person's active break-glass uses).
         */
        AuditEvent.Builder entry(Outcome outcome, String request, String address, String session,
                                 Set<String> glassPatients) {
            boolean glass = false;
            for (String patient : glassPatients) {
                if (patients.contains(patient)) {
                    glass = true;
                    break;
                }
            }
            AuditEvent.Builder e = AuditEvent.by(Actor.of(caller, address, session), action).outcome(outcome)
                    .purpose(glass ? Purpose.BREAK_GLASS : Purpose.TREATMENT);
            for (String p : patients) {
                e.patient(PatientRef.named(p));
            }
            PersonContext who = caller.person();
            if (who != null && who.partner()) {
                // a partner clinician (issue 21, AUTH-11): its institution, and the shares it read under, by number
                e.detail("partner", who.partnerInstitution());
                Set<String> shares = new java.util.TreeSet<>();
                for (String p : patients) {
                    for (PersonContext.Share sh : who.partnerShares(clock.instant())) {
                        if (sh.patientId().equals(p)) {
                            shares.add(Long.toString(sh.number()));
                        }
                    }
                }
                if (!shares.isEmpty()) {
                    e.detail("shares", String.join(",", shares));
                }
            }
            return e.resources(resources).details(detail).detail("request", request).detail("via", "console");
        }
    }

    /**
     * Runs {@code work} as the person and records it: on success with what the unit collected, on a refusal or
     * error as such (with the patient asked for, when known). The result is returned only once the entry is
     * durable; when it cannot be stored, a 503 goes out instead.
     */
    <T> T run(ConsoleRequest r, String action, String askedPatient, java.util.function.Function<Unit, T> work) {
        Unit u = new Unit(caller(r), action);
        if (askedPatient != null) {
            u.detail("patient", askedPatient);
        }
        T result;
        try {
            result = WriteEntries.within(u.writes(r), () -> work.apply(u));
        } catch (FhirError e) {
            if (askedPatient != null) {
                u.patients.add(askedPatient);
            }
            u.detail("status", Integer.toString(e.status()));
            Outcome outcome = e.status() == 401 || e.status() == 403 || e.status() == 404 || e.status() == 410
                    ? Outcome.REFUSED : e.status() >= 500 ? Outcome.ERROR : Outcome.INVALID;
            append(r, u, outcome);
            throw e;
        } catch (RuntimeException e) {
            if (askedPatient != null) {
                u.patients.add(askedPatient);
            }
            append(r, u, Outcome.ERROR);
            if (jp.mamori.db.Availability.retryable(e)) {
                // a lost connection or a read-only database (failover, issue 18 §1): nothing was written (one
                // transaction), and the page may show its form again with what was typed
                throw new FhirError(503, org.hl7.fhir.r4.model.OperationOutcome.IssueType.TRANSIENT,
                        "データベースに一時的に接続できないか書き込めないため保存できませんでした / the database cannot take"
                                + " writes right now");
            }
            throw e;
        }
        append(r, u, Outcome.SUCCESS);
        return result;
    }

    /** Whether the person may search {@code type} at all (the type gate), decided before any page reads data. */
    boolean maySearch(ConsoleRequest r, String type) {
        return policy.allows(caller(r), type, jp.mamori.identity.Scope.Permission.SEARCH);
    }

    /**
     * The access context of a vendor's maintenance session inside a window that approved patient data (issue 19): set
     * once at start; empty for every other session, whose context is the person's own.
     */
    private volatile java.util.function.Function<Sessions.Session, java.util.Optional<PersonContext>> maintenance =
            s -> java.util.Optional.empty();

    public Clinical maintenance(java.util.function.Function<Sessions.Session, java.util.Optional<PersonContext>> f) {
        this.maintenance = f;
        return this;
    }

    /**
     * Whether the chart offers its printout: to everyone but a vendor's maintenance session whose work order did not
     * approve taking data out (the console's gate refuses that printout anyway; the button is not shown to be refused).
     */
    boolean offersPrintout(ConsoleRequest r) {
        Sessions.Session s = r.session();
        if (jp.mamori.access.PartnerShares.applies(s)) {
            return false; // a partner clinician reads on screen only (issue 21)
        }
        return !MaintenanceGate.applies(s) || maintenance.apply(s).map(PersonContext::maintenancePrints).orElse(false);
    }

    /**
     * Whether the chart offers to launch a connected app (SMART on FHIR EHR launch): to the institution's own staff;
     * never to a partner clinician or a vendor's engineer, whose accounts apps do not act for.
     */
    boolean offersApps(ConsoleRequest r) {
        Sessions.Session s = r.session();
        return !jp.mamori.access.PartnerShares.applies(s) && !MaintenanceGate.applies(s);
    }

    private Caller caller(ConsoleRequest r) {
        Sessions.Session s = r.session();
        if (MaintenanceGate.applies(s)) {
            // a vendor's account never has a context of its own here: only a work order's, or one that reaches nothing
            PersonContext m = maintenance.apply(s).orElseGet(() -> PersonContext.forMaintenance(s.accountId(),
                    "none", java.util.Set.of(), clock.instant(), java.util.List.of(), false));
            return Caller.person(m, s.displayName(), r.address());
        }
        PersonContext p = contexts.get(s.accountId(), s.accessVersion());
        return Caller.person(p, s.displayName(), r.address());
    }

    private void append(ConsoleRequest r, Unit u, Outcome outcome) {
        if (!u.recorded.isEmpty()) {
            // what the unit wrote, and the versions of those documents it read to write them, are in the entries that
            // committed with the writes
            Set<ResourceRef> written = new HashSet<>();
            for (ResourceRef w : u.recorded) {
                written.add(w.unversioned());
            }
            u.resources.removeIf(x -> written.contains(x.unversioned()));
            if (outcome == Outcome.SUCCESS && u.resources.isEmpty()) {
                return;
            }
        }
        Set<String> glass = glassPatients(u);
        try {
            recorder.append(u.entry(outcome, r.method() + " " + r.path(), r.address(), r.session().ref(), glass)
                    .build());
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
    }

    /** The patients of the person's active break-glass uses (they come with the person's context). */
    private Set<String> glassPatients(Unit u) {
        return u.patients.isEmpty() || breakGlass == null ? Set.of()
                : u.caller.person().breakGlassPatients(clock.instant());
    }

    private AccessPolicy.Subject subject(Res r) {
        Resource parsed = FhirSupport.parseStored(r.stored().bodyText());
        IndexRows rows = indexer.extract(parsed);
        String type = r.stored().type();
        String id = r.stored().id();
        return new AccessPolicy.Subject(type, id, rows.patients(type, id), rows.docCodes(), rows.labels());
    }

    /**
     * The patients this person opened most recently (from their own audit entries, newest first), at most
     * {@code limit}. Only ids: the page then looks them up again, and shows only those the person may still see.
     */
    List<String> recentPatients(ConsoleRequest r, int limit) {
        return reports.recentPatients("account:" + r.session().accountId(), limit);
    }

    /**
     * The stays of the person's departments and wards open or ended after {@code since} (the worklist's
     * candidates; what the person may see of each patient is still decided by the searches that follow).
     */
    List<jp.mamori.access.EncounterStays.Stay> stays(Unit u, java.time.Instant since, int max) {
        return u.caller.person() == null ? List.of() : contexts.stays(u.caller.person(), since, max);
    }

    /** Whether the person holds an active break-glass use for this patient. */
    boolean underBreakGlass(ConsoleRequest r, String patientId) {
        Sessions.Session s = r.session();
        return breakGlass != null && contexts.get(s.accountId(), s.accessVersion()).breakGlass(patientId, clock.instant())
                .isPresent();
    }

    Clock clock() {
        return clock;
    }

    // ---------------------------------------------------------------- JSON

    static Res res(Stored s) {
        return new Res(s, json(s));
    }

    static JsonNode json(Stored s) {
        try {
            return JSON.readTree(s.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The patients a resource is about: itself for a Patient, else its subject/patient references. */
    static Set<String> patientsOf(Res r) {
        Set<String> out = new HashSet<>();
        if (r.stored().type().equals("Patient")) {
            out.add(r.stored().id());
            return out;
        }
        if (r.json() == null) {
            return out;
        }
        for (String f : List.of("subject", "patient")) {
            String ref = r.json().path(f).path("reference").asText("");
            if (ref.startsWith("Patient/")) {
                out.add(ref.substring("Patient/".length()));
            }
        }
        return out;
    }
}
