package jp.mamori.access;

import jp.mamori.db.Tx;
import jp.mamori.identity.People;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import jp.mamori.identity.Scope;

/**
 * Everything {@link PersonAccess#decide} needs about one person, read once (three queries) and kept while their
 * access version stays the same ({@link PersonContexts}), so that each decision afterwards is in memory: the roles
 * they hold (approved, not revoked) with department, scope and permissions; their sensitivity privileges; their
 * current care assignments and break-glass uses; and the current and recent encounters of the departments and
 * wards where they hold a clinical role.
 *
 * <p>At construction the roles are folded into one table per (category, action): whether some role grants it
 * with hospital scope, and otherwise the departments in which a role grants it. A second table counts only
 * roles that may hold clinical content, so that system administrators, auditors and clerks never reach
 * clinical categories whatever permission rows exist.
 */
public final class PersonContext {
    /** A role held in one department (or ward), with the permissions of the role. */
    public record HeldRole(String role, String department, Scope scope, boolean clinicalContent,
                           Map<String, Set<Action>> permissions, int recentEncounterDays) {
        public HeldRole {
            permissions = Map.copyOf(permissions);
        }

        /** With the default 30 days of relationship after an encounter in the department ends. */
        public HeldRole(String role, String department, Scope scope, boolean clinicalContent,
                        Map<String, Set<Action>> permissions) {
            this(role, department, scope, clinicalContent, permissions, 30);
        }
    }

    /** How far a role's clinical reach extends: the department (or ward) it is held in, or the whole hospital. */
    public enum Scope {
        DEPARTMENT("department"), WARD("ward"), HOSPITAL("hospital");

        public final String code;

        Scope(String code) {
            this.code = code;
        }

        public static Scope of(String code) {
            for (Scope s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown scope " + code);
        }
    }

    /**
     * One current care assignment; {@code department} null means a personal assignment valid in every
     * department; {@code validTo} null means open-ended.
     */
    public record Care(String department, Instant validFrom, Instant validTo) {
        boolean validAt(Instant t) {
            return !t.isBefore(validFrom) && (validTo == null || t.isBefore(validTo));
        }
    }

    /** An active break-glass use for one patient, until it expires (or ends early: the version changes then). */
    public record Glass(UUID grantId, String patientId, Instant expiresAt) {
    }

    /** A current encounter ({@code ends} null) or one that ended, in one of the person's departments or wards. */
    public record Stay(String place, Instant ends) {
    }

    /**
     * One active share of a patient with a partner clinician (issue 21, AUTH-11; {@link PartnerShares}): from
     * {@code from} until {@code until}, the information categories and the sensitivity labels it shares.
     */
    public record Share(UUID id, long number, String patientId, Set<String> categories, Set<String> labels,
                        Instant from, Instant until) {
        public Share {
            categories = Set.copyOf(categories);
            labels = Set.copyOf(labels);
        }

        /** Whether the share is in force at {@code now}: started, and its end date not reached. */
        public boolean activeAt(Instant now) {
            return !now.isBefore(from) && now.isBefore(until);
        }
    }

    /** Where (category, action) is granted: everywhere, or in these departments. */
    record Need(boolean hospital, Set<String> departments) {
    }

    /**
     * The departments and wards where the person holds a clinical role with department or ward scope, each with
     * the longest time after an encounter there ends during which the encounter still relates them to its
     * patient.
     */
    private final Map<String, Duration> encounterPlaces;

    private final UUID accountId;
    private final List<HeldRole> roles;
    private final Set<String> privileges;
    private final Map<String, List<Care>> care;
    private final Map<String, Need[]> any;
    private final Map<String, Need[]> clinical;

