package jp.mamori.clinical;

import jp.mamori.web.Reply;
import jp.mamori.web.console.ConsoleRequest;

import java.util.HashMap;
import java.util.Map;

/**
 * The pages under one prefix that starts with a resource id ({@code /console/patients/ID},
 * {@code /console/patients/ID/notes/new}...): each use case adds the paths it serves, and an id that is not one,
 * or a path nobody serves, is "not found".
 */
final class IdPaths {
    @FunctionalInterface
    interface Handler {
        Reply serve(ConsoleRequest r, String id) throws Exception;
    }

    private final String prefix;
    private final PageSupport pages;
    private final Map<String, Handler> byRest = new HashMap<>();

    IdPaths(String prefix, PageSupport pages) {
        this.prefix = prefix;
        this.pages = pages;
    }

    /** Serves {@code prefix + id + rest}; {@code rest} is "" or starts with '/' ({@code "/notes/new"}). */
    void add(String rest, Handler handler) {
        if (byRest.putIfAbsent(rest, handler) != null) {
            throw new IllegalStateException(prefix + "ID" + rest + " is served twice");
        }
    }

    Reply serve(ConsoleRequest r) throws Exception {
        String tail = r.path().substring(prefix.length());
        int slash = tail.indexOf('/');
        String id = slash < 0 ? tail : tail.substring(0, slash);
        Handler h = byRest.get(slash < 0 ? "" : tail.substring(slash));
        if (!PageSupport.ID.matcher(id).matches() || h == null) {
            return pages.notFound(r);
        }
        return h.serve(r, id);
    }
}
