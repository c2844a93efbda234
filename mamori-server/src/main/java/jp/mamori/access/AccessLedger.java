package jp.mamori.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.identity.People;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Shared by the access services: who the acting administrator is, and the append-only change history. */
final class AccessLedger {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Roles whose holders may change roles, permissions, assignments and privileges. */
    static final String ACCOUNT_ADMIN = "account_admin";
    static final String SYSTEM_ADMIN = "system_admin";

    private AccessLedger() {
    }

    /**
     * The principal ({@code account:LOGIN}) of an active administrator: an approved, unrevoked assignment of
     * account_admin or system_admin, or the identity ledger's account_admin role (the first administrator).
     */
    static String requireAdministrator(Connection c, UUID actor) throws SQLException {
        Optional<People.Person> p = People.of(c, actor);
        if (p.isEmpty() || !p.get().active()
                || !(assignedAdministrator(c, actor) || People.ledgerAdministrator(c, actor))) {
            throw new AccessException("権限の変更には管理者が必要です / Changing access rights needs an active administrator");
        }
        return "account:" + p.get().loginId();
    }

    /** Whether the account holds an approved, unrevoked account_admin or system_admin assignment. */
    static boolean assignedAdministrator(Connection c, UUID account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM role_assignment WHERE account_id = ?"
                + " AND role IN ('account_admin', 'system_admin') AND approved_at IS NOT NULL AND revoked_at IS NULL"
                + " LIMIT 1")) {
            ps.setObject(1, account);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The accounts holding an approved, unrevoked account_admin or system_admin assignment. */
    static Set<UUID> assignedAdministrators(Connection c) throws SQLException {
        Set<UUID> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT account_id FROM role_assignment"
                + " WHERE role IN ('account_admin', 'system_admin') AND approved_at IS NOT NULL AND revoked_at IS NULL");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getObject(1, UUID.class));
            }
        }
        return out;
    }

    static void record(Connection c, Instant at, String by, String action, String subject, ObjectNode detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_change (at, by_principal, action, subject,"
                + " detail) VALUES (?, ?, ?, ?, ?::jsonb)")) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setString(2, by);
            ps.setString(3, action);
            ps.setString(4, subject);
            ps.setString(5, detail.toString());
            ps.executeUpdate();
        }
    }

    static ObjectNode detail() {
        return JSON.createObjectNode();
    }
}
