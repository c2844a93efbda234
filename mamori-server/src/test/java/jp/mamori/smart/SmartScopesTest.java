package jp.mamori.smart;

import jp.mamori.access.Caller;
import jp.mamori.identity.Scope;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an app may be granted: asked ∩ registered maximum ∩ ticked; person scopes never pass for system ones. */
class SmartScopesTest {
    @Test
    void grantedIsWhatWasAskedWithinTheMaximumScopeByScope() {
        SmartScopes.Parsed max = SmartScopes.registered("user/Observation.rs patient/*.rs launch offline_access");
        SmartScopes.Parsed asked = SmartScopes.requested("user/*.cruds patient/Condition.read launch/patient"
                + " offline_access openid fhirUser system/*.rs");
        SmartScopes.Parsed granted = SmartScopes.within(asked, max);
        assertEquals("user/Observation.rs patient/Condition.rs offline_access", granted.text());
        SmartScopes.Parsed ticked = SmartScopes.chosen(granted, Set.of("user/Observation.rs", "offline_access"));
        assertEquals("user/Observation.rs offline_access", ticked.text(), "unticked Condition is gone");
    }

    @Test
    void v1AliasesAndV2LettersParseAndWrongOrderDoesNot() {
        assertEquals("user/Patient.rs", Scope.parsePerson("user/Patient.read").orElseThrow().text());
        assertEquals("patient/*.cud", Scope.parsePerson("patient/*.write").orElseThrow().text());
        assertTrue(Scope.parsePerson("user/Observation.sr").isEmpty(), "letters out of order");
        assertTrue(Scope.parsePerson("system/Observation.rs").isEmpty(), "not a person's scope");
        assertThrows(IllegalArgumentException.class, () -> Scope.parse("user/Observation.rs"),
                "system clients still take system/ scopes only");
        assertEquals(Scope.Context.SYSTEM, Scope.parse("system/Observation.rs").context());
    }

    @Test
    void hugeOrCrowdedScopeListsAreRefusedWhole() {
        assertNull(SmartScopes.requested("user/Observation.rs ".repeat(200)));
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 41; i++) {
            many.append("x").append(i).append(' ');
        }
        assertNull(SmartScopes.requested(many.toString()));
        assertThrows(SmartRefusal.Invalid.class, () -> SmartScopes.registered("user/Observation.rs bogus"));
    }

    @Test
    void aPersonsScopesAndASystemClientsNeverMix() {
        Set<Scope> user = Set.of(Scope.parsePerson("user/Observation.rs").orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> new Caller("client:x", "x", user, "local"),
                "a system client with a user/ scope");
        assertFalse(Caller.system("t").throughApp());
    }

    @Test
    void pkceIsS256ComparedWhole() {
        String verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // RFC 7636 Appendix B
        assertTrue(Smart.pkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assertFalse(Smart.pkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assertFalse(Smart.pkce("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
