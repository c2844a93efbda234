package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Japanese shows on a machine without Japanese fonts (this one has none): the console serves the font the PDFs
 * embed, console.css names it first, and the pages' Content-Security-Policy lets the page load it and nothing else.
 */
class JapaneseFontBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    /** The console pages' whole policy, pinned: a change to it is a decision, made here on purpose. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

    private static HttpResponse<byte[]> get(TestServer server, String path) throws Exception {
        return server.httpClient().send(HttpRequest.newBuilder(URI.create(server.consoleOrigin() + path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void theFontIsServedLongCachedAndThePagesPolicyAllowsOnlyOurOwnFonts() throws Exception {
        TestServer server = console.server();
        HttpResponse<byte[]> font = get(server, "/console/static/fonts/BIZUDPGothic-Regular.ttf");
        assertEquals(200, font.statusCode());
        assertEquals("font/ttf", font.headers().firstValue("Content-Type").orElse(""));
        assertEquals("public, max-age=31536000, immutable", font.headers().firstValue("Cache-Control").orElse(""));
        assertEquals("nosniff", font.headers().firstValue("X-Content-Type-Options").orElse(""));
        try (InputStream in = JapaneseFontBrowserTest.class.getResourceAsStream(
                "/jp/mamori/chart/fonts/BIZUDPGothic-Regular.ttf")) {
            assertArrayEquals(in.readAllBytes(), font.body(), "the jar's font, byte for byte");
        }
        HttpResponse<byte[]> licence = get(server, "/console/static/fonts/OFL.txt");
        assertEquals(200, licence.statusCode());
        assertTrue(new String(licence.body(), java.nio.charset.StandardCharsets.UTF_8).contains("SIL OPEN FONT LICENSE"));
        for (String nothing : new String[]{"/console/static/fonts/", "/console/static/fonts/OFL.txt/x",
                "/console/static/BIZUDPGothic-Regular.ttf", "/console/static/fonts/x.ttf"}) {
            assertEquals(404, get(server, nothing).statusCode(), nothing);
        }

        String css = new String(get(server, "/console/static/console.css").body(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(css.contains("@font-face { font-family: \"Mamori BIZ UDPGothic\"; src: url(\"/console/static/fonts/"
                + "BIZUDPGothic-Regular.ttf\")"), css);
        assertTrue(css.contains("body { margin: 0; font-family: \"Mamori BIZ UDPGothic\", \"Hiragino Sans\", \"Noto Sans JP\""),
                "the served font first, the OS fonts after it: " + css);

        HttpResponse<byte[]> login = get(server, "/console/setup"); // no administrator yet: the first page
        assertEquals(200, login.statusCode());
        assertEquals(CSP, login.headers().firstValue("Content-Security-Policy").orElse(""));
    }

    @Test
    void japaneseRendersInTheServedFontNotAsBlankBoxes() {
        Browser b = console.browser();
        b.open("/console/login");
        b.waitFor(d -> Boolean.TRUE.equals(b.js("return document.fonts.status === 'loaded';")), Duration.ofSeconds(20));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) b.js("""
                const h = document.querySelector('h1');
                const probe = (family) => {
                  const s = document.createElement('span');
                  s.textContent = h.textContent;
                  s.style.fontFamily = family;
                  s.style.fontSize = '40px';
                  s.style.whiteSpace = 'nowrap';
                  document.body.appendChild(s);
                  const w = s.getBoundingClientRect().width;
                  s.remove();
                  return w;
                };
                return {
                  text: h.textContent,
                  family: getComputedStyle(h).fontFamily,
                  loaded: document.fonts.check('40px "Mamori BIZ UDPGothic"', h.textContent),
                  served: [...document.fonts].filter(f => f.family.includes('Mamori BIZ UDPGothic') && f.status === 'loaded').length,
                  withFont: probe('"Mamori BIZ UDPGothic"'),
                  withoutFont: probe('"Hiragino Sans", "Noto Sans JP", "Yu Gothic UI", Meiryo, system-ui, sans-serif')
                };
                """);
        b.screenshot("japanese-font-login");
        String text = (String) m.get("text");
        assertTrue(text.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN),
                "the heading is Japanese: " + text);
        assertTrue(((String) m.get("family")).startsWith("\"Mamori BIZ UDPGothic\""), m.toString());
        assertEquals(Boolean.TRUE, m.get("loaded"), m.toString());
        assertEquals(1L, ((Number) m.get("served")).longValue(), m.toString());
        double with = ((Number) m.get("withFont")).doubleValue();
        double without = ((Number) m.get("withoutFont")).doubleValue();
        System.out.println("japanese heading '" + text + "' at 40px: " + with + " px in the served font, " + without
                + " px in the OS fonts alone");
        assertTrue(with > 0 && Math.abs(with - without) > 1, "the heading is drawn in the served font: " + m);
    }
}
