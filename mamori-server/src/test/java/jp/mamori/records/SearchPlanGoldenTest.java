package jp.mamori.records;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import jp.mamori.kernel.FhirError;
import jp.mamori.access.RowFilter;

/**
 * The exact statements a search runs (golden strings): the SQL text is what PostgreSQL plans and caches, so a change
 * of it, even one that matches the same rows, is a change to look at. No database is needed.
 */
class SearchPlanGoldenTest {
    /** A row filter that reads only the row key, as permit-all's does. */
    private static final RowFilter BY_KEY = (a, t, args) -> {
        args.add("k:" + a + ":" + t);
        return "(" + a + ".res_pk % 7 <> ?)";
    };
    /** A row filter that reads columns of resource, as a person's does. */
    private static final RowFilter BY_COLUMNS = (a, t, args) -> {
        args.add(new String[]{"L:" + a});
        args.add("d:" + t);
        return "(NOT (" + a + ".labels && ?::text[]) AND " + a + ".doc_codes && ARRAY[?])";
    };

    private static Map<String, List<String>> params(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.computeIfAbsent(kv[i], k -> new ArrayList<>()).add(kv[i + 1]);
        }
        return m;
    }

    private static SearchPlan plan(String type, RowFilter filter, String... kv) {
        return new SearchPlan(SearchParser.parse(type, params(kv), filter));
    }

    private static String args(SearchPlan.Statement st) {
        List<String> out = new ArrayList<>();
        for (Object o : st.args()) {
            out.add(o instanceof String[] a ? Arrays.toString(a) : o.getClass().getSimpleName() + ":" + o);
        }
        return String.join("; ", out);
    }

    @Test
    void aStringPrefixIsAnsweredFromTheIndexAlone() {
        SearchPlan.Statement count = plan("Patient", null, "name", "yamada").count();
        assertEquals("SELECT count(*) FROM (SELECT DISTINCT x.res_pk FROM sp_string x WHERE x.res_type = ? AND"
                + " x.param = ? AND ((x.norm ~>=~ ? AND x.norm ~<~ ? AND x.norm LIKE ?))) r WHERE true", count.sql());
        assertEquals("String:Patient; String:name; String:yamada; String:yamada\uDBFF\uDFFF; String:yamada%",
                args(count));
    }

    @Test
    void aChainKeepsTheRowFilterInsideItsSubquery() {
        SearchPlan p = plan("Observation", BY_COLUMNS, "subject:Patient.name", "yamada");
        String chain = "r.res_pk IN (SELECT x.res_pk FROM sp_reference x WHERE x.res_type = ? AND x.param = ? AND"
                + " x.target_type = ? AND x.target_id IN (SELECT c0.res_id FROM resource c0 WHERE c0.res_type = ? AND"
                + " NOT c0.deleted AND c0.res_pk IN (SELECT x.res_pk FROM sp_string x WHERE x.res_type = ? AND"
                + " x.param = ? AND ((x.norm ~>=~ ? AND x.norm ~<~ ? AND x.norm LIKE ?))) AND (NOT (c0.labels &&"
                + " ?::text[]) AND c0.doc_codes && ARRAY[?])))";
        SearchPlan.Statement ids = p.ids();
        assertEquals("SELECT r.res_id FROM resource r WHERE r.res_type = ? AND NOT r.deleted AND " + chain
                + " AND (NOT (r.labels && ?::text[]) AND r.doc_codes && ARRAY[?]) LIMIT 2", ids.sql());
        assertEquals("String:Observation; String:Observation; String:subject; String:Patient; String:Patient;"
                + " String:Patient; String:name; String:yamada; String:yamada\uDBFF\uDFFF; String:yamada%; [L:c0];"
                + " String:d:Patient; [L:r]; String:d:Observation", args(ids));
        // Without the main filter, the chain alone drives the page from the index.
        SearchPlan.Statement page = p.page(null, 21, false);
        assertEquals("SELECT r.res_pk FROM (SELECT DISTINCT" + chain.substring("r.res_pk IN (SELECT".length(),
                chain.length() - 1) + ") r WHERE true ORDER BY r.res_pk ASC LIMIT 21", page.sql());
    }

    @Test
    void aQuantityWithSystemAndCode() {
        SearchPlan.Statement page = plan("Observation", null, "value-quantity",
                "gt5.4|http://unitsofmeasure.org|mg").page(null, 21, true);
        assertEquals("SELECT r.res_pk FROM (SELECT DISTINCT x.res_pk FROM sp_quantity x WHERE x.res_type = ? AND"
                + " x.param = ? AND (((x.value > ? AND x.system = ?) AND x.code = ?))) r WHERE true ORDER BY r.res_pk"
                + " ASC LIMIT 21", page.sql());
        assertEquals("String:Observation; String:value-quantity; BigDecimal:5.4; String:http://unitsofmeasure.org;"
                + " String:mg", args(page));
    }

    @Test
    void aLastUpdatedConditionReadsTheResourceTable() {
        SearchPlan.Statement chunk = plan("Observation", null, "code", "x", "_lastUpdated", "gt2020").chunk(7, 21);
        assertEquals("SELECT r.res_pk FROM resource r WHERE r.res_type = ? AND NOT r.deleted AND r.res_pk IN"
                + " (SELECT x.res_pk FROM sp_token x WHERE x.res_type = ? AND x.param = ? AND (x.code = ?)) AND"
                + " ((r.last_updated + interval '1 millisecond' > ?)) AND r.res_pk > ? ORDER BY r.res_pk ASC LIMIT 21",
                chunk.sql());
    }

    @Test
    void theNextPageOfASortedSearchFollowsItsCursor() {
        String cursor = SearchCursor.encode(List.of("2020-01-01 00:00:00+00", "42"));
        assertEquals("MjAyMC0wMS0wMSswMCUzQTAwJTNBMDAlMkIwMCw0Mg", cursor);
        assertEquals(List.of("2020-01-01 00:00:00+00", "42"), SearchCursor.decode(cursor));
        SearchPlan.Statement page = plan("Observation", BY_KEY, "_sort", "-date").page(cursor, 21, true);
        String date = "coalesce((SELECT min(d.lo) FROM sp_date d WHERE d.res_pk = r.res_pk AND d.param = 'date'),"
                + " '-infinity'::timestamptz)";
        assertEquals("SELECT r.res_pk, " + date + "::text FROM resource r WHERE r.res_type = ? AND NOT r.deleted AND"
                + " (r.res_pk % 7 <> ?) AND ((" + date + " < ?::timestamptz) OR (" + date + " = ?::timestamptz AND"
                + " r.res_pk < ?::bigint)) ORDER BY " + date + " DESC, r.res_pk DESC LIMIT 21", page.sql());
        assertEquals("String:Observation; String:k:r:Observation; String:2020-01-01 00:00:00+00;"
                + " String:2020-01-01 00:00:00+00; String:42", args(page));
    }

    @Test
    void aCursorThatIsNotOneIsRefused() {
        FhirError e = assertThrows(FhirError.class, () -> SearchCursor.decode("!!!"));
        assertEquals(400, e.status());
        assertEquals("the paging link is not valid; start the search again", e.getMessage());
        FhirError other = assertThrows(FhirError.class,
                () -> plan("Observation", null, "code", "x").page(SearchCursor.encode(List.of("a", "42")), 21, true));
        assertEquals("the paging link is not valid for this search; start the search again", other.getMessage());
        assertEquals(42L, SearchCursor.rowKey(SearchCursor.encode(List.of("42"))));
        assertEquals(400, assertThrows(FhirError.class, () -> SearchCursor.number("x")).status());
    }
}
