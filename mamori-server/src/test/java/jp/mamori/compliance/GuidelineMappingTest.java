package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/guideline-mapping.md as data (issue 20): the copy in the jar parses, every requirement ID it names is in the
 * catalogue, and every source file and test class it names exists, so the SDS rendered from it cannot drift from the
 * code.
 */
class GuidelineMappingTest {
    private static final Path MAIN = Path.of("src/main/java/jp/mamori");
    private static final Path TEST = Path.of("src/test/java/jp/mamori");
    private static final Path LEDGER = Path.of("../mamori-ledger/src");
    private static final Pattern TEST_CLASS =
            Pattern.compile("^([a-z][a-z0-9]*(?:/[a-z][a-z0-9]*)*)/([A-Z][A-Za-z0-9]*)(?:\\.[A-Za-z0-9_]+)?$");

    @Test
    void cellsSplitOutsideCodeSpansAndRangesExpand() {
        assertEquals(List.of("A", "`x|y`", "b|c", "d"), GuidelineMapping.cells("| A | `x|y` | b\\|c | d |"));
        assertEquals(List.of("DEGRADED-1", "DEGRADED-2", "DEGRADED-3", "DEGRADED-4", "DEGRADED-7", "STORE-9"),
                GuidelineMapping.ids("DEGRADED-1 … DEGRADED-4 / DEGRADED-7 / STORE-9 (back-entry, issue 18)"));
        assertEquals(List.of("AUDIT-9"), GuidelineMapping.ids("DEGRADED-* / AUDIT-9 (unapproved proxy entries)"));
        assertEquals(List.of("ACCESS-1", "STORE-1"), GuidelineMapping.ids("ACCESS-1 / STORE-1 (the worklist, AUTH-2)"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuidelineMapping.parse(
                "| ID | a | b | c | d |\n|---|---|---|---|---|\n| X-1 | short | how | `code` |\n"));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        GuidelineMapping m = GuidelineMapping.parse("| ID | a | b | c | d |\n|---|---|---|---|---|\n"
                + "| XX-1 | short | does it. Partly: more later | `a/B.java` | `a/BTest` |\n\ntext | not a row |\n");
        assertEquals(1, m.rows().size());
        assertTrue(m.forRequirement("XX-1").get(0).partly());
        assertEquals(List.of("a/B.java"), m.rows().get(0).code());
    }

    @Test
    void theBundledMappingNamesOnlyCatalogueIdsAndFilesThatExist() throws Exception {
        assertTrue(GuidelineMapping.class.getResource(GuidelineMapping.RESOURCE) != null,
                "the build did not put docs/guideline-mapping.md in the jar");
        String text;
        try (var in = GuidelineMapping.class.getResourceAsStream(GuidelineMapping.RESOURCE)) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        GuidelineMapping m = GuidelineMapping.parse(text); // its refusal names the line
        assertTrue(m.rows().size() > 100, "rows: " + m.rows().size());
        Set<String> catalogue = new Frameworks(null).load().newest(Frameworks.CATALOGUE).orElseThrow().items()
                .stream().map(Framework.Item::id).collect(Collectors.toSet());
        List<String> unknown = m.ids().stream().filter(id -> !catalogue.contains(id)).toList();
        assertEquals(List.of(), unknown, "requirement IDs the mapping names that the catalogue does not have");

        Set<String> sourceNames;
        try (Stream<Path> s = Stream.concat(Files.walk(Path.of("src")), Files.walk(LEDGER))) {
            sourceNames = s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        List<String> missing = new ArrayList<>();
        for (GuidelineMapping.Row r : m.rows()) {
            for (String c : r.code()) {
                if (c.endsWith(".java")) {
                    boolean found = c.contains("/") ? Files.exists(MAIN.resolve(c))
                            || Files.exists(Path.of("src/main/java").resolve(c)) || Files.exists(Path.of("..").resolve(c))
                            : sourceNames.contains(c);
                    if (!found) {
                        missing.add(r.label() + ": " + c);
                    }
                } else if ((c.startsWith("resources/") || c.startsWith("jte/")) && !c.contains("*")
                        && !Files.exists(Path.of("src/main").resolve(c))) {
                    missing.add(r.label() + ": " + c);
                }
            }
            for (String t : r.tests()) {
                Matcher tm = TEST_CLASS.matcher(t);
                if (!t.endsWith(".java") && tm.matches()) {
                    String file = tm.group(1) + "/" + tm.group(2) + ".java";
                    if (!Files.exists(TEST.resolve(file)) && !Files.exists(LEDGER.resolve("test/java/jp/mamori")
                            .resolve(file))) {
                        missing.add(r.label() + ": " + t);
                    }
                }
            }
        }
        assertEquals(List.of(), missing, "files or test classes the mapping names that do not exist");
    }

    @Test
    void aRowAfterABlankLineIsRefusedBecauseMarkdownNoLongerShowsItAsPartOfTheTable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuidelineMapping.parse(
                "| ID | a | b | c | d |\n|---|---|---|---|---|\n| XX-1 | a | b | c | d |\n\n| XX-2 | a | b | c | d |\n"));
        assertTrue(e.getMessage().contains("line 5") && e.getMessage().contains("blank line"), e.getMessage());
    }

    @Test
    void aMappingRowWithoutItsFiveCellsIsRefusedNotGuessed() {
        assertFalse(GuidelineMapping.parse("no table here\n").rows().size() > 0);
        assertThrows(IllegalArgumentException.class, () -> GuidelineMapping.parse(
                "| ID | a | b | c | d |\n|---|---|---|---|---|\n| X-1 | a | b | c | d | e |\n"));
    }
}
