package jp.mamori.web.console;

import gg.jte.Content;
import gg.jte.html.HtmlTemplateOutput;

import java.util.Locale;

/**
 * Where the console's templates write: static markup as it is, every value from a model escaped with the one
 * escaper the console has ({@link Html#esc}: {@code & < > " '}), the same in text and in quoted attributes.
 * A value is refused where escaping as HTML would not make it safe (inside {@code <script>} or {@code <style>},
 * or in an event-handler attribute); the console's pages put none there (their scripts are files, CSP
 * {@code script-src 'self'}).
 */
final class ConsoleHtml implements HtmlTemplateOutput {
    private final StringBuilder out;
    private String tag;
    private String attribute;

    ConsoleHtml(StringBuilder out) {
        this.out = out;
    }

    @Override
    public void setContext(String tagName, String attributeName) {
        this.tag = tagName;
        this.attribute = attributeName;
    }

    @Override
    public void writeContent(String value) {
        out.append(value);
    }

    @Override
    public void writeContent(String value, int beginIndex, int endIndex) {
        out.append(value, beginIndex, endIndex);
    }

    @Override
    public void writeUserContent(String value) {
        if (value == null) {
            return;
        }
        if (tag != null && (tag.equalsIgnoreCase("script") || tag.equalsIgnoreCase("style"))
                || attribute != null && attribute.toLowerCase(Locale.ROOT).startsWith("on")) {
            throw new IllegalStateException("a value inside <" + tag + (attribute == null ? "" : " " + attribute)
                    + "> cannot be escaped as HTML; the console's templates put none there");
        }
        out.append(Html.esc(value));
    }

    @Override
    public void writeUserContent(Content content) {
        if (content != null) {
            content.writeTo(this);
        }
    }

    @Override
    public void writeUnsafeContent(String value) {
        throw new IllegalStateException("$unsafe is not used by the console's templates");
    }
}
