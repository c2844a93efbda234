package jp.mamori.architecture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each capability owns its tables (ADR 0009): its SQL names only them, and another capability asks it through its
 * Java interface. Owners are given per migration; the SQL is found in the string literals of the main sources
 * ({@code FROM x}, {@code JOIN x}, {@code INTO x}, {@code UPDATE x}, {@code TABLE x}). {@code db} (roles, grants,
 * migrations) and the assembling packages (start-up, command line, benchmarks, demo data) are not capabilities.
 * There are none: where one capability needs another's rows it calls that capability's Java interface (access asks
 * records for encounters through {@code access.EncounterStays}; the audit reports ask identity's {@code People} and
 * records' {@code PatientNames}).
 */
class TableOwnershipTest {
    private static final Path MAIN = Path.of("src/main/java/jp/mamori");
    private static final Path MIGRATIONS = Path.of("src/main/resources/db/migration");

    /** The capability that owns the tables a migration creates; some tables of V1 belong to identity. */
    private static final Map<String, String> MIGRATION_OWNER = Map.ofEntries(
            Map.entry("V1", "records"), Map.entry("V2", "identity"), Map.entry("V3", "identity"),
            Map.entry("V4", "identity"), Map.entry("V5", "access"), Map.entry("V6", "access"),
            Map.entry("V7", "access"), Map.entry("V8", "access"), Map.entry("V9", "access"),
            Map.entry("V10", "audit"), Map.entry("V11", "audit"), Map.entry("V12", "audit"),
            Map.entry("V13", "access"), Map.entry("V14", "records"), Map.entry("V15", "audit"),
            Map.entry("V16", "retention"), Map.entry("V17", "records"),
            Map.entry("V18", "audit"), Map.entry("V19", "signatures"), Map.entry("V20", "audit"),
            Map.entry("V21", "access"),
            Map.entry("V22", "continuity"), Map.entry("V23", "compliance"),
            Map.entry("V24", "compliance"), Map.entry("V25", "compliance"), Map.entry("V26", "compliance"),
            Map.entry("V27", "compliance"),
            Map.entry("V28", "compliance"), Map.entry("V29", "maintenance"), Map.entry("V30", "maintenance"),
            Map.entry("V31", "maintenance"), Map.entry("V32", "maintenance"),
            Map.entry("V33", "directory"), Map.entry("V34", "federation"), Map.entry("V35", "smart"),
            Map.entry("V36", "identity"), Map.entry("V37", "access"), Map.entry("V38", "directory"),
            Map.entry("V39", "ssmix2"), Map.entry("V41", "disclosure"),
            Map.entry("V43", "smart"));
    private static final Map<String, String> TABLE_OWNER_EXCEPTIONS = Map.of(
            "system_client", "identity", "bootstrap_secret", "identity",
            // derived from Encounter bodies by records' write function and checked by verify-records
            "encounter_care", "records");
    private static final Set<String> NOT_CAPABILITIES = Set.of("db", "app");

    private static final Pattern CREATE = Pattern.compile("(?i)CREATE\\s+(?:UNLOGGED\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?([a-z_][a-z0-9_]*)");
    private static final Pattern LITERAL = Pattern.compile("\"((?:\\\\.|[^\"\\\\\\n])*)\"");
    private static final Pattern USE = Pattern.compile("\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+([a-z_][a-z0-9_]*)");

    static Map<String, String> owners() throws IOException {
        Map<String, String> owners = new TreeMap<>();
        try (Stream<Path> s = Files.list(MIGRATIONS)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".sql")).toList()) {
                String version = p.getFileName().toString().split("__")[0];
                String owner = MIGRATION_OWNER.get(version);
                assertTrue(owner != null, "migration " + p.getFileName() + " has no owner in TableOwnershipTest");
                Matcher m = CREATE.matcher(Files.readString(p));
                while (m.find()) {
                    owners.put(m.group(1), TABLE_OWNER_EXCEPTIONS.getOrDefault(m.group(1), owner));
                }
            }
        }
        return owners;
    }

    static String capability(Path relative) {
        if (relative.getNameCount() == 1) {
            return "app";
        }
        String first = relative.getName(0).toString();
        return switch (first) {
            case "cli", "bench", "demo" -> "app";
            default -> first;
        };
    }

    /** Every "file -> table" use across capabilities in the main sources. */
    static Set<String> crossings(Path root, Map<String, String> owners) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(x -> x.toString().endsWith(".java")).toList()) {
                Path rel = root.relativize(p);
                String cap = capability(rel);
                if (NOT_CAPABILITIES.contains(cap)) {
                    continue;
                }
                String text = Files.readString(p).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
                Matcher lit = LITERAL.matcher(text);
                while (lit.find()) {
                    Matcher use = USE.matcher(lit.group(1));
                    while (use.find()) {
                        String owner = owners.get(use.group(1));
                        if (owner != null && !owner.equals(cap)) {
                            out.add(rel.toString().replace('\\', '/') + " -> " + use.group(1) + " (" + owner + ")");
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everyTableHasAnOwningCapability() throws IOException {
        Map<String, String> owners = owners();
        assertTrue(owners.size() > 40, "tables found in the migrations: " + owners.keySet());
        assertEquals("records", owners.get("resource_version"));
        assertEquals("identity", owners.get("web_session"));
        assertEquals("access", owners.get("role_assignment"));
        assertEquals("audit", owners.get("audit_entry"));
    }

    @Test
    void noCapabilityNamesAnotherCapabilitysTables() throws IOException {
        Set<String> found = crossings(MAIN, owners());
        assertTrue(found.isEmpty(), "SQL naming another capability's tables; ask that capability instead:\n"
                + String.join("\n", found));
    }

    @Test
    void theScanFindsACrossingInSql() throws IOException {
        Matcher use = USE.matcher(" FROM web_session s JOIN account a ON a.account_id = s.account_id");
        assertTrue(use.find());
        assertEquals("web_session", use.group(1));
        assertTrue(use.find());
        assertEquals("account", use.group(1));
        assertFalse(USE.matcher("the account was suspended").find());
    }

    @Test
    void aCapabilityNamingAnothersTableInItsSqlIsFound(@TempDir Path root) throws IOException {
        // As access once read records' index of stays itself: the scan reports it; records reading it does not.
        Files.createDirectories(root.resolve("access"));
        Files.createDirectories(root.resolve("records"));
        String sql = "class X { String q = \"SELECT patient_id FROM encounter_care WHERE place = ?\"; }";
        Files.writeString(root.resolve("access/Stays.java"), sql);
        Files.writeString(root.resolve("records/Stays.java"), sql);
        Files.writeString(root.resolve("access/Comment.java"), "class Y { // reads FROM encounter_care\n }");
        assertEquals(Set.of("access/Stays.java -> encounter_care (records)"), crossings(root, owners()));
    }

    static {
        if (!Files.isDirectory(MAIN)) {
            throw new UncheckedIOException(new IOException("run from the mamori-server module folder"));
        }
    }
}
