package jp.mamori.chart;

/** Escaping for text placed in HTML or XML (element content and quoted attribute values alike). */
public final class Html {
    private Html() {
    }

    /**
     * Escapes {@code & < > " '}; control characters other than tab and newline, lone surrogates and
     * U+FFFE/U+FFFF (not allowed in XML) become U+FFFD. Null becomes the empty string.
     */
    public static String escape(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (rep == null) {
                boolean bad = (c < 0x20 && c != '\t' && c != '\n') || c == 0xFFFE || c == 0xFFFF
                        || (Character.isHighSurrogate(c) && (i + 1 >= s.length()
                        || !Character.isLowSurrogate(s.charAt(i + 1))))
                        || (Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1))));
                if (bad) {
                    rep = "\uFFFD";
                }
            }
            if (rep != null) {
                if (out == null) {
                    out = new StringBuilder(s.length() + 16).append(s, 0, i);
                }
                out.append(rep);
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }
}
