package jp.mamori.identity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.text.Normalizer;

/**
 * The register itself (利用者・アカウント台帳): the accounts with their roles, qualifications and departments,
 * how each person's identity was verified, the change history of each account, and the whole ledger as CSV.
 * Every line of {@code account_change} is written by {@link #record}.
 */
final class AccountLedger {
    private final DataSource ds;
    private final Clock clock;

    AccountLedger(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    // ---- reading ------------------------------------------------------------------------------------------

    Optional<Account> find(UUID id) {
        return Tx.read(ds, c -> load(c, id));
    }

    Optional<Account> findByLogin(String loginId) {
        String id = loginId == null ? "" : Normalizer.normalize(loginId, Normalizer.Form.NFKC).strip()
                .toLowerCase(Locale.ROOT);
        return Tx.read(ds, c -> {
            List<UUID> found = ids(c, "SELECT account_id FROM account WHERE login_id = ?", id);
            return found.isEmpty() ? Optional.<Account>empty() : load(c, found.get(0));
        });
    }

    /** Whether any account exists at all (the first-setup check). */
    boolean any() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM account)");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
    }

    /** The whole ledger, retired accounts included, by login id: four queries whatever its size. */
    List<Account> list() {
        return Tx.read(ds, c -> fetch(c, null));
    }

    List<Accounts.Change> history(UUID id) {
        return Tx.read(ds, c -> {
            List<Accounts.Change> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT change_id, at, by_principal, action, detail::text"
                    + " FROM account_change WHERE account_id = ? ORDER BY change_id")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Accounts.Change(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                                rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return out;
        });
    }

    List<Accounts.Proofing> proofings(UUID id) {
        return Tx.read(ds, c -> {
            List<Accounts.Proofing> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT method, document_type, document_note, verified_by,"
                    + " verified_at FROM identity_proofing WHERE account_id = ? ORDER BY proofing_id")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Accounts.Proofing(rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /** The ledger as CSV (UTF-8 with BOM, so that Excel in Japan opens it as UTF-8), one row per account. */
    String ledgerCsv(ZoneId zone) {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(zone);
        StringBuilder sb = new StringBuilder("\uFEFF");
        sb.append("ログインID,氏名,カナ,種別,状態,状態の理由,資格(免許番号),部署,権限,作成日時,作成者,最終ログイン,退職予定,本人確認\r\n");
        for (Account a : list()) {
            List<Accounts.Proofing> p = proofings(a.id());
            String proof = p.isEmpty() ? "" : p.get(p.size() - 1).method() + "/" + p.get(p.size() - 1).documentType()
                    + "/" + p.get(p.size() - 1).verifiedBy() + "/" + f.format(p.get(p.size() - 1).verifiedAt());
            List<String> quals = new ArrayList<>();
            for (Account.Qualification q : a.qualifications()) {
                quals.add(q.nameJa() + (q.licenceNumber() == null ? "" : "(" + q.licenceNumber() + ")"));
            }
            csv(sb, a.loginId(), a.displayName(), a.familyKana() + " " + a.givenKana(), a.type().ja, a.status().ja,
                    a.statusReason(), String.join(" ", quals), String.join(" ", a.departments()),
                    String.join(" ", a.roles()), f.format(a.createdAt()), a.createdBy(),
                    a.lastLoginAt() == null ? "" : f.format(a.lastLoginAt()),
                    a.retireAt() == null ? "" : f.format(a.retireAt()), proof);
        }
        return sb.toString();
    }

    private static void csv(StringBuilder sb, String... cells) {
        jp.mamori.kernel.Csv.row(sb, cells);
    }

    // ---- the change history -------------------------------------------------------------------------------

    /** Appends one line to the account's change history in a transaction of its own. */
    void note(UUID id, String by, String action, Map<String, String> detail) {
        ObjectNode d = Accounts.JSON.createObjectNode();
        detail.forEach(d::put);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            record(c, id, now, by, action, d);
            return null;
        });
    }

    /** Appends one line to the account's change history, inside the caller's transaction. */
    static void record(Connection c, UUID id, Instant at, String by, String action, ObjectNode detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_change (account_id, at, by_principal,"
                + " action, detail) VALUES (?, ?, ?, ?, ?::jsonb)")) {
            ps.setObject(1, id);
            ps.setTimestamp(2, Timestamp.from(at));
            ps.setString(3, by);
            ps.setString(4, action);
            ps.setString(5, detail.toString());
            ps.executeUpdate();
        }
    }

    // ---- inside a transaction -----------------------------------------------------------------------------

    /** Locks the account's row for the rest of the transaction and returns it; refuses an unknown account. */
    static Account lock(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM account WHERE account_id = ? FOR UPDATE")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IdentityException("アカウントが見つかりません / No such account");
                }
            }
        }
        return load(c, id).orElseThrow();
    }

    static Optional<Account> load(Connection c, UUID id) throws SQLException {
        return fetch(c, id).stream().findFirst();
    }

    /** Accounts with their roles, qualifications and departments: one account, or (null) all, by login id. */
    private static List<Account> fetch(Connection c, UUID only) throws SQLException {
        String where = only == null ? "" : " WHERE account_id = ?";
        Map<UUID, Set<String>> roles = new java.util.HashMap<>();
        try (PreparedStatement ps = prepare(c, "SELECT account_id, role FROM account_role" + where + " ORDER BY role", only);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                roles.computeIfAbsent(rs.getObject(1, UUID.class), k -> new LinkedHashSet<>()).add(rs.getString(2));
            }
        }
        Map<UUID, List<Account.Qualification>> quals = new java.util.HashMap<>();
        try (PreparedStatement ps = prepare(c, "SELECT aq.account_id, q.code, q.name_ja, q.name_en, aq.licence_number"
                + " FROM account_qualification aq JOIN qualification q ON q.code = aq.qualification"
                + (only == null ? "" : " WHERE aq.account_id = ?") + " ORDER BY q.sort_order", only);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                quals.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>()).add(
                        new Account.Qualification(rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5)));
            }
        }
        Map<UUID, List<String>> depts = new java.util.HashMap<>();
        try (PreparedStatement ps = prepare(c, "SELECT account_id, department FROM account_department" + where
                + " ORDER BY department", only);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                depts.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>()).add(rs.getString(2));
            }
        }
        List<Account> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(c, "SELECT account_id, login_id, family_name, given_name, family_kana,"
                + " given_kana, account_type, status, status_reason, status_changed_at, retire_at, created_at,"
                + " created_by, last_login_at, must_change_password FROM account" + where + " ORDER BY login_id", only);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                UUID id = rs.getObject(1, UUID.class);
                out.add(new Account(id, rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), Account.Type.of(rs.getString(7)), Account.Status.of(rs.getString(8)),
                        rs.getString(9), Accounts.instant(rs.getTimestamp(10)), Accounts.instant(rs.getTimestamp(11)),
                        Accounts.instant(rs.getTimestamp(12)), rs.getString(13), Accounts.instant(rs.getTimestamp(14)),
                        rs.getBoolean(15), roles.getOrDefault(id, Set.of()), quals.getOrDefault(id, List.of()),
                        depts.getOrDefault(id, List.of())));
            }
        }
        return out;
    }

    private static PreparedStatement prepare(Connection c, String sql, UUID only) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            if (only != null) {
                ps.setObject(1, only);
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }

    /** The account ids a query returns; an {@link Instant} parameter is bound as a timestamp. */
    static List<UUID> ids(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                Object p = params[i];
                ps.setObject(i + 1, p instanceof Instant t ? Timestamp.from(t) : p);
            }
            List<UUID> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getObject(1, UUID.class));
                }
            }
            return out;
        }
    }
}
