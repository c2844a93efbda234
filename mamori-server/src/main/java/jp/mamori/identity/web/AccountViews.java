package jp.mamori.identity.web;

import java.util.List;

/**
 * The view models of "my account" and account administration ({@link AccountPages}; templates under
 * {@code identity/}). Public because the compiled templates live in their own package; they hold what a page
 * shows, already chosen and formatted (times as the console shows them, names in the request's language), and
 * nothing that could reach the database. {@code error} and {@code notice} are a message to show, or "" (none).
 */
public final class AccountViews {
    private AccountViews() {
    }

    /** A passkey of the person's, on their account page. */
    public record PasskeyRow(String credentialId, String nickname, String added, String lastUsed) {
    }

    /**
     * An open session.
     *
     * @param mine  whether it is the session of the page's own request ("this one")
     * @param state {@code locked}, {@code active} or {@code signingIn}
     */
    public record SessionRow(String ref, String loginId, boolean mine, String started, String lastSeen, String state,
                             String amr, String address) {
    }

    /** Open sessions, each with a form to end it at {@code action}. */
    public record SessionTable(String action, List<SessionRow> rows, String csrf) {
    }

    /**
     * "My account".
     *
     * @param name the display name with the kana
     */
    public record Me(String notice, String name, String loginId, String qualifications, String departments,
                     List<PasskeyRow> passkeys, boolean totp, int recoveryCodesLeft, SessionTable sessions, String csrf,
                     List<gg.jte.Content> parts) {
    }

    /** @param mustChange whether the password must be changed before anything else (it may have been exposed) */
    public record Password(String error, boolean mustChange, String csrf) {
    }

    /** An account in the ledger. @param status the status code, for the row's class; statusName its name */
    public record LedgerRow(String id, String loginId, String displayName, String type, String status,
                            String statusName, String qualifications, String lastLogin, String retires) {
    }

    /** A status the ledger can be filtered by. */
    public record StatusFilter(String code, String name) {
    }

    /** The account ledger. @param locked how many accounts are locked now after failed logins */
    public record Ledger(List<StatusFilter> statuses, List<LedgerRow> rows, int locked) {
    }

    /**
     * A qualification of the catalogue as the new-account form offers it (filled again after a refusal).
     *
     * @param licenceLabel what the licence number field asks for, or null when the qualification needs none
     */
    public record QualificationChoice(String code, String name, boolean checked, String licenceLabel, String licence) {
    }

    /** The identity proofing fields (filled again after a refusal). @param date the day verified, YYYY-MM-DD */
    public record ProofingForm(String note, String by, String date) {
    }

    /** The new-account form. */
    public record NewAccount(String error, String loginId, String familyName, String givenName, String familyKana,
                             String givenKana, List<QualificationChoice> catalogue, String departments, ProofingForm proofing,
                             String csrf, String type, String institutionName, String institutionCode) {
    }

    /** An enrolment code just issued, shown once. */
    public record Issued(String code, String link, String expires) {
    }

    /** A proofing record of the account: method and document in words, the day verified. */
    public record ProofingRow(String method, String document, String note, String by, String at) {
    }

    /**
     * A change in the account's history.
     *
     * @param by   who made it, by name
     * @param what what changed, as a sentence
     */
    public record Change(String at, String by, String what) {
    }

    /** A qualification the administrator can add. */
    public record Option(String code, String name) {
    }

    /**
     * One account, for an administrator.
     *
     * @param issued        the enrolment code just issued, or null
     * @param name          the display name with the kana
     * @param status        the status's name, with its reason when there is one
     * @param created       when and by whom
     * @param issueCode     whether an enrolment code can be issued (created, enrolment pending)
     * @param reenrol       whether the active account can be enrolled again
     * @param suspend       whether it can be suspended
     * @param reactivate    whether it can be reactivated
     * @param retirable     whether it is not retired yet (retire, password compromised, add a qualification)
     */
    public record Detail(String notice, Issued issued, String id, String name, String loginId, String type,
                          String status, String qualifications, String departments, String roles, String created,
                          String lastLogin, String retirement, boolean issueCode, boolean reenrol, boolean suspend,
                          boolean reactivate, boolean retirable, List<Option> catalogue, List<ProofingRow> proofings,
                          ProofingForm proofing, SessionTable sessions, List<Change> history, String csrf) {
    }

    /**
     * An account locked after failed logins.
     *
     * @param lastFailure when the last failure was, date and time (JST)
     * @param until       when the lock ends, HH:MM (JST)
     * @param reason      the reason typed for releasing it, kept when the release was refused
     */
    public record LockRow(String id, String loginId, String displayName, int failures, String lastFailure,
                          String until, String reason) {
    }

    /** The accounts locked after failed logins, each with a form to release its lock. */
    public record Locks(String notice, String error, List<LockRow> rows, String csrf) {
    }

    /** An account unused for a while. */
    public record UnusedRow(String id, String loginId, String displayName, String lastUsed, long days) {
    }

    /** @param suspend whether the policy suspends them (otherwise they are only reported) */
    public record Unused(int days, boolean suspend, List<UnusedRow> rows) {
    }

    /** A terminal excused from the second factor. */
    public record ExceptionRow(String id, String name, String range, String control, String expires, boolean inForce) {
    }

    /** The exception terminals and the form to add one (filled again after a refusal). */
    public record Exceptions(String error, List<ExceptionRow> rows, String name, String range, String control,
                             String csrf) {
    }

    /** A new emergency account's password, shown once to be printed and sealed. */
    public record Sealed(String loginId, String password) {
    }

    /** The emergency in force. */
    public record Declaration(String by, String from, String until, String reason) {
    }

    /** A use of an emergency account; who reviewed it, when and what they found once it is reviewed. */
    public record Use(long id, String loginId, String started, String address, boolean reviewed, String reviewedBy,
                      String reviewedAt, String note) {
    }

    /**
     * The emergency page.
     *
     * @param sealed      the account just created, or null
     * @param declaration the emergency in force, or null
     */
    public record Emergency(String error, Sealed sealed, Declaration declaration, String declaredBy, String reason,
                            String label, List<Use> uses, String csrf) {
    }
}
