package jp.mamori.ops.web;

import java.util.List;

/**
 * The view models of the health page ({@link HealthPages}; template {@code health/home.jte}), already formatted for a
 * person: check names in words, times in the server's zone (JST), colours as words and classes.
 */
public final class HealthViews {
    private HealthViews() {
    }

    /**
     * The page.
     *
     * @param status      the whole, in words (正常 / 注意 / 異常)
     * @param statusClass its class ({@code state-ok}, {@code state-warn}, {@code state-bad})
     * @param at          when the report was made
     * @param checks      each check, in the order registered
     * @param alerts      the open alerts, oldest first
     * @param failures    failed logins in the alert's window, in words
     * @param zone        the time zone the times are in
     */
    public record Home(String status, String statusClass, String at, List<Check> checks, List<Alert> alerts,
                       String failures, String zone) {
    }

    /** One check's row. */
    public record Check(String name, String status, String statusClass, String summary, String at, boolean critical) {
    }

    /** One open alert. */
    public record Alert(String text, String since) {
    }
}
