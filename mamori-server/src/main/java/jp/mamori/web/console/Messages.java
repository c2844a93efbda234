package jp.mamori.web.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.MissingResourceException;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The console's texts in the request's language, from UTF-8 bundles: one pair per capability,
 * {@code messages/<bundle>_ja.properties} and {@code messages/<bundle>_en.properties} beside this class, with
 * keys that start with the bundle's name ({@code audit.entries} is in {@code audit_*.properties}).
 * <p>
 * A key missing in either language is an error at once, whichever language is asked for, rather than a page
 * that shows a key or falls back to the other language.
 */
public final class Messages {
    /** The bundles, one per template folder under {@code src/main/jte}. */
    static final List<String> BUNDLES = List.of("layout", "audit", "access", "identity", "clinical", "backup",
            "retention", "health", "continuity", "compliance", "vendor", "registers", "documents", "notices",
            "maintenance", "directory", "smart", "federation", "disclosure", "clins");

    private static final Map<String, String> JA = load("ja");
    private static final Map<String, String> EN = load("en");
    private static final Messages JAPANESE = new Messages(ConsoleRequest.Lang.JA);
    private static final Messages ENGLISH = new Messages(ConsoleRequest.Lang.EN);

    private final ConsoleRequest.Lang lang;

    private Messages(ConsoleRequest.Lang lang) {
        this.lang = lang;
    }

    /** The texts in {@code lang}. */
    public static Messages of(ConsoleRequest.Lang lang) {
        return lang == ConsoleRequest.Lang.EN ? ENGLISH : JAPANESE;
    }

    /** The language these texts are in. */
    public ConsoleRequest.Lang lang() {
        return lang;
    }

    /** Whether {@code key} has a text (in both languages, as {@link #get} requires). */
    public boolean has(String key) {
        return JA.containsKey(key) && EN.containsKey(key);
    }

    /** The text of {@code key}; throws {@link MissingResourceException} when either language lacks it. */
    public String get(String key) {
        String ja = JA.get(key);
        String en = EN.get(key);
        if (ja == null || en == null) {
            throw new MissingResourceException("console text " + key + " is missing in "
                    + (ja == null && en == null ? "both languages" : ja == null ? "Japanese" : "English"),
                    Messages.class.getName(), key);
        }
        return lang == ConsoleRequest.Lang.JA ? ja : en;
    }

    /** The text of {@code key} with {@code {0}}, {@code {1}}, ... replaced by {@code args} (no other syntax). */
    public String get(String key, Object... args) {
        String text = get(key);
        StringBuilder sb = new StringBuilder(text.length() + 16);
        int i = 0;
        while (i < text.length()) {
            int open = text.indexOf('{', i);
            int close = open < 0 ? -1 : text.indexOf('}', open);
            if (close < 0) {
                sb.append(text, i, text.length());
                break;
            }
            sb.append(text, i, open);
            String n = text.substring(open + 1, close);
            if (n.matches("[0-9]") && n.charAt(0) - '0' < args.length) {
                sb.append(args[n.charAt(0) - '0']);
            } else {
                throw new IllegalArgumentException("console text " + key + ": no argument for {" + n + "}");
            }
            i = close + 1;
        }
        return sb.toString();
    }

    /**
     * The text of {@code prefix.code} (a reason, an outcome), or the code itself for a code that has no text: a
     * value stored by another version is shown as it is rather than failing the page. A key missing in one
     * language only still fails.
     */
    public String code(String prefix, String code) {
        String key = prefix + "." + code;
        return JA.containsKey(key) || EN.containsKey(key) ? get(key) : code;
    }

    /** Every key of {@code lang}'s bundles, for the tests that compare the languages. */
    static Set<String> keys(ConsoleRequest.Lang lang) {
        return new TreeSet<>((lang == ConsoleRequest.Lang.JA ? JA : EN).keySet());
    }

    private static Map<String, String> load(String language) {
        Map<String, String> out = new TreeMap<>();
        for (String bundle : BUNDLES) {
            String name = "messages/" + bundle + "_" + language + ".properties";
            try (InputStream in = Messages.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("console texts not found: " + name);
                }
                Properties p = new Properties();
                p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
                for (String key : p.stringPropertyNames()) {
                    if (!key.startsWith(bundle + ".")) {
                        throw new IllegalStateException("console text " + key + " in " + name + " does not start with "
                                + bundle + ".");
                    }
                    out.put(key, p.getProperty(key));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }
}
