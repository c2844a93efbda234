package jp.mamori.identity.web;

import jp.mamori.testing.TestServer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One simulated person at one browser: its own cookie jar, redirects followed, and the last page remembered
 * so that forms can be submitted as a browser would (hidden fields, the CSRF token among them, come from the
 * page). Requests carry the Origin, Sec-Fetch-Site and Referer headers a current browser sends for a same-origin form.
 */
final class Browser {
    static final String TOO_MANY = "Too many attempts from this address";

    private final String origin;
    private final String name;
    private final CookieManager cookies;
    private final HttpClient http;
    private Page last;

    Browser(TestServer server, String name) {
        this(server.base().replaceFirst("/fhir$", ""), server.dataDir(), new CookieManager(), name);
    }

    /**
     * A browser on {@code origin} trusting the certificate of data folder {@code trustData}, with the cookie jar
     * {@code jar}: given another browser's jar, the same person at the same browser reaching another server process
     * (behind a load balancer, issue 18 §1).
     */
    Browser(String origin, Path trustData, CookieManager jar, String name) {
        this.origin = origin;
        this.name = name;
        this.cookies = jar;
        this.http = HttpClient.newBuilder().sslContext(trusting(trustData)).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL)
                .cookieHandler(cookies).build();
    }

    /** This browser's cookie jar. */
    CookieManager jar() {
        return cookies;
    }

    /** Trusts exactly the test server's own certificate, as TestServer's client does. */
    static SSLContext trusting(Path data) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            char[] pw = Files.readString(data.resolve("secrets").resolve("tls-keystore-password")).trim().toCharArray();
            try (InputStream in = Files.newInputStream(data.resolve("tls").resolve("server.p12"))) {
                ks.load(in, pw);
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("mamori", ks.getCertificate(ks.aliases().nextElement()));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String origin() {
        return origin;
    }

    Page last() {
        return last;
    }

    Page get(String path) {
        return send(HttpRequest.newBuilder(URI.create(origin + path)).GET(), Map.of());
    }

    /**
     * Submits the form with this action on the last page: its hidden fields (csrf, id, next...) as the page
     * has them, then {@code fields} (name, value, name, value...) on top.
     */
    Page submit(String action, String... fields) {
        if (last == null) {
            throw new IllegalStateException(name + ": no page open");
        }
        Map<String, String> form = new LinkedHashMap<>(last.hiddenFields(action));
        for (int i = 0; i < fields.length; i += 2) {
            form.put(fields[i], fields[i + 1]);
        }
        return post(action, form, Map.of());
    }

    /** Posts exactly {@code form}, with extra request headers (which may replace Origin and Sec-Fetch-Site). */
    Page post(String path, Map<String, String> form, Map<String, String> headers) {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(enc(k)).append('=').append(enc(v)));
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Origin", origin);
        h.put("Sec-Fetch-Site", "same-origin");
        if (last() != null) {
            h.put("Referer", last().uri().toString()); // the console's Referrer-Policy is same-origin
        }
        h.putAll(headers);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        Page p = send(b, h);
        if (p.status() == 401 && p.body().contains(TOO_MANY)) {
            // The per-address limit counts every login attempt from 127.0.0.1 in a wall-clock minute; wait for the
            // next minute rather than make the tests depend on how fast this machine is.
            long wait = 61_000 - System.currentTimeMillis() % 60_000;
            System.err.println(name + ": rate limited at " + path + "; waiting " + wait + " ms");
            sleep(wait);
            p = send(b, h);
        }
        return p;
    }

    /** A file for {@link #postMultipart}: the field, the name the computer gives it, the claimed type, the bytes. */
    record FilePart(String field, String fileName, String type, byte[] bytes) {
    }

    /**
     * Submits a multipart form from the last page as a browser does for {@code enctype="multipart/form-data"}: the
     * hidden fields of the form posting to {@code action}, then {@code fields}, then the files.
     */
    Page submitMultipart(String action, Map<String, String> fields, FilePart... files) {
        Map<String, String> form = new LinkedHashMap<>(last.hiddenFields(action));
        form.putAll(fields);
        return postMultipart(action, form, List.of(files), Map.of());
    }

    /** Posts exactly {@code form} and {@code files} as multipart/form-data, with extra request headers. */
    Page postMultipart(String path, Map<String, String> form, List<FilePart> files, Map<String, String> headers) {
        String boundary = "----MamoriTestBoundary" + Long.toHexString(System.nanoTime());
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        try {
            for (Map.Entry<String, String> f : form.entrySet()) {
                body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n"
                        + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
            for (FilePart f : files) {
                body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.field() + "\"; filename=\""
                        + f.fileName() + "\"\r\nContent-Type: " + f.type() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                body.write(f.bytes());
                body.write("\r\n".getBytes(StandardCharsets.UTF_8));
            }
            body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return postRaw(path, "multipart/form-data; boundary=" + boundary, body.toByteArray(), headers);
    }

    /** Posts {@code body} as it is with {@code contentType}, with the headers of a same-origin form. */
    Page postRaw(String path, String contentType, byte[] body, Map<String, String> headers) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Origin", origin);
        h.put("Sec-Fetch-Site", "same-origin");
        if (last() != null) {
            h.put("Referer", last().uri().toString());
        }
        h.putAll(headers);
        // "Expect: 100-continue" (the JDK sets it itself): the body is sent only if the server asks for it, so a
        // server that refuses a request unread answers it cleanly instead of closing a half-sent upload
        boolean expectContinue = "100-continue".equals(h.remove("Expect"));
        return send(HttpRequest.newBuilder(URI.create(origin + path)).header("Content-Type", contentType)
                .expectContinue(expectContinue).POST(HttpRequest.BodyPublishers.ofByteArray(body)), h);
    }

    private Page send(HttpRequest.Builder b, Map<String, String> headers) {
        b.timeout(Duration.ofSeconds(60)).header("User-Agent", "MamoriTestBrowser/" + name);
        headers.forEach((k, v) -> {
            if (v != null) {
                b.header(k, v);
            }
        });
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            last = new Page(r);
            return last;
        } catch (Exception e) {
            throw new IllegalStateException(name + ": request failed", e);
        }
    }

    /** The value of a cookie in this browser's jar, if it holds one. */
    Optional<String> cookie(String cookieName) {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals(cookieName))
                .map(HttpCookie::getValue).findFirst();
    }

    /** A request with only the given Cookie header, from no browser at all (e.g. a stolen, older cookie). */
    Page getWithCookie(String path, String cookieHeader) {
        try (HttpClient bare = HttpClient.newBuilder().sslContext(http.sslContext()).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NORMAL).build()) {
            HttpResponse<byte[]> r = bare.send(HttpRequest.newBuilder(URI.create(origin + path))
                    .header("Cookie", cookieHeader).timeout(Duration.ofSeconds(60)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Page(r);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A response after redirects, with the responses that led to it. */
    record Page(HttpResponse<byte[]> response) {
        private static final Pattern FORM = Pattern.compile("<form\\b([^>]*)>(.*?)</form>", Pattern.DOTALL);
        private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");

        int status() {
            return response.statusCode();
        }

        String path() {
            return response.uri().getPath();
        }

        URI uri() {
            return response.uri();
        }

        byte[] bytes() {
            return response.body();
        }

        String body() {
            return new String(response.body(), StandardCharsets.UTF_8);
        }

        boolean contains(String text) {
            return body().contains(text);
        }

        /** The hidden fields of the first form on this page that posts to {@code action}. */
        Map<String, String> hiddenFields(String action) {
            Matcher m = FORM.matcher(body());
            while (m.find()) {
                if (m.group(1).contains("action=\"" + action + "\"")) {
                    Map<String, String> out = new LinkedHashMap<>();
                    Matcher h = HIDDEN.matcher(m.group(2));
                    while (h.find()) {
                        out.put(unescape(h.group(1)), unescape(h.group(2)));
                    }
                    return out;
                }
            }
            throw new AssertionError("no form posting to " + action + " on " + path() + " (" + status() + "):\n" + body());
        }

        /** The CSRF token the page's forms carry. */
        String csrf() {
            Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(body());
            if (!m.find()) {
                throw new AssertionError("no CSRF token on " + path());
            }
            return unescape(m.group(1));
        }

        /** The text of {@code <code id="id">}. */
        String code(String id) {
            Matcher m = Pattern.compile("<code id=\"" + Pattern.quote(id) + "\">([^<]*)</code>").matcher(body());
            if (!m.find()) {
                throw new AssertionError("no <code id=\"" + id + "\"> on " + path() + " (" + status() + "):\n" + body());
            }
            return unescape(m.group(1));
        }

        /** The items of {@code <ol id="id">}, as text. */
        List<String> listItems(String id) {
            Matcher m = Pattern.compile("<ol[^>]*id=\"" + Pattern.quote(id) + "\">(.*?)</ol>", Pattern.DOTALL).matcher(body());
            if (!m.find()) {
                throw new AssertionError("no <ol id=\"" + id + "\"> on " + path() + ":\n" + body());
            }
            List<String> out = new ArrayList<>();
            Matcher li = Pattern.compile("<li>(.*?)</li>", Pattern.DOTALL).matcher(m.group(1));
            while (li.find()) {
                out.add(text(li.group(1)));
            }
            return out;
        }

        /** The error message shown on the page, as text ("" when there is none). */
        String error() {
            Matcher m = Pattern.compile("<div class=\"msg error\" role=\"alert\">(.*?)</div>", Pattern.DOTALL).matcher(body());
            return m.find() ? text(m.group(1)) : "";
        }

        /** The Set-Cookie headers of this response and of every response that redirected to it. */
        List<String> setCookies() {
            List<String> out = new ArrayList<>();
            for (Optional<HttpResponse<byte[]>> r = Optional.of(response); r.isPresent(); r = r.get().previousResponse()) {
                out.addAll(r.get().headers().allValues("Set-Cookie"));
            }
            return out;
        }

        @Override
        public String toString() {
            return status() + " " + uri() + "\n" + body();
        }

        static String text(String html) {
            return unescape(html.replaceAll("</p><p>", "\n").replaceAll("<[^>]+>", "")).strip();
        }

        static String unescape(String s) {
            return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                    .replace("&amp;", "&");
        }
    }
}
