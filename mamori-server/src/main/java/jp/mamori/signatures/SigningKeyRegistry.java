package jp.mamori.signatures;

import jp.mamori.identity.Account;
import jp.mamori.identity.People;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Each person's registered signing key (issue 17; SIGN-5, SIGN-6, AUTH-7): where the key is — a PKCS#11 token (an
 * HPKI card, a USB token, an HSM slot) or a PKCS#12 file for sites without cards — and its certificate as
 * registered. The key is opened only with its holder's PIN, at signing ({@link #open}); the PIN is never stored.
 * Registering checks that the certificate is this person's: its name is the account's name, and an HPKI role it
 * carries is a qualification recorded for the account (資格確認 apart from 本人確認, SIGN-5).
 */
public final class SigningKeyRegistry {
    private SigningKeyRegistry() {
    }

    /** A registered key. {@code locator}: a PKCS#12 file's path, or {@code LIBRARY:TOKEN-LABEL:KEY-LABEL}. */
    public record Registered(long keyId, UUID accountId, String kind, String locator, X509Certificate certificate,
                             String subjectName, String roleCode, String roleLabel, Instant notAfter,
                             Instant registeredAt) {
        /**
         * Opens the key with the holder's PIN.
         *
         * @throws SignatureFailure NO_PIN, WRONG_PIN, TOKEN_LOCKED, KEY_NOT_FOUND, ...; also KEY_NOT_FOUND when the
         *                          key opened holds another certificate than the one registered
         */
        public SignerKey open(char[] pin) {
            SignerKey k = SigningKeyRegistry.open(kind, locator, pin);
            if (!k.certificate().equals(certificate)) {
                k.close();
                throw new SignatureFailure(SignatureFailure.Reason.KEY_NOT_FOUND, "登録された証明書と異なる鍵です / the"
                        + " key holds another certificate than the one registered");
            }
            return k;
        }

        /** What a person reads: the kind of key and the holder named in it. */
        public String describe() {
            return (kind.equals("pkcs11") ? "IC カード/トークン (PKCS#11)" : "ソフトウェア鍵 (PKCS#12)") + " · "
                    + subjectName + (roleLabel == null ? "" : " · " + roleLabel);
        }
    }

    /**
     * Opens the key of {@code kind} ("pkcs11" or "pkcs12") at {@code locator} with the PIN: what registering and
     * signing both do.
     *
     * @throws SignatureFailure SETTINGS for a malformed locator, NO_PIN, WRONG_PIN, KEY_NOT_FOUND, ...
     */
    public static SignerKey open(String kind, String locator, char[] pin) {
        if (kind.equals("pkcs12")) {
            return SignerKeys.pkcs12(Path.of(locator), pin);
        }
        String[] p = pkcs11(locator);
        return SignerKeys.pkcs11(Path.of(p[0]), p[1], p[2], pin);
    }

    /**
     * Refuses a malformed locator before anything is opened or read.
     *
     * @throws SignatureFailure SETTINGS naming the form a PKCS#11 locator takes
     */
    public static void checkLocator(String kind, String locator) {
        if (kind.equals("pkcs11")) {
            pkcs11(locator);
        }
    }

