package jp.mamori.edge;

import ca.uhn.fhir.parser.IParser;
import jp.mamori.testing.Fhir;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random and truncated bodies to every write endpoint and random query strings to search: the server answers
 * each with a status below 500 and a FHIR body (an OperationOutcome, a Bundle or a resource), never with a
 * stack trace, and keeps working afterwards.
 *
 * <p>Search and history (at server, type and instance level) also get parameters whose names and values are
 * empty segments, bare separators ({@code :} {@code ::} {@code .} {@code ,} {@code |}) and edge numbers (0, -1,
 * past the int and long ranges), each tried with every parameter that is split or read as a number, over a
 * Patient and an Observation written first, so that includes and pages are built, not only parsed.
 *
 * <p>The seed is printed; rerun one with {@code -Dmamori.fuzz.seed=N}. All requests are generated from the
 * seed before any is sent, so the set of requests does not depend on the order in which the answers come.
 */
class FuzzTest {
    private static final List<String[]> BODY_TARGETS = List.of(
            new String[]{"POST", "/fhir"},
            new String[]{"POST", "/fhir/Patient"},
            new String[]{"PUT", "/fhir/Patient/fuzz-1"},
            new String[]{"POST", "/fhir/Patient/_search"},
            new String[]{"POST", "/fhir/Observation"},
            new String[]{"PUT", "/fhir/Patient?identifier=x"});
    private static final List<String> CONTENT_TYPES = List.of("application/fhir+json", "application/fhir+xml",
            "application/x-www-form-urlencoded", "text/plain", "", ";", " ; charset=utf-8");

    private static final String PATIENT_JSON = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:fuzz\","
            + "\"value\":\"f-1\"}],\"active\":true,\"name\":[{\"family\":\"やまだ\",\"given\":[\"太郎\"]}],"
            + "\"gender\":\"male\",\"birthDate\":\"1970-01-01\",\"address\":[{\"city\":\"東京\"}]}";
    private static final String BUNDLE_JSON = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
            + "{\"fullUrl\":\"urn:uuid:8c5b1c5e-7a0e-4c39-9d0a-3f1f2b6a0c01\",\"resource\":" + PATIENT_JSON + ","
            + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
            + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"体温\"},"
            + "\"subject\":{\"reference\":\"urn:uuid:8c5b1c5e-7a0e-4c39-9d0a-3f1f2b6a0c01\"},"
            + "\"valueQuantity\":{\"value\":36.5,\"unit\":\"Cel\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
    private static final String PATIENT_XML = "<Patient xmlns=\"http://hl7.org/fhir\"><identifier><system value=\"urn:fuzz\"/>"
            + "<value value=\"f-1\"/></identifier><active value=\"true\"/><name><family value=\"やまだ\"/>"
            + "<given value=\"太郎\"/></name><gender value=\"male\"/><birthDate value=\"1970-01-01\"/></Patient>";
    private static final String BUNDLE_XML = "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/><entry>"
            + "<fullUrl value=\"urn:uuid:8c5b1c5e-7a0e-4c39-9d0a-3f1f2b6a0c02\"/><resource>" + PATIENT_XML
            + "</resource><request><method value=\"POST\"/><url value=\"Patient\"/></request></entry></Bundle>";

