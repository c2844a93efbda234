package jp.mamori.web.console;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The page each locked session was on (AUTH-9: the lock clears the screen; unlocking returns to the work), by
 * session reference, in this process's memory: at most {@link #MAX_SESSIONS} sessions (the least recently locked
 * go first) and paths of at most {@link #MAX_PATH} characters. Kept out of the lock screen's address, which
 * stays readable on the locked screen; after a restart, or on another process, unlocking goes to the home page.
 */
final class ReturnPaths {
    static final int MAX_SESSIONS = 10_000;
    static final int MAX_PATH = 1000;

    private final Map<String, String> bySession = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_SESSIONS;
        }
    };

    synchronized void remember(String sessionRef, String path) {
        if (path != null && path.length() <= MAX_PATH && path.startsWith("/console/")) {
            bySession.put(sessionRef, path);
        }
    }

    /** The path remembered for the session, removed; null when there is none. */
    synchronized String take(String sessionRef) {
        return bySession.remove(sessionRef);
    }
}
