package jp.mamori.access;

import jp.mamori.kernel.FhirError;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import jp.mamori.identity.Scope;

/**
 * The one authorization point for patient data. The record service calls it for every read, search,
 * history, write and bundle entry; no handler reaches the store around it (ACCESS-*).
 *
 * <p>System clients: their SMART scopes, per resource type. People ({@link Caller#person()}): the
 * {@link PersonAccess} decision per resource, from its information category ({@link Categories}, with the
 * document type for note-bearing types), the patient it belongs to, its {@code meta.security} labels and,
 * standing in for a missing care relationship only, an active break-glass use for that patient; every
 * access made under break-glass is marked. Searches by people are filtered in SQL by {@link #rowFilter}
 * with the same rules, so counts and pages see only what the person may read. Writes by people are decided by
 * {@link #requireWrite} (creation, edit, finalization, amendment and correction are different actions), and
 * history by people is per resource, each version decided on its own.
 *
 * <p>A person acting through an app ({@link Caller#throughApp}, SMART on FHIR, issue 21) is decided as the person
 * AND by the scopes they granted the app, at every one of these points: the type gate, each record, each write and
 * the SQL row filter of searches (before paging and counting). A type reached only by {@code patient/} scopes is
 * confined to the patient of the app's launch context.
 */
public final class AccessPolicy {
    /** The reference parameters that name the patient a resource belongs to. */
    public static final List<String> PATIENT_PARAMS = List.of("patient", "subject");
    /** The token parameter holding the document type of note-bearing resources. */
    public static final String DOC_TYPE_PARAM = "type";
    /** The token parameter holding {@code meta.security}. */
    public static final String LABEL_PARAM = "_security";

    /** What the decision needs to know about one resource version. */
    public record Subject(String type, String id, Set<String> patients, Set<String> docCodings, Set<String> labels) {
        public Subject {
            patients = Set.copyOf(patients);
            docCodings = Set.copyOf(docCodings);
            labels = Set.copyOf(labels);
        }

        String ref() {
            return type + "/" + id;
        }
    }

    private record Outcome(boolean permitted, String reason, boolean breakGlass, Set<UUID> grants) {
    }

    private final Categories categories;
    private final PersonAccess access;
    private final BreakGlass breakGlass;
    private final EncounterRelations encounters;
    private final Clock clock;

    /** Scopes of system clients only; every person is refused. */
    public AccessPolicy() {
        this(null, null, null, null, Clock.systemUTC());
    }

    /**
     * System clients by scope, people by {@link PersonAccess}, with care relationships from recorded assignments
     * and, when {@code encounters} is given, from current and recent encounters.
     */
    public AccessPolicy(Categories categories, PersonAccess access, BreakGlass breakGlass,
                        EncounterRelations encounters, Clock clock) {
        this.categories = categories;
        this.access = access;
        this.breakGlass = breakGlass;
        this.encounters = encounters;
        this.clock = clock;
    }

    /**
     * Throws a 403 {@link FhirError} unless {@code caller} may do {@code p} on resources of {@code type}. For a
     * person this is the first gate only (some role grants the action on some category of the type); each
     * resource is then decided by {@link #requireRecord}, and searches are filtered by {@link #rowFilter}.
     */
    public void require(Caller caller, String type, Scope.Permission p) {
        if (caller.isPerson()) {
            String missing = personTypeGate(caller, type, p);
            if (missing == null && caller.throughApp() && scopeReach(caller, type, p) == null) {
                missing = scopeRefusal(type, p);
            }
            if (missing != null) {
                throw FhirError.forbidden(missing);
            }
            return;
        }
        if (!allows(caller, type, p)) {
            throw FhirError.forbidden("この操作を行う権限がありません / scope system/" + type + "." + letter(p)
                    + " (or system/" + type + "."
                    + (p == Scope.Permission.READ || p == Scope.Permission.SEARCH ? "read" : "write")
                    + ") is required for " + p.name().toLowerCase() + " on "
                    + ("*".equals(type) ? "every resource type" : type));
        }
    }

    /**
     * The id of the Practitioner resource that stands for a staff account (SMART's {@code fhirUser}): derived from the
     * account's id, so that it is known without a lookup.
     */
    public static String practitionerId(UUID accountId) {
        return "staff-" + accountId;
    }

    /**
     * Whether this is a person reading their own Practitioner ({@link #practitionerId}): allowed whatever their roles
     * (it is their own name, as the console shows it), one record at a time (never by search); through an app only
     * when they granted it {@code fhirUser}.
     */
    public boolean ownPractitioner(Caller caller, String type, String id) {
        return caller.isPerson() && "Practitioner".equals(type) && id != null
                && id.equals(practitionerId(caller.accountId())) && (!caller.throughApp() || caller.app().fhirUser());
    }

