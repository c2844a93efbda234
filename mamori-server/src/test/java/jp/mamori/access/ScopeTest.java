package jp.mamori.access;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.identity.Scope;

class ScopeTest {
    @Test
    void smartV1ReadAllowsReadAndSearchOnly() {
        Scope s = Scope.parse("system/Patient.read");
        assertTrue(s.allows("Patient", Scope.Permission.READ));
        assertTrue(s.allows("Patient", Scope.Permission.SEARCH));
        assertFalse(s.allows("Patient", Scope.Permission.CREATE));
        assertFalse(s.allows("Observation", Scope.Permission.READ));
    }

    @Test
    void wildcardTypeAndActionAllowEverything() {
        Scope s = Scope.parse("system/*.*");
        for (Scope.Permission p : Scope.Permission.values()) {
            assertTrue(s.allows("Observation", p));
        }
    }

    @Test
    void smartV2LettersMapToPermissions() {
        Scope s = Scope.parse("system/Observation.rs");
        assertTrue(s.allows("Observation", Scope.Permission.READ));
        assertTrue(s.allows("Observation", Scope.Permission.SEARCH));
        assertFalse(s.allows("Observation", Scope.Permission.UPDATE));
    }

    @Test
    void malformedScopesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Scope.parse("patient/Patient.read"));
        assertThrows(IllegalArgumentException.class, () -> Scope.parse("system/Patient.fly"));
        assertThrows(IllegalArgumentException.class, () -> Scope.parse("system/Patient.sr")); // wrong order
        assertThrows(IllegalArgumentException.class, () -> Scope.parseList("  "));
    }

    @Test
    void aListMayBeSeparatedBySpacesOrCommas() {
        Set<Scope> s = Scope.parseList("system/Patient.read, system/Observation.write");
        assertTrue(s.size() == 2);
    }
}
