package jp.mamori.maintenance.web;

import java.util.List;
import java.util.Map;

/**
 * The view models of vendor maintenance's pages ({@link MaintenancePages}; templates {@code maintenance/*.jte}): texts
 * in the page's language, times in Japan time, a request named by its number (作業番号), a vendor by its name, a person
 * by their name and login id: never an internal id.
 */
public final class MaintenanceViews {
    private MaintenanceViews() {
    }

    /** The home part: a link to the maintenance pages for administrators and vendor staff. */
    public record Tile(String href, String label) {
    }

    /** One request in a list. */
    public record RequestRow(String number, String href, String vendor, String staff, String window, String systems,
                             String data, String state, String css, String approvals) {
    }

    /** A list of requests under a heading (waiting, active now, approved, ended, refused). */
    public record Group(String id, String title, List<RequestRow> rows) {
    }

    public record VendorRow(String name, String contractNo, String period, String responsible, int staff, int routes,
                            String href, boolean inContract) {
    }

    /**
     * The overview: requests grouped by state; for administrators also the vendors.
     *
     * @param vendorName the signed-in vendor's company (vendor staff), null for an administrator
     */
    public record Home(boolean admin, String vendorName, List<Group> groups, List<VendorRow> vendors, String newHref,
                       String notice, List<Overdue> overdue) {
    }

    public record Line(String label, String value) {
    }

    public record Option(String value, String label, boolean selected) {
    }

    /** A staff member, a route or a component of a vendor, with its retire form's number. */
    public record Item(String kind, int entry, List<Line> lines) {
    }

    /** One vendor with its staff, routes and components, and the forms to add to them. */
    public record Vendor(String name, List<Line> head, List<String> subcontractors, List<Item> staff, List<Item> routes,
                         List<Item> components, int number, Map<String, String> kept, String error, String notice,
                         String csrf) {
        public String kept(String key) {
            return kept.getOrDefault(key, "");
        }
    }

    /** The new-vendor form with what was typed. */
    public record VendorForm(Map<String, String> kept, String error, String csrf) {
        public String kept(String key) {
            return kept.getOrDefault(key, "");
        }
    }

    /**
     * The work-request form.
     *
     * @param vendors the vendors to choose from (an administrator entering a request, before choosing); empty once
     *                the vendor is known
     */
    public record RequestForm(int vendor, String vendorName, List<Option> vendors, List<Option> staff,
                              List<String> routes, Map<String, String> kept, String error, String csrf, String maxHours) {
        public String kept(String key) {
            return kept.getOrDefault(key, "");
        }

        public boolean checked(String key) {
            return "1".equals(kept.get(key));
        }
    }

    public record Decision(String word, String by, String at, String reason, boolean approve) {
    }

    /** A link under a request: its report, its live view. */
    public record Link(String id, String href, String label) {
    }

    /** One request with its decisions, and the approve / refuse forms for an administrator who may decide. */
    public record Request(RequestRow row, List<Line> lines, List<Decision> decisions, boolean mayDecide,
                          String reason, String error, String notice, String csrf, List<Link> links) {
    }

    /**
     * One audit entry of a job, in words (the report's log and the live view): when in Japan time, who by name, the
     * action as the audit console names it, the outcome, the kinds of records touched, how many patients.
     */
    public record LogRow(String at, String who, String action, String outcome, boolean failed, String records,
                         String patients, boolean export) {
    }

    /** The live view's entries (a fragment, refreshed in place) and what is shown above them. */
    public record LiveEntries(List<LogRow> rows, String state, String css, String asOf, boolean running) {
    }

    /** The live view of a running job, with the form that ends it at once. */
    public record Live(RequestRow row, LiveEntries entries, String entriesHref, boolean mayEnd, String earlyEnd,
                       String reason, String error, String notice, String csrf, String requestHref,
                       String reportHref) {
    }

    /** One step of a report's history: submitted (version), returned (reason), approved. */
    public record ReportStep(String word, String by, String at, String reason, String css) {
    }

    /**
     * The work report (作業報告): the request and its approvals, the early end, the generated log (summary,
     * 持ち出し, refused attempts, every entry), the vendor's newest version and the history, and the forms allowed to
     * the person looking.
     */
    public record Report(RequestRow row, List<Line> lines, List<Decision> decisions, String earlyEnd, String status,
                         String statusCss, List<Line> dues, List<Line> summary, List<LogRow> exports,
                         List<LogRow> refused, List<LogRow> log, long more, List<Line> latest, List<ReportStep> steps,
                         boolean maySubmit, boolean mayDecide, boolean windowOpen, Map<String, String> kept,
                         String reason, String error, String notice, String csrf, String requestHref) {
        public String kept(String key) {
            return kept.getOrDefault(key, "");
        }
    }

    /** Late work reports on the maintenance home (MAINT-4). */
    public record Overdue(String number, String href, String text) {
    }

    /** A page a vendor's session reaches inside its window. */
    public record DeskLink(String href, String label) {
    }

    /**
     * A vendor's home: inside a window (the work order and its end, the operations pages) or at the desk.
     *
     * @param request the request page of the work order, when inside its window
     */
    public record Desk(boolean inWindow, String headline, String hint, List<DeskLink> links, String request) {
    }
}
