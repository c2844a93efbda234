package jp.mamori.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
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
        try (PreparedStatement ps = c.prepareStatement("SELECT a.login_id FROM account a WHERE a.account_id = ?"
                + " AND a.status = 'active' AND (EXISTS (SELECT 1 FROM role_assignment ra WHERE ra.account_id = a.account_id"
                + " AND ra.role IN ('account_admin', 'system_admin') AND ra.approved_at IS NOT NULL AND ra.revoked_at IS NULL)"
                + " OR EXISTS (SELECT 1 FROM account_role ar WHERE ar.account_id = a.account_id AND ar.role = 'account_admin'))")) {
            ps.setObject(1, actor);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AccessException("権限の変更には管理者が必要です / Changing access rights needs an active administrator");
                }
                return "account:" + rs.getString(1);
            }
        }
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
