package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Accessibility checks in the browser tests (issue 22): axe-core, the npm package as the WebJar
 * {@code org.webjars.npm:axe-core} on the test class path, is evaluated in the page through the DevTools protocol
 * ({@code Runtime.evaluate}), which the console's Content-Security-Policy ({@code script-src 'self'}, no inline
 * scripts) does not apply to; nothing is added to the server or its pages. Each check also writes its whole result
 * to {@code target/accessibility/NAME.txt}.
 *
 * <p>Use from any browser test: {@code Accessibility.assertNoSeriousViolations(browser, "chart")}.
 */
public final class Accessibility {
    private static final String WEBJAR = "META-INF/resources/webjars/axe-core/";
    private static volatile String axe;

    private Accessibility() {
    }

    /**
     * One rule the page breaks.
     *
     * @param impact minor, moderate, serious or critical
     * @param nodes  the CSS selectors of the elements that break it, each with axe's summary of what to fix
     */
    public record Violation(String rule, String impact, String help, String helpUrl, List<String> nodes) {
        public boolean serious() {
            return "serious".equals(impact) || "critical".equals(impact);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("[" + impact + "] " + rule + ": " + help + " (" + helpUrl + ")");
            for (String n : nodes) {
                sb.append("\n      ").append(n.replace("\n", "\n        "));
            }
            return sb.toString();
        }
    }

    /** The axe-core source from the class path (the WebJar's version from its Maven metadata). */
    static String axeSource() {
        String s = axe;
        if (s == null) {
            ClassLoader cl = Accessibility.class.getClassLoader();
            try (InputStream props = cl.getResourceAsStream("META-INF/maven/org.webjars.npm/axe-core/pom.properties")) {
                if (props == null) {
                    throw new IllegalStateException("axe-core is not on the test class path (org.webjars.npm:axe-core)");
                }
                Properties p = new Properties();
                p.load(props);
                try (InputStream in = cl.getResourceAsStream(WEBJAR + p.getProperty("version") + "/axe.min.js")) {
                    if (in == null) {
                        throw new IllegalStateException("axe.min.js is missing from the axe-core WebJar");
                    }
                    s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            axe = s;
        }
        return s;
    }

    /** Evaluates {@code expression} in the page through the DevTools protocol; its value (awaited when a promise). */
    private static Object evaluate(Browser b, String expression) {
        Map<String, Object> answer = b.driver().executeCdpCommand("Runtime.evaluate", Map.of("expression", expression,
                "returnByValue", true, "awaitPromise", true));
        if (answer.get("exceptionDetails") != null) {
            throw new AssertionError("the page could not run the accessibility check: " + answer.get("exceptionDetails"));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) answer.get("result");
        return result == null ? null : result.get("value");
    }

    /** Runs axe-core on the page now shown (all its rules, WCAG 2.1 A/AA and best practices) and returns what fails. */
    public static List<Violation> check(Browser b) {
        if (!Boolean.TRUE.equals(evaluate(b, "typeof window.axe === 'object'"))) {
            evaluate(b, axeSource());
        }
        Object value = evaluate(b, """
                axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({
                  rule: v.id, impact: v.impact || 'minor', help: v.help, helpUrl: v.helpUrl,
                  nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').trim())
                })))""");
        List<Violation> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            for (Object o : list) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                @SuppressWarnings("unchecked")
                List<String> nodes = (List<String>) m.get("nodes");
                out.add(new Violation((String) m.get("rule"), (String) m.get("impact"), (String) m.get("help"),
                        (String) m.get("helpUrl"), List.copyOf(nodes)));
            }
        } else {
            throw new AssertionError("axe-core returned no result: " + value);
        }
        return out;
    }

    /**
     * Fails with a readable list when the page now shown has a serious or critical violation; writes every
     * violation (minor and moderate ones too) to {@code target/accessibility/PAGENAME.txt}.
     */
    public static void assertNoSeriousViolations(Browser b, String pageName) {
        List<Violation> all = check(b);
        report(pageName, b.path(), all);
        List<Violation> serious = all.stream().filter(Violation::serious).toList();
        if (!serious.isEmpty()) {
            StringBuilder sb = new StringBuilder(pageName + " (" + b.path() + "): " + serious.size()
                    + " serious or critical accessibility violation(s) found by axe-core:");
            for (Violation v : serious) {
                sb.append("\n  - ").append(v);
            }
            Assertions.fail(sb.toString());
        }
    }

    static void report(String pageName, String path, List<Violation> all) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "accessibility"));
            StringBuilder sb = new StringBuilder(pageName + " " + path + ": " + all.size() + " violation(s)\n");
            all.forEach(v -> sb.append("- ").append(v).append('\n'));
            Files.writeString(dir.resolve(pageName.replaceAll("[^A-Za-z0-9._-]", "_") + ".txt"), sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
