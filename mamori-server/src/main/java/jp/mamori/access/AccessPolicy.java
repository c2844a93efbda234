package jp.mamori.access;

import jp.mamori.records.FhirError;

/**
 * The one authorization point for patient data. The record service calls it for every read, search,
 * history, write and bundle entry; no handler reaches the store around it (ACCESS-*).
 *
 * <p>Today it enforces the SMART scopes of system clients; care relationships, sensitivity labels and
 * break-glass attach here as the access capability grows.
 */
public final class AccessPolicy {

    /** Throws a 403 {@link FhirError} unless {@code caller} may do {@code p} on resources of {@code type}. */
    public void require(Caller caller, String type, Scope.Permission p) {
        if (!allows(caller, type, p)) {
            throw FhirError.forbidden("scope system/" + type + "." + letter(p) + " (or system/" + type
                    + "." + (p == Scope.Permission.READ || p == Scope.Permission.SEARCH ? "read" : "write")
                    + ") is required for " + p.name().toLowerCase() + " on " + type
                    + " / この操作を行う権限がありません");
        }
    }

    /** Whether {@code caller} may do {@code p} on resources of {@code type}; for filtering includes. */
    public boolean allows(Caller caller, String type, Scope.Permission p) {
        for (Scope s : caller.scopes()) {
            if (s.allows(type, p)) {
                return true;
            }
        }
        return false;
    }

    private static char letter(Scope.Permission p) {
        return switch (p) {
            case CREATE -> 'c';
            case READ -> 'r';
            case UPDATE -> 'u';
            case DELETE -> 'd';
            case SEARCH -> 's';
        };
    }
}
