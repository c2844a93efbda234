package jp.mamori.identity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.text.Normalizer;

/**
 * Professional qualifications and licences (資格・免許) of account holders: the catalogue of qualifications the
 * hospital knows ({@code qualification}), and granting one to an account with its licence number where the
 * qualification requires one. A licence number is registered to one account only; a grant is recorded in the
 * account's change history.
 */
final class AccountQualifications {
    private final DataSource ds;
    private final Clock clock;

    AccountQualifications(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    List<Accounts.CatalogueEntry> catalogue() {
        return Tx.read(ds, AccountQualifications::catalogue);
    }

    private static List<Accounts.CatalogueEntry> catalogue(Connection c) throws SQLException {
        List<Accounts.CatalogueEntry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT code, name_ja, name_en, licence_required,"
                + " licence_label_ja FROM qualification ORDER BY sort_order, code");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Accounts.CatalogueEntry(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getBoolean(4), rs.getString(5)));
            }
        }
        return out;
    }

    /** Adds a qualification (e.g. a licence obtained after the account was made); recorded in the history. */
    void add(UUID id, Accounts.QualificationGrant grant, String by) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("退職済のアカウントです / The account is retired");
            }
            if (a.qualifications().stream().anyMatch(q -> q.code().equals(grant.code()))) {
                throw new IdentityException("この資格は登録済みです / This qualification is already recorded");
            }
            grant(c, id, List.of(grant), now, by);
            return null;
        });
    }

    /**
     * Grants qualifications inside the caller's transaction: each must be in the catalogue, with a licence number
     * if it requires one. One history line per qualification.
     */
    static void grant(Connection c, UUID id, List<Accounts.QualificationGrant> grants, Instant now, String by)
            throws SQLException {
        Map<String, Accounts.CatalogueEntry> catalogue = new LinkedHashMap<>();
        for (Accounts.CatalogueEntry e : catalogue(c)) {
            catalogue.put(e.code(), e);
        }
        for (Accounts.QualificationGrant g : grants) {
            Accounts.CatalogueEntry e = catalogue.get(g.code());
            if (e == null) {
                throw new IdentityException("資格「" + g.code() + "」は登録されていません / Unknown qualification " + g.code());
            }
            String licence = g.licenceNumber() == null ? null
                    : Normalizer.normalize(g.licenceNumber(), Normalizer.Form.NFKC).strip();
            if (licence != null && licence.isEmpty()) {
                licence = null;
            }
            if (e.licenceRequired() && licence == null) {
                throw new IdentityException(e.nameJa() + "には" + e.licenceLabelJa() + "が必要です / "
                        + e.nameEn() + " needs a licence number");
            }
            if (licence != null && licence.length() > 40) {
                throw new IdentityException("免許番号が長すぎます / The licence number is too long");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_qualification (account_id,"
                    + " qualification, licence_number) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setObject(1, id);
                ps.setString(2, e.code());
                ps.setString(3, licence);
                ps.executeUpdate();
            } catch (SQLException ex) {
                if ("23505".equals(ex.getSQLState())) {
                    throw new IdentityException("この" + e.nameJa() + "の免許番号は別のアカウントに登録済みです"
                            + " / This licence number is already registered to another account");
                }
                throw ex;
            }
            ObjectNode d = Accounts.JSON.createObjectNode();
            d.put("qualification", e.code());
            if (licence != null) {
                d.put("licenceNumber", licence);
            }
            AccountLedger.record(c, id, now, by, "qualification.added", d);
        }
    }
}
