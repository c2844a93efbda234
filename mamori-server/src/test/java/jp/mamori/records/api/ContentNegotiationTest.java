package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.get;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.send;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JSON and XML in both directions, _format, Accept, _pretty and Prefer. */
class ContentNegotiationTest {
    private static final String XML = "application/fhir+xml";

    private static String contentType(HttpResponse<String> r) {
        return r.headers().firstValue("Content-Type").orElse("");
    }

    @Test
    void xmlBodyIsAcceptedAndReadBackAsJson() {
        String v = uid();
        HttpResponse<String> r = send("POST", "/Patient", XML, "<Patient xmlns=\"http://hl7.org/fhir\">"
                + "<identifier><system value=\"" + SYS + "\"/><value value=\"" + v + "\"/></identifier>"
                + "<name><family value=\"山田\"/><given value=\"太郎\"/></name><gender value=\"male\"/></Patient>");
        status(201, r);
        assertTrue(contentType(r).startsWith("application/fhir+json"), contentType(r));
        String id = json(r).path("id").asText();
        JsonNode p = json(s().get("/Patient/" + id));
        assertEquals("山田", p.path("name").get(0).path("family").asText());
        assertEquals("太郎", p.path("name").get(0).path("given").get(0).asText());
        assertEquals("male", p.path("gender").asText());
        assertEquals(1, search("/Patient?identifier=" + enc(SYS + "|" + v)).size());
    }

    @Test
    void xmlBodyWithXmlAcceptIsAnsweredInXml() {
        HttpResponse<String> r = send("POST", "/Patient", XML, "<Patient xmlns=\"http://hl7.org/fhir\">"
                + "<name><family value=\"Xml\"/></name></Patient>", "Accept", XML);
        status(201, r);
        assertTrue(contentType(r).startsWith(XML), contentType(r));
        assertTrue(r.body().startsWith("<Patient xmlns=\"http://hl7.org/fhir\">"), r.body());
        assertTrue(r.body().contains("<family value=\"Xml\"/>"), r.body());
    }

    @Test
    void formatXmlParameterAnswersReadAndSearchInXml() {
        String v = uid();
        String id = createId("Patient", patient(v, "Fmt" + v));
        HttpResponse<String> r = s().get("/Patient/" + id + "?_format=xml");
        status(200, r);
        assertTrue(contentType(r).startsWith(XML), contentType(r));
        assertTrue(r.body().startsWith("<Patient xmlns=\"http://hl7.org/fhir\">"), r.body());
        assertTrue(r.body().contains("<family value=\"Fmt" + v + "\"/>"), r.body());
        HttpResponse<String> b = s().get("/Patient?identifier=" + enc(SYS + "|" + v) + "&_format="
                + enc("application/fhir+xml"));
        status(200, b);
        assertTrue(b.body().startsWith("<Bundle xmlns=\"http://hl7.org/fhir\">"), b.body());
        assertTrue(b.body().contains("<id value=\"" + id + "\"/>"), b.body());
    }

    @Test
    void acceptHeaderXmlAnswersInXmlAndFormatParameterWinsOverAccept() {
        String id = createId("Patient", patient(uid(), "Accept"));
        HttpResponse<String> r = get("/Patient/" + id, "Accept", XML);
        assertTrue(contentType(r).startsWith(XML), contentType(r));
        assertTrue(r.body().startsWith("<Patient"), r.body());
        HttpResponse<String> j = get("/Patient/" + id + "?_format=json", "Accept", XML);
        assertTrue(contentType(j).startsWith("application/fhir+json"), contentType(j));
        assertEquals(id, json(j).path("id").asText());
    }

    @Test
    void errorsAreAnsweredInTheAskedFormat() {
        HttpResponse<String> r = get("/Patient/missing-" + uid() + "?_format=xml");
        status(404, r);
        assertTrue(r.body().startsWith("<OperationOutcome"), r.body());
    }

    @Test
    void prettyJsonIsIndentedAndTheDefaultIsCompact() {
        String id = createId("Patient", patient(uid(), "Pretty"));
        HttpResponse<String> compact = s().get("/Patient/" + id);
        assertFalse(compact.body().contains("\n"));
        HttpResponse<String> pretty = s().get("/Patient/" + id + "?_pretty=true");
        status(200, pretty);
        assertTrue(pretty.body().contains("\n  \"resourceType\": \"Patient\""), pretty.body());
        assertEquals(json(compact), json(pretty));
    }

    @Test
    void prettyXmlIsIndented() {
        String id = createId("Patient", patient(uid(), "PrettyXml"));
        HttpResponse<String> compact = s().get("/Patient/" + id + "?_format=xml");
        assertFalse(compact.body().contains("\n"));
        HttpResponse<String> pretty = s().get("/Patient/" + id + "?_pretty=true&_format=xml");
        status(200, pretty);
        assertTrue(pretty.body().contains("\n   <"), pretty.body());
    }

    @Test
    void preferReturnMinimalAnswersWithAnEmptyBody() {
        String v = uid();
        HttpResponse<String> r = send("POST", "/Patient", "application/fhir+json", patient(v, "Min" + v),
                "Prefer", "return=minimal");
        status(201, r);
        assertEquals("", r.body());
        assertTrue(r.headers().firstValue("Location").orElseThrow().contains("/_history/1"));
        assertEquals("W/\"1\"", r.headers().firstValue("ETag").orElseThrow());
        assertEquals(1, search("/Patient?identifier=" + enc(SYS + "|" + v)).size());
        String id = search("/Patient?identifier=" + enc(SYS + "|" + v)).get(0);
        HttpResponse<String> u = send("PUT", "/Patient/" + id, "application/fhir+json",
                InteractionsTest.withId(patient(v, "Min2" + v), id), "Prefer", "return=minimal");
        status(200, u);
        assertEquals("", u.body());
        assertEquals("W/\"2\"", u.headers().firstValue("ETag").orElseThrow());
    }

    @Test
    void preferReturnRepresentationAnswersWithTheStoredResource() {
        String v = uid();
        HttpResponse<String> r = send("POST", "/Patient", "application/fhir+json", patient(v, "Rep" + v),
                "Prefer", "return=representation");
        status(201, r);
        JsonNode p = json(r);
        assertEquals("Patient", p.path("resourceType").asText());
        assertEquals("Rep" + v, p.path("name").get(0).path("family").asText());
        assertEquals("1", p.path("meta").path("versionId").asText());
    }

    @Test
    void preferReturnOperationOutcomeAnswersWithAnOutcome() {
        String v = uid();
        HttpResponse<String> r = send("POST", "/Patient", "application/fhir+json", patient(v, "OO" + v),
                "Prefer", "return=OperationOutcome");
        status(201, r);
        JsonNode oo = json(r);
        assertEquals("OperationOutcome", oo.path("resourceType").asText());
        assertEquals("information", oo.path("issue").get(0).path("severity").asText());
        assertTrue(r.headers().firstValue("Location").isPresent());
    }
}
