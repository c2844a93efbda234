package jp.mamori.records;

import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.TextNormalizer;
import jp.mamori.access.RowFilter;

/**
 * A FHIR search as typed conditions ({@link SearchParser} makes it from the parameters): the searched type, one
 * {@link SearchCondition} per parameter occurrence, the sort keys, the other types the conditions look into, and the
 * row filter of the caller. {@link SearchPlan} turns it into statements; {@link SearchCursor} pages it.
 */
final class SearchQuery {
    /** A sort key: its SQL expression over {@code r}, its direction, and the type its cursor value is cast to. */
    record SortKey(String sqlExpr, boolean desc, String castType) {
    }

    final String type;
    /** The conditions, all of which a match meets, in the order of the parameters. */
    final List<SearchCondition> conditions;
    final List<SortKey> sort;
    /** Other types the conditions look into (chain targets, _has sources): the caller must be able to search them. */
    final Set<String> joinedTypes;
    /** Rows the caller may see, for the main query and every chained and _has subquery; null: all rows. */
    final RowFilter filter;

    SearchQuery(String type, List<SearchCondition> conditions, List<SortKey> sort, Set<String> joinedTypes,
                RowFilter filter) {
        this.type = type;
        this.conditions = conditions;
        this.sort = sort;
        this.joinedTypes = joinedTypes;
        this.filter = filter;
    }

    /**
     * Whether a person's search is best paged in chunks (see {@code RecordSearch}): it has a row filter, the
     * default order, and does not already name one patient, so that most matches may be of other patients.
     */
    boolean acrossPatients(Map<String, List<String>> params) {
        return filter != null && sort.isEmpty() && !namesPatient(params);
    }

    /** Whether the search names its patient(s): patient or subject (of any modifier or chain), or Patient?_id. */
    private boolean namesPatient(Map<String, List<String>> params) {
        for (String key : params.keySet()) {
            String name = key;
            for (int i = 0; i < key.length(); i++) {
                if (key.charAt(i) == ':' || key.charAt(i) == '.') {
                    name = key.substring(0, i);
                    break;
                }
            }
            if (name.equals("patient") || name.equals("subject") || (type.equals("Patient") && name.equals("_id"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a page of this person's search may first be read without the row filter and decided in memory
     * (see {@code RecordSearch}): it has a row filter and names its patient(s). Chained and _has conditions keep
     * the filter inside their subqueries either way (it is written into them by {@link SearchPlan}), so they never
     * match through a row the person may not see.
     */
    boolean pageDecidableInMemory(Map<String, List<String>> params) {
        return filter != null && namesPatient(params);
    }
}