    /** Whether {@code caller} may do {@code p} on resources of {@code type} (for a person: the first gate only). */
    public boolean allows(Caller caller, String type, Scope.Permission p) {
        if (caller.isPerson()) {
            return personTypeGate(caller, type, p) == null
                    && (!caller.throughApp() || scopeReach(caller, type, p) != null);
        }
        for (Scope s : caller.scopes()) {
            if (s.allows(type, p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The actions a permission stands for at the type gate, and whether all of them (reads) or any of them (an
     * update may turn out to be an edit, a finalization, an amendment or a correction) must be granted.
     */
    private static Set<Action> gateActions(Scope.Permission p) {
        return switch (p) {
            case READ -> EnumSet.of(Action.READ);
            case SEARCH -> EnumSet.of(Action.READ, Action.SEARCH);
            case CREATE -> EnumSet.of(Action.CREATE);
            case UPDATE -> EnumSet.of(Action.UPDATE, Action.FINALIZE, Action.AMEND, Action.ENTER_IN_ERROR);
            case DELETE -> EnumSet.of(Action.ENTER_IN_ERROR);
        };
    }

    /** Null when the person passes the type gate, else what is missing. */
    private String personTypeGate(Caller caller, String type, Scope.Permission p) {
        if (categories == null) {
            return "職員による診療情報の利用はこのサーバではまだ有効ではありません / Access by people is not enabled on"
                    + " this server";
        }
        if ("*".equals(type)) {
            return "全種別にまたがる操作は職員には許可されていません / Operations across all types are not available to"
                    + " people";
        }
        boolean all = p == Scope.Permission.READ || p == Scope.Permission.SEARCH;
        Set<Action> actions = gateActions(p);
        Category fallback = categories.resolve(type);
        Set<Category> possible = new LinkedHashSet<>();
        possible.add(fallback);
        possible.addAll(categories.docRules(type).keySet());
        for (Category c : possible) {
            int granted = 0;
            for (Action a : actions) {
                if (caller.person().need(c, a) != null) {
                    granted++;
                }
            }
            if (all ? granted == actions.size() : granted > 0) {
                return null;
            }
        }
        for (Action a : actions) {
            if (caller.person().need(fallback, a) == null) {
                return type + ": " + access.decide(caller.person(), null, fallback, a, Set.of(), now()).reason();
            }
        }
        return type + ": 権限がありません / Not permitted";
    }

    /**
     * A change a person asks for: the current version ({@code before}, null when creating or when the resource
     * was deleted) and the new one ({@code after}, null when deleting), with their lifecycle stages.
     */
    public record Write(Subject before, String beforeLifecycle, Subject after, String afterLifecycle) {
    }

    /**
     * What a change is, as actions of the access model: a new record is a creation (and a finalization when it
     * is created final); a change of a draft is an edit, or a finalization when it becomes final; any change of a
     * finalized record is an amendment; marking a record entered-in-error, or deleting it, is a correction.
     */
    static Set<Action> writeActions(Write w) {
        if (w.after() == null || Stage.ENTERED_IN_ERROR.equals(w.afterLifecycle())) {
            return EnumSet.of(Action.ENTER_IN_ERROR);
        }
        boolean nowFinal = Stage.isLocked(w.afterLifecycle());
        if (w.before() == null) {
            return nowFinal ? EnumSet.of(Action.CREATE, Action.FINALIZE) : EnumSet.of(Action.CREATE);
        }
        if (Stage.isLocked(w.beforeLifecycle())) {
            return EnumSet.of(Action.AMEND);
        }
        return nowFinal ? EnumSet.of(Action.FINALIZE) : EnumSet.of(Action.UPDATE);
    }

    /**
     * Throws a 403 unless the person may make this change: the actions of {@link #writeActions} are decided for
     * the current version and for the new one alike (a record cannot be moved to, or taken from, a patient the
     * person may not write for), by the same rules as reads; under break-glass the write is marked. No-op for
     * system clients, whose scopes were checked per type.
     */
    public void requireWrite(Caller caller, Write w) {
        if (!caller.isPerson()) {
            return;
        }
        Set<Action> actions = writeActions(w);
        Relations relations = new Relations(caller);
        for (Subject s : java.util.Arrays.asList(w.before(), w.after())) {
            if (s == null) {
                continue;
            }
            Outcome o = decide(caller, s, actions, relations);
            if (!o.permitted()) {
                throw FhirError.forbidden(message(s, o));
            }
            mark(caller, s, o, actions.iterator().next().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /**
     * Throws a 403 unless a person may read the history of this resource: only one resource's history (not a
     * type's or the server's), and each version is then decided by {@link #requireRecord} on its own (earlier
     * versions may have belonged to another patient or carried other labels).
     */
    public void requireHistory(Caller caller, String type, String id) {
        if (caller.isPerson() && id == null) {
            throw FhirError.forbidden("種別全体・サーバ全体の履歴は職員には提供しません。個々の記録の履歴を参照してください"
                    + " / People read the history of one record at a time, not of a type or the whole server");
        }
    }

    /** Throws a 403 unless the person may read this resource version; marks a read under break-glass. */
    public void requireRecord(Caller caller, Subject s) {
        if (!caller.isPerson() || ownPractitioner(caller, s.type(), s.id())) {
            return;
        }
        Outcome o = decide(caller, s, EnumSet.of(Action.READ), new Relations(caller));
        if (!o.permitted()) {
            throw FhirError.forbidden(message(s, o));
        }
        mark(caller, s, o, "read");
    }

    /**
     * Throws a 403 unless the person may do {@code action} (e.g. {@link Action#PRINT}) on this resource, by the
     * same rules as reads; marks it under break-glass. No-op for system clients.
     */
    public void requireAction(Caller caller, Subject s, Action action) {
        if (!caller.isPerson()) {
            return;
        }
        Outcome o = decide(caller, s, EnumSet.of(action), new Relations(caller));
        if (!o.permitted()) {
            throw FhirError.forbidden(message(s, o));
        }
        mark(caller, s, o, action.code);
    }

    /**
     * Whether the person may do {@code action} on this resource, by the same rules as {@link #requireAction}, without
     * marking anything: for pages that offer only what a person may do (issue 22: a nurse is not offered 修正 on a
     * physician's note, ACCESS-1). A use under break-glass is marked when the action is done, not when it is offered.
     * True for system clients.
     */
    public boolean permits(Caller caller, Subject s, Action action) {
        return !caller.isPerson() || decide(caller, s, EnumSet.of(action), new Relations(caller)).permitted();
    }

    /**
     * Whether the person may see the content of a version in stage {@code lifecycle} stored by {@code versionAuthor}
     * (the principal the record store wrote with it, never taken from the body). A draft is its author's until it is
     * finalized (issue 22, ACCESS-1 as narrow as the work needs): another person learns that it exists, who wrote it
     * and when, not what it says; the record service returns it to them with its content withheld, and refuses them
     * a change of it. A draft written by a system (a preliminary result from a department system) is no person's
     * draft and is decided like any record. System clients are decided by their scopes and see every version.
     * <p>
     * This is the one place where the access model would say otherwise (a supervising physician reading a
     * resident's draft): no role grants that yet, since a permission for it needs a new action in
     * {@code role_permission}.
     */
    public boolean draftContentVisible(Caller caller, String lifecycle, String versionAuthor) {
        if (!caller.isPerson() || !Stage.DRAFT.equals(lifecycle) || versionAuthor == null
                || !versionAuthor.startsWith("account:")) {
            return true;
        }
        return versionAuthor.equals(caller.principal());
    }

    /**
     * As {@link #draftContentVisible(Caller, String, String)} for the record {@code type/id}, and one exception,
     * explicit (issue 18 §4): a draft entered on behalf of someone (代行入力) is also theirs, the responsible person's,
     * while it waits for their approval: they read it, may change it and approve it (確定). Who is responsible comes
     * from the queue of proxy entries ({@link ProxyEntries}, written only after {@link #mayEnterFor} allowed it),
     * never from the body the entering person wrote; the body ({@code body}, the stored version's bytes) only spares
     * the queue a question for drafts that do not name the person at all.
     */
    public boolean draftContentVisible(Caller caller, String lifecycle, String versionAuthor, String type, String id,
                                       byte[] body) {
        if (draftContentVisible(caller, lifecycle, versionAuthor)) {
            return true;
        }
        return proxies != null && "Composition".equals(type) && id != null && body != null
                && new String(body, java.nio.charset.StandardCharsets.UTF_8).contains(caller.accountId().toString())
                && proxies.pendingResponsible(id).map(r -> r.equals(caller.accountId())).orElse(false);
    }

    private ProxyEntries proxies;

    /** The queue of proxy entries whose responsible people see the drafts entered for them; call at start-up. */
    public AccessPolicy proxies(ProxyEntries proxies) {
        this.proxies = proxies;
        return this;
    }

    /**
     * Whether the person holds {@link Action#PROXY_ENTRY} on the category of this type at all: what a page offers
     * (代行入力 on the chart); each entry is decided by {@link #mayEnterFor}.
     */
    public boolean mayEnterForSomeone(Caller caller, String type, Set<String> docCodings) {
        if (!caller.isPerson() || categories == null) {
            return false;
        }
        for (Category c : categoriesOf(new Subject(type, "*", Set.of(), docCodings, Set.of()))) {
            if (caller.person().need(c, Action.PROXY_ENTRY) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the person may enter a record of this type (and document type) on behalf of {@code responsible}, for
     * their approval (代行入力, issue 18 §4; DEGRADED-*: what was done on paper or by dictation is entered by someone
     * else and confirmed by the person responsible, STORE-9: the entering and the responsible person are both kept).
     * The one rule of who may enter for whom: the person holds {@link Action#PROXY_ENTRY} on the record's category,
     * the responsible person holds {@link Action#FINALIZE} on it, and they share a department (or ward) where both
     * are granted; a hospital-wide grant on either side meets any department of the other. Nobody enters for
     * themselves this way, and a responsible person without any role (retired, suspended) is nobody's. Whether the
     * person may write for the patient at all is decided, as for any write, when the record is created.
     */
    public boolean mayEnterFor(Caller caller, PersonContext responsible, String type, Set<String> docCodings) {
        if (!caller.isPerson() || responsible == null || categories == null
                || responsible.accountId().equals(caller.person().accountId())) {
            return false;
        }
        for (Category c : categoriesOf(new Subject(type, "*", Set.of(), docCodings, Set.of()))) {
            PersonContext.Need proxy = caller.person().need(c, Action.PROXY_ENTRY);
            PersonContext.Need fin = responsible.need(c, Action.FINALIZE);
            if (proxy == null || fin == null) {
                return false;
            }
            boolean shared = proxy.hospital() || fin.hospital();
            for (String d : proxy.departments()) {
                shared |= fin.departments().contains(d);
            }
            if (!shared) {
                return false;
            }
        }
        return true;
    }

    /**
     * The decisions of one search by {@code caller}, which reads on {@code c}: what is read about the encounter
     * relationships of the patients it meets serves every decision the search makes, with or without marking.
     */
    public SearchDecisions searchDecisions(Caller caller, java.sql.Connection c) {
        return new SearchDecisions(caller, c);
    }

    /**
     * The decisions of one search. Candidates are decided without marking ({@link #seen}); the rows the search
     * returns are decided again and marked when seen under break-glass ({@link #visible}). Encounter relationships
     * come from the person's context when it holds them; otherwise those of patients the person has no recorded care
     * relationship with are read at most once per search and patient, in one query per group of candidates, on the
     * search's own connection.
     */
    public final class SearchDecisions {
        private final Caller caller;
        private final Relations relations;

        private SearchDecisions(Caller caller, java.sql.Connection c) {
            this.caller = caller;
            this.relations = caller.isPerson() ? new Relations(caller, c) : null;
        }

        /**
         * For each of {@code page}, whether the caller may see it among search results, by the same decision as
         * {@link #visible}, without marking anything. All true for a system client.
         */
        public boolean[] seen(List<Subject> page) {
            boolean[] out = new boolean[page.size()];
            if (!caller.isPerson()) {
                java.util.Arrays.fill(out, true);
                return out;
            }
            prefetch(page);
            Set<Action> actions = EnumSet.of(Action.READ, Action.SEARCH);
            for (int i = 0; i < out.length; i++) {
                out[i] = decide(caller, page.get(i), actions, relations).permitted();
            }
            return out;
        }

        /** Whether the caller may see every one of {@code page} among search results, without marking anything. */
        public boolean allSeen(List<Subject> page) {
            for (boolean seen : seen(page)) {
                if (!seen) {
                    return false;
                }
            }
            return true;
        }

        /**
         * The subjects of {@code page} the caller may see among search results, in order; each seen under
         * break-glass is marked. All of them for a system client.
         */
        public List<Subject> visible(List<Subject> page) {
            if (!caller.isPerson()) {
                return page;
            }
            prefetch(page);
            List<Subject> out = new ArrayList<>(page.size());
            for (Subject s : page) {
                if (visibleInSearch(caller, s, relations)) {
                    out.add(s);
                }
            }
            return out;
        }

        private void prefetch(List<Subject> page) {
            Set<String> patients = new HashSet<>();
            page.forEach(s -> patients.addAll(s.patients()));
            relations.prefetch(patients);
        }
    }

    private boolean visibleInSearch(Caller caller, Subject s, Relations relations) {
        if (!caller.isPerson()) {
            return true;
        }
        Outcome o = decide(caller, s, EnumSet.of(Action.READ, Action.SEARCH), relations);
        if (!o.permitted()) {
            return false;
        }
        try {
            mark(caller, s, o, "search");
            return true;
        } catch (FhirError e) {
            return false;
        }
    }

    private static String message(Subject s, Outcome o) {
        return s.ref() + ": " + o.reason() + (o.breakGlass()
                ? " — 緊急時アクセス（ブレークグラス）を開始すれば閲覧できます / break-glass is available for this patient"
                : "");
    }

    private void mark(Caller caller, Subject s, Outcome o, String what) {
        for (UUID g : o.grants()) {
            try {
                breakGlass.markAccess(g, s.ref() + " " + what);
            } catch (BreakGlass.Refused e) {
                throw FhirError.forbidden(s.ref() + ": " + e.getMessage());
            }
        }
    }

    /** The categories of a resource: those its document type codings select, else the category of its type. */
    private Set<Category> categoriesOf(Subject s) {
        Set<Category> out = new LinkedHashSet<>();
        categories.docRules(s.type()).forEach((c, codings) -> {
            for (String coding : codings) {
                if (s.docCodings().contains(coding)) {
                    out.add(c);
                    break;
                }
            }
        });
        if (out.isEmpty()) {
            out.add(categories.resolve(s.type()));
        }
        return out;
    }

    /**
     * The encounter relationships of one request: from the person's context when it holds them (a context read by
     * {@link PersonContext#load}); else read at most once per patient, first for all the patients of a page at once
     * ({@link #prefetch}), else when a decision finds no recorded care relationship.
     */
    private final class Relations {
        private final PersonContext who;
        /** Where lookups read: a search's connection, or null for a connection of their own. */
        private final java.sql.Connection connection;
        private final Map<String, Set<String>> known = new HashMap<>();

        /** Reads on a connection of its own. */
        Relations(Caller caller) {
            this(caller, null);
        }

        /** Reads on {@code c} when given (a search's connection), else on a connection of its own. */
        Relations(Caller caller, java.sql.Connection c) {
            this.who = caller.person();
            this.connection = c;
        }

        boolean applies() {
            return encounters != null && who != null && !who.encounterPlaces().isEmpty();
        }

        void prefetch(Set<String> patients) {
            if (!applies() || who.holdsEncounters()) {
                return;
            }
            Set<String> wanted = new HashSet<>();
            for (String p : patients) {
                // Patients someone already cares for explicitly rarely need the encounter lookup.
                if (!known.containsKey(p) && !who.caresForAnywhere(p, now())) {
                    wanted.add(p);
                }
            }
            fetch(wanted);
        }

        Set<String> of(String patient) {
            if (!applies()) {
                return Set.of();
            }
            if (who.holdsEncounters()) {
                return who.encounterRelations(patient, now());
            }
            if (!known.containsKey(patient)) {
                fetch(Set.of(patient));
            }
            return known.get(patient);
        }

        private void fetch(Set<String> patients) {
            if (patients.isEmpty()) {
                return;
            }
            Map<String, Set<String>> found = encounters.places(who, patients, now(), connection);
            for (String p : patients) {
                known.put(p, found.getOrDefault(p, Set.of()));
            }
        }
    }

    private Outcome decide(Caller caller, Subject s, Set<Action> actions, Relations relations) {
        if (categories == null) {
            return new Outcome(false, personTypeGate(caller, s.type(), Scope.Permission.READ), false, Set.of());
        }
        String app = appRefusal(caller, s, actions);
        if (app != null) {
            return new Outcome(false, app, false, Set.of());
        }
        PersonContext who = caller.person();
        Instant now = now();
        Set<UUID> grants = new LinkedHashSet<>();
        for (Category c : categoriesOf(s)) {
            for (Action a : actions) {
                List<String> patients = new ArrayList<>(s.patients());
                if (!c.clinical() && !who.maintenance() && !who.partner() || patients.isEmpty()) {
                    patients = new ArrayList<>();
                    patients.add(null);
                }
                for (String p : patients) {
                    Decision d = access.decide(who, p, c, a, s.labels(), now);
                    if (!d.permitted() && d.breakGlass() && p != null && relations.applies()) {
                        d = access.decide(who, p, c, a, s.labels(), now, relations.of(p));
                    }
                    if (d.permitted()) {
                        continue;
                    }
                    if (d.breakGlass() && breakGlass != null && p != null) {
                        Optional<PersonContext.Glass> g = who.breakGlass(p, now);
                        if (g.isPresent()) {
                            grants.add(g.get().grantId());
                            continue;
                        }
                    }
                    return new Outcome(false, d.reason(), d.breakGlass(), Set.of());
                }
            }
        }
        return new Outcome(true, "permitted", false, grants);
    }

    /** The codes of every information category (for a context that reads all of them, e.g. maintenance). */
    public java.util.List<String> categoryCodes() {
        return categories == null ? java.util.List.of() : categories.all().stream().map(Category::code).toList();
    }

    /**
     * The SQL condition that keeps, in a search by a person, only rows they may read and search: the same
     * rules as {@link SearchDecisions#visible}, over the index tables ({@code sp_reference} patient/subject for the
     * patient, {@code sp_token} type for the document type and _security for labels). Null for system clients.
     */
    public RowFilter rowFilter(Caller caller) {
        if (!caller.isPerson()) {
            return null;
        }
        if (categories == null) {
            throw FhirError.forbidden(personTypeGate(caller, "Patient", Scope.Permission.SEARCH));
        }
        PersonContext who = caller.person();
        Instant now = now();
        // Active break-glass uses come with the person's context (a use started or ended changes its version).
        Set<String> emergency = breakGlass == null ? Set.of() : who.breakGlassPatients(now);
        Set<String> hidden = new HashSet<>(access.guardedLabels());
        hidden.removeAll(who.privileges());
        if (who.partner()) {
            hidden.clear(); // per share, in the partner's condition (allowed)
        }
        String[] hiddenLabels = hidden.toArray(String[]::new);
        RowFilter person = personFilter(who, emergency, hiddenLabels, now);
        if (!caller.throughApp()) {
            return person;
        }
        return (alias, type, args) -> {
            // The app's scopes, with the person's own filter: both, before paging and counting.
            Scope.Context reach = scopeReach(caller, type, Scope.Permission.SEARCH);
            if (reach == null || scopeReach(caller, type, Scope.Permission.READ) == null) {
                return "false";
            }
            String own = person.condition(alias, type, args);
            if (reach == Scope.Context.USER) {
                return own;
            }
            String patient = caller.app().patient();
            if (patient == null) {
                return "false";
            }
            args.add(new String[] {patient});
            return "(" + own + " AND " + hasPatient(alias) + " AND " + alias + ".patients <@ ?::text[])";
        };
    }

    /** The person's own row filter (without an app's scopes). */
    private RowFilter personFilter(PersonContext who, Set<String> emergency, String[] hiddenLabels, Instant now) {
        return (alias, type, args) -> {
            // The filter's SQL and arguments depend only on the context (a new one after any change of roles,
            // relationships or break-glass uses), the active uses, the alias and the type; only its times move.
            FilterKey key = new FilterKey(who, emergency, alias, type);
            BuiltFilter f = filters.get(key);
            if (f == null) {
                List<Object> template = new ArrayList<>();
                f = new BuiltFilter(buildFilter(who, emergency, hiddenLabels, alias, type, template),
                        List.copyOf(template));
                if (filters.size() >= MAX_CACHED_FILTERS) {
                    filters.clear();
                }
                filters.put(key, f);
            }
            for (Object a : f.args()) {
                args.add(a instanceof Ago ago ? jp.mamori.db.Timestamps.utcMicros(now.minus(ago.before())) : a);
            }
            return f.sql();
        };
    }

    /** A time argument of a cached filter: the request's time minus {@code before}. */
    record Ago(java.time.Duration before) {
    }

    /** Cache key; {@link PersonContext} compares by identity, so a changed context never finds an old filter. */
    private record FilterKey(PersonContext who, Set<String> emergency, String alias, String type) {
    }

    private record BuiltFilter(String sql, List<Object> args) {
    }

    private static final int MAX_CACHED_FILTERS = 4096;
    private final Map<FilterKey, BuiltFilter> filters = new java.util.concurrent.ConcurrentHashMap<>();

    private String buildFilter(PersonContext who, Set<String> emergency, String[] hiddenLabels, String alias,
                           String type, List<Object> args) {
        List<String> and = new ArrayList<>();
        Map<Category, Set<String>> rules = categories.docRules(type);
        Set<String> allDoc = new HashSet<>();
        rules.values().forEach(allDoc::addAll);
        for (Map.Entry<Category, Set<String>> e : rules.entrySet()) {
            String has = docTypeIn(alias, e.getValue(), args);
            and.add("(NOT " + has + " OR " + allowed(alias, type, e.getKey(), who, emergency, args) + ")");
        }
        if (rules.isEmpty()) {
            and.add(allowed(alias, type, categories.resolve(type), who, emergency, args));
        } else {
            // Rows with none of the document types above take the category of their type.
            String has = docTypeIn(alias, allDoc, args);
            and.add("(" + has + " OR " + allowed(alias, type, categories.resolve(type), who, emergency, args) + ")");
        }
        if (hiddenLabels.length > 0) {
            and.add("NOT (" + alias + ".labels && ?::text[])");
            args.add(hiddenLabels);
        }
        return "(" + String.join(" AND ", and) + ")";
    }

    private static String docTypeIn(String alias, Set<String> codings, List<Object> args) {
        args.add(codings.toArray(String[]::new));
        return alias + ".doc_codes && ?::text[]";
    }

    /**
     * Whether rows of {@code type} in category {@code c} are readable and searchable, as SQL over the columns the
     * record store keeps on each resource head ({@code patients}: the Patient's own id, or the patients it
     * belongs to), so that no index table is probed per row.
     */
    private String allowed(String alias, String type, Category c, PersonContext who, Set<String> emergency,
                                  List<Object> args) {
        if (who.maintenance()) {
            // a vendor's maintenance session (issue 19): rows of the work order's patients only, in every category
            for (Action a : EnumSet.of(Action.READ, Action.SEARCH)) {
                if (who.need(c, a) == null) {
                    return "false";
                }
            }
            args.add(who.maintenancePatients(now()).toArray(String[]::new));
            return "(" + hasPatient(alias) + " AND " + alias + ".patients <@ ?::text[])";
        }
        if (who.partner()) {
            return partnerRows(alias, c, who, args);
        }
        List<String> and = new ArrayList<>();
        List<Object> mine = new ArrayList<>();
        // READ and SEARCH usually need the same departments: one condition (and one id array) for both.
        Set<Set<String>> done = new HashSet<>();
        for (Action a : EnumSet.of(Action.READ, Action.SEARCH)) {
            PersonContext.Need need = who.need(c, a);
            if (need == null) {
                return "false";
            }
            if (!c.clinical()) {
                continue;
            }
            if (need.hospital()) {
                if (done.add(Set.of())) {
                    and.add(hasPatient(alias));
                }
                continue;
            }
            if (!done.add(Set.copyOf(need.departments()))) {
                continue;
            }
            // Nearly every row belongs to one patient: that case is decided on the column itself; rows of several
            // patients take the general form. Either way the relationship is looked up in the tables it lives in
            // (PostgreSQL turns each EXISTS into one hashed lookup per row), so the statement carries no list of
            // the person's patients, which made planning it cost more than running it.
            String one = alias + ".patients[1]";
            String single = related(one, who, need.departments(), emergency, mine);
            String several = "NOT EXISTS (SELECT 1 FROM unnest(" + alias + ".patients) pp(id) WHERE NOT "
                    + related("pp.id", who, need.departments(), emergency, mine) + ")";
            and.add("(CASE cardinality(" + alias + ".patients) WHEN 0 THEN false WHEN 1 THEN " + single + " ELSE ("
                    + several + ") END)");
        }
        args.addAll(mine);
        return and.isEmpty() ? "true" : "(" + String.join(" AND ", and) + ")";
    }

    /**
     * SQL: the person relates to patient {@code expr} within {@code departments}: a current care assignment there
     * (or without department), an active break-glass use, or a current or recent encounter there. The same rules
     * as {@link PersonContext#caresFor} and {@link EncounterRelations}.
     */
    private String related(String expr, PersonContext who, Set<String> departments, Set<String> emergency,
                                  List<Object> args) {
        args.add(who.accountId().toString());
        args.add(new Ago(java.time.Duration.ZERO));
        args.add(new Ago(java.time.Duration.ZERO));
        args.add(departments.toArray(String[]::new));
        String care = "EXISTS (SELECT 1 FROM care_assignment ca WHERE ca.account_id = ?::uuid AND ca.patient_id = "
                + expr + " AND ca.ended_at IS NULL AND ca.valid_from <= ?::timestamptz AND (ca.valid_to IS NULL"
                + " OR ca.valid_to > ?::timestamptz) AND (ca.department IS NULL OR ca.department = ANY(?::text[]))"
                // OFFSET 0 keeps this a lookup per row: a generic plan cannot tell that one person's assignments are
                // few, and hashing "all assignments of account $n" meant reading the whole table for every search.
                + " OFFSET 0)";
        String glass = "false";
        if (!emergency.isEmpty()) {
            args.add(emergency.toArray(String[]::new));
            glass = expr + " = ANY(?::text[])";
        }
        String stays = encounters == null ? "false" : encounters.sql(expr, who, departments, args);
        return "(" + care + " OR " + glass + " OR " + stays + ")";
    }

    /**
     * A partner clinician's rows of category {@code c} (issue 21, AUTH-11): rows whose every patient is shared with the
     * partner by a share in force at the request's time (read from the shares themselves, so that an end date passed
     * or a revocation counts at once) that includes the category and every guarded label the row carries.
     */
    private String partnerRows(String alias, Category c, PersonContext who, List<Object> args) {
        for (Action a : EnumSet.of(Action.READ, Action.SEARCH)) {
            if (who.need(c, a) == null) {
                return "false";
            }
        }
        args.add(who.accountId().toString());
        args.add(new Ago(java.time.Duration.ZERO));
        args.add(new Ago(java.time.Duration.ZERO));
        args.add(c.code());
        args.add(access.guardedLabels().toArray(String[]::new));
        return "(" + hasPatient(alias) + " AND NOT EXISTS (SELECT 1 FROM unnest(" + alias + ".patients) pp(id) WHERE"
                + " NOT EXISTS (SELECT 1 FROM partner_share ps WHERE ps.account_id = ?::uuid"
                + " AND ps.patient_id = pp.id AND ps.revoked_at IS NULL AND ps.starts_at <= ?::timestamptz"
                + " AND ps.ends_at > ?::timestamptz AND ?::text = ANY(ps.categories) AND NOT EXISTS (SELECT 1 FROM"
                + " unnest(" + alias + ".labels) l(x) WHERE l.x = ANY(?::text[]) AND NOT l.x = ANY(ps.labels)))))";
    }

    private static String hasPatient(String alias) {
        return "cardinality(" + alias + ".patients) > 0";
    }

    private Instant now() {
        return clock.instant();
    }

    // ---- a person acting through an app (SMART on FHIR, issue 21): the granted scopes restrict the person

    /** The permission of an app's scopes an action needs; null for actions no scope grants (export, print...). */
    private static Scope.Permission permissionOf(Action a) {
        return switch (a) {
            case READ -> Scope.Permission.READ;
            case SEARCH -> Scope.Permission.SEARCH;
            case CREATE -> Scope.Permission.CREATE;
            case UPDATE, FINALIZE, AMEND -> Scope.Permission.UPDATE;
            case ENTER_IN_ERROR -> Scope.Permission.DELETE;
            default -> null;
        };
    }

    /**
     * How the app's scopes allow {@code p} on {@code type}: by a {@code user/} scope ({@link Scope.Context#USER}),
     * only by {@code patient/} scopes ({@link Scope.Context#PATIENT}: confined to the launch patient), or not (null).
     */
    private static Scope.Context scopeReach(Caller caller, String type, Scope.Permission p) {
        Scope.Context reach = null;
        for (Scope s : caller.scopes()) {
            if (s.allows(type, p)) {
                if (s.context() == Scope.Context.USER) {
                    return Scope.Context.USER;
                }
                reach = Scope.Context.PATIENT;
            }
        }
        return reach;
    }

    private static String scopeRefusal(String type, Scope.Permission p) {
        return "アプリに許可された範囲外の操作です / The app was not granted " + p.name().toLowerCase(java.util.Locale.ROOT)
                + " on " + ("*".equals(type) ? "every resource type" : type) + " (scope user/" + type + "." + letter(p)
                + " or patient/" + type + "." + letter(p) + ")";
    }

    /** Null when the app's scopes allow {@code actions} on this resource (or there is no app); else why not. */
    private static String appRefusal(Caller caller, Subject s, Set<Action> actions) {
        if (!caller.throughApp()) {
            return null;
        }
        for (Action a : actions) {
            Scope.Permission p = permissionOf(a);
            if (p == null) {
                return s.ref() + ": アプリからは行えない操作です / " + a.code + " is not available through an app";
            }
            Scope.Context reach = scopeReach(caller, s.type(), p);
            if (reach == null) {
                return s.ref() + ": " + scopeRefusal(s.type(), p);
            }
            String patient = caller.app().patient();
            if (reach == Scope.Context.PATIENT && (patient == null || s.patients().isEmpty()
                    || !s.patients().stream().allMatch(patient::equals))) {
                return s.ref() + ": アプリの対象患者以外の記録です / The app's patient/ scopes reach only the patient of"
                        + " its launch context";
            }
        }
        return null;
    }

    private static char letter(Scope.Permission p) {
        return switch (p) {
            case CREATE -> 'c';
            case READ -> 'r';
            case UPDATE -> 'u';
            case DELETE -> 'd';
            case SEARCH -> 's';
        };
    }
}