    /** Fixed inputs of the wrong shape, tried against every target with the matching content type. */
    private static final List<String> WRONG_SHAPES_JSON = List.of(
            "[]", "[1,2,3]", "42", "-0.0e-99999", "\"Patient\"", "null", "true", "{}", "{\"resourceType\":null}",
            "{\"resourceType\":42}", "{\"resourceType\":[\"Patient\"]}", "{\"resourceType\":\"\"}",
            "{\"resourceType\":\"NoSuchType\"}", "{\"resourceType\":\"Patient\",\"name\":[null,null]}",
            "{\"resourceType\":\"Patient\",\"name\":{\"family\":[[[]]]}}",
            "{\"resourceType\":\"Patient\",\"id\":{\"a\":1}}",
            "{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"-1\",\"lastUpdated\":\"yesterday\"}}",
            "{\"resourceType\":\"Patient\",\"birthDate\":\"1970-02-31\"}",
            "{\"resourceType\":\"Patient\",\"birthDate\":\"99999-01-01\"}",
            "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":99999999999999999999999999999}",
            "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":1e999999}",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":"
                    + "{\"value\":1" + "0".repeat(5000) + "}}",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":"
                    + "{\"value\":1e-999999999}}",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":"
                    + "{\"value\":-9.5E+999999999}}",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"1e-999999999\"},"
                    + "\"valueQuantity\":{\"value\":1e-400}}",
            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\u0000b\"}]}",
            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\\ud800\"}]}",
            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "長".repeat(200_000) + "\"}]}",
            "{\"resourceType\":\"Patient\",\"id\":\"" + "x".repeat(100_000) + "\"}",
            "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:fuzz\",\"value\":\"\\u0000\"}]}",
            "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Patient\",\"contained\":[]}]}",
            "{\"resourceType\":\"Patient\",\"resourceType\":\"Observation\"}",
            "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[null,{},{\"request\":{}},"
                    + "{\"request\":{\"method\":\"FLY\",\"url\":\"Patient\"}}]}",
            "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\","
                    + "\"url\":\"Patient?name=%zz\"}},{\"request\":{\"method\":\"GET\",\"url\":\"../../etc/passwd\"}},"
                    + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient\"}},{\"request\":{\"method\":\"GET\","
                    + "\"url\":\"\"}},{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/x\"},\"resource\":"
                    + "{\"resourceType\":\"Observation\"}}]}",
            "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:uuid:x\",\"resource\":"
                    + "{\"resourceType\":\"Patient\",\"link\":[{\"other\":{\"reference\":\"urn:uuid:x\"},"
                    + "\"type\":\"seealso\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                    + "{\"fullUrl\":\"urn:uuid:x\",\"resource\":{\"resourceType\":\"Patient\"},"
                    + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}",
            "{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}",
            "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"request\":{\"method\":\"POST\","
                    + "\"url\":\"Patient\",\"ifNoneExist\":\"identifier=%zz\"},\"resource\":{\"resourceType\":\"Patient\"}}]}",
            "[".repeat(5000) + "]".repeat(5000),
            "{\"a\":".repeat(5000) + "1" + "}".repeat(5000),
            "{\"resourceType\":\"Patient\",\"extension\":" + "[{\"url\":\"urn:x\",\"extension\":".repeat(5000)
                    + "[]" + "}]".repeat(5000) + "}",
            "{\"resourceType\":\"Patient\",\"_active\":{\"extension\":[{\"url\":null}]}}");

    private static final List<String> WRONG_SHAPES_XML = List.of(
            "<Patient/>", "<Patient xmlns=\"http://hl7.org/fhir\"><Patient/></Patient>",
            "<?xml version=\"1.0\"?><!DOCTYPE Patient [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                    + "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&xxe;\"/></name></Patient>",
            "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                    + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
                    + "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
                    + "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">]>"
                    + "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&h;\"/></name></Patient>",
            "<Patient xmlns=\"http://hl7.org/fhir\">" + "<extension url=\"urn:x\">".repeat(5000)
                    + "</extension>".repeat(5000) + "</Patient>",
            "<a>".repeat(5000) + "</a>".repeat(5000),
            "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#0;b\"/></name></Patient>",
            "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a\u0000b\"/></name></Patient>",
            "<Patient xmlns=\"http://hl7.org/fhir\"><birthDate value=\"1970-13-45\"/></Patient>",
            "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/><code><text value=\"x\"/></code>"
                    + "<valueQuantity><value value=\"1e-999999999\"/></valueQuantity></Observation>",
            "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/><code><text value=\"x\"/></code>"
                    + "<valueQuantity><value value=\"1E+999999999\"/></valueQuantity></Observation>",
            "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"" + "x".repeat(100_000) + "\"/></Patient>",
            "<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?><Patient xmlns=\"http://hl7.org/fhir\"/>",
            "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/><entry><request>"
                    + "<method value=\"FLY\"/></request></entry></Bundle>");

    private static final List<String> PARAM_NAMES = List.of("name", "family", "given", "identifier", "birthdate",
            "gender", "_id", "_lastUpdated", "_count", "_sort", "_include", "_revinclude", "_summary", "_elements",
            "_total", "_format", "_pretty", "_cursor", "_has", "subject", "subject:Patient", "code", "value-quantity",
            "date", "status", "name:exact", "name:contains", "name:missing", "identifier:of-type", "_text",
            "_content", "subject.name", "patient", "_since", "_at", "", "=", "&", "%", "%zz", "名前", "_count:x",
            ":", "::", ".", "name:", "subject.", "_has:", "_has:::");
    private static final List<String> PARAM_VALUES = List.of("", "x", "やまだ", "1", "-1", "0", "99999999999999999999",
            "2020", "ge2020-01-01", "lt1970-13-45", "eq", "gt", "ap2020-01-01T25:61:61Z", "urn:fuzz|", "|", "||",
            "urn:fuzz|f-1", "Patient:link", "*", "Patient:*", "true", "false", "text", "count", "data", "name,gender",
            "-_lastUpdated", "_id", "family,-given", "%zz", "%", "%e3%81", "%C3%28", "%FF%FE", "%00", "a%00b",
            "Patient/x", "Patient/", "http://example.org/Patient/1", "5.4|http://unitsofmeasure.org|mg",
            "ne5.4||mg", "le", "1e999999", "NaN", "'", "\"", "\\", ";", "<script>", "${jndi:ldap://x}",
            "Observation:subject:Patient.name=x", "json", "xml", "yaml", "text/html", "💊", "\u200b", ":", "::",
            ".", ",", "Patient:", ":subject", "2147483648");

    /**
     * Parameters whose values are split on ':' ',' '.' or '|', or read as page sizes, positions and instants: on
     * search and on history, with values made of empty segments, bare separators and edge numbers.
     */
    private static final List<String> SHAPED_NAMES = List.of("_include", "_revinclude", "_sort", "_elements",
            "_summary", "_total", "_count", "_offset", "_cursor", "_since", "_has:Observation:patient:code",
            "subject:Patient.name", "value-quantity", "date", "identifier");
    /** Values of the wrong shape for {@link #SHAPED_NAMES}, each tried with each name (issue 15: _include=: was a 500). */
    private static final List<String> SHAPED_VALUES = List.of("", ":", "::", ":::", ".", "..", ",", ",,", "|", "||",
            ":.", ".:", ":,", "Patient:", ":Patient", "Patient::", "::Patient", "Patient:*:", "Patient:*:Nope",
            "Patient:organization:Organization:x", "Observation:", ":subject", "Observation:subject:",
            "Observation::Patient", "-", "-:", "0", "-0", "-1", "2147483648", "99999999999999999999", "1e3", "+1");
    /** Parameter names of the wrong shape: empty names, modifiers and chains (tried on Patient and Observation). */
    private static final List<String> SHAPED_KEYS = List.of(":", "::", ".", "..", "name:", "name::", ":name", ".name",
            "name.", "name:.", "subject.", "subject:.", "subject:.name", "subject:Patient.", "subject:Patient..name",
            "subject..name", "subject:Patient.name:", "_has", "_has:", "_has::", "_has:::", "_has::::",
            "_has:Observation", "_has:Observation:", "_has:Observation:patient", "_has:Observation:patient:",
            "_has:Observation::code", "_has:::code", "_id:", "_lastUpdated:", "name:missing:", "code:text:", "_count:");
    /** Separators and segments the random values are built from. */
    private static final List<String> SEPARATORS = List.of(":", ":", "::", ".", ",", "|");
    private static final List<String> SEGMENTS = List.of("", "", "", "Patient", "Observation", "subject", "patient",
            "organization", "name", "*", "Nope", "_id", "-_lastUpdated", "0", "-1", "長");
    /** Page sizes and positions: zero, negative, at and past the int and long ranges, not numbers at all. */
    private static final List<String> NUMBERS = List.of("0", "-0", "00", "-1", "1", "2147483647", "2147483648",
            "-2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "0x10",
            "+1", "1.5", " 1", "");
    private static final List<String> HISTORY_NAMES = List.of("_count", "_since", "_cursor", "_at", "_offset",
            "_summary", "_elements", "_include", "_format", "_list", "_sort");

    private record Req(String label, String method, byte[] target, Map<String, String> headers, byte[] body) {
    }

    @Test
    void randomAndTruncatedInputGetsAFhirAnswerBelow500AndNoStackTrace() throws Exception {
        TestServer s = TestServer.shared();
        long seed = Long.getLong("mamori.fuzz.seed", System.nanoTime());
        System.out.println("FuzzTest seed " + seed + " (rerun with -Dmamori.fuzz.seed=" + seed + ")");
        Random rnd = new Random(seed);
        String auth = "Bearer " + s.adminToken();
        List<Req> reqs = new ArrayList<>();

        // Fixed wrong-shape bodies, each against every body target with its own content type.
        for (String[] t : BODY_TARGETS) {
            for (String body : WRONG_SHAPES_JSON) {
                reqs.add(body("wrong-shape json", t, "application/fhir+json", body.getBytes(StandardCharsets.UTF_8),
                        auth, rnd));
            }
            for (String body : WRONG_SHAPES_XML) {
                reqs.add(body("wrong-shape xml", t, "application/fhir+xml", body.getBytes(StandardCharsets.UTF_8),
                        auth, rnd));
            }
            reqs.add(body("invalid utf-8 json", t, "application/fhir+json", invalidUtf8Json(), auth, rnd));
            reqs.add(body("raw NUL json", t, "application/fhir+json",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\u0000b\"}]}".getBytes(StandardCharsets.UTF_8),
                    auth, rnd));
        }
        // Random bodies of every kind, with every content type.
        for (int i = 0; i < 360; i++) {
            String[] t = BODY_TARGETS.get(rnd.nextInt(BODY_TARGETS.size()));
            String ct = CONTENT_TYPES.get(rnd.nextInt(CONTENT_TYPES.size()));
            int kind = rnd.nextInt(8);
            byte[] b = switch (kind) {
                case 0 -> randomBytes(rnd, rnd.nextInt(3000));
                case 1 -> jsonish(rnd).getBytes(StandardCharsets.UTF_8);
                case 2 -> truncate(rnd, PATIENT_JSON);
                case 3 -> truncate(rnd, BUNDLE_JSON);
                case 4 -> truncate(rnd, PATIENT_XML);
                case 5 -> truncate(rnd, BUNDLE_XML);
                case 6 -> randomQuery(rnd).getBytes(StandardCharsets.UTF_8);
                default -> mutate(rnd, (rnd.nextBoolean() ? PATIENT_JSON : BUNDLE_JSON).getBytes(StandardCharsets.UTF_8));
            };
            reqs.add(body("random kind " + kind, t, ct, b, auth, rnd));
        }
        // Random query strings on search, and random bytes in the path.
        for (int i = 0; i < 160; i++) {
            String type = rnd.nextBoolean() ? "Patient" : "Observation";
            String q = randomQuery(rnd);
            byte[] target = ("/fhir/" + type + "?" + q).getBytes(StandardCharsets.UTF_8);
            if (i % 10 == 0) {
                byte[] junk = randomBytes(rnd, 1 + rnd.nextInt(8));
                for (int j = 0; j < junk.length; j++) {
                    if (junk[j] == ' ' || junk[j] == '\r' || junk[j] == '\n') {
                        junk[j] = '%'; // bytes that end the request target would make it another request line
                    }
                }
                byte[] t2 = new byte[target.length + junk.length];
                System.arraycopy(target, 0, t2, 0, target.length);
                System.arraycopy(junk, 0, t2, target.length, junk.length);
                target = t2;
            }
            reqs.add(new Req("query", "GET", target, headers(auth, rnd, null), null));
        }
        // Wrong shapes in the parameters that are split on separators or read as numbers, on search and on history
        // at all three levels. The records make every search and history non-empty, so that the parts of the
        // answer built from the matches (includes, pages, next links) are reached, not only the parsing.
        String pid = Fhir.parse(Patient.class, s.post("/Patient", PATIENT_JSON).body()).getIdPart();
        String oid = Fhir.parse(org.hl7.fhir.r4.model.Observation.class, s.post("/Observation",
                "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"体温\"},"
                        + "\"subject\":{\"reference\":\"Patient/" + pid + "\"}}").body()).getIdPart();
        List<String> searches = List.of("/fhir/Patient", "/fhir/Observation");
        List<String> histories = List.of("/fhir/_history", "/fhir/Patient/_history", "/fhir/Patient/" + pid
                + "/_history", "/fhir/Observation/" + oid + "/_history");
        for (String name : SHAPED_NAMES) {
            for (String value : SHAPED_VALUES) {
                reqs.add(get("shaped value", pick(rnd, searches) + "?" + name + "=" + escapeShape(value), auth, rnd));
            }
        }
        for (String key : SHAPED_KEYS) {
            for (String search : searches) {
                reqs.add(get("shaped key", search + "?" + escapeShape(key) + "=" + pick(rnd, List.of("x", "1",
                        "Patient/" + pid, "", ":")), auth, rnd));
            }
        }
        for (String history : histories) {
            for (String name : List.of("_count", "_since", "_cursor")) {
                for (String n : NUMBERS) {
                    reqs.add(get("history number", history + "?" + name + "=" + escapeShape(n), auth, rnd));
                }
            }
        }
        for (int i = 0; i < 200; i++) {
            boolean history = rnd.nextInt(3) == 0;
            StringBuilder q = new StringBuilder();
            int n = 1 + rnd.nextInt(3);
            for (int j = 0; j < n; j++) {
                if (j > 0) {
                    q.append('&');
                }
                String name = history ? pick(rnd, HISTORY_NAMES)
                        : rnd.nextInt(4) == 0 ? shapedText(rnd) : pick(rnd, SHAPED_NAMES);
                q.append(escapeShape(name)).append('=').append(escapeShape(rnd.nextInt(3) == 0 ? pick(rnd, NUMBERS)
                        : shapedText(rnd)));
            }
            reqs.add(get("shaped random", pick(rnd, history ? histories : searches) + "?" + q, auth, rnd));
        }
        for (String path : List.of("/fhir/Patient/%zz", "/fhir/Pat%00ient", "/fhir/Patient/%C3%28", "/fhir/%2e%2e/health",
                "/fhir/Patient/x/_history/abc", "/fhir/Patient/x/_history/99999999999999", "/fhir/Patient/" + "x".repeat(3000),
                "/fhir/_history?_since=yesterday", "/fhir/_history?_count=-5", "/fhir/_history?_cursor=%%%",
                "/fhir/Patient/_history?_cursor=AAAA", "/fhir/Patient?_count=" + "9".repeat(40),
                "/fhir/Patient?name=" + "長".repeat(1500), "/fhir/Patient?" + "a=b&".repeat(1500),
                "/fhir/Patient?name=" + "x".repeat(20_000), "/fhir/Patient/x;jsessionid=1", "/fhir/Patient/x%2Fy",
                "/fhir/Patient/x%5Cy", "/fhir/Patient//x", "/fhir/./Patient", "/fhir/Patient/..%2F..%2Fhealth")) {
            reqs.add(new Req("path", "GET", path.getBytes(StandardCharsets.UTF_8), headers(auth, rnd, null), null));
        }

        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (Req r : reqs) {
                fs.add(pool.submit(() -> check(s, r, failures)));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.println("FuzzTest sent " + reqs.size() + " requests in " + ms + " ms, seed " + seed);
        failures.forEach(f -> System.out.println("FuzzTest failure: " + f));
        assertTrue(failures.isEmpty(), failures.size() + " of " + reqs.size() + " answers were wrong (seed " + seed
                + "; all are in the test output):\n" + String.join("\n", failures.subList(0, Math.min(25,
                failures.size()))));

        // The server still works normally afterwards.
        String value = "after-fuzz-" + UUID.randomUUID();
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:fuzz").setValue(value);
        var created = s.post("/Patient", Fhir.json(p));
        assertEquals(201, created.statusCode(), created.body());
        String id = Fhir.parse(Patient.class, created.body()).getIdPart();
        var read = s.get("/Patient/" + id);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals(value, Fhir.parse(Patient.class, read.body()).getIdentifierFirstRep().getValue());
        var found = s.get("/Patient?identifier=urn:fuzz%7C" + value);
        assertEquals(200, found.statusCode());
        assertTrue(found.body().contains(id), found.body());
        List<String> mismatches = new ArrayList<>();
        s.server().records().verifyAll(m -> mismatches.add(m.toString()));
        assertEquals(List.of(), mismatches, "stored versions still verify after the fuzz run");
    }

    private static Req get(String label, String target, String auth, Random rnd) {
        return new Req(label, "GET", target.getBytes(StandardCharsets.UTF_8), headers(auth, rnd, null), null);
    }

    /**
     * A value or name made of separators only, or of segments (often empty) joined by separators: the shapes
     * that a parser splitting on a separator and indexing the parts gets wrong.
     */
    private static String shapedText(Random rnd) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + rnd.nextInt(4);
        boolean separatorsOnly = rnd.nextBoolean();
        for (int i = 0; i < n; i++) {
            if (!separatorsOnly) {
                sb.append(pick(rnd, SEGMENTS));
            }
            if (separatorsOnly || i < n - 1) {
                sb.append(pick(rnd, SEPARATORS));
            }
        }
        return sb.toString();
    }

    /** Percent-escapes what would end or split the query ('&', '=', '#', '%', '+', space, non-ASCII); keeps ':' '.' ',' '|'. */
    private static String escapeShape(String v) {
        StringBuilder sb = new StringBuilder();
        for (byte b : v.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && "&=#%+?".indexOf(c) < 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    private static Req body(String label, String[] target, String contentType, byte[] body, String auth, Random rnd) {
        return new Req(label + " " + contentType, target[0], target[1].getBytes(StandardCharsets.UTF_8),
                headers(auth, rnd, contentType), body);
    }

    /** Authorization, the content type, and now and then a malformed value in another header the server reads. */
    private static Map<String, String> headers(String auth, Random rnd, String contentType) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Authorization", auth);
        if (contentType != null && !contentType.isEmpty()) {
            h.put("Content-Type", rnd.nextInt(6) == 0 ? contentType + "; charset=" + pick(rnd, List.of("utf-8",
                    "x-bogus", "", "\"")) : contentType);
        }
        if (rnd.nextInt(4) == 0) {
            String name = pick(rnd, List.of("X-Mamori-Reason", "If-Match", "If-None-Match", "If-None-Exist", "Prefer",
                    "Accept"));
            String value = pick(rnd, List.of("%zz", "%", "W/\"x\"", "W/\"99999999999\"", "\"", "return=minimal",
                    "return=OperationOutcome", "return=", "application/fhir+xml", "*/*;q=x", "identifier=%zz",
                    "?", "%E3%81", "x".repeat(3000), "%00"));
            h.put(name, value);
        }
        return h;
    }

    private static void check(TestServer s, Req r, List<String> failures) {
        String what = r.label() + ": " + r.method() + " " + abbreviate(new String(r.target(), StandardCharsets.UTF_8))
                + " " + r.headers().entrySet().stream().filter(e -> !e.getKey().equals("Authorization"))
                .map(e -> e.getKey() + "=" + abbreviate(e.getValue())).toList()
                + (r.body() == null ? "" : " body=" + abbreviate(new String(r.body(), StandardCharsets.UTF_8)));
        Edge.Answer a;
        try {
            a = Edge.raw(s, r.method(), r.target(), r.headers(), r.body());
        } catch (Exception e) {
            failures.add(what + " -> no answer: " + e);
            return;
        }
        String text = a.text();
        if (a.status() >= 500) {
            failures.add(what + " -> " + a.status() + " " + abbreviate(text));
            return;
        }
        if (text.contains("at jp.mamori") || text.contains("Exception") || text.contains("at java.")
                || text.contains("at org.")) {
            failures.add(what + " -> " + a.status() + " stack trace or exception in body: " + abbreviate(text));
            return;
        }
        if (!"no-store".equals(a.header("Cache-Control"))) {
            failures.add(what + " -> " + a.status() + " without the security headers: " + a.headers());
            return;
        }
        String prefer = r.headers().getOrDefault("Prefer", "");
        if (a.status() >= 200 && a.status() < 300 && prefer.contains("return=minimal") && text.isEmpty()) {
            return; // an empty success is the answer that return=minimal asks for
        }
        String ct = a.header("Content-Type") == null ? "" : a.header("Content-Type");
        try {
            IParser parser = ct.contains("xml") ? Fhir.CTX.newXmlParser() : Fhir.CTX.newJsonParser();
            if (!ct.contains("fhir+")) {
                throw new IllegalStateException("Content-Type '" + ct + "'");
            }
            IBaseResource res = parser.parseResource(text);
            if (res == null) {
                throw new IllegalStateException("nothing parsed");
            }
        } catch (RuntimeException e) {
            failures.add(what + " -> " + a.status() + " body is not FHIR (" + e.getMessage() + "): " + abbreviate(text));
        }
    }

    private static String abbreviate(String s) {
        String t = s.replaceAll("[\\p{Cntrl}]", "?");
        return t.length() > 160 ? t.substring(0, 160) + "…(" + t.length() + ")" : t;
    }

    private static <T> T pick(Random rnd, List<T> from) {
        return from.get(rnd.nextInt(from.size()));
    }

    private static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] truncate(Random rnd, String valid) {
        byte[] b = valid.getBytes(StandardCharsets.UTF_8);
        // Cut anywhere, including inside a multi-byte character.
        return java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
    }

    private static byte[] mutate(Random rnd, byte[] b) {
        byte[] out = b.clone();
        int n = 1 + rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            out[rnd.nextInt(out.length)] = (byte) pick(rnd, List.of((int) '"', (int) '{', (int) '}', (int) '[',
                    (int) ':', (int) ',', 0, 0xff, 0xc3, (int) '\\', (int) 'x')).intValue();
        }
        return out;
    }

    private static byte[] invalidUtf8Json() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"".getBytes(StandardCharsets.UTF_8));
        out.writeBytes(new byte[]{(byte) 0xc3, (byte) 0x28, (byte) 0xff, (byte) 0xfe, (byte) 0xed, (byte) 0xa0,
                (byte) 0x80, (byte) 0xe3, (byte) 0x81});
        out.writeBytes("\"}]}".getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static final List<String> JSON_TOKENS = List.of("{", "}", "[", "]", ":", ",", "\"", "\"resourceType\"",
            "\"Patient\"", "\"Bundle\"", "\"Observation\"", "\"entry\"", "\"resource\"", "\"request\"", "\"name\"",
            "\"family\"", "\"id\"", "\"meta\"", "null", "true", "false", "0", "-1", "1e309", "3.14", "\"やまだ\"",
            "\\u0000", "\\ud800", "\\", "\n", " ", "\"\"", "\"urn:uuid:1\"", "\"POST\"", "\"transaction\"");

    private static String jsonish(Random rnd) {
        StringBuilder sb = new StringBuilder(rnd.nextBoolean() ? "{\"resourceType\":" : "");
        int n = rnd.nextInt(120);
        for (int i = 0; i < n; i++) {
            sb.append(pick(rnd, JSON_TOKENS));
        }
        return sb.toString();
    }

    private static String randomQuery(Random rnd) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + rnd.nextInt(5);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append('&');
            }
            String name = rnd.nextInt(8) == 0 ? randomText(rnd, 1 + rnd.nextInt(12)) : pick(rnd, PARAM_NAMES);
            sb.append(name);
            if (rnd.nextInt(10) != 0) {
                sb.append('=');
                int k = rnd.nextInt(12);
                if (k == 0) {
                    sb.append("x".repeat(2000 + rnd.nextInt(4000)));
                } else if (k == 1) {
                    sb.append(randomText(rnd, 1 + rnd.nextInt(40)));
                } else {
                    sb.append(pick(rnd, PARAM_VALUES));
                }
            }
        }
        return sb.toString();
    }

    /** Printable ASCII, percent signs and a few non-ASCII characters, unescaped. */
    private static String randomText(Random rnd, int n) {
        String alphabet = "abcXYZ019_-.:|$%&=+,;*!~'()[]{}<>^`@/?#やまだ長💊é";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                    rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
        }
        return sb.toString();
    }
}
