package jp.mamori.web.console;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forms the gate holds over a step-up: single use, bound to session, ticket and CSRF token, expiring, bounded. */
class PendingFormsTest {
    private static final Instant T = Instant.parse("2026-01-05T00:00:00Z");
    private static final Map<String, List<String>> FORM = Map.of("reason_text", List.of("救急搬送、意識なし"),
            "csrf", List.of("c1"));

    private static String keep(PendingForms p, String session, Instant at) {
        return p.keep(session, "c1", "POST", "/console/break-glass", Map.of(), FORM, "https://h/console/break-glass", at);
    }

    @Test
    void aHeldFormIsTakenOnceByItsOwnSessionWithItsTicketAndCsrfToken() {
        PendingForms p = new PendingForms();
        String ticket = keep(p, "s1", T);
        assertEquals(43, ticket.length());
        assertTrue(p.holds("s1", ticket, T));
        assertFalse(p.holds("s2", ticket, T), "another session's");
        assertTrue(p.take("s2", ticket, "c1", T).isEmpty(), "another session cannot take it");
        PendingForms.Pending got = p.take("s1", ticket, "c1", T.plusSeconds(60)).orElseThrow();
        assertEquals(List.of("救急搬送、意識なし"), got.form().get("reason_text"));
        assertEquals("/console/break-glass", got.path());
        assertTrue(p.take("s1", ticket, "c1", T.plusSeconds(61)).isEmpty(), "single use");
    }

    @Test
    void aWrongTicketOrCsrfTokenOrATakeAfterTheStepUpWindowGetsNothingAndDropsIt() {
        PendingForms p = new PendingForms();
        String ticket = keep(p, "s1", T);
        // another ticket: the first character changed (a random ticket may itself start with any letter)
        assertTrue(p.take("s1", (ticket.charAt(0) == 'x' ? "y" : "x") + ticket.substring(1), "c1", T).isEmpty());
        assertFalse(p.holds("s1", ticket, T), "any step-up of the session drops what it held");

        ticket = keep(p, "s1", T);
        assertTrue(p.take("s1", ticket, "c2", T).isEmpty(), "another CSRF token (another cookie)");

        ticket = keep(p, "s1", T);
        assertFalse(p.holds("s1", ticket, T.plus(PendingForms.LIFETIME)));
        assertTrue(p.take("s1", ticket, "c1", T.plus(PendingForms.LIFETIME)).isEmpty(), "expired");
        assertTrue(p.take("s1", null, "c1", T).isEmpty());
    }

    @Test
    void aFormWithASecretIsNeverHeld() {
        assertTrue(PendingForms.holdable(FORM));
        assertFalse(PendingForms.holdable(Map.of("pin", List.of("1234"), "csrf", List.of("c1"))));
        assertFalse(PendingForms.holdable(Map.of("password", List.of("x"))));
    }

    @Test
    void oneFormPerSessionAndABoundedNumberInAll() {
        PendingForms p = new PendingForms();
        String first = keep(p, "s1", T);
        String second = keep(p, "s1", T.plusSeconds(1));
        assertFalse(p.holds("s1", first, T.plusSeconds(1)), "a newer form replaces the older");
        assertTrue(p.holds("s1", second, T.plusSeconds(1)));
        for (int i = 0; i < PendingForms.MAX_FORMS + 50; i++) {
            keep(p, "many-" + i, T.plusSeconds(2));
        }
        assertEquals(PendingForms.MAX_FORMS, p.size(), "the oldest go first");
        assertFalse(p.holds("s1", second, T.plusSeconds(2)));

        PendingForms big = new PendingForms();
        String huge = "あ".repeat(60_000);
        for (int i = 0; i < 100; i++) {
            big.keep("b-" + i, "c1", "POST", "/console/x", Map.of(), Map.of("note", List.of(huge)), null, T);
        }
        assertTrue(big.size() * 60_000L <= PendingForms.MAX_CHARS, "held characters stay within the bound: "
                + big.size());
        assertTrue(big.size() >= PendingForms.MAX_CHARS / 60_010 - 1, "and the newest are kept: " + big.size());
    }
}
