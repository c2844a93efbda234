package jp.mamori.identity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.text.Normalizer;

/**
 * Creating an account for an identified person: the login id (one person's, never a shared one: ACCT-6), the
 * names and their kana are checked and normalised, the identity proofing is required (AUTH-10), and the account
 * is written with its qualifications, departments, roles and proofing in one transaction. Also records further
 * identity proofings of an existing account.
 */
final class AccountCreation {
    /**
     * Login ids that name a function or a group rather than a person (ACCT-6): a shared account could not
     * tell who did what. Also refused with digits after them ({@code nurse01}, {@code ward3}).
     */
    private static final Set<String> GENERIC_IDS = Set.of("admin", "administrator", "root", "user", "users", "guest",
            "test", "tester", "shared", "share", "common", "staff", "nurse", "nurses", "doctor", "doctors", "dr", "ns",
            "reception", "uketsuke", "kyotsu", "kyoutsu", "system", "ward", "byoto", "byotou", "demo", "temp", "tmp",
            "sample", "operator", "support", "maintenance", "vendor", "emergency", "everyone", "all", "office",
            "jimu", "iji", "kango", "ishi", "clerk", "pharmacy", "yakuzai", "lab", "kensa", "night", "yakin", "team");
    private static final Pattern LOGIN_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{2,63}");
    private static final Pattern KANA = Pattern.compile("[\\p{IsHiragana}\\p{IsKatakana}ー・ 　]+");
    private static final Pattern TRAILING_DIGITS = Pattern.compile("[._-]?[0-9]+$");

    private final DataSource ds;
    private final Clock clock;

    AccountCreation(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** See {@link Accounts#create(Accounts.NewAccount, String, Accounts.AlsoInTransaction)}. */
    Account create(Accounts.NewAccount n, String by, Accounts.AlsoInTransaction also) {
        String loginId = checkLoginId(n.loginId());
        String family = name(n.familyName(), "姓 / family name");
        String given = name(n.givenName(), "名 / given name");
        String familyKana = kana(n.familyKana(), "セイ / family name in kana");
        String givenKana = kana(n.givenKana(), "メイ / given name in kana");
        if (n.type() == Account.Type.EMERGENCY) {
            throw new IdentityException("非常時用アカウントは非常時アカウントの画面で作成します"
                    + " / Emergency accounts are created on the emergency accounts page");
        }
        checkProofing(n.proofing());
        if (n.type() == Account.Type.PARTNER && n.roles() != null && !n.roles().isEmpty()) {
            throw new IdentityException("連携先医療者のアカウントには役割を付けられません / A partner clinician's account"
                    + " holds no role");
        }
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            Account a = createIn(c, n, loginId, family, given, familyKana, givenKana, now, by);
            also.run(c, a);
            return a;
        });
    }

    private static Account createIn(Connection c, Accounts.NewAccount n, String loginId, String family, String given,
                                    String familyKana, String givenKana, Instant now, String by) throws SQLException {
        UUID id = UUID.randomUUID();
        Account.Status status = n.type() == Account.Type.VENDOR ? Account.Status.SUSPENDED : Account.Status.CREATED;
        String reason = n.type() == Account.Type.VENDOR
                ? "保守用アカウントは保守作業の承認時にのみ有効化されます / vendor accounts are enabled only for approved maintenance"
                : null;
        insertAccount(c, id, loginId, family, given, familyKana, givenKana, n.type(), status, reason, now, by);
        ObjectNode detail = Accounts.JSON.createObjectNode();
        detail.put("loginId", loginId).put("name", family + " " + given).put("kana", familyKana + " " + givenKana)
                .put("type", n.type().code).put("status", status.code);
        AccountLedger.record(c, id, now, by, "account.created", detail);
        AccountQualifications.grant(c, id, n.qualifications() == null ? List.of() : n.qualifications(), now, by);
        setDepartments(c, id, n.departments() == null ? List.of() : n.departments(), now, by);
        for (String role : n.roles() == null ? Set.<String>of() : n.roles()) {
            addRole(c, id, role, now, by);
        }
        addProofing(c, id, n.proofing(), now, by);
        return AccountLedger.load(c, id).orElseThrow();
    }

    /** Checks and normalises a new account's fields, then creates it inside the caller's transaction. */
    static Account createChecked(Connection c, Accounts.NewAccount n, Instant now, String by) throws SQLException {
        checkProofing(n.proofing());
        return createIn(c, n, checkLoginId(n.loginId()), name(n.familyName(), "姓 / family name"),
                name(n.givenName(), "名 / given name"), kana(n.familyKana(), "セイ / family name in kana"),
                kana(n.givenKana(), "メイ / given name in kana"), now, by);
    }

