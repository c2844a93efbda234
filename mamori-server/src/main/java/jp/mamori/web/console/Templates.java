package jp.mamori.web.console;

import gg.jte.Content;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;

import java.util.HashMap;
import java.util.Map;

/**
 * The console's templates (src/main/jte): compiled with the server at build time, looked up here as classes.
 * A page template takes two parameters, {@code t} (the {@link Messages} of the request's language) and
 * {@code v} (the page's view model, a record); what it writes from them is escaped by {@link ConsoleHtml}.
 */
public final class Templates {
    /**
     * Precompiled only: the engine never compiles a template at run time (the jte compiler is not even on the
     * class path, only jte-runtime), so a template that was not compiled with the server does not exist.
     */
    private static final TemplateEngine ENGINE = TemplateEngine.createPrecompiled(ContentType.Html);

    private Templates() {
    }

    /** {@code template} (e.g. {@code "audit/home.jte"}) with {@code t} and {@code v}, as HTML. */
    public static String page(String template, Messages t, Object v) {
        return render(template, params(t, v));
    }

    /** As {@link #page}, written when the layout (or the home page, {@link Console#homePart}) reaches it. */
    public static Content content(String template, Messages t, Object v) {
        Map<String, Object> params = params(t, v);
        return out -> ENGINE.render(template, params, out);
    }

    /** A template that takes other parameters than {@code t} and {@code v}. */
    static String render(String template, Map<String, Object> params) {
        StringBuilder sb = new StringBuilder(4096);
        ENGINE.render(template, params, new ConsoleHtml(sb));
        return sb.toString();
    }

    /** HTML that was built and escaped elsewhere (the pages not yet on templates), written as it is. */
    static Content trusted(String html) {
        return out -> out.writeContent(html);
    }

    private static Map<String, Object> params(Messages t, Object v) {
        Map<String, Object> params = new HashMap<>();
        params.put("t", t);
        params.put("v", v);
        return params;
    }
}
