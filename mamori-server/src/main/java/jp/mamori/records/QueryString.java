package jp.mamori.records;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
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

    /** Percent-decodes UTF-8; malformed escapes are a 400. */
    public static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw FhirError.badRequest("malformed percent-encoding in the URL");
        }
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
