package jp.mamori.web.console;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The forms the gate holds while their sender gives a fresh second factor (step-up, AUTH-2): the typed reason of a
 * break-glass or a care relationship is not lost (STORE-9, accurate input), and the request continues after the
 * step-up.
 *
 * <p>Held in this process's memory only, never in a URL or a cookie: at most one form per session (a newer one
 * replaces it), each for at most {@link #LIFETIME} (the step-up window), at most {@link #MAX_FORMS} forms and
 * {@link #MAX_CHARS} characters in all (the oldest go first). A form is bound to its session and that session's
 * CSRF token, and named by a random ticket that only the step-up page of that request carries: it is taken
 * (removed) by the first step-up of the session, and runs only when that step-up names it. In a deployment of
 * several processes, a step-up answered by another process finds nothing and the person is sent back to the page
 * the form was on, as before.
 */
final class PendingForms {
    static final Duration LIFETIME = jp.mamori.identity.Sessions.STEP_UP_FRESH;
    static final int MAX_FORMS = 1000;
    static final long MAX_CHARS = 4L * 1024 * 1024;

    /** A held request. {@code csrf} is the CSRF token of the session it came with. */
    record Pending(String ticket, String csrf, String method, String path, Map<String, List<String>> query,
                   Map<String, List<String>> form, String referer, Instant expires, long chars) {
        @Override
        public String toString() {
            return "Pending[" + method + " " + path + "]";
        }
    }

    private final Map<String, Pending> bySession = new LinkedHashMap<>();
    private long chars;

    /** Fields that hold a secret: a form with one is never held (the person sends it again after the step-up). */
    static final java.util.Set<String> SECRET_FIELDS = java.util.Set.of("password", "password2", "current", "pin",
            "secret", "recovery_code");

    /** Whether a form may be held: it carries no secret (a PIN or password does not wait in memory). */
    static boolean holdable(Map<String, List<String>> form) {
        return form.keySet().stream().noneMatch(SECRET_FIELDS::contains);
    }

    /** Holds a request for the session {@code sessionRef}; returns its ticket. */
    synchronized String keep(String sessionRef, String csrf, String method, String path, Map<String, List<String>> query,
                             Map<String, List<String>> form, String referer, Instant now) {
        purge(now);
        remove(sessionRef);
        long size = size(query) + size(form) + path.length() + (referer == null ? 0 : referer.length());
        Iterator<Map.Entry<String, Pending>> oldest = bySession.entrySet().iterator();
        while (oldest.hasNext() && (bySession.size() >= MAX_FORMS || chars + size > MAX_CHARS)) {
            chars -= oldest.next().getValue().chars();
            oldest.remove();
        }
        String ticket = jp.mamori.db.Secrets.random256();
        bySession.put(sessionRef, new Pending(ticket, csrf, method, path, copy(query), copy(form), referer,
                now.plus(LIFETIME), size));
        chars += size;
        return ticket;
    }

    /**
     * Removes the session's held request; returns it when {@code ticket} names it, it has not expired and it
     * came with {@code csrf}.
     */
    synchronized Optional<Pending> take(String sessionRef, String ticket, String csrf, Instant now) {
        Pending p = remove(sessionRef);
        if (p == null || ticket == null || ticket.isEmpty() || !now.isBefore(p.expires())
                || !same(p.ticket(), ticket) || !same(p.csrf(), csrf)) {
            return Optional.empty();
        }
        return Optional.of(p);
    }

    /** Whether the session holds a request under {@code ticket} (the step-up page says so). */
    synchronized boolean holds(String sessionRef, String ticket, Instant now) {
        Pending p = bySession.get(sessionRef);
        return p != null && ticket != null && now.isBefore(p.expires()) && same(p.ticket(), ticket);
    }

    /** Forgets the session's held request (logout). */
    synchronized void drop(String sessionRef) {
        remove(sessionRef);
    }

    synchronized int size() {
        return bySession.size();
    }

    private Pending remove(String sessionRef) {
        Pending p = bySession.remove(sessionRef);
        if (p != null) {
            chars -= p.chars();
        }
        return p;
    }

    private void purge(Instant now) {
        Iterator<Pending> it = bySession.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (!now.isBefore(p.expires())) {
                chars -= p.chars();
                it.remove();
            }
        }
    }

    private static boolean same(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static long size(Map<String, List<String>> m) {
        long n = 0;
        for (Map.Entry<String, List<String>> e : m.entrySet()) {
            for (String v : e.getValue()) {
                n += e.getKey().length() + v.length() + 2;
            }
        }
        return n;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> m) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return java.util.Collections.unmodifiableMap(out);
    }
}
