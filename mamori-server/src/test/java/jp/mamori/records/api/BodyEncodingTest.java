package jp.mamori.records.api;

import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.firstIssue;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bodies are UTF-8 JSON or XML, read strictly: another declared charset, bytes that are not UTF-8 and
 * duplicate JSON keys are refused, never guessed at, and nothing is stored.
 */
class BodyEncodingTest {

    private static HttpResponse<String> post(String contentType, byte[] body) {
        return s().send(s().request("/Patient").header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private static String xmlPatient(String v, String family) {
        return "<Patient xmlns=\"http://hl7.org/fhir\"><identifier><system value=\"" + SYS + "\"/><value value=\""
                + v + "\"/></identifier><name><family value=\"" + family + "\"/></name></Patient>";
    }

    private static void refused(int status, HttpResponse<String> r, String v) {
        status(status, r);
        assertEquals("OperationOutcome", json(r).path("resourceType").asText(), r.body());
        assertEquals(List.of(), search("/Patient?identifier=" + enc(SYS + "|" + v)), "nothing is stored");
    }

    @Test
    void aBodyDeclaredInAnotherCharsetIsRefusedWith415() {
        Charset sjis = Charset.forName("Shift_JIS");
        for (String charset : List.of("Shift_JIS", "shift_jis", "ISO-8859-1", "\"EUC-JP\"", "windows-31j", "x-bogus")) {
            String v = uid();
            var r = post("application/fhir+json; charset=" + charset, patient(v, "山田").getBytes(sjis));
            refused(415, r, v);
            assertTrue(firstIssue(r).path("diagnostics").asText().contains("UTF-8"), r.body());
        }
        for (String charset : List.of("utf-8", "UTF-8", "\"UTF-8\"", "utf8")) {
            String v = uid();
            status(201, post("application/fhir+json;charset=" + charset,
                    patient(v, "山田").getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void xmlWhosePrologDeclaresAnotherEncodingIsRefusedWith415() {
        String v = uid();
        byte[] sjis = ("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>" + xmlPatient(v, "山田"))
                .getBytes(Charset.forName("Shift_JIS"));
        refused(415, post("application/fhir+xml", sjis), v);
        String w = uid();
        byte[] latin = ("<?xml version='1.0' encoding='ISO-8859-1'?>" + xmlPatient(w, "Muller"))
                .getBytes(StandardCharsets.ISO_8859_1);
        refused(415, post("application/fhir+xml", latin), w);
        String ok = uid();
        status(201, post("application/fhir+xml", ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xmlPatient(ok, "山田"))
                .getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void invalidUtf8IsRefusedWith400InJsonAndXml() {
        byte[][] bad = {
                "山田".getBytes(Charset.forName("Shift_JIS")), // undeclared Shift_JIS
                {(byte) 0xC3, 0x28},                              // a lead byte without its continuation
                {(byte) 0xC0, (byte) 0xAF},                       // an overlong '/'
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80},          // a UTF-16 surrogate encoded as UTF-8
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
        };
        for (byte[] b : bad) {
            String v = uid();
            var r = post("application/fhir+json", splice(patient(v, "@"), b));
            refused(400, r, v);
            assertTrue(firstIssue(r).path("diagnostics").asText().contains("UTF-8"), r.body());
            String w = uid();
            refused(400, post("application/fhir+xml", splice(xmlPatient(w, "@"), b)), w);
        }
    }

    @Test
    void duplicateJsonKeysAreRefusedWith400AtAnyDepth() {
        String v = uid();
        String same = "{\"resourceType\":\"Patient\",\"id\":\"" + v + "\",\"id\":\"" + v + "\",\"identifier\":"
                + "[{\"system\":\"" + SYS + "\",\"value\":\"" + v + "\"}]}";
        var r = s().put("/Patient/" + v, same);
        refused(400, r, v);
        assertTrue(firstIssue(r).path("diagnostics").asText().contains("'id'"), r.body());
        String u = uid();
        refused(400, s().post("/Patient", "{\"resourceType\":\"Patient\",\"id\":\"a\",\"id\":\"b\",\"identifier\":"
                + "[{\"system\":\"" + SYS + "\",\"value\":\"" + u + "\"}]}"), u);
        String w = uid();
        String nested = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + w
                + "\"}],\"name\":[{\"family\":\"山田\",\"family\":\"田中\"}]}";
        var n = s().post("/Patient", nested);
        refused(400, n, w);
        assertTrue(firstIssue(n).path("diagnostics").asText().contains("Patient.name[0].family"), n.body());
        String x = uid();
        String resourceType = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\""
                + x + "\"}],\"resourceType\":\"Observation\"}";
        refused(400, s().post("/Patient", resourceType), x);
        // the same name in sibling objects, and a primitive beside its _extension, are not duplicates
        String y = uid();
        status(201, s().post("/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS
                + "\",\"value\":\"" + y + "\"}],\"name\":[{\"family\":\"山田\"},{\"family\":\"ヤマダ\"}],"
                + "\"gender\":\"female\",\"_gender\":{\"extension\":[{\"url\":\"urn:x\",\"valueString\":\"x\"}]}}"));
    }

    @Test
    void aSearchValueThatIsNotUtf8IsRefusedWith400() {
        // 山田 in Shift_JIS (8E 52 93 63), percent-encoded: it used to be searched as replacement characters
        var r = s().get("/Patient?family=%8ER%93c");
        status(400, r);
        assertTrue(firstIssue(r).path("diagnostics").asText().contains("UTF-8"), r.body());
        var form = s().send(s().request("/Patient/_search").header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("family=%8ER%93c")).build());
        status(400, form);
        status(200, s().get("/Patient?family=" + enc("山田") + "&identifier=" + enc(SYS + "|" + uid())));
    }

    @Test
    void aConsoleFormThatIsNotUtf8IsRefusedWith400() {
        for (String body : List.of("login_id=%8ER%93c&password=x", "login_id=a&password=x&csrf=\u00ff")) {
            var r = s().send(HttpRequest.newBuilder(java.net.URI.create(s().consoleOrigin() + "/console/login"))
                    .timeout(java.time.Duration.ofSeconds(60))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Origin", s().consoleOrigin()).header("Sec-Fetch-Site", "same-origin")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.getBytes(StandardCharsets.ISO_8859_1))).build());
            assertEquals(400, r.statusCode(), body + ": " + r.body());
            assertTrue(r.body().contains("UTF-8"), r.body());
        }
        var sjis = s().send(HttpRequest.newBuilder(java.net.URI.create(s().consoleOrigin() + "/console/login"))
                .timeout(java.time.Duration.ofSeconds(60))
                .header("Content-Type", "application/x-www-form-urlencoded; charset=Shift_JIS")
                .header("Origin", s().consoleOrigin()).header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.ofString("login_id=a&password=x")).build());
        assertEquals(415, sjis.statusCode(), sjis.body());
    }

    /** The text with its '@' replaced by raw bytes. */
    private static byte[] splice(String text, byte[] raw) {
        int at = text.indexOf('@');
        byte[] head = text.substring(0, at).getBytes(StandardCharsets.UTF_8);
        byte[] tail = text.substring(at + 1).getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + raw.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(raw, 0, out, head.length, raw.length);
        System.arraycopy(tail, 0, out, head.length + raw.length, tail.length);
        return out;
    }
}
