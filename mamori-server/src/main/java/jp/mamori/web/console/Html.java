package jp.mamori.web.console;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** HTML text for the console: every value goes through {@link #esc} before it reaches a page. */
public final class Html {
    public static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(JST);

    private Html() {
    }

    public static String esc(Object o) {
        if (o == null) {
            return "";
        }
        String s = o.toString();
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    public static String time(Instant t) {
        return t == null ? "—" : TIME.format(t);
    }

    /**
     * The hidden field that carries the request's CSRF token in a form (template {@code layout/csrf.jte}, which
     * page templates include as well).
     */
    public static String csrf(ConsoleRequest r) {
        java.util.Map<String, Object> params = new java.util.HashMap<>();
        params.put("csrf", r.csrf());
        return Templates.render("layout/csrf.jte", params);
    }

    /**
     * A message that may hold several lines ("日本語 / English" each), as paragraphs (template
     * {@code layout/message.jte}, which page templates include as well).
     */
    public static String message(String kind, String text) {
        java.util.Map<String, Object> params = new java.util.HashMap<>();
        params.put("kind", kind);
        params.put("text", text);
        return Templates.render("layout/message.jte", params);
    }
}
