package jp.mamori.access.web;

import jp.mamori.access.AccessAdmin;
import jp.mamori.access.BreakGlass;
import jp.mamori.identity.Accounts;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;

import java.util.ArrayList;
import java.util.List;

/**
 * What the access model has waiting for an administrator, as badges on the home page (issue 22): break-glass uses
 * to review (ACCESS-6: each use is reviewed after the fact), role assignments awaiting a second administrator's
 * approval or confirmation, and access reviews started and not completed.
 */
public final class AccessWaiting {
    private final AccessAdmin access;
    private final BreakGlass breakGlass;

    public AccessWaiting(AccessAdmin access, BreakGlass breakGlass) {
        this.access = access;
        this.breakGlass = breakGlass;
    }

    public void register(Console console) {
        console.waiting(this::waiting);
    }

    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!r.session().hasRole(Accounts.ADMIN_ROLE)) {
            return List.of();
        }
        List<Console.Waiting> out = new ArrayList<>();
        if (breakGlass != null) {
            out.add(new Console.Waiting(r.messages().get("access.waiting.breakGlass"),
                    breakGlass.pendingReviews().size(), "/console/admin/break-glass"));
        }
        out.add(new Console.Waiting(r.messages().get("access.waiting.roles"),
                access.roles().awaitingConfirmation().size() + access.roles().pending().size(), "/console/admin/access"));
        out.add(new Console.Waiting(r.messages().get("access.waiting.reviews"),
                access.reviews().list().stream().filter(jp.mamori.access.AccessReviews.Review::open).count(),
                "/console/admin/access-review"));
        return out;
    }
}