    static void insertAccount(Connection c, UUID id, String loginId, String family, String given, String familyKana,
                              String givenKana, Account.Type type, Account.Status status, String reason, Instant now,
                              String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO account (account_id, login_id, family_name,"
                + " given_name, family_kana, given_kana, account_type, status, status_reason, status_changed_at,"
                + " created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (login_id) DO NOTHING")) {
            ps.setObject(1, id);
            ps.setString(2, loginId);
            ps.setString(3, family);
            ps.setString(4, given);
            ps.setString(5, familyKana);
            ps.setString(6, givenKana);
            ps.setString(7, type.code);
            ps.setString(8, status.code);
            ps.setString(9, reason);
            ps.setTimestamp(10, Timestamp.from(now));
            ps.setTimestamp(11, Timestamp.from(now));
            ps.setString(12, by);
            if (ps.executeUpdate() == 0) {
                throw new IdentityException("ログインID「" + loginId + "」は既に使われています（退職者を含む）"
                        + " / The login id " + loginId + " is already taken (also by retired accounts)");
            }
        }
    }

    /** Normalises and checks a login id; generic ids that would be shared are refused (ACCT-6). */
    static String checkLoginId(String raw) {
        String id = raw == null ? "" : Normalizer.normalize(raw, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
        if (!LOGIN_ID.matcher(id).matches()) {
            throw new IdentityException("ログインIDは半角英小文字・数字・記号(. _ -)で3〜64文字です"
                    + " / A login id is 3 to 64 characters: a-z, 0-9, '.', '_' or '-'");
        }
        String stem = TRAILING_DIGITS.matcher(id).replaceAll("");
        if (GENERIC_IDS.contains(id) || GENERIC_IDS.contains(stem)) {
            throw new IdentityException("「" + id + "」は共用・汎用のIDに見えるため使えません。個人を表すIDにしてください"
                    + " / '" + id + "' looks like a shared or generic account; use an id for one person");
        }
        return id;
    }

    private static String name(String raw, String what) {
        String v = raw == null ? "" : Normalizer.normalize(raw, Normalizer.Form.NFKC).strip();
        if (v.isEmpty() || v.length() > 100) {
            throw new IdentityException(what + " を入力してください（100文字まで） / " + what + " is required (up to 100 characters)");
        }
        return v;
    }

    private static String kana(String raw, String what) {
        String v = name(raw, what);
        if (!KANA.matcher(v).matches()) {
            throw new IdentityException(what + " はカタカナまたはひらがなで入力してください / " + what
                    + " must be written in kana");
        }
        return v;
    }

    // ---- identity proofing (AUTH-10) ----------------------------------------------------------------------

    private static void checkProofing(Accounts.Proofing p) {
        if (p == null) {
            throw new IdentityException("本人確認の記録が必要です（方法・書類・確認者・日時） / Identity proofing is"
                    + " required: method, document, verifier and date (AUTH-10)");
        }
        if (!Accounts.Proofing.METHODS.contains(p.method())) {
            throw new IdentityException("本人確認の方法を選んでください / Choose how identity was verified");
        }
        if (!Accounts.Proofing.DOCUMENTS.contains(p.documentType())) {
            throw new IdentityException("本人確認書類を選んでください / Choose the document that was checked");
        }
        if (p.verifiedBy() == null || p.verifiedBy().isBlank() || p.verifiedBy().length() > 200) {
            throw new IdentityException("本人確認を行った人を入力してください / Enter who verified the identity");
        }
        if (p.verifiedAt() == null) {
            throw new IdentityException("本人確認の日付を入力してください / Enter when identity was verified");
        }
        if (p.documentNote() != null && p.documentNote().length() > 200) {
            throw new IdentityException("書類の備考は200文字までです。番号全体は記録しないでください"
                    + " / The document note is limited to 200 characters; do not record whole document numbers");
        }
    }

    /** Records a further identity proofing (e.g. when a licence is renewed or the first record was incomplete). */
    void addProofingRecord(UUID id, Accounts.Proofing p, String by) {
        checkProofing(p);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            AccountLedger.lock(c, id);
            addProofing(c, id, p, now, by);
            return null;
        });
    }

    /** See {@link Accounts#addDepartment}. */
    void addDepartment(UUID id, String department, String by) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = AccountLedger.lock(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("退職済のアカウントです / The account is retired");
            }
            setDepartments(c, id, List.of(department), now, by);
            return null;
        });
    }

    private static void addProofing(Connection c, UUID id, Accounts.Proofing p, Instant now, String by)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO identity_proofing (account_id, method,"
                + " document_type, document_note, verified_by, verified_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setObject(1, id);
            ps.setString(2, p.method());
            ps.setString(3, p.documentType());
            ps.setString(4, p.documentNote() == null || p.documentNote().isBlank() ? null : p.documentNote().strip());
            ps.setString(5, p.verifiedBy().strip());
            ps.setTimestamp(6, Timestamp.from(p.verifiedAt()));
            ps.setTimestamp(7, Timestamp.from(now));
            ps.executeUpdate();
        }
        ObjectNode d = Accounts.JSON.createObjectNode();
        d.put("method", p.method()).put("document", p.documentType()).put("verifiedBy", p.verifiedBy().strip())
                .put("verifiedAt", p.verifiedAt().toString());
        AccountLedger.record(c, id, now, by, "identity.proofed", d);
    }

    // ---- departments and roles ----------------------------------------------------------------------------

    private static void setDepartments(Connection c, UUID id, List<String> departments, Instant now, String by)
            throws SQLException {
        for (String raw : departments) {
            String d = raw == null ? "" : Normalizer.normalize(raw, Normalizer.Form.NFKC).strip();
            if (d.isEmpty()) {
                continue;
            }
            if (d.length() > 100) {
                throw new IdentityException("部署名は100文字までです / A department name is limited to 100 characters");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_department (account_id, department)"
                    + " VALUES (?, ?) ON CONFLICT DO NOTHING")) {
                ps.setObject(1, id);
                ps.setString(2, d);
                ps.executeUpdate();
            }
            AccountLedger.record(c, id, now, by, "department.added", Accounts.JSON.createObjectNode().put("department", d));
        }
    }

    private static void addRole(Connection c, UUID id, String role, Instant now, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_role (account_id, role) VALUES (?, ?)"
                + " ON CONFLICT DO NOTHING")) {
            ps.setObject(1, id);
            ps.setString(2, role);
            if (ps.executeUpdate() == 1) {
                AccountLedger.record(c, id, now, by, "role.granted", Accounts.JSON.createObjectNode().put("role", role));
            }
        }
    }
}
