package jp.mamori.access;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static jp.mamori.access.PersonAccessTest.DEMOGRAPHICS;
import static jp.mamori.access.PersonAccessTest.LABELS;
import static jp.mamori.access.PersonAccessTest.NOTES;
import static jp.mamori.access.PersonAccessTest.NURSING;
import static jp.mamori.access.PersonAccessTest.PHYSICIAN;
import static jp.mamori.access.PersonAccessTest.role;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who may enter for whom (代行入力, issue 18 §4), decided in memory by {@link AccessPolicy#mayEnterFor}, and the one
 * exception to "a draft is its author's": the drafts are also the responsible person's only through the queue.
 */
class ProxyEntryRuleTest {
    private static final Set<String> NOTE = Set.of("http://loinc.org|11506-3");
    private static final Map<String, Set<Action>> ASSISTANT = Map.of(
            "demographics", EnumSet.of(Action.READ, Action.SEARCH),
            "clinical_notes", EnumSet.of(Action.READ, Action.SEARCH, Action.CREATE, Action.UPDATE, Action.PROXY_ENTRY));
    private static final Map<String, Set<Action>> NURSE = Map.of(
            "clinical_notes", EnumSet.of(Action.READ, Action.SEARCH),
            "nursing", EnumSet.of(Action.READ, Action.CREATE, Action.FINALIZE));

    private static AccessPolicy policy() {
        Categories cats = Categories.of(List.of(DEMOGRAPHICS, NOTES, NURSING,
                new Category("other", "その他", "Other", true)), List.of(
                new Categories.Rule("*", null, null, "other"),
                new Categories.Rule("Patient", null, null, "demographics"),
                new Categories.Rule("Composition", null, null, "clinical_notes"),
                new Categories.Rule("Composition", "http://loinc.org", "34746-8", "nursing")));
        return new AccessPolicy(cats, new PersonAccess(LABELS), null, null, Clock.systemUTC());
    }

    private static PersonContext person(String role, String department, Map<String, Set<Action>> perms) {
        return new PersonContext(UUID.randomUUID(), List.of(role(role, department, PersonContext.Scope.DEPARTMENT, true,
                perms)), Set.of(), Map.of());
    }

    private static Caller caller(PersonContext p) {
        return Caller.person(p, "test", "127.0.0.1");
    }

    @Test
    void anAssistantEntersForThePhysiciansOfTheirOwnDepartmentOnly() {
        AccessPolicy policy = policy();
        PersonContext assistant = person("physician_clerk", "内科", ASSISTANT);
        PersonContext internist = person("physician", "内科", PHYSICIAN);
        PersonContext surgeon = person("physician", "外科", PHYSICIAN);
        PersonContext nurse = person("nurse", "内科", NURSE);
        assertTrue(policy.mayEnterFor(caller(assistant), internist, "Composition", NOTE));
        assertFalse(policy.mayEnterFor(caller(assistant), surgeon, "Composition", NOTE), "another department");
        assertFalse(policy.mayEnterFor(caller(assistant), nurse, "Composition", NOTE), "nobody who cannot finalize");
        assertFalse(policy.mayEnterFor(caller(assistant), assistant, "Composition", NOTE), "not for oneself");
        assertFalse(policy.mayEnterFor(caller(internist), person("physician", "内科", PHYSICIAN), "Composition",
                NOTE), "a physician holds no proxy_entry");
        assertFalse(policy.mayEnterFor(caller(assistant), internist, "Composition", Set.of("http://loinc.org|34746-8")),
                "a nursing note is another category, where the assistant holds nothing");
        assertFalse(policy.mayEnterFor(caller(assistant), null, "Composition", NOTE));
    }

    @Test
    void aDraftIsItsAuthorsAndWithoutAQueueNobodyElses() {
        AccessPolicy policy = policy();
        PersonContext assistant = person("physician_clerk", "内科", ASSISTANT);
        PersonContext internist = person("physician", "内科", PHYSICIAN);
        String author = "account:" + assistant.accountId();
        byte[] body = ("{\"author\":[{\"identifier\":{\"value\":\"" + internist.accountId() + "\"}}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(policy.draftContentVisible(caller(assistant), "draft", author, "Composition", "c1", body));
        assertFalse(policy.draftContentVisible(caller(internist), "draft", author, "Composition", "c1", body),
                "without a pending proxy entry naming them, someone else's draft stays its author's");
    }
}
