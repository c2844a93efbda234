package jp.mamori.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.text.Normalizer;
import jp.mamori.kernel.Hashes;

/**
 * The account ledger (利用者・アカウント台帳): who may use Mamori, how each person's identity was verified,
 * and every change made to their account. Every change is written to {@code account_change} in the same
 * transaction as the change itself, with the principal who made it.
 *
 * <p>Ending an account's sessions is part of suspending or retiring it: callers MUST NOT do it separately.
 */
public final class Accounts {
    /** May create, suspend and retire accounts, and see the ledger. */
    public static final String ADMIN_ROLE = "account_admin";

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
    static final ObjectMapper JSON = new ObjectMapper();

    public record QualificationGrant(String code, String licenceNumber) {
    }

    /** How identity was verified when the account was issued (AUTH-10). */
    public record Proofing(String method, String documentType, String documentNote, String verifiedBy,
                           Instant verifiedAt) {
        public static final List<String> METHODS = List.of("in_person", "video_call", "employer_record");
        public static final List<String> DOCUMENTS = List.of("my_number_card", "drivers_licence", "passport",
                "residence_card", "health_insurance_card", "professional_licence", "hpki_card", "staff_id");
    }

    public record NewAccount(String loginId, String familyName, String givenName, String familyKana,
                             String givenKana, Account.Type type, List<QualificationGrant> qualifications,
                             List<String> departments, Set<String> roles, Proofing proofing) {
    }

    public record Change(long id, Instant at, String by, String action, String detail) {
    }

    public record CatalogueEntry(String code, String nameJa, String nameEn, boolean licenceRequired,
                                 String licenceLabelJa) {
    }

    /** An active account nobody has used for longer than the policy allows (ACCT-2). */
    public record Unused(Account account, Instant lastUsed, long idleDays) {
    }

    private final DataSource ds;
    private final Clock clock;

