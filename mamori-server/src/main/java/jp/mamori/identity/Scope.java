package jp.mamori.identity;

import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART-on-FHIR scope held by a system client: {@code system/Patient.read}, {@code system/*.write},
 * {@code system/*.*} (SMART v1) or {@code system/Observation.rs} (SMART v2 letters c, r, u, d, s).
 */
public record Scope(String resourceType, Set<Permission> permissions) {
    private static final Pattern FORM = Pattern.compile(
            "system/(\\*|[A-Z][A-Za-z]+|health|metrics)\\.(\\*|read|write|[cruds]+)");
    /**
     * The operational scopes (issue 18 §5): {@code system/health.read} for the detailed health report,
     * {@code system/metrics.read} for {@code /metrics}. Lower case, so that they never name a FHIR resource type, and
     * held only when given by name: {@code system/*.*} does not hold them ({@link #grants}).
     */
    public static final java.util.Set<String> OPERATIONAL = java.util.Set.of("health", "metrics");

    public Scope {
        permissions = Set.copyOf(permissions);
    }

    /** What a scope can allow. */
    public enum Permission { CREATE, READ, UPDATE, DELETE, SEARCH }

    public static Scope parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("scope '" + text + "' is not of the form system/TYPE.read|write|*|cruds");
        }
        String action = m.group(2);
        Set<Permission> p = EnumSet.noneOf(Permission.class);
        switch (action) {
            case "*" -> p.addAll(EnumSet.allOf(Permission.class));
            case "read" -> p.addAll(EnumSet.of(Permission.READ, Permission.SEARCH));
            case "write" -> p.addAll(EnumSet.of(Permission.CREATE, Permission.UPDATE, Permission.DELETE));
            default -> {
                if (!isOrderedCruds(action)) {
                    throw new IllegalArgumentException("scope '" + text + "': letters must be in the order c, r, u, d, s");
                }
                for (char c : action.toCharArray()) {
                    p.add(switch (c) {
                        case 'c' -> Permission.CREATE;
                        case 'r' -> Permission.READ;
                        case 'u' -> Permission.UPDATE;
                        case 'd' -> Permission.DELETE;
                        default -> Permission.SEARCH;
                    });
                }
            }
        }
        return new Scope(m.group(1), p);
    }

    private static boolean isOrderedCruds(String s) {
        String order = "cruds";
        int last = -1;
        for (char c : s.toCharArray()) {
            int i = order.indexOf(c);
            if (i <= last) {
                return false;
            }
            last = i;
        }
        return true;
    }

    /** Parses a space- or comma-separated list; refuses an empty one. */
    public static Set<Scope> parseList(String text) {
        Set<Scope> out = new LinkedHashSet<>();
        for (String s : text.split("[\\s,]+")) {
            if (!s.isBlank()) {
                out.add(parse(s));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("at least one scope is required, e.g. system/Patient.read");
        }
        return out;
    }

    /** Whether this scope names {@code type} itself (not through {@code *}) with {@code p}: the operational scopes. */
    public boolean grants(String type, Permission p) {
        return resourceType.equals(type) && permissions.contains(p);
    }

    public boolean allows(String type, Permission p) {
        return ("*".equals(resourceType) || resourceType.equals(type)) && permissions.contains(p);
    }
}
