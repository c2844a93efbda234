package jp.mamori.records;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import jp.mamori.kernel.FhirError;

/**
 * The paging links of searches and histories. A search's cursor is the sort keys of the last row of a page and its
 * row key, each URL-encoded, joined by commas, in unpadded base64url; the next page is the rows after it in the
 * search's order (a keyset condition, {@link #after}). A history's cursor is a plain number (a version or a
 * sequence). A cursor that is not one of these is a 400, never an index error.
 */
final class SearchCursor {
    private SearchCursor() {
    }

    static String encode(List<String> values) {
        List<String> enc = new ArrayList<>();
        for (String v : values) {
            enc.add(URLEncoder.encode(v, StandardCharsets.UTF_8));
        }
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(String.join(",", enc).getBytes(StandardCharsets.UTF_8));
    }

    static List<String> decode(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String p : s.split(",", -1)) {
                out.add(URLDecoder.decode(p, StandardCharsets.UTF_8));
            }
            return out;
        } catch (IllegalArgumentException e) {
            throw FhirError.badRequest("the paging link is not valid; start the search again");
        }
    }

    /** The row key a cursor of a search paged by row key alone (a person's search across patients) follows. */
    static long rowKey(String cursor) {
        List<String> k = decode(cursor);
        if (k.size() != 1 || !k.get(0).matches("[0-9]{1,18}")) {
            throw FhirError.badRequest("the paging link is not valid for this search; start the search again");
        }
        return Long.parseLong(k.get(0));
    }

    /** The number a history's cursor holds. */
    static long number(String cursor) {
        try {
            return Long.parseLong(cursor);
        } catch (NumberFormatException e) {
            throw FhirError.badRequest("the paging link is not valid; start again");
        }
    }

    /** Keyset condition for the page after {@code cursor} in the order of {@code sort}, plus its arguments. */
    static String after(List<SearchQuery.SortKey> sort, List<String> cursor, List<Object> outArgs) {
        // Keys in order: the sort keys, then res_pk in the direction of the first key.
        List<String> exprs = new ArrayList<>();
        List<Boolean> desc = new ArrayList<>();
        List<String> casts = new ArrayList<>();
        for (SearchQuery.SortKey k : sort) {
            exprs.add(k.sqlExpr());
            desc.add(k.desc());
            casts.add(k.castType());
        }
        exprs.add("r.res_pk");
        desc.add(!sort.isEmpty() && sort.get(0).desc());
        casts.add("bigint");
        if (cursor.size() != exprs.size() || !cursor.get(cursor.size() - 1).matches("[0-9]{1,18}")) {
            throw FhirError.badRequest("the paging link is not valid for this search; start the search again");
        }
        for (int i = 0; i < casts.size() - 1; i++) {
            if (casts.get(i).equals("timestamptz")
                    && !cursor.get(i).matches("-?infinity|[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+([+-][0-9:]+|Z)?")) {
                throw FhirError.badRequest("the paging link is not valid for this search; start the search again");
            }
        }
        List<String> ors = new ArrayList<>();
        for (int i = 0; i < exprs.size(); i++) {
            StringBuilder and = new StringBuilder("(");
            for (int j = 0; j < i; j++) {
                and.append(exprs.get(j)).append(" = ?::").append(casts.get(j)).append(" AND ");
                outArgs.add(cursor.get(j));
            }
            and.append(exprs.get(i)).append(desc.get(i) ? " < ?::" : " > ?::").append(casts.get(i)).append(")");
            outArgs.add(cursor.get(i));
            ors.add(and.toString());
        }
        return "(" + String.join(" OR ", ors) + ")";
    }
}
