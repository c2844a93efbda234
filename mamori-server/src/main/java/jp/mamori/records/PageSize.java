package jp.mamori.records;
import jp.mamori.kernel.FhirError;

/** The number of entries on a page of search or history: {@code _count}, the server's default, at most its maximum. */
record PageSize(int defaultSize, int max) {
    /** The entries on a page for {@code count} (null: not asked); a 400 when it is negative. */
    int limit(Integer count) {
        if (count == null) {
            return defaultSize;
        }
        if (count < 0) {
            throw FhirError.badRequest("_count must not be negative");
        }
        return Math.min(count, max);
    }
}
