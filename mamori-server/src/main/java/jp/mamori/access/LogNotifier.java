package jp.mamori.access;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Security notices as one structured WARN line each, {@code key="value"} pairs, for log collectors. */
public final class LogNotifier implements SecurityNotifier {
    private static final Logger log = LoggerFactory.getLogger("mamori.security");

    @Override
    public void notify(Notice n) {
        log.warn(line(n));
    }

    static String line(Notice n) {
        StringBuilder sb = new StringBuilder("security-notice event=").append(quote(n.event())).append(" at=")
                .append(n.at());
        if (n.breakGlassId() != null) {
            sb.append(" break_glass=").append(n.breakGlassId());
        }
        n.fields().forEach((k, v) -> sb.append(' ').append(k).append('=').append(quote(v)));
        return sb.append(" text=").append(quote(n.text())).toString();
    }

    /** Quoted, with quotes, backslashes and line breaks escaped so a value cannot forge another field or line. */
    static String quote(String v) {
        if (v == null) {
            return "\"\"";
        }
        StringBuilder sb = new StringBuilder(v.length() + 2).append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(c < 0x20 ? ' ' : c);
            }
        }
        return sb.append('"').toString();
    }
}
