package jp.mamori.records.api;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.expressions;
import static jp.mamori.records.api.Api.firstIssue;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.send;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invalid bodies are refused with the right status and an OperationOutcome that points at the element. */
class ValidationTest {

    private static HttpResponse<String> refused(int status, String body) {
        HttpResponse<String> r = s().post("/Patient", body);
        status(status, r);
        return r;
    }

    @Test
    void unknownElementAtTheRootIs422NamingTheElement() {
        String v = uid();
        HttpResponse<String> r = refused(422, "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS
                + "\",\"value\":\"" + v + "\"}],\"bogus\":true}");
        assertEquals(List.of("Patient.bogus"), expressions(r));
        assertTrue(firstIssue(r).path("diagnostics").asText().contains("bogus"));
        assertTrue(search("/Patient?identifier=" + enc(SYS + "|" + v)).isEmpty());
    }

    @Test
    void unknownNestedElementIs422WithItsFullPath() {
        HttpResponse<String> r = refused(422, "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"A\"},"
                + "{\"family\":\"B\",\"bogus\":1}]}");
        assertEquals(List.of("Patient.name[1].bogus"), expressions(r));
    }

    @Test
    void wrongGenderCodeIs422PointingAtGender() {
        HttpResponse<String> r = refused(422, patient(uid(), "Gender", null, "man", null));
        assertEquals(List.of("Patient.gender"), expressions(r));
    }

    @Test
    void aStringWhereAnObjectIsExpectedIs422PointingAtTheElement() {
        HttpResponse<String> r = refused(422, "{\"resourceType\":\"Patient\",\"name\":\"Yamada\"}");
        assertEquals(List.of("Patient.name"), expressions(r));
    }

    @Test
    void invalidDateIs422PointingAtTheElement() {
        HttpResponse<String> r = refused(422, patient(uid(), "Date", null, null, "1980-13-45"));
        assertEquals(List.of("Patient.birthDate"), expressions(r));
    }

    @Test
    void unknownElementInXmlIs422WithItsPath() {
        HttpResponse<String> r = send("POST", "/Patient", "application/fhir+xml",
                "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"X\"/><bogus value=\"1\"/></name>"
                        + "</Patient>");
        status(422, r);
        assertEquals(List.of("Patient.name.bogus"), expressions(r));
    }

    @Test
    void malformedJsonIs400() {
        HttpResponse<String> r = refused(400, "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"X\"}");
        assertEquals("OperationOutcome", Api.json(r).path("resourceType").asText());
    }

    @Test
    void aBodyOfAnotherTypeIs400() {
        status(400, s().post("/Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\","
                + "\"code\":{\"text\":\"x\"}}"));
    }

    @Test
    void wrongContentTypeIs415() {
        HttpResponse<String> r = send("POST", "/Patient", "text/plain", patient(uid(), "Plain"));
        status(415, r);
        assertEquals("OperationOutcome", Api.json(r).path("resourceType").asText());
        status(415, send("POST", "/Patient", null, patient(uid(), "None")));
    }

    @Test
    void bodyOverTheLimitIs413AndASmallerOneIsAccepted() {
        try (TestServer small = TestServer.start(List.of("--max-body", "2K"))) {
            StringBuilder big = new StringBuilder("{\"resourceType\":\"Patient\",\"name\":[");
            for (int i = 0; i < 200; i++) {
                big.append(i == 0 ? "" : ",").append("{\"family\":\"Family").append(i).append("\"}");
            }
            big.append("]}");
            assertTrue(big.length() > 2048);
            HttpResponse<String> r = small.post("/Patient", big.toString());
            assertEquals(413, r.statusCode(), r::body);
            assertEquals("OperationOutcome", Api.json(r).path("resourceType").asText());
            // also when the client does not declare the length (chunked)
            HttpResponse<String> chunked = small.send(small.request("/Patient")
                    .header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                            big.toString().getBytes(StandardCharsets.UTF_8)))).build());
            assertEquals(413, chunked.statusCode(), chunked::body);
            assertEquals(201, small.post("/Patient", patient(uid(), "Small")).statusCode());
        }
    }
}
