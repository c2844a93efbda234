package jp.mamori.audit;

/**
 * The work order (保守作業の作業番号) the current work is done under, which every audit entry built meanwhile carries as
 * its detail {@code workOrder} (issue 19; MAINT-1, MAINT-4, MAINT-9: every action in a maintenance window names its
 * work order, so that the work report is read from the trail itself).
 *
 * <p>Two scopes: the request a vendor's maintenance session is being served on ({@link #open}: the console's gate
 * binds it around the page, on that thread only, and unbinds it whatever happens), and a whole server-side command
 * ({@link #forProcess}: {@code ./mamori … --work-order N}). The thread's binding wins over the process's. The value
 * is set only by those two choke points; a page cannot set or forget it.
 */
public final class AuditContext {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();
    private static volatile String process;

    private AuditContext() {
    }

    /** The work order of the work being done now on this thread, or null outside maintenance. */
    public static String workOrder() {
        String w = CURRENT.get();
        return w != null ? w : process;
    }

    /** The binding of {@link #open}: closing it restores what was bound before. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Binds {@code workOrder} (null: nothing) to this thread until the returned scope is closed. */
    public static Scope open(String workOrder) {
        if (workOrder == null) {
            return () -> {
            };
        }
        String before = CURRENT.get();
        CURRENT.set(workOrder);
        return () -> {
            if (before == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(before);
            }
        };
    }

    /** For a server-side command run under a work order: every entry of this process carries it; null clears it. */
    public static void forProcess(String workOrder) {
        process = workOrder;
    }
}
