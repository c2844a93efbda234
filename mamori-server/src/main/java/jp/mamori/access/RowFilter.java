package jp.mamori.access;

import java.util.List;

/**
 * An extra condition on every row a search looks at, for callers who may see only some rows of a type
 * (people). {@link SearchPlan} adds it to the main query and to every chained and {@code _has} subquery,
 * so that counts, pages and conditions see only rows the caller may read.
 */
public interface RowFilter {
    /**
     * An SQL boolean over alias {@code alias} of {@code resource} (columns {@code res_pk}, {@code res_id}),
     * whose rows are of {@code resourceType}; its {@code ?} arguments are appended to {@code args} in order.
     */
    String condition(String alias, String resourceType, List<Object> args);
}
