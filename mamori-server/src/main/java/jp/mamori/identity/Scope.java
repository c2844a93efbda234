package jp.mamori.identity;

import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART-on-FHIR scope: held by a system client ({@code system/Patient.read}, {@code system/*.write},
 * {@code system/*.*} in SMART v1, {@code system/Observation.rs} with the SMART v2 letters c, r, u, d, s), or granted
 * by a person to an app that acts for them ({@code user/Observation.rs}, {@code patient/*.rs}; issue 21). A person's
 * scopes never widen what the person may do: they restrict it ({@code access.AccessPolicy}).
 *
 * @param context whose rights the scope stands for: the client's own ({@link Context#SYSTEM}), the person's
 *                ({@link Context#USER}), or the person's for one patient only ({@link Context#PATIENT})
 */
public record Scope(String resourceType, Set<Permission> permissions, Context context) {
    private static final Pattern FORM = Pattern.compile(
            "system/(\\*|[A-Z][A-Za-z]+|health|metrics)\\.(\\*|read|write|[cruds]+)");
    /** A person's scope for an app: resource types only, never the operational scopes. */
    private static final Pattern PERSON_FORM = Pattern.compile(
            "(user|patient)/(\\*|[A-Z][A-Za-z]{1,63})\\.(\\*|read|write|[cruds]{1,5})");

    /** Whose rights a scope stands for: {@code system/}, {@code user/} or {@code patient/}. */
    public enum Context {
        SYSTEM, USER, PATIENT;

        public String prefix() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
    /**
     * The operational scopes (issue 18 §5): {@code system/health.read} for the detailed health report,
     * {@code system/metrics.read} for {@code /metrics}. Lower case, so that they never name a FHIR resource type, and
     * held only when given by name: {@code system/*.*} does not hold them ({@link #grants}).
     */
    public static final java.util.Set<String> OPERATIONAL = java.util.Set.of("health", "metrics");

    public Scope {
        permissions = Set.copyOf(permissions);
        if (context == null) {
            throw new IllegalArgumentException("a scope needs a context");
        }
    }

    /** A system client's scope. */
    public Scope(String resourceType, Set<Permission> permissions) {
        this(resourceType, permissions, Context.SYSTEM);
    }

    /** What a scope can allow. */
    public enum Permission { CREATE, READ, UPDATE, DELETE, SEARCH }

    /** A system client's scope; refuses {@code user/} and {@code patient/} scopes. */
    public static Scope parse(String text) {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("scope '" + text + "' is not of the form system/TYPE.read|write|*|cruds");
        }
        return new Scope(m.group(1), permissions(text, m.group(2)), Context.SYSTEM);
    }

    /**
     * A scope a person grants an app: {@code user/TYPE.cruds} or {@code patient/TYPE.cruds} (SMART v2), with the v1
     * {@code .read}, {@code .write} and {@code .*} accepted as aliases. Empty for anything else (a {@code system/}
     * scope, {@code launch}, {@code openid}...), which the caller treats on its own.
     */
    public static java.util.Optional<Scope> parsePerson(String text) {
        Matcher m = PERSON_FORM.matcher(text);
        if (!m.matches()) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(new Scope(m.group(2), permissions(text, m.group(3)),
                    m.group(1).equals("user") ? Context.USER : Context.PATIENT));
        } catch (IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
    }

    /** The scope as SMART v2 writes it, e.g. {@code user/Observation.rs}. */
    public String text() {
        StringBuilder sb = new StringBuilder(context.prefix()).append('/').append(resourceType).append('.');
        for (Permission p : Permission.values()) {
            if (permissions.contains(p)) {
                sb.append(Character.toLowerCase(p.name().charAt(0)));
            }
        }
        return sb.toString();
    }

    private static Set<Permission> permissions(String text, String action) {
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
        return p;
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
