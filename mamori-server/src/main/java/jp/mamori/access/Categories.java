package jp.mamori.access;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which information category a resource belongs to, from the {@code category_rule} table: the rule for the
 * resource type and document type coding if there is one, else the rule for the resource type, else the
 * fallback rule {@code *}. Loaded once and kept in memory; {@link #reload()} picks up changed rules.
 */
public final class Categories {
    /** One row of {@code category_rule}; {@code docSystem}/{@code docCode} are both null or both set. */
    public record Rule(String resourceType, String docSystem, String docCode, String category) {
    }

    private record Snapshot(Map<String, Category> byCode, Map<String, Category> byType, Map<String, Category> byDoc,
                            Map<String, Map<Category, java.util.Set<String>>> docRules, Category fallback) {
    }

    private final DataSource ds;
    private volatile Snapshot snapshot;

    private Categories(DataSource ds, Snapshot s) {
        this.ds = ds;
        this.snapshot = s;
    }

    /** Loads the categories and rules from the database. */
    public static Categories load(DataSource ds) {
        Categories c = new Categories(ds, null);
        c.reload();
        return c;
    }

    /** From given data, without a database (tests, tools). */
    public static Categories of(List<Category> categories, List<Rule> rules) {
        return new Categories(null, build(categories, rules));
    }

    /** Reads the tables again; requests already deciding keep the snapshot they started with. */
    public void reload() {
        if (ds == null) {
            return;
        }
        snapshot = Tx.read(ds, c -> {
            List<Category> cats = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT code, name_ja, name_en, clinical FROM information_category ORDER BY sort_order, code");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cats.add(new Category(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4)));
                }
            }
            List<Rule> rules = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT resource_type, doc_system, doc_code, category FROM category_rule");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rules.add(new Rule(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            return build(cats, rules);
        });
    }

    private static Snapshot build(List<Category> categories, List<Rule> rules) {
        Map<String, Category> byCode = new HashMap<>();
        for (Category c : categories) {
            byCode.put(c.code(), c);
        }
        Map<String, Category> byType = new HashMap<>();
        Map<String, Category> byDoc = new HashMap<>();
        Category fallback = null;
        for (Rule r : rules) {
            Category c = byCode.get(r.category());
            if (c == null) {
                throw new IllegalArgumentException("rule for " + r.resourceType() + " names unknown category " + r.category());
            }
            if (r.docSystem() != null) {
                byDoc.put(docKey(r.resourceType(), r.docSystem(), r.docCode()), c);
            } else if ("*".equals(r.resourceType())) {
                fallback = c;
            } else {
                byType.put(r.resourceType(), c);
            }
        }
        if (fallback == null) {
            throw new IllegalArgumentException("category rules need a fallback rule for resource type '*'");
        }
        // Per resource type, once: every decision of a person asks for them (twice per read).
        Map<String, Map<Category, java.util.Set<String>>> docRules = new HashMap<>();
        for (Category c : categories) {
            for (Rule r : rules) {
                if (r.docSystem() != null && r.category().equals(c.code())) {
                    docRules.computeIfAbsent(r.resourceType(), k -> new java.util.LinkedHashMap<>())
                            .computeIfAbsent(c, k -> new java.util.TreeSet<>()).add(r.docSystem() + '|' + r.docCode());
                }
            }
        }
        Map<String, Map<Category, java.util.Set<String>>> frozen = new HashMap<>();
        docRules.forEach((type, m) -> {
            Map<Category, java.util.Set<String>> f = new java.util.LinkedHashMap<>();
            m.forEach((c, codings) -> f.put(c, java.util.Collections.unmodifiableSet(codings)));
            frozen.put(type, java.util.Collections.unmodifiableMap(f));
        });
        return new Snapshot(Map.copyOf(byCode), Map.copyOf(byType), Map.copyOf(byDoc), Map.copyOf(frozen), fallback);
    }

    private static String docKey(String type, String system, String code) {
        return type + '|' + system + '|' + code;
    }

    /** The category of a resource of {@code resourceType} with no document type. */
    public Category resolve(String resourceType) {
        Snapshot s = snapshot;
        return s.byType.getOrDefault(resourceType, s.fallback);
    }

    /** The category of a resource whose document type (e.g. Composition.type) has the coding system|code. */
    public Category resolve(String resourceType, String docSystem, String docCode) {
        Snapshot s = snapshot;
        if (docSystem != null && docCode != null && !s.byDoc.isEmpty()) {
            Category c = s.byDoc.get(docKey(resourceType, docSystem, docCode));
            if (c != null) {
                return c;
            }
        }
        return s.byType.getOrDefault(resourceType, s.fallback);
    }

    /**
     * The document-type rules of {@code resourceType}: for each category, the codings ("system|code") that
     * put a resource of that type into it. Empty for types without such rules.
     */
    public Map<Category, java.util.Set<String>> docRules(String resourceType) {
        return snapshot.docRules.getOrDefault(resourceType, Map.of());
    }

    public Optional<Category> byCode(String code) {
        return Optional.ofNullable(snapshot.byCode.get(code));
    }

    public List<Category> all() {
        return List.copyOf(snapshot.byCode.values());
    }
}
