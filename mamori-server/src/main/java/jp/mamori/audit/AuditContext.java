package jp.mamori.audit;

/**
 * The work order (保守作業の作業番号) the current work is done under, which every audit entry built meanwhile carries as
 * its detail {@code workOrder} (issue 19; MAINT-1, MAINT-4, MAINT-9: every action in a maintenance window names its
 * work order, so that the work report is read from the trail itself).
 *
 * <p>Bound on one thread only, by two choke points ({@link #open}): the console's gate around the page a vendor's
 * maintenance session is served (and unbound whatever happens), and the command line around a server-side command run
 * with {@code --work-order N}. A page cannot set or forget it; work handed to another thread does not inherit it.
 */
public final class AuditContext {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private AuditContext() {
    }

    /** The work order of the work being done now on this thread, or null outside maintenance. */
    public static String workOrder() {
        return CURRENT.get();
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
}