    private final List<Glass> glass;
    /** The work order of a maintenance context ({@link #forMaintenance}); null for everyone else. */
    private final String workOrder;
    private final Set<String> maintenancePatients;
    private final Instant maintenanceUntil;
    /** Per patient, the shares of a partner clinician's context ({@link #forPartner}); null for everyone else. */
    private final Map<String, List<Share>> partnerShares;
    /** The partner's institution as the audit names it; null for everyone else. */
    private final String partnerInstitution;
    /** Per patient, the encounters of the person's places as read with the context; null when not read. */
    private final Map<String, List<Stay>> stays;

    public PersonContext(UUID accountId, List<HeldRole> roles, Set<String> privileges, Map<String, List<Care>> care) {
        this(accountId, roles, privileges, care, List.of());
    }

    /** Without the encounters of the person's places: decisions look them up ({@link EncounterRelations}). */
    public PersonContext(UUID accountId, List<HeldRole> roles, Set<String> privileges, Map<String, List<Care>> care,
                         List<Glass> glass) {
        this(accountId, roles, privileges, care, glass, null);
    }

    /**
     * With {@code stays}, the current and recent encounters (per patient) of every place in
     * {@link #encounterPlaces}, as read together with the rest: decisions then read them here.
     */
    public PersonContext(UUID accountId, List<HeldRole> roles, Set<String> privileges, Map<String, List<Care>> care,
                         List<Glass> glass, Map<String, List<Stay>> stays) {
        this(accountId, roles, privileges, care, glass, stays, null, Set.of(), null);
    }

    /**
     * A vendor's maintenance session inside the window of a work order that approved patient data (issue 19; MAINT-2,
     * MAINT-8, ACCESS-6): it reads and searches the approved patients' records, of every category its role lists,
     * until the window's end, and nothing of anyone else: not even demographics, which other roles search hospital-wide.
     * No care relationship, no break-glass, no privileges (sensitivity labels stay hidden), no writes.
     *
     * @param patients   the approved patients' ids (as the record store names them)
     * @param categories the categories the maintenance role reads (e.g. every category)
     * @param print      whether the work order approved taking data out: printouts of those patients' records too
     */
    public static PersonContext forMaintenance(UUID accountId, String workOrder, Set<String> patients, Instant until,
                                               java.util.Collection<String> categories, boolean print) {
        Map<String, Set<Action>> permissions = new HashMap<>();
        for (String c : categories) {
            permissions.put(c, print ? EnumSet.of(Action.READ, Action.SEARCH, Action.PRINT)
                    : EnumSet.of(Action.READ, Action.SEARCH));
        }
        HeldRole role = new HeldRole("maintenance", "maintenance:" + workOrder, Scope.DEPARTMENT, true, permissions, 0);
        return new PersonContext(accountId, List.of(role), Set.of(), Map.of(), List.of(), Map.of(), workOrder,
                patients, until);
    }

    /**
     * A partner clinician of another institution (連携先医療者; issue 21, AUTH-11, ACCESS-1): it reads and searches the
     * patients shared with it, each only in the categories (and sensitivity labels) of its share and only while the
     * share is in force, and nothing of anyone else, not even demographics. No role of its own (the one held role
     * stands for the shares, in the institution's name, so that the audit shows where the partner works), no care
     * relationship, no break-glass, no privileges, no writes, no printouts.
     *
     * @param institution the partner's institution, as the audit entries name it
     * @param shares      the partner's shares not revoked and not ended when the context is read
     */
    public static PersonContext forPartner(UUID accountId, String institution, List<Share> shares) {
        Map<String, Set<Action>> permissions = new HashMap<>();
        Map<String, List<Share>> byPatient = new HashMap<>();
        for (Share sh : shares) {
            for (String c : sh.categories()) {
                permissions.put(c, EnumSet.of(Action.READ, Action.SEARCH));
            }
            byPatient.computeIfAbsent(sh.patientId(), k -> new ArrayList<>()).add(sh);
        }
        HeldRole role = new HeldRole(PartnerShares.ROLE, institution, Scope.DEPARTMENT, true, permissions, 0);
        return new PersonContext(accountId, List.of(role), Set.of(), Map.of(), List.of(), Map.of(), null, Set.of(),
                null, byPatient, institution);
    }

