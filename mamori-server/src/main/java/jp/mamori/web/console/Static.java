package jp.mamori.web.console;

import jp.mamori.web.Reply;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The console's own scripts and styles, from the jar; a fixed list, so no path reaches the file system. */
final class Static {
    private static final Map<String, String> TYPES = Map.of(
            "console.css", "text/css;charset=UTF-8",
            "console.js", "text/javascript;charset=UTF-8",
            "passkeys.js", "text/javascript;charset=UTF-8");
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private Static() {
    }

    static Reply serve(String name) {
        String type = TYPES.get(name);
        if (type == null) {
            return Reply.of(404, "text/plain;charset=UTF-8", "not found");
        }
        byte[] body = CACHE.computeIfAbsent(name, n -> {
            try (InputStream in = Static.class.getResourceAsStream("/console/static/" + n)) {
                return in == null ? new byte[0] : in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return Reply.of(200, type, body).header("Cache-Control", "no-cache");
    }
}
