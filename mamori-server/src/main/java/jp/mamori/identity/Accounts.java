package jp.mamori.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.kernel.Hashes;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The account ledger (利用者・アカウント台帳): who may use Mamori, how each person's identity was verified,
 * and every change made to their account. Every change is written to {@code account_change} in the same
 * transaction as the change itself, with the principal who made it.
 *
 * <p>Ending an account's sessions is part of suspending or retiring it: callers MUST NOT do it separately.
 *
 * <p>The entry point of the use cases, each in a class of its own: {@link AccountCreation} (a new account,
 * its checks and identity proofing), {@link AccountQualifications} (licences and professional qualifications),
 * {@link AccountLifecycle} (enrolment codes, suspension, reactivation, retirement, the unused-account sweep)
 * and {@link AccountLedger} (reading the register, the change history, the CSV export).
 */
public final class Accounts {
    /** May create, suspend and retire accounts, and see the ledger. */
    public static final String ADMIN_ROLE = "account_admin";

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

    private final AccountLedger ledger;
    private final AccountCreation creation;
    private final AccountQualifications qualifications;
    private final AccountLifecycle lifecycle;
    private final DataSource ds;
    private final Clock clock;

    public Accounts(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
        this.ledger = new AccountLedger(ds, clock);
        this.creation = new AccountCreation(ds, clock);
        this.qualifications = new AccountQualifications(ds, clock);
        this.lifecycle = new AccountLifecycle(ds, clock, ledger);
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

    /**
     * Creates a partner clinician's account (連携先医療者; issue 21, AUTH-11) with its institution, in one transaction:
     * identity-proofed like staff (AUTH-10), {@code created} until enrolment sets its password and second factor, and
     * with no role at all (qualifications are recorded for who they are, never turned into roles): what it reaches is
     * only what the access capability's shares give it.
     */
    public Account createPartner(NewAccount n, PartnerInstitutions.Institution institution, String by) {
        if (n.type() != Account.Type.PARTNER) {
            throw new IllegalArgumentException("not a partner account");
        }
        if (n.roles() != null && !n.roles().isEmpty()) {
            throw new IdentityException("連携先医療者のアカウントには役割を付けられません / A partner clinician's account"
                    + " holds no role");
        }
        PartnerInstitutions.Institution i = PartnerInstitutions.check(institution == null ? null : institution.name(),
                institution == null ? null : institution.code());
        return create(new NewAccount(n.loginId(), n.familyName(), n.givenName(), n.familyKana(), n.givenKana(),
                n.type(), n.qualifications(), List.of(), Set.of(), n.proofing()), by, (c, a) ->
                PartnerInstitutions.insert(c, a.id(), i, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS),
                        by));
    }

    /** The institution of a partner clinician's account; empty for every other account. */
    public Optional<PartnerInstitutions.Institution> partnerInstitution(UUID account) {
        return PartnerInstitutions.of(ds, account);
    }

    /** The institutions of all partner clinicians' accounts, by account. */
    public Map<UUID, PartnerInstitutions.Institution> partnerInstitutions() {
        return PartnerInstitutions.all(ds);
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
        return creation.create(n, by, also);
    }

    /**
     * SQL that is true while the account {@code accountExpr} is an active member of staff: what a credential given to
     * an app for the person (SMART on FHIR, issue 21) checks with every use, so that it stops working the moment the
     * person is suspended, retired or locked out for compromise. The one definition; other capabilities embed it.
     */
    public static String activeStaffSql(String accountExpr) {
        return "EXISTS (SELECT 1 FROM account acct WHERE acct.account_id = " + accountExpr
                + " AND acct.status = 'active' AND acct.account_type = 'staff')";
    }

    /** Normalises and checks a login id; generic ids that would be shared are refused (ACCT-6). */
    public static String checkLoginId(String raw) {
        return AccountCreation.checkLoginId(raw);
    }

    /** Records a further identity proofing (e.g. when a licence is renewed or the first record was incomplete). */
    public void addProofingRecord(UUID id, Proofing p, String by) {
        creation.addProofingRecord(id, p, by);
    }

    /**
     * Adds a department to an account (e.g. a directory's proposal an administrator accepted, issue 21); recorded in
     * the ledger's history ({@code department.added}). A department the account already has is not added twice.
     */
    public void addDepartment(UUID id, String department, String by) {
        creation.addDepartment(id, department, by);
    }

    // ---- qualifications -----------------------------------------------------------------------------------

