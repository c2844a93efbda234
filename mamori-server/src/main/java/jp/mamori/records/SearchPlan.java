package jp.mamori.records;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The statements of one {@link SearchQuery} over the index tables: its conditions written out once, as SQL over
 * alias {@code r} of {@code resource}, with their arguments, and the statements a search runs on them (the count,
 * a page, the ids of a conditional operation, a chunk of a person's search across patients). A search that can be
 * answered from the index alone is written to skip a lookup of {@code resource} per match ({@link #indexDriven}).
 */
final class SearchPlan {
    /** A statement and its arguments, in the order of its {@code ?}. */
    record Statement(String sql, List<Object> args) {
        void bind(PreparedStatement ps) throws SQLException {
            for (int i = 0; i < args.size(); i++) {
                Object a = args.get(i);
                if (a instanceof String[] texts) {
                    // A typed text[] parameter: the driver then prepares the statement on the server after a few
                    // uses, so that PostgreSQL can keep its plan (a Java array passed as an object was sent untyped,
                    // and every execution was planned afresh).
                    ps.setArray(i + 1, ps.getConnection().createArrayOf("text", texts));
                } else {
                    ps.setObject(i + 1, a);
                }
            }
        }
    }

    private static final String INDEX_LOOKUP = "r.res_pk IN (SELECT x.res_pk FROM ";

    private final SearchQuery q;
    /** The conditions as SQL over {@code r}, in order. */
    private final List<String> where;
    /** Their arguments, in order. */
    private final List<Object> args = new ArrayList<>();
    /**
     * The row filter of the main query and its arguments, built when a statement first needs them: a person's
     * search that names its patient is usually answered without them (see {@code RecordSearch}).
     */
    private String mainFilter;
    private List<Object> mainFilterArgs;
    /** Whether {@link #mainFilter} reads columns of {@code resource} (a person's does, permit-all's does not). */
    private boolean mainFilterReadsColumns;
    /** Memo of {@link #firstReadingColumns()}. */
    private int firstReadingColumns = -1;

    SearchPlan(SearchQuery q) {
        this.q = q;
        this.where = new ArrayList<>(q.conditions.size());
        for (SearchCondition c : q.conditions) {
            where.add(c.sql("r", args, q.filter));
        }
    }

    /** {@code SELECT count(*)} of the matches the caller may see. */
    Statement count() {
        return new Statement("SELECT count(*) FROM " + fromWhereSql(false, true), fromWhereArgs(false, true));
    }

    /**
     * The keys of up to {@code rows} matches after {@code cursor} (null: from the first) in the search's order: the
     * row key, then the sort keys as text. Without {@code filtered}, the main query's row filter is left out.
     */
    Statement page(String cursor, int rows, boolean filtered) {
        List<Object> out = fromWhereArgs(false, filtered);
        String sql = "SELECT r.res_pk" + sortSelectSql() + " FROM " + fromWhereSql(false, filtered);
        if (cursor != null) {
            sql += " AND " + SearchCursor.after(q.sort, SearchCursor.decode(cursor), out);
        }
        sql += orderSql() + " LIMIT " + rows;
        return new Statement(sql, out);
    }

    /** The ids of at most two matches the caller may see: what a conditional operation needs to know. */
    Statement ids() {
        return new Statement("SELECT r.res_id FROM " + fromWhereSql(true, true) + " LIMIT 2",
                fromWhereArgs(true, true));
    }

    /**
     * The keys of the next {@code chunk} matches after {@code afterPk}, in key order, found without the main row
     * filter: the caller decides each of them as a read is decided.
     */
    Statement chunk(long afterPk, int chunk) {
        List<Object> out = fromWhereArgs(false, false);
        out.add(afterPk);
        return new Statement("SELECT r.res_pk FROM " + fromWhereSql(false, false)
                + " AND r.res_pk > ? ORDER BY r.res_pk ASC LIMIT " + chunk, out);
    }

    /**
     * Whether the search can be answered from the index alone: its first condition is a lookup of indexed
     * values and it sorts by nothing but the row key. Index rows exist only for the current version of
     * resources that are not deleted (each write rebuilds them; a delete removes them), so such a search
     * needs neither the type nor the deleted flag of {@code resource}, and skips a lookup per match.
     */
    private boolean indexDriven(boolean needResourceColumns, boolean filtered) {
        if (needResourceColumns || !q.sort.isEmpty() || where.isEmpty() || !where.get(0).startsWith(INDEX_LOOKUP)
                || !where.get(0).endsWith(")")) {
            return false;
        }
        // The other conditions may use only the row key: _id and _lastUpdated read columns of resource, and so
        // does a person's row filter (permit-all's does not).
        return firstReadingColumns() >= where.size() && !(filtered && mainFilter() != null && mainFilterReadsColumns);
    }

    /** The main query's row filter (null without one), built on first use; its arguments follow all others. */
    private String mainFilter() {
        if (q.filter != null && mainFilter == null) {
            List<Object> out = new ArrayList<>();
            mainFilter = q.filter.condition("r", q.type, out);
            mainFilterArgs = out;
            mainFilterReadsColumns = readsColumnOtherThanRowKey(mainFilter);
        }
        return mainFilter;
    }

    /** The index of the first condition after the first that reads a column of resource other than the row key. */
    private int firstReadingColumns() {
        if (firstReadingColumns < 0) {
            int found = where.size();
            for (int i = 1; i < where.size() && found == where.size(); i++) {
                if (readsColumnOtherThanRowKey(where.get(i))) {
                    found = i;
                }
            }
            firstReadingColumns = found;
        }
        return firstReadingColumns;
    }

    /** Whether {@code sql} names {@code r.<column>} for a column other than res_pk (a person's filter is long). */
    static boolean readsColumnOtherThanRowKey(String sql) {
        for (int at = sql.indexOf("r."); at >= 0; at = sql.indexOf("r.", at + 2)) {
            if (at > 0 && isWordChar(sql.charAt(at - 1))) {
                continue;
            }
            int end = at + 2;
            while (end < sql.length() && isWordChar(sql.charAt(end))) {
                end++;
            }
            int length = end - (at + 2);
            if (length > 0 && !(length == 6 && sql.regionMatches(at + 2, "res_pk", 0, 6))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isWordChar(char ch) {
        return ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9';
    }

    /**
     * The FROM and WHERE clauses of the search, binding alias {@code r} with at least {@code res_pk}; with
     * {@code needResourceColumns} it is the {@code resource} table itself; without {@code filtered}, the main
     * query's row filter is left out.
     */
    String fromWhereSql(boolean needResourceColumns, boolean filtered) {
        StringBuilder sb = new StringBuilder();
        int first = 0;
        if (indexDriven(needResourceColumns, filtered)) {
            String lookup = where.get(0); // r.res_pk IN (SELECT x.res_pk FROM ...)
            String inner = lookup.substring("r.res_pk IN (".length(), lookup.length() - 1);
            sb.append("(SELECT DISTINCT").append(inner.substring("SELECT".length())).append(") r WHERE true");
            first = 1;
        } else {
            sb.append("resource r WHERE r.res_type = ? AND NOT r.deleted");
        }
        for (int i = first; i < where.size(); i++) {
            sb.append(" AND ").append(where.get(i));
        }
        if (filtered && mainFilter() != null) {
            sb.append(" AND ").append(mainFilter());
        }
        return sb.toString();
    }

    /** The arguments of {@link #fromWhereSql(boolean, boolean)}. */
    List<Object> fromWhereArgs(boolean needResourceColumns, boolean filtered) {
        List<Object> out = new ArrayList<>();
        if (!indexDriven(needResourceColumns, filtered)) {
            out.add(q.type);
        }
        out.addAll(args);
        if (filtered && mainFilter() != null) {
            out.addAll(mainFilterArgs);
        }
        return out;
    }

    String orderSql() {
        StringBuilder sb = new StringBuilder(" ORDER BY ");
        for (SearchQuery.SortKey k : q.sort) {
            sb.append(k.sqlExpr()).append(k.desc() ? " DESC, " : " ASC, ");
        }
        sb.append("r.res_pk").append(!q.sort.isEmpty() && q.sort.get(0).desc() ? " DESC" : " ASC");
        return sb.toString();
    }

    String sortSelectSql() {
        StringBuilder sb = new StringBuilder();
        for (SearchQuery.SortKey k : q.sort) {
            sb.append(", ").append(k.sqlExpr()).append("::text");
        }
        return sb.toString();
    }
}