    /** {@code LIBRARY:TOKEN-LABEL:KEY-LABEL} split in three (the library path may not hold a colon). */
    static String[] pkcs11(String locator) {
        String[] p = locator.split(":", -1);
        if (p.length != 3 || p[0].isBlank() || p[1].isBlank() || p[2].isBlank()) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "PKCS#11 の指定は LIBRARY:TOKEN:KEY です /"
                    + " a PKCS#11 key is LIBRARY:TOKEN-LABEL:KEY-LABEL");
        }
        return p;
    }

    /** The account's active key, if one is registered. */
    public static Optional<Registered> active(Connection c, UUID accountId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM signing_key"
                + " WHERE account_id = ? AND retired_at IS NULL")) {
            ps.setObject(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(registered(rs)) : Optional.empty();
            }
        }
    }

    /** Every key, active and retired, newest first. */
    public static List<Registered> all(Connection c) throws SQLException {
        List<Registered> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM signing_key"
                + " ORDER BY registered_at DESC, key_id DESC LIMIT 10000");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(registered(rs));
            }
        }
        return out;
    }

    /**
     * Registers {@code certificate} (read from the key, opened once with the PIN by the caller to prove the key is
     * there and usable) as the account's key, retiring the one before. The certificate must name the account's
     * person and carry no HPKI role the account is not qualified for ({@link #requireHolder}).
     */
    public static Registered register(Connection c, UUID accountId, String kind, String locator,
                                      X509Certificate certificate, String by, Instant now) throws SQLException {
        if (!kind.equals("pkcs11") && !kind.equals("pkcs12")) {
            throw new IllegalArgumentException("kind " + kind);
        }
        checkLocator(kind, locator);
        HpkiCertificate h = requireHolder(c, accountId, certificate);
        try (PreparedStatement ps = c.prepareStatement("UPDATE signing_key SET retired_at = ?, retired_by = ?"
                + " WHERE account_id = ? AND retired_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, by);
            ps.setObject(3, accountId);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO signing_key (account_id, kind, locator,"
                + " certificate, subject_name, role_code, role_label, not_after, registered_by, registered_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setObject(1, accountId);
            ps.setString(2, kind);
            ps.setString(3, locator);
            ps.setBytes(4, certificate.getEncoded());
            ps.setString(5, h.name());
            ps.setString(6, h.roleCode().orElse(null));
            ps.setString(7, h.roleLabel().orElse(null));
            ps.setTimestamp(8, Timestamp.from(certificate.getNotAfter().toInstant()));
            ps.setString(9, by);
            ps.setTimestamp(10, Timestamp.from(now));
            ps.executeUpdate();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new SignatureFailure(SignatureFailure.Reason.KEY_NOT_FOUND, "証明書を保存できません / the"
                    + " certificate cannot be encoded");
        }
        return active(c, accountId).orElseThrow();
    }

    /** Retires the account's active key; returns whether there was one. */
    public static boolean retire(Connection c, UUID accountId, String by, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE signing_key SET retired_at = ?, retired_by = ?"
                + " WHERE account_id = ? AND retired_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, by);
            ps.setObject(3, accountId);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * SIGN-5: the certificate is this account's person's — its name is the account's name (compared without spaces,
     * width folded) — and an HPKI role in it is among the account's recorded qualifications (by Japanese name). A
     * certificate without a role (an institution's own CA) proves identity only, which is allowed and shown so.
     *
     * @throws SignatureFailure NOT_THE_AUTHOR or QUALIFICATION_MISMATCH, with what was found
     */
    public static HpkiCertificate requireHolder(Connection c, UUID accountId, X509Certificate certificate)
            throws SQLException {
        HpkiCertificate h = HpkiCertificate.of(certificate);
        People.Person p = People.of(c, accountId).orElseThrow(() -> new SignatureFailure(
                SignatureFailure.Reason.NOT_THE_AUTHOR, "アカウントがありません / no such account"));
        if (!folded(h.name()).equals(folded(p.name()))) {
            throw new SignatureFailure(SignatureFailure.Reason.NOT_THE_AUTHOR, "証明書 " + h.name() + "、アカウント "
                    + p.name() + " / certificate " + h.name() + ", account " + p.name());
        }
        if (h.roleCode().isPresent()) {
            List<Account.Qualification> qs = People.qualifications(c, accountId);
            String label = h.roleLabel().orElse("");
            if (qs.stream().noneMatch(q -> q.nameJa().equals(label))) {
                List<String> names = qs.stream().map(Account.Qualification::nameJa).toList();
                throw new SignatureFailure(SignatureFailure.Reason.QUALIFICATION_MISMATCH, "証明書 " + label
                        + "、アカウント " + (names.isEmpty() ? "資格なし" : String.join("・", names)) + " / certificate "
                        + h.roleCode().get() + ", account " + (names.isEmpty() ? "none" : String.join(", ",
                        qs.stream().map(Account.Qualification::nameEn).toList())));
            }
        }
        return h;
    }

    /** A name compared as a person reads it: NFKC, without any space. */
    static String folded(String name) {
        return Normalizer.normalize(name == null ? "" : name, Normalizer.Form.NFKC).replaceAll("[\\s\u3000]+", "");
    }

    private static final String COLUMNS = "key_id, account_id, kind, locator, certificate, subject_name, role_code,"
            + " role_label, not_after, registered_at";

    private static Registered registered(ResultSet rs) throws SQLException {
        X509Certificate cert;
        try {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(rs.getBytes(5)));
        } catch (CertificateException e) {
            throw new SQLException("a registered certificate does not parse", e);
        }
        return new Registered(rs.getLong(1), rs.getObject(2, UUID.class), rs.getString(3), rs.getString(4), cert,
                rs.getString(6), rs.getString(7), rs.getString(8), rs.getTimestamp(9).toInstant(),
                rs.getTimestamp(10).toInstant());
    }
}
