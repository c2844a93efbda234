package jp.mamori.access.web;

import jp.mamori.access.PersonContext;

import java.util.Arrays;
import java.util.List;

/**
 * The view models of the access administration pages ({@link AccessPages}; templates {@code access/admin*.jte}).
 * Public because the compiled templates live in their own package. Names held in both languages by the database
 * (roles, categories, labels) are already chosen for the request's language; scopes, states and review decisions
 * are codes that the templates name ({@code access.admin.scope.CODE}, {@code access.admin.state.CODE},
 * {@code access.admin.decision.CODE}). Times are formatted, people are their login ids.
 */
public final class AccessViews {
    /** The scope codes, in the order the forms offer them. */
    public static final List<String> SCOPES = Arrays.stream(PersonContext.Scope.values()).map(s -> s.code).toList();
    /** The states of an assignment or a privilege. */
    public static final List<String> STATES = List.of("inForce", "pending", "revoked", "rejected");

    private AccessViews() {
    }

    /** The state of an assignment or a privilege: approved or not, revoked or not. */
    static String state(boolean approved, boolean revoked) {
        if (revoked) {
            return approved ? "revoked" : "rejected";
        }
        return approved ? "inForce" : "pending";
    }

    /** The menu of the access pages (nothing to show but links). */
    public record Index() {
    }

    /**
     * A role in the list.
     *
     * @param codeParam the code as a query parameter value (URL-encoded)
     * @param scope     the default scope's code
     */
    public record RoleRow(String code, String codeParam, String name, boolean builtin, boolean clinical, String scope) {
    }

    /**
     * The roles and the form that adds an institution role (filled again after a refusal).
     *
     * @param error why the last form was refused, or ""
     */
    public record Roles(String error, List<RoleRow> roles, String code, String nameJa, String nameEn,
                        List<String> scopes, String csrf) {
    }

    /**
     * One permission box: a category with an action.
     *
     * @param value   the form value, {@code category:action}
     * @param label   its accessible name, {@code category action}
     * @param refused whether the role may not hold it (a clinical category, a role without clinical content)
     */
    public record Cell(String value, String label, boolean on, boolean refused) {
    }

    /** A category's row of permission boxes. @param clinical whether the category is clinical (marked *) */
    public record CategoryRow(String name, boolean clinical, List<Cell> cells) {
    }

    /**
     * One role and its permissions; an institution role's permissions are a form, a built-in role's are shown only.
     *
     * @param error   why the last form was refused, or ""
     * @param scope   the default scope's code
     * @param actions the actions' names, in the order of the columns
     */
    public record Role(String error, String code, String name, boolean builtin, boolean clinical, String scope,
                       List<String> actions, List<CategoryRow> categories, String csrf) {
        public boolean editable() {
            return !builtin;
        }
    }

    /** A choice in a select. */
    public record Option(String value, String label) {
    }

    /**
     * A role assignment of a person.
     *
     * @param role     the role's name and code
     * @param scope    the scope's code
     * @param state    the state's code ({@link #STATES})
     * @param granted  who granted it and when
     * @param approved who approved it and when, or " " when nobody has yet
     * @param revoked  when it was revoked and by whom, or null when it is not
     */
    public record Assignment(String id, String role, String department, String scope, String state, String granted,
                             String approved, String revoked) {
    }

    /** A sensitivity privilege of a person. @param state the state's code; @param granted who and when */
    public record Privilege(String id, String label, String state, String granted, boolean revoked) {
    }

    /**
     * A person's roles and sensitivity privileges, with the forms that assign and grant them.
     *
     * @param error       why the last form was refused, or ""
     * @param departments the person's departments, joined
     * @param roles       the roles that may be assigned
     * @param department  the assignment form's department, as sent
     * @param labels      the labels that may be granted
     */
    public record AccountRoles(String error, String accountId, String loginId, String departments,
                               List<Assignment> assignments, List<Option> roles, String department, List<String> scopes,
                               List<Privilege> privileges, List<Option> labels, String csrf) {
    }

