package jp.mamori.maintenance.web;

import java.util.List;

/**
 * The view models of the vendor notices ({@link NoticePages}; templates {@code maintenance/notices*.jte}): texts in
 * the page's language, kinds, severities and statuses in words, times in Japan time; a notice is named by its number
 * (2026-3), never by an internal id.
 */
public final class NoticeViews {
    private NoticeViews() {
    }

    /**
     * One line of the list.
     *
     * @param severityClass a CSS class that colours the severity, always beside its word (never colour alone)
     */
    public record Line(String label, String href, String severity, String severityClass, String kind, String vendor,
                       String component, String status, boolean overdue, String postedAt) {
    }

    public record Listing(List<Line> open, List<Line> closed, boolean mayPost, boolean vendorView, String notice,
                        long overdue) {
    }

    public record Option(String value, String label, boolean selected) {
    }

    /** The post form, with what was typed (kept on a refusal). */
    public record Form(String vendor, boolean vendorFixed, List<Option> kinds, String component, String componentId,
                       List<Option> severities, String summary, String workaround, String patchOn, String references,
                       String error, String csrf) {
    }

    public record Fact(String label, String value) {
    }

    public record Step(String status, String at, String by, String detail) {
    }

    /**
     * A notice's page.
     *
     * @param mayAct whether the forms are shown (an account administrator, the notice not closed)
     */
    public record One(String label, String title, String severity, String severityClass, String status,
                      boolean overdue, List<Fact> facts, List<Step> history, boolean mayAct, boolean acknowledged, boolean closed,
                      List<Option> closures, String plan, String closeHow, String closeOn, String note, String error,
                      String notice, String csrf) {
    }
}
