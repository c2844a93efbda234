package jp.mamori.compliance.web;

import java.util.List;

/**
 * The view models of the executive dashboard ({@link DashboardPages}; template {@code compliance/dashboard.jte}):
 * everything in words, Japanese first; requirement families only as a small aside; dates in Japan time.
 */
public final class DashboardViews {
    private DashboardViews() {
    }

    /**
     * @param colour      the state class: state-ok, state-warn, state-bad
     * @param word        the colour in words (良好・注意・要対応)
     * @param families    the requirement families, small beside the title (e.g. "GOV · HR · DATA")
     */
    public record Area(String id, String title, String colour, String word, String families, List<String> reasons,
                       String counts) {
    }

    /** A line of a list, with a console link or null. */
    public record Line(String text, String aside, String cls, String href) {
    }

    /**
     * @param lastReview "前回の見直し：…" or that there is none
     * @param mayReview  whether the person may record a review (account administrators)
     */
    public record Dashboard(List<Area> areas, String lastReview, List<Line> changes, boolean changesCut,
                            List<Line> overdue, List<Line> failing, List<Line> unanswered, List<Line> packs,
                            boolean mayReview, String note, String error, String notice, String csrf) {
    }
}
