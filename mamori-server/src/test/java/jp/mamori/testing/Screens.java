package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A page at the three sizes people use (issue 22): a desktop (1280×800), a tablet (768×1024) and a phone (390×844),
 * set through the DevTools protocol as device metrics, so the page sees exactly that viewport (and, below 800 px, a
 * mobile one that honours the page's viewport meta). Screenshots of the whole page go to
 * {@code target/screenshots/NAME-WIDTH.png}.
 */
public final class Screens {
    /** Width and height of each size. */
    public static final List<int[]> SIZES = List.of(new int[]{1280, 800}, new int[]{768, 1024}, new int[]{390, 844});
    /** Screenshots stop at this height (a long page is cut, not shrunk). */
    private static final int MAX_HEIGHT = 6000;

    private Screens() {
    }

    /** Makes the viewport {@code width}×{@code height} CSS pixels. */
    public static void size(Browser b, int width, int height) {
        b.driver().executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height,
                "deviceScaleFactor", 1, "mobile", width < 800));
    }

    /** Back to the window's own size. */
    public static void reset(Browser b) {
        b.driver().executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
    }

    /** How many CSS pixels the page is wider than the viewport (0: it does not scroll sideways). */
    public static int sidewaysOverflow(Browser b) {
        Number n = (Number) b.js("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                + " - document.documentElement.clientWidth;");
        return n.intValue();
    }

    /** The elements that stick out to the right of the viewport, for a readable failure. */
    @SuppressWarnings("unchecked")
    public static List<String> widest(Browser b) {
        return (List<String>) b.js("""
                const w = document.documentElement.clientWidth; const out = [];
                for (const e of document.body.querySelectorAll('*')) {
                  const r = e.getBoundingClientRect();
                  if (r.right > w + 1 && out.length < 8) {
                    out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined
                      ? '.' + String(e.className).trim().replace(/\\s+/g, '.') : '') + ' right=' + Math.round(r.right));
                  }
                }
                return out;""");
    }

    /** The whole page (up to {@value #MAX_HEIGHT} px high) as target/screenshots/NAME.png. */
    public static Path capture(Browser b, String name) {
        Number h = (Number) b.js("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);");
        Number w = (Number) b.js("return document.documentElement.clientWidth;");
        Map<String, Object> shot = b.driver().executeCdpCommand("Page.captureScreenshot", Map.of("format", "png",
                "captureBeyondViewport", true, "clip", Map.of("x", 0, "y", 0, "width", w.intValue(),
                        "height", Math.min(MAX_HEIGHT, h.intValue()), "scale", 1)));
        try {
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            Path out = dir.resolve(name + ".png");
            Files.write(out, Base64.getDecoder().decode((String) shot.get("data")));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The page now shown at each of the three {@link #SIZES}: a screenshot {@code NAME-WIDTH.png}, no sideways scroll
     * at any of them, and (at the desktop size) no serious or critical accessibility violation. The viewport is back
     * to the window's size afterwards.
     *
     * @return what is wrong, one readable line (or block) each; empty when nothing is
     */
    public static List<String> problems(Browser b, String name) {
        List<String> out = new java.util.ArrayList<>();
        try {
            b.driver().executeCdpCommand("Runtime.evaluate", Map.of("expression", "document.fonts.ready.then(() => true)",
                    "awaitPromise", true));
            for (int[] s : SIZES) {
                size(b, s[0], s[1]);
                capture(b, name + "-" + s[0]);
                int over = sidewaysOverflow(b);
                if (over > 0) {
                    out.add(name + " (" + b.path() + ") scrolls sideways by " + over + " px at " + s[0]
                            + " px wide; too wide: " + widest(b));
                }
            }
            size(b, 1280, 800);
            List<Accessibility.Violation> v = Accessibility.check(b);
            Accessibility.report(name, b.path(), v);
            v.stream().filter(Accessibility.Violation::serious).forEach(x -> out.add(name + " (" + b.path() + ") " + x));
        } finally {
            reset(b);
        }
        return out;
    }

    /** As {@link #problems}, failing with the list when there is any. */
    public static void check(Browser b, String name) {
        List<String> p = problems(b, name);
        Assertions.assertTrue(p.isEmpty(), String.join("\n", p));
    }
}
