package jp.mamori.web.console;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.MissingResourceException;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's texts: both languages hold the same keys, and every key a template or page asks for exists. */
class MessagesTest {
    /** A literal key: {@code get("audit.title")} or {@code get("audit.x", arg)}, not {@code get("audit.kind." + k)}. */
    private static final Pattern KEY = Pattern.compile("(?:(?:\\bt|messages\\(\\))\\.get\\(|\\bkey = )\"([a-zA-Z0-9.\\-]+)\"\\s*[,)]");

    @Test
    void japaneseAndEnglishHoldTheSameKeys() {
        Set<String> ja = Messages.keys(ConsoleRequest.Lang.JA);
        Set<String> en = Messages.keys(ConsoleRequest.Lang.EN);
        Set<String> onlyJa = new TreeSet<>(ja);
        onlyJa.removeAll(en);
        Set<String> onlyEn = new TreeSet<>(en);
        onlyEn.removeAll(ja);
        assertEquals(Set.of(), onlyJa, "keys missing in English");
        assertEquals(Set.of(), onlyEn, "keys missing in Japanese");
        assertTrue(ja.size() > 50, "the bundles are loaded: " + ja.size());
    }

    @Test
    void aMissingKeyFailsLoudlyInEitherLanguage() {
        for (ConsoleRequest.Lang lang : ConsoleRequest.Lang.values()) {
            MissingResourceException e = assertThrows(MissingResourceException.class,
                    () -> Messages.of(lang).get("audit.noSuchText"));
            assertEquals("audit.noSuchText", e.getKey());
        }
    }

    @Test
    void theRequestLanguageDecidesJapaneseFirst() {
        assertEquals("監査記録", Messages.of(ConsoleRequest.Lang.JA).get("audit.title"));
        assertEquals("Audit trail", Messages.of(ConsoleRequest.Lang.EN).get("audit.title"));
        assertEquals("English", Messages.of(ConsoleRequest.Lang.JA).get("layout.otherLanguage"));
    }

    @Test
    void placeholdersAreFilledAndNothingElseIsInterpreted() {
        assertEquals("3 / 30 days reviewed", Messages.of(ConsoleRequest.Lang.EN).get("audit.coverage.reviewed", 3, 30));
        assertEquals("Days above 3.0 times the person's median daily count",
                Messages.of(ConsoleRequest.Lang.EN).get("audit.volume.rule", 3.0));
        assertThrows(IllegalArgumentException.class,
                () -> Messages.of(ConsoleRequest.Lang.EN).get("audit.coverage.reviewed", 3));
    }

    @Test
    void everyKeyTheTemplatesAndPagesUseExistsInBothLanguages() throws IOException {
        Set<String> used = new TreeSet<>();
        for (Path root : List.of(Path.of("src/main/jte"), Path.of("src/main/java/jp/mamori"))) { // every page, wherever it lives
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".jte") || p.toString().endsWith(".java")).toList()) {
                    Matcher m = KEY.matcher(Files.readString(f));
                    while (m.find()) {
                        used.add(m.group(1));
                    }
                }
            }
        }
        assertTrue(used.containsAll(List.of("layout.footer", "audit.title", "access.mine.title", "access.report.loginId")),
                "the keys are found: " + used);
        // The keys made of a prefix and a code: every code the pages may show.
        jp.mamori.audit.web.AuditPages.KINDS.forEach(k -> used.add("audit.kind." + k));
        jp.mamori.access.BreakGlass.REASONS.forEach(k -> used.add("access.reason." + k));
        jp.mamori.access.BreakGlass.OUTCOMES.forEach(k -> used.add("access.outcome." + k));
        jp.mamori.access.BreakGlass.DECISIONS.forEach(k -> used.add("access.outcome." + k));
        for (String key : used) {
            for (ConsoleRequest.Lang lang : ConsoleRequest.Lang.values()) {
                assertTrue(!Messages.of(lang).get(key).isBlank(), key + " in " + lang);
            }
        }
    }
}
