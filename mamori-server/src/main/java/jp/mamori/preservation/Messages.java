package jp.mamori.preservation;

/** Small helpers for the one-line messages of this package. */
final class Messages {
    private Messages() {
    }

    /** {@code s} quoted, cut to 80 characters, control characters shown as '?', so a message stays one line. */
    static String quote(String s) {
        if (s == null) {
            return "(none)";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        if (s.length() > 80) {
            b.append('…');
        }
        return b.append('"').toString();
    }

    /** The first line of an exception's message, or its type when it has none. */
    static String firstLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
