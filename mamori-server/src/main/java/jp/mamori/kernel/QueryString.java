package jp.mamori.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** URL query strings and ETags as FHIR uses them, parsed in one place for the API and for bundle entries. */
public final class QueryString {
    private QueryString() {
    }

    /** {@code a=1&a=2&b} to {a=[1, 2], b=[""]}, in order, percent-decoded as UTF-8. */
    public static Map<String, List<String>> parse(String query) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) {
            return out;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    /**
     * Percent-decodes UTF-8 ('+' is a space); malformed escapes and bytes that are not UTF-8 are a 400, never
     * replacement characters (a name sent in Shift_JIS would otherwise be searched as U+FFFD and found nowhere).
     */
    public static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s.replace('+', ' ');
        }
        StringBuilder out = new StringBuilder(s.length());
        byte[] bytes = new byte[s.length() / 3];
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != '%') {
                out.append(c == '+' ? ' ' : c);
                i++;
                continue;
            }
            int n = 0;
            while (i < s.length() && s.charAt(i) == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(s.charAt(i + 2), 16);
                if (lo < 0) {
                    throw FhirError.badRequest("malformed percent-encoding in the URL");
                }
                bytes[n++] = (byte) (hi << 4 | lo);
                i += 3;
            }
            out.append(RequestText.utf8(java.util.Arrays.copyOf(bytes, n), "a percent-encoded value"));
        }
        return out.toString();
    }

    /** The version in an ETag such as {@code W/"3"}; anything else is a 400. */
    public static int etagVersion(String etag) {
        String v = etag.trim();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        v = v.replace("\"", "");
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw FhirError.badRequest("If-Match must be an ETag such as W/\"3\", got '" + etag + "'");
        }
    }
}
