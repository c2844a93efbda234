package jp.mamori.web.console;

import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.RequestText;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code multipart/form-data} body (RFC 7578) as the console's gate reads it: the whole body is already in memory,
 * read up to {@link #MAX_REQUEST} and no further, so nothing is spooled to disk and nothing is left behind. Text
 * fields become the form (strict UTF-8, together at most {@link Console#MAX_FORM}, as a urlencoded form); parts with a
 * file name become uploads, one per field name. Every limit is a refusal with one line, never a truncation.
 *
 * <p>The boundary may hold only the characters RFC 2046 allows, none of them CR, so the search for the delimiter
 * ({@code CRLF--boundary}) stays linear in the body's length whatever the body holds.
 */
final class Multipart {
    /** The largest multipart request the gate reads: files and fields together. */
    static final int MAX_REQUEST = 20 * 1024 * 1024;
    /** At most this many parts (fields and files). */
    static final int MAX_PARTS = 40;
    /** At most this many files in one request. */
    static final int MAX_FILES = 4;
    /** A part's header block. */
    static final int MAX_HEADERS = 8 * 1024;
    static final int MAX_NAME = 100;

    private static final Pattern BOUNDARY = Pattern.compile(
            "(?i);\\s*boundary\\s*=\\s*(?:\"([0-9A-Za-z'()+_,\\-./:=? ]{1,70})\"|([0-9A-Za-z'()+_,\\-./:=?]{1,70}))");
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};

    /** What a multipart body held: the text fields as a form, and the files by field name. */
    record Parsed(Map<String, List<String>> form, Map<String, ConsoleRequest.Upload> files) {
    }

    private Multipart() {
    }

    static boolean is(String contentType) {
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
    }

    static FhirError bad(String why) {
        return new FhirError(400, OperationOutcome.IssueType.INVALID, "送信された内容を読み取れません（" + why.split(" / ")[0]
                + "） / The form could not be read: " + (why.contains(" / ") ? why.split(" / ", 2)[1] : why));
    }

    static FhirError tooLarge() {
        return new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "送信された内容が大きすぎます（ファイルとあわせて "
                + MAX_REQUEST / 1024 / 1024 + " MB まで） / The form is too large (at most " + MAX_REQUEST / 1024 / 1024
                + " MB with its files)");
    }

    /** The boundary of {@code contentType}; refused when it has none or an invalid one. */
    static String boundary(String contentType) {
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            throw bad("区切りがありません / no valid boundary");
        }
        String b = m.group(1) != null ? m.group(1) : m.group(2);
        if (b.endsWith(" ")) {
            throw bad("区切りが正しくありません / invalid boundary");
        }
        return b;
    }

    static Parsed parse(byte[] body, String contentType) {
        if (body.length > MAX_REQUEST) {
            throw tooLarge();
        }
        byte[] dash = ("--" + boundary(contentType)).getBytes(StandardCharsets.US_ASCII);
        byte[] delimiter = new byte[dash.length + 2];
        delimiter[0] = '\r';
        delimiter[1] = '\n';
        System.arraycopy(dash, 0, delimiter, 2, dash.length);
        // the first delimiter: at the start, or after a preamble ending in CRLF
        int at = startsWith(body, 0, dash) ? 0 : indexOf(body, delimiter, 0);
        if (at < 0) {
            throw bad("区切りがありません / no boundary in the body");
        }
        int pos = at + (at == 0 && startsWith(body, 0, dash) ? dash.length : delimiter.length);
        Map<String, List<String>> form = new LinkedHashMap<>();
        Map<String, ConsoleRequest.Upload> files = new LinkedHashMap<>();
        int parts = 0;
        long textBytes = 0;
        while (true) {
            if (startsWith(body, pos, new byte[]{'-', '-'})) {
                break; // the close delimiter; an epilogue is ignored
            }
            // transport padding (spaces, tabs) may follow a delimiter before its CRLF
            while (pos < body.length && (body[pos] == ' ' || body[pos] == '\t')) {
                pos++;
            }
            if (!startsWith(body, pos, CRLF)) {
                throw bad("区切りの後が正しくありません / malformed delimiter line");
            }
            pos += 2;
            if (++parts > MAX_PARTS) {
                throw bad("項目が多すぎます / too many parts (at most " + MAX_PARTS + ")");
            }
            int headerEnd = indexOf(body, CRLFCRLF, pos, pos + MAX_HEADERS + CRLFCRLF.length);
            if (headerEnd < 0 && startsWith(body, pos, CRLF)) {
                headerEnd = pos - 2; // a part without headers
            }
            if (headerEnd < 0 || headerEnd - pos > MAX_HEADERS) {
                throw bad("項目の見出しが正しくありません / malformed or too long part headers");
            }
            String headers = headerEnd <= pos ? "" : RequestText.utf8(Arrays.copyOfRange(body, pos, headerEnd),
                    "the part headers");
            int contentStart = headerEnd + 4;
            int contentEnd = indexOf(body, delimiter, contentStart);
            if (contentEnd < 0) {
                throw bad("最後の区切りがありません / the body ends inside a part");
            }
            pos = contentEnd + delimiter.length;
            Disposition d = disposition(headers);
            if (d.fileName == null) {
                int len = contentEnd - contentStart;
                textBytes += len;
                if (textBytes > Console.MAX_FORM) {
                    throw new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY,
                            "入力が大きすぎます / The form is too large");
                }
                String value = RequestText.utf8(Arrays.copyOfRange(body, contentStart, contentEnd), "the form");
                form.computeIfAbsent(d.name, k -> new ArrayList<>()).add(value);
            } else {
                if (contentEnd == contentStart && d.fileName.isEmpty()) {
                    continue; // a file input left empty
                }
                if (files.containsKey(d.name)) {
                    throw bad("1つの欄に送れるファイルは1つです / one file per field (" + d.name + ")");
                }
                if (files.size() >= MAX_FILES) {
                    throw bad("ファイルが多すぎます / too many files (at most " + MAX_FILES + ")");
                }
                files.put(d.name, new ConsoleRequest.Upload(d.fileName, d.type(headers),
                        Arrays.copyOfRange(body, contentStart, contentEnd)));
            }
        }
        Map<String, List<String>> frozen = new LinkedHashMap<>();
        form.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new Parsed(frozen, files);
    }

    private record Disposition(String name, String fileName) {
        String type(String headers) {
            for (String line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Content-Type")) {
                    String t = line.substring(colon + 1).strip();
                    return t.length() > 100 ? t.substring(0, 100) : t;
                }
            }
            return "";
        }
    }

    /** The part's name and file name from its Content-Disposition header (form-data only). */
    private static Disposition disposition(String headers) {
        String value = null;
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
                if (value != null) {
                    throw bad("項目の見出しが重複しています / duplicate Content-Disposition");
                }
                value = line.substring(colon + 1).strip();
            }
        }
        if (value == null || !value.toLowerCase(Locale.ROOT).startsWith("form-data")) {
            throw bad("項目の見出しがありません / a part without Content-Disposition: form-data");
        }
        Map<String, String> params = new LinkedHashMap<>();
        int i = "form-data".length();
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c == ';' || c == ' ' || c == '\t') {
                i++;
                continue;
            }
            int eq = value.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String key = value.substring(i, eq).strip().toLowerCase(Locale.ROOT);
            i = eq + 1;
            StringBuilder v = new StringBuilder();
            if (i < value.length() && value.charAt(i) == '"') {
                i++;
                while (i < value.length() && value.charAt(i) != '"') {
                    if (value.charAt(i) == '\\' && i + 1 < value.length()) {
                        i++;
                    }
                    v.append(value.charAt(i++));
                }
                i++; // the closing quote
            } else {
                while (i < value.length() && value.charAt(i) != ';') {
                    v.append(value.charAt(i++));
                }
            }
            if (params.putIfAbsent(key, v.toString().strip()) != null) {
                throw bad("項目の見出しが重複しています / duplicate parameter " + key);
            }
        }
        String name = params.get("name");
        if (name == null || name.isEmpty() || name.length() > MAX_NAME) {
            throw bad("項目名がありません / a part without a valid name");
        }
        return new Disposition(name, params.get("filename"));
    }

    private static boolean startsWith(byte[] body, int at, byte[] prefix) {
        if (at < 0 || at + prefix.length > body.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (body[at + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] body, byte[] needle, int from) {
        return indexOf(body, needle, from, body.length);
    }

    /** The first index of {@code needle} at or after {@code from} that ends at or before {@code to}; -1 for none. */
    static int indexOf(byte[] body, byte[] needle, int from, int to) {
        int last = Math.min(body.length, to) - needle.length;
        byte first = needle[0];
        for (int i = Math.max(0, from); i <= last; i++) {
            if (body[i] == first && startsWith(body, i, needle)) {
                return i;
            }
        }
        return -1;
    }
}
