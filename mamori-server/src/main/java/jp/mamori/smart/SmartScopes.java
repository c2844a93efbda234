package jp.mamori.smart;

import jp.mamori.identity.Scope;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The scopes of a SMART app: a person's resource scopes ({@code user/Observation.rs}, {@code patient/*.rs}, v1
 * {@code .read} as an alias) and the others SMART App Launch 2 names. What an app gets is what it asked for, within
 * the most its registration allows, and within what the person left ticked on the consent page.
 */
final class SmartScopes {
    /** The scopes that name no resource type. */
    static final List<String> OTHERS = List.of("launch", "launch/patient", "offline_access", "online_access", "openid",
            "fhirUser");
    /** A scope string longer than this is refused whole (an app needs far fewer). */
    static final int MAX_TEXT = 2000;
    static final int MAX_SCOPES = 40;

    private SmartScopes() {
    }

    /** A parsed scope list: resource scopes and the others, in the order given, without repeats. */
    record Parsed(Set<Scope> resources, Set<String> others) {
        Parsed {
            resources = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(resources));
            others = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(others));
        }

        String text() {
            List<String> out = new ArrayList<>();
            resources.forEach(s -> out.add(s.text()));
            out.addAll(others);
            return String.join(" ", out);
        }

        boolean has(String other) {
            return others.contains(other);
        }
    }

    /**
     * Parses what an app asks for: scopes this server does not know (e.g. {@code profile}, a {@code system/} scope) are
     * left out, as OAuth lets a server grant less than was asked; null when the text is too long or has too many.
     */
    static Parsed requested(String text) {
        if (text == null || text.length() > MAX_TEXT) {
            return null;
        }
        Set<Scope> resources = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        String[] parts = text.strip().split(" +");
        if (parts.length > MAX_SCOPES) {
            return null;
        }
        for (String p : parts) {
            if (OTHERS.contains(p)) {
                others.add(p);
            } else {
                Scope.parsePerson(p).ifPresent(resources::add);
            }
        }
        return new Parsed(resources, others);
    }

    /** Parses an app's registered maximum; refuses anything it does not know, naming it. */
    static Parsed registered(String text) {
        if (text == null || text.isBlank() || text.length() > MAX_TEXT) {
            throw new SmartRefusal.Invalid("最大スコープを入力してください（" + MAX_TEXT + "文字まで） / Enter the"
                    + " maximum scopes (up to " + MAX_TEXT + " characters)");
        }
        Set<Scope> resources = new LinkedHashSet<>();
        Set<String> others = new LinkedHashSet<>();
        String[] parts = text.strip().split("[\\s,]+");
        if (parts.length > MAX_SCOPES) {
            throw new SmartRefusal.Invalid("スコープが多すぎます / Too many scopes (at most " + MAX_SCOPES + ")");
        }
        for (String p : parts) {
            if (OTHERS.contains(p)) {
                others.add(p);
                continue;
            }
            Scope s = Scope.parsePerson(p).orElseThrow(() -> new SmartRefusal.Invalid("スコープ「" + p
                    + "」は使えません / Scope '" + p + "' is not allowed: use user/TYPE.cruds, patient/TYPE.cruds, launch,"
                    + " launch/patient, offline_access, online_access, openid or fhirUser"));
            resources.add(s);
        }
        return new Parsed(resources, others);
    }

    /** What may be granted: {@code asked} within {@code max}, scope by scope (types and permissions). */
    static Parsed within(Parsed asked, Parsed max) {
        Set<Scope> out = new LinkedHashSet<>();
        for (Scope r : asked.resources()) {
            for (Scope m : max.resources()) {
                if (r.context() != m.context()) {
                    continue;
                }
                String type = r.resourceType().equals("*") ? m.resourceType()
                        : m.resourceType().equals("*") || m.resourceType().equals(r.resourceType()) ? r.resourceType()
                        : null;
                if (type == null) {
                    continue;
                }
                Set<Scope.Permission> p = EnumSet.noneOf(Scope.Permission.class);
                p.addAll(r.permissions());
                p.retainAll(m.permissions());
                if (!p.isEmpty()) {
                    out.add(new Scope(type, p, r.context()));
                }
            }
        }
        Set<String> others = new LinkedHashSet<>(asked.others());
        others.retainAll(max.others());
        return new Parsed(out, others);
    }

    /** {@code granted} keeping only the scopes whose text the person left ticked. */
    static Parsed chosen(Parsed granted, Set<String> ticked) {
        Set<Scope> out = new LinkedHashSet<>();
        for (Scope s : granted.resources()) {
            if (ticked.contains(s.text())) {
                out.add(s);
            }
        }
        Set<String> others = new LinkedHashSet<>();
        for (String o : granted.others()) {
            if (ticked.contains(o) || o.equals("launch")) { // the EHR launch context is the launch itself
                others.add(o);
            }
        }
        return new Parsed(out, others);
    }
}