    private PersonContext(UUID accountId, List<HeldRole> roles, Set<String> privileges, Map<String, List<Care>> care,
                          List<Glass> glass, Map<String, List<Stay>> stays, String workOrder,
                          Set<String> maintenancePatients, Instant maintenanceUntil) {
        this(accountId, roles, privileges, care, glass, stays, workOrder, maintenancePatients, maintenanceUntil, null,
                null);
    }

    private PersonContext(UUID accountId, List<HeldRole> roles, Set<String> privileges, Map<String, List<Care>> care,
                          List<Glass> glass, Map<String, List<Stay>> stays, String workOrder,
                          Set<String> maintenancePatients, Instant maintenanceUntil,
                          Map<String, List<Share>> partnerShares, String partnerInstitution) {
        if (partnerShares == null) {
            this.partnerShares = null;
        } else {
            Map<String, List<Share>> ps = new HashMap<>();
            partnerShares.forEach((k, v) -> ps.put(k, List.copyOf(v)));
            this.partnerShares = ps;
        }
        this.partnerInstitution = partnerInstitution;
        this.workOrder = workOrder;
        this.maintenancePatients = Set.copyOf(maintenancePatients);
        this.maintenanceUntil = maintenanceUntil;
        this.accountId = accountId;
        if (stays == null) {
            this.stays = null;
        } else {
            Map<String, List<Stay>> st = new HashMap<>();
            stays.forEach((k, v) -> st.put(k, List.copyOf(v)));
            this.stays = st;
        }
        this.glass = List.copyOf(glass);
        this.roles = List.copyOf(roles);
        this.privileges = Set.copyOf(privileges);
        Map<String, List<Care>> c = new HashMap<>();
        care.forEach((k, v) -> c.put(k, List.copyOf(v)));
        this.care = c;
        this.any = fold(this.roles, false);
        this.clinical = fold(this.roles, true);
        // a partner's one held role stands for its shares: no department's encounters relate it to anyone
        this.encounterPlaces = partnerShares == null ? placesOf(this.roles) : Map.of();
    }

    /** The places where clinical roles of department or ward scope are held, each with its longest time after. */
    private static Map<String, Duration> placesOf(List<HeldRole> roles) {
        Map<String, Duration> places = new HashMap<>();
        for (HeldRole r : roles) {
            if (r.clinicalContent() && r.scope() != Scope.HOSPITAL) {
                places.merge(r.department(), Duration.ofDays(r.recentEncounterDays()),
                        (a, b) -> a.compareTo(b) >= 0 ? a : b);
            }
        }
        return Map.copyOf(places);
    }

    private static Map<String, Need[]> fold(List<HeldRole> roles, boolean clinicalOnly) {
        Map<String, boolean[]> hospital = new HashMap<>();
        Map<String, List<Set<String>>> departments = new HashMap<>();
        int n = Action.values().length;
        for (HeldRole r : roles) {
            if (clinicalOnly && !r.clinicalContent()) {
                continue;
            }
            for (Map.Entry<String, Set<Action>> e : r.permissions().entrySet()) {
                boolean[] h = hospital.computeIfAbsent(e.getKey(), k -> new boolean[n]);
                List<Set<String>> d = departments.computeIfAbsent(e.getKey(), k -> {
                    List<Set<String>> l = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        l.add(null);
                    }
                    return l;
                });
                for (Action a : e.getValue()) {
                    int i = a.ordinal();
                    if (r.scope() == Scope.HOSPITAL) {
                        h[i] = true;
                    } else {
                        if (d.get(i) == null) {
                            d.set(i, new HashSet<>());
                        }
                        d.get(i).add(r.department());
                    }
                }
            }
        }
        Map<String, Need[]> out = new HashMap<>();
        for (String category : hospital.keySet()) {
            boolean[] h = hospital.get(category);
            List<Set<String>> d = departments.get(category);
            Need[] needs = new Need[n];
            for (int i = 0; i < n; i++) {
                if (h[i] || d.get(i) != null) {
                    needs[i] = new Need(h[i], d.get(i) == null ? Set.of() : Set.copyOf(d.get(i)));
                }
            }
            out.put(category, needs);
        }
        return out;
    }

