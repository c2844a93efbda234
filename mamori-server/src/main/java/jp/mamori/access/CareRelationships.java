package jp.mamori.access;

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
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Recorded care relationships: membership of a patient's care team and explicit assignment (ACCESS-1 need to
 * know). Relationships derived from encounters are in {@link EncounterRelations}. Rows are never deleted: ending one sets
 * {@code ended_at}; every change is in {@code access_change}.
 *
 * <p>Who may record one: an administrator, or someone holding an approved clinical role in the department
 * the relationship is for (a personal assignment without department: administrators only). A person adding
 * themselves is allowed (taking over a patient is ordinary work) but recorded as such for review.
 */
public final class CareRelationships {
    private static final Pattern PATIENT_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    public enum Kind {
        CARE_TEAM("care_team"), ASSIGNMENT("assignment");

        public final String code;

        Kind(String code) {
            this.code = code;
        }

        static Kind of(String code) {
            return code.equals("care_team") ? CARE_TEAM : ASSIGNMENT;
        }
    }

    public record CareAssignment(UUID id, UUID accountId, String patientId, Kind kind, String department,
                                 Instant validFrom, Instant validTo, UUID addedBy, Instant addedAt, Instant endedAt,
                                 UUID endedBy) {
    }

    private final DataSource ds;
    private final Clock clock;

    public CareRelationships(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * Records that {@code account} cares for {@code patientId} (a FHIR Patient logical id) from
     * {@code validFrom} (null: now) until {@code validTo} (null: until ended).
     */
    public CareAssignment add(UUID actor, UUID account, String patientId, Kind kind, String departmentName,
                              Instant validFrom, Instant validTo) {
        if (patientId == null || !PATIENT_ID.matcher(patientId).matches()) {
            throw new AccessException("患者IDが正しくありません / Not a patient id");
        }
        Instant now = now();
        String department = departmentName == null ? null : Roles.department(departmentName);
        if (departmentName != null) {
            if (department == null) {
                throw new AccessException("部署（または病棟）の名前が正しくありません / Not a department or ward name");
            }
        }
        Instant from = validFrom == null ? now : validFrom.truncatedTo(ChronoUnit.MICROS);
        if (validTo != null && !validTo.isAfter(from)) {
            throw new AccessException("終了日時は開始日時より後にしてください / The end must be after the start");
        }
        return Tx.inTransaction(ds, c -> {
            String by = authorize(c, actor, department);
            UUID id = UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO care_assignment (care_id, account_id, patient_id,"
                    + " kind, department, valid_from, valid_to, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, id);
                ps.setObject(2, account);
                ps.setString(3, patientId);
                ps.setString(4, kind.code);
                ps.setString(5, department);
                ps.setTimestamp(6, Timestamp.from(from));
                ps.setTimestamp(7, validTo == null ? null : Timestamp.from(validTo.truncatedTo(ChronoUnit.MICROS)));
                ps.setObject(8, actor);
                ps.setTimestamp(9, Timestamp.from(now));
                ps.executeUpdate();
            }
            var d = AccessLedger.detail().put("care", id.toString()).put("patient", patientId).put("kind", kind.code)
                    .put("department", department).put("validFrom", from.toString())
                    .put("validTo", validTo == null ? null : validTo.toString()).put("self", account.equals(actor));
            AccessLedger.record(c, now, by, "care.added", "account:" + account, d);
            return load(c, id);
        });
    }

    /** Ends a care relationship now. */
    public CareAssignment end(UUID actor, UUID careId, String reason) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            CareAssignment a = load(c, careId);
            String by = authorize(c, actor, a.department());
            try (PreparedStatement ps = c.prepareStatement("UPDATE care_assignment SET ended_at = ?, ended_by = ?"
                    + " WHERE care_id = ? AND ended_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, actor);
                ps.setObject(3, careId);
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("既に終了しています / The relationship has already ended");
                }
            }
            AccessLedger.record(c, now, by, "care.ended", "account:" + a.accountId(), AccessLedger.detail()
                    .put("care", careId.toString()).put("patient", a.patientId()).put("reason", reason));
            return load(c, careId);
        });
    }

    /** The care relationships of a patient, current and past. */
    public List<CareAssignment> ofPatient(String patientId) {
        return Tx.read(ds, c -> query(c, "patient_id = ?", patientId));
    }

    private static String authorize(Connection c, UUID actor, String department) throws SQLException {
        try {
            return AccessLedger.requireAdministrator(c, actor);
        } catch (AccessException notAdmin) {
            if (department == null) {
                throw new AccessException("部署を指定しない担当割り当ては管理者のみ登録できます / Only an administrator"
                        + " records a personal assignment without department");
            }
        }
        boolean clinicalHere;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM role_assignment ra JOIN role r ON r.code = ra.role"
                + " WHERE ra.account_id = ? AND ra.department = ? AND r.clinical_content AND ra.approved_at IS NOT NULL"
                + " AND ra.revoked_at IS NULL LIMIT 1")) {
            ps.setObject(1, actor);
            ps.setString(2, department);
            try (ResultSet rs = ps.executeQuery()) {
                clinicalHere = rs.next();
            }
        }
        Optional<People.Person> p = clinicalHere ? People.of(c, actor) : Optional.empty();
        if (p.isEmpty() || !p.get().active()) {
            throw new AccessException("この部署の担当関係を登録する権限がありません / Recording care relationships"
                    + " in this department needs a clinical role there or an administrator");
        }
        return "account:" + p.get().loginId();
    }

    private static final String COLUMNS = "care_id, account_id, patient_id, kind, department, valid_from, valid_to,"
            + " added_by, added_at, ended_at, ended_by";

    private static CareAssignment load(Connection c, UUID id) throws SQLException {
        List<CareAssignment> l = query(c, "care_id = ?", id);
        if (l.isEmpty()) {
            throw new AccessException("担当関係が見つかりません / No such care relationship");
        }
        return l.get(0);
    }

    private static List<CareAssignment> query(Connection c, String where, Object param) throws SQLException {
        List<CareAssignment> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM care_assignment WHERE " + where
                + " ORDER BY added_at, care_id")) {
            ps.setObject(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new CareAssignment(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                            Kind.of(rs.getString(4)), rs.getString(5), Roles.instant(rs.getTimestamp(6)),
                            Roles.instant(rs.getTimestamp(7)), rs.getObject(8, UUID.class), Roles.instant(rs.getTimestamp(9)),
                            Roles.instant(rs.getTimestamp(10)), rs.getObject(11, UUID.class)));
                }
            }
        }
        return out;
    }
}
