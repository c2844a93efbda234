package jp.mamori.audit;

import jp.mamori.access.Caller;
import jp.mamori.access.PersonContext;
import jp.mamori.identity.Sessions;
import jp.mamori.kernel.Hashes;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Who acted, as an entry records them: principal, kind, display name, roles, department, network address and
 * session (a hash or a session's public reference, never a secret). Built from what the caller has: an
 * {@link Caller} (the FHIR API, the clinician console), a console {@link Sessions.Session}, the server itself, or
 * nobody ({@link #anonymous}).
 *
 * @param department null when none
 * @param address    null when unknown
 * @param session    null when none
 */
public record Actor(String principal, ActorKind kind, String display, List<String> roles, String department,
                    String address, String session) {
    public Actor {
        if (principal == null || principal.isBlank() || kind == null) {
            throw new IllegalArgumentException("an actor needs a principal and a kind");
        }
        roles = roles == null ? List.of() : List.copyOf(roles);
    }

    /**
     * An authenticated caller: a person (with the roles and departments of their access context), a system client,
     * or the server's own {@code system:} caller.
     *
     * @param session a short hash of the credential ({@link #credentialHash}) or the console session's reference
     */
    public static Actor of(Caller caller, String address, String session) {
        if (!caller.isPerson()) {
            return new Actor(caller.principal(), caller.principal().startsWith("system:") ? ActorKind.SYSTEM
                    : ActorKind.CLIENT, caller.display(), List.of(), null, address, session);
        }
        // plain loops rather than streams: the clinician console builds one of these per page
        Set<String> roles = new LinkedHashSet<>();
        Set<String> departments = new LinkedHashSet<>();
        for (PersonContext.HeldRole r : caller.person().roles()) {
            roles.add(r.role());
            departments.add(r.department());
        }
        String department = String.join(",", departments);
        if (caller.throughApp()) {
            // A person acting through an app (SMART on FHIR): the person is the actor, the app and the grant its token
            // came from are the session, so that audit views and access reports name both (AUDIT-1, issue 21).
            Caller.App app = caller.app();
            return new Actor(caller.principal(), ActorKind.PERSON, caller.display() + "（アプリ: " + app.name() + "）",
                    new ArrayList<>(roles), department.isEmpty() ? null : department, address,
                    appSession(app.clientId(), app.grant(), session));
        }
        return new Actor(caller.principal(), ActorKind.PERSON, caller.display(), new ArrayList<>(roles),
                department.isEmpty() ? null : department, address, session);
    }

    /**
     * The session an entry records for a person acting through an app: {@code app:CLIENT_ID grant:GRANT} and the
     * credential's short hash, never the token.
     */
    public static String appSession(String clientId, String grant, String credentialHash) {
        return "app:" + clientId + " grant:" + grant + (credentialHash == null ? "" : " " + credentialHash);
    }

    /** A person signed in to the console, with the roles their session holds and no department. */
    public static Actor of(Sessions.Session s, String address) {
        return new Actor(s.principal(), ActorKind.PERSON, s.displayName(), List.copyOf(s.roles()), null, address,
                s.ref());
    }

    /** A person named by principal, e.g. the reviewer who signs off a review period. */
    public static Actor person(String principal, String display, List<String> roles, String department,
                               String address, String session) {
        return new Actor(principal, ActorKind.PERSON, display, roles, department, address, session);
    }

    /** The server itself ({@code system:what}, "Mamori what"), acting locally: start, stop, checks, tools. */
    public static Actor server(String what) {
        return new Actor("system:" + what, ActorKind.SYSTEM, "Mamori " + what, List.of(), null, "local", null);
    }

    /**
     * The name a record keeps for this actor (who approved, who wrote a version of a register): its display name, or
     * its principal when it has none, at most {@code max} characters.
     */
    public String name(int max) {
        String n = display == null ? principal : display;
        return n.length() > max ? n.substring(0, max) : n;
    }

    /** Someone whose credential was refused. */
    public static Actor anonymous(String address, String session) {
        return new Actor("anonymous", ActorKind.ANONYMOUS, null, List.of(), null, address, session);
    }

    /**
     * A short keyed hash of a credential (a bearer token, a client certificate): the same session is recognisable in
     * the trail, the secret is not recorded. Null for none.
     */
    public static String credentialHash(String credential) {
        if (credential == null || credential.isEmpty()) {
            return null;
        }
        byte[] h = Hashes.sha256("mamori-audit-session:" + credential);
        return HexFormat.of().formatHex(h, 0, 12);
    }
}
