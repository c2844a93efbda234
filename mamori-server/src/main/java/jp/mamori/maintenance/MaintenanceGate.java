package jp.mamori.maintenance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.Purpose;
import jp.mamori.identity.Account;
import jp.mamori.identity.Sessions;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Just-in-time access for vendors' maintenance accounts (issue 19; MAINT-1, MAINT-3, MAINT-5, ACCT-3, ACCESS-6): the
 * one question the console's gate asks on every request of a vendor's session, and only of a vendor's (every other
 * session costs one comparison of its account type).
 *
 * <ul>
 *   <li><b>In a window</b>: an approved work order of this account is active now ({@link WorkOrders#activeFor}) and
 *   the request comes from its approved source. The session is then bound to that work order: the first such request
 *   is recorded ({@code maintenance.session}, "admitted"), every audit entry of its requests carries the work order,
 *   and the console lets it reach the operations pages.</li>
 *   <li><b>At the vendor desk</b> otherwise: the session reaches only its own account, its vendor's work requests and
 *   reports, and its notices ({@link #deskPath}); any other page is refused with the reason and recorded. This is how
 *   a vendor files a request before it is approved and posts a notice (VULN-3) without any reach into the system.</li>
 *   <li><b>Ended</b>: a session bound to a work order ends on its first request after the window is over (by its end
 *   or ended early by the institution), after the clock moved by more than {@link #CLOCK_TOLERANCE} against the
 *   monotonic clock since it was bound (a clock set back would stretch the window), or when it comes from another
 *   address. The request that finds it so does nothing: the gate answers before any page runs, and a request already
 *   running completes in its own transaction, so nothing is half-written.</li>
 * </ul>
 *
 * <p>The binding is kept in this process (a session served by two nodes is admitted on each, and each records it);
 * a vendor session never outlives its window on any node, since each node asks the database on every request.
 */
public final class MaintenanceGate {
    /** How far the wall clock may drift against the monotonic clock during a bound session before it ends. */
    public static final Duration CLOCK_TOLERANCE = Duration.ofMinutes(1);
    /** Bindings older than this are forgotten (a window is at most 12 hours; a session seen no more leaves one). */
    private static final Duration FORGET_AFTER = WorkOrders.MAX_WINDOW.plusHours(1);

    /** What the gate decided for one request of a vendor's session. */
    public sealed interface Verdict permits Desk, InWindow, Ended {
    }

    /**
     * Outside any window: the vendor desk only.
     *
     * @param why null when simply outside a window; otherwise why an active window was not entered ("日本語 / English")
     */
    public record Desk(String why) implements Verdict {
    }

    /** Inside the approved window of {@code window}, from its approved source. */
    public record InWindow(WorkOrders.ActiveWindow window) implements Verdict {
    }

    /** The session must end now, for {@code message} ("日本語 / English"). */
    public record Ended(String message) implements Verdict {
    }

    public static final String WINDOW_OVER = "保守作業の時間が終了したため、ログアウトしました / The maintenance window is over;"
            + " you have been signed out";
    public static final String CLOCK_CHANGED = "作業中にサーバの時刻が変更されたため、ログアウトしました。もう一度ログインしてください"
            + " / The server's clock changed during the maintenance window; you have been signed out: sign in again";
    public static final String OTHER_ADDRESS = "承認された接続元と異なるアドレスからのアクセスのため、ログアウトしました"
            + " / This request came from an address other than the approved source; you have been signed out";
    public static final String NOT_FROM_SOURCE = "この作業申請で承認された接続元からではないため、保守作業の画面は使えません"
            + "（作業申請と通知のみ）/ Not from the source this work order approved: maintenance pages are closed to this"
            + " session (requests and notices only)";
    public static final String NO_PRINTOUT = "この保守作業では印刷・出力（データの持ち出し）が承認されていません / This work"
            + " order did not approve printing or taking data out";
    public static final String NOT_MAINTENANCE_PAGE = "保守作業では、この画面は使えません（運用の画面のみ） / Maintenance"
            + " does not reach this page (operations pages only)";
    public static final String OUTSIDE_WINDOW = "承認された保守作業の時間外です。作業申請・作業報告・通知の画面のみ使えます"
            + " / Outside an approved maintenance window: only work requests, reports and notices are open";

    /** A session bound to a window: when (wall and monotonic clock) and the window as the gate last read it. */
    private record Binding(Instant wallAt, long monoAt, WorkOrders.ActiveWindow window) {
        String workOrder() {
            return window.workOrderNo();
        }
    }

    private final WorkOrders orders;
    private final AuditRecorder audit;
    private final Clock clock;
    private final LongSupplier nanos;
    private final ConcurrentHashMap<String, Binding> bound = new ConcurrentHashMap<>();
    /** Sessions whose refusal at the window's door (another address) is already recorded, and when. */
    private final ConcurrentHashMap<String, Instant> refusedAtDoor = new ConcurrentHashMap<>();

    public MaintenanceGate(WorkOrders orders, AuditRecorder audit, Clock clock, LongSupplier nanos) {
        this.orders = orders;
        this.audit = audit;
        this.clock = clock;
        this.nanos = nanos;
    }

    public MaintenanceGate(WorkOrders orders, AuditRecorder audit, Clock clock) {
        this(orders, audit, clock, System::nanoTime);
    }

    /** Whether the gate applies to this session at all: only vendors' maintenance accounts. */
    public static boolean applies(Sessions.Session s) {
        return s != null && s.accountType() == Account.Type.VENDOR;
    }

    /**
     * The pages a vendor's session reaches outside a window: its own account and sign-in machinery, and the
     * maintenance pages (whose own access rule shows a vendor only its vendor's requests, reports and notices).
     */
    public static boolean deskPath(String path) {
        return Sessions.ownPagesPath(path) || path.equals("/console/maintenance")
                || path.startsWith("/console/maintenance/");
    }

    /**
     * The clinician pages a session inside a window that approved patient data may open: reading only (GET, and the
     * patient search, a POST that reads), never a form that writes. The access model then shows it the work order's
     * patients and nobody else ({@code PersonContext.forMaintenance}).
     */
    public static boolean clinicalRead(String method, String path) {
        boolean get = method.equals("GET") || method.equals("HEAD");
        return get && (path.equals("/console/patients") || path.startsWith("/console/patients/")
                || path.startsWith("/console/documents/")) || method.equals("POST") && path.equals("/console/patients");
    }

    /** A printout or download of a record (PDF): data leaving the institution, only when the work order approved it. */
    public static boolean printout(String path) {
        return path.endsWith(".pdf") || path.endsWith("/pdf");
    }

    /**
     * Whether the session, as {@code v} decided it, may open this page; null when it may, else why not ("日本語 /
     * English"). {@code operationsPage}: the route is one of the operations pages (the console's OPERATIONS access).
     */
    public static String refusal(Verdict v, String method, String path, boolean operationsPage) {
        if (deskPath(path)) {
            return null;
        }
        if (!(v instanceof InWindow in)) {
            return v instanceof Desk d && d.why() != null ? d.why() : OUTSIDE_WINDOW;
        }
        WorkOrders.ActiveWindow w = in.window();
        if (operationsPage || w.patientDataApproved() && clinicalRead(method, path)
                && (!printout(path) || w.exportApproved())) {
            return null;
        }
        return printout(path) && w.patientDataApproved() ? NO_PRINTOUT : NOT_MAINTENANCE_PAGE;
    }

    /** Decides one request of a vendor's session, coming from {@code address} (as the server saw it). */
    public Verdict admit(Sessions.Session s, String address) {
        Instant now = clock.instant();
        Optional<WorkOrders.ActiveWindow> active = orders.activeFor(s.accountId(), now);
        Binding b = bound.get(s.ref());
        if (b != null) {
            if (active.isEmpty() || !active.get().workOrderNo().equals(b.workOrder())) {
                return end(s, address, b, "window-over", Outcome.SUCCESS, WINDOW_OVER);
            }
            long wallMillis = Duration.between(b.wallAt(), now).toMillis();
            long monoMillis = (nanos.getAsLong() - b.monoAt()) / 1_000_000L;
            if (Math.abs(wallMillis - monoMillis) > CLOCK_TOLERANCE.toMillis()) {
                return end(s, address, b, "clock-changed", Outcome.REFUSED, CLOCK_CHANGED);
            }
            if (!active.get().admits(address)) {
                return end(s, address, b, "other-address", Outcome.REFUSED, OTHER_ADDRESS);
            }
            bound.replace(s.ref(), b, new Binding(b.wallAt(), b.monoAt(), active.get()));
            return new InWindow(active.get());
        }
        if (active.isEmpty()) {
            return new Desk(null);
        }
        WorkOrders.ActiveWindow w = active.get();
        if (!w.admits(address)) {
            if (refusedAtDoor.putIfAbsent(s.ref(), now) == null) {
                audit.append(AuditEvent.by(Actor.of(s, address), AuditAction.MAINTENANCE_SESSION)
                        .outcome(Outcome.REFUSED).purpose(Purpose.SECURITY).detail("step", "refused")
                        .detail("workOrder", w.workOrderNo()).detail("why", "not from the approved source").build());
            }
            return new Desk(NOT_FROM_SOURCE);
        }
        forgetOld(now);
        // recorded first: no page of the window opens unless its admission is in the trail
        audit.append(AuditEvent.by(Actor.of(s, address), AuditAction.MAINTENANCE_SESSION).outcome(Outcome.SUCCESS)
                .purpose(Purpose.MAINTENANCE).detail("step", "admitted").detail("workOrder", w.workOrderNo())
                .detail("until", w.until().toString()).build());
        bound.put(s.ref(), new Binding(now, nanos.getAsLong(), w));
        return new InWindow(w);
    }

    /**
     * The window the session is bound to, as the gate read it on this request (the pages of the request see the same
     * work order the gate admitted): its patients, whether it may print or export.
     */
    public Optional<WorkOrders.ActiveWindow> window(Sessions.Session s) {
        Binding b = s == null ? null : bound.get(s.ref());
        return b == null ? Optional.empty() : Optional.of(b.window());
    }

    /**
     * Records that a page was refused to a vendor's session (outside its window, or a page no maintenance reaches):
     * the path only, never the query.
     */
    public void refused(Sessions.Session s, String address, String path, String workOrder) {
        AuditEvent.Builder e = AuditEvent.by(Actor.of(s, address), AuditAction.MAINTENANCE_SESSION)
                .outcome(Outcome.REFUSED).purpose(Purpose.SECURITY).detail("step", "page-refused").detail("path",
                        path.length() > 200 ? path.substring(0, 200) : path);
        if (workOrder != null) {
            e.detail("workOrder", workOrder);
        }
        audit.append(e.build());
    }

    private Verdict end(Sessions.Session s, String address, Binding b, String why, Outcome outcome, String message) {
        bound.remove(s.ref(), b);
        audit.append(AuditEvent.by(Actor.of(s, address), AuditAction.MAINTENANCE_SESSION).outcome(outcome)
                .purpose(Purpose.MAINTENANCE).detail("step", "ended").detail("workOrder", b.workOrder())
                .detail("why", why).build());
        return new Ended(message);
    }

    private void forgetOld(Instant now) {
        Instant before = now.minus(FORGET_AFTER);
        bound.values().removeIf(x -> x.wallAt().isBefore(before));
        refusedAtDoor.values().removeIf(at -> at.isBefore(before));
    }
}
