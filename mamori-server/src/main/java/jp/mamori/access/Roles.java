package jp.mamori.access;

import com.fasterxml.jackson.databind.node.ArrayNode;
import jp.mamori.db.Tx;
import jp.mamori.identity.People;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Roles, their permissions, and who holds them in which department (ACCESS-1, ACCESS-2, ACCESS-4, ACCESS-5).
 * Only administrators change them, and every change is written to {@code access_change} with the acting
 * principal in the same transaction.
 *
 * <p>Four eyes: assigning a role with clinical content to oneself, or assigning account_admin or
 * system_admin to anyone, creates a pending assignment that gives nothing until a different administrator
 * (neither the granter nor the grantee) approves it. The one exception is a clinic with a single active
 * administrator: that administrator may approve the administrator rights they requested for someone else
 * ({@link #approve}); the approval is marked sole_admin and stays a deviation until a third administrator
 * confirms it ({@link #confirm}).
 */
public final class Roles {
    private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{1,40}");

    public record Role(String code, String nameJa, String nameEn, boolean builtin, boolean clinicalContent,
                       PersonContext.Scope defaultScope, Map<String, Set<Action>> permissions) {
    }

    public record Assignment(UUID id, UUID accountId, String role, String department, PersonContext.Scope scope,
                             boolean fourEyes, UUID grantedBy, Instant grantedAt, UUID approvedBy, Instant approvedAt,
                             Instant revokedAt, UUID revokedBy, boolean soleAdmin, UUID confirmedBy,
                             Instant confirmedAt) {
        public boolean pending() {
            return approvedAt == null && revokedAt == null;
        }

        public boolean inForce() {
            return approvedAt != null && revokedAt == null;
        }

        /** Approved by a sole administrator for themself-requested administrator rights, not yet confirmed. */
        public boolean awaitingConfirmation() {
            return soleAdmin && confirmedAt == null && revokedAt == null;
        }
    }

    private final DataSource ds;
    private final Clock clock;

    public Roles(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    // ---- roles and permissions ----------------------------------------------------------------------------

    public List<Role> list() {
        return Tx.read(ds, c -> {
            Map<String, Role> roles = new LinkedHashMap<>();
            Map<String, Map<String, Set<Action>>> perms = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT r.code, r.name_ja, r.name_en, r.builtin,"
                    + " r.clinical_content, r.default_scope, p.category, p.action FROM role r"
                    + " LEFT JOIN role_permission p ON p.role = r.code ORDER BY r.builtin DESC, r.code");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String code = rs.getString(1);
                    Map<String, Set<Action>> p = perms.computeIfAbsent(code, k -> new TreeMap<>());
                    roles.putIfAbsent(code, new Role(code, rs.getString(2), rs.getString(3), rs.getBoolean(4),
                            rs.getBoolean(5), PersonContext.Scope.of(rs.getString(6)), p));
                    if (rs.getString(7) != null) {
                        p.computeIfAbsent(rs.getString(7), k -> EnumSet.noneOf(Action.class)).add(Action.of(rs.getString(8)));
                    }
                }
            }
            return List.copyOf(roles.values());
        });
    }

    public Role get(String code) {
        return list().stream().filter(r -> r.code().equals(code)).findFirst()
                .orElseThrow(() -> new AccessException("役割「" + code + "」はありません / No role " + code));
    }

    /** Adds an institution's own role (not builtin); its permissions are set with {@link #setPermissions}. */
    public void createRole(UUID actor, String code, String nameJa, String nameEn, boolean clinicalContent,
                           PersonContext.Scope defaultScope) {
        if (code == null || !CODE.matcher(code).matches()) {
            throw new AccessException("役割コードは半角英小文字・数字・_ で2〜41文字です / A role code is 2 to 41 characters a-z, 0-9, _");
        }
        if (nameJa == null || nameJa.isBlank() || nameEn == null || nameEn.isBlank()
                || nameJa.length() > 100 || nameEn.length() > 100) {
            throw new AccessException("役割名（日本語・英語）を入力してください / Enter the role's names in Japanese and English");
        }
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO role (code, name_ja, name_en, builtin,"
                    + " clinical_content, default_scope, created_at, created_by) VALUES (?, ?, ?, false, ?, ?, ?, ?)"
                    + " ON CONFLICT (code) DO NOTHING")) {
                ps.setString(1, code);
                ps.setString(2, nameJa.strip());
                ps.setString(3, nameEn.strip());
                ps.setBoolean(4, clinicalContent);
                ps.setString(5, defaultScope.code);
                ps.setTimestamp(6, Timestamp.from(now));
                ps.setString(7, by);
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("役割「" + code + "」は既にあります / The role " + code + " already exists");
                }
            }
            AccessLedger.record(c, now, by, "role.created", "role:" + code, AccessLedger.detail()
                    .put("nameJa", nameJa).put("nameEn", nameEn).put("clinicalContent", clinicalContent)
                    .put("defaultScope", defaultScope.code));
            return null;
        });
    }

    /**
     * Replaces a role's permissions. A role without clinical content is refused clinical categories (the
     * database refuses them too). An administrator cannot change a clinical role they hold themselves.
     */
    public void setPermissions(UUID actor, String role, Map<String, Set<Action>> permissions) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            boolean clinicalContent = roleRow(c, role).clinicalContent();
            if (clinicalContent) {
                // Otherwise a self-granted clinical role, once approved, could be widened without four eyes.
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM role_assignment WHERE account_id = ?"
                        + " AND role = ? AND revoked_at IS NULL LIMIT 1")) {
                    ps.setObject(1, actor);
                    ps.setString(2, role);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            throw new AccessException("自分が持つ診療系の役割の権限は、別の管理者が変更します / The permissions"
                                    + " of a clinical role you hold yourself are changed by a different administrator");
                        }
                    }
                }
            }
            Map<String, Boolean> clinical = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT code, clinical FROM information_category");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    clinical.put(rs.getString(1), rs.getBoolean(2));
                }
            }
            ArrayNode list = AccessLedger.JSON.createArrayNode();
            for (Map.Entry<String, Set<Action>> e : new TreeMap<>(permissions).entrySet()) {
                Boolean isClinical = clinical.get(e.getKey());
                if (isClinical == null) {
                    throw new AccessException("情報区分「" + e.getKey() + "」はありません / No information category " + e.getKey());
                }
                if (isClinical && !clinicalContent && !e.getValue().isEmpty()) {
                    throw new AccessException("役割「" + role + "」は診療情報を扱えません / The role " + role
                            + " may not hold clinical content (" + e.getKey() + ")");
                }
                EnumSet<Action> actions = EnumSet.noneOf(Action.class);
                actions.addAll(e.getValue());
                for (Action a : actions) {
                    list.add(e.getKey() + ":" + a.code);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM role_permission WHERE role = ?")) {
                ps.setString(1, role);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO role_permission (role, category, action) VALUES (?, ?, ?)")) {
                for (var n : list) {
                    String[] ca = n.asText().split(":");
                    ps.setString(1, role);
                    ps.setString(2, ca[0]);
                    ps.setString(3, ca[1]);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            var d = AccessLedger.detail();
            d.set("permissions", list);
            AccessLedger.record(c, now, by, "role.permissions_set", "role:" + role, d);
            return null;
        });
    }

    // ---- assignments --------------------------------------------------------------------------------------

    /**
     * Assigns {@code role} to an account in a department, with the given scope (null: the role's default).
     * Returns the assignment, which is pending when four eyes apply.
     */
    public Assignment assign(UUID actor, UUID account, String role, String department, PersonContext.Scope scope) {
        checkDepartment(department);
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            return load(c, assignIn(c, by, actor, account, role, department, scope, now, null));
        });
    }

    /**
     * What a new account gets when an administrator creates it, in one transaction: the default roles of each
     * of its qualifications ({@link #defaultRolesFor}) in each of its departments, and, when asked for on the
     * form, account_admin (pending until a second administrator approves; see {@link #approve}). The
     * granter is the creating administrator, so a clinical default role is not a self-grant; administrator
     * roles (system_admin as the default of システム管理者 too) wait for four eyes as always. Returns the
     * assignments made or requested.
     */
    public List<Assignment> assignAtCreation(UUID actor, UUID account, List<String> qualifications,
                                             List<String> departments, boolean administrator) {
        return Tx.inTransaction(ds, c -> assignAtCreation(c, actor, account, qualifications, departments, administrator));
    }

    /**
     * As {@link #assignAtCreation(UUID, UUID, List, List, boolean)}, inside the caller's transaction: the one
     * that creates the account, so that an account never exists without the roles it was created with.
     */
    public List<Assignment> assignAtCreation(Connection c, UUID actor, UUID account, List<String> qualifications,
                                             List<String> departments, boolean administrator) throws SQLException {
        List<String> depts = new ArrayList<>();
        for (String d : departments == null ? List.<String>of() : departments) {
            if (d != null && !d.isBlank() && !depts.contains(d.strip())) {
                depts.add(d.strip());
            }
        }
        Instant now = now();
        String by = AccessLedger.requireAdministrator(c, actor);
        List<UUID> ids = new ArrayList<>();
        java.util.Set<String> given = new java.util.HashSet<>();
        for (String q : qualifications == null ? List.<String>of() : qualifications) {
            for (String role : defaultRolesFor(c, q)) {
                for (String d : depts) {
                    checkDepartment(d);
                    if (given.add(role + "|" + d)) {
                        ids.add(assignIn(c, by, actor, account, role, d, null, now, "default for qualification " + q));
                    }
                }
            }
        }
        if (administrator) {
            // account_admin is hospital-wide by default; it is recorded against the first department.
            String d = depts.isEmpty() ? "病院全体" : depts.get(0);
            if (given.add(AccessLedger.ACCOUNT_ADMIN + "|" + d)) {
                ids.add(assignIn(c, by, actor, account, AccessLedger.ACCOUNT_ADMIN, d, null, now,
                        "requested on the new-account form"));
            }
        }
        List<Assignment> out = new ArrayList<>();
        for (UUID id : ids) {
            out.add(load(c, id));
        }
        return out;
    }

    /**
     * A department or ward name as stored: NFKC-normalised and trimmed, the form encounters' department and ward
     * names are compared in (full-width and half-width spellings of one name are one department).
     */
    static String department(String name) {
        return jp.mamori.kernel.TextNormalizer.placeName(name);
    }

    private record RoleRow(boolean clinicalContent, PersonContext.Scope defaultScope) {
    }

    /** Whether a role may hold clinical content and its default scope; refused when there is no such role. */
    private static RoleRow roleRow(Connection c, String role) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT clinical_content, default_scope FROM role WHERE code = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AccessException("役割「" + role + "」はありません / No role " + role);
                }
                return new RoleRow(rs.getBoolean(1), PersonContext.Scope.of(rs.getString(2)));
            }
        }
    }

    private static void checkDepartment(String department) {
        if (department == null || department.isBlank() || department.length() > 100) {
            throw new AccessException("部署（または病棟）を入力してください / Enter the department or ward");
        }
    }

    private static UUID assignIn(Connection c, String by, UUID actor, UUID account, String role, String department,
                                 PersonContext.Scope scope, Instant now, String origin) throws SQLException {
        RoleRow row = roleRow(c, role);
        boolean clinicalContent = row.clinicalContent();
        PersonContext.Scope s = scope != null ? scope : row.defaultScope();
        if (People.of(c, account).filter(p -> !p.retired()).isEmpty()) {
            throw new AccessException("有効なアカウントではありません / Not an account that can hold roles");
        }
        if (jp.mamori.identity.PartnerInstitutions.of(c, account).isPresent()) {
            // a partner clinician of another institution reaches patients only through shares (issue 21, AUTH-11)
            throw new AccessException("連携先医療者のアカウントには役割を付けられません。患者ごとの共有で閲覧を許可します"
                    + " / A partner clinician's account holds no role; share a patient with it instead");
        }
        boolean fourEyes = (account.equals(actor) && clinicalContent) || isAdministratorRole(role);
        UUID id = UUID.randomUUID();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO role_assignment (assignment_id, account_id,"
                + " role, department, scope, four_eyes, granted_by, granted_at, approved_by, approved_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setObject(1, id);
            ps.setObject(2, account);
            ps.setString(3, role);
            ps.setString(4, department(department));
            ps.setString(5, s.code);
            ps.setBoolean(6, fourEyes);
            ps.setObject(7, actor);
            ps.setTimestamp(8, Timestamp.from(now));
            ps.setObject(9, fourEyes ? null : actor);
            ps.setTimestamp(10, fourEyes ? null : Timestamp.from(now));
            if (ps.executeUpdate() == 0) {
                throw new AccessException("この部署で同じ役割が既に割り当てられています（承認待ちを含む） / The account already"
                        + " holds (or awaits) this role in this department");
            }
        }
        var d = AccessLedger.detail().put("assignment", id.toString()).put("role", role)
                .put("department", department(department)).put("scope", s.code).put("fourEyes", fourEyes);
        if (origin != null) {
            d.put("origin", origin);
        }
        AccessLedger.record(c, now, by, fourEyes ? "role.assignment_requested" : "role.assigned", "account:" + account, d);
        return id;
    }

    private static boolean isAdministratorRole(String role) {
        return AccessLedger.ACCOUNT_ADMIN.equals(role) || AccessLedger.SYSTEM_ADMIN.equals(role);
    }

    /**
     * Whether {@code actor} is the only active administrator (an active account with the identity ledger's
     * account_admin role or an approved, unrevoked account_admin/system_admin assignment).
     */
    public boolean soleAdministrator(UUID actor) {
        return Tx.read(ds, c -> soleAdministrator(c, actor));
    }

    private static boolean soleAdministrator(Connection c, UUID actor) throws SQLException {
        Set<UUID> candidates = AccessLedger.assignedAdministrators(c);
        candidates.addAll(People.ledgerAdministrators(c));
        List<UUID> active = People.of(c, candidates).values().stream()
                .filter(People.Person::active).map(People.Person::id).toList();
        return active.size() == 1 && actor.equals(active.get(0));
    }

    /**
     * A second administrator approves a pending assignment; the granter and the grantee cannot. Exception: the
     * only active administrator may approve administrator rights (account_admin, system_admin) they requested
     * for someone else, since nobody else could; the console asks for a fresh second factor first. That
     * approval is marked sole_admin, recorded with the detail "sole administrator", and is listed as a
     * deviation until a third administrator confirms it ({@link #confirm}).
     */
    public Assignment approve(UUID actor, UUID assignment) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            Assignment a = lock(c, assignment);
            if (!a.pending()) {
                throw new AccessException("承認待ちの割り当てではありません / The assignment is not awaiting approval");
            }
            boolean soleAdmin = actor.equals(a.grantedBy()) && !actor.equals(a.accountId())
                    && isAdministratorRole(a.role()) && soleAdministrator(c, actor);
            if (!soleAdmin && (actor.equals(a.grantedBy()) || actor.equals(a.accountId()))) {
                throw new AccessException("割り当てた本人・割り当てを受ける本人は承認できません。別の管理者の承認が必要です"
                        + " / The approval must come from a different administrator than the one who granted or"
                        + " receives it");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE role_assignment SET approved_by = ?, approved_at = ?, sole_admin = ? WHERE assignment_id = ?")) {
                ps.setObject(1, actor);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setBoolean(3, soleAdmin);
                ps.setObject(4, assignment);
                ps.executeUpdate();
            }
            var d = AccessLedger.detail().put("assignment", assignment.toString()).put("role", a.role())
                    .put("department", a.department());
            if (soleAdmin) {
                d.put("soleAdministrator", true).put("note", "sole administrator");
            }
            AccessLedger.record(c, now, by, "role.assignment_approved", "account:" + a.accountId(), d);
            return load(c, assignment);
        });
    }

    /**
     * A third administrator (neither the sole administrator who approved nor the grantee) confirms an approval
     * given by a sole administrator; it then stops being listed as a deviation.
     */
    public Assignment confirm(UUID actor, UUID assignment) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            Assignment a = lock(c, assignment);
            if (!a.awaitingConfirmation()) {
                throw new AccessException("確認待ちの承認ではありません / The assignment does not await confirmation");
            }
            if (actor.equals(a.approvedBy()) || actor.equals(a.accountId())) {
                throw new AccessException("承認した本人・割り当てを受けた本人は確認できません。三人目の管理者が確認します"
                        + " / A third administrator, neither the approver nor the grantee, confirms");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE role_assignment SET confirmed_by = ?, confirmed_at = ? WHERE assignment_id = ?")) {
                ps.setObject(1, actor);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, assignment);
                ps.executeUpdate();
            }
            AccessLedger.record(c, now, by, "role.sole_admin_approval_confirmed", "account:" + a.accountId(),
                    AccessLedger.detail().put("assignment", assignment.toString()).put("role", a.role())
                            .put("department", a.department()));
            return load(c, assignment);
        });
    }

    /** Approvals given by a sole administrator that no third administrator has confirmed yet (deviations). */
    public List<Assignment> awaitingConfirmation() {
        return Tx.read(ds, c -> query(c, "sole_admin AND confirmed_at IS NULL AND revoked_at IS NULL", null));
    }

    /** Revokes an assignment (or rejects a pending one). */
    public Assignment revoke(UUID actor, UUID assignment, String reason) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            Assignment a = lock(c, assignment);
            if (a.revokedAt() != null) {
                throw new AccessException("既に取り消されています / The assignment is already revoked");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE role_assignment SET revoked_by = ?, revoked_at = ? WHERE assignment_id = ?")) {
                ps.setObject(1, actor);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, assignment);
                ps.executeUpdate();
            }
            AccessLedger.record(c, now, by, a.pending() ? "role.assignment_rejected" : "role.revoked",
                    "account:" + a.accountId(), AccessLedger.detail().put("assignment", assignment.toString())
                            .put("role", a.role()).put("department", a.department()).put("reason", reason));
            return load(c, assignment);
        });
    }

    /** The assignments of one account, in force, pending and past. */
    public List<Assignment> assignments(UUID account) {
        return Tx.read(ds, c -> query(c, "account_id = ?", account));
    }

    /** Pending assignments awaiting a second administrator. */
    public List<Assignment> pending() {
        return Tx.read(ds, c -> query(c, "approved_at IS NULL AND revoked_at IS NULL", null));
    }

    /** Roles offered by default for a qualification (e.g. 看護師 → nurse). */
    public List<String> defaultRolesFor(String qualification) {
        return Tx.read(ds, c -> defaultRolesFor(c, qualification));
    }

    private static List<String> defaultRolesFor(Connection c, String qualification) throws SQLException {
        {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT role FROM qualification_default_role WHERE qualification = ? ORDER BY role")) {
                ps.setString(1, qualification);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        }
    }

    private static final String COLUMNS = "assignment_id, account_id, role, department, scope, four_eyes, granted_by,"
            + " granted_at, approved_by, approved_at, revoked_at, revoked_by, sole_admin, confirmed_by, confirmed_at";

    private static Assignment lock(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                + " FROM role_assignment WHERE assignment_id = ? FOR UPDATE")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AccessException("割り当てが見つかりません / No such assignment");
                }
                return row(rs);
            }
        }
    }

    private static Assignment load(Connection c, UUID id) throws SQLException {
        return query(c, "assignment_id = ?", id).get(0);
    }

    private static List<Assignment> query(Connection c, String where, UUID param) throws SQLException {
        List<Assignment> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM role_assignment WHERE " + where
                + " ORDER BY granted_at, assignment_id")) {
            if (param != null) {
                ps.setObject(1, param);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
        }
        return out;
    }

    private static Assignment row(ResultSet rs) throws SQLException {
        return new Assignment(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                rs.getString(4), PersonContext.Scope.of(rs.getString(5)), rs.getBoolean(6), rs.getObject(7, UUID.class),
                instant(rs.getTimestamp(8)), rs.getObject(9, UUID.class), instant(rs.getTimestamp(10)),
                instant(rs.getTimestamp(11)), rs.getObject(12, UUID.class), rs.getBoolean(13),
                rs.getObject(14, UUID.class), instant(rs.getTimestamp(15)));
    }

    static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
