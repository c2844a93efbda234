package jp.mamori.records;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whether a condition reads resource columns other than the row key decides if a search runs from its index. */
class SearchQueryColumnsTest {
    /** The rule as a regular expression: some {@code r.<word>} whose word is not res_pk. */
    private static final Pattern REFERENCE = Pattern.compile("\\br\\.(\\w+)");

    private static boolean byPattern(String sql) {
        Matcher m = REFERENCE.matcher(sql);
        while (m.find()) {
            if (!m.group(1).equals("res_pk")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void namedCases() {
        assertFalse(SearchPlan.readsColumnOtherThanRowKey("r.res_pk IN (SELECT x.res_pk FROM sp_token x)"));
        assertFalse(SearchPlan.readsColumnOtherThanRowKey("tr.last_updated > ? AND r.res_pk > ?"));
        assertFalse(SearchPlan.readsColumnOtherThanRowKey("r."));
        assertTrue(SearchPlan.readsColumnOtherThanRowKey("r.res_pkx = 1"));
        assertTrue(SearchPlan.readsColumnOtherThanRowKey("(r.last_updated >= ?)"));
        assertTrue(SearchPlan.readsColumnOtherThanRowKey("NOT (r.labels && ?::text[])"));
        assertTrue(SearchPlan.readsColumnOtherThanRowKey("r.res_pk = 1 AND r.patients[1] = ?"));
    }

    @Test
    void agreesWithThePatternOnGeneratedConditions() {
        List<String> parts = List.of("r.", "r", ".", "res_pk", "res_id", "patients", "x", "_", "tr.", " ", "(", ")",
                "1", "=", "r.res_pk", "pp.id", "R.", "é", "\n");
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < 100_000; i++) {
            StringBuilder sql = new StringBuilder();
            int n = random.nextInt(1, 12);
            for (int k = 0; k < n; k++) {
                sql.append(parts.get(random.nextInt(parts.size())));
            }
            String s = sql.toString();
            assertEquals(byPattern(s), SearchPlan.readsColumnOtherThanRowKey(s), s);
        }
    }
}