    /**
     * Reads a person's roles, privileges and care assignments current at {@code now}; with {@code encounters}, also
     * the encounters of the person's places ({@link #holdsEncounters}), else decisions look those up.
     */
    public static PersonContext load(DataSource ds, UUID accountId, Instant now, EncounterStays encounters) {
        return Tx.read(ds, c -> {
            Map<String, HeldRole> roles = new LinkedHashMap<>();
            Map<String, Map<String, Set<Action>>> perms = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT ra.role, ra.department, ra.scope,"
                    + " r.clinical_content, rp.category, rp.action, r.recent_encounter_days FROM role_assignment ra"
                    + " JOIN role r ON r.code = ra.role"
                    + " LEFT JOIN role_permission rp ON rp.role = ra.role"
                    + " WHERE ra.account_id = ? AND ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String key = rs.getString(1) + '\u0000' + rs.getString(2);
                        Map<String, Set<Action>> p = perms.computeIfAbsent(key, k -> new HashMap<>());
                        roles.putIfAbsent(key, new HeldRole(rs.getString(1), rs.getString(2), Scope.of(rs.getString(3)),
                                rs.getBoolean(4), Map.of(), rs.getInt(7)));
                        if (rs.getString(5) != null) {
                            p.computeIfAbsent(rs.getString(5), k -> EnumSet.noneOf(Action.class)).add(Action.of(rs.getString(6)));
                        }
                    }
                }
            }
            // Roles count only while the account is active, as identity's ledger says: one lookup by key, and
            // only for a person who holds roles.
            if (!roles.isEmpty() && !People.of(c, accountId).map(People.Person::active).orElse(false)) {
                roles.clear();
            }
            List<HeldRole> held = new ArrayList<>();
            roles.forEach((k, r) -> held.add(new HeldRole(r.role(), r.department(), r.scope(), r.clinicalContent(),
                    perms.get(k), r.recentEncounterDays())));
            Set<String> privileges = new HashSet<>();
            Map<String, List<Care>> care = new HashMap<>();
            List<Glass> glass = new ArrayList<>();
            List<Share> shares = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 'c', patient_id, department, valid_from, valid_to FROM care_assignment"
                    + " WHERE account_id = ? AND ended_at IS NULL AND (valid_to IS NULL OR valid_to > ?)"
                    + " UNION ALL SELECT 'p', label, NULL, NULL, NULL FROM sensitivity_privilege"
                    + " WHERE account_id = ? AND approved_at IS NOT NULL AND revoked_at IS NULL"
                    + " UNION ALL SELECT 'g', patient_id, break_glass_id::text, started_at, expires_at FROM break_glass"
                    + " WHERE account_id = ? AND ended_at IS NULL AND expires_at > ?"
                    // a partner clinician's shares in force or still to start (V37; issue 21): only partners have any
                    + " UNION ALL SELECT 's', patient_id, share_id::text || '|' || share_no || '|'"
                    + " || array_to_string(categories, ',') || '|' || array_to_string(labels, ','), starts_at, ends_at"
                    + " FROM partner_share WHERE account_id = ? AND revoked_at IS NULL AND ends_at > ?")) {
                ps.setObject(1, accountId);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, accountId);
                ps.setObject(4, accountId);
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setObject(6, accountId);
                ps.setTimestamp(7, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if ("s".equals(rs.getString(1))) {
                            String[] f = rs.getString(3).split("\\|", -1);
                            shares.add(new Share(UUID.fromString(f[0]), Long.parseLong(f[1]), rs.getString(2),
                                    f[2].isEmpty() ? Set.of() : Set.copyOf(List.of(f[2].split(","))),
                                    f[3].isEmpty() ? Set.of() : Set.copyOf(List.of(f[3].split(","))),
                                    rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
                        } else if ("p".equals(rs.getString(1))) {
                            privileges.add(rs.getString(2));
                        } else if ("g".equals(rs.getString(1))) {
                            glass.add(new Glass(UUID.fromString(rs.getString(3)), rs.getString(2),
                                    rs.getTimestamp(5).toInstant()));
                        } else {
                            Timestamp to = rs.getTimestamp(5);
                            care.computeIfAbsent(rs.getString(2), k -> new ArrayList<>()).add(new Care(rs.getString(3),
                                    rs.getTimestamp(4).toInstant(), to == null ? null : to.toInstant()));
                        }
                    }
                }
            }
            // A partner clinician of another institution (issue 21): its shares and nothing else. Asked of people
            // without roles only (partners never hold one), so staff pay nothing for it.
            if (held.isEmpty()) {
                java.util.Optional<jp.mamori.identity.PartnerInstitutions.Institution> institution =
                        jp.mamori.identity.PartnerInstitutions.of(c, accountId);
                if (institution.isPresent()) {
                    // shares count only while the partner's account is active, as roles do for staff
                    boolean active = People.of(c, accountId).map(People.Person::active).orElse(false);
                    return forPartner(accountId, institution.get().label(), active ? shares : List.of());
                }
            }
            // The encounters of the person's places that may still relate them to a patient (V13 moves the person's
            // access version when any of them changes). Kept per patient and place: open, or the latest end.
            Map<String, List<Stay>> stays = null;
            Map<String, Duration> places = placesOf(held);
            if (encounters != null) {
                stays = new HashMap<>();
                if (!places.isEmpty()) {
                    Duration longest = places.values().stream().max(Duration::compareTo).orElseThrow();
                    for (EncounterStays.Stay st : encounters.stays(c, places.keySet(), now.minus(longest))) {
                        stays.computeIfAbsent(st.patientId(), k -> new ArrayList<>()).add(new Stay(st.place(), st.ends()));
                    }
                }
            }
            return new PersonContext(accountId, held, privileges, care, glass, stays);
        });
    }

    /**
     * Whether the encounters of the person's places came with the context ({@link #load}); else a decision looks
     * them up.
     */
    boolean holdsEncounters() {
        return stays != null;
    }

    /**
     * The places among {@link #encounterPlaces} where the patient has, at {@code now}, a current encounter or one
     * that ended within the place's time: what {@link EncounterRelations} reads, from the context. Only when
     * {@link #holdsEncounters}.
     */
    Set<String> encounterRelations(String patientId, Instant now) {
        List<Stay> list = stays.get(patientId);
        if (list == null) {
            return Set.of();
        }
        Set<String> out = new HashSet<>();
        for (Stay st : list) {
            Duration keep = encounterPlaces.get(st.place());
            if (keep != null && (st.ends() == null || st.ends().isAfter(now.minus(keep)))) {
                out.add(st.place());
            }
        }
        return out;
    }

    public UUID accountId() {
        return accountId;
    }

    public List<HeldRole> roles() {
        return roles;
    }

    public Set<String> privileges() {
        return privileges;
    }

    /** The active break-glass use for the patient at {@code now}, if any. */
    public java.util.Optional<Glass> breakGlass(String patientId, Instant now) {
        for (Glass g : glass) {
            if (g.patientId().equals(patientId) && g.expiresAt().isAfter(now)) {
                return java.util.Optional.of(g);
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether a maintenance context may print (its work order approved taking data out); true for everyone else. */
    public boolean maintenancePrints() {
        return workOrder == null || roles.stream().anyMatch(r -> r.permissions().values().stream()
                .anyMatch(a -> a.contains(Action.PRINT)));
    }

    /** Whether this is a partner clinician's context ({@link #forPartner}). */
    public boolean partner() {
        return partnerShares != null;
    }

    /** The institution of a partner clinician's context, as the audit names it; null for everyone else. */
    public String partnerInstitution() {
        return partnerInstitution;
    }

    /**
     * The share in force at {@code now} that lets this partner see {@code category} of the patient, if any (the one
     * ending last when several do); always empty for anyone but a partner.
     */
    public java.util.Optional<Share> partnerShare(String patientId, String category, Instant now) {
        if (partnerShares == null || patientId == null) {
            return java.util.Optional.empty();
        }
        Share best = null;
        for (Share sh : partnerShares.getOrDefault(patientId, List.of())) {
            if (sh.activeAt(now) && sh.categories().contains(category)
                    && (best == null || sh.until().isAfter(best.until()))) {
                best = sh;
            }
        }
        return java.util.Optional.ofNullable(best);
    }

    /** A partner's shares in force at {@code now}, ending soonest first; empty for anyone but a partner. */
    public List<Share> partnerShares(Instant now) {
        if (partnerShares == null) {
            return List.of();
        }
        List<Share> out = new ArrayList<>();
        partnerShares.values().forEach(l -> l.stream().filter(sh -> sh.activeAt(now)).forEach(out::add));
        out.sort(java.util.Comparator.comparing(Share::until).thenComparing(Share::number));
        return out;
    }

    /** Whether this is a vendor's maintenance context ({@link #forMaintenance}). */
    public boolean maintenance() {
        return workOrder != null;
    }

    /** The approved patients of a maintenance context while its window lasts; empty otherwise. */
    public Set<String> maintenancePatients(Instant now) {
        return workOrder != null && maintenanceUntil.isAfter(now) ? maintenancePatients : Set.of();
    }

    /** The patients with an active break-glass use at {@code now}. */
    public Set<String> breakGlassPatients(Instant now) {
        Set<String> out = new HashSet<>();
        for (Glass g : glass) {
            if (g.expiresAt().isAfter(now)) {
                out.add(g.patientId());
            }
        }
        return out;
    }

    /** Departments and wards whose encounters may relate the person to a patient, with how long after they end. */
    public Map<String, Duration> encounterPlaces() {
        return encounterPlaces;
    }

    Need need(Category category, Action action) {
        Need[] needs = (category.clinical() ? clinical : any).get(category.code());
        return needs == null ? null : needs[action.ordinal()];
    }

    /** Whether a care assignment for the patient, valid at {@code now}, lies in one of {@code departments}. */
    boolean caresFor(String patientId, Set<String> departments, Instant now) {
        List<Care> list = care.get(patientId);
        if (list == null) {
            return false;
        }
        for (Care c : list) {
            if (c.validAt(now) && (c.department() == null || departments.contains(c.department()))) {
                return true;
            }
        }
        return false;
    }

    /** Whether some care assignment for the patient, in any department, is valid at {@code now}. */
    boolean caresForAnywhere(String patientId, Instant now) {
        List<Care> list = care.get(patientId);
        if (list != null) {
            for (Care c : list) {
                if (c.validAt(now)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The patients with a care assignment of this person valid at {@code now}, in no particular order: the
     * worklist's "my patients" (what the person may see of each is still decided per request).
     */
    public Set<String> caredPatients(Instant now) {
        Set<String> out = new HashSet<>();
        care.forEach((patient, list) -> {
            if (caresForAnywhere(patient, now)) {
                out.add(patient);
            }
        });
        return out;
    }

    /** Whether some role grants (category, action) when roles without clinical content are counted too. */
    boolean grantedByNonClinicalRoleOnly(Category category, Action action) {
        Need[] n = any.get(category.code());
        return n != null && n[action.ordinal()] != null;
    }
}