    /** Adds a qualification (e.g. a licence obtained after the account was made); recorded in the history. */
    public void addQualification(UUID id, QualificationGrant grant, String by) {
        qualifications.add(id, grant, by);
    }

    public List<CatalogueEntry> catalogue() {
        return qualifications.catalogue();
    }

    // ---- lifecycle ----------------------------------------------------------------------------------------

    /**
     * Issues a one-time enrolment code (single use, expires after {@code ttl}); earlier unused codes stop
     * working. The account moves to enrolment pending. Returns the code, which is not kept.
     */
    public String issueEnrolmentCode(UUID id, Duration ttl, String by) {
        return lifecycle.issueEnrolmentCode(id, ttl, by);
    }

    /** Suspends an active account at once and ends its sessions. */
    public void suspend(UUID id, String reason, String by) {
        lifecycle.suspend(id, reason, by);
    }

    /** Lifts a suspension. An account that never finished enrolment goes back to enrolment pending. */
    public void reactivate(UUID id, String reason, String by) {
        lifecycle.reactivate(id, reason, by);
    }

    /**
     * Retires an account: at once if {@code at} is null or not in the future (sessions end now), otherwise
     * at that moment, when the account stops working even before the sweep marks it retired.
     */
    public void retire(UUID id, Instant at, String reason, String by) {
        lifecycle.retire(id, at, reason, by);
    }

    /** Marks the password compromised: the person must set a new one at the next login (and sessions end). */
    public void markPasswordCompromised(UUID id, String reason, String by) {
        lifecycle.markPasswordCompromised(id, reason, by);
    }

    /**
     * Retires accounts whose retirement time has come and, when {@code suspendUnused}, suspends active
     * accounts unused for {@code unusedDays}. Returns what it did, one line each. Safe to run from several
     * processes at once.
     */
    public List<String> sweep(int unusedDays, boolean suspendUnused) {
        return lifecycle.sweep(unusedDays, suspendUnused);
    }

    /** Active accounts whose last login (or activation, if never used) is more than {@code days} ago. */
    public List<Unused> unused(int days) {
        return lifecycle.unused(days);
    }

    // ---- the ledger ---------------------------------------------------------------------------------------

    /** Appends one line to the account's change history in a transaction of its own. */
    public void note(UUID id, String by, String action, Map<String, String> detail) {
        ledger.note(id, by, action, detail);
    }

    public Optional<Account> find(UUID id) {
        return ledger.find(id);
    }

    public Optional<Account> findByLogin(String loginId) {
        return ledger.findByLogin(loginId);
    }

    /** Whether any account exists at all (the first-setup check). */
    public boolean any() {
        return ledger.any();
    }

    /** The whole ledger, retired accounts included, by login id: four queries whatever its size. */
    public List<Account> list() {
        return ledger.list();
    }

    public List<Change> history(UUID id) {
        return ledger.history(id);
    }

    public List<Proofing> proofings(UUID id) {
        return ledger.proofings(id);
    }

    /** The ledger as CSV (UTF-8 with BOM, so that Excel in Japan opens it as UTF-8), one row per account. */
    public String ledgerCsv(ZoneId zone) {
        return ledger.ledgerCsv(zone);
    }

    // ---- for the rest of the identity package, inside the caller's transaction ----------------------------

    /** Checks and normalises a new account's fields, then creates it inside the caller's transaction. */
    Account createChecked(Connection c, NewAccount n, Instant now, String by) throws SQLException {
        return AccountCreation.createChecked(c, n, now, by);
    }

    void insertAccount(Connection c, UUID id, String loginId, String family, String given, String familyKana,
                       String givenKana, Account.Type type, Account.Status status, String reason, Instant now,
                       String by) throws SQLException {
        AccountCreation.insertAccount(c, id, loginId, family, given, familyKana, givenKana, type, status, reason,
                now, by);
    }

    void setStatus(Connection c, UUID id, Account.Status s, String reason, Instant now) throws SQLException {
        AccountLifecycle.setStatus(c, id, s, reason, now);
    }

    Account lockAccount(Connection c, UUID id) throws SQLException {
        return AccountLedger.lock(c, id);
    }

    static Optional<Account> load(Connection c, UUID id) throws SQLException {
        return AccountLedger.load(c, id);
    }

    /** Appends one line to the account's change history, inside the caller's transaction. */
    static void record(Connection c, UUID id, Instant at, String by, String action, ObjectNode detail)
            throws SQLException {
        AccountLedger.record(c, id, at, by, action, detail);
    }

    static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
