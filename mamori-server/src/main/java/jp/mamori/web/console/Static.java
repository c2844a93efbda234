package jp.mamori.web.console;

import jp.mamori.web.Reply;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's own scripts, styles and font, from the jar; a fixed list, so no path reaches the file system.
 * The font is the one the PDFs embed (BIZ UDPGothic, SIL Open Font License, beside it in the jar as OFL.txt), so
 * Japanese shows on a machine without Japanese fonts of its own; it never changes within a release, so a browser
 * keeps it for a year instead of fetching 4.5 MB again.
 */
final class Static {
    /** The path under /console/static/ of the font console.css names first. */
    static final String FONT = "fonts/BIZUDPGothic-Regular.ttf";

    private record Asset(String resource, String type, String cacheControl) {
    }

    private static final Map<String, Asset> ASSETS = Map.of(
            "console.css", new Asset("/console/static/console.css", "text/css;charset=UTF-8", "no-cache"),
            "console.js", new Asset("/console/static/console.js", "text/javascript;charset=UTF-8", "no-cache"),
            "passkeys.js", new Asset("/console/static/passkeys.js", "text/javascript;charset=UTF-8", "no-cache"),
            FONT, new Asset("/jp/mamori/chart/fonts/BIZUDPGothic-Regular.ttf", "font/ttf",
                    "public, max-age=31536000, immutable"),
            "fonts/OFL.txt", new Asset("/jp/mamori/chart/fonts/OFL.txt", "text/plain;charset=UTF-8", "no-cache"));
    private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

    private Static() {
    }

    static Reply serve(String name) {
        Asset asset = ASSETS.get(name);
        if (asset == null) {
            return Reply.of(404, "text/plain;charset=UTF-8", "not found");
        }
        byte[] body = CACHE.computeIfAbsent(name, n -> {
            try (InputStream in = Static.class.getResourceAsStream(asset.resource())) {
                return in == null ? new byte[0] : in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return Reply.of(200, asset.type(), body).header("Cache-Control", asset.cacheControl());
    }
}