    /**
     * A request awaiting a second administrator.
     *
     * @param kind        "role" or "privilege"
     * @param what        the role's name, department (and {@code scope}), or the privilege's label
     * @param scope       the scope's code of a role assignment, null for a privilege
     * @param mayApprove  whether the administrator looking may approve it
     * @param own         whether that administrator asked for it (they withdraw it rather than reject it)
     */
    public record Pending(String kind, String item, String person, String what, String scope, String requestedBy,
                          String at, boolean mayApprove, boolean own) {
    }

    /** An approval by a sole administrator awaiting a third one. @param approved who approved it and when */
    public record Unconfirmed(String item, String person, String what, String approved, boolean mayConfirm) {
    }

    /**
     * The four-eyes queue.
     *
     * @param error              why the last approval was refused, or ""
     * @param soleAdministrator  whether the administrator looking is the only one
     */
    public record Approvals(String error, List<Pending> pending, boolean soleAdministrator,
                            List<Unconfirmed> unconfirmed, String csrf) {
    }

    /**
     * A care relationship of a patient.
     *
     * @param department the department, or null for any
     * @param period     from and until
     * @param added      who added it and when
     * @param ended      when it ended and by whom, or null when it has not
     */
    public record Care(String id, String person, boolean careTeam, String department, String period, String added,
                       String ended) {
    }

    /**
     * A patient as the administrator's pages show them: demographics only, never clinical content (ACCESS-7).
     *
     * @param ref       the Patient record's id, for links and forms only (never shown as the 患者ID)
     * @param patientId the 患者ID as the patient banner shows it, or ""
     * @param sex       in words
     * @param birth     the birth date in words, or ""
     * @param known     false when the record is not there (then only {@code name} says so)
     */
    public record PatientLabel(String ref, String name, String kana, String patientId, String sex, String birth,
                               boolean known) {
    }

    /**
     * The care relationships page: the patient search (by 患者ID, name in kanji or kana, birth date), its results,
     * and the chosen patient's relationships with the form that adds one.
     *
     * @param error     why the last form was refused, or ""
     * @param searched  whether a search ran (then {@code found})
     * @param more      whether the search found more than it shows (the person is asked to narrow it)
     * @param patient   the chosen patient, or null when none is chosen
     */
    public record CarePage(String error, String patientId, String name, String birthdate, boolean searched,
                           List<PatientLabel> found, boolean more, int max, PatientLabel patient,
                           List<Care> relationships, String loginId, String department, String csrf) {
    }

    /** A change of the access model. */
    public record Change(String at, String by, String action, String subject, String detail) {
    }

    /** The change history, newest first. */
    public record History(List<Change> changes) {
    }

    /**
     * A review in the list.
     *
     * @param started   when and by whom
     * @param completed when and by whom, or null while it is open
     */
    public record ReviewRow(String id, String department, String started, String completed, int decided, int items,
                            int removed) {
    }

    /** The reviews and the form that starts one. @param error why the last form was refused, or "" */
    public record Reviews(String error, String department, List<ReviewRow> reviews, String csrf) {
    }

    /**
     * A role under review.
     *
     * @param person    name and login id
     * @param lastLogin the last login, or null for never
     * @param decision  the decision's code, or null while undecided
     * @param decided   who decided and when
     * @param note      the reviewer's note, or null
     */
    public record Item(String id, String person, String role, String lastLogin, String decision, String decided,
                       String note) {
    }

    /**
     * One review: its roles, each decided or with the form that decides it while the review is open.
     *
     * @param error     why the last form was refused, or ""
     * @param started   when and by whom
     * @param completed when and by whom, or null while it is open
     * @param decisions the decision codes the form offers
     */
    public record Review(String error, String id, String department, String started, String completed,
                         List<Item> items, List<String> decisions, String csrf) {
        public boolean open() {
            return completed == null;
        }
    }

    /**
     * A role or a sensitivity privilege in a report.
     *
     * @param role      whether it is a role (else a sensitivity privilege)
     * @param what      the role's name and code, or the privilege's label
     * @param lastLogin the last login, or null for never
     */
    public record Holding(String accountId, String person, boolean role, String what, String department,
                          String lastLogin) {
    }

    /** The reports: roles and privileges unused for {@code days}, and who reaches guarded information. */
    public record Reports(int days, List<Holding> unused, List<Holding> sensitive) {
    }

    /** A page about something that does not exist. */
    public record NotFound(String message) {
    }
}
