package jp.mamori.identity;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * What another capability may read about people from the account ledger (ADR 0009: identity owns
 * {@code account}, {@code account_role} and {@code account_department}; the others ask here instead of naming
 * them in their SQL). Each call runs on the caller's connection, so it reads in the caller's transaction and
 * sees what the caller's own statements see.
 */
public final class People {
    /**
     * One person as others need them: the login id, the display name ({@code family given}), the account's
     * status and its last login.
     */
    public record Person(UUID id, String loginId, String name, Account.Status status, Instant lastLoginAt) {
        public boolean active() {
            return status == Account.Status.ACTIVE;
        }

        public boolean retired() {
            return status == Account.Status.RETIRED;
        }
    }

    private People() {
    }

    /**
     * The people of these account ids, ordered by login id as the database orders it (one statement); ids
     * without an account are left out.
     */
    public static Map<UUID, Person> of(Connection c, Collection<UUID> ids) throws SQLException {
        Map<UUID, Person> out = new LinkedHashMap<>();
        Set<UUID> distinct = new LinkedHashSet<>(ids);
        distinct.remove(null);
        if (distinct.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id, login_id, family_name || ' ' || given_name,"
                + " status, last_login_at FROM account WHERE account_id = ANY(?) ORDER BY login_id")) {
            ps.setArray(1, c.createArrayOf("uuid", distinct.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Person p = person(rs);
                    out.put(p.id(), p);
                }
            }
        }
        return out;
    }

    /** One person, if the account exists. */
    public static Optional<Person> of(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id, login_id, family_name || ' ' || given_name,"
                + " status, last_login_at FROM account WHERE account_id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(person(rs)) : Optional.empty();
            }
        }
    }

    /**
     * The qualifications recorded for an account (資格), with their Japanese and English names and licence numbers: what
     * a signer's HPKI role is held against (SIGN-5).
     */
    public static java.util.List<Account.Qualification> qualifications(Connection c, UUID id) throws SQLException {
        java.util.List<Account.Qualification> out = new java.util.ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT q.code, q.name_ja, q.name_en, aq.licence_number"
                + " FROM account_qualification aq JOIN qualification q ON q.code = aq.qualification"
                + " WHERE aq.account_id = ? ORDER BY q.sort_order, q.code")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Account.Qualification(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4)));
                }
            }
        }
        return out;
    }

    /** The account id of a login id, if there is one. */
    public static Optional<UUID> idOf(Connection c, String loginId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id FROM account WHERE login_id = ?")) {
            ps.setString(1, loginId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getObject(1, UUID.class)) : Optional.empty();
            }
        }
    }

    /** The account of {@code key}: an account id (as text) or a login id; one statement. */
    public static Optional<Person> byIdOrLogin(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id, login_id, family_name || ' ' || given_name,"
                + " status, last_login_at FROM account WHERE account_id::text = ? OR login_id = ?")) {
            ps.setString(1, key);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(person(rs)) : Optional.empty();
            }
        }
    }

    /** A person's family name as written in kanji and in kana (either may be empty). */
    public record FamilyName(UUID id, String loginId, String kanji, String kana) {
    }

    /**
     * The family names of the accounts named by {@code keys}, each an account id (as text) or a login id (as the
     * audit trail names people), keyed by the key as given; keys without an account are left out. One statement.
     */
    public static Map<String, FamilyName> familyNames(Connection c, Collection<String> keys) throws SQLException {
        Map<String, FamilyName> out = new LinkedHashMap<>();
        Set<String> distinct = new LinkedHashSet<>(keys);
        distinct.remove(null);
        if (distinct.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id, login_id, family_name, family_kana"
                + " FROM account WHERE account_id::text = ANY(?) OR login_id = ANY(?)")) {
            java.sql.Array a = c.createArrayOf("text", distinct.toArray());
            ps.setArray(1, a);
            ps.setArray(2, a);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    FamilyName f = new FamilyName(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                            rs.getString(4));
                    for (String k : List.of(f.id().toString(), f.loginId())) {
                        if (distinct.contains(k)) {
                            out.put(k, f);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The departments the ledger records for an account, in the database's order of their names. */
    public static List<String> departments(Connection c, UUID id) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT department FROM account_department WHERE account_id = ?"
                + " ORDER BY department")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Whether the account holds the ledger's {@link Accounts#ADMIN_ROLE} (the first administrator has it). */
    public static boolean ledgerAdministrator(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM account_role WHERE account_id = ? AND role = ?")) {
            ps.setObject(1, id);
            ps.setString(2, Accounts.ADMIN_ROLE);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The accounts holding the ledger's {@link Accounts#ADMIN_ROLE}, whatever their status. */
    public static Set<UUID> ledgerAdministrators(Connection c) throws SQLException {
        Set<UUID> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT account_id FROM account_role WHERE role = ?")) {
            ps.setString(1, Accounts.ADMIN_ROLE);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getObject(1, UUID.class));
                }
            }
        }
        return out;
    }

    private static Person person(ResultSet rs) throws SQLException {
        Timestamp last = rs.getTimestamp(5);
        return new Person(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                Account.Status.of(rs.getString(4)), last == null ? null : last.toInstant());
    }
}
