package jp.mamori.compliance;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * CSV as the registers read and write it (RFC 4180): fields separated by commas, quoted when they hold a comma, a
 * quote or a line break, records ended by CRLF; written as UTF-8 with a byte-order mark so that Excel opens Japanese
 * text correctly. A cell that starts with {@code = + - @}, a tab or a carriage return is written with a leading
 * apostrophe so that a spreadsheet never runs it as a formula (CSV injection); reading takes that apostrophe off
 * again, so an export imports unchanged.
 */
public final class RegisterCsv {
    static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private RegisterCsv() {
    }

    /** One record as read, with the line of the file it starts on (1 = the first line). */
    public record Record(int line, List<String> cells) {
    }

    /** Whether a cell would start a formula in a spreadsheet. */
    static boolean dangerous(String cell) {
        return !cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0;
    }

    /** A cell neutralised for a spreadsheet and quoted where RFC 4180 needs it. */
    static String cell(String value) {
        String v = value == null ? "" : value;
        if (dangerous(v)) {
            v = "'" + v;
        }
        if (v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
            return '"' + v.replace("\"", "\"\"") + '"';
        }
        return v;
    }

    /** Records written as CSV: UTF-8 with a BOM, CRLF after each record. */
    public static byte[] write(List<List<String>> records) {
        StringBuilder sb = new StringBuilder();
        for (List<String> r : records) {
            for (int i = 0; i < r.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(cell(r.get(i)));
            }
            sb.append("\r\n");
        }
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[BOM.length + text.length];
        System.arraycopy(BOM, 0, out, 0, BOM.length);
        System.arraycopy(text, 0, out, BOM.length, text.length);
        return out;
    }

    /**
     * The records of a file: UTF-8 (a BOM is taken off), RFC 4180 quoting, CRLF or LF; blank lines are skipped.
     *
     * @throws ComplianceException with the line and the reason when the file is not UTF-8 or a quote is not closed
     */
    public static List<Record> read(byte[] bytes) {
        int start = bytes.length >= 3 && bytes[0] == BOM[0] && bytes[1] == BOM[1] && bytes[2] == BOM[2] ? 3 : 0;
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, bytes.length - start)).toString();
        } catch (CharacterCodingException e) {
            throw new ComplianceException("ファイルが UTF-8 ではありません（Excel では「CSV UTF-8」で保存してください） / the"
                    + " file is not UTF-8 (in Excel, save as \"CSV UTF-8\")");
        }
        List<Record> out = new ArrayList<>();
        List<String> cells = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int line = 1;
        int recordLine = 1;
        boolean quoted = false;
        boolean wasQuoted = false;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"') {
                    if (i + 1 < n && text.charAt(i + 1) == '"') {
                        cur.append('"');
                        i += 2;
                        continue;
                    }
                    quoted = false;
                    i++;
                    continue;
                }
                if (ch == '\n') {
                    line++;
                }
                cur.append(ch);
                i++;
                continue;
            }
            if (ch == '"' && cur.isEmpty() && !wasQuoted) {
                quoted = true;
                wasQuoted = true;
                i++;
            } else if (ch == ',') {
                cells.add(unquote(cur.toString(), wasQuoted));
                cur.setLength(0);
                wasQuoted = false;
                i++;
            } else if (ch == '\r' || ch == '\n') {
                cells.add(unquote(cur.toString(), wasQuoted));
                cur.setLength(0);
                wasQuoted = false;
                if (!(cells.size() == 1 && cells.get(0).isEmpty())) {
                    out.add(new Record(recordLine, List.copyOf(cells)));
                }
                cells.clear();
                if (ch == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                    i++;
                }
                i++;
                line++;
                recordLine = line;
            } else {
                if (wasQuoted) {
                    throw new ComplianceException(line + " 行目: 引用符（\"）の後に文字があります / line " + line
                            + ": text after a closing quote");
                }
                cur.append(ch);
                i++;
            }
        }
        if (quoted) {
            throw new ComplianceException(recordLine + " 行目: 引用符（\"）が閉じていません / line " + recordLine
                    + ": a quote is not closed");
        }
        if (!cur.isEmpty() || !cells.isEmpty() || wasQuoted) {
            cells.add(unquote(cur.toString(), wasQuoted));
            if (!(cells.size() == 1 && cells.get(0).isEmpty())) {
                out.add(new Record(recordLine, List.copyOf(cells)));
            }
        }
        return out;
    }

    /** Takes off the apostrophe an export put before a cell a spreadsheet would run. */
    private static String unquote(String cell, boolean quoted) {
        if (cell.length() >= 2 && cell.charAt(0) == '\'' && dangerous(cell.substring(1))) {
            return cell.substring(1);
        }
        return cell;
    }
}
