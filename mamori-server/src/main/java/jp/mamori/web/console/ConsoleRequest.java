package jp.mamori.web.console;

import jp.mamori.identity.Sessions;
import jp.mamori.kernel.QueryString;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One request to the console as the pages see it, after the gate: the form is parsed, the CSRF token checked
 * and, for pages that need one, the session found.
 *
 * @param cookie the session cookie value, when there is a session
 * @param files  the files of a {@code multipart/form-data} post to a route registered with {@link
 *               Console#routeUpload}, by field name (one per field); empty otherwise
 */
public record ConsoleRequest(String method, String path, Map<String, List<String>> query, Map<String, List<String>> form,
                      Function<String, String> header, String address, Lang lang, String cookie,
                      Sessions.Session session, String csrf, Map<String, Upload> files) {

    /** A request without files. */
    public ConsoleRequest(String method, String path, Map<String, List<String>> query, Map<String, List<String>> form,
                          Function<String, String> header, String address, Lang lang, String cookie,
                          Sessions.Session session, String csrf) {
        this(method, path, query, form, header, address, lang, cookie, session, csrf, Map.of());
    }

    /**
     * One uploaded file as the browser sent it. Nothing of it is trusted: the file name is what the person's
     * computer called it (sanitise before showing or storing it), the claimed type is the browser's guess (decide the
     * type from the bytes), and the bytes are at most the gate's request limit.
     */
    public record Upload(String fileName, String claimedType, byte[] bytes) {
        @Override
        public String toString() {
            return "Upload[" + bytes.length + " bytes]";
        }
    }

    /** The file sent in field {@code name}, if one was chosen. */
    public Optional<Upload> file(String name) {
        return Optional.ofNullable(files == null ? null : files.get(name));
    }

    public enum Lang {
        JA, EN;

        public String t(String ja, String en) {
            return this == JA ? ja : en;
        }
    }

    public String param(String name) {
        List<String> v = form.get(name);
        if (v == null || v.isEmpty()) {
            v = query.get(name);
        }
        return v == null || v.isEmpty() ? "" : v.get(0);
    }

    public List<String> params(String name) {
        List<String> v = form.get(name);
        return v == null ? List.of() : v;
    }

    public String t(String ja, String en) {
        return lang.t(ja, en);
    }

    /** The console's texts in this request's language. */
    public Messages messages() {
        return Messages.of(lang);
    }

    static Map<String, List<String>> parseForm(String body) {
        return QueryString.parse(body);
    }
}
