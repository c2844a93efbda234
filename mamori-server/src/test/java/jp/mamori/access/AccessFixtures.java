package jp.mamori.access;

import jp.mamori.testing.TestServer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/** Accounts for access tests, made behind the server's back (the identity ledger is tested elsewhere). */
final class AccessFixtures {
    private AccessFixtures() {
    }

    /** The record service with the full policy for people, as the server builds it (small pages for paging tests). */
    static jp.mamori.records.RecordService records(javax.sql.DataSource ds, BreakGlass breakGlass) {
        java.time.Clock clock = java.time.Clock.systemUTC();
        return new jp.mamori.records.RecordService(ds, new AccessPolicy(Categories.load(ds), PersonAccess.load(ds),
                breakGlass, new EncounterRelations(ds, new jp.mamori.records.EncounterCare()), clock), new jp.mamori.records.FhirSupport(), 10, 100);
    }

    /** What the session check reads as the person's access version. */
    static long accessVersion(javax.sql.DataSource ds, UUID account) {
        return jp.mamori.db.Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + PersonContexts.accessVersionSql("x.id")
                    + " FROM (SELECT ?::uuid AS id) x")) {
                ps.setObject(1, account);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** An active account whose login id starts with {@code prefix}; {@code admin} gives the ledger's admin role. */
    static UUID account(TestServer server, String prefix, boolean admin) throws SQLException {
        UUID id = UUID.randomUUID();
        try (Connection c = server.superuserConnection()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account (account_id, login_id, family_name,"
                    + " given_name, family_kana, given_kana, account_type, status, status_changed_at, created_at,"
                    + " created_by) VALUES (?, ?, '試験', '太郎', 'シケン', 'タロウ', 'staff', 'active', now(), now(), 'test')")) {
                ps.setObject(1, id);
                ps.setString(2, prefix + "-" + id.toString().substring(0, 8));
                ps.executeUpdate();
            }
            if (admin) {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO account_role (account_id, role) VALUES (?, 'account_admin')")) {
                    ps.setObject(1, id);
                    ps.executeUpdate();
                }
            }
        }
        return id;
    }
}
