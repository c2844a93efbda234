package jp.mamori.access;

import java.util.Set;

/**
 * Who is asking: an authenticated principal and what it holds. Every record operation takes one, and
 * the author of every version is taken from it, never from the request body.
 *
 * @param principal stable identifier recorded as the author, e.g. {@code client:9f2c...}
 * @param display   human-readable name for logs and reports
 * @param address   the client's network address, for the record
 */
public record Caller(String principal, String display, Set<Scope> scopes, String address) {
    public Caller {
        if (principal == null || principal.isBlank()) {
            throw new IllegalArgumentException("a caller needs a principal");
        }
        scopes = Set.copyOf(scopes);
    }

    /** The server itself, for work that no request asked for (e.g. verification). */
    public static Caller system(String what) {
        return new Caller("system:" + what, "Mamori " + what, Set.of(Scope.parse("system/*.*")), "local");
    }
}
