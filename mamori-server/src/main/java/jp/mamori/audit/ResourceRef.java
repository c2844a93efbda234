package jp.mamori.audit;

/**
 * A resource an entry names: a type ({@code Patient}, a search or a refused request on the type), a resource
 * ({@code Patient/p1}) or one version of it ({@code Patient/p1/_history/3}), stored as {@link #code()}.
 * {@link #of}, {@link #version} and {@link #parse} check a FHIR type, id and version; {@link #named} keeps what a
 * request named verbatim (only the type is checked), so that a refused probe is in the trail as it was asked.
 *
 * @param id      null for a type
 * @param version null for a type or a resource
 */
public record ResourceRef(String type, String id, String version) {
    private static final String HISTORY = "/_history/";

    public ResourceRef {
        if (!isType(type) || id == null && version != null) {
            throw new IllegalArgumentException("not a resource reference: " + type + "/" + id + HISTORY + version);
        }
    }

    /** A resource type, e.g. a search's. */
    public static ResourceRef type(String type) {
        return new ResourceRef(type, null, null);
    }

    /** A resource, with no version. */
    public static ResourceRef of(String type, String id) {
        if (!isId(id)) {
            throw new IllegalArgumentException("not a resource id: " + id);
        }
        return new ResourceRef(type, id, null);
    }

    /** One version of a resource. */
    public static ResourceRef version(String type, String id, int version) {
        if (!isId(id) || version < 1) {
            throw new IllegalArgumentException("not a resource version: " + type + "/" + id + HISTORY + version);
        }
        return new ResourceRef(type, id, Integer.toString(version));
    }

    /** One version of a resource, its version as text (a {@code versionId}, an ETag's). */
    public static ResourceRef version(String type, String id, String version) {
        if (!isId(id) || !isVersion(version)) {
            throw new IllegalArgumentException("not a resource version: " + type + "/" + id + HISTORY + version);
        }
        return new ResourceRef(type, id, version);
    }

    /** {@code Type}, {@code Type/id} or {@code Type/id/_history/n}, checked. */
    public static ResourceRef parse(String code) {
        int slash = code.indexOf('/');
        if (slash < 0) {
            return type(code);
        }
        int history = code.indexOf(HISTORY, slash);
        if (history < 0) {
            return of(code.substring(0, slash), code.substring(slash + 1));
        }
        return version(code.substring(0, slash), code.substring(slash + 1, history),
                code.substring(history + HISTORY.length()));
    }

    /** What a request named: a type, with the id and version it asked for (either may be null) as it gave them. */
    public static ResourceRef named(String type, String id, String version) {
        return new ResourceRef(type, id, version);
    }

    /** This resource without its version. */
    public ResourceRef unversioned() {
        return version == null ? this : new ResourceRef(type, id, null);
    }

    public boolean versioned() {
        return version != null;
    }

    /** As stored in the entry's {@code resource} list. */
    public String code() {
        return id == null ? type : version == null ? type + "/" + id : type + "/" + id + HISTORY + version;
    }

    @Override
    public String toString() {
        return code();
    }

    /** A FHIR resource type as the API names them: a capital, then 1 to 63 letters. */
    static boolean isType(String s) {
        if (s == null || s.length() < 2 || s.length() > 64 || s.charAt(0) < 'A' || s.charAt(0) > 'Z') {
            return false;
        }
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
    }

    /** A FHIR id as this server stores them: 1 to 64 of {@code A-Z a-z 0-9 - .}. */
    static boolean isId(String s) {
        if (s == null || s.isEmpty() || s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    /** A version as this server numbers them: 1 and up, without leading zeros. */
    private static boolean isVersion(String s) {
        if (s == null || s.isEmpty() || s.length() > 9 || s.charAt(0) == '0') {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
