package jp.mamori.records.api;


/** Minimal JSON string escaping for the few documents the server assembles itself. */
final class Json {
    private Json() {
    }

    static void str(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    static void str(Utf8Builder out, String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        str(sb, s);
        out.append(sb.toString());
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        str(sb, s);
        return sb.toString();
    }
}
