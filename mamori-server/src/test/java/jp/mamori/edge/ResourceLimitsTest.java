package jp.mamori.edge;

import jp.mamori.records.BodyLimits;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Fhir;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What one resource may hold ({@link BodyLimits}) and how much a page of search or history loads
 * ({@link RecordService#PAGE_BYTES}): refused with 413 or 422 and an OperationOutcome naming the limit, Japanese
 * first, before HAPI builds its model of the body.
 */
class ResourceLimitsTest {
    private final TestServer s = TestServer.shared();

    private static OperationOutcome.OperationOutcomeIssueComponent issue(HttpResponse<String> r) {
        OperationOutcome oo = Fhir.parse(OperationOutcome.class, r.body());
        return oo.getIssueFirstRep();
    }

    /** The start of an answer, for a failure message (the bodies here are megabytes long). */
    private static String head(HttpResponse<String> r) {
        return r.body().length() > 400 ? r.body().substring(0, 400) + "…" : r.body();
    }

    private static String patientWithContained(int n, String identifier) {
        StringBuilder sb = new StringBuilder("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test\","
                + "\"value\":\"" + identifier + "\"}],\"contained\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i > 0 ? "," : "").append("{\"resourceType\":\"Organization\",\"id\":\"o").append(i)
                    .append("\",\"name\":\"病院 ").append(i).append("\"}");
        }
        return sb.append("],\"generalPractitioner\":[{\"reference\":\"#o0\"}]}").toString();
    }

    private int stored(String identifier) {
        var r = s.get("/Patient?identifier=urn:test%7C" + identifier);
        assertEquals(200, r.statusCode(), head(r));
        return Fhir.parse(Bundle.class, r.body()).getEntry().size();
    }

    /** Contained resources in one resource (StructureValidator.MAX_CONTAINED). */
    private static final int MAX_CONTAINED = 100;

    @Test
    void moreContainedResourcesThanTheLimitAreRefusedWith422() {
        String ok = UUID.randomUUID().toString();
        var accepted = s.post("/Patient", patientWithContained(MAX_CONTAINED, ok));
        assertEquals(201, accepted.statusCode(), head(accepted));
        String id = UUID.randomUUID().toString();
        var r = s.post("/Patient", patientWithContained(20_000, id));
        assertEquals(422, r.statusCode(), head(r));
        var i = issue(r);
        assertEquals("Patient.contained", i.getExpression().get(0).getValue());
        assertTrue(i.getDiagnostics().startsWith("含まれるリソース") && i.getDiagnostics().contains("limit of 100"),
                i.getDiagnostics());
        assertEquals(0, stored(id));
    }

    @Test
    void aTransactionDoesNotBypassTheContainedLimitAndWritesNothing() {
        String first = UUID.randomUUID().toString();
        String second = UUID.randomUUID().toString();
        String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                + "{\"resource\":" + patientWithContained(3, first) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
                + "{\"resource\":" + patientWithContained(MAX_CONTAINED + 1, second)
                + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}";
        var r = s.post("", bundle);
        assertEquals(422, r.statusCode(), head(r));
        assertTrue(issue(r).getDiagnostics().contains("Bundle.entry[1]"), r.body());
        assertEquals(0, stored(first));
        assertEquals(0, stored(second));
    }

    @Test
    void aStringLongerThanTheLimitIsRefusedWith422AtTheElementInJsonAndXml() {
        String id = UUID.randomUUID().toString();
        String longName = "あ".repeat(BodyLimits.MAX_STRING_CHARS + 1);
        var r = s.post("/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test\",\"value\":\""
                + id + "\"}],\"name\":[{\"family\":\"" + longName + "\"}]}");
        assertEquals(422, r.statusCode(), head(r));
        var i = issue(r);
        assertEquals(OperationOutcome.IssueType.TOOLONG, i.getCode());
        assertEquals("Patient.name[0].family", i.getExpression().get(0).getValue());
        assertTrue(i.getDiagnostics().startsWith("文字列が長すぎます") && i.getDiagnostics().contains("1048576"),
                i.getDiagnostics());
        String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><identifier><system value=\"urn:test\"/><value value=\""
                + id + "\"/></identifier><name><family value=\"" + longName + "\"/></name></Patient>";
        var rx = s.send(s.request("/Patient").header("Content-Type", "application/fhir+xml")
                .POST(HttpRequest.BodyPublishers.ofString(xml, StandardCharsets.UTF_8)).build());
        assertEquals(422, rx.statusCode(), head(rx));
        assertTrue(rx.body().contains("Patient.name.family"), rx.body());
        assertEquals(0, stored(id));
        var ordinary = s.post("/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                + "あ".repeat(BodyLimits.MAX_STRING_CHARS) + "\"}]}");
        assertEquals(201, ordinary.statusCode(), "a string at the limit is stored: " + head(ordinary));
    }

    @Test
    void binaryDataMayBeLargerThanAStringButNotLargerThanAResource() {
        String data = "QUJD".repeat(3 * 1024 * 1024 / 4 * 2); // 6 MiB of base64
        var ok = s.post("/Binary", "{\"resourceType\":\"Binary\",\"contentType\":\"application/pdf\",\"data\":\""
                + data + "\"}");
        assertEquals(201, ok.statusCode(), head(ok));
        String tooMuch = "QUJD".repeat(BodyLimits.MAX_RESOURCE_BYTES / 4 + 1);
        var r = s.post("/Binary", "{\"resourceType\":\"Binary\",\"contentType\":\"application/pdf\",\"data\":\""
                + tooMuch + "\"}");
        assertEquals(413, r.statusCode(), head(r));
        var i = issue(r);
        assertEquals("Binary", i.getExpression().get(0).getValue());
        assertTrue(i.getDiagnostics().startsWith("リソースが大きすぎます") && i.getDiagnostics().contains(
                Integer.toString(BodyLimits.MAX_RESOURCE_BYTES)), i.getDiagnostics());
        // Data longer than the JSON reader keeps for one value is a resource too large, not a string too long.
        var far = s.post("/Binary", "{\"resourceType\":\"Binary\",\"contentType\":\"application/pdf\",\"data\":\""
                + "QUJD".repeat(BodyLimits.MAX_RESOURCE_BYTES / 4 * 5 / 4) + "\"}");
        assertEquals(413, far.statusCode(), head(far));
        assertTrue(issue(far).getDiagnostics().startsWith("リソースが大きすぎます"), head(far));
    }

    @Test
    void aResourceWithMoreValuesThanTheLimitIsRefusedWith413WhileEachEntryOfATransactionHasItsOwn() {
        // 2.6 million identifiers in 100 MB exhausted a 1 GB heap; the count of values is what the heap grows with.
        String id = UUID.randomUUID().toString();
        StringBuilder sb = new StringBuilder("{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test\","
                + "\"value\":\"" + id + "\"}");
        for (int i = 0; i < BodyLimits.MAX_VALUES / 3 + 10; i++) {
            sb.append(",{\"system\":\"urn:x\",\"value\":\"").append(i).append("\"}");
        }
        var r = s.post("/Patient", sb.append("]}").toString());
        assertEquals(413, r.statusCode(), head(r));
        var i = issue(r);
        assertEquals(OperationOutcome.IssueType.TOOCOSTLY, i.getCode());
        assertTrue(i.getDiagnostics().startsWith("リソースの要素が多すぎます") && i.getDiagnostics().contains(
                "limit of " + BodyLimits.MAX_VALUES), i.getDiagnostics());
        assertEquals(0, stored(id));

        // A transaction of many entries holds more values than one resource may: each entry is bounded on its own.
        String tag = UUID.randomUUID().toString();
        StringBuilder tx = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        int entries = BodyLimits.MAX_VALUES / 20;
        for (int e = 0; e < entries; e++) {
            tx.append(e > 0 ? "," : "").append("{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                    + "\"urn:test\",\"value\":\"").append(tag).append("\"}],\"name\":[{\"family\":\"多数\",\"given\":"
                    + "[\"一\",\"二\",\"三\",\"四\",\"五\",\"六\"]}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}");
        }
        var ok = s.post("", tx.append("]}").toString());
        assertEquals(200, ok.statusCode(), head(ok));
        var count = s.get("/Patient?identifier=urn:test%7C" + tag + "&_summary=count");
        assertEquals(entries, Fhir.parse(Bundle.class, count.body()).getTotal());
    }

    private String binary(int megabytes, String tag) {
        String data = "QUJD".repeat(megabytes * 1024 * 1024 / 4);
        var r = s.post("/Binary", "{\"resourceType\":\"Binary\",\"meta\":{\"tag\":[{\"system\":\"urn:test\",\"code\":\""
                + tag + "\"}]},\"contentType\":\"application/octet-stream\",\"data\":\"" + data + "\"}");
        assertEquals(201, r.statusCode(), head(r));
        String loc = r.headers().firstValue("Location").orElseThrow();
        return loc.replaceFirst(".*/Binary/", "").replaceFirst("/_history/.*", "");
    }

    private record Page(List<String> ids, String next) {
    }

    private Page page(String url) {
        var r = s.send(s.request(url.startsWith("http") ? url.substring(s.base().length()) : url).GET().build());
        assertEquals(200, r.statusCode(), head(r));
        Bundle b = Fhir.parse(Bundle.class, r.body());
        List<String> ids = new ArrayList<>();
        b.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart() + "/"
                + e.getResource().getMeta().getVersionId()));
        return new Page(ids, b.getLink("next") == null ? null : b.getLink("next").getUrl());
    }

    @Test
    void aSearchPageStopsWhenItsBodiesReachTheByteBudgetAndLinksToTheRest() {
        String tag = UUID.randomUUID().toString();
        Set<String> created = new HashSet<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(binary(3, tag));
            created.add(ids.get(i) + "/1");
        }
        Page first = page("/Binary?_id=" + String.join(",", ids) + "&_count=10");
        // 3 MiB each: the third starts before 8 MiB are spent, the fourth would start after.
        assertEquals(3, first.ids().size(), first.ids().toString());
        assertNotNull(first.next(), "a page cut short links to the next");
        Page second = page(first.next());
        assertEquals(1, second.ids().size());
        assertNull(second.next());
        Set<String> seen = new HashSet<>(first.ids());
        seen.addAll(second.ids());
        assertEquals(created, seen, "every match once");
    }

    @Test
    void aHistoryPageStopsAtTheByteBudgetToo() {
        String tag = UUID.randomUUID().toString();
        String id = binary(3, tag);
        String data = "QUJD".repeat(3 * 1024 * 1024 / 4);
        for (int v = 2; v <= 4; v++) {
            var r = s.put("/Binary/" + id, "{\"resourceType\":\"Binary\",\"id\":\"" + id + "\",\"contentType\":"
                    + "\"application/octet-stream\",\"data\":\"" + data + "\"}");
            assertEquals(200, r.statusCode(), head(r));
        }
        Page first = page("/Binary/" + id + "/_history?_count=10");
        assertEquals(List.of(id + "/4", id + "/3", id + "/2"), first.ids());
        Page second = page(first.next());
        assertEquals(List.of(id + "/1"), second.ids());
        assertNull(second.next());
    }

    @Test
    void aRecordLargerThanAPageIsStillAnsweredAloneOnItsPage() {
        String tag = UUID.randomUUID().toString();
        String big = binary(9, tag);
        String small = binary(1, tag);
        Page first = page("/Binary?_id=" + big + "," + small + "&_count=10");
        assertEquals(1, first.ids().size(), first.ids().toString());
        Page second = page(first.next());
        assertEquals(1, second.ids().size());
        assertFalse(first.ids().get(0).equals(second.ids().get(0)));
        assertTrue(first.ids().contains(big + "/1") || second.ids().contains(big + "/1"));
        var read = s.get("/Binary/" + big);
        assertEquals(200, read.statusCode());
    }
}
