package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.testing.TestServer;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Helpers for the FHIR REST API tests: unique data, JSON inspection, paging. Not a test itself. */
final class Api {
    static final String SYS = "urn:mamori:test:mrn";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Api() {
    }

    static TestServer s() {
        return TestServer.shared();
    }

    /** A value no other test uses: lowercase hex, 12 characters. */
    static String uid() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static JsonNode json(HttpResponse<String> r) {
        try {
            return MAPPER.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON (HTTP " + r.statusCode() + "): " + r.body(), e);
        }
    }

    static JsonNode json(String s) {
        try {
            return MAPPER.readTree(s);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    static void status(int expected, HttpResponse<String> r) {
        assertEquals(expected, r.statusCode(), () -> "HTTP " + r.statusCode() + " " + r.uri() + ": " + r.body());
    }

    /** A Patient with an identifier, a family name, optional given name, gender and birth date. */
    static String patient(String idValue, String family, String given, String gender, String birthDate) {
        StringBuilder sb = new StringBuilder("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"")
                .append(SYS).append("\",\"value\":\"").append(idValue).append("\"}],\"name\":[{\"family\":\"")
                .append(family).append('"');
        if (given != null) {
            sb.append(",\"given\":[\"").append(given).append("\"]");
        }
        sb.append("}]");
        if (gender != null) {
            sb.append(",\"gender\":\"").append(gender).append('"');
        }
        if (birthDate != null) {
            sb.append(",\"birthDate\":\"").append(birthDate).append('"');
        }
        return sb.append('}').toString();
    }

    static String patient(String idValue, String family) {
        return patient(idValue, family, null, null, null);
    }

    /** Creates and returns the stored resource; fails unless the answer is 201. */
    static JsonNode create(String type, String body) {
        HttpResponse<String> r = s().post("/" + type, body);
        status(201, r);
        return json(r);
    }

    static String createId(String type, String body) {
        return create(type, body).path("id").asText();
    }

    static HttpResponse<String> getAbsolute(String url) {
        return s().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + s().adminToken()).GET().build());
    }

    static HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder b = s().request(path).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return s().send(b.build());
    }

    static HttpResponse<String> send(String method, String path, String contentType, String body,
                                     String... headers) {
        HttpRequest.Builder b = s().request(path).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return s().send(b.build());
    }

    /** Ids of the match entries of a searchset bundle, in order. */
    static List<String> matchIds(JsonNode bundle) {
        assertEquals("Bundle", bundle.path("resourceType").asText(), bundle::toString);
        List<String> out = new ArrayList<>();
        for (JsonNode e : bundle.path("entry")) {
            if (!"include".equals(e.path("search").path("mode").asText())) {
                out.add(e.path("resource").path("id").asText());
            }
        }
        return out;
    }

    /** Ids of the matches of a search, on its first page. */
    static List<String> search(String pathAndQuery) {
        HttpResponse<String> r = s().get(pathAndQuery);
        status(200, r);
        return matchIds(json(r));
    }

    static String nextLink(JsonNode bundle) {
        for (JsonNode l : bundle.path("link")) {
            if ("next".equals(l.path("relation").asText())) {
                return l.path("url").asText();
            }
        }
        return null;
    }

    /** Every page of a search or history, following next links; {@code between} runs after each page. */
    static List<JsonNode> pages(String pathAndQuery, Runnable between) {
        List<JsonNode> pages = new ArrayList<>();
        HttpResponse<String> r = s().get(pathAndQuery);
        while (true) {
            status(200, r);
            JsonNode b = json(r);
            pages.add(b);
            if (pages.size() > 500) {
                fail("more than 500 pages: the next links do not end");
            }
            String next = nextLink(b);
            if (next == null) {
                return pages;
            }
            assertTrue(next.startsWith(s().base()), () -> "next link outside the base: " + next);
            if (between != null) {
                between.run();
            }
            r = getAbsolute(next);
        }
    }

    /** The first issue of an OperationOutcome answer. */
    static JsonNode firstIssue(HttpResponse<String> r) {
        JsonNode oo = json(r);
        assertEquals("OperationOutcome", oo.path("resourceType").asText(), r::body);
        assertTrue(oo.path("issue").size() > 0, r::body);
        return oo.path("issue").get(0);
    }

    static List<String> expressions(HttpResponse<String> r) {
        JsonNode oo = json(r);
        assertEquals("OperationOutcome", oo.path("resourceType").asText(), r::body);
        List<String> out = new ArrayList<>();
        for (JsonNode i : oo.path("issue")) {
            for (JsonNode x : i.path("expression")) {
                out.add(x.asText());
            }
        }
        return out;
    }
}