    public Accounts(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    // ---- creating -----------------------------------------------------------------------------------------

    /**
     * Creates an account for an identified person. Staff accounts start {@code created} and become usable
     * only through enrolment; vendor maintenance accounts start suspended (ACCT-3: opened per maintenance
     * job); emergency accounts are made by {@link Emergencies}.
     *
     * @throws IdentityException with a message for the administrator when something is missing or refused
     */
    public Account create(NewAccount n, String by) {
        return create(n, by, (c, a) -> {
        });
    }

    /** Work that belongs to creating an account (e.g. its default roles) and commits or rolls back with it. */
    @FunctionalInterface
    public interface AlsoInTransaction {
        void run(Connection c, Account created) throws SQLException;
    }

    /**
     * As {@link #create(NewAccount, String)}, with {@code also} run in the same transaction: if it fails,
     * no account is created.
     */
    public Account create(NewAccount n, String by, AlsoInTransaction also) {
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
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            Account a = createIn(c, n, loginId, family, given, familyKana, givenKana, now, by);
            also.run(c, a);
            return a;
        });
    }

    Account createIn(Connection c, NewAccount n, String loginId, String family, String given, String familyKana,
                     String givenKana, Instant now, String by) throws SQLException {
        UUID id = UUID.randomUUID();
        Account.Status status = n.type() == Account.Type.VENDOR ? Account.Status.SUSPENDED : Account.Status.CREATED;
        String reason = n.type() == Account.Type.VENDOR
                ? "保守用アカウントは保守作業の承認時にのみ有効化されます / vendor accounts are enabled only for approved maintenance"
                : null;
        insertAccount(c, id, loginId, family, given, familyKana, givenKana, n.type(), status, reason, now, by);
        ObjectNode detail = JSON.createObjectNode();
        detail.put("loginId", loginId).put("name", family + " " + given).put("kana", familyKana + " " + givenKana)
                .put("type", n.type().code).put("status", status.code);
        record(c, id, now, by, "account.created", detail);
        setQualifications(c, id, n.qualifications() == null ? List.of() : n.qualifications(), now, by);
        setDepartments(c, id, n.departments() == null ? List.of() : n.departments(), now, by);
        for (String role : n.roles() == null ? Set.<String>of() : n.roles()) {
            addRole(c, id, role, now, by);
        }
        addProofing(c, id, n.proofing(), now, by);
        return load(c, id).orElseThrow();
    }

    /** Checks and normalises a new account's fields, then creates it inside the caller's transaction. */
    Account createChecked(Connection c, NewAccount n, Instant now, String by) throws SQLException {
        checkProofing(n.proofing());
        return createIn(c, n, checkLoginId(n.loginId()), name(n.familyName(), "姓 / family name"),
                name(n.givenName(), "名 / given name"), kana(n.familyKana(), "セイ / family name in kana"),
                kana(n.givenKana(), "メイ / given name in kana"), now, by);
    }

    void insertAccount(Connection c, UUID id, String loginId, String family, String given, String familyKana,
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
    public static String checkLoginId(String raw) {
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

    private static void checkProofing(Proofing p) {
        if (p == null) {
            throw new IdentityException("本人確認の記録が必要です（方法・書類・確認者・日時） / Identity proofing is"
                    + " required: method, document, verifier and date (AUTH-10)");
        }
        if (!Proofing.METHODS.contains(p.method())) {
            throw new IdentityException("本人確認の方法を選んでください / Choose how identity was verified");
        }
        if (!Proofing.DOCUMENTS.contains(p.documentType())) {
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

    /** Adds a qualification (e.g. a licence obtained after the account was made); recorded in the history. */
    public void addQualification(UUID id, QualificationGrant grant, String by) {
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = lockAccount(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("退職済のアカウントです / The account is retired");
            }
            if (a.qualifications().stream().anyMatch(q -> q.code().equals(grant.code()))) {
                throw new IdentityException("この資格は登録済みです / This qualification is already recorded");
            }
            setQualifications(c, id, List.of(grant), now, by);
            return null;
        });
    }

    /** Records a further identity proofing (e.g. when a licence is renewed or the first record was incomplete). */
    public void addProofingRecord(UUID id, Proofing p, String by) {
        checkProofing(p);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            lockAccount(c, id);
            addProofing(c, id, p, now, by);
            return null;
        });
    }

    void addProofing(Connection c, UUID id, Proofing p, Instant now, String by) throws SQLException {
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
        ObjectNode d = JSON.createObjectNode();
        d.put("method", p.method()).put("document", p.documentType()).put("verifiedBy", p.verifiedBy().strip())
                .put("verifiedAt", p.verifiedAt().toString());
        record(c, id, now, by, "identity.proofed", d);
    }

    private void setQualifications(Connection c, UUID id, List<QualificationGrant> grants, Instant now, String by)
            throws SQLException {
        Map<String, CatalogueEntry> catalogue = new LinkedHashMap<>();
        for (CatalogueEntry e : catalogue(c)) {
            catalogue.put(e.code(), e);
        }
        for (QualificationGrant g : grants) {
            CatalogueEntry e = catalogue.get(g.code());
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
            ObjectNode d = JSON.createObjectNode();
            d.put("qualification", e.code());
            if (licence != null) {
                d.put("licenceNumber", licence);
            }
            record(c, id, now, by, "qualification.added", d);
        }
    }

    private void setDepartments(Connection c, UUID id, List<String> departments, Instant now, String by)
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
            record(c, id, now, by, "department.added", JSON.createObjectNode().put("department", d));
        }
    }

    void addRole(Connection c, UUID id, String role, Instant now, String by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_role (account_id, role) VALUES (?, ?)"
                + " ON CONFLICT DO NOTHING")) {
            ps.setObject(1, id);
            ps.setString(2, role);
            if (ps.executeUpdate() == 1) {
                record(c, id, now, by, "role.granted", JSON.createObjectNode().put("role", role));
            }
        }
    }

    // ---- lifecycle ----------------------------------------------------------------------------------------

    /**
     * Issues a one-time enrolment code (single use, expires after {@code ttl}); earlier unused codes stop
     * working. The account moves to enrolment pending. Returns the code, which is not kept.
     */
    public String issueEnrolmentCode(UUID id, Duration ttl, String by) {
        String code = Secrets.random256();
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = lockAccount(c, id);
            if (a.type() == Account.Type.EMERGENCY) {
                throw new IdentityException("非常時用アカウントには登録コードを発行できません / Emergency accounts do not enrol");
            }
            if (a.status() == Account.Status.RETIRED || a.status() == Account.Status.SUSPENDED) {
                throw new IdentityException("停止中・退職済のアカウントには発行できません / The account is suspended or retired");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_code SET revoked_at = ? WHERE account_id = ?"
                    + " AND used_at IS NULL AND revoked_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO enrolment_code (code_sha256, account_id,"
                    + " created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setBytes(1, sha256(code));
                ps.setObject(2, id);
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, by);
                ps.setTimestamp(5, Timestamp.from(now.plus(ttl)));
                ps.executeUpdate();
            }
            if (a.status() == Account.Status.ACTIVE) {
                // Re-enrolment (forgotten password, lost factors): after the administrator has verified the
                // person again, everything the old credentials could do stops now.
                int ended = endSessions(c, id, now, "re-enrolment");
                for (String sql : List.of("DELETE FROM totp_credential WHERE account_id = ?",
                        "DELETE FROM recovery_code WHERE account_id = ?",
                        "UPDATE webauthn_credential SET removed_at = now(), removed_by = 're-enrolment'"
                                + " WHERE account_id = ? AND removed_at IS NULL")) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setObject(1, id);
                        ps.executeUpdate();
                    }
                }
                setStatus(c, id, Account.Status.ENROLMENT_PENDING, "再登録中 / re-enrolling", now);
                record(c, id, now, by, "account.reenrolment_started",
                        JSON.createObjectNode().put("sessionsEnded", ended));
            } else if (a.status() == Account.Status.CREATED) {
                setStatus(c, id, Account.Status.ENROLMENT_PENDING, null, now);
            }
            record(c, id, now, by, "enrolment.code_issued",
                    JSON.createObjectNode().put("expiresAt", now.plus(ttl).toString()));
            return null;
        });
        return code;
    }

    /** Suspends an active account at once and ends its sessions. */
    public void suspend(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = lockAccount(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("退職済のアカウントです / The account is retired");
            }
            setStatus(c, id, Account.Status.SUSPENDED, reason.strip(), now);
            int ended = endSessions(c, id, now, "account suspended");
            record(c, id, now, by, "account.suspended",
                    JSON.createObjectNode().put("reason", reason.strip()).put("sessionsEnded", ended));
            return null;
        });
    }

    /** Lifts a suspension. An account that never finished enrolment goes back to enrolment pending. */
    public void reactivate(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = lockAccount(c, id);
            if (a.status() != Account.Status.SUSPENDED) {
                throw new IdentityException("停止中のアカウントではありません / The account is not suspended");
            }
            boolean enrolled;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM password_credential WHERE account_id = ?")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    enrolled = rs.next();
                }
            }
            Account.Status to = enrolled || a.type() == Account.Type.EMERGENCY ? Account.Status.ACTIVE
                    : Account.Status.CREATED;
            setStatus(c, id, to, null, now);
            // The unused-account clock restarts, or the next sweep would suspend it again at once.
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET last_login_at = NULL,"
                    + " status_changed_at = ? WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            record(c, id, now, by, "account.reactivated",
                    JSON.createObjectNode().put("reason", reason.strip()).put("status", to.code));
            return null;
        });
    }

    /**
     * Retires an account: at once if {@code at} is null or not in the future (sessions end now), otherwise
     * at that moment, when the account stops working even before the sweep marks it retired.
     */
    public void retire(UUID id, Instant at, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            Account a = lockAccount(c, id);
            if (a.status() == Account.Status.RETIRED) {
                throw new IdentityException("既に退職済です / The account is already retired");
            }
            if (at != null && at.isAfter(now)) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE account SET retire_at = ?,"
                        + " row_version = row_version + 1 WHERE account_id = ?")) {
                    ps.setTimestamp(1, Timestamp.from(at));
                    ps.setObject(2, id);
                    ps.executeUpdate();
                }
                record(c, id, now, by, "account.retirement_scheduled",
                        JSON.createObjectNode().put("at", at.toString()).put("reason", reason.strip()));
            } else {
                retireNow(c, id, now, reason.strip(), by);
            }
            return null;
        });
    }

    private void retireNow(Connection c, UUID id, Instant now, String reason, String by) throws SQLException {
        setStatus(c, id, Account.Status.RETIRED, reason, now);
        int ended = endSessions(c, id, now, "account retired");
        try (PreparedStatement ps = c.prepareStatement("UPDATE enrolment_code SET revoked_at = ? WHERE account_id = ?"
                + " AND used_at IS NULL AND revoked_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setObject(2, id);
            ps.executeUpdate();
        }
        record(c, id, now, by, "account.retired",
                JSON.createObjectNode().put("reason", reason).put("sessionsEnded", ended));
    }

    /** Marks the password compromised: the person must set a new one at the next login (and sessions end). */
    public void markPasswordCompromised(UUID id, String reason, String by) {
        requireReason(reason);
        Instant now = now();
        Tx.inTransaction(ds, c -> {
            lockAccount(c, id);
            try (PreparedStatement ps = c.prepareStatement("UPDATE password_credential SET compromised_at = ?"
                    + " WHERE account_id = ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE account SET must_change_password = true,"
                    + " row_version = row_version + 1 WHERE account_id = ?")) {
                ps.setObject(1, id);
                ps.executeUpdate();
            }
            int ended = endSessions(c, id, now, "password compromised");
            record(c, id, now, by, "password.marked_compromised",
                    JSON.createObjectNode().put("reason", reason.strip()).put("sessionsEnded", ended));
            return null;
        });
    }

    /**
     * Retires accounts whose retirement time has come and, when {@code suspendUnused}, suspends active
     * accounts unused for {@code unusedDays}. Returns what it did, one line each. Safe to run from several
     * processes at once.
     */
    public List<String> sweep(int unusedDays, boolean suspendUnused) {
        Instant now = now();
        List<String> done = new ArrayList<>();
        List<UUID> due = Tx.read(ds, c -> ids(c, "SELECT account_id FROM account WHERE retire_at <= ?"
                + " AND status <> 'retired'", now));
        for (UUID id : due) {
            Tx.inTransaction(ds, c -> {
                Account a = lockAccount(c, id);
                if (a.status() != Account.Status.RETIRED && a.retireAt() != null && !a.retireAt().isAfter(now)) {
                    retireNow(c, id, now, "scheduled retirement " + a.retireAt(), "system:retirement");
                    done.add("retired " + a.loginId());
                }
                return null;
            });
        }
        // Failure counters of ids nobody has tried for a day and that are not locked: kept no longer than needed.
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM login_throttle WHERE last_failure_at < ?"
                    + " AND (locked_until IS NULL OR locked_until < ?)")) {
                ps.setTimestamp(1, Timestamp.from(now.minus(Duration.ofDays(1))));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.executeUpdate();
            }
            return null;
        });
        if (suspendUnused) {
            for (Unused u : unused(unusedDays)) {
                if (u.account().type() == Account.Type.EMERGENCY) {
                    continue; // sealed for emergencies: unused by design, reported but never suspended
                }
                Tx.inTransaction(ds, c -> {
                    Account a = lockAccount(c, u.account().id());
                    if (a.status() == Account.Status.ACTIVE) {
                        setStatus(c, a.id(), Account.Status.SUSPENDED, "未使用 " + u.idleDays() + " 日 / unused for "
                                + u.idleDays() + " days", now);
                        endSessions(c, a.id(), now, "account unused");
                        record(c, a.id(), now, "system:unused-accounts", "account.suspended",
                                JSON.createObjectNode().put("reason", "unused for " + u.idleDays() + " days"));
                        done.add("suspended unused " + a.loginId());
                    }
                    return null;
                });
            }
        }
        return done;
    }

    /** Active accounts whose last login (or activation, if never used) is more than {@code days} ago. */
    public List<Unused> unused(int days) {
        Instant now = now();
        Instant cutoff = now.minus(Duration.ofDays(days));
        List<Unused> out = new ArrayList<>();
        for (Account a : list()) {
            if (a.status() != Account.Status.ACTIVE) {
                continue;
            }
            Instant last = a.lastLoginAt() != null ? a.lastLoginAt() : a.statusChangedAt();
            if (last.isBefore(cutoff)) {
                out.add(new Unused(a, last, Duration.between(last, now).toDays()));
            }
        }
        return out;
    }

    private static void requireReason(String reason) {
        if (reason == null || reason.isBlank() || reason.length() > 500) {
            throw new IdentityException("理由を入力してください（500文字まで） / A reason is required (up to 500 characters)");
        }
    }

    void setStatus(Connection c, UUID id, Account.Status s, String reason, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE account SET status = ?, status_reason = ?,"
                + " status_changed_at = ?, row_version = row_version + 1 WHERE account_id = ?")) {
            ps.setString(1, s.code);
            ps.setString(2, reason);
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setObject(4, id);
            ps.executeUpdate();
        }
    }

    static int endSessions(Connection c, UUID id, Instant now, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE web_session SET ended_at = ?, end_reason = ?"
                + " WHERE account_id = ? AND ended_at IS NULL")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, reason);
            ps.setObject(3, id);
            return ps.executeUpdate();
        }
    }

    /** Appends one line to the account's change history in a transaction of its own. */
    public void note(UUID id, String by, String action, Map<String, String> detail) {
        ObjectNode d = JSON.createObjectNode();
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

    // ---- reading ------------------------------------------------------------------------------------------

    public Optional<Account> find(UUID id) {
        return Tx.read(ds, c -> load(c, id));
    }

    public Optional<Account> findByLogin(String loginId) {
        String id = loginId == null ? "" : Normalizer.normalize(loginId, Normalizer.Form.NFKC).strip()
                .toLowerCase(Locale.ROOT);
        return Tx.read(ds, c -> {
            List<UUID> found = ids(c, "SELECT account_id FROM account WHERE login_id = ?", id);
            return found.isEmpty() ? Optional.<Account>empty() : load(c, found.get(0));
        });
    }

    /** Whether any account exists at all (the first-setup check). */
    public boolean any() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM account)");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
    }

    /** The whole ledger, retired accounts included, by login id: four queries whatever its size. */
    public List<Account> list() {
        return Tx.read(ds, c -> fetch(c, null));
    }

    public List<Change> history(UUID id) {
        return Tx.read(ds, c -> {
            List<Change> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT change_id, at, by_principal, action, detail::text"
                    + " FROM account_change WHERE account_id = ? ORDER BY change_id")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Change(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                                rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return out;
        });
    }

    public List<Proofing> proofings(UUID id) {
        return Tx.read(ds, c -> {
            List<Proofing> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT method, document_type, document_note, verified_by,"
                    + " verified_at FROM identity_proofing WHERE account_id = ? ORDER BY proofing_id")) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Proofing(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    public List<CatalogueEntry> catalogue() {
        return Tx.read(ds, Accounts::catalogue);
    }

    private static List<CatalogueEntry> catalogue(Connection c) throws SQLException {
        List<CatalogueEntry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT code, name_ja, name_en, licence_required,"
                + " licence_label_ja FROM qualification ORDER BY sort_order, code");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new CatalogueEntry(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                        rs.getString(5)));
            }
        }
        return out;
    }

    /** The ledger as CSV (UTF-8 with BOM, so that Excel in Japan opens it as UTF-8), one row per account. */
    public String ledgerCsv(ZoneId zone) {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(zone);
        StringBuilder sb = new StringBuilder("\uFEFF");
        sb.append("ログインID,氏名,カナ,種別,状態,状態の理由,資格(免許番号),部署,権限,作成日時,作成者,最終ログイン,退職予定,本人確認\r\n");
        for (Account a : list()) {
            List<Proofing> p = proofings(a.id());
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

    Account lockAccount(Connection c, UUID id) throws SQLException {
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
                        rs.getString(9), instant(rs.getTimestamp(10)), instant(rs.getTimestamp(11)),
                        instant(rs.getTimestamp(12)), rs.getString(13), instant(rs.getTimestamp(14)),
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

    static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    static byte[] sha256(String s) {
        return Hashes.sha256(s.getBytes(StandardCharsets.UTF_8));
    }
}
