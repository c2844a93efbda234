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
 * once for the request. A person acting through an app (SMART on FHIR, issue 21) holds the {@code user/} and
 * {@code patient/} scopes they granted it, and the app: the scopes only restrict what the person may do
 * ({@link AccessPolicy} decides both and keeps what both allow).
 *
 * @param principal stable identifier recorded as the author, e.g. {@code client:9f2c...} or {@code account:...}
 * @param display   human-readable name for logs and reports
 * @param address   the client's network address, for the record
 * @param person    the person's roles, privileges and care assignments; null for system clients
 * @param app       the app a person acts through, with the scopes they granted it; null otherwise
 */
public record Caller(String principal, String display, Set<Scope> scopes, String address, PersonContext person,
                     App app) {
    /**
     * The app a person acts through (SMART on FHIR): its client id and name, the patient of its launch context (for
     * {@code patient/} scopes; null without one), a short reference of the grant the token came from, and whether
     * the person granted it {@code fhirUser} (it may then read the person's own Practitioner, whatever the scopes).
     */
    public record App(String clientId, String name, String patient, String grant, boolean fhirUser) {
        public App {
            if (clientId == null || clientId.isBlank()) {
                throw new IllegalArgumentException("an app needs a client id");
            }
        }

        /** An app not granted {@code fhirUser}. */
        public App(String clientId, String name, String patient, String grant) {
            this(clientId, name, patient, grant, false);
        }
    }

    public Caller {
        if (principal == null || principal.isBlank()) {
            throw new IllegalArgumentException("a caller needs a principal");
        }
        scopes = Set.copyOf(scopes);
        if (person != null && app == null && !scopes.isEmpty()) {
            throw new IllegalArgumentException("a person holds no SMART scopes; their roles decide");
        }
        if (app != null && person == null) {
            throw new IllegalArgumentException("an app acts for a person");
        }
        for (Scope s : scopes) {
            if ((person == null) != (s.context() == Scope.Context.SYSTEM)) {
                throw new IllegalArgumentException("scope " + s.text() + " does not fit this caller: system scopes are"
                        + " a system client's, user/ and patient/ scopes a person's app's");
            }
        }
    }

    /** A caller without an app. */
    public Caller(String principal, String display, Set<Scope> scopes, String address, PersonContext person) {
        this(principal, display, scopes, address, person, null);
    }

    /** A system client with SMART scopes. */
    public Caller(String principal, String display, Set<Scope> scopes, String address) {
        this(principal, display, scopes, address, null, null);
    }

    /** A person, with what {@link PersonContext#load} read for this request. */
    public static Caller person(PersonContext person, String display, String address) {
        return new Caller("account:" + person.accountId(), display, Set.of(), address, person, null);
    }

    /**
     * A person acting through an app with the scopes they granted it (SMART on FHIR): decided as the person, and
     * restricted to {@code scopes}.
     */
    public static Caller personThroughApp(PersonContext person, String display, String address, Set<Scope> scopes,
                                          App app) {
        if (app == null) {
            throw new IllegalArgumentException("an app is required");
        }
        return new Caller("account:" + person.accountId(), display, scopes, address, person, app);
    }

    /** Whether this is a person acting through an app, whose scopes restrict them. */
    public boolean throughApp() {
        return app != null;
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
