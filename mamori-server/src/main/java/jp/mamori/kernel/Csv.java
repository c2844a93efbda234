package jp.mamori.kernel;

/**
 * CSV for people who open it in a spreadsheet: UTF-8 with a BOM (so that Excel in Japan reads UTF-8), CRLF,
 * every cell quoted, and a cell that would start a formula ({@code = + - @}, tab, CR) prefixed with an apostrophe
 * (CSV injection).
 */
public final class Csv {
    public static final String BOM = "\uFEFF";

    private Csv() {
    }

    /** Appends one row. */
    public static void row(StringBuilder sb, String... cells) {
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            String v = cells[i] == null ? "" : cells[i];
            if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0) {
                v = "'" + v;
            }
            sb.append('"').append(v.replace("\"", "\"\"")).append('"');
        }
        sb.append("\r\n");
    }
}
