package jp.mamori.maintenance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.Outcome;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The work report (作業報告) of an approved maintenance job (issue 19; MAINT-4, MAINT-5, MAINT-9, MAINT-13): its log is
 * GENERATED from the audit trail (every entry that carries the work order, between the window's start and its end, or
 * its early end, plus {@link #MARGIN}), COMPLETED by one of the job's staff (results, what was done, open issues: a
 * further submission is a new version until approved) and APPROVED by the institution's responsible person, never a
 * staff member of the job, or sent back with a reason (差戻し). Every step is a row of
 * {@code maintenance_work_report_step} (V31, append-only) and an audit entry in the same transaction.
 *
 * <p>Due (MAINT-4 "promptly"): the vendor submits within {@link #REPORT_DUE} of the window's end, the institution
 * approves within {@link #APPROVAL_DUE}; {@link #overdue} names each late report ("日本語 / English") for the
 * administrator's home, the compliance probe and the alerts.
 */
public final class WorkReports {
    /** How long after the window's end the vendor has to submit the report. */
    public static final Duration REPORT_DUE = Duration.ofDays(2);
    /** How long after the window's end the institution has to approve it. */
    public static final Duration APPROVAL_DUE = Duration.ofDays(7);
    /** Entries recorded this long after the window's end still count (a request that finished as it closed). */
    public static final Duration MARGIN = Duration.ofMinutes(5);
    /** The most entries a report lists; the rest are counted ("and N more"). */
    public static final int MAX_LOG = 5000;
    static final int MAX_TEXT = 4000;
    /** Actions that take data out of the institution's hands: listed apart in the report as 持ち出し (MAINT-8). */
    public static final Set<String> EXPORT_ACTIONS = Set.of("export", "print", "audit.export", "compliance.pack",
            "compliance.document.download");

    /** Where a report stands. */
    public enum Status {
        /** Nothing submitted yet. */
        NONE,
        /** A version submitted, waiting for the institution. */
        SUBMITTED,
        /** Sent back: the vendor submits again. */
        RETURNED,
        /** Approved (MAINT-5). */
        APPROVED
    }

    /** One step of a report: a submitted version (with its three texts), a return (with its reason), the approval. */
    public record Step(String step, int version, String results, String done, String openIssues, String reason,
                       UUID by, String byName, Instant at) {
    }

    /** A work order with its report's steps, oldest first. */
    public record Report(WorkOrders.WorkOrder order, List<Step> steps) {
        public Status status() {
            return WorkReports.status(steps.isEmpty() ? null : steps.get(steps.size() - 1).step());
        }

        /** The newest submitted version, if any. */
        public Optional<Step> latest() {
            for (int i = steps.size() - 1; i >= 0; i--) {
                if (steps.get(i).step().equals("submitted")) {
                    return Optional.of(steps.get(i));
                }
            }
            return Optional.empty();
        }

        /** When the vendor's part is due. */
        public Instant reportDue() {
            return order.over().plus(REPORT_DUE);
        }

        /** When the institution's approval is due. */
        public Instant approvalDue() {
            return order.over().plus(APPROVAL_DUE);
        }

        /** Whether the report can be worked on: the job was approved and its window is over. */
        public boolean open(Instant now) {
            return order.approved() && order.state(now) == WorkOrders.State.ENDED;
        }
    }

    /** The generated part: the entries (at most {@link #MAX_LOG}) and how many there were. */
    public record Log(List<AuditReports.Row> rows, long total, Instant from, Instant to) {
        public long more() {
            return Math.max(0, total - rows.size());
        }
    }

    /** A late report: its work order and which step is late, in words. */
    public record Overdue(String number, String step, String text) {
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final AuditReports reports;
    private final WorkOrders orders;

    public WorkReports(DataSource db, AuditRecorder audit, AuditReports reports, WorkOrders orders) {
        this.db = db;
        this.audit = audit;
        this.reports = reports;
        this.orders = orders;
    }

    public WorkOrders orders() {
        return orders;
    }

    // ---- reads -------------------------------------------------------------------------------------------------

    /** The report of a work order (its steps may be none yet); empty when there is no such work order. */
    public Optional<Report> find(String number) {
        return orders.find(number).map(w -> new Report(w, steps(w.seq())));
    }

    private List<Step> steps(long workOrder) {
        return Tx.read(db, c -> {
            List<Step> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT step, version, results, done, open_issues, reason,"
                    + " by_account, by_name, at FROM maintenance_work_report_step WHERE work_order = ? ORDER BY seq")) {
                ps.setLong(1, workOrder);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Step(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getObject(7, UUID.class), rs.getString(8),
                                rs.getTimestamp(9).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /**
     * The generated log of a job: the entries carrying its number from the window's start to its end (or early end)
     * plus {@link #MARGIN}, oldest first; for a running job, up to now.
     */
    public Log log(WorkOrders.WorkOrder w) {
        Instant from = w.start();
        Instant to = w.over().plus(MARGIN);
        return new Log(reports.underWorkOrder(w.number(), from, to, MAX_LOG),
                reports.countUnderWorkOrder(w.number(), from, to), from, to);
    }

    /** The newest {@code limit} entries of a job, newest first: the live view (MAINT-3). */
    public List<AuditReports.Row> latest(WorkOrders.WorkOrder w, int limit) {
        return reports.latestUnderWorkOrder(w.number(), w.start(), w.over().plus(MARGIN), limit);
    }

    /**
     * The reports that are late at {@code now}, oldest job first: the vendor's part not in {@link #REPORT_DUE} after
     * the window's end ("提出期限切れ"), or not approved {@link #APPROVAL_DUE} after it ("承認期限切れ"). A plain read
     * for the administrator's home, the compliance probe and the alerts (the lead wires the last two).
     */
    public List<Overdue> overdue(Instant now) {
        List<Overdue> out = new ArrayList<>();
        Map<Long, String> last = lastSteps();
        for (WorkOrders.WorkOrder w : orders.all()) {
            if (!w.approved() || w.state(now) != WorkOrders.State.ENDED
                    || now.isBefore(w.over().plus(REPORT_DUE))) {
                continue; // nothing can be late yet
            }
            Status s = status(last.get(w.seq()));
            if (s == Status.APPROVED) {
                continue;
            }
            if (s != Status.SUBMITTED) {
                out.add(new Overdue(w.number(), "report", "作業報告 " + w.number() + " が提出期限（作業終了から"
                        + REPORT_DUE.toDays() + "日）を過ぎても提出されていません / the work report of " + w.number()
                        + " was not submitted within " + REPORT_DUE.toDays() + " days of the window's end"));
            } else if (!now.isBefore(w.over().plus(APPROVAL_DUE))) {
                out.add(new Overdue(w.number(), "approval", "作業報告 " + w.number() + " が承認期限（作業終了から"
                        + APPROVAL_DUE.toDays() + "日）を過ぎても承認されていません / the work report of " + w.number()
                        + " was not approved within " + APPROVAL_DUE.toDays() + " days of the window's end"));
            }
        }
        out.sort((a, b) -> a.number().compareTo(b.number()));
        return out;
    }

    /** How many reports wait for the institution's approval now (the administrator's home). */
    public long waitingApproval(Instant now) {
        Map<Long, String> last = lastSteps();
        return orders.all().stream().filter(w -> w.approved() && w.state(now) == WorkOrders.State.ENDED
                && status(last.get(w.seq())) == Status.SUBMITTED).count();
    }

    /** The newest step of every report, by work order: one query for the lists above. */
    private Map<Long, String> lastSteps() {
        return Tx.read(db, c -> {
            Map<Long, String> out = new java.util.HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (work_order) work_order, step"
                    + " FROM maintenance_work_report_step ORDER BY work_order, seq DESC");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getString(2));
                }
            }
            return out;
        });
    }

    private static Status status(String lastStep) {
        if (lastStep == null) {
            return Status.NONE;
        }
        return switch (lastStep) {
            case "approved" -> Status.APPROVED;
            case "returned" -> Status.RETURNED;
            default -> Status.SUBMITTED;
        };
    }

    // ---- the vendor's part -------------------------------------------------------------------------------------

    /**
     * Submits the vendor's part as one of the job's staff: a new version (the first, or after a return, or replacing
     * one not yet decided). Refused before the window is over, after approval, and for anyone not named in the job.
     *
     * @throws MaintenanceException one line for the person; the refusal is also an audit entry
     */
    public Report submit(Actor by, UUID account, String number, Map<String, String> typed) {
        try {
            String results = Vendors.text(typed.get("results"), "作業結果 / results", MAX_TEXT, true);
            String done = Vendors.text(typed.get("done"), "実施内容 / what was done", MAX_TEXT, true);
            String issues = Vendors.text(typed.get("open_issues"), "残課題（なければ「なし」） / open issues (\"none\""
                    + " if none)", MAX_TEXT, true);
            Tx.inTransaction(db, c -> {
                lock(c);
                Report r = find(number).orElseThrow(() -> new MaintenanceException(
                        "その作業申請はありません / no such work request"));
                WorkOrders.WorkOrder w = r.order();
                if (!w.staff().contains(account)) {
                    throw new MaintenanceException("作業報告を出せるのはこの作業の作業者だけです / only the job's staff"
                            + " submit its report");
                }
                if (!r.open(orders.now())) {
                    throw new MaintenanceException("作業報告は、承認された作業の時間帯が終わってから出せます / a report is"
                            + " submitted once an approved job's window is over");
                }
                if (r.status() == Status.APPROVED) {
                    throw new MaintenanceException("この作業報告はすでに承認されています / this report is already approved");
                }
                int v = r.latest().map(Step::version).orElse(0) + 1;
                insert(c, w.seq(), "submitted", v, results, done, issues, null, account, by, orders.now());
                audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_REPORT).detail("workOrder", w.number())
                        .detail("version", Integer.toString(v))
                        .detail("late", Boolean.toString(orders.now().isAfter(r.reportDue())))
                        .detail("length", Integer.toString(results.length() + done.length() + issues.length()))
                        .build());
                return v;
            });
            audit.drainSoon();
            return find(number).orElseThrow();
        } catch (MaintenanceException e) {
            refused(by, AuditAction.MAINTENANCE_REPORT, number, e);
            throw e;
        }
    }

    // ---- the institution's part --------------------------------------------------------------------------------

    /** Approves the newest submitted version (MAINT-5). Never by a staff member of the job. */
    public Report approve(Actor by, UUID account, String number) {
        return decide(by, account, number, true, null);
    }

    /** Sends the newest submitted version back with a reason (差戻し): the vendor submits again. */
    public Report sendBack(Actor by, UUID account, String number, String reason) {
        return decide(by, account, number, false, reason);
    }

    private Report decide(Actor by, UUID account, String number, boolean approve, String reason) {
        AuditAction action = approve ? AuditAction.MAINTENANCE_REPORT_APPROVE : AuditAction.MAINTENANCE_REPORT_RETURN;
        try {
            String why = approve ? null : Vendors.text(reason, "差戻しの理由 / reason for returning",
                    WorkOrders.MAX_REASON, true);
            Tx.inTransaction(db, c -> {
                lock(c);
                Report r = find(number).orElseThrow(() -> new MaintenanceException(
                        "その作業申請はありません / no such work request"));
                WorkOrders.WorkOrder w = r.order();
                if (w.staff().contains(account)) {
                    throw new MaintenanceException("この作業の作業者は作業報告を承認・差戻しできません / a staff member of"
                            + " the job cannot approve or return its report");
                }
                if (r.status() == Status.APPROVED) {
                    throw new MaintenanceException("この作業報告はすでに承認されています / this report is already approved");
                }
                if (r.status() != Status.SUBMITTED) {
                    throw new MaintenanceException("承認・差戻しする作業報告がまだ提出されていません / no report has been"
                            + " submitted to approve or return");
                }
                int v = r.latest().orElseThrow().version();
                insert(c, w.seq(), approve ? "approved" : "returned", v, null, null, null, why, account, by, orders.now());
                audit.stage(c, AuditEvent.by(by, action).detail("workOrder", w.number())
                        .detail("version", Integer.toString(v))
                        .detail("late", Boolean.toString(orders.now().isAfter(r.approvalDue()))).build());
                return null;
            });
            audit.drainSoon();
            return find(number).orElseThrow();
        } catch (MaintenanceException e) {
            refused(by, action, number, e);
            throw e;
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    private static void lock(java.sql.Connection c) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            ps.setString(1, "mamori.maintenance.work_report");
            ps.execute();
        }
    }

    private static void insert(java.sql.Connection c, long workOrder, String step, int version, String results,
                               String done, String issues, String reason, UUID account, Actor by, Instant now)
            throws java.sql.SQLException {
        String name = by.name(200);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_work_report_step (work_order, step,"
                + " version, results, done, open_issues, reason, by_account, by_name, at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, workOrder);
            ps.setString(2, step);
            ps.setInt(3, version);
            ps.setString(4, results);
            ps.setString(5, done);
            ps.setString(6, issues);
            ps.setString(7, reason);
            ps.setObject(8, account);
            ps.setString(9, name);
            ps.setTimestamp(10, Timestamp.from(now));
            ps.executeUpdate();
        }
    }

    private void refused(Actor by, AuditAction action, String number, MaintenanceException e) {
        String no = String.valueOf(number);
        audit.append(AuditEvent.by(by, action).outcome(Outcome.REFUSED)
                .detail("workOrder", no.substring(0, Math.min(no.length(), 20))).detail("refused", e.getMessage())
                .build());
    }
}
