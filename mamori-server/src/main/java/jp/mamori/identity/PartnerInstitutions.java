package jp.mamori.identity;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The institution of each partner clinician (連携先医療者; issue 21, AUTH-11): recorded with the account, in the same
 * transaction, and never rewritten ({@code partner_institution}, V36). A partner account is identity-proofed like staff
 * (AUTH-10), holds no role and no qualification-derived role, and is reached through {@link Accounts#createPartner}.
 */
public final class PartnerInstitutions {
    /**
     * 医療機関コード as printed on receipts and referral letters: 2 digits of prefecture (01–47), 1 of the fee table
     * (1 医科, 3 歯科, 4 調剤, 6 訪問看護) and the 7-digit institution number (whose last digit is a check digit; only the
     * form is checked here, since the check digit's rule differs by prefecture office).
     */
    static final Pattern CODE = Pattern.compile("(0[1-9]|[1-3][0-9]|4[0-7])[1346][0-9]{7}");

    /** A partner's institution: its name and, when given, its 医療機関コード (10 digits). */
    public record Institution(String name, String code) {
        /** "name（code）", or the name alone. */
        public String label() {
            return code == null ? name : name + "（" + code + "）";
        }
    }

    private PartnerInstitutions() {
    }

    /**
     * Checks and normalises an institution as an administrator typed it: the name is required (up to 200 characters);
     * the code is optional, full-width digits and separators are accepted, and it must have the form of a 医療機関コード.
     */
    public static Institution check(String name, String code) {
        String n = name == null ? "" : Normalizer.normalize(name, Normalizer.Form.NFKC).strip();
        if (n.isEmpty() || n.length() > 200) {
            throw new IdentityException("連携先の医療機関名を入力してください（200文字まで） / Enter the partner's institution"
                    + " (up to 200 characters)");
        }
        String c = code == null ? "" : Normalizer.normalize(code, Normalizer.Form.NFKC).replaceAll("[\\s.\\-]", "");
        if (c.isEmpty()) {
            return new Institution(n, null);
        }
        if (!CODE.matcher(c).matches()) {
            throw new IdentityException("医療機関コードは10桁（都道府県番号2桁・点数表番号1桁・医療機関番号7桁）で入力してください"
                    + " / A medical institution code has 10 digits: prefecture (01–47), fee table (1, 3, 4 or 6) and"
                    + " the 7-digit institution number");
        }
        return new Institution(n, c);
    }

    static void insert(Connection c, UUID account, Institution i, Instant now, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO partner_institution (account_id, institution_name,"
                + " institution_code, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?)")) {
            ps.setObject(1, account);
            ps.setString(2, i.name());
            ps.setString(3, i.code());
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setString(5, by.length() > 200 ? by.substring(0, 200) : by);
            ps.executeUpdate();
        }
        com.fasterxml.jackson.databind.node.ObjectNode d = Accounts.JSON.createObjectNode().put("institution", i.name());
        if (i.code() != null) {
            d.put("institutionCode", i.code());
        }
        AccountLedger.record(c, account, now, by, "partner.institution", d);
    }

    /** The partner's institution, on the caller's connection; empty for any account that is not a partner's. */
    public static Optional<Institution> of(Connection c, UUID account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT institution_name, institution_code FROM"
                + " partner_institution WHERE account_id = ?")) {
            ps.setObject(1, account);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Institution(rs.getString(1), rs.getString(2))) : Optional.empty();
            }
        }
    }

    static Optional<Institution> of(DataSource ds, UUID account) {
        return Tx.read(ds, c -> of(c, account));
    }

    /** Every partner account's institution, by account. */
    static Map<UUID, Institution> all(DataSource ds) {
        return Tx.read(ds, c -> {
            Map<UUID, Institution> out = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT account_id, institution_name, institution_code FROM"
                    + " partner_institution ORDER BY institution_name, recorded_at");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getObject(1, UUID.class), new Institution(rs.getString(2), rs.getString(3)));
                }
            }
            return out;
        });
    }
}
