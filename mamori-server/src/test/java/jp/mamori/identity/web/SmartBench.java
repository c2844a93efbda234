package jp.mamori.identity.web;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SMART on FHIR's cost (issue 21): a person's audited FHIR read through a SMART access token against a system
 * client's audited read of the same resource, alternated one for one in one run over HTTPS on loopback, and the
 * issue of tokens (refresh_token grant, each rotating the refresh token). Not a unit test; run it when the machine is
 * quiet:
 * <pre>./mvnw -o -q -pl mamori-server test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp mamori-server/target/test-classes:mamori-server/target/classes:$(cat mamori-server/target/cp.txt) \
 *     jp.mamori.identity.web.SmartBench 3000</pre>
 * Argument: reads of each kind (default 3,000), after 300 of each to warm up.
 */
public final class SmartBench {
    private static final String REDIRECT = "http://127.0.0.1:9/callback";

    private SmartBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        try (Hospital h = Hospital.open()) {
            Clinic clinic = new Clinic(h);
            String hanako = clinic.patient("9300000001", "山田", "花子", "ヤマダ", "ハナコ", "1970-04-01", "female");
            Person doctor = h.enrolStaff("bench.ishi", "内科", "qualification", "physician", "licence_physician",
                    "523456");
            clinic.role(doctor.accountId, "physician", "内科");
            clinic.cares(doctor.accountId, hanako);
            h.admin.browser.get("/console/admin/smart-apps");
            h.adminSubmit("/console/admin/smart-apps", "name", "ベンチ", "kind", "public", "redirects", REDIRECT,
                    "launch_url", "", "scopes", "user/*.rs offline_access", "enabled", "1");
            String app = h.one("SELECT client_id FROM smart_app WHERE name = 'ベンチ'");
            String origin = h.server.base().replaceFirst("/fhir$", "");

            // one authorization through the consent page, then the code for tokens
            String verifier = "v".repeat(20) + Long.toHexString(System.nanoTime()) + "x".repeat(20);
            String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest
                    .getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
            String query = "response_type=code&client_id=" + app + "&redirect_uri=" + enc(REDIRECT)
                    + "&scope=" + enc("user/*.rs offline_access") + "&state=bench&aud=" + enc(h.server.base())
                    + "&code_challenge=" + challenge + "&code_challenge_method=S256";
            Browser.Page consent = doctor.browser.get("/console/smart/authorize?" + query);
            Map<String, String> form = new LinkedHashMap<>(consent.hiddenFields("/console/smart/authorize"));
            form.put("decision", "allow");
            StringBuilder body = new StringBuilder();
            form.forEach((k, v) -> body.append(body.isEmpty() ? "" : "&").append(enc(k)).append('=').append(enc(v)));
            body.append("&scope=").append(enc("user/*.rs")).append("&scope=offline_access");
            Browser.Page back = doctor.browser.postRaw("/console/smart/authorize", "application/x-www-form-urlencoded",
                    body.toString().getBytes(StandardCharsets.UTF_8), Map.of());
            String location = back.response().headers().firstValue("Location").orElseThrow();
            String code = QueryValue.of(location, "code");
            HttpClient http = h.server.httpClient();
            String tokens = post(http, origin + "/oauth/token", "grant_type=authorization_code&code=" + enc(code)
                    + "&redirect_uri=" + enc(REDIRECT) + "&code_verifier=" + verifier + "&client_id=" + app);
            String access = json(tokens, "access_token");
            String refresh = json(tokens, "refresh_token");
            String system = h.server.tokenWithScopes("system/*.rs");

            URI read = URI.create(h.server.base() + "/Patient/" + hanako);
            for (int i = 0; i < 300; i++) {
                get(http, read, access);
                get(http, read, system);
            }
            long[] smart = new long[n];
            long[] client = new long[n];
            for (int i = 0; i < n; i++) {
                // alternated, so that both see the same machine, the same caches and the same trail
                if (i % 2 == 0) {
                    smart[i] = get(http, read, access);
                    client[i] = get(http, read, system);
                } else {
                    client[i] = get(http, read, system);
                    smart[i] = get(http, read, access);
                }
                if (i % 250 == 249) { // access tokens live 5 minutes: take a fresh one now and then (not timed)
                    String t = post(http, origin + "/oauth/token", "grant_type=refresh_token&refresh_token="
                            + enc(refresh) + "&client_id=" + app);
                    access = json(t, "access_token");
                    refresh = json(t, "refresh_token");
                }
            }
            int issues = Math.max(200, n / 10);
            long[] issue = new long[issues];
            for (int i = 0; i < issues; i++) {
                long t0 = System.nanoTime();
                String t = post(http, origin + "/oauth/token", "grant_type=refresh_token&refresh_token="
                        + enc(refresh) + "&client_id=" + app);
                issue[i] = System.nanoTime() - t0;
                refresh = json(t, "refresh_token");
            }
            System.out.printf("reads per kind: %d (after 300 to warm up), alternated, HTTPS on loopback, one client%n",
                    n);
            report("person via SMART token", smart);
            report("system client (static token)", client);
            System.out.printf("ratio of medians: %.3f, of means: %.3f%n", median(smart) / median(client),
                    mean(smart) / mean(client));
            report("token issue (refresh_token grant)", issue);
        }
    }

    private static void report(String what, long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        System.out.printf("%-36s median %.3f ms  p95 %.3f ms  p99 %.3f ms  mean %.3f ms%n", what, s[s.length / 2] / 1e6,
                s[(int) (s.length * 0.95)] / 1e6, s[(int) (s.length * 0.99)] / 1e6, mean(nanos) / 1e6);
    }

    private static double median(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double mean(long[] nanos) {
        return Arrays.stream(nanos).average().orElse(0);
    }

    private static long get(HttpClient http, URI uri, String token) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        long took = System.nanoTime() - t0;
        if (r.statusCode() != 200) {
            throw new IllegalStateException("read answered " + r.statusCode() + ": " + new String(r.body(),
                    StandardCharsets.UTF_8));
        }
        return took;
    }

    private static String post(HttpClient http, String url, String form) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    private static String json(String body, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":\"([^\"]+)\"").matcher(body);
        if (!m.find()) {
            throw new IllegalStateException("no " + field + " in " + body);
        }
        return m.group(1);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** One parameter of a URI's query. */
    private static final class QueryValue {
        static String of(String uri, String name) {
            List<String> v = jp.mamori.kernel.QueryString.parse(URI.create(uri).getRawQuery()).get(name);
            return v == null ? new ArrayList<String>().toString() : v.get(0);
        }
    }
}
