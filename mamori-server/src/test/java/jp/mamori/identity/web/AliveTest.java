package jp.mamori.identity.web;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The page's sign that its person is typing ({@code POST /console/alive}, console.js): only a logged-in, unlocked
 * session with its CSRF token gets 204 (and is seen); it never unlocks a locked session or works for a stranger.
 */
class AliveTest {
    @Test
    void onlyTheOwnUnlockedSessionWithItsTokenIsKeptAlive() throws Exception {
        try (Hospital h = Hospital.open()) {
            Person p = h.enrolStaff("alive.a", "医事課");
            Browser b = p.browser;
            String csrf = b.get("/console/me").csrf();
            assertEquals(204, b.post("/console/alive", Map.of("csrf", csrf), Map.of()).status());
            assertEquals(403, b.post("/console/alive", Map.of(), Map.of()).status(), "no token, no answer");
            assertEquals(403, b.post("/console/alive", Map.of("csrf", "x" + csrf), Map.of()).status());

            Browser stranger = new Browser(h.server, "stranger");
            assertNotEquals(204, stranger.post("/console/alive", Map.of("csrf", csrf), Map.of()).status());

            // a locked session stays locked: the ping is refused and the next page is the lock screen
            b.post("/console/lock", Map.of("csrf", csrf), Map.of());
            assertNotEquals(204, b.post("/console/alive", Map.of("csrf", csrf), Map.of()).status());
            assertEquals("/console/lock", b.get("/console/me").path());
        }
    }
}
