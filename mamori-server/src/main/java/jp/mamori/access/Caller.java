package jp.mamori.access;

import java.util.Set;
import java.util.UUID;
import jp.mamori.identity.Scope;

/**
 * Who is asking: an authenticated principal and what it holds. Every record operation takes one, and
 * the author of every version is taken from it, never from the request body.
 *
 * <p>A system client holds SMART scopes and no person. A person (an account: staff using the console)
 * holds no scopes; their access is decided by {@link PersonAccess} from the {@link PersonContext} read
 * once for the request.
 *
 * @param principal stable identifier recorded as the author, e.g. {@code client:9f2c...} or {@code account:...}
 * @param display   human-readable name for logs and reports
 * @param address   the client's network address, for the record
 * @param person    the person's roles, privileges and care assignments; null for system clients
 */
public record Caller(String principal, String display, Set<Scope> scopes, String address, PersonContext person) {
    public Caller {
        if (principal == null || principal.isBlank()) {
            throw new IllegalArgumentException("a caller needs a principal");
        }
        scopes = Set.copyOf(scopes);
        if (person != null && !scopes.isEmpty()) {
            throw new IllegalArgumentException("a person holds no SMART scopes; their roles decide");
        }
    }

    /** A system client with SMART scopes. */
    public Caller(String principal, String display, Set<Scope> scopes, String address) {
        this(principal, display, scopes, address, null);
    }

    /** A person, with what {@link PersonContext#load} read for this request. */
    public static Caller person(PersonContext person, String display, String address) {
        return new Caller("account:" + person.accountId(), display, Set.of(), address, person);
    }

    /** The server itself, for work that no request asked for (e.g. verification). */
    public static Caller system(String what) {
        return new Caller("system:" + what, "Mamori " + what, Set.of(Scope.parse("system/*.*")), "local");
    }

    public boolean isPerson() {
        return person != null;
    }

    /** The person's account, or null for a system client. */
    public UUID accountId() {
        return person == null ? null : person.accountId();
    }
}
