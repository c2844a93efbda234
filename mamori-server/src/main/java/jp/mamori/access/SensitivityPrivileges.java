package jp.mamori.access;

import jp.mamori.db.Tx;

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
import java.util.UUID;

/**
 * Privileges for sensitivity labels (restricted, psychiatric, HIV, genetic, VIP, staff-as-patient), needed on
 * top of a care relationship. Granted by an administrator; an administrator granting one to themselves waits
 * for a second administrator. Every change is in {@code access_change}.
 */
public final class SensitivityPrivileges {
    public record Privilege(UUID id, UUID accountId, String label, boolean fourEyes, UUID grantedBy, Instant grantedAt,
                            UUID approvedBy, Instant approvedAt, Instant revokedAt) {
        public boolean inForce() {
            return approvedAt != null && revokedAt == null;
        }
    }

    public record Label(String code, String nameJa, String nameEn) {
    }

    private final DataSource ds;
    private final Clock clock;

    public SensitivityPrivileges(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    public Privilege grant(UUID actor, UUID account, String label) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sensitivity_label WHERE code = ?")) {
                ps.setString(1, label);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new AccessException("機微ラベル「" + label + "」はありません / No sensitivity label " + label);
                    }
                }
            }
            boolean fourEyes = account.equals(actor);
            UUID id = UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO sensitivity_privilege (privilege_id, account_id,"
                    + " label, four_eyes, granted_by, granted_at, approved_by, approved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT DO NOTHING")) {
                ps.setObject(1, id);
                ps.setObject(2, account);
                ps.setString(3, label);
                ps.setBoolean(4, fourEyes);
                ps.setObject(5, actor);
                ps.setTimestamp(6, Timestamp.from(now));
                ps.setObject(7, fourEyes ? null : actor);
                ps.setTimestamp(8, fourEyes ? null : Timestamp.from(now));
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("この権限は既に付与されています（承認待ちを含む） / The privilege is already"
                            + " granted or awaiting approval");
                }
            }
            AccessLedger.record(c, now, by, fourEyes ? "privilege.requested" : "privilege.granted", "account:" + account,
                    AccessLedger.detail().put("privilege", id.toString()).put("label", label).put("fourEyes", fourEyes));
            return load(c, id);
        });
    }

    public Privilege approve(UUID actor, UUID privilege) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            Privilege p = load(c, privilege);
            if (p.approvedAt() != null || p.revokedAt() != null) {
                throw new AccessException("承認待ちではありません / Not awaiting approval");
            }
            if (actor.equals(p.grantedBy()) || actor.equals(p.accountId())) {
                throw new AccessException("別の管理者の承認が必要です / A different administrator must approve");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE sensitivity_privilege SET approved_by = ?,"
                    + " approved_at = ? WHERE privilege_id = ? AND approved_at IS NULL AND revoked_at IS NULL")) {
                ps.setObject(1, actor);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, privilege);
                ps.executeUpdate();
            }
            AccessLedger.record(c, now, by, "privilege.approved", "account:" + p.accountId(),
                    AccessLedger.detail().put("privilege", privilege.toString()).put("label", p.label()));
            return load(c, privilege);
        });
    }

    public Privilege revoke(UUID actor, UUID privilege, String reason) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            String by = AccessLedger.requireAdministrator(c, actor);
            Privilege p = load(c, privilege);
            try (PreparedStatement ps = c.prepareStatement("UPDATE sensitivity_privilege SET revoked_by = ?,"
                    + " revoked_at = ? WHERE privilege_id = ? AND revoked_at IS NULL")) {
                ps.setObject(1, actor);
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setObject(3, privilege);
                if (ps.executeUpdate() == 0) {
                    throw new AccessException("既に取り消されています / Already revoked");
                }
            }
            AccessLedger.record(c, now, by, "privilege.revoked", "account:" + p.accountId(), AccessLedger.detail()
                    .put("privilege", privilege.toString()).put("label", p.label()).put("reason", reason));
            return load(c, privilege);
        });
    }

    public List<Privilege> of(UUID account) {
        return Tx.read(ds, c -> query(c, "account_id = ?", account));
    }

    /** The guarded labels. */
    public List<Label> labels() {
        return Tx.read(ds, c -> {
            List<Label> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT code, name_ja, name_en FROM sensitivity_label ORDER BY code");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Label(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            return out;
        });
    }

    /** Privileges awaiting a second administrator. */
    public List<Privilege> pending() {
        return Tx.read(ds, c -> query(c, "approved_at IS NULL AND revoked_at IS NULL", null));
    }

    private static Privilege load(Connection c, UUID id) throws SQLException {
        List<Privilege> l = query(c, "privilege_id = ?", id);
        if (l.isEmpty()) {
            throw new AccessException("権限が見つかりません / No such privilege");
        }
        return l.get(0);
    }

    private static List<Privilege> query(Connection c, String where, UUID param) throws SQLException {
        List<Privilege> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT privilege_id, account_id, label, four_eyes, granted_by,"
                + " granted_at, approved_by, approved_at, revoked_at FROM sensitivity_privilege WHERE " + where
                + " ORDER BY granted_at, privilege_id")) {
            if (param != null) {
                ps.setObject(1, param);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Privilege(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                            rs.getBoolean(4), rs.getObject(5, UUID.class), Roles.instant(rs.getTimestamp(6)),
                            rs.getObject(7, UUID.class), Roles.instant(rs.getTimestamp(8)), Roles.instant(rs.getTimestamp(9))));
                }
            }
        }
        return out;
    }
}
